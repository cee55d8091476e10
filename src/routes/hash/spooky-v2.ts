/**
 * SpookyHashV2 (Bob Jenkins, 2012): Hash128 / Hash64 / Hash32, bit-exact, both the short path
 * (messages < 192 bytes) and the long path (96-byte blocks, `End` with the V2 data-add).
 *
 * Source of truth: the published SpookyV2 algorithm and its `TestResults` table (Hash32 of the
 * bytes 128,129,... for lengths 0..511, seed 0), which `test/unit/hash/spooky-v2.test.ts` pins.
 * mcrouter uses Hash32 for the WeightedCh3 accept test (seed 0xface2014) and for `routingKeyHash`
 * (shadow key_fraction_range, MigrateRoute), seed 0.
 *
 * Implementation notes / quirks:
 * - No BigInt on the hot path: every 64-bit lane is two uint32 halves (`xh`, `xl`); SpookyV2 only
 *   needs add/xor/rotate, so carries are the only subtlety. The round bodies below are straight-line
 *   code generated mechanically from the algorithm's round tables (do not hand-edit one lane).
 * - Hash32(seed) = low 32 bits of Hash128's first word with seed1 = seed2 = seed.
 * - Hash64/Hash128 take 64-bit seeds; the BigInt wrappers are for tests/tooling only.
 * - `d += length << 56` uses the length mod 256 (C uint64 shift), as in the reference.
 */

const SC_H = 0xdeadbeef;
const SC_L = 0xdeadbeef;

/** Output of the last `spookyHash128Into` call: [hash1 lo, hash1 hi, hash2 lo, hash2 hi]. */
const OUT = new Uint32Array(4);
const LONG_BUF = new Uint8Array(96);

