import { describe, expect, test } from 'vitest';
import { PrefixStats } from '../../../src/observe/prefix-stats.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('PrefixStats', () => {
  test('delimiter rule: up to and including the first delimiter, after any routing prefix', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 10 });
    expect(p.prefixOf(b('user:42:name'))).toBe('user:');
    expect(p.prefixOf(b('/us/east/sess:9'))).toBe('sess:');
    expect(p.prefixOf(b('plainkey'))).toBeNull();
  });

  test('list rule: the longest configured prefix wins; unmatched keys are other', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: ['u', 'user.', 'feed-'], topN: 10 });
    expect(p.prefixOf(b('user.1'))).toBe('user.');
    expect(p.prefixOf(b('u1'))).toBe('u');
    expect(p.prefixOf(b('feed-7'))).toBe('feed-');
    expect(p.prefixOf(b('zzz'))).toBeNull();
  });

  test('counts requests, hits, misses and bytes; cardinality is bounded to top N + other', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 2 });
    p.record(b('a:1'), true, false, 0, 20);
    p.record(b('a:2'), false, true, 0, 0);
    p.record(b('b:1'), false, false, 5, 0);
    for (let i = 0; i < 1000; i++) p.record(b(`x${i}:k`), false, true, 0, 0);
    p.record(b('nodelim'), true, false, 0, 3);
    const rows = p.all().map((r) => [r.prefix, r.requests, r.hits, r.misses, r.bytesIn, r.bytesOut]);
    expect(rows).toEqual([
      ['a:', 2, 1, 1, 0, 20],
      ['b:', 1, 0, 0, 5, 0],
      ['other', 1001, 1, 1000, 0, 3],
    ]);
  });
});

/** A PrefixStats on a hand-driven clock. */
function clocked(topN: number, rerankMs = 1000): { p: PrefixStats; advance: (ms: number) => void } {
  let now = 0;
  const p = new PrefixStats({ delimiter: ':', prefixes: [], topN, rerankMs, now: () => now });
  return { p, advance: (ms) => (now += ms) };
}

const rows = (p: PrefixStats): [string, number][] => p.all().map((r) => [r.prefix, r.requests]);
const send = (p: PrefixStats, prefix: string, n: number): void => {
  for (let i = 0; i < n; i++) p.record(b(`${prefix}${i}`), false, false, 0, 0);
};

describe('PrefixStats: key ranges', () => {
  test('a key given as a range of a larger buffer counts as the same key given alone', () => {
    const line = b('get /r/c/user:7 sess:1 plain k:\r\n');
    const ranges: [number, number][] = [];
    for (const m of line.toString('latin1').slice(4, -2).matchAll(/\S+/g)) ranges.push([4 + (m.index ?? 0), 4 + (m.index ?? 0) + m[0].length]);
    const byRange = new PrefixStats({ delimiter: ':', prefixes: [], topN: 10 });
    const byKey = new PrefixStats({ delimiter: ':', prefixes: [], topN: 10 });
    for (const [s, e] of ranges) {
      byRange.recordRange(line, s, e, true, false, 1, 2);
      byKey.record(b(line.toString('latin1', s, e)), true, false, 1, 2);
    }
    expect(byRange.all()).toEqual(byKey.all());
    expect(rows(byRange)).toEqual([['user:', 1], ['sess:', 1], ['k:', 1], ['other', 1]]);
  });

  test('keys sharing a first byte find their own prefix (the last-found row is only a guess)', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 10 });
    for (const k of ['user:1', 'us:2', 'user:3', 'u:4', 'us:5', 'user', 'usera:6']) p.record(b(k), false, false, 0, 0);
    expect(rows(p)).toEqual([['user:', 2], ['us:', 2], ['u:', 1], ['usera:', 1], ['other', 1]]);
  });

  test('a key that matches a row in its first four bytes, or only past them, is compared to the end of the prefix', () => {
    // The memo compares the first four bytes as one int32, then the rest byte by byte: keys that differ only
    // in byte 1, 2, 3, 4 or 5 of `bench:` / `bencx:` must each find their own row.
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 20 });
    const keys = ['bench:1', 'bencx:2', 'bench:3', 'benc:4', 'bxnch:5', 'bench:6', 'benchy:7', 'bench', 'b:8', 'bench:9', 'aench:10', 'bEnch:11', 'bench:12'];
    for (const k of keys) p.record(b(k), false, false, 0, 0);
    expect(rows(p)).toEqual([['bench:', 5], ['bencx:', 1], ['benc:', 1], ['bxnch:', 1], ['benchy:', 1], ['b:', 1], ['aench:', 1], ['bEnch:', 1], ['other', 1]]);
  });

  test('prefixes of 1 to 12 bytes, keys differing in any one byte, short keys: the rows a plain split gives', () => {
    // The memo compares prefixes of 4-8 bytes as two words and the rest byte by byte (keys under 8 bytes
    // too): every length and every changed position must still land on its own prefix's row.
    const p = new PrefixStats({ delimiter: ':', prefixes: [], topN: 1000 });
    const want = new Map<string, number>();
    const keys: string[] = [];
    for (let len = 1; len <= 12; len++) {
      const prefix = 'abcdefghijkl'.slice(0, len - 1) + ':';
      keys.push(prefix, `${prefix}1`, `${prefix}12345678`);
      for (let i = 0; i < len - 1; i++) keys.push(`${prefix.slice(0, i)}Z${prefix.slice(i + 1)}k`);
    }
    // Interleaved, so the row memo of a first byte keeps being replaced by a neighbour's.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(i * 7 + round) % keys.length] as string;
        p.record(b(k), false, false, 0, 0);
        const at = k.indexOf(':');
        const name = at === -1 ? 'other' : k.slice(0, at + 1);
        want.set(name, (want.get(name) ?? 0) + 1);
      }
    }
    // Every key has a delimiter: `other` (always listed) stays at 0.
    want.set('other', 0);
    expect(new Map(rows(p))).toEqual(want);
  });

  test('list rule over ranges: the longest listed prefix, also after a shorter one was found', () => {
    const p = new PrefixStats({ delimiter: ':', prefixes: ['u', 'user.'], topN: 10 });
    const line = b('u1 user.2 u3 user.4 x');
    for (const [s, e] of [[0, 2], [3, 9], [10, 12], [13, 19], [20, 21]] as const) p.recordRange(line, s, e, false, false, 0, 0);
    expect(rows(p)).toEqual([['u', 2], ['user.', 2], ['other', 1]]);
  });
});

