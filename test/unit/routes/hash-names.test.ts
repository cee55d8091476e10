/**
 * Every hash-function name mcrouter's HashRouteFactory takes, on PoolRoute (`hash`) and HashRoute
 * (`hash_func`), in any letter case: the standard ones select exactly as their canonical spelling does;
 * `Latest` builds mcrouter's LatestRoute over the same children; WeightedCh3Rv and LoadBalancer hash as
 * WeightedCh3 and Ch3 and say so; anything else is refused at its JSON pointer.
 */
import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { ConfigError } from '../../../src/config-error.js';
import { inertDestinations } from '../../../src/config/validate.js';
import { LatestRoute } from '../../../src/routes/latest-route.js';
import type { RouteHandle } from '../../../src/routes/route-handle.js';
import { makeRequest, traverseDestinations } from './helpers/fake-route.js';

const SERVERS = ['127.0.0.1:20001', '127.0.0.1:20002', '127.0.0.1:20003', '127.0.0.1:20004', '127.0.0.1:20005'];
const KEYS = Array.from({ length: 200 }, (_, i) => `k:${i}`);

function build(route: unknown, pool: Record<string, unknown> = {}): { root: RouteHandle; warnings: readonly string[] } {
  const built = buildConfig(JSON.parse(JSON.stringify({ pools: { A: { servers: SERVERS, ...pool } }, route })), {
    options: { ...DEFAULT_BUILD_OPTIONS, hostId: 12345 },
    destinations: inertDestinations(),
  });
  return { root: built.root.defaultRoute, warnings: built.warnings };
}

const placement = (root: RouteHandle): string[] => KEYS.map((k) => traverseDestinations(root, makeRequest('get', k)).join(','));

describe('hash function names', () => {
  test('any letter case selects as the canonical name', () => {
    for (const [given, canonical] of [['ch3', 'Ch3'], ['CRC32', 'Crc32'], ['weightedch3', 'WeightedCh3'], ['constshard', 'ConstShard']] as const) {
      const pool = given.toLowerCase().includes('weighted') ? { weights: [1, 0.5, 1, 0.2, 1] } : {};
      expect(placement(build({ type: 'PoolRoute', pool: 'A', hash: given }, pool).root), given)
        .toEqual(placement(build({ type: 'PoolRoute', pool: 'A', hash: canonical }, pool).root));
    }
    const children = 'Pool|A';
    expect(placement(build({ type: 'HashRoute', children, hash_func: 'crc32' }).root)).toEqual(placement(build({ type: 'HashRoute', children, hash_func: 'Crc32' }).root));
  });

  test('hash "Latest" on a PoolRoute is the LatestRoute over the pool', () => {
    for (const hash of ['Latest', 'latest', { hash_func: 'Latest' }]) {
      const { root } = build({ type: 'PoolRoute', pool: 'A', hash });
      expect(root, JSON.stringify(hash)).toBeInstanceOf(LatestRoute);
      const latest = build({ type: 'LatestRoute', children: 'Pool|A' }).root as LatestRoute;
      expect((root as LatestRoute).order).toEqual(latest.order);
    }
    const two = build({ type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Latest', failover_count: 2, salt: 's' } }).root as LatestRoute;
    expect(two.order).toEqual((build({ type: 'LatestRoute', children: 'Pool|A', failover_count: 2, salt: 's' }).root as LatestRoute).order);
    expect(two.order).toHaveLength(2);
    // HashRoute too.
    expect(build({ type: 'HashRoute', children: 'Pool|A', hash_func: 'Latest' }).root).toBeInstanceOf(LatestRoute);
  });

  test('WeightedCh3Rv and LoadBalancer hash as WeightedCh3 and Ch3, with a warning', () => {
    const weights = [1, 0.5, 1, 0.2, 1];
    const rv = build({ type: 'PoolRoute', pool: 'A', hash: 'WeightedCh3Rv' }, { weights });
    expect(placement(rv.root)).toEqual(placement(build({ type: 'PoolRoute', pool: 'A', hash: 'WeightedCh3' }, { weights }).root));
    expect(rv.warnings.join('\n')).toMatch(/\/route\/hash: PoolRoute: WeightedCh3Rv reads its weights from runtime variables/);
    const lb = build({ type: 'PoolRoute', pool: 'A', hash: { hash_func: 'LoadBalancer' } });
    expect(placement(lb.root)).toEqual(placement(build('PoolRoute|A').root));
    expect(lb.warnings.join('\n')).toMatch(/\/route\/hash\/hash_func: PoolRoute: LoadBalancer picks by the load servers report/);
  });

  test('an unknown name is refused at its pointer', () => {
    let err: unknown = null;
    try {
      build({ type: 'PoolRoute', pool: 'A', hash: 'Sha1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('/route/hash');
    expect((err as ConfigError).message).toMatch(/unknown hash function "Sha1"/);
  });
});
