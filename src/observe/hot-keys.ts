/**
 * Hot-key detection: a bounded streaming top-K (Metwally et al.'s space-saving) over a sliding window.
 *
 * Space-saving keeps at most `capacity` counters. A key already tracked is incremented; a new key replaces
 * the counter with the smallest count and inherits that count as its `error` (its true count is between
 * `count - error` and `count`). Any key whose true frequency exceeds total/capacity is guaranteed to be
 * tracked, which is exactly the property hot-key detection needs. The minimum is kept at the root of a
 * binary min-heap, so each update is O(log capacity) and memory is O(capacity) whatever the workload.
 *
 * Sliding window: two sketches, `current` and `previous`. Every `windowMs / 2` the current becomes the
 * previous and a fresh one starts; a report merges both, so it always covers between ½ and 1 window.
 *
 *   time ──►  | previous (½ window) | current (filling) |
 *                      └──────── report ────────┘
 */

interface Counter {
  key: string;
  count: number;
  error: number;
  /** Position in the heap array. */
  pos: number;
}

export class SpaceSaving {
  private readonly byKey = new Map<string, Counter>();
  private readonly heap: Counter[] = [];
  total = 0;

  constructor(readonly capacity: number) {}

  offer(key: string, n = 1): void {
    this.total += n;
    let c = this.byKey.get(key);
    if (c !== undefined) {
      c.count += n;
      this.siftDown(c.pos);
      return;
    }
    if (this.heap.length < this.capacity) {
      c = { key, count: n, error: 0, pos: this.heap.length };
      this.heap.push(c);
      this.byKey.set(key, c);
      this.siftUp(c.pos);
      return;
    }
    const min = this.heap[0];
    if (min === undefined) return;
    this.byKey.delete(min.key);
    min.key = key;
    min.error = min.count;
    min.count += n;
    this.byKey.set(key, min);
    this.siftDown(0);
  }

  /** Tracked keys, highest count first. */
  top(k: number): { key: string; count: number; error: number }[] {
    return [...this.heap]
      .sort((a, b) => b.count - a.count || a.error - b.error)
      .slice(0, k)
      .map((c) => ({ key: c.key, count: c.count, error: c.error }));
  }

  countOf(key: string): number {
    return this.byKey.get(key)?.count ?? 0;
  }

  entries(): IterableIterator<Counter> {
    return this.byKey.values();
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as Counter;
    const b = this.heap[j] as Counter;
    this.heap[i] = b;
    this.heap[j] = a;
    a.pos = j;
    b.pos = i;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.heap[p] as Counter).count <= (this.heap[i] as Counter).count) return;
      this.swap(i, p);
      i = p;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      let m = l;
      if (r < n && (this.heap[r] as Counter).count < (this.heap[l] as Counter).count) m = r;
      if ((this.heap[i] as Counter).count <= (this.heap[m] as Counter).count) return;
      this.swap(i, m);
      i = m;
    }
  }
}

export interface HotKey {
  readonly key: string;
  /** Estimated requests in the window (an upper bound; `count - error` is a lower bound). */
  readonly count: number;
  readonly error: number;
  /** count / all requests seen by this tracker in the window. */
  readonly share: number;
}

/** One sliding-window top-K. */
export class WindowedTopK {
  private current: SpaceSaving;
  private previous: SpaceSaving;

  constructor(private readonly capacity: number) {
    this.current = new SpaceSaving(capacity);
    this.previous = new SpaceSaving(capacity);
  }

  offer(key: string): void {
    this.current.offer(key);
  }

  rotate(): void {
    this.previous = this.current;
    this.current = new SpaceSaving(this.capacity);
  }

  get total(): number {
    return this.current.total + this.previous.total;
  }

  /** Merged estimate of `key` over both halves. */
  countOf(key: string): number {
    return this.current.countOf(key) + this.previous.countOf(key);
  }

  top(k: number): HotKey[] {
    const merged = new Map<string, { count: number; error: number }>();
    for (const s of [this.previous, this.current]) {
      for (const c of s.entries()) {
        const m = merged.get(c.key);
        if (m === undefined) merged.set(c.key, { count: c.count, error: c.error });
        else {
          m.count += c.count;
          m.error += c.error;
        }
      }
    }
    const total = this.total;
    return [...merged.entries()]
      .sort((a, b) => b[1].count - a[1].count || a[1].error - b[1].error)
      .slice(0, k)
      .map(([key, v]) => ({ key, count: v.count, error: v.error, share: total === 0 ? 0 : v.count / total }));
  }
}

export interface HotKeysOptions {
  /** Counters per tracker (space-saving capacity). */
  readonly capacity: number;
  /** Window length; the sketches rotate every half window. */
  readonly windowMs: number;
  /** Count 1 in `sampleRate` requests (1 = every request). */
  readonly sampleRate: number;
}

/** Overall and per-destination hot keys. */
export class HotKeys {
  readonly overall: WindowedTopK;
  readonly byDestination = new Map<string, WindowedTopK>();
  private readonly timer: NodeJS.Timeout;
  private tick = 0;
  private destTick = 0;

  constructor(readonly opts: HotKeysOptions) {
    this.overall = new WindowedTopK(opts.capacity);
    this.timer = setInterval(() => this.rotate(), Math.max(1, Math.floor(opts.windowMs / 2)));
    this.timer.unref();
  }

  /** A client request for `key` (overall tracker). Decoded to a string only when sampled. */
  offer(key: Buffer | string): void {
    if (this.opts.sampleRate > 1 && ++this.tick % this.opts.sampleRate !== 0) return;
    this.overall.offer(typeof key === 'string' ? key : key.toString('latin1'));
  }

  /** A request for `key` sent to `destination`. */
  offerDestination(destination: string, key: Buffer | string): void {
    if (this.opts.sampleRate > 1 && ++this.destTick % this.opts.sampleRate !== 0) return;
    let t = this.byDestination.get(destination);
    if (t === undefined) {
      t = new WindowedTopK(this.opts.capacity);
      this.byDestination.set(destination, t);
    }
    t.offer(typeof key === 'string' ? key : key.toString('latin1'));
  }

  rotate(): void {
    this.overall.rotate();
    for (const t of this.byDestination.values()) t.rotate();
  }

  /** Report: overall top `k` and per-destination top `k`. */
  report(k: number): { windowMs: number; sampleRate: number; overall: HotKey[]; destinations: Record<string, HotKey[]> } {
    const destinations: Record<string, HotKey[]> = {};
    for (const [d, t] of this.byDestination) destinations[d] = t.top(k);
    return { windowMs: this.opts.windowMs, sampleRate: this.opts.sampleRate, overall: this.overall.top(k), destinations };
  }

  /** The top key's share of each destination's traffic in the window (for the metric). */
  topShares(): [string, number][] {
    const out: [string, number][] = [];
    for (const [d, t] of this.byDestination) out.push([d, t.top(1)[0]?.share ?? 0]);
    return out;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
