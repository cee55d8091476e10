/**
 * mcrouter Rendezvous (highest-random-weight) and WeightedRendezvous hash funcs, bit-exact.
 *
 * Source of truth: mcrouter.md §3.3 (`RendezvousHashFunc.cpp`) and the Rendezvous vectors in §3.4.
 *
 * - eh[i] = MurmurHash64A(tag[i], 4193360111), precomputed; kh = MurmurHash64A(key, 2718281828).
 * - score_i = CityHash Hash128to64 mix with kMul = 0x9ddfea08eb382d69, low = kh, high = eh[i]:
 *   a = (kh ^ eh) * kMul; a ^= a >> 47; b = (eh ^ a) * kMul; b ^= b >> 47; b *= kMul.
 * - Rendezvous: maximum score compared AS A DOUBLE wins (uint64 -> double rounding, so near-equal
 *   scores can tie); ties go to the HIGHER index.
 * - WeightedRendezvous: score = w_i / -ln((score & (2^53-1)) / 2^53); strict '>' so ties go to the
 *   LOWER index. weights.length must equal tags.length.
 * No BigInt: 64-bit values are uint32 halves.
 */
import { murmur64aInto, mul64Into } from './murmur64a.js';

export const RENDEZVOUS_TAG_SEED = 4193360111;
export const RENDEZVOUS_KEY_SEED = 2718281828;
const KMUL_HI = 0x9ddfea08;
const KMUL_LO = 0xeb382d69;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

const T = new Uint32Array(2);

/** Precomputed tag hashes: [lo0, hi0, lo1, hi1, ...]. */
export function rendezvousTagHashes(tags: readonly string[]): Uint32Array {
  const out = new Uint32Array(tags.length * 2);
  for (let i = 0; i < tags.length; i++) {
    const b = Buffer.from(tags[i]!, 'utf8');
    murmur64aInto(b, 0, b.length, 0, RENDEZVOUS_TAG_SEED, out, i * 2);
  }
  return out;
}

let sHi = 0;
let sLo = 0;
/** Hash128to64(low = kh, high = eh) -> sHi:sLo */
function mix(khHi: number, khLo: number, ehHi: number, ehLo: number): void {
  mul64Into((khHi ^ ehHi) >>> 0, (khLo ^ ehLo) >>> 0, KMUL_HI, KMUL_LO, T, 0);
  const aHi = T[1]!;
  const aLo = (T[0]! ^ (aHi >>> 15)) >>> 0;
  mul64Into((ehHi ^ aHi) >>> 0, (ehLo ^ aLo) >>> 0, KMUL_HI, KMUL_LO, T, 0);
  const bHi = T[1]!;
  const bLo = (T[0]! ^ (bHi >>> 15)) >>> 0;
  mul64Into(bHi, bLo, KMUL_HI, KMUL_LO, T, 0);
  sHi = T[1]!;
  sLo = T[0]!;
}

export function rendezvousIndex(key: Uint8Array, len: number, tagHashes: Uint32Array): number {
  murmur64aInto(key, 0, len, 0, RENDEZVOUS_KEY_SEED, T, 0);
  const khLo = T[0]!;
  const khHi = T[1]!;
  const n = tagHashes.length >>> 1;
  let best = -1;
  let bestIdx = 0;
  for (let i = 0; i < n; i++) {
    mix(khHi, khLo, tagHashes[i * 2 + 1]!, tagHashes[i * 2]!);
    const score = sHi * TWO32 + sLo; // one rounding, like C's uint64 -> double
    if (score >= best) {
      best = score;
      bestIdx = i;
    }
  }
  return bestIdx;
}

export function weightedRendezvousIndex(
  key: Uint8Array,
  len: number,
  tagHashes: Uint32Array,
  weights: Float64Array,
): number {
  murmur64aInto(key, 0, len, 0, RENDEZVOUS_KEY_SEED, T, 0);
  const khLo = T[0]!;
  const khHi = T[1]!;
  const n = tagHashes.length >>> 1;
  let best = -Infinity;
  let bestIdx = 0;
  for (let i = 0; i < n; i++) {
    mix(khHi, khLo, tagHashes[i * 2 + 1]!, tagHashes[i * 2]!);
    const frac = ((sHi & 0x1fffff) * TWO32 + sLo) / TWO53;
    const score = weights[i]! / -Math.log(frac);
    if (score > best) {
      best = score;
      bestIdx = i;
    }
  }
  return bestIdx;
}

/**
 * Every host ranked by its Rendezvous score for the key, best first (mcrouter's RendezvousIterator: a
 * max-heap on (score, index), so equal scores put the HIGHER index first). Used by FailoverRoute's
 * RendezvousPolicy, which tries hosts in this order.
 *
 * `weights` null: RendezvousHashFunc's score, the mixed 64-bit value as a double. With weights
 * (WeightedRendezvousHashFunc): w · (1 / −ln(U)), U the low 53 bits / 2^53; when every weight is the same
 * positive number that order equals the order of the masked 53-bit value, which mcrouter ranks instead.
 */
export function rendezvousRanking(key: Uint8Array, len: number, tagHashes: Uint32Array, weights: Float64Array | null): number[] {
  murmur64aInto(key, 0, len, 0, RENDEZVOUS_KEY_SEED, T, 0);
  const khLo = T[0]!;
  const khHi = T[1]!;
  const n = tagHashes.length >>> 1;
  let uniform = weights !== null && n > 0 && weights[0]! > 0;
  if (weights !== null) for (let i = 1; i < n && uniform; i++) uniform = weights[i] === weights[0];
  const scores = new Float64Array(n);
  const order: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    mix(khHi, khLo, tagHashes[i * 2 + 1]!, tagHashes[i * 2]!);
    order[i] = i;
    if (weights === null) scores[i] = sHi * TWO32 + sLo;
    else if (uniform) scores[i] = (sHi & 0x1fffff) * TWO32 + sLo;
    else scores[i] = weights[i]! * (1 / -Math.log(((sHi & 0x1fffff) * TWO32 + sLo) / TWO53));
  }
  order.sort((a, b) => (scores[b]! > scores[a]! ? 1 : scores[b]! < scores[a]! ? -1 : b - a));
  return order;
}
