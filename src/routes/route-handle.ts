/**
 * The route tree's contracts. A RouteHandle is one node, built once per config generation and immutable
 * afterwards; per-request state lives in the Request and in the closures a route makes for its children.
 *
 * Hot-path contract: `route()` takes a callback, not a Promise, so the common path (PoolRoute → destination)
 * allocates no promise and schedules no microtask. `done` is called exactly once, possibly synchronously
 * (NullRoute, TKO fast-fail). Upstream trouble is a Reply result, never a throw: a throw is a bug.
 */
import type { Logger } from 'pino';
import type { Reply, Request } from '../protocol/types.js';
import type { Destination } from '../upstream/destination.js';

export type ReplyCallback = (reply: Reply) => void;

export interface RouteHandle {
  /** The config type name ("FailoverRoute"); also the class and file name. */
  readonly type: string;
  /** mcrelay's display name for logs, metrics labels and the admin HTTP `/route`, e.g. "PoolRoute|A". */
  readonly name: string;
  /**
   * mcrouter's `routeName()` for what this handle stands for, as `__mcrouter__.route_handles` prints it, one
   * entry per line: usually one; several where mcrouter builds a chain of handles for one of ours (a
   * PoolRoute is mcrouter's `asynclog:A` over `selection|hash|Ch3`); none where mcrouter builds no handle
   * of its own (a PrefixSelectorRoute's choice is made in RootRoute's map, a HostIdRoute is its chosen
   * child), so its children print in its place.
   */
  readonly routeNames: readonly string[];
  /** Route the request; call `done` exactly once with the reply. */
  route(req: Request, ctx: RouteContext, done: ReplyCallback): void;
  /** Dry run: visit every child or destination this request would reach. Sends nothing. */
  traverse(req: Request, t: Traversal): void;
  /**
   * Optional, for the multi-get fast path: when routing a get of the key `buf[start, end)` would do
   * nothing but send it unchanged (same key on the wire) to exactly one destination with no other
   * effect, that destination and the timeout; else null. Reads the key in place (no Request is made).
   * Routes without it are never bypassed.
   */
  directRange?(buf: Buffer, start: number, end: number): DirectTarget | null;
  /**
   * Optional, for selection routes (PoolRoute, HashRoute): the index of the child `req` goes to. FailoverRoute's
   * DeterministicOrder and Rendezvous policies skip the failover target the normal route already chose
   * (mcrouter's fiber-local selected index). Pure: it routes nothing.
   */
  selectedIndex?(req: Request): number;
}

/** What directRange() answers: where the request would go, and with which server timeout. */
export interface DirectTarget {
  readonly destination: Destination;
  readonly timeoutMs: number;
}

/** Bounded background work (L1 refills, shadows, async replicas). */
export interface RouteContext {
  /** True inside a shadow copy: routes must not cause client-visible effects. */
  readonly shadow: boolean;
  /** The context to use for a shadow copy of a request. */
  readonly shadowContext: RouteContext;
  /**
   * Fire-and-forget: route `req` through `handle` in the background. Returns false (and counts a drop)
   * when the outstanding background work is at its cap; the reply is discarded either way.
   */
  spawn(handle: RouteHandle, req: Request, kind: SpawnKind): boolean;
  /** Counters routes bump (failover_all, dev_null_requests, ...). Plain fields: no lookups on the hot path. */
  readonly stats: RouteStats;
  readonly log: Logger;
  /** This host's id (mcrouter hostid), used by LatestRoute, HostIdRoute, KeySplitRoute. */
  readonly hostId: number;
}

export type SpawnKind = 'shadow' | 'async' | 'refill';

/**
 * Counters the route library bumps. `stats`, /metrics and the status page report most of them; asyncSent,
 * asyncDropped, refillDropped and rateLimited are read only by the route tests.
 */
export class RouteStats {
  failoverAll = 0;
  failoverAllFailed = 0;
  failoverRateLimited = 0;
  failoverTkoSkipped = 0;
  devNullRequests = 0;
  shadowSent = 0;
  shadowDropped = 0;
  asyncSent = 0;
  asyncDropped = 0;
  refillDropped = 0;
  rateLimited = 0;
  spooledDeletes = 0;
  /** LocalCacheRoute: gets answered from the in-process cache, across every LocalCacheRoute. */
  localCacheHits = 0;
  /** LocalCacheRoute: cacheable gets sent to the child. */
  localCacheMisses = 0;
  /** LocalCacheRoute: hits stored. */
  localCacheFills = 0;
  /** LocalCacheRoute: entries dropped to stay within max_bytes. */
  localCacheEvictions = 0;
}

/**
 * Collects what `traverse` visits: the handle tree in our names (`nodes`, for the admin HTTP `/route`), the
 * same tree in mcrouter's names (`routeHandles`, for `__mcrouter__.route_handles`), and the destinations
 * (for `__mcrouter__.route` and `/route`).
 */
export class Traversal {
  readonly nodes: { depth: number; name: string }[] = [];
  /** One entry per mcrouter route handle line: `depth` spaces of indent, then `name`. */
  readonly routeHandles: { depth: number; name: string }[] = [];
  readonly destinations: string[] = [];
  private depth = 0;
  private mcrouterDepth = 0;
  /** >0 inside visitListed(): recorded in routeHandles only. */
  private listedLevel = 0;

  /** Visit a child handle: records it and recurses into its own traverse(). */
  visit(handle: RouteHandle, req: Request): void {
    const names = handle.routeNames;
    if (this.listedLevel === 0) this.nodes.push({ depth: this.depth, name: handle.name });
    for (let i = 0; i < names.length; i++) this.routeHandles.push({ depth: this.mcrouterDepth + i, name: names[i] as string });
    this.depth++;
    this.mcrouterDepth += names.length;
    try {
      handle.traverse(req, this);
    } finally {
      this.depth--;
      this.mcrouterDepth -= names.length;
    }
  }

  /**
   * Visit a handle that mcrouter's traverse walks but that is not where this request goes: a shadow target
   * (mcrouter's ShadowRoute traverses its shadows after the normal route), LatestRoute's later picks.
   * route_handles lists it; nothing under it is recorded in `nodes` or `destinations`.
   */
  visitListed(handle: RouteHandle, req: Request): void {
    this.listedLevel++;
    try {
      this.visit(handle, req);
    } finally {
      this.listedLevel--;
    }
  }

  /** Called by leaf routes (already recorded by visit()) with the destination's `host:port`. */
  destination(address: string): void {
    if (this.listedLevel === 0) this.destinations.push(address);
  }

  /** `__mcrouter__.route_handles`: one line per mcrouter route handle, indented one space per level. */
  routeHandlesText(): string {
    return this.routeHandles.map((n) => `${' '.repeat(n.depth)}${n.name}`).join('\n');
  }
}
