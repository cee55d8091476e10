/**
 * AllInitialRoute: sends the request to every child; the client gets the reply of `children[0]`, and the
 * other children run as background work (`ctx.spawn(child, req, 'async')`) whose replies are discarded.
 *
 * Replies when everything fails: whatever `children[0]` replied (its error).
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits: background copies are capped by the route context (`asyncDropped` counts drops).
 *
 * `routeAllInitial` is exported for AzAffinityRoute's `write_policy: local`.
 */
import type { Request } from '../protocol/types.js';
import { buildMultiChild, childrenOnlySchema, traverseAll, type ChildrenOptions } from './all-sync-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** Reply from `children[0]`; the others get background copies. All are started in this turn. */
export function routeAllInitial(children: readonly RouteHandle[], req: Request, ctx: RouteContext, done: ReplyCallback): void {
  const first = children[0];
  if (first === undefined) throw new Error('routeAllInitial: no children');
  first.route(req, ctx, done);
  for (let i = 1; i < children.length; i++) ctx.spawn(children[i] as RouteHandle, req, 'async');
}

export class AllInitialRoute implements RouteHandle {
  readonly type = 'AllInitialRoute';
  readonly name = 'AllInitialRoute';
  readonly routeNames: readonly string[] = ['all-initial'];

  constructor(readonly children: readonly RouteHandle[]) {
    if (children.length === 0) throw new Error('AllInitialRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    routeAllInitial(this.children, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

export const allInitialRouteFactory = defineRoute<ChildrenOptions>({
  type: 'AllInitialRoute',
  description: 'Sends to all children; replies with the first child\'s reply while the rest finish in the background.',
  schema: childrenOnlySchema('The routes that get the request; the first one answers'),
  create: (o, b, path) => buildMultiChild(o, b, path, (c) => new AllInitialRoute(c)),
});
