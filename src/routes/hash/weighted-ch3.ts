/**
 * mcrouter WeightedCh3: Ch3 (furc) with a per-server accept/reject test, bit-exact.
 *
 * Source of truth: mcrouter.md §3.3 (`WeightedCh3HashFunc.cpp`) and the §3.4 WeightedCh3 vectors
 * (counts, 10K-key checksums, long keys).
 *
 * For up to 32 tries: idx = furc(k, n); p = SpookyHashV2.Hash32(k, 0xface2014); accept when
 * p < trunc(weight[idx] * 4294967295). Otherwise k = key ‖ reversedDecimal(salt++) — the suffixes are
 * "0".."9","01","11",... and are always appended to the ORIGINAL key. All tries failing returns the
 * last idx (so all-zero weights still give a deterministic, Ch3-like answer).
 *
 * Quirks: with every weight 1.0 this equals Ch3 except when p == 0xFFFFFFFF (p < w is false).
 * Missing weights are 0.5 and extra weights are ignored (applied by `createSelector`).
 * Keys of 192+ bytes use Spooky's long path (see spooky-v2.ts).
 */
import { furcHash } from './furc.js';
import { spookyHash32 } from './spooky-v2.js';

export const WEIGHTED_CH3_SEED = 0xface2014;
export const WEIGHTED_CH3_MAX_TRIES = 32;

let scratch: Uint8Array = new Uint8Array(256);

/** Acceptance thresholds trunc(w * 4294967295) for weights in [0, 1]. */
export function weightedCh3Thresholds(weights: readonly number[], n: number): Float64Array {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = i < weights.length ? weights[i]! : 0.5;
    t[i] = Math.trunc(w * 4294967295);
  }
  return t;
}

/** WeightedCh3 index of key[0, len) over n servers with precomputed thresholds. */
export function weightedCh3Index(key: Uint8Array, len: number, n: number, thresholds: Float64Array): number {
  let k = key;
  let klen = len;
  let idx = 0;
  for (let salt = 0; salt < WEIGHTED_CH3_MAX_TRIES; salt++) {
    idx = furcHash(k, n, klen);
    const p = spookyHash32(k, WEIGHTED_CH3_SEED, klen);
    if (p < thresholds[idx]!) return idx;
    // Next candidate: original key followed by the decimal digits of `salt`, least significant first.
    if (k !== scratch) {
      if (scratch.length < len + 12) scratch = new Uint8Array(len * 2 + 16);
      scratch.set(key.subarray(0, len), 0);
      k = scratch;
    }
    let s = salt;
    klen = len;
    do {
      scratch[klen++] = 0x30 + (s % 10);
      s = Math.floor(s / 10);
    } while (s > 0);
  }
  return idx;
}
