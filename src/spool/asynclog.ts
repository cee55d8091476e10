/**
 * The failed-delete spool (mcrouter "asynclog", reference mcrouter.md §4.3), written in mcrouter's AS2.0
 * line format, and the index the replayer and the write path share.
 *
 * Layout under `--async-dir` (mcrouter's):
 *
 *   <root>/20240131T14-1706709600/                        one directory per hour (UTC), name + hour epoch
 *          20240131T141502-1706710502-mcrelay-mcrelay-t0-<pid>.<n>   a new file every 15 minutes
 *   <root>/.mcrelay-superseded                            writes that cancel a pending replay (ours)
 *   <root>/<hour>/.<file>.progress                        line numbers already replayed (ours)
 *
 * One JSON array per line:
 *
 *   ["AS2.0",1706710502.123,"C",{"s":"mcrelay","f":"","r":"","h":"[127.0.0.1]:11211","p":"A","k":"foo","a":{}}]
 *
 * `k` is the key as sent upstream (routing prefix stripped unless the pool keeps it), as latin1 text so any
 * byte round-trips. Files are append-only while current and never modified after; the replayer deletes
 * a file once every line in it is done.
 *
 * Durability: `append` calls back after the line was handed to the kernel (write(2) returned), before the
 * client gets its NOT_FOUND, as mcrouter does. A process crash loses nothing acknowledged; a power loss
 * can lose what the kernel had not yet flushed (no fsync per line: it would cap deletes at disk latency).
 * Concurrent appends are group-committed: one write per batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DeleteSpool, FailedDelete } from '../upstream/destination.js';

export const AS2 = 'AS2.0';
/** mcrouter starts a new spool file every 15 minutes. */
export const FILE_ROTATE_MS = 15 * 60_000;
export const SUPERSEDED_FILE = '.mcrelay-superseded';

export interface SpoolRecord {
  /** Seconds since the epoch, with milliseconds (mcrouter's timestamp). */
  readonly ts: number;
  /** `host:port` as the destination map names it. */
  readonly address: string;
  readonly pool: string;
  /** Key bytes (latin1). */
  readonly key: string;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `YYYYMMDDTHH` (UTC). */
export function hourStamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;
}

/** `[host]:port` from a destination's host and port (mcrouter's "h"). */
export function bracketHost(host: string, port: number): string {
  return `[${host}]:${port}`;
}

/** Back from "[host]:port" to the destination map's `host:port` (IPv6 keeps its brackets). */
export function addressFromH(h: string): { host: string; port: number; address: string } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(h);
  if (m === null) return null;
  const host = m[1] as string;
  const port = Number(m[2]);
  return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}

export function formatLine(rec: FailedDelete, tsMs: number): string {
  const body = { s: 'mcrelay', f: '', r: '', h: bracketHost(rec.host.replace(/^\[|\]$/g, ''), rec.port), p: rec.pool, k: rec.key.toString('latin1'), a: {} };
  return `${JSON.stringify([AS2, Math.round(tsMs) / 1000, 'C', body])}\n`;
}

/** Parse one spool line (AS2.0, or AS1.0 `["AS1.0",ts,"C",[host,port,"delete key\r\n"]]`); null when malformed. */
export function parseLine(line: string): SpoolRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length < 4 || typeof v[1] !== 'number') return null;
  const ts = v[1];
  if (v[0] === AS2) {
    const o = v[3] as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o['h'] !== 'string' || typeof o['k'] !== 'string') return null;
    const a = addressFromH(o['h']);
    if (a === null) return null;
    return { ts, address: a.address, pool: typeof o['p'] === 'string' ? o['p'] : '', key: o['k'] };
  }
  if (v[0] === 'AS1.0' && Array.isArray(v[3])) {
    const [host, port, cmd] = v[3] as unknown[];
    if (typeof host !== 'string' || typeof port !== 'number' || typeof cmd !== 'string') return null;
    const m = /^delete (\S+)/.exec(cmd);
    if (m === null) return null;
    return { ts, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, pool: '', key: m[1] as string };
  }
  return null;
}

function indexKey(address: string, key: string): string {
  return `${address}\n${key}`;
}

interface Batch {
  lines: string[];
  callbacks: ((ok: boolean) => void)[];
}

/**
 * Appends failed deletes and keeps the index of pending ones: (destination, key) → how many spooled
 * deletes still wait for replay, and (destination, key) → the last time a write cancelled them.
 */
