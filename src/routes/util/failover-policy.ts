/**
 * FailoverRoute's failover policies (mcrouter `routes/FailoverPolicy.h`): which child a request tries at
 * each position, how many positions there are, and which errors count against `max_error_tries`.
 *
 *   position 0        always children[0] (the "normal" route)
 *   positions 1..     the policy's failover order, computed lazily: nothing is hashed or sorted until a
 *                     request actually fails over
 *
 * - InOrder (the default; also any `type` mcrouter does not know): children 1, 2, ... in config order.
 * - DeterministicOrderPolicy: position p hashes the routing key followed by the decimal salt 2, 3, ...
 *   (one salt per hash, collisions included) with Ch3, or WeightedCh3 with `hash.weights`, over ALL
 *   children (index 0 included), skipping indexes already used: 0, the normal route's own choice + 1
 *   (unless `ignore_normal_reply_index`), and earlier picks; after 100 colliding hashes it keeps the last.
 *   At most `max_tries` positions in all; `max_error_tries` bounds the errors that count.
 * - RendezvousPolicy: children[1..] are hosts with one `tags` entry each; they are tried in descending
 *   Rendezvous score of the routing key (WeightedRendezvous with the route's `hash: "WeightedRendezvous"`
 *   and the policy's `weights`), skipping the host the normal route chose.
 * - LeastFailuresPolicy: children[0], then the others by ascending count of consecutive error replies
 *   (stable, so ties keep config order), at most `max_tries` positions. Counts belong to the route and
 *   are updated by every reply of every request (an error adds one, anything else resets to 0).
 *
 * "The normal route's choice" is mcrouter's fiber-local selected index: here children[0].selectedIndex(),
 * which PoolRoute and HashRoute (and RateLimitRoute over them) answer; any other normal route counts as
 * "none" (-1), as in mcrouter when no selection route ran.
 */
import type { SchemaObject } from 'ajv';
import { ALL_RESULTS, isErrorResult, type Request, type Result } from '../../protocol/types.js';
import { furcHash, FURC_MAX_POOL_SIZE } from '../hash/furc.js';
import { rendezvousRanking, rendezvousTagHashes } from '../hash/rendezvous.js';
import { weightedCh3Index, weightedCh3Thresholds } from '../hash/weighted-ch3.js';
import type { RouteBuilder } from '../route-factory.js';

/** Per-request state a policy keeps between positions (FailoverRoute's attempt object carries it). */
export interface FailoverCursor {
  readonly req: Request;
  /** The normal route's selected child index, or -1. Set before `begin`. */
  normalIndex: number;
  /** DeterministicOrderPolicy: the last salt hashed. */
  salt: number;
  /** DeterministicOrderPolicy: indexes already used (one byte per child). */
  used: Uint8Array | null;
  /** Rendezvous / LeastFailures: the failover order (child indexes). */
  order: number[] | null;
}

export abstract class FailoverPolicy {
  /** mcrouter's policy type name (InOrder for the default). */
  abstract readonly type: string;
  /** Errors counted before the route gives up (TKO and excluded errors do not count). */
  readonly maxErrorTries: number = Number.POSITIVE_INFINITY;
  /** Whether `begin` reads `normalIndex` (so the route asks children[0] for it only then). */
  readonly needsNormalIndex: boolean = false;

  /** Results that do not count against max_error_tries. */
  excludeError(_r: Result): boolean {
    return false;
  }

  /**
   * A request is about to fail over for the first time.
   * @return the number of positions it may use, position 0 (the normal route) included
   */
  abstract begin(c: FailoverCursor, n: number): number;

  /** The child index at failover position `pos` (1, 2, ... in order, each at most once per request). */
  abstract indexAt(c: FailoverCursor, pos: number): number;

  /** A child replied (LeastFailuresPolicy keeps counts; the others ignore it). */
  record(_index: number, _r: Result): void {}
}

export class InOrderPolicy extends FailoverPolicy {
  readonly type = 'InOrder';
  begin(_c: FailoverCursor, n: number): number {
    return n;
  }
  indexAt(_c: FailoverCursor, pos: number): number {
    return pos;
  }
}

/** The in-order policy with no options: shared, it has no state. */
export const IN_ORDER: FailoverPolicy = new InOrderPolicy();

const SALT_START = 1; // mcrouter's FailoverDeterministicOrderPolicy::salt_{1}
const MAX_COLLISION_ATTEMPTS = 100;

