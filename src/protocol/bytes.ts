/**
 * Byte comparisons for short keys. Buffer#equals / Buffer#compare cross into C++ on every call, which
 * costs more than the comparison itself for memcached keys (usually < 64 bytes).
 */

/** True when a[aStart..aStart+len) equals b[bStart..bStart+len). */
export function bytesEqual(a: Buffer, aStart: number, b: Buffer, bStart: number, len: number): boolean {
  if (len > 64) return a.compare(b, bStart, bStart + len, aStart, aStart + len) === 0;
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** True when the two buffers hold the same bytes. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a === b || (a.length === b.length && bytesEqual(a, 0, b, 0, a.length));
}
