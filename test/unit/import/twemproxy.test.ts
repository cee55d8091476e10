/**
 * `mcrelay import twemproxy`: reading a nutcracker.yml the way nutcracker 0.5.0 does, the mcrelay config and
 * flags each pool becomes, and the command's output and exit codes. Placement itself is proven against the
 * real nutcracker in test/integration/import-twemproxy.test.ts; here the built config is checked against the
 * ring twemproxy's rules give (names, weights, tag), computed by createSelector from the parsed servers.
 */
import { describe, expect, test } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';
import { runImportCommand, type ImportIo } from '../../../src/import/import-command.js';
import {
  ImportError,
  parseServerLine,
  parseTwemproxyYaml,
  renderPoolImport,
  translatePool,
  type PoolImport,
  type TwemproxyPool,
} from '../../../src/import/twemproxy.js';
import { createSelector } from '../../../src/routes/hash/selector.js';
import { Traversal } from '../../../src/routes/route-handle.js';
import { Request } from '../../../src/protocol/types.js';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function onePool(...body: string[]): TwemproxyPool {
  const parsed = parseTwemproxyYaml(yaml('pool:', ...body.map((l) => `  ${l}`)), 'nc.yml');
  const [p] = parsed.pools;
  if (p === undefined) throw new Error('no pool');
  return p;
}

function importError(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImportError) return e;
    throw e;
  }
  throw new Error('expected an ImportError');
}

const SERVERS = ['servers:', ' - 10.0.0.1:11211:1', ' - 10.0.0.2:11212:2'];

describe('server lines, as nutcracker splits them', () => {
  test.each([
    ['10.0.0.1:11211:1', { host: '10.0.0.1', port: 11211, weight: 1, ringName: '10.0.0.1', explicitName: null }],
    ['10.0.0.1:11212:3', { host: '10.0.0.1', port: 11212, weight: 3, ringName: '10.0.0.1:11212', explicitName: null }],
    ['cache-1.example:11212:7 shard7', { host: 'cache-1.example', port: 11212, weight: 7, ringName: 'shard7', explicitName: 'shard7' }],
    // The port is part of the ring name as written.
    ['10.0.0.1:011212:1', { host: '10.0.0.1', port: 11212, weight: 1, ringName: '10.0.0.1:011212', explicitName: null }],
    ['::1:11212:1', { host: '::1', port: 11212, weight: 1, ringName: '::1:11212', explicitName: null }],
    ['/var/run/mc.sock:2 local', { host: '/var/run/mc.sock', port: 0, weight: 2, ringName: 'local', unixSocket: true }],
  ])('%s', (line, want) => {
    expect(parseServerLine(line, 'w', 'p')).toMatchObject(want);
  });

  test.each([
    ['10.0.0.1:11211', 'has an invalid "hostname:port:weight [name]" format string'],
    ['10.0.0.1:11211:0', 'has a zero weight'],
    ['10.0.0.1:11211:-1', 'has an invalid weight'],
    ['10.0.0.1:99999:1', 'has an invalid port'],
    ['10.0.0.1', 'has an invalid "hostname:port:weight [name]" format string'],
  ])('%s is refused', (line, why) => {
    expect(importError(() => parseServerLine(line, 'nc.yml:3:4', 'p')).message).toBe(`nc.yml:3:4: pool "p": server "${line}" ${why}`);
  });
});

