/**
 * TkoTracker counts results the way mcrouter's TkoTracker / ProxyDestinationBase::handleTko do: the Nth timeout
 * in a row marks soft TKO, a connect error marks hard TKO at once (and escalates a soft one), a non-error reply
 * resets the counts while up, other errors neither count nor reset, and num_failures (consecutiveFailures) counts
 * every failure since the last success, failed probes included.
 *
 * Probes (reference mcrouter.md §4.1): the first waits --probe-timeout-initial, each later one ×1.5 (a delay of
 * 1 is first bumped to 2) up to --probe-timeout-max, every wait stretched by 1 + U[0.05, 0.5]. Time is the
 * fake clock, and the jitter's U is pinned by stubbing Math.random.
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
  /** Whether a probe was sent and not answered yet. */
  probeInFlight(): boolean;
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
    probeInFlight: () => pending !== null,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Pin the jitter: Math.random() returns `u`, so every wait is delay·(1 + 0.05 + 0.45·u). */
function pinJitter(u: number): void {
  vi.spyOn(Math, 'random').mockReturnValue(u);
}

/**
 * Advance to just before `waitMs` (the probe must not have gone) and just past it (it must have): a 1 ms
 * allowance either side for the timer's whole-millisecond rounding.
 */
function expectProbeAfter(h: Harness, waitMs: number, what: string): void {
  const before = h.probes();
  vi.advanceTimersByTime(Math.floor(waitMs) - 1);
  expect(h.probes(), `${what}: no probe before ${waitMs} ms`).toBe(before);
  vi.advanceTimersByTime(2);
  expect(h.probes(), `${what}: a probe by ${waitMs} ms`).toBe(before + 1);
}

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

test('shutdown marks hard TKO at once, like a connect error', () => {
  const h = tracker();
  h.t.recordResult('shutdown');
  expect(h.t.state).toBe('hard_tko');
  expect(h.t.reason).toBe('mc_res_shutdown');
  expect(h.changes).toEqual([['up', 'hard_tko', 'mc_res_shutdown']]);
  h.t.stop();
});

test('probe schedule: probeInitialMs, then x1.5 per failed probe up to probeMaxMs, each wait +5% .. +50% jitter', () => {
  // Both ends of the jitter range; the delays are the reference's, computed here, not read from the class.
  for (const [u, stretch] of [[0, 1.05], [0.999_999, 1.5]] as const) {
    pinJitter(u);
    const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
    h.t.recordResult('connect_error');
    let delay = 100;
    for (let i = 0; i < 9; i++) {
      expectProbeAfter(h, delay * stretch, `u=${u} probe ${i + 1} (delay ${delay})`);
      expect(h.t.probesSent).toBe(i + 1);
      h.answerProbe(i % 2 === 0 ? 'connect_timeout' : 'timeout');
      expect(h.t.state).toBe('hard_tko');
      delay = Math.min(delay * 1.5, 1000);
    }
    expect(delay).toBe(1000); // the cap was reached and held
    h.t.stop();
    vi.restoreAllMocks();
  }
});

test('one probe at a time: none is sent while one is unanswered', () => {
  pinJitter(0);
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  h.t.recordResult('connect_error');
  expectProbeAfter(h, 105, 'first probe');
  vi.advanceTimersByTime(10_000);
  expect(h.probes()).toBe(1);
  expect(h.probeInFlight()).toBe(true);
  h.answerProbe('connect_error');
  expectProbeAfter(h, 150 * 1.05, 'second probe, timed from the first one\'s answer');
  h.t.stop();
});

test('a probe answered with another error keeps the TKO, counts no failure, and still backs off', () => {
  pinJitter(0);
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  h.t.recordResult('connect_error');
  expectProbeAfter(h, 105, 'first probe');
  h.answerProbe('remote_error');
  expect(h.t.state).toBe('hard_tko');
  expect(h.t.consecutiveFailures).toBe(1);
  expectProbeAfter(h, 150 * 1.05, 'second probe');
  h.t.stop();
});

