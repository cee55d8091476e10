/**
 * HashRoute: sends each request to exactly one child, picked by hashing the request's routing key
 * (routing prefix removed, cut at `|#|`, plus `salt`) with `hash_func` (default Ch3, mcrouter's furc hash).
 *
 * Replies: whatever the chosen child replies; nothing is retried here (wrap children in FailoverRoute for
 * that). With no children it answers every request with `local_error` "HashRoute has no children"
 * (mcrouter's ErrorRoute), or with NullRoute replies when `error_on_empty` is false. With one child the
 * child itself is returned (no hashing).
 *
 * Ops: all (multi-key gets are split per key by the session before they get here).
 * Limits: Ketama over children that are not destinations names ring points after the child's display
 * name and position; give `names` to control them (destination children use their host:port). Hash functions and their parameters are
 * those of `hash/selector.ts`. Every name mcrouter's HashRouteFactory takes is accepted, in any letter case:
 * `Latest` builds a LatestRoute over the children (its knobs: failover_count, failover_errors, salt, weights);
 * `WeightedCh3Rv` (weights from runtime variables, which mcrelay does not have) hashes as WeightedCh3 over the
 * configured weights; `LoadBalancer` (which needs per-server load reports memcached does not send) hashes
 * as Ch3. Both warn.
 */
import type { SchemaObject } from 'ajv';
import type { Request } from '../protocol/types.js';
import { createSelector, HASH_FUNC_NAMES, type HashFuncName, type HashSpec, type Selector, type SelectorServer } from './hash/selector.js';
import { ErrorRoute } from './error-route.js';
import { failoverRouteName } from './failover-route.js';
import { FAILOVER_ERRORS_SCHEMA, failoverErrorsFrom, latestPicks, LatestRoute, type FailoverErrorsOption } from './latest-route.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema, type RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** Hash options shared by HashRoute and PoolRoute's `hash` object (config snake_case). */
export interface HashOptions {
  /** Any letter case; canonicalHashFunc() names it. */
  hash_func?: string;
  salt?: string;
  weights?: number[];
  tags?: string[];
  key_hash?: string;
  names?: (string | null)[];
  hash_tag?: string;
  /** Latest only. */
  failover_count?: number;
  failover_errors?: FailoverErrorsOption;
  thread_local_failover?: boolean;
  failover_policy?: Record<string, unknown>;
}

/** JSON-schema properties of HashOptions, with descriptions. */
export const HASH_OPTION_PROPERTIES: Readonly<Record<string, SchemaObject>> = Object.freeze({
  hash_func: {
    type: 'string',
    description: 'Hash function, any letter case: Ch3 (default), WeightedCh3, Crc32, ConstShard, Rendezvous, WeightedRendezvous, Ketama, Modula, Jump, and mcrouter\'s Latest (a LatestRoute over the children), WeightedCh3Rv (as WeightedCh3) and LoadBalancer (as Ch3).',
  },
  salt: { type: 'string', description: 'Appended to the routing key before hashing (default: none).' },
  weights: {
    type: 'array', items: { type: 'number', minimum: 0 },
    description: 'One weight per child/server (WeightedCh3, WeightedRendezvous: [0, 1]; Ketama/Modula: positive integers).',
  },
  tags: { type: 'array', items: { type: 'string' }, description: 'One tag per child/server (Rendezvous hashing).' },
  key_hash: { type: 'string', description: 'Ketama/Modula key hash (twemproxy name, default fnv1a_64; md5 for libketama placement).' },
  names: {
    type: 'array', items: { type: ['string', 'null'] },
    description: 'Ketama node names, one per child/server (twemproxy "host:port:weight name"); null derives it from host:port.',
  },
  hash_tag: { type: 'string', minLength: 2, maxLength: 2, description: 'Ketama/Modula hash tag, two characters such as "{}".' },
  failover_count: { type: 'integer', minimum: 1, description: 'Latest: how many children to pick (default 5).' },
  failover_errors: { ...FAILOVER_ERRORS_SCHEMA, description: `Latest: ${String(FAILOVER_ERRORS_SCHEMA.description)}` },
  thread_local_failover: { type: 'boolean', description: 'Latest (mcrouter option); accepted and ignored.' },
  failover_policy: { type: 'object', description: 'Latest (mcrouter option); accepted and ignored.' },
});

/** What `hash_func` names, in mcrouter's spelling; `Latest` is not a selector but a route. */
export type HashFuncOrLatest = HashFuncName | 'Latest';

interface CanonicalHashFunc {
  readonly name: HashFuncOrLatest;
  readonly warning: string | null;
}

