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

import { AllInitialRoute, allInitialRouteFactory } from '../../../src/routes/all-initial-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

describe('AllInitialRoute', () => {
  test('replies with children[0]; the rest are async background copies', () => {
    const first = new FakeRoute('first', 'stored');
    const rest = [new FakeRoute('r1', 'timeout', { hang: true }), new FakeRoute('r2', 'local_error')];
    const ctx = makeTestContext();
    expect(routeSync(new AllInitialRoute([first, ...rest]), makeRequest('set', 'k', 'v'), ctx).result).toBe('stored');
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind])).toEqual([['r1', 'async'], ['r2', 'async']]);
    expect(rest[0]?.keys).toEqual(['k']);
  });

  test('the first child error is the reply even when others succeed', () => {
    const r = new AllInitialRoute([new FakeRoute('a', 'connect_error'), new FakeRoute('b', 'stored')]);
    expect(routeSync(r, makeRequest('set', 'k', 'v')).result).toBe('connect_error');
  });

  test('factory and traverse', () => {
    const r = buildWith([allInitialRouteFactory], 'AllInitialRoute|Pool|A', { A: { servers: ['127.0.0.1:1', '127.0.0.1:2'] } });
    expect(r).toBeInstanceOf(AllInitialRoute);
    expect(traverseDestinations(r, makeRequest('get', 'x'))).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
  });
});
