import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { inertDestinations } from '../../../src/config/validate.js';
import { AllSyncRoute, allSyncRouteFactory } from '../../../src/routes/all-sync-route.js';
import { ROUTE_FACTORIES, createRegistry } from '../../../src/routes/registry.js';
import type { RouteFactory } from '../../../src/routes/route-factory.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';

/** Build a route tree with the registry plus `extra` factories (whether or not registry.ts lists them yet). */
function build(route: unknown, pools: Record<string, unknown> = {}, extra: RouteFactory[] = [allSyncRouteFactory]): RouteHandle {
  const registry = createRegistry([...ROUTE_FACTORIES.filter((f) => !extra.some((e) => e.type === f.type)), ...extra]);
  const cfg = JSON.parse(JSON.stringify({ pools, route })) as Record<string, unknown>;
  return buildConfig(cfg, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations(), registry }).root.defaultRoute;
}

describe('AllSyncRoute', () => {
  test('sends to every child in the same turn and replies with the worst reply', () => {
    const a = new FakeRoute('a', 'stored');
    const b = new FakeRoute('b', 'notstored');
    const c = new FakeRoute('c', 'stored');
    const r = new AllSyncRoute([a, b, c]);
    expect(routeSync(r, makeRequest('set', 'k', 'v')).result).toBe('notstored');
    for (const f of [a, b, c]) expect(f.keys).toEqual(['k']);
    expect(routeSync(new AllSyncRoute([a, new FakeRoute('t', 'timeout'), new FakeRoute('l', 'local_error')]), makeRequest('get', 'k')).result).toBe('local_error');
  });

  test('waits for the slowest child', async () => {
    const slow = new FakeRoute('slow', 'timeout', { async: true });
    const fast = new FakeRoute('fast', 'deleted');
    const reply = await routeOnce(new AllSyncRoute([fast, slow]), makeRequest('delete', 'k'));
    expect(reply.result).toBe('timeout');
  });

  test('hung child: no reply until it answers', () => {
    const hung = new FakeRoute('h', 'stored', { hang: true });
    let got = 0;
    new AllSyncRoute([new FakeRoute('a', 'stored'), hung]).route(makeRequest('set', 'k', 'v'), makeTestContext(), () => got++);
    expect(got).toBe(0);
    hung.pending[0]?.done(hung.replyFor(makeRequest('set', 'k', 'v')));
    expect(got).toBe(1);
  });

  test('traverse visits every child', () => {
    expect(traverseDestinations(new AllSyncRoute([new FakeRoute('a'), new FakeRoute('b')]), makeRequest('get', 'k'))).toEqual(['a', 'b']);
  });

  test('factory: 0 children → NullRoute, 1 → the child, shorthand "AllSyncRoute|Pool|A"', () => {
    expect(build({ type: 'AllSyncRoute', children: [] }).type).toBe('NullRoute');
    expect(build({ type: 'AllSyncRoute', children: ['NullRoute'] }).type).toBe('NullRoute');
    const r = build('AllSyncRoute|Pool|A', { A: { servers: ['127.0.0.1:1', '127.0.0.1:2'] } });
    expect(r).toBeInstanceOf(AllSyncRoute);
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(allSyncRouteFactory.type).toBe('AllSyncRoute');
    expect(() => build({ type: 'AllSyncRoute' })).toThrow(/children/);
  });
});
