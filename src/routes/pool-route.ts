/**
 * PoolRoute: sends each request to one server of a pool, picked by hashing the routing key (mcrouter's
 * PoolRoute: a HashRoute over the pool's destination routes). The hash is `hash` (a name such as "Crc32" or
 * an object with hash_func, salt, weights, ...); by default Ch3, or WeightedCh3 when the pool has `weights`.
 *
 * Replies: the chosen server's reply, or its error result (timeout, connect_error, tko, ...): no failover
 * here. An empty pool answers `local_error` "PoolRoute|A has no servers" (or NullRoute replies with
 * `error_on_empty: false`).
 *
 * Ops: all. The hot path is one select() and one call: no allocation, no closure.
 * Slow warm-up: `slow_warmup` wraps every destination in a SlowWarmUpRoute (slow-warm-up-route.ts): a server
 * whose measured hit rate is low gets only part of the reads, the rest go to `failoverTarget`. Wrapped
 * destinations leave the multi-get fast path (their reads must be counted).
 * Shadows: `shadows` wraps each destination whose index an `index_range` covers so that selected requests
 * also go, fire-and-forget, to the shadow `target` (rules and cap in `util/shadow.ts`); unshadowed indices
 * keep the direct path. (mcrouter's order: slow warm-up inside, shadows outside.)
 * Limits (accepted in the schema, not acted on yet; the route-library issue implements them):
 * `shadow_policy`, `max_outstanding`, `shard_splits`, `split_shard_fanout`,
 * `asynclog_name`. They are listed in `deferredOptions` so callers can warn. `asynclog` is the pool's
 * setting and is honoured by the destination routes.
 */
