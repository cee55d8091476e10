import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { formatStatus } from '../../../src/fleet/fleet-command.js';
import { cohortPoint, formatRollout, guardVerdict, inCohort, parseRollout, windowFigures, type TrafficSample } from '../../../src/fleet/rollout.js';
import { FINE_BOUNDS_US, FINE_BUCKETS, LatencyHistogram } from '../../../src/metrics/latency-histogram.js';

const guard = { windowS: 60, maxErrorRateIncrease: 0.01, maxP99IncreaseMs: 5 };

function sample(at: number, requests: number, errors: number, latenciesMs: readonly number[] = []): TrafficSample {
  const h = new LatencyHistogram();
  for (const ms of latenciesMs) h.record(ms);
  return { at, requests, errors, buckets: Float64Array.from(h.counts) };
}

describe('the cohort rule', () => {
  test('is parseInt(md5(salt + ":" + hostId).slice(0, 8), 16) / 2^32 < fraction', () => {
    for (const [salt, id] of [['r1', 1], ['r1', 20], ['é', 4294967295], ['', 0]] as const) {
      const want = parseInt(createHash('md5').update(Buffer.from(`${salt}:${id}`, 'utf8')).digest('hex').slice(0, 8), 16) / 2 ** 32;
      expect(cohortPoint(salt, id)).toBe(want);
      expect(inCohort(salt, id, want)).toBe(false);
      expect(inCohort(salt, id, want + 1e-9)).toBe(true);
    }
  });

  test('raising the fraction only adds hosts; a new salt draws another cohort', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const at = (salt: string, f: number): Set<number> => new Set(ids.filter((id) => inCohort(salt, id, f)));
    const q = at('s', 0.25);
    const h = at('s', 0.5);
    for (const id of q) expect(h.has(id)).toBe(true);
    expect(q.size).toBeGreaterThan(200);
    expect(q.size).toBeLessThan(300);
    const other = at('t', 0.25);
    expect([...q].filter((id) => other.has(id)).length).toBeLessThan(q.size / 2);
    expect(at('s', 0).size).toBe(0);
    expect(at('s', 1).size).toBe(1000);
  });
});

describe('the rollout record', () => {
  test('parses the issue\'s shape, candidate inline or by key, and formats it back', () => {
    const r = parseRollout('{"candidate": {"key": "/c"}, "fraction": 0.25, "salt": "x", "guard": {"window_s": 30, "max_error_rate_increase": 0.01, "max_p99_increase_ms": 5}}');
    expect(r).toEqual({ candidate: { key: '/c' }, fraction: 0.25, salt: 'x', guard: { windowS: 30, maxErrorRateIncrease: 0.01, maxP99IncreaseMs: 5 } });
    expect(parseRollout(formatRollout(r))).toEqual(r);
    expect(parseRollout(formatRollout({ ...r, candidate: { text: '{"route": "NullRoute"}' } })).candidate).toEqual({ text: '{"route": "NullRoute"}' });
  });

  test('refuses what it cannot follow, naming the field', () => {
    const ok = { candidate: 'x', fraction: 0.5, salt: 's', guard: { window_s: 1, max_error_rate_increase: 0, max_p99_increase_ms: 0 } };
    const bad = (patch: object): string => JSON.stringify({ ...ok, ...patch });
    expect(() => parseRollout('nope')).toThrow(/not JSON/);
    expect(() => parseRollout(bad({ fraction: 1.5 }))).toThrow('/fraction: expected a number 0..1');
    expect(() => parseRollout(bad({ candidate: { key: 'relative' } }))).toThrow(/^\/candidate/);
    expect(() => parseRollout(bad({ salt: 3 }))).toThrow(/^\/salt/);
    expect(() => parseRollout(bad({ guard: { window_s: 0, max_error_rate_increase: 0, max_p99_increase_ms: 0 } }))).toThrow('/guard/window_s');
    expect(() => parseRollout(bad({ guard: null }))).toThrow(/^\/guard/);
  });
});

describe('the guard', () => {
  test('window figures: error share and p99 of the traffic between two samples', () => {
    const lat = Array.from({ length: 200 }, (_, i) => (i < 198 ? 1 : 100));
    const f = windowFigures(sample(0, 1000, 10), sample(1, 1200, 14, lat));
    expect(f.requests).toBe(200);
    expect(f.errorRate).toBeCloseTo(0.02);
    // p99 of 200: the 198th value (1 ms), reported as its bucket's upper bound.
    const bucket = FINE_BOUNDS_US.findIndex((b) => b >= 1000);
    expect(f.p99Ms).toBe((FINE_BOUNDS_US[Math.min(bucket, FINE_BUCKETS - 1)] as number) / 1000);
    expect(windowFigures(sample(0, 0, 0), sample(1, 99, 99, [5]), 100)).toEqual({ requests: 99, errors: 99, errorRate: 0, p99Ms: 0 });
  });

  const before = { requests: 1000, errors: 0, errorRate: 0, p99Ms: 1 };
  test('reverts early once 100 requests show a breach, with both figures in the reason', () => {
    expect(guardVerdict(guard, before, { requests: 99, errors: 99, errorRate: 1, p99Ms: 1 }, 1000)).toEqual({ kind: 'wait' });
    const v = guardVerdict(guard, before, { requests: 100, errors: 2, errorRate: 0.02, p99Ms: 1 }, 1000);
    expect(v).toEqual({ kind: 'revert', reason: 'error rate 2.00% over 100 requests after the switch vs 0.00% before (limit +1.00%)' });
    expect(guardVerdict(guard, before, { requests: 100, errors: 0, errorRate: 0, p99Ms: 6.5 }, 1000)).toEqual({ kind: 'revert', reason: 'p99 6.50 ms after the switch vs 1.00 ms before (limit +5 ms)' });
  });

  test('exactly at the limits passes at the end of the window; before the end it waits', () => {
    const edge = { requests: 500, errors: 5, errorRate: 0.01, p99Ms: 6 };
    expect(guardVerdict(guard, before, edge, 59_999)).toEqual({ kind: 'wait' });
    expect(guardVerdict(guard, before, edge, 60_000)).toEqual({ kind: 'pass' });
    // The window ends with few requests: the verdict is taken on what there is.
    expect(guardVerdict(guard, before, { requests: 3, errors: 3, errorRate: 1, p99Ms: 1 }, 60_000).kind).toBe('revert');
  });
});

describe('fleet status output', () => {
  test('one line per host by id, then hosts per md5 and the reverted count', () => {
    const s = (id: number, md5: string, role: 'stable' | 'candidate', reason: string | null = null) => ({
      host_id: id, md5, generation: 1, role, reverted: reason === null ? null : { md5: 'c', reason, at: 't' }, updated_at: 't',
    });
    expect(formatStatus([s(3, 'aaa', 'stable'), s(1, 'bbb', 'candidate'), s(2, 'aaa', 'stable', 'error rate 9%')])).toBe(
      '1 bbb candidate\n2 aaa stable reverted: error rate 9%\n3 aaa stable\n3 hosts; aaa: 2, bbb: 1; reverted: 1\n',
    );
    expect(formatStatus([])).toBe('0 hosts; reverted: 0\n');
  });
});
