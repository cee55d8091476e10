/**
 * MissFailoverRoute: for get-like ops (get, gets, gat, gats, mg, me) and delete-like ops (delete, md), tries
 * the children one after another until one *hits* (a get finds the item; a delete deletes it). Errors and
 * misses both move on to the next child. Every other op goes to `children[0]` only.
 *
 * When everything fails (no child hit): the last child's reply; with `return_best_on_error`, the best reply
 * seen instead, by mcrouter's severity (a miss beats an error; among equals the earliest child's wins).
 *
 * Ops: as above. The first child is called synchronously (multi-get batching is kept); later tries start
 * from the previous reply's callback. Replies from children after the first carry `isFailover`.
 */
import { opGroup, resultSeverity, type Reply, type Request } from '../protocol/types.js';
import { asFailoverReply } from './failover-route.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** mcrouter's hit: the item was found (get) or deleted (delete). */
function isHitReply(r: Reply): boolean {
  return r.result === 'found' || r.result === 'deleted';
}

export class MissFailoverRoute implements RouteHandle {
  readonly type = 'MissFailoverRoute';
  readonly name = 'MissFailoverRoute';
  /** mcrouter builds no MissFailoverRoute over one child: the child stands in its place. */
  readonly routeNames: readonly string[];

  constructor(
    readonly children: readonly RouteHandle[],
    readonly returnBestOnError: boolean = false,
  ) {
    if (children.length === 0) throw new Error('MissFailoverRoute: children must be non-empty');
    this.routeNames = children.length === 1 ? [] : ['miss-failover'];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const g = opGroup(req.op);
    const first = this.children[0] as RouteHandle;
    if ((g !== 'get_like' && g !== 'delete_like') || this.children.length === 1) {
      first.route(req, ctx, done);
      return;
    }
    const children = this.children;
    const bestMode = this.returnBestOnError;
    let i = 0;
    let best: Reply | null = null;
    let bestIndex = 0;
    const onReply = (reply: Reply): void => {
      if (isHitReply(reply)) {
        done(i === 0 ? reply : asFailoverReply(reply));
        return;
      }
      if (best === null || resultSeverity(reply.result) < resultSeverity(best.result)) {
        best = reply;
        bestIndex = i;
      }
      if (i === children.length - 1) {
        if (bestMode && bestIndex === 0) done(best);
        else done(asFailoverReply(bestMode ? best : reply));
        return;
      }
      i++;
      (children[i] as RouteHandle).route(req, ctx, onReply);
    };
    first.route(req, ctx, onReply);
  }

  traverse(req: Request, t: Traversal): void {
    const g = opGroup(req.op);
    if (g === 'get_like' || g === 'delete_like') {
      for (const c of this.children) t.visit(c, req);
    } else {
      t.visit(this.children[0] as RouteHandle, req);
    }
  }
}

export interface MissFailoverRouteOptions {
  children: unknown;
  return_best_on_error: boolean;
}

export const missFailoverRouteFactory = defineRoute<MissFailoverRouteOptions>({
  type: 'MissFailoverRoute',
  description: 'Gets and deletes try children in order until the first hit; other ops go to the first child.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The targets, in order: a list, a single route, or "Pool|A".'),
      return_best_on_error: { type: 'boolean', default: false, description: 'With no hit, return the best reply (a miss beats an error) instead of the last.' },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    if (children.length === 0) return new NullRoute();
    return new MissFailoverRoute(children, o.return_best_on_error);
  },
});
