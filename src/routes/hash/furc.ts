/**
 * furc_hash: mcrouter's Ch3 placement ("furc" = Facebook's consistent hash), bit-exact.
 *
 * Source of truth: mcrouter.md §3.2 (constants and algorithm) and the golden values / bulk
 * checksums of §3.4 (`lib/fbi/test/hash_test.cpp`, `Ch3HashTest.cpp`).
 *
 * Algorithm: a binary decision tree driven by a bit stream. H[0] = MurmurHash64A(key, 4193360111);
 * H[n] = rehash(H[n-1]) (MurmurHash64A of the 8-byte value). Bit i = (H[i>>6] >> (i&63)) & 1.
 *
 * Quirks:
 * - m <= 1 returns 0 (including m = 0). Raw furc accepts m up to 2^32-1 and returns a value < m;
 *   the Ch3 wrapper (see `createSelector`) rejects n = 0 and n > 2^23 (`FURC_MAX_POOL_SIZE`).
 * - After 32 failed tries it returns 0 (not a fallback hash).
 * - Monotone-consistent: growing m keeps a key or moves it to an index >= the old m.
 * - The H stream is computed lazily into a preallocated buffer; no allocation per call.
 */
import { murmur64aInto, murmur64aRehashInto, rehashInit } from './murmur64a.js';
import { createWasmFurc, STREAM_WORDS } from './murmur64a-wasm.js';

export const FURC_SEED = 4193360111; // 0xF9F198EF
export const FURC_SHIFT = 23;
export const FURC_MAX_TRIES = 32;
export const FURC_MAX_POOL_SIZE = 1 << FURC_SHIFT; // 8388608

/** Upper bound on bits read: 32 tries x 32 levels x 23-bit stride plus the initial width. */
const MAX_WORDS = Math.ceil((FURC_MAX_TRIES * 32 * FURC_SHIFT + 64) / 64) + 1;
const [INIT_HI, INIT_LO] = rehashInit(FURC_SEED);
/** The hashing in WebAssembly (one i64.mul per 64-bit product), or null: the JS version in murmur64a.ts. */
const WASM = MAX_WORDS <= STREAM_WORDS ? createWasmFurc(FURC_SEED) : null;
/** [lo, hi] per 64-bit word; in the wasm module's memory when it is used. */
const STREAM = WASM !== null ? WASM.stream : new Uint32Array(MAX_WORDS * 2);

/** Compute stream words [from, w] (word k = rehash(word k-1)); returns the new count of computed words. */
function fill(from: number, w: number): number {
  if (WASM !== null) {
    WASM.fill(from, w);
    return w + 1;
  }
  for (let k = from; k <= w; k++) {
    const prev = (k - 1) * 2;
    murmur64aRehashInto(STREAM[prev]!, STREAM[prev + 1]!, INIT_HI, INIT_LO, STREAM, k * 2);
  }
  return w + 1;
}

/** True when furc hashes in WebAssembly (for tests and the micro-benchmark). */
export function furcUsesWasm(): boolean {
  return WASM !== null;
}

/** furc_maximum_pool_size() */
export function furcMaximumPoolSize(): number {
  return FURC_MAX_POOL_SIZE;
}

/** furc_hash(buf[off, off+len), m): an index in [0, m) (0 when m <= 1). m is treated as uint32. */
export function furcHash(buf: Uint8Array, m: number, len: number = buf.length, off = 0): number {
  if (m <= 1) return 0;
  if (WASM === null || !WASM.hash(buf, off, len, FURC_SEED)) murmur64aInto(buf, off, len, 0, FURC_SEED, STREAM, 0);
  // Words computed so far. Bit i of the stream is bit (i & 31) of STREAM[i >>> 5] ([lo, hi] per word).
  let have = 1;
  let d = 32 - Math.clz32(m - 1);
  let a = d;
  for (let tries = 0; tries < FURC_MAX_TRIES; tries++) {
    for (;;) {
      if (a >>> 6 >= have) have = fill(have, a >>> 6);
      if (((STREAM[a >>> 5]! >>> (a & 31)) & 1) !== 0) break;
      d -= 1;
      if (d === 0) return 0;
      a = d;
    }
    a += FURC_SHIFT;
    let num = 1;
    for (let i = 0; i < d - 1; i++) {
      if (a >>> 6 >= have) have = fill(have, a >>> 6);
      num = ((num << 1) | ((STREAM[a >>> 5]! >>> (a & 31)) & 1)) >>> 0;
      a += FURC_SHIFT;
    }
    if (num < m) return num;
  }
  return 0;
}
