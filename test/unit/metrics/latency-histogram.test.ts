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
});
