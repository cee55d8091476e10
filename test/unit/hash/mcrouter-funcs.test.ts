import { describe, it, expect } from 'vitest';
import { createSelector } from '../../../src/routes/hash/selector.js';
import { crc32, crc32HashIndex } from '../../../src/routes/hash/crc32.js';
import { parseShardId } from '../../../src/routes/hash/const-shard.js';

// Vectors typed in from mcrouter.md §3.4.
const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const servers = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `10.1.0.${i}`, port: 5000 + i }));
const signedBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => (i + 128) & 0xff));
const reversed = Buffer.from([...signedBytes].reverse());
const checksum = (sel: { select(k: Buffer): number }, keys: Buffer[]) => {
  let acc = 0;
  for (const k of keys) acc = (Math.imul(acc, 31) + sel.select(k)) >>> 0;
  return acc;
};
const kKeys = Array.from({ length: 10000 }, (_, i) => B('k' + i));
const LONG_BASE = Array.from({ length: 128 }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
const longKeys = Array.from({ length: 10000 }, (_, i) => B(LONG_BASE + i));

describe('WeightedCh3', () => {
  const wch3 = (weights: number[]) => createSelector({ hashFunc: 'WeightedCh3', weights }, servers(weights.length));

  it('all weights 1.0 equals Ch3', () => {
    for (const n of [2, 3, 10, 100]) {
      const w = wch3(new Array<number>(n).fill(1));
      const c = createSelector({ hashFunc: 'Ch3' }, servers(n));
      for (let i = 0; i < 3000; i++) expect(w.select(B('x' + i))).toBe(c.select(B('x' + i)));
    }
    expect(wch3(new Array<number>(100).fill(1)).select(B('sample'))).toBe(97);
    expect(wch3(new Array<number>(100).fill(1)).select(B(''))).toBe(72);
  });

  it('100 servers with weight 0, and n=1', () => {
    const s = wch3(new Array<number>(100).fill(0));
    expect(s.select(B('sample'))).toBe(59);
    expect(s.select(B(''))).toBe(45);
    expect(wch3([0.3]).select(B('whatever'))).toBe(0);
  });

  it('counts: {1,1,0.7} over "0".."999" and 10 uneven weights over "0".."9999"', () => {
    const s = wch3([1, 1, 0.7]);
    const c = [0, 0, 0];
    for (let i = 0; i < 1000; i++) c[s.select(B(String(i)))]!++;
    expect(c).toEqual([341, 371, 288]);
    const s10 = wch3([0.429, 0.541, 0.117, 0.998, 0.283, 0.065, 0.109, 0.042, 0.676, 0.943]);
    const c10 = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) c10[s10.select(B(String(i)))]!++;
    expect(c10).toEqual([1016, 1252, 288, 2354, 661, 195, 247, 122, 1668, 2197]);
  });

  const SUMS: Array<[number, number, number]> = [
    [0.5, 2, 2395690262], [0.5, 10, 547444706], [0.5, 100, 2951198297], [0.5, 1000, 1336857622], [0.5, 10000, 3378951161],
    [0, 2, 3431444300], [0, 10, 1290067504], [0, 100, 2604325093], [0, 1000, 337394182],
  ];
  it.each(SUMS)('checksum weights=%d n=%i over "k"+i', (w, n, expected) => {
    expect(checksum(wch3(new Array<number>(n).fill(w)), kKeys)).toBe(expected);
  });

  it('weights {1,.5,0,.75,1} over "d"+i: checksum 2309057571 and server 2 gets nothing', () => {
    const s = wch3([1, 0.5, 0, 0.75, 1]);
    const keys = Array.from({ length: 10000 }, (_, i) => B('d' + i));
    expect(checksum(s, keys)).toBe(2309057571);
    for (const k of keys) expect(s.select(k)).not.toBe(2);
  });

  const LONG: Array<[number, number, number]> = [
    [0.5, 2, 3784301429], [0.5, 10, 707485837], [0.5, 100, 4273108085], [0.5, 1000, 954106693],
    [0, 2, 2171781178], [0, 10, 2937312667], [0, 100, 532711027],
  ];
  it.each(LONG)('long-key checksum weights=%d n=%i', (w, n, expected) => {
    expect(checksum(wch3(new Array<number>(n).fill(w)), longKeys)).toBe(expected);
  });

  it('missing weights default to 0.5, extra weights are ignored', () => {
    const a = wch3([1, 1]);
    const b = createSelector({ hashFunc: 'WeightedCh3', weights: [1] }, servers(2));
    const c = createSelector({ hashFunc: 'WeightedCh3', weights: [1, 0.5] }, servers(2));
    const d = createSelector({ hashFunc: 'WeightedCh3', weights: [1, 1, 0, 0] }, servers(2));
    for (let i = 0; i < 500; i++) {
      expect(b.select(B('m' + i))).toBe(c.select(B('m' + i)));
      expect(d.select(B('m' + i))).toBe(a.select(B('m' + i)));
    }
  });

  it('handles keys >= 192 bytes (Spooky long path) deterministically', () => {
    const s = wch3([0.5, 0.5, 0.5]);
    const k = B('x'.repeat(300));
    expect(s.select(k)).toBe(s.select(B('x'.repeat(300))));
  });
});

