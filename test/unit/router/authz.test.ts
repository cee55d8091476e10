import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../../src/config-error.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { Request } from '../../../src/protocol/types.js';
import { Authorization, compileAuthorization } from '../../../src/router/authz.js';
import { makeRequest } from '../routes/helpers/fake-route.js';

const base = { pools: { A: { servers: ['127.0.0.1:11211'] } }, route: 'PoolRoute|A' };

function policy(authorization: unknown) {
  const p = compileAuthorization({ ...base, authorization });
  if (p === null) throw new Error('no policy');
  return p;
}

describe('compileAuthorization', () => {
  test('no authorization key: no policy (everyone may do everything)', () => {
    expect(compileAuthorization(base)).toBeNull();
  });

  test('exact identity, prefixes and op classes', () => {
    const p = policy({ rules: [{ identity: 'spiffe://t/web', prefixes: ['web:', 'w2:'], operations: ['get_like', 'delete'] }] });
    const id = 'spiffe://t/web';
    expect(p.allows(id, makeRequest('get', 'web:1'))).toBe(true);
    expect(p.allows(id, makeRequest('gets', 'w2:x'))).toBe(true);
    expect(p.allows(id, makeRequest('mg', 'web:1'))).toBe(true);
    expect(p.allows(id, makeRequest('delete', 'web:1'))).toBe(true);
    expect(p.allows(id, makeRequest('md', 'web:1'))).toBe(false); // `delete` is the classic op only
    expect(p.allows(id, makeRequest('set', 'web:1', 'v'))).toBe(false);
    expect(p.allows(id, makeRequest('get', 'web'))).toBe(false);
    expect(p.allows(id, makeRequest('get', 'other:1'))).toBe(false);
    expect(p.allows('spiffe://t/web2', makeRequest('get', 'web:1'))).toBe(false);
  });

  test('rules for one identity add up; longer prefixes can widen shorter ones', () => {
    const p = policy({
      rules: [
        { identity: 'a', prefixes: ['x:'], operations: ['get'] },
        { identity: 'a', prefixes: ['x:admin:'], operations: ['set'] },
      ],
    });
    expect(p.allows('a', makeRequest('get', 'x:admin:1'))).toBe(true);
    expect(p.allows('a', makeRequest('set', 'x:admin:1', 'v'))).toBe(true);
    expect(p.allows('a', makeRequest('set', 'x:1', 'v'))).toBe(false);
  });

  test('"*" identity and trailing-* prefix identities', () => {
    const p = policy({
      rules: [
        { identity: '*', prefixes: ['public:'], operations: ['get'] },
        { identity: 'spiffe://t/ns/batch/*', operations: ['*'] },
      ],
    });
    expect(p.allows('anyone', makeRequest('get', 'public:1'))).toBe(true);
    expect(p.allows('anyone', makeRequest('get', 'private:1'))).toBe(false);
    expect(p.allows('spiffe://t/ns/batch/sa/x', makeRequest('incr', 'k', null))).toBe(true);
    expect(p.allows('spiffe://t/ns/batch/sa/x', makeRequest('get', 'public:1'))).toBe(true);
    expect(p.allows('spiffe://t/ns/batchy', makeRequest('incr', 'k'))).toBe(false);
  });

  test('default allow: identities no rule names may do everything; named ones only their grants', () => {
    const p = policy({ default: 'allow', rules: [{ identity: 'limited', prefixes: ['a:'], operations: ['get'] }] });
    expect(p.allows('someone', makeRequest('set', 'z', 'v'))).toBe(true);
    expect(p.allows('limited', makeRequest('set', 'a:1', 'v'))).toBe(false);
    expect(p.allows('limited', makeRequest('get', 'a:1'))).toBe(true);
    expect(p.grantFor('someone').allowsOp('flush_all')).toBe(true);
    expect(p.grantFor('limited').allowsOp('flush_all')).toBe(false);
  });

  test('default deny, and "*" does not include flush_all', () => {
    const p = policy({ rules: [{ identity: 'x', operations: ['*'] }, { identity: 'f', prefixes: ['p'], operations: ['flush_all'] }] });
    expect(p.allows('nobody', makeRequest('get', 'a'))).toBe(false);
    expect(p.grantFor('x').allowsOp('flush_all')).toBe(false);
    expect(p.grantFor('f').allowsOp('flush_all')).toBe(true);
  });

  test('a "*" in the middle of an identity is a config error with its path', () => {
    let err: unknown;
    try {
      policy({ rules: [{ identity: 'ok', operations: ['get'] }, { identity: 'spiffe://*/web', operations: ['get'] }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('/authorization/rules/1/identity');
  });
});

describe('the schema checks the section (validate-config and reload reject bad policies)', () => {
  const check = (authorization: unknown): string | null => {
    const r = validateConfig({ configStr: JSON.stringify({ ...base, authorization }) });
    return r.ok ? null : r.error.message;
  };
  test('valid', () => {
    expect(check({ default: 'allow', log_interval_ms: 1000, rules: [{ identity: 'a', prefixes: ['x'], operations: ['get_like', 'flush_all'] }] })).toBeNull();
  });
  test('invalid shapes', () => {
    expect(check({ rules: [{ identity: 'a', operations: ['fly'] }] })).toMatch(/authorization\/rules\/0\/operations\/0/);
    expect(check({ rules: [{ identity: 'a' }] })).toMatch(/authorization\/rules\/0/);
    expect(check({ rules: [{ identity: '', operations: ['get'] }] })).toMatch(/identity/);
    expect(check({ rules: [{ identity: 'a', operations: ['get'], prefixes: [] }] })).toMatch(/prefixes/);
    expect(check({ default: 'maybe', rules: [] })).toMatch(/default/);
    expect(check({ rules: [], extra: 1 })).toMatch(/authorization/);
    expect(check([])).toMatch(/authorization/);
  });
});

describe('Authorization (live state)', () => {
  test('activate installs and removes the policy; denials are counted per identity and logged once per interval', () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const a = new Authorization(log);
    const req: Request = makeRequest('get', 'x:1');
    expect(a.allows('w', req)).toBe(true);
    a.activate(policy({ log_interval_ms: 60_000, rules: [{ identity: 'w', prefixes: ['w:'], operations: ['get'] }] }));
    expect(a.active).not.toBeNull();
    expect(a.allows('w', req)).toBe(false);
    for (let i = 0; i < 5; i++) expect(a.deny('w', req).result).toBe('permission_denied');
    a.deny('v', req);
    expect(a.deniedTotal).toBe(6);
    expect(a.deniedByIdentity.get('w')).toBe(5);
    expect(a.deniedByIdentity.get('v')).toBe(1);
    expect(lines.filter((l) => l.includes('"identity":"w"'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"identity":"v"'))).toHaveLength(1);
    expect(a.allowsFlush('w')).toBe(false);
    expect(a.deniedTotal).toBe(7);
    a.activate(null);
    expect(a.active).toBeNull();
    expect(a.allows('w', req)).toBe(true);
    expect(a.allowsFlush('w')).toBe(true);
    expect(a.deniedTotal).toBe(7); // counters survive reloads
  });

  test('SERVER_ERROR permission denied is the rendered text', () => {
    const a = new Authorization(pino({ level: 'silent' }));
    a.activate(policy({ rules: [] }));
    const r = a.deny('x', makeRequest('get', 'k'));
    expect(r.message).toBe('permission denied');
  });
});
