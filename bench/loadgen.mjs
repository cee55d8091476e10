#!/usr/bin/env node
// mcrelay benchmark load generator (issue 4). Node stdlib only.
//
// Opens N TCP connections to a memcached-protocol endpoint, keeps P requests
// outstanding on each active one, and records per-request latency in a
// log-linear histogram. Replies are parsed directly on Buffers (byte compares,
// indexOf for line ends, value bodies skipped by length without copying).
//
// Protocol on stdout (consumed by bench/runner.mjs):
//   "@start\n"  when the measurement window opens (after prefill + warm-up)
//   "@end\n"    when it closes
//   one final line of JSON with the results.
// Diagnostics go to stderr.
//
// Usage: node bench/loadgen.mjs --port 11211 [--host 127.0.0.1] [--conns 50]
//   [--active N] [--pipeline 1] [--get-ratio 0.9] [--keys 10000] [--key-size 16]
//   [--value-size 100] [--mget 1] [--proto text|meta] [--duration 5] [--warmup 1]
//   [--prefill 1|0] [--threads 1] [--prefix-mix x:] [--drain 2]

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- histogram
// Values are recorded in units of 1/16 µs (62.5 ns). Below 128 units (8 µs)
// buckets are exact; above, each power of two is split into 64 linear
// sub-buckets (<= 1.6 % relative error). 32-bit range => up to ~268 s.
const UNITS_PER_US = 16;
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const NBUCKETS = (31 - SUB_BITS + 1) * SUB + 2 * SUB; // generous

export function bucketOf(units) {
  let v = units >>> 0;
  if (units >= 4294967295) v = 4294967295;
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v);
  const s = e - SUB_BITS;
  return s * SUB + (v >>> s);
}

export function bucketBounds(idx) {
  if (idx < 2 * SUB) return [idx, idx + 1];
  const s = Math.floor(idx / SUB) - 1;
  const m = idx - s * SUB;
  return [m * 2 ** s, (m + 1) * 2 ** s];
}

export function newHist() {
  return new Float64Array(NBUCKETS);
}

/** Percentile in microseconds (bucket midpoint). */
export function percentile(hist, q) {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i];
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= rank) {
      const [lo, hi] = bucketBounds(i);
      return (lo + hi) / 2 / UNITS_PER_US;
    }
  }
  return null;
}

// ---------------------------------------------------------------- args
function parseArgs(argv) {
  const o = {
    host: '127.0.0.1', port: 11211, conns: 50, active: 0, pipeline: 1,
    getRatio: 0.9, keys: 10000, keySize: 16, valueSize: 100, mget: 1,
    proto: 'text', duration: 5, warmup: 1, prefill: 1, threads: 1,
    prefixMix: '', drain: 2, keyPrefix: 'bench:',
  };
  const map = {
    '--host': ['host', String], '--port': ['port', Number], '--conns': ['conns', Number],
    '--active': ['active', Number], '--pipeline': ['pipeline', Number],
    '--get-ratio': ['getRatio', Number], '--keys': ['keys', Number],
    '--key-size': ['keySize', Number], '--value-size': ['valueSize', Number],
    '--mget': ['mget', Number], '--proto': ['proto', String],
    '--duration': ['duration', Number], '--warmup': ['warmup', Number],
    '--prefill': ['prefill', Number], '--threads': ['threads', Number],
    '--prefix-mix': ['prefixMix', String], '--drain': ['drain', Number],
    '--key-prefix': ['keyPrefix', String],
  };
  for (let i = 0; i < argv.length; i++) {
    const m = map[argv[i]];
    if (!m) throw new Error(`unknown option ${argv[i]}`);
    o[m[0]] = m[1](argv[++i]);
  }
  if (!o.active || o.active > o.conns) o.active = o.conns;
  if (o.proto !== 'text' && o.proto !== 'meta') throw new Error('--proto must be text|meta');
  if (o.host !== '127.0.0.1' && o.host !== 'localhost') throw new Error('loadgen only targets 127.0.0.1');
  return o;
}

