/**
 * Standard reflected CRC-32 (IEEE 802.3 / zlib): polynomial 0xEDB88320, init 0xFFFFFFFF, final XOR
 * 0xFFFFFFFF, table-driven (one 256-entry table, built once at module load).
 *
 * Source of truth: mcrouter.md §3.3 (Crc32HashFunc = `(crc32(key) & 0x7fffffff) % n`) and the
 * Crc32HashTest vectors in §3.4; twemproxy's `crc32a` is this function unchanged, and twemproxy's
 * `crc32` is libmemcached's 15-bit variant derived from it (see key-hashes.ts).
 *
 * Quirk (mcrouter Crc32 hash func): the top bit is masked off before the modulo, so the result is
 * computed from a 31-bit value.
 */

export const CRC32_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of buf[0, len) as uint32. */
export function crc32(buf: Uint8Array, len: number = buf.length): number {
  const t = CRC32_TABLE;
  let c = -1;
  for (let i = 0; i < len; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** mcrouter Crc32HashFunc: `(crc32(key) & 0x7fffffff) % n`. */
export function crc32HashIndex(buf: Uint8Array, len: number, n: number): number {
  return (crc32(buf, len) & 0x7fffffff) % n;
}
