import { describe, expect, test } from 'vitest';
import { DevNullRoute } from '../../../src/routes/dev-null-route.js';
import { validateConfig } from '../../../src/config/validate.js';
import { makeRequest, makeTestContext, routeSync } from './helpers/fake-route.js';

describe('DevNullRoute', () => {
  test('replies like NullRoute and counts every request', () => {
    const ctx = makeTestContext();
    const r = new DevNullRoute();
    expect(routeSync(r, makeRequest('get', 'a'), ctx).result).toBe('notfound');
    expect(routeSync(r, makeRequest('set', 'a', 'v'), ctx).result).toBe('notstored');
    expect(routeSync(r, makeRequest('delete', 'a'), ctx).result).toBe('notfound');
    expect(ctx.stats.devNullRequests).toBe(3);
    expect(ctx.spawned).toHaveLength(0);
  });

  test('builds from a bare type name', () => {
    const v = validateConfig({ configStr: '{"route": "DevNullRoute"}' });
    if (!v.ok) throw v.error;
    expect(v.built.root.defaultRoute).toBeInstanceOf(DevNullRoute);
  });

  test('ignores unknown options with a warning, as mcrouter does', () => {
    const v = validateConfig({ configStr: '{"route": {"type": "DevNullRoute", "x": 1}}' });
    expect(v.ok && v.built.warnings).toEqual(['/route/x: DevNullRoute: unknown option "x" ignored']);
  });
});
