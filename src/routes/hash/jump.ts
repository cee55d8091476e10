/**
 * Jump consistent hash (Lamping & Veach, 2014, "A Fast, Minimal Memory, Consistent Hash Algorithm"),
 * keyed by farmhash `fingerprint64` — the STABLE FarmHash fingerprint (never farmhash.hash*, whose
 * output may change between library versions/platforms).
 *
 * Source of truth: the paper's algorithm; golden vectors in test/unit/hash/jump.test.ts were computed
 * once with an independent BigInt transcription of the paper's C code (kept in the test) and frozen.
 *
 * Loop: b = -1, j = 0; while j < n: b = j; key = key * 2862933555777941757 + 1 (mod 2^64);
 *       j = floor((b + 1) * (2^31 / ((key >> 33) + 1))).
 * No BigInt in the loop: the LCG runs on uint32 halves (key >> 33 == hi >>> 1). The only BigInt is the
 * value returned by farmhash itself, split once per call.
 */
import farmhash from 'farmhash';
import { mul64Into } from './murmur64a.js';

const LCG = 2862933555777941757n;
const LCG_HI = Number(LCG >> 32n);
const LCG_LO = Number(LCG & 0xffffffffn);
const T = new Uint32Array(2);

/** Jump hash of the 64-bit key (hi:lo halves) into [0, n). n must be in [1, 2^31). */
export function jumpConsistentHash(keyHi: number, keyLo: number, n: number): number {
  let b = -1;
  let j = 0;
  let hi = keyHi >>> 0;
  let lo = keyLo >>> 0;
  while (j < n) {
    b = j;
    mul64Into(hi, lo, LCG_HI, LCG_LO, T, 0);
    lo = T[0]! + 1;
    hi = T[1]!;
    if (lo > 0xffffffff) {
      lo = 0;
      hi = (hi + 1) >>> 0;
    }
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

/** Jump hash of a 64-bit BigInt key (tests/tooling). */
export function jumpConsistentHashBig(key: bigint, n: number): number {
  const k = BigInt.asUintN(64, key);
  return jumpConsistentHash(Number(k >> 32n), Number(k & 0xffffffffn), n);
}

/** farmhash.fingerprint64 of the bytes, as [hi, lo] into out. */
export function fingerprint64Into(buf: Buffer, out: Uint32Array): void {
  const f = farmhash.fingerprint64(buf);
  out[0] = Number(BigInt.asUintN(32, f));
  out[1] = Number(f >> 32n);
}

const FP = new Uint32Array(2);

/** Jump(fingerprint64(key), n). */
export function jumpIndex(key: Buffer, n: number): number {
  fingerprint64Into(key, FP);
  return jumpConsistentHash(FP[1]!, FP[0]!, n);
}
