import { describe, expect, test } from 'vitest';
import { makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

function rewritten(opts: Record<string, unknown>, key: string): string {
  const { root, fake } = buildRoute({ type: 'ModifyKeyRoute', target: 'Fake|t', ...opts });
  routeSync(root, makeRequest('get', key));
  return fake('t').keys[0] ?? '';
}

describe('ModifyKeyRoute', () => {
  test('mcrouter example: set_routing_prefix /a/b/ + ensure_key_prefix foo: /b/c/o → /a/b/fooo', () => {
    expect(rewritten({ set_routing_prefix: '/a/b/', ensure_key_prefix: 'foo' }, '/b/c/o')).toBe('/a/b/fooo');
    expect(rewritten({ set_routing_prefix: '/a/b/', ensure_key_prefix: 'foo' }, '/b/c/foobar')).toBe('/a/b/foobar');
    expect(rewritten({ set_routing_prefix: '/a/b/' }, 'plain')).toBe('/a/b/plain');
  });

  test('set_routing_prefix "" removes it; ensure_key_prefix keeps the routing prefix', () => {
    expect(rewritten({ set_routing_prefix: '' }, '/x/y/key')).toBe('key');
    expect(rewritten({ ensure_key_prefix: 'v1:' }, '/x/y/key')).toBe('/x/y/v1:key');
    expect(rewritten({ ensure_key_prefix: 'v1:' }, 'v1:key')).toBe('v1:key');
  });

  test('replace_key_prefix swaps an old prefix for ensure_key_prefix', () => {
    const o = { ensure_key_prefix: 'v2:', replace_key_prefix: 'v1:' };
    expect(rewritten(o, 'v1:user')).toBe('v2:user');
    expect(rewritten(o, 'v2:user')).toBe('v2:user');
    expect(rewritten(o, 'user')).toBe('v2:user');
    expect(rewritten(o, '/r/c/v1:user')).toBe('/r/c/v2:user');
  });

  test('set_key_suffix appends unless present', () => {
    expect(rewritten({ set_key_suffix: ':eu' }, 'k')).toBe('k:eu');
    expect(rewritten({ set_key_suffix: ':eu' }, 'k:eu')).toBe('k:eu');
  });

  test('unchanged keys pass the same Request; values are shared', () => {
    const { root, fake } = buildRoute({ type: 'ModifyKeyRoute', target: 'Fake|t', ensure_key_prefix: 'a' });
    const same = makeRequest('set', 'abc', 'v');
    routeSync(root, same);
    expect(fake('t').seen[0]).toBe(same);
    const other = makeRequest('set', 'xyz', 'value');
    routeSync(root, other);
    expect(fake('t').seen[1]?.value).toBe(other.value);
    expect(fake('t').seen[1]?.keyString()).toBe('axyz');
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['t']);
  });

  test('a key over 250 bytes after the rewrite is not sent: bad_key', () => {
    const { root, fake } = buildRoute({ type: 'ModifyKeyRoute', target: 'Fake|t', ensure_key_prefix: 'xx' });
    const r = routeSync(root, makeRequest('get', 'k'.repeat(249)));
    expect(r.result).toBe('bad_key');
    expect(fake('t').seen.length).toBe(0);
  });

  test('config errors', () => {
    expect(configError({ type: 'ModifyKeyRoute', target: 'Fake|t', set_routing_prefix: '/a/' }).message)
      .toBe('/route/set_routing_prefix: ModifyKeyRoute: "/a/" is not a routing prefix (expected /region/cluster/ or "")');
    expect(configError({ type: 'ModifyKeyRoute', target: 'Fake|t', replace_key_prefix: 'v1' }).path).toBe('/route/replace_key_prefix');
    expect(configError({ type: 'ModifyKeyRoute', ensure_key_prefix: 'v1' }).message).toMatch(/^\/route: ModifyKeyRoute: .*target/);
    expect(() => buildRoute({ type: 'ModifyKeyRoute', target: 'Fake|t', modify_inplace: true })).not.toThrow();
  });
});
