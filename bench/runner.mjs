#!/usr/bin/env node
// mcrelay benchmark runner (issue 4). Node stdlib only. Invoked by bench/run.sh.
//
// For every scenario and repetition it starts each target fresh (memcached
// direct, nutcracker, mcrelay; order shuffled per repetition), pinned to CPU 0
// together with its backing memcached(s), runs bench/loadgen.mjs pinned to
// CPU 1, samples /proc/PID/stat around the measurement window, then stops
// everything. Results: bench/results/latest.{json,md,svg}.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuStat, freePort, tail, ticksOf } from './proc.mjs';
import { pairedTable } from './paired.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(BENCH, '..');
const RESULTS = path.join(BENCH, 'results');
const TMP = path.join(RESULTS, 'tmp');
const HOST = '127.0.0.1';
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']) || 100);

// ---------------------------------------------------------------- scenarios
const base = { conns: 50, pipeline: 1, getRatio: 0.9, keys: 10000, valueSize: 100, mget: 1 };
const SCENARIOS = [
  { name: 'getset-p1', desc: '50 conns, get:set 9:1, 100 B values, 10k keys, pipeline 1', servers: 1, lg: { ...base } },
  { name: 'getset-p8', desc: 'as getset-p1, pipeline 8', servers: 1, lg: { ...base, pipeline: 8 } },
  { name: 'mget10-4srv', desc: 'get with 10 keys per request (100% gets), 4-server pool, 50 conns, p1', servers: 4, lg: { ...base, getRatio: 1, mget: 10 } },
  { name: 'mget100-4srv', desc: 'get with 100 keys per request (100% gets), 4-server pool, 50 conns, p1', servers: 4, lg: { ...base, getRatio: 1, mget: 100 } },
  { name: 'value-1k', desc: 'as getset-p1 with 1 KB values', servers: 1, lg: { ...base, valueSize: 1024 } },
  { name: 'value-100k', desc: 'as getset-p1 with 100 KB values, 1k keys', servers: 1, lg: { ...base, valueSize: 100 * 1024, keys: 1000 } },
  { name: 'idle-1000', desc: '1000 connections, 20 active (p1, 9:1, 100 B), 980 idle', servers: 1, lg: { ...base, conns: 1000, active: 20 } },
  { name: 'tree3', desc: 'mcrelay: PrefixSelectorRoute -> FailoverRoute -> PoolRoute, metrics on; half the keys "x:"-prefixed; pools A,G of 2 servers; nutcracker: pool A', servers: 4, tree3: true, lg: { ...base, prefixMix: 'x:' } },
  { name: 'meta-p8', desc: 'meta protocol mg/ms, otherwise as getset-p8 (nutcracker 0.5.0 has no meta protocol: skipped)', servers: 1, skip: ['nutcracker'], optional: true, lg: { ...base, pipeline: 8, proto: 'meta' } },
];
const QUICK = ['getset-p1', 'mget10-4srv', 'value-1k', 'idle-1000', 'tree3'];
const ALL_TARGETS = ['memcached', 'nutcracker', 'mcrelay'];
// Opt-in: bench/floor-proxy.mjs, the least a Node proxy does per request (no routes, bench commands only).
const EXTRA_TARGETS = ['floor'];

