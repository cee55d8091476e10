import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type BuiltConfig } from '../../../src/config/builder.js';
import { configErrorOf } from './helpers/config-error.js';
import { loadConfigSource } from '../../../src/config/loader.js';
import { parseServer } from '../../../src/config/pools.js';
import { inertDestinations, validateConfig } from '../../../src/config/validate.js';
import { DestinationRoute } from '../../../src/routes/destination-route.js';
import { poolRouteFactory } from '../../../src/routes/pool-route.js';
import { createRegistry, ROUTE_FACTORIES } from '../../../src/routes/registry.js';
import { defineRoute, type BuildOptions, type RouteFactory } from '../../../src/routes/route-factory.js';
import { Traversal } from '../../../src/routes/route-handle.js';
import { makeRequest } from '../routes/helpers/fake-route.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));

function build(data: unknown, options: Partial<BuildOptions> = {}, factories: readonly RouteFactory[] = ROUTE_FACTORIES): BuiltConfig {
  return buildConfig(JSON.parse(JSON.stringify(data)), {
    options: { ...DEFAULT_BUILD_OPTIONS, ...options },
    destinations: inertDestinations(),
    registry: createRegistry(factories),
  });
}
const failure = configErrorOf;
/** Counts PoolRoute instances made, to prove named subtrees are built once. */
function countingPoolRoute(counter: { n: number }): RouteFactory {
  return { ...poolRouteFactory, build: (o, b, p) => { counter.n++; return poolRouteFactory.build(o, b, p); } };
}
const withCountingPool = (counter: { n: number }) => ROUTE_FACTORIES.map((f) => (f.type === 'PoolRoute' ? countingPoolRoute(counter) : f));
const dests = (built: BuiltConfig, key: string): string[] => {
  const t = new Traversal();
  built.root.traverse(makeRequest('get', key), t);
  return t.destinations;
};

const POOLS = { A: { servers: ['127.0.0.1:1', '127.0.0.1:2'] }, B: { servers: ['127.0.0.1:3'] } };

