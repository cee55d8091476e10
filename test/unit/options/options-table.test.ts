/**
 * The option table against what is derived from it: the ProxyOptions type, DEFAULT_OPTIONS, `--help` and
 * parseArgs. Expected values are written out here, not computed by src/options.ts.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DEFAULT_OPTIONS,
  OPTION_TABLE,
  parseArgs,
  usage,
  type OptionName,
  type OptionSpec,
  type ProxyOptions,
  type RouterOptionName,
  type RouterOptions,
} from '../../../src/options.js';

const entries = Object.entries(OPTION_TABLE) as [OptionName, OptionSpec][];
const NO_ENV = {};

/** Every flag spelling of an entry: its own, then its alias's. */
function spellings(spec: OptionSpec): string[] {
  return [...spec.flags, ...(spec.alias?.flags ?? [])];
}

/** Does `v` have the runtime shape of `spec`'s kind? */
function hasKindShape(spec: OptionSpec, v: unknown): boolean {
  if (v === null) return spec.nullable;
  switch (spec.kind) {
    case 'string':
      return typeof v === 'string';
    case 'int':
    case 'ms':
    case 'sec':
      return typeof v === 'number' && Number.isInteger(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'ports':
      return Array.isArray(v) && v.every((x) => Number.isInteger(x));
    case 'params':
      return typeof v === 'object' && !Array.isArray(v);
  }
}

describe('option table ↔ types', () => {
  it('ProxyOptions has exactly the table names plus ignored, with the declared value types', () => {
    expectTypeOf<keyof ProxyOptions>().toEqualTypeOf<OptionName | 'ignored'>();
    expectTypeOf<ProxyOptions['serverTimeoutMs']>().toEqualTypeOf<number>();
    expectTypeOf<ProxyOptions['localZone']>().toEqualTypeOf<string | null>();
    expectTypeOf<ProxyOptions['hostId']>().toEqualTypeOf<number | null>();
    expectTypeOf<ProxyOptions['ports']>().toEqualTypeOf<number[]>();
    expectTypeOf<ProxyOptions['listenAddresses']>().toEqualTypeOf<string[]>();
    expectTypeOf<ProxyOptions['configParams']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<ProxyOptions['sslVerifyPeers']>().toEqualTypeOf<boolean>();
    expectTypeOf<ProxyOptions['ignored']>().toEqualTypeOf<Record<string, string | true>>();
  });

  it('RouterOptions is the in-process subset, by camelCase name', () => {
    expectTypeOf<'serverTimeoutMs' | 'localZone' | 'asyncDir' | 'timeoutsUntilTko' | 'adminPort' | 'logLevel'>().toMatchTypeOf<RouterOptionName>();
    for (const cliOnly of ['ports', 'listenAddresses', 'listenSockFd', 'sslPorts', 'noPlaintext', 'maxConns', 'numProxies'] as const) {
      expectTypeOf<typeof cliOnly>().not.toMatchTypeOf<RouterOptionName>();
    }
    expectTypeOf<RouterOptions>().toEqualTypeOf<Partial<Pick<ProxyOptions, RouterOptionName>>>();
    const inProcess = entries.filter(([, s]) => s.inProcess).map(([n]) => n);
    expect(inProcess).toEqual(expect.arrayContaining(['serverTimeoutMs', 'localZone', 'asyncDir', 'timeoutsUntilTko', 'adminPort', 'logLevel']));
    for (const cliOnly of ['ports', 'listenAddresses', 'listenSockFd', 'sslPorts', 'noPlaintext', 'maxConns', 'numProxies']) {
      expect(inProcess).not.toContain(cliOnly);
    }
  });

  it('ms and sec kinds match the names that carry the unit', () => {
    for (const [name, spec] of entries) {
      expect(spec.kind === 'ms', name).toBe(name.endsWith('Ms'));
      expect(spec.kind === 'sec', name).toBe(name.endsWith('Sec'));
    }
  });

  it('flags are unique, well formed, and do not take --help/--version', () => {
    const seen = new Set<string>(['--help', '-h', '--version', '-V']);
    for (const [name, spec] of entries) {
      for (const f of spellings(spec)) {
        expect(f, name).toMatch(/^(--[a-z0-9]+(-[a-z0-9]+)*|-[A-Za-z])$/);
        expect(seen.has(f), `${f} used twice`).toBe(false);
        seen.add(f);
      }
    }
  });

  it('environment variables are named MCRELAY_* and only fill nullable options', () => {
    for (const [name, spec] of entries) {
      if (spec.env === undefined) continue;
      expect(spec.env, name).toMatch(/^MCRELAY_[A-Z0-9_]+$/);
      expect(spec.nullable, name).toBe(true);
    }
  });
});

describe('option table ↔ defaults', () => {
  it('every ProxyOptions key has a default of its kind, and nothing else is in DEFAULT_OPTIONS', () => {
    expect(Object.keys(DEFAULT_OPTIONS).sort()).toEqual([...entries.map(([n]) => n), 'ignored'].sort());
    for (const [name, spec] of entries) {
      expect(DEFAULT_OPTIONS[name], name).not.toBeUndefined();
      expect(hasKindShape(spec, DEFAULT_OPTIONS[name]), name).toBe(true);
      expect(DEFAULT_OPTIONS[name], name).toEqual(spec.default);
    }
    expect(DEFAULT_OPTIONS.ignored).toEqual({});
  });

  it('a sample of the defaults (as mcrouter and our docs give them)', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({
      serverTimeoutMs: 1000,
      listenAddresses: ['127.0.0.1'],
      routePrefix: '/././',
      timeoutsUntilTko: 3,
      probeTimeoutInitialMs: 10_000,
      probeTimeoutMaxMs: 60_000,
      maxValueSize: 67_108_864,
      maxDumpedConfigAgeSec: 43_200,
      statsLoggingIntervalMs: 10_000,
      sslVerifyPeers: true,
      adminTextCommands: 'all',
      localZone: null,
      ports: [],
    });
  });

  it('no arguments and no environment parse to the defaults', () => {
    expect(parseArgs([], NO_ENV).options).toEqual(DEFAULT_OPTIONS);
  });

  it('parsed options share no array or object with DEFAULT_OPTIONS', () => {
    const a = parseArgs([], NO_ENV).options;
    a.listenAddresses.push('10.0.0.1');
    a.configParams['x'] = 'y';
    expect(DEFAULT_OPTIONS.listenAddresses).toEqual(['127.0.0.1']);
    expect(DEFAULT_OPTIONS.configParams).toEqual({});
    expect(parseArgs([], NO_ENV).options.listenAddresses).toEqual(['127.0.0.1']);
  });
});

