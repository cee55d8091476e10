/**
 * Recycled memory for large value blocks (a VALUE block read from a server in place, see
 * upstream/connection.ts).
 *
 * A 100 KB value used to get a fresh buffer every time it passed through: a malloc, an ArrayBuffer the
 * garbage collector tracks, and a free after the next scavenge, over 1 GB/s at the value-100k benchmark.
 * Here a block comes from a free list of its size class and goes back once its bytes are known to be
 * nobody's any more.
 *
 * The rule that keeps this safe: **forgetting to release is harmless, releasing early is not**. A block
 * that is never released is an ordinary buffer the garbage collector frees. So only the one place that can
 * prove it holds the last reference releases: the client session, after the kernel took its write of the
 * block in full, for a reply whose route ("this server, key unchanged", RouteHandle.directRange) keeps no
 * reference. Everything else (replies through the route tree, embedded callers, slow readers whose bytes
 * wait in the socket) leaves the block to the garbage collector, exactly as before.
 *
 * Size classes are quarter steps between powers of two (8 KB, 10 KB, 12 KB, 14 KB, 16 KB, 20 KB, …), so a
 * block wastes under a quarter of its size; blocks above MAX_POOLED are not pooled. The free lists hold at
 * most FREE_BYTES_MAX bytes in all: memory held for reuse is bounded, whatever the traffic was.
 */

/** Smallest and largest block kept for reuse. */
const MIN_POOLED = 8 * 1024;
export const MAX_POOLED = 2 * 1024 * 1024;
/** Most bytes the free lists hold together. */
const FREE_BYTES_MAX = 16 * 1024 * 1024;

const freeLists = new Map<number, ArrayBufferLike[]>();
/** Every ArrayBuffer this pool handed out, so a release of anything else is refused. */
const ours = new WeakSet<ArrayBufferLike>();
let freeBytes = 0;
let reused = 0;
let allocated = 0;

/** The size class of a block of `n` bytes: n rounded up to a quarter step of its power of two. */
export function blockClass(n: number): number {
  if (n <= MIN_POOLED) return MIN_POOLED;
  const step = 2 ** (Math.ceil(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

/**
 * A buffer of exactly `n` bytes (contents undefined) over a pooled ArrayBuffer, or over a fresh one when
 * `n` is outside the pooled sizes. The buffer starts at byte 0 of its ArrayBuffer.
 */
export function acquireBlock(n: number): Buffer {
  if (n < MIN_POOLED / 2 || n > MAX_POOLED) return Buffer.allocUnsafeSlow(n);
  const cls = blockClass(n);
  const list = freeLists.get(cls);
  const ab = list === undefined ? undefined : list.pop();
  if (ab !== undefined) {
    freeBytes -= cls;
    ours.add(ab);
    reused++;
    return Buffer.from(ab, 0, n);
  }
  const full = Buffer.allocUnsafeSlow(cls);
  ours.add(full.buffer);
  allocated++;
  return full.subarray(0, n);
}

/**
 * Give back the block `b` is a view of. The caller guarantees nothing will read or write it again (see
 * the rule above). Anything not from acquireBlock, and anything over the free-list budget, is left to the
 * garbage collector.
 */
export function releaseBlock(b: Buffer): void {
  const ab = b.buffer;
  if (!ours.has(ab)) return;
  const cls = ab.byteLength;
  if (freeBytes + cls > FREE_BYTES_MAX) return;
  // Out of the set while free: a second release of the same block before it is handed out again is a no-op.
  ours.delete(ab);
  let list = freeLists.get(cls);
  if (list === undefined) {
    list = [] as ArrayBufferLike[];
    freeLists.set(cls, list);
  }
  list.push(ab);
  freeBytes += cls;
}

/** Counters for tests and the admin page: blocks made, blocks handed out again, bytes held free. */
export function blockPoolStats(): { allocated: number; reused: number; freeBytes: number } {
  return { allocated, reused, freeBytes };
}
