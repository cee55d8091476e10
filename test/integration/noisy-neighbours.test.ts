/**
 * Noisy neighbours (issue 13): clients sharing mcrelay's upstream connections must not hurt each other.
 *
 * Steady clients (8 connections, one request in flight each, a set/get mix with every value checked) run
 * through mcrelay on a one-server pool of real memcached: first alone (the quiet baseline), then while
 * other clients
 *   (a) send invalid meta lines in a loop and read the replies,
 *   (b) pipeline 100-key multi-gets (tens of MB of replies asked for) and never read, and
 *   (c) trickle one `set` value a byte at a time.
 * The steady clients must see no error and a p99 within 3x their own baseline plus 5 ms, and mcrelay's
 * RSS must grow by less than 256 MiB. The noisy clients run in a worker thread, so their own JavaScript
 * does not delay the steady clients' event loop (which would show as latency that is not mcrelay's).
 *
 * Then fairness at the caps: with an in-flight cap, one client's backlog of 1,000 requests must not
 * queue ahead of another client's request; without one, a client pipelining past the pending cap must
 * not get another client's request refused with `Max pending requests`.
 */
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, test } from 'vitest';
import { rssOf } from './helpers/load-client.js';
import { LOOPBACK, sleep } from './helpers/ports.js';
import { onePoolConfig, startRelay } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const STEADY_CLIENTS = 8;
const WARMUP_MS = 500;
const BASELINE_MS = 3000;
const NOISY_MS = 4000;
const BIG_KEYS = 100;
const BIG_VALUE = 20_000; // a 100-key multi-get asks for 2 MB

type Phase = 'warmup' | 'baseline' | 'noisy' | 'done';

