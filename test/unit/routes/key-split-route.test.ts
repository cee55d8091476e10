import { describe, expect, test } from 'vitest';
import { Reply, type Request } from '../../../src/protocol/types.js';
import { KeySplitRoute, replicaKey } from '../../../src/routes/key-split-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

describe('KeySplitRoute', () => {
  test('replica keys: key::<id>, before |#| when present, id 0 = the key', () => {
    const k = (s: string, id: number): string => replicaKey(Buffer.from(s), id).toString();
    expect(k('hot', 0)).toBe('hot');
    expect(k('hot', 3)).toBe('hot::3');
    expect(k('hot|#|tail', 2)).toBe('hot::2|#|tail');
    expect(k('/r/c/hot|#|t', 1)).toBe('/r/c/hot::1|#|t');
  });

  test('gets read this host\'s replica (hostId % replicas)', () => {
    const dest = new FakeRoute('d', 'found');
    const route = new KeySplitRoute(dest, 3, false);
    for (const [hostId, want] of [[0, 'hot'], [1, 'hot::1'], [5, 'hot::2']] as const) {
      routeSync(route, makeRequest('get', 'hot'), makeTestContext({ hostId }));
      expect(dest.keys[dest.keys.length - 1]).toBe(want);
    }
  });

  test('updates without all_sync: own replica answers, the others are written in the background', () => {
    const dest = new FakeRoute('d', 'stored');
    const ctx = makeTestContext({ hostId: 4 });
    const r = routeSync(new KeySplitRoute(dest, 3, false), makeRequest('set', 'hot', 'v'), ctx);
    expect(r.result).toBe('stored');
    expect(dest.keys).toEqual(['hot::1', 'hot', 'hot::2']);
    expect(ctx.spawned.map((s) => [s.kind, s.req.keyString()])).toEqual([['async', 'hot'], ['async', 'hot::2']]);
    expect(ctx.spawned[0]?.req.value).toBe(dest.seen[0]?.value);
  });

  test('updates with all_sync and all deletes: every replica, worst reply', () => {
    const dest = new FakeRoute('d', (req: Request) => new Reply(req.keyString() === 'hot::1' ? 'notstored' : 'stored'));
    const ctx = makeTestContext();
    expect(routeSync(new KeySplitRoute(dest, 3, true), makeRequest('set', 'hot', 'v'), ctx).result).toBe('notstored');
    expect(dest.keys).toEqual(['hot', 'hot::1', 'hot::2']);
    expect(ctx.spawned.length).toBe(0);
    const del = new FakeRoute('d', (req: Request) => new Reply(req.keyString() === 'hot' ? 'timeout' : 'deleted'));
    expect(routeSync(new KeySplitRoute(del, 2, false), makeRequest('delete', 'hot')).result).toBe('timeout');
    expect(del.keys).toEqual(['hot', 'hot::1']);
  });

  test('first_hit: every replica in parallel, first hit wins; no hit → own replica reply', async () => {
    const dest = new FakeRoute('d', (req: Request) => (req.keyString() === 'hot::2' ? new Reply('found', Buffer.from('2')) : new Reply('notfound')), { async: true });
    const r = await routeOnce(new KeySplitRoute(dest, 3, false, true), makeRequest('get', 'hot'));
    expect(r.raw?.toString()).toBe('2');
    const miss = new FakeRoute('d', (req: Request) => new Reply(req.keyString() === 'hot::1' ? 'timeout' : 'notfound'));
    expect(routeSync(new KeySplitRoute(miss, 3, false, true), makeRequest('get', 'hot'), makeTestContext({ hostId: 1 })).result).toBe('timeout');
  });

  test('arithmetic goes to the own replica; keys too long are not split', () => {
    const dest = new FakeRoute('d', 'stored');
    const route = new KeySplitRoute(dest, 2, true);
    routeSync(route, makeRequest('incr', 'n'), makeTestContext({ hostId: 1 }));
    expect(dest.keys).toEqual(['n::1']);
    const long = 'k'.repeat(246);
    routeSync(route, makeRequest('set', long, 'v'), makeTestContext({ hostId: 1 }));
    expect(dest.keys.slice(1)).toEqual([long]);
    const ok = 'k'.repeat(245);
    routeSync(route, makeRequest('get', ok), makeTestContext({ hostId: 1 }));
    expect(dest.keys[2]).toBe(`${ok}::1`);
    expect(traverseDestinations(route, makeRequest('delete', 'x'))).toEqual(['d', 'd']);
  });

  test('config: replicas 2..1000, all_sync required, first_hit default false', () => {
    const { root } = buildRoute({ type: 'KeySplitRoute', destination: 'Fake|d', replicas: 2, all_sync: false });
    expect((root as KeySplitRoute).firstHit).toBe(false);
    expect(configError({ type: 'KeySplitRoute', destination: 'Fake|d', replicas: 1, all_sync: true }).path).toBe('/route/replicas');
    expect(configError({ type: 'KeySplitRoute', destination: 'Fake|d', replicas: 1001, all_sync: true }).path).toBe('/route/replicas');
    expect(configError({ type: 'KeySplitRoute', destination: 'Fake|d', replicas: 2 }).message).toMatch(/^\/route: KeySplitRoute: .*all_sync/);
  });
});
