import { describe, expect, test } from 'vitest';
import { Reply, type Result } from '../../../src/protocol/types.js';
import { FailoverRoute } from '../../../src/routes/failover-route.js';
import { NullRoute } from '../../../src/routes/null-route.js';
import { FailoverErrors } from '../../../src/routes/util/failover-errors.js';
import { RatioTokenBucket } from '../../../src/routes/util/token-bucket.js';
import { FakeRoute, makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';
import { furcHash } from '../../../src/routes/hash/furc.js';
import { rendezvousIndex, rendezvousTagHashes } from '../../../src/routes/hash/rendezvous.js';
import { createSelector, type HashSpec } from '../../../src/routes/hash/selector.js';
import { HashRoute } from '../../../src/routes/hash-route.js';
import type { RouteBuilder } from '../../../src/routes/route-factory.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { failoverPolicyFrom, type FailoverPolicyOption, type FailoverPolicyRouteOptions } from '../../../src/routes/util/failover-policy.js';

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
    // mcrouter's failover_all: once per request that fails over at all.
    expect(ctx.stats.failoverAll).toBe(1);
    expect(ctx.stats.failoverAllFailed).toBe(0);
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

  test('failover_limit: when the bucket is empty, the reply that wanted to fail over is returned (mcrouter)', () => {
    const { root } = buildRoute({
      type: 'FailoverRoute',
      children: [{ type: 'Fake', id: 'a', result: 'timeout' }, { type: 'Fake', id: 'b', result: 'busy' }, 'Fake|c'],
      failover_limit: { rate: 0.5, burst: 2 },
    });
    const ctx = makeTestContext();
    const results: string[] = [];
    for (let i = 0; i < 6; i++) results.push(who(routeSync(root, makeRequest('get', 'k'), ctx)));
    // Tokens start at 2 (burst), +0.5 per request up to 2; each failover past a (timeout) or b (busy)
    // spends one. 1: 2 → a ok 1 → b ok 0 → c. 2: 0.5, a refused → a's timeout. 3: 1.0 → a ok 0, b refused
    // → b's busy. 4: 0.5 → timeout. 5: 1.0 → busy. 6: 0.5 → timeout.
    expect(results).toEqual(['c', 'timeout', 'busy', 'timeout', 'busy', 'timeout']);
    expect(ctx.stats.failoverRateLimited).toBe(5);
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
    // mcrouter: one child is that child; nothing to fail over to, so no policy is built.
    expect(buildRoute({ type: 'FailoverRoute', children: ['Fake|a'], failover_policy: { type: 'RendezvousPolicy' } }).root).toBeInstanceOf(FakeRoute);
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a', 'Fake|b'], failover_errors: ['notfound'] }).path).toBe('/route/failover_errors/0');
    expect(configError({ type: 'FailoverRoute', children: ['Fake|a'], failover_errors: { gets: ['timeout'], deletes: ['notfound'] } }).path).toMatch(/^\/route\/failover_errors/);
    expect(configError({ type: 'FailoverRoute' }).message).toMatch(/^\/route: FailoverRoute: .*children/);
    expect(() => buildRoute({ type: 'FailoverRoute', children: ['Fake|a'], failover_tag: true, enable_lease_pairing: true })).not.toThrow();
  });
});

/** Children that carry their name in the reply for every result, so errors say who answered. */
const named = (...results: Result[]): FakeRoute[] => results.map((r, i) => new FakeRoute(`c${i}`, new Reply(r, Buffer.from(`c${i}`))));
const from = (r: Reply): string => r.raw?.toString() ?? r.result;
/** Hosts that push their index into `order` when asked: the order a request tried them in. */
const order: number[] = [];
const recordingHosts = (...results: Result[]): FakeRoute[] =>
  results.map((r, i) => new FakeRoute(`c${i}`, () => {
    order.push(i);
    return new Reply(r, Buffer.from(`c${i}`));
  }));
/** A HashRoute over `children` (Ch3 by default), as the normal route of a failover. */
const hashOver = (children: RouteHandle[], spec: HashSpec = { hashFunc: 'Ch3' }): HashRoute =>
  new HashRoute(children, createSelector(spec, children.map((c, i) => ({ host: c.name, port: i }))), spec.hashFunc);