const CANONICAL: ReadonlyMap<string, CanonicalHashFunc> = new Map<string, CanonicalHashFunc>([
  ...HASH_FUNC_NAMES.map((n): [string, CanonicalHashFunc] => [n.toLowerCase(), { name: n, warning: null }]),
  ['latest', { name: 'Latest', warning: null }],
  ['weightedch3rv', { name: 'WeightedCh3', warning: 'WeightedCh3Rv reads its weights from runtime variables, which mcrelay does not have; hashing as WeightedCh3 over the configured weights' }],
  ['loadbalancer', { name: 'Ch3', warning: 'LoadBalancer picks by the load servers report, which memcached does not send; hashing as Ch3' }],
]);

/**
 * The hash function a `hash_func` names, in any letter case, with a warning for the names mcrelay maps to
 * another function; null when it names none.
 */
export function canonicalHashFunc(name: string): CanonicalHashFunc | null {
  return CANONICAL.get(name.toLowerCase()) ?? null;
}

/** `hash_func` checked at `path`: its canonical name (warnings go to the builder). */
export function hashFuncAt(b: RouteBuilder, name: string | undefined, fallback: HashFuncName, path: string): HashFuncOrLatest {
  if (name === undefined) return fallback;
  const c = canonicalHashFunc(name);
  if (c === null) b.fail(path, `unknown hash function "${name}" (expected one of: ${[...HASH_FUNC_NAMES, 'Latest', 'WeightedCh3Rv', 'LoadBalancer'].join(', ')})`);
  if (c.warning !== null) b.warn(path, c.warning);
  return c.name;
}

/**
 * `hash_func: "Latest"` on HashRoute or PoolRoute: mcrouter's LatestRoute over the same children.
 * @param name supplies the name mcrouter gives the failover route it builds (the HashRoute's `name`, or the pool's)
 * @param above supplies route_handles lines mcrouter prints above it (a PoolRoute's `asynclog:<pool>`)
 */
export function latestFromHash(
  o: HashOptions, children: readonly RouteHandle[], weights: readonly number[] | null, b: RouteBuilder, path: string,
  name: string | undefined = b.nodeName?.(), above: readonly string[] = [],
): RouteHandle {
  if (weights !== null && weights.length !== children.length) {
    b.fail(`${path}/weights`, `Latest: weights has ${weights.length} entries but there are ${children.length} children`);
  }
  if (children.length === 1) return children[0] as RouteHandle;
  const picks = latestPicks(b.options.hostId, children.length, o.failover_count ?? 5, o.salt ?? '', weights);
  return new LatestRoute(children, picks, failoverErrorsFrom(o.failover_errors), [...above, failoverRouteName(name, picks.length)]);
}

/** mcrouter's name for the selection route a HashRoute or PoolRoute builds: `selection|hash|Ch3[|salt=s]`. */
export function selectionRouteName(hashFunc: string, salt: string | undefined): string {
  return `selection|hash|${hashFunc}${salt === undefined || salt === '' ? '' : `|salt=${salt}`}`;
}

/**
 * Turn config hash options into a selector spec.
 * @param fallbackFunc supplies the function used when `hash_func` is absent
 * @param defaults supplies weights/tags used when the options have none (a pool's own)
 */
export function hashSpecFromOptions(
  o: HashOptions,
  fallbackFunc: HashFuncName,
  defaults: { weights?: readonly number[] | null; tags?: readonly string[] | null } = {},
): HashSpec {
  const named = o.hash_func === undefined ? null : canonicalHashFunc(o.hash_func);
  const hashFunc: HashFuncName = named === null || named.name === 'Latest' ? fallbackFunc : named.name;
  const spec: HashSpec = { hashFunc };
  if (o.salt !== undefined && o.salt !== '') spec.salt = o.salt;
  const weighted = hashFunc === 'WeightedCh3' || hashFunc === 'WeightedRendezvous' || hashFunc === 'Ketama' || hashFunc === 'Modula';
  const weights = o.weights ?? (weighted ? defaults.weights ?? undefined : undefined);
  if (weights !== undefined && weights !== null) spec.weights = weights;
  const rendezvous = hashFunc === 'Rendezvous' || hashFunc === 'WeightedRendezvous';
  const tags = o.tags ?? (rendezvous ? defaults.tags ?? undefined : undefined);
  if (tags !== undefined && tags !== null) spec.tags = tags;
  if (o.key_hash !== undefined) spec.keyHash = o.key_hash;
  if (o.names !== undefined) spec.names = o.names;
  if (o.hash_tag !== undefined) spec.hashTag = o.hash_tag;
  return spec;
}

/**
 * createSelector with config-style errors: lengths are checked against `count` with the option's path,
 * anything else the selector rejects is reported at `path`. WeightedCh3 is the exception, as in mcrouter
 * (WeightedChHashFuncBase::parseWeights): extra weights are dropped and missing ones are 0.5, with a warning.
 */
