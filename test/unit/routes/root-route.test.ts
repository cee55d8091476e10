import { describe, expect, test } from 'vitest';
import { RootRoute, isValidRoutingPrefix } from '../../../src/routes/root-route.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';

function setup(sendInvalidRouteToDefault = false) {
  const def = new FakeRoute('default', 'found');
  const a1 = new FakeRoute('a1', 'found');
  const a2 = new FakeRoute('a2', 'found');
  const b1 = new FakeRoute('b1', 'found');
  const fb = new FakeRoute('a-fallback', 'found');
  const table = new Map<string, RouteHandle>([
    ['/a/c1/', a1], ['/a/c2/', a2], ['/b/c1/', b1], ['/././', def], ['/a/fallback/', fb], ['/a/alias-of-c1/', a1],
  ]);
  return { root: new RootRoute(table, '/././', { sendInvalidRouteToDefault }), def, a1, a2, b1, fb };
}

const spawnedNames = (ctx: ReturnType<typeof makeTestContext>) => ctx.spawned.map((s) => s.handle.name);

describe('RootRoute', () => {
  test('keys without a routing prefix go to the default tree only', () => {
    const { root, def } = setup();
    const ctx = makeTestContext();
    for (const k of ['foo', '/notaprefix', '/a/', '//x/y']) routeSync(root, makeRequest('get', k), ctx);
    expect(def.keys).toEqual(['foo', '/notaprefix', '/a/', '//x/y']);
    expect(ctx.spawned).toHaveLength(0);
  });

  test('an exact alias wins; several aliases of one tree are the same tree', () => {
    const { root, a1, a2, def } = setup();
    routeSync(root, makeRequest('get', '/a/c1/k'));
    routeSync(root, makeRequest('get', '/a/alias-of-c1/k'));
    routeSync(root, makeRequest('get', '/a/c2/k'));
    routeSync(root, makeRequest('get', '/././k'));
    expect(a1.keys).toEqual(['/a/c1/k', '/a/alias-of-c1/k']);
    expect(a2.keys).toEqual(['/a/c2/k']);
    expect(def.keys).toEqual(['/././k']);
  });

  test('an unknown cluster of a region with a fallback alias goes to the fallback', () => {
    const { root, fb } = setup();
    routeSync(root, makeRequest('get', '/a/c9/k'));
    expect(fb.keys).toEqual(['/a/c9/k']);
  });

  test('no route: SERVER_ERROR reply, unless sendInvalidRouteToDefault', () => {
    const { root } = setup();
    const reply = routeSync(root, makeRequest('get', '/zz/c1/k'));
    expect(reply.result).toBe('local_error');
    expect(reply.message).toBeNull();
    const s = setup(true);
    expect(routeSync(s.root, makeRequest('get', '/zz/c1/k')).result).toBe('found');
    expect(s.def.keys).toEqual(['/zz/c1/k']);
  });

  test('/*/*/ sends to every tree once: reply from the default, the rest in the background', () => {
    const { root, def, a1, a2, b1, fb } = setup();
    const ctx = makeTestContext();
    const reply = routeSync(root, makeRequest('delete', '/*/*/k'), ctx);
    expect(reply.result).toBe('found');
    expect(def.seen).toHaveLength(1);
    for (const f of [a1, a2, b1, fb]) expect(f.seen).toHaveLength(1);
    expect(spawnedNames(ctx).sort()).toEqual(['a-fallback', 'a1', 'a2', 'b1']);
    expect(ctx.spawned.every((s) => s.kind === 'async')).toBe(true);
    expect(ctx.stats.asyncSent).toBe(4);
  });

  test('/<region>/*/ sends to that region only; the first alias answers', () => {
    const { root, a1, a2, b1, fb } = setup();
    const ctx = makeTestContext();
    routeSync(root, makeRequest('set', '/a/*/k', 'v'), ctx);
    expect([a1, a2, fb].map((f) => f.seen.length)).toEqual([1, 1, 1]);
    expect(b1.seen).toHaveLength(0);
    expect(spawnedNames(ctx)).toEqual(['a2', 'a-fallback']);
  });

  test('other globs match each component', () => {
    const { root, a1, b1, a2 } = setup();
    const ctx = makeTestContext();
    routeSync(root, makeRequest('get', '/*/c1/k'), ctx);
    expect(a1.seen).toHaveLength(1);
    expect(b1.seen).toHaveLength(1);
    expect(a2.seen).toHaveLength(0);
    expect(routeSync(root, makeRequest('get', '/q*/c*/k')).result).toBe('local_error');
    // cached glob result is reused
    routeSync(root, makeRequest('get', '/*/c1/k2'), ctx);
    expect(a1.seen).toHaveLength(2);
  });

  test('a dropped background copy does not change the reply', () => {
    const { root } = setup();
    const ctx = makeTestContext({ spawnCap: 0 });
    expect(routeSync(root, makeRequest('delete', '/*/*/k'), ctx).result).toBe('found');
    expect(ctx.stats.asyncDropped).toBe(4);
  });

  test('traverse lists every target tree', () => {
    const { root } = setup();
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['default']);
    expect(traverseDestinations(root, makeRequest('get', '/a/*/k'))).toEqual(['a1', 'a2', 'a-fallback']);
    expect(traverseDestinations(root, makeRequest('get', '/x/y/k'))).toEqual([]);
  });

  test('the default prefix must be in the table; aliases are reported', () => {
    expect(() => new RootRoute(new Map(), '/././', { sendInvalidRouteToDefault: false })).toThrow(/no route/);
    expect(setup().root.aliases()).toContain('/a/fallback/');
  });

  test('routing prefix shape', () => {
    expect(isValidRoutingPrefix('/././')).toBe(true);
    expect(isValidRoutingPrefix('/us-east_1/c.1/')).toBe(true);
    for (const bad of ['/a/', '/a/b', 'a/b/', '//b/', '/a/b/c/', '/a b/c/', '/a/*/']) expect(isValidRoutingPrefix(bad)).toBe(false);
  });
});
