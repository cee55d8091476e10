/**
 * L1L2CacheRoute: a small fast tier (`l1`) in front of a big one (`l2`), as mcrouter's L1L2CacheRoute.
 *
 * Reads (`get`, `gets`, `gat`, `gats`): the request goes to L1. An L1 hit is the answer. Otherwise the same
 * request goes to L2 and L2's reply is the answer; on an L2 hit, L1 is refilled in the background
 * (`ctx.spawn(l1, add, 'refill')`) with the value's flags and the TTL `upgradingL1Exptime`, so the next read
 * is an L1 hit. (A gat/gats touches the key in L1, then, on an L1 miss, in L2; the refill always uses
 * upgradingL1Exptime.)
 * Negative caching, on when `ncacheUpdatePeriod` = N > 0 (mcrouter's switch; `ncacheExptime` alone turns
 * nothing on): on an L2 miss a sentinel ("ncache", client flag 0x10000) is added to L1 with TTL
 * `ncacheExptime` (0 = no expiry, as in mcrouter). An L1 hit whose flags carry 0x10000 always answers a miss
 * without asking L2. Every Nth such hit (one counter per route, across keys, starting at N) still answers a
 * miss, and also refreshes L1 in the background: the request goes to L2; on a hit the value replaces the
 * sentinel (`set`, upgradingL1Exptime), otherwise (a miss, or an error) the sentinel is set again with
 * ncacheExptime.
 * Sets, deletes, touch, arithmetic and every other op (mg/me included) go to L1 only (mcrouter's rule).
 * That rule leaves the L2 copy behind: a deleted key comes back from L2 on the next miss. `write_l2: true`
 * (mcrelay's option) sends the update, delete and arithmetic ops to L2 and L1 at once and replies with the
 * worse reply (AllSyncRoute), which is what most operators expect from a write-through tier pair.
 *
 * Replies when everything fails: L2's reply for reads that missed L1 (its error); L1's reply for writes
 * (or the worse of L1 and L2 with write_l2).
 * Limits: refills, sentinels and refreshes are background work, capped by the route context
 * (`refillDropped`). A refill is an `add`, so it never overwrites a newer value written meanwhile (but a
 * sentinel blocks it until the sentinel expires or the periodic refresh replaces it). Meta reads (mg, me)
 * are not tiered: their replies need not carry the value or the flags a refill and the sentinel check need.
 */
import { frozenReply, isMultiKeyGet, opGroup, Reply, type Op, type Request } from '../protocol/types.js';
import { storageRequest, valueOf } from '../protocol/rewrite.js';
import { routeAllSync } from './all-sync-route.js';
import { hitFlags } from './util/value-line.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** mcrouter's negative-cache flag (MC_MSG_FLAG_NEGATIVE_CACHE) on L1 sentinels. */
export const NCACHE_FLAG = 0x10000;
const NCACHE_VALUE = Buffer.from('ncache', 'latin1');
const MISS = frozenReply(new Reply('notfound'));

export interface L1L2Settings {
  readonly upgradingL1Exptime: number;
  readonly ncacheExptime: number;
  readonly ncacheUpdatePeriod: number;
  readonly writeL2: boolean;
}

/** The reads L1L2CacheRoute tiers (mcrouter's GetLike requests that ASCII clients send). */
function isTieredRead(op: Op): boolean {
  return isMultiKeyGet(op);
}

/** Client flags of a classic hit, read in place (every L1 hit is checked for the sentinel flag). */
export { hitFlags };

/**
 * The periodic negative-cache refresh, run in the background: the read goes to L2, then L1 gets the value
 * (`set`, upgradingL1Exptime) on a hit, or a renewed sentinel (`set`, ncacheExptime) otherwise.
 * One instance per L1L2CacheRoute; it is never part of the tree (traverse visits nothing).
 */
class NcacheRefresh implements RouteHandle {
  readonly type = 'L1L2CacheRoute';
  readonly name = 'L1L2CacheRoute:ncache-refresh';
  /** Not a handle in mcrouter's tree (its L1L2CacheRoute refreshes inline on a fiber). */
  readonly routeNames: readonly string[] = [];

  constructor(
    private readonly l1: RouteHandle,
    private readonly l2: RouteHandle,
    private readonly settings: L1L2Settings,
  ) {}

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.l2.route(req, ctx, (l2Reply) => {
      const v = valueOf(l2Reply);
      const update = v !== null
        ? storageRequest('set', req.key, v.flags, this.settings.upgradingL1Exptime, v.data)
        : storageRequest('set', req.key, NCACHE_FLAG, this.settings.ncacheExptime, NCACHE_VALUE);
      this.l1.route(update, ctx, done);
    });
  }

  traverse(_req: Request, _t: Traversal): void {}
}

