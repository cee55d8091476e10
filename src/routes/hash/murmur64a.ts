/**
 * MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit variant for 64-bit platforms), bit-exact.
 *
 * Source of truth: mcrouter.md §3.2 step 1 (the standard MurmurHash2-64A description) and the
 * furc/Ch3 golden vectors in §3.4, which exercise it end to end.
 *
 * Quirks / implementation notes:
 * - No BigInt: every 64-bit value is a pair of uint32 halves. 64x64 mod 2^64 multiplication uses
 *   16-bit limbs for the high word of lo*lo and `Math.imul` for the cross terms.
 * - Reads are little-endian; the 1..7 byte tail is XORed into `h` (not into `k`) then `h *= M`.
 * - Seeds are 64-bit (given as hi/lo halves); mcrouter only ever uses 32-bit seeds
 *   (4193360111 for furc/Rendezvous tags, 2718281828 for Rendezvous keys).
 * - Results are written into a caller-provided Uint32Array as [lo, hi] to avoid allocation.
 */

/** M = 0xc6a4a7935bd1e995 */
export const M_HI = 0xc6a4a793;
export const M_LO = 0x5bd1e995;

/** Scratch result of mul64/mulM: written by the functions below (single-threaded, not reentrant). */
let rHi = 0;
let rLo = 0;

/** (ah:al) * (bh:bl) mod 2^64 -> rHi:rLo. All inputs uint32. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hiOfLoLo = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  rLo = Math.imul(al, bl) >>> 0;
  rHi = (hiOfLoLo + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
}

/** Exported for sibling modules (Rendezvous mixing, Jump LCG): (ah:al)*(bh:bl) mod 2^64 into out[0]=lo, out[1]=hi. */
export function mul64Into(ah: number, al: number, bh: number, bl: number, out: Uint32Array, idx: number): void {
  mul64(ah, al, bh, bl);
  out[idx] = rLo;
  out[idx + 1] = rHi;
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
  mul64(0, len >>> 0, M_HI, M_LO);
  let hHi = (seedHi ^ rHi) >>> 0;
  let hLo = (seedLo ^ rLo) >>> 0;
  const nblocks = len >>> 3;
  let p = off;
  for (let i = 0; i < nblocks; i++, p += 8) {
    let kLo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    let kHi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
    mul64(kHi, kLo, M_HI, M_LO);
    kHi = rHi;
    kLo = (rLo ^ (rHi >>> 15)) >>> 0; // k ^= k >> 47
    mul64(kHi, kLo, M_HI, M_LO);
    hHi = (hHi ^ rHi) >>> 0;
    hLo = (hLo ^ rLo) >>> 0;
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = rHi;
    hLo = rLo;
  }
  const rem = len & 7;
  if (rem !== 0) {
    for (let i = rem - 1; i >= 0; i--) {
      const b = buf[p + i]!;
      if (i >= 4) hHi = (hHi ^ (b << (8 * (i - 4)))) >>> 0;
      else hLo = (hLo ^ (b << (8 * i))) >>> 0;
    }
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = rHi;
    hLo = rLo;
  }
  // h ^= h >> 47; h *= M; h ^= h >> 47
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mul64(hHi, hLo, M_HI, M_LO);
  out[idx] = (rLo ^ (rHi >>> 15)) >>> 0;
  out[idx + 1] = rHi;
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
  mul64(kHiIn, kLoIn, M_HI, M_LO);
  let kHi = rHi;
  let kLo = (rLo ^ (rHi >>> 15)) >>> 0;
  mul64(kHi, kLo, M_HI, M_LO);
  kHi = rHi;
  kLo = rLo;
  mul64((initHi ^ kHi) >>> 0, (initLo ^ kLo) >>> 0, M_HI, M_LO);
  let hHi = rHi;
  let hLo = (rLo ^ (rHi >>> 15)) >>> 0;
  mul64(hHi, hLo, M_HI, M_LO);
  hHi = rHi;
  hLo = (rLo ^ (rHi >>> 15)) >>> 0;
  dst[di] = hLo;
  dst[di + 1] = hHi;
}

/** h0 of the rehash for a given 32-bit seed: (seed ^ (8 * M)) as [hi, lo]. */
export function rehashInit(seed: number): [number, number] {
  mul64(0, 8, M_HI, M_LO);
  return [rHi, (rLo ^ seed) >>> 0];
}

const TMP = new Uint32Array(2);

/** Convenience (allocates a BigInt; for tests/tooling): MurmurHash64A(buf, seed) as uint64. */
export function murmur64a(buf: Uint8Array, seed: bigint | number = 0): bigint {
  const s = BigInt.asUintN(64, BigInt(seed));
  murmur64aInto(buf, 0, buf.length, Number(s >> 32n), Number(s & 0xffffffffn), TMP, 0);
  return (BigInt(TMP[1]!) << 32n) | BigInt(TMP[0]!);
}
