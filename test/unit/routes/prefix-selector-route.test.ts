import { describe, expect, test } from 'vitest';
import { PrefixSelectorRoute } from '../../../src/routes/prefix-selector-route.js';
import { FakeRoute, makeRequest, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { buildRoute, configError, who } from './helpers/fake-leaf-config.js';
import { validateConfig } from '../../../src/config/validate.js';

describe('PrefixSelectorRoute', () => {
  test('mcrouter example: a→A, ab→B, wildcard C', () => {
    const { root } = buildRoute({ type: 'PrefixSelectorRoute', policies: { a: 'Fake|A', ab: 'Fake|B' }, wildcard: 'Fake|C' });
    expect(who(routeSync(root, makeRequest('get', '/a/a/abcd')))).toBe('B');
    expect(who(routeSync(root, makeRequest('get', 'acdc')))).toBe('A');
    expect(who(routeSync(root, makeRequest('get', 'b')))).toBe('C');
    expect(who(routeSync(root, makeRequest('get', 'ab')))).toBe('B');
    expect(who(routeSync(root, makeRequest('get', '')))).toBe('C');
  });

  test('matches the routing key: not the routing prefix, not past |#|; the key is not stripped', () => {
    const { root, fake } = buildRoute({ type: 'PrefixSelectorRoute', policies: { 'user:': 'Fake|U', 'user:vip|': 'Fake|V' }, wildcard: 'Fake|W' });
    expect(who(routeSync(root, makeRequest('set', '/r/c/user:1', 'x')))).toBe('U');
    expect(who(routeSync(root, makeRequest('get', '/user:/c/zzz')))).toBe('W');
    // `user:vip|#|x` has routing key `user:vip`, so the longer policy `user:vip|` cannot match it.
    expect(who(routeSync(root, makeRequest('get', 'user:vip|#|x')))).toBe('U');
    expect(fake('U').keys).toEqual(['/r/c/user:1', 'user:vip|#|x']);
  });

  test('longest prefix wins among many, with shared stems', () => {
    const policies = new Map<string, FakeRoute>();
    for (const p of ['a', 'ab', 'abc', 'abd', 'b', 'bcd']) policies.set(p, new FakeRoute(p, 'found'));
    const route = new PrefixSelectorRoute(policies, null);
    const cases: [string, string | null][] = [
      ['abcz', 'abc'], ['abdz', 'abd'], ['abz', 'ab'], ['az', 'a'], ['bc', 'b'], ['bcde', 'bcd'], ['c', null], ['', null],
    ];
    for (const [key, want] of cases) expect(route.select(Buffer.from(key))?.name ?? null).toBe(want);
  });

  test('utf-8 prefixes match byte-wise', () => {
    const { root } = buildRoute({ type: 'PrefixSelectorRoute', policies: { 'é': 'Fake|E' }, wildcard: 'Fake|W' });
    const req = makeRequest('get', 'x');
    expect(who(routeSync(root, req.withKey(Buffer.from('ébc', 'utf8'))))).toBe('E');
    expect(who(routeSync(root, req.withKey(Buffer.from('e', 'utf8'))))).toBe('W');
  });

  test('no match and no wildcard: local_error; policies only or wildcard only both build', () => {
    const { root } = buildRoute({ type: 'PrefixSelectorRoute', policies: { a: 'Fake|A' } });
    const r = routeSync(root, makeRequest('get', 'zzz'));
    expect(r.result).toBe('local_error');
    expect(r.message).toBeNull();
    expect(who(routeSync(buildRoute({ type: 'PrefixSelectorRoute', wildcard: 'Fake|W' }).root, makeRequest('get', 'a')))).toBe('W');
    expect(who(routeSync(buildRoute('PrefixSelectorRoute|Fake|W').root, makeRequest('get', 'a')))).toBe('W');
  });

  test('traverse visits only the selected child', () => {
    const { root } = buildRoute({ type: 'PrefixSelectorRoute', policies: { a: 'Fake|A' }, wildcard: 'Fake|W' });
    expect(traverseDestinations(root, makeRequest('get', 'ax'))).toEqual(['A']);
    expect(traverseDestinations(root, makeRequest('get', 'x'))).toEqual(['W']);
    expect(traverseDestinations(buildRoute({ type: 'PrefixSelectorRoute', policies: { a: 'Fake|A' } }).root, makeRequest('get', 'x'))).toEqual([]);
  });

  test('config errors name the exact path', () => {
    expect(configError({ type: 'PrefixSelectorRoute' }).message).toBe('/route: PrefixSelectorRoute: needs "policies" or "wildcard"');
    expect(configError({ type: 'PrefixSelectorRoute', policies: { '': 'Fake|A' } }).path).toBe('/route/policies/');
    expect(configError({ type: 'PrefixSelectorRoute', policies: { 'a/b': 'Nope|x' } }).path).toBe('/route/policies/a~1b');
    expect(configError({ type: 'PrefixSelectorRoute', policies: { a: 5 } }).path).toBe('/route/policies/a');
    const lenient = validateConfig({ configStr: JSON.stringify({ route: { type: 'PrefixSelectorRoute', wildcard: 'NullRoute', extra: 1 } }) });
    expect(lenient.ok && lenient.built.warnings).toEqual(['/route/extra: PrefixSelectorRoute: unknown option "extra" ignored']);
    expect(configError({ type: 'PrefixSelectorRoute', wildcard: 'Nope' }).path).toBe('/route/wildcard');
  });
});
