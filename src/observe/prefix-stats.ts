/**
 * Traffic by key prefix: requests, hits, misses and bytes in/out per prefix, for the busiest prefixes.
 *
 * The prefix of a key is, by rule:
 *  - `list`: the longest configured prefix the key starts with (e.g. `user:`, `sess:`), else `other`;
 *  - `delimiter` (default): the key up to and including the first delimiter (`user:42` → `user:`); a key
 *    without the delimiter counts as `other`.
 * The routing prefix (`/region/cluster/`) is skipped first: prefixes describe the application's key space.
 *
 * Finding a key's row makes no string: the key is first compared with the row last found for keys with its
 * first byte; failing that, the prefix bytes are hashed ({@link hashBytes}) and looked up in a
 * {@link HashIndex} of rows, then compared byte for byte. A key can be given as a range of a read buffer.
 *
 * Cardinality is bounded to the busiest `topN` prefixes plus `other`, so the Prometheus `prefix` label
 * stays bounded, and every counter only grows:
 *
 *   request ─► row of its prefix? ──yes──► count there
 *                   │no
 *                   ▼
 *        fewer than topN rows? ──yes──► new row (from 0), count there
 *                   │no
 *                   ▼
 *        count in `other`; offer the prefix to the candidates (space-saving, this period's traffic)
 *
 *   re-rank (at most every `rerankMs`, when a request of a candidate comes):
 *     the busiest candidates (guaranteed count, `count - error`) take the places of the least busy rows
 *     if they had at least 25 % more requests than that row in the same period. A row that leaves folds
 *     its totals into `other` (so `other` plus the rows is still all traffic, and nothing decreases); the
 *     new row starts at 0 (its traffic so far is in `other`).
 *
 * With at most topN prefixes in the traffic, the candidate path never runs. Two prefixes whose hashes
 * clash share no row: the one without the row counts as `other`.
 */
import { turnNow } from '../clock.js';
import { routingPrefixLengthIn } from '../protocol/types.js';
import { HashIndex, hashBytes } from './key-hash.js';
import { SpaceSaving } from './hot-keys.js';

export const OTHER_PREFIX = 'other';

const SLASH = 0x2f;
/** A candidate takes a row's place only with this much more traffic than the row (hysteresis). */
const PROMOTE_FACTOR = 1.25;

export class PrefixRow {
  requests = 0;
  hits = 0;
  misses = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** `requests` at the last re-rank: this period's traffic is `requests - mark`. */
  mark = 0;
  /**
   * The prefix's bytes 0–3 and 4–7 as little-endian int32s (see {@link wordAt}), bytes past its end as 0, and
   * the mask of the second word's bytes that are the prefix's: {@link matchesRow} compares a prefix of up to
   * eight bytes in two comparisons.
   */
  readonly head: number;
  readonly tail: number;
  readonly tailMask: number;
  constructor(
    readonly prefix: string,
    /** The prefix's bytes and their hash (empty and -1 for `other`). */
    readonly bytes: Buffer,
    readonly hash: number,
    /** Its id in the hash index (-1 for `other`). */
    readonly id: number,
  ) {
    const n = bytes.length;
    const padded = new Uint8Array(8);
    padded.set(bytes.subarray(0, 8));
    this.head = wordAt(padded, 0);
    this.tail = wordAt(padded, 4);
    this.tailMask = n >= 8 ? -1 : n <= 4 ? 0 : (1 << (8 * (n - 4))) - 1;
  }
}

/** buf[s, s + 4) as one little-endian int32. */
function wordAt(buf: Uint8Array, s: number): number {
  return (buf[s] as number) | ((buf[s + 1] as number) << 8) | ((buf[s + 2] as number) << 16) | ((buf[s + 3] as number) << 24);
}

/**
 * Does the key `buf[s, end)` start with `row`'s prefix? A prefix of four to eight bytes (most are) is two
 * word comparisons, with no loop whose length depends on the row: with several prefixes interleaved, the
 * byte loop's exit was a branch mispredicted about once a request. A key shorter than eight bytes, and the
 * bytes of a prefix past eight, are compared one by one.
 */
function matchesRow(row: PrefixRow, buf: Uint8Array, s: number, end: number): boolean {
  const b = row.bytes;
  const n = b.length;
  if (end - s < n) return false;
  let i = 0;
  if (n >= 4 && end - s >= 8) {
    if (wordAt(buf, s) !== row.head || (wordAt(buf, s + 4) & row.tailMask) !== row.tail) return false;
    if (n <= 8) return true;
    i = 8;
  }
  for (; i < n; i++) if (buf[s + i] !== b[i]) return false;
  return true;
}

