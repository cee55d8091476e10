#!/usr/bin/env node
// What observability costs: requests/s and latency through mcrelay with every observability feature
// switched off by flags vs left at its default (on: latency histograms, per-destination instruments,
// per-prefix counters, sampled hot keys, debug sampling), plus the admin listener, against a real memcached
// on loopback. The load generator is bench/loadgen.mjs in its own process. One run measures every pipeline
// depth asked for (default 1 and 8); within a round each depth runs off and on back to back, the order
// swapped every round (off,on / on,off), so drift (thermal, other load) hits both sides alike.
//
// Usage: npm run build && node bench/observability-cost.mjs [--rounds 5] [--duration 5] [--conns 50] [--pipelines 1,8] [--simultaneous] [--only F | --without F]
//   [--node-flags "<node flags for both relays>"]
// Prints one JSON line per run, then per depth the median req/s of each side, the cost in % of the off
// median, the median of the per-round costs, and mcrelay's CPU time per request (all threads, from
// /proc/<pid>/task/*/schedstat over the load generator's measurement window); nothing leaves 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const rounds = Number(args.rounds ?? 5);
const duration = String(args.duration ?? 5);
const conns = String(args.conns ?? 50);
const pipelines = String(args.pipelines ?? args.pipeline ?? '1,8').split(',').map((s) => s.trim()).filter((s) => s !== '');
/** Extra node flags for both relays (--node-flags "--flag=v …"), to try V8 settings on both sides alike. */
const nodeFlags = String(args['node-flags'] ?? '').split(' ').filter((s) => s !== '');

/** Each observability feature and the flags that switch it off (all of them are on by default). */
const FEATURES = {
  histograms: ['--no-latency-histograms'],
  destination: ['--no-destination-stats'],
  prefix: ['--no-prefix-stats'],
  hotkeys: ['--no-hot-keys'],
  logsample: ['--log-sample-rate', '0'],
};
/** Every feature switched off. */
const OFF_FLAGS = Object.values(FEATURES).flat();

/**
 * The on side's flags. Default: everything at its default, plus the admin listener. --only F: every feature
 * off but F, or with F = admin the admin listener alone, to see what each one costs. --without F: the
 * defaults and the admin listener with F off, to see what F adds to everything else.
 */
async function onFlags() {
  const only = args.only;
  const without = args.without;
  if (without !== undefined) {
    if (!(without in FEATURES)) throw new Error(`--without: one of ${Object.keys(FEATURES).join(', ')}`);
    return [...FEATURES[without], '--admin-port', String(await freePort())];
  }
  if (only === undefined) return ['--admin-port', String(await freePort())];
  if (only === 'admin') return [...OFF_FLAGS, '--admin-port', String(await freePort())];
  if (!(only in FEATURES)) throw new Error(`--only: one of ${[...Object.keys(FEATURES), 'admin'].join(', ')}`);
  return Object.entries(FEATURES).filter(([name]) => name !== only).flatMap(([, flags]) => flags);
}

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
function start(cmd, argv) {
  const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}
async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.once('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`port ${port} did not open`);
}
function stop(c) {
  return new Promise((r) => { if (c.exitCode !== null) return r(); c.once('exit', () => r()); c.kill('SIGTERM'); setTimeout(() => c.kill('SIGKILL'), 3000).unref(); });
}

/** `node argv` as a child, pinned to `cpu` with taskset when given (the pid stays node's: taskset execs it). */
function startNode(argv, cpu) {
  return cpu === null ? start(process.execPath, argv) : start('taskset', ['-c', String(cpu), process.execPath, ...argv]);
}

async function runOnce(mode, pipeline, mcPort, pinned = false) {
  const port = await freePort();
  const config = JSON.stringify({ pools: { A: { servers: [`127.0.0.1:${mcPort}`] } }, route: 'PoolRoute|A' });
  const extra = mode === 'on' ? await onFlags() : OFF_FLAGS;
  // As every launcher starts it (the CLI's shebang, the Dockerfile, bench/run.sh): `node dist/cli.js` skips the shebang.
  const relay = startNode(['--initial-old-space-size=64', ...nodeFlags, path.join(ROOT, 'dist', 'cli.js'), '--config-str', config, '-p', String(port), '--listen-addresses', '127.0.0.1', ...extra], pinned ? 0 : null);
  await waitPort(port);
  const lg = startNode([path.join(ROOT, 'bench', 'loadgen.mjs'), '--port', String(port), '--conns', conns, '--pipeline', pipeline, '--duration', duration, '--warmup', '1', '--keys', '10000', '--prefix-mix', 'user:'], pinned ? 1 : null);
  let out = '';
  // mcrelay's CPU time over the measurement window (@start .. @end), all its threads.
  let cpuAtStart = null;
  let cpuNs = null;
  lg.stdout.on('data', (d) => {
    out += d;
    if (cpuAtStart === null && out.includes('@start\n')) cpuAtStart = cpuTimeNs(relay.pid);
    if (cpuNs === null && cpuAtStart !== null && out.includes('@end\n')) cpuNs = cpuTimeNs(relay.pid) - cpuAtStart;
  });
  await new Promise((r) => lg.once('exit', r));
  await stop(relay);
  const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!last) throw new Error(`loadgen printed no result for ${mode} pipeline ${pipeline}`);
  const r = JSON.parse(last);
  return { ...r, cpuUsPerRequest: cpuNs === null || !(r.opsPerSec > 0) ? null : cpuNs / 1000 / (r.opsPerSec * Number(duration)) };
}

