/**
 * FailoverRoute: sends the request to `children[0]`; when the reply's result is a failover error for the
 * request's op class (`failover_errors`), sends it to the next child of the failover order, and so on. The
 * first reply that is not a failover error is returned, so misses, NOT_STORED and EXISTS end the chain:
 * they are answers, not errors. Replies from any child after the first carry `isFailover`.
 *
 * Failover order (`failover_policy`, util/failover-policy.ts): the children in config order by default;
 * DeterministicOrderPolicy (salted Ch3/WeightedCh3 of the key), RendezvousPolicy (children[1..] by
 * Rendezvous score) or LeastFailuresPolicy (fewest recent errors first), each as mcrouter orders them.
 * A policy can also bound the positions (`max_tries`) and the errors that count (`max_error_tries`).
 *
 * When everything fails: the last reply (marked `isFailover` when it came from a failover target).
 * Counters: `failoverAll` once per request that fails over (mcrouter failover_all), `failoverAllFailed` when
 * the last reply it returns after trying every position is still an error (mcrouter failover_all_failed).
 *
 * TKO: a TKO or hard-TKO reply (mcrouter's isTkoOrHardTkoResult: `tko`, the destination is marked down and
 * the request was never sent; `connect_error`, `connect_timeout`, `shutdown`, it could not be reached) is
 * passed over at once, counted in `failoverTkoSkipped`, does not spend a `failover_limit` token and does
 * not count against `max_error_tries`: during an outage the failover budget goes to real errors
 * (timeouts, busy, remote errors), not to dead servers.
 *
 * `failover_limit {rate, burst}`: a token bucket of failovers vs requests. Each request earns `rate` tokens
 * (up to `burst`, starting full); each failover after another error spends one. With no token left the
 * route stops and returns the reply that wanted to fail over (counted in `failoverRateLimited`), as
 * mcrouter does, so a failing primary cannot multiply the load on the failover targets by more than
 * `1 + rate` on average.
 *
 * Ops: all. The first child is called synchronously, so multi-get batching upstream is unaffected.
 * Limits / differences from mcrouter: `failover_tag` and `enable_lease_pairing` are accepted and have no
 * effect (no tags in the ASCII protocol; no lease commands); the policies' failure domains do not exist
 * here. The normal route's choice that DeterministicOrder and Rendezvous skip is known only when
 * children[0] is a PoolRoute or HashRoute (mcrouter reads whichever selection route ran last).
 */
