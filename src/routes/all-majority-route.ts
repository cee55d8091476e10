/**
 * AllMajorityRoute: sends the request to every child at once and replies as soon as one result has been
 * seen ⌊n/2⌋+1 times (with the reply that completed the majority). If no result reaches a majority, it
 * waits for all replies and returns the most common result; ties go to the worse result by
 * `resultSeverity`. Later replies are discarded.
 *
 * Replies when everything fails: the majority error, or the worst of the most common errors.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits: unlike mcrouter's wiki wording (a *non-error* result must reach the majority), an error result
 * reaching the majority also ends the wait early; with 3 children and 2 timeouts the outcome is the
 * same either way (timeout), just sooner.
 *
 * `routeAllMajority` is exported for AzAffinityRoute's `write_policy: majority`.
 */
import { resultSeverity, type Reply, type Request, type Result } from '../protocol/types.js';
import { buildMultiChild, childrenOnlySchema, traverseAll, type ChildrenOptions } from './all-sync-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export function routeAllMajority(children: readonly RouteHandle[], req: Request, ctx: RouteContext, done: ReplyCallback): void {
  const n = children.length;
  const majority = Math.floor(n / 2) + 1;
  const counts = new Map<Result, { count: number; reply: Reply }>();
  let pending = n;
  let finished = false;
  for (const child of children) {
    child.route(req, ctx, (r) => {
      pending--;
      if (finished) return;
      const entry = counts.get(r.result);
      const count = (entry?.count ?? 0) + 1;
      counts.set(r.result, { count, reply: entry?.reply ?? r });
      if (count >= majority) {
        finished = true;
        done(r);
        return;
      }
      if (pending === 0) {
        finished = true;
        let best: { count: number; reply: Reply } | null = null;
        for (const e of counts.values()) {
          if (best === null || e.count > best.count || (e.count === best.count && resultSeverity(e.reply.result) > resultSeverity(best.reply.result))) best = e;
        }
        done((best as { reply: Reply }).reply);
      }
    });
  }
}

export class AllMajorityRoute implements RouteHandle {
  readonly type = 'AllMajorityRoute';
  readonly name = 'AllMajorityRoute';
  readonly routeNames: readonly string[] = ['all-majority'];

  constructor(readonly children: readonly RouteHandle[]) {
    if (children.length === 0) throw new Error('AllMajorityRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    routeAllMajority(this.children, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    traverseAll(this.children, req, t);
  }
}

export const allMajorityRouteFactory = defineRoute<ChildrenOptions>({
  type: 'AllMajorityRoute',
  description: 'Sends to all children; replies once one result is seen floor(n/2)+1 times (else the most common, ties to the worse).',
  schema: childrenOnlySchema('The routes that vote'),
  create: (o, b, path) => buildMultiChild(o, b, path, (c) => new AllMajorityRoute(c)),
});
