/**
 * TkoTracker counts results the way mcrouter's TkoTracker / ProxyDestinationBase::handleTko do: the Nth timeout
 * in a row marks soft TKO, a connect error marks hard TKO at once (and escalates a soft one), a non-error reply
 * resets the counts while up, other errors neither count nor reset, and num_failures (consecutiveFailures) counts
 * every failure since the last success, failed probes included.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { Result } from '../../../src/protocol/types.js';
import { probeDelayMs, TkoCounters, TkoTracker, type TkoOptions, type TkoState } from '../../../src/upstream/tko-tracker.js';

interface Harness {
  t: TkoTracker;
  changes: [TkoState, TkoState, string][];
  /** Answer the probe in flight with this result. */
  answerProbe(r: Result): void;
  probes(): number;
}

function tracker(opts: Partial<TkoOptions> = {}, counters = new TkoCounters()): Harness {
  const changes: [TkoState, TkoState, string][] = [];
  let pending: ((r: Result) => void) | null = null;
  let probes = 0;
  const t = new TkoTracker(
    { timeoutsUntilTko: 3, probeInitialMs: 100, probeMaxMs: 1000, disabled: false, ...opts },
    {
      probe: (done) => {
        probes++;
        pending = done;
      },
      onStateChange: (from, to, reason) => changes.push([from, to, reason]),
    },
    counters,
  );
  return {
    t,
    changes,
    answerProbe(r) {
      const p = pending;
      pending = null;
      if (p === null) throw new Error('no probe in flight');
      p(r);
    },
    probes: () => probes,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

test('soft TKO on exactly the Nth timeout in a row, with mcrouter reason', () => {
  for (const n of [1, 2, 3, 5]) {
    const h = tracker({ timeoutsUntilTko: n });
    for (let i = 1; i < n; i++) {
      h.t.recordResult('timeout');
      expect(h.t.isTko()).toBe(false);
    }
    h.t.recordResult('timeout');
    expect(h.t.state).toBe('soft_tko');
    expect(h.t.reason).toBe('mc_res_timeout');
    expect(h.t.consecutiveFailures).toBe(n);
    expect(h.changes).toEqual([['up', 'soft_tko', 'mc_res_timeout']]);
    h.t.stop();
  }
});

test('a non-error reply resets the count; misses and NOT_STORED are not errors', () => {
  const h = tracker();
  h.t.recordResult('timeout');
  h.t.recordResult('timeout');
  h.t.recordResult('notfound');
  expect(h.t.consecutiveFailures).toBe(0);
  h.t.recordResult('timeout');
  h.t.recordResult('timeout');
  h.t.recordResult('notstored');
  h.t.recordResult('timeout');
  h.t.recordResult('timeout');
  expect(h.t.isTko()).toBe(false);
  h.t.recordResult('timeout');
  expect(h.t.isTko()).toBe(true);
  h.t.stop();
});

test('other errors (a server error, a local error) neither count nor reset', () => {
  const h = tracker();
  h.t.recordResult('timeout');
  h.t.recordResult('remote_error');
  h.t.recordResult('client_error');
  h.t.recordResult('local_error');
  h.t.recordResult('timeout');
  expect(h.t.consecutiveFailures).toBe(2);
  expect(h.t.isTko()).toBe(false);
  h.t.recordResult('timeout');
  expect(h.t.state).toBe('soft_tko');
  h.t.stop();
});

test('hard TKO at once on a connect error or connect timeout; num_failures counts each failed request', () => {
  for (const r of ['connect_error', 'connect_timeout'] as const) {
    const h = tracker();
    h.t.recordResult(r);
    expect(h.t.state).toBe('hard_tko');
    expect(h.t.reason).toBe(`mc_res_${r}`);
    // Requests already queued on the failed connection each report the connect error.
    h.t.recordResult(r);
    h.t.recordResult(r);
    expect(h.t.consecutiveFailures).toBe(3);
    expect(h.changes).toEqual([['up', 'hard_tko', `mc_res_${r}`]]);
    h.t.stop();
  }
});

test('a soft TKO escalates to hard on a connect error (counters move, reason kept)', () => {
  const counters = new TkoCounters();
  const h = tracker({}, counters);
  for (let i = 0; i < 3; i++) h.t.recordResult('timeout');
  expect([counters.soft, counters.hard]).toEqual([1, 0]);
  h.t.recordResult('connect_error');
  expect(h.t.state).toBe('hard_tko');
  expect(h.t.reason).toBe('mc_res_timeout');
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 1, 1]);
  expect(h.t.softTkoCount).toBe(1);
  expect(h.t.hardTkoCount).toBe(1);
  h.t.stop();
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 0, 1]);
});

