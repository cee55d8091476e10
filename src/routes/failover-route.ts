/**
 * FailoverRoute: sends the request to `children[0]`; when the reply's result is a failover error for the
 * request's op class (`failover_errors`), sends it to the next child, and so on, in order. The first reply
 * that is not a failover error is returned, so misses, NOT_STORED and EXISTS end the chain: they are answers,
 * not errors. Replies from any child after the first carry `isFailover`.
 *
 * When everything fails: the last child's reply (marked `isFailover`). Counters: `failoverAll` when a
 * request reaches the last child after every earlier one failed, `failoverAllFailed` when that one fails
 * too.
 *
 * TKO: a TKO or hard-TKO reply (mcrouter's isTkoOrHardTkoResult: `tko`, the destination is marked down and
 * the request was never sent; `connect_error`, `connect_timeout`, `shutdown`, it could not be reached) is
 * passed over at once, counted in `failoverTkoSkipped`, and does not spend a `failover_limit` token: during
 * an outage the failover budget goes to real errors (timeouts, busy, remote errors), not to dead servers.
 *
 * `failover_limit {rate, burst}`: a token bucket of failovers vs requests. Each request earns `rate` tokens
 * (up to `burst`, starting full); each failover after another error spends one. With no token left the
 * route stops and returns the *first* error reply (counted in `failoverRateLimited`), so a failing primary
 * cannot multiply the load on the failover targets by more than `1 + rate` on average.
 *
 * Ops: all. The first child is called synchronously, so multi-get batching upstream is unaffected.
 * Limits / differences from mcrouter: only the in-order policy exists; `failover_policy` types
 * LeastFailuresPolicy, DeterministicOrderPolicy and RendezvousPolicy are rejected at config time.
 * `failover_tag` and `enable_lease_pairing` are accepted and have no effect (no tags in the ASCII protocol;
 * no lease commands).
 */
import type { SchemaObject } from 'ajv';
import { isHardTkoResult, isTkoResult, Reply, type Request, type Result } from '../protocol/types.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema, type RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { FAILOVER_ERRORS_SCHEMA, FailoverErrors, type FailoverErrorsOption } from './util/failover-errors.js';
import { RatioTokenBucket } from './util/token-bucket.js';

/** What a FailoverRoute is configured with (shared by FailoverWithExptimeRoute). */
export interface FailoverSettings {
  readonly errors: FailoverErrors;
  /** The failover_limit bucket, or null for no limit. Mutable state: one per route instance. */
  readonly limit: RatioTokenBucket | null;
}

/** mcrouter's isTkoOrHardTkoResult: no work was done upstream, so failing over past it costs nothing. */
export function isTkoOrHardTkoResult(r: Result): boolean {
  return isTkoResult(r) || isHardTkoResult(r);
}

/** The same reply marked as coming from a failover target. */
export function asFailoverReply(r: Reply): Reply {
  return r.isFailover ? r : new Reply(r.result, r.raw, r.message, true);
}

/** One request's walk down the children; one allocation per request. */
class FailoverAttempt {
  private index = 0;
  private firstError: Reply | null = null;

  constructor(
    private readonly route: FailoverRoute,
    private readonly children: readonly RouteHandle[],
    private readonly req: Request,
    private readonly ctx: RouteContext,
    private readonly done: ReplyCallback,
  ) {}

  start(): void {
    (this.children[0] as RouteHandle).route(this.req, this.ctx, this.onReply);
  }

  private readonly onReply = (reply: Reply): void => {
    const i = this.index;
    const last = this.children.length - 1;
    const settings = this.route.settings;
    if (!settings.errors.shouldFailover(this.req.op, reply.result)) {
      this.done(i === 0 ? reply : asFailoverReply(reply));
      return;
    }
    const stats = this.ctx.stats;
    if (i === last) {
      if (i > 0) stats.failoverAllFailed++;
      this.done(i === 0 ? reply : asFailoverReply(reply));
      return;
    }
    if (isTkoOrHardTkoResult(reply.result)) {
      stats.failoverTkoSkipped++;
    } else {
      this.firstError ??= reply;
      if (settings.limit !== null && !settings.limit.tryConsume()) {
        stats.failoverRateLimited++;
        this.done(i === 0 ? this.firstError : asFailoverReply(this.firstError));
        return;
      }
    }
    this.index = i + 1;
    if (this.index === last) stats.failoverAll++;
    (this.children[this.index] as RouteHandle).route(this.req, this.ctx, this.onReply);
  };
}

