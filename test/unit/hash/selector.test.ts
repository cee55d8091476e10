import { describe, it, expect } from 'vitest';
import { createSelector, spooky32, type HashFuncName, type HashSpec } from '../../../src/routes/hash/selector.js';
import { furcHash } from '../../../src/routes/hash/furc.js';
import { buildModulaSlots, twemproxyServerOrder } from '../../../src/routes/hash/ketama.js';

const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const servers = (n: number) => Array.from({ length: n }, (_, i) => ({ host: '127.0.0.1', port: 30000 + i }));

describe('createSelector validation', () => {
  const bad: Array<[HashSpec, number, RegExp]> = [
    [{ hashFunc: 'Rendezvous' }, 3, /Rendezvous: tags must have one entry per server/],
    [{ hashFunc: 'Rendezvous', tags: ['a', 'b'] }, 3, /Rendezvous: tags must have one entry per server/],
    [{ hashFunc: 'WeightedRendezvous', tags: ['a', 'b'] }, 2, /WeightedRendezvous: weights must have one entry per tag/],
    [{ hashFunc: 'WeightedCh3' }, 3, /WeightedCh3: weights are required/],
    [{ hashFunc: 'WeightedCh3', weights: [0.5, 2] }, 2, /WeightedCh3: weights must be finite numbers in \[0, 1\]/],
    [{ hashFunc: 'WeightedCh3', weights: [Number.NaN] }, 1, /WeightedCh3: weights must be finite/],
    [{ hashFunc: 'Ketama', weights: [1, 0] }, 2, /Ketama: weights must be positive integers/],
    [{ hashFunc: 'Ketama', weights: [1.5, 1] }, 2, /Ketama: weights must be positive integers/],
    [{ hashFunc: 'Ketama', weights: [1] }, 2, /Ketama: weights must have one entry per server/],
    [{ hashFunc: 'Ketama', names: ['x', 'x'] }, 2, /Ketama: duplicate node name "x"/],
    [{ hashFunc: 'Ketama', names: ['x'] }, 2, /Ketama: names must have one entry per server/],
    [{ hashFunc: 'Ketama', keyHash: 'sha256' }, 2, /unknown key hash "sha256"/],
    [{ hashFunc: 'Ketama', hashTag: '{' }, 2, /hashTag must be exactly 2 characters/],
    [{ hashFunc: 'Ch3', hashTag: '{}' }, 2, /Ch3: hashTag is only supported for Ketama and Modula/],
    [{ hashFunc: 'Crc32', keyHash: 'md5' }, 2, /Crc32: keyHash is only supported/],
    [{ hashFunc: 'Jump', names: ['a', 'b'] }, 2, /Jump: names are only supported/],
    [{ hashFunc: 'Ch3' }, 0, /Ch3: at least one server is required/],
    [{ hashFunc: 'Nope' as HashFuncName }, 2, /unknown hash function "Nope"/],
  ];
  it.each(bad)('rejects %j (n=%i)', (spec, n, re) => {
    expect(() => createSelector(spec, servers(n))).toThrow(re);
  });

  it('Ch3 rejects pools larger than 2^23', () => {
    const big = { length: 8388609 } as unknown as readonly { host: string; port: number }[];
    expect(() => createSelector({ hashFunc: 'Ch3' }, big)).toThrow(/Ch3: pool size must be in \[1, 8388608\]/);
  });
});

describe('selector semantics', () => {
  const all: HashSpec[] = [
    { hashFunc: 'Ch3' },
    { hashFunc: 'WeightedCh3', weights: [1, 0.5, 0.25, 1, 1, 1, 1] },
    { hashFunc: 'Crc32' },
    { hashFunc: 'ConstShard' },
    { hashFunc: 'Rendezvous', tags: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] },
    { hashFunc: 'WeightedRendezvous', tags: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], weights: [1, 2, 3, 1, 1, 1, 1] },
    { hashFunc: 'Ketama' },
    { hashFunc: 'Ketama', keyHash: 'md5', hashTag: '{}' },
    { hashFunc: 'Modula', keyHash: 'murmur' },
    { hashFunc: 'Jump' },
  ];

  it.each(all)('%j: index in range, deterministic, salt = appended bytes', (spec) => {
    const s = createSelector(spec, servers(7));
    const salted = createSelector({ ...spec, salt: 'SALT' }, servers(7));
    const emptySalt = createSelector({ ...spec, salt: '' }, servers(7));
    expect(s.n).toBe(7);
    let moved = 0;
    for (let i = 0; i < 400; i++) {
      const k = B(`key:${i}:é`);
      const v = s.select(k);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(7);
      expect(s.select(Buffer.from(k))).toBe(v);
      expect(emptySalt.select(k)).toBe(v);
      const sv = salted.select(k);
      if (spec.hashTag === undefined) expect(sv).toBe(s.select(Buffer.concat([k, B('SALT')])));
      if (sv !== v) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('salt on Ch3 equals furc of key ‖ salt (mcrouter semantics)', () => {
    const s = createSelector({ hashFunc: 'Ch3', salt: 'abc' }, servers(100));
    expect(s.select(B('sample'))).toBe(furcHash(B('sampleabc'), 100));
    // long keys grow the scratch buffer
    const long = B('x'.repeat(1000));
    expect(s.select(long)).toBe(furcHash(Buffer.concat([long, B('abc')]), 100));
  });

  it('hash tag is applied before the salt for Ketama', () => {
    const tagged = createSelector({ hashFunc: 'Ketama', hashTag: '{}', salt: 'S' }, servers(7));
    const plain = createSelector({ hashFunc: 'Ketama' }, servers(7));
    for (let i = 0; i < 200; i++) expect(tagged.select(B(`a{u${i}}b`))).toBe(plain.select(B(`u${i}S`)));
  });

  it('every function returns 0 for a 1-server pool', () => {
    for (const spec of all) {
      const one = { ...spec };
      if (one.tags !== undefined) one.tags = ['a'];
      if (one.weights !== undefined) one.weights = [1];
      expect(createSelector(one, servers(1)).select(B('whatever'))).toBe(0);
    }
  });

  it('hashes bytes, not strings (invalid UTF-8 keys are distinct)', () => {
    const s = createSelector({ hashFunc: 'Ch3' }, servers(1000));
    const a = Buffer.from([0x6b, 0xff]);
    const b = Buffer.from([0x6b, 0xfe]);
    expect(s.select(a)).toBe(furcHash(a, 1000));
    expect(s.select(b)).toBe(furcHash(b, 1000));
    expect(furcHash(a, 1000)).not.toBe(furcHash(B('k\uFFFD'), 1000));
  });

  it('modula follows nutcracker server order (sorted by name, shorter first)', () => {
    expect(twemproxyServerOrder(['aaaa', 'bbb', 'zz', 'cc1'])).toEqual([2, 1, 3, 0]);
    expect([...buildModulaSlots([1, 2, 1, 3], [2, 1, 3, 0])]).toEqual([2, 1, 1, 3, 3, 3, 0]);
  });

  it('spooky32 is exported for routingKeyHash (seed 0)', () => {
    expect(spooky32(B(''))).toBe(0x6bf50919);
    expect(spooky32(B(''), 0)).toBe(0x6bf50919);
  });
});
