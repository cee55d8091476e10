/**
 * Where writes land, for RoutingGroupRoute, MissFailoverRoute, ModifyExptimeRoute, FailoverRoute over a
 * FaultInjectionRoute, RateLimitRoute, LatencyInjectionRoute and ModifyKeyRoute side by side in one relay
 * over two real memcached backends, each key read back directly from each backend.
 */
import { describe, expect, it } from 'vitest';
import { cmd, set, useRouteBackends } from './helpers/route-backends.js';
import type { MemcachedServer } from './helpers/real-memcached.js';

const { servers: memcacheds, relay, client, directGet, directTtl } = useRouteBackends();

describe('the other routes, one relay, two memcached backends A and B', () => {
  it('lands each write where the route says', async () => {
    const [a, b] = await memcacheds(2) as [MemcachedServer, MemcachedServer];
    const r = await relay({
      pools: { A: { servers: [a.address] }, B: { servers: [b.address] } },
      route: {
        type: 'PrefixSelectorRoute',
        policies: {
          'rg:': { type: 'RoutingGroupRoute', routing_group_policies: { update_like: 'PoolRoute|B' }, default_policy: 'PoolRoute|A' },
          'mf:': { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
          'me:': { type: 'ModifyExptimeRoute', target: 'PoolRoute|B', exptime: 50, action: 'min' },
          'fo:': { type: 'FailoverRoute', children: [{ type: 'FaultInjectionRoute', target: 'PoolRoute|A', down: true }, 'PoolRoute|B'] },
          'rl:': { type: 'RateLimitRoute', target: 'PoolRoute|A', fallback: 'PoolRoute|B', rates: { sets_rate: 0, sets_burst: 2 } },
          'li:': { type: 'LatencyInjectionRoute', child: 'PoolRoute|A', before_latency_ms: 150 },
          'mk:': { type: 'ModifyKeyRoute', target: 'PoolRoute|B', set_key_suffix: ':b' },
        },
        wildcard: 'PoolRoute|A',
      },
    });
    const c = await client(r.port);
    // RoutingGroupRoute: updates to B, gets from A.
    expect(await set(c, 'rg:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'rg:1'), await directGet(b, 'rg:1')]).toEqual([null, 'v']);
    expect(await cmd(c, 'get rg:1')).toBe('END\r\n');
    // MissFailoverRoute: a miss on A is followed by a hit on B.
    expect(await set(await client(b.port), 'mf:1', 'fromB')).toBe('STORED\r\n');
    expect(await cmd(c, 'get mf:1')).toBe('VALUE mf:1 0 5\r\nfromB\r\nEND\r\n');
    // ModifyExptimeRoute min: 0 and 3600 become 50, 10 stays.
    expect(await set(c, 'me:0', 'v', 0)).toBe('STORED\r\n');
    expect(await set(c, 'me:10', 'v', 10)).toBe('STORED\r\n');
    expect(await directTtl(b, 'me:0')).toBeGreaterThan(40);
    expect(await directTtl(b, 'me:0')).toBeLessThanOrEqual(50);
    expect(await directTtl(b, 'me:10')).toBeLessThanOrEqual(10);
    // FailoverRoute over a FaultInjectionRoute that is down: writes land in B only.
    expect(await set(c, 'fo:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'fo:1'), await directGet(b, 'fo:1')]).toEqual([null, 'v']);
    // RateLimitRoute: the first two sets go to A, the rest to the fallback B.
    for (let i = 0; i < 4; i++) expect(await set(c, `rl:${i}`, 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'rl:0'), await directGet(a, 'rl:1'), await directGet(b, 'rl:2'), await directGet(b, 'rl:3')]).toEqual(['v', 'v', 'v', 'v']);
    // LatencyInjectionRoute: the reply takes at least before_latency_ms.
    const t0 = Date.now();
    expect(await set(c, 'li:1', 'v')).toBe('STORED\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await directGet(a, 'li:1')).toBe('v');
    // ModifyKeyRoute: the key gets its suffix on B.
    expect(await set(c, 'mk:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(b, 'mk:1'), await directGet(b, 'mk:1:b')]).toEqual([null, 'v']);
  });
});
