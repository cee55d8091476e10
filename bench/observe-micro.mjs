#!/usr/bin/env node
// What observing one request costs, in isolation: the per-request calls a get hit makes into observability
// (the session's Observability.onKeyReply, the destination's DestinationStats.onReply, ProxyStats.recordReply
// with its per-op histogram), in a loop over keys made the way the parser makes them (views of one read
// buffer). A micro-benchmark for comparing implementations; what observability costs a running relay is
// bench/observability-cost.mjs's to say.
//
//   npm run build && node bench/observe-micro.mjs [all|session|dest|stats] ['{"prefixStats":false}'] [--mix]
//
// The JSON argument overrides proxy options (e.g. {"hotKeys":false}); --mix gives half the keys (at random) a
// second prefix (`user:bench:…`), as observability-cost's load does. Prints ns per request; with `session`, also
// PrefixStats.rowForRange and recordRange alone and the bare loop.
import pino from 'pino';
import { Observability, observabilityOptions } from '../dist/observe/observer.js';
import { DEFAULT_OPTIONS } from '../dist/options.js';
import { ProxyStats } from '../dist/router/router-stats.js';
import { ALL_RESULTS, Reply, Request } from '../dist/protocol/types.js';
import { view } from '../dist/protocol/bytes.js';

const args = process.argv.slice(2);
const mix = args.includes('--mix');
const rest = args.filter((a) => a !== '--mix');
const mode = rest[0] ?? 'all';
const over = JSON.parse(rest[1] ?? '{}');

const obs = new Observability(pino({ level: 'silent' }), observabilityOptions({ ...DEFAULT_OPTIONS, ...over }));
const dest = { address: '127.0.0.1:1', closed: false, results: new Float64Array(ALL_RESULTS.length), queueTimeouts: 0, observer: null };
obs.attach(dest, 'A');
const destStats = dest.observer;
const stats = new ProxyStats();
stats.histograms = over.latencyHistograms !== false;

const N = 4096;
const chunk = Buffer.alloc(N * 24 + 64);
const reqs = [];
for (let i = 0; i < N; i++) {
  const second = mix && ((Math.imul(i, 2654435761) >>> 16) & 1) === 0;
  const key = `${second ? 'user:' : ''}bench:${String((i * 7919) % 10000).padStart(10, '0')}`;
  chunk.write(key, i * 24, 'latin1');
  reqs.push(new Request('get', view(chunk, i * 24, i * 24 + key.length), Buffer.from('get '), Buffer.alloc(0), null, false, 0));
}
const reply = new Reply('found', Buffer.alloc(120));

const doSession = mode === 'all' || mode === 'session';
const doDest = mode === 'all' || mode === 'dest';
const doStats = mode === 'all' || mode === 'stats';
function run(iters) {
  for (let it = 0; it < iters; it++) {
    const req = reqs[it & (N - 1)];
    const ms = 0.3 + (it & 7) * 0.01;
    if (doSession) obs.onKeyReply(req, reply, ms);
    if (doDest && destStats !== null) destStats.onReply(req, 'found', ms);
    if (doStats) stats.recordReply(req, reply, ms);
  }
}
function time(name, f) {
  f(2e6);
  const t = process.hrtime.bigint();
  f(2e7);
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t) / 2e7).toFixed(1)} ns per request`);
}
time(mode, run);
const ps = obs.prefixStats;
if (mode === 'session' && ps !== null) {
  time('rowForRange', (k) => { let x = 0; for (let it = 0; it < k; it++) { const key = reqs[it & (N - 1)].key; x += ps.rowForRange(key, 0, key.length).requests; } return x; });
  time('recordRange', (k) => { for (let it = 0; it < k; it++) { const key = reqs[it & (N - 1)].key; ps.recordRange(key, 0, key.length, true, false, 0, 120); } });
  time('bare loop', (k) => { let x = 0; for (let it = 0; it < k; it++) x += reqs[it & (N - 1)].key[0]; return x; });
}
obs.close();
