/**
 * mcrouter's rate stats (`rate_stats` in stat_list.h: `result_error`, `request_sent`, ... in `stats detailed`):
 * a counter's increase per second over a moving window. mcrouter keeps one-second bins over a 60 s window;
 * here a snapshot of the counters is taken every second and a rate is (now - oldest snapshot) / elapsed.
 * Off the request path: one array copy per second.
 */

/** Counters sampled together; `read` returns their current cumulative values in a fixed order. */
export class RateWindow {
  private readonly times: number[] = [];
  private readonly values: Float64Array[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: () => Float64Array,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.sample();
  }

  start(periodMs = 1000): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sample(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const t = this.now();
    this.times.push(t);
    this.values.push(this.read());
    // Keep one snapshot at or before the window's start.
    while (this.times.length > 2 && (this.times[1] as number) <= t - this.windowMs) {
      this.times.shift();
      this.values.shift();
    }
  }

  /** Per-second rate of every counter since the oldest snapshot in the window (0 before a second has passed). */
  rates(): Float64Array {
    const cur = this.read();
    const out = new Float64Array(cur.length);
    const t0 = this.times[0];
    const v0 = this.values[0];
    if (t0 === undefined || v0 === undefined) return out;
    const secs = (this.now() - t0) / 1000;
    if (secs < 1) return out;
    for (let i = 0; i < cur.length; i++) out[i] = ((cur[i] as number) - (v0[i] ?? 0)) / secs;
    return out;
  }
}

/** C printf `%g` (6 significant digits, exponent form outside 1e-4 .. 1e6), as mcrouter prints doubles. */
export function formatG(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = x.toPrecision(6);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
