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
import { ShadowRoute, shadowRouteFactory } from '../../../src/routes/shadow-route.js';
import { PoolRoute, poolRouteFactory } from '../../../src/routes/pool-route.js';
import { spooky32 } from '../../../src/routes/hash/spooky-v2.js';
import { ShadowedRoute, selectsRequest, wrapWithShadows, type ShadowSettings } from '../../../src/routes/util/shadow.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

const setting = (target: FakeRoute, extra: Partial<ShadowSettings> = {}): ShadowSettings => ({
  target, indexStart: 0, indexEnd: Number.MAX_SAFE_INTEGER, keyLow: 0, keyHigh: 0xffffffff, requestsFraction: 1, keys: null, ...extra,
});

describe('shadow selection (util/shadow.ts)', () => {
  test('the normal reply is returned synchronously, unchanged; the copy is a shadow spawn', () => {
    const normal = new FakeRoute('normal', 'stored');
    const test_ = new FakeRoute('test', 'timeout', { hang: true });
    const ctx = makeTestContext();
    const r = new ShadowedRoute(normal, [setting(test_)]);
    expect(routeSync(r, makeRequest('set', 'k', 'v'), ctx).result).toBe('stored');
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind])).toEqual([['test', 'shadow']]);
    expect(ctx.stats.shadowSent).toBe(1);
  });

  test('no shadows of shadow copies', () => {
    const test_ = new FakeRoute('test');
    const ctx = makeTestContext({ shadow: true });
    routeSync(new ShadowedRoute(new FakeRoute('n'), [setting(test_)]), makeRequest('get', 'k'), ctx);
    expect(ctx.spawned).toHaveLength(0);
  });

  test('key_fraction_range: Spooky32(routing key, seed 0) within [trunc(a*0xFFFFFFFF), trunc(b*0xFFFFFFFF)]', () => {
    const s = setting(new FakeRoute('t'), { keyLow: Math.trunc(0.25 * 0xffffffff), keyHigh: Math.trunc(0.5 * 0xffffffff) });
    let chosen = 0;
    for (let i = 0; i < 4000; i++) {
      const key = `/r/c/key:${i}|#|suffix`;
      const h = spooky32(Buffer.from(`key:${i}`), 0);
      const inRange = h >= s.keyLow && h <= s.keyHigh;
      expect(selectsRequest(s, makeRequest('get', key))).toBe(inRange);
      if (inRange) chosen++;
    }
    expect(Math.abs(chosen - 1000)).toBeLessThan(120);
  });

  test('requests_fraction and keys_to_shadow', () => {
    const draws = [0.1, 0.9];
    const s = setting(new FakeRoute('t'), { requestsFraction: 0.5 });
    expect(selectsRequest(s, makeRequest('get', 'k'), () => draws.shift() ?? 0)).toBe(true);
    expect(selectsRequest(s, makeRequest('get', 'k'), () => draws.shift() ?? 0)).toBe(false);
    const keys = setting(new FakeRoute('t'), { keys: new Set(['hot']) });
    expect(selectsRequest(keys, makeRequest('get', '/a/b/hot'))).toBe(true);
    expect(selectsRequest(keys, makeRequest('get', 'cold'))).toBe(false);
  });

  test('wrapWithShadows wraps only the indices in [start, end)', () => {
    const kids = [0, 1, 2, 3].map((i) => new FakeRoute(`d${i}`));
    const wrapped = wrapWithShadows(kids, [setting(new FakeRoute('t'), { indexStart: 1, indexEnd: 3 })]);
    expect(wrapped.map((w) => w instanceof ShadowedRoute)).toEqual([false, true, true, false]);
    expect(wrapped[0]).toBe(kids[0]);
  });
});