describe('PrefixStats: the busiest N', () => {
  test('a busier prefix takes the place of the least busy row at the next re-rank; the row folds into other', () => {
    const { p, advance } = clocked(2);
    send(p, 'a:', 10);
    send(p, 'b:', 30);
    send(p, 'c:', 100); // no room: counts as other, a candidate
    expect(rows(p)).toEqual([['a:', 10], ['b:', 30], ['other', 100]]);
    advance(1000);
    send(p, 'c:', 1); // due: c (101 this period) replaces a (10)
    expect(rows(p)).toEqual([['b:', 30], ['c:', 0], ['other', 10 + 101]]);
    send(p, 'c:', 5);
    expect(rows(p)).toEqual([['b:', 30], ['c:', 5], ['other', 111]]);
    expect([p.promotions, p.demotions]).toEqual([1, 1]);
  });

  test('re-ranking waits for the period; counters never go down and always add up to the traffic', () => {
    const { p, advance } = clocked(2);
    let total = 0;
    let lastOther = 0;
    const check = (): void => {
      const all = p.all();
      expect(all.reduce((n, r) => n + r.requests, 0)).toBe(total);
      const other = all.at(-1)?.requests ?? 0;
      expect(other).toBeGreaterThanOrEqual(lastOther);
      lastOther = other;
    };
    const phase = (counts: Record<string, number>): void => {
      for (const [prefix, n] of Object.entries(counts)) {
        send(p, prefix, n);
        total += n;
        check();
      }
    };
    phase({ 'a:': 5, 'b:': 5, 'c:': 50 });
    advance(999);
    phase({ 'c:': 50 }); // not due yet: no change
    expect(rows(p).map(([k]) => k)).toEqual(['a:', 'b:', 'other']);
    advance(1);
    phase({ 'c:': 1, 'd:': 3 }); // due at c's request: c takes a's place
    expect(rows(p).map(([k]) => k)).toEqual(['b:', 'c:', 'other']);
    advance(1000);
    phase({ 'd:': 500, 'c:': 200, 'b:': 1 });
    advance(1000);
    phase({ 'd:': 1 });
    expect(rows(p).map(([k]) => k)).toEqual(['c:', 'd:', 'other']);
    // A prefix that went back to other and returns later gets a new row starting from 0.
    advance(1000);
    phase({ 'b:': 900, 'c:': 1, 'd:': 1 });
    advance(1000);
    phase({ 'b:': 1 });
    const now = Object.fromEntries(rows(p));
    expect(now['b:']).toBe(0);
    expect(Object.keys(now)).toHaveLength(3);
  });

  test('hysteresis: a candidate must have more than a quarter more traffic than the row it would replace', () => {
    const { p, advance } = clocked(1);
    send(p, 'a:', 100);
    send(p, 'b:', 124);
    advance(1000);
    send(p, 'b:', 1); // due: b has 125 this period, a 100: not more than 125
    expect(rows(p).map(([k]) => k)).toEqual(['a:', 'other']);
    send(p, 'a:', 100);
    send(p, 'b:', 126);
    advance(1000);
    send(p, 'b:', 1); // 127 against a's 100
    expect(rows(p)).toEqual([['b:', 0], ['other', 200 + 252]]);
  });

  test('with at most N prefixes nothing is ever re-ranked', () => {
    const { p, advance } = clocked(3);
    for (let round = 0; round < 5; round++) {
      send(p, 'x:', round === 0 ? 1 : 1000);
      send(p, 'y:', 10);
      send(p, 'z:', 1);
      advance(5000);
    }
    expect(rows(p)).toEqual([['x:', 4001], ['y:', 50], ['z:', 5], ['other', 0]]);
    expect(p.promotions).toBe(0);
  });
});
