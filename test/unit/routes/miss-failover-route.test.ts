import { describe, expect, test } from 'vitest';
import { Reply, type Op, type Result } from '../../../src/protocol/types.js';
import { MissFailoverRoute } from '../../../src/routes/miss-failover-route.js';
import { NullRoute } from '../../../src/routes/null-route.js';
import { FakeRoute, makeRequest, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';

const kids = (...results: Result[]): FakeRoute[] =>
  results.map((r, i) => new FakeRoute(`c${i}`, r === 'found' ? new Reply('found', Buffer.from(`c${i}`)) : r));

describe('MissFailoverRoute', () => {
  test('gets go on past misses and errors until the first hit (mcrouter MissFailoverRouteTest shape)', () => {
    for (const op of ['get', 'gets', 'gat', 'gats', 'mg', 'me'] as Op[]) {
      const c = kids('notfound', 'timeout', 'found', 'found');
      const r = routeSync(new MissFailoverRoute(c), makeRequest(op, 'k'));
      expect(who(r)).toBe('c2');
      expect(r.isFailover).toBe(true);
      expect(c.map((x) => x.seen.length)).toEqual([1, 1, 1, 0]);
    }
    const first = kids('found', 'found');
    const r = routeSync(new MissFailoverRoute(first), makeRequest('get', 'k'));
    expect([who(r), r.isFailover]).toEqual(['c0', false]);
  });

  test('deletes go on until one deletes the key', () => {
    for (const op of ['delete', 'md'] as Op[]) {
      const c = kids('notfound', 'deleted', 'deleted');
      expect(routeSync(new MissFailoverRoute(c), makeRequest(op, 'k')).result).toBe('deleted');
      expect(c.map((x) => x.seen.length)).toEqual([1, 1, 0]);
    }
  });

  test('no hit: the last reply, or the best with return_best_on_error (a miss beats an error)', () => {
    expect(routeSync(new MissFailoverRoute(kids('notfound', 'timeout')), makeRequest('get', 'k')).result).toBe('timeout');
    const best = routeSync(new MissFailoverRoute(kids('timeout', 'notfound', 'connect_error'), true), makeRequest('get', 'k'));
    expect(best.result).toBe('notfound');
    expect(best.isFailover).toBe(true);
    const firstBest = routeSync(new MissFailoverRoute(kids('notfound', 'timeout'), true), makeRequest('get', 'k'));
    expect([firstBest.result, firstBest.isFailover]).toEqual(['notfound', false]);
    // Equal severity: the earliest wins.
    const c = [new FakeRoute('x', new Reply('timeout', null, 'x')), new FakeRoute('y', new Reply('busy', null, 'y'))];
    expect(routeSync(new MissFailoverRoute(c, true), makeRequest('get', 'k')).message).toBe('x');
  });

  test('other ops go to children[0] only', () => {
    for (const op of ['set', 'add', 'incr', 'touch', 'ms'] as Op[]) {
      const c = kids('timeout', 'stored');
      expect(routeSync(new MissFailoverRoute(c), makeRequest(op, 'k', 'v')).result).toBe('timeout');
      expect(c[1]?.seen.length).toBe(0);
    }
    const { root } = buildRoute({ type: 'MissFailoverRoute', children: ['Fake|a', 'Fake|b'] });
    expect(traverseDestinations(root, makeRequest('set', 'k', 'v'))).toEqual(['a']);
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['a', 'b']);
  });

  test('async children', async () => {
    const c = [new FakeRoute('a', 'notfound', { async: true }), new FakeRoute('b', new Reply('found', Buffer.from('b')), { async: true })];
    expect(who(await routeOnce(new MissFailoverRoute(c), makeRequest('get', 'k')))).toBe('b');
  });

  test('config', () => {
    const { root } = buildRoute({ type: 'MissFailoverRoute', children: [{ type: 'Fake', id: 'a', result: 'notfound' }, 'Fake|b'], return_best_on_error: true });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('b');
    expect(buildRoute({ type: 'MissFailoverRoute', children: [] }).root).toBeInstanceOf(NullRoute);
    expect(who(routeSync(buildRoute('MissFailoverRoute|Fake|a').root, makeRequest('get', 'k')))).toBe('a');
    expect(configError({ type: 'MissFailoverRoute', children: ['Fake|a'], return_best_on_error: 'yes' }).path).toBe('/route/return_best_on_error');
  });
});
