/**
 * Replays the failed-delete spool (mcrelay's addition; OSS mcrouter only writes it).
 *
 * Every pass (default once a second, never two at once):
 *   1. seal the file being written, so it can be replayed too;
 *   2. walk the hour directories and their files in name (= time) order, and each file's lines in order;
 *   3. send each line's delete to its destination unless that destination is TKO or already failed in
 *      this pass ("blocked"): later lines for a blocked destination wait too, so per-destination order is kept;
 *   4. record each finished line number in `.<file>.progress` (appended before moving on), and delete the
 *      file (then its progress file) only once every line is finished.
 *
 * A crash mid-replay loses nothing: the file is still there, and lines already finished are skipped via the
 * progress file (re-sending one would be harmless anyway, see below).
 *
 * How one delete is replayed, so that it never removes a value written after it:
 *   a. if this proxy sent a set/add/ms for the same destination and key after the delete was spooled
 *      (AsyncLog.noteWrite, persisted in `.mcrelay-superseded`), the delete is cancelled: the value there
 *      is newer than the delete;
 *   b. otherwise `mg <key> c` reads the item's CAS; a miss finishes the line (nothing to delete);
 *   c. `md <key> C<cas>` deletes exactly that version: if anyone wrote the key between (b) and (c) memcached
 *      answers EX and the newer value stays;
 *   d. a server without meta commands gets a plain `delete`.
 * What this cannot see: a write made through *another* proxy (or directly) between the failed delete and
 * step (b). memcached keeps no write timestamp, so such a value is indistinguishable from the stale one and
 * is deleted. A write through this proxy whose outcome was uncertain (timeout) counts as a write (a), so the
 * old value may survive in that case: we prefer keeping a possibly-new value over deleting a certainly-new one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { Request, type Reply } from '../protocol/types.js';
import type { PoolInfo, ServerSpec } from '../upstream/pool-info.js';
import type { DestinationMap, UpstreamDestination, UpstreamOptions } from '../upstream/upstream-destination.js';
import { DestinationMap as PrivateMap } from '../upstream/upstream-destination.js';
import { addressFromH, type AsyncLog, parseLine, SUPERSEDED_FILE, type SpoolRecord } from './asynclog.js';

export interface ReplayStats {
  /** Spooled deletes carried out (the key was deleted on the server). */
  replayed: number;
  /** Spooled deletes dropped because this proxy wrote the key after the delete was spooled. */
  cancelledByWrite: number;
}

export interface ReplayerOptions {
  readonly log: Logger;
  /** The live destinations (shared with the route tree): health and connections are reused. */
  readonly destinations: DestinationMap;
  /** Options for destinations the config no longer lists (a private map, closed after each pass). */
  readonly upstream: UpstreamOptions;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

type Outcome = 'done' | 'retry';

const PROGRESS_PREFIX = '.';
const PROGRESS_SUFFIX = '.progress';

function progressPath(file: string): string {
  return path.join(path.dirname(file), `${PROGRESS_PREFIX}${path.basename(file)}${PROGRESS_SUFFIX}`);
}

function send(d: UpstreamDestination, req: Request, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => d.send(req, timeoutMs, resolve));
}

function parseCas(raw: Buffer | null): string | null {
  if (raw === null) return null;
  const m = /(?:^| )c(\d+)/.exec(raw.toString('latin1').trim().slice(2));
  return m === null ? null : (m[1] as string);
}

