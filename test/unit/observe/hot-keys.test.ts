import { describe, expect, test } from 'vitest';
import { HotKeys, SpaceSaving, WindowedTopK } from '../../../src/observe/hot-keys.js';
import { HashIndex } from '../../../src/observe/key-hash.js';
import { zipf } from './helpers/zipf.js';

describe('SpaceSaving', () => {
  test('counts exactly while under capacity', () => {
    const s = new SpaceSaving(3);
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) s.offer(k);
    expect(s.top(3)).toEqual([
      { key: 'a', count: 3, error: 0 },
      { key: 'b', count: 2, error: 0 },
      { key: 'c', count: 1, error: 0 },
    ]);
  });

  test('a new key replaces the minimum and inherits its count as error', () => {
    const s = new SpaceSaving(2);
    for (const k of ['a', 'a', 'b', 'c']) s.offer(k);
    expect(s.top(2)).toEqual([
      { key: 'a', count: 2, error: 0 },
      { key: 'c', count: 2, error: 1 },
    ]);
    expect(s.total).toBe(4);
  });

  test('memory stays bounded whatever the stream', () => {
    const s = new SpaceSaving(50);
    for (let i = 0; i < 100_000; i++) s.offer(`k${i}`);
    expect([...s.entries()]).toHaveLength(50);
  });

  test('a synthetic Zipf workload: the 10 hottest keys are the top 10 reported, in order', () => {
    const next = zipf(100_000, 1.1, 42);
    const s = new SpaceSaving(200);
    for (let i = 0; i < 300_000; i++) s.offer(`key:${next()}`);
    expect(s.top(10).map((c) => c.key)).toEqual(Array.from({ length: 10 }, (_, i) => `key:${i}`));
  });
});

describe('WindowedTopK and HotKeys', () => {
  test('a report covers the previous and the current half window; older halves drop out', () => {
    const w = new WindowedTopK(10);
    for (let i = 0; i < 5; i++) w.offer('old');
    w.rotate();
    for (let i = 0; i < 3; i++) w.offer('new');
    expect(w.top(2).map((h) => [h.key, h.count])).toEqual([['old', 5], ['new', 3]]);
    expect(w.top(1)[0]?.share).toBeCloseTo(5 / 8, 9);
    w.rotate();
    expect(w.top(2).map((h) => h.key)).toEqual(['new']);
  });

  test('tracks overall and per destination; topShares feeds the metric', () => {
    const hk = new HotKeys({ capacity: 10, windowMs: 60_000, sampleRate: 1 });
    try {
      for (let i = 0; i < 8; i++) hk.offerDestination('d1', 'a');
      for (let i = 0; i < 2; i++) hk.offerDestination('d1', 'b');
      hk.offerDestination('d2', 'c');
      hk.offer('a');
      expect(hk.topShares()).toEqual([['d1', 0.8], ['d2', 1]]);
      const r = hk.report(1);
      expect(r.overall).toEqual([{ key: 'a', count: 1, error: 0, share: 1 }]);
      expect(r.destinations['d1']).toEqual([{ key: 'a', count: 8, error: 0, share: 0.8 }]);
    } finally {
      hk.close();
    }
  });

  test('sampling counts 1 in N', () => {
    const hk = new HotKeys({ capacity: 10, windowMs: 60_000, sampleRate: 4 });
    try {
      for (let i = 0; i < 40; i++) hk.offer('x');
      expect(hk.overall.countOf('x')).toBe(10);
    } finally {
      hk.close();
    }
  });
});

describe('keys given as buffer ranges', () => {
  test('offerRange counts the same as offer of the key text; countOf finds either', () => {
    const line = Buffer.from('get a:1 bb:2 a:1 ccc:3 a:1 bb:2', 'latin1');
    const byRange = new SpaceSaving(10);
    const byText = new SpaceSaving(10);
    for (const m of line.toString('latin1').slice(4).matchAll(/\S+/g)) {
      const s = 4 + (m.index ?? 0);
      byRange.offerRange(line, s, s + m[0].length);
      byText.offer(m[0]);
    }
    expect(byRange.top(10)).toEqual(byText.top(10));
    expect(byRange.top(1)).toEqual([{ key: 'a:1', count: 3, error: 0 }]);
    expect([byRange.countOf('bb:2'), byRange.countOf('ccc:3'), byRange.countOf('zz')]).toEqual([2, 1, 0]);
  });

  test('latin1 bytes above 0x7f round-trip', () => {
    const s = new SpaceSaving(4);
    const key = Buffer.from([0x6b, 0xe9, 0xff, 0x00]);
    s.offerRange(key, 0, key.length);
    s.offerRange(key, 0, key.length);
    expect(s.top(1)).toEqual([{ key: key.toString('latin1'), count: 2, error: 0 }]);
    expect(s.countOf(key.toString('latin1'))).toBe(2);
  });
});

describe('HashIndex', () => {
  test('insert, find and remove agree with a Map, whatever the order and however the probes collide', () => {
    const max = 64;
    const index = new HashIndex(max);
    const model = new Map<number, number>(); // id → hash
    let x = 7;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const id = rnd(max);
      if (model.has(id)) {
        index.remove(id);
        model.delete(id);
      } else {
        // Hashes from a small range, so runs of equal slots form and wrap around the table's end.
        const hash = rnd(4) === 0 ? 255 - rnd(3) : rnd(1 << 12);
        if ([...model.values()].includes(hash)) continue;
        index.insert(id, hash);
        model.set(id, hash);
      }
      if (step % 97 === 0) {
        for (const [i, h] of model) expect(index.find(h)).toBe(i);
        expect(index.find(1 << 20)).toBe(-1);
      }
    }
  });
});

describe('the doorkeeper', () => {
  test('once full, a new key takes a counter at its second sighting (credited both); one-offs take none', () => {
    const s = new SpaceSaving(2, true);
    for (const k of ['a', 'a', 'a', 'b', 'b']) s.offer(k);
    s.offer('c'); // remembered, not counted
    expect(s.top(3)).toEqual([
      { key: 'a', count: 3, error: 0 },
      { key: 'b', count: 2, error: 0 },
    ]);
    s.offer('c'); // second sighting: replaces b (2), with both sightings
    expect(s.top(3)).toEqual([
      { key: 'c', count: 4, error: 2 },
      { key: 'a', count: 3, error: 0 },
    ]);
    expect(s.total).toBe(7);
  });

  test('a wide key space of one-offs does not evict the hot keys, and their counts stay exact', () => {
    const w = new WindowedTopK(20);
    let x = 1;
    for (let i = 0; i < 200_000; i++) {
      if (i % 20 === 0) w.offer('hot:1');
      else if (i % 50 === 0) w.offer('hot:2');
      else {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        w.offer(`cold:${x}`);
      }
    }
    const top = w.top(2);
    expect(top.map((h) => h.key)).toEqual(['hot:1', 'hot:2']);
    // Tracked from the first sightings on: the lower bound (count − error) is the true count (hot:2 is
    // every 50th request that is not also a 20th: 2000 of them).
    expect(top.map((h) => h.count - h.error)).toEqual([10_000, 2000]);
  });
});