describe('reading nutcracker.yml', () => {
  test('defaults are nutcracker\'s', () => {
    const p = onePool('listen: 127.0.0.1:22121', ...SERVERS);
    expect(p).toMatchObject({
      name: 'pool', hash: 'fnv1a_64', distribution: 'ketama', hashTag: null, timeoutMs: null,
      autoEjectHosts: false, serverFailureLimit: 2, serverRetryTimeoutMs: 30000,
      listen: { kind: 'tcp', host: '127.0.0.1', port: 22121 },
    });
    expect(p.servers.map((s) => s.ringName)).toEqual(['10.0.0.1', '10.0.0.2:11212']);
  });

  test('every scalar is text, as for nutcracker: a quoted number is a number', () => {
    expect(onePool('listen: 127.0.0.1:22121', 'timeout: "400"', ...SERVERS).timeoutMs).toBe(400);
    expect(onePool('listen: 127.0.0.1:22121', 'timeout: 0', ...SERVERS).timeoutMs).toBeNull();
  });

  test.each([
    [['timeout: -1'], 'nc.yml:3:3: pool "pool": "timeout" is not a number: "-1"'],
    [['auto_eject_hosts: yes'], 'nc.yml:3:3: pool "pool": "auto_eject_hosts" is not "true" or "false": "yes"'],
    [['hash: sha1'], 'nc.yml:3:3: pool "pool": "hash" is not a valid hash: "sha1" (one of one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)'],
    [['distribution: jump'], 'nc.yml:3:3: pool "pool": "distribution" is not a valid distribution: "jump" (ketama, modula or random)'],
    [['hash_tag: "{"'], 'nc.yml:3:3: pool "pool": "hash_tag" is not a valid hash tag string with two characters: "{"'],
    [['hash_tag: "é"'], 'nc.yml:3:3: pool "pool": "hash_tag" must be two ASCII characters for mcrelay: "é"'],
    [['server_connections: 0'], 'nc.yml:3:3: pool "pool": "server_connections" cannot be 0'],
    [['redis: true'], 'nc.yml:3:3: pool "pool" is a redis pool; mcrelay speaks memcached only'],
  ])('%j is refused with its line and column', (extra, message) => {
    expect(importError(() => onePool('listen: 127.0.0.1:22121', ...extra, ...SERVERS)).message).toBe(message);
  });

  test('a pool without listen or servers is refused', () => {
    expect(importError(() => onePool(...SERVERS)).message).toBe('nc.yml:1:1: pool "pool": directive "listen" is missing');
    expect(importError(() => onePool('listen: 127.0.0.1:1')).message).toBe('nc.yml:1:1: pool "pool" has no servers');
  });

  test('servers with the same ring name are refused, as nutcracker does', () => {
    const e = importError(() => onePool('listen: 127.0.0.1:22121', 'servers:', ' - 10.0.0.1:11211:1 a', ' - 10.0.0.2:11211:1 a'));
    expect(e.message).toBe('nc.yml:5:6: pool "pool" has servers with same name "a" ("10.0.0.1:11211:1 a" and "10.0.0.2:11211:1 a")');
  });

  test('two pools on one listen address are refused', () => {
    const text = yaml('a:', '  listen: 127.0.0.1:1', '  servers:', '   - 10.0.0.1:11211:1', 'b:', '  listen: 127.0.0.1:1', '  servers:', '   - 10.0.0.1:11211:1');
    expect(importError(() => parseTwemproxyYaml(text, 'nc.yml')).message).toBe('nc.yml:5:1: pools "a" and "b" have the same listen address "127.0.0.1:1"');
  });

  test('YAML errors carry the position', () => {
    const e = importError(() => parseTwemproxyYaml('pool:\n  listen: a\n  listen: b\n', 'nc.yml'));
    expect(e.where).toBe('nc.yml:3:3');
  });

  test('an unknown directive is a warning with the nearest known one', () => {
    const parsed = parseTwemproxyYaml(yaml('pool:', '  listen: 127.0.0.1:22121', '  timout: 100', '  reuseport: true', ...SERVERS.map((l) => `  ${l}`)), 'nc.yml');
    expect(parsed.warnings).toEqual([
      { pool: 'pool', message: 'nc.yml:3:3: pool "pool": unknown directive "timout" ignored (nutcracker refuses it); did you mean "timeout"?' },
      { pool: 'pool', message: 'nc.yml:4:3: pool "pool": "reuseport" (a later twemproxy\'s directive) is not carried over' },
    ]);
  });
});

function built(imp: PoolImport) {
  const r = validateConfig({ configStr: renderPoolImport(imp) });
  if (!r.ok) throw r.error;
  return r.built;
}

