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

import { AllMajorityRoute, allMajorityRouteFactory } from '../../../src/routes/all-majority-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync } from './helpers/fake-route.js';
import type { Result } from '../../../src/protocol/types.js';

const fakes = (rs: Result[], opts = {}) => rs.map((r, i) => new FakeRoute(`c${i}`, r, opts));

describe('AllMajorityRoute', () => {
  test('replies as soon as floor(n/2)+1 children agree', () => {
    const children = [new FakeRoute('a', 'stored'), new FakeRoute('b', 'stored'), new FakeRoute('c', 'stored', { hang: true })];
    let reply: string | null = null;
    new AllMajorityRoute(children).route(makeRequest('set', 'k', 'v'), makeTestContext(), (r) => { reply = r.result; });
    expect(reply).toBe('stored'); // without waiting for the hung third child
  });

  test('majority of errors wins', () => {
    expect(routeSync(new AllMajorityRoute(fakes(['timeout', 'stored', 'timeout'])), makeRequest('set', 'k', 'v')).result).toBe('timeout');
  });

  test('no majority: the most common result; ties go to the worse result', () => {
    expect(routeSync(new AllMajorityRoute(fakes(['stored', 'notstored', 'stored', 'timeout', 'local_error'])), makeRequest('set', 'k', 'v')).result).toBe('stored');
    expect(routeSync(new AllMajorityRoute(fakes(['stored', 'timeout'])), makeRequest('set', 'k', 'v')).result).toBe('timeout');
    expect(routeSync(new AllMajorityRoute(fakes(['stored', 'notstored', 'timeout', 'deleted'])), makeRequest('set', 'k', 'v')).result).toBe('timeout');
  });

  test('done exactly once even when more replies arrive', () => {
    let calls = 0;
    new AllMajorityRoute(fakes(['stored', 'stored', 'stored'])).route(makeRequest('set', 'k', 'v'), makeTestContext(), () => calls++);
    expect(calls).toBe(1);
  });

  test('factory builds from children', () => {
    expect(buildWith([allMajorityRouteFactory], { type: 'AllMajorityRoute', children: ['NullRoute', 'NullRoute', 'NullRoute'] })).toBeInstanceOf(AllMajorityRoute);
  });
});