describe('PoolRoute shadows', () => {
  const pools = { prod: { servers: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4'] }, test: { servers: ['127.0.0.1:9'] } };
  test('wiki example: index_range [0, 2) and key_fraction_range [0, 0.1]', () => {
    const route = { type: 'PoolRoute', pool: 'prod', shadows: [{ target: 'PoolRoute|test', index_range: [0, 2], key_fraction_range: [0, 0.1] }] };
    const r = buildWith([poolRouteFactory, shadowRouteFactory], route, pools) as PoolRoute;
    expect(r).toBeInstanceOf(PoolRoute);
    expect(r.deferredOptions).not.toContain('shadows');
    const plain = buildWith([poolRouteFactory], 'PoolRoute|prod', pools);
    const ctx = makeTestContext({ runSpawned: false });
    let expected = 0;
    for (let i = 0; i < 3000; i++) {
      const k = `k${i}`;
      const dest = traverseDestinations(plain, makeRequest('get', k))[0];
      const idx = pools.prod.servers.indexOf(dest ?? '');
      if (idx < 2 && spooky32(Buffer.from(k)) <= Math.trunc(0.1 * 0xffffffff)) expected++;
      r.route(makeRequest('get', k), ctx, () => undefined);
    }
    expect(ctx.spawned.length).toBe(expected);
    expect(expected).toBeGreaterThan(50);
  });

  test('bad shadow entries are logged at their path and skipped; the good ones still shadow (mcrouter makeShadowRoutes)', () => {
    const shadows = [
      { target: 'PoolRoute|test', index_range: [3, 1] },
      { index_range: [0, 1] },
      'PoolRoute|test',
      { target: 'PoolRoute|nope' },
      { target: 'PoolRoute|test', key_fraction_range: [0, 2] },
      { target: 'PoolRoute|test', index_range: [0, 1], traget: 'x' },
    ];
    const built = buildConfig(JSON.parse(JSON.stringify({ pools, route: { type: 'PoolRoute', pool: 'prod', shadows } })) as Record<string, unknown>,
      { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() });
    expect(built.warnings).toEqual([
      '/route/shadows/0/index_range: PoolRoute: shadows: index_range start 3 is after end 1; this shadow is skipped, as mcrouter does',
      '/route/shadows/1: PoolRoute: shadows: no target; this shadow is skipped, as mcrouter does',
      '/route/shadows/2: PoolRoute: shadows: a shadow must be an object; this shadow is skipped, as mcrouter does',
      '/route/shadows/3/target: PoolRoute: shadows: the target does not build: unknown pool "nope"; this shadow is skipped, as mcrouter does',
      '/route/shadows/4/key_fraction_range/1: PoolRoute: shadows: key_fraction_range/1 must be <= 1; this shadow is skipped, as mcrouter does',
      '/route/shadows/5/traget: PoolRoute: unknown option "shadows/5/traget" ignored; did you mean "target"?',
    ]);
    // Only the last entry survives: it shadows destination 0 and nothing else.
    const r = built.root.defaultRoute;
    const ctx = makeTestContext({ runSpawned: false });
    let toZero = 0;
    for (let i = 0; i < 200; i++) {
      const k = `k${i}`;
      if (traverseDestinations(r, makeRequest('get', k))[0] === pools.prod.servers[0]) toZero++;
      r.route(makeRequest('get', k), ctx, () => undefined);
    }
    expect(toZero).toBeGreaterThan(0);
    expect(ctx.spawned.length).toBe(toZero);
    const notList = buildConfig(JSON.parse(JSON.stringify({ pools, route: { type: 'PoolRoute', pool: 'prod', shadows: { target: 'PoolRoute|test' } } })) as Record<string, unknown>,
      { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() });
    expect(notList.warnings).toEqual(['/route/shadows: PoolRoute: shadows is not a list; ignored, as mcrouter does']);
  });

  test('keys_to_shadow applies at every index, whatever index_range says (mcrouter)', () => {
    const route = { type: 'PoolRoute', pool: 'prod', shadows: [{ target: 'PoolRoute|test', index_range: [0, 0], keys_to_shadow: ['hot'] }] };
    const r = buildWith([poolRouteFactory], route, pools);
    const ctx = makeTestContext({ runSpawned: false });
    r.route(makeRequest('get', 'hot'), ctx, () => undefined);
    r.route(makeRequest('get', 'cold'), ctx, () => undefined);
    expect(ctx.spawned).toHaveLength(1);
  });
});

describe('ShadowRoute', () => {
  test('one child: normal reply + shadow copies; several children: Ch3 picks, index_range by child index', () => {
    const pools = { test: { servers: ['127.0.0.1:9'] } };
    const r = buildWith([shadowRouteFactory], { type: 'ShadowRoute', children: ['NullRoute'], shadows: [{ target: 'PoolRoute|test' }] }, pools);
    expect(r).toBeInstanceOf(ShadowRoute);
    const ctx = makeTestContext({ runSpawned: false });
    expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound');
    expect(ctx.spawned).toHaveLength(1);
    const multi = buildWith([shadowRouteFactory], { type: 'ShadowRoute', children: ['NullRoute', 'NullRoute'], shadows: [{ target: 'PoolRoute|test', index_range: [1, 2] }] }, pools) as ShadowRoute;
    const ctx2 = makeTestContext({ runSpawned: false });
    for (let i = 0; i < 1000; i++) routeSync(multi, makeRequest('get', `k${i}`), ctx2);
    expect(ctx2.spawned.length).toBeGreaterThan(400);
    expect(ctx2.spawned.length).toBeLessThan(600);
  });

  test('cap: drops are counted, the reply is unchanged', () => {
    const ctx = makeTestContext({ spawnCap: 2, runSpawned: false });
    const r = new ShadowRoute([new ShadowedRoute(new FakeRoute('n', 'stored'), [setting(new FakeRoute('t'))])], null);
    for (let i = 0; i < 5; i++) expect(routeSync(r, makeRequest('set', 'k', 'v'), ctx).result).toBe('stored');
    expect([ctx.stats.shadowSent, ctx.stats.shadowDropped]).toEqual([2, 3]);
  });
});
