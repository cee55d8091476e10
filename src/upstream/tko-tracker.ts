/**
 * Health of one destination (mcrouter TkoTracker semantics, reference mcrouter.md §4.1).
 *
 * - Soft TKO: after `timeoutsUntilTko` consecutive timeouts. Any reply resets the count.
 * - Hard TKO: at once on a connect error, connect timeout or refusal.
 * - While TKO, requests are not sent: they fail at once with `tko`, so failover moves on instantly.
 * - One prober per destination sends `version`; the first probe waits `probeInitialMs`, later ones
 *   ×1.5 up to `probeMaxMs`, each with 5–50% jitter. A successful probe brings the destination back.
 *
 * The common path (recordReply with no failures, isTko) is two field reads.
 */
export interface TkoOptions {
  timeoutsUntilTko: number;
  probeInitialMs: number;
  probeMaxMs: number;
  disabled: boolean;
}

export const DEFAULT_TKO_OPTIONS: TkoOptions = {
  timeoutsUntilTko: 3,
  probeInitialMs: 10_000,
  probeMaxMs: 60_000,
  disabled: false,
};

export type TkoState = 'up' | 'soft_tko' | 'hard_tko';

export interface TkoEvents {
  /** Send one probe; call `result(true)` when the server answered, `result(false)` otherwise. */
  probe(result: (ok: boolean) => void): void;
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
  private consecutiveTimeouts = 0;
  private stateValue: TkoState = 'up';
  private probeTimer: NodeJS.Timeout | null = null;
  private probeAttempt = 0;
  /** Total failures while suspect (for `stats suspect_servers`). */
  failures = 0;
  softTkoCount = 0;
  hardTkoCount = 0;
  /** Reason of the current TKO, e.g. `mc_res_connect_error`. */
  reason = '';
  /** Pool fail-open hook: returns false to refuse marking (too many servers already TKO). */
  mayMark: () => boolean = () => true;

  constructor(
    private readonly opts: TkoOptions,
    private readonly events: TkoEvents,
  ) {}

  get state(): TkoState {
    return this.stateValue;
  }

  isTko(): boolean {
    return this.stateValue !== 'up';
  }

  /** A reply arrived from the server. */
  recordSuccess(): void {
    if (this.consecutiveTimeouts !== 0) this.consecutiveTimeouts = 0;
    // A server that answers is no longer suspect (mcrouter resets the consecutive failure count).
    if (this.failures !== 0 && this.stateValue === 'up') this.failures = 0;
  }

  recordTimeout(): void {
    if (this.opts.disabled) return;
    this.failures++;
    this.consecutiveTimeouts++;
    if (this.stateValue === 'up' && this.consecutiveTimeouts >= this.opts.timeoutsUntilTko) {
      this.mark('soft_tko', 'mc_res_timeout');
    }
  }

  recordConnectError(reason: string): void {
    if (this.opts.disabled) return;
    this.failures++;
    if (this.stateValue !== 'hard_tko') this.mark('hard_tko', reason);
  }

  private mark(to: TkoState, reason: string): void {
    if (this.stateValue === 'up' && !this.mayMark()) return;
    const from = this.stateValue;
    this.stateValue = to;
    this.reason = reason;
    if (to === 'soft_tko') this.softTkoCount++;
    else this.hardTkoCount++;
    this.events.onStateChange(from, to, reason);
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
    this.events.probe((ok) => {
      if (ok) {
        this.unmark();
      } else {
        this.probeAttempt++;
        if (this.probeTimer === null && this.stateValue !== 'up') this.scheduleProbe();
      }
    });
  }

  private unmark(): void {
    const from = this.stateValue;
    if (from === 'up') return;
    this.stateValue = 'up';
    this.consecutiveTimeouts = 0;
    this.failures = 0;
    this.reason = '';
    this.events.onStateChange(from, 'up', 'probe succeeded');
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

  /** Stop probing (destination removed). */
  stop(): void {
    if (this.probeTimer !== null) {
      clearTimeout(this.probeTimer);
      this.probeTimer = null;
    }
  }
}
