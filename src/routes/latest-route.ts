/**
 * LatestRoute: each client host reads and writes through a fixed, host-specific failover order over the
 * children. At build time it picks `failover_count` (default 5) distinct children deterministically from
 * the host id (`--host-id`, default a hash of the hostname): pick i hashes a decimal string derived from
 * (host id, i) + `salt` with WeightedCh3 over `weights` (default all 1.0), and a picked child's weight drops
 * to 0 so it is not picked twice. Requests then go to the picks in order, like FailoverRoute: the first
 * reply that is not a failover error wins (a miss is not an error).
 *
 * Replies when everything fails: the last pick's reply (its error). Replies from a pick after the first
 * carry `isFailover`. TKO replies simply move on to the next pick.
 * Ops: all. With no children it is a NullRoute; with one child, that child.
 * Limits / compatibility: the picks are deterministic and stable across restarts and machines for a
 * given host id, children and weights, but they are NOT bit-exact with mcrouter's, which seeds WeightedCh3
 * with folly's `hash_combine(0, hostid)` (a platform hash we do not reproduce). Every host pins to one
 * replica, so with few client hosts the load is uneven; BalancedReplicaRoute spreads reads by key instead.
 * `thread_local_failover` and `failover_policy` are accepted for compatibility and ignored.
 *
 * `failoverErrorsFrom` and the failover-errors schema are shared with BalancedReplicaRoute and HashRoute.
 */
import { ALL_RESULTS, FAILOVER_ERRORS, Reply, opGroup, type Request, type Result } from '../protocol/types.js';
import { buildMultiChild } from './all-sync-route.js';
import { failoverRouteName } from './failover-route.js';
import { weightedCh3Index, weightedCh3Thresholds } from './hash/weighted-ch3.js';
import { defineRoute, routeNodeSchema, type RouteBuilder } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

/** Which results make a failover route try the next child, per request. */
export type FailoverPredicate = (req: Request, result: Result) => boolean;

/** Config form: a list of result names, or lists per operation class. */
export type FailoverErrorsOption = string[] | { gets?: string[]; updates?: string[]; deletes?: string[] };

const RESULT_LIST_SCHEMA = { type: 'array', items: { type: 'string', enum: [...ALL_RESULTS] } };

/** Schema of `failover_errors` (mcrouter's names: timeout, connect_error, tko, ...). */
export const FAILOVER_ERRORS_SCHEMA = {
  description: 'Results that move on to the next child: a list of result names, or {gets, updates, deletes} lists. Default: busy, shutdown, tko, try_again, local_error, connect_error, connect_timeout, timeout, remote_error, deadline_exceeded.',
  anyOf: [
    RESULT_LIST_SCHEMA,
    { type: 'object', properties: { gets: RESULT_LIST_SCHEMA, updates: RESULT_LIST_SCHEMA, deletes: RESULT_LIST_SCHEMA }, additionalProperties: false },
  ],
};

/** Turn `failover_errors` into a predicate (absent → mcrouter's default set for every op). */
export function failoverErrorsFrom(opt: FailoverErrorsOption | undefined): FailoverPredicate {
  const defaults = new Set<Result>(FAILOVER_ERRORS);
  if (opt === undefined) return (_req, r) => defaults.has(r);
  if (Array.isArray(opt)) {
    const s = new Set(opt as Result[]);
    return (_req, r) => s.has(r);
  }
  const gets = new Set((opt.gets ?? FAILOVER_ERRORS) as Result[]);
  const updates = new Set((opt.updates ?? FAILOVER_ERRORS) as Result[]);
  const deletes = new Set((opt.deletes ?? FAILOVER_ERRORS) as Result[]);
  return (req, r) => {
    const g = opGroup(req.op);
    if (g === 'get_like') return gets.has(r);
    if (g === 'delete_like') return deletes.has(r);
    if (g === 'update_like' || g === 'arithmetic_like') return updates.has(r);
    return defaults.has(r);
  };
}

/**
 * Try `order` (indices into `children`) one after another until a reply that is not a failover error.
 * Each next try starts from the previous reply's callback, never from a timer.
 */
function routeFailover(
  children: readonly RouteHandle[],
  order: readonly number[],
  req: Request,
  ctx: RouteContext,
  shouldFailover: FailoverPredicate,
  done: ReplyCallback,
): void {
  const step = (i: number): void => {
    (children[order[i] as number] as RouteHandle).route(req, ctx, (r) => {
      if (i + 1 < order.length && shouldFailover(req, r.result)) {
        if (i === 0) ctx.stats.failoverAll++;
        step(i + 1);
        return;
      }
      if (i > 0 && shouldFailover(req, r.result)) ctx.stats.failoverAllFailed++;
      done(i === 0 || r.isFailover ? r : new Reply(r.result, r.raw, r.message, true));
    });
  };
  step(0);
}

