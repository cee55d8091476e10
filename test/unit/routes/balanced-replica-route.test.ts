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
import { BalancedReplicaRoute, balancedReplicaRouteFactory } from '../../../src/routes/balanced-replica-route.js';
import { latestPicks } from '../../../src/routes/latest-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

const SERVERS = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];
const build = (extra: Record<string, unknown> = {}) =>
  buildWith([balancedReplicaRouteFactory], { type: 'BalancedReplicaRoute', children: 'Pool|R', ...extra }, { R: { servers: SERVERS } });

describe('BalancedReplicaRoute', () => {
  test('reads spread evenly by key over replicas, regardless of the number of client hosts', () => {
    const r = build();
    const counts = [0, 0, 0];
    const N = 30000;
    for (let i = 0; i < N; i++) {
      const d = traverseDestinations(r, makeRequest('get', `user:${i}:profile`))[0];
      counts[SERVERS.indexOf(d ?? '')]! += 1;
    }
    for (const c of counts) expect(Math.abs(c - N / 3) / (N / 3)).toBeLessThan(0.05);
    // Contrast: LatestRoute with 2 client hosts pins all their reads onto at most 2 replicas.
    const latestFirst = new Set([latestPicks(1, 3, 5, '', null)[0], latestPicks(2, 3, 5, '', null)[0]]);
    expect(latestFirst.size).toBeLessThanOrEqual(2);
  });

  test('a key always reads from the same home replica', () => {
    const r = build();
    for (let i = 0; i < 50; i++) {
      const req = makeRequest('get', `k${i}`);
      expect(traverseDestinations(r, req)).toEqual(traverseDestinations(build(), req));
    }
  });

  test('reads fail over to the next replicas on errors, not on misses', () => {
    const a = new FakeRoute('a', 'timeout');
    const b = new FakeRoute('b', 'connect_error');
    const c = new FakeRoute('c', 'found');
    const sel = { n: 3, select: () => 0, selectRange: () => 0 };
    const ctx = makeTestContext();
    const reply = routeSync(new BalancedReplicaRoute([a, b, c], sel, 3, (_q, res) => res !== 'found' && res !== 'notfound'), makeRequest('get', 'k'), ctx);
    expect(reply.result).toBe('found');
    expect(reply.isFailover).toBe(true);
    expect([a.seen.length, b.seen.length, c.seen.length]).toEqual([1, 1, 1]);
    const miss = new BalancedReplicaRoute([new FakeRoute('m', 'notfound'), c], { n: 2, select: () => 0, selectRange: () => 0 }, 2, () => false);
    expect(routeSync(miss, makeRequest('get', 'k')).result).toBe('notfound');
    // failover_count limits the tries
    const limited = new BalancedReplicaRoute([new FakeRoute('x', 'timeout'), new FakeRoute('y', 'timeout'), c], sel, 2, (_q, res) => res === 'timeout');
    expect(routeSync(limited, makeRequest('get', 'k')).result).toBe('timeout');
  });

  test('writes and deletes go to every replica with the worst reply', () => {
    const kids = [new FakeRoute('a', 'stored'), new FakeRoute('b', 'notstored'), new FakeRoute('c', 'stored')];
    const r = new BalancedReplicaRoute(kids, { n: 3, select: () => 1, selectRange: () => 1 }, 3, () => true);
    expect(routeSync(r, makeRequest('set', 'k', 'v')).result).toBe('notstored');
    routeSync(r, makeRequest('delete', 'k'));
    routeSync(r, makeRequest('incr', 'k'));
    for (const k of kids) expect(k.seen.map((q) => q.op)).toEqual(['set', 'delete', 'incr']);
    expect(traverseDestinations(build(), makeRequest('set', 'k', 'v'))).toEqual(SERVERS);
  });
});