describe('translating a pool', () => {
  test('ketama: PoolRoute with the key hash, weights, ring names and hash tag', () => {
    const p = onePool('listen: 127.0.0.1:22121', 'hash: md5', 'hash_tag: "{}"', 'timeout: 400', 'servers:',
      ' - 10.0.0.1:11211:1', ' - 10.0.0.2:11212:2 beta', ' - [::1]:11213:1'.replace('[::1]', '::1'));
    const imp = translatePool(p);
    expect(imp.config).toEqual({
      pools: { pool: { servers: ['10.0.0.1:11211', '10.0.0.2:11212', '[::1]:11213'], server_timeout: 400, keep_routing_prefix: true } },
      route: {
        type: 'PoolRoute', pool: 'pool',
        hash: { hash_func: 'Ketama', key_hash: 'md5', weights: [1, 2, 1], names: [null, 'beta', null], hash_tag: '{}' },
      },
    });
    expect(imp.flags).toEqual(['-p', '22121', '--listen-addresses', '127.0.0.1', '--send-invalid-route-to-default', '--disable-tko-tracking']);
    expect(imp.warnings).toEqual([]);
  });

  test('equal weights and derivable names are left out', () => {
    const imp = translatePool(onePool('listen: 127.0.0.1:22121', 'distribution: modula', 'servers:', ' - 10.0.0.1:11211:1', ' - 10.0.0.2:11212:1'));
    expect(imp.config['route']).toEqual({ type: 'PoolRoute', pool: 'pool', hash: { hash_func: 'Modula', key_hash: 'fnv1a_64' } });
  });

  test('a port written with a leading zero keeps nutcracker\'s ring name', () => {
    const imp = translatePool(onePool('listen: 127.0.0.1:22121', 'servers:', ' - 10.0.0.1:011212:1', ' - 10.0.0.2:11212:1'));
    expect((imp.config['route'] as { hash: { names: unknown } }).hash.names).toEqual(['10.0.0.1:011212', null]);
  });

  test('random: RandomRoute over the pool\'s servers', () => {
    const imp = translatePool(onePool('listen: 127.0.0.1:22121', 'distribution: random', 'hash: md5', ...SERVERS));
    expect(imp.config['route']).toEqual({ type: 'RandomRoute', children: 'Pool|pool' });
    expect(imp.warnings).toContain('hash: unused with distribution random (as in nutcracker)');
    expect(built(imp).root.aliases()).toEqual(['/././']);
  });

  test('auto_eject_hosts maps to the TKO flags, and the header says what differs', () => {
    const imp = translatePool(onePool('listen: 127.0.0.1:22121', 'auto_eject_hosts: true', 'server_failure_limit: 3', 'server_retry_timeout: 5000', ...SERVERS));
    expect(imp.flags.slice(5)).toEqual(['--timeouts-until-tko', '3', '--probe-timeout-initial', '5000', '--probe-timeout-max', '5000']);
    const text = renderPoolImport(imp);
    expect(text).toContain('// mcrelay settings (the flags above): TKO after 3 timeouts in a row, probed again after 5000 ms. What differs:');
    expect(text).toContain('its keys move to the others');
  });

  test('failure settings without auto_eject_hosts warn that they do nothing', () => {
    const imp = translatePool(onePool('listen: 127.0.0.1:22121', 'server_failure_limit: 3', ...SERVERS));
    expect(imp.flags).toContain('--disable-tko-tracking');
    expect(imp.warnings).toContain('server_failure_limit: has no effect without auto_eject_hosts: true (as in nutcracker)');
  });

  test('what cannot be carried over is a warning; connections and keepalive become flags', () => {
    const imp = translatePool(onePool('listen: /var/run/nc.sock 0755', 'backlog: 1024', 'client_connections: 100', 'preconnect: true',
      'server_connections: 4', 'tcpkeepalive: true', ...SERVERS));
    expect(imp.flags).toEqual(['--send-invalid-route-to-default', '--disable-tko-tracking', '--connections-per-destination', '4',
      '--keepalive-count', '9', '--keepalive-idle', '7200']);
    expect(imp.warnings.map((w) => w.split(':')[0])).toEqual(['timeout', 'listen', 'tcpkeepalive', 'client_connections', 'backlog', 'preconnect']);
  });

  test('a unix-socket server is refused: leaving it out would move keys', () => {
    const p = onePool('listen: 127.0.0.1:22121', 'servers:', ' - 10.0.0.1:11211:1', ' - /tmp/mc.sock:1');
    expect(importError(() => translatePool(p)).message).toMatch(/^nc\.yml:5:6: pool "pool": server "\/tmp\/mc\.sock:1" is a unix socket/);
  });

  test('the rendered text is a config mcrelay builds, comments included, and its ring is twemproxy\'s', () => {
    const p = onePool('listen: 127.0.0.1:22121', 'hash: hsieh', 'hash_tag: "[]"', 'servers:',
      ' - 10.0.0.1:11211:3 a', ' - 10.0.0.2:11212:1', ' - 10.0.0.3:11213:2 c');
    const imp = translatePool(p);
    const text = renderPoolImport(imp);
    expect(text).toMatch(/^\/\/ mcrelay config for twemproxy pool "pool" \(nc\.yml:1:1\)/);
    expect(text).toContain('      // keys go upstream exactly as clients send them');
    const b = built(imp);
    // The config mcrelay builds sends every key to the server twemproxy's rules pick.
    const twemproxy = createSelector(
      { hashFunc: 'Ketama', keyHash: 'hsieh', hashTag: '[]', weights: p.servers.map((s) => s.weight), names: p.servers.map((s) => s.ringName) },
      p.servers.map((s) => ({ host: s.host, port: s.port })),
    );
    const chosen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const key = Buffer.from(i % 3 === 0 ? `k[${i % 17}]:${i}` : `key:${i}`);
      const t = new Traversal();
      b.root.traverse(Request.synthesize('get', key, `get ${key.toString()}`, '\r\n', null, 0), t);
      const s = p.servers[twemproxy.select(key)];
      expect(t.destinations).toEqual([`${s?.host ?? ''}:${s?.port ?? 0}`]);
      chosen.add(t.destinations[0] ?? '');
    }
    expect(chosen.size).toBe(3);
  });
});