export interface PrefixStatsOptions {
  /** Delimiter byte(s); the prefix ends after the first one. */
  readonly delimiter: string;
  /** Explicit prefixes; when non-empty the `list` rule is used instead of the delimiter. */
  readonly prefixes: readonly string[];
  /** Rows besides `other`: the busiest prefixes. */
  readonly topN: number;
  /** Re-rank at most this often, ms (default 5000). */
  readonly rerankMs?: number;
  /** The clock re-ranking reads, ms (default: the per-turn clock). */
  readonly now?: () => number;
}

export class PrefixStats {
  /** Row ids by the hash of their prefix bytes. */
  private readonly index: HashIndex;
  /** Rows by id (null = a free id). */
  private readonly byId: (PrefixRow | null)[];
  private readonly freeIds: number[] = [];
  /** The same rows, in the order they were admitted (what all() lists). */
  private order: PrefixRow[] = [];
  private readonly other = new PrefixRow(OTHER_PREFIX, Buffer.alloc(0), -1, -1);
  private readonly delimiter: number;
  /** `list` rule: the prefixes, longest first. */
  private readonly list: readonly Buffer[];
  private readonly topN: number;
  private readonly rerankMs: number;
  private readonly now: () => number;
  /**
   * Delimiter rule: by a key's first byte (after the routing prefix), the row last found for such a key,
   * tried before the hash look-up (null with the list rule, where a longer listed prefix may win).
   */
  private readonly byFirstByte: (PrefixRow | null)[] | null;
  /** Prefixes without a row, by this period's requests. */
  private candidates: SpaceSaving;
  private nextRerank: number;
  /** Rows that left the top N (folded into `other`) and rows that joined it after the first N. */
  demotions = 0;
  promotions = 0;

  constructor(readonly opts: PrefixStatsOptions) {
    this.delimiter = opts.delimiter.length > 0 ? opts.delimiter.charCodeAt(0) & 0xff : 0x3a;
    // Longest first, so the first match is the longest.
    this.list = [...opts.prefixes].sort((a, b) => b.length - a.length).map((p) => Buffer.from(p, 'latin1'));
    this.byFirstByte = this.list.length === 0 ? new Array<PrefixRow | null>(256).fill(null) : null;
    this.topN = Math.max(1, opts.topN);
    this.index = new HashIndex(this.topN);
    this.byId = new Array<PrefixRow | null>(this.topN).fill(null);
    for (let id = this.topN - 1; id >= 0; id--) this.freeIds.push(id);
    this.rerankMs = opts.rerankMs ?? 5000;
    this.now = opts.now ?? turnNow;
    this.candidates = new SpaceSaving(this.candidateCapacity(), true);
    this.nextRerank = this.now() + this.rerankMs;
  }

  private candidateCapacity(): number {
    return Math.min(2 * this.topN, 1000);
  }

  /**
   * Where the prefix of `buf[start, end)` ends (exclusive), or -1 when the key has none; the prefix starts
   * after the routing prefix, at {@link prefixStart}.
   */
  private prefixEnd(buf: Uint8Array, s: number, end: number): number {
    const list = this.list;
    if (list.length === 0) {
      const d = this.delimiter;
      for (let i = s; i < end; i++) if (buf[i] === d) return i + 1;
      return -1;
    }
    for (let j = 0; j < list.length; j++) {
      const p = list[j] as Buffer;
      const n = p.length;
      if (end - s < n) continue;
      let k = 0;
      while (k < n && buf[s + k] === p[k]) k++;
      if (k === n) return s + n;
    }
    return -1;
  }

  /** Where the key `buf[start, end)` starts once a routing prefix is skipped. */
  private prefixStart(buf: Uint8Array, start: number, end: number): number {
    return buf[start] === SLASH ? start + routingPrefixLengthIn(buf, start, end) : start;
  }

  /** The prefix name of `key` (before admission; may be a name that counts as `other`). */
  prefixOf(key: Buffer): string | null {
    const s = this.prefixStart(key, 0, key.length);
    const e = this.prefixEnd(key, s, key.length);
    return e === -1 ? null : key.toString('latin1', s, e);
  }

  /**
   * The row the key `buf[start, end)` counts in (admitting or ranking its prefix as needed). This is the
   * per-reply part, kept small so V8 inlines it into the reply path: the row remembered for the key's first
   * byte, checked by its first eight bytes. Everything else is {@link rowByHash}.
   */
  rowForRange(buf: Uint8Array, start: number, end: number): PrefixRow {
    const s = this.prefixStart(buf, start, end);
    const memo = this.byFirstByte;
    if (memo !== null && s < end) {
      // Delimiter rule: a row's bytes hold one delimiter, their last byte, so a key that starts with them
      // has exactly that prefix.
      const row = memo[buf[s] as number];
      if (row !== null && row !== undefined && matchesRow(row, buf, s, end)) return row;
    }
    return this.rowByHash(buf, s, end);
  }