export class DeterministicOrderPolicy extends FailoverPolicy {
  readonly type = 'DeterministicOrderPolicy';
  override readonly needsNormalIndex: boolean;
  private scratch: Buffer = Buffer.allocUnsafe(512);

  /**
   * @param n supplies the number of children
   * @param maxTries supplies the positions in all (already clamped to n)
   * @param weights supplies WeightedCh3 thresholds, or null for Ch3
   */
  constructor(
    private readonly n: number,
    readonly maxTries: number,
    override readonly maxErrorTries: number,
    private readonly exclude: ReadonlySet<Result>,
    private readonly ignoreNormalReplyIndex: boolean,
    private readonly thresholds: Float64Array | null,
  ) {
    super();
    this.needsNormalIndex = !ignoreNormalReplyIndex;
  }

  override excludeError(r: Result): boolean {
    return this.exclude.has(r);
  }

  begin(c: FailoverCursor, n: number): number {
    const used = new Uint8Array(n);
    used[0] = 1;
    // mcrouter adds 1 to the selected index as a size_t: "none" (-1) wraps to 0, which is used already.
    if (!this.ignoreNormalReplyIndex && c.normalIndex + 1 < n) used[c.normalIndex + 1] = 1;
    c.used = used;
    c.salt = SALT_START;
    return this.maxTries;
  }

  indexAt(c: FailoverCursor, _pos: number): number {
    const used = c.used as Uint8Array;
    const rk = c.req.routingKey();
    let index = 0;
    let attempts = 0;
    do {
      c.salt++;
      index = this.hashWithSalt(rk, c.salt);
    } while (used[index] === 1 && attempts++ < MAX_COLLISION_ATTEMPTS);
    used[index] = 1;
    return index;
  }

  /** mcrouter HashSelector(to_string(salt), Ch3HashFunc(n) | WeightedCh3HashFunc): key ‖ salt, hashed. */
  private hashWithSalt(rk: Buffer, salt: number): number {
    const digits = String(salt);
    const len = rk.length + digits.length;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(len * 2);
    rk.copy(this.scratch, 0);
    this.scratch.write(digits, rk.length, 'latin1');
    return this.thresholds === null ? furcHash(this.scratch, this.n, len) : weightedCh3Index(this.scratch, len, this.n, this.thresholds);
  }
}

export class RendezvousPolicy extends FailoverPolicy {
  readonly type = 'RendezvousPolicy';
  override readonly needsNormalIndex = true;
  private readonly tagHashes: Uint32Array;
  private readonly weights: Float64Array | null;

  /** @param tags supplies one tag per host (children[1..]); weights, one per tag, for WeightedRendezvous */
  constructor(tags: readonly string[], weights: readonly number[] | null) {
    super();
    this.tagHashes = rendezvousTagHashes(tags);
    this.weights = weights === null ? null : Float64Array.from(weights);
  }

  begin(c: FailoverCursor, _n: number): number {
    const rk = c.req.routingKey();
    const primary = c.normalIndex < 0 ? 0 : c.normalIndex;
    const ranked = rendezvousRanking(rk, rk.length, this.tagHashes, this.weights);
    const order: number[] = [];
    for (const host of ranked) if (host !== primary) order.push(host + 1);
    c.order = order;
    return order.length + 1;
  }

  indexAt(c: FailoverCursor, pos: number): number {
    return (c.order as number[])[pos - 1] as number;
  }
}

export class LeastFailuresPolicy extends FailoverPolicy {
  readonly type = 'LeastFailuresPolicy';
  /** mcrouter's recentErrorCount_: consecutive error replies per child. Mutable, one per route. */
  private readonly recentErrors: Uint32Array;

  constructor(
    n: number,
    readonly maxTries: number,
  ) {
    super();
    this.recentErrors = new Uint32Array(n);
  }

  override record(index: number, r: Result): void {
    if (isErrorResult(r)) this.recentErrors[index]!++;
    else this.recentErrors[index] = 0;
  }

  begin(c: FailoverCursor, n: number): number {
    const rest: number[] = [];
    for (let i = 1; i < n; i++) rest.push(i);
    const counts = this.recentErrors;
    rest.sort((a, b) => counts[a]! - counts[b]! || a - b); // Array#sort is stable; the tie-break makes it explicit
    c.order = [0, ...rest];
    return this.maxTries;
  }