test('a soft TKO is probed too, and a good probe brings it back up', () => {
  pinJitter(0);
  const counters = new TkoCounters();
  const h = tracker({ timeoutsUntilTko: 2, probeInitialMs: 100, probeMaxMs: 1000 }, counters);
  h.t.recordResult('timeout');
  h.t.recordResult('timeout');
  expect(h.t.state).toBe('soft_tko');
  // More timeouts while soft TKO count as failures but change nothing else.
  h.t.recordResult('timeout');
  expect(h.t.state).toBe('soft_tko');
  expect(h.t.consecutiveFailures).toBe(3);
  expect(h.t.softTkoCount).toBe(1);
  expectProbeAfter(h, 105, 'first probe');
  h.answerProbe('timeout');
  expect(h.t.consecutiveFailures).toBe(4);
  expect(h.t.state).toBe('soft_tko');
  expectProbeAfter(h, 150 * 1.05, 'second probe');
  h.answerProbe('ok');
  expect(h.t.state).toBe('up');
  expect(h.t.consecutiveFailures).toBe(0);
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 0, 1]);
  expect(h.changes).toEqual([['up', 'soft_tko', 'mc_res_timeout'], ['soft_tko', 'up', 'probe succeeded']]);
  // Once up, no more probes.
  vi.advanceTimersByTime(10_000);
  expect(h.probes()).toBe(2);
});

test('escalating soft to hard keeps the probe already scheduled', () => {
  pinJitter(0);
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  for (let i = 0; i < 3; i++) h.t.recordResult('timeout');
  vi.advanceTimersByTime(50);
  h.t.recordResult('connect_error');
  expect(h.t.state).toBe('hard_tko');
  // The first probe is still due 105 ms after the soft TKO, not 105 ms after the escalation.
  expectProbeAfter(h, 105 - 50, 'first probe');
  h.t.stop();
});

test('a new TKO after recovery starts the backoff over at probeInitialMs', () => {
  pinJitter(0);
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  h.t.recordResult('connect_error');
  expectProbeAfter(h, 105, 'probe 1');
  h.answerProbe('connect_error');
  expectProbeAfter(h, 150 * 1.05, 'probe 2');
  h.answerProbe('connect_error');
  expectProbeAfter(h, 225 * 1.05, 'probe 3');
  h.answerProbe('ok');
  expect(h.t.state).toBe('up');
  h.t.recordResult('connect_error');
  expect(h.t.state).toBe('hard_tko');
  expect(h.t.hardTkoCount).toBe(2);
  expect(h.t.probesSent).toBe(0);
  expectProbeAfter(h, 105, 'first probe of the second TKO');
  h.t.stop();
});

test('probeSoon: a TKO destination is probed at once and the backoff starts over; an up one is left alone', () => {
  pinJitter(0);
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 });
  h.t.probeSoon();
  vi.advanceTimersByTime(10_000);
  expect(h.probes()).toBe(0);
  h.t.recordResult('connect_error');
  expectProbeAfter(h, 105, 'probe 1');
  h.answerProbe('connect_error');
  expectProbeAfter(h, 150 * 1.05, 'probe 2');
  h.answerProbe('connect_error');
  // The next probe would wait 225·1.05 ms; the address changed, so probe now instead. That probe is the
  // first of a fresh schedule: the one after it waits the schedule's second delay (x1.5 once, not four times).
  h.t.probeSoon();
  vi.advanceTimersByTime(2);
  expect(h.probes()).toBe(3);
  h.answerProbe('connect_error');
  expectProbeAfter(h, 150 * 1.05, 'after probeSoon the backoff starts over');
  h.t.stop();
});

test('stop: no probe is sent afterwards, and a late probe answer changes nothing', () => {
  pinJitter(0);
  const counters = new TkoCounters();
  const h = tracker({ probeInitialMs: 100, probeMaxMs: 1000 }, counters);
  h.t.recordResult('connect_error');
  h.t.stop();
  expect(h.t.isTko()).toBe(false);
  expect(h.t.reason).toBe('');
  vi.advanceTimersByTime(10_000);
  expect(h.probes()).toBe(0);

  const g = tracker({ probeInitialMs: 100, probeMaxMs: 1000 }, counters);
  g.t.recordResult('connect_error');
  expectProbeAfter(g, 105, 'probe');
  g.t.stop();
  const failures = g.t.consecutiveFailures;
  g.answerProbe('connect_error');
  expect(g.t.isTko()).toBe(false);
  expect(g.t.consecutiveFailures).toBe(failures);
  vi.advanceTimersByTime(10_000);
  expect(g.probes()).toBe(1);
  expect([counters.soft, counters.hard]).toEqual([0, 0]);
});

test('--disable-tko-tracking: no probe is ever scheduled and the shared counters stay at zero', () => {
  const counters = new TkoCounters();
  const h = tracker({ disabled: true, timeoutsUntilTko: 1 }, counters);
  h.t.recordResult('timeout');
  h.t.recordResult('connect_timeout');
  h.t.recordResult('shutdown');
  vi.advanceTimersByTime(120_000);
  expect(h.probes()).toBe(0);
  expect([counters.soft, counters.hard, counters.max]).toEqual([0, 0, 0]);
  expect([h.t.softTkoCount, h.t.hardTkoCount]).toEqual([0, 0]);
});
