/**
 * Health of one destination, counted the way mcrouter's TkoTracker and ProxyDestinationBase::handleTko count
 * it (reference mcrouter.md §4.1): every request sent to the destination reports its result once.
 *
 * - Soft TKO: the `timeoutsUntilTko`-th timeout in a row marks it. Every timed-out request counts once,
 *   however it was failed (its own timer, a reset of the silent connection, or the wait queue).
 * - Hard TKO: at once on a connect error, connect timeout or shutdown; a soft TKO escalates to hard.
 * - A non-error reply while up resets the counts. Other errors (a server's SERVER_ERROR, local errors)
 *   neither count nor reset, as in mcrouter.
 * - While TKO, requests are not sent: they fail at once with `tko`, so failover moves on instantly. Only a
 *   probe's success brings the destination back; a failed probe counts as a failure like any request.
 * - `consecutiveFailures` is mcrouter's consecutiveFailureCount (`stats suspect_servers` num_failures):
 *   every soft or hard failure since the last success, including failed probes while TKO.
 * - One prober per destination sends `version`; the first probe waits `probeInitialMs`, later ones
 *   ×1.5 up to `probeMaxMs`, each with 5–50% jitter.
 *
 * The common path (recordSuccess with no failures, then isTko) is three field reads.
 */
import { isErrorResult, type Result } from '../protocol/types.js';

export interface TkoOptions {
  timeoutsUntilTko: number;
  probeInitialMs: number;
  probeMaxMs: number;
  disabled: boolean;
}

export type TkoState = 'up' | 'soft_tko' | 'hard_tko';

/**
 * Destinations TKO right now, over every tracker that shares this object (mcrouter's TkoCounters, shown as
 * `num_soft_tko_count`, `num_hard_tko_count` and `max_num_tko`).
 */
export class TkoCounters {
  soft = 0;
  hard = 0;
  /** The most destinations TKO at once. */
  max = 0;

  noteRise(): void {
    const n = this.soft + this.hard;
    if (n > this.max) this.max = n;
  }
}

export interface TkoEvents {
  /** Send one probe; call `result` with its result (`ok` when the server answered `version`). */
  probe(result: (r: Result) => void): void;
  /** The state changed; `reason` is the result that caused it (`mc_res_timeout`, ...) or `probe succeeded`. */
  onStateChange(from: TkoState, to: TkoState, reason: string): void;
}

/** Probe delay for attempt n (0-based), before jitter: pure function of the attempt (ioredis-style). */
export function probeDelayMs(attempt: number, initialMs: number, maxMs: number): number {
  let d = Math.max(initialMs, 1);
  for (let i = 0; i < attempt; i++) {
    if (d === 1) d = 2;
    d = Math.min(maxMs, d * 1.5);
  }
  return Math.min(d, maxMs);
}

export class TkoTracker {
  /** Soft failures in a row while up (mcrouter sumFailures below the threshold). */
  private softInARow = 0;
  private stateValue: TkoState = 'up';
  private probeTimer: NodeJS.Timeout | null = null;
  private probeAttempt = 0;
  private readonly threshold: number;
  /** Failures since the last success, TKO or not (mcrouter consecutiveFailureCount; `num_failures`). */
  consecutiveFailures = 0;
  /** Times this destination was marked soft TKO / hard TKO (a soft TKO escalating to hard counts as hard). */
  softTkoCount = 0;
  hardTkoCount = 0;
  /** Probes sent during the current TKO. */
  probesSent = 0;
  /** The result that marked the current TKO, as mcrouter names it (`mc_res_timeout`, ...); '' while up. */
  reason = '';
  /** Pool fail-open hook: returns false to refuse marking (too many servers already TKO). */
  mayMark: () => boolean = () => true;

  constructor(
    private readonly opts: TkoOptions,
    private readonly events: TkoEvents,
    readonly counters: TkoCounters = new TkoCounters(),
  ) {
    this.threshold = Math.max(1, Math.floor(opts.timeoutsUntilTko));
  }

  get state(): TkoState {
    return this.stateValue;
  }

  isTko(): boolean {
    return this.stateValue !== 'up';
  }

  /** The result of one request sent to the destination (not a probe). */
  recordResult(result: Result): void {
    if (isErrorResult(result)) this.recordError(result);
    else this.recordSuccess();
  }

