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

import { AllFastestRoute, allFastestRouteFactory } from '../../../src/routes/all-fastest-route.js';
import { Reply } from '../../../src/protocol/types.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce } from './helpers/fake-route.js';

describe('AllFastestRoute', () => {
  test('first non-error reply wins; a miss is a non-error', async () => {
    const slowHit = new FakeRoute('slow', new Reply('found', Buffer.from('VALUE k 0 1\r\nx\r\n')), { async: true });
    const fastErr = new FakeRoute('err', 'timeout');
    const fastMiss = new FakeRoute('miss', 'notfound');
    expect((await routeOnce(new AllFastestRoute([slowHit, fastErr, fastMiss]), makeRequest('get', 'k'))).result).toBe('notfound');
    expect((await routeOnce(new AllFastestRoute([slowHit, fastErr]), makeRequest('get', 'k'))).result).toBe('found');
  });

  test('all errors → the last error', async () => {
    const r = new AllFastestRoute([new FakeRoute('a', 'timeout'), new FakeRoute('b', 'connect_error', { async: true })]);
    expect((await routeOnce(r, makeRequest('get', 'k'))).result).toBe('connect_error');
  });

  test('does not wait for a hung child once someone answered', () => {
    let res: string | null = null;
    new AllFastestRoute([new FakeRoute('h', 'found', { hang: true }), new FakeRoute('b', 'stored')]).route(makeRequest('set', 'k', 'v'), makeTestContext(), (r) => { res = r.result; });
    expect(res).toBe('stored');
  });

  test('factory', () => {
    expect(buildWith([allFastestRouteFactory], { type: 'AllFastestRoute', children: ['NullRoute', 'NullRoute'] })).toBeInstanceOf(AllFastestRoute);
  });
});
