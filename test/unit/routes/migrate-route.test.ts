import { describe, expect, test } from 'vitest';
import { Reply, type Result } from '../../../src/protocol/types.js';
import { spooky32 } from '../../../src/routes/hash/selector.js';
import { MigrateRoute } from '../../../src/routes/migrate-route.js';
import { FakeRoute, makeRequest, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';

const START = 1_700_000_000;
const I = 3600;

function setup(fromResult: Result = 'found', toResult: Result = 'found') {
  let now = 0;
  const from = new FakeRoute('from', fromResult === 'found' ? new Reply('found', Buffer.from('from')) : fromResult);
  const to = new FakeRoute('to', toResult === 'found' ? new Reply('found', Buffer.from('to')) : toResult);
  const route = new MigrateRoute(from, to, START, I, () => now);
  return { route, from, to, at: (t: number) => { now = t; } };
}

describe('MigrateRoute', () => {
  test('before start everything goes to from; after start + 2·interval everything goes to to', () => {
    const { route, at } = setup();
    at(START - 1);
    expect(who(routeSync(route, makeRequest('get', 'k')))).toBe('from');
    expect(traverseDestinations(route, makeRequest('delete', 'k'))).toEqual(['from']);
    at(START + 2 * I);
    expect(who(routeSync(route, makeRequest('get', 'k')))).toBe('to');
    expect(traverseDestinations(route, makeRequest('delete', 'k'))).toEqual(['to']);
  });

  test('deletes go to both during [start, start + 2·interval) and answer the worst reply', () => {
    for (const t of [START, START + I, START + 2 * I - 1]) {
      const s = setup('deleted', 'notfound');
      s.at(t);
      expect(routeSync(s.route, makeRequest('delete', 'k')).result).toBe('notfound');
      expect([s.from.seen.length, s.to.seen.length]).toEqual([1, 1]);
    }
    const s = setup('timeout', 'deleted');
    s.at(START);
    expect(routeSync(s.route, makeRequest('md', 'k')).result).toBe('timeout');
  });

  test('other ops switch per key at start + interval + spooky32(routingKey) % interval', () => {
    const { route, at } = setup();
    const keys = Array.from({ length: 50 }, (_, i) => `key:${i}`);
    at(START + I - 1);
    for (const k of keys) expect(who(routeSync(route, makeRequest('get', k)))).toBe('from');
    for (const k of keys) {
      const sw = START + I + (spooky32(Buffer.from(k), 0) % I);
      at(sw - 1);
      expect(who(routeSync(route, makeRequest('set', k, 'v')))).toBe('from');
      at(sw);
      expect(who(routeSync(route, makeRequest('get', k)))).toBe('to');
      // The routing key decides: routing prefix and |#| suffix do not change the switch time.
      expect(who(routeSync(route, makeRequest('get', `/r/c/${k}|#|x`)))).toBe('to');
    }
    // Mid-way, keys are split between the two.
    at(START + I + I / 2);
    const mid = keys.map((k) => who(routeSync(route, makeRequest('get', k))));
    expect(mid).toContain('from');
    expect(mid).toContain('to');
  });

  test('async children: dual deletes wait for both', async () => {
    let now = START;
    const from = new FakeRoute('from', 'deleted', { async: true });
    const to = new FakeRoute('to', 'deleted', { async: true });
    const r = await routeOnce(new MigrateRoute(from, to, START, I, () => now), makeRequest('delete', 'k'));
    expect(r.result).toBe('deleted');
    now++;
  });

  test('config: interval defaults to 3600; start_time required', () => {
    const { root } = buildRoute({ type: 'MigrateRoute', from: 'Fake|F', to: 'Fake|T', start_time: 1 });
    expect((root as MigrateRoute).interval).toBe(3600);
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('T');
    expect(configError({ type: 'MigrateRoute', from: 'Fake|F', to: 'Fake|T' }).message).toMatch(/^\/route: MigrateRoute: .*start_time/);
    expect(configError({ type: 'MigrateRoute', from: 'Fake|F', to: 'Fake|T', start_time: 1, interval: 0 }).path).toBe('/route/interval');
    expect(configError({ type: 'MigrateRoute', from: 'Nope', to: 'Fake|T', start_time: 1 }).path).toBe('/route/from');
  });
});