function rd(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

/** Little-endian value of bytes [p, p+n) (n <= 4), zero-extended. */
function rdPart(buf: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = (v << 8) | buf[p + i]!;
  return v >>> 0;
}

function shortHash(
  buf: Uint8Array,
  off: number,
  len: number,
  s1h: number,
  s1l: number,
  s2h: number,
  s2l: number,
  out: Uint32Array,
): void {
  let h0h = s1h >>> 0, h0l = s1l >>> 0, h1h = s2h >>> 0, h1l = s2l >>> 0;
  let h2h = SC_H, h2l = SC_L, h3h = SC_H, h3l = SC_L;
  let t = 0, dl = 0, dh = 0;
  let remainder = len % 32;
  let p = off;
  if (len > 15) {
    const end = off + (len >>> 5) * 32;
    // c += u[0]; d += u[1]; ShortMix; a += u[2]; b += u[3]
    for (; p < end; p += 32) {
      dl = rd(buf, p); dh = rd(buf, p + 4); t = h2l + dl; h2h = (h2h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      dl = rd(buf, p + 8); dh = rd(buf, p + 12); t = h3l + dl; h3h = (h3h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      t = h2h; h2h = ((h2l << 18) | (t >>> 14)) >>> 0; h2l = ((t << 18) | (h2l >>> 14)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 20) | (t >>> 12)) >>> 0; h3l = ((t << 20) | (h3l >>> 12)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0h << 30) | (h0l >>> 2)) >>> 0; h0l = ((h0l << 30) | (t >>> 2)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 9) | (t >>> 23)) >>> 0; h1l = ((t << 9) | (h1l >>> 23)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      t = h2h; h2h = ((h2l << 22) | (t >>> 10)) >>> 0; h2l = ((t << 22) | (h2l >>> 10)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 16) | (t >>> 16)) >>> 0; h3l = ((t << 16) | (h3l >>> 16)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0l << 6) | (t >>> 26)) >>> 0; h0l = ((t << 6) | (h0l >>> 26)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 5) | (t >>> 27)) >>> 0; h1l = ((t << 5) | (h1l >>> 27)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      t = h2h; h2h = ((h2l << 30) | (t >>> 2)) >>> 0; h2l = ((t << 30) | (h2l >>> 2)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 2) | (t >>> 30)) >>> 0; h3l = ((t << 2) | (h3l >>> 30)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0h << 5) | (h0l >>> 27)) >>> 0; h0l = ((h0l << 5) | (t >>> 27)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 4) | (t >>> 28)) >>> 0; h1l = ((t << 4) | (h1l >>> 28)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      dl = rd(buf, p + 16); dh = rd(buf, p + 20); t = h0l + dl; h0h = (h0h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      dl = rd(buf, p + 24); dh = rd(buf, p + 28); t = h1l + dl; h1h = (h1h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
    }
    if (remainder >= 16) {
      dl = rd(buf, p); dh = rd(buf, p + 4); t = h2l + dl; h2h = (h2h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      dl = rd(buf, p + 8); dh = rd(buf, p + 12); t = h3l + dl; h3h = (h3h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      t = h2h; h2h = ((h2l << 18) | (t >>> 14)) >>> 0; h2l = ((t << 18) | (h2l >>> 14)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 20) | (t >>> 12)) >>> 0; h3l = ((t << 20) | (h3l >>> 12)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0h << 30) | (h0l >>> 2)) >>> 0; h0l = ((h0l << 30) | (t >>> 2)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 9) | (t >>> 23)) >>> 0; h1l = ((t << 9) | (h1l >>> 23)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      t = h2h; h2h = ((h2l << 22) | (t >>> 10)) >>> 0; h2l = ((t << 22) | (h2l >>> 10)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 16) | (t >>> 16)) >>> 0; h3l = ((t << 16) | (h3l >>> 16)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0l << 6) | (t >>> 26)) >>> 0; h0l = ((t << 6) | (h0l >>> 26)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 5) | (t >>> 27)) >>> 0; h1l = ((t << 5) | (h1l >>> 27)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      t = h2h; h2h = ((h2l << 30) | (t >>> 2)) >>> 0; h2l = ((t << 30) | (h2l >>> 2)) >>> 0;
      t = h2l + h3l; h2h = (h2h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h0h = (h0h ^ h2h) >>> 0; h0l = (h0l ^ h2l) >>> 0;
      t = h3h; h3h = ((h3l << 2) | (t >>> 30)) >>> 0; h3l = ((t << 2) | (h3l >>> 30)) >>> 0;
      t = h3l + h0l; h3h = (h3h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h1h = (h1h ^ h3h) >>> 0; h1l = (h1l ^ h3l) >>> 0;
      t = h0h; h0h = ((h0h << 5) | (h0l >>> 27)) >>> 0; h0l = ((h0l << 5) | (t >>> 27)) >>> 0;
      t = h0l + h1l; h0h = (h0h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h0h) >>> 0; h2l = (h2l ^ h0l) >>> 0;
      t = h1h; h1h = ((h1l << 4) | (t >>> 28)) >>> 0; h1l = ((t << 4) | (h1l >>> 28)) >>> 0;
      t = h1l + h2l; h1h = (h1h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h1h) >>> 0; h3l = (h3l ^ h1l) >>> 0;
      p += 16;
      remainder -= 16;
    }
  }
  // d += length << 56
  h3h = (h3h + ((len & 0xff) << 24)) >>> 0;
  if (remainder === 0) {
    t = h2l + SC_L; h2h = (h2h + SC_H + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    t = h3l + SC_L; h3h = (h3h + SC_H + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
  } else {
    // c += little-endian bytes [0, min(r, 8)); d += little-endian bytes [8, r) when r > 8.
    const cN = remainder < 8 ? remainder : 8;
    dl = rdPart(buf, p, cN < 4 ? cN : 4);
    dh = cN > 4 ? rdPart(buf, p + 4, cN - 4) : 0;
    t = h2l + dl; h2h = (h2h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    if (remainder > 8) {
      const dN = remainder - 8;
      dl = rdPart(buf, p + 8, dN < 4 ? dN : 4);
      dh = dN > 4 ? rdPart(buf, p + 12, dN - 4) : 0;
      t = h3l + dl; h3h = (h3h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
    }
  }
  // ShortEnd
  h3h = (h3h ^ h2h) >>> 0; h3l = (h3l ^ h2l) >>> 0;
  t = h2h; h2h = ((h2h << 15) | (h2l >>> 17)) >>> 0; h2l = ((h2l << 15) | (t >>> 17)) >>> 0;
  t = h3l + h2l; h3h = (h3h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
  h0h = (h0h ^ h3h) >>> 0; h0l = (h0l ^ h3l) >>> 0;
  t = h3h; h3h = ((h3l << 20) | (t >>> 12)) >>> 0; h3l = ((t << 20) | (h3l >>> 12)) >>> 0;
  t = h0l + h3l; h0h = (h0h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
  h1h = (h1h ^ h0h) >>> 0; h1l = (h1l ^ h0l) >>> 0;
  t = h0h; h0h = ((h0h << 26) | (h0l >>> 6)) >>> 0; h0l = ((h0l << 26) | (t >>> 6)) >>> 0;
  t = h1l + h0l; h1h = (h1h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
  h2h = (h2h ^ h1h) >>> 0; h2l = (h2l ^ h1l) >>> 0;
  t = h1h; h1h = ((h1l << 19) | (t >>> 13)) >>> 0; h1l = ((t << 19) | (h1l >>> 13)) >>> 0;
  t = h2l + h1l; h2h = (h2h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
  h3h = (h3h ^ h2h) >>> 0; h3l = (h3l ^ h2l) >>> 0;
  t = h2h; h2h = ((h2h << 28) | (h2l >>> 4)) >>> 0; h2l = ((h2l << 28) | (t >>> 4)) >>> 0;
  t = h3l + h2l; h3h = (h3h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
  h0h = (h0h ^ h3h) >>> 0; h0l = (h0l ^ h3l) >>> 0;
  t = h3h; h3h = ((h3h << 9) | (h3l >>> 23)) >>> 0; h3l = ((h3l << 9) | (t >>> 23)) >>> 0;
  t = h0l + h3l; h0h = (h0h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
  h1h = (h1h ^ h0h) >>> 0; h1l = (h1l ^ h0l) >>> 0;
  t = h0h; h0h = ((h0l << 15) | (t >>> 17)) >>> 0; h0l = ((t << 15) | (h0l >>> 17)) >>> 0;
  t = h1l + h0l; h1h = (h1h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
  h2h = (h2h ^ h1h) >>> 0; h2l = (h2l ^ h1l) >>> 0;
  t = h1h; h1h = ((h1l << 22) | (t >>> 10)) >>> 0; h1l = ((t << 22) | (h1l >>> 10)) >>> 0;
  t = h2l + h1l; h2h = (h2h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
  h3h = (h3h ^ h2h) >>> 0; h3l = (h3l ^ h2l) >>> 0;
  t = h2h; h2h = h2l; h2l = t;
  t = h3l + h2l; h3h = (h3h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
  h0h = (h0h ^ h3h) >>> 0; h0l = (h0l ^ h3l) >>> 0;
  t = h3h; h3h = ((h3h << 25) | (h3l >>> 7)) >>> 0; h3l = ((h3l << 25) | (t >>> 7)) >>> 0;
  t = h0l + h3l; h0h = (h0h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
  h1h = (h1h ^ h0h) >>> 0; h1l = (h1l ^ h0l) >>> 0;
  t = h0h; h0h = ((h0l << 31) | (t >>> 1)) >>> 0; h0l = ((t << 31) | (h0l >>> 1)) >>> 0;
  t = h1l + h0l; h1h = (h1h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
  out[0] = h0l;
  out[1] = h0h;
  out[2] = h1l;
  out[3] = h1h;
}

function longHash(
  buf: Uint8Array,
  off: number,
  len: number,
  s1h: number,
  s1l: number,
  s2h: number,
  s2l: number,
  out: Uint32Array,
): void {
  let h0h = 0, h0l = 0, h1h = 0, h1l = 0, h2h = 0, h2l = 0, h3h = 0, h3l = 0, h4h = 0, h4l = 0, h5h = 0, h5l = 0, h6h = 0, h6l = 0, h7h = 0, h7l = 0, h8h = 0, h8l = 0, h9h = 0, h9l = 0, h10h = 0, h10l = 0, h11h = 0, h11l = 0;
  h0h = h3h = h6h = h9h = s1h >>> 0;
  h0l = h3l = h6l = h9l = s1l >>> 0;
  h1h = h4h = h7h = h10h = s2h >>> 0;
  h1l = h4l = h7l = h10l = s2l >>> 0;
  h2h = h5h = h8h = h11h = SC_H;
  h2l = h5l = h8l = h11l = SC_L;
  let t = 0, dl = 0, dh = 0;
  const blocks = Math.floor(len / 96);
  const end = off + blocks * 96;
  let p = off;
  for (; p < end; p += 96) {
      dl = rd(buf, p + 0); dh = rd(buf, p + 4); t = h0l + dl; h0h = (h0h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      h2h = (h2h ^ h10h) >>> 0; h2l = (h2l ^ h10l) >>> 0;
      h11h = (h11h ^ h0h) >>> 0; h11l = (h11l ^ h0l) >>> 0;
      t = h0h; h0h = ((h0h << 11) | (h0l >>> 21)) >>> 0; h0l = ((h0l << 11) | (t >>> 21)) >>> 0;
      t = h11l + h1l; h11h = (h11h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
      dl = rd(buf, p + 8); dh = rd(buf, p + 12); t = h1l + dl; h1h = (h1h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      h3h = (h3h ^ h11h) >>> 0; h3l = (h3l ^ h11l) >>> 0;
      h0h = (h0h ^ h1h) >>> 0; h0l = (h0l ^ h1l) >>> 0;
      t = h1h; h1h = h1l; h1l = t;
      t = h0l + h2l; h0h = (h0h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
      dl = rd(buf, p + 16); dh = rd(buf, p + 20); t = h2l + dl; h2h = (h2h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      h4h = (h4h ^ h0h) >>> 0; h4l = (h4l ^ h0l) >>> 0;
      h1h = (h1h ^ h2h) >>> 0; h1l = (h1l ^ h2l) >>> 0;
      t = h2h; h2h = ((h2l << 11) | (t >>> 21)) >>> 0; h2l = ((t << 11) | (h2l >>> 21)) >>> 0;
      t = h1l + h3l; h1h = (h1h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
      dl = rd(buf, p + 24); dh = rd(buf, p + 28); t = h3l + dl; h3h = (h3h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      h5h = (h5h ^ h1h) >>> 0; h5l = (h5l ^ h1l) >>> 0;
      h2h = (h2h ^ h3h) >>> 0; h2l = (h2l ^ h3l) >>> 0;
      t = h3h; h3h = ((h3h << 31) | (h3l >>> 1)) >>> 0; h3l = ((h3l << 31) | (t >>> 1)) >>> 0;
      t = h2l + h4l; h2h = (h2h + h4h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
      dl = rd(buf, p + 32); dh = rd(buf, p + 36); t = h4l + dl; h4h = (h4h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
      h6h = (h6h ^ h2h) >>> 0; h6l = (h6l ^ h2l) >>> 0;
      h3h = (h3h ^ h4h) >>> 0; h3l = (h3l ^ h4l) >>> 0;
      t = h4h; h4h = ((h4h << 17) | (h4l >>> 15)) >>> 0; h4l = ((h4l << 17) | (t >>> 15)) >>> 0;
      t = h3l + h5l; h3h = (h3h + h5h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
      dl = rd(buf, p + 40); dh = rd(buf, p + 44); t = h5l + dl; h5h = (h5h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
      h7h = (h7h ^ h3h) >>> 0; h7l = (h7l ^ h3l) >>> 0;
      h4h = (h4h ^ h5h) >>> 0; h4l = (h4l ^ h5l) >>> 0;
      t = h5h; h5h = ((h5h << 28) | (h5l >>> 4)) >>> 0; h5l = ((h5l << 28) | (t >>> 4)) >>> 0;
      t = h4l + h6l; h4h = (h4h + h6h + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
      dl = rd(buf, p + 48); dh = rd(buf, p + 52); t = h6l + dl; h6h = (h6h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
      h8h = (h8h ^ h4h) >>> 0; h8l = (h8l ^ h4l) >>> 0;
      h5h = (h5h ^ h6h) >>> 0; h5l = (h5l ^ h6l) >>> 0;
      t = h6h; h6h = ((h6l << 7) | (t >>> 25)) >>> 0; h6l = ((t << 7) | (h6l >>> 25)) >>> 0;
      t = h5l + h7l; h5h = (h5h + h7h + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
      dl = rd(buf, p + 56); dh = rd(buf, p + 60); t = h7l + dl; h7h = (h7h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
      h9h = (h9h ^ h5h) >>> 0; h9l = (h9l ^ h5l) >>> 0;
      h6h = (h6h ^ h7h) >>> 0; h6l = (h6l ^ h7l) >>> 0;
      t = h7h; h7h = ((h7l << 25) | (t >>> 7)) >>> 0; h7l = ((t << 25) | (h7l >>> 7)) >>> 0;
      t = h6l + h8l; h6h = (h6h + h8h + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
      dl = rd(buf, p + 64); dh = rd(buf, p + 68); t = h8l + dl; h8h = (h8h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
      h10h = (h10h ^ h6h) >>> 0; h10l = (h10l ^ h6l) >>> 0;
      h7h = (h7h ^ h8h) >>> 0; h7l = (h7l ^ h8l) >>> 0;
      t = h8h; h8h = ((h8l << 23) | (t >>> 9)) >>> 0; h8l = ((t << 23) | (h8l >>> 9)) >>> 0;
      t = h7l + h9l; h7h = (h7h + h9h + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
      dl = rd(buf, p + 72); dh = rd(buf, p + 76); t = h9l + dl; h9h = (h9h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
      h11h = (h11h ^ h7h) >>> 0; h11l = (h11l ^ h7l) >>> 0;
      h8h = (h8h ^ h9h) >>> 0; h8l = (h8l ^ h9l) >>> 0;
      t = h9h; h9h = ((h9l << 22) | (t >>> 10)) >>> 0; h9l = ((t << 22) | (h9l >>> 10)) >>> 0;
      t = h8l + h10l; h8h = (h8h + h10h + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
      dl = rd(buf, p + 80); dh = rd(buf, p + 84); t = h10l + dl; h10h = (h10h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
      h0h = (h0h ^ h8h) >>> 0; h0l = (h0l ^ h8l) >>> 0;
      h9h = (h9h ^ h10h) >>> 0; h9l = (h9l ^ h10l) >>> 0;
      t = h10h; h10h = ((h10h << 22) | (h10l >>> 10)) >>> 0; h10l = ((h10l << 22) | (t >>> 10)) >>> 0;
      t = h9l + h11l; h9h = (h9h + h11h + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
      dl = rd(buf, p + 88); dh = rd(buf, p + 92); t = h11l + dl; h11h = (h11h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
      h1h = (h1h ^ h9h) >>> 0; h1l = (h1l ^ h9l) >>> 0;
      h10h = (h10h ^ h11h) >>> 0; h10l = (h10l ^ h11l) >>> 0;
      t = h11h; h11h = ((h11l << 14) | (t >>> 18)) >>> 0; h11l = ((t << 14) | (h11l >>> 18)) >>> 0;
      t = h10l + h0l; h10h = (h10h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
  }
  // Final partial block: copy, zero-pad, last byte = remainder length.
  const remainder = len - blocks * 96;
  const lb = LONG_BUF;
  lb.fill(0);
  for (let i = 0; i < remainder; i++) lb[i] = buf[p + i]!;
  lb[95] = remainder;
  {
    const buf = lb;
    const p = 0;
    // End: add the 12 data words, then EndPartial three times.

    dl = rd(buf, p + 0); dh = rd(buf, p + 4); t = h0l + dl; h0h = (h0h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
    dl = rd(buf, p + 8); dh = rd(buf, p + 12); t = h1l + dl; h1h = (h1h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
    dl = rd(buf, p + 16); dh = rd(buf, p + 20); t = h2l + dl; h2h = (h2h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    dl = rd(buf, p + 24); dh = rd(buf, p + 28); t = h3l + dl; h3h = (h3h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
    dl = rd(buf, p + 32); dh = rd(buf, p + 36); t = h4l + dl; h4h = (h4h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
    dl = rd(buf, p + 40); dh = rd(buf, p + 44); t = h5l + dl; h5h = (h5h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
    dl = rd(buf, p + 48); dh = rd(buf, p + 52); t = h6l + dl; h6h = (h6h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
    dl = rd(buf, p + 56); dh = rd(buf, p + 60); t = h7l + dl; h7h = (h7h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
    dl = rd(buf, p + 64); dh = rd(buf, p + 68); t = h8l + dl; h8h = (h8h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
    dl = rd(buf, p + 72); dh = rd(buf, p + 76); t = h9l + dl; h9h = (h9h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
    dl = rd(buf, p + 80); dh = rd(buf, p + 84); t = h10l + dl; h10h = (h10h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
    dl = rd(buf, p + 88); dh = rd(buf, p + 92); t = h11l + dl; h11h = (h11h + dh + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
    t = h11l + h1l; h11h = (h11h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
    h2h = (h2h ^ h11h) >>> 0; h2l = (h2l ^ h11l) >>> 0;
    t = h1h; h1h = ((h1l << 12) | (t >>> 20)) >>> 0; h1l = ((t << 12) | (h1l >>> 20)) >>> 0;
    t = h0l + h2l; h0h = (h0h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
    h3h = (h3h ^ h0h) >>> 0; h3l = (h3l ^ h0l) >>> 0;
    t = h2h; h2h = ((h2h << 15) | (h2l >>> 17)) >>> 0; h2l = ((h2l << 15) | (t >>> 17)) >>> 0;
    t = h1l + h3l; h1h = (h1h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
    h4h = (h4h ^ h1h) >>> 0; h4l = (h4l ^ h1l) >>> 0;
    t = h3h; h3h = ((h3l << 2) | (t >>> 30)) >>> 0; h3l = ((t << 2) | (h3l >>> 30)) >>> 0;
    t = h2l + h4l; h2h = (h2h + h4h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    h5h = (h5h ^ h2h) >>> 0; h5l = (h5l ^ h2l) >>> 0;
    t = h4h; h4h = ((h4h << 21) | (h4l >>> 11)) >>> 0; h4l = ((h4l << 21) | (t >>> 11)) >>> 0;
    t = h3l + h5l; h3h = (h3h + h5h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
    h6h = (h6h ^ h3h) >>> 0; h6l = (h6l ^ h3l) >>> 0;
    t = h5h; h5h = ((h5l << 6) | (t >>> 26)) >>> 0; h5l = ((t << 6) | (h5l >>> 26)) >>> 0;
    t = h4l + h6l; h4h = (h4h + h6h + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
    h7h = (h7h ^ h4h) >>> 0; h7l = (h7l ^ h4l) >>> 0;
    t = h6h; h6h = ((h6l << 1) | (t >>> 31)) >>> 0; h6l = ((t << 1) | (h6l >>> 31)) >>> 0;
    t = h5l + h7l; h5h = (h5h + h7h + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
    h8h = (h8h ^ h5h) >>> 0; h8l = (h8l ^ h5l) >>> 0;
    t = h7h; h7h = ((h7h << 10) | (h7l >>> 22)) >>> 0; h7l = ((h7l << 10) | (t >>> 22)) >>> 0;
    t = h6l + h8l; h6h = (h6h + h8h + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
    h9h = (h9h ^ h6h) >>> 0; h9l = (h9l ^ h6l) >>> 0;
    t = h8h; h8h = ((h8h << 13) | (h8l >>> 19)) >>> 0; h8l = ((h8l << 13) | (t >>> 19)) >>> 0;
    t = h7l + h9l; h7h = (h7h + h9h + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
    h10h = (h10h ^ h7h) >>> 0; h10l = (h10l ^ h7l) >>> 0;
    t = h9h; h9h = ((h9l << 6) | (t >>> 26)) >>> 0; h9l = ((t << 6) | (h9l >>> 26)) >>> 0;
    t = h8l + h10l; h8h = (h8h + h10h + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
    h11h = (h11h ^ h8h) >>> 0; h11l = (h11l ^ h8l) >>> 0;
    t = h10h; h10h = ((h10l << 21) | (t >>> 11)) >>> 0; h10l = ((t << 21) | (h10l >>> 11)) >>> 0;
    t = h9l + h11l; h9h = (h9h + h11h + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
    h0h = (h0h ^ h9h) >>> 0; h0l = (h0l ^ h9l) >>> 0;
    t = h11h; h11h = ((h11l << 10) | (t >>> 22)) >>> 0; h11l = ((t << 10) | (h11l >>> 22)) >>> 0;
    t = h10l + h0l; h10h = (h10h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
    h1h = (h1h ^ h10h) >>> 0; h1l = (h1l ^ h10l) >>> 0;
    t = h0h; h0h = ((h0l << 22) | (t >>> 10)) >>> 0; h0l = ((t << 22) | (h0l >>> 10)) >>> 0;
    t = h11l + h1l; h11h = (h11h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
    h2h = (h2h ^ h11h) >>> 0; h2l = (h2l ^ h11l) >>> 0;
    t = h1h; h1h = ((h1l << 12) | (t >>> 20)) >>> 0; h1l = ((t << 12) | (h1l >>> 20)) >>> 0;
    t = h0l + h2l; h0h = (h0h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
    h3h = (h3h ^ h0h) >>> 0; h3l = (h3l ^ h0l) >>> 0;
    t = h2h; h2h = ((h2h << 15) | (h2l >>> 17)) >>> 0; h2l = ((h2l << 15) | (t >>> 17)) >>> 0;
    t = h1l + h3l; h1h = (h1h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
    h4h = (h4h ^ h1h) >>> 0; h4l = (h4l ^ h1l) >>> 0;
    t = h3h; h3h = ((h3l << 2) | (t >>> 30)) >>> 0; h3l = ((t << 2) | (h3l >>> 30)) >>> 0;
    t = h2l + h4l; h2h = (h2h + h4h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    h5h = (h5h ^ h2h) >>> 0; h5l = (h5l ^ h2l) >>> 0;
    t = h4h; h4h = ((h4h << 21) | (h4l >>> 11)) >>> 0; h4l = ((h4l << 21) | (t >>> 11)) >>> 0;
    t = h3l + h5l; h3h = (h3h + h5h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
    h6h = (h6h ^ h3h) >>> 0; h6l = (h6l ^ h3l) >>> 0;
    t = h5h; h5h = ((h5l << 6) | (t >>> 26)) >>> 0; h5l = ((t << 6) | (h5l >>> 26)) >>> 0;
    t = h4l + h6l; h4h = (h4h + h6h + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
    h7h = (h7h ^ h4h) >>> 0; h7l = (h7l ^ h4l) >>> 0;
    t = h6h; h6h = ((h6l << 1) | (t >>> 31)) >>> 0; h6l = ((t << 1) | (h6l >>> 31)) >>> 0;
    t = h5l + h7l; h5h = (h5h + h7h + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
    h8h = (h8h ^ h5h) >>> 0; h8l = (h8l ^ h5l) >>> 0;
    t = h7h; h7h = ((h7h << 10) | (h7l >>> 22)) >>> 0; h7l = ((h7l << 10) | (t >>> 22)) >>> 0;
    t = h6l + h8l; h6h = (h6h + h8h + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
    h9h = (h9h ^ h6h) >>> 0; h9l = (h9l ^ h6l) >>> 0;
    t = h8h; h8h = ((h8h << 13) | (h8l >>> 19)) >>> 0; h8l = ((h8l << 13) | (t >>> 19)) >>> 0;
    t = h7l + h9l; h7h = (h7h + h9h + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
    h10h = (h10h ^ h7h) >>> 0; h10l = (h10l ^ h7l) >>> 0;
    t = h9h; h9h = ((h9l << 6) | (t >>> 26)) >>> 0; h9l = ((t << 6) | (h9l >>> 26)) >>> 0;
    t = h8l + h10l; h8h = (h8h + h10h + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
    h11h = (h11h ^ h8h) >>> 0; h11l = (h11l ^ h8l) >>> 0;
    t = h10h; h10h = ((h10l << 21) | (t >>> 11)) >>> 0; h10l = ((t << 21) | (h10l >>> 11)) >>> 0;
    t = h9l + h11l; h9h = (h9h + h11h + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
    h0h = (h0h ^ h9h) >>> 0; h0l = (h0l ^ h9l) >>> 0;
    t = h11h; h11h = ((h11l << 10) | (t >>> 22)) >>> 0; h11l = ((t << 10) | (h11l >>> 22)) >>> 0;
    t = h10l + h0l; h10h = (h10h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
    h1h = (h1h ^ h10h) >>> 0; h1l = (h1l ^ h10l) >>> 0;
    t = h0h; h0h = ((h0l << 22) | (t >>> 10)) >>> 0; h0l = ((t << 22) | (h0l >>> 10)) >>> 0;
    t = h11l + h1l; h11h = (h11h + h1h + (t > 0xffffffff ? 1 : 0)) >>> 0; h11l = t >>> 0;
    h2h = (h2h ^ h11h) >>> 0; h2l = (h2l ^ h11l) >>> 0;
    t = h1h; h1h = ((h1l << 12) | (t >>> 20)) >>> 0; h1l = ((t << 12) | (h1l >>> 20)) >>> 0;
    t = h0l + h2l; h0h = (h0h + h2h + (t > 0xffffffff ? 1 : 0)) >>> 0; h0l = t >>> 0;
    h3h = (h3h ^ h0h) >>> 0; h3l = (h3l ^ h0l) >>> 0;
    t = h2h; h2h = ((h2h << 15) | (h2l >>> 17)) >>> 0; h2l = ((h2l << 15) | (t >>> 17)) >>> 0;
    t = h1l + h3l; h1h = (h1h + h3h + (t > 0xffffffff ? 1 : 0)) >>> 0; h1l = t >>> 0;
    h4h = (h4h ^ h1h) >>> 0; h4l = (h4l ^ h1l) >>> 0;
    t = h3h; h3h = ((h3l << 2) | (t >>> 30)) >>> 0; h3l = ((t << 2) | (h3l >>> 30)) >>> 0;
    t = h2l + h4l; h2h = (h2h + h4h + (t > 0xffffffff ? 1 : 0)) >>> 0; h2l = t >>> 0;
    h5h = (h5h ^ h2h) >>> 0; h5l = (h5l ^ h2l) >>> 0;
    t = h4h; h4h = ((h4h << 21) | (h4l >>> 11)) >>> 0; h4l = ((h4l << 21) | (t >>> 11)) >>> 0;
    t = h3l + h5l; h3h = (h3h + h5h + (t > 0xffffffff ? 1 : 0)) >>> 0; h3l = t >>> 0;
    h6h = (h6h ^ h3h) >>> 0; h6l = (h6l ^ h3l) >>> 0;
    t = h5h; h5h = ((h5l << 6) | (t >>> 26)) >>> 0; h5l = ((t << 6) | (h5l >>> 26)) >>> 0;
    t = h4l + h6l; h4h = (h4h + h6h + (t > 0xffffffff ? 1 : 0)) >>> 0; h4l = t >>> 0;
    h7h = (h7h ^ h4h) >>> 0; h7l = (h7l ^ h4l) >>> 0;
    t = h6h; h6h = ((h6l << 1) | (t >>> 31)) >>> 0; h6l = ((t << 1) | (h6l >>> 31)) >>> 0;
    t = h5l + h7l; h5h = (h5h + h7h + (t > 0xffffffff ? 1 : 0)) >>> 0; h5l = t >>> 0;
    h8h = (h8h ^ h5h) >>> 0; h8l = (h8l ^ h5l) >>> 0;
    t = h7h; h7h = ((h7h << 10) | (h7l >>> 22)) >>> 0; h7l = ((h7l << 10) | (t >>> 22)) >>> 0;
    t = h6l + h8l; h6h = (h6h + h8h + (t > 0xffffffff ? 1 : 0)) >>> 0; h6l = t >>> 0;
    h9h = (h9h ^ h6h) >>> 0; h9l = (h9l ^ h6l) >>> 0;
    t = h8h; h8h = ((h8h << 13) | (h8l >>> 19)) >>> 0; h8l = ((h8l << 13) | (t >>> 19)) >>> 0;
    t = h7l + h9l; h7h = (h7h + h9h + (t > 0xffffffff ? 1 : 0)) >>> 0; h7l = t >>> 0;
    h10h = (h10h ^ h7h) >>> 0; h10l = (h10l ^ h7l) >>> 0;
    t = h9h; h9h = ((h9l << 6) | (t >>> 26)) >>> 0; h9l = ((t << 6) | (h9l >>> 26)) >>> 0;
    t = h8l + h10l; h8h = (h8h + h10h + (t > 0xffffffff ? 1 : 0)) >>> 0; h8l = t >>> 0;
    h11h = (h11h ^ h8h) >>> 0; h11l = (h11l ^ h8l) >>> 0;
    t = h10h; h10h = ((h10l << 21) | (t >>> 11)) >>> 0; h10l = ((t << 21) | (h10l >>> 11)) >>> 0;
    t = h9l + h11l; h9h = (h9h + h11h + (t > 0xffffffff ? 1 : 0)) >>> 0; h9l = t >>> 0;
    h0h = (h0h ^ h9h) >>> 0; h0l = (h0l ^ h9l) >>> 0;
    t = h11h; h11h = ((h11l << 10) | (t >>> 22)) >>> 0; h11l = ((t << 10) | (h11l >>> 22)) >>> 0;
    t = h10l + h0l; h10h = (h10h + h0h + (t > 0xffffffff ? 1 : 0)) >>> 0; h10l = t >>> 0;
    h1h = (h1h ^ h10h) >>> 0; h1l = (h1l ^ h10l) >>> 0;
    t = h0h; h0h = ((h0l << 22) | (t >>> 10)) >>> 0; h0l = ((t << 22) | (h0l >>> 10)) >>> 0;
  }
  out[0] = h0l;
  out[1] = h0h;
  out[2] = h1l;
  out[3] = h1h;
}

/**
 * Hash128 into `out` ([hash1 lo, hash1 hi, hash2 lo, hash2 hi]); seeds as (hi, lo) uint32 halves.
 * Hashes `buf[off, off+len)`.
 */
export function spookyHash128Into(
  buf: Uint8Array,
  off: number,
  len: number,
  seed1Hi: number,
  seed1Lo: number,
  seed2Hi: number,
  seed2Lo: number,
  out: Uint32Array,
): void {
  if (len < 192) shortHash(buf, off, len, seed1Hi, seed1Lo, seed2Hi, seed2Lo, out);
  else longHash(buf, off, len, seed1Hi, seed1Lo, seed2Hi, seed2Lo, out);
}

/** SpookyHashV2::Hash32(buf[0, len), seed) — uint32. Allocation-free. */
export function spookyHash32(buf: Uint8Array, seed: number, len: number = buf.length): number {
  const s = seed >>> 0;
  spookyHash128Into(buf, 0, len, 0, s, 0, s, OUT);
  return OUT[0]!;
}

/** `spooky32(routingKey, seed)`: mcrouter's routingKeyHash is `spooky32(routingKey, 0)`. */
export function spooky32(buf: Uint8Array, seed: number = 0): number {
  return spookyHash32(buf, seed, buf.length);
}

const M64 = (1n << 64n) - 1n;

/** SpookyHashV2::Hash64(buf, seed) as BigInt (not for the per-request path). */
export function spookyHash64(buf: Uint8Array, seed: bigint = 0n): bigint {
  return spookyHash128(buf, seed, seed)[0];
}

/** SpookyHashV2::Hash128(buf, seed1, seed2) -> [hash1, hash2] as BigInt (not for the per-request path). */
export function spookyHash128(buf: Uint8Array, seed1: bigint, seed2: bigint): [bigint, bigint] {
  const a = seed1 & M64;
  const b = seed2 & M64;
  const out = new Uint32Array(4);
  spookyHash128Into(
    buf,
    0,
    buf.length,
    Number(a >> 32n),
    Number(a & 0xffffffffn),
    Number(b >> 32n),
    Number(b & 0xffffffffn),
    out,
  );
  return [(BigInt(out[1]!) << 32n) | BigInt(out[0]!), (BigInt(out[3]!) << 32n) | BigInt(out[2]!)];
}