describe('option table ↔ --help', () => {
  const lines = usage().split('\n');
  const optionLines = lines.slice(lines.indexOf('Options:') + 1);

  it('lists every entry and alias once, with its help text, and nothing else but --help and --version', () => {
    const expected: { flags: readonly string[]; kind: string; help: string }[] = [];
    for (const [, spec] of entries) {
      expected.push({ flags: spec.flags, kind: spec.kind, help: spec.help });
      if (spec.alias !== undefined) expected.push({ flags: spec.alias.flags, kind: spec.kind, help: spec.alias.help });
    }
    expect(optionLines).toHaveLength(expected.length + 2);
    expected.forEach((e, i) => {
      const line = optionLines[i] ?? '';
      const flagPart = e.flags.join(', ') + (e.kind === 'bool' ? '' : ' VALUE');
      expect(line.startsWith(`  ${flagPart} `), line).toBe(true);
      // The help text follows, with {default} filled in.
      const [before = '', after = ''] = e.help.split('{default}');
      expect(line, e.flags[0]).toContain(before);
      expect(line, e.flags[0]).toContain(after);
      expect(line).not.toContain('{default}');
    });
    expect(optionLines.at(-2)).toMatch(/^ {2}--help, -h +this help$/);
    expect(optionLines.at(-1)).toMatch(/^ {2}--version, -V +print the version$/);
  });

  it('the local zone line names its environment variable', () => {
    expect(lines.find((l) => l.startsWith('  --local-zone '))).toContain('(or env MCRELAY_LOCAL_ZONE)');
  });

  it('every "default X" in a help line is the default', () => {
    /** How a default is spelt in help text. */
    const spelt = (v: unknown): string => (v === null || v === false ? 'off' : v === true ? 'on' : Array.isArray(v) ? v.join(',') : String(v));
    // --port's default is empty, meaning the listener's own 11211.
    const exempt = new Set(['ports']);
    let checked = 0;
    for (const [name, spec] of entries) {
      const line = lines.find((l) => l.startsWith(`  ${spec.flags.join(', ')} `)) ?? '';
      const m = /(?:\(|; )default ([^\s;)]+)/.exec(line.slice(42));
      if (m === null || exempt.has(name)) continue;
      expect(m[1], `${name}: ${line}`).toBe(spelt(spec.default));
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });
});

describe('option table ↔ parseArgs', () => {
  /** A value to give each kind on the command line, and what it must parse to. */
  const SAMPLES: Record<OptionSpec['kind'], [string, unknown]> = {
    string: ['x', 'x'],
    int: ['7', 7],
    ms: ['-3', -3],
    sec: ['12', 12],
    list: ['a, b,,c', ['a', 'b', 'c']],
    ports: ['1, 2', [1, 2]],
    params: ['a:1,b:2', { a: '1', b: '2' }],
    bool: ['', true],
  };

  /** The `--no-…` aliases of bool options that are on by default: each sets its option to false. */
  const NEGATIONS: Record<string, OptionName> = {
    '--no-latency-histograms': 'latencyHistograms',
    '--no-destination-stats': 'destinationStats',
    '--no-prefix-stats': 'prefixStats',
    '--no-hot-keys': 'hotKeys',
  };

  it('the bool aliases are exactly the --no-… negations, of options that default to on', () => {
    const boolAliases = entries.filter(([, s]) => s.kind === 'bool' && s.alias !== undefined).flatMap(([n, s]) => (s.alias?.flags ?? []).map((f) => [f, n]));
    expect(Object.fromEntries(boolAliases)).toEqual(NEGATIONS);
    for (const name of Object.values(NEGATIONS)) expect(DEFAULT_OPTIONS[name], name).toBe(true);
  });

  for (const [name, spec] of entries) {
    for (const flag of spellings(spec)) {
      it(`${flag} sets ${name} and nothing else`, () => {
        let [raw, want] = SAMPLES[spec.kind];
        if (spec.kind === 'string' && spec.choices !== undefined) raw = want = spec.choices.at(-1) ?? '';
        const negation = NEGATIONS[flag] !== undefined;
        if (negation) want = false;
        else if (spec.alias?.flags.includes(flag) === true) want = `file:${raw}`; // --config-file PATH means --config file:PATH
        const argv = spec.kind === 'bool' ? [flag] : [flag, raw as string];
        expect(parseArgs(argv, NO_ENV).options).toEqual({ ...DEFAULT_OPTIONS, [name]: want });
        if (spec.kind !== 'bool' && flag.startsWith('--')) {
          expect(parseArgs([`${flag}=${raw}`], NO_ENV).options).toEqual({ ...DEFAULT_OPTIONS, [name]: want });
        }
        if (spec.kind === 'bool' && spec.choices === undefined) {
          // `--x=false` turns x off; `--no-x=false` turns it (back) on.
          expect(parseArgs([`${flag}=false`], NO_ENV).options).toEqual({ ...DEFAULT_OPTIONS, [name]: negation });
        }
      });
    }
  }
});
