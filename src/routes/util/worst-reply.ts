/**
 * Send one request (or one per child) to several children at once and answer with the worst reply by
 * mcrouter's result severity (AllSync semantics; ties keep the earlier child's reply). Used by MigrateRoute
 * deletes and KeySplitRoute's all-replica writes. Every child is called synchronously, in order, so
 * multi-get batching upstream is unaffected.
 */
import { resultSeverity, type Reply, type Request } from '../../protocol/types.js';
import type { ReplyCallback, RouteContext, RouteHandle } from '../route-handle.js';

/**
 * @param children supplies the targets (at least one)
 * @param reqs supplies the request for each child (same length), or one request for all
 */
export function routeToAllWorst(
  children: readonly RouteHandle[],
  reqs: Request | readonly Request[],
  ctx: RouteContext,
  done: ReplyCallback,
): void {
  const n = children.length;
  const replies: (Reply | undefined)[] = new Array<Reply | undefined>(n);
  let pending = n;
  for (let i = 0; i < n; i++) {
    const req = Array.isArray(reqs) ? (reqs as readonly Request[])[i] : (reqs as Request);
    (children[i] as RouteHandle).route(req as Request, ctx, (r) => {
      replies[i] = r;
      if (--pending === 0) done(worstOf(replies));
    });
  }
}

/** The reply with the highest severity; the earliest wins ties. */
export function worstOf(replies: readonly (Reply | undefined)[]): Reply {
  let worst: Reply | undefined;
  for (const r of replies) {
    if (r !== undefined && (worst === undefined || resultSeverity(r.result) > resultSeverity(worst.result))) worst = r;
  }
  if (worst === undefined) throw new Error('worstOf: no replies');
  return worst;
}