/** A FailoverRoute over `children` with a policy built by the factory's code (errors thrown, warnings dropped). */
function buildPolicyRoute(children: RouteHandle[], policy: FailoverPolicyOption, route: FailoverPolicyRouteOptions = {}): FailoverRoute {
  const b = { fail: (p: string, m: string): never => { throw new Error(`${p}: ${m}`); }, warn: (): void => undefined } as unknown as RouteBuilder;
  return new FailoverRoute(children, { errors: new FailoverErrors(), limit: null, policy: failoverPolicyFrom(policy, route, children.length, b, '/route', 'FailoverRoute') });
}
const validateWithFakes = (route: unknown): { root: RouteHandle; warnings: readonly string[] } => buildRoute(route);
const fakeKids = (results: Result[]): unknown[] => results.map((r, i) => ({ type: 'Fake', id: `c${i}`, result: r }));
const calls = (b: { fakes: Map<string, FakeRoute> }): string[] => [...b.fakes.values()].flatMap((f) => f.seen.map(() => f.name));

/**
 * DeterministicOrderPolicy's order, written from mcrouter's description (FailoverPolicy.h): index 0 and the
 * normal route's choice + 1 are used; each further position hashes routingKey ‖ decimal(salt) for salt =
 * 2, 3, ... with Ch3 over all n children until an unused index comes up (at most 101 hashes).
 */
function deterministicOrder(key: string, n: number, maxTries: number, normalIndex = -1): number[] {
  const used = new Set([0]);
  if (normalIndex + 1 < n) used.add(normalIndex + 1);
  const order = [0];
  let salt = 1;
  while (order.length < maxTries) {
    let idx = 0;
    let attempts = 0;
    do idx = furcHash(Buffer.from(`${key}${++salt}`), n); while (used.has(idx) && attempts++ < 100);
    used.add(idx);
    order.push(idx);
  }
  return order;
}

