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
import { WarmUpRoute, warmUpRouteFactory } from '../../../src/routes/warm-up-route.js';
import { Reply } from '../../../src/protocol/types.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

describe('WarmUpRoute', () => {
  test('cold hit answers; warm is not asked', () => {
    const cold = new FakeRoute('cold', new Reply('found', Buffer.from('VALUE k 0 1\r\nc\r\n')));
    const warm = new FakeRoute('warm', 'found');
    expect(routeSync(new WarmUpRoute(cold, warm, 0, true), makeRequest('get', 'k')).raw?.toString()).toContain('c');
    expect(warm.seen).toHaveLength(0);
  });

  test('cold miss → mg v f t on warm; the reply is a VALUE block; cold gets ms ... ME with the remaining TTL', () => {
    const cold = new FakeRoute('cold', (q) => new Reply(q.op === 'get' ? 'notfound' : 'stored'));
    const warm = new FakeRoute('warm', new Reply('found', Buffer.from('VA 5 f9 t1234\r\nhello\r\n')));
    const ctx = makeTestContext();
    const reply = routeSync(new WarmUpRoute(cold, warm, 99, true), makeRequest('get', '/a/b/key'), ctx);
    expect(reply.result).toBe('found');
    expect(reply.raw?.toString()).toBe('VALUE /a/b/key 9 5\r\nhello\r\n');
    const mg = warm.seen[0];
    expect(mg?.op).toBe('mg');
    expect(`${mg?.head.toString()}${mg?.keyString()}${mg?.tail.toString()}`).toBe('mg /a/b/key v f t');
    const fill = ctx.spawned[0];
    expect(fill?.kind).toBe('refill');
    expect(fill?.handle.name).toBe('cold');
    expect(`${fill?.req.head.toString()}${fill?.req.keyString()}${fill?.req.tail.toString()}`).toBe('ms /a/b/key 5 F9 T1234 ME');
    expect(fill?.req.value?.toString()).toBe('hello');
  });

  test('warm value without expiry (t-1) gets exptime', () => {
    const warm = new FakeRoute('warm', new Reply('found', Buffer.from('VA 1 f0 t-1\r\nx\r\n')));
    const ctx = makeTestContext();
    routeSync(new WarmUpRoute(new FakeRoute('cold', 'notfound'), warm, 77, true), makeRequest('get', 'k'), ctx);
    expect(ctx.spawned[0]?.req.tail.toString()).toBe(' 1 F0 T77 ME');
  });

  test('warm miss → miss (no EN bytes leak into a get reply); warm error → the error; no fill', () => {
    const ctx = makeTestContext();
    const miss = routeSync(new WarmUpRoute(new FakeRoute('cold', 'notfound'), new FakeRoute('warm', new Reply('notfound', Buffer.from('EN\r\n'))), 0, true), makeRequest('get', 'k'), ctx);
    expect(miss.result).toBe('notfound');
    expect(miss.raw).toBeNull();
    expect(routeSync(new WarmUpRoute(new FakeRoute('cold', 'notfound'), new FakeRoute('warm', 'timeout'), 0, true), makeRequest('get', 'k'), ctx).result).toBe('timeout');
    expect(ctx.spawned).toHaveLength(0);
  });

  test('enable_metaget false: plain get on warm, fill is add with exptime', () => {
    const warm = new FakeRoute('warm', new Reply('found', Buffer.from('VALUE k 3 2\r\nhi\r\n')));
    const ctx = makeTestContext();
    routeSync(new WarmUpRoute(new FakeRoute('cold', 'notfound'), warm, 50, false), makeRequest('get', 'k'), ctx);
    expect(warm.seen[0]?.op).toBe('get');
    expect(`${ctx.spawned[0]?.req.head.toString()}${ctx.spawned[0]?.req.tail.toString()}`).toBe('add  3 50 2');
  });

  test('updates and deletes go to cold only; gets passes through to warm without fill', () => {
    const cold = new FakeRoute('cold', 'notfound');
    const warm = new FakeRoute('warm', 'found');
    const ctx = makeTestContext();
    const r = new WarmUpRoute(cold, warm, 0, true);
    routeSync(r, makeRequest('set', 'k', 'v'), ctx);
    routeSync(r, makeRequest('delete', 'k'), ctx);
    expect(warm.seen).toHaveLength(0);
    expect(routeSync(r, makeRequest('gets', 'k'), ctx).result).toBe('found');
    expect(warm.seen[0]?.op).toBe('gets');
    expect(ctx.spawned).toHaveLength(0);
  });

  test('factory: wiki example shape, defaults', () => {
    const pools = { cold: { servers: ['127.0.0.1:1'] }, warm: { servers: ['127.0.0.1:2'] } };
    const r = buildWith([warmUpRouteFactory], { type: 'WarmUpRoute', cold: 'PoolRoute|cold', warm: 'PoolRoute|warm' }, pools) as WarmUpRoute;
    expect([r.exptime, r.useMetaGet]).toEqual([0, true]);
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(traverseDestinations(r, makeRequest('set', 'k', 'v'))).toEqual(['127.0.0.1:1']);
  });
});
