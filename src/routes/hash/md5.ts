/**
 * MD5 (RFC 1321), allocation-free, for ketama ring points and twemproxy's `md5` key hash.
 *
 * Source of truth: RFC 1321. Cross-checked in tests against node:crypto's MD5 on random inputs.
 * We keep our own implementation because the `md5` key hash runs per request and
 * `createHash('md5')` allocates a Hash object + digest Buffer per call (see bench/micro).
 *
 * Output: the digest as four little-endian uint32 words (digest bytes 4a..4a+3 = word a), which is
 * exactly what ketama needs (`word_a = d[4a] | d[4a+1]<<8 | ...`).
 */

/** K[i] = floor(|sin(i + 1)| * 2^32) (RFC 1321 table; cross-checked by the node:crypto test). */
const K: Int32Array = (() => {
  const k = new Int32Array(64);
  for (let i = 0; i < 64; i++) k[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
  return k;
})();
const X = new Int32Array(16);
const TAIL = new Uint8Array(128);

/**
 * The running digest words A, B, C, D. In a typed array rather than module-level `let`s: with the state
 * in reassigned module variables md5Word0 of a 30-byte key took ~475 ns, with this ~160 ns.
 */
const ST = new Int32Array(4);

/** x rotated left by s bits (int32). */
function rotl(x: number, s: number): number {
  return (x << s) | (x >>> (32 - s));
}

/**
 * One 64-byte block (in X) into the state ST. Each loop pass is four steps with the round's constant rotation
 * amounts (the RFC's a/d/c/b order), so the compiler sees constant shifts and no per-step table lookups
 * (md5Word0 of a 30-byte key: 666 → 475 ns; the state in ST instead of module `let`s did the rest, → 164).
 */
function block(): void {
  let a = ST[0]!;
  let b = ST[1]!;
  let c = ST[2]!;
  let d = ST[3]!;
  for (let i = 0; i < 16; i += 4) {
    a = (b + rotl((a + ((b & c) | (~b & d)) + K[i]! + X[i]!) | 0, 7)) | 0;
    d = (a + rotl((d + ((a & b) | (~a & c)) + K[i + 1]! + X[i + 1]!) | 0, 12)) | 0;
    c = (d + rotl((c + ((d & a) | (~d & b)) + K[i + 2]! + X[i + 2]!) | 0, 17)) | 0;
    b = (c + rotl((b + ((c & d) | (~c & a)) + K[i + 3]! + X[i + 3]!) | 0, 22)) | 0;
  }
  for (let i = 16; i < 32; i += 4) {
    a = (b + rotl((a + ((d & b) | (~d & c)) + K[i]! + X[(5 * i + 1) & 15]!) | 0, 5)) | 0;
    d = (a + rotl((d + ((c & a) | (~c & b)) + K[i + 1]! + X[(5 * i + 6) & 15]!) | 0, 9)) | 0;
    c = (d + rotl((c + ((b & d) | (~b & a)) + K[i + 2]! + X[(5 * i + 11) & 15]!) | 0, 14)) | 0;
    b = (c + rotl((b + ((a & c) | (~a & d)) + K[i + 3]! + X[(5 * i + 16) & 15]!) | 0, 20)) | 0;
  }
  for (let i = 32; i < 48; i += 4) {
    a = (b + rotl((a + (b ^ c ^ d) + K[i]! + X[(3 * i + 5) & 15]!) | 0, 4)) | 0;
    d = (a + rotl((d + (a ^ b ^ c) + K[i + 1]! + X[(3 * i + 8) & 15]!) | 0, 11)) | 0;
    c = (d + rotl((c + (d ^ a ^ b) + K[i + 2]! + X[(3 * i + 11) & 15]!) | 0, 16)) | 0;
    b = (c + rotl((b + (c ^ d ^ a) + K[i + 3]! + X[(3 * i + 14) & 15]!) | 0, 23)) | 0;
  }
  for (let i = 48; i < 64; i += 4) {
    a = (b + rotl((a + (c ^ (b | ~d)) + K[i]! + X[(7 * i) & 15]!) | 0, 6)) | 0;
    d = (a + rotl((d + (b ^ (a | ~c)) + K[i + 1]! + X[(7 * i + 7) & 15]!) | 0, 10)) | 0;
    c = (d + rotl((c + (a ^ (d | ~b)) + K[i + 2]! + X[(7 * i + 14) & 15]!) | 0, 15)) | 0;
    b = (c + rotl((b + (d ^ (c | ~a)) + K[i + 3]! + X[(7 * i + 21) & 15]!) | 0, 21)) | 0;
  }
  ST[0] = ST[0]! + a;
  ST[1] = ST[1]! + b;
  ST[2] = ST[2]! + c;
  ST[3] = ST[3]! + d;
}

function load(src: Uint8Array, p: number): void {
  for (let j = 0; j < 16; j++, p += 4) X[j] = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24);
}

/** MD5 of buf[0, len) into out[0..3] (little-endian words of the digest, uint32). */
export function md5Into(buf: Uint8Array, len: number, out: Uint32Array): void {
  ST[0] = 0x67452301;
  ST[1] = 0xefcdab89;
  ST[2] = 0x98badcfe;
  ST[3] = 0x10325476;
  const full = len & ~63;
  for (let p = 0; p < full; p += 64) {
    load(buf, p);
    block();
  }
  const rem = len - full;
  TAIL.fill(0);
  for (let i = 0; i < rem; i++) TAIL[i] = buf[full + i]!;
  TAIL[rem] = 0x80;
  const tailLen = rem < 56 ? 64 : 128;
  const bitsLo = (len * 8) >>> 0;
  const bitsHi = Math.floor(len / 0x20000000) >>> 0;
  const q = tailLen - 8;
  TAIL[q] = bitsLo & 0xff;
  TAIL[q + 1] = (bitsLo >>> 8) & 0xff;
  TAIL[q + 2] = (bitsLo >>> 16) & 0xff;
  TAIL[q + 3] = bitsLo >>> 24;
  TAIL[q + 4] = bitsHi & 0xff;
  TAIL[q + 5] = (bitsHi >>> 8) & 0xff;
  TAIL[q + 6] = (bitsHi >>> 16) & 0xff;
  TAIL[q + 7] = bitsHi >>> 24;
  load(TAIL, 0);
  block();
  if (tailLen === 128) {
    load(TAIL, 64);
    block();
  }
  out[0] = ST[0]!;
  out[1] = ST[1]!;
  out[2] = ST[2]!;
  out[3] = ST[3]!;
}

const W = new Uint32Array(4);

/** First digest word (bytes 0..3 little-endian): twemproxy/libmemcached `md5` key hash. */
export function md5Word0(buf: Uint8Array, len: number = buf.length): number {
  md5Into(buf, len, W);
  return W[0]!;
}

/** Full digest as a 16-byte Buffer (tests/tooling). */
export function md5Digest(buf: Uint8Array): Buffer {
  const out = new Uint32Array(4);
  md5Into(buf, buf.length, out);
  const d = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) d.writeUInt32LE(out[i]!, i * 4);
  return d;
}