/** A 32-bit finalizer (murmur3 fmix32) used to spread (host id, pick) into a hash input. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The deterministic picks of LatestRoute: `count` distinct indices in [0, n) for `hostId`.
 * @param weights supplies one weight in [0, 1] per child (missing → 1.0)
 */
export function latestPicks(hostId: number, n: number, count: number, salt: string, weights: readonly number[] | null): number[] {
  const w = Array.from({ length: n }, (_, i) => weights?.[i] ?? 1);
  const picks: number[] = [];
  let seed = hostId >>> 0;
  for (let p = 0; p < Math.min(count, n); p++) {
    seed = mix32((seed ^ Math.imul(p + 1, 0x9e3779b9)) >>> 0);
    const key = Buffer.from(`${seed}${salt}`, 'latin1');
    let idx = weightedCh3Index(key, key.length, n, weightedCh3Thresholds(w, n));
    if (picks.includes(idx)) {
      // Every remaining weight is 0 (or the 32 tries ran out): take the next unpicked child in order.
      idx = w.findIndex((_, i) => !picks.includes(i));
    }
    picks.push(idx);
    w[idx] = 0;
  }
  return picks;
}

export class LatestRoute implements RouteHandle {
  readonly type = 'LatestRoute';
  readonly name: string;
  /** mcrouter builds LatestRoute as a FailoverRoute over the picks: `failover[:<name>:failover_targets=N]`. */
  readonly routeNames: readonly string[];

  /**
   * @param children supplies all replicas
   * @param order supplies the picks (indices into children), first = this host's replica
   * @param routeNames supplies the route_handles lines (default: mcrouter's unnamed FailoverRoute)
   */
  constructor(
    private readonly children: readonly RouteHandle[],
    readonly order: readonly number[],
    private readonly shouldFailover: FailoverPredicate,
    routeNames: readonly string[] = [failoverRouteName(undefined, order.length)],
  ) {
    if (order.length === 0) throw new Error('LatestRoute: no picks');
    this.name = `LatestRoute|${order.join(',')}`;
    this.routeNames = routeNames;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    routeFailover(this.children, this.order, req, ctx, this.shouldFailover, done);
  }

  traverse(req: Request, t: Traversal): void {
    // A failover route reaches its first pick unless that fails; route_handles lists the other picks too,
    // in failover order, as mcrouter's FailoverRoute traverses them.
    this.order.forEach((i, pos) => {
      const child = this.children[i] as RouteHandle;
      if (pos === 0) t.visit(child, req);
      else t.visitListed(child, req);
    });
  }
}

export interface LatestRouteOptions {
  children: unknown;
  failover_count: number;
  failover_errors?: FailoverErrorsOption;
  salt: string;
  weights?: number[];
  thread_local_failover: boolean;
  failover_policy?: Record<string, unknown>;
}

export function buildLatest(o: LatestRouteOptions, b: RouteBuilder, path: string): RouteHandle {
  return buildMultiChild(o, b, path, (children) => {
    if (o.weights !== undefined && o.weights.length !== children.length) {
      b.fail(`${path}/weights`, `LatestRoute: weights has ${o.weights.length} entries but there are ${children.length} children`);
    }
    const picks = latestPicks(b.options.hostId, children.length, o.failover_count, o.salt, o.weights ?? null);
    return new LatestRoute(children, picks, failoverErrorsFrom(o.failover_errors), [failoverRouteName(b.nodeName?.(), picks.length)]);
  });
}

export const latestRouteFactory = defineRoute<LatestRouteOptions>({
  type: 'LatestRoute',
  description: 'Picks failover_count children deterministically from the host id and fails over through them in that order.',
  schema: {
    type: 'object',
    properties: {
      children: routeNodeSchema('The replicas: a list of routes, or "Pool|A".'),
      failover_count: { type: 'integer', minimum: 1, default: 5, description: 'How many children to pick (the failover order length).' },
      failover_errors: FAILOVER_ERRORS_SCHEMA,
      salt: { type: 'string', default: '', description: 'Appended to the host-derived hash input; changes the picks.' },
      weights: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, description: 'WeightedCh3 weight per child in [0, 1] (default 1.0 each).' },
      thread_local_failover: { type: 'boolean', default: false, description: 'mcrouter option; accepted and ignored (one event loop).' },
      failover_policy: { type: 'object', description: 'mcrouter option; accepted and ignored (picks are always tried in order).' },
    },
    required: ['children'],
    additionalProperties: false,
  },
  create: buildLatest,
});
