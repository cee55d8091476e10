/**
 * LatencyInjectionRoute: a test helper that slows a route down. Sends every request to `child`:
 *
 *   before_latency_ms  wait this long before sending the request;
 *   after_latency_ms   wait this long after the reply before passing it on;
 *   total_latency_ms   make the whole request take at least this long (measured from arrival): the reply is
 *                      held until then if it came back sooner.
 *
 * All default to 0, and with 0 no timer is used: the child is called synchronously, so multi-get batching is
 * unaffected unless latency is actually injected (a delayed request joins whatever upstream batch is open
 * when its timer fires).
 * When everything fails: the child's reply, delayed. Ops: all. Not meant for production traffic.
 */
import type { Reply, Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export interface Latencies {
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly totalMs: number;
}

export class LatencyInjectionRoute implements RouteHandle {
  readonly type = 'LatencyInjectionRoute';
  readonly name = 'LatencyInjectionRoute';
  /** mcrouter's name; none when nothing is injected (mcrouter then returns the child itself). */
  readonly routeNames: readonly string[];

  constructor(
    readonly child: RouteHandle,
    readonly latency: Latencies,
  ) {
    const { beforeMs, afterMs, totalMs } = latency;
    this.routeNames = beforeMs === 0 && afterMs === 0 && totalMs === 0
      ? []
      : [`latency-injection|before:${beforeMs}ms|after:${afterMs}ms|total:${totalMs}ms|request_payload:false|max_request_latency_us:0`];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const { beforeMs, afterMs, totalMs } = this.latency;
    if (beforeMs === 0 && afterMs === 0 && totalMs === 0) {
      this.child.route(req, ctx, done);
      return;
    }
    const started = performance.now();
    const onReply = (reply: Reply): void => {
      let wait = afterMs;
      if (totalMs > 0) wait = Math.max(wait, totalMs - (performance.now() - started));
      if (wait > 0) setTimeout(done, wait, reply);
      else done(reply);
    };
    if (beforeMs > 0) setTimeout(() => this.child.route(req, ctx, onReply), beforeMs);
    else this.child.route(req, ctx, onReply);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.child, req);
  }
}

export interface LatencyInjectionRouteOptions {
  child: unknown;
  before_latency_ms: number;
  after_latency_ms: number;
  total_latency_ms: number;
}

const ms = (d: string): Record<string, unknown> => ({ type: 'integer', minimum: 0, default: 0, description: d });

export const latencyInjectionRouteFactory = defineRoute<LatencyInjectionRouteOptions>({
  type: 'LatencyInjectionRoute',
  description: 'Test helper: delays requests before and/or after the child, or to a minimum total latency.',
  schema: {
    type: 'object',
    properties: {
      child: routeNodeSchema('Where every request goes.'),
      before_latency_ms: ms('Delay before sending the request to the child.'),
      after_latency_ms: ms('Delay after the child replied.'),
      total_latency_ms: ms('Minimum total time from arrival to reply.'),
    },
    required: ['child'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ child: rest }),
  create: (o, b, path) => new LatencyInjectionRoute(b.route(o.child, `${path}/child`), {
    beforeMs: o.before_latency_ms,
    afterMs: o.after_latency_ms,
    totalMs: o.total_latency_ms,
  }),
});
