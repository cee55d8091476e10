/**
 * What a pool and its servers are, as the config builder hands them to destinations and routes.
 */

/** A server entry of a pool, parsed from `host:port[:protocol[:security]]`. */
export interface ServerSpec {
  readonly host: string;
  readonly port: number;
  /** `ascii` only for now (mcrouter also has caret/thrift). */
  readonly protocol: 'ascii';
  /** `plain` or `ssl` (mcrouter's mech names: ssl, tls, fizz map to TLS). */
  readonly security: 'plain' | 'ssl';
  /** `host:port` — the destination key shared across pools and reloads. */
  readonly address: string;
  /** Original config text. */
  readonly text: string;
}

/**
 * One entry of a pool's `servers`, in config order: a server string, or (as mcrouter's makePool allows) a
 * route object, which the builder makes with the route factory and uses as that member of the pool.
 */
export type PoolEntry =
  | { readonly kind: 'server'; readonly server: ServerSpec }
  | { readonly kind: 'route'; readonly node: Readonly<Record<string, unknown>>; readonly path: string };

/** A pool after `inherit` was applied and defaults filled. */
export interface PoolInfo {
  readonly name: string;
  /** The pool's servers: its string entries, in config order (a route-object entry is not a server). */
  readonly servers: readonly ServerSpec[];
  /**
   * Every entry of `servers`, in config order: what PoolRoute hashes over and `Pool|A` lists. Entry i is
   * mcrouter's `id=i`, and `weights[i]`/`tags[i]` are its weight and tag.
   */
  readonly entries: readonly PoolEntry[];
  readonly serverTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly keepRoutingPrefix: boolean;
  /** WeightedCh3 weights ([0,1]) or ketama weights, one per server, when given. */
  readonly weights: readonly number[] | null;
  readonly tags: readonly string[] | null;
  /** Failed deletes are spooled (mcrouter asynclog) unless false. */
  readonly asynclog: boolean;
  /** Raw pool object (validated), for options later issues add. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** JSON pointer of the pool definition, for error messages. */
  readonly path: string;
}
