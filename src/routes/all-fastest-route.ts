/**
 * AllFastestRoute: sends the request to every child at once and replies with the first non-error reply
 * (a miss counts as a non-error, as in mcrouter); the slower replies are discarded.
 *
 * Replies when everything fails: the last error to arrive.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits: every child does the work, so N children cost N times the upstream load.
 */
import { isError, type Request } from '../protocol/types.js';
import { buildMultiChild, childrenOnlySchema, traverseAll, type ChildrenOptions } from './all-sync-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class AllFastestRoute implements RouteHandle {
  readonly type = 'AllFastestRoute';
  readonly name = 'AllFastestRoute';
  readonly routeNames: readonly string[] = ['all-fastest'];

  constructor(readonly children: readonly RouteHandle[]) {
    if (children.length === 0) throw new Error('AllFastestRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    let pending = this.children.length;
    let finished = false;
    for (const child of this.children) {
      child.route(req, ctx, (r) => {
        pending--;
        if (finished) return;
        if (!isError(r) || pending === 0) {
          finished = true;
          done(r);
        }
      });
    }
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

export const allFastestRouteFactory = defineRoute<ChildrenOptions>({
  type: 'AllFastestRoute',
  description: 'Sends to all children; replies with the first non-error reply, or the last error if all fail.',
  schema: childrenOnlySchema('The routes that race'),
  create: (o, b, path) => buildMultiChild(o, b, path, (c) => new AllFastestRoute(c)),
});
