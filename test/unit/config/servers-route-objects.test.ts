/**
 * Route objects in a pool's `servers`, as mcrouter's makePool takes them: each entry is a server string or
 * a route object; a route object is built with the route factory and is that member of the pool (PoolRoute
 * hashes over it, `Pool|A` lists it, weights[i] is its weight); anything else is refused.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type BuiltConfig } from '../../../src/config/builder.js';
import { inertDestinations, validateConfig } from '../../../src/config/validate.js';
import { Request } from '../../../src/protocol/types.js';
import { furcHash } from '../../../src/routes/hash/furc.js';
import { Traversal } from '../../../src/routes/route-handle.js';
import { configErrorOf } from './helpers/config-error.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/configs/valid/servers-route-objects.json', import.meta.url));

function build(data: unknown): BuiltConfig {
  return buildConfig(JSON.parse(JSON.stringify(data)), { options: DEFAULT_BUILD_OPTIONS, destinations: inertDestinations() });
}

function walk(built: BuiltConfig, key: string): Traversal {
  const t = new Traversal();
  t.visit(built.root, Request.synthesize('get', Buffer.from(key), 'get ', '', null, 0));
  return t;
}

const PAIR = { servers: ['127.0.0.1:12481', '127.0.0.1:12482'] };
const MAIN_SERVERS = ['127.0.0.1:12483', '127.0.0.1:12484', { type: 'FailoverRoute', children: 'Pool|pair' }];

describe('route objects in servers', () => {
  const r = validateConfig(`file:${FIXTURE}`);
  if (!r.ok) throw r.error;
  const built = r.built;

  test('the pool has two servers and three members; the route member is built with the route factory', () => {
    const main = built.pools.get('main');
    expect(main?.servers.map((s) => s.address)).toEqual(['127.0.0.1:12483', '127.0.0.1:12484']);
    expect(main?.entries.map((e) => e.kind)).toEqual(['server', 'server', 'route']);
    expect(built.poolRoutes.get('main')?.map((h) => h.type)).toEqual(['DestinationRoute', 'DestinationRoute', 'FailoverRoute']);
  });

  test('PoolRoute hashes over every member with Ch3: keys on member 2 go to the pair, its first server first', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const key = `k${i}`;
      const member = furcHash(Buffer.from(key), 3);
      seen.add(member);
      const expected = member === 2 ? ['127.0.0.1:12481', '127.0.0.1:12482'] : [`127.0.0.1:1248${3 + member}`];
      expect(walk(built, key).destinations, key).toEqual(expected);
    }
    expect(seen).toEqual(new Set([0, 1, 2]));
  });

  test('route_handles: the member route under the selection route; servers keep their config position as id', () => {
    const onRoute = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => furcHash(Buffer.from(k), 3) === 2) as string;
    const onSecond = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => furcHash(Buffer.from(k), 3) === 1) as string;
    const dest = (pool: string, id: number, port: number): string =>
      `host|pool=${pool}|id=${id}|ap=127.0.0.1:${port}:ascii:plain:notcompressed|timeout=1000ms|keep_routing_prefix=false|msb=0`;
    expect(walk(built, onRoute).routeHandlesText().split('\n')).toEqual([
      'root', ' asynclog:main', '  selection|hash|Ch3', '   failover', `    ${dest('pair', 0, 12481)}`, `    ${dest('pair', 1, 12482)}`,
    ]);
    expect(walk(built, onSecond).routeHandlesText().split('\n')[3]).toBe(`   ${dest('main', 1, 12484)}`);
  });

  test('Pool|A lists every member, the route included', () => {
    const b = build({ pools: { pair: PAIR, main: { servers: MAIN_SERVERS } }, route: { type: 'AllSyncRoute', children: 'Pool|main' } });
    expect(walk(b, 'x').destinations).toEqual(['127.0.0.1:12483', '127.0.0.1:12484', '127.0.0.1:12481', '127.0.0.1:12482']);
  });

  test('weights[i] is member i\'s weight (WeightedCh3 over members); tags are counted per member', () => {
    const b = build({ pools: { pair: PAIR, main: { servers: MAIN_SERVERS, weights: [0, 0, 1] } }, route: 'PoolRoute|main' });
    for (let i = 0; i < 100; i++) expect(walk(b, `w${i}`).destinations).toEqual(['127.0.0.1:12481', '127.0.0.1:12482']);
    expect(build({ pools: { pair: PAIR, main: { servers: MAIN_SERVERS, tags: ['a', 'b', 'c'] } }, route: 'PoolRoute|main' }).pools.get('main')?.tags).toEqual(['a', 'b', 'c']);
    const e = configErrorOf(() => build({ pools: { pair: PAIR, main: { servers: MAIN_SERVERS, tags: ['a', 'b'] } }, route: 'PoolRoute|main' }));
    expect(e.message).toBe('/pools/main/tags: pool "main" has 2 tags for 3 servers');
  });

  test('a named route object in servers is shared by name, as anywhere in the tree', () => {
    const servers = ['127.0.0.1:12483', { type: 'PoolRoute', name: 'toPair', pool: 'pair' }];
    const b = build({ pools: { pair: PAIR, main: { servers } }, route: { type: 'FailoverRoute', children: ['PoolRoute|main', 'toPair'] } });
    expect(b.namedHandles.get('toPair')).toBe(b.poolRoutes.get('main')?.[1]);
  });

  test('an object without "type" is not a route; a number is neither a server nor a route', () => {
    expect(configErrorOf(() => build({ pools: { A: { servers: [{ host: '127.0.0.1', port: 1 }] } }, route: 'PoolRoute|A' })).message)
      .toBe('/pools/A/servers/0: a route object needs a "type" string');
    expect(configErrorOf(() => build({ pools: { A: { servers: ['127.0.0.1:1', 2] } }, route: 'PoolRoute|A' })).message)
      .toBe('/pools/A/servers/1: must be a string or an object');
  });
});
