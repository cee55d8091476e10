/**
 * routerOptions (an embedded router's options) and the environment, which the command line and the library
 * must read alike.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_OPTIONS,
  OPTION_TABLE,
  OptionError,
  applyEnvironment,
  parseArgs,
  routerOptions,
  type OptionName,
  type OptionSpec,
  type RouterOptions,
} from '../../../src/options.js';

const entries = Object.entries(OPTION_TABLE) as [OptionName, OptionSpec][];
const NO_ENV = {};

/** routerOptions given something its type refuses (as a JavaScript caller could). */
function untyped(partial: Record<string, unknown>, env = NO_ENV) {
  return routerOptions(partial as RouterOptions, env);
}

/** The OptionError `fn` throws. */
function thrown(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OptionError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('routerOptions', () => {
  it('fills every default', () => {
    expect(routerOptions({}, NO_ENV)).toEqual(DEFAULT_OPTIONS);
    expect(routerOptions(undefined, NO_ENV)).toEqual(DEFAULT_OPTIONS);
  });

  it('keeps the values given and defaults the rest', () => {
    const o = routerOptions({ serverTimeoutMs: 50, localZone: 'z1', configParams: { a: 'b' }, dnsServers: ['127.0.0.1:53'], sslVerifyPeers: false }, NO_ENV);
    expect(o).toEqual({ ...DEFAULT_OPTIONS, serverTimeoutMs: 50, localZone: 'z1', configParams: { a: 'b' }, dnsServers: ['127.0.0.1:53'], sslVerifyPeers: false });
  });

  it('leaves keys given as undefined at their defaults', () => {
    expect(untyped({ serverTimeoutMs: undefined }).serverTimeoutMs).toBe(1000);
  });

  it('shares no array or object with DEFAULT_OPTIONS', () => {
    const o = routerOptions({}, NO_ENV);
    o.prefixStatsPrefixes.push('p:');
    o.configParams['k'] = 'v';
    expect(DEFAULT_OPTIONS.prefixStatsPrefixes).toEqual([]);
    expect(DEFAULT_OPTIONS.configParams).toEqual({});
  });

  it('rejects an unknown name, naming the key and the nearest option', () => {
    const e = thrown(() => untyped({ serverTimeout: 5 }));
    expect(e.option).toBe('serverTimeout');
    expect(e.message).toBe('routerOptions: unknown option "serverTimeout" (did you mean "serverTimeoutMs"?)');
  });

  it('points a flag spelling to its camelCase name', () => {
    expect(thrown(() => untyped({ 'server-timeout': 5 })).message).toContain('(did you mean "serverTimeoutMs"?)');
    expect(thrown(() => untyped({ 'local-zone': 'a' })).message).toContain('(did you mean "localZone"?)');
  });

  it.each(['bogusThing', 'ignored', '__proto__', 'toString', 'constructor'])('rejects %s', (key) => {
    const partial = JSON.parse(`{${JSON.stringify(key)}: 1}`) as Record<string, unknown>;
    const e = thrown(() => untyped(partial));
    expect(e.option).toBe(key);
    expect(e.message).toContain(`unknown option "${key}"`);
  });

  it.each(['ports', 'listenAddresses', 'listenSockFd', 'sslPorts', 'noPlaintext', 'maxConns', 'numProxies'])('rejects %s, an option of the mcrelay command only', (key) => {
    const e = thrown(() => untyped({ [key]: DEFAULT_OPTIONS[key as OptionName] }));
    expect(e.option).toBe(key);
    expect(e.message).toContain(`"${key}"`);
    expect(e.message).toContain('mcrelay command only');
  });

  it('accepts every in-process option at its default, and no other', () => {
    for (const [name, spec] of entries) {
      const call = () => untyped({ [name]: DEFAULT_OPTIONS[name] });
      if (spec.inProcess) expect(call, name).not.toThrow();
      else expect(call, name).toThrow(OptionError);
    }
  });

  it.each<[Record<string, unknown>, string]>([
    [{ serverTimeoutMs: '5' }, '"serverTimeoutMs" must be an integer (milliseconds), got string'],
    [{ serverTimeoutMs: 1.5 }, '"serverTimeoutMs" must be an integer (milliseconds), got number'],
    [{ serverTimeoutMs: null }, '"serverTimeoutMs" must be an integer (milliseconds), got null'],
    [{ localZone: 3 }, '"localZone" must be a string or null, got number'],
    [{ enableFlushCmd: 'yes' }, '"enableFlushCmd" must be a boolean, got string'],
    [{ dnsServers: '1.1.1.1:53' }, '"dnsServers" must be an array of strings, got string'],
    [{ configParams: ['a'] }, '"configParams" must be an object of strings, got object'],
    [{ config: 'etcd://h:1' }, '"config": etcd URL has no key'],
  ])('rejects %j', (partial, message) => {
    const e = thrown(() => untyped(partial));
    expect(e.option).toBe(Object.keys(partial)[0]);
    expect(e.message).toContain(message);
  });

  it('takes null for nullable options', () => {
    expect(routerOptions({ localZone: null, adminPort: null, asyncDir: null }, NO_ENV)).toEqual(DEFAULT_OPTIONS);
  });
});

describe('environment, for the command line and the library alike', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const env = { MCRELAY_LOCAL_ZONE: 'us-east-1a' };

  it('fills an unset option on both paths', () => {
    expect(parseArgs([], env).options.localZone).toBe('us-east-1a');
    expect(routerOptions({}, env).localZone).toBe('us-east-1a');
  });

  it('an explicit value wins on both paths', () => {
    expect(parseArgs(['--local-zone', 'eu-west-1b'], env).options.localZone).toBe('eu-west-1b');
    expect(routerOptions({ localZone: 'eu-west-1b' }, env).localZone).toBe('eu-west-1b');
  });

  it('an empty variable counts as unset on both paths', () => {
    expect(parseArgs([], { MCRELAY_LOCAL_ZONE: '' }).options.localZone).toBeNull();
    expect(routerOptions({}, { MCRELAY_LOCAL_ZONE: '' }).localZone).toBeNull();
  });

  it('both read process.env by default', () => {
    vi.stubEnv('MCRELAY_LOCAL_ZONE', 'ap-south-1c');
    expect(parseArgs([]).options.localZone).toBe('ap-south-1c');
    expect(routerOptions().localZone).toBe('ap-south-1c');
    vi.stubEnv('MCRELAY_LOCAL_ZONE', '');
    expect(parseArgs([]).options.localZone).toBeNull();
    expect(routerOptions().localZone).toBeNull();
  });

  it('every variable in the table gives the same options on both paths as applyEnvironment alone', () => {
    const withEnv = entries.filter(([, s]) => s.env !== undefined);
    expect(withEnv.map(([n]) => n)).toContain('localZone');
    const all: Record<string, string> = {};
    for (const [, spec] of withEnv) all[spec.env as string] = spec.kind === 'string' ? 'from-env' : '42';
    const applied = applyEnvironment(structuredClone(DEFAULT_OPTIONS), all);
    for (const [name] of withEnv) expect(applied[name], name).not.toEqual(DEFAULT_OPTIONS[name]);
    expect(parseArgs([], all).options).toEqual(applied);
    expect(routerOptions({}, all)).toEqual(applied);
  });

  it('is applied once: applying it again changes nothing, and it never overrides a value', () => {
    const o = parseArgs([], env).options;
    const again = applyEnvironment(structuredClone(o), { MCRELAY_LOCAL_ZONE: 'other' });
    expect(again).toEqual(o);
    const r = routerOptions({}, env);
    expect(applyEnvironment(structuredClone(r), { MCRELAY_LOCAL_ZONE: 'other' })).toEqual(r);
  });

  it('applyEnvironment changes the object it is given and returns it', () => {
    const o = structuredClone(DEFAULT_OPTIONS);
    expect(applyEnvironment(o, env)).toBe(o);
    expect(o.localZone).toBe('us-east-1a');
  });
});