// ---------------------------------------------------------------- keys/values
function makeKeys(o) {
  const keys = new Array(o.keys);
  for (let i = 0; i < o.keys; i++) {
    const pre = o.prefixMix && (i & 1) === 0 ? o.prefixMix : '';
    let k = pre + o.keyPrefix + i.toString(36);
    if (k.length < o.keySize) k = k + '_'.repeat(o.keySize - k.length);
    keys[i] = k;
  }
  return keys;
}

function makeValue(size) {
  const b = Buffer.allocUnsafe(size + 2);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  b[size] = 13; b[size + 1] = 10;
  return b;
}

// ---------------------------------------------------------------- reply parser
// Request kinds
const K_GET = 1;      // text get (one or many keys): ends at END
const K_SET = 2;      // text set / meta ms: ends at first status line
const K_MG1 = 3;      // meta mg single: ends at EN / HD / VA+data
const K_MGN = 4;      // meta mg x W + mn: ends at MN

const C_E = 69, C_N = 78, C_S = 83, C_V = 86, C_A = 65, C_L = 76, C_H = 72, C_M = 77, C_C = 67, C_R = 82, C_X = 88, C_D = 68;

class Conn {
  constructor(gen, sock, active) {
    this.gen = gen;
    this.sock = sock;
    this.active = active;
    // FIFO of outstanding requests: parallel ring arrays
    this.cap = 1024;
    this.kinds = new Uint8Array(this.cap);
    this.t0 = new Float64Array(this.cap);
    this.head = 0; this.tail = 0; this.n = 0;
    this.partial = null;   // incomplete line carried to next chunk
    this.skip = 0;         // value-body bytes still to skip
    this.doneAfterSkip = false;
    this.out = [];         // pending writes (strings / Buffers)
    this.outStr = '';
    sock.on('data', (b) => this.onData(b));
    sock.on('error', (e) => { gen.errors++; gen.lastError = String(e && e.message); });
    sock.on('close', () => { this.closed = true; if (gen.running && this.active) gen.closedEarly++; });
  }

  push(kind, t) {
    if (this.n === this.cap) throw new Error('too many outstanding');
    this.kinds[this.tail] = kind; this.t0[this.tail] = t;
    this.tail = (this.tail + 1) % this.cap; this.n++;
  }

  complete(now) {
    if (this.n === 0) { this.gen.protoErrors++; return; }
    const t = this.t0[this.head];
    this.head = (this.head + 1) % this.cap; this.n--;
    this.gen.onComplete(this, now - t);
  }

