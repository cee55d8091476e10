/**
 * SlowWarmUpRoute: PoolRoute's `slow_warmup` (mcrouter `routes/SlowWarmUpRoute.h`). PoolRoute wraps each of
 * its destinations in one, so a server that comes back empty (a restart, a replacement) gets only part of
 * the reads until its hit rate says it holds the data again; the other reads go straight to
 * `failoverTarget` without a round trip to the cold server.
 *
 * Per destination, the route counts the hits (found, deleted, touched) and misses (notfound) of every
 * request it sends to the server, reads and writes alike, for the life of the config. The hit rate is
 * hits / (hits + misses), or 1 while fewer than `min_requests` were counted. The server is warming up when
 * the rate falls below `enable_threshold`, and stays so until it rises above `disable_threshold`. While
 * it warms up, each get-like request (get, gets, gat, gats, mg, me) goes to the server with probability
 * `start + step · hitRate` (a uniform draw in [0, 1) at most that) and to `failoverTarget` otherwise.
 * Other ops always go to the server, so writes keep filling it.
 *
 * Replies: the server's, or failoverTarget's for the reads sent there; nothing is retried here.
 * Limits: the counts live in this route, so a config reload starts them over (mcrouter rebuilds the route
 * on reconfiguration too). Replies from failoverTarget are not counted. Not a config type of its own, as
 * in mcrouter: only PoolRoute builds it.
 */
import type { SchemaObject } from 'ajv';
import { isGetLike, type Request, type Result } from '../protocol/types.js';
import type { RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** mcrouter's SlowWarmUpRouteSettings, defaults included. */
export interface SlowWarmUpSettings {
  readonly enableThreshold: number;
  readonly disableThreshold: number;
  /** Share of reads sent to a warming server whose hit rate is 0. */
  readonly start: number;
  /** Added share per unit of hit rate. */
  readonly step: number;
  /** Requests counted before the hit rate is believed. */
  readonly minRequests: number;
}

export const DEFAULT_SLOW_WARM_UP: SlowWarmUpSettings = Object.freeze({
  enableThreshold: 0.7,
  disableThreshold: 0.9,
  start: 0.1,
  step: 1.0,
  minRequests: 100,
});

function isHitResult(r: Result): boolean {
  return r === 'found' || r === 'deleted' || r === 'touched';
}

export class SlowWarmUpRoute implements RouteHandle {
  readonly type = 'SlowWarmUpRoute';
  readonly name: string;
  readonly routeNames: readonly string[] = ['slow-warmup'];
  private hits = 0;
  private misses = 0;
  private enabled = false;

  /**
   * @param target supplies the destination being protected
   * @param failoverTarget supplies where the reads a warming destination does not take go
   * @param random supplies a uniform number in [0, 1) (tests inject a sequence)
   */
  constructor(
    readonly target: RouteHandle,
    readonly failoverTarget: RouteHandle,
    readonly settings: SlowWarmUpSettings = DEFAULT_SLOW_WARM_UP,
    private readonly random: () => number = Math.random,
  ) {
    this.name = `SlowWarmUpRoute|${target.name}`;
  }

  /** The counted hit rate, 1 until min_requests requests were counted. */
  hitRate(): number {
    const total = this.hits + this.misses;
    return total < this.settings.minRequests ? 1 : this.hits / total;
  }

  /** mcrouter's warmingUp(): the hysteresis between the two thresholds. */
  warmingUp(): boolean {
    const rate = this.hitRate();
    this.enabled = rate < (this.enabled ? this.settings.disableThreshold : this.settings.enableThreshold);
    return this.enabled;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (isGetLike(req.op) && this.warmingUp() && !(this.random() <= this.settings.start + this.hitRate() * this.settings.step)) {
      this.failoverTarget.route(req, ctx, done);
      return;
    }
    this.target.route(req, ctx, this.count(done));
  }

  /** Wrap `done` to count the reply; one closure per request sent to the server. */
  private count(done: ReplyCallback): ReplyCallback {
    return (reply) => {
      const r = reply.result;
      if (isHitResult(r)) this.hits++;
      else if (r === 'notfound') this.misses++;
      done(reply);
    };
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.target, req);
    t.visit(this.failoverTarget, req);
  }
}

/** The slow_warmup option of PoolRoute. */
export interface SlowWarmUpOption {
  failoverTarget: unknown;
  settings?: {
    enable_threshold: number;
    disable_threshold: number;
    start?: number;
    step?: number;
    min_requests?: number;
  };
}

export const SLOW_WARM_UP_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'mcrouter slow warm-up: while a server\'s hit rate is low (a restart), only start + step·hitRate of its reads go to it; the rest go to failoverTarget.',
  properties: {
    failoverTarget: { description: 'Where the reads a warming server does not take go (a route).', anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'array' }] },
    settings: {
      type: 'object',
      description: 'Thresholds and ramp (defaults: enable 0.7, disable 0.9, start 0.1, step 1.0, min_requests 100). With settings, both thresholds are required.',
      properties: {
        enable_threshold: { type: 'number', minimum: 0, maximum: 1, description: 'Warm-up starts when the hit rate falls below this.' },
        disable_threshold: { type: 'number', minimum: 0, maximum: 1, description: 'Warm-up ends when the hit rate rises above this (greater than enable_threshold).' },
        start: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Share of reads a warming server with hit rate 0 gets.' },
        step: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100, description: 'Share added per unit of hit rate.' },
        min_requests: { type: 'integer', minimum: 1, description: 'Requests counted before the hit rate is used (until then the server is warm).' },
      },
      required: ['enable_threshold', 'disable_threshold'],
      additionalProperties: false,
    },
  },
  required: ['failoverTarget'],
  additionalProperties: false,
};

/**
 * Settings for a validated slow_warmup option (mcrouter SlowWarmUpRouteSettings), or a config error at
 * `path` (the option's pointer).
 */
export function slowWarmUpSettings(o: SlowWarmUpOption, b: RouteBuilder, path: string, type: string): SlowWarmUpSettings {
  const s = o.settings;
  if (s === undefined) return DEFAULT_SLOW_WARM_UP;
  if (!(s.enable_threshold < s.disable_threshold)) {
    b.fail(`${path}/settings`, `${type}: slow_warmup: 'enable_threshold' must be strictly less than 'disable_threshold'`);
  }
  return {
    enableThreshold: s.enable_threshold,
    disableThreshold: s.disable_threshold,
    start: s.start ?? DEFAULT_SLOW_WARM_UP.start,
    step: s.step ?? DEFAULT_SLOW_WARM_UP.step,
    minRequests: s.min_requests ?? DEFAULT_SLOW_WARM_UP.minRequests,
  };
}
