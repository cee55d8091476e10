/**
 * Token buckets for the rate-limiting routes. Two flavours, both plain field arithmetic (no timers):
 *
 *   TimeTokenBucket    refills `rate` tokens per second up to `burst` (RateLimitRoute's per-op limits);
 *   RatioTokenBucket   refills `rate` tokens per *request* up to `burst` (FailoverRoute's `failover_limit`:
 *                      at most `rate` failovers per request on average, with bursts of `burst`).
 *
 * Both start full, so a freshly loaded config never rejects its first `burst` operations.
 */

/** Seconds as a float; injectable so tests control time. */
export type Clock = () => number;

export const monotonicSeconds: Clock = () => performance.now() / 1000;

export class TimeTokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param rate supplies tokens added per second (0 = nothing is ever added after the initial burst)
   * @param burst supplies the bucket size (the most tokens that can pile up)
   * @param clock supplies the time in seconds
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly clock: Clock = monotonicSeconds,
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  /** Take one token if there is one. */
  tryConsume(): boolean {
    const now = this.clock();
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export class RatioTokenBucket {
  private tokens: number;

  /**
   * @param rate supplies tokens earned per request, in [0, 1]
   * @param burst supplies the bucket size (at least 1)
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** A request arrived: earn `rate` tokens. */
  onRequest(): void {
    const t = this.tokens + this.rate;
    this.tokens = t > this.burst ? this.burst : t;
  }

  /** A failover wants to happen: spend one token if there is one. */
  tryConsume(): boolean {
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