  onData(chunk) {
    let buf = chunk;
    let pos = 0;
    if (this.skip > 0) {
      if (this.skip >= buf.length) { this.skip -= buf.length; return; }
      pos = this.skip; this.skip = 0;
      if (this.doneAfterSkip) { this.doneAfterSkip = false; this.complete(performance.now()); }
    }
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, buf.subarray(pos)]);
      pos = 0; this.partial = null;
    }
    const len = buf.length;
    let now = 0;
    while (pos < len) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) { this.partial = Buffer.from(buf.subarray(pos)); break; }
      const c0 = buf[pos], c1 = buf[pos + 1];
      const kind = this.n > 0 ? this.kinds[this.head] : 0;
      let done = false;
      if (c0 === C_V) {
        // "VALUE <key> <flags> <bytes>[ <cas>]\r\n" or meta "VA <size> <flags>*\r\n"
        let size;
        if (c1 === C_A && buf[pos + 2] === C_L) {
          // find the 4th token: skip "VALUE ", key, flags
          let p = pos + 6;
          while (buf[p] !== 32) p++; p++;
          while (buf[p] !== 32) p++; p++;
          size = 0;
          while (p < nl) { const d = buf[p]; if (d < 48 || d > 57) break; size = size * 10 + (d - 48); p++; }
          this.gen.hits++;
        } else {
          let p = pos + 3; size = 0;
          while (p < nl) { const d = buf[p]; if (d < 48 || d > 57) break; size = size * 10 + (d - 48); p++; }
          this.gen.hits++;
          if (kind === K_MG1) this.doneAfterSkip = true;
        }
        const need = size + 2;
        const avail = len - (nl + 1);
        if (avail >= need) {
          pos = nl + 1 + need;
          if (this.doneAfterSkip) { this.doneAfterSkip = false; if (now === 0) now = performance.now(); this.complete(now); }
          continue;
        }
        this.skip = need - avail;
        break;
      } else if (c0 === C_E) {
        if (c1 === C_N && buf[pos + 2] === C_D) { done = kind === K_GET; }          // END
        else if (c1 === C_N) { this.gen.misses++; done = kind === K_MG1; }       // EN (meta miss)
        else if (c1 === C_R) { this.gen.serverErrors++; done = kind !== K_MGN; } // ERROR
        else { done = kind === K_SET; }                                           // EXISTS / EX
      } else if (c0 === C_S) {
        if (c1 === C_T) done = true;                                              // STORED
        else { this.gen.serverErrors++; done = kind !== K_MGN; if (this.gen.serverErrors < 4) process.stderr.write(`loadgen: ${buf.toString('latin1', pos, nl)}\n`); }
      } else if (c0 === C_N) {
        done = kind === K_SET || kind === K_MG1;                                  // NOT_STORED / NS / NF / NOT_FOUND
      } else if (c0 === C_H) {
        done = kind === K_SET || kind === K_MG1;                                  // HD
      } else if (c0 === C_M) {
        done = kind === K_MGN;                                                    // MN
      } else if (c0 === C_C) {
        this.gen.serverErrors++; done = kind !== K_MGN;                           // CLIENT_ERROR
        if (this.gen.serverErrors < 4) process.stderr.write(`loadgen: ${buf.toString('latin1', pos, nl)}\n`);
      } else {
        this.gen.protoErrors++;
      }
      pos = nl + 1;
      if (done) { if (now === 0) now = performance.now(); this.complete(now); }
    }
    this.flush();
  }

  flush() {
    if (this.outStr.length === 0 && this.out.length === 0) return;
    if (this.out.length === 0) { this.sock.write(this.outStr, 'latin1'); this.outStr = ''; return; }
    this.sock.cork();
    if (this.outStr.length) this.out.unshift(Buffer.from(this.outStr, 'latin1'));
    for (const b of this.out) this.sock.write(b);
    this.sock.uncork();
    this.out = []; this.outStr = '';
  }

  queueStr(s) { this.outStr += s; }
  queueBuf(s, b) {
    if (this.outStr.length) { this.out.push(Buffer.from(this.outStr, 'latin1')); this.outStr = ''; }
    this.out.push(Buffer.from(s, 'latin1'), b);
  }
}
const C_T = 84;

// ---------------------------------------------------------------- generator
class Gen {
  constructor(o, keys) {
    this.o = o; this.keys = keys;
    this.value = makeValue(o.valueSize);
    this.valueStr = this.value.toString('latin1');
    this.hist = newHist();
    this.conns = [];
    this.measuring = false; this.running = false;
    this.ops = 0; this.gets = 0; this.sets = 0; this.keysRequested = 0;
    this.hits = 0; this.misses = 0; this.errors = 0; this.serverErrors = 0; this.protoErrors = 0; this.closedEarly = 0;
    this.lastError = '';
    this.rng = (Math.random() * 0xffffffff) >>> 0 || 1;
  }

  rand() { // xorshift32
    let x = this.rng; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.rng = x >>> 0; return this.rng / 4294967296;
  }
  key() { return this.keys[(this.rand() * this.keys.length) | 0]; }

  async connect(total, active) {
    const o = this.o;
    const batch = 100;
    for (let i = 0; i < total; i += batch) {
      const ps = [];
      for (let j = i; j < Math.min(total, i + batch); j++) {
        ps.push(new Promise((res, rej) => {
          const s = net.connect({ host: o.host, port: o.port, noDelay: true });
          const t = setTimeout(() => { s.destroy(); rej(new Error('connect timeout')); }, 5000);
          s.once('connect', () => { clearTimeout(t); res(s); });
          s.once('error', (e) => { clearTimeout(t); rej(e); });
        }));
      }
      for (const s of await Promise.all(ps)) this.conns.push(new Conn(this, s, this.conns.length < active));
    }
  }

