/**
 * BigValueRoute: values larger than memcached's item size, split into chunks across the pool, as mcrouter's
 * BigValueRoute. It is not a config type: with `--big-value-split-threshold N` (N > 0) it sits at the very
 * top of the tree (RootRoute puts it above the routing-prefix dispatch, where mcrouter's ProxyRoute does).
 *
 * Writes (set, add, replace, append, prepend, cas) of a value longer than N bytes: the value is cut into
 * ceil(len / N) chunks of N bytes, stored with `set <key>:<i>:<suffix> 0 <exptime>` (suffix = the low 32
 * bits of SpookyHash V2 of the whole value with seed 0, mcrouter's hashBigValue), at most `batch size`
 * chunks in flight at a time (0 = all). When every chunk is stored, the client's own command goes out with
 * the client flags | 0x8000 (MC_MSG_FLAG_BIG_VALUE) and the index value `1-<chunks>-<suffix>`, and its
 * reply is the answer; otherwise the worst chunk reply's result is (by mcrouter's result severity).
 * Reads (get, gets, gat, gats): the request goes down as it is. A hit flagged 0x8000 is an index: its chunks
 * are read with plain `get`s (in batches) and concatenated into one hit with the index's flags (0x8000
 * removed with hide_reply_flag) and, for gets/gats, its CAS token. A chunk that misses or fails makes the
 * whole read that result; an index that does not parse reads as a miss.
 * Everything else, and values up to N bytes, pass through untouched.
 *
 * Replies when everything fails: the worst chunk result for writes, the worst chunk result for reads.
 * Limits (as in mcrouter): append/prepend of a big value chunk the appended data and then append the index
 * text to the item, which corrupts it; chunks are not deleted with the index (they expire with their
 * exptime or are evicted); meta commands (mg, ms) pass through, so they see the index, not the value. Every
 * read's reply is inspected, so RootRoute turns off the multi-get fast path while this route is on.
 */
import { frozenReply, isMultiKeyGet, Reply, resultSeverity, type Request } from '../protocol/types.js';
import { getRequest, storageRequest } from '../protocol/rewrite.js';
import { spookyHash32 } from './hash/spooky-v2.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { hitFlags, hitParts, onBehalfOf, storageLine, valueBlock, withFlagsAndValue } from './util/value-line.js';

/** mcrouter's MC_MSG_FLAG_BIG_VALUE. */
export const BIG_VALUE_FLAG = 0x8000;
const INDEX_VERSION = 1;
const MISS = frozenReply(new Reply('notfound'));

/** mcrouter's BigValueRouteOptions (from --big-value-split-threshold / --big-value-batch-size / --big-value-hide-reply-flag). */
export interface BigValueOptions {
  /** Values longer than this many bytes are split; also the chunk size. */
  readonly threshold: number;
  /** Chunk requests in flight at once (0 = all). mcrouter's default is 10. */
  readonly batchSize: number;
  /** Clear 0x8000 in the flags of reassembled hits. */
  readonly hideReplyFlag: boolean;
}

export const DEFAULT_BIG_VALUE_BATCH_SIZE = 10;

/** The index item's value, `1-<chunks>-<suffix>` (mcrouter's ChunksInfo). */
export interface ChunksInfo {
  readonly chunks: number;
  /** Decimal text of a uint64 (mcrouter writes 32-bit suffixes but reads 64-bit ones). */
  readonly suffix: string;
}

const UINT32_MAX = 4294967295;
const UINT64_MAX = (1n << 64n) - 1n;

/** Parse an index value as mcrouter's sscanf("%u-%u-%lu") and version check do; null when it is not one. */
export function parseChunksInfo(value: Buffer): ChunksInfo | null {
  const m = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/.exec(value.toString('latin1'));
  if (m === null) return null;
  const version = Number(m[1]);
  const chunks = Number(m[2]);
  const suffix = BigInt(m[3] as string);
  if (version !== INDEX_VERSION || chunks > UINT32_MAX || suffix > UINT64_MAX) return null;
  return { chunks, suffix: suffix.toString() };
}

/** `<key>:<index>:<suffix>` (mcrouter's createChunkKey). */
export function chunkKey(key: Buffer, index: number, suffix: string): Buffer {
  return Buffer.concat([key, Buffer.from(`:${index}:${suffix}`, 'latin1')]);
}

/** mcrouter's hashBigValue: folly::IOBufHash (SpookyHash V2, seed 0) of the value, low 32 bits. */
export function bigValueSuffix(value: Buffer): string {
  return String(spookyHash32(value, 0) >>> 0);
}

/** The reads whose VALUE block this route reassembles from chunks (the classic gets). */
function isRead(op: Request['op']): boolean {
  return isMultiKeyGet(op);
}

