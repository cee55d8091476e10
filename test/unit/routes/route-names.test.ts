/**
 * `__mcrouter__.route_handles` in mcrouter's route names. Each expected tree is written from mcrouter's
 * sources (routeName() of RootRoute, AsynclogRoute, SelectionRoute over HashSelector, DestinationRoute,
 * FailoverRoute, ErrorRoute, BigValueRoute, …, and the handles each factory builds or leaves out), not from
 * mcrelay's output: one line per mcrouter handle, one space of indent per level.
 */
import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type BuiltConfig } from '../../../src/config/builder.js';
import { inertDestinations } from '../../../src/config/validate.js';
import type { Op } from '../../../src/protocol/types.js';
import { Request } from '../../../src/protocol/types.js';
import { furcHash } from '../../../src/routes/hash/furc.js';
import type { BuildOptions } from '../../../src/routes/route-factory.js';
import { Traversal } from '../../../src/routes/route-handle.js';

function build(data: unknown, options: Partial<BuildOptions> = {}): BuiltConfig {
  return buildConfig(JSON.parse(JSON.stringify(data)), { options: { ...DEFAULT_BUILD_OPTIONS, ...options }, destinations: inertDestinations() });
}

/** What `get __mcrouter__.route_handles(op,key)` answers, as lines. */
function routeHandles(data: unknown, key: string, op: Op = 'get', options: Partial<BuildOptions> = {}): string[] {
  const t = new Traversal();
  t.visit(build(data, options).root, Request.synthesize(op, Buffer.from(key), `${op} `, '', null, 0));
  return t.routeHandlesText().split('\n');
}

/** mcrouter's DestinationRoute::routeName for a plain ASCII server with default settings. */
const host = (pool: string, id: number, hostPort: string, extra: { timeout?: number; keep?: boolean; mech?: string } = {}): string =>
  `host|pool=${pool}|id=${id}|ap=${hostPort}:ascii:${extra.mech ?? 'plain'}:notcompressed|timeout=${extra.timeout ?? 1000}ms|keep_routing_prefix=${extra.keep ?? false}|msb=0`;

const A2 = { A: { servers: ['127.0.0.1:11311', '127.0.0.1:11312'] } };
const POOLS = { ...A2, B: { servers: ['127.0.0.1:11321'] }, C: { servers: ['127.0.0.1:11331'] } };
/** Index Ch3 picks in pool A (2 servers) for `key`. */
const inA = (key: string): number => furcHash(Buffer.from(key), 2);
const hostA = (key: string, extra = {}): string => host('A', inA(key), `127.0.0.1:1131${inA(key) + 1}`, extra);
const hostB = host('B', 0, '127.0.0.1:11321');
const hostC = host('C', 0, '127.0.0.1:11331');

