#!/usr/bin/env node
// Embedded router vs sidecar vs plain npm clients: one workload, four ways for an application to reach memcached.
//
//   (a) embedded   createRouter() from the built package (dist/index.js), in the app process, one-server pool
//   (b) sidecar    npm `memcached` client -> mcrelay (node dist/cli.js) -> memcached
//   (c) memcached  npm `memcached` client -> memcached
//   (d) mc-client  npm `memcache-client` -> memcached
//   (e) plain      bench/plain-batching-client.mjs -> memcached: one socket, the gets of a turn merged into one
//                  line, no routing, timeouts or failover. The ceiling any batching Node client has on this
//                  workload and machine; it has no target of its own.
//
// Workload (the same for all five): C concurrent callers (default 50) in one Node process, each looping
// `await get(key)` or `await set(key, value)` (get:set 9:1), 100-byte values, 10k keys chosen uniformly at
// random, all keys stored beforehand. A warm-up, then a timed phase. The npm clients run with their defaults.
//
// Each variant starts a fresh memcached (and, for (b), a fresh mcrelay) pinned to CPU 0, and runs its load in a
// fresh child Node process (this file with --child) pinned to CPU 1, so that process's CPU is the app's CPU.
// CPU per op = the app process's CPU (process.cpuUsage() in the child over the timed phase) plus, for (b), the
// sidecar's utime+stime from /proc/PID/stat over the same phase. memcached's CPU is recorded but not counted.
//
// The npm clients' defaults, as used here:
//   memcached 2.2.2: poolSize 10, TCP_NODELAY on, timeout 5000 ms, retries 5 with a 1000 ms first backoff. Its
//     pool hands every request to the last pool socket with nothing queued in Node's write path, which in
//     practice is always the same one: all requests are pipelined on one connection while the other nine sit
//     idle. The first burst of callers opens the ten sockets; callers beyond ten get "pool is full" and retry
//     after 1 s, so keep --warmup above 1 s.
//   memcache-client 1.0.5: maxConnections 1 (all requests pipelined on it), TCP_NODELAY off (Nagle on),
//     cmdTimeout 5000 ms, default lifetime 60 s (sets here pass lifetime 0, like the others). Its parser
//     dependency memcache-parser requires tslib without declaring it, hence the tslib devDependency.
// Values are strings for the npm clients and a Buffer for the router (each one's native type; same bytes).
// The "in flight" columns check that the callers really overlap: Little's law (ops/s x mean latency) and, for
// the npm clients, requests written to their sockets and awaiting a reply, sampled every 10 ms.
//
// Usage: npm run build && node bench/embedded.mjs [--duration 10] [--warmup 2] [--callers 50] [--only a,b,c,d,e]
//          [--keys 10000] [--value-size 100] [--get-ratio 0.9] [--quiet-wait 5] [--quiet-threshold 0.15]
// Prints a table and the targets (PASS/FAIL) and writes bench/results/embedded-<timestamp>.json.
// Nothing leaves 127.0.0.1.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newHist, bucketOf, percentile } from './loadgen.mjs';
import { cpuStat, freePort, tail, ticksOf as procTicks } from './proc.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(BENCH, '..');
const RESULTS = path.join(BENCH, 'results');
const TMP = path.join(RESULTS, 'tmp');
const HOST = '127.0.0.1';
const DIST_INDEX = path.join(REPO, 'dist', 'index.js');
const DIST_CLI = path.join(REPO, 'dist', 'cli.js');

const VARIANTS = {
  a: { name: 'embedded', desc: 'createRouter() in the app process -> memcached (one-server pool)' },
  b: { name: 'sidecar', desc: 'npm memcached client -> mcrelay sidecar -> memcached' },
  c: { name: 'memcached', desc: 'npm memcached client -> memcached' },
  d: { name: 'memcache-client', desc: 'npm memcache-client -> memcached' },
  e: { name: 'plain-batching', desc: 'the least a batching client does (bench/plain-batching-client.mjs) -> memcached; a ceiling, not a target' },
};