export class SpoolReplayer {
  readonly stats: ReplayStats = { replayed: 0, cancelledByWrite: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly spool: AsyncLog,
    private readonly opts: ReplayerOptions,
  ) {
    this.rebuildIndex();
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      if (this.running === null) void this.replayOnce();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.running !== null) await this.running;
  }

  /** Spool files in replay order (oldest first), without the file being written. */
  files(): string[] {
    const root = this.spool.root;
    const out: string[] = [];
    let dirs: string[];
    try {
      dirs = fs.readdirSync(root).filter((d) => !d.startsWith('.')).sort();
    } catch {
      return out;
    }
    for (const d of dirs) {
      const dir = path.join(root, d);
      let names: string[];
      try {
        if (!fs.statSync(dir).isDirectory()) continue;
        names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
      } catch {
        continue;
      }
      for (const n of names) out.push(path.join(dir, n));
    }
    return out;
  }

  /** Count every unfinished line on disk as pending (startup, after a crash). */
  private rebuildIndex(): void {
    this.spool.resetPending();
    for (const f of this.files()) {
      const done = readProgress(f);
      const lines = readLines(f);
      for (let i = 0; i < lines.length; i++) {
        if (done.has(i)) continue;
        const rec = parseLine(lines[i] as string);
        if (rec !== null) this.spool.track(rec.address, rec.key);
      }
    }
  }

  /** One pass over the spool; resolves when it is finished. */
  replayOnce(): Promise<void> {
    if (this.running !== null) return this.running;
    const p = this.pass().finally(() => {
      this.running = null;
    });
    this.running = p;
    return p;
  }

  private async pass(): Promise<void> {
    this.spool.seal();
    const current = this.spool.currentFile;
    const blocked = new Set<string>();
    const extra = new PrivateMap({ ...this.opts.upstream, spool: null });
    try {
      for (const file of this.files()) {
        if (this.stopped) return;
        if (file === current) continue;
        await this.replayFile(file, blocked, extra);
      }
    } finally {
      extra.closeAll();
    }
    this.spool.compactSuperseded();
  }

  private destinationFor(address: string, extra: PrivateMap): UpstreamDestination | null {
    const live = this.opts.destinations.find(address);
    if (live !== undefined && !live.closed) return live;
    const h = address.startsWith('[') ? address : `[${address.slice(0, address.lastIndexOf(':'))}]${address.slice(address.lastIndexOf(':'))}`;
    const a = addressFromH(h);
    if (a === null) return null;
    const server: ServerSpec = { host: a.host, port: a.port, protocol: 'ascii', security: 'plain', address: a.address, text: a.address };
    const pool: PoolInfo = {
      name: 'asynclog-replay', servers: [server], entries: [{ kind: 'server', server }], serverTimeoutMs: this.opts.timeoutMs, connectTimeoutMs: this.opts.timeoutMs,
      keepRoutingPrefix: true, weights: null, tags: null, asynclog: false, raw: {}, path: '',
    };
    return extra.get(server, pool);
  }

  private async replayFile(file: string, blocked: Set<string>, extra: PrivateMap): Promise<void> {
    const lines = readLines(file);
    const done = readProgress(file);
    const prog = progressPath(file);
    let remaining = 0;
    for (let i = 0; i < lines.length; i++) {
      if (done.has(i)) continue;
      if (this.stopped) return;
      const rec = parseLine(lines[i] as string);
      if (rec === null) {
        this.opts.log.warn({ file, line: i + 1 }, 'asynclog: malformed spool line skipped');
        fs.appendFileSync(prog, `${i}\n`);
        continue;
      }
      if (blocked.has(rec.address)) {
        remaining++;
        continue;
      }
      const d = this.destinationFor(rec.address, extra);
      if (d === null || d.isTko()) {
        blocked.add(rec.address);
        remaining++;
        continue;
      }
      const outcome = await this.replayOne(d, rec);
      if (outcome === 'retry') {
        blocked.add(rec.address);
        remaining++;
        continue;
      }
      fs.appendFileSync(prog, `${i}\n`);
      this.spool.release(rec.address, rec.key);
    }
    if (remaining === 0) {
      fs.rmSync(file, { force: true });
      fs.rmSync(prog, { force: true });
      try {
        fs.rmdirSync(path.dirname(file));
      } catch {
        // not empty yet
      }
    }
  }

  /** Replay one spooled delete; see the module comment for why each step is there. */
  async replayOne(d: UpstreamDestination, rec: SpoolRecord): Promise<Outcome> {
    if (this.spool.isSuperseded(rec.address, rec.key, rec.ts)) {
      this.stats.cancelledByWrite++;
      return 'done';
    }
    const key = Buffer.from(rec.key, 'latin1');
    const t = this.opts.timeoutMs;
    const got = await send(d, Request.synthesize('mg', key, 'mg ', ' c', null, 0), t);
    if (got.result === 'notfound') return 'done'; // already gone
    if (got.result === 'client_error') {
      // No meta commands on this server: a plain delete (step d).
      const del = await send(d, Request.synthesize('delete', key, 'delete ', '', null, 0), t);
      if (del.result === 'deleted' || del.result === 'notfound') {
        this.stats.replayed++;
        return 'done';
      }
      return 'retry';
    }
    if (got.result !== 'found') return 'retry';
    const cas = parseCas(got.raw);
    if (cas === null) return 'retry';
    if (this.spool.isSuperseded(rec.address, rec.key, rec.ts)) {
      this.stats.cancelledByWrite++;
      return 'done';
    }
    const del = await send(d, Request.synthesize('md', key, 'md ', ` C${cas}`, null, 0), t);
    switch (del.result) {
      case 'deleted':
        this.stats.replayed++;
        return 'done';
      case 'notfound': // already gone
      case 'exists': // rewritten between the CAS read and the delete: the new value stays
        return 'done';
      default:
        return 'retry';
    }
  }
}

function readLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  // A torn last line (crash mid-write) has no newline: it was never acknowledged, so it is dropped.
  lines.pop();
  return lines;
}

function readProgress(file: string): Set<number> {
  const s = new Set<number>();
  let text: string;
  try {
    text = fs.readFileSync(progressPath(file), 'utf8');
  } catch {
    return s;
  }
  for (const l of text.split('\n')) if (/^\d+$/.test(l)) s.add(Number(l));
  return s;
}

export { SUPERSEDED_FILE };
