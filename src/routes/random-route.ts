/**
 * RandomRoute: sends each request to one child picked uniformly at random (`Math.random`).
 *
 * Replies when everything fails: the chosen child's reply (its error); nothing is retried.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits: consecutive requests for one key may land on different children, so pair it with
 * replicated data (reads) or idempotent fan-out; `traverse` reports every child since any may be chosen.
 */
import type { Request } from '../protocol/types.js';
import { buildMultiChild, childrenOnlySchema, traverseAll, type ChildrenOptions } from './all-sync-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class RandomRoute implements RouteHandle {
  readonly type = 'RandomRoute';
  readonly name = 'RandomRoute';
  readonly routeNames: readonly string[] = ['random'];

  /** @param random supplies a number in [0, 1) (tests inject a fixed sequence) */
  constructor(
    readonly children: readonly RouteHandle[],
    private readonly random: () => number = Math.random,
  ) {
    if (children.length === 0) throw new Error('RandomRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const n = this.children.length;
    const i = Math.min(n - 1, Math.floor(this.random() * n));
    (this.children[i] as RouteHandle).route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

export const randomRouteFactory = defineRoute<ChildrenOptions>({
  type: 'RandomRoute',
  description: 'Sends each request to one child chosen uniformly at random.',
  schema: childrenOnlySchema('The routes to choose from'),
  create: (o, b, path) => buildMultiChild(o, b, path, (c) => new RandomRoute(c)),
});
