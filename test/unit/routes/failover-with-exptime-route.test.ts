import { describe, expect, test } from 'vitest';
import { FailoverWithExptimeRoute } from '../../../src/routes/failover-with-exptime-route.js';
import { makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';
import { validateConfig } from '../../../src/config/validate.js';

const normalDown = { type: 'Fake', id: 'N', result: 'connect_error' };

describe('FailoverWithExptimeRoute', () => {
  test('normal first; on error the failover targets, with update exptimes capped at 60 s by default', () => {
    const { root, fake } = buildRoute({ type: 'FailoverWithExptimeRoute', normal: normalDown, failover: ['Fake|G'] });
    expect(root).toBeInstanceOf(FailoverWithExptimeRoute);
    const r = routeSync(root, makeRequest('set', 'k', 'v', 3600));
    expect(who(r)).toBe('G');
    expect(r.isFailover).toBe(true);
    const sent = fake('G').seen[0];
    expect(sent?.exptime).toBe(60);
    expect(sent?.tail.toString()).toBe(' 0 60 1');
    // The normal route saw the client's exptime.
    expect(fake('N').seen[0]?.exptime).toBe(3600);
    // 0 (never expires) is longer than any cap; shorter exptimes are kept.
    routeSync(root, makeRequest('set', 'k', 'v', 0));
    routeSync(root, makeRequest('set', 'k', 'v', 10));
    expect(fake('G').seen.slice(1).map((q) => q.exptime)).toEqual([60, 10]);
    // Deletes and gets are not rewritten.
    routeSync(root, makeRequest('delete', 'k'));
    expect(fake('G').seen[3]?.tail.toString()).toBe('');
  });

  test('failover_exptime option, ≤ 0 disables the cap', () => {
    const capped = buildRoute({ type: 'FailoverWithExptimeRoute', normal: normalDown, failover: 'Fake|G', failover_exptime: 5 });
    routeSync(capped.root, makeRequest('touch', 'k', null, 100));
    expect(capped.fake('G').seen[0]?.tail.toString()).toBe(' 5');
    const off = buildRoute({ type: 'FailoverWithExptimeRoute', normal: normalDown, failover: 'Fake|G', failover_exptime: 0 });
    routeSync(off.root, makeRequest('set', 'k', 'v', 100));
    expect(off.fake('G').seen[0]?.exptime).toBe(100);
  });

  test('normal success: no failover, exptime untouched; no failover list → normal only', () => {
    const { root, fake } = buildRoute({ type: 'FailoverWithExptimeRoute', normal: 'Fake|N', failover: ['Fake|G'] });
    expect(who(routeSync(root, makeRequest('get', 'k')))).toBe('N');
    expect(fake('G').seen.length).toBe(0);
    const alone = buildRoute('FailoverWithExptimeRoute|Fake|N');
    expect(who(routeSync(alone.root, makeRequest('get', 'k')))).toBe('N');
  });

  test('FailoverRoute options apply: failover_errors, failover_limit, counters', () => {
    const { root } = buildRoute({
      type: 'FailoverWithExptimeRoute', normal: { type: 'Fake', id: 'N', result: 'busy' }, failover: ['Fake|G'], failover_errors: ['timeout'],
    });
    expect(routeSync(root, makeRequest('get', 'k')).result).toBe('busy');
    const all = buildRoute({ type: 'FailoverWithExptimeRoute', normal: normalDown, failover: [{ type: 'Fake', id: 'G', result: 'timeout' }] });
    const ctx = makeTestContext();
    expect(routeSync(all.root, makeRequest('get', 'k'), ctx).result).toBe('timeout');
    expect([ctx.stats.failoverAll, ctx.stats.failoverAllFailed]).toEqual([1, 1]);
    expect(traverseDestinations(all.root, makeRequest('get', 'k'))).toEqual(['N', 'G']);
  });

  test('config errors', () => {
    expect(configError({ type: 'FailoverWithExptimeRoute', failover: ['Fake|G'] }).message).toMatch(/^\/route: FailoverWithExptimeRoute: .*normal/);
    expect(configError({ type: 'FailoverWithExptimeRoute', normal: 'Fake|N', failover_exptime: 'x' }).path).toBe('/route/failover_exptime');
    expect(configError({ type: 'FailoverWithExptimeRoute', normal: 'Fake|N', failover: ['Nope'] }).path).toBe('/route/failover/0');
    // mcrouter no longer reads the old `settings` object: ignored, with a warning.
    const old = validateConfig({ configStr: JSON.stringify({ route: { type: 'FailoverWithExptimeRoute', normal: 'NullRoute', settings: {} } }) });
    expect(old.ok && old.built.warnings).toEqual(['/route/settings: FailoverWithExptimeRoute: unknown option "settings" ignored']);
  });
});