describe('route nodes', () => {
  test('a named object is built once; later references by name reuse it', () => {
    const counter = { n: 0 };
    const built = build({
      pools: POOLS,
      named_handles: [{ type: 'PoolRoute', name: 'pa', pool: 'A' }],
      routes: [
        { aliases: ['/././'], route: { type: 'HashRoute', children: ['pa', { type: 'PoolRoute', name: 'pb', pool: 'B' }] } },
        { aliases: ['/x/y/'], route: { type: 'HashRoute', children: ['pb', 'pa', { type: 'PoolRoute', name: 'pa', pool: 'B' }] } },
      ],
    }, {}, withCountingPool(counter));
    expect(counter.n).toBe(2);
    expect([...built.namedHandles.keys()].sort()).toEqual(['pa', 'pb']);
    expect(built.namedHandles.get('pa')?.name).toBe('PoolRoute|A');
  });

  test('named_handles in object form may refer forward; unused ones are still checked', () => {
    const built = build({ pools: POOLS, named_handles: { first: { type: 'HashRoute', children: ['second', 'NullRoute'] }, second: 'PoolRoute|B', unused: 'NullRoute' }, route: 'first' });
    expect(built.namedHandles.get('first')?.type).toBe('HashRoute');
    expect(built.namedHandles.has('unused')).toBe(true);
    expect(failure(() => build({ named_handles: { bad: { type: 'Nope' } }, route: 'NullRoute' })).message).toBe('/named_handles/bad: unknown route type "Nope"');
    expect(failure(() => build({ named_handles: { loop: { type: 'HashRoute', children: ['loop', 'NullRoute'] } }, route: 'loop' })).message)
      .toBe('/named_handles/loop/children/0: named handle "loop" refers to itself');
    expect(failure(() => build({ named_handles: [{ type: 'NullRoute' }], route: 'NullRoute' })).message).toBe('/named_handles/0: a named handle needs a "name"');
  });

  test('a named_handles definition wins over a same-named object in the tree', () => {
    const built = build({ pools: POOLS, named_handles: { h: 'PoolRoute|A' }, route: { type: 'HashRoute', children: [{ type: 'PoolRoute', name: 'h', pool: 'B' }, 'NullRoute'] } });
    expect(built.namedHandles.get('h')?.name).toBe('PoolRoute|A');
  });

  test('"Pool|A" is the per-server destination list, shared with PoolRoute|A', () => {
    const built = build({ pools: POOLS, route: { type: 'HashRoute', children: ['Pool|A', 'PoolRoute|A', ['Pool|B']] } });
    expect(built.destinations.size).toBe(3);
    expect(failure(() => build({ pools: POOLS, route: 'Pool|A' })).message).toBe('/route: expected one route, got a list of 2');
    const one = build({ pools: POOLS, route: 'Pool|B' });
    expect(one.root.defaultRoute).toBeInstanceOf(DestinationRoute);
    const inline = build({ route: { type: 'HashRoute', children: { type: 'Pool', name: 'P', servers: ['10.0.0.1:5', '10.0.0.2:5'] } } });
    expect(inline.pools.get('P')?.servers.map((s) => s.address)).toEqual(['10.0.0.1:5', '10.0.0.2:5']);
  });

  test('destinations are shared by address across pools', () => {
    const built = build({ pools: { A: { servers: ['h:1', 'h:2'] }, B: { servers: ['h:2', 'h:1'] } }, route: { type: 'HashRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } });
    expect(built.destinations.size).toBe(2);
  });

  test('factory exceptions keep the path and start with the type; fail() is prefixed too', () => {
    const boom = defineRoute<Record<string, never>>({
      type: 'BoomRoute', description: 'throws', schema: { type: 'object' },
      create: () => { throw new Error('kaboom'); },
    });
    const failing = defineRoute<{ x?: number }>({
      type: 'FailRoute', description: 'fails', schema: { type: 'object', properties: { x: { type: 'number' } } },
      create: (_o, b, path) => b.fail(`${path}/x`, 'x is not allowed here'),
    });
    const reg = [...ROUTE_FACTORIES, boom, failing];
    const e = failure(() => build({ route: { type: 'HashRoute', children: ['NullRoute', { type: 'BoomRoute' }] } }, {}, reg));
    expect(e.message).toBe('/route/children/1: BoomRoute: kaboom');
    expect(e.code).toBe('MCP_ERR_CONFIG_ROUTE_BUILD');
    expect(failure(() => build({ route: { type: 'FailRoute', x: 1 } }, {}, reg)).message).toBe('/route/x: FailRoute: x is not allowed here');
    expect(failure(() => build({ route: 'BoomRoute' }, {}, reg)).message).toBe('/route: BoomRoute: kaboom');
  });

  test('options are validated on a clone: the input data is not changed by defaults', () => {
    const data = JSON.parse('{"route": {"type": "HashRoute", "children": ["NullRoute", "NullRoute"]}}') as Record<string, Record<string, unknown>>;
    buildConfig(data, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() });
    expect(data['route']).toEqual({ type: 'HashRoute', children: ['NullRoute', 'NullRoute'] });
  });

  test('shorthand option errors are reported at the string', () => {
    expect(failure(() => build({ route: 'PoolRoute|' })).message).toBe('/route: unknown pool ""');
    expect(failure(() => build({ pools: POOLS, route: 'HashRoute' })).message).toBe('/route: HashRoute: missing required option "children"');
    expect(failure(() => build({ pools: POOLS, route: { type: 'HashRoute', children: ['HashRoute|Pool|C'] } })).message).toBe('/route/children/0: unknown pool "C"');
  });
});

describe('top level', () => {
  test('the config must be an object with route or routes', () => {
    expect(failure(() => build([])).message).toBe('the config must be a JSON object');
    expect(failure(() => build({ pools: {} })).message).toBe('the config needs "route" or "routes"');
  });

  test('-R binds `route`; a bad -R is refused', () => {
    const built = build({ route: 'NullRoute' }, { routePrefix: '/dc1/c1/' });
    expect(built.root.aliases()).toEqual(['/dc1/c1/']);
    expect(failure(() => build({ route: 'NullRoute' }, { routePrefix: 'dc1' })).message).toBe('invalid default routing prefix "dc1" (expected /region/cluster/)');
  });

  test('routes: duplicate aliases and -R membership', () => {
    expect(failure(() => build({ routes: [{ aliases: ['/././'], route: 'NullRoute' }, { aliases: ['/././'], route: 'NullRoute' }] })).message)
      .toBe('/routes/1/aliases/0: routing prefix "/././" is listed twice');
    const ok = build({ routes: [{ aliases: ['/a/b/', '/c/d/'], route: 'NullRoute' }] }, { routePrefix: '/c/d/' });
    expect(ok.root.aliases()).toEqual(['/a/b/', '/c/d/']);
  });

  test('routing_options are tolerated', () => {
    expect(build({ route: 'NullRoute', routing_options: { enable_delete_distribution: true } }).root.aliases()).toEqual(['/././']);
  });
});

describe('pools', () => {
  test('inherit merges parent keys; own keys win; defaults come from BuildOptions', () => {
    const built = build({
      pools: {
        base: { servers: ['127.0.0.1:1', '127.0.0.1:2'], server_timeout: 250, keep_routing_prefix: true },
        child: { inherit: 'base', server_timeout: 50 },
        grand: { inherit: 'child', servers: ['[2001:db8::1]:3:ascii:ssl'], connect_timeout: 7 },
        plain: { servers: ['h:9'] },
      },
      route: 'NullRoute',
    }, { serverTimeoutMs: 900 });
    const child = built.pools.get('child');
    expect(child?.servers.map((s) => s.address)).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(child?.serverTimeoutMs).toBe(50);
    expect(child?.connectTimeoutMs).toBe(50);
    expect(child?.keepRoutingPrefix).toBe(true);
    const grand = built.pools.get('grand');
    expect(grand?.servers[0]).toMatchObject({ host: '2001:db8::1', port: 3, security: 'ssl', address: '[2001:db8::1]:3' });
    expect(grand?.serverTimeoutMs).toBe(50);
    expect(grand?.connectTimeoutMs).toBe(7);
    const plain = built.pools.get('plain');
    expect(plain).toMatchObject({ serverTimeoutMs: 900, connectTimeoutMs: 900, keepRoutingPrefix: false, asynclog: true, weights: null, tags: null, path: '/pools/plain' });
  });

  test('an inherited bad server is reported where it is written', () => {
    expect(failure(() => build({ pools: { base: { servers: ['nope'] }, child: { inherit: 'base' } }, route: 'NullRoute' })).path).toBe('/pools/base/servers/0');
    expect(failure(() => build({ pools: { A: { inherit: 'A' } }, route: 'NullRoute' })).message).toBe('/pools/A/inherit: inherit cycle: A -> A');
    expect(failure(() => build({ pools: { A: { keep_routing_prefix: true } }, route: 'NullRoute' })).message).toBe('/pools/A: pool "A" has no "servers"');
  });

  test('server strings', () => {
    expect(parseServer('cache-1.example.com:11211', '/s')).toMatchObject({ host: 'cache-1.example.com', port: 11211, protocol: 'ascii', security: 'plain', address: 'cache-1.example.com:11211' });
    expect(parseServer('10.0.0.1:11211:ascii:ssl', '/s').security).toBe('ssl');
    expect(parseServer('10.0.0.1:11211:ascii:fizz:compressed', '/s').security).toBe('ssl');
    expect(parseServer('[::1]:11211', '/s')).toMatchObject({ host: '::1', address: '[::1]:11211' });
    expect(parseServer('h:1', '/s', 'ssl').security).toBe('ssl');
    // mcrouter's AccessPoint forms: a host name in brackets, port 0, empty fields taking the pool's defaults.
    expect(parseServer('[cache-1.example.com]:11211', '/s')).toMatchObject({ host: 'cache-1.example.com', port: 11211, address: 'cache-1.example.com:11211' });
    expect(parseServer('h:0', '/s')).toMatchObject({ port: 0, address: 'h:0' });
    expect(parseServer('h:1::ssl', '/s')).toMatchObject({ port: 1, security: 'ssl' });
    expect(parseServer('h:1:ascii::compressed', '/s', 'ssl')).toMatchObject({ security: 'ssl' });
    expect(parseServer('h:1:caret', '/s')).toMatchObject({ protocol: 'ascii', address: 'h:1' });
    // A pool's port_override replaces the port, which may then be missing (or anything: mcrouter never reads it).
    expect(parseServer('h', '/s', 'plain', { portOverride: 11311 })).toMatchObject({ port: 11311, address: 'h:11311' });
    expect(parseServer('[::1]:0:ascii', '/s', 'plain', { portOverride: 11311 })).toMatchObject({ port: 11311, address: '[::1]:11311' });
    for (const [bad, why] of [
      ['h', 'expected "host:port" (or a pool port_override)'], [':1', 'empty host'], ['h:', '"" is not a port number'],
      ['h:65536', 'port 65536 is out of range 0-65535'], ['[]:1', 'empty host'], ['[h h]:1', '"h h" is not a host name or IPv4 address'],
      ['[::1:1', 'missing "]" after an IPv6 address'], ['[::1]1', 'expected ":port" after "]"'], ['[zz::]:1', '"zz::" is not an IPv6 address'],
      ['h:1:thrift', 'protocol "thrift" is not supported (mcrelay talks ascii; caret servers are spoken to in ascii)'],
      ['h:1:umbrella', 'protocol "umbrella" is not supported (ascii or caret)'],
      ['h:1:ascii:rot13', 'security "rot13" must be one of plain, ssl, tls, fizz, tls_to_plain, ktls12'],
      ['h:1:ascii:ssl:zip', '"zip" must be "compressed" or "notcompressed"'], ['h h:1', '"h h" is not a host name or IPv4 address'],
      ['h:1:a:b:c:d', 'too many ":" fields (expected host:port[:protocol[:security[:compression]]])'],
    ] as const) {
      expect(failure(() => parseServer(bad, '/p/0')).message).toBe(`/p/0: bad server "${bad}": ${why}`);
    }
  });

  test('caret pools and servers build, with one warning per pool', () => {
    const r = validateConfig({ configStr: JSON.stringify({
      pools: { C: { servers: ['h:1', 'h:2'], protocol: 'Caret' }, S: { servers: ['h:3', 'h:4:caret', 'h:5:caret'] }, A: { servers: ['h:6:ASCII'] } },
      route: 'PoolRoute|A',
    }) });
    if (!r.ok) throw r.error;
    expect(r.built.warnings).toEqual([
      '/pools/C/protocol: pool "C" uses the caret protocol; mcrelay talks ASCII to its servers (they must speak ASCII, as memcached does)',
      '/pools/S/servers/1: pool "S" uses the caret protocol; mcrelay talks ASCII to its servers (they must speak ASCII, as memcached does)',
    ]);
    expect(r.built.pools.get('C')?.servers.map((s) => s.address)).toEqual(['h:1', 'h:2']);
    expect(failure(() => build({ pools: { T: { servers: ['h:1'], protocol: 'thrift' } }, route: 'NullRoute' })).message)
      .toBe('/pools/T/protocol: pool "T": protocol "thrift" is not supported (mcrelay talks ascii; caret pools are spoken to in ascii)');
  });

  test('port_override, servers without a port, port 0', () => {
    const r = validateConfig({ configStr: JSON.stringify({
      pools: {
        O: { servers: ['cache-1', 'cache-2:0', '[::1]'], port_override: 11311 },
        D: { servers: ['cache-3'], port_override_within_dc: 11400, port_override_cross_dc: 11400 },
        X: { servers: ['cache-4:11211'], port_override_within_dc: 11400, port_override_cross_dc: 11401 },
        Z: { servers: ['cache-5:0'] },
      },
      route: 'PoolRoute|O',
    }) });
    if (!r.ok) throw r.error;
    expect(r.built.pools.get('O')?.servers.map((s) => s.address)).toEqual(['cache-1:11311', 'cache-2:11311', '[::1]:11311']);
    expect(r.built.pools.get('D')?.servers.map((s) => s.address)).toEqual(['cache-3:11400']);
    expect(r.built.pools.get('X')?.servers.map((s) => s.address)).toEqual(['cache-4:11211']);
    expect(r.built.pools.get('Z')?.servers.map((s) => s.address)).toEqual(['cache-5:0']);
    expect(r.built.warnings).toEqual([
      '/pools/X/port_override_within_dc: port_override_within_dc/_cross_dc apply per datacenter, which mcrelay does not know; ignored unless both are equal',
      '/pools/Z/servers/0: pool "Z": port 0 (accepted, as mcrouter does; nothing listens there, so requests fail until the config gives a port)',
    ]);
    expect(failure(() => build({ pools: { P: { servers: ['h:1'], port_override: 0 } }, route: 'NullRoute' })).path).toBe('/pools/P/port_override');
  });

  test('security_mech and use_ssl set the default security', () => {
    const built = build({ pools: { S: { servers: ['h:1', 'h:2:ascii:plain'], security_mech: 'tls' }, U: { servers: ['h:3'], use_ssl: true } }, route: 'NullRoute' });
    expect(built.pools.get('S')?.servers.map((s) => s.security)).toEqual(['ssl', 'plain']);
    expect(built.pools.get('U')?.servers[0]?.security).toBe('ssl');
  });
});

describe('YAML and JSON twins', () => {
  test('build the same tree: same pools, same destination for every key and prefix', () => {
    const y = validateConfig(`file:${FIXTURES}valid/twin.yaml`);
    const j = validateConfig(`file:${FIXTURES}valid/twin.json`);
    if (!y.ok) throw y.error;
    if (!j.ok) throw j.error;
    expect(y.source.data).toEqual(j.source.data);
    expect([...y.built.pools.values()].map((p) => ({ ...p, raw: null }))).toEqual([...j.built.pools.values()].map((p) => ({ ...p, raw: null })));
    expect(y.built.root.aliases()).toEqual(j.built.root.aliases());
    for (let i = 0; i < 200; i++) {
      for (const key of [`k${i}`, `/r1/c1/k${i}`, `/*/*/k${i}`]) expect(dests(y.built, key)).toEqual(dests(j.built, key));
    }
  });

  test('loadConfigSource + buildConfig is what validateConfig does', () => {
    const s = loadConfigSource(`${FIXTURES}valid/prefix-routes.json`);
    const built = buildConfig(s.data, { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() });
    expect(built.root.aliases()).toEqual(['/././', '/datacenter/cluster0/', '/datacenter/cluster1/', '/datacenter/fallback/']);
    expect(dests(built, '/datacenter/cluster7/x')).toHaveLength(1);
    expect(dests(built, '/datacenter/cluster7/x')[0]).toMatch(/^127\.0\.0\.1:1100[456]$/);
  });
});
