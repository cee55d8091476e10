/**
 * ModifyExptimeRoute: sends every request to `target`, after rewriting the exptime of ops that carry one
 * (set, add, replace, append, prepend, cas, touch, gat, gats, ms, and mg/ma with a `T` flag).
 *
 *   action "set": the exptime becomes `exptime`.
 *   action "min": the exptime becomes the shorter of the two, where 0 means "never expires" (so a request
 *                 with 0 gets `exptime`, and `exptime: 0` changes nothing). A request exptime over 30 days is
 *                 a unix timestamp in memcached; it is compared as the seconds left from now.
 *
 * Deletes, get/gets, incr/decr and everything else pass through unchanged (mcrouter: not for deletes).
 * When everything fails: the target's reply, whatever it is; this route adds no failure of its own.
 * Only the command line is rebuilt; the value bytes are shared (protocol/rewrite.ts).
 */
import { carriesExptime, withExptime } from '../protocol/rewrite.js';
import type { Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** memcached: an exptime above this many seconds is an absolute unix time. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

export type ExptimeAction = 'set' | 'min';

/** The exptime `action` gives for a request's `current` exptime (seconds; `nowSeconds` for absolute ones). */
export function modifiedExptime(current: number, exptime: number, action: ExptimeAction, nowSeconds: number): number {
  if (action === 'set') return exptime;
  if (exptime === 0) return current;
  if (current === 0) return exptime;
  const left = current > MAX_RELATIVE_EXPTIME ? current - nowSeconds : current;
  // A negative or past exptime already means "expired now": that is the minimum.
  return left < exptime ? current : exptime;
}

export class ModifyExptimeRoute implements RouteHandle {
  readonly type = 'ModifyExptimeRoute';
  readonly name: string;
  /** mcrouter's `modify-exptime|<action>|exptime=N`; none for "min" with 0 (mcrouter returns the target). */
  readonly routeNames: readonly string[];

  /**
   * @param target supplies where every request goes
   * @param exptime supplies the new exptime (set) or the cap (min), in seconds
   * @param now supplies unix time in seconds (for absolute exptimes)
   */
  constructor(
    readonly target: RouteHandle,
    readonly exptime: number,
    readonly action: ExptimeAction = 'set',
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    this.name = `ModifyExptimeRoute|${action}:${exptime}`;
    this.routeNames = action === 'min' && exptime === 0 ? [] : [`modify-exptime|${action}|exptime=${exptime}`];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.target.route(this.rewrite(req), ctx, done);
  }

  /** The request as the target will see it. */
  rewrite(req: Request): Request {
    if (!carriesExptime(req.op) && req.op !== 'mg' && req.op !== 'ma') return req;
    const abs = this.action === 'min' && req.exptime > MAX_RELATIVE_EXPTIME;
    const next = modifiedExptime(req.exptime, this.exptime, this.action, abs ? Math.floor(this.now()) : 0);
    if (next === req.exptime) return req;
    return withExptime(req, next);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.target, req);
  }
}

export interface ModifyExptimeRouteOptions {
  target: unknown;
  exptime: number;
  action: ExptimeAction;
}

export const modifyExptimeRouteFactory = defineRoute<ModifyExptimeRouteOptions>({
  type: 'ModifyExptimeRoute',
  description: 'Overrides (set) or caps (min) the exptime of updates, touches and gat before sending them to target.',
  schema: {
    type: 'object',
    properties: {
      target: routeNodeSchema('Where every request goes.'),
      exptime: { type: 'integer', description: 'New exptime (set) or the cap (min), in seconds; with min, 0 = no cap.' },
      action: { type: 'string', enum: ['set', 'min'], default: 'set', description: '"set" replaces the exptime; "min" keeps the shorter (0 = infinite).' },
    },
    required: ['target', 'exptime'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ target: rest }),
  create: (o, b, path) => new ModifyExptimeRoute(b.route(o.target, `${path}/target`), o.exptime, o.action),
});