import { hashStopIndex, type Request } from '../protocol/types.js';
import type { HashFuncName, Selector } from './hash/selector.js';
import { ErrorRoute } from './error-route.js';
import { HASH_OPTION_PROPERTIES, hashFuncAt, hashSpecFromOptions, latestFromHash, makeSelector, selectionRouteName, type HashOptions } from './hash-route.js';
import { NullRoute } from './null-route.js';
import { defineRoute } from './route-factory.js';
import { RateLimitRoute, rateBuckets, type Rates } from './rate-limit-route.js';
import type { DirectTarget, ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { SHADOWS_SCHEMA, buildShadows, wrapWithShadows, type ShadowOptions } from './util/shadow.js';
import { SLOW_WARM_UP_SCHEMA, SlowWarmUpRoute, slowWarmUpSettings, type SlowWarmUpOption } from './slow-warm-up-route.js';

export class PoolRoute implements RouteHandle {
  readonly type = 'PoolRoute';
  readonly name: string;
  /**
   * What mcrouter builds for a PoolRoute, top down: `asynclog:<pool>` (when failed deletes are spooled),
   * `rate-limit|…` (with `rates`; here a RateLimitRoute above this route prints both), and
   * `selection|hash|<func>` (not over a single server, which mcrouter uses directly).
   */
  readonly routeNames: readonly string[];

  /**
   * @param children supplies one destination route per server, in server order
   * @param selector supplies the key → server index mapping (`selector.n === children.length`)
   * @param deferredOptions names the options given but not implemented yet
   * @param routeNames supplies the route_handles lines (default: the selection route alone)
   */
  constructor(
    readonly poolName: string,
    private readonly children: readonly RouteHandle[],
    private readonly selector: Selector,
    readonly hashFunc: HashFuncName,
    readonly deferredOptions: readonly string[] = [],
    routeNames?: readonly string[],
  ) {
    if (selector.n !== children.length) throw new Error(`PoolRoute: selector has ${selector.n} slots for ${children.length} servers`);
    this.name = `PoolRoute|${poolName}`;
    this.routeNames = routeNames ?? (children.length === 1 ? [] : [selectionRouteName(hashFunc, undefined)]);
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    // select() returns an index in [0, n) by contract, and n === children.length (checked above).
    this.children[this.selector.select(req.routingKey())]!.route(req, ctx, done);
  }

  /**
   * The multi-get fast path: the chosen server's route, when it is a plain destination. The caller
   * (RootRoute) only asks for keys without a routing prefix, so the routing key is the key up to `|#|`.
   */
  directRange(buf: Buffer, start: number, end: number): DirectTarget | null {
    const stop = hashStopIndex(buf, start, end);
    const child = this.children[this.selector.selectRange(buf, start, stop === -1 ? end : stop)]!;
    return child.directRange === undefined ? null : child.directRange(buf, start, end);
  }

  selectedIndex(req: Request): number {
    return this.selector.select(req.routingKey());
  }

  traverse(req: Request, t: Traversal): void {
    const child = this.children[this.selector.select(req.routingKey())];
    if (child !== undefined) t.visit(child, req);
  }
}

export interface PoolRouteOptions {
  pool: unknown;
  hash?: HashFuncName | HashOptions;
  error_on_empty: boolean;
  shadows?: ShadowOptions[];
  shadow_policy?: string;
  rates?: Record<string, number>;
  max_outstanding?: number;
  slow_warmup?: SlowWarmUpOption;
  shard_splits?: Record<string, unknown>;
  split_shard_fanout?: number;
  asynclog?: boolean;
  asynclog_name?: string;
}

const DEFERRED = ['shadow_policy', 'max_outstanding', 'shard_splits', 'split_shard_fanout', 'asynclog_name'] as const;

export const poolRouteFactory = defineRoute<PoolRouteOptions>({
  type: 'PoolRoute',
  description: 'Sends each request to one server of a pool, chosen by a hash of the routing key (default Ch3); slow_warmup ramps recovered servers by hit rate.',
  schema: {
    type: 'object',
    properties: {
      pool: {
        description: 'Pool name, or an inline pool object with "name" and "servers".',
        anyOf: [{ type: 'string' }, { type: 'object' }],
      },
      hash: {
        description: 'Hash function name, or an object with hash_func, salt, weights, tags, key_hash, names, hash_tag.',
        anyOf: [
          { type: 'string' },
          { type: 'object', properties: { ...HASH_OPTION_PROPERTIES }, additionalProperties: false },
        ],
      },
      error_on_empty: { type: 'boolean', default: true, description: 'With no servers, reply with an error (true) or NullRoute replies.' },
      shadows: SHADOWS_SCHEMA,
      shadow_policy: { type: 'string', description: 'Shadow policy name (mcrouter "default"). Accepted; not implemented yet.' },
      rates: {
        type: 'object',
        description: 'Token-bucket limits: gets_rate, gets_burst, sets_rate, sets_burst, deletes_rate, deletes_burst. Over the limit a request gets SERVER_ERROR 307 busy (see RateLimitRoute).',
        properties: {
          gets_rate: { type: 'number', minimum: 0 }, gets_burst: { type: 'number', minimum: 0 },
          sets_rate: { type: 'number', minimum: 0 }, sets_burst: { type: 'number', minimum: 0 },
          deletes_rate: { type: 'number', minimum: 0 }, deletes_burst: { type: 'number', minimum: 0 },
        },
        additionalProperties: false,
      },
      max_outstanding: { type: 'integer', minimum: 0, description: 'Max in-flight requests per destination (0 = off). Accepted; not implemented yet.' },
      slow_warmup: SLOW_WARM_UP_SCHEMA,
      shard_splits: { type: 'object', description: 'mcrouter shard splits. Accepted; not implemented yet.' },
      split_shard_fanout: { type: 'integer', minimum: 0, description: 'mcrouter shard split fanout. Accepted; not implemented yet.' },
      asynclog: { type: 'boolean', description: 'Spool failed deletes; overrides the pool setting when false.' },
      asynclog_name: { type: 'string', description: 'Spool name (default: the pool name). Accepted; not implemented yet.' },
    },
    required: ['pool'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ pool: rest }),
  create(o, b, path) {
    const poolPath = `${path}/pool`;
    const pool = b.pool(o.pool, poolPath);
    const children = b.poolDestinations(pool, poolPath);
    if (children.length === 0) {
      return o.error_on_empty ? new ErrorRoute(`PoolRoute|${pool.name} has no servers`) : new NullRoute();
    }
    const hashOpts: HashOptions = typeof o.hash === 'string' ? { hash_func: o.hash } : o.hash ?? {};
    const funcPath = typeof o.hash === 'string' ? `${path}/hash` : `${path}/hash/hash_func`;
    // mcrouter wraps every PoolRoute in an AsynclogRoute unless spooling is off; deletes are spooled here
    // by the pool's destinations, under the pool's name.
    const asynclog = pool.asynclog && !b.options.asynclogDisable ? [`asynclog:${pool.name}`] : [];
    if (hashFuncAt(b, hashOpts.hash_func, 'Ch3', funcPath) === 'Latest') {
      // mcrouter's createHashRoute builds a LatestRoute over the pool's destinations for `hash: "Latest"`
      // (a FailoverRoute named after the pool, under the AsynclogRoute).
      return latestFromHash(hashOpts, children, hashOpts.weights ?? pool.weights, b, typeof o.hash === 'object' ? `${path}/hash` : pool.path, pool.name, asynclog);
    }
    const spec = hashSpecFromOptions(hashOpts, pool.weights !== null ? 'WeightedCh3' : 'Ch3', { weights: pool.weights, tags: pool.tags });
    const hashPath = `${path}/hash`;
    const optionPath = (k: string): string => {
      if (typeof o.hash === 'object' && (hashOpts as Record<string, unknown>)[k] !== undefined) return `${hashPath}/${k}`;
      return `${pool.path}/${k}`;
    };
    // A route-object entry has no host:port; like HashRoute's other children it is its name and position.
    const hashed = pool.entries.map((e, i) => (e.kind === 'server' ? e.server : { host: (children[i] as RouteHandle).name, port: i }));
    const selector = makeSelector(b, 'PoolRoute', spec, hashed, o.hash === undefined ? path : hashPath, optionPath, 'servers');
    const deferred = DEFERRED.filter((k) => o[k] !== undefined);
    for (const k of deferred) b.warn(`${path}/${k}`, `${k} is accepted but not implemented yet; ignored`);
    let destinations = children;
    if (o.slow_warmup !== undefined) {
      const at = `${path}/slow_warmup`;
      const settings = slowWarmUpSettings(o.slow_warmup, b, at, 'PoolRoute');
      const failoverTarget = b.route(o.slow_warmup.failoverTarget, `${at}/failoverTarget`);
      destinations = children.map((d) => new SlowWarmUpRoute(d, failoverTarget, settings));
    }
    const shadows = o.shadows === undefined ? [] : buildShadows(b, o.shadows, `${path}/shadows`);
    const selection = children.length === 1 ? [] : [selectionRouteName(spec.hashFunc, spec.salt)];
    if (o.rates === undefined) {
      return new PoolRoute(pool.name, wrapWithShadows(destinations, shadows), selector, spec.hashFunc, deferred, [...asynclog, ...selection]);
    }
    // mcrouter builds PoolRoute as HashRoute → RateLimitRoute → AsynclogRoute when `rates` is set.
    const poolRoute = new PoolRoute(pool.name, wrapWithShadows(destinations, shadows), selector, spec.hashFunc, deferred, selection);
    return new RateLimitRoute(poolRoute, rateBuckets(o.rates as Rates), null, asynclog);
  },
});