export function makeSelector(b: RouteBuilder, type: string, given: HashSpec, servers: readonly SelectorServer[], path: string, optionPath: (key: string) => string, what: string): Selector {
  const n = servers.length;
  let spec = given;
  const lists: [keyof HashSpec, string][] = [['weights', 'weights'], ['tags', 'tags'], ['names', 'names']];
  for (const [key, option] of lists) {
    const v = spec[key];
    if (!Array.isArray(v) || v.length === n) continue;
    if (key === 'weights' && spec.hashFunc === 'WeightedCh3' && spec.weights !== undefined) {
      const fix = v.length < n ? `the missing ${n - v.length} are 0.5` : `the extra ${v.length - n} are ignored`;
      b.warn(optionPath(option), `${type}: ${v.length} weights for ${n} ${what}: ${fix}, as in mcrouter`);
      // weightedCh3Thresholds fills the missing ones; the extra ones are never read (nor range-checked).
      spec = { ...spec, weights: spec.weights.slice(0, n) };
      continue;
    }
    b.fail(optionPath(option), `${type}: ${option} has ${v.length} entries but there are ${n} ${what}`);
  }
  try {
    return createSelector(spec, servers);
  } catch (e) {
    return b.fail(path, `${type}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export class HashRoute implements RouteHandle {
  readonly type = 'HashRoute';
  readonly name: string;
  readonly routeNames: readonly string[];

  /**
   * @param children supplies the targets; `selector.n` must equal `children.length`
   * @param selector supplies the key → index mapping
   * @param salt supplies the salt, for the route_handles name
   */
  constructor(
    private readonly children: readonly RouteHandle[],
    private readonly selector: Selector,
    hashFunc: string,
    salt?: string,
  ) {
    if (selector.n !== children.length) throw new Error(`HashRoute: selector has ${selector.n} slots for ${children.length} children`);
    this.name = `HashRoute|${hashFunc}`;
    this.routeNames = [selectionRouteName(hashFunc, salt)];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    // select() returns an index in [0, n) by contract, and n === children.length (checked above).
    this.children[this.selector.select(req.routingKey())]!.route(req, ctx, done);
  }

  selectedIndex(req: Request): number {
    return this.selector.select(req.routingKey());
  }

  traverse(req: Request, t: Traversal): void {
    const child = this.children[this.selector.select(req.routingKey())];
    if (child !== undefined) t.visit(child, req);
  }
}

export interface HashRouteOptions extends HashOptions {
  children: unknown;
  error_on_empty: boolean;
}

/**
 * What the selector sees for each child (only Ketama uses it, to name ring points). A destination leaf
 * (as in "HashRoute|Pool|A") is its server's host and port, so HashRoute over `Pool|A` places keys exactly
 * like PoolRoute over A; any other child is its display name and position.
 */
function childServers(children: readonly RouteHandle[]): SelectorServer[] {
  return children.map((c, i) => {
    const dest: unknown = (c as { destination?: { address?: unknown } }).destination?.address;
    if (typeof dest === 'string') {
      const colon = dest.lastIndexOf(':');
      const host = dest.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
      const port = Number(dest.slice(colon + 1));
      if (colon > 0 && Number.isInteger(port)) return { host, port };
    }
    return { host: c.name, port: i };
  });
}

export const hashRouteFactory = defineRoute<HashRouteOptions>({
  type: 'HashRoute',
  description: 'Sends each request to one child chosen by a hash of the routing key (default Ch3).',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The children to hash over: a list, a single route, or "Pool|A".'),
      ...HASH_OPTION_PROPERTIES,
      hash_func: { ...HASH_OPTION_PROPERTIES['hash_func'], default: 'Ch3' },
      salt: { ...HASH_OPTION_PROPERTIES['salt'], default: '' },
      error_on_empty: {
        type: 'boolean', default: true,
        description: 'With no children, reply with an error (true) or with NullRoute replies (false).',
      },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    if (children.length === 0) {
      return o.error_on_empty ? new ErrorRoute('HashRoute has no children') : new NullRoute();
    }
    if (hashFuncAt(b, o.hash_func, 'Ch3', `${path}/hash_func`) === 'Latest') return latestFromHash(o, children, o.weights ?? null, b, path);
    const spec = hashSpecFromOptions(o, 'Ch3');
    const selector = makeSelector(b, 'HashRoute', spec, childServers(children), path, (k) => `${path}/${k}`, 'children');
    const [only] = children;
    if (children.length === 1 && only !== undefined) return only;
    return new HashRoute(children, selector, spec.hashFunc, spec.salt);
  },
});