  indexAt(c: FailoverCursor, pos: number): number {
    return (c.order as number[])[pos] as number;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Config

/** Error result names mcrouter accepts in `exclude_errors` (bare names: CarbonErrorResults strips mc_res_). */
const ERROR_RESULT_NAMES: readonly string[] = ALL_RESULTS.filter((r) => isErrorResult(r));

const UINT32_MAX = 4294967295;

export const FAILOVER_POLICY_SCHEMA: SchemaObject = {
  type: 'object',
  description:
    'Failover order (mcrouter failover_policy): {type: "DeterministicOrderPolicy", max_tries, max_error_tries, exclude_errors, ' +
    'ignore_normal_reply_index, hash: {hash_func: Ch3|WeightedCh3, weights}}, {type: "RendezvousPolicy"} (tags from the route, ' +
    'weights for WeightedRendezvous), {type: "LeastFailuresPolicy", max_tries}; any other type is the default in-order policy.',
  properties: {
    type: { type: 'string', description: 'DeterministicOrderPolicy, RendezvousPolicy or LeastFailuresPolicy; anything else = in order.' },
    max_tries: { type: 'integer', minimum: 1, maximum: UINT32_MAX, description: 'Children tried at most, the normal one included (DeterministicOrder, LeastFailures: required; clamped to the number of children).' },
    max_error_tries: { type: 'integer', minimum: 1, maximum: UINT32_MAX, description: 'DeterministicOrder (required): errors counted before giving up; TKO and hard-TKO replies and exclude_errors do not count. Clamped to max_tries.' },
    exclude_errors: { type: 'array', items: { type: 'string', enum: [...ERROR_RESULT_NAMES] }, description: 'DeterministicOrder: error results that do not count against max_error_tries.' },
    enable_failure_domains: { type: 'boolean', description: 'DeterministicOrder: avoid the failure domain of a TKO destination. Accepted; mcrelay servers have no failure domain.' },
    ignore_normal_reply_index: { type: 'boolean', description: 'DeterministicOrder: do not skip the child the normal route chose.' },
    hash: {
      type: 'object',
      description: 'DeterministicOrder hash (the route\'s own `hash` object wins): hash_func Ch3 (default) or WeightedCh3 with weights. A salt here is ignored, as in mcrouter.',
      properties: {
        hash_func: { type: 'string' },
        weights: { type: 'array', items: { type: 'number' } },
        salt: { type: ['string', 'number'] },
      },
      additionalProperties: false,
    },
    tags: { type: 'array', items: { type: 'string' }, description: 'RendezvousPolicy: one tag per failover host (the route\'s own `tags` win).' },
    weights: { type: 'array', items: { type: 'number' }, description: 'RendezvousPolicy with the route\'s hash "WeightedRendezvous": one weight per tag.' },
  },
  required: ['type'],
  additionalProperties: false,
};

export interface FailoverPolicyOption {
  type: string;
  max_tries?: number;
  max_error_tries?: number;
  exclude_errors?: string[];
  enable_failure_domains?: boolean;
  ignore_normal_reply_index?: boolean;
  hash?: { hash_func?: string; weights?: number[]; salt?: string | number };
  tags?: string[];
  weights?: number[];
}

/** The route-level options mcrouter's factory folds into the policy (`hash`, `tags`). */
export interface FailoverPolicyRouteOptions {
  hash?: string | Record<string, unknown>;
  tags?: string[];
}

/**
 * The policy for validated options, checked as mcrouter's FailoverRoute factory and policy constructors
 * check them. Where mcrouter logs and clamps (max_tries above the number of children, max_error_tries above
 * max_tries), this warns and clamps.
 * @param n supplies the number of children
 */
export function failoverPolicyFrom(
  p: FailoverPolicyOption | undefined,
  route: FailoverPolicyRouteOptions,
  n: number,
  b: RouteBuilder,
  path: string,
  type: string,
): FailoverPolicy {
  if (p === undefined) return IN_ORDER;
  const at = `${path}/failover_policy`;
  const fail = (key: string, msg: string): never => b.fail(key === '' ? at : `${at}/${key}`, `${type}: ${p.type}: ${msg}`);
  switch (p.type) {
    case 'DeterministicOrderPolicy': {
      if (p.max_tries === undefined) fail('', "must specify 'max_tries' field");
      if (p.max_error_tries === undefined) fail('', "must specify 'max_error_tries' field");
      let maxTries = p.max_tries as number;
      if (maxTries > n) {
        b.warn(`${at}/max_tries`, `${type}: ${p.type}: max_tries (${maxTries}) exceeds the number of children (${n}); using ${n}`);
        maxTries = n;
      }
      let maxErrorTries = p.max_error_tries as number;
      if (maxErrorTries > maxTries) {
        b.warn(`${at}/max_error_tries`, `${type}: ${p.type}: max_error_tries (${maxErrorTries}) exceeds max_tries (${maxTries}); using ${maxTries}`);
        maxErrorTries = maxTries;
      }
      if (p.enable_failure_domains === true) {
        b.warn(`${at}/enable_failure_domains`, `${type}: ${p.type}: enable_failure_domains has no effect (mcrelay servers have no failure domain)`);
      }
      // mcrouter: the route's `hash` replaces the policy's.
      const routeHash = route.hash;
      let hash: Record<string, unknown> | undefined = p.hash;
      let hashAt = `${at}/hash`;
      if (routeHash !== undefined) {
        if (typeof routeHash !== 'object') b.fail(`${path}/hash`, `${type}: ${p.type}: hash is not an object`);
        hash = routeHash;
        hashAt = `${path}/hash`;
      }
      const func = hash?.['hash_func'] ?? 'Ch3';
      if (typeof func !== 'string') b.fail(`${hashAt}/hash_func`, `${type}: ${p.type}: hash_func is not a string`);
      if (func !== 'Ch3' && func !== 'WeightedCh3') b.fail(`${hashAt}/hash_func`, `${type}: ${p.type}: unknown hash function ${String(func)} (Ch3 or WeightedCh3)`);
      if (n > FURC_MAX_POOL_SIZE) fail('', `too many children for Ch3 (${n})`);
      let thresholds: Float64Array | null = null;
      if (func === 'WeightedCh3') {
        const w = hash?.['weights'];
        if (!Array.isArray(w)) return b.fail(hashAt, `${type}: ${p.type}: WeightedCh3 needs a weights array`);
        w.forEach((x: unknown, i: number) => {
          if (typeof x !== 'number' || !Number.isFinite(x)) b.fail(`${hashAt}/weights/${i}`, `${type}: ${p.type}: weight is not a number`);
        });
        if (w.length < n) b.warn(`${hashAt}/weights`, `${type}: ${p.type}: ${w.length} weights for ${n} children; the missing ones are 0.5`);
        thresholds = weightedCh3Thresholds(w as number[], n);
      }
      const exclude = new Set((p.exclude_errors ?? []) as Result[]);
      return new DeterministicOrderPolicy(n, maxTries, maxErrorTries, exclude, p.ignore_normal_reply_index === true, thresholds);
    }
    case 'RendezvousPolicy': {
      const tags = route.tags ?? p.tags;
      const tagsAt = route.tags !== undefined ? `${path}/tags` : `${at}/tags`;
      if (tags === undefined) return b.fail(route.tags !== undefined ? tagsAt : path, `${type}: FailoverRendezvousPolicy: tags needed for Rendezvous hash route`);
      if (tags.length !== n - 1) {
        b.fail(tagsAt, `${type}: FailoverRendezvousPolicy: number of tags ${tags.length} doesn't match number of route handles ${n - 1}`);
      }
      let weights: number[] | null = null;
      if (route.hash === 'WeightedRendezvous') {
        if (p.weights === undefined) return b.fail(at, `${type}: ${p.type}: WeightedRendezvous needs a weights array`);
        if (p.weights.length !== tags.length) b.fail(`${at}/weights`, `${type}: ${p.type}: number of weights (${p.weights.length}) doesn't match number of tags (${tags.length})`);
        weights = p.weights;
      }
      return new RendezvousPolicy(tags, weights);
    }
    case 'LeastFailuresPolicy': {
      if (p.max_tries === undefined) return fail('', "must specify 'max_tries' field");
      let maxTries = p.max_tries;
      if (maxTries > n) {
        b.warn(`${at}/max_tries`, `${type}: ${p.type}: max_tries (${maxTries}) exceeds the number of children (${n}); using ${n}`);
        maxTries = n;
      }
      return new LeastFailuresPolicy(n, maxTries);
    }
    default:
      // mcrouter: every other type is the in-order policy, with none of the policy's options.
      b.warn(`${at}/type`, `${type}: failover policy type "${p.type}" is not one mcrouter knows; children are tried in order`);
      return IN_ORDER;
  }
}