// ---------------------------------------------------------------- args
function parseArgs(argv) {
  const o = { quick: false, targets: ALL_TARGETS, mcrelayArgs: [], reps: null, duration: null, warmup: null, scenarios: null, threads: 1, withMeta: false, seed: Date.now(), quietWait: 20, quietThreshold: 0.15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--quick') o.quick = true;
    else if (a === '--targets') o.targets = v().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--mcrelay-args') o.mcrelayArgs = v().split(/\s+/).filter(Boolean);
    else if (a === '--reps') o.reps = Number(v());
    else if (a === '--duration') o.duration = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--scenarios') o.scenarios = v().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--loadgen-threads') o.threads = Number(v());
    else if (a === '--with-meta') o.withMeta = true;
    else if (a === '--quiet-wait') o.quietWait = Number(v());
    else if (a === '--quiet-threshold') o.quietThreshold = Number(v());
    else if (a === '-h' || a === '--help') { console.log(fs.readFileSync(path.join(BENCH, 'README.md'), 'utf8').split('\n## ')[1]); process.exit(0); }
    else throw new Error(`unknown option ${a}`);
  }
  for (const t of o.targets) if (!ALL_TARGETS.includes(t) && !EXTRA_TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
  o.reps ??= o.quick ? 1 : 3;
  o.duration ??= o.quick ? 2 : 6;
  o.warmup ??= o.quick ? 0.5 : 1.5;
  let sc = SCENARIOS.filter((s) => (o.quick ? QUICK.includes(s.name) : (!s.optional || o.withMeta)));
  if (o.scenarios) sc = SCENARIOS.filter((s) => o.scenarios.includes(s.name));
  o.scenarioList = sc;
  return o;
}

// ---------------------------------------------------------------- helpers
function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
  return ((r.stdout || '') + (r.stderr || '')).trim() || null;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(a.join(' ') + '\n');


function procTicks(pid) {
  // utime + stime of pid and all its descendants (clock ticks)
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const t = ticksOf(p);
    if (Number.isFinite(t)) total += t;
  }
  return total;
}

/** Per-CPU jiffies from /proc/stat: { cpu0: {busy, steal, total}, ... } */

function descendants(pid) {
  const out = [];
  let kids;
  try { kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); }
  catch { return out; }
  for (const k of kids) out.push(k, ...descendants(k));
  return out;
}

// ---------------------------------------------------------------- process management
const children = new Set();
const PIDFILE = path.join(TMP, 'pids');

function launch(name, cmd, args, opts = {}) {
  const logf = path.join(TMP, `${name}.log`);
  const fd = fs.openSync(logf, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', opts.stdout ? 'pipe' : fd, fd], ...opts.spawn });
  fs.closeSync(fd);
  child.name = name;
  child.logFile = logf;
  child.exited = null;
  child.on('exit', (code, sig) => { child.exited = { code, sig }; children.delete(child); });
  child.on('error', (e) => { child.exited = { error: String(e.message) }; children.delete(child); });
  children.add(child);
  fs.appendFileSync(PIDFILE, `${child.pid}\n`);
  return child;
}

async function killChild(c, graceMs = 1500) {
  if (!c || c.exited) return;
  const all = [...descendants(c.pid)];
  try { process.kill(c.pid, 'SIGTERM'); } catch { /* */ }
  const until = Date.now() + graceMs;
  while (!c.exited && Date.now() < until) await sleep(20);
  if (!c.exited) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* */ } }
  for (const p of all) { try { process.kill(p, 'SIGKILL'); } catch { /* */ } }
  const until2 = Date.now() + 2000;
  while (!c.exited && Date.now() < until2) await sleep(20);
}

function killAllSync() {
  for (const c of children) {
    for (const p of descendants(c.pid)) { try { process.kill(p, 'SIGKILL'); } catch { /* */ } }
    try { process.kill(c.pid, 'SIGKILL'); } catch { /* */ }
  }
}
process.on('exit', killAllSync);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => { log(`runner: ${s}, cleaning up`); killAllSync(); process.exit(130); });

