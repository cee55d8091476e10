import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { inertDestinations, validateConfig } from '../../../src/config/validate.js';
import { Reply, type Result } from '../../../src/protocol/types.js';
import { PoolRoute } from '../../../src/routes/pool-route.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { DEFAULT_SLOW_WARM_UP, SlowWarmUpRoute, type SlowWarmUpSettings } from '../../../src/routes/slow-warm-up-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

/** A server whose reads answer `result` (changeable), and a failover target. */
function setup(settings: Partial<SlowWarmUpSettings>, draws: number[] = []) {
  const state = { result: 'notfound' as Result };
  const server = new FakeRoute('server', () => new Reply(state.result, Buffer.from('server')));
  const gutter = new FakeRoute('gutter', () => new Reply('found', Buffer.from('gutter')));
  const random = (): number => {
    const d = draws.shift();
    if (d === undefined) throw new Error('no random draw left');
    return d;
  };
  const route = new SlowWarmUpRoute(server, gutter, { ...DEFAULT_SLOW_WARM_UP, ...settings }, random);
  const get = (): string => routeSync(route, makeRequest('get', 'k')).raw?.toString() ?? '';
  return { state, server, gutter, route, draws, get };
}

describe('SlowWarmUpRoute', () => {
  test('a destination is warm until min_requests replies were counted (hit rate 1)', () => {
    const s = setup({ minRequests: 5 });
    for (let i = 0; i < 5; i++) expect(s.get()).toBe('server'); // misses, no draw needed
    expect(s.route.hitRate()).toBe(0);
    expect(s.gutter.seen).toHaveLength(0);
  });

  test('a cold destination (hit rate 0) gets a read when the draw is at most start', () => {
    const s = setup({ minRequests: 4, start: 0.1 });
    for (let i = 0; i < 4; i++) s.get();
    s.draws.push(0.05, 0.5, 0.1, 0.11);
    expect([s.get(), s.get(), s.get(), s.get()]).toEqual(['server', 'gutter', 'server', 'gutter']);
    // Only the two reads the server took were counted.
    expect(s.server.seen).toHaveLength(6);
  });

  test('the share ramps with the hit rate: start + step · hitRate', () => {
    const s = setup({ minRequests: 10, start: 0.1, step: 1.0 });
    s.state.result = 'found';
    for (let i = 0; i < 5; i++) s.get();
    s.state.result = 'notfound';
    for (let i = 0; i < 5; i++) s.get();
    expect(s.route.hitRate()).toBe(0.5); // below enable_threshold 0.7: warming up, share 0.1 + 0.5 = 0.6
    s.draws.push(0.6, 0.61);
    expect([s.get(), s.get()]).toEqual(['server', 'gutter']);
    const half = setup({ minRequests: 10, start: 0.2, step: 0.5 });
    half.state.result = 'found';
    for (let i = 0; i < 5; i++) half.get();
    half.state.result = 'notfound';
    for (let i = 0; i < 5; i++) half.get();
    half.draws.push(0.45, 0.46); // share 0.2 + 0.5 · 0.5 = 0.45
    expect([half.get(), half.get()]).toEqual(['server', 'gutter']);
  });

  test('hysteresis: warm-up starts below enable_threshold and ends only above disable_threshold', () => {
    const s = setup({ minRequests: 10, enableThreshold: 0.7, disableThreshold: 0.9 });
    s.state.result = 'found';
    for (let i = 0; i < 8; i++) s.get();
    s.state.result = 'notfound';
    for (let i = 0; i < 2; i++) s.get();
    expect(s.route.hitRate()).toBe(0.8);
    expect(s.route.warmingUp()).toBe(false); // 0.8 is not below 0.7
    const t = setup({ minRequests: 10, enableThreshold: 0.7, disableThreshold: 0.9 });
    for (let i = 0; i < 10; i++) t.get(); // 10 misses: rate 0
    expect(t.route.warmingUp()).toBe(true);
    // Serve hits (every draw lets the read through) until the rate is 0.8: still warming up.
    t.state.result = 'found';
    t.draws.push(...Array<number>(40).fill(0));
    for (let i = 0; i < 40; i++) t.get();
    expect(t.route.hitRate()).toBe(0.8);
    expect(t.route.warmingUp()).toBe(true);
    t.draws.push(...Array<number>(60).fill(0));
    for (let i = 0; i < 60; i++) t.get(); // 100 hits of 110: 0.909 > 0.9
    expect(t.route.warmingUp()).toBe(false);
    expect(t.get()).toBe('server'); // no draw consumed
  });

  test('writes always go to the server and are counted; gutter replies are not', () => {
    const s = setup({ minRequests: 2 });
    s.get();
    s.get(); // rate 0: warming up
    s.state.result = 'deleted';
    expect(routeSync(s.route, makeRequest('delete', 'k')).raw?.toString()).toBe('server');
    s.state.result = 'stored';
    expect(routeSync(s.route, makeRequest('set', 'k', 'v')).raw?.toString()).toBe('server'); // neither hit nor miss
    expect(s.route.hitRate()).toBeCloseTo(1 / 3);
    s.draws.push(0.99);
    expect(s.get()).toBe('gutter');
    expect(s.route.hitRate()).toBeCloseTo(1 / 3);
    expect(traverseDestinations(s.route, makeRequest('get', 'k'))).toEqual(['server', 'gutter']);
  });

  test('asynchronous server replies are counted when they arrive', async () => {
    const server = new FakeRoute('server', 'found', { async: true });
    const route = new SlowWarmUpRoute(server, new FakeRoute('g'), { ...DEFAULT_SLOW_WARM_UP, minRequests: 1 });
    await new Promise<void>((resolve) => route.route(makeRequest('get', 'k'), makeTestContext(), () => resolve()));
    expect(route.hitRate()).toBe(1);
  });
});

