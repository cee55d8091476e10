import { describe, expect, test } from 'vitest';
import { Reply, type Result } from '../../../src/protocol/types.js';
import { FailoverRoute } from '../../../src/routes/failover-route.js';
import { NullRoute } from '../../../src/routes/null-route.js';
import { FailoverErrors } from '../../../src/routes/util/failover-errors.js';
import { RatioTokenBucket } from '../../../src/routes/util/token-bucket.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/route-a-config.js';

const kids = (...results: Result[]): FakeRoute[] =>
  results.map((r, i) => new FakeRoute(`c${i}`, r === 'found' ? new Reply('found', Buffer.from(`c${i}`)) : r));

describe('FailoverRoute', () => {
  test('first non-error reply wins; misses and NOT_STORED are answers, not errors', () => {
    for (const answer of ['found', 'notfound', 'notstored', 'exists', 'stored'] as Result[]) {
      const c = kids(answer, 'found');
      const r = routeSync(new FailoverRoute(c), makeRequest('get', 'k'));
      expect(r.result).toBe(answer);
      expect(r.isFailover).toBe(false);
      expect(c[1]?.seen.length).toBe(0);
    }
  });

  test('fails over in order on errors; failover replies are marked', () => {
    const c = kids('timeout', 'connect_error', 'found', 'found');
    const ctx = makeTestContext();
    const r = routeSync(new FailoverRoute(c), makeRequest('get', 'k'), ctx);
    expect(who(r)).toBe('c2');
    expect(r.isFailover).toBe(true);
    expect(c.map((x) => x.seen.length)).toEqual([1, 1, 1, 0]);
    expect(ctx.stats.failoverAll).toBe(0);
  });

  test('all fail: the last reply, counted in failoverAll and failoverAllFailed', () => {
    const c = kids('timeout', 'busy', 'remote_error');
    const ctx = makeTestContext();
    const r = routeSync(new FailoverRoute(c), makeRequest('set', 'k', 'v'), ctx);
    expect(r.result).toBe('remote_error');
    expect(r.isFailover).toBe(true);
    expect(ctx.stats.failoverAll).toBe(1);
    expect(ctx.stats.failoverAllFailed).toBe(1);
    // Reaching the last child and succeeding there counts failoverAll only.
    const ctx2 = makeTestContext();
    routeSync(new FailoverRoute(kids('timeout', 'timeout', 'stored')), makeRequest('set', 'k', 'v'), ctx2);
    expect([ctx2.stats.failoverAll, ctx2.stats.failoverAllFailed]).toEqual([1, 0]);
  });

  test('errors outside failover_errors are returned as they are', () => {
    const c = kids('client_error', 'found');
    expect(routeSync(new FailoverRoute(c), makeRequest('get', 'k')).result).toBe('client_error');
    expect(c[1]?.seen.length).toBe(0);
  });

  test('failover_errors as a list, and per op class', () => {
    const list = buildRoute({ type: 'FailoverRoute', children: [{ type: 'Fake', id: 'a', result: 'timeout' }, { type: 'Fake', id: 'b', result: 'busy' }, 'Fake|c'], failover_errors: ['timeout'] });
    expect(routeSync(list.root, makeRequest('get', 'k')).result).toBe('busy');
    const perClass = buildRoute({
      type: 'FailoverRoute',
      children: [{ type: 'Fake', id: 'a', result: 'timeout' }, 'Fake|b'],
      failover_errors: { gets: ['mc_res_timeout'], updates: ['busy'] },
    });
    expect(who(routeSync(perClass.root, makeRequest('get', 'k')))).toBe('b');
    expect(routeSync(perClass.root, makeRequest('set', 'k', 'v')).result).toBe('timeout');
    // deletes not given: the default set (timeout included).
    expect(who(routeSync(perClass.root, makeRequest('delete', 'k')))).toBe('b');
    // arithmetic: always the default set.
    expect(who(routeSync(perClass.root, makeRequest('incr', 'k')))).toBe('b');
  });

  test('FailoverErrors defaults equal FAILOVER_ERRORS', () => {
    const e = new FailoverErrors();
    for (const r of ['busy', 'shutdown', 'tko', 'try_again', 'local_error', 'connect_error', 'connect_timeout', 'timeout', 'remote_error', 'deadline_exceeded'] as Result[]) {
      expect(e.shouldFailover('get', r)).toBe(true);
    }
    for (const r of ['notfound', 'found', 'client_error', 'bad_key', 'notstored'] as Result[]) expect(e.shouldFailover('get', r)).toBe(false);
  });

  test('connect errors, connect timeouts, shutdown and tko do not spend failover_limit tokens (isTkoOrHardTkoResult)', () => {
    // mcrouter FailoverRouteTest rateLimitWithTKO / ignoreTkoAndHardTko: rate 0.5, burst 1 (one token, then
    // half a token per request). Every request fails over past TKO and hard-TKO replies and still succeeds.
    for (const dead of ['tko', 'connect_error', 'connect_timeout', 'shutdown'] as Result[]) {
      const route = new FailoverRoute(kids(dead, 'found'), { errors: new FailoverErrors(), limit: new RatioTokenBucket(0.5, 1) });
      const ctx = makeTestContext();
      for (let i = 0; i < 4; i++) expect(who(routeSync(route, makeRequest('get', 'k'), ctx)), dead).toBe('c1');
      expect(ctx.stats.failoverRateLimited, dead).toBe(0);
      expect(ctx.stats.failoverTkoSkipped, dead).toBe(4);
    }
    // A real error (a timeout) does spend them: found, refused, found, refused (mcrouter rateLimit).
    const route = new FailoverRoute(kids('timeout', 'found'), { errors: new FailoverErrors(), limit: new RatioTokenBucket(0.5, 1) });
    const ctx = makeTestContext();
    const got = [0, 1, 2, 3].map(() => routeSync(route, makeRequest('get', 'k'), ctx).result);
    expect(got).toEqual(['found', 'timeout', 'found', 'timeout']);
    expect(ctx.stats.failoverRateLimited).toBe(2);
  });

  test('tko replies are skipped without spending a failover token', () => {
    const limit = new RatioTokenBucket(0, 1);
    const route = new FailoverRoute(kids('tko', 'tko', 'found'), { errors: new FailoverErrors(), limit });
    const ctx = makeTestContext();
    for (let i = 0; i < 3; i++) expect(who(routeSync(route, makeRequest('get', 'k'), ctx))).toBe('c2');
    expect(ctx.stats.failoverTkoSkipped).toBe(6);
    expect(ctx.stats.failoverRateLimited).toBe(0);
  });

  test('failover_limit: when the bucket is empty, the first error is returned', () => {
    const { root } = buildRoute({
      type: 'FailoverRoute',
      children: [{ type: 'Fake', id: 'a', result: 'timeout' }, { type: 'Fake', id: 'b', result: 'busy' }, 'Fake|c'],
      failover_limit: { rate: 0.5, burst: 2 },
    });
    const ctx = makeTestContext();
    const results: string[] = [];
    for (let i = 0; i < 6; i++) results.push(who(routeSync(root, makeRequest('get', 'k'), ctx)));
    // Start full (2 tokens), +0.5 per request, 2 failovers per request: request 1 ok (2.5→0.5),
    // request 2 (1.0): first failover ok, second refused → first error (timeout); ...
    expect(results[0]).toBe('c');
    expect(results.filter((r) => r === 'timeout').length).toBeGreaterThan(0);
    expect(results.every((r) => r === 'c' || r === 'timeout')).toBe(true);
    expect(ctx.stats.failoverRateLimited).toBe(results.filter((r) => r === 'timeout').length);
  });

  test('failover_limit burst defaults to 1000 and rate is required', () => {
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_limit: { burst: 3 } }).path).toBe('/route/failover_limit');
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_limit: { rate: 2 } }).path).toBe('/route/failover_limit/rate');
    const { root } = buildRoute({ type: 'FailoverRoute', children: [{ type: 'Fake', id: 'a', result: 'timeout' }, 'Fake|b'], failover_limit: { rate: 0 } });
    const ctx = makeTestContext();
    for (let i = 0; i < 1000; i++) expect(who(routeSync(root, makeRequest('get', 'k'), ctx))).toBe('b');
    expect(routeSync(root, makeRequest('get', 'k'), ctx).result).toBe('timeout');
  });

  test('asynchronous children: one reply, in order', async () => {
    const c = [new FakeRoute('a', 'timeout', { async: true }), new FakeRoute('b', new Reply('found', Buffer.from('b')), { async: true })];
    const r = await routeOnce(new FailoverRoute(c), makeRequest('get', 'k'));
    expect(who(r)).toBe('b');
  });

  test('calls the first child synchronously (multi-get batching)', () => {
    const c = [new FakeRoute('a', 'found', { hang: true })];
    new FailoverRoute(c).route(makeRequest('get', 'k'), makeTestContext(), () => undefined);
    expect(c[0]?.seen.length).toBe(1);
  });

  test('config: shorthand, Pool list, empty list → NullRoute, unsupported policy, bad error name', () => {
    const { root } = buildRoute('FailoverRoute|Fake|a');
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('a');
    expect(traverseDestinations(buildRoute({ type: 'FailoverRoute', children: ['Fake|a', 'Fake|b'] }).root, makeRequest('get', 'k'))).toEqual(['a', 'b']);
    expect(buildRoute({ type: 'FailoverRoute', children: [] }).root).toBeInstanceOf(NullRoute);
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_policy: { type: 'LeastFailuresPolicy', max_tries: 2 } }).message)
      .toBe('/route/failover_policy/type: FailoverRoute: failover policy "LeastFailuresPolicy" is not supported (only the in-order policy)');
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_errors: ['notfound'] }).path).toBe('/route/failover_errors/0');
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_errors: { gets: ['timeout'], deletes: ['notfound'] } }).path).toMatch(/^\/route\/failover_errors/);
    expect(configError({ type: 'FailoverRoute' }).message).toMatch(/^\/route: FailoverRoute: .*children/);
    expect(() => buildRoute({ type: 'FailoverRoute', children: ['Fake|a'], failover_tag: true, enable_lease_pairing: true })).not.toThrow();
  });
});
