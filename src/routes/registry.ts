/**
 * The route registry: ONE flat, explicit table of every route type (mcrouter's buildRouteMap). Adding a
 * route = one import and one line here, alphabetical, one entry per line. No side-effect registration.
 */
import { ProxyError } from '../errors.js';
import { allAsyncRouteFactory } from './all-async-route.js';
import { allFastestRouteFactory } from './all-fastest-route.js';
import { allInitialRouteFactory } from './all-initial-route.js';
import { allMajorityRouteFactory } from './all-majority-route.js';
import { allSyncRouteFactory } from './all-sync-route.js';
import { azAffinityRouteFactory } from './az-affinity-route.js';
import { balancedReplicaRouteFactory } from './balanced-replica-route.js';
import { devNullRouteFactory } from './dev-null-route.js';
import { errorRouteFactory } from './error-route.js';
import { failoverRouteFactory } from './failover-route.js';
import { failoverWithExptimeRouteFactory } from './failover-with-exptime-route.js';
import { faultInjectionRouteFactory } from './fault-injection-route.js';
import { hashRouteFactory } from './hash-route.js';
import { hostIdRouteFactory } from './host-id-route.js';
import { keySplitRouteFactory } from './key-split-route.js';
import { l1l2CacheRouteFactory } from './l1l2-cache-route.js';
import { l1l2SizeSplitRouteFactory } from './l1l2-size-split-route.js';
import { latencyInjectionRouteFactory } from './latency-injection-route.js';
import { latestRouteFactory } from './latest-route.js';
import { localCacheRouteFactory } from './local-cache-route.js';
import { migrateRouteFactory } from './migrate-route.js';
import { missFailoverRouteFactory } from './miss-failover-route.js';
import { modifyExptimeRouteFactory } from './modify-exptime-route.js';
import { modifyKeyRouteFactory } from './modify-key-route.js';
import { nullRouteFactory } from './null-route.js';
import { operationSelectorRouteFactory } from './operation-selector-route.js';
import { poolRouteFactory } from './pool-route.js';
import { prefixSelectorRouteFactory } from './prefix-selector-route.js';
import { randomRouteFactory } from './random-route.js';
import { rateLimitRouteFactory } from './rate-limit-route.js';
import { routingGroupRouteFactory } from './routing-group-route.js';
import { shadowRouteFactory } from './shadow-route.js';
import { warmUpRouteFactory } from './warm-up-route.js';
import type { RouteFactory } from './route-factory.js';

export const ROUTE_FACTORIES: readonly RouteFactory[] = [
  allAsyncRouteFactory,
  allFastestRouteFactory,
  allInitialRouteFactory,
  allMajorityRouteFactory,
  allSyncRouteFactory,
  azAffinityRouteFactory,
  balancedReplicaRouteFactory,
  devNullRouteFactory,
  errorRouteFactory,
  failoverRouteFactory,
  failoverWithExptimeRouteFactory,
  faultInjectionRouteFactory,
  hashRouteFactory,
  hostIdRouteFactory,
  keySplitRouteFactory,
  l1l2CacheRouteFactory,
  l1l2SizeSplitRouteFactory,
  latencyInjectionRouteFactory,
  latestRouteFactory,
  localCacheRouteFactory,
  migrateRouteFactory,
  missFailoverRouteFactory,
  modifyExptimeRouteFactory,
  modifyKeyRouteFactory,
  nullRouteFactory,
  operationSelectorRouteFactory,
  poolRouteFactory,
  prefixSelectorRouteFactory,
  randomRouteFactory,
  rateLimitRouteFactory,
  routingGroupRouteFactory,
  shadowRouteFactory,
  warmUpRouteFactory,
];

/** Type name (and every alias) → factory. */
export type RouteRegistry = ReadonlyMap<string, RouteFactory>;

/** Names the builder handles itself (the list form of a pool); no factory may claim them. */
const RESERVED: ReadonlySet<string> = new Set(['Pool']);

/**
 * Index `factories` by type and alias.
 * @throws ProxyError MCP_ERR_REGISTRY_DUPLICATE when two entries claim the same name (or a reserved one)
 */
export function createRegistry(factories: readonly RouteFactory[]): RouteRegistry {
  const map = new Map<string, RouteFactory>();
  for (const f of factories) {
    for (const name of [f.type, ...f.aliases]) {
      const prev = map.get(name);
      if (prev !== undefined || RESERVED.has(name)) {
        const other = prev === undefined ? 'the builder' : prev.type;
        throw new ProxyError('MCP_ERR_REGISTRY_DUPLICATE', `route type "${name}" of ${f.type} is already registered by ${other}`);
      }
      map.set(name, f);
    }
  }
  return map;
}