async function waitPort(port, child, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exited) throw new Error(`${child.name} exited during start (${JSON.stringify(child.exited)}); see ${path.relative(REPO, child.logFile)}: ${tail(child.logFile)}`);
    const ok = await new Promise((res) => {
      const s = net.connect({ host: HOST, port });
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms`);
}


/** Round-trip a set+get through the endpoint; throws unless the replies look right. */
async function probe(port, timeoutMs = 3000) {
  return new Promise((res, rej) => {
    const s = net.connect({ host: HOST, port });
    let got = '';
    const t = setTimeout(() => { s.destroy(); rej(new Error(`probe timeout, got ${JSON.stringify(got.slice(0, 100))}`)); }, timeoutMs);
    s.on('connect', () => s.write('set bench_probe 0 0 2\r\nok\r\nget bench_probe\r\n'));
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('END\r\n')) {
        clearTimeout(t); s.destroy();
        if (got.startsWith('STORED\r\nVALUE bench_probe 0 2\r\nok\r\nEND\r\n')) res();
        else rej(new Error(`unexpected probe reply ${JSON.stringify(got.slice(0, 100))}`));
      }
    });
    s.on('error', (e) => { clearTimeout(t); rej(e); });
  });
}

// ---------------------------------------------------------------- targets
async function startMemcached(tag) {
  const port = await freePort();
  const c = launch(`memcached-${tag}`, 'taskset', ['-c', '0', 'memcached', '-u', 'root', '-l', HOST, '-p', String(port), '-t', '1', '-U', '0', '-m', '1024', '-c', '4096']);
  await waitPort(port, c);
  return { child: c, port };
}

let mcrelayHelp = null;
function mcrelayFlags() {
  if (mcrelayHelp === null) mcrelayHelp = sh('node', [path.join(REPO, 'dist', 'cli.js'), '--help']) || '';
  return mcrelayHelp;
}

async function startTarget(target, sc, opts) {
  const procs = [];
  const note = [];
  try {
    if (target === 'memcached') {
      const m = await startMemcached('direct');
      procs.push(m.child);
      if (sc.servers > 1) note.push(`single memcached (scenario models a ${sc.servers}-server pool)`);
      return { port: m.port, proxy: m.child, backends: [], procs, note };
    }
    const backends = [];
    for (let i = 0; i < sc.servers; i++) backends.push(await startMemcached(`b${i}`));
    procs.push(...backends.map((b) => b.child));
    const addrs = backends.map((b) => `${HOST}:${b.port}`);
    const port = await freePort();
    const conf = path.join(TMP, `${target}-${sc.name}.${target === 'nutcracker' ? 'yml' : 'json'}`);
    let child;
    if (target === 'floor') {
      child = launch(`floor-${sc.name}`, 'taskset', ['-c', '0', 'node', path.join(BENCH, 'floor-proxy.mjs'), '--port', String(port), '--upstream', addrs.join(',')]);
    } else if (target === 'nutcracker') {
      const servers = sc.tree3 ? addrs.slice(0, 2) : addrs;
      if (sc.tree3) note.push('normal ketama pool of the 2 "A" servers');
      fs.writeFileSync(conf, [
        'bench:',
        `  listen: ${HOST}:${port}`,
        '  hash: fnv1a_64',
        '  distribution: ketama',
        '  timeout: 1000',
        '  server_connections: 1',
        '  servers:',
        ...servers.map((a) => `    - ${a}:1`),
        '',
      ].join('\n'));
      const statsPort = await freePort();
      child = launch(`nutcracker-${sc.name}`, 'taskset', ['-c', '0', 'nutcracker', '-c', conf, '-s', String(statsPort), '-a', HOST]);
    } else {
      const cli = path.join(REPO, 'dist', 'cli.js');
      if (!fs.existsSync(cli)) throw new Error('dist/cli.js not found (mcrelay not built: run `npm run build`)');
      let cfg;
      if (sc.tree3) {
        cfg = {
          pools: { A: { servers: addrs.slice(0, 2) }, G: { servers: addrs.slice(2, 4) } },
          route: { type: 'PrefixSelectorRoute', policies: { 'x:': 'PoolRoute|A' }, wildcard: { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|G'] } },
        };
      } else {
        cfg = { pools: { A: { servers: addrs } }, route: 'PoolRoute|A' };
      }
      fs.writeFileSync(conf, JSON.stringify(cfg, null, 2));
      const args = [cli, '--config', `file:${conf}`, '-p', String(port), '--listen-addresses', HOST];
      if (sc.tree3) {
        if (/--admin-port/.test(mcrelayFlags())) { args.push('--admin-port', String(await freePort())); note.push('metrics on (--admin-port)'); }
        else note.push('no --admin-port flag in this build: metrics not enabled');
      }
      args.push(...opts.mcrelayArgs);
      if (opts.mcrelayArgs.length) note.push(`args: ${opts.mcrelayArgs.join(' ')}`);
      // Node flags as every launcher ships them (see src/cli.ts).
      child = launch(`mcrelay-${sc.name}`, 'taskset', ['-c', '0', 'node', '--initial-old-space-size=64', ...args]);
    }
    procs.push(child);
    await waitPort(port, child, target === 'mcrelay' ? 15000 : 10000);
    await probe(port);
    return { port, proxy: child, backends: backends.map((b) => b.child), procs, note };
  } catch (e) {
    for (const p of procs) await killChild(p);
    throw e;
  }
}

// ---------------------------------------------------------------- one run
async function runLoad(port, sc, opts, t) {
  const lg = sc.lg;
  const args = [
    '-c', '1', process.execPath, path.join(BENCH, 'loadgen.mjs'),
    '--port', String(port), '--conns', String(lg.conns), '--active', String(lg.active || lg.conns),
    '--pipeline', String(lg.pipeline), '--get-ratio', String(lg.getRatio), '--keys', String(lg.keys),
    '--value-size', String(lg.valueSize), '--mget', String(lg.mget), '--proto', lg.proto || 'text',
    '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--threads', String(opts.threads),
  ];
  if (lg.prefixMix) args.push('--prefix-mix', lg.prefixMix);
  const child = launch(`loadgen-${sc.name}`, 'taskset', args, { stdout: true });
  let out = '';
  let startTicks = null, endTicks = null, tStart = 0, tEnd = 0;
  const sample = () => ({
    proxy: procTicks(t.proxy.pid),
    backends: t.backends.reduce((a, b) => a + procTicks(b.pid), 0),
    loadgen: procTicks(child.pid),
    cpus: cpuStat(),
  });
  const hardMs = (opts.warmup + opts.duration + 120) * 1000;
  const killer = setTimeout(() => { log(`runner: loadgen over time, killing`); killChild(child); }, hardMs);
  await new Promise((res) => {
    child.stdout.on('data', (b) => {
      out += b.toString('utf8');
      let i;
      while ((i = out.indexOf('\n')) >= 0 && out[0] === '@') {
        const line = out.slice(0, i); out = out.slice(i + 1);
        if (line === '@start') { startTicks = sample(); tStart = Date.now(); }
        else if (line === '@end') { endTicks = sample(); tEnd = Date.now(); }
      }
    });
    child.on('exit', res);
    if (child.exited) res();
  });
  clearTimeout(killer);
  const line = out.trim().split('\n').pop();
  let r;
  try { r = JSON.parse(line); } catch { throw new Error(`loadgen failed (exit ${JSON.stringify(child.exited)}): ${tail(child.logFile)}`); }
  if (!startTicks || !endTicks) throw new Error('loadgen did not report its window');
  delete r.config;
  const cpu = {};
  for (const k of ['proxy', 'backends', 'loadgen']) cpu[k] = (endTicks[k] - startTicks[k]) / CLK_TCK;
  r.cpuSec = cpu;
  r.wallSec = (tEnd - tStart) / 1000;
  r.cpuPer100k = {
    proxy: r.ops ? (cpu.proxy / r.ops) * 1e5 : null,
    backends: r.ops && t.backends.length ? (cpu.backends / r.ops) * 1e5 : null,
  };
  r.util = { proxy: cpu.proxy / r.wallSec, backends: cpu.backends / r.wallSec, loadgen: cpu.loadgen / r.wallSec };
  // Whole-CPU view: busy/steal fraction of CPU 0 and CPU 1 over the window, and the
  // part of it not accounted for by our own processes ("foreign": other jobs on
  // the machine, kernel work such as loopback softirq charged to no process).
  const d = (c, k) => (endTicks.cpus[c]?.[k] ?? 0) - (startTicks.cpus[c]?.[k] ?? 0);
  r.cpus = {};
  for (const [c, own] of [['cpu0', cpu.proxy + cpu.backends], ['cpu1', cpu.loadgen]]) {
    const tot = d(c, 'total');
    if (!tot) continue;
    r.cpus[c] = { busy: d(c, 'busy') / tot, steal: d(c, 'steal') / tot, foreign: Math.max(0, d(c, 'busy') / tot - own / r.wallSec) };
  }
  if (t.proxy.exited) r.targetDied = true;
  return r;
}

/**
 * Other jobs share this 2-core machine. Before a run, wait (bounded) until both
 * cores have been mostly idle for 0.5 s, so a burst of someone else's work does
 * not land in the measurement. Returns { waitedSec, busy } (busy = max core busy
 * fraction of the last sample).
 */
async function waitQuiet(maxSec, threshold) {
  const t0 = Date.now();
  let busy = 1;
  while (true) {
    const a = cpuStat();
    await sleep(500);
    const b = cpuStat();
    busy = Math.max(...['cpu0', 'cpu1'].map((c) => {
      const tot = b[c].total - a[c].total;
      return tot ? (b[c].busy - a[c].busy) / tot : 0;
    }));
    if (busy <= threshold || Date.now() - t0 >= maxSec * 1000) break;
  }
  return { waitedSec: (Date.now() - t0) / 1000, busy };
}

// ---------------------------------------------------------------- stats
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
function summarize(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

function shuffle(a, rnd) {
  const x = [...a];
  for (let i = x.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [x[i], x[j]] = [x[j], x[i]]; }
  return x;
}
function mulberry(seed) { let s = seed >>> 0; return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }

// ---------------------------------------------------------------- machine
function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown';
  return {
    nproc: Number(sh('nproc', [])),
    cpuModel: model,
    node: process.version,
    memcached: sh('memcached', ['-V']),
    nutcracker: (sh('nutcracker', ['-V']) || '').split('\n')[0],
    kernel: os.release(),
    loadavgAtStart: os.loadavg(),
    clkTck: CLK_TCK,
  };
}

// ---------------------------------------------------------------- output
const fmtN = (x) => (x == null ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtS = (s) => (s == null ? '–' : s.n > 1 ? `${fmtN(s.median)} (${fmtN(s.min)}–${fmtN(s.max)})` : fmtN(s.median));

const pct = (s) => (s == null ? '–' : `${(s.median * 100).toFixed(0)}%`);

function markdown(res) {
  const L = [];
  L.push(`Command: \`${res.command}\``, '');
  L.push(`Date: ${res.date} · reps ${res.opts.reps} × ${res.opts.duration} s (warm-up ${res.opts.warmup} s) · loadgen threads ${res.opts.threads} · targets on CPU 0, loadgen on CPU 1 · before each run waited up to ${res.opts.quietWait} s for both cores < ${(res.opts.quietThreshold * 100).toFixed(0)}% busy`, '');
  const m = res.machine;
  L.push(`Machine: nproc ${m.nproc}, ${m.cpuModel}, kernel ${m.kernel}, node ${m.node}, ${m.memcached}, ${m.nutcracker}`, '');
  L.push('Values: median over reps (min–max). Latency in µs. CPU = utime+stime of the target process (and its children) from /proc/PID/stat, in CPU-seconds per 100k requests; "backends" is the backing memcached(s) of a proxy. Util = CPU-seconds per wall second. CPU0 / CPU1 busy = whole-core busy fraction from /proc/stat over the window; "not ours" = busy minus the util of our processes on that core (loopback softirq work not charged to a process, plus any other job on the machine).', '');
  L.push('| scenario | target | req/s | p50 µs | p99 µs | p99.9 µs | target CPU s/100k req | backends CPU s/100k | target CPU util | loadgen CPU util | CPU0 / CPU1 busy (not ours) | notes |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const sc of res.scenarios) {
    for (const t of sc.targets) {
      if (t.failed) { L.push(`| ${sc.name} | ${t.target} | ${t.error.startsWith('skipped') ? 'skipped' : 'failed'} | | | | | | | | | ${t.error.replace(/\|/g, '/').slice(0, 200)} |`); continue; }
      const s = t.summary;
      const notes = [...new Set(t.note)];
      if (s.foreignMax > 0.3) notes.push(`noisy: up to ${(s.foreignMax * 100).toFixed(0)}% of a core busy outside our processes`);
      if (s.stealMax > 0.02) notes.push(`hypervisor steal up to ${(s.stealMax * 100).toFixed(0)}%`);
      if (s.errors) notes.push(`${s.errors} error replies/socket errors`);
      if (sc.lg.mget > 1) notes.push(`${fmtS(s.keysPerSec)} keys/s`);
      L.push(`| ${sc.name} | ${t.target} | ${fmtS(s.opsPerSec)} | ${fmtS(s.p50)} | ${fmtS(s.p99)} | ${fmtS(s.p999)} | ${fmtS(s.cpuProxy)} | ${fmtS(s.cpuBackends)} | ${s.utilProxy ? (s.utilProxy.median * 100).toFixed(0) + '%' : '–'} | ${s.utilLoadgen ? (s.utilLoadgen.median * 100).toFixed(0) + '%' : '–'} | ${pct(s.cpu0Busy)} / ${pct(s.cpu1Busy)} (${pct(s.cpu0Foreign)} / ${pct(s.cpu1Foreign)}) | ${notes.join('; ')} |`);
    }
  }
  if (res.opts.targets.includes('nutcracker')) L.push('', ...pairedTable(res));
  L.push('', 'Scenarios:', '');
  for (const sc of res.scenarios) L.push(`- \`${sc.name}\`: ${sc.desc}`);
  return L.join('\n') + '\n';
}

