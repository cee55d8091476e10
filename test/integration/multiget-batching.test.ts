/**
 * A client multi-get must stay one upstream request per destination through every route that reads
 * (issue 3: "Routes must not turn one client multi-get into one upstream request per key").
 *
 * Each case builds a tree over mock backends (the built-in in-memory memcached), stores 40 keys, then
 * sends one `get` with all 40 keys and counts the get lines each backend received for it: at most one per
 * backend per read phase (L1L2 and failover routes read a second tier only for the misses of the first,
 * which is again one line per backend). A last case sends one 100-key get through PrefixSelectorRoute →
 * FailoverRoute → PoolRoute: one get line reaches each server of the pool, none the failover pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { cmd, useRouteBackends } from './helpers/route-backends.js';

const KEYS = Array.from({ length: 40 }, (_, i) => `mk:${i}`);
let mocks: MockMemcached[] = [];

beforeAll(async () => {
  mocks = await Promise.all([0, 1, 2, 3].map(() => startMock({ builtin: true })));
});

afterAll(async () => {
  await Promise.all(mocks.map((m) => m.close()));
});

function addr(i: number): string {
  return (mocks[i] as MockMemcached).address;
}

interface Case {
  name: string;
  route: unknown;
  args?: string[];
  /** Max get lines any one backend may receive for the one client multi-get. */
  maxPerBackend: number;
}

function cases(): Case[] {
  const pools = {
    A: { servers: [addr(0), addr(1)] },
    B: { servers: [addr(2), addr(3)] },
  };
  const mk = (name: string, route: unknown, maxPerBackend = 1, args: string[] = []): Case => ({ name, route: { pools, route }, maxPerBackend, args });
  return [
    mk('PoolRoute', 'PoolRoute|A'),
    mk('PrefixSelectorRoute', { type: 'PrefixSelectorRoute', policies: { 'mk:': 'PoolRoute|A' }, wildcard: 'PoolRoute|B' }),
    mk('OperationSelectorRoute', { type: 'OperationSelectorRoute', default_policy: 'PoolRoute|B', operation_policies: { get: 'PoolRoute|A' } }),
    mk('FailoverRoute', { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] }),
    mk('MissFailoverRoute (second tier only for misses)', { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] }),
    mk('AllSyncRoute', { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B'] }),
    mk('AllFastestRoute', { type: 'AllFastestRoute', children: ['PoolRoute|A', 'PoolRoute|B'] }),
    mk('BalancedReplicaRoute', { type: 'BalancedReplicaRoute', children: 'Pool|A' }),
    mk('LatestRoute', { type: 'LatestRoute', children: 'Pool|A' }),
    mk('AzAffinityRoute', { type: 'AzAffinityRoute', local_zone: 'a', zones: { a: 'PoolRoute|A', b: 'PoolRoute|B' } }),
    mk('L1L2CacheRoute', { type: 'L1L2CacheRoute', l1: 'PoolRoute|A', l2: 'PoolRoute|B', upgradingL1Exptime: 10 }),
    mk('ShadowRoute', { type: 'PoolRoute', pool: 'A', shadows: [{ target: 'PoolRoute|B', index_range: [0, 2], key_fraction_range: [0, 1] }] }),
    mk('ModifyExptimeRoute', { type: 'ModifyExptimeRoute', target: 'PoolRoute|A', exptime: 5 }),
    mk('KeySplitRoute', { type: 'KeySplitRoute', destination: 'PoolRoute|A', replicas: 3, all_sync: true }),
  ];
}

/** Get lines each backend received since `from` (per-backend request counts). */
function getLines(from: number[]): string[][] {
  return mocks.map((m, i) => m.requests.slice(from[i]).map((r) => r.line).filter((l) => l.startsWith('get ')));
}

describe('client multi-gets stay one upstream get line per backend', () => {
  it('holds for every reading route', async () => {
    for (const c of cases()) {
      let relay: RelayProcess | null = null;
      try {
        relay = await startRelay({ config: c.route as object, args: c.args ?? [] });
        const client = await connect(relay.port);
        // Store half of the keys so both hits and misses flow through every tier.
        const sets = KEYS.filter((_, i) => i % 2 === 0).map((k) => `set ${k} 0 0 1\r\nv\r\n`).join('');
        await client.roundTrip(sets);
        await new Promise((r) => setTimeout(r, 50)); // let background copies (shadows, refills) land
        const before = mocks.map((m) => m.requests.length);
        const reply = (await client.roundTrip(`get ${KEYS.join(' ')}\r\n`)).toString();
        client.destroy();
        expect(reply.endsWith('END\r\n'), `${c.name}: ${reply.slice(0, 200)}`).toBe(true);
        expect(reply.split('VALUE ').length - 1, `${c.name}: hits`).toBe(KEYS.length / 2);
        await new Promise((r) => setTimeout(r, 50));
        const lines = getLines(before);
        const worst = Math.max(...lines.map((l) => l.length));
        const totalKeys = lines.flat().reduce((n, l) => n + l.split(' ').length - 1, 0);
        expect(worst, `${c.name}: get lines per backend ${JSON.stringify(lines.map((l) => l.length))}`).toBeLessThanOrEqual(c.maxPerBackend);
        // Never one line per key: the lines carry many keys each.
        expect(totalKeys / Math.max(1, lines.flat().length), `${c.name}: keys per get line`).toBeGreaterThan(4);
      } finally {
        await relay?.close();
      }
    }
  }, 120_000);
});

describe('multi-get batching through PrefixSelectorRoute → FailoverRoute → PoolRoute', () => {
  const { cleanups, relay, client } = useRouteBackends();

  it('a 100-key get reaches each backend as ONE get line', async () => {
    const mocks: MockMemcached[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await startMock({ builtin: true });
      cleanups.push(() => m.close());
      mocks.push(m);
    }
    const [p1, p2, g] = mocks as [MockMemcached, MockMemcached, MockMemcached];
    const r = await relay({
      pools: { P: { servers: [p1.address, p2.address] }, G: { servers: [g.address] } },
      route: { type: 'PrefixSelectorRoute', policies: { 'b:': { type: 'FailoverRoute', children: ['PoolRoute|P', 'PoolRoute|G'] } }, wildcard: 'PoolRoute|G' },
    });
    const c = await client(r.port);
    const keys = Array.from({ length: 100 }, (_, i) => `b:${i}`);
    const reply = await cmd(c, `get ${keys.join(' ')}`);
    expect(reply).toBe('END\r\n');
    const getLines = (m: MockMemcached): string[] => m.requests.map((q) => q.line).filter((l) => l.startsWith('get '));
    const l1 = getLines(p1);
    const l2 = getLines(p2);
    expect(l1.length).toBe(1);
    expect(l2.length).toBe(1);
    expect(getLines(g)).toEqual([]);
    const got = [...(l1[0] ?? '').split(' ').slice(1), ...(l2[0] ?? '').split(' ').slice(1)].sort();
    expect(got).toEqual([...keys].sort());
  });
});
