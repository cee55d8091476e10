/**
 * DevNullRoute: NullRoute that also counts what it swallows. Sends nothing; replies exactly like
 * NullRoute (get-like → miss, storage updates → `notstored`, everything else → `notfound`) and increments
 * `ctx.stats.devNullRequests` (mcrouter's `dev_null_requests` stat) once per request.
 *
 * Ops: all. Limits: none. Typical use: the target of a shadow or of a decommissioned prefix, so the
 * traffic still shows up in stats.
 */
import type { Request } from '../protocol/types.js';
import { defaultReply } from './null-route.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class DevNullRoute implements RouteHandle {
  readonly type = 'DevNullRoute';
  readonly name = 'DevNullRoute';
  readonly routeNames: readonly string[] = ['devnull'];

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    ctx.stats.devNullRequests++;
    done(defaultReply(req.op));
  }

  traverse(_req: Request, _t: Traversal): void {
    // A leaf with no destinations.
  }
}

export const devNullRouteFactory = defineRoute<Record<string, never>>({
  type: 'DevNullRoute',
  description: 'Like NullRoute, and counts each request in the dev_null_requests stat.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  fromString: () => ({}),
  create: () => new DevNullRoute(),
});
