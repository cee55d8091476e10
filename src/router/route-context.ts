/**
 * What routes see of the router while they run: counters, the log, the host id, and `spawn` for
 * background work, capped per kind so shadows cannot starve refills and the reverse.
 */
import type { Logger } from 'pino';
import type { Request } from '../protocol/types.js';
import type { RouteContext, RouteHandle, RouteStats, SpawnKind } from '../routes/route-handle.js';
import { markReplyUnread } from '../upstream/destination.js';

/** The route context: bounded fire-and-forget work (shadows, async replicas, L1 refills), per kind. */
export class RouterRouteContext implements RouteContext {
  readonly shadowContext: RouteContext;
  /** Outstanding background work per kind, so shadows cannot starve refills and the reverse. */
  private readonly outstanding: Record<SpawnKind, number>;
  /** Each kind's completion: it only counts, so it is marked as reading no reply bytes. */
  private readonly finished: Record<SpawnKind, () => void>;

  constructor(
    readonly shadow: boolean,
    readonly stats: RouteStats,
    readonly log: Logger,
    readonly hostId: number,
    private readonly limits: { maxShadow: number; maxAsync: number },
    parent: RouterRouteContext | null,
  ) {
    // The shadow context shares its parent's counters: one cap for the whole proxy.
    this.outstanding = parent !== null ? parent.outstanding : { shadow: 0, async: 0, refill: 0 };
    this.shadowContext = shadow ? this : parent ?? new RouterRouteContext(true, stats, log, hostId, limits, this);
    const o = this.outstanding;
    this.finished = {
      shadow: markReplyUnread(() => void o.shadow--),
      async: markReplyUnread(() => void o.async--),
      refill: markReplyUnread(() => void o.refill--),
    };
  }

  spawn(handle: RouteHandle, req: Request, kind: SpawnKind): boolean {
    const cap = kind === 'shadow' ? this.limits.maxShadow : this.limits.maxAsync;
    const outstanding = this.outstanding;
    if (outstanding[kind] >= cap) {
      if (kind === 'shadow') this.stats.shadowDropped++;
      else if (kind === 'refill') this.stats.refillDropped++;
      else this.stats.asyncDropped++;
      return false;
    }
    if (kind === 'shadow') this.stats.shadowSent++;
    else if (kind === 'async') this.stats.asyncSent++;
    outstanding[kind]++;
    const ctx = kind === 'shadow' ? this.shadowContext : this;
    try {
      handle.route(req, ctx, this.finished[kind]);
    } catch (err) {
      outstanding[kind]--;
      this.log.error({ err }, 'background route failed');
    }
    return true;
  }
}
