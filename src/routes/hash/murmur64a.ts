/**
 * MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit variant for 64-bit platforms), bit-exact.
 *
 * Source of truth: mcrouter.md §3.2 step 1 (the standard MurmurHash2-64A description) and the
 * furc/Ch3 golden vectors in §3.4, which exercise it end to end.
 *
 * Quirks / implementation notes:
 * - No BigInt: every 64-bit value is a pair of uint32 halves. 64x64 mod 2^64 multiplication takes the
 *   high word of lo*lo from two exact double products (16-bit limbs of one factor) and the cross terms
 *   from `Math.imul`; no module-level scratch state, so V8 inlines it into the hash loops.
 * - Reads are little-endian; the 1..7 byte tail is XORed into `h` (not into `k`) then `h *= M`.
 * - Seeds are 64-bit (given as hi/lo halves); mcrouter only ever uses 32-bit seeds
 *   (4193360111 for furc/Rendezvous tags, 2718281828 for Rendezvous keys).
 * - Results are written into a caller-provided Uint32Array as [lo, hi] to avoid allocation.
 */

/** M = 0xc6a4a7935bd1e995 */
export const M_HI = 0xc6a4a793;
export const M_LO = 0x5bd1e995;

/** M's low word in 16-bit limbs, for the high word of l * M_LO (see mulMHi). */
const M_LO_0 = 0xe995;
const M_LO_1 = 0x5bd1;

/**
 * High 32 bits of (h:l) * M mod 2^64 (the low 32 bits are `Math.imul(l, M_LO) >>> 0`).
 *
 * hi(l * M_LO) is computed in doubles: l * M_LO_0 and l * M_LO_1 are < 2^48, so exact, and
 * floor((l*M_LO_0 + l*M_LO_1*2^16) / 2^32) = floor((floor(l*M_LO_0 / 2^16) + l*M_LO_1) / 2^16), every
 * intermediate < 2^49. `>>> 0` of a non-negative double below 2^32 is its floor. The cross terms are
 * Math.imul; the final `>>> 0` reduces the (exact) sum mod 2^32. Small enough for V8 to inline.
 */
function mulMHi(h: number, l: number): number {
  const t = ((((l * M_LO_0) / 65536) >>> 0) + l * M_LO_1) / 65536;
  return ((t >>> 0) + Math.imul(l, M_HI) + Math.imul(h, M_LO)) >>> 0;
}

/** High 32 bits of al * bl (uint32 each), by the same double-precision split as mulMHi. */
function mulHi32(al: number, bl: number): number {
  const t = ((((al * (bl & 0xffff)) / 65536) >>> 0) + al * (bl >>> 16)) / 65536;
  return t >>> 0;
}

/** Exported for sibling modules (Rendezvous mixing, Jump LCG): (ah:al)*(bh:bl) mod 2^64 into out[0]=lo, out[1]=hi. */
export function mul64Into(ah: number, al: number, bh: number, bl: number, out: Uint32Array, idx: number): void {
  out[idx] = Math.imul(al, bl) >>> 0;
  out[idx + 1] = (mulHi32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
}

/**
 * MurmurHash64A of `buf[off, off+len)` with a 64-bit seed (seedHi:seedLo).
 * Writes out[idx] = low 32 bits, out[idx+1] = high 32 bits.
 */
export function murmur64aInto(
  buf: Uint8Array,
  off: number,
  len: number,
  seedHi: number,
  seedLo: number,
  out: Uint32Array,
  idx: number,
): void {
  // h = seed ^ (len * M)
  const l0 = len >>> 0;
  let hHi = (seedHi ^ mulMHi(0, l0)) >>> 0;
  let hLo = (seedLo ^ Math.imul(l0, M_LO)) >>> 0;
  const nblocks = len >>> 3;
  let p = off;
  for (let i = 0; i < nblocks; i++, p += 8) {
    let kLo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    let kHi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
    // k *= M; k ^= k >> 47; k *= M
    let t = mulMHi(kHi, kLo);
    kLo = (Math.imul(kLo, M_LO) ^ (t >>> 15)) >>> 0;
    kHi = t;
    t = mulMHi(kHi, kLo);
    kLo = Math.imul(kLo, M_LO) >>> 0;
    kHi = t;
    // h ^= k; h *= M
    hHi = (hHi ^ kHi) >>> 0;
    hLo = (hLo ^ kLo) >>> 0;
    t = mulMHi(hHi, hLo);
    hLo = Math.imul(hLo, M_LO) >>> 0;
    hHi = t;
  }
  const rem = len & 7;
  if (rem !== 0) {
    for (let i = rem - 1; i >= 0; i--) {
      const b = buf[p + i]!;
      if (i >= 4) hHi = (hHi ^ (b << (8 * (i - 4)))) >>> 0;
      else hLo = (hLo ^ (b << (8 * i))) >>> 0;
    }
    const t = mulMHi(hHi, hLo);
    hLo = Math.imul(hLo, M_LO) >>> 0;
    hHi = t;
  }
  // h ^= h >> 47; h *= M; h ^= h >> 47
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  const t = mulMHi(hHi, hLo);
  out[idx] = (Math.imul(hLo, M_LO) ^ (t >>> 15)) >>> 0;
  out[idx + 1] = t;
}

/**
 * The furc "rehash" step: MurmurHash64A of the 8-byte little-endian value k with a 32-bit seed,
 * specialised (len = 8, no tail). Reads k from src[si], src[si+1] (lo, hi); writes dst[di], dst[di+1].
 */
export function murmur64aRehashInto(
  kLoIn: number,
  kHiIn: number,
  initHi: number,
  initLo: number,
  dst: Uint32Array,
  di: number,
): void {
  let t = mulMHi(kHiIn, kLoIn);
  let kLo = (Math.imul(kLoIn, M_LO) ^ (t >>> 15)) >>> 0;
  let kHi = t;
  t = mulMHi(kHi, kLo);
  kLo = Math.imul(kLo, M_LO) >>> 0;
  kHi = t;
  const xHi = (initHi ^ kHi) >>> 0;
  const xLo = (initLo ^ kLo) >>> 0;
  t = mulMHi(xHi, xLo);
  const hHi = t;
  const hLo = (Math.imul(xLo, M_LO) ^ (t >>> 15)) >>> 0;
  t = mulMHi(hHi, hLo);
  dst[di] = (Math.imul(hLo, M_LO) ^ (t >>> 15)) >>> 0;
  dst[di + 1] = t;
}

/** h0 of the rehash for a given 32-bit seed: (seed ^ (8 * M)) as [hi, lo]. */
export function rehashInit(seed: number): [number, number] {
  return [mulMHi(0, 8), (Math.imul(8, M_LO) ^ seed) >>> 0];
}

const TMP = new Uint32Array(2);

/** Convenience (allocates a BigInt; for tests/tooling): MurmurHash64A(buf, seed) as uint64. */
export function murmur64a(buf: Uint8Array, seed: bigint | number = 0): bigint {
  const s = BigInt.asUintN(64, BigInt(seed));
  murmur64aInto(buf, 0, buf.length, Number(s >> 32n), Number(s & 0xffffffffn), TMP, 0);
  return (BigInt(TMP[1]!) << 32n) | BigInt(TMP[0]!);
}
