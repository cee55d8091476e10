#!/usr/bin/env node
// What TLS costs (issue 7): requests/s and mcrelay CPU per request through mcrelay, for four setups against a
// real memcached on loopback:
//
//   plain         app ──tcp──> mcrelay ──tcp──> memcached
//   client-tls    app ──TLS──> mcrelay ──tcp──> memcached            (--ssl-port, mutual TLS)
//   upstream-tls  app ──tcp──> mcrelay ──TLS──> memcached -Z         (host:port:ascii:ssl, client certificate)
//   both          app ──TLS──> mcrelay ──TLS──> memcached -Z
//
// The load generator is this same file in its own process (`--loadgen`): C connections, each keeping P `get`
// requests in flight (100-byte values, 1000 keys, all hits). mcrelay's CPU time is read from /proc/PID/stat
// over the measured window and divided by the requests answered in it. Runs alternate between setups so drift
// hits all alike. Certificates are made in a temp directory with openssl and removed afterwards.
//
// Usage: npm run build && node bench/tls-cost.mjs [--rounds 3] [--duration 5] [--conns 50] [--pipeline 8]
// Prints one JSON line per run and a summary table; nothing leaves 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const args = Object.fromEntries(argv.reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] !== undefined && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []));


// ---------------------------------------------------------------------------------------------- load generator

async function loadgen() {
  const port = Number(args.port);
  const conns = Number(args.conns ?? 50);
  const pipeline = Number(args.pipeline ?? 8);
  const warmupMs = Number(args.warmup ?? 1) * 1000;
  const durationMs = Number(args.duration ?? 5) * 1000;
  const keys = 1000;
  const tlsOpts = args.ca !== undefined
    ? { ca: fs.readFileSync(args.ca), cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key), servername: 'localhost' }
    : null;
  const open = () => new Promise((resolve, reject) => {
    const s = tlsOpts !== null ? tls.connect({ host: '127.0.0.1', port, ...tlsOpts }) : net.connect({ host: '127.0.0.1', port });
    s.once(tlsOpts !== null ? 'secureConnect' : 'connect', () => { s.setNoDelay(true); resolve(s); });
    s.once('error', reject);
  });
  // Preload the keys, 50 per write: memcached 1.6.18 with -Z can stall on one large pipelined burst (it leaves
  // decrypted bytes in its TLS buffer unread until more arrive; reproduced without mcrelay), see SECURITY.md.
  const pre = await open();
  const value = 'v'.repeat(100);
  let preTail = '';
  let stored = 0;
  let wakePre = null;
  pre.on('data', (d) => {
    const text = preTail + d.toString('latin1');
    stored += text.split('STORED\r\n').length - 1;
    preTail = text.slice(-7);
    wakePre?.();
  });
  for (let k = 0; k < keys; k += 50) {
    let batch = '';
    for (let j = k; j < Math.min(keys, k + 50); j++) batch += `set bench:${j} 0 0 100\r\n${value}\r\n`;
    const want = Math.min(keys, k + 50);
    pre.write(batch);
    while (stored < want) await new Promise((r) => { wakePre = r; });
  }
  pre.destroy();

  const started = Date.now();
  const windowStart = started + warmupMs;
  const windowEnd = windowStart + durationMs;
  let counted = 0;
  let errors = 0;
  let running = true;
  let next = 0;
  const request = () => Buffer.from(`get bench:${next++ % keys}\r\n`, 'latin1');
  const sockets = await Promise.all(Array.from({ length: conns }, open));
  for (const s of sockets) {
    let tail = '';
    s.on('data', (d) => {
      const text = tail + d.toString('latin1');
      const n = text.split('END\r\n').length - 1;
      errors += text.split('SERVER_ERROR').length - 1;
      tail = text.slice(-4);
      const now = Date.now();
      if (now >= windowStart && now < windowEnd) counted += n;
      if (!running) return;
      const out = [];
      for (let i = 0; i < n; i++) out.push(request());
      if (out.length > 0) s.write(Buffer.concat(out));
    });
    s.on('error', () => { errors++; });
    const first = [];
    for (let i = 0; i < pipeline; i++) first.push(request());
    s.write(Buffer.concat(first));
  }
  await new Promise((r) => setTimeout(r, windowEnd - Date.now()));
  running = false;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ requests: counted, seconds: durationMs / 1000, rps: counted / (durationMs / 1000), errors })}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------- orchestration

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function openssl(a, cwd) {
  const r = spawnSync('openssl', a, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${a.join(' ')}: ${r.stderr}`);
}

function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-tls-bench-'));
  const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  const issue = (name, san) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`);
    openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  };
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    server: issue('server', 'IP:127.0.0.1,DNS:localhost'),
    relay: issue('relay', 'URI:spiffe://bench/mcrelay,IP:127.0.0.1,DNS:localhost'),
    app: issue('app', 'URI:spiffe://bench/app'),
  };
}

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
function start(cmd, a) {
  const c = spawn(cmd, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}
function stop(c) {
  return new Promise((r) => { if (c.exitCode !== null) return r(); c.once('exit', () => r()); c.kill('SIGTERM'); setTimeout(() => c.kill('SIGKILL'), 3000).unref(); });
}
async function waitPort(port, useTls, certs) {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((r) => {
      const s = useTls
        ? tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.relay.cert), key: fs.readFileSync(certs.relay.key), servername: 'localhost' }, () => { s.destroy(); r(true); })
        : net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`port ${port} did not open`);
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

