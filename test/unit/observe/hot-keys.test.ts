import { describe, expect, test } from 'vitest';
import { HotKeys, SpaceSaving, WindowedTopK } from '../../../src/observe/hot-keys.js';
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
