/**
 * AllAsyncRoute: fires the request at every child as background work (`ctx.spawn(child, req, 'async')`)
 * and replies at once with NullRoute's default reply (get → miss, storage → NOT_STORED, other → NOT_FOUND).
 * The children's replies are discarded.
 *
 * Replies when everything fails: the same default reply; failures are invisible to the client.
 * Ops: all. With no children it is a NullRoute. Unlike mcrouter, one child is NOT collapsed into that
 * child: the client must still get the immediate default reply.
 * Limits: background work is capped by the route context; over the cap a copy is dropped and counted
 * (`asyncDropped`), so a child may miss an update under overload.
 */
import type { Request } from '../protocol/types.js';
import { childrenOnlySchema, traverseAll, type ChildrenOptions } from './all-sync-route.js';
import { defaultReply, NullRoute } from './null-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class AllAsyncRoute implements RouteHandle {
  readonly type = 'AllAsyncRoute';
  readonly name = 'AllAsyncRoute';
  readonly routeNames: readonly string[] = ['all-async'];

  constructor(readonly children: readonly RouteHandle[]) {}

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    for (const child of this.children) ctx.spawn(child, req, 'async');
    done(defaultReply(req.op));
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

export const allAsyncRouteFactory = defineRoute<ChildrenOptions>({
  type: 'AllAsyncRoute',
  description: 'Sends to all children in the background and replies at once with the NullRoute reply.',
  schema: childrenOnlySchema('The routes that get a background copy'),
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    return children.length === 0 ? new NullRoute() : new AllAsyncRoute(children);
  },
});
