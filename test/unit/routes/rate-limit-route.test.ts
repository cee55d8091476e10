import { describe, expect, test } from 'vitest';
import { RateLimitRoute, rateBuckets } from '../../../src/routes/rate-limit-route.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';
import { validateConfig } from '../../../src/config/validate.js';

describe('RateLimitRoute', () => {
  test('per-class buckets: burst passes, then the rate refills; other classes are unaffected', () => {
    let now = 0;
    const target = new FakeRoute('t', 'stored');
    const route = new RateLimitRoute(target, rateBuckets({ sets_rate: 2, sets_burst: 3 }, () => now));
    const ctx = makeTestContext();
    const sets = (): string[] => Array.from({ length: 5 }, () => routeSync(route, makeRequest('set', 'k', 'v'), ctx).result);
    expect(sets()).toEqual(['stored', 'stored', 'stored', 'busy', 'busy']);
    expect(ctx.stats.rateLimited).toBe(2);
    now = 1; // +2 tokens
    expect(sets()).toEqual(['stored', 'stored', 'busy', 'busy', 'busy']);
    for (let i = 0; i < 10; i++) expect(routeSync(route, makeRequest('get', 'k'), ctx).result).toBe('stored');
    for (let i = 0; i < 10; i++) expect(routeSync(route, makeRequest('incr', 'k'), ctx).result).toBe('stored');
  });

  test('burst defaults to the rate (at least 1); gets/deletes classes', () => {
    let now = 0;
    const route = new RateLimitRoute(new FakeRoute('t', 'found'), rateBuckets({ gets_rate: 0.5, deletes_rate: 2 }, () => now));
    expect(routeSync(route, makeRequest('mg', 'k')).result).toBe('found');
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('busy');
    now = 2;
    expect(routeSync(route, makeRequest('gets', 'k')).result).toBe('found');
    expect([1, 2, 3].map(() => routeSync(route, makeRequest('md', 'k')).result)).toEqual(['found', 'found', 'busy']);
  });

  test('over-limit requests go to the fallback when there is one', () => {
    const { root, fake } = buildRoute({ type: 'RateLimitRoute', target: 'Fake|t', fallback: 'Fake|f', rates: { deletes_rate: 0, deletes_burst: 1 } });
    const ctx = makeTestContext();
    expect(who(routeSync(root, makeRequest('delete', 'k'), ctx))).toBe('t');
    expect(who(routeSync(root, makeRequest('delete', 'k'), ctx))).toBe('f');
    expect(fake('f').seen.length).toBe(1);
    expect(ctx.stats.rateLimited).toBe(1);
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['t']);
  });

  test('without fallback: SERVER_ERROR 307 busy (a failover error)', () => {
    const { root } = buildRoute({ type: 'RateLimitRoute', target: 'Fake|t', rates: { gets_rate: 0, gets_burst: 0 } });
    const r = routeSync(root, makeRequest('get', 'k'));
    expect([r.result, r.message]).toEqual(['busy', 'RateLimitRoute: rate limit exceeded']);
    const f = buildRoute({ type: 'FailoverRoute', children: [{ type: 'RateLimitRoute', target: 'Fake|t', rates: { gets_rate: 0, gets_burst: 0 } }, 'Fake|g'] });
    expect(who(routeSync(f.root, makeRequest('get', 'k')))).toBe('g');
  });

  test('config errors', () => {
    expect(configError({ type: 'RateLimitRoute', target: 'Fake|t', rates: { gets_rate: -1 } }).path).toBe('/route/rates/gets_rate');
    // mcrouter's RateLimiter reads the rates it knows and ignores the rest.
    const extra = validateConfig({ configStr: JSON.stringify({ route: { type: 'RateLimitRoute', target: 'NullRoute', rates: { reads_rate: 1 } } }) });
    expect(extra.ok && extra.built.warnings).toEqual(['/route/rates/reads_rate: RateLimitRoute: unknown option "rates/reads_rate" ignored; did you mean "gets_rate"?']);
    expect(configError({ type: 'RateLimitRoute', target: 'Fake|t' }).message).toMatch(/^\/route: RateLimitRoute: .*rates/);
    expect(configError({ type: 'RateLimitRoute', target: 'Fake|t', rates: {}, fallback: 'Nope' }).path).toBe('/route/fallback');
  });
});