describe('Crc32', () => {
  it('standard CRC-32 check value', () => {
    expect(crc32(B('123456789'))).toBe(0xcbf43926);
  });
  it('Crc32HashTest vectors', () => {
    const s = createSelector({ hashFunc: 'Crc32' }, servers(100));
    expect(s.select(B('sample'))).toBe(7);
    expect(s.select(B(''))).toBe(0);
    expect(crc32HashIndex(B('sample'), 6, 2 ** 30 - 1)).toBe(822834884);
    expect(crc32HashIndex(B(''), 0, 2 ** 30 - 1)).toBe(0);
    expect(crc32HashIndex(signedBytes, 256, 99999)).toBe(11697);
    expect(crc32HashIndex(reversed, 256, 99999)).toBe(97630);
  });
});

describe('Rendezvous', () => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => `xxx.${i}.yy`);
  const rv = (n: number) => createSelector({ hashFunc: 'Rendezvous', tags: tags(n) }, servers(n));

  it('n=3 and n=343 vectors (256-byte key = bytes -128..127)', () => {
    const s3 = rv(3);
    for (const k of [B('sample'), B(''), B('mykey'), signedBytes]) expect(s3.select(k)).toBe(1);
    const s = rv(343);
    expect(s.select(signedBytes)).toBe(183);
    expect(s.select(B('sample'))).toBe(45);
    expect(s.select(B(''))).toBe(291);
    expect(s.select(B('mykey'))).toBe(132);
  });

  it('counts for "mykey:0".."mykey:999" (n=3) and 10K keys (n=10)', () => {
    const s3 = rv(3);
    const c3 = [0, 0, 0];
    for (let i = 0; i < 1000; i++) c3[s3.select(B('mykey:' + i))]!++;
    expect(c3).toEqual([337, 353, 310]);
    // The reference lists the 10K-key counts without the key format; "mykey:"+i reproduces them exactly.
    const s10 = rv(10);
    const c10 = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) c10[s10.select(B('mykey:' + i))]!++;
    expect(c10).toEqual([947, 1026, 1028, 981, 1016, 970, 1013, 939, 1023, 1057]);
  });

  it('WeightedRendezvous: zero weight never wins, heavier weight wins more', () => {
    const t = tags(4);
    const s = createSelector({ hashFunc: 'WeightedRendezvous', tags: t, weights: [1, 0, 3, 1] }, servers(4));
    const c = [0, 0, 0, 0];
    for (let i = 0; i < 10000; i++) c[s.select(B('w' + i))]!++;
    expect(c[1]).toBe(0);
    expect(c[2]!).toBeGreaterThan(c[0]! * 2);
    expect(c[2]!).toBeGreaterThan(c[3]! * 2);
    expect(c[0]! + c[3]!).toBeGreaterThan(2500);
  });
});

describe('ConstShard', () => {
  const s = createSelector({ hashFunc: 'ConstShard' }, servers(4));
  it.each([
    ['b:3:meh', 3], ['bl:2:meh', 2], ['bla:1:meh', 1], ['blah:0:meh', 0],
    ['blahmeh', 2], ['blah:meh', 0], ['blah::meh', 1], ['blah:12c34:meh', 0], ['blah:4:meh', 3],
  ] as const)('%s -> %i', (key, expected) => {
    expect(s.select(B(key))).toBe(expected);
  });
  it('parses only x:<digits>:y', () => {
    expect(parseShardId(B('a:12:b'), 6)).toBe(12);
    expect(parseShardId(B('a:12'), 4)).toBe(-1);
    expect(parseShardId(B('a::b'), 4)).toBe(-1);
    expect(parseShardId(B('a:99999999999999:b'), 18)).toBe(-1);
  });
});
