/**
 * RootRoute: the top of every config's tree. Picks the alias tree(s) for a key's `/region/cluster/` routing
 * prefix (mcrouter's RouteHandleMap + RootRoute) and sends the request there.
 *
 * Where a key goes:
 *   - no routing prefix                → the default alias (`-R`, default `/././`);
 *   - `/a/b/` without `*`              → that alias; else the `/a/fallback/` alias if configured; else no route;
 *   - `/*\/*\/`                         → every alias tree;
 *   - `/a/*\/`                          → every alias of region `a`;
 *   - any other glob (`*` = any run of non-`/` bytes in a component) → every matching alias.
 * With several targets the request goes to all of them: the reply comes from the first (the default tree
 * when it is among them), the others run in the background through `ctx.spawn(…, 'async')` and their
 * replies are dropped (a spawn over the cap is dropped and counted by the context).
 *
 * When everything fails: a key with no route gets mcrouter's ErrorReply, `local_error` without a message
 * (`SERVER_ERROR local error`, as mcrouter's RootRoute answers an empty target list), or the
 * default tree with `sendInvalidRouteToDefault` (mcrouter `--send-invalid-route-to-default`).
 *
 * With `--big-value-split-threshold` a BigValueRoute (big-value-route.ts) sits above this dispatch, where
 * mcrouter's ProxyRoute puts it, so big values are split and reassembled whichever alias a key uses; the
 * multi-get fast path is then off (every read's reply is inspected).
 *
 * Ops: all; the routing prefix is not removed here (the leaves strip it unless keep_routing_prefix).
 * Limits: glob lookups are cached per prefix text (bounded, cleared when full); an alias tree reachable
 * under several aliases is sent the request once.
 */