describe('route_handles prints mcrouter route names', () => {
  test('PoolRoute: root, asynclog:<pool>, selection|hash|Ch3, then the server', () => {
    expect(routeHandles({ pools: A2, route: 'PoolRoute|A' }, 'k')).toEqual(['root', ' asynclog:A', '  selection|hash|Ch3', `   ${hostA('k')}`]);
  });

  test('PoolRoute over one server has no selection route; --asynclog-disable drops asynclog', () => {
    expect(routeHandles({ pools: POOLS, route: 'PoolRoute|B' }, 'k')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
    expect(routeHandles({ pools: A2, route: 'PoolRoute|A' }, 'k', 'get', { asynclogDisable: true })).toEqual(['root', ' selection|hash|Ch3', `  ${hostA('k')}`]);
  });

  test('hash name and salt, rates between asynclog and the selection route', () => {
    const salted = { pools: A2, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Crc32', salt: 's1' } } };
    expect(routeHandles(salted, 'k')[2]).toBe('  selection|hash|Crc32|salt=s1');
    const rated = { pools: A2, route: { type: 'PoolRoute', pool: 'A', rates: { gets_rate: 10, sets_rate: 5, sets_burst: 20 } } };
    expect(routeHandles(rated, 'k').slice(0, 4)).toEqual(['root', ' asynclog:A', '  rate-limit|gets_rate=10|gets_burst=10|sets_rate=5|sets_burst=20', '   selection|hash|Ch3']);
  });

  test('DestinationRoute: access point, timeout and keep_routing_prefix as mcrouter writes them', () => {
    const cfg = {
      pools: { V6: { servers: ['[::1]:11411', '127.0.0.1:11412:ascii:ssl'], server_timeout: 250, keep_routing_prefix: true } },
      route: 'Pool|V6',
    };
    const cfg0 = { ...cfg, route: { type: 'AllSyncRoute', children: 'Pool|V6' } };
    expect(routeHandles(cfg0, 'k')).toEqual([
      'root',
      ' all-sync',
      `  ${host('V6', 0, '[0000:0000:0000:0000:0000:0000:0000:0001]:11411', { timeout: 250, keep: true })}`,
      `  ${host('V6', 1, '127.0.0.1:11412', { timeout: 250, keep: true, mech: 'ssl' })}`,
    ]);
  });

  test('FailoverRoute: failover, or failover:<name>:failover_targets=N for a named one; every target in order', () => {
    const fo = { type: 'FailoverRoute', children: ['PoolRoute|B', 'PoolRoute|C'] };
    expect(routeHandles({ pools: POOLS, route: fo }, 'k')).toEqual(['root', ' failover', '  asynclog:B', `   ${hostB}`, '  asynclog:C', `   ${hostC}`]);
    expect(routeHandles({ pools: POOLS, route: { ...fo, name: 'gutter' } }, 'k')[1]).toBe(' failover:gutter:failover_targets=2');
  });

  test('FailoverWithExptimeRoute is a FailoverRoute whose failover targets sit under modify-exptime|min', () => {
    const cfg = { pools: POOLS, route: { type: 'FailoverWithExptimeRoute', normal: 'PoolRoute|B', failover: ['PoolRoute|C'] } };
    expect(routeHandles(cfg, 'k')).toEqual(['root', ' failover', '  asynclog:B', `   ${hostB}`, '  modify-exptime|min|exptime=60', '   asynclog:C', `    ${hostC}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'FailoverWithExptimeRoute', normal: 'PoolRoute|B' } }, 'k')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
  });

  test('LatestRoute and hash "Latest" are failover routes over the picks (the pool\'s is named after the pool)', () => {
    const latest = routeHandles({ pools: POOLS, route: { type: 'LatestRoute', children: ['PoolRoute|B', 'PoolRoute|C'], failover_count: 2 } }, 'k');
    expect(latest[1]).toBe(' failover');
    expect(latest.filter((l) => l.startsWith('  asynclog:')).sort()).toEqual(['  asynclog:B', '  asynclog:C']);
    const pooled = routeHandles({ pools: A2, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Latest', failover_count: 2 } } }, 'k');
    expect(pooled.slice(0, 3)).toEqual(['root', ' asynclog:A', '  failover:A:failover_targets=2']);
    expect(pooled.slice(3).map((l) => l.slice(0, 13)).sort()).toEqual(['   host|pool=', '   host|pool=']);
  });

  test('the All* routes, MissFailover, Random, Migrate, WarmUp, L1L2 routes', () => {
    const kids = ['PoolRoute|B', 'PoolRoute|C'];
    for (const [type, name] of [['AllSyncRoute', 'all-sync'], ['AllAsyncRoute', 'all-async'], ['AllInitialRoute', 'all-initial'], ['AllMajorityRoute', 'all-majority'], ['AllFastestRoute', 'all-fastest'], ['MissFailoverRoute', 'miss-failover'], ['RandomRoute', 'random']]) {
      expect(routeHandles({ pools: POOLS, route: { type, children: kids } }, 'k'), type).toEqual(['root', ` ${name}`, '  asynclog:B', `   ${hostB}`, '  asynclog:C', `   ${hostC}`]);
    }
    expect(routeHandles({ pools: POOLS, route: { type: 'MissFailoverRoute', children: ['PoolRoute|B'] } }, 'k')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'WarmUpRoute', cold: 'PoolRoute|B', warm: 'PoolRoute|C', exptime: 5 } }, 'k')).toEqual(['root', ' warm-up', '  asynclog:B', `   ${hostB}`, '  asynclog:C', `   ${hostC}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'L1L2CacheRoute', l1: 'PoolRoute|B', l2: 'PoolRoute|C', upgradingL1Exptime: 5 } }, 'k')[1]).toBe(' l1l2-cache');
    expect(routeHandles({ pools: POOLS, route: { type: 'L1L2SizeSplitRoute', l1: 'PoolRoute|B', l2: 'PoolRoute|C', threshold: 100 } }, 'k')[1]).toBe(' l1l2-sizesplit');
    expect(routeHandles({ pools: POOLS, route: { type: 'MigrateRoute', from: 'PoolRoute|B', to: 'PoolRoute|C', start_time: 4_000_000_000 } }, 'k')).toEqual(['root', ' migrate', '  asynclog:B', `   ${hostB}`]);
  });

  test('selectors: OperationSelector and RoutingGroup only with their policies; PrefixSelector and HostId have no handle', () => {
    const ops = { type: 'OperationSelectorRoute', default_policy: 'PoolRoute|B', operation_policies: { get: 'PoolRoute|C' } };
    expect(routeHandles({ pools: POOLS, route: ops }, 'k')).toEqual(['root', ' operation-selector', '  asynclog:C', `   ${hostC}`]);
    expect(routeHandles({ pools: POOLS, route: ops }, 'k', 'set')).toEqual(['root', ' operation-selector', '  asynclog:B', `   ${hostB}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'OperationSelectorRoute', default_policy: 'PoolRoute|B' } }, 'k')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
    const groups = { type: 'RoutingGroupRoute', default_policy: 'PoolRoute|B', routing_group_policies: { get_like: 'PoolRoute|C' } };
    expect(routeHandles({ pools: POOLS, route: groups }, 'k')).toEqual(['root', ' routing-group', '  asynclog:C', `   ${hostC}`]);
    const prefix = { type: 'PrefixSelectorRoute', policies: { a: 'PoolRoute|B' }, wildcard: 'PoolRoute|C' };
    expect(routeHandles({ pools: POOLS, route: prefix }, 'abc')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'HostIdRoute', children: ['PoolRoute|B', 'PoolRoute|C'] } }, 'k', 'get', { hostId: 1 })).toEqual(['root', ' asynclog:C', `  ${hostC}`]);
  });

  test('ErrorRoute, NullRoute, DevNullRoute', () => {
    expect(routeHandles({ route: 'ErrorRoute|shard 7 is down' }, 'k')).toEqual(['root', ' error|log|mc_res_local_error|shard 7 is down']);
    expect(routeHandles({ route: { type: 'ErrorRoute', response: 'Memcache', enable_logging: false } }, 'k')).toEqual(['root', ' error|no-log|mc_res_local_error|Memcache']);
    expect(routeHandles({ route: { type: 'ErrorRoute', result: 'mc_res_busy' } }, 'k')).toEqual(['root', ' error|log|mc_res_busy']);
    expect(routeHandles({ route: 'NullRoute' }, 'k')).toEqual(['root', ' null']);
    expect(routeHandles({ route: 'DevNullRoute' }, 'k')).toEqual(['root', ' devnull']);
  });

  test('ModifyKey, ModifyExptime, LatencyInjection, KeySplit', () => {
    expect(routeHandles({ pools: POOLS, route: { type: 'ModifyKeyRoute', target: 'PoolRoute|B', ensure_key_prefix: 'x' } }, 'k')[1]).toBe(' modify-key');
    expect(routeHandles({ pools: POOLS, route: { type: 'ModifyExptimeRoute', target: 'PoolRoute|B', exptime: 10 } }, 'k')[1]).toBe(' modify-exptime|set|exptime=10');
    expect(routeHandles({ pools: POOLS, route: { type: 'ModifyExptimeRoute', target: 'PoolRoute|B', exptime: 0, action: 'min' } }, 'k')).toEqual(['root', ' asynclog:B', `  ${hostB}`]);
    expect(routeHandles({ pools: POOLS, route: { type: 'LatencyInjectionRoute', child: 'PoolRoute|B', before_latency_ms: 5 } }, 'k')[1])
      .toBe(' latency-injection|before:5ms|after:0ms|total:0ms|request_payload:false|max_request_latency_us:0');
    expect(routeHandles({ pools: POOLS, route: { type: 'KeySplitRoute', destination: 'PoolRoute|B', replicas: 3, all_sync: false } }, 'k', 'get', { hostId: 7 })[1])
      .toBe(' keysplit|replicas=3|all-sync=false|first-hit=false|replicaId=1');
  });

  test('shadows: shadow over the server, the shadow target listed after it (not in route())', () => {
    const cfg = { pools: POOLS, route: { type: 'PoolRoute', pool: 'B', shadows: [{ target: 'PoolRoute|C', index_range: [0, 1] }] } };
    expect(routeHandles(cfg, 'k')).toEqual(['root', ' asynclog:B', '  shadow', `   ${hostB}`, '   asynclog:C', `    ${hostC}`]);
    const t = new Traversal();
    t.visit(build(cfg).root, Request.synthesize('get', Buffer.from('k'), 'get ', '', null, 0));
    expect(t.destinations).toEqual(['127.0.0.1:11321']);
  });

  test('slow_warmup: slow-warmup over each server, then its failover target', () => {
    const cfg = { pools: POOLS, route: { type: 'PoolRoute', pool: 'B', slow_warmup: { failoverTarget: 'PoolRoute|C' } } };
    expect(routeHandles(cfg, 'k')).toEqual(['root', ' asynclog:B', '  slow-warmup', `   ${hostB}`, '   asynclog:C', `    ${hostC}`]);
  });

  test('--big-value-split-threshold: big-value above root (mcrouter test_use_big_value / test_no_big_value)', () => {
    const withBig = routeHandles({ pools: A2, route: 'PoolRoute|A' }, 'test', 'get', { bigValueSplitThreshold: 100 });
    expect(withBig.slice(0, 2)).toEqual(['big-value', ' root']);
    expect(withBig.join('\n').split('big-value').length - 1).toBe(1);
    expect(routeHandles({ pools: A2, route: 'PoolRoute|A' }, 'test').join('\n')).not.toContain('big-value');
  });

  test('routing prefixes: root goes straight to the alias tree; /*/*/ lists every tree', () => {
    const cfg = { pools: POOLS, routes: [{ aliases: ['/a/a/'], route: 'PoolRoute|B' }, { aliases: ['/b/b/'], route: 'PoolRoute|C' }] };
    expect(routeHandles(cfg, '/b/b/k', 'get', { routePrefix: '/a/a/' })).toEqual(['root', ' asynclog:C', `  ${hostC}`]);
    expect(routeHandles(cfg, '/*/*/k', 'get', { routePrefix: '/a/a/' })).toEqual(['root', ' asynclog:B', `  ${hostB}`, ' asynclog:C', `  ${hostC}`]);
  });
});
