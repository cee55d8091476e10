/**
 * parseArgs on mcrouter-style command lines: aliases, `=` forms, booleans, unknown flags and usage errors.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, UsageError, parseArgs, type ProxyOptions } from '../../../src/options.js';

const NO_ENV = {};

/** The options `argv` sets that differ from the defaults. */
function changed(argv: string[]): Partial<ProxyOptions> {
  const o = parseArgs(argv, NO_ENV).options as unknown as Record<string, unknown>;
  const d = DEFAULT_OPTIONS as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(d[k])));
}

describe('parseArgs', () => {
  it.each<[string[], Partial<ProxyOptions>]>([
    [['--config', 'file:/x'], { config: 'file:/x' }],
    [['-f', '/x'], { config: 'file:/x' }],
    [['-f', 'file:/x'], { config: 'file:/x' }],
    [['--config-file=/y'], { config: 'file:/y' }],
    [['--config='], { config: '' }],
    [['--config', 'etcd://h:1/k'], { config: 'etcd://h:1/k' }],
    [['-p', '1,2, 3'], { ports: [1, 2, 3] }],
    [['--port=5'], { ports: [5] }],
    [['--listen-addresses', 'a, b,,c'], { listenAddresses: ['a', 'b', 'c'] }],
    [['-t', '-5'], { serverTimeoutMs: -5 }],
    [['--enable-flush-cmd'], { enableFlushCmd: true }],
    [['--enable-flush-cmd=false'], {}],
    [['--enable-flush-cmd=0'], { enableFlushCmd: true }],
    [['--validate-config=exit'], { validateConfig: true }],
    [['--validate-config=run'], { validateConfig: true }],
    [['--ssl-verify-peers=false'], { sslVerifyPeers: false }],
    // Observability is on by default: the old opt-in flags still parse (and change nothing); each turns off.
    [['--prefix-stats', '--hot-keys'], {}],
    [['--no-prefix-stats'], { prefixStats: false }],
    [['--prefix-stats=false'], { prefixStats: false }],
    [['--no-prefix-stats', '--prefix-stats'], {}],
    [['--no-hot-keys', '--hot-keys=false'], { hotKeys: false }],
    [['--no-latency-histograms', '--no-destination-stats'], { latencyHistograms: false, destinationStats: false }],
    [['--config-params', 'a:1,b:2'], { configParams: { a: '1', b: '2' } }],
    [['--config-params', ''], {}],
    [['--admin-text-commands', 'loopback'], { adminTextCommands: 'loopback' }],
    [['-K', '3', '-i', '4', '-I', '5'], { keepaliveCount: 3, keepaliveIntervalSec: 4, keepaliveIdleSec: 5 }],
    [['-r', '10', '-a', '/tmp/a', '-R', '/a/b/'], { probeTimeoutInitialMs: 10, asyncDir: '/tmp/a', routePrefix: '/a/b/' }],
  ])('%j', (argv, want) => {
    expect(changed(argv)).toEqual(want);
  });

  it('--help/-h and --version/-V are reported, not options', () => {
    expect(parseArgs(['-h'], NO_ENV)).toMatchObject({ help: true, version: false });
    expect(parseArgs(['--help'], NO_ENV)).toMatchObject({ help: true, version: false });
    expect(parseArgs(['-V'], NO_ENV)).toMatchObject({ help: false, version: true });
    expect(parseArgs(['--version'], NO_ENV)).toMatchObject({ help: false, version: true });
  });

  it.each<[string[], Record<string, string | true>, string[]]>([
    [['--unknown-thing', 'v'], { '--unknown-thing': 'v' }, ['--unknown-thing']],
    [['--unknown-thing'], { '--unknown-thing': true }, ['--unknown-thing']],
    [['--unknown-thing=v'], { '--unknown-thing': 'v' }, ['--unknown-thing=v']],
    [['--unknown', '--other', 'x'], { '--unknown': true, '--other': 'x' }, ['--unknown', '--other']],
    [['-Z', '-p', '3'], { '-Z': true }, ['-Z']],
    [['-p=3'], { '-p=3': true }, ['-p=3']],
  ])('unknown flags %j are kept aside, swallowing a following value', (argv, ignored, unknown) => {
    const r = parseArgs(argv, NO_ENV);
    expect(r.options.ignored).toEqual(ignored);
    expect(r.unknown).toEqual(unknown);
  });

  it.each<[string[], string]>([
    [['-p', 'abc'], '-p: expected an integer, got "abc"'],
    [['-p'], '-p needs a value'],
    [['--port', '1,,2'], '--port: expected an integer, got ""'],
    [['--port='], '--port: expected an integer, got ""'],
    [['--server-timeout=1.5'], '--server-timeout: expected an integer, got "1.5"'],
    [['--enable-flush-cmd', 'false'], 'unexpected argument "false"'],
    [['positional'], 'unexpected argument "positional"'],
    [['--validate-config=bad'], '--validate-config: expected exit or run'],
    [['--validate-config=false'], '--validate-config: expected exit or run'],
    [['--config-params', 'bad'], '--config-params: expected name:value, got "bad"'],
    [['--admin-text-commands', 'nope'], '--admin-text-commands: expected all, loopback or off, got "nope"'],
    // Flag errors come first; the admin-text-commands value is checked once all flags are read.
    [['--admin-text-commands', 'nope', '-p', 'x'], '-p: expected an integer, got "x"'],
    [['--config', 'etcd://h:1'], '--config: etcd URL has no key: etcd://h:1 (etcd://HOST:PORT/KEY)'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgs(argv, NO_ENV)).toThrow(UsageError);
    expect(() => parseArgs(argv, NO_ENV)).toThrow(message);
  });
});