describe('FailoverRoute failover_policy', () => {
  test('DeterministicOrderPolicy: salted Ch3 order over all children, 0 excluded (mcrouter vectors)', () => {
    // furcHash("02", 4) = 3, ("03", 4) = 2, ("04", 4) = 1: key "0" over 4 children tries 0, 3, 2, 1.
    expect(deterministicOrder('0', 4, 4)).toEqual([0, 3, 2, 1]);
    const hosts = recordingHosts('timeout', 'timeout', 'timeout', 'timeout');
    order.length = 0;
    const r = routeSync(buildPolicyRoute(hosts, { type: 'DeterministicOrderPolicy', max_tries: 4, max_error_tries: 4 }), makeRequest('get', '0'));
    expect(order).toEqual([0, 3, 2, 1]);
    expect(from(r)).toBe('c1');
    expect(r.isFailover).toBe(true);
    for (const key of ['user:42', 'noDoubleShot', '/a/b/routed|#|tail']) {
      const seven = recordingHosts('busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy');
      order.length = 0;
      routeSync(buildPolicyRoute(seven, { type: 'DeterministicOrderPolicy', max_tries: 5, max_error_tries: 5 }), makeRequest('get', key));
      const rk = key === '/a/b/routed|#|tail' ? 'routed' : key;
      expect(order, key).toEqual(deterministicOrder(rk, 7, 5));
    }
  });

  test('DeterministicOrderPolicy: max_error_tries counts errors; TKO, hard TKO and exclude_errors do not (mcrouter FailoverRouteTest)', () => {
    const policy = (max_tries: number, max_error_tries: number, extra: Record<string, unknown> = {}) => ({ type: 'DeterministicOrderPolicy', max_tries, max_error_tries, ...extra });
    const count = (results: Result[], p: Record<string, unknown>): number => {
      const b = buildRoute({ type: 'FailoverRoute', children: fakeKids(results), failover_policy: p });
      routeSync(b.root, makeRequest('get', '0'));
      return new Set(calls(b)).size;
    };
    expect(count(['timeout', 'timeout', 'timeout', 'timeout'], policy(4, 2))).toBe(2); // deterministicOrderTimeout
    expect(count(['tko', 'tko', 'tko', 'tko', 'tko'], policy(4, 2))).toBe(4); // deterministicOrderTko
    expect(count(['tko', 'connect_error', 'tko', 'connect_error'], policy(3, 2))).toBe(3); // ignoreTkoAndHardTko
    expect(count(['try_again', 'timeout', 'tko', 'connect_error', 'try_again'], policy(5, 2, { exclude_errors: ['try_again'] }))).toBe(5);
    // Without the exclusion, try_again counts: try_again (1) + the next error (2) and no more.
    expect(count(['try_again', 'timeout', 'try_again', 'try_again', 'try_again'], policy(5, 2))).toBe(2);
  });

  test('DeterministicOrderPolicy skips the normal route\'s own choice (mcrouter deterministicOrderNoDoubleShot)', () => {
    const hosts = named('tko', 'tko', 'tko');
    const normal = buildRoute({ type: 'HashRoute', children: ['Fake|h0', 'Fake|h1', 'Fake|h2'] });
    // The normal HashRoute picks furcHash("noDoubleShot", 3) = 2 (h2); failover index i is hosts[i - 1].
    expect(normal.root.selectedIndex?.(makeRequest('get', 'noDoubleShot'))).toBe(2);
    const children = [hashOver(hosts), ...hosts];
    const route = buildPolicyRoute(children, { type: 'DeterministicOrderPolicy', max_tries: 3, max_error_tries: 3 });
    routeSync(route, makeRequest('get', 'noDoubleShot'));
    expect(hosts.map((h) => h.seen.length)).toEqual([1, 1, 1]);
    expect(deterministicOrder('noDoubleShot', 4, 3, 2)).toEqual([0, 2, 1]);
    // ignore_normal_reply_index: index 3 (h2 again) is fair game.
    const again = named('tko', 'tko', 'tko');
    const ignoring = buildPolicyRoute([hashOver(again), ...again], { type: 'DeterministicOrderPolicy', max_tries: 3, max_error_tries: 3, ignore_normal_reply_index: true });
    routeSync(ignoring, makeRequest('get', 'noDoubleShot'));
    // Order without the skip: salt 2 → 3 (h2), salt 3 → 2 (h1).
    expect(deterministicOrder('noDoubleShot', 4, 3, 3)).toEqual([0, 3, 2]);
    expect(again.map((h) => h.seen.length)).toEqual([0, 1, 2]);
  });

  test('DeterministicOrderPolicy with WeightedCh3: zero-weight children are passed over', () => {
    const b = buildRoute({
      type: 'FailoverRoute', children: fakeKids(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']),
      failover_policy: { type: 'DeterministicOrderPolicy', max_tries: 3, max_error_tries: 3, hash: { hash_func: 'WeightedCh3', weights: [0, 0, 0, 1, 1] } },
    });
    for (let i = 0; i < 20; i++) {
      for (const f of b.fakes.values()) f.seen.length = 0;
      routeSync(b.root, makeRequest('get', `wk${i}`));
      expect(calls(b).slice(1).sort()).toEqual(['c3', 'c4']);
    }
    // The route's own `hash` replaces the policy's (mcrouter inserts it into the policy).
    const r = buildRoute({
      type: 'FailoverRoute', children: fakeKids(['timeout', 'timeout', 'timeout', 'timeout']),
      hash: { hash_func: 'WeightedCh3', weights: [0, 1, 0, 0] },
      failover_policy: { type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 2, hash: { hash_func: 'Ch3' } },
    });
    routeSync(r.root, makeRequest('get', 'x'));
    expect(calls(r)).toEqual(['c0', 'c1']);
  });

  test('RendezvousPolicy: hosts by descending Rendezvous score, the normal route\'s pick skipped', () => {
    const tags = ['t-a', 't-b', 't-c', 't-d', 't-e'];
    const hashes = rendezvousTagHashes(tags);
    for (const key of ['k1', 'user:7', 'session:abc']) {
      const hosts = recordingHosts('timeout', 'timeout', 'timeout', 'timeout', 'timeout');
      order.length = 0;
      const normal = hashOver(hosts, { hashFunc: 'Rendezvous', tags });
      const route = buildPolicyRoute([normal, ...hosts], { type: 'RendezvousPolicy' }, { tags });
      const r = routeSync(route, makeRequest('get', key));
      // Expected: repeatedly the best remaining host (rendezvousIndex over the remaining tags).
      const rk = Buffer.from(key);
      const left = [0, 1, 2, 3, 4];
      const ranked: number[] = [];
      while (left.length > 0) {
        const sub = rendezvousTagHashes(left.map((i) => tags[i]!));
        const best = left[rendezvousIndex(rk, rk.length, sub)]!;
        ranked.push(best);
        left.splice(left.indexOf(best), 1);
      }
      expect(rendezvousIndex(rk, rk.length, hashes)).toBe(ranked[0]);
      // The normal route (Rendezvous over the same tags) took ranked[0]; the failovers try the rest in order.
      expect(hosts.map((h) => h.seen.length), key).toEqual([1, 1, 1, 1, 1]);
      expect(order, key).toEqual(ranked);
      expect(from(r)).toBe(`c${ranked[4]}`);
    }
  });

  test('RendezvousPolicy with WeightedRendezvous: zero weights rank last', () => {
    const tags = ['w0', 'w1', 'w2', 'w3'];
    const hosts = recordingHosts('timeout', 'timeout', 'timeout', 'timeout');
    const route = buildPolicyRoute([new FakeRoute('normal', 'timeout'), ...hosts], { type: 'RendezvousPolicy', weights: [0, 1, 0, 1] }, { tags, hash: 'WeightedRendezvous' });
    for (let i = 0; i < 10; i++) {
      order.length = 0;
      routeSync(route, makeRequest('get', `wr${i}`));
      // No selection route in front: host 0 (index 1) is "the normal pick" (mcrouter: primary index 0).
      expect(order.slice(0, 2).sort(), `wr${i}`).toEqual([1, 3]);
      expect(order).not.toContain(0);
    }
  });

  test('LeastFailuresPolicy: children[0], then the others by fewest recent errors (mcrouter FailoverRouteTest)', () => {
    const run = (results: Result[], maxTries: number, n: number): string[] => {
      const { root } = buildRoute({ type: 'FailoverRoute', children: fakeKids(results), failover_policy: { type: 'LeastFailuresPolicy', max_tries: maxTries } });
      return Array.from({ length: n }, () => from(routeSync(root, makeRequest('get', '0'))));
    };
    const namedFakes = (results: Result[]): unknown[] => results.map((r, i) => ({ type: 'Fake', id: String.fromCharCode(97 + i), result: r }));
    const runNamed = (results: Result[], maxTries: number, n: number): string[] => {
      const { root } = buildRoute({ type: 'FailoverRoute', children: namedFakes(results), failover_policy: { type: 'LeastFailuresPolicy', max_tries: maxTries } });
      return Array.from({ length: n }, () => from(routeSync(root, makeRequest('get', '0'))));
    };
    expect(run(['found', 'found', 'found'], 2, 1)).toEqual(['c0']);
    expect(run(['timeout', 'found', 'found'], 3, 1)).toEqual(['c1']);
    expect(run(['timeout', 'timeout', 'found'], 3, 1)).toEqual(['c2']);
    expect(runNamed(['timeout', 'timeout', 'timeout', 'found'], 2, 5)).toEqual(['b', 'c', 'd', 'd', 'd']); // leastFailuresLastSucceeds
    expect(runNamed(['timeout', 'timeout', 'timeout', 'timeout'], 2, 6)).toEqual(['b', 'c', 'd', 'b', 'c', 'd']); // leastFailuresCycle
    expect(runNamed(['timeout', 'timeout', 'timeout'], 3, 1)).toEqual(['c']); // leastFailuresFailAll
    expect(runNamed(['timeout', 'timeout', 'timeout'], 2, 1)).toEqual(['b']); // leastFailuresFailAllLimit
  });

  test('LeastFailuresPolicy: counts are per child across ops; a success resets them (mcrouter leastFailuresComplex)', () => {
    const child = (name: string, update: Result): FakeRoute => new FakeRoute(name, (req) => new Reply(req.op === 'get' ? 'timeout' : update, Buffer.from(name)));
    const kidsC = [child('a', 'timeout'), child('b', 'stored'), child('c', 'timeout')];
    const route = buildPolicyRoute(kidsC, { type: 'LeastFailuresPolicy', max_tries: 2 });
    const get = (): string => from(routeSync(route, makeRequest('get', '0')));
    expect([get(), get(), get()]).toEqual(['b', 'c', 'b']);
    // b has failed 2 times, c once: the set goes to c (fails, 2), the next set to b (stored: b back to 0).
    expect(from(routeSync(route, makeRequest('set', '0', 'value')))).toBe('c');
    expect(from(routeSync(route, makeRequest('set', '0', 'value')))).toBe('b');
    expect([get(), get(), get(), get()]).toEqual(['b', 'b', 'b', 'c']);
  });

  test('unknown policy types are the in-order policy, with a warning; traverse follows the policy order', () => {
    const v = validateWithFakes({ type: 'FailoverRoute', children: ['Fake|a', 'Fake|b', 'Fake|c'], failover_policy: { type: 'FailoverInOrderPolicy', max_tries: 1 } });
    expect(v.warnings).toEqual(['/route/failover_policy/type: FailoverRoute: failover policy type "FailoverInOrderPolicy" is not one mcrouter knows; children are tried in order']);
    expect(traverseDestinations(v.root, makeRequest('get', 'k'))).toEqual(['a', 'b', 'c']);
    const d = buildRoute({ type: 'FailoverRoute', children: ['Fake|a', 'Fake|b', 'Fake|c', 'Fake|d'], failover_policy: { type: 'DeterministicOrderPolicy', max_tries: 3, max_error_tries: 3 } });
    expect(traverseDestinations(d.root, makeRequest('get', '0'))).toEqual(['a', 'd', 'c']);
  });

  test('policy options are validated as mcrouter validates them', () => {
    const kids4 = ['Fake|a', 'Fake|b', 'Fake|c', 'Fake|d'];
    const err = (policy: unknown, extra: Record<string, unknown> = {}): string => configError({ type: 'FailoverRoute', children: kids4, failover_policy: policy, ...extra }).message;
    expect(err({ type: 'DeterministicOrderPolicy', max_error_tries: 1 })).toBe("/route/failover_policy: FailoverRoute: DeterministicOrderPolicy: must specify 'max_tries' field");
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2 })).toBe("/route/failover_policy: FailoverRoute: DeterministicOrderPolicy: must specify 'max_error_tries' field");
    expect(err({ type: 'LeastFailuresPolicy' })).toBe("/route/failover_policy: FailoverRoute: LeastFailuresPolicy: must specify 'max_tries' field");
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 0, max_error_tries: 1 })).toMatch(/^\/route\/failover_policy\/max_tries: /);
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 1.5 })).toMatch(/^\/route\/failover_policy\/max_error_tries: /);
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 1, exclude_errors: ['mc_res_timeout'] })).toMatch(/^\/route\/failover_policy\/exclude_errors\/0: /);
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 1, hash: { hash_func: 'Crc32' } }))
      .toBe('/route/failover_policy/hash/hash_func: FailoverRoute: DeterministicOrderPolicy: unknown hash function Crc32 (Ch3 or WeightedCh3)');
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 1, hash: { hash_func: 'WeightedCh3' } }))
      .toBe('/route/failover_policy/hash: FailoverRoute: DeterministicOrderPolicy: WeightedCh3 needs a weights array');
    expect(err({ type: 'DeterministicOrderPolicy', max_tries: 2, max_error_tries: 1 }, { hash: 'Ch3' }))
      .toBe('/route/hash: FailoverRoute: DeterministicOrderPolicy: hash is not an object');
    expect(err({ type: 'RendezvousPolicy' })).toBe('/route: FailoverRoute: FailoverRendezvousPolicy: tags needed for Rendezvous hash route');
    expect(err({ type: 'RendezvousPolicy' }, { tags: ['x', 'y'] }))
      .toBe("/route/tags: FailoverRoute: FailoverRendezvousPolicy: number of tags 2 doesn't match number of route handles 3");
    expect(err({ type: 'RendezvousPolicy' }, { tags: ['x', 'y', 'z'], hash: 'WeightedRendezvous' }))
      .toBe('/route/failover_policy: FailoverRoute: RendezvousPolicy: WeightedRendezvous needs a weights array');
    expect(err({ max_tries: 2 })).toMatch(/^\/route\/failover_policy: .*type/);
    // Where mcrouter logs and clamps, mcrelay warns and clamps.
    const v = validateWithFakes({ type: 'FailoverRoute', children: kids4, failover_policy: { type: 'DeterministicOrderPolicy', max_tries: 9, max_error_tries: 7 } });
    expect(v.warnings).toEqual([
      '/route/failover_policy/max_tries: FailoverRoute: DeterministicOrderPolicy: max_tries (9) exceeds the number of children (4); using 4',
      '/route/failover_policy/max_error_tries: FailoverRoute: DeterministicOrderPolicy: max_error_tries (7) exceeds max_tries (4); using 4',
    ]);
    // FailoverWithExptimeRoute takes the same policies.
    expect(() => buildRoute({ type: 'FailoverWithExptimeRoute', normal: 'Fake|a', failover: ['Fake|b', 'Fake|c'], failover_policy: { type: 'LeastFailuresPolicy', max_tries: 2 } })).not.toThrow();
  });
});
