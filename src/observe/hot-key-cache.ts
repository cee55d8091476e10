/**
 * Opt-in hot-key mitigation: a tiny in-proxy cache, for keys the hot-key tracker currently reports hot
 * and whose key starts with a configured prefix (`--hot-keys-cache-prefixes`). Nothing else is cached.
 * The store and its coherence rules are NearCache (routes/util/near-cache.ts), the mechanism
 * LocalCacheRoute uses too; this file adds only the admission rule (prefix, and hot at fill time) and the
 * entry bound.
 *
 * - Only classic `get` is served from it (not gets/gat/meta: they carry a CAS or a TTL change).
 * - An entry lives `ttlMs` (short: default 1000 ms), then the next get goes upstream again.
 * - Any write through this proxy for a cached key (set, delete, touch, incr, gat, ms/md/ma, ...) drops the
 *   entry before it is sent and again when it is answered, and a get's reply is only stored if no write to
 *   that key started meanwhile, so this proxy's own writes are read back at once.
 *
 * Consistency trade-off, plainly: writes made through *other* proxies or straight to memcached are not
 * seen here until the entry expires. A client may read a value up to `ttlMs` old. Enable it only for
 * prefixes whose readers tolerate that staleness (counters shown to users, config blobs, feature flags),
 * never for data read-modify-written under CAS.
 *
 * The wrapper is transparent to `traverse` (route, route_handles and /route show the real tree).
 */
import type { Request } from '../protocol/types.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from '../routes/route-handle.js';
import { NearCache } from '../routes/util/near-cache.js';

export interface HotKeyCacheOptions {
  readonly prefixes: readonly string[];
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Is this key hot right now? */
  readonly isHot: (key: string) => boolean;
}

export class HotKeyCache {
  /** The store: entry-bounded (maxEntries), not byte-bounded, classic get only, admits hot keys. */
  readonly store: NearCache;
  private readonly prefixes: readonly Buffer[];

  constructor(readonly opts: HotKeyCacheOptions) {
    this.prefixes = opts.prefixes.map((p) => Buffer.from(p, 'latin1'));
    this.store = new NearCache({
      maxBytes: Number.POSITIVE_INFINITY,
      maxEntries: opts.maxEntries,
      ttlMs: opts.ttlMs,
      metaGet: false,
      admit: (req) => opts.isHot(req.keyString()),
    });
  }

  /** Gets served from the cache. */
  get hits(): number {
    return this.store.hits;
  }

  /** Entries stored. */
  get fills(): number {
    return this.store.fills;
  }

  /** Entries dropped by local writes. */
  get invalidations(): number {
    return this.store.invalidations;
  }

  /** Does `key` start with one of the configured prefixes? */
  matches(key: Buffer): boolean {
    for (const p of this.prefixes) {
      if (key.length >= p.length && key.compare(p, 0, p.length, 0, p.length) === 0) return true;
    }
    return false;
  }

  /** Keys held. */
  get size(): number {
    return this.store.size;
  }

  /** `child` with the cache in front of it for keys under the prefixes. */
  wrap(child: RouteHandle): RouteHandle {
    return new HotKeyCacheRoute(child, this);
  }

}

class HotKeyCacheRoute implements RouteHandle {
  readonly type: string;
  readonly name: string;
  readonly routeNames: readonly string[];

  constructor(
    private readonly child: RouteHandle,
    private readonly cache: HotKeyCache,
  ) {
    this.type = child.type;
    this.name = child.name;
    this.routeNames = child.routeNames;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (!this.cache.matches(req.key)) {
      this.child.route(req, ctx, done);
      return;
    }
    this.cache.store.route(this.child, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    this.child.traverse(req, t);
  }
}
