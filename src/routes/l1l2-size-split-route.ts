/**
 * L1L2SizeSplitRoute: asymmetric storage, as mcrouter's L1L2SizeSplitRoute. Small values live in `l1`;
 * a large value lives in `l2`, and l1 keeps a sentinel for it: the key with client flag 0x20
 * (MC_MSG_FLAG_SIZE_SPLIT) and an empty value.
 *
 * `set`: to l1 when `threshold` is 0, the value is shorter than `threshold`, the exptime is below a
 * non-zero `ttl_threshold`, or the key is so long (over 231 bytes) that l2's suffixed key would pass 255.
 * Otherwise the value goes to l2 first (same key, same command), and only when l2 stored it is the sentinel
 * set in l1 (with the client's flags | 0x20 and exptime); the reply is l1's, or l2's when l2 failed.
 * With `both_full_set` the full value goes to l1, and, once stored, to l2 in the background.
 * `get`: l1; a hit carrying 0x20 is a sentinel. An empty sentinel sends the get to l2 and answers with l2's
 * reply. A sentinel with a value v (mcrouter's lease-set writes those) reads `<key>|==|<v>` from l2: a hit is
 * answered with the client's key; an error is returned (and, for a failover error, the sentinel is deleted);
 * a miss deletes the sentinel and answers local_error.
 * `gets`: the same, with the CAS token of l1's sentinel on a hit; an l2 miss deletes the sentinel and tries
 * again, up to `retries` times (1 to 10), then answers local_error.
 * Deleting a sentinel: `gets` it from l1 and, when it still holds the value read, `cas` it with exptime -1.
 * Every other op (add, replace, append, prepend, cas, delete, touch, gat, incr, meta commands ...) goes to
 * l1 only, so a delete leaves the l2 copy behind until it expires (as in mcrouter).
 *
 * Limits: lease-get and lease-set do not exist in the ASCII protocol, so `failure_ttl` (lease-set's
 * fallback TTL) is validated and unused. A client value that carries flag 0x20 itself reads as a
 * sentinel, as in mcrouter.
 */
import { frozenReply, isFailoverError, isErrorResult, Reply, Request } from '../protocol/types.js';
import { getRequest, storageRequest } from '../protocol/rewrite.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { hitParts, onBehalfOf, storageLine, valueBlock } from './util/value-line.js';

/** mcrouter's MC_MSG_FLAG_SIZE_SPLIT. */
export const SIZE_SPLIT_FLAG = 0x20;
const HASH_ALIAS = '|==|';
const MAX_KEY_LENGTH = 255;
/** mcrouter's kExtraKeySpaceNeeded: "|==|" plus the 20 digits of the largest uint64. */
const EXTRA_KEY_SPACE = HASH_ALIAS.length + 20;
const EMPTY = Buffer.alloc(0);
const LOCAL_ERROR = frozenReply(new Reply('local_error'));
export const MAX_RETRIES = 10;

export interface SizeSplitSettings {
  /** Values at least this long are split (0 = never); negative configs mean never, as mcrouter's size_t. */
  readonly threshold: number;
  readonly ttlThreshold: number;
  readonly failureTtl: number;
  readonly bothFullSet: boolean;
  readonly retries: number;
}

export class L1L2SizeSplitRoute implements RouteHandle {
  readonly type = 'L1L2SizeSplitRoute';
  readonly name = 'L1L2SizeSplitRoute';
  readonly routeNames: readonly string[] = ['l1l2-sizesplit'];

