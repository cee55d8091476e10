import { describe, it, expect } from 'vitest';
import { furcHash, furcMaximumPoolSize } from '../../../src/routes/hash/furc.js';
import { murmur64a } from '../../../src/routes/hash/murmur64a.js';
import { createSelector } from '../../../src/routes/hash/selector.js';

// Vectors typed in from mcrouter.md §3.4 (Ch3HashTest.cpp / lib/fbi/test/hash_test.cpp).
const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const servers = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i}`, port: 11211 }));
const signedBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => (i + 128) & 0xff)); // -128..127

/** Independent BigInt model of MurmurHash64A, used only to cross-check the 32-bit-halves version. */
function murmurRef(b: Uint8Array, seed: bigint): bigint {
  const M = 0xc6a4a7935bd1e995n;
  const U = (x: bigint) => BigInt.asUintN(64, x);
  let h = U(seed ^ U(BigInt(b.length) * M));
  let i = 0;
  for (; i + 8 <= b.length; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(b[i + j]!);
    k = U(k * M);
    k ^= k >> 47n;
    k = U(k * M);
    h ^= k;
    h = U(h * M);
  }
  const r = b.length & 7;
  if (r) {
    for (let j = r - 1; j >= 0; j--) h ^= BigInt(b[i + j]!) << BigInt(8 * j);
    h = U(h * M);
  }
  h ^= h >> 47n;
  h = U(h * M);
  h ^= h >> 47n;
  return h;
}

describe('MurmurHash64A (32-bit halves)', () => {
  it('matches an independent BigInt model on lengths 0..64 with several seeds', () => {
    let x = 12345;
    for (let len = 0; len <= 64; len++) {
      const b = new Uint8Array(len);
      for (let j = 0; j < len; j++) b[j] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
      for (const seed of [0n, 4193360111n, 2718281828n, 0xffffffffffffffffn]) {
        expect(murmur64a(b, seed)).toBe(murmurRef(b, seed));
      }
    }
  });
});

describe('Ch3 / furc_hash', () => {
  const ch3 = (n: number, key: Uint8Array) => furcHash(key, n);

  it('Ch3HashTest vectors', () => {
    expect(createSelector({ hashFunc: 'Ch3' }, servers(100)).select(B('sample'))).toBe(97);
    expect(createSelector({ hashFunc: 'Ch3' }, servers(100)).select(B(''))).toBe(72);
    expect(createSelector({ hashFunc: 'Ch3' }, servers(1)).select(B('anything'))).toBe(0);
    expect(ch3(8388608, B(''))).toBe(6173600);
    expect(ch3(8388608, B('sample'))).toBe(5167780);
    expect(ch3(99999, signedBytes)).toBe(31015);
    expect(ch3(99999, Buffer.from([...signedBytes].reverse()))).toBe(67101);
  });

  it('counts for keys "0".."999" over 3 and "0".."9999" over 10', () => {
    const s3 = createSelector({ hashFunc: 'Ch3' }, servers(3));
    const c3 = [0, 0, 0];
    for (let i = 0; i < 1000; i++) c3[s3.select(B(String(i)))]!++;
    expect(c3).toEqual([307, 342, 351]);
    const s10 = createSelector({ hashFunc: 'Ch3' }, servers(10));
    const c10 = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) c10[s10.select(B(String(i)))]!++;
    expect(c10).toEqual([995, 955, 1046, 968, 1032, 972, 1016, 1038, 1010, 968]);
  });

  it('furc("key0", powers of two), furc(key, 0), furc_maximum_pool_size', () => {
    const ms = [4, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
    expect(ms.map((m) => furcHash(B('key0'), m))).toEqual([0, 7, 22, 22, 115, 115, 413, 950, 1735, 3375, 3375]);
    expect(furcHash(B('key0'), 0)).toBe(0);
    expect(furcHash(B('anything'), 0)).toBe(0);
    expect(furcMaximumPoolSize()).toBe(8388608);
  });

  const M = [1, 2, 3, 5, 7, 10, 16, 50, 100, 500, 1000, 5000, 10000, 100000, 1000000, 8388608, 16777216, 1073741824, 4294967295];
  const GOLDEN: Array<[string, (number | null)[]]> = [
    ['key0', [0, 0, 0, 4, 5, 7, 14, 22, 22, 413, 950, 3375, 3375, 59045, 500854, 4701525, 10218333, 856543823, 2635611118]],
    ['key1', [0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 808, 808, 808, 24368, 768680, 7205857, 7205857, 144851818, 1919030847]],
    ['key2', [0, 0, 0, 4, 4, 4, 14, 40, 40, 279, 794, 3741, 3741, 99468, 99468, 8033017, 8033017, 720979435, 720979435]],
    ['key3', [0, 1, 1, 1, 5, 5, 5, 5, 73, 214, 214, 1118, 1118, 98344, 567453, null, null, null, null]],
    ['key4', [0, 0, 2, 2, 2, 8, 10, 47, 47, 101, 878, 878, 878, 19896, 187582, null, null, null, null]],
    ['someKey_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', [0, 0, 0, 4, 4, 8, 8, 18, 18, 18, 964, 1334, 5716, 54971, 580644, null, null, null, null]],
    ['short', [0, 1, 2, 4, 6, 6, 12, 12, 12, 172, 569, 4565, 4565, 94116, 826962, 6473107, 10975421, 304085075, 3727818566]],
    ['a', [0, 1, 1, 4, 4, 4, 13, 34, 34, 34, 900, 1565, 1565, 55594, 570739, 7695180, 11809035, 207565192, 2134617590]],
    ['ab', [0, 1, 2, 2, 2, 2, 2, 35, 35, 429, 429, 4150, 9404, 13199, 103282, null, null, null, null]],
    ['abc', [0, 0, 0, 0, 5, 5, 15, 47, 69, 371, 985, 3019, 3019, 44962, 391441, null, null, null, null]],
    ['mcrouter:pool:regional:0001', [0, 0, 2, 3, 3, 3, 13, 27, 52, 493, 829, 4143, 7488, 36359, 669957, 6119431, 13341220, 656478206, 3984053628]],
    ['mcrouter:pool:regional:0002', [0, 1, 2, 4, 5, 5, 13, 13, 13, 405, 788, 788, 6708, 65904, 589635, null, null, null, null]],
    ['user:12345:profile', [0, 1, 1, 4, 4, 4, 10, 29, 77, 77, 712, 4344, 5119, 96279, 368844, null, null, null, null]],
    ['user:67890:timeline', [0, 0, 0, 0, 5, 7, 15, 15, 73, 104, 748, 3756, 6138, 86163, 86163, null, null, null, null]],
    ['cache:item:999999', [0, 1, 2, 2, 2, 2, 2, 17, 17, 184, 673, 3278, 5532, 72068, 180793, null, null, null, null]],
    ['', [0, 1, 1, 1, 6, 8, 12, 12, 72, 72, 72, 3031, 3031, 86003, 407687, null, null, null, null]],
  ];

  it.each(GOLDEN)('golden furc_hash(%j, m)', (key, expected) => {
    for (let i = 0; i < M.length; i++) {
      const e = expected[i];
      if (e === null || e === undefined) continue;
      expect({ m: M[i], v: furcHash(B(key), M[i]!) }).toEqual({ m: M[i], v: e });
    }
  });

  const CHECKSUMS: Array<[number, number]> = [
    [2, 1346413954], [3, 914505363], [5, 1517365794], [7, 4252552508], [10, 2894016351], [16, 2995729350],
    [50, 1717182892], [100, 2289223413], [500, 2400597860], [1000, 2251851331], [5000, 2711796627],
    [10000, 1328492545], [100000, 1053928120], [1000000, 209068971], [8388608, 2328588562],
    [16777216, 1406750828], [100000000, 55292389], [1073741824, 1798155495], [4294967295, 504907336],
  ];
  const KEYS = Array.from({ length: 100000 }, (_, i) => B('k' + i));

  it.each(CHECKSUMS)('bulk checksum over 100K keys, m=%i', (m, expected) => {
    let acc = 0;
    for (const k of KEYS) acc = (Math.imul(acc, 31) + furcHash(k, m)) >>> 0;
    expect(acc).toBe(expected);
  });

  it('is monotone-consistent when the pool grows', () => {
    for (let i = 0; i < 2000; i++) {
      const k = B('mono:' + i);
      let prev = furcHash(k, 1);
      for (let m = 2; m <= 64; m++) {
        const cur = furcHash(k, m);
        expect(cur).toBeLessThan(m);
        if (cur !== prev) expect(cur).toBeGreaterThanOrEqual(m - 1);
        prev = cur;
      }
    }
  });

  it('hashes a prefix when len is given and never reads past it', () => {
    const big = B('sampleXXXX');
    expect(furcHash(big, 100, 6)).toBe(97);
  });
});
