/**
 * Config parsing is immune to prototype keys: `__proto__` is rejected with its path, and `constructor` /
 * `hasOwnProperty` / `toString` are ordinary names (objects have a null prototype), never inherited members.
 */
import { describe, expect, test } from 'vitest';
import { parseConfigText } from '../../../src/config/loader.js';
import { validateConfig } from '../../../src/config/validate.js';

const check = (text: string): { ok: boolean; message: string } => {
  const r = validateConfig({ configStr: text });
  return r.ok ? { ok: true, message: '' } : { ok: false, message: r.error.message };
};

describe('prototype keys in configs', () => {
  test('pools named constructor, hasOwnProperty, toString are ordinary pools', () => {
    for (const name of ['constructor', 'hasOwnProperty', 'toString', 'valueOf']) {
      const r = check(JSON.stringify({ pools: { [name]: { servers: ['127.0.0.1:11211'] } }, route: `PoolRoute|${name}` }));
      expect(r, name).toEqual({ ok: true, message: '' });
    }
  });

  test('a reference to an undefined pool named constructor is "unknown pool", not an inherited function', () => {
    const r = check(JSON.stringify({ pools: { A: { servers: ['127.0.0.1:11211'] } }, route: 'PoolRoute|constructor' }));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/constructor/);
  });

  test('named handles called constructor and a top-level constructor key', () => {
    expect(check(JSON.stringify({ named_handles: { constructor: 'NullRoute' }, route: 'constructor' })).ok).toBe(true);
    // An unknown top-level key is ignored with a warning (as mcrouter does); nothing reads it, nothing is polluted.
    const top = validateConfig({ configStr: '{"constructor": {"prototype": {"polluted": true}}, "route": "NullRoute"}' });
    expect(top.ok && top.built.warnings).toEqual(['/constructor: unknown property "constructor" ignored']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('__proto__ is rejected in JSON and YAML, and nothing is polluted', () => {
    expect(check('{"pools": {"__proto__": {"servers": ["h:1"]}}, "route": "NullRoute"}').message).toMatch(/__proto__/);
    expect(() => parseConfigText('route: NullRoute\n__proto__:\n  polluted: true\n', 'x.yaml', true)).toThrow(/__proto__/);
    expect(() => parseConfigText('{"constructor": {"prototype": {"polluted": 1}}}', 'x.json', false)).not.toThrow();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  test('authorization identities and prefixes named like prototype members are plain strings', () => {
    const r = check(JSON.stringify({
      route: 'NullRoute',
      authorization: { rules: [{ identity: '__proto__', prefixes: ['constructor'], operations: ['get'] }] },
    }));
    expect(r.ok).toBe(true);
  });
});
