#!/usr/bin/env node
// What observability costs (issue 6): requests/s and latency through mcrelay with every observability
// feature off vs on (admin listener + Prometheus metrics, --prefix-stats, --hot-keys), against a real
// memcached on loopback. The load generator is bench/loadgen.mjs in its own process; runs alternate
// off/on so drift (thermal, other load) hits both sides alike.
//
// Usage: npm run build && node bench/observability-cost.mjs [--rounds 3] [--duration 5] [--conns 50] [--pipeline 8]
// Prints one JSON line per run and a summary table; nothing leaves 127.0.0.1.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const rounds = Number(args.rounds ?? 3);
const duration = String(args.duration ?? 5);
const conns = String(args.conns ?? 50);
const pipeline = String(args.pipeline ?? 8);

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

async function runOnce(mode, mcPort) {
  const port = await freePort();
  const config = JSON.stringify({ pools: { A: { servers: [`127.0.0.1:${mcPort}`] } }, route: 'PoolRoute|A' });
  const extra = mode === 'on' ? ['--admin-port', String(await freePort()), '--prefix-stats', '--hot-keys'] : [];
  const relay = start(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--config-str', config, '-p', String(port), '--listen-addresses', '127.0.0.1', ...extra]);
  await waitPort(port);
  const lg = start(process.execPath, [path.join(ROOT, 'bench', 'loadgen.mjs'), '--port', String(port), '--conns', conns, '--pipeline', pipeline, '--duration', duration, '--warmup', '1', '--keys', '10000', '--prefix-mix', 'user:']);
  let out = '';
  lg.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => lg.once('exit', r));
  await stop(relay);
  const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!last) throw new Error(`loadgen printed no result for ${mode}`);
  return JSON.parse(last);
}

const mcPort = await freePort();
const mc = start('memcached', ['-u', 'nobody', '-l', '127.0.0.1', '-p', String(mcPort), '-U', '0', '-m', '256', '-t', '1']);
await waitPort(mcPort);
const results = { off: [], on: [] };
for (let i = 0; i < rounds; i++) {
  for (const mode of ['off', 'on']) {
    const r = await runOnce(mode, mcPort);
    const row = { mode, round: i + 1, opsPerSec: Math.round(r.opsPerSec), p50us: r.latencyUs?.p50 ?? null, p99us: r.latencyUs?.p99 ?? null };
    results[mode].push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
await stop(mc);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const off = median(results.off.map((r) => r.opsPerSec));
const on = median(results.on.map((r) => r.opsPerSec));
process.stdout.write(`\nnode ${process.version}, conns=${conns} pipeline=${pipeline} duration=${duration}s rounds=${rounds}\n`);
process.stdout.write(`observability off: ${off} req/s (median)\nobservability on:  ${on} req/s (median)  admin+metrics, --prefix-stats, --hot-keys\n`);
process.stdout.write(`cost: ${(((off - on) / off) * 100).toFixed(1)} %\n`);
