import { describe, expect, test } from 'vitest';
import { FINE_BOUNDS_US, LatencyHistogram, PROM_BOUNDS_S } from '../../../src/metrics/latency-histogram.js';

describe('LatencyHistogram', () => {
  test('Prometheus bounds run from 10 µs to seconds, doubling', () => {
    expect(PROM_BOUNDS_S[0]).toBeCloseTo(1e-5, 12);
    expect(PROM_BOUNDS_S[1]).toBeCloseTo(2e-5, 12);
    expect(PROM_BOUNDS_S.at(-1)).toBeCloseTo(10.48576, 6);
    expect(PROM_BOUNDS_S).toHaveLength(21);
  });

  test('an observation lands in the first bucket whose bound is >= it', () => {
    const h = new LatencyHistogram();
    h.record(0.005); // 5 µs
    h.record(0.010); // 10 µs, on the bound
    h.record(0.011); // 11 µs → 11.89 µs bucket
    h.record(0.020); // 20 µs, on a prom bound
    expect(h.counts[0]).toBe(2);
    expect(h.counts[1]).toBe(1);
    expect(h.counts[4]).toBe(1);
    expect(h.cumulativeProm().slice(0, 3)).toEqual([2, 4, 4]);
    expect(h.count).toBe(4);
    expect(h.sumMs).toBeCloseTo(0.046, 9);
  });

  test('percentiles are within one fine bucket (±19%) of the truth', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 1000); // 1 µs .. 10 ms, uniform
    for (const [q, trueUs] of [[0.5, 5000], [0.95, 9500], [0.99, 9900], [0.999, 9990]] as const) {
      const got = h.percentileUs(q);
      expect(got).toBeGreaterThanOrEqual(trueUs);
      expect(got / trueUs).toBeLessThan(1.19);
    }
    expect(new LatencyHistogram().percentileUs(0.99)).toBe(0);
  });

  test('values beyond the last bound count in +Inf only', () => {
    const h = new LatencyHistogram();
    h.record(60_000);
    expect(h.cumulativeProm().at(-1)).toBe(0);
    expect(h.count).toBe(1);
    expect(h.percentileUs(0.5)).toBe(FINE_BOUNDS_US.at(-1));
  });

  test('every value from 0 to 40 ms lands in the first bucket whose bound is >= it (bounds read from FINE_BOUNDS_US)', () => {
    /** The bucket by linear search over the exported bounds, not by the histogram's own arithmetic. */
    const expected = (us: number): number => {
      const i = FINE_BOUNDS_US.findIndex((b) => us <= b * (1 + 1e-12));
      return i === -1 ? FINE_BOUNDS_US.length : i;
    };
    const values: number[] = [0, 0.3, 1, 9.99, 10, 10.01];
    for (let us = 0; us < 40_000; us += 0.37) values.push(us);
    for (const b of FINE_BOUNDS_US) values.push(b, b * (1 - 1e-9), b * (1 + 1e-9), Math.floor(b), Math.ceil(b));
    for (const us of values) {
      const h = new LatencyHistogram();
      h.record(us / 1000);
      expect(h.counts.indexOf(1), `${us} µs`).toBe(expected(us));
    }
  });

  test('recordN counts n observations of one value', () => {
    const one = new LatencyHistogram();
    const n = new LatencyHistogram();
    for (let i = 0; i < 7; i++) one.record(0.25);
    n.recordN(0.25, 7);
    expect([...n.counts]).toEqual([...one.counts]);
    expect(n.count).toBe(7);
    expect(n.sumMs).toBeCloseTo(one.sumMs, 12);
  });
});
