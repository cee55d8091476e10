/**
 * Certificate, key and CA files: read them, and notice when they change on disk so short-lived certificates
 * can be rotated without a restart.
 *
 * Files are polled (stat: mtime, size, inode, following symlinks, so a Kubernetes-style `..data` symlink swap
 * counts as a change). When the combined stamp changes, `apply()` is called; it reads the files and installs
 * a new context. If that fails (a rotation caught half-way, e.g. the new certificate is written but the key
 * is still the old one: "key values mismatch"), the old context stays in service, a warning is logged once for
 * that state of the files, and the next change is tried again. Nothing is dropped: existing connections keep
 * the context they were made with; only new handshakes see the new one.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { TlsStats } from './tls-stats.js';

export interface PemPaths {
  readonly cert: string | null;
  readonly key: string | null;
  readonly ca: string | null;
}

export interface PemMaterial {
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
  readonly ca: Buffer | null;
}

/** Error reading a PEM file; the message names the flag's file. */
export class PemFileError extends Error {
  override readonly name = 'PemFileError';
}

function readOne(what: string, path: string | null): Buffer | null {
  if (path === null) return null;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    throw new PemFileError(`cannot read ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (buf.length === 0) throw new PemFileError(`${what} ${path} is empty`);
  return buf;
}

/** Read the files named in `paths` now. @throws PemFileError */
export function readPem(paths: PemPaths): PemMaterial {
  return { cert: readOne('certificate', paths.cert), key: readOne('private key', paths.key), ca: readOne('CA file', paths.ca) };
}

function stampOf(path: string): string {
  try {
    const st = fs.statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** Polls a set of files and calls `apply` when any of them changed (see the module comment). */
export class PemWatcher {
  private readonly files: readonly string[];
  private applied: string;
  private failed = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    paths: PemPaths,
    private readonly intervalMs: number,
    /** Re-read the files and install them; throw to keep the current material. */
    private readonly apply: () => void,
    private readonly log: Logger,
    private readonly stats: TlsStats,
    /** For logs: "server" (client-facing listener) or "upstream". */
    private readonly side: string,
  ) {
    this.files = [paths.cert, paths.key, paths.ca].filter((p): p is string => p !== null);
    this.applied = this.stamp();
  }

  private stamp(): string {
    return this.files.map(stampOf).join('|');
  }

  start(): void {
    if (this.timer !== null || this.files.length === 0 || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll: apply when the files changed since the last successful (or last failed) attempt. */
  check(): boolean {
    const now = this.stamp();
    if (now === this.applied || now === this.failed) return false;
    try {
      this.apply();
    } catch (err) {
      this.failed = now;
      this.stats.certReloadFailures++;
      this.log.warn({ side: this.side, files: this.files, err: err instanceof Error ? err.message : String(err) }, 'TLS certificate reload failed; keeping the previous one');
      return false;
    }
    this.applied = now;
    this.failed = '';
    this.stats.certReloads++;
    this.log.info({ side: this.side, files: this.files }, 'TLS certificate reloaded');
    return true;
  }
}