  /** rowForRange past the first-byte memo: find the prefix, then its row by hash (`s` = after any routing prefix). */
  private rowByHash(buf: Uint8Array, s: number, end: number): PrefixRow {
    const memo = this.byFirstByte;
    const e = this.prefixEnd(buf, s, end);
    if (e === -1) return this.other;
    const h = hashBytes(buf, s, e);
    const id = this.index.find(h);
    if (id !== -1) {
      const row = this.byId[id] as PrefixRow;
      const b = row.bytes;
      const n = b.length;
      if (e - s !== n) return this.other;
      for (let i = 0; i < n; i++) if (b[i] !== buf[s + i]) return this.other;
      if (memo !== null) memo[buf[s] as number] = row;
      return row;
    }
    return this.noRow(buf, s, e, h);
  }

  /** The row `key` counts in. */
  rowFor(key: Buffer): PrefixRow {
    return this.rowForRange(key, 0, key.length);
  }

  /** A prefix without a row: a new row while there is room, else `other` (and a candidate for a row). */
  private noRow(buf: Uint8Array, s: number, e: number, h: number): PrefixRow {
    if (this.freeIds.length > 0) return this.admit(Buffer.from(buf.subarray(s, e)), h);
    this.candidates.offerRange(buf, s, e, 1, h);
    if (this.now() >= this.nextRerank) this.rerank();
    return this.other;
  }

  /** A new row (from 0) for a prefix; an id must be free. */
  private admit(bytes: Buffer, h: number): PrefixRow {
    const id = this.freeIds.pop() as number;
    const row = new PrefixRow(bytes.toString('latin1'), bytes, h, id);
    this.byId[id] = row;
    this.index.insert(id, h);
    this.order.push(row);
    return row;
  }

  /** Count one routed key `buf[start, end)`. */
  recordRange(buf: Uint8Array, start: number, end: number, isHit: boolean, isMiss: boolean, bytesIn: number, bytesOut: number): void {
    const row = this.rowForRange(buf, start, end);
    row.requests++;
    if (isHit) row.hits++;
    else if (isMiss) row.misses++;
    row.bytesIn += bytesIn;
    row.bytesOut += bytesOut;
  }

  record(key: Buffer, isHit: boolean, isMiss: boolean, bytesIn: number, bytesOut: number): void {
    this.recordRange(key, 0, key.length, isHit, isMiss, bytesIn, bytesOut);
  }

  /**
   * Let the busiest candidates of the period since the last re-rank replace the least busy rows (see the
   * file comment), then start a new period. Runs by itself when due; public for tests and tools.
   */
  rerank(): void {
    this.nextRerank = this.now() + this.rerankMs;
    const cands = this.candidates
      .top(this.topN)
      .map((c) => ({ key: c.key, n: c.count - c.error }))
      .filter((c) => c.n > 0)
      .sort((a, b) => b.n - a.n);
    if (cands.length > 0) {
      const rows = [...this.order].sort((a, b) => a.requests - a.mark - (b.requests - b.mark));
      const leaving = new Set<PrefixRow>();
      let j = 0;
      for (const c of cands) {
        const row = rows[j];
        // Candidates busiest first, rows least busy first: once a pair does not swap, no later pair does.
        if (row === undefined || !(c.n > (row.requests - row.mark) * PROMOTE_FACTOR)) break;
        const bytes = Buffer.from(c.key, 'latin1');
        const h = hashBytes(bytes, 0, bytes.length);
        // A clash with a row's hash: that prefix stays in `other` (see the file comment).
        if (this.index.find(h) !== -1) continue;
        this.fold(row);
        leaving.add(row);
        j++;
        this.admit(bytes, h);
        this.promotions++;
      }
      if (leaving.size > 0) this.order = this.order.filter((r) => !leaving.has(r));
    }
    for (const r of this.order) r.mark = r.requests;
    this.candidates = new SpaceSaving(this.candidateCapacity(), true);
  }

  /** A row leaves the top N: its totals move to `other`. */
  private fold(row: PrefixRow): void {
    const o = this.other;
    o.requests += row.requests;
    o.hits += row.hits;
    o.misses += row.misses;
    o.bytesIn += row.bytesIn;
    o.bytesOut += row.bytesOut;
    this.index.remove(row.id);
    this.byId[row.id] = null;
    this.byFirstByte?.fill(null);
    this.freeIds.push(row.id);
    this.demotions++;
  }

  /** Every row, `other` last. */
  all(): PrefixRow[] {
    return [...this.order, this.other];
  }
}
