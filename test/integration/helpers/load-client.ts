/**
 * Closed-loop load for reliability tests: N connections, each sending one request, waiting for its whole
 * reply, then sending the next. Records, per reply, its class and latency, so a test can say exactly what
 * clients saw during a fault and how long the slowest one waited.
 */
import fs from 'node:fs';
import net from 'node:net';
import { LOOPBACK } from './ports.js';
import type { ConfigRelay } from './proxy-harness.js';

export interface LoadStats {
  sent: number;
  ok: number;
  miss: number;
  /** Error lines by text (SERVER_ERROR ..., CLIENT_ERROR ...). */
  errors: Map<string, number>;
  maxLatencyMs: number;
  /** Replies that took longer than the client's own hang limit (a hang). */
  hangs: number;
  /** Timeline of (ms since start, 'ok' | 'error') for time-to-TKO / recovery measurements. */
  timeline: { t: number; ok: boolean; text: string }[];
}

export interface LoadOptions {
  readonly port: number;
  readonly connections: number;
  /** Request for iteration i of connection c. */
  readonly request: (c: number, i: number) => string;
  /** A reply not complete after this long counts as a hang and the connection is dropped. */
  readonly hangMs?: number;
  readonly recordTimeline?: boolean;
}

function complete(buf: Buffer, isGet: boolean): number {
  const nl = buf.indexOf('\r\n');
  if (nl === -1) return -1;
  const first = buf.toString('latin1', 0, Math.min(buf.length, 16));
  if (first.startsWith('SERVER_ERROR') || first.startsWith('CLIENT_ERROR') || first.startsWith('ERROR')) return nl + 2;
  if (!isGet) return nl + 2;
  const end = buf.indexOf('END\r\n');
  return end === -1 ? -1 : end + 5;
}

export class Load {
  readonly stats: LoadStats = { sent: 0, ok: 0, miss: 0, errors: new Map(), maxLatencyMs: 0, hangs: 0, timeline: [] };
  private running = true;
  private readonly done: Promise<void>[] = [];
  private readonly started = Date.now();

  constructor(private readonly opts: LoadOptions) {
    for (let c = 0; c < opts.connections; c++) this.done.push(this.worker(c));
  }

  private async worker(c: number): Promise<void> {
    const hangMs = this.opts.hangMs ?? 5000;
    while (this.running) {
      const sock = net.connect(this.opts.port, LOOPBACK);
      sock.setNoDelay(true);
      const ok = await new Promise<boolean>((resolve) => {
        sock.once('connect', () => resolve(true));
        sock.once('error', () => resolve(false));
      });
      if (!ok) {
        this.count('SERVER_ERROR client could not connect', 0);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      let buf: Buffer = Buffer.alloc(0);
      let waiter: (() => void) | null = null;
      let closed = false;
      sock.on('data', (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        waiter?.();
      });
      sock.on('close', () => {
        closed = true;
        waiter?.();
      });
      sock.on('error', () => {});
      for (let i = 0; this.running && !closed; i++) {
        const req = this.opts.request(c, i);
        const isGet = req.startsWith('get');
        const t0 = performance.now();
        this.stats.sent++;
        sock.write(req);
        let n = -1;
        const deadline = Date.now() + hangMs;
        while ((n = complete(buf, isGet)) === -1 && !closed && Date.now() < deadline) {
          await new Promise<void>((r) => {
            waiter = r;
            setTimeout(r, 50);
          });
          waiter = null;
        }
        const ms = performance.now() - t0;
        if (n === -1) {
          if (closed) this.count('SERVER_ERROR connection closed by proxy', ms);
          else {
            this.stats.hangs++;
            this.count('HANG', ms);
          }
          break;
        }
        const reply = buf.toString('latin1', 0, n);
        buf = buf.subarray(n);
        this.classify(reply, ms);
      }
      sock.destroy();
    }
  }

  private classify(reply: string, ms: number): void {
    if (reply.startsWith('SERVER_ERROR') || reply.startsWith('CLIENT_ERROR') || reply.startsWith('ERROR')) {
      this.count(reply.trim(), ms);
      return;
    }
    if (reply === 'END\r\n' || reply.startsWith('NOT_FOUND')) this.stats.miss++;
    else this.stats.ok++;
    this.note(ms, true, 'ok');
  }

  private count(text: string, ms: number): void {
    this.stats.errors.set(text, (this.stats.errors.get(text) ?? 0) + 1);
    this.note(ms, false, text);
  }

  private note(ms: number, ok: boolean, text: string): void {
    if (ms > this.stats.maxLatencyMs) this.stats.maxLatencyMs = ms;
    if (this.opts.recordTimeline) this.stats.timeline.push({ t: Date.now() - this.started, ok, text });
  }

  get errorCount(): number {
    let n = 0;
    for (const v of this.stats.errors.values()) n += v;
    return n;
  }

  async stop(): Promise<LoadStats> {
    this.running = false;
    await Promise.all(this.done);
    return this.stats;
  }
}

/** Start the CLI with `--config file:PATH` (the harness's startRelay only passes --config-str), for reload tests. */
export async function startRelayWithFile(file: string, args: readonly string[] = []): Promise<ConfigRelay> {
  const { startRelayWithConfig } = await import('./proxy-harness.js');
  return startRelayWithConfig(`file:${file}`, args);
}

/** Peak and current RSS of a process, in MB (Linux /proc). */
export function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