export class L1L2CacheRoute implements RouteHandle {
  readonly type = 'L1L2CacheRoute';
  readonly name = 'L1L2CacheRoute';
  readonly routeNames: readonly string[] = ['l1l2-cache'];
  /** mcrouter's ncacheUpdateCounter_: sentinel hits left before the next background refresh. */
  private ncacheUpdateCounter: number;
  private readonly both: readonly RouteHandle[];
  private readonly refresh: NcacheRefresh;

  constructor(
    private readonly l1: RouteHandle,
    private readonly l2: RouteHandle,
    readonly settings: L1L2Settings,
  ) {
    this.both = [l2, l1];
    this.ncacheUpdateCounter = settings.ncacheUpdatePeriod;
    this.refresh = new NcacheRefresh(l1, l2, settings);
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (isTieredRead(req.op)) {
      this.routeRead(req, ctx, done);
      return;
    }
    const g = opGroup(req.op);
    if (this.settings.writeL2 && (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like')) {
      routeAllSync(this.both, req, ctx, done);
      return;
    }
    this.l1.route(req, ctx, done);
  }

  private routeRead(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.l1.route(req, ctx, (l1Reply) => {
      if (l1Reply.result === 'found') {
        const flags = hitFlags(l1Reply.raw);
        if (flags === -1 || (flags & NCACHE_FLAG) === 0) {
          done(l1Reply);
          return;
        }
        // A negative-cache sentinel: always a miss; every Nth one also refreshes L1 in the background.
        const period = this.settings.ncacheUpdatePeriod;
        if (period > 0) {
          if (this.ncacheUpdateCounter === 1) {
            this.ncacheUpdateCounter = period;
            ctx.spawn(this.refresh, req, 'refill');
          } else {
            this.ncacheUpdateCounter--;
          }
        }
        done(MISS);
        return;
      }
      this.l2.route(req, ctx, (l2Reply) => {
        if (l2Reply.result === 'found') {
          const v = valueOf(l2Reply);
          if (v !== null) ctx.spawn(this.l1, storageRequest('add', req.key, v.flags, this.settings.upgradingL1Exptime, v.data), 'refill');
        } else if (l2Reply.result === 'notfound' && this.settings.ncacheUpdatePeriod > 0) {
          ctx.spawn(this.l1, storageRequest('add', req.key, NCACHE_FLAG, this.settings.ncacheExptime, NCACHE_VALUE), 'refill');
        }
        done(l2Reply);
      });
    });
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.l1, req);
    const g = opGroup(req.op);
    if (isTieredRead(req.op) || (this.settings.writeL2 && (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like'))) t.visit(this.l2, req);
  }
}

export interface L1L2CacheRouteOptions {
  l1: unknown;
  l2: unknown;
  upgradingL1Exptime: number;
  ncacheExptime: number;
  ncacheUpdatePeriod: number;
  write_l2: boolean;
}

export const l1l2CacheRouteFactory = defineRoute<L1L2CacheRouteOptions>({
  type: 'L1L2CacheRoute',
  description: 'get/gets/gat/gats try L1, then L2 with an async L1 refill (negative caching with ncacheUpdatePeriod); writes go to L1 (or both with write_l2).',
  schema: {
    type: 'object',
    properties: {
      l1: routeNodeSchema('The fast, small tier; asked first, refilled on L2 hits.'),
      l2: routeNodeSchema('The big tier; asked on L1 misses.'),
      upgradingL1Exptime: { type: 'integer', minimum: 0, description: 'TTL in seconds of values copied from L2 into L1 (required; 0 = no expiry).' },
      ncacheExptime: { type: 'integer', minimum: 0, default: 0, description: 'TTL in seconds of the L1 negative-cache sentinel written on L2 misses (0 = no expiry). Only used with ncacheUpdatePeriod > 0.' },
      ncacheUpdatePeriod: { type: 'integer', minimum: 0, default: 0, description: 'Negative caching on when > 0 (mcrouter): L2 misses leave a sentinel in L1, sentinel hits answer a miss, and every Nth one also refreshes L1 from L2 in the background.' },
      write_l2: { type: 'boolean', default: false, description: 'mcrelay: send sets, deletes, touch and arithmetic to L2 as well as L1 (mcrouter sends them to L1 only).' },
    },
    required: ['l1', 'l2', 'upgradingL1Exptime'],
    additionalProperties: false,
  },
  create: (o, b, path) =>
    new L1L2CacheRoute(b.route(o.l1, `${path}/l1`), b.route(o.l2, `${path}/l2`), {
      upgradingL1Exptime: o.upgradingL1Exptime,
      ncacheExptime: o.ncacheExptime,
      ncacheUpdatePeriod: o.ncacheUpdatePeriod,
      writeL2: o.write_l2,
    }),
});
