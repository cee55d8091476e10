/**
 * Micro-benchmark for route trees: ns per routed get through trees built from real configs, with
 * destinations that answer synchronously (so this is the tree alone: selection, hashing, callbacks), and
 * the multi-get fast path's `directRange` lookup.
 *
 *   bash bench/micro/run.sh            (compiles bench/micro/*.ts into dist/bench and runs them)
 */
import pino from 'pino';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type DestinationProvider } from '../../src/config/builder.js';
import { Reply, Request } from '../../src/protocol/types.js';
import { RouteStats, type RouteContext, type RouteHandle } from '../../src/routes/route-handle.js';
import type { KeyBatch } from '../../src/upstream/connection.js';
import type { Destination, DestinationCallback } from '../../src/upstream/destination.js';
import type { BenchRow } from './hash-bench.js';

const HIT = new Reply('found', Buffer.from('VALUE k 0 1\r\nx\r\n'));

/** Answers every request at once with the same hit; offers sendBatch so the fast path applies. */
class InstantDestination implements Destination {
  sent = 0;
  constructor(readonly address: string) {}
  send(_req: Request, _timeoutMs: number, done: DestinationCallback): void {
    this.sent++;
    done(HIT);
  }
  sendBatch(_batch: KeyBatch): boolean {
    return true;
  }
  isTko(): boolean {
    return false;
  }
  state(): string {
    return 'up';
  }
}

function context(): RouteContext {
  const ctx: RouteContext = {
    shadow: false,
    get shadowContext(): RouteContext {
      return ctx;
    },
    spawn: () => true,
    stats: new RouteStats(),
    log: pino({ level: 'silent' }),
    hostId: 0,
  };
  return ctx;
}

function build(config: object): RouteHandle {
  const provider: DestinationProvider = {
    get: (server) => new InstantDestination(server.address),
  };
  return buildConfig(JSON.parse(JSON.stringify(config)), { options: DEFAULT_BUILD_OPTIONS, destinations: provider }).root;
}

const servers = (n: number, base: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.1:${base + i}`);

export function runRouteBench(iterations = 500_000): BenchRow[] {
  const keys = Array.from({ length: 4096 }, (_, i) => Buffer.from(`user:${(i * 7919) % 100000}:profile`));
  const reqs = keys.map((k) => Request.synthesize('get', k, 'get ', '', null, 0));
  const trees: Array<[string, object]> = [
    ['PoolRoute|A (Ch3, 4 servers)', { pools: { A: { servers: servers(4, 20000) } }, route: 'PoolRoute|A' }],
    ['PoolRoute|A (Ch3, 100 servers)', { pools: { A: { servers: servers(100, 21000) } }, route: 'PoolRoute|A' }],
    ['PoolRoute A (Ketama md5, 4 servers)', { pools: { A: { servers: servers(4, 20000) } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Ketama', key_hash: 'md5' } } }],
    [
      'tree3: PrefixSelector -> Failover -> PoolRoute',
      {
        pools: { A: { servers: servers(2, 20000) }, G: { servers: servers(2, 20100) } },
        route: { type: 'PrefixSelectorRoute', policies: { 'x:': 'PoolRoute|A' }, wildcard: { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|G'] } },
      },
    ],
    ['AllSyncRoute over 3 pools (replicated write path)', { pools: { A: { servers: servers(2, 20000) }, B: { servers: servers(2, 20100) }, C: { servers: servers(2, 20200) } }, route: { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] } }],
  ];
  const rows: BenchRow[] = [];
  const ctx = context();
  for (const [name, config] of trees) {
    const root = build(config);
    let answered = 0;
    const done = (r: Reply): void => {
      if (r === HIT) answered++;
    };
    for (let i = 0; i < 20_000; i++) root.route(reqs[i & 4095] as Request, ctx, done); // warm-up
    answered = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) root.route(reqs[i & 4095] as Request, ctx, done);
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    if (answered !== iterations) throw new Error(`route-bench: ${name}: ${answered} of ${iterations} answered with the hit`);
    rows.push({ name: `route(): ${name}`, nsPerOp: ns });
  }
  // The multi-get fast path's lookup for one key inside a get line (what ClientSession.multiGetKeys calls).
  const root = build(trees[0]![1]);
  const line = Buffer.from(`get ${keys.map((k) => k.toString('latin1')).join(' ')}\r\n`, 'latin1');
  const ranges: number[] = [];
  for (let p = 4, i = 0; i < keys.length; i++) {
    ranges.push(p, p + keys[i]!.length);
    p += keys[i]!.length + 1;
  }
  let found = 0;
  for (let i = 0; i < 20_000; i++) if (root.directRange?.(line, ranges[2 * (i & 4095)]!, ranges[2 * (i & 4095) + 1]!) != null) found++;
  found = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (root.directRange?.(line, ranges[2 * (i & 4095)]!, ranges[2 * (i & 4095) + 1]!) != null) found++;
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (found !== iterations) throw new Error('route-bench: directRange missed');
  rows.push({ name: 'directRange(): PoolRoute|A (Ch3, 4 servers), key in a get line', nsPerOp: ns });
  return rows;
}

const invokedDirectly = typeof process.argv[1] === 'string' && /route-bench\.[cm]?js$/.test(process.argv[1]);
if (invokedDirectly) {
  const iterations = Number(process.argv[2] ?? '500000');
  console.log(`node ${process.version}, ${iterations} gets per row, 4096 distinct keys, destinations answer synchronously`);
  for (const r of runRouteBench(iterations)) console.log(`${r.name.padEnd(66)} ${r.nsPerOp.toFixed(1).padStart(10)} ns/op`);
}