  issue(c) {
    const o = this.o;
    const now = performance.now();
    if (this.rand() < o.getRatio) {
      if (o.proto === 'text') {
        let s = 'get';
        for (let i = 0; i < o.mget; i++) s += ' ' + this.key();
        c.queueStr(s + '\r\n');
        c.push(K_GET, now);
      } else if (o.mget === 1) {
        c.queueStr('mg ' + this.key() + ' v f\r\n');
        c.push(K_MG1, now);
      } else {
        let s = '';
        for (let i = 0; i < o.mget; i++) s += 'mg ' + this.key() + ' v f q k\r\n';
        c.queueStr(s + 'mn\r\n');
        c.push(K_MGN, now);
      }
      if (this.measuring) { this.gets++; this.keysRequested += o.mget; }
    } else {
      const hdr = o.proto === 'text'
        ? 'set ' + this.key() + ' 0 0 ' + o.valueSize + '\r\n'
        : 'ms ' + this.key() + ' ' + o.valueSize + ' T0 F0\r\n';
      if (o.valueSize <= 2048) c.queueStr(hdr + this.valueStr);
      else c.queueBuf(hdr, this.value);
      c.push(K_SET, now);
      if (this.measuring) this.sets++;
    }
  }

  onComplete(c, dt) {
    if (this.measuring) {
      this.ops++;
      this.hist[bucketOf(Math.round(dt * 1000 * UNITS_PER_US))]++;
    }
    if (this.running && c.active) this.issue(c);
  }

  start() {
    this.running = true;
    for (const c of this.conns) {
      if (!c.active) continue;
      for (let i = 0; i < this.o.pipeline; i++) this.issue(c);
      c.flush();
    }
  }

  resetStats() {
    this.hist.fill(0);
    this.ops = this.gets = this.sets = this.keysRequested = 0;
    this.hits = this.misses = this.serverErrors = this.protoErrors = 0;
  }

  async stop(drainSec) {
    this.running = false; this.measuring = false;
    const until = Date.now() + drainSec * 1000;
    while (Date.now() < until && this.conns.some((c) => c.n > 0 && !c.closed)) await sleep(10);
    const outstanding = this.conns.reduce((a, c) => a + c.n, 0);
    for (const c of this.conns) c.sock.destroy();
    return outstanding;
  }