function isSplittableWrite(op: Request['op']): boolean {
  return op === 'set' || op === 'add' || op === 'replace' || op === 'append' || op === 'prepend' || op === 'cas';
}

/** The first reply of the worst severity (mcrouter's detail::reduce). */
function worst(replies: readonly Reply[]): Reply {
  let w = replies[0] as Reply;
  for (let i = 1; i < replies.length; i++) {
    const r = replies[i] as Reply;
    if (resultSeverity(r.result) > resultSeverity(w.result)) w = r;
  }
  return w;
}

export class BigValueRoute implements RouteHandle {
  readonly type = 'BigValueRoute';
  readonly name = 'BigValueRoute';
  readonly routeNames: readonly string[] = ['big-value'];

  constructor(
    readonly child: RouteHandle,
    readonly options: BigValueOptions,
  ) {
    if (!(options.threshold > 0)) throw new Error('BigValueRoute: threshold must be positive');
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (isRead(req.op)) {
      this.child.route(req, ctx, (reply) => {
        const flags = reply.result === 'found' ? hitFlags(reply.raw) : -1;
        if (flags === -1 || (flags & BIG_VALUE_FLAG) === 0) done(reply);
        else this.readChunks(req, reply, ctx, done);
      });
      return;
    }
    if (isSplittableWrite(req.op) && req.value !== null && req.value.length > this.options.threshold) {
      this.writeChunks(req, req.value, ctx, done);
      return;
    }
    this.child.route(req, ctx, done);
  }

  private readChunks(req: Request, index: Reply, ctx: RouteContext, done: ReplyCallback): void {
    const hit = hitParts(index.raw);
    const info = hit === null ? null : parseChunksInfo(hit.data);
    if (hit === null || info === null || info.chunks === 0) {
      done(MISS);
      return;
    }
    const reqs: Request[] = [];
    for (let i = 0; i < info.chunks; i++) reqs.push(onBehalfOf(req, getRequest(chunkKey(req.key, i, info.suffix))));
    this.inBatches(reqs, ctx, (replies) => {
      const w = worst(replies);
      if (w.result !== 'found') {
        done(new Reply(w.result));
        return;
      }
      const parts: Buffer[] = [];
      for (const r of replies) {
        const p = hitParts(r.raw);
        if (p !== null) parts.push(p.data);
      }
      done(new Reply('found', hitBlock(req, hit.flags, parts, hit.cas, this.options)));
    });
  }

  private writeChunks(req: Request, value: Buffer, ctx: RouteContext, done: ReplyCallback): void {
    const size = this.options.threshold;
    const chunks = Math.ceil(value.length / size);
    const suffix = bigValueSuffix(value);
    const exptime = storageLine(req).exptime;
    const reqs: Request[] = [];
    for (let i = 0; i < chunks; i++) {
      const data = value.subarray(i * size, Math.min(value.length, (i + 1) * size));
      reqs.push(onBehalfOf(req, storageRequest('set', chunkKey(req.key, i, suffix), 0, exptime, data)));
    }
    this.inBatches(reqs, ctx, (replies) => {
      const w = worst(replies);
      if (w.result !== 'stored') {
        done(new Reply(w.result));
        return;
      }
      const flags = (storageLine(req).flags | BIG_VALUE_FLAG) >>> 0;
      this.child.route(withFlagsAndValue(req, flags, Buffer.from(`${INDEX_VERSION}-${chunks}-${suffix}`, 'latin1')), ctx, done);
    });
  }

  /** Route `reqs` through the child, at most batchSize at a time (mcrouter's collectAllByBatches). */
  private inBatches(reqs: readonly Request[], ctx: RouteContext, then: (replies: Reply[]) => void): void {
    const replies: Reply[] = new Array<Reply>(reqs.length);
    const batch = this.options.batchSize === 0 ? reqs.length : this.options.batchSize;
    let next = 0;
    const runBatch = (): void => {
      if (next >= reqs.length) {
        then(replies);
        return;
      }
      const start = next;
      const end = Math.min(reqs.length, start + batch);
      next = end; // before routing: children may reply synchronously
      let left = end - start;
      for (let i = start; i < end; i++) {
        const at = i;
        this.child.route(reqs[i] as Request, ctx, (r) => {
          replies[at] = r;
          if (--left === 0) runBatch();
        });
      }
    };
    runBatch();
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.child, req);
  }
}

/** The reassembled hit, with the client's key. */
function hitBlock(req: Request, flags: number, parts: readonly Buffer[], cas: string | null, o: BigValueOptions): Buffer {
  const f = o.hideReplyFlag ? (flags ^ BIG_VALUE_FLAG) >>> 0 : flags;
  const withCas = req.op === 'gets' || req.op === 'gats' ? cas : null;
  return valueBlock(req.key, f, parts, withCas);
}