export class AsyncLog implements DeleteSpool {
  /** Spooled deletes still waiting, by destination+key. */
  private readonly pending = new Map<string, number>();
  /** Time (ms) of the last write through this proxy to a destination+key with a pending delete. */
  private readonly superseded = new Map<string, number>();
  private fd: number | null = null;
  private file: string | null = null;
  private fileOpenedAt = 0;
  private fileSeq = 0;
  private writing: Batch | null = null;
  private next: Batch | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly root: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(root, { recursive: true });
    this.loadSuperseded();
  }

  // ----------------------------------------------------------------- DeleteSpool

  append(rec: FailedDelete, done: (ok: boolean) => void): void {
    const ts = this.now();
    const line = formatLine(rec, ts);
    const k = indexKey(rec.address, rec.key.toString('latin1'));
    this.pending.set(k, (this.pending.get(k) ?? 0) + 1);
    const b = this.next ?? (this.next = { lines: [], callbacks: [] });
    b.lines.push(line);
    b.callbacks.push((ok) => {
      if (!ok) this.release(rec.address, rec.key.toString('latin1'));
      done(ok);
    });
    if (this.writing === null) this.writeNext();
  }

  hasPending(address: string, key: Buffer): boolean {
    return this.pending.size > 0 && this.pending.has(indexKey(address, key.toString('latin1')));
  }

  noteWrite(address: string, key: Buffer): void {
    const k = key.toString('latin1');
    const ts = this.now();
    this.superseded.set(indexKey(address, k), ts);
    try {
      fs.appendFileSync(path.join(this.root, SUPERSEDED_FILE), `${JSON.stringify([ts / 1000, address, k])}\n`);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'asynclog: cannot record a superseding write');
    }
  }

  // ----------------------------------------------------------------- replayer side

  /** A spooled delete was found on disk at startup (or re-read): count it as pending. */
  track(address: string, key: string): void {
    const k = indexKey(address, key);
    this.pending.set(k, (this.pending.get(k) ?? 0) + 1);
  }

  /** A spooled delete is done (replayed or cancelled). */
  release(address: string, key: string): void {
    const k = indexKey(address, key);
    const n = (this.pending.get(k) ?? 1) - 1;
    if (n <= 0) {
      this.pending.delete(k);
      this.superseded.delete(k);
    } else {
      this.pending.set(k, n);
    }
  }

  /** True when a write through this proxy reached (address, key) after the delete spooled at `tsSec`. */
  isSuperseded(address: string, key: string, tsSec: number): boolean {
    const t = this.superseded.get(indexKey(address, key));
    return t !== undefined && t >= Math.floor(tsSec * 1000);
  }

  /** Number of spooled deletes still waiting. */
  pendingCount(): number {
    let n = 0;
    for (const v of this.pending.values()) n += v;
    return n;
  }

  /** Forget everything pending (the replayer rebuilds the index from the files). */
  resetPending(): void {
    this.pending.clear();
  }

  /** Once nothing is pending, the superseded journal is not needed any more. */
  compactSuperseded(): void {
    if (this.pending.size > 0 || this.writing !== null || this.next !== null) return;
    this.superseded.clear();
    try {
      fs.rmSync(path.join(this.root, SUPERSEDED_FILE), { force: true });
    } catch {
      // nothing to compact
    }
  }

  /** The file being appended to (the replayer leaves it alone until it is sealed). */
  get currentFile(): string | null {
    return this.file;
  }

  /** Close the current file so the replayer can take it; the next append starts a new one. */
  seal(): void {
    if (this.writing !== null || this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
    this.file = null;
  }

  /** Resolves once every appended line is written (shutdown flush). */
  flush(): Promise<void> {
    if (this.writing === null && this.next === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
      this.file = null;
    }
  }

  // ----------------------------------------------------------------- internals

  private openFile(): number {
    const nowMs = this.now();
    if (this.fd !== null && nowMs - this.fileOpenedAt < FILE_ROTATE_MS) return this.fd;
    if (this.fd !== null) fs.closeSync(this.fd);
    const d = new Date(nowMs);
    const hourEpoch = Math.floor(nowMs / 3_600_000) * 3600;
    const dir = path.join(this.root, `${hourStamp(d)}-${hourEpoch}`);
    fs.mkdirSync(dir, { recursive: true });
    const stamp = `${hourStamp(d)}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
    const name = `${stamp}-${Math.floor(nowMs / 1000)}-mcrelay-mcrelay-t0-${process.pid}.${this.fileSeq++}`;
    this.file = path.join(dir, name);
    this.fd = fs.openSync(this.file, 'a');
    this.fileOpenedAt = nowMs;
    return this.fd;
  }

  private writeNext(): void {
    const b = this.next;
    this.next = null;
    this.writing = b;
    if (b === null) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
      return;
    }
    let fd: number;
    try {
      fd = this.openFile();
    } catch (err) {
      this.log.error({ err: (err as Error).message, dir: this.root }, 'asynclog: cannot open spool file');
      this.finishBatch(b, false);
      return;
    }
    const data = Buffer.from(b.lines.join(''), 'utf8');
    const writeAll = (off: number): void => {
      fs.write(fd, data, off, data.length - off, null, (err, n) => {
        if (err !== null) {
          this.log.error({ err: err.message, file: this.file }, 'asynclog: write failed');
          this.finishBatch(b, false);
          return;
        }
        if (off + n < data.length) {
          writeAll(off + n);
          return;
        }
        this.finishBatch(b, true);
      });
    };
    writeAll(0);
  }

  private finishBatch(b: Batch, ok: boolean): void {
    for (const cb of b.callbacks) cb(ok);
    this.writeNext();
  }

  private loadSuperseded(): void {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.root, SUPERSEDED_FILE), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && typeof v[2] === 'string') {
          const k = indexKey(v[1], v[2]);
          this.superseded.set(k, Math.max(this.superseded.get(k) ?? 0, v[0] * 1000));
        }
      } catch {
        // a torn last line after a crash: ignore it
      }
    }
  }
}