import type { SchemaObject } from 'ajv';
import { isErrorResult, isHardTkoResult, isTkoResult, Reply, type Request, type Result } from '../protocol/types.js';
import { NullRoute } from './null-route.js';
import { defineRoute, routeNodeSchema, type RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { FAILOVER_ERRORS_SCHEMA, FailoverErrors, type FailoverErrorsOption } from './util/failover-errors.js';
import {
  FAILOVER_POLICY_SCHEMA,
  failoverPolicyFrom,
  IN_ORDER,
  type FailoverCursor,
  type FailoverPolicy,
  type FailoverPolicyOption,
} from './util/failover-policy.js';
import { RatioTokenBucket } from './util/token-bucket.js';

/** What a FailoverRoute is configured with (shared by FailoverWithExptimeRoute). */
export interface FailoverSettings {
  readonly errors: FailoverErrors;
  /** The failover_limit bucket, or null for no limit. Mutable state: one per route instance. */
  readonly limit: RatioTokenBucket | null;
  /** The failover order; the in-order policy when absent. */
  readonly policy?: FailoverPolicy;
  /** The route object's `name`, which mcrouter shows in route_handles (`failover:<name>:failover_targets=N`). */
  readonly name?: string;
}

/** mcrouter's FailoverRoute name: `failover`, or `failover:<name>:failover_targets=<children>` for a named route. */
export function failoverRouteName(name: string | undefined, children: number): string {
  return name === undefined || name === '' ? 'failover' : `failover:${name}:failover_targets=${children}`;
}

/** mcrouter's isTkoOrHardTkoResult: no work was done upstream, so failing over past it costs nothing. */
export function isTkoOrHardTkoResult(r: Result): boolean {
  return isTkoResult(r) || isHardTkoResult(r);
}

/** The same reply marked as coming from a failover target. */
export function asFailoverReply(r: Reply): Reply {
  return r.isFailover ? r : new Reply(r.result, r.raw, r.message, true);
}

/**
 * One request's walk through the failover order; one allocation per request (policies that hash or sort
 * add theirs only when the request fails over). Follows mcrouter's FailoverRoute::doRoute:
 *
 *   pos 0: normal reply ── not a failover error, or rate-limited ──────────────────────► return it
 *          │ failover: policy.begin() → positions; only one? ─────────────────────────► return it
 *   pos p: (errors counted < max_error_tries, else return the last reply) route the child at p
 *          ├─ p is the last position ─────────────────────────────────────────────────► return it
 *          └─ not a failover error, or rate-limited ──► return it; else p + 1
 */
class FailoverAttempt implements FailoverCursor {
  private pos = 0;
  private index = 0;
  private end = 0;
  private numTries = 0;
  normalIndex = -1;
  salt = 0;
  used: Uint8Array | null = null;
  order: number[] | null = null;

  constructor(
    private readonly route: FailoverRoute,
    private readonly children: readonly RouteHandle[],
    readonly req: Request,
    private readonly ctx: RouteContext,
    private readonly done: ReplyCallback,
  ) {}

  start(): void {
    (this.children[0] as RouteHandle).route(this.req, this.ctx, this.onReply);
  }

  /** mcrouter's processReply: true when `reply` ends the request. */
  private ends(reply: Reply): boolean {
    const settings = this.route.settings;
    const r = reply.result;
    if (!settings.errors.shouldFailover(this.req.op, r)) return true;
    if (isTkoOrHardTkoResult(r)) {
      this.ctx.stats.failoverTkoSkipped++;
      return false;
    }
    if (settings.limit !== null && !settings.limit.tryConsume()) {
      this.ctx.stats.failoverRateLimited++;
      return true;
    }
    if (!this.route.policy.excludeError(r)) this.numTries++;
    return false;
  }

  private readonly onReply = (reply: Reply): void => {
    const policy = this.route.policy;
    policy.record(this.index, reply.result);
    const pos = this.pos;
    const stats = this.ctx.stats;
    if (pos === 0) {
      if (this.ends(reply)) {
        this.done(reply);
        return;
      }
      if (policy.needsNormalIndex) this.normalIndex = this.children[0]?.selectedIndex?.(this.req) ?? -1;
      this.end = policy.begin(this, this.children.length);
      if (this.end <= 1) {
        if (isErrorResult(reply.result)) stats.failoverAllFailed++;
        this.done(reply);
        return;
      }
      stats.failoverAll++;
    } else {
      const failoverReply = asFailoverReply(reply);
      if (pos === this.end - 1) {
        if (isErrorResult(reply.result)) stats.failoverAllFailed++;
        this.done(failoverReply);
        return;
      }
      if (this.ends(reply)) {
        this.done(failoverReply);
        return;
      }
    }
    if (this.numTries >= policy.maxErrorTries) {
      this.done(pos === 0 ? reply : asFailoverReply(reply));
      return;
    }
    this.pos = pos + 1;
    this.index = policy.indexAt(this, this.pos);
    (this.children[this.index] as RouteHandle).route(this.req, this.ctx, this.onReply);
  };
}

export class FailoverRoute implements RouteHandle {
  readonly type: string = 'FailoverRoute';
  readonly name: string = 'FailoverRoute';
  readonly routeNames: readonly string[];
  readonly policy: FailoverPolicy;

  /**
   * @param children supplies the targets: children[0] is the normal route, the rest the failover targets
   * @param settings supplies the failover errors, the optional failover_limit bucket and the policy
   */
  constructor(
    readonly children: readonly RouteHandle[],
    readonly settings: FailoverSettings = { errors: new FailoverErrors(), limit: null },
  ) {
    if (children.length === 0) throw new Error('FailoverRoute: children must be non-empty');
    this.policy = settings.policy ?? IN_ORDER;
    this.routeNames = [failoverRouteName(settings.name, children.length)];
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.settings.limit?.onRequest();
    new FailoverAttempt(this, this.children, req, ctx, done).start();
  }

  /** Every child the request may reach, in the order this request would try them now. */
  traverse(req: Request, t: Traversal): void {
    const first = this.children[0];
    if (first === undefined) return;
    t.visit(first, req);
    const c: FailoverCursor = { req, normalIndex: -1, salt: 0, used: null, order: null };
    if (this.policy.needsNormalIndex) c.normalIndex = first.selectedIndex?.(req) ?? -1;
    const end = this.policy.begin(c, this.children.length);
    for (let pos = 1; pos < end; pos++) {
      const child = this.children[this.policy.indexAt(c, pos)];
      if (child !== undefined) t.visit(child, req);
    }
  }
}

/** Options every failover route accepts (FailoverRoute, FailoverWithExptimeRoute). */
export interface FailoverOptions {
  failover_errors?: FailoverErrorsOption;
  failover_limit?: { rate: number; burst: number };
  failover_tag: boolean;
  failover_policy?: FailoverPolicyOption;
  /** Read only by failover_policy (mcrouter folds the route's `hash` and `tags` into the policy). */
  hash?: string | Record<string, unknown>;
  tags?: string[];
  enable_lease_pairing: boolean;
}

export const FAILOVER_OPTION_PROPERTIES: Readonly<Record<string, SchemaObject>> = Object.freeze({
  failover_errors: FAILOVER_ERRORS_SCHEMA,
  failover_limit: {
    type: 'object',
    description: 'Token bucket of failovers vs requests: each request earns `rate` tokens (up to `burst`), each failover spends one (TKO and hard-TKO replies are free); when empty, the reply that wanted to fail over is returned.',
    properties: {
      rate: { type: 'number', minimum: 0, maximum: 1, description: 'Failovers allowed per request, on average (0..1).' },
      burst: { type: 'number', minimum: 1, default: 1000, description: 'Bucket size; the bucket starts full.' },
    },
    required: ['rate'],
    additionalProperties: false,
  },
  failover_tag: { type: 'boolean', default: false, description: 'mcrouter tags failover requests; accepted, no effect over ASCII.' },
  failover_policy: FAILOVER_POLICY_SCHEMA,
  hash: {
    description: 'For failover_policy only: DeterministicOrderPolicy\'s hash object (replaces the policy\'s own), or "WeightedRendezvous" for a weighted RendezvousPolicy.',
    anyOf: [{ type: 'string' }, { type: 'object' }],
  },
  tags: { type: 'array', items: { type: 'string' }, description: 'For RendezvousPolicy: one tag per failover target (children[1..]); replaces the policy\'s own.' },
  enable_lease_pairing: { type: 'boolean', default: false, description: 'mcrouter lease pairing; accepted, no effect (no lease commands).' },
});

/**
 * Settings from validated options; config errors name their path under `path`.
 * @param n supplies the number of children, normal route included (policies clamp max_tries to it)
 */
export function failoverSettings(o: FailoverOptions, b: RouteBuilder, path: string, type: string, n: number): FailoverSettings {
  const route: { hash?: string | Record<string, unknown>; tags?: string[] } = {};
  if (o.hash !== undefined) route.hash = o.hash;
  if (o.tags !== undefined) route.tags = o.tags;
  const policy = failoverPolicyFrom(o.failover_policy, route, n, b, path, type);
  const limit = o.failover_limit === undefined ? null : new RatioTokenBucket(o.failover_limit.rate, o.failover_limit.burst);
  const name = b.nodeName?.();
  return { errors: new FailoverErrors(o.failover_errors), limit, policy, ...(name === undefined ? {} : { name }) };
}

export interface FailoverRouteOptions extends FailoverOptions {
  children: unknown;
}

export const failoverRouteFactory = defineRoute<FailoverRouteOptions>({
  type: 'FailoverRoute',
  description: 'Tries children[0], then the failover order (in order, or a failover_policy) until a reply is not a failover error; returns the last reply when all fail.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The normal route, then the failover targets: a list, a single route, or "Pool|A".'),
      ...FAILOVER_OPTION_PROPERTIES,
    },
    required: ['children'],
    additionalProperties: false,
  },
  create(o, b, path) {
    const children = b.routeList(o.children, `${path}/children`);
    // mcrouter: with fewer than two children there is nothing to fail over to, and no policy is built.
    const [only] = children;
    if (only === undefined) return new NullRoute();
    if (children.length === 1) return only;
    const settings = failoverSettings(o, b, path, 'FailoverRoute', children.length);
    return new FailoverRoute(children, settings);
  },
});
