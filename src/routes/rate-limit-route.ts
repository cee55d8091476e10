/**
 * RateLimitRoute: sends requests to `target` while their op class is under its rate; over the rate they go
 * to `fallback`, or, without one, get a `busy` error ("SERVER_ERROR 307 busy") at once. Each over-limit
 * request counts `ctx.stats.rateLimited`.
 *
 * `rates` holds one token bucket per op class, refilled continuously (tokens per second) and starting full:
 *   gets_rate / gets_burst         get-like (get, gets, gat, gats, mg, me)
 *   sets_rate / sets_burst         update-like (set, add, replace, append, prepend, cas, touch, ms)
 *   deletes_rate / deletes_burst   delete-like (delete, md)
 * A class without a rate is not limited; arithmetic and other ops are never limited. `*_burst` defaults to
 * the rate, and at least 1 (so a rate below 1/s still lets a request through now and then).
 *
 * When everything fails: the target's or the fallback's reply; the over-limit reply itself is an error.
 * Differences from mcrouter: mcrouter answers over-limit requests without a fallback with the default
 * (NullRoute) reply; mcrelay answers `busy`, which FailoverRoute treats as a failover error by default, so
 * an enclosing failover can move the overflow elsewhere. Buckets are per route instance (per process).
 */
import { frozenReply, errorReply, opGroup, type Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { monotonicSeconds, TimeTokenBucket, type Clock } from './util/token-bucket.js';

const OVER_LIMIT = frozenReply(errorReply('busy', 'RateLimitRoute: rate limit exceeded'));

export interface RateBuckets {
  readonly gets: TimeTokenBucket | null;
  readonly sets: TimeTokenBucket | null;
  readonly deletes: TimeTokenBucket | null;
}

export interface Rates {
  gets_rate?: number;
  gets_burst?: number;
  sets_rate?: number;
  sets_burst?: number;
  deletes_rate?: number;
  deletes_burst?: number;
}

/** Buckets for `rates` (null where a class has no rate). */
export function rateBuckets(rates: Rates, clock: Clock = monotonicSeconds): RateBuckets {
  const make = (rate: number | undefined, burst: number | undefined): TimeTokenBucket | null =>
    rate === undefined ? null : new TimeTokenBucket(rate, burst ?? Math.max(rate, 1), clock);
  return {
    gets: make(rates.gets_rate, rates.gets_burst),
    sets: make(rates.sets_rate, rates.sets_burst),
    deletes: make(rates.deletes_rate, rates.deletes_burst),
  };
}

export class RateLimitRoute implements RouteHandle {
  readonly type = 'RateLimitRoute';
  readonly name = 'RateLimitRoute';
  /** mcrouter's `rate-limit|gets_rate=R|gets_burst=B|…` (`rate-limit` with no rates), after any lines of `above`. */
  readonly routeNames: readonly string[];

  /**
   * @param buckets supplies one bucket per op class (null = unlimited)
   * @param fallback supplies the route for over-limit requests, or null for a `busy` error
   * @param above supplies route_handles lines mcrouter prints above it (a PoolRoute's `asynclog:<pool>`)
   */
  constructor(
    readonly target: RouteHandle,
    private readonly buckets: RateBuckets,
    readonly fallback: RouteHandle | null = null,
    above: readonly string[] = [],
  ) {
    const pieces: string[] = [];
    for (const [cls, bucket] of [['gets', buckets.gets], ['sets', buckets.sets], ['deletes', buckets.deletes]] as const) {
      if (bucket !== null) pieces.push(`${cls}_rate=${bucket.rate}`, `${cls}_burst=${bucket.burst}`);
    }
    this.routeNames = [...above, pieces.length === 0 ? 'rate-limit' : `rate-limit|${pieces.join('|')}`];
  }

  private allowed(req: Request): boolean {
    let bucket: TimeTokenBucket | null;
    switch (opGroup(req.op)) {
      case 'get_like': bucket = this.buckets.gets; break;
      case 'update_like': bucket = this.buckets.sets; break;
      case 'delete_like': bucket = this.buckets.deletes; break;
      default: return true;
    }
    return bucket === null || bucket.tryConsume();
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (this.allowed(req)) {
      this.target.route(req, ctx, done);
      return;
    }
    ctx.stats.rateLimited++;
    if (this.fallback !== null) this.fallback.route(req, ctx, done);
    else done(OVER_LIMIT);
  }

  /** The target's choice (PoolRoute with `rates` is this route over the PoolRoute). */
  selectedIndex(req: Request): number {
    return this.target.selectedIndex?.(req) ?? -1;
  }

  /** Rates are not consulted in a dry run: the target is where the request normally goes. */
  traverse(req: Request, t: Traversal): void {
    t.visit(this.target, req);
  }
}

export interface RateLimitRouteOptions {
  target: unknown;
  rates: Rates;
  fallback?: unknown;
}

const rate = (what: string): Record<string, unknown> => ({ type: 'number', minimum: 0, description: `${what} per second.` });
const burst = (what: string): Record<string, unknown> => ({ type: 'number', minimum: 0, description: `Bucket size for ${what} (default: the rate, at least 1).` });

export const rateLimitRouteFactory = defineRoute<RateLimitRouteOptions>({
  type: 'RateLimitRoute',
  description: 'Token-bucket limits per op class (gets, sets, deletes); over-limit requests go to fallback or get a busy error.',
  schema: {
    type: 'object',
    properties: {
      target: routeNodeSchema('Where requests under the limit go.'),
      rates: {
        type: 'object',
        description: 'Per-class token buckets. A class without a rate is not limited.',
        properties: {
          gets_rate: rate('Get-like requests'), gets_burst: burst('gets'),
          sets_rate: rate('Update-like requests'), sets_burst: burst('sets'),
          deletes_rate: rate('Delete requests'), deletes_burst: burst('deletes'),
        },
        additionalProperties: false,
      },
      fallback: routeNodeSchema('Where over-limit requests go. Without it they get SERVER_ERROR 307 busy.'),
    },
    required: ['target', 'rates'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ target: rest, rates: {} }),
  create(o, b, path) {
    const target = b.route(o.target, `${path}/target`);
    const fallback = o.fallback === undefined ? null : b.route(o.fallback, `${path}/fallback`);
    return new RateLimitRoute(target, rateBuckets(o.rates), fallback);
  },
});