function fakeIo(files: Record<string, string>): ImportIo & { out: string; err: string; written: Map<string, string> } {
  const io = {
    out: '',
    err: '',
    written: new Map<string, string>(),
    cwd: '/work',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    readFile: (p: string) => {
      const f = files[p];
      if (f === undefined) throw new Error('ENOENT: no such file');
      return f;
    },
    writeFile: (p: string, t: string) => {
      io.written.set(p, t);
    },
  };
  return io;
}

const TWO_POOLS = yaml(
  'alpha:', '  listen: 127.0.0.1:22121', '  timout: 5', '  servers:', '   - 10.0.0.1:11211:1',
  'beta:', '  listen: 127.0.0.1:22122', '  timeout: 100', '  servers:', '   - 10.0.0.2:11211:1',
);

describe('mcrelay import twemproxy (the command)', () => {
  test('one pool: the config on stdout, warnings on stderr, exit 0', () => {
    const io = fakeIo({ '/work/nc.yml': yaml('only:', '  listen: 127.0.0.1:22121', '  servers:', '   - 10.0.0.1:11211:1') });
    expect(runImportCommand(['twemproxy', 'nc.yml'], io)).toBe(0);
    expect(io.out).toMatch(/^\/\/ mcrelay config for twemproxy pool "only"/);
    expect(validateConfig({ configStr: io.out }).ok).toBe(true);
    expect(io.err).toBe('mcrelay import: warning: pool "only": timeout: not set: nutcracker waits forever for a server; mcrelay has no "forever": --server-timeout (default 1000 ms) applies, or set server_timeout\n');
  });

  test('several pools without --pool or --out-dir: exit 64, naming the pools and both options', () => {
    const io = fakeIo({ '/work/nc.yml': TWO_POOLS });
    expect(runImportCommand(['twemproxy', 'nc.yml'], io)).toBe(64);
    expect(io.out).toBe('');
    expect(io.err).toContain('nc.yml has 2 pools (alpha, beta)');
    expect(io.err).toContain('--pool NAME, or write them all with --out-dir DIR');
  });

  test('--pool picks one, and only its warnings are printed', () => {
    const io = fakeIo({ '/work/nc.yml': TWO_POOLS });
    expect(runImportCommand(['twemproxy', 'nc.yml', '--pool', 'beta'], io)).toBe(0);
    expect(io.out).toContain('"beta": {');
    expect(io.out).not.toContain('"alpha"');
    expect(io.err).toBe('');
  });

  test('--pool with an unknown name suggests the nearest', () => {
    const io = fakeIo({ '/work/nc.yml': TWO_POOLS });
    expect(runImportCommand(['twemproxy', 'nc.yml', '--pool=alpa'], io)).toBe(64);
    expect(io.err).toBe('mcrelay import: nc.yml has no pool "alpa" (did you mean "alpha"?); its pools: alpha, beta\n');
  });

  test('--out-dir writes one config per pool and prints how to start each', () => {
    const io = fakeIo({ '/work/nc.yml': TWO_POOLS });
    expect(runImportCommand(['twemproxy', 'nc.yml', '--out-dir', 'mc'], io)).toBe(0);
    expect([...io.written.keys()]).toEqual(['/work/mc/alpha.json', '/work/mc/beta.json']);
    expect(io.out).toBe([
      '# pool "alpha" -> mc/alpha.json',
      'mcrelay --config file:mc/alpha.json -p 22121 --listen-addresses 127.0.0.1 --send-invalid-route-to-default --disable-tko-tracking',
      '# pool "beta" -> mc/beta.json',
      'mcrelay --config file:mc/beta.json -p 22122 --listen-addresses 127.0.0.1 --send-invalid-route-to-default --disable-tko-tracking',
      '',
    ].join('\n'));
    expect(io.written.get('/work/mc/beta.json')).toContain('//   mcrelay --config file:mc/beta.json -p 22122');
    expect(io.err).toContain('unknown directive "timout" ignored (nutcracker refuses it); did you mean "timeout"?');
  });

  test('a YAML nutcracker refuses: exit 1 with the position', () => {
    const io = fakeIo({ '/work/nc.yml': yaml('p:', '  listen: 127.0.0.1:1', '  servers:', '   - 10.0.0.1:11211:0') });
    expect(runImportCommand(['twemproxy', 'nc.yml'], io)).toBe(1);
    expect(io.err).toBe('mcrelay import: nc.yml:4:6: pool "p": server "10.0.0.1:11211:0" has a zero weight\n');
  });

  test('a server mcrelay cannot parse: exit 1 with mcrelay\'s reason', () => {
    const io = fakeIo({ '/work/nc.yml': yaml('p:', '  listen: 127.0.0.1:1', '  servers:', '   - bad_host!:11211:1') });
    expect(runImportCommand(['twemproxy', 'nc.yml'], io)).toBe(1);
    expect(io.err).toBe('mcrelay import: nc.yml:1:1: pool "p": mcrelay refuses the imported config: /pools/p/servers/0: bad server "bad_host!:11211": "bad_host!" is not a host name or IPv4 address\n');
  });

  test('usage errors exit 64', () => {
    for (const argv of [[], ['nutcracker', 'x'], ['twemproxy'], ['twemproxy', 'a', 'b'], ['twemproxy', 'a', '--what']]) {
      const io = fakeIo({});
      expect(runImportCommand(argv, io)).toBe(64);
      expect(io.err).toContain('usage: mcrelay import twemproxy FILE');
    }
    const io = fakeIo({});
    expect(runImportCommand(['twemproxy', 'missing.yml'], io)).toBe(1);
    expect(io.err).toBe('mcrelay import: cannot read /work/missing.yml: ENOENT: no such file\n');
  });
});
