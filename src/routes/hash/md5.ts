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

const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
/** K[i] = floor(|sin(i + 1)| * 2^32) (RFC 1321 table; cross-checked by the node:crypto test). */
const K: Int32Array = (() => {
  const k = new Int32Array(64);
  for (let i = 0; i < 64; i++) k[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
  return k;
})();
const X = new Int32Array(16);
const TAIL = new Uint8Array(128);

let A = 0;
let B = 0;
let C = 0;
let D = 0;

function block(): void {
  let a = A;
  let b = B;
  let c = C;
  let d = D;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const s = S[((i >>> 4) << 2) | (i & 3)]!;
    const x = (a + f + K[i]! + X[g]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
  }
  A = (A + a) | 0;
  B = (B + b) | 0;
  C = (C + c) | 0;
  D = (D + d) | 0;
}

function load(src: Uint8Array, p: number): void {
  for (let j = 0; j < 16; j++, p += 4) X[j] = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24);
}

/** MD5 of buf[0, len) into out[0..3] (little-endian words of the digest, uint32). */
export function md5Into(buf: Uint8Array, len: number, out: Uint32Array): void {
  A = 0x67452301;
  B = 0xefcdab89 | 0;
  C = 0x98badcfe | 0;
  D = 0x10325476;
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
  out[0] = A;
  out[1] = B;
  out[2] = C;
  out[3] = D;
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
