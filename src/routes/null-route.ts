/**
 * NullRoute: answers every request itself, immediately and synchronously, with the "nothing happened"
 * reply, and sends nothing anywhere.
 *
 * Replies (mcrouter's default reply): get-like ops → miss (`notfound`); storage updates (set, add, replace,
 * append, prepend, cas, ms) → `notstored`; delete, touch, arithmetic and everything else → `notfound`.
 * The reply has no upstream bytes (`raw` is null); the session renders it. It never fails.
 *
 * Ops: all. Limits: none; the replies are shared frozen instances, so routing allocates nothing.
 * Other routes reuse `defaultReply()` when they need NullRoute semantics (AllAsyncRoute, empty lists).
 */
import { frozenReply, hasValue, Reply, type Op, type Request } from '../protocol/types.js';
import { defineRoute } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

const NOT_FOUND = frozenReply(new Reply('notfound'));
const NOT_STORED = frozenReply(new Reply('notstored'));

/** mcrouter's default reply for `op`: NOT_STORED for storage updates (the ops with a value), NOT_FOUND (miss) otherwise. */
export function defaultReply(op: Op): Reply {
  return hasValue(op) ? NOT_STORED : NOT_FOUND;
}

export class NullRoute implements RouteHandle {
  readonly type = 'NullRoute';
  readonly name = 'NullRoute';
  readonly routeNames: readonly string[] = ['null'];

  route(req: Request, _ctx: RouteContext, done: ReplyCallback): void {
    done(defaultReply(req.op));
  }

  traverse(_req: Request, _t: Traversal): void {
    // A leaf with no destinations.
  }
}

export const nullRouteFactory = defineRoute<Record<string, never>>({
  type: 'NullRoute',
  description: 'Replies immediately with the default reply (miss, NOT_STORED or NOT_FOUND); sends nothing.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  fromString: () => ({}),
  create: () => new NullRoute(),
});