  stats() {
    return {
      ops: this.ops, gets: this.gets, sets: this.sets, keysRequested: this.keysRequested,
      hits: this.hits, misses: this.misses, errors: this.errors, serverErrors: this.serverErrors,
      protoErrors: this.protoErrors, closedEarly: this.closedEarly, lastError: this.lastError,
      hist: Array.from(this.hist),
    };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- prefill
async function prefill(o, keys) {
  const g = new Gen({ ...o, getRatio: 0, mget: 1, pipeline: 1 }, keys);
  await g.connect(1, 1);
  const c = g.conns[0];
  const window = o.valueSize > 10000 ? 8 : 200;
  let next = 0, done = 0;
  const deadline = Date.now() + 60000;
  await new Promise((resolve, reject) => {
    const send = () => {
      while (next < keys.length && c.n < window) {
        const hdr = o.proto === 'text'
          ? 'set ' + keys[next] + ' 0 0 ' + o.valueSize + '\r\n'
          : 'ms ' + keys[next] + ' ' + o.valueSize + ' T0 F0\r\n';
        c.queueBuf(hdr, g.value);
        c.push(K_SET, 0);
        next++;
      }
      c.flush();
    };
    g.onComplete = () => {
      done++;
      if (done === keys.length) resolve();
      else if (Date.now() > deadline) reject(new Error('prefill timeout'));
      else if (next < keys.length && c.n < window / 2) send();
    };
    c.sock.on('close', () => reject(new Error('prefill connection closed')));
    send();
  });
  const errs = g.serverErrors;
  c.sock.destroy();
  if (errs) process.stderr.write(`loadgen: prefill had ${errs} error replies\n`);
  return errs;
}

// ---------------------------------------------------------------- worker
async function workerMain() {
  const { o, conns, active } = workerData;
  const keys = makeKeys(o);
  const g = new Gen(o, keys);
  try {
    await g.connect(conns, active);
  } catch (e) {
    parentPort.postMessage({ type: 'error', error: String(e.message || e) });
    return;
  }
  parentPort.postMessage({ type: 'ready' });
  parentPort.on('message', async (m) => {
    if (m.type === 'start') g.start();
    else if (m.type === 'measure') { g.resetStats(); g.measuring = true; }
    else if (m.type === 'stop') {
      g.measuring = false;
      const snapshot = g.stats();
      const outstanding = await g.stop(o.drain);
      parentPort.postMessage({ type: 'result', stats: snapshot, outstanding });
      parentPort.close();
    }
  });
}

// ---------------------------------------------------------------- main
async function main() {
  const o = parseArgs(process.argv.slice(2));
  const keys = makeKeys(o);
  const t0 = performance.now();
  let prefillErrors = 0;
  if (o.prefill) prefillErrors = await prefill(o, keys);
  const prefillSec = (performance.now() - t0) / 1000;

  // split connections over worker threads
  const T = Math.max(1, o.threads);
  const workers = [];
  for (let i = 0; i < T; i++) {
    const conns = Math.floor(o.conns / T) + (i < o.conns % T ? 1 : 0);
    const active = Math.floor(o.active / T) + (i < o.active % T ? 1 : 0);
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { o, conns, active } });
    workers.push(w);
  }
  const waitAll = (type) => Promise.all(workers.map((w) => new Promise((res, rej) => {
    const on = (m) => {
      if (m.type === type) { w.off('message', on); res(m); }
      else if (m.type === 'error') rej(new Error(m.error));
    };
    w.on('message', on);
    w.once('error', rej);
  })));
  await waitAll('ready');
  for (const w of workers) w.postMessage({ type: 'start' });
  await sleep(o.warmup * 1000);
  for (const w of workers) w.postMessage({ type: 'measure' });
  const mStart = performance.now();
  process.stdout.write('@start\n');
  await sleep(o.duration * 1000);
  const resultsP = waitAll('result');
  for (const w of workers) w.postMessage({ type: 'stop' });
  const mEnd = performance.now();
  process.stdout.write('@end\n');
  const results = await resultsP;
  const elapsed = (mEnd - mStart) / 1000;

  const hist = newHist();
  const agg = { ops: 0, gets: 0, sets: 0, keysRequested: 0, hits: 0, misses: 0, errors: 0, serverErrors: 0, protoErrors: 0, closedEarly: 0, outstandingAtEnd: 0 };
  let lastError = '';
  for (const r of results) {
    for (const k of Object.keys(agg)) if (k in r.stats) agg[k] += r.stats[k];
    agg.outstandingAtEnd += r.outstanding;
    r.stats.hist.forEach((v, i) => { hist[i] += v; });
    if (r.stats.lastError) lastError = r.stats.lastError;
  }
  const out = {
    config: o, prefillSec, prefillErrors, elapsed, ...agg, lastError,
    opsPerSec: agg.ops / elapsed,
    keysPerSec: agg.keysRequested / elapsed,
    latencyUs: {
      p50: percentile(hist, 0.5), p90: percentile(hist, 0.9), p99: percentile(hist, 0.99),
      p999: percentile(hist, 0.999), max: percentile(hist, 1),
    },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  await Promise.all(workers.map((w) => w.terminate()));
  process.exit(0);
}

if (!isMainThread) {
  workerMain();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // hard cap: never run longer than warmup + duration + generous slack
  main().catch((e) => { process.stderr.write(`loadgen: ${e.stack || e}\n`); process.exit(1); });
  const args = process.argv.slice(2);
  const num = (f, d) => { const i = args.indexOf(f); return i >= 0 ? Number(args[i + 1]) : d; };
  setTimeout(() => { process.stderr.write('loadgen: watchdog timeout\n'); process.exit(2); },
    (num('--warmup', 1) + num('--duration', 5) + num('--drain', 2) + 90) * 1000).unref();
}
