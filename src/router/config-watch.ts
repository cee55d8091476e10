/**
 * Hot reload: what triggers a rebuild, and when (reference mcrouter.md §6 "Hot reload").
 *
 * - Every file the active config was read from (`ActiveConfig.source.files`: the main file and whatever it
 *   imports) is polled every `pollMs` (100 ms) by mtime, size and inode; the inode catches a symlink
 *   pointed at a new file and an editor's rename-into-place.
 * - A change waits `delayMs` (`--reconfiguration-delay-ms`, 1000) so a file still being written is not
 *   read half-done; more changes meanwhile restart nothing, they are picked up by the same reload.
 * - SIGHUP reloads at once.
 * - RouterCore.reload builds the new tree completely and swaps it in one assignment; on any error the old
 *   tree keeps serving, the error is logged with its JSON pointer path and `config_failures` counts it.
 *   After a failed reload the files keep being watched (the fix is usually another save).
 * - The watched set is refreshed after each successful reload (the new config may import other files).
 */
import fs from 'node:fs';
import type { Logger } from 'pino';

export interface Reloadable {
  /** Rebuild from the config source; false (old config kept, error logged) when invalid. */
  reload(reason: string): boolean;
  /** Files the active config came from. */
  watchedFiles(): readonly string[];
}

export interface ReloadWatcherOptions {
  readonly pollMs: number;
  readonly delayMs: number;
  readonly log: Logger;
  /** Reload on SIGHUP too (the sidecar does; a library embedded in someone's process does not). Default true. */
  readonly sighup?: boolean;
}

function stamp(f: string): string {
  try {
    const st = fs.statSync(f);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

export class ReloadWatcher {
  private readonly watched = new Map<string, string>();
  private poll: NodeJS.Timeout | null = null;
  private pendingTimer: NodeJS.Timeout | null = null;
  private readonly onHup = (): void => {
    this.reloadNow('SIGHUP');
  };

  constructor(
    private readonly target: Reloadable,
    private readonly opts: ReloadWatcherOptions,
  ) {}

  start(): void {
    this.rewatch();
    if (this.opts.sighup !== false) process.on('SIGHUP', this.onHup);
    this.poll = setInterval(() => this.check(), this.opts.pollMs);
    this.poll.unref();
  }

  stop(): void {
    process.off('SIGHUP', this.onHup);
    if (this.poll !== null) clearInterval(this.poll);
    if (this.pendingTimer !== null) clearTimeout(this.pendingTimer);
    this.poll = this.pendingTimer = null;
  }

  private rewatch(): void {
    this.watched.clear();
    for (const f of this.target.watchedFiles()) this.watched.set(f, stamp(f));
  }

  private check(): void {
    let changed = false;
    for (const [f, s] of this.watched) {
      const now = stamp(f);
      if (now !== s) {
        this.watched.set(f, now);
        changed = true;
      }
    }
    if (changed && this.pendingTimer === null) {
      this.pendingTimer = setTimeout(() => {
        this.pendingTimer = null;
        this.reloadNow('file changed');
      }, this.opts.delayMs);
      this.pendingTimer.unref();
    }
  }

  /** Reload now; returns whether the new config was applied. */
  reloadNow(reason: string): boolean {
    const ok = this.target.reload(reason);
    if (ok) {
      this.rewatch();
    } else {
      // Keep the stamps as they are now: the next save triggers another attempt.
      for (const f of this.watched.keys()) this.watched.set(f, stamp(f));
    }
    return ok;
  }
}