async function runOnce(setup, mc, certs, opts) {
  const clientTls = setup === 'client-tls' || setup === 'both';
  const upstreamTls = setup === 'upstream-tls' || setup === 'both';
  const plainPort = await freePort();
  const sslPort = await freePort();
  const server = upstreamTls ? `127.0.0.1:${mc.tls}:ascii:ssl` : `127.0.0.1:${mc.plain}`;
  const config = JSON.stringify({ pools: { A: { servers: [server] } }, route: 'PoolRoute|A' });
  const relayArgs = [path.join(ROOT, 'dist', 'cli.js'), '--config-str', config, '-p', String(plainPort), '--listen-addresses', '127.0.0.1', '--log-level', 'warn'];
  if (clientTls) relayArgs.push('--ssl-port', String(sslPort), '--server-pem-cert-path', certs.relay.cert, '--server-pem-key-path', certs.relay.key, '--server-pem-ca-path', certs.ca, '--ssl-require-peer-certs');
  if (upstreamTls) relayArgs.push('--pem-ca-path', certs.ca, '--pem-cert-path', certs.relay.cert, '--pem-key-path', certs.relay.key);
  const relay = start(process.execPath, relayArgs);
  await waitPort(plainPort, false, certs);
  const lgArgs = [fileURLToPath(import.meta.url), '--loadgen', '--port', String(clientTls ? sslPort : plainPort), '--conns', opts.conns, '--pipeline', opts.pipeline, '--duration', opts.duration, '--warmup', '1'];
  if (clientTls) lgArgs.push('--ca', certs.ca, '--cert', certs.app.cert, '--key', certs.app.key);
  const lg = start(process.execPath, lgArgs);
  let out = '';
  lg.stdout.on('data', (d) => { out += d; });
  // The measured window starts after the loadgen's preload and 1 s warmup; sample CPU around it.
  const exited = new Promise((r) => lg.once('exit', r));
  // Wait for the preload to finish (first requests arrive) before the warmup clock: approximate by 1 s + preload slack.
  await new Promise((r) => setTimeout(r, 1300));
  const cpu0 = cpuSeconds(relay.pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, Number(opts.duration) * 1000 - 300));
  const cpu1 = cpuSeconds(relay.pid);
  const t1 = Date.now();
  await exited;
  await stop(relay);
  const res = JSON.parse(out.trim().split('\n').pop());
  const cpuPerSec = (cpu1 - cpu0) / ((t1 - t0) / 1000);
  return { setup, rps: Math.round(res.rps), errors: res.errors, cpuCores: +cpuPerSec.toFixed(3), cpuUsPerReq: +((cpuPerSec / res.rps) * 1e6).toFixed(2) };
}

async function main() {
  const opts = { rounds: Number(args.rounds ?? 3), duration: String(args.duration ?? 5), conns: String(args.conns ?? 50), pipeline: String(args.pipeline ?? 8) };
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('run `npm run build` first');
  const certs = makeCerts();
  try {
    const mcPlainPort = await freePort();
    const mcTlsPort = await freePort();
    const common = ['-u', 'root', '-l', '127.0.0.1', '-U', '0', '-t', '4', '-m', '256'];
    const mcPlain = start('memcached', [...common, '-p', String(mcPlainPort)]);
    const mcTls = start('memcached', [...common, '-p', String(mcTlsPort), '-Z', '-o',
      `ssl_chain_cert=${certs.server.cert},ssl_key=${certs.server.key},ssl_ca_cert=${certs.ca},ssl_verify_mode=2`]);
    await waitPort(mcPlainPort, false, certs);
    await waitPort(mcTlsPort, true, certs);
    const mc = { plain: mcPlainPort, tls: mcTlsPort };
    const setups = ['plain', 'client-tls', 'upstream-tls', 'both'];
    const results = Object.fromEntries(setups.map((s) => [s, []]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const setup of setups) {
        const r = await runOnce(setup, mc, certs, opts);
        results[setup].push(r);
        process.stdout.write(`${JSON.stringify({ round, ...r })}\n`);
      }
    }
    await stop(mcPlain);
    await stop(mcTls);
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const base = median(results.plain.map((r) => r.rps));
    const baseCpu = median(results.plain.map((r) => r.cpuUsPerReq));
    process.stdout.write(`\nnode ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}; ${opts.conns} conns x pipeline ${opts.pipeline}, ${opts.duration}s x ${opts.rounds} rounds, 100-byte gets (medians)\n`);
    process.stdout.write('setup          req/s     vs plain   mcrelay CPU us/req   vs plain\n');
    for (const setup of setups) {
      const rps = median(results[setup].map((r) => r.rps));
      const cpu = median(results[setup].map((r) => r.cpuUsPerReq));
      process.stdout.write(`${setup.padEnd(13)} ${String(rps).padStart(7)}   ${((rps / base - 1) * 100).toFixed(1).padStart(6)}%   ${cpu.toFixed(2).padStart(18)}   ${((cpu / baseCpu - 1) * 100).toFixed(1).padStart(6)}%\n`);
    }
  } finally {
    fs.rmSync(certs.dir, { recursive: true, force: true });
  }
}

if (args.loadgen !== undefined) await loadgen();
else await main();
