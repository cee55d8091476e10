/**
 * Traffic by key prefix: requests, hits, misses and bytes in/out per prefix.
 *
 * The prefix of a key is, by rule:
 *  - `list`: the longest configured prefix the key starts with (e.g. `user:`, `sess:`), else `other`;
 *  - `delimiter` (default): the key up to and including the first delimiter (`user:42` → `user:`); a key
 *    without the delimiter counts as `other`.
 * The routing prefix (`/region/cluster/`) is skipped first: prefixes describe the application's key space.
 *
 * Cardinality is bounded: the first `topN` distinct prefixes get their own row, every later one counts as
 * `other`. (A workload that changes its key families over time keeps the first ones; a restart re-admits.)
 * No workload can make more than `topN + 1` rows, so the Prometheus `prefix` label stays bounded.
 */
import { routingPrefixLength } from '../protocol/types.js';

export const OTHER_PREFIX = 'other';

export class PrefixRow {
  requests = 0;
  hits = 0;
  misses = 0;
  bytesIn = 0;
  bytesOut = 0;
  constructor(readonly prefix: string) {}
}

export interface PrefixStatsOptions {
  /** Delimiter byte(s); the prefix ends after the first one. */
  readonly delimiter: string;
  /** Explicit prefixes; when non-empty the `list` rule is used instead of the delimiter. */
  readonly prefixes: readonly string[];
  readonly topN: number;
}

export class PrefixStats {
  private readonly rows = new Map<string, PrefixRow>();
  private readonly other = new PrefixRow(OTHER_PREFIX);
  private readonly delimiter: number;
  private readonly list: readonly Buffer[];

  constructor(readonly opts: PrefixStatsOptions) {
    this.delimiter = opts.delimiter.length > 0 ? opts.delimiter.charCodeAt(0) : 0x3a;
    // Longest first, so the first match is the longest.
    this.list = [...opts.prefixes].sort((a, b) => b.length - a.length).map((p) => Buffer.from(p, 'latin1'));
  }

  /** The prefix name of `key` (before admission; may be a name that counts as `other`). */
  prefixOf(key: Buffer): string | null {
    const start = routingPrefixLength(key);
    if (this.list.length > 0) {
      for (const p of this.list) {
        if (key.length - start >= p.length && key.compare(p, 0, p.length, start, start + p.length) === 0) return p.toString('latin1');
      }
      return null;
    }
    const at = key.indexOf(this.delimiter, start);
    if (at === -1) return null;
    return key.toString('latin1', start, at + 1);
  }

  /** The row `key` counts in (admitting a new prefix while there is room). */
  rowFor(key: Buffer): PrefixRow {
    const name = this.prefixOf(key);
    if (name === null) return this.other;
    let row = this.rows.get(name);
    if (row === undefined) {
      if (this.rows.size >= this.opts.topN) return this.other;
      row = new PrefixRow(name);
      this.rows.set(name, row);
    }
    return row;
  }

  record(key: Buffer, isHit: boolean, isMiss: boolean, bytesIn: number, bytesOut: number): void {
    const row = this.rowFor(key);
    row.requests++;
    if (isHit) row.hits++;
    else if (isMiss) row.misses++;
    row.bytesIn += bytesIn;
    row.bytesOut += bytesOut;
  }

  /** Every row, `other` last. */
  all(): PrefixRow[] {
    return [...this.rows.values(), this.other];
  }
}
