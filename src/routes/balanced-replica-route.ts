/**
 * BalancedReplicaRoute (mcrelay's own, not an mcrouter route): a replicated pool where reads are spread
 * evenly by KEY instead of pinned by HOST (LatestRoute pins each client host to one replica).
 *
 * Reads (get-like ops) go to the key's home replica, chosen by Ch3 of the routing key (+ `salt`) over the
 * replicas, so every key has one stable home on every client host, and the read load splits evenly over
 * the replicas however many (or few) client hosts there are. On a failover error (see `failover_errors`)
 * the read moves on to the next replicas in ring order (home+1, home+2, ...), up to `failover_count` tries.
 * A miss is an answer, not an error: no failover on misses.
 * Writes, deletes and arithmetic go to every replica at once and reply like AllSyncRoute (the worst reply),
 * so replicas stay in step. Other ops (version, stats, ...) go to the key's home replica.
 *
 * Replies when everything fails: reads: the last tried replica's error; writes: the worst error.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits: a replica that was down misses the writes of its downtime (no repair); incr/decr results may
 * differ between replicas after such a gap. Compared with LatestRoute, each key's reads hit one replica
 * (better hit rate per replica, no per-host hot spot).
 */
import { opGroup, type Request } from '../protocol/types.js';
import { buildMultiChild, routeAllSync, traverseAll } from './all-sync-route.js';
import { createSelector, type Selector } from './hash/selector.js';
import { FAILOVER_ERRORS_SCHEMA, failoverErrorsFrom, type FailoverErrorsOption, type FailoverPredicate } from './latest-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import { Reply } from '../protocol/types.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class BalancedReplicaRoute implements RouteHandle {
  readonly type = 'BalancedReplicaRoute';
  readonly name = 'BalancedReplicaRoute';
  readonly routeNames: readonly string[] = ['balanced-replica'];
  private readonly tries: number;

  /**
   * @param selector supplies the key → home replica mapping (`selector.n === children.length`)
   * @param failoverCount supplies the max number of replicas a read tries (clamped to [1, n])
   */
  constructor(
    readonly children: readonly RouteHandle[],
    private readonly selector: Selector,
    failoverCount: number,
    private readonly shouldFailover: FailoverPredicate,
  ) {
    if (selector.n !== children.length) throw new Error('BalancedReplicaRoute: selector size differs from children');
    this.tries = Math.max(1, Math.min(failoverCount, children.length));
  }

  /** Index of the key's home replica. */
  home(req: Request): number {
    return this.selector.select(req.routingKey());
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const g = opGroup(req.op);
    if (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like') {
      routeAllSync(this.children, req, ctx, done);
      return;
    }
    const n = this.children.length;
    const home = this.home(req);
    if (g !== 'get_like' || this.tries === 1) {
      (this.children[home] as RouteHandle).route(req, ctx, done);
      return;
    }
    const step = (i: number): void => {
      (this.children[(home + i) % n] as RouteHandle).route(req, ctx, (r) => {
        if (i + 1 < this.tries && this.shouldFailover(req, r.result)) {
          if (i === 0) ctx.stats.failoverAll++;
          step(i + 1);
          return;
        }
        done(i === 0 ? r : new Reply(r.result, r.raw, r.message, true));
      });
    };
    step(0);
  }

  traverse(req: Request, t: Traversal): void {
    const g = opGroup(req.op);
    if (g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like') traverseAll(this.children, req, t);
    else t.visit(this.children[this.home(req)] as RouteHandle, req);
  }
}

export interface BalancedReplicaRouteOptions {
  children: unknown;
  failover_count?: number;
  failover_errors?: FailoverErrorsOption;
  salt: string;
}

export const balancedReplicaRouteFactory = defineRoute<BalancedReplicaRouteOptions>({
  type: 'BalancedReplicaRoute',
  description: 'Replicated pool: reads go to the key\'s home replica (Ch3 of the key) with failover to the next ones; writes and deletes go to all replicas.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The replicas: a list of routes, or "Pool|A" for one replica per server.'),
      failover_count: { type: 'integer', minimum: 1, description: 'Max replicas a read tries (default: all of them).' },
      failover_errors: FAILOVER_ERRORS_SCHEMA,
      salt: { type: 'string', default: '', description: 'Appended to the routing key before hashing (reshuffles the homes).' },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create: (o, b, path) =>
    buildMultiChild(o, b, path, (c) => {
      const spec = o.salt === '' ? { hashFunc: 'Ch3' as const } : { hashFunc: 'Ch3' as const, salt: o.salt };
      const selector = createSelector(spec, c.map((h) => ({ host: h.name, port: 0 })));
      return new BalancedReplicaRoute(c, selector, o.failover_count ?? c.length, failoverErrorsFrom(o.failover_errors));
    }),
});
