import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../../src/config-error.js';
import { inertDestinations, validateConfig } from '../../../src/config/validate.js';
import type { PoolInfo, ServerSpec } from '../../../src/routes/route-factory.js';
import { makeRequest, routeSync } from '../routes/helpers/fake-route.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));

describe('validateConfig', () => {
  test('ok for a valid config, with the source and the built tree', () => {
    const r = validateConfig(`file:${FIXTURES}valid/sharded.json`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.source.sourcePath).toBe(`${FIXTURES}valid/sharded.json`);
    expect(r.built.pools.get('A')?.servers).toHaveLength(2);
    expect(r.built.destinations.size).toBe(2);
  });

  test('config problems come back as {ok: false, error}, never thrown', () => {
    for (const spec of [`${FIXTURES}invalid/unknown-pool.json`, `${FIXTURES}does-not-exist.json`, { configStr: '{' }, '{"route": 1}']) {
      const r = validateConfig(spec);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBeInstanceOf(ConfigError);
    }
  });

  test('build options reach the build (-R, server timeout)', () => {
    const spec = { configStr: '{"pools": {"A": {"servers": ["h:1"]}}, "routes": {"/dc/c1/": "PoolRoute|A"}}' };
    expect(validateConfig(spec).ok).toBe(false);
    const r = validateConfig(spec, { options: { routePrefix: '/dc/c1/', serverTimeoutMs: 42 } });
    if (!r.ok) throw r.error;
    expect(r.built.pools.get('A')?.serverTimeoutMs).toBe(42);
  });

  test('inert destinations never connect: they answer local_error and are shared by address', () => {
    const r = validateConfig({ configStr: '{"pools": {"A": {"servers": ["127.0.0.1:9"]}}, "route": "PoolRoute|A"}' });
    if (!r.ok) throw r.error;
    const reply = routeSync(r.built.root, makeRequest('get', 'k'));
    expect(reply.result).toBe('local_error');
    const p = inertDestinations();
    const server = { address: 'h:1' } as ServerSpec;
    const pool = {} as PoolInfo;
    expect(p.get(server, pool)).toBe(p.get(server, pool));
    expect(p.get(server, pool).isTko()).toBe(false);
  });
});
