/**
 * MigrateRoute: moves a key space from the `from` route to the `to` route gradually, starting at
 * `start_time` (unix seconds), without a thundering herd of misses.
 *
 *   deletes:     before start → `from`; during [start, start + 2·interval) → both in parallel, answering the
 *                worst reply by severity (so a delete only succeeds when both sides took it); after → `to`.
 *   other ops:   `from` until the key's own switch time, then `to`. The switch time is
 *                start + interval + (spooky32(routingKey, seed 0) % interval): keys move one by one across
 *                the second interval, after every delete of the first interval already reached `to`.
 *
 * When everything fails: the chosen route's reply (for dual deletes, the worse of the two).
 * Ops: all. The clock is injectable (`now`, unix seconds) so tests can walk through the phases.
 * Matches mcrouter's MigrateRoute semantics (spooky32 seed 0 on the routing key).
 */
import type { Request } from '../protocol/types.js';
import { spooky32 } from './hash/selector.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { routeToAllWorst } from './util/worst-reply.js';

export type UnixClock = () => number;
const wallClock: UnixClock = () => Date.now() / 1000;

export class MigrateRoute implements RouteHandle {
  readonly type = 'MigrateRoute';
  readonly name = 'MigrateRoute';
  readonly routeNames: readonly string[] = ['migrate'];
  private readonly both: readonly RouteHandle[];
  private readonly fromOnly: readonly RouteHandle[];
  private readonly toOnly: readonly RouteHandle[];

  /**
   * @param startTime supplies the migration start, unix seconds
   * @param interval supplies the phase length in seconds (> 0)
   * @param now supplies the current unix time in seconds
   */
  constructor(
    readonly from: RouteHandle,
    readonly to: RouteHandle,
    readonly startTime: number,
    readonly interval: number,
    private readonly now: UnixClock = wallClock,
  ) {
    if (!(interval > 0)) throw new Error('MigrateRoute: interval must be positive');
    this.both = Object.freeze([from, to]);
    this.fromOnly = Object.freeze([from]);
    this.toOnly = Object.freeze([to]);
  }

  /** The routes `req` goes to at time `t` (one, or both for a delete mid-migration). */
  targets(req: Request, t: number): readonly RouteHandle[] {
    const start = this.startTime;
    if (t < start) return this.fromOnly;
    if (req.op === 'delete' || req.op === 'md') {
      return t < start + 2 * this.interval ? this.both : this.toOnly;
    }
    if (t >= start + 2 * this.interval) return this.toOnly;
    if (t < start + this.interval) return this.fromOnly;
    const switchAt = start + this.interval + (spooky32(req.routingKey(), 0) % this.interval);
    return t < switchAt ? this.fromOnly : this.toOnly;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const targets = this.targets(req, this.now());
    if (targets.length === 1) (targets[0] as RouteHandle).route(req, ctx, done);
    else routeToAllWorst(targets, req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    for (const h of this.targets(req, this.now())) t.visit(h, req);
  }
}

export interface MigrateRouteOptions {
  from: unknown;
  to: unknown;
  start_time: number;
  interval: number;
}

export const migrateRouteFactory = defineRoute<MigrateRouteOptions>({
  type: 'MigrateRoute',
  description: 'Moves keys from "from" to "to" starting at start_time: deletes go to both for 2·interval, other ops switch per key.',
  schema: {
    type: 'object',
    properties: {
      from: routeNodeSchema('The route keys live in before the migration.'),
      to: routeNodeSchema('The route keys live in after the migration.'),
      start_time: { type: 'integer', minimum: 0, description: 'Migration start, unix time in seconds.' },
      interval: { type: 'integer', minimum: 1, default: 3600, description: 'Phase length in seconds: deletes go to both routes for 2·interval; keys switch during the second interval.' },
    },
    required: ['from', 'to', 'start_time'],
    additionalProperties: false,
  },
  create: (o, b, path) => new MigrateRoute(b.route(o.from, `${path}/from`), b.route(o.to, `${path}/to`), o.start_time, o.interval),
});
