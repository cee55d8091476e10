import { describe, expect, test } from 'vitest';
import { storageRequest } from '../../../src/protocol/rewrite.js';
import type { Reply } from '../../../src/protocol/types.js';
import { L1L2SizeSplitRoute, SIZE_SPLIT_FLAG, type SizeSplitSettings } from '../../../src/routes/l1l2-size-split-route.js';
import { makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { MemRoute } from './helpers/mem-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

const S: SizeSplitSettings = { threshold: 10, ttlThreshold: 0, failureTtl: 60, bothFullSet: false, retries: 1 };

function setup(settings: Partial<SizeSplitSettings> = {}) {
  const l1 = new MemRoute('l1');
  const l2 = new MemRoute('l2');
  const route = new L1L2SizeSplitRoute(l1, l2, { ...S, ...settings });
  return { l1, l2, route };
}

const set = (key: string, value: string, flags = 0, exptime = 0) => storageRequest('set', Buffer.from(key), flags, exptime, Buffer.from(value));
const text = (r: Reply): string => r.raw?.toString('latin1') ?? r.result;
const BIG = 'x'.repeat(10);

describe('L1L2SizeSplitRoute', () => {
  test('values under threshold go to l1 only', () => {
    const { l1, l2, route } = setup();
    expect(routeSync(route, set('k', 'small', 3)).result).toBe('stored');
    expect(l1.items.get('k')).toMatchObject({ flags: 3 });
    expect(l2.seen).toHaveLength(0);
    expect(text(routeSync(route, makeRequest('get', 'k')))).toBe('VALUE k 3 5\r\nsmall\r\n');
  });

  test('values from threshold bytes go to l2 first; l1 gets an empty sentinel with flags | 0x20 and the exptime', () => {
    const { l1, l2, route } = setup();
    expect(routeSync(route, set('k', BIG, 5, 300)).result).toBe('stored');
    expect(l2.items.get('k')).toMatchObject({ flags: 5, exptime: 300 });
    expect(l2.value('k')).toBe(BIG);
    expect(l1.items.get('k')).toMatchObject({ flags: 5 | SIZE_SPLIT_FLAG, exptime: 300 });
    expect(l1.value('k')).toBe('');
    expect(l2.seen[0]?.op).toBe('set');
    // get follows the empty sentinel to l2 and answers with l2's reply.
    expect(text(routeSync(route, makeRequest('get', 'k')))).toBe(`VALUE k 5 10\r\n${BIG}\r\n`);
  });

  test('threshold 0, a short exptime under ttl_threshold, or a key over 231 bytes keep the value in l1', () => {
    const zero = setup({ threshold: 0 });
    routeSync(zero.route, set('k', BIG));
    expect(zero.l2.seen).toHaveLength(0);
    const ttl = setup({ ttlThreshold: 100 });
    routeSync(ttl.route, set('a', BIG, 0, 99));
    routeSync(ttl.route, set('b', BIG, 0, 0)); // 0 (never expires) is below 100 too, as in mcrouter
    expect(ttl.l2.seen).toHaveLength(0);
    routeSync(ttl.route, set('c', BIG, 0, 100));
    expect(ttl.l2.value('c')).toBe(BIG);
    const keys = setup();
    routeSync(keys.route, set('k'.repeat(232), BIG));
    expect(keys.l2.seen).toHaveLength(0);
    routeSync(keys.route, set('k'.repeat(231), BIG));
    expect(keys.l2.seen).toHaveLength(1);
  });

  test('an l2 failure is the reply and l1 is left alone', () => {
    const { l1, l2, route } = setup();
    l2.fail = 'timeout';
    expect(routeSync(route, set('k', BIG)).result).toBe('timeout');
    expect(l1.seen).toHaveLength(0);
  });

  test('both_full_set: the full value to l1, then to l2 in the background once stored', () => {
    const { l1, l2, route } = setup({ bothFullSet: true });
    const ctx = makeTestContext();
    expect(routeSync(route, set('k', BIG, 2), ctx).result).toBe('stored');
    expect(l1.value('k')).toBe(BIG);
    expect(ctx.spawned.map((s) => [s.handle.name, s.kind])).toEqual([['l2', 'async']]);
    expect(l2.value('k')).toBe(BIG);
    l1.fail = 'busy';
    const ctx2 = makeTestContext();
    expect(routeSync(route, set('k2', BIG), ctx2).result).toBe('busy');
    expect(ctx2.spawned).toHaveLength(0);
  });

  test('get: an empty sentinel whose l2 copy is gone is a miss (the sentinel stays)', () => {
    const { l1, route } = setup();
    l1.put('k', '', SIZE_SPLIT_FLAG);
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('notfound');
    expect(l1.items.has('k')).toBe(true);
  });

  test('get: a sentinel with a value reads <key>|==|<value> from l2 (lease-set sentinels)', () => {
    const { l1, l2, route } = setup();
    l1.put('k', '4242', SIZE_SPLIT_FLAG);
    l2.put('k|==|4242', 'the big one', 7);
    expect(text(routeSync(route, makeRequest('get', 'k')))).toBe('VALUE k 7 11\r\nthe big one\r\n');
    expect(l2.keys).toEqual(['k|==|4242']);
    // An l2 miss deletes the sentinel (gets, then cas with exptime -1) and answers local_error.
    l2.items.clear();
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('local_error');
    expect(l1.items.has('k')).toBe(false);
    expect(l1.seen.slice(-2).map((r) => r.op)).toEqual(['gets', 'cas']);
    // An l2 failover error deletes it too and is returned; another error is returned as it is.
    l1.put('k', '7', SIZE_SPLIT_FLAG);
    l2.fail = 'timeout';
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('timeout');
    expect(l1.items.has('k')).toBe(false);
    l1.put('k', '7', SIZE_SPLIT_FLAG);
    l2.fail = 'client_error';
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('client_error');
    expect(l1.items.has('k')).toBe(true);
  });

  test('the sentinel is only deleted when it still holds the value read', () => {
    const { l1, l2, route } = setup();
    l1.put('k', '1', SIZE_SPLIT_FLAG);
    // Between the read and the delete a writer replaces the sentinel: the l1 gets sees another value.
    let gets = 0;
    const real = l1.route.bind(l1);
    l1.route = (req, ctx, done) => {
      if (req.op === 'gets' && gets++ === 0) l1.put('k', '2', SIZE_SPLIT_FLAG);
      real(req, ctx, done);
    };
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('local_error');
    expect(l1.value('k')).toBe('2');
    expect(l1.seen.some((r) => r.op === 'cas')).toBe(false);
    void l2;
  });

  test('gets: an l2 hit carries the sentinel\'s CAS token; a dangling sentinel is deleted and the read retried', () => {
    const { l1, l2, route } = setup();
    const sentinel = l1.put('k', '', SIZE_SPLIT_FLAG);
    l2.put('k', BIG, 9);
    expect(text(routeSync(route, makeRequest('gets', 'k')))).toBe(`VALUE k 9 10 ${sentinel.cas}\r\n${BIG}\r\n`);
    l2.items.clear();
    // retries 1: delete the sentinel, read again: now a plain l1 miss.
    expect(routeSync(route, makeRequest('gets', 'k')).result).toBe('notfound');
    expect(l1.items.has('k')).toBe(false);
  });

  test('gets: `retries` bounds the rereads of a sentinel that keeps coming back, then local_error', () => {
    for (const retries of [1, 3, 10]) {
      const { l1, l2, route } = setup({ retries });
      l1.put('k', '', SIZE_SPLIT_FLAG);
      const real = l1.route.bind(l1);
      l1.route = (req, ctx, done) => {
        real(req, ctx, (r) => {
          if (req.op === 'cas') l1.put('k', '', SIZE_SPLIT_FLAG); // a writer puts it right back
          done(r);
        });
      };
      expect(routeSync(route, makeRequest('gets', 'k')).result, `retries ${retries}`).toBe('local_error');
      expect(l2.seen, `retries ${retries}`).toHaveLength(retries + 1);
    }
  });

  test('every other op goes to l1 only', () => {
    const { l1, l2, route } = setup();
    for (const req of [makeRequest('add', 'k', BIG), makeRequest('delete', 'k'), makeRequest('gat', 'k'), makeRequest('cas', 'k', BIG), makeRequest('touch', 'k'), makeRequest('mg', 'k')]) {
      routeSync(route, req);
    }
    expect(l2.seen).toHaveLength(0);
    expect(l1.seen).toHaveLength(6);
    expect(traverseDestinations(route, makeRequest('delete', 'k'))).toEqual(['l1']);
    expect(traverseDestinations(route, makeRequest('get', 'k'))).toEqual(['l1', 'l2']);
  });

  test('config: threshold required; retries 1..10; ttl_threshold >= 0; failure_ttl > 0; defaults as mcrouter', () => {
    const base = { type: 'L1L2SizeSplitRoute', l1: 'Fake|a', l2: 'Fake|b' };
    expect(configError(base).message).toMatch(/^\/route: L1L2SizeSplitRoute: .*threshold/);
    expect(configError({ ...base, threshold: 1.5 }).path).toBe('/route/threshold');
    expect(configError({ ...base, threshold: 10, retries: 0 }).path).toBe('/route/retries');
    expect(configError({ ...base, threshold: 10, retries: 11 }).path).toBe('/route/retries');
    expect(configError({ ...base, threshold: 10, ttl_threshold: -1 }).path).toBe('/route/ttl_threshold');
    expect(configError({ ...base, threshold: 10, failure_ttl: 0 }).path).toBe('/route/failure_ttl');
    expect(configError({ ...base, threshold: 10, both_full_set: 'yes' }).path).toBe('/route/both_full_set');
    const r = buildRoute({ ...base, threshold: 100, retries: 10 }).root as L1L2SizeSplitRoute;
    expect(r.settings).toEqual({ threshold: 100, ttlThreshold: 0, failureTtl: 60, bothFullSet: false, retries: 10 });
    // A negative threshold is mcrouter's size_t wrapping to a huge one: nothing is split.
    expect((buildRoute({ ...base, threshold: -1 }).root as L1L2SizeSplitRoute).settings.threshold).toBe(Number.POSITIVE_INFINITY);
  });
});
