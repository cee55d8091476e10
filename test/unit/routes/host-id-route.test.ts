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
import { HostIdRoute, hostIdIndex, hostIdRouteFactory } from '../../../src/routes/host-id-route.js';
import { makeRequest, traverseDestinations } from './helpers/fake-route.js';

const SERVERS = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

describe('HostIdRoute', () => {
  test('hostId % n without salt (mcrouter-compatible)', () => {
    for (const h of [0, 1, 2, 3, 100, 0xffffffff]) {
      const r = buildWith([hostIdRouteFactory], { type: 'HostIdRoute', children: 'Pool|A' }, { A: { servers: SERVERS } }, { hostId: h });
      expect(r).toBeInstanceOf(HostIdRoute);
      expect(traverseDestinations(r, makeRequest('get', 'any'))).toEqual([SERVERS[h % 3]]);
    }
  });

  test('salt: stable, and it reshuffles hosts', () => {
    expect(hostIdIndex(5, 3, 'a')).toBe(hostIdIndex(5, 3, 'a'));
    const moved = Array.from({ length: 60 }, (_, h) => hostIdIndex(h, 3, 'a') !== h % 3).filter(Boolean).length;
    expect(moved).toBeGreaterThan(15);
  });
});
