/**
 * Staged rollouts, the pure part: the record, the cohort rule, and the guard's verdict.
 *
 * The record lives at `KEY/rollout` (next to the config key `KEY`):
 *
 *   {"candidate": "<config text>" | {"key": "/mcrelay/candidate"}, "fraction": 0.25, "salt": "r1",
 *    "guard": {"window_s": 60, "max_error_rate_increase": 0.01, "max_p99_increase_ms": 5}}
 *
 * A host runs the candidate iff `parseInt(md5(salt + ":" + hostId).slice(0, 8), 16) / 2^32 < fraction`
 * (md5 of the UTF-8 text, read as hex; the host id in decimal). That is the whole rule, so any tool can
 * say which hosts are in the cohort; raising the fraction only adds hosts, and a new salt draws a new
 * first cohort.
 *
 * The guard compares the host's client-visible error rate (replies that were SERVER_ERROR or a timeout,
 * over all replies) and p99 over `window_s` after the switch with the `window_s` before it. A window
 * before with fewer than 100 requests counts as error rate 0 and p99 0. The verdict comes at the end of
 * the window, or earlier once the window after holds 100 requests and a limit is passed.
 * `max_error_rate_increase` is a fraction (0.01 = one percentage point).
 */
import { createHash } from 'node:crypto';
import { FINE_BOUNDS_US, FINE_BUCKETS } from '../metrics/latency-histogram.js';

export interface GuardSpec {
  readonly windowS: number;
  readonly maxErrorRateIncrease: number;
  readonly maxP99IncreaseMs: number;
}

export type Candidate = { readonly text: string } | { readonly key: string };

export interface RolloutRecord {
  readonly candidate: Candidate;
  readonly fraction: number;
  readonly salt: string;
  readonly guard: GuardSpec;
}

/** Requests a window needs before its figures count (before the switch) or allow an early verdict (after). */
export const MIN_WINDOW_REQUESTS = 100;
/** The longest guard window accepted, seconds (the sampler keeps this much history). */
export const MAX_WINDOW_S = 3600;

function num(o: Record<string, unknown>, k: string, path: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`${path}/${k}: expected a number ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse and check a rollout record. @throws Error naming the JSON pointer of what is wrong */
export function parseRollout(text: string): RolloutRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`rollout: not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('rollout: expected an object');
  const o = raw as Record<string, unknown>;
  let candidate: Candidate;
  const c = o['candidate'];
  if (typeof c === 'string') candidate = { text: c };
  else if (typeof c === 'object' && c !== null && !Array.isArray(c) && typeof (c as Record<string, unknown>)['key'] === 'string' && ((c as Record<string, unknown>)['key'] as string).startsWith('/')) {
    candidate = { key: (c as Record<string, unknown>)['key'] as string };
  } else throw new Error('/candidate: expected the config text, or {"key": "/etcd/key"}');
  const fraction = num(o, 'fraction', '', 0, 1);
  const salt = o['salt'];
  if (typeof salt !== 'string') throw new Error(`/salt: expected a string, got ${JSON.stringify(salt)}`);
  const g = o['guard'];
  if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new Error('/guard: expected {"window_s", "max_error_rate_increase", "max_p99_increase_ms"}');
  const go = g as Record<string, unknown>;
  const guard: GuardSpec = {
    windowS: num(go, 'window_s', '/guard', 1, MAX_WINDOW_S),
    maxErrorRateIncrease: num(go, 'max_error_rate_increase', '/guard', 0, 1),
    maxP99IncreaseMs: num(go, 'max_p99_increase_ms', '/guard', 0, 3_600_000),
  };
  return { candidate, fraction, salt, guard };
}

/** The record as JSON, in the field names. */
export function formatRollout(r: RolloutRecord): string {
  const candidate = 'key' in r.candidate ? { key: r.candidate.key } : r.candidate.text;
  const guard = { window_s: r.guard.windowS, max_error_rate_increase: r.guard.maxErrorRateIncrease, max_p99_increase_ms: r.guard.maxP99IncreaseMs };
  return `${JSON.stringify({ candidate, fraction: r.fraction, salt: r.salt, guard }, null, 2)}\n`;
}

/** `parseInt(md5(salt + ":" + hostId).slice(0, 8), 16) / 2^32`: where a host falls in [0, 1). */
export function cohortPoint(salt: string, hostId: number): number {
  const hex = createHash('md5').update(`${salt}:${hostId}`, 'utf8').digest('hex');
  return parseInt(hex.slice(0, 8), 16) / 2 ** 32;
}

/** Whether a host runs the candidate. */
export function inCohort(salt: string, hostId: number, fraction: number): boolean {
  return cohortPoint(salt, hostId) < fraction;
}

/** Cumulative counters at one moment: replies, error replies, and the latency histogram (fine buckets). */
export interface TrafficSample {
  readonly at: number;
  readonly requests: number;
  readonly errors: number;
  readonly buckets: Float64Array;
}

/** What happened between two samples. */
export interface WindowFigures {
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly p99Ms: number;
}

/** Figures of the traffic between `from` and `to`; a window under `minRequests` counts as rate 0 and p99 0. */
export function windowFigures(from: TrafficSample, to: TrafficSample, minRequests = 0): WindowFigures {
  const requests = to.requests - from.requests;
  const errors = to.errors - from.errors;
  if (requests < minRequests || requests <= 0) return { requests, errors, errorRate: 0, p99Ms: 0 };
  let total = 0;
  const diff: number[] = [];
  for (let i = 0; i < to.buckets.length; i++) {
    const d = (to.buckets[i] ?? 0) - (from.buckets[i] ?? 0);
    diff.push(d);
    total += d;
  }
  let p99Ms = 0;
  if (total > 0) {
    const rank = Math.max(1, Math.ceil(0.99 * total));
    let seen = 0;
    for (let i = 0; i < diff.length; i++) {
      seen += diff[i] ?? 0;
      if (seen >= rank) {
        p99Ms = (FINE_BOUNDS_US[Math.min(i, FINE_BUCKETS - 1)] ?? 0) / 1000;
        break;
      }
    }
  }
  return { requests, errors, errorRate: errors / requests, p99Ms };
}

export type GuardVerdict = { readonly kind: 'wait' } | { readonly kind: 'pass' } | { readonly kind: 'revert'; readonly reason: string };

/**
 * The guard's verdict `elapsedMs` after the switch, given the window before it and the traffic since.
 * `revert` names the figure that regressed, with both values.
 */
export function guardVerdict(guard: GuardSpec, before: WindowFigures, after: WindowFigures, elapsedMs: number): GuardVerdict {
  const ended = elapsedMs >= guard.windowS * 1000;
  if (!ended && after.requests < MIN_WINDOW_REQUESTS) return { kind: 'wait' };
  const rateUp = after.errorRate - before.errorRate;
  const p99Up = after.p99Ms - before.p99Ms;
  if (rateUp > guard.maxErrorRateIncrease) {
    return { kind: 'revert', reason: `error rate ${pct(after.errorRate)} over ${after.requests} requests after the switch vs ${pct(before.errorRate)} before (limit +${pct(guard.maxErrorRateIncrease)})` };
  }
  if (p99Up > guard.maxP99IncreaseMs) {
    return { kind: 'revert', reason: `p99 ${after.p99Ms.toFixed(2)} ms after the switch vs ${before.p99Ms.toFixed(2)} ms before (limit +${guard.maxP99IncreaseMs} ms)` };
  }
  return ended ? { kind: 'pass' } : { kind: 'wait' };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
