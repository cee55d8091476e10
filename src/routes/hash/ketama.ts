/**
 * twemproxy / libmemcached ketama ring (`distribution: ketama`) and `modula` distribution, bit-exact.
 *
 * Source of truth: peers.md §2.2 (node names), §2.3 (ring build + lookup), §2.5 (Set A golden
 * placements, verified against the real Debian nutcracker 0.5.0) and §5 (libmemcached
 * KETAMA_WEIGHTED equivalence when the key hash is md5). Re-verified live by
 * test/integration/ketama-nutcracker.test.ts.
 *
 * Ring build (live servers, n = count, W = sum of weights):
 *   pct = f32(w) / f32(W); points = floor(f32(f32(f32(pct * 160) / 4) * f32(n)) [+1e-10 lost in f32]) * 4
 *   (every step rounded to IEEE float32 with Math.fround, as C `float` does);
 *   for i in 0 .. points/4-1: d = MD5(name + "-" + i); 4 points per digest, word a = LE uint32 d[4a..4a+3].
 * Lookup: lower bound (first point >= h), wrapping to point 0.
 *
 * Quirks:
 * - Node name: explicit name if given, else `host` when port == 11211 ("libmemcached compatibility"),
 *   else `host:port`; a unix socket path (host starting with '/') is used as is. Weight is never part
 *   of the name, but still counts with explicit names.
 * - float32 floor loses points when weights don't divide evenly (libmemcached 8-server set: 1264, not 1280).
 * - Ties: twemproxy's qsort is unstable; we break ties by server index (libmemcached's rule). Ties
 *   are 1-in-2^32 events per point pair.
 * - Callers apply the 1-server shortcut, empty key => hash 0 and hash_tag (see selector.ts).
 * - modula: slots = every server repeated `weight` times, server = slots[h % slots], BUT in twemproxy's
 *   server order, which is NOT config order: nutcracker sorts each pool's servers by node name
 *   (shorter name first, then bytewise; its duplicate-name check sorts the array in place). Found by
 *   the live nutcracker test; `twemproxyServerOrder` reproduces it. (Ketama is order-independent
 *   except for 1-in-2^32 point ties.)
 */
import { md5Into } from './md5.js';

export const KETAMA_POINTS_PER_SERVER = 160;
export const KETAMA_POINTS_PER_HASH = 4;

export interface KetamaNode {
  readonly name: string;
  readonly weight: number;
}

export interface KetamaRing {
  /** Sorted point values (uint32). */
  readonly points: Uint32Array;
  /** Server index owning each point. */
  readonly owners: Uint32Array;
}

/** twemproxy's ring name for a server (§2.2). */
export function ketamaNodeName(host: string, port: number, name?: string | null): string {
  if (name !== undefined && name !== null && name !== '') return name;
  if (host.startsWith('/')) return host;
  return port === 11211 ? host : `${host}:${port}`;
}

/** Points a server gets on the ring, with float32 arithmetic as in C. */
export function ketamaPointsForServer(weight: number, totalWeight: number, nServers: number): number {
  const f = Math.fround;
  const pct = f(f(weight) / f(totalWeight));
  const x = f(f(f(pct * KETAMA_POINTS_PER_SERVER) / KETAMA_POINTS_PER_HASH) * f(nServers));
  // C: floorf((float)(x + 0.0000000001)): the double sum is narrowed back to float.
  return Math.floor(f(x + 0.0000000001)) * KETAMA_POINTS_PER_HASH;
}

const DIGEST = new Uint32Array(4);

/** ketama_hash(str, alignment): word `alignment` (0..3) of MD5(str). */
export function ketamaHash(str: string | Uint8Array, alignment: number): number {
  const b = typeof str === 'string' ? Buffer.from(str, 'utf8') : str;
  md5Into(b, b.length, DIGEST);
  return DIGEST[alignment & 3]!;
}

/** Build the ring for the given nodes (weights must be positive integers). */
export function buildKetamaRing(nodes: readonly KetamaNode[]): KetamaRing {
  const n = nodes.length;
  if (n === 0) throw new Error('Ketama: at least one server is required');
  if (n >= 1 << 21) throw new Error('Ketama: too many servers');
  let total = 0;
  for (const node of nodes) total += node.weight;
  const counts = nodes.map((node) => ketamaPointsForServer(node.weight, total, n));
  let totalPoints = 0;
  for (const c of counts) totalPoints += c;
  // Sort key = value * 2^21 + serverIndex (exact in a double): ascending value, ties by index.
  const keys = new Float64Array(totalPoints);
  let k = 0;
  for (let s = 0; s < n; s++) {
    const name = nodes[s]!.name;
    const reps = counts[s]! / KETAMA_POINTS_PER_HASH;
    for (let i = 0; i < reps; i++) {
      const b = Buffer.from(`${name}-${i}`, 'utf8');
      md5Into(b, b.length, DIGEST);
      for (let a = 0; a < KETAMA_POINTS_PER_HASH; a++) keys[k++] = DIGEST[a]! * 2097152 + s;
    }
  }
  keys.sort();
  const points = new Uint32Array(totalPoints);
  const owners = new Uint32Array(totalPoints);
  for (let i = 0; i < totalPoints; i++) {
    const key = keys[i]!;
    const s = key % 2097152;
    owners[i] = s;
    points[i] = (key - s) / 2097152;
  }
  return { points, owners };
}

/** Index of the ring point chosen for hash h: first point >= h, else point 0. */
export function ketamaPointIndex(points: Uint32Array, h: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return hi === points.length ? 0 : hi;
}

/** Server index for hash h on the ring. */
export function ketamaLookup(ring: KetamaRing, h: number): number {
  if (ring.points.length === 0) return 0;
  return ring.owners[ketamaPointIndex(ring.points, h)]!;
}

/** twemproxy's string_compare: shorter first, then bytewise. */
export function twemproxyNameCompare(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return Buffer.compare(x, y);
}

/** Config indexes in the order nutcracker keeps its servers (sorted by node name). */
export function twemproxyServerOrder(names: readonly string[]): number[] {
  return names.map((_, i) => i).sort((i, j) => twemproxyNameCompare(names[i]!, names[j]!) || i - j);
}

/**
 * modula slot table: each server (config index) repeated `weight` times, visiting servers in
 * `order` (twemproxy: `twemproxyServerOrder(names)`; default config order).
 */
export function buildModulaSlots(weights: readonly number[], order?: readonly number[]): Uint32Array {
  let total = 0;
  for (const w of weights) total += w;
  const slots = new Uint32Array(total);
  const seq = order ?? weights.map((_, i) => i);
  let k = 0;
  for (const s of seq) for (let i = 0; i < weights[s]!; i++) slots[k++] = s;
  return slots;
}