  constructor(
    private readonly l1: RouteHandle,
    private readonly l2: RouteHandle,
    readonly settings: SizeSplitSettings,
  ) {}

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    switch (req.op) {
      case 'get': this.routeGet(req, ctx, done); return;
      case 'gets': this.routeGets(req, ctx, done, this.settings.retries); return;
      case 'set': this.routeSet(req, ctx, done); return;
      default: this.l1.route(req, ctx, done);
    }
  }

  /** mcrouter's fullSetShouldGoToL1. */
  private setGoesToL1(req: Request): boolean {
    const s = this.settings;
    const len = req.value?.length ?? 0;
    return s.threshold <= 0 || len < s.threshold || (s.ttlThreshold !== 0 && req.exptime < s.ttlThreshold) ||
      req.key.length + EXTRA_KEY_SPACE > MAX_KEY_LENGTH;
  }

  private routeSet(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (this.setGoesToL1(req)) {
      this.l1.route(req, ctx, done);
      return;
    }
    if (this.settings.bothFullSet) {
      this.l1.route(req, ctx, (l1Reply) => {
        if (l1Reply.result === 'stored') ctx.spawn(this.l2, req, 'async');
        done(l1Reply);
      });
      return;
    }
    // L2 first, so no reader follows a sentinel to a value that is not there yet.
    this.l2.route(req, ctx, (l2Reply) => {
      if (l2Reply.result !== 'stored') {
        done(l2Reply);
        return;
      }
      const flags = storageLine(req).flags;
      this.l1.route(onBehalfOf(req, storageRequest('set', req.key, (flags | SIZE_SPLIT_FLAG) >>> 0, req.exptime, EMPTY)), ctx, done);
    });
  }

  private routeGet(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.l1.route(req, ctx, (l1Reply) => {
      const hit = l1Reply.result === 'found' ? hitParts(l1Reply.raw) : null;
      if (hit === null || (hit.flags & SIZE_SPLIT_FLAG) === 0) {
        done(l1Reply);
        return;
      }
      if (hit.data.length === 0) {
        this.l2.route(req, ctx, done);
        return;
      }
      const l1Value = Buffer.from(hit.data); // the reply buffer is not ours to keep
      this.readL2(req, l1Value, ctx, (l2Reply) => {
        const l2 = l2Reply.result === 'found' ? hitParts(l2Reply.raw) : null;
        if (l2 !== null) {
          done(new Reply('found', valueBlock(req.key, l2.flags, [l2.data], null)));
          return;
        }
        if (isErrorResult(l2Reply.result)) {
          if (isFailoverError(l2Reply.result)) this.deleteSentinel(req, l1Value, ctx, () => done(new Reply(l2Reply.result)));
          else done(new Reply(l2Reply.result));
          return;
        }
        this.deleteSentinel(req, l1Value, ctx, () => done(LOCAL_ERROR));
      });
    });
  }

  /** mcrouter's doRoute for gets: follow the sentinel; on an l2 miss delete it and retry. */
  private routeGets(req: Request, ctx: RouteContext, done: ReplyCallback, retriesLeft: number): void {
    this.l1.route(req, ctx, (l1Reply) => {
      const hit = l1Reply.result === 'found' ? hitParts(l1Reply.raw) : null;
      if (hit === null || (hit.flags & SIZE_SPLIT_FLAG) === 0) {
        done(l1Reply);
        return;
      }
      const l1Value = Buffer.from(hit.data);
      const cas = hit.cas;
      this.readL2(req, l1Value, ctx, (l2Reply) => {
        const l2 = l2Reply.result === 'found' ? hitParts(l2Reply.raw) : null;
        if (l2 !== null) {
          done(new Reply('found', valueBlock(req.key, l2.flags, [l2.data], cas)));
          return;
        }
        if (isErrorResult(l2Reply.result)) {
          if (isFailoverError(l2Reply.result)) this.deleteSentinel(req, l1Value, ctx, () => done(new Reply(l2Reply.result)));
          else done(new Reply(l2Reply.result));
          return;
        }
        if (retriesLeft !== 0) this.deleteSentinel(req, l1Value, ctx, () => this.routeGets(req, ctx, done, retriesLeft - 1));
        else done(LOCAL_ERROR);
      });
    });
  }

  /** A plain get from l2: the same key for an empty sentinel, `<key>|==|<value>` otherwise. */
  private readL2(req: Request, l1Value: Buffer, ctx: RouteContext, done: ReplyCallback): void {
    const key = l1Value.length === 0 ? req.key : Buffer.concat([req.key, Buffer.from(HASH_ALIAS, 'latin1'), l1Value]);
    this.l2.route(onBehalfOf(req, getRequest(key)), ctx, done);
  }

  /** mcrouter's deleteSentinel: gets from l1; when it still holds `l1Value`, cas it with exptime -1. */
  private deleteSentinel(req: Request, l1Value: Buffer, ctx: RouteContext, then: () => void): void {
    this.l1.route(onBehalfOf(req, getsRequest(req.key)), ctx, (r) => {
      const hit = r.result === 'found' ? hitParts(r.raw) : null;
      if (hit === null || hit.cas === null || !hit.data.equals(l1Value)) {
        then();
        return;
      }
      this.l1.route(onBehalfOf(req, casExpire(req.key, hit.cas)), ctx, () => then());
    });
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.l1, req);
    if (req.op === 'get' || req.op === 'gets' || req.op === 'set') t.visit(this.l2, req);
  }
}

/** `gets <key>`. */
function getsRequest(key: Buffer): Request {
  return Request.synthesize('gets', key, 'gets ', '', null, 0);
}

/** `cas <key> 0 -1 0 <cas>` with an empty block: expires the item at once, if nobody changed it since. */
function casExpire(key: Buffer, cas: string): Request {
  return Request.synthesize('cas', key, 'cas ', ` 0 -1 0 ${cas}`, EMPTY, -1);
}

export interface L1L2SizeSplitRouteOptions {
  l1: unknown;
  l2: unknown;
  threshold: number;
  ttl_threshold: number;
  failure_ttl: number;
  both_full_set: boolean;
  retries: number;
}

export const l1l2SizeSplitRouteFactory = defineRoute<L1L2SizeSplitRouteOptions>({
  type: 'L1L2SizeSplitRoute',
  description: 'Sets of values from threshold bytes go to l2 with an empty 0x20 sentinel in l1; gets follow the sentinel; other ops go to l1.',
  schema: {
    type: 'object',
    properties: {
      l1: routeNodeSchema('The small-value tier; holds small values and the sentinels of large ones.'),
      l2: routeNodeSchema('The large-value tier.'),
      threshold: { type: 'integer', description: 'Values of at least this many bytes are stored in l2 (required; 0 = never).' },
      ttl_threshold: { type: 'integer', minimum: 0, default: 0, description: 'Sets with an exptime below this stay in l1 (0 = no such rule).' },
      failure_ttl: { type: 'integer', minimum: 1, default: 60, description: 'mcrouter lease-set fallback TTL when l2 fails; validated, unused (no lease commands).' },
      both_full_set: { type: 'boolean', default: false, description: 'Large values go to l1 in full, and to l2 in the background once l1 stored them.' },
      retries: { type: 'integer', minimum: 1, maximum: MAX_RETRIES, default: 1, description: 'gets: times a dangling sentinel (l2 miss) is deleted and the read retried (1 to 10).' },
    },
    required: ['l1', 'l2', 'threshold'],
    additionalProperties: false,
  },
  create: (o, b, path) =>
    new L1L2SizeSplitRoute(b.route(o.l1, `${path}/l1`), b.route(o.l2, `${path}/l2`), {
      threshold: o.threshold < 0 ? Number.POSITIVE_INFINITY : o.threshold,
      ttlThreshold: o.ttl_threshold,
      failureTtl: o.failure_ttl,
      bothFullSet: o.both_full_set,
      retries: o.retries,
    }),
});