test('while TKO, replies do not unmark and failed probes count as failures; a good probe unmarks', () => {
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  h.t.recordResult('connect_error');
  h.t.recordResult('found'); // a late reply from a request sent before the TKO
  expect(h.t.isTko()).toBe(true);
  expect(h.t.consecutiveFailures).toBe(1);
  vi.advanceTimersByTime(151); // first probe: 100 ms + at most 50% jitter
  expect(h.probes()).toBe(1);
  h.answerProbe('connect_error');
  expect(h.t.consecutiveFailures).toBe(2);
  vi.advanceTimersByTime(226); // second: 150 ms + jitter
  expect(h.probes()).toBe(2);
  h.answerProbe('timeout');
  expect(h.t.consecutiveFailures).toBe(3);
  expect(h.t.state).toBe('hard_tko');
  vi.advanceTimersByTime(338);
  expect(h.probes()).toBe(3);
  h.answerProbe('ok');
  expect(h.t.state).toBe('up');
  expect(h.t.consecutiveFailures).toBe(0);
  expect(h.t.reason).toBe('');
  expect(h.changes.at(-1)).toEqual(['hard_tko', 'up', 'probe succeeded']);
  // Back up: counting starts over.
  h.t.recordResult('timeout');
  h.t.recordResult('timeout');
  expect(h.t.isTko()).toBe(false);
});

test('pool fail-open: a refused soft TKO stays one timeout away; a refused hard TKO leaves the state alone', () => {
  const h = tracker();
  h.t.mayMark = () => false;
  for (let i = 0; i < 5; i++) h.t.recordResult('timeout');
  expect(h.t.isTko()).toBe(false);
  expect(h.t.consecutiveFailures).toBe(5);
  h.t.recordResult('connect_error');
  expect(h.t.isTko()).toBe(false);
  h.t.mayMark = () => true;
  h.t.recordResult('timeout');
  expect(h.t.state).toBe('soft_tko');
  h.t.stop();
});

test('--disable-tko-tracking: nothing counts, nothing marks', () => {
  const h = tracker({ disabled: true });
  for (let i = 0; i < 10; i++) h.t.recordResult('timeout');
  h.t.recordResult('connect_error');
  expect(h.t.isTko()).toBe(false);
  expect(h.t.consecutiveFailures).toBe(0);
  expect(h.changes).toEqual([]);
});

test('counters are shared gauges over every tracker, with the maximum', () => {
  const counters = new TkoCounters();
  const a = tracker({ timeoutsUntilTko: 1 }, counters);
  const b = tracker({}, counters);
  a.t.recordResult('timeout');
  b.t.recordResult('connect_error');
  expect([counters.soft, counters.hard, counters.max]).toEqual([1, 1, 2]);
  vi.advanceTimersByTime(151);
  a.answerProbe('ok');
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 1, 2]);
  b.t.stop();
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 0, 2]);
});

test('probe delays: x1.5 up to the max (1 is bumped to 2 first)', () => {
  expect([0, 1, 2, 3, 10].map((n) => probeDelayMs(n, 10_000, 60_000))).toEqual([10_000, 15_000, 22_500, 33_750, 60_000]);
  expect([0, 1, 2].map((n) => probeDelayMs(n, 1, 100))).toEqual([1, 3, 4.5]);
});
