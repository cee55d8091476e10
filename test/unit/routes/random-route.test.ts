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
import { RandomRoute, randomRouteFactory } from '../../../src/routes/random-route.js';
import { FakeRoute, makeRequest, routeSync } from './helpers/fake-route.js';

describe('RandomRoute', () => {
  test('uses the random draw to pick one child', () => {
    const kids = [new FakeRoute('a'), new FakeRoute('b'), new FakeRoute('c')];
    const draws = [0, 0.34, 0.99, 0.999999];
    const r = new RandomRoute(kids, () => draws.shift() ?? 0);
    for (let i = 0; i < 4; i++) routeSync(r, makeRequest('get', `k${i}`));
    expect(kids.map((k) => k.keys)).toEqual([['k0'], ['k1'], ['k2', 'k3']]);
  });

  test('Math.random spreads roughly uniformly', () => {
    const kids = [new FakeRoute('a'), new FakeRoute('b'), new FakeRoute('c'), new FakeRoute('d')];
    const r = new RandomRoute(kids);
    for (let i = 0; i < 8000; i++) routeSync(r, makeRequest('get', 'k'));
    for (const k of kids) expect(Math.abs(k.seen.length - 2000)).toBeLessThan(300);
  });

  test('factory', () => {
    expect(buildWith([randomRouteFactory], { type: 'RandomRoute', children: ['NullRoute', 'NullRoute'] })).toBeInstanceOf(RandomRoute);
    expect(buildWith([randomRouteFactory], 'RandomRoute|NullRoute').type).toBe('NullRoute');
  });
});