describe('PoolRoute slow_warmup', () => {
  const pools = { A: { servers: ['127.0.0.1:1', '127.0.0.1:2'] }, G: { servers: ['127.0.0.1:3'] } };
  const build = (route: unknown): RouteHandle =>
    buildConfig(JSON.parse(JSON.stringify({ pools, route })) as Record<string, unknown>, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() }).root.defaultRoute;
  const error = (slow_warmup: unknown): string => {
    const v = validateConfig({ configStr: JSON.stringify({ pools, route: { type: 'PoolRoute', pool: 'A', slow_warmup } }) });
    if (v.ok) throw new Error('expected a config error');
    return v.error.message;
  };

  test('wraps every destination, keeps it out of the multi-get fast path, and warns no more', () => {
    const v = validateConfig({ configStr: JSON.stringify({ pools, route: { type: 'PoolRoute', pool: 'A', slow_warmup: { failoverTarget: 'PoolRoute|G' } } }) });
    if (!v.ok) throw v.error;
    expect(v.built.warnings).toEqual([]);
    const r = v.built.root.defaultRoute as PoolRoute;
    expect(r).toBeInstanceOf(PoolRoute);
    // No directRange: the multi-get fast path never bypasses the counting.
    expect((new SlowWarmUpRoute(new FakeRoute('a'), new FakeRoute('b')) as RouteHandle).directRange).toBeUndefined();
    expect(traverseDestinations(build({ type: 'PoolRoute', pool: 'A' }), makeRequest('get', 'some-key'))).toHaveLength(1);
    // Every destination now also reaches the failover target.
    const dests = traverseDestinations(r, makeRequest('get', 'some-key'));
    expect(dests).toHaveLength(2);
    expect(dests[1]).toBe('127.0.0.1:3');
  });

  test('settings are validated as mcrouter validates them', () => {
    const t = { failoverTarget: 'PoolRoute|G' };
    expect(error({})).toMatch(/^\/route\/slow_warmup: PoolRoute: .*failoverTarget/);
    expect(error({ ...t, settings: { enable_threshold: 0.5 } })).toMatch(/^\/route\/slow_warmup\/settings: .*disable_threshold/);
    expect(error({ ...t, settings: { enable_threshold: 0.9, disable_threshold: 0.9 } }))
      .toBe("/route/slow_warmup/settings: PoolRoute: slow_warmup: 'enable_threshold' must be strictly less than 'disable_threshold'");
    expect(error({ ...t, settings: { enable_threshold: -0.1, disable_threshold: 0.9 } })).toMatch(/^\/route\/slow_warmup\/settings\/enable_threshold: /);
    expect(error({ ...t, settings: { enable_threshold: 0.5, disable_threshold: 1.5 } })).toMatch(/^\/route\/slow_warmup\/settings\/disable_threshold: /);
    expect(error({ ...t, settings: { enable_threshold: 0.5, disable_threshold: 0.9, start: 1 } })).toMatch(/^\/route\/slow_warmup\/settings\/start: /);
    expect(error({ ...t, settings: { enable_threshold: 0.5, disable_threshold: 0.9, step: 0 } })).toMatch(/^\/route\/slow_warmup\/settings\/step: /);
    expect(error({ ...t, settings: { enable_threshold: 0.5, disable_threshold: 0.9, min_requests: 0 } })).toMatch(/^\/route\/slow_warmup\/settings\/min_requests: /);
    expect(error({ ...t, settings: { enable_threshold: 0.5, disable_threshold: 0.9, min_requests: 1.5 } })).toMatch(/^\/route\/slow_warmup\/settings\/min_requests: /);
    expect(error({ failoverTarget: 'PoolRoute|nope' })).toMatch(/^\/route\/slow_warmup\/failoverTarget/);
    expect(() => build({ type: 'PoolRoute', pool: 'A', slow_warmup: { ...t, settings: { enable_threshold: 0.5, disable_threshold: 0.6, start: 0.5, step: 2, min_requests: 10 } } })).not.toThrow();
  });
});