/** CPU time (ns) of every thread of `pid` so far, from /proc/<pid>/task/<tid>/schedstat (null off Linux). */
function cpuTimeNs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns;
  } catch {
    return null;
  }
}

// --simultaneous: off and on run at the same time, each with its own memcached, both relays and memcacheds
// pinned to CPU 0 and both load generators to CPU 1, so both sides see the same machine at the same moment
// (on a VM whose speed drifts, back-to-back runs do not). The two relays share CPU 0: the cost shows as the
// CPU per request each one spends, and as the split of the throughput between them.
const simultaneous = 'simultaneous' in args;
const memcached = async (pin) => {
  const p = await freePort();
  const argv = ['-u', 'nobody', '-l', '127.0.0.1', '-p', String(p), '-U', '0', '-m', '256', '-t', '1'];
  const m = pin ? start('taskset', ['-c', '0', 'memcached', ...argv]) : start('memcached', argv);
  await waitPort(p);
  return { m, port: p };
};
const mcA = await memcached(simultaneous);
const mcB = simultaneous ? await memcached(true) : mcA;
/** results[pipeline][round] = { off, on } rows. */
const results = Object.fromEntries(pipelines.map((p) => [p, []]));
const rowOf = (r, mode, pipeline, i) => {
  const cpu = r.cpuUsPerRequest === null ? null : Math.round(r.cpuUsPerRequest * 1000) / 1000;
  return { pipeline: Number(pipeline), mode, round: i + 1, opsPerSec: Math.round(r.opsPerSec), p50us: r.latencyUs?.p50 ?? null, p99us: r.latencyUs?.p99 ?? null, cpuUsPerRequest: cpu };
};
for (let i = 0; i < rounds; i++) {
  for (const pipeline of pipelines) {
    const pair = {};
    if (simultaneous) {
      const [off, on] = await Promise.all([runOnce('off', pipeline, mcA.port, true), runOnce('on', pipeline, mcB.port, true)]);
      pair.off = rowOf(off, 'off', pipeline, i);
      pair.on = rowOf(on, 'on', pipeline, i);
      process.stdout.write(`${JSON.stringify(pair.off)}\n${JSON.stringify(pair.on)}\n`);
    } else {
      for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        pair[mode] = rowOf(await runOnce(mode, pipeline, mcA.port), mode, pipeline, i);
        process.stdout.write(`${JSON.stringify(pair[mode])}\n`);
      }
    }
    results[pipeline].push(pair);
  }
}
await stop(mcA.m);
if (mcB !== mcA) await stop(mcB.m);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2; };
process.stdout.write(`\nnode ${process.version}, conns=${conns} duration=${duration}s rounds=${rounds}${simultaneous ? ' (off and on simultaneously)' : ''}; off = ${OFF_FLAGS.join(' ')}; on = defaults + --admin-port\n`);
for (const pipeline of pipelines) {
  const pairs = results[pipeline];
  const off = median(pairs.map((p) => p.off.opsPerSec));
  const on = median(pairs.map((p) => p.on.opsPerSec));
  const perRound = pairs.map((p) => ((p.off.opsPerSec - p.on.opsPerSec) / p.off.opsPerSec) * 100);
  process.stdout.write(
    `pipeline ${pipeline}: off ${Math.round(off)} req/s, on ${Math.round(on)} req/s (medians) → cost ${(((off - on) / off) * 100).toFixed(1)} %;` +
      ` per-round costs ${perRound.map((c) => c.toFixed(1)).join(', ')} % (median ${median(perRound).toFixed(1)} %)\n`,
  );
  // CPU per request is steadier than req/s on a shared machine: it does not move with the load generator's share of the cores.
  if (pairs.every((p) => p.off.cpuUsPerRequest !== null && p.on.cpuUsPerRequest !== null)) {
    const cOff = median(pairs.map((p) => p.off.cpuUsPerRequest));
    const cOn = median(pairs.map((p) => p.on.cpuUsPerRequest));
    // Paired per round as well: on a VM whose speed drifts, neighbouring runs are what compare.
    const cpuRound = pairs.map((p) => ((p.on.cpuUsPerRequest - p.off.cpuUsPerRequest) / p.off.cpuUsPerRequest) * 100);
    process.stdout.write(
      `pipeline ${pipeline}: mcrelay CPU per request off ${cOff.toFixed(2)} µs, on ${cOn.toFixed(2)} µs (medians) → +${(((cOn - cOff) / cOff) * 100).toFixed(1)} %;` +
        ` per-round ${cpuRound.map((c) => c.toFixed(1)).join(', ')} % (median ${median(cpuRound).toFixed(1)} %)\n`,
    );
  }
}