export class FailoverRoute implements RouteHandle {
  readonly type: string = 'FailoverRoute';
  readonly name: string = 'FailoverRoute';

  /**
   * @param children supplies the targets in failover order (at least one)
   * @param settings supplies the failover errors and the optional failover_limit bucket
   */
  constructor(
    readonly children: readonly RouteHandle[],
    readonly settings: FailoverSettings = { errors: new FailoverErrors(), limit: null },
  ) {
    if (children.length === 0) throw new Error('FailoverRoute: children must be non-empty');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.settings.limit?.onRequest();
    new FailoverAttempt(this, this.children, req, ctx, done).start();
  }

  /** Every child may be reached. */
  traverse(req: Request, t: Traversal): void {
    for (const c of this.children) t.visit(c, req);
  }
}

/** Options every failover route accepts (FailoverRoute, FailoverWithExptimeRoute). */
export interface FailoverOptions {
  failover_errors?: FailoverErrorsOption;
  failover_limit?: { rate: number; burst: number };
  failover_tag: boolean;
  failover_policy?: { type?: string } & Record<string, unknown>;
  enable_lease_pairing: boolean;
}

export const FAILOVER_OPTION_PROPERTIES: Readonly<Record<string, SchemaObject>> = Object.freeze({
  failover_errors: FAILOVER_ERRORS_SCHEMA,
  failover_limit: {
    type: 'object',
    description: 'Token bucket of failovers vs requests: each request earns `rate` tokens (up to `burst`), each failover spends one; when empty, the first error is returned.',
    properties: {
      rate: { type: 'number', minimum: 0, maximum: 1, description: 'Failovers allowed per request, on average (0..1).' },
      burst: { type: 'number', minimum: 1, default: 1000, description: 'Bucket size; the bucket starts full.' },
    },
    required: ['rate'],
    additionalProperties: false,
  },
  failover_tag: { type: 'boolean', default: false, description: 'mcrouter tags failover requests; accepted, no effect over ASCII.' },
  failover_policy: {
    type: 'object',
    description: 'Failover order. Only the default in-order policy is implemented; LeastFailuresPolicy, DeterministicOrderPolicy and RendezvousPolicy are rejected.',
    properties: { type: { type: 'string' } },
  },
  enable_lease_pairing: { type: 'boolean', default: false, description: 'mcrouter lease pairing; accepted, no effect (no lease commands).' },
});

const UNSUPPORTED_POLICIES: ReadonlySet<string> = new Set(['LeastFailuresPolicy', 'DeterministicOrderPolicy', 'RendezvousPolicy']);

/** Settings from validated options; config errors name their path under `path`. */
export function failoverSettings(o: FailoverOptions, b: RouteBuilder, path: string, type: string): FailoverSettings {
  const policy = o.failover_policy?.type;
  if (policy !== undefined && UNSUPPORTED_POLICIES.has(policy)) {
    b.fail(`${path}/failover_policy/type`, `${type}: failover policy "${policy}" is not supported (only the in-order policy)`);
  }
  const limit = o.failover_limit === undefined ? null : new RatioTokenBucket(o.failover_limit.rate, o.failover_limit.burst);
  return { errors: new FailoverErrors(o.failover_errors), limit };
}

export interface FailoverRouteOptions extends FailoverOptions {
  children: unknown;
}

export const failoverRouteFactory = defineRoute<FailoverRouteOptions>({
  type: 'FailoverRoute',
  description: 'Tries children in order until one replies without a failover error; returns the last reply when all fail.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The targets in failover order: a list, a single route, or "Pool|A".'),
      ...FAILOVER_OPTION_PROPERTIES,
    },
    required: ['children'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    const settings = failoverSettings(o, b, path, 'FailoverRoute');
    if (children.length === 0) return new NullRoute();
    return new FailoverRoute(children, settings);
  },
});
