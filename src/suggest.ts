/**
 * "Did you mean ...?" for misspelt keys: the known key at the smallest edit distance, when it is close
 * enough to be a plausible typo. Used for unknown config keys (which are warnings, as in mcrouter, so a typo
 * must at least be pointed out) and for unknown twemproxy directives in `mcrelay import twemproxy`.
 */

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two adjacent
 * characters each cost 1 (`sever_timeout` → `server_timeout` is 1, `servres` → `servers` is 1).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const cols = b.length + 1;
  // Three rows: the swap rule looks two rows back.
  let prev2 = new Array<number>(cols).fill(0);
  let prev = Array.from({ length: cols }, (_, j) => j);
  let cur = new Array<number>(cols).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate nearest to `word`, or null when none is within a typo's reach: at most 1 edit for words of
 * up to 4 characters, then up to a third of the word's length (at most 4). Case differences count as
 * edits, except that a candidate equal to `word` ignoring case always wins. Failing that, a candidate the
 * word is the start of (`default` → `default_policy`), for words of 3 characters or more. Ties go to the
 * earlier candidate.
 */
export function nearestKey(word: string, candidates: readonly string[]): string | null {
  const lower = word.toLowerCase();
  const limit = word.length <= 4 ? 1 : Math.min(4, Math.floor(word.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c.toLowerCase() === lower) return c;
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (bestDistance <= limit) return best;
  if (word.length < 3) return null;
  let prefixed: string | null = null;
  for (const c of candidates) {
    if (c.length > word.length && c.toLowerCase().startsWith(lower) && (prefixed === null || c.length < prefixed.length)) prefixed = c;
  }
  return prefixed;
}