function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }

function svg(res) {
  const colors = { memcached: '#4e79a7', nutcracker: '#f28e2b', mcrelay: '#59a14f', floor: '#bab0ac' };
  const targets = res.opts.targets;
  const cols = 4;
  const cw = 300, ch = 230, pad = 20, top = 60;
  const rows = Math.ceil(res.scenarios.length / cols);
  const W = cols * cw + pad * 2, H = top + rows * ch + 30;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${pad}" y="22" font-size="15" font-weight="bold">mcrelay bench: throughput (req/s, left bars) and p99 latency (µs, right bars), median of ${res.opts.reps} reps, whiskers min–max</text>`);
  targets.forEach((t, i) => {
    o.push(`<rect x="${pad + i * 120}" y="34" width="12" height="12" fill="${colors[t]}"/><text x="${pad + i * 120 + 16}" y="44">${t}</text>`);
  });
  o.push(`<text x="${pad + targets.length * 120 + 10}" y="44" fill="#555">${esc(res.machine.cpuModel)}, ${res.machine.nproc} CPUs, ${esc(res.machine.node)}</text>`);
  res.scenarios.forEach((sc, idx) => {
    const cx = pad + (idx % cols) * cw, cy = top + Math.floor(idx / cols) * ch;
    o.push(`<g transform="translate(${cx},${cy})">`);
    o.push(`<rect x="2" y="2" width="${cw - 8}" height="${ch - 8}" fill="#fafafa" stroke="#ddd"/>`);
    o.push(`<text x="10" y="20" font-weight="bold">${esc(sc.name)}</text>`);
    const panels = [
      { key: 'opsPerSec', label: 'req/s', x0: 14 },
      { key: 'p99', label: 'p99 µs', x0: cw / 2 + 4 },
    ];
    const ph = 140, py = 40;
    for (const p of panels) {
      const vals = sc.targets.map((t) => (t.summary ? t.summary[p.key] : null));
      const max = Math.max(1, ...vals.map((v) => (v ? v.max : 0)));
      const bw = Math.min(34, (cw / 2 - 30) / Math.max(1, targets.length) - 6);
      o.push(`<text x="${p.x0}" y="${py - 6}" fill="#333">${p.label}</text>`);
      o.push(`<line x1="${p.x0}" y1="${py + ph}" x2="${p.x0 + cw / 2 - 26}" y2="${py + ph}" stroke="#999"/>`);
      sc.targets.forEach((t, i) => {
        const x = p.x0 + 4 + i * (bw + 8);
        const v = vals[i];
        if (!v) {
          o.push(`<text x="${x + bw / 2}" y="${py + ph - 4}" text-anchor="middle" fill="#c00" font-size="9">${t.failed ? 'failed' : 'n/a'}</text>`);
          return;
        }
        const h = (v.median / max) * ph;
        o.push(`<rect x="${x}" y="${(py + ph - h).toFixed(1)}" width="${bw}" height="${h.toFixed(1)}" fill="${colors[t.target]}"><title>${t.target}: ${fmtS(v)}</title></rect>`);
        if (v.n > 1) {
          const yl = py + ph - (v.min / max) * ph, yh = py + ph - (v.max / max) * ph, xm = x + bw / 2;
          o.push(`<line x1="${xm}" y1="${yl.toFixed(1)}" x2="${xm}" y2="${yh.toFixed(1)}" stroke="#222"/>`);
        }
        const lbl = v.median >= 10000 ? `${(v.median / 1000).toFixed(0)}k` : fmtN(v.median);
        o.push(`<text x="${x + bw / 2}" y="${py + ph + 12}" text-anchor="middle" font-size="9">${lbl}</text>`);
      });
    }
    o.push('</g>');
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(TMP, { recursive: true });
  fs.writeFileSync(PIDFILE, '');
  const rnd = mulberry(opts.seed);
  const res = {
    command: `bash bench/run.sh ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: machine(),
    opts: { quick: opts.quick, targets: opts.targets, mcrelayArgs: opts.mcrelayArgs, reps: opts.reps, duration: opts.duration, warmup: opts.warmup, threads: opts.threads, seed: opts.seed, quietWait: opts.quietWait, quietThreshold: opts.quietThreshold },
    scenarios: [],
  };
  const total = opts.scenarioList.length * opts.reps * opts.targets.length;
  log(`runner: ${opts.scenarioList.length} scenarios x ${opts.reps} reps x ${opts.targets.length} targets = ${total} runs of ~${opts.duration + opts.warmup + 2} s`);
  let n = 0;
  for (const sc of opts.scenarioList) {
    const entry = { name: sc.name, desc: sc.desc, lg: sc.lg, targets: opts.targets.map((t) => ({ target: t, runs: [], note: [], failed: false, error: null })) };
    res.scenarios.push(entry);
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const target of shuffle(opts.targets, rnd)) {
        n++;
        const te = entry.targets.find((x) => x.target === target);
        if (sc.skip && sc.skip.includes(target)) { te.note.push('skipped: not supported'); continue; }
        if (target === 'floor' && (sc.tree3 || sc.lg.proto === 'meta')) { if (rep === 1) te.note.push('skipped: the floor proxy has no routes and no meta protocol'); continue; }
        if (te.failed && te.runs.length === 0 && te.startFailures >= 1) continue; // do not retry a target that never started
        let t = null;
        try {
          const q = opts.quietWait > 0 ? await waitQuiet(opts.quietWait, opts.quietThreshold) : null;
          t = await startTarget(target, sc, opts);
          te.note.push(...t.note);
          const r = await runLoad(t.port, sc, opts, t);
          r.rep = rep;
          if (q) r.quietBefore = q;
          te.runs.push(r);
          log(`[${n}/${total}] ${sc.name} rep ${rep} ${target}: ${fmtN(r.opsPerSec)} req/s p50 ${r.latencyUs.p50} p99 ${r.latencyUs.p99} p99.9 ${r.latencyUs.p999} µs, target CPU ${fmtN(r.cpuPer100k.proxy)} s/100k, util target ${(r.util.proxy * 100).toFixed(0)}% loadgen ${(r.util.loadgen * 100).toFixed(0)}%, CPU0/1 busy ${((r.cpus.cpu0?.busy ?? 0) * 100).toFixed(0)}/${((r.cpus.cpu1?.busy ?? 0) * 100).toFixed(0)}%${r.serverErrors + r.errors ? `, ${r.serverErrors + r.errors} errors` : ''}`);
        } catch (e) {
          te.failed = te.runs.length === 0;
          te.startFailures = (te.startFailures || 0) + 1;
          te.error = String(e.message || e);
          log(`[${n}/${total}] ${sc.name} rep ${rep} ${target}: FAILED: ${te.error}`);
        } finally {
          if (t) for (const p of t.procs) await killChild(p);
        }
      }
    }
    for (const te of entry.targets) {
      if (!te.runs.length) { if (!te.error && te.note.length) te.error = te.note[0]; if (te.error) te.failed = true; te.summary = null; continue; }
      te.failed = false;
      const R = te.runs;
      te.summary = {
        opsPerSec: summarize(R.map((r) => r.opsPerSec)),
        keysPerSec: summarize(R.map((r) => r.keysPerSec)),
        p50: summarize(R.map((r) => r.latencyUs.p50)),
        p99: summarize(R.map((r) => r.latencyUs.p99)),
        p999: summarize(R.map((r) => r.latencyUs.p999)),
        cpuProxy: summarize(R.map((r) => r.cpuPer100k.proxy)),
        cpuBackends: summarize(R.map((r) => r.cpuPer100k.backends)),
        utilProxy: summarize(R.map((r) => r.util.proxy)),
        utilLoadgen: summarize(R.map((r) => r.util.loadgen)),
        cpu0Busy: summarize(R.map((r) => r.cpus?.cpu0?.busy)),
        cpu1Busy: summarize(R.map((r) => r.cpus?.cpu1?.busy)),
        cpu0Foreign: summarize(R.map((r) => r.cpus?.cpu0?.foreign)),
        cpu1Foreign: summarize(R.map((r) => r.cpus?.cpu1?.foreign)),
        foreignMax: Math.max(0, ...R.map((r) => Math.max(r.cpus?.cpu0?.foreign ?? 0, r.cpus?.cpu1?.foreign ?? 0))),
        stealMax: Math.max(0, ...R.map((r) => Math.max(r.cpus?.cpu0?.steal ?? 0, r.cpus?.cpu1?.steal ?? 0))),
        errors: R.reduce((a, r) => a + r.errors + r.serverErrors + r.protoErrors, 0),
        misses: R.reduce((a, r) => a + r.misses, 0),
      };
      te.note = [...new Set(te.note)];
    }
  }
  for (const sc of res.scenarios) for (const t of sc.targets) for (const r of t.runs) delete r.lastError;
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(res, null, 1) + '\n');
  const md = markdown(res);
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), md);
  fs.writeFileSync(path.join(RESULTS, 'latest.svg'), svg(res));
  process.stdout.write('\n' + md);
  log(`runner: wrote ${path.relative(REPO, RESULTS)}/latest.{json,md,svg}`);
}

main().then(() => { killAllSync(); process.exit(0); }, (e) => { log(`runner: ${e.stack || e}`); killAllSync(); process.exit(1); });
