/**
 * LocalCacheRoute (mcrelay's own; mcrouter has none): an in-process near cache (L0) in front of `child`,
 * bounded in bytes, whose entries are served for at most `ttl_ms`. The store and its rules are NearCache
 * (util/near-cache.ts), the same mechanism as the hot-key cache.
 *
 * Reads: a classic `get` hit, and with `meta_get` an `mg` hit whose flags are only `v f s k b`, is stored
 * (an owned copy of the child's reply bytes) and answered from the cache, without a request to `child`,
 * while it is younger than ttl_ms. `gets`, `gat`/`gats`, `me`, and `mg` with CAS, TTL or other server-state
 * flags always go to `child`. Misses and errors are never stored.
 * Writes: set, add, replace, append, prepend, cas, delete, touch, incr, decr, gat, gats, ms, md, ma (noreply
 * and quiet included), and mg with N/T/R-like flags, drop the key's entry before they are sent and again
 * when they are answered; a get's reply is stored only if no write to its key started after the get was
 * sent. So this process reads its own writes. `flush_all` through the process empties the cache.
 * Everything else goes to `child` as is.
 *
 * Staleness: writes through this route are never missed. Writes that do not pass through it (other
 * processes, a branch of the tree that bypasses it, the server's expiry and eviction) are seen once the
 * entry is ttl_ms old: a reply served from here is at most ttl_ms old. Put it where every read and write of
 * its keys passes, e.g. right under a prefix policy, and only for data whose readers accept ttl_ms of
 * staleness from other writers.
 *
 * Bounds: `max_bytes` over the keys and reply bytes held (the least recently used entry goes first); a
 * reply bigger than `max_item_fraction` × max_bytes is not stored.
 * When everything fails: the child's reply, whatever it is; this route adds no failure of its own.
 * Limits: one cache per route instance and process; a config reload starts it empty. Keys are compared
 * without their routing prefix, so `foo` and `/a/b/foo` share an entry (a write to one drops both).
 */
import type { Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { NearCache } from './util/near-cache.js';

/** LocalCacheRoute's settings, as validated from its config. */
export interface LocalCacheSettings {
  /** Bound on the bytes held: keys plus stored reply bytes. */
  readonly maxBytes: number;
  /** How long (ms) a stored reply is served. */
  readonly ttlMs: number;
  /** Largest reply stored, as a fraction of maxBytes (0..1]. */
  readonly maxItemFraction: number;
  /** Also cache `mg` reads whose flags are only v, f, s, k, b. */
  readonly metaGet: boolean;
}

/** `max_bytes` default: 16 MiB. */
export const DEFAULT_LOCAL_CACHE_MAX_BYTES = 16 * 1024 * 1024;
/** `ttl_ms` default. */
export const DEFAULT_LOCAL_CACHE_TTL_MS = 1000;
/** `max_item_fraction` default: 1 % of max_bytes. */
export const DEFAULT_LOCAL_CACHE_MAX_ITEM_FRACTION = 0.01;

export class LocalCacheRoute implements RouteHandle {
  readonly type = 'LocalCacheRoute';
  readonly name: string;
  /** Not an mcrouter handle; route_handles shows it as `local-cache` above its child. */
  readonly routeNames: readonly string[] = ['local-cache'];
  /** The store; its counters (hits, misses, fills, evictions, bytes, ...) are this route's stats. */
  readonly cache: NearCache;

  /**
   * @param child supplies where misses, writes and uncached ops go
   * @param settings supplies the bounds and freshness limit
   * @param clock supplies monotonic ms (tests pass a fake one)
   */
  constructor(
    readonly child: RouteHandle,
    readonly settings: LocalCacheSettings,
    clock?: () => number,
  ) {
    this.name = `LocalCacheRoute|max_bytes=${settings.maxBytes}|ttl_ms=${settings.ttlMs}`;
    this.cache = new NearCache({
      maxBytes: settings.maxBytes,
      ttlMs: settings.ttlMs,
      maxItemBytes: Math.floor(settings.maxBytes * settings.maxItemFraction),
      metaGet: settings.metaGet,
      countInRouteStats: true,
      ...(clock === undefined ? {} : { clock }),
    });
  }

  /** Reads answered from the cache. */
  get hits(): number {
    return this.cache.hits;
  }

  /** Cacheable reads sent to the child. */
  get misses(): number {
    return this.cache.misses;
  }

  /** Replies stored. */
  get fills(): number {
    return this.cache.fills;
  }

  /** Entries dropped to stay within max_bytes. */
  get evictions(): number {
    return this.cache.evictions;
  }

  /** Bytes held now (keys plus stored replies). */
  get bytes(): number {
    return this.cache.bytes;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.cache.route(this.child, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.child, req);
  }
}

export interface LocalCacheRouteOptions {
  child: unknown;
  max_bytes: number;
  ttl_ms: number;
  max_item_fraction: number;
  meta_get: boolean;
}

export const localCacheRouteFactory = defineRoute<LocalCacheRouteOptions>({
  type: 'LocalCacheRoute',
  description: 'In-process near cache in front of child: get (and plain mg) hits served for up to ttl_ms, bounded by max_bytes (LRU); writes through it drop the key first.',
  schema: {
    type: 'object',
    properties: {
      child: routeNodeSchema('The route behind the cache: misses, writes and every uncached op go there.'),
      max_bytes: {
        type: 'integer',
        minimum: 1,
        default: DEFAULT_LOCAL_CACHE_MAX_BYTES,
        description: 'Bound on the bytes held (keys plus stored reply bytes); the least recently used entries go first. Default 16 MiB.',
      },
      ttl_ms: {
        type: 'integer',
        minimum: 1,
        default: DEFAULT_LOCAL_CACHE_TTL_MS,
        description: 'A stored reply is served for this many milliseconds, then fetched again: the most a value written elsewhere can be stale. Default 1000.',
      },
      max_item_fraction: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: 1,
        default: DEFAULT_LOCAL_CACHE_MAX_ITEM_FRACTION,
        description: 'A reply (with its key) bigger than this fraction of max_bytes is not cached. Default 0.01.',
      },
      meta_get: {
        type: 'boolean',
        default: true,
        description: 'Also cache mg reads whose flags are only v, f, s, k and b (mg with other flags always goes to child).',
      },
    },
    required: ['child'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ child: rest }),
  create: (o, b, path) =>
    new LocalCacheRoute(b.route(o.child, `${path}/child`), {
      maxBytes: o.max_bytes,
      ttlMs: o.ttl_ms,
      maxItemFraction: o.max_item_fraction,
      metaGet: o.meta_get,
    }),
});
