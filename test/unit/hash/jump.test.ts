import { describe, it, expect } from 'vitest';
import farmhash from 'farmhash';
import { jumpConsistentHashBig, jumpIndex } from '../../../src/routes/hash/jump.js';
import { createSelector } from '../../../src/routes/hash/selector.js';

/**
 * Golden vectors computed ONCE (2025, farmhash 5.0.1) with an independent BigInt transcription of
 * the paper's C loop (`refJump` below, using C double semantics for the division) and frozen here.
 * fingerprint64 is FarmHash's stable fingerprint, so these must never change.
 */
const N = [1, 2, 3, 10, 100, 1000, 65536, 1000000, 2147483647];
const GOLDEN: Array<[string, string, number[]]> = [
  ['', '11160318154034397263', [0, 1, 1, 7, 46, 224, 2948, 474269, 626734270]],
  ['a', '12917804110809363939', [0, 0, 0, 6, 25, 25, 54460, 894068, 1322762200]],
  ['sample', '7355455729568422039', [0, 1, 2, 2, 53, 53, 9107, 956316, 1883617534]],
  ['user:12345:profile', '7708025164018464431', [0, 1, 2, 9, 83, 875, 56760, 127813, 657333927]],
  ['mcrouter:pool:regional:0001', '18420872042718820170', [0, 1, 1, 8, 16, 997, 37174, 124950, 436208657]],
  ['café', '11379377682866355587', [0, 0, 2, 2, 38, 680, 19229, 309708, 1638566477]],
  ['key0', '3440229454133783444', [0, 1, 2, 2, 55, 932, 60675, 558473, 1298391867]],
];

function refJump(key: bigint, n: number): number {
  let b = -1n;
  let j = 0n;
  let k = key;
  while (j < BigInt(n)) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = BigInt(Math.floor(Number(b + 1n) * (2147483648 / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}

describe('Jump consistent hash', () => {
  it.each(GOLDEN)('golden: %j', (key, fp, expected) => {
    expect(farmhash.fingerprint64(Buffer.from(key, 'utf8')).toString()).toBe(fp);
    expect(N.map((n) => jumpIndex(Buffer.from(key, 'utf8'), n))).toEqual(expected);
  });

  it('raw 64-bit keys', () => {
    expect(jumpConsistentHashBig(0n, 1)).toBe(0);
    expect(jumpConsistentHashBig(0n, 100)).toBe(0);
    expect(jumpConsistentHashBig(1n, 100)).toBe(55);
    expect(jumpConsistentHashBig(0xdeadbeefn, 1000)).toBe(285);
    expect(jumpConsistentHashBig(0xffffffffffffffffn, 1000)).toBe(313);
    expect(jumpConsistentHashBig(256n, 2147483647)).toBe(74751002);
  });

  it('32-bit-halves LCG agrees with the BigInt reference on random keys', () => {
    let x = 99n;
    for (let i = 0; i < 2000; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      const n = 1 + (Number(x >> 40n) % 5000);
      expect(jumpConsistentHashBig(x, n)).toBe(refJump(x, n));
    }
  });

  it('is monotone (keys only move to the new bucket) and balanced', () => {
    const keys = Array.from({ length: 20000 }, (_, i) => Buffer.from('jump:' + i));
    let prev = keys.map((k) => jumpIndex(k, 1));
    for (let n = 2; n <= 40; n++) {
      const cur = keys.map((k) => jumpIndex(k, n));
      let moved = 0;
      for (let i = 0; i < keys.length; i++) {
        if (cur[i] !== prev[i]) {
          expect(cur[i]).toBe(n - 1);
          moved++;
        }
      }
      // ~1/n of keys move; allow generous slack
      expect(moved / keys.length).toBeGreaterThan(0.5 / n);
      expect(moved / keys.length).toBeLessThan(1.5 / n);
      prev = cur;
    }
    const counts = new Array<number>(40).fill(0);
    for (const b of prev) counts[b]!++;
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(150);
  });

  it('selector: Jump with and without salt', () => {
    const servers = Array.from({ length: 100 }, (_, i) => ({ host: 'h', port: i + 1 }));
    const s = createSelector({ hashFunc: 'Jump' }, servers);
    expect(s.select(Buffer.from('sample'))).toBe(53);
    const salted = createSelector({ hashFunc: 'Jump', salt: 'le' }, servers);
    expect(salted.select(Buffer.from('samp'))).toBe(s.select(Buffer.from('sample')));
  });
});