import { frozenReply, errorReply, routingPrefixLength, type Request } from '../protocol/types.js';
import { BigValueRoute, DEFAULT_BIG_VALUE_BATCH_SIZE, type BigValueOptions } from './big-value-route.js';
import type { DirectTarget, ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

const SLASH = 0x2f;
const PREFIX_RE = /^\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/$/;
const GLOB_CACHE_MAX = 1024;

/** True for a concrete routing prefix `/region/cluster/` (components of `[A-Za-z0-9_.-]`). */
export function isValidRoutingPrefix(s: string): boolean {
  return PREFIX_RE.test(s);
}

export interface RootRouteOptions {
  /** Requests whose prefix matches no alias go to the default tree instead of failing. */
  readonly sendInvalidRouteToDefault: boolean;
  /** `--big-value-split-threshold`: above 0, a BigValueRoute above the dispatch (mcrouter's batch size 10). */
  readonly bigValueSplitThreshold?: number;
  /** Full BigValueRoute options (tests; they win over bigValueSplitThreshold). */
  readonly bigValue?: BigValueOptions;
}

const NO_ROUTE = frozenReply(errorReply('local_error'));
const NONE: readonly RouteHandle[] = Object.freeze([]);

interface Alias {
  readonly prefix: string;
  readonly region: string;
  readonly cluster: string;
  readonly handle: RouteHandle;
}

/**
 * Glob match with `*` = any run of characters (region and cluster names hold no `/`). The glob comes from
 * the client's key, so no regex: a pattern like `*********Z` made a backtracking regex take exponential time.
 * Greedy two-pointer matching with one remembered star: O(glob × text) worst case, no allocation.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && glob.charCodeAt(g) !== 0x2a && glob.charCodeAt(g) === text.charCodeAt(t)) {
      g++;
      t++;
    } else if (g < glob.length && glob.charCodeAt(g) === 0x2a) {
      star = g++;
      mark = t;
    } else if (star >= 0) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob.charCodeAt(g) === 0x2a) g++;
  return g === glob.length;
}

function globToRegExp(glob: string): { test(s: string): boolean } {
  return { test: (s: string) => globMatches(glob, s) };
}

export class RootRoute implements RouteHandle {
  readonly type = 'RootRoute';
  readonly name = 'RootRoute';
  /**
   * mcrouter's `root`. With a BigValueRoute on top this handle is mcrouter's ProxyRoute (which route_handles
   * does not print): `big-value` comes first, then `root` (RootDispatch).
   */
  readonly routeNames: readonly string[];
  /** The tree for keys without a routing prefix. */
  readonly defaultRoute: RouteHandle;
  private readonly exact = new Map<string, readonly RouteHandle[]>();
  private readonly fallback = new Map<string, readonly RouteHandle[]>();
  private readonly byRegion = new Map<string, readonly RouteHandle[]>();
  private readonly all: readonly RouteHandle[];
  private readonly aliasList: readonly Alias[];
  private readonly globCache = new Map<string, readonly RouteHandle[]>();
  private readonly noRoute: readonly RouteHandle[];
  /** The BigValueRoute every request enters first, or null. */
  readonly bigValue: BigValueRoute | null;

  /**
   * @param table supplies alias → tree; must contain `defaultPrefix`
   * @param defaultPrefix supplies the `-R` routing prefix
   */
  constructor(table: ReadonlyMap<string, RouteHandle>, readonly defaultPrefix: string, opts: RootRouteOptions) {
    const def = table.get(defaultPrefix);
    if (def === undefined) throw new Error(`RootRoute: default routing prefix ${defaultPrefix} has no route`);
    this.defaultRoute = def;
    const aliases: Alias[] = [];
    for (const [prefix, handle] of table) {
      const [, region = '', cluster = ''] = prefix.split('/');
      aliases.push({ prefix, region, cluster, handle });
      this.exact.set(prefix, Object.freeze([handle]));
      if (cluster === 'fallback') this.fallback.set(region, Object.freeze([handle]));
    }
    this.aliasList = Object.freeze(aliases);
    this.all = this.ordered(aliases);
    const regions = new Set(aliases.map((a) => a.region));
    for (const r of regions) this.byRegion.set(r, this.ordered(aliases.filter((a) => a.region === r)));
    this.noRoute = opts.sendInvalidRouteToDefault ? Object.freeze([def]) : NONE;
    const t = opts.bigValueSplitThreshold ?? 0;
    const bv = opts.bigValue ?? (t > 0 ? { threshold: t, batchSize: DEFAULT_BIG_VALUE_BATCH_SIZE, hideReplyFlag: false } : null);
    this.bigValue = bv === null ? null : new BigValueRoute(new RootDispatch(this), bv);
    this.routeNames = this.bigValue === null ? ['root'] : [];
  }

  /** Every alias served, in config order. */
  aliases(): string[] {
    return this.aliasList.map((a) => a.prefix);
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (this.bigValue !== null) this.bigValue.route(req, ctx, done);
    else this.dispatch(req, ctx, done);
  }

  /** The routing-prefix dispatch (below the BigValueRoute when there is one). */
  dispatch(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (req.key[0] !== SLASH) {
      this.defaultRoute.route(req, ctx, done);
      return;
    }
    const targets = this.targets(req.key);
    const first = targets[0];
    if (first === undefined) {
      done(NO_ROUTE);
      return;
    }
    for (let i = 1; i < targets.length; i++) {
      const h = targets[i];
      if (h !== undefined) ctx.spawn(h, req, 'async');
    }
    first.route(req, ctx, done);
  }

  /** The multi-get fast path: keys without a routing prefix go to the default route. */
  directRange(buf: Buffer, start: number, end: number): DirectTarget | null {
    if (buf[start] === SLASH || this.bigValue !== null) return null;
    const d = this.defaultRoute;
    return d.directRange === undefined ? null : d.directRange(buf, start, end);
  }

  traverse(req: Request, t: Traversal): void {
    if (this.bigValue !== null) t.visit(this.bigValue, req);
    else this.traverseTargets(req, t);
  }

  traverseTargets(req: Request, t: Traversal): void {
    for (const h of this.targets(req.key)) t.visit(h, req);
  }

  /** The trees a key is sent to; the first one answers. Empty: no route. */
  targets(key: Buffer): readonly RouteHandle[] {
    const len = routingPrefixLength(key);
    if (len === 0) return this.exact.get(this.defaultPrefix) ?? NONE;
    const prefix = key.toString('latin1', 0, len);
    const exact = this.exact.get(prefix);
    if (exact !== undefined) return exact;
    const second = prefix.indexOf('/', 1);
    const region = prefix.slice(1, second);
    const cluster = prefix.slice(second + 1, len - 1);
    if (!prefix.includes('*')) return this.fallback.get(region) ?? this.noRoute;
    if (region === '*' && cluster === '*') return this.all;
    if (cluster === '*' && !region.includes('*')) return this.byRegion.get(region) ?? this.noRoute;
    let hit = this.globCache.get(prefix);
    if (hit === undefined) {
      const r = globToRegExp(region);
      const c = globToRegExp(cluster);
      const matched = this.ordered(this.aliasList.filter((a) => r.test(a.region) && c.test(a.cluster)));
      hit = matched.length === 0 ? this.noRoute : matched;
      if (this.globCache.size >= GLOB_CACHE_MAX) this.globCache.clear();
      this.globCache.set(prefix, hit);
    }
    return hit;
  }

  /** Unique trees of `aliases`, the default tree first when present. */
  private ordered(aliases: readonly Alias[]): readonly RouteHandle[] {
    const out: RouteHandle[] = [];
    if (aliases.some((a) => a.handle === this.defaultRoute)) out.push(this.defaultRoute);
    for (const a of aliases) if (!out.includes(a.handle)) out.push(a.handle);
    return Object.freeze(out);
  }
}

/** RootRoute's own dispatch as a child handle, for the BigValueRoute above it. */
class RootDispatch implements RouteHandle {
  readonly type = 'RootRoute';
  readonly name = 'RootRoute';
  readonly routeNames: readonly string[] = ['root'];

  constructor(private readonly root: RootRoute) {}

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.root.dispatch(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    this.root.traverseTargets(req, t);
  }
}
