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
import { L1L2CacheRoute, NCACHE_FLAG, hitFlags, l1l2CacheRouteFactory, type L1L2Settings } from '../../../src/routes/l1l2-cache-route.js';
import { Reply, type Request } from '../../../src/protocol/types.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

/** A tiny in-memory memcached: get/set/add/delete on flags+data, enough to watch refills. */
class MemRoute extends FakeRoute {
  readonly data = new Map<string, { flags: number; data: string; exptime: number }>();
  constructor(name: string, fail: string | null = null) {
    super(name, (req: Request) => {
      if (fail !== null) return new Reply(fail as 'timeout');
      const k = req.keyString();
      const cur = this.data.get(k);
      switch (req.op) {
        case 'get': case 'gets': case 'gat': case 'gats': {
          if (cur === undefined) return new Reply('notfound');
          if (req.op === 'gat' || req.op === 'gats') cur.exptime = req.exptime;
          const cas = req.op === 'gets' || req.op === 'gats' ? ' 77' : '';
          return new Reply('found', Buffer.from(`VALUE ${k} ${cur.flags} ${cur.data.length}${cas}\r\n${cur.data}\r\n`));
        }
        case 'set': case 'add': {
          if (req.op === 'add' && cur !== undefined) return new Reply('notstored');
          const [flags, exptime] = req.tail.toString().trim().split(' ').map(Number);
          this.data.set(k, { flags: flags ?? 0, exptime: exptime ?? 0, data: req.value?.toString() ?? '' });
          return new Reply('stored');
        }
        case 'delete':
          return this.data.delete(k) ? new Reply('deleted') : new Reply('notfound');
        default:
          return new Reply('notfound');
      }
    });
  }
}

const SETTINGS: L1L2Settings = { upgradingL1Exptime: 30, ncacheExptime: 0, ncacheUpdatePeriod: 0, writeL2: false };

