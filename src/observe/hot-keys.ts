/**
 * Hot-key detection: a bounded streaming top-K (Metwally et al.'s space-saving) over a sliding window.
 *
 * Space-saving keeps at most `capacity` counters. A key already tracked is incremented; a new key replaces
 * the counter with the smallest count and inherits that count as its `error` (its true count is between
 * `count - error` and `count`). Any key whose true frequency exceeds total/capacity is guaranteed to be
 * tracked, which is exactly the property hot-key detection needs. The minimum is kept at the root of a
 * binary min-heap, so each update is O(log capacity) and memory is O(capacity) whatever the workload.
 * Keys are kept as bytes, found by hash: a key given as a range of a read buffer is counted without a
 * string or an allocation.
 *
 * The windowed trackers put a doorkeeper in front of the eviction (see SpaceSaving's constructor): with
 * a wide key space most sampled keys are seen once, and they no longer evict a counter each.
 *
 * Sliding window: two sketches, `current` and `previous`. Every `windowMs / 2` the current becomes the
 * previous and a fresh one starts; a report merges both, so it always covers between ½ and 1 window.
 *
 *   time ──►  | previous (½ window) | current (filling) |
 *                      └──────── report ────────┘
 */
import { HashIndex, HeldKey, hashBytes, hashLatin1 } from './key-hash.js';

/** One space-saving counter: a held key and its estimate. */
class Counter extends HeldKey {
  count = 0;
  error = 0;
  /** Position in the heap array. */
  pos = 0;
  constructor(
    /** Position in `counters`: the id the hash index holds. */
    readonly id: number,
  ) {
    super();
  }
}

/** A tracked key and its estimate (`count - error` ≤ true count ≤ `count`). */
export interface TrackedKey {
  readonly key: string;
  readonly count: number;
  readonly error: number;
}

/**
 * Space-saving over key bytes. Keys are found by {@link hashBytes} in a {@link HashIndex} and compared byte
 * for byte, so offering a key given as a buffer range makes no string and no allocation; a key is copied
 * (into its counter's reused buffer) only when it takes a counter. A key whose hash equals a different tracked key's is not counted (it adds to `total` only):
 * with at most `capacity` keys tracked and 30-bit hashes that is about one offer in ten million for a
 * capacity of 100.
 */
export class SpaceSaving {
  /** Counters by id. */
  private readonly counters: Counter[] = [];
  /** The min-heap of counters by count. */
  private readonly heap: Counter[] = [];
  /** Counter ids by key hash. */
  private readonly index: HashIndex;
  /** The doorkeeper: hashes of untracked keys seen once (direct-mapped; -1 = empty), or null for none. */
  private readonly door: Int32Array | null;
  total = 0;

  /**
   * @param doorkeeper once every counter is taken, a key that is not tracked takes the smallest counter
   *   only when it is seen a second time while the doorkeeper still remembers it (8 slots per counter,
   *   direct-mapped by hash; the remembered sighting is credited). Keys seen once, the bulk of a wide key
   *   space, then cost a hash and a look-up instead of evicting a counter, and stop inflating the
   *   smallest count. `count - error` is still a lower bound of a key's count; `count` can miss sightings
   *   the doorkeeper forgot (another key took its slot in between), which for a key hot enough to report
   *   is rare.
   */
  constructor(
    readonly capacity: number,
    doorkeeper = false,
  ) {
    this.index = new HashIndex(capacity);
    let doorSize = 64;
    while (doorSize < 8 * capacity) doorSize *= 2;
    this.door = doorkeeper ? new Int32Array(doorSize).fill(-1) : null;
  }

  offer(key: string, n = 1): void {
    const b = Buffer.from(key, 'latin1');
    this.offerRange(b, 0, b.length, n);
  }

  /** Count `buf[start, end)` `n` times; `hash` is its {@link hashBytes}, when the caller has it. */
  offerRange(buf: Uint8Array, start: number, end: number, n = 1, hash = hashBytes(buf, start, end)): void {
    this.total += n;
    let c = this.find(hash);
    if (c !== undefined) {
      if (!c.equals(buf, start, end)) return;
      c.count += n;
      this.siftDown(c.pos);
      return;
    }
    if (this.heap.length < this.capacity) {
      c = new Counter(this.counters.length);
      this.counters.push(c);
      c.hold(buf, start, end, hash);
      c.count = n;
      c.pos = this.heap.length;
      this.heap.push(c);
      this.insert(c);
      this.siftUp(c.pos);
      return;
    }
    const door = this.door;
    if (door !== null) {
      const slot = hash & (door.length - 1);
      if (door[slot] !== hash) {
        door[slot] = hash;
        return;
      }
      door[slot] = -1;
      n += 1;
    }
    const min = this.heap[0];
    if (min === undefined) return;
    this.remove(min);
    min.hold(buf, start, end, hash);
    min.error = min.count;
    min.count += n;
    this.insert(min);
    this.siftDown(0);
  }