// ---------------------------------------------------------------- args
function parseArgs(argv) {
  const o = { duration: 10, warmup: 2, callers: 50, only: ['a', 'b', 'c', 'd', 'e'], keys: 10000, valueSize: 100, getRatio: 0.9, quietWait: 5, quietThreshold: 0.15, child: null, port: 0 };
  const num = { '--duration': 'duration', '--warmup': 'warmup', '--callers': 'callers', '--keys': 'keys', '--value-size': 'valueSize', '--get-ratio': 'getRatio', '--quiet-wait': 'quietWait', '--quiet-threshold': 'quietThreshold', '--port': 'port' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a in num) {
      const x = Number(v());
      if (!Number.isFinite(x) || x < 0) throw new Error(`${a}: not a number >= 0`);
      o[num[a]] = x;
    } else if (a === '--only') o.only = v().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--child') o.child = v();
    else if (a === '-h' || a === '--help') { process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n'); process.exit(0); }
    else throw new Error(`unknown option ${a}`);
  }
  for (const v of o.only) if (!(v in VARIANTS)) throw new Error(`--only: unknown variant ${v} (a, b, c, d, e)`);
  if (o.callers < 1 || !Number.isInteger(o.callers)) throw new Error('--callers must be a positive integer');
  if (o.duration <= 0) throw new Error('--duration must be > 0');
  return o;
}