describe('L1L2CacheRoute', () => {
  test('L1 hit answers; L2 is not asked', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    l1.data.set('k', { flags: 1, data: 'one', exptime: 0 });
    expect(routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('get', 'k')).raw?.toString()).toContain('one');
    expect(l2.seen).toHaveLength(0);
  });

  test('L1 miss → L2 hit is the answer and L1 is refilled async with add, the flags and upgradingL1Exptime', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    l2.data.set('k', { flags: 42, data: 'deep', exptime: 0 });
    const ctx = makeTestContext();
    const reply = routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('get', 'k'), ctx);
    expect(reply.raw?.toString()).toBe('VALUE k 42 4\r\ndeep\r\n');
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind, s.req.op])).toEqual([['l1', 'refill', 'add']]);
    expect(l1.data.get('k')).toEqual({ flags: 42, data: 'deep', exptime: 30 });
  });

  test('L1 error → L2 answers; L2 error is returned', () => {
    const l2 = new MemRoute('l2');
    l2.data.set('k', { flags: 0, data: 'x', exptime: 0 });
    expect(routeSync(new L1L2CacheRoute(new MemRoute('l1', 'timeout'), l2, SETTINGS), makeRequest('get', 'k')).result).toBe('found');
    expect(routeSync(new L1L2CacheRoute(new MemRoute('l1'), new MemRoute('l2', 'connect_error'), SETTINGS), makeRequest('get', 'k')).result).toBe('connect_error');
  });

  test('gets, gat and gats also go to L1, then L2, and refill L1 with add (mcrouter GetLike)', () => {
    for (const op of ['gets', 'gat', 'gats'] as const) {
      const l1 = new MemRoute('l1');
      const l2 = new MemRoute('l2');
      l2.data.set('k', { flags: 9, data: 'deep', exptime: 0 });
      const ctx = makeTestContext();
      const r = new L1L2CacheRoute(l1, l2, SETTINGS);
      const reply = routeSync(r, makeRequest(op, 'k', null, 5), ctx);
      expect(reply.raw?.toString(), op).toBe(`VALUE k 9 4${op === 'gat' ? '' : ' 77'}\r\ndeep\r\n`);
      expect(l2.seen.map((q) => q.op), op).toEqual([op]);
      expect(ctx.spawned.map((x) => [x.handle.name, x.req.op]), op).toEqual([['l1', 'add']]);
      expect(l1.data.get('k'), op).toEqual({ flags: 9, data: 'deep', exptime: 30 });
      // Now an L1 hit: L2 is not asked again.
      expect(routeSync(r, makeRequest(op, 'k', null, 5)).result, op).toBe('found');
      expect(l2.seen, op).toHaveLength(1);
    }
    expect(traverseDestinations(new L1L2CacheRoute(new FakeRoute('a'), new FakeRoute('b'), SETTINGS), makeRequest('gat', 'k'))).toEqual(['a', 'b']);
  });

  test('meta reads stay on L1', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('mg', 'k'));
    expect(l2.seen).toHaveLength(0);
  });

  test('negative caching is switched on by ncacheUpdatePeriod, not ncacheExptime (mcrouter)', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    const off = new L1L2CacheRoute(l1, l2, { ...SETTINGS, ncacheExptime: 10 });
    expect(routeSync(off, makeRequest('get', 'gone')).result).toBe('notfound');
    expect(l1.data.has('gone')).toBe(false);
    const on = new L1L2CacheRoute(l1, l2, { ...SETTINGS, ncacheExptime: 10, ncacheUpdatePeriod: 100 });
    expect(routeSync(on, makeRequest('get', 'gone')).result).toBe('notfound');
    expect(l1.data.get('gone')).toEqual({ flags: NCACHE_FLAG, data: 'ncache', exptime: 10 });
    // Sentinel hits are misses answered by L1 alone.
    const l2Before = l2.seen.length;
    for (let i = 0; i < 5; i++) {
      const r = routeSync(on, makeRequest('get', 'gone'));
      expect(r.result).toBe('notfound');
      expect(r.raw).toBeNull();
    }
    expect(l2.seen).toHaveLength(l2Before);
  });

  test('a value carrying the ncache flag reads as a miss even with negative caching off', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    l1.data.set('k', { flags: NCACHE_FLAG | 3, data: 'x', exptime: 0 });
    expect(routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('get', 'k')).result).toBe('notfound');
    expect(l2.seen).toHaveLength(0);
  });

  test('ncacheUpdatePeriod N: the Nth sentinel hit still answers a miss and refreshes L1 from L2 in the background', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    const r = new L1L2CacheRoute(l1, l2, { ...SETTINGS, ncacheExptime: 10, ncacheUpdatePeriod: 3 });
    routeSync(r, makeRequest('get', 'k')); // L2 miss: sentinel written
    l2.data.set('k', { flags: 7, data: 'new', exptime: 0 });
    const ctx = makeTestContext();
    expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound'); // hit 1
    expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound'); // hit 2
    expect(ctx.spawned).toHaveLength(0);
    expect(l2.seen).toHaveLength(1);
    expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound'); // hit 3: miss + refresh
    expect(ctx.spawned.map((x) => [x.kind, x.req.op])).toEqual([['refill', 'get']]);
    expect(l2.seen).toHaveLength(2);
    expect(l1.data.get('k')).toEqual({ flags: 7, data: 'new', exptime: 30 });
    expect(l1.seen.at(-1)?.op).toBe('set');
    expect(routeSync(r, makeRequest('get', 'k')).raw?.toString()).toContain('new');
  });

  test('the refresh renews the sentinel with set when L2 still misses; the counter restarts at N', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    const r = new L1L2CacheRoute(l1, l2, { ...SETTINGS, ncacheExptime: 10, ncacheUpdatePeriod: 2 });
    routeSync(r, makeRequest('get', 'k'));
    l1.data.set('k', { flags: NCACHE_FLAG, data: 'ncache', exptime: 1 }); // as if nearly expired
    const ctx = makeTestContext();
    for (let i = 0; i < 4; i++) expect(routeSync(r, makeRequest('get', 'k'), ctx).result).toBe('notfound');
    expect(ctx.spawned).toHaveLength(2); // hits 2 and 4
    expect(l1.data.get('k')).toEqual({ flags: NCACHE_FLAG, data: 'ncache', exptime: 10 });
    expect(l1.seen.filter((q) => q.op === 'set')).toHaveLength(2);
    // The client never waits for the refresh: with L2 hung, the Nth hit is still answered at once.
    const hung = new FakeRoute('l2', 'notfound', { hang: true });
    const l1b = new MemRoute('l1');
    l1b.data.set('k', { flags: NCACHE_FLAG, data: 'ncache', exptime: 0 });
    expect(routeSync(new L1L2CacheRoute(l1b, hung, { ...SETTINGS, ncacheUpdatePeriod: 1 }), makeRequest('get', 'k')).result).toBe('notfound');
    expect(hung.pending).toHaveLength(1);
  });

  test('hitFlags reads the flags of VALUE lines in place', () => {
    expect(hitFlags(Buffer.from('VALUE k 65536 1\r\nx\r\n'))).toBe(65536);
    expect(hitFlags(Buffer.from('VALUE some:key 4294967295 1 99\r\nx\r\n'))).toBe(4294967295);
    expect(hitFlags(Buffer.from('VA 1 f5\r\nx\r\n'))).toBe(-1);
    expect(hitFlags(null)).toBe(-1);
  });

  test('writes go to L1 only (mcrouter); write_l2 sends them to both', () => {
    const l1 = new MemRoute('l1');
    const l2 = new MemRoute('l2');
    routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('set', 'k', 'v'));
    routeSync(new L1L2CacheRoute(l1, l2, SETTINGS), makeRequest('delete', 'k'));
    expect(l2.seen).toHaveLength(0);
    const both = new L1L2CacheRoute(l1, l2, { ...SETTINGS, writeL2: true });
    expect(routeSync(both, makeRequest('set', 'k', 'v')).result).toBe('stored');
    expect(l2.data.get('k')?.data).toBe('v');
    expect(routeSync(both, makeRequest('delete', 'k')).result).toBe('deleted');
    expect(l1.data.has('k') || l2.data.has('k')).toBe(false);
  });

  test('refill drops over the cap are counted and do not change the reply', () => {
    const l2 = new MemRoute('l2');
    l2.data.set('k', { flags: 0, data: 'x', exptime: 0 });
    const ctx = makeTestContext({ spawnCap: 0 });
    expect(routeSync(new L1L2CacheRoute(new MemRoute('l1'), l2, SETTINGS), makeRequest('get', 'k'), ctx).result).toBe('found');
    expect(ctx.stats.refillDropped).toBe(1);
  });

  test('factory: upgradingL1Exptime is required; defaults filled', () => {
    const pools = { L1: { servers: ['127.0.0.1:1'] }, L2: { servers: ['127.0.0.1:2'] } };
    const r = buildWith([l1l2CacheRouteFactory], { type: 'L1L2CacheRoute', l1: 'PoolRoute|L1', l2: 'PoolRoute|L2', upgradingL1Exptime: 60 }, pools) as L1L2CacheRoute;
    expect(r.settings).toEqual({ upgradingL1Exptime: 60, ncacheExptime: 0, ncacheUpdatePeriod: 0, writeL2: false });
    expect(traverseDestinations(r, makeRequest('get', 'k'))).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(traverseDestinations(r, makeRequest('set', 'k', 'v'))).toEqual(['127.0.0.1:1']);
    expect(() => buildWith([l1l2CacheRouteFactory], { type: 'L1L2CacheRoute', l1: 'PoolRoute|L1', l2: 'PoolRoute|L2' }, pools)).toThrow(/upgradingL1Exptime/);
  });
});
