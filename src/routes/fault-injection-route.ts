/**
 * FaultInjectionRoute: a drill tool. Sends requests to `target`, except that some of them fail on purpose:
 *
 *   down: true         every request fails with `down_result` (default connect_error), nothing is sent;
 *   downtime windows   the same, but only inside `[start_ms, start_ms + duration_ms)` after the config was
 *                      loaded, repeating every `every_ms` when given;
 *   error_rate         otherwise, this fraction (0..1) of requests fail with `error_result` (default timeout)
 *                      without being sent; the draws come from a PRNG seeded with `seed`, so a given config
 *                      fails the same requests every run (tests are deterministic);
 *   latency_ms         requests that are sent wait this long first.
 *
 * `ops` limits the faults to some op groups (get_like, update_like, delete_like, arithmetic_like, other);
 * other requests pass straight through.
 *
 * Meant for shadow traffic and resilience drills (wrap a shadow target, or one child of a FailoverRoute,
 * to prove the failover path works) — never for a production route's only path.
 * When everything fails: the injected error, or the target's reply. With all faults off and latency 0 the
 * target is called synchronously (multi-get batching is kept).
 */
import { frozenReply, errorReply, OP_GROUPS, opGroup, type OpGroup, type Reply, type Request, type Result } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { FAILOVER_ERROR_NAMES } from './util/failover-errors.js';
import { SeededRandom } from './util/seeded-random.js';

export interface DowntimeWindow {
  readonly startMs: number;
  readonly durationMs: number;
  /** Repeat period, or 0 for a one-off window. */
  readonly everyMs: number;
}

export interface FaultSettings {
  readonly errorRate: number;
  readonly errorResult: Result;
  readonly down: boolean;
  readonly downResult: Result;
  readonly downtime: readonly DowntimeWindow[];
  readonly latencyMs: number;
  readonly seed: number;
  /** Op groups the faults apply to, or null for all. */
  readonly ops: ReadonlySet<OpGroup> | null;
}

function resultName(n: string): Result {
  return (n.startsWith('mc_res_') ? n.slice('mc_res_'.length) : n) as Result;
}

export class FaultInjectionRoute implements RouteHandle {
  readonly type = 'FaultInjectionRoute';
  readonly name = 'FaultInjectionRoute';
  readonly routeNames: readonly string[] = ['fault-injection'];
  private readonly random: SeededRandom;
  private readonly startedAt: number;
  private readonly errorReply: Reply;
  private readonly downReply: Reply;

  /**
   * @param now supplies a monotonic clock in ms; windows are measured from construction
   */
  constructor(
    readonly target: RouteHandle,
    readonly settings: FaultSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.random = new SeededRandom(settings.seed);
    this.startedAt = now();
    this.errorReply = frozenReply(errorReply(settings.errorResult, 'FaultInjectionRoute: injected error'));
    this.downReply = frozenReply(errorReply(settings.downResult, 'FaultInjectionRoute: injected downtime'));
  }

  /** True while a downtime window (or `down`) is in effect. */
  isDown(): boolean {
    if (this.settings.down) return true;
    const ws = this.settings.downtime;
    if (ws.length === 0) return false;
    const t = this.now() - this.startedAt;
    for (const w of ws) {
      let rel = t - w.startMs;
      if (rel < 0) continue;
      if (w.everyMs > 0) rel %= w.everyMs;
      if (rel < w.durationMs) return true;
    }
    return false;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const s = this.settings;
    if (s.ops === null || s.ops.has(opGroup(req.op))) {
      if (this.isDown()) {
        done(this.downReply);
        return;
      }
      if (s.errorRate > 0 && this.random.next() < s.errorRate) {
        done(this.errorReply);
        return;
      }
      if (s.latencyMs > 0) {
        setTimeout(() => this.target.route(req, ctx, done), s.latencyMs);
        return;
      }
    }
    this.target.route(req, ctx, done);
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.target, req);
  }
}

export interface FaultInjectionRouteOptions {
  target: unknown;
  error_rate: number;
  error_result: string;
  down: boolean;
  down_result: string;
  downtime: { start_ms: number; duration_ms: number; every_ms: number }[];
  latency_ms: number;
  seed: number;
  ops?: OpGroup[];
}

export const faultInjectionRouteFactory = defineRoute<FaultInjectionRouteOptions>({
  type: 'FaultInjectionRoute',
  description: 'Drill tool: fails a seeded fraction of requests, or all during downtime windows, and can add latency.',
  schema: {
    type: 'object',
    properties: {
      target: routeNodeSchema('Where requests that are not failed go.'),
      error_rate: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Fraction of requests (0..1) answered with error_result without being sent.' },
      error_result: { type: 'string', enum: [...FAILOVER_ERROR_NAMES], default: 'timeout', description: 'Result of injected errors (timeout, connect_error, tko, busy, ...).' },
      down: { type: 'boolean', default: false, description: 'Fail every request with down_result.' },
      down_result: { type: 'string', enum: [...FAILOVER_ERROR_NAMES], default: 'connect_error', description: 'Result while down.' },
      downtime: {
        type: 'array',
        default: [],
        description: 'Windows, measured from config load, in which every request fails with down_result.',
        items: {
          type: 'object',
          properties: {
            start_ms: { type: 'integer', minimum: 0, default: 0, description: 'Window start after config load.' },
            duration_ms: { type: 'integer', minimum: 1, description: 'Window length.' },
            every_ms: { type: 'integer', minimum: 0, default: 0, description: 'Repeat period (0 = once); must exceed duration_ms.' },
          },
          required: ['duration_ms'],
          additionalProperties: false,
        },
      },
      latency_ms: { type: 'integer', minimum: 0, default: 0, description: 'Delay before sending requests that are not failed.' },
      seed: { type: 'integer', default: 1, description: 'PRNG seed for error_rate draws (same seed, same failures).' },
      ops: {
        type: 'array',
        items: { type: 'string', enum: [...OP_GROUPS] },
        description: 'Op groups the faults apply to (default: all).',
      },
    },
    required: ['target'],
    additionalProperties: false,
  },
  fromString: (rest) => ({ target: rest }),
  create(o, b, path) {
    o.downtime.forEach((w, i) => {
      if (w.every_ms > 0 && w.every_ms <= w.duration_ms) {
        b.fail(`${path}/downtime/${i}/every_ms`, 'FaultInjectionRoute: every_ms must be greater than duration_ms');
      }
    });
    const target = b.route(o.target, `${path}/target`);
    return new FaultInjectionRoute(target, {
      errorRate: o.error_rate,
      errorResult: resultName(o.error_result),
      down: o.down,
      downResult: resultName(o.down_result),
      downtime: o.downtime.map((w) => ({ startMs: w.start_ms, durationMs: w.duration_ms, everyMs: w.every_ms })),
      latencyMs: o.latency_ms,
      seed: o.seed,
      ops: o.ops === undefined ? null : new Set(o.ops),
    });
  },
});
