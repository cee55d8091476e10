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

import { AllAsyncRoute, allAsyncRouteFactory } from '../../../src/routes/all-async-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync } from './helpers/fake-route.js';

describe('AllAsyncRoute', () => {
  test('spawns one async copy per child and replies at once with the NullRoute reply', () => {
    const a = new FakeRoute('a', 'stored', { hang: true });
    const b = new FakeRoute('b', 'timeout', { hang: true });
    const ctx = makeTestContext();
    const r = new AllAsyncRoute([a, b]);
    expect(routeSync(r, makeRequest('set', 'k', 'v'), ctx).result).toBe('notstored');
    expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound');
    expect(routeSync(r, makeRequest('delete', 'k'), ctx).result).toBe('notfound');
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind])).toEqual([
      ['a', 'async'], ['b', 'async'], ['a', 'async'], ['b', 'async'], ['a', 'async'], ['b', 'async'],
    ]);
    expect(ctx.stats.asyncSent).toBe(6);
  });

  test('over the cap copies are dropped and counted; the client reply is unchanged', () => {
    const ctx = makeTestContext({ spawnCap: 1 });
    const r = new AllAsyncRoute([new FakeRoute('a', 'stored'), new FakeRoute('b', 'stored')]);
    expect(routeSync(r, makeRequest('set', 'k', 'v'), ctx).result).toBe('notstored');
    expect(ctx.stats.asyncDropped).toBe(1);
  });

  test('factory: a single child is still async; no children → NullRoute', () => {
    const one = buildWith([allAsyncRouteFactory], { type: 'AllAsyncRoute', children: ['NullRoute'] });
    expect(one).toBeInstanceOf(AllAsyncRoute);
    expect(buildWith([allAsyncRouteFactory], { type: 'AllAsyncRoute', children: [] }).type).toBe('NullRoute');
  });
});
