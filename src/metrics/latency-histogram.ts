/**
 * A fixed log-bucket latency histogram: recording is a table look-up (a logarithm above 16 ms) and one array
 * increment, so it can sit on the request path. It serves two readers:
 *
 *   fine buckets (4 per power of two, from 10 µs)  →  percentiles for `stats` (p50/p95/p99/p999), ±9 %
 *   every 4th fine bound (10 µs · 2^k, k = 0..20)   →  Prometheus `_bucket{le=...}` series (10 µs .. ~10.5 s)
 *
 *   index:  0        1        2        3        4 ...      80        81
 *   upper:  10µs   11.9µs   14.1µs   16.8µs   20µs ...  ~10.5s     +Inf
 */

const BASE_US = 10;
const SUB = 4;
const POWERS = 20;
/** Number of finite fine buckets; one more holds everything above the last bound. */
export const FINE_BUCKETS = POWERS * SUB + 1;

/** Upper bounds of the fine buckets, in microseconds. */
export const FINE_BOUNDS_US: readonly number[] = Array.from({ length: FINE_BUCKETS }, (_, i) => BASE_US * 2 ** (i / SUB));

/** Prometheus bucket bounds in seconds: 10 µs · 2^k. */
export const PROM_BOUNDS_S: readonly number[] = Array.from({ length: POWERS + 1 }, (_, k) => (BASE_US * 2 ** k) / 1e6);

/** Below this many µs, the fine bucket comes from {@link BUCKET_AT_US} instead of a logarithm. */
const TABLE_US = 16_384;

/** Fine bound i as a typed array, with +Inf after the last, for the one comparison {@link bucketOf} makes. */
const BOUNDS = Float64Array.from([...FINE_BOUNDS_US, Number.POSITIVE_INFINITY]);

/** The fine bucket of a value in microseconds, by the logarithm (the definition). */
function bucketByLog(us: number): number {
  if (!(us > BASE_US)) return 0;
  const i = Math.ceil(Math.log2(us / BASE_US) * SUB - 1e-9);
  return i > FINE_BUCKETS ? FINE_BUCKETS : i;
}

/**
 * BUCKET_AT_US[j] = the fine bucket of j µs. A bucket is never narrower than 1 µs (the first is 1.9 µs wide),
 * so a value in [j, j + 1) is in that bucket or the next one: one comparison with the bucket's bound tells.
 */
const BUCKET_AT_US = Uint8Array.from({ length: TABLE_US }, (_, j) => bucketByLog(j));

/** The fine bucket of a value in microseconds: a table look-up below 16 ms, a logarithm above. */
function bucketOf(us: number): number {
  if (us < TABLE_US) {
    if (!(us > 0)) return 0;
    let i = BUCKET_AT_US[us | 0] as number;
    if (us > (BOUNDS[i] as number)) i++;
    return i;
  }
  return bucketByLog(us);
}

export class LatencyHistogram {
  /** counts[i] = observations in fine bucket i; the last slot is overflow (> last bound). */
  readonly counts = new Float64Array(FINE_BUCKETS + 1);
  count = 0;
  sumMs = 0;

  /** Record one observation in milliseconds. */
  record(ms: number): void {
    const i = bucketOf(ms * 1000);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sumMs += ms;
  }

  /** Record `n` observations of the same value (the keys of one multi-get batch). */
  recordN(ms: number, n: number): void {
    const i = bucketOf(ms * 1000);
    this.counts[i] = (this.counts[i] as number) + n;
    this.count += n;
    this.sumMs += ms * n;
  }

  /** The value (µs) below which a fraction `q` (0..1) of observations fall: the upper bound of that bucket. */
  percentileUs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return i < FINE_BUCKETS ? (FINE_BOUNDS_US[i] as number) : (FINE_BOUNDS_US[FINE_BUCKETS - 1] as number);
    }
    return FINE_BOUNDS_US[FINE_BUCKETS - 1] as number;
  }

  /** Cumulative counts at each PROM_BOUNDS_S bound (without +Inf, which is `count`). */
  cumulativeProm(): number[] {
    const out: number[] = [];
    let acc = 0;
    let fine = 0;
    for (let k = 0; k <= POWERS; k++) {
      const last = k * SUB;
      while (fine <= last) acc += this.counts[fine++] as number;
      out.push(acc);
    }
    return out;
  }

  /** Add another histogram's observations into this one (aggregates, status page). */
  addFrom(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    this.count += other.count;
    this.sumMs += other.sumMs;
  }
}