/** One steady client: set, then get what it set (its own keys), one request in flight, every reply checked. */
class SteadyClient {
  readonly latencies: Record<'baseline' | 'noisy', number[]> = { baseline: [], noisy: [] };
  /** Replies that were not the expected ones: all counted, the first 1,000 kept. */
  errorCount = 0;
  readonly errors: string[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly sock: net.Socket,
    private readonly id: number,
    private readonly phase: () => Phase,
  ) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    sock.on('error', () => {});
  }

  /** Wait until `complete(buf)` gives a reply length; the reply text, or a description of what went wrong. */
  private async read(complete: (b: Buffer) => number): Promise<string> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const n = complete(this.buf);
      if (n >= 0) {
        const s = this.buf.toString('latin1', 0, n);
        this.buf = this.buf.subarray(n);
        return s;
      }
      if (this.closed) return `(connection closed; had ${JSON.stringify(this.buf.toString('latin1'))})`;
      if (Date.now() > deadline) return `(no reply in 5 s; had ${JSON.stringify(this.buf.toString('latin1'))})`;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
      this.wake = null;
    }
  }

  async run(): Promise<void> {
    for (let i = 0; this.phase() !== 'done'; i++) {
      const key = `steady:${this.id}:${i % 50}`;
      const value = `${this.id}-${i}-${'v'.repeat(10 + ((i * 37) % 190))}`;
      const ph = this.phase();
      let t0 = performance.now();
      this.sock.write(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`);
      const stored = await this.read(lineEnd);
      this.note(ph, t0, stored, 'STORED\r\n', 'set');
      t0 = performance.now();
      this.sock.write(`get ${key}\r\n`);
      const got = await this.read(getEnd);
      this.note(ph, t0, got, `VALUE ${key} 0 ${value.length}\r\n${value}\r\nEND\r\n`, 'get');
      if (this.closed) return;
    }
  }

  private note(ph: Phase, t0: number, got: string, want: string, op: string): void {
    const ms = performance.now() - t0;
    if (ph === 'baseline' || ph === 'noisy') this.latencies[ph].push(ms);
    if (got === want) return;
    this.errorCount++;
    if (this.errors.length < 1000) this.errors.push(`${ph} ${op}: got ${JSON.stringify(got.slice(0, 120))}`);
  }
}

function lineEnd(b: Buffer): number {
  const nl = b.indexOf('\r\n');
  return nl === -1 ? -1 : nl + 2;
}

function getEnd(b: Buffer): number {
  const first = lineEnd(b);
  if (first === -1) return -1;
  if (!b.toString('latin1', 0, 6).startsWith('VALUE')) return first; // END, or an error line
  const end = b.indexOf('END\r\n', first);
  return end === -1 ? -1 : end + 5;
}

function p99(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(0.99 * (s.length - 1))] as number;
}

/**
 * The noisy clients, run in a worker thread (plain JavaScript: workers get no TypeScript loader). They
 * start at once and report what they did when told to stop.
 */
const NOISY_WORKER = String.raw`
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, bigKeys } = workerData;
const socks = [];
const stats = { hostileRounds: 0, hostileReplies: {}, multiGetBytesWritten: 0, multiGetLines: 0, trickleBytes: 0, trickleStored: 0, trickleReplies: [] };
let stopping = false;
function open() {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  s.on('error', () => {});
  socks.push(s);
  return s;
}
function reader(s) {
  let buf = '';
  let wake = null;
  s.on('data', (d) => { buf += d.toString('latin1'); if (wake) wake(); });
  s.on('close', () => { if (wake) wake(); });
  return async (done) => {
    for (;;) {
      const n = done(buf);
      if (n >= 0) { const r = buf.slice(0, n); buf = buf.slice(n); return r; }
      if (stopping || s.destroyed) return null;
      await new Promise((r) => { wake = r; setTimeout(r, 50); });
      wake = null;
    }
  };
}
// (a) invalid meta lines in a loop; mn marks the end of each round's replies.
const HOSTILE = 'mg foo O123 qB \r\nmg k B\r\nms k 2 ZZ\r\nab\r\n';
async function hostile() {
  const s = open();
  const read = reader(s);
  while (!stopping) {
    s.write(HOSTILE.repeat(10) + 'mn\r\n');
    const r = await read((b) => { const i = b.indexOf('MN\r\n'); return i === -1 ? -1 : i + 4; });
    if (r === null) return;
    stats.hostileRounds++;
    for (const line of r.split('\r\n')) if (line !== '' && line !== 'MN') stats.hostileReplies[line] = (stats.hostileReplies[line] || 0) + 1;
  }
}
// (b) 100-key multi-gets, written regardless of backpressure (the client process buffers them), never read.
function bulk() {
  const s = open();
  s.pause();
  const keys = [];
  for (let i = 0; i < bigKeys; i++) keys.push('big:' + i);
  const line = 'get ' + keys.join(' ') + '\r\n';
  let written = 0;
  const more = () => {
    if (stopping || written > 12000) return;
    for (let i = 0; i < 200; i++) { s.write(line); written++; stats.multiGetLines++; stats.multiGetBytesWritten += line.length; }
    setTimeout(more, 5);
  };
  more();
}
// (c) one set whose 500-byte value arrives a byte every 2 ms, again and again.
async function trickle() {
  const s = open();
  const read = reader(s);
  while (!stopping) {
    s.write('set trickle 0 0 500\r\n');
    for (let i = 0; i < 500 && !stopping; i++) {
      s.write('t');
      stats.trickleBytes++;
      await new Promise((r) => setTimeout(r, 2));
    }
    if (stopping) return;
    s.write('\r\n');
    const r = await read((b) => { const i = b.indexOf('\r\n'); return i === -1 ? -1 : i + 2; });
    if (r === null) return;
    if (r === 'STORED\r\n') stats.trickleStored++;
    else stats.trickleReplies.push(r);
  }
}
void hostile();
void hostile();
bulk();
bulk();
void trickle();
parentPort.on('message', () => {
  stopping = true;
  for (const s of socks) s.destroy();
  parentPort.postMessage(stats);
});
`;

interface NoisyStats {
  hostileRounds: number;
  hostileReplies: Record<string, number>;
  multiGetBytesWritten: number;
  multiGetLines: number;
  trickleBytes: number;
  trickleStored: number;
  trickleReplies: string[];
}

describe('noisy neighbours', () => {
  test('steady clients: no errors, p99 within 3x baseline + 5 ms, RSS growth < 256 MiB while others misbehave', async () => {
    const m = await startMemcached({ args: ['-m', '256'] });
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: onePoolConfig([m.address]) });
    cleanup.push(() => relay.close());
    // The values the multi-gets ask for: 100 x 20 KB.
    const seed = await connect(m.port);
    const big = 'b'.repeat(BIG_VALUE);
    for (let i = 0; i < BIG_KEYS; i++) await seed.roundTrip(`set big:${i} 0 0 ${big.length}\r\n${big}\r\n`);
    await seed.close();

    let phase: Phase = 'warmup';
    const steady: SteadyClient[] = [];
    for (let c = 0; c < STEADY_CLIENTS; c++) {
      const sock = net.connect(relay.port, LOOPBACK);
      sock.setNoDelay(true);
      await new Promise<void>((r, j) => {
        sock.once('connect', () => r());
        sock.once('error', j);
      });
      cleanup.push(() => {
        sock.destroy();
      });
      steady.push(new SteadyClient(sock, c, () => phase));
    }
    const running = steady.map((s) => s.run());
    await sleep(WARMUP_MS);
    phase = 'baseline';
    await sleep(BASELINE_MS);
    const rssBefore = rssOf(relay.pid);

    phase = 'noisy';
    const worker = new Worker(NOISY_WORKER, { eval: true, workerData: { port: relay.port, bigKeys: BIG_KEYS } });
    cleanup.push(() => worker.terminate().then(() => undefined));
    let rssMaxMb = rssBefore.rssMb;
    const t0 = Date.now();
    while (Date.now() - t0 < NOISY_MS) {
      await sleep(250);
      rssMaxMb = Math.max(rssMaxMb, rssOf(relay.pid).rssMb);
    }
    const noisy = await new Promise<NoisyStats>((resolve) => {
      worker.once('message', (s: NoisyStats) => resolve(s));
      worker.postMessage('stop');
    });
    phase = 'done';
    await Promise.all(running);
    const rssAfter = rssOf(relay.pid);

    const base = steady.flatMap((s) => s.latencies.baseline);
    const loud = steady.flatMap((s) => s.latencies.noisy);
    const errors = steady.flatMap((s) => s.errors);
    const byText = new Map<string, number>();
    for (const e of errors) byText.set(e, (byText.get(e) ?? 0) + 1);
    const report = {
      baselineP99Ms: Number(p99(base).toFixed(2)),
      noisyP99Ms: Number(p99(loud).toFixed(2)),
      limitMs: Number((3 * p99(base) + 5).toFixed(2)),
      baselineRequests: base.length,
      noisyRequests: loud.length,
      errors: steady.reduce((n, s) => n + s.errorCount, 0),
      rssBeforeMb: rssBefore.rssMb,
      rssMaxMb,
      rssPeakMb: rssAfter.peakMb,
      rssGrowthMb: Math.max(rssMaxMb, rssAfter.peakMb) - rssBefore.rssMb,
      hostileRounds: noisy.hostileRounds,
      hostileReplies: noisy.hostileReplies,
      multiGetMbAskedFor: Math.round((noisy.multiGetLines * BIG_KEYS * BIG_VALUE) / 1e6),
      multiGetMbWritten: Number((noisy.multiGetBytesWritten / 1e6).toFixed(1)),
      trickleBytes: noisy.trickleBytes,
      trickleStored: noisy.trickleStored,
    };
    console.log(`[noisy-neighbours] ${JSON.stringify(report)}`);
    if (errors.length > 0) console.log(`[noisy-neighbours] steady errors by text (first 1,000 a client): ${JSON.stringify([...byText].sort((x, y) => y[1] - x[1]).slice(0, 8))}`);

    // The noise happened.
    expect(noisy.hostileRounds).toBeGreaterThan(0);
    expect(report.multiGetMbAskedFor).toBeGreaterThan(50);
    expect(noisy.trickleBytes).toBeGreaterThan(500);
    expect(noisy.trickleReplies).toEqual([]);
    // The steady clients did not notice.
    expect(base.length).toBeGreaterThan(1000);
    expect({ errors: report.errors, first: errors.slice(0, 5) }).toEqual({ errors: 0, first: [] });
    expect(report.noisyP99Ms).toBeLessThanOrEqual(report.limitMs);
    expect(report.rssGrowthMb).toBeLessThan(256);
  });
});

/**
 * A relay over one memcached that is stopped (SIGSTOP: requests pile up at the destination), with long
 * timeouts and TKO out of the way, and three clients: A (the backlog), B (the newcomer) and an admin one.
 */
async function stoppedServerWithClients(caps: readonly string[]) {
  const m = await startMemcached();
  cleanup.push(() => m.stop());
  const relay = await startRelay({ config: onePoolConfig([m.address]), args: [...caps, '-t', '10000', '--timeouts-until-tko', '100000'] });
  cleanup.push(() => relay.close());
  m.pause();
  cleanup.push(() => m.resume());
  const a = await connect(relay.port, { timeoutMs: 20_000 });
  const b = await connect(relay.port, { timeoutMs: 20_000 });
  const admin = await connect(relay.port);
  cleanup.push(() => {
    a.destroy();
    b.destroy();
    admin.destroy();
  });
  return { m, a, b, admin };
}

describe('fairness at the caps', () => {
  test('in-flight cap: another client\'s get is answered after a few of a 1,000-request backlog, not after all of it', async () => {
    const { m, a, b, admin } = await stoppedServerWithClients(['--target-max-inflight-requests', '8']);
    // A's gets: 8 in flight to the stopped server, the rest waiting at the destination.
    await a.send(Array.from({ length: 1000 }, (_, i) => `get a${i}\r\n`).join(''));
    const pending = async (): Promise<number> => Number(/pending_reqs:(\d+)/.exec((await admin.roundTrip('stats servers\r\n')).toString())?.[1] ?? -1);
    const t0 = Date.now();
    while ((await pending()) < 992 && Date.now() - t0 < 5000) await sleep(20);
    expect(await pending()).toBe(992);
    // A's replies as they arrive: how many A had when B's came.
    let aReplies = 0;
    let aAtB = -1;
    let bReply = '';
    const countA = (async () => {
      const out = await a.readUntil((buf) => {
        aReplies = (buf.toString('latin1').match(/END\r\n/g) ?? []).length;
        return aReplies >= 1000 ? buf.length : -1;
      });
      return out;
    })();
    await b.send('get b0\r\n');
    await sleep(50);
    const bDone = b.readUntil('END\r\n').then((r) => {
      aAtB = aReplies;
      bReply = r.toString();
    });
    m.resume();
    await Promise.all([countA, bDone]);
    console.log(`[noisy-neighbours] in-flight cap 8: B's get answered after ${aAtB} of A's 1000`);
    expect(bReply).toBe('END\r\n');
    // A's 8 in flight, then turns: A, B. B is dispatched within the first ~10 slots; what this counts also
    // includes A's replies that reached A's socket before B's read finished (seen: 15 to 63 on a loaded
    // machine). One FIFO answers B after all 1,000.
    expect(aAtB).toBeLessThan(250);
  });

  test('pending cap without an in-flight cap: a client pipelining past it does not get another client refused', async () => {
    const { m, a, b, admin } = await stoppedServerWithClients(['--target-max-pending-requests', '20']);
    await a.send(Array.from({ length: 100 }, (_, i) => `get a${i}\r\n`).join(''));
    const inflight = async (): Promise<number> => Number(/inflight_reqs:(\d+)/.exec((await admin.roundTrip('stats servers\r\n')).toString())?.[1] ?? -1);
    const t0 = Date.now();
    while ((await inflight()) < 10 && Date.now() - t0 < 5000) await sleep(20);
    await sleep(100);
    const held = await inflight();
    await b.send('get b0\r\n');
    const bReply = b.readUntil((buf) => lineEnd(buf));
    await sleep(50);
    m.resume();
    const aReplies = (await a.readUntil((buf) => ((buf.toString('latin1').match(/\r\n/g) ?? []).length >= 100 ? buf.length : -1))).toString();
    const bText = (await bReply).toString();
    console.log(`[noisy-neighbours] pending cap 20, no in-flight cap: A held ${held} in flight; B got ${JSON.stringify(bText)}`);
    // A stops being read at half the pending room; B's request still fits.
    expect(held).toBeLessThanOrEqual(11);
    expect(bText).toBe('END\r\n');
    expect(aReplies).toBe('END\r\n'.repeat(100));
  });
});
