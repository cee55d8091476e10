/**
 * L1L2CacheRoute: a small fast tier (`l1`) in front of a big one (`l2`).
 *
 * `get`: ask L1. An L1 hit is the answer. Otherwise ask L2 and answer with L2's reply; on an L2 hit, L1 is
 * refilled in the background (`ctx.spawn(l1, add, 'refill')`) with the value's flags and the TTL
 * `upgradingL1Exptime`, so the next get is an L1 hit.
 * Negative caching (`ncacheExptime` > 0): on an L2 miss a sentinel (client flag 0x10000, mcrouter's
 * ncache flag) is added to L1 for `ncacheExptime` seconds; an L1 hit on a sentinel answers "miss" without
 * asking L2. With `ncacheUpdatePeriod` = N > 0, every Nth sentinel hit asks L2 again (and replaces the
 * sentinel by the value, or renews it).
 * Sets, deletes, touch, arithmetic and every other op go to L1 only (mcrouter's rule). That rule leaves the
 * L2 copy behind: a deleted key comes back from L2 on the next miss. `write_l2: true` (mcrelay's option)
 * sends those ops to L2 and L1 at once and replies with the worse reply (AllSyncRoute), which is what most
 * operators expect from a write-through tier pair.
 *
 * Replies when everything fails: L2's reply for gets that missed L1 (its error); L1's reply for writes
 * (or the worse of L1 and L2 with write_l2).
 * Ops: `get` is tiered; gets/gat/gats/mg/me go to L1 only (mcrouter: "doesn't work with lease get, gets
 * and metaget"), and see a sentinel as a value with flag 0x10000.
 * Limits: refills and sentinels are background work, capped by the route context (`refillDropped`).
 * A refill is an `add`, so it never overwrites a newer value written meanwhile (but a sentinel blocks it
 * until the sentinel expires, except on the ncacheUpdatePeriod refresh, which uses `set`).
 */
import { isHit, isMiss, opGroup, Reply, type Request } from '../protocol/types.js';
import { storageRequest, valueOf } from '../protocol/rewrite.js';
import { routeAllSync } from './all-sync-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** mcrouter's negative-cache flag on L1 sentinels. */
export const NCACHE_FLAG = 0x10000;
const NCACHE_VALUE = Buffer.from('ncache', 'latin1');
const MISS = Object.freeze(new Reply('notfound'));

export interface L1L2Settings {
  readonly upgradingL1Exptime: number;
  readonly ncacheExptime: number;
  readonly ncacheUpdatePeriod: number;
  readonly writeL2: boolean;
}

export class L1L2CacheRoute implements RouteHandle {
  readonly type = 'L1L2CacheRoute';
  readonly name = 'L1L2CacheRoute';
  private ncacheHits = 0;
  private readonly both: readonly RouteHandle[];

  constructor(
    private readonly l1: RouteHandle,
    private readonly l2: RouteHandle,
    readonly settings: L1L2Settings,
  ) {
    this.both = [l2, l1];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (req.op === 'get') {
      this.routeGet(req, ctx, done);
      return;
    }
    const g = opGroup(req.op);
    if (this.settings.writeL2 && (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like')) {
      routeAllSync(this.both, req, ctx, done);
      return;
    }
    this.l1.route(req, ctx, done);
  }

  private routeGet(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.l1.route(req, ctx, (l1Reply) => {
      let sentinel = false;
      if (isHit(l1Reply)) {
        const v = this.settings.ncacheExptime > 0 ? valueOf(l1Reply) : null;
        if (v === null || (v.flags & NCACHE_FLAG) === 0) {
          done(l1Reply);
          return;
        }
        // A negative-cache sentinel: a miss, unless this is the periodic refresh.
        const period = this.settings.ncacheUpdatePeriod;
        if (period <= 0 || ++this.ncacheHits < period) {
          done(MISS);
          return;
        }
        this.ncacheHits = 0;
        sentinel = true;
      }
      this.l2.route(req, ctx, (l2Reply) => {
        if (isHit(l2Reply)) {
          const v = valueOf(l2Reply);
          if (v !== null) {
            const op = sentinel ? 'set' : 'add';
            ctx.spawn(this.l1, storageRequest(op, req.key, v.flags, this.settings.upgradingL1Exptime, v.data), 'refill');
          }
        } else if (isMiss(l2Reply) && this.settings.ncacheExptime > 0) {
          const op = sentinel ? 'set' : 'add';
          ctx.spawn(this.l1, storageRequest(op, req.key, NCACHE_FLAG, this.settings.ncacheExptime, NCACHE_VALUE), 'refill');
        }
        done(l2Reply);
      });
    });
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.l1, req);
    const g = opGroup(req.op);
    if (req.op === 'get' || (this.settings.writeL2 && (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like'))) t.visit(this.l2, req);
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
  description: 'Gets try L1, then L2 with an async L1 refill (optional negative caching); writes go to L1 (or both with write_l2).',
  schema: {
    type: 'object',
    properties: {
      l1: routeNodeSchema('The fast, small tier; asked first, refilled on L2 hits.'),
      l2: routeNodeSchema('The big tier; asked on L1 misses.'),
      upgradingL1Exptime: { type: 'integer', minimum: 0, description: 'TTL in seconds of values copied from L2 into L1 (required; 0 = no expiry).' },
      ncacheExptime: { type: 'integer', minimum: 0, default: 0, description: 'TTL in seconds of the L1 negative-cache sentinel written on L2 misses (0 = no negative caching).' },
      ncacheUpdatePeriod: { type: 'integer', minimum: 0, default: 0, description: 'Every Nth sentinel hit asks L2 again (0 = never; the sentinel lives until ncacheExptime).' },
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
