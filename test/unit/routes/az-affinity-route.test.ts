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
import { AzAffinityRoute, azAffinityRouteFactory } from '../../../src/routes/az-affinity-route.js';
import { Reply, type Result } from '../../../src/protocol/types.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';

const HIT = (who: string) => new Reply('found', Buffer.from(`VALUE k 0 ${who.length}\r\n${who}\r\n`));
const zone = (name: string, get: Result | Reply, write: Result = 'stored', opts = {}) =>
  new FakeRoute(name, (req) => (req.op === 'get' ? (typeof get === 'string' ? new Reply(get) : get) : new Reply(write)), opts);

describe('AzAffinityRoute reads', () => {
  test('a local hit never touches other zones', () => {
    const a = zone('a', HIT('a'));
    const b = zone('b', HIT('b'));
    expect(routeSync(new AzAffinityRoute('a', a, [b], 'all'), makeRequest('get', 'k')).raw?.toString()).toContain('\r\na\r\n');
    expect(b.seen).toHaveLength(0);
  });

  test('local miss → all other zones in parallel, first hit wins', async () => {
    const a = zone('a', 'notfound');
    const b = zone('b', HIT('b'), 'stored', { async: true });
    const c = zone('c', HIT('c'));
    const reply = await routeOnce(new AzAffinityRoute('a', a, [b, c], 'all'), makeRequest('get', 'k'));
    expect(reply.raw?.toString()).toContain('\r\nc\r\n');
    expect(b.seen).toHaveLength(1);
  });

  test('local error (whole zone down) → remote hit: zero failed reads', () => {
    for (const err of ['connect_error', 'timeout', 'tko'] as const) {
      const reply = routeSync(new AzAffinityRoute('a', zone('a', err), [zone('b', 'connect_error'), zone('c', HIT('c'))], 'all'), makeRequest('get', 'k'));
      expect(reply.result).toBe('found');
    }
  });

  test('no hit anywhere: a miss if any zone missed, else the local error', () => {
    expect(routeSync(new AzAffinityRoute('a', zone('a', 'notfound'), [zone('b', 'notfound')], 'all'), makeRequest('get', 'k')).result).toBe('notfound');
    expect(routeSync(new AzAffinityRoute('a', zone('a', 'timeout'), [zone('b', 'notfound'), zone('c', 'connect_error')], 'all'), makeRequest('get', 'k')).result).toBe('notfound');
    expect(routeSync(new AzAffinityRoute('a', zone('a', 'notfound'), [zone('b', 'connect_error')], 'all'), makeRequest('get', 'k')).result).toBe('notfound');
    expect(routeSync(new AzAffinityRoute('a', zone('a', 'timeout'), [zone('b', 'connect_error'), zone('c', 'tko')], 'all'), makeRequest('get', 'k')).result).toBe('timeout');
  });
});

describe('AzAffinityRoute writes', () => {
  test('all: every zone, worst reply', () => {
    const zs = [zone('a', 'notfound'), zone('b', 'notfound', 'timeout'), zone('c', 'notfound')];
    const r = new AzAffinityRoute('a', zs[0]!, zs.slice(1), 'all');
    expect(routeSync(r, makeRequest('set', 'k', 'v')).result).toBe('timeout');
    routeSync(r, makeRequest('delete', 'k'));
    routeSync(r, makeRequest('touch', 'k'));
    for (const z of zs) expect(z.seen.map((q) => q.op)).toEqual(['set', 'delete', 'touch']);
  });

  test('local: the local reply, other zones as background copies', () => {
    const ctx = makeTestContext();
    const r = new AzAffinityRoute('a', zone('a', 'notfound', 'stored'), [zone('b', 'notfound', 'timeout')], 'local');
    expect(routeSync(r, makeRequest('set', 'k', 'v'), ctx).result).toBe('stored');
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind])).toEqual([['b', 'async']]);
  });

  test('majority: a lost zone does not fail writes', () => {
    const r = new AzAffinityRoute('a', zone('a', 'notfound', 'connect_error'), [zone('b', 'notfound'), zone('c', 'notfound')], 'majority');
    expect(routeSync(r, makeRequest('set', 'k', 'v')).result).toBe('stored');
  });

  test('other ops go to the local zone only', () => {
    const b = zone('b', 'notfound');
    routeSync(new AzAffinityRoute('a', zone('a', 'notfound'), [b], 'all'), makeRequest('version', ''));
    expect(b.seen).toHaveLength(0);
  });
});

describe('AzAffinityRoute config', () => {
  const pools = { a: { servers: ['127.0.0.1:1'] }, b: { servers: ['127.0.0.1:2'] } };
  const node = (extra: Record<string, unknown> = {}) => ({ type: 'AzAffinityRoute', zones: { 'us-1a': 'PoolRoute|a', 'us-1b': 'PoolRoute|b' }, ...extra });

  test('local_zone defaults from --local-zone, and the option overrides it', () => {
    const r = buildWith([azAffinityRouteFactory], node(), pools, { localZone: 'us-1b' }) as AzAffinityRoute;
    expect(r.localZone).toBe('us-1b');
    expect(r.writePolicy).toBe('all');
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual(['127.0.0.1:2']);
    expect(traverseDestinations(r, makeRequest('set', 'k', 'v'))).toEqual(['127.0.0.1:2', '127.0.0.1:1']);
    const o = buildWith([azAffinityRouteFactory], node({ local_zone: 'us-1a' }), pools, { localZone: 'us-1b' }) as AzAffinityRoute;
    expect(o.localZone).toBe('us-1a');
  });

  test('unknown or missing local zone is a config error with a path', () => {
    expect(() => buildWith([azAffinityRouteFactory], node({ local_zone: 'mars' }), pools)).toThrow(expect.objectContaining({ path: '/route/local_zone', message: expect.stringMatching(/AzAffinityRoute: local zone "mars"/) }));
    expect(() => buildWith([azAffinityRouteFactory], node(), pools, { localZone: 'mars' })).toThrow(expect.objectContaining({ path: '/route/zones' }));
    expect(() => buildWith([azAffinityRouteFactory], node(), pools)).toThrow(expect.objectContaining({ path: '/route/local_zone' }));
    expect(() => buildWith([azAffinityRouteFactory], node({ write_policy: 'some' }), pools, { localZone: 'us-1a' })).toThrow(/write_policy/);
  });
});