  private find(hash: number): Counter | undefined {
    const id = this.index.find(hash);
    return id === -1 ? undefined : this.counters[id];
  }

  private insert(c: Counter): void {
    this.index.insert(c.id, c.hash);
  }

  private remove(c: Counter): void {
    this.index.remove(c.id);
  }

  /** Tracked keys, highest count first. */
  top(k: number): TrackedKey[] {
    return [...this.heap]
      .sort((a, b) => b.count - a.count || a.error - b.error)
      .slice(0, k)
      .map((c) => ({ key: c.key, count: c.count, error: c.error }));
  }

  countOf(key: string): number {
    const c = this.find(hashLatin1(key));
    return c !== undefined && c.equalsString(key) ? c.count : 0;
  }

  entries(): IterableIterator<TrackedKey> {
    return this.heap.values();
  }

  /** Move the counter at `i` up while its parent counts more (the counter is written once, at the end). */
  private siftUp(i: number): void {
    const heap = this.heap;
    const c = heap[i] as Counter;
    const count = c.count;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Counter;
      if (parent.count <= count) break;
      heap[i] = parent;
      parent.pos = i;
      i = p;
    }
    heap[i] = c;
    c.pos = i;
  }

  /** Move the counter at `i` down while a child counts less. */
  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const c = heap[i] as Counter;
    const count = c.count;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      let child = heap[l] as Counter;
      if (l + 1 < n) {
        const right = heap[l + 1] as Counter;
        if (right.count < child.count) {
          m = l + 1;
          child = right;
        }
      }
      if (count <= child.count) break;
      heap[i] = child;
      child.pos = i;
      i = m;
    }
    heap[i] = c;
    c.pos = i;
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
    this.current = new SpaceSaving(capacity, true);
    this.previous = new SpaceSaving(capacity, true);
  }

  offer(key: string): void {
    this.current.offer(key);
  }

  offerRange(buf: Uint8Array, start: number, end: number): void {
    this.current.offerRange(buf, start, end);
  }

  rotate(): void {
    this.previous = this.current;
    this.current = new SpaceSaving(this.capacity, true);
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

/**
 * Overall and per-destination hot keys. Each tracker counts 1 in `sampleRate` of its requests (a countdown,
 * so an unsampled request costs a decrement); a sampled key given as a buffer range is counted without
 * making a string of it.
 */
export class HotKeys {
  readonly overall: WindowedTopK;
  readonly byDestination = new Map<string, WindowedTopK>();
  /** 1 in `rate` requests is counted. */
  readonly rate: number;
  private readonly timer: NodeJS.Timeout;
  /** Requests until the next counted one: overall, and for offerDestination. */
  private left: number;
  private destLeft: number;

  constructor(readonly opts: HotKeysOptions) {
    this.rate = Math.max(1, Math.floor(opts.sampleRate));
    this.left = this.rate;
    this.destLeft = this.rate;
    this.overall = new WindowedTopK(opts.capacity);
    this.timer = setInterval(() => this.rotate(), Math.max(1, Math.floor(opts.windowMs / 2)));
    this.timer.unref();
  }

  /** A client request for `key` (overall tracker). */
  offer(key: Buffer | string): void {
    if (--this.left > 0) return;
    this.left = this.rate;
    if (typeof key === 'string') this.overall.offer(key);
    else this.overall.offerRange(key, 0, key.length);
  }

  /** A client request for the key `buf[start, end)` (overall tracker). */
  offerRange(buf: Uint8Array, start: number, end: number): void {
    if (--this.left > 0) return;
    this.left = this.rate;
    this.overall.offerRange(buf, start, end);
  }

  /** The tracker of `destination` (made on first use). */
  destination(destination: string): WindowedTopK {
    let t = this.byDestination.get(destination);
    if (t === undefined) {
      t = new WindowedTopK(this.opts.capacity);
      this.byDestination.set(destination, t);
    }
    return t;
  }

  /** A request for `key` sent to `destination` (sampled across all destinations). */
  offerDestination(destination: string, key: Buffer | string): void {
    if (--this.destLeft > 0) return;
    this.destLeft = this.rate;
    const t = this.destination(destination);
    if (typeof key === 'string') t.offer(key);
    else t.offerRange(key, 0, key.length);
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