/** The workload's key names: 16 bytes, as bench/loadgen.mjs makes them. */
function keyNames(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    let k = 'bench:' + i.toString(36);
    if (k.length < 16) k += '_'.repeat(16 - k.length);
    out[i] = k;
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// =============================================================== child: the application under load
//
// Writes "@start\n" and "@end\n" on stdout around the timed phase (the parent samples /proc there), then one line
// of JSON with the results. Diagnostics go to stderr.

/** Client adapters: get(key) -> hit (boolean), set(key) -> stored (boolean), plus wire-level introspection. */
async function makeClient(variant, port, valueSize) {
  const addr = `${HOST}:${port}`;
  const valueStr = 'v'.repeat(valueSize);
  const valueBuf = Buffer.from(valueStr, 'latin1');
  const require = createRequire(import.meta.url);
  if (variant === 'a') {
    const mod = await import(pathToFileURL(DIST_INDEX).href);
    const router = await mod.createRouter({ config: { pools: { A: { servers: [addr] } }, route: 'PoolRoute|A' }, serverTimeoutMs: 1000 });
    return {
      settings: { config: 'one-server pool, route PoolRoute|A', serverTimeoutMs: 1000, value: 'Buffer' },
      get: async (k) => (await router.get(k)) !== undefined,
      set: (k) => router.set(k, valueBuf, { ttl: 0 }),
      wire: () => null,
      stats: () => { try { return router.stats(); } catch { return null; } },
      close: () => router.close({ drainMs: 1000 }),
    };
  }
  if (variant === 'b' || variant === 'c') {
    const Memcached = require('memcached');
    const client = new Memcached(addr);
    const d = Memcached.config;
    return {
      settings: { package: `memcached@${require('memcached/package.json').version}`, defaults: { poolSize: d.poolSize, retries: d.retries, minTimeout: d.minTimeout, factor: d.factor, timeout: d.timeout, idle: d.idle, failures: d.failures, retry: d.retry, reconnect: d.reconnect, keyCompression: d.keyCompression }, noDelay: true, value: 'string' },
      get: (k) => new Promise((res, rej) => client.get(k, (err, data) => (err ? rej(err) : res(data !== undefined)))),
      set: (k) => new Promise((res, rej) => client.set(k, valueStr, 0, (err, ok) => (err ? rej(err) : res(ok === true)))),
      // Pool sockets and the requests written on them that await a reply.
      wire: () => {
        const pool = client.connections[addr]?.pool ?? [];
        return { conns: pool.length, inflight: pool.reduce((a, s) => a + (s.metaData?.length ?? 0), 0), busyConns: pool.filter((s) => (s.metaData?.length ?? 0) > 0).length };
      },
      stats: () => null,
      close: async () => { client.end(); },
    };
  }
  if (variant === 'd') {
    const { MemcacheClient } = require('memcache-client');
    const client = new MemcacheClient({ server: addr });
    const d = require('memcache-client/dist/lib/defaults.js').default;
    return {
      settings: { package: `memcache-client@${require('memcache-client/package.json').version}`, defaults: { maxConnections: d.MAX_CONNECTIONS, cmdTimeout: d.CMD_TIMEOUT_MS, noDelay: false, lifetime: 60, keepAlive: 60000 }, lifetimePassed: 0, value: 'string' },
      get: async (k) => (await client.get(k)) !== undefined,
      set: async (k) => { const r = await client.set(k, valueStr, { lifetime: 0 }); return Array.isArray(r) && r[0] === 'STORED'; },
      wire: () => {
        const nodes = Object.values(client._servers?._nodes ?? {});
        const conns = nodes.flatMap((n) => n.connections ?? []);
        return { conns: conns.length, inflight: conns.reduce((a, c) => a + (c._cmdQueue?.length ?? 0), 0), busyConns: conns.filter((c) => (c._cmdQueue?.length ?? 0) > 0).length };
      },
      stats: () => null,
      close: async () => { client.shutdown(); },
    };
  }
  if (variant === 'e') {
    const { PlainBatchingClient } = await import('./plain-batching-client.mjs');
    const client = new PlainBatchingClient(HOST, port);
    await client.ready();
    return {
      settings: { client: 'bench/plain-batching-client.mjs: one socket, gets of a turn merged, no routing or timeouts', value: 'Buffer' },
      get: async (k) => (await client.get(k)) !== undefined,
      set: (k) => client.set(k, valueBuf, 0),
      wire: () => null,
      stats: () => null,
      close: async () => { client.close(); },
    };
  }
  throw new Error(`unknown variant ${variant}`);
}

function tcpSocketsOfSelf() {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try { if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

async function childMain(o) {
  const watchdog = setTimeout(() => { log('embedded child: watchdog timeout'); process.exit(2); }, (o.warmup + o.duration + 40) * 1000);
  watchdog.unref();
  const keys = keyNames(o.keys);
  const client = await makeClient(o.child, o.port, o.valueSize);

  const stats = () => ({ ops: 0, gets: 0, sets: 0, hits: 0, misses: 0, notStored: 0, errors: 0, latSumUs: 0 });
  let st = stats();
  let hist = newHist();
  const warm = { errors: 0, firstError: null, maxLatencyUs: 0 };
  let measured = null;
  let lastError = null;
  let running = true;
  let measuring = false;

  async function caller(id) {
    const rnd = rng(0x9e3779b9 ^ (id * 2654435761));
    while (running) {
      const k = keys[Math.floor(rnd() * keys.length)];
      const isGet = rnd() < o.getRatio;
      const s = st; // an op counts in the phase it started in, and only if it also ended in it
      const t0 = performance.now();
      try {
        const ok = isGet ? await client.get(k) : await client.set(k);
        const us = (performance.now() - t0) * 1000;
        if (s !== st) { if (us > warm.maxLatencyUs) warm.maxLatencyUs = us; continue; }
        if (!measuring && us > warm.maxLatencyUs) warm.maxLatencyUs = us;
        s.ops++;
        s.latSumUs += us;
        if (s === measured) hist[bucketOf(Math.round(us * 16))]++;
        if (isGet) { s.gets++; if (ok) s.hits++; else s.misses++; } else { s.sets++; if (!ok) s.notStored++; }
      } catch (e) {
        if (s === st) s.errors++;
        lastError = String(e?.message ?? e);
        if (!measuring) { warm.errors++; warm.firstError ??= lastError; }
        // A failing client must not spin this loop hot.
        await sleep(1);
      }
    }
  }

  const tBegin = performance.now();
  const callers = Array.from({ length: o.callers }, (_, i) => caller(i));

  await sleep(o.warmup * 1000);
  // Timed phase.
  st = stats();
  measured = st;
  hist = newHist();
  measuring = true;
  const wireSamples = [];
  const sampler = setInterval(() => { const w = client.wire(); if (w) wireSamples.push(w); }, 10);
  let socketsMid = null;
  const mid = setTimeout(() => { socketsMid = tcpSocketsOfSelf(); }, (o.duration * 1000) / 2);
  process.stdout.write('@start\n');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(o.duration * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const s = st;
  const h = hist;
  st = stats(); // replies after the window land here
  process.stdout.write('@end\n');
  measuring = false;
  clearInterval(sampler);
  clearTimeout(mid);

  running = false;
  const drained = await Promise.race([Promise.all(callers).then(() => true), sleep(5000).then(() => false)]);
  const routerStats = client.stats();
  await Promise.race([client.close(), sleep(3000)]);

  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const out = {
    variant: o.child,
    settings: client.settings,
    elapsed,
    warmupSec: (t0 - tBegin) / 1000,
    ops: s.ops, gets: s.gets, sets: s.sets, hits: s.hits, misses: s.misses, notStored: s.notStored, errors: s.errors,
    warmupErrors: warm.errors, warmupFirstError: warm.firstError, lastError,
    // Slowest op outside the timed phase (warm-up, or spanning a phase boundary): shows start-up stalls.
    warmupMaxLatencyUs: warm.maxLatencyUs,
    opsPerSec: s.ops / elapsed,
    latencyUs: { mean: s.ops ? s.latSumUs / s.ops : null, p50: percentile(h, 0.5), p90: percentile(h, 0.9), p99: percentile(h, 0.99), p999: percentile(h, 0.999), max: percentile(h, 1) },
    // Little's law: requests the callers had outstanding on average (should be ~= callers).
    littleInflight: s.ops ? (s.ops / elapsed) * (s.latSumUs / s.ops / 1e6) : null,
    // Requests written to a socket and awaiting a reply, sampled every 10 ms (npm clients only).
    wire: wireSamples.length ? { samples: wireSamples.length, meanInflight: mean(wireSamples.map((w) => w.inflight)), maxInflight: Math.max(...wireSamples.map((w) => w.inflight)), meanConns: mean(wireSamples.map((w) => w.conns)), meanBusyConns: mean(wireSamples.map((w) => w.busyConns)) } : null,
    tcpSocketsMid: socketsMid,
    cpuUs: { user: cpu.user, system: cpu.system, total: cpu.user + cpu.system },
    cpuUsPerOp: s.ops ? (cpu.user + cpu.system) / s.ops : null,
    drained,
    routerStats: routerStats == null ? null : JSON.parse(JSON.stringify(routerStats, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? Object.fromEntries(v) : v))),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

// =============================================================== parent: start processes, measure, report

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim() || 100);
const children = new Set();

function launch(name, cmd, args, withStdout = false) {
  fs.mkdirSync(TMP, { recursive: true });
  const logf = path.join(TMP, `embedded-${name}.log`);
  const fd = fs.openSync(logf, 'w');
  const child = spawn(cmd, args, { stdio: ['ignore', withStdout ? 'pipe' : fd, fd] });
  fs.closeSync(fd);
  child.label = name;
  child.logFile = logf;
  child.exited = null;
  child.on('exit', (code, sig) => { child.exited = { code, sig }; children.delete(child); });
  child.on('error', (e) => { child.exited = { error: String(e.message) }; children.delete(child); });
  children.add(child);
  return child;
}

async function stop(c, graceMs = 2000) {
  if (!c || c.exited) return;
  try { process.kill(c.pid, 'SIGTERM'); } catch { /* gone */ }
  const until = Date.now() + graceMs;
  while (!c.exited && Date.now() < until) await sleep(20);
  if (!c.exited) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
  while (!c.exited && Date.now() < until + 2000) await sleep(20);
}

function killAllSync() {
  for (const c of children) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
}



async function waitPort(port, child, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exited) throw new Error(`${child.label} exited during start (${JSON.stringify(child.exited)}): ${tail(child.logFile)}`);
    const ok = await new Promise((res) => {
      const s = net.connect({ host: HOST, port });
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${child.label} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Send `payload` on a fresh connection and resolve with the reply once `done(reply)` says it is complete. */
function exchange(port, payload, done, timeoutMs = 10000) {
  return new Promise((res, rej) => {
    const s = net.connect({ host: HOST, port });
    const parts = [];
    let text = '';
    const t = setTimeout(() => { s.destroy(); rej(new Error(`no complete reply within ${timeoutMs} ms: ${JSON.stringify(text.slice(-100))}`)); }, timeoutMs);
    s.on('connect', () => s.write(payload));
    s.on('data', (b) => {
      parts.push(b);
      text = Buffer.concat(parts).toString('latin1');
      if (done(text)) { clearTimeout(t); s.destroy(); res(text); }
    });
    s.on('error', (e) => { clearTimeout(t); rej(e); });
  });
}

/** Store every workload key (flags 0, no expiry) directly in memcached. */
async function prefill(port, o) {
  const value = 'v'.repeat(o.valueSize);
  const keys = keyNames(o.keys);
  const payload = keys.map((k) => `set ${k} 0 0 ${o.valueSize}\r\n${value}\r\n`).join('');
  const reply = await exchange(port, payload, (t) => t.split('\r\n').length - 1 >= keys.length, 20000);
  const stored = reply.split('STORED\r\n').length - 1;
  if (stored !== keys.length) throw new Error(`prefill: ${stored} of ${keys.length} STORED`);
}

async function probe(port) {
  const r = await exchange(port, 'set bench_probe 0 0 2\r\nok\r\nget bench_probe\r\n', (t) => t.includes('END\r\n') || t.includes('ERROR'), 3000);
  if (!r.startsWith('STORED\r\nVALUE bench_probe 0 2\r\nok\r\nEND\r\n')) throw new Error(`unexpected probe reply ${JSON.stringify(r.slice(0, 100))}`);
}

async function memcachedStats(port) {
  const r = await exchange(port, 'stats\r\n', (t) => t.endsWith('END\r\n'), 3000);
  const out = {};
  for (const m of r.matchAll(/^STAT (\S+) (\S+)\r$/gm)) out[m[1]] = m[2];
  return out;
}



/** Wait (bounded) until both cores were mostly idle for 0.5 s: other jobs share this machine. */
async function waitQuiet(maxSec, threshold) {
  const t0 = Date.now();
  let busy = 1;
  while (maxSec > 0) {
    const a = cpuStat();
    await sleep(500);
    const b = cpuStat();
    busy = Math.max(...['cpu0', 'cpu1'].map((c) => (b[c] && a[c] && b[c].total - a[c].total ? (b[c].busy - a[c].busy) / (b[c].total - a[c].total) : 0)));
    if (busy <= threshold || Date.now() - t0 >= maxSec * 1000) break;
  }
  return { waitedSec: (Date.now() - t0) / 1000, busy };
}

let pinning = null;
function pinned(cpu, cmd, args) {
  if (pinning === null) pinning = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && os.cpus().length >= 2;
  return pinning ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

async function startMemcached(tag) {
  const port = await freePort();
  const c = launch(`memcached-${tag}`, ...pinned(0, 'memcached', ['-u', 'root', '-l', HOST, '-p', String(port), '-t', '1', '-U', '0', '-m', '1024', '-c', '4096']));
  await waitPort(port, c);
  return { child: c, port };
}

async function startSidecar(mcPort) {
  const port = await freePort();
  const config = JSON.stringify({ pools: { A: { servers: [`${HOST}:${mcPort}`] } }, route: 'PoolRoute|A' });
  // Node flags as bench/runner.mjs starts mcrelay.
  const c = launch('sidecar', ...pinned(0, process.execPath, ['--initial-old-space-size=64', DIST_CLI, '-p', String(port), '--listen-addresses', HOST, '--config-str', config]));
  await waitPort(port, c, 15000);
  await probe(port);
  return { child: c, port };
}

/** Is createRouter in the built package? Returns null when it is, or the reason when not. */
async function embeddedMissing() {
  if (!fs.existsSync(DIST_INDEX)) return 'dist/index.js not found';
  try {
    const mod = await import(pathToFileURL(DIST_INDEX).href);
    return typeof mod.createRouter === 'function' ? null : 'dist/index.js has no createRouter export';
  } catch (e) {
    return `dist/index.js failed to load: ${e.message}`;
  }
}

async function runVariant(v, o) {
  const procs = [];
  const note = [];
  try {
    const mc = await startMemcached(v);
    procs.push(mc.child);
    await prefill(mc.port, o);
    let target = mc.port;
    let sidecar = null;
    if (v === 'b') {
      sidecar = await startSidecar(mc.port);
      procs.push(sidecar.child);
      target = sidecar.port;
    }
    const args = [fileURLToPath(import.meta.url), '--child', v, '--port', String(target), '--duration', String(o.duration), '--warmup', String(o.warmup), '--callers', String(o.callers), '--keys', String(o.keys), '--value-size', String(o.valueSize), '--get-ratio', String(o.getRatio)];
    const child = launch(`app-${v}`, ...pinned(1, process.execPath, args), true);
    procs.push(child);
    const sample = () => ({ app: procTicks(child.pid), sidecar: sidecar ? procTicks(sidecar.child.pid) : 0, memcached: procTicks(mc.child.pid), cpus: cpuStat(), t: performance.now() });
    let start = null, end = null, midStats = null, out = '';
    const killer = setTimeout(() => { log(`embedded: variant ${v} over time, killing its load process`); stop(child); }, (o.warmup + o.duration + 60) * 1000);
    await new Promise((res) => {
      child.stdout.on('data', (b) => {
        out += b.toString('utf8');
        let i;
        while ((i = out.indexOf('\n')) >= 0 && out[0] === '@') {
          const line = out.slice(0, i);
          out = out.slice(i + 1);
          if (line === '@start') {
            start = sample();
            setTimeout(() => { memcachedStats(mc.port).then((s) => { midStats = s; }, () => {}); }, (o.duration * 1000) / 2);
          } else if (line === '@end') end = sample();
        }
      });
      child.on('exit', res);
      if (child.exited) res();
    });
    clearTimeout(killer);
    let r;
    try { r = JSON.parse(out.trim().split('\n').pop()); } catch { throw new Error(`load process failed (${JSON.stringify(child.exited)}): ${tail(child.logFile)}`); }
    if (!start || !end) throw new Error('load process did not report its timed phase');
    const wall = (end.t - start.t) / 1000;
    const ticksSec = (k) => (end[k] - start[k]) / CLK_TCK;
    const appUs = r.cpuUs.total;
    const sidecarUs = sidecar ? ticksSec('sidecar') * 1e6 : 0;
    r.cpuSec = { app: appUs / 1e6, appProcStat: ticksSec('app'), sidecar: sidecar ? sidecarUs / 1e6 : null, memcachedNotCounted: ticksSec('memcached') };
    r.cpuUsPerOp = {
      app: r.ops ? appUs / r.ops : null,
      sidecar: sidecar && r.ops ? sidecarUs / r.ops : null,
      total: r.ops ? (appUs + sidecarUs) / r.ops : null,
      memcachedNotCounted: r.ops ? (ticksSec('memcached') * 1e6) / r.ops : null,
    };
    r.util = { app: appUs / 1e6 / r.elapsed, sidecar: sidecar ? sidecarUs / 1e6 / wall : null, memcached: ticksSec('memcached') / wall };
    // Connections memcached saw mid-phase, less the one that asked.
    r.memcachedConnsMid = midStats?.curr_connections !== undefined ? Number(midStats.curr_connections) - 1 : null;
    const d = (c, k) => (end.cpus[c]?.[k] ?? 0) - (start.cpus[c]?.[k] ?? 0);
    r.cpus = {};
    const own = { cpu0: ticksSec('memcached') + (sidecar ? ticksSec('sidecar') : 0), cpu1: ticksSec('app') };
    for (const c of ['cpu0', 'cpu1']) {
      const tot = d(c, 'total');
      if (tot) r.cpus[c] = { busy: d(c, 'busy') / tot, steal: d(c, 'steal') / tot, foreign: Math.max(0, d(c, 'busy') / tot - own[c] / wall) };
    }
    if (sidecar?.child.exited) note.push('sidecar exited during the run');
    if (mc.child.exited) note.push('memcached exited during the run');
    return { run: r, note };
  } finally {
    for (const p of procs.reverse()) await stop(p);
  }
}

function machine() {
  const sh = (cmd, args) => { const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 }); return ((r.stdout || '') + (r.stderr || '')).trim() || null; };
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.cpus().length,
    cpuModel: (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown',
    node: process.version,
    memcached: sh('memcached', ['-V']),
    kernel: os.release(),
    loadavgAtStart: os.loadavg(),
    clkTck: CLK_TCK,
    pinned: pinning,
  };
}

const fmtN = (x) => (x == null || !Number.isFinite(x) ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function table(res) {
  const L = [];
  L.push('| variant | ops/s | p50 µs | p99 µs | app CPU µs/op | sidecar CPU µs/op | total CPU µs/op | app util | conns to server | in flight (Little / on wire) | errors | notes |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const e of res.variants) {
    const label = `(${e.variant}) ${e.name}`;
    if (e.skipped || e.failed) { L.push(`| ${label} | ${e.skipped ? 'skipped' : 'failed'} | | | | | | | | | | ${String(e.error).replace(/\|/g, '/').slice(0, 160)} |`); continue; }
    const r = e.run;
    const notes = [...e.note];
    if (r.warmupErrors) notes.push(`${r.warmupErrors} errors in warm-up (${r.warmupFirstError})`);
    if (r.misses) notes.push(`${r.misses} misses`);
    if (r.warmupMaxLatencyUs > 100000) notes.push(`slowest warm-up op ${fmtN(r.warmupMaxLatencyUs / 1000)} ms`);
    for (const [c, x] of Object.entries(r.cpus)) if (x.foreign > 0.3) notes.push(`noisy: ${c} ${(x.foreign * 100).toFixed(0)}% busy outside our processes`);
    const wire = r.wire ? `${fmtN(r.wire.meanInflight)}` : '–';
    L.push(`| ${label} | ${fmtN(r.opsPerSec)} | ${fmtN(r.latencyUs.p50)} | ${fmtN(r.latencyUs.p99)} | ${fmtN(r.cpuUsPerOp.app)} | ${fmtN(r.cpuUsPerOp.sidecar)} | ${fmtN(r.cpuUsPerOp.total)} | ${(r.util.app * 100).toFixed(0)}% | ${r.memcachedConnsMid ?? '–'} | ${fmtN(r.littleInflight)} / ${wire} | ${r.errors} | ${notes.join('; ')} |`);
  }
  return L.join('\n');
}

function targets(res) {
  const get = (v) => res.variants.find((e) => e.variant === v && e.run)?.run ?? null;
  const a = get('a'), b = get('b'), c = get('c'), d = get('d');
  const t = [];
  const ratio = (x, y) => (x != null && y ? x / y : null);
  {
    const r = a && b ? ratio(a.opsPerSec, b.opsPerSec) : null;
    t.push({ target: '(a) ops/s >= 4x (b) ops/s', ratio: r, need: 4, pass: r == null ? null : r >= 4 });
  }
  {
    const r = a && b ? ratio(a.cpuUsPerOp.total, b.cpuUsPerOp.total) : null;
    t.push({ target: '(a) CPU/op <= 0.25x (b) CPU/op', ratio: r, need: 0.25, pass: r == null ? null : r <= 0.25 });
  }
  {
    const best = [c, d].filter(Boolean).map((x) => x.opsPerSec);
    const r = a && best.length ? ratio(a.opsPerSec, Math.max(...best)) : null;
    const missing = [!c && 'c', !d && 'd'].filter(Boolean);
    t.push({ target: `(a) ops/s >= 2x max((c), (d)) ops/s${missing.length && best.length ? ` (without ${missing.join(', ')})` : ''}`, ratio: r, need: 2, pass: r == null ? null : r >= 2 });
  }
  return t;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) return childMain(o);

  process.on('exit', killAllSync);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => { log(`embedded: ${s}, cleaning up`); killAllSync(); process.exit(130); });

  const res = {
    command: `node bench/embedded.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: null,
    opts: { duration: o.duration, warmup: o.warmup, callers: o.callers, only: o.only, keys: o.keys, valueSize: o.valueSize, getRatio: o.getRatio, quietWait: o.quietWait, quietThreshold: o.quietThreshold },
    workload: `${o.callers} concurrent callers in one Node process, get:set ${Math.round(o.getRatio * 10)}:${Math.round((1 - o.getRatio) * 10)}, ${o.valueSize}-byte values, ${o.keys} keys (uniform), all stored beforehand; ${o.warmup} s warm-up, ${o.duration} s timed`,
    variants: [],
    targets: [],
  };
  pinned(0, 'true', []);
  res.machine = machine();
  if (!pinning) log('embedded: taskset unavailable or < 2 CPUs: processes are not pinned');

  for (const v of o.only) {
    const e = { variant: v, ...VARIANTS[v], skipped: false, failed: false, error: null, note: [], run: null };
    res.variants.push(e);
    if (v === 'a') {
      const why = await embeddedMissing();
      if (why) { process.stdout.write(`embedded API not built (${why}): skipping (a)\n`); e.skipped = true; e.error = `embedded API not built: ${why}`; continue; }
    }
    if (v === 'b' && !fs.existsSync(DIST_CLI)) { e.skipped = true; e.error = 'dist/cli.js not found (run `npm run build`)'; log(`embedded: ${e.error}: skipping (b)`); continue; }
    try {
      const q = await waitQuiet(o.quietWait, o.quietThreshold);
      const { run, note } = await runVariant(v, o);
      run.quietBefore = q;
      e.run = run;
      e.note.push(...note);
      log(`(${v}) ${e.name}: ${fmtN(run.opsPerSec)} ops/s, p50 ${fmtN(run.latencyUs.p50)} p99 ${fmtN(run.latencyUs.p99)} µs, CPU ${fmtN(run.cpuUsPerOp.total)} µs/op (app ${fmtN(run.cpuUsPerOp.app)}${run.cpuUsPerOp.sidecar != null ? ` + sidecar ${fmtN(run.cpuUsPerOp.sidecar)}` : ''}), ${run.errors} errors`);
    } catch (err) {
      e.failed = true;
      e.error = String(err?.message ?? err);
      log(`(${v}) ${e.name}: FAILED: ${e.error}`);
    }
  }

  res.targets = targets(res);
  process.stdout.write(`\n${res.workload}. CPU = app process (+ sidecar for (b)); memcached not counted.\n\n${table(res)}\n\nTargets:\n`);
  for (const t of res.targets) {
    const verdict = t.pass == null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL';
    process.stdout.write(`  ${verdict}  ${t.target}: ${t.ratio == null ? 'needs both variants' : `${t.ratio.toFixed(2)}x`}\n`);
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `embedded-${res.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(res, null, 1) + '\n');
  log(`embedded: wrote ${path.relative(REPO, file)}`);
}

main().then(
  () => { killAllSync(); process.exit(0); },
  (e) => { log(`embedded: ${e.stack || e}`); killAllSync(); process.exit(1); },
);