  /** A request succeeded (the reply path's call: small, so it inlines there). */
  recordSuccess(): void {
    // While TKO only a probe may unmark (mcrouter: the responsible proxy's probe).
    if ((this.consecutiveFailures !== 0 || this.softInARow !== 0) && this.stateValue === 'up') {
      this.consecutiveFailures = 0;
      this.softInARow = 0;
    }
  }

  /** A request failed with the error `result`: a TKO signal for timeouts and connect failures. */
  recordError(result: Result): void {
    switch (result) {
      case 'timeout':
        this.softFailure();
        return;
      case 'connect_error':
      case 'connect_timeout':
      case 'shutdown':
        this.hardFailure(result);
        return;
      default:
        // Any other error: not a TKO signal, and not a success either.
        return;
    }
  }

  private softFailure(): void {
    if (this.opts.disabled) return;
    this.consecutiveFailures++;
    if (this.stateValue !== 'up') return;
    if (this.softInARow === this.threshold - 1) {
      // Refused by the pool's fail-open: stay one timeout away.
      if (!this.mayMark()) return;
      this.softInARow = 0;
      this.mark('soft_tko', 'mc_res_timeout');
    } else {
      this.softInARow++;
    }
  }

  private hardFailure(result: Result): void {
    if (this.opts.disabled) return;
    this.consecutiveFailures++;
    const s = this.stateValue;
    if (s === 'hard_tko') return;
    if (s === 'soft_tko') {
      // Escalates; mcrouter keeps the reason and logs nothing for this step.
      this.stateValue = 'hard_tko';
      this.hardTkoCount++;
      this.counters.soft--;
      this.counters.hard++;
      this.events.onStateChange('soft_tko', 'hard_tko', this.reason);
      return;
    }
    if (!this.mayMark()) return;
    this.softInARow = 0;
    this.mark('hard_tko', `mc_res_${result}`);
  }

  private mark(to: TkoState, reason: string): void {
    this.stateValue = to;
    this.reason = reason;
    if (to === 'soft_tko') {
      this.softTkoCount++;
      this.counters.soft++;
    } else {
      this.hardTkoCount++;
      this.counters.hard++;
    }
    this.counters.noteRise();
    this.probesSent = 0;
    this.events.onStateChange('up', to, reason);
    if (this.probeTimer === null) {
      this.probeAttempt = 0;
      this.scheduleProbe();
    }
  }

  private scheduleProbe(): void {
    const base = probeDelayMs(this.probeAttempt, this.opts.probeInitialMs, this.opts.probeMaxMs);
    const jitter = 1 + 0.05 + Math.random() * 0.45;
    this.probeTimer = setTimeout(() => this.runProbe(), Math.round(base * jitter));
    this.probeTimer.unref();
  }

  private runProbe(): void {
    this.probeTimer = null;
    if (this.stateValue === 'up') return;
    this.probesSent++;
    this.events.probe((r) => this.probeResult(r));
  }

  /** A probe's result: a non-error reply unmarks; a failure counts like a request's and the next probe waits longer. */
  private probeResult(r: Result): void {
    if (this.stateValue === 'up') return;
    if (r === 'ok' || r === 'found') {
      this.unmark('probe succeeded');
      return;
    }
    if (r === 'timeout') this.softFailure();
    else if (r === 'connect_error' || r === 'connect_timeout' || r === 'shutdown') this.hardFailure(r);
    this.probeAttempt++;
    if (this.probeTimer === null && this.isTko()) this.scheduleProbe();
  }

  private unmark(why: string): void {
    const from = this.stateValue;
    if (from === 'up') return;
    if (from === 'soft_tko') this.counters.soft--;
    else this.counters.hard--;
    this.stateValue = 'up';
    this.softInARow = 0;
    this.consecutiveFailures = 0;
    this.reason = '';
    this.events.onStateChange(from, 'up', why);
  }

  /**
   * Probe now instead of waiting for the backoff (the destination's address changed, so the old
   * failures say nothing about the new one).
   */
  probeSoon(): void {
    if (this.stateValue === 'up') return;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeAttempt = 0;
    this.probeTimer = setTimeout(() => this.runProbe(), 1);
    this.probeTimer.unref();
  }

  /** Stop probing (destination removed): a TKO destination no longer counts as TKO. */
  stop(): void {
    if (this.probeTimer !== null) {
      clearTimeout(this.probeTimer);
      this.probeTimer = null;
    }
    if (this.stateValue !== 'up') {
      if (this.stateValue === 'soft_tko') this.counters.soft--;
      else this.counters.hard--;
      this.stateValue = 'up';
      this.reason = '';
    }
  }
}
