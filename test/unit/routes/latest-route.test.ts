import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { inertDestinations } from '../../../src/config/validate.js';
import { ROUTE_FACTORIES, createRegistry } from '../../../src/routes/registry.js';
import type { BuildOptions, RouteFactory } from '../../../src/routes/route-factory.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';

/** Build a route tree with the registry plus `extra` factories (whether or not registry.ts lists them yet). */
function buildWith(extra: RouteFactory[], route: unknown, pools: Record<string, unknown> = {}, options: Partial<BuildOptions> = {}): RouteHandle {
  const registry = createRegistry([...ROUTE_FACTORIES.filter((f) => !extra.some((e) => e.type === f.type)), ...extra]);
  const cfg = JSON.parse(JSON.stringify({ pools, route })) as Record<string, unknown>;
  return buildConfig(cfg, { options: { ...DEFAULT_BUILD_OPTIONS, ...options }, destinations: inertDestinations(), registry }).root.defaultRoute;
}
import { LatestRoute, latestPicks, latestRouteFactory } from '../../../src/routes/latest-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

const SERVERS = Array.from({ length: 8 }, (_, i) => `127.0.0.1:${30000 + i}`);

describe('LatestRoute', () => {
  test('picks failover_count (default 5) distinct children, deterministic per host id', () => {
    for (const hostId of [0, 1, 42, 0xdeadbeef]) {
      const a = latestPicks(hostId, 8, 5, '', null);
      expect(a).toHaveLength(5);
      expect(new Set(a).size).toBe(5);
      expect(latestPicks(hostId, 8, 5, '', null)).toEqual(a);
    }
    // Golden vector: pins the choice across releases and machines (not bit-exact with mcrouter's folly hash).
    expect(latestPicks(12345, 8, 5, '', null)).toEqual([5, 6, 1, 7, 3]);
    expect(latestPicks(2, 16, 5, 'abc', null)).toEqual([3, 10, 12, 1, 0]);
    expect(latestPicks(7, 16, 5, '', null)).toEqual([4, 8, 3, 15, 12]);
    expect(latestPicks(1, 3, 5, '', null)).toHaveLength(3);
  });

  test('different hosts spread over the children; salt changes the picks', () => {
    const firsts = new Map<number, number>();
    for (let h = 0; h < 800; h++) {
      const f = latestPicks(h, 8, 5, '', null)[0] as number;
      firsts.set(f, (firsts.get(f) ?? 0) + 1);
    }
    expect(firsts.size).toBe(8);
    for (const n of firsts.values()) expect(n).toBeGreaterThan(50);
    const differ = Array.from({ length: 50 }, (_, h) => latestPicks(h, 8, 5, 'x', null)[0] !== latestPicks(h, 8, 5, '', null)[0]);
    expect(differ.filter(Boolean).length).toBeGreaterThan(20);
  });

  test('weight 0 children are never picked while others remain', () => {
    for (let h = 0; h < 100; h++) expect(latestPicks(h, 4, 2, '', [1, 0, 1, 0]).sort()).toEqual([0, 2]);
  });

  test('fails over through the picks on errors, not on misses; marks failover replies', () => {
    const kids = [new FakeRoute('a', 'timeout'), new FakeRoute('b', 'notfound'), new FakeRoute('c', 'found')];
    const route = new LatestRoute(kids, [0, 1, 2], (_r, res) => res === 'timeout');
    const ctx = makeTestContext();
    const reply = routeSync(route, makeRequest('get', 'k'), ctx);
    expect(reply.result).toBe('notfound');
    expect(reply.isFailover).toBe(true);
    expect(kids[2]?.seen).toHaveLength(0);
    expect(ctx.stats.failoverAll).toBe(1);
    const allBad = new LatestRoute([new FakeRoute('a', 'timeout'), new FakeRoute('b', 'connect_error')], [1, 0], () => true);
    expect(routeSync(allBad, makeRequest('get', 'k')).result).toBe('timeout');
  });

  test('factory: host id from build options, failover_errors list, traverse shows the first pick', () => {
    const pools = { A: { servers: SERVERS } };
    const r = buildWith([latestRouteFactory], { type: 'LatestRoute', children: 'Pool|A', failover_errors: ['timeout'] }, pools, { hostId: 7 }) as LatestRoute;
    expect(r).toBeInstanceOf(LatestRoute);
    expect(r.order).toEqual(latestPicks(7, 8, 5, '', null));
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual([SERVERS[r.order[0] as number]]);
    const r3 = buildWith([latestRouteFactory], { type: 'LatestRoute', children: 'Pool|A', failover_count: 3 }, pools, { hostId: 7 }) as LatestRoute;
    expect(r3.order).toHaveLength(3);
    expect(() => buildWith([latestRouteFactory], { type: 'LatestRoute', children: 'Pool|A', weights: [1] }, pools)).toThrow(/weights/);
  });
});
