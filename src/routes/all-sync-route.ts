/**
 * AllSyncRoute: sends the same request to every child at once (in the same turn, so multi-get batching in
 * the connection layer is kept), waits for all of them, and replies with the worst reply by mcrouter's
 * `resultSeverity` (an error beats a miss/NOT_STORED, which beats a success). Among equally bad replies
 * the first child's (in list order of arrival) is kept.
 *
 * Replies when everything fails: the most severe error (e.g. `local_error` over `timeout`).
 * Ops: all. With no children the route is a NullRoute; with one child it is that child (mcrouter).
 * Limits: the reply waits for the slowest child; a hung child delays the client until its upstream timeout.
 *
 * `routeAllSync` is exported for routes that use the same write policy (BalancedReplicaRoute, AzAffinityRoute).
 */
import { resultSeverity, type Reply, type Request } from '../protocol/types.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema, type RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** The worse of two replies by severity; `a` wins ties. */
export function worseReply(a: Reply, b: Reply): Reply {
  return resultSeverity(b.result) > resultSeverity(a.result) ? b : a;
}

/** Send `req` to every child now; call `done` once with the worst reply after all replied. */
export function routeAllSync(children: readonly RouteHandle[], req: Request, ctx: RouteContext, done: ReplyCallback): void {
  let pending = children.length;
  let worst: Reply | null = null;
  for (const child of children) {
    child.route(req, ctx, (r) => {
      worst = worst === null ? r : worseReply(worst, r);
      if (--pending === 0) done(worst);
    });
  }
}

/** Visit every child (for the routes that send to all of them). */
export function traverseAll(children: readonly RouteHandle[], req: Request, t: Traversal): void {
  for (const c of children) t.visit(c, req);
}

export class AllSyncRoute implements RouteHandle {
  readonly type = 'AllSyncRoute';
  readonly name = 'AllSyncRoute';
  readonly routeNames: readonly string[] = ['all-sync'];

  /** @param children supplies at least two targets (the factory collapses smaller lists) */
  constructor(readonly children: readonly RouteHandle[]) {
    if (children.length === 0) throw new Error('AllSyncRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    routeAllSync(this.children, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

/** Options of the routes whose only option is `children`. */
export interface ChildrenOptions {
  children: unknown;
}

/** Schema of a route whose only option is `children`. */
export function childrenOnlySchema(what: string): Record<string, unknown> {
  return {
    type: 'object',
    properties: { children: routeNodeSchema(`${what}: a list of routes, a single route, or "Pool|A".`) },
    required: ['children'],
    additionalProperties: false,
  };
}

/**
 * Build `children`, with mcrouter's collapsing: none → NullRoute, one → that child, else `make(children)`.
 */
export function buildMultiChild(o: ChildrenOptions, b: RouteBuilder, path: string, make: (children: RouteHandle[]) => RouteHandle): RouteHandle {
  const children = b.routeList(o.children, `${path}/children`);
  if (children.length === 0) return new NullRoute();
  if (children.length === 1) return children[0] as RouteHandle;
  return make(children);
}

export const allSyncRouteFactory = defineRoute<ChildrenOptions>({
  type: 'AllSyncRoute',
  description: 'Sends to all children in parallel, waits for all, and replies with the worst reply (by result severity).',
  schema: childrenOnlySchema('The routes that all get the request'),
  create: (o, b, path) => buildMultiChild(o, b, path, (c) => new AllSyncRoute(c)),
});
