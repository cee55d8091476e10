/**
 * twemproxy (nutcracker 0.5.0) key hash functions, the `hash:` setting of a pool, bit-exact,
 * including the quirks the real binary has on x86-64.
 *
 * Source of truth: peers.md §2.3/§2.4 (the `apple` reference table from twemproxy's test_all.c /
 * libmemcached hash_results.h) and live placement checks against the Debian nutcracker binary
 * (test/integration/ketama-nutcracker.test.ts).
 *
 * Quirks reproduced:
 * - signed char: fnv1_*, fnv1a_*, one_at_a_time and hsieh's 3-byte tail combine bytes as
 *   `(uint32)(char)byte`, so bytes >= 0x80 are SIGN-EXTENDED to 0xFFFFFFxx (x86 `char` is signed).
 * - "fnv1a_64"/"fnv1_64" are effectively 32-bit: the result is the low 32 bits, and the low 32 bits of
 *   a 64-bit FNV only depend on the low 32 bits of the offset basis (0x84222325) and prime (0x1b3).
 * - crc32 is libmemcached's 15-bit value `((~crc) >> 16) & 0x7fff`; crc32a is the plain CRC-32.
 * - crc16 keeps shifting a uint32 accumulator (no 16-bit mask), so results exceed 0xFFFF.
 * - murmur is MurmurHash2 (32-bit) with seed = 0xdeadbeef * len.
 * - hsieh starts from 0 (not from the length, unlike the original SuperFastHash).
 * - jenkins is lookup3 `hashlittle` with initval 13 (a zero-length key returns the initial value).
 * - md5 is the first 4 digest bytes, little-endian.
 * All functions return a uint32 and take (buf, len).
 */
import { crc32, CRC32_TABLE } from './crc32.js';
import { md5Word0 } from './md5.js';

export type KeyHashFn = (buf: Uint8Array, len: number) => number;

/** Sign-extend a byte like x86 `(uint32_t)(char)b`, as a uint32-compatible int32. */
function sx(b: number): number {
  return (b << 24) >> 24;
}

export function oneAtATime(buf: Uint8Array, len: number): number {
  let h = 0;
  for (let i = 0; i < len; i++) {
    h = (h + sx(buf[i]!)) | 0;
    h = (h + (h << 10)) | 0;
    h ^= h >>> 6;
  }
  h = (h + (h << 3)) | 0;
  h ^= h >>> 11;
  h = (h + (h << 15)) | 0;
  return h >>> 0;
}

export function md5Hash(buf: Uint8Array, len: number): number {
  return md5Word0(buf, len);
}

const CRC16_TABLE: Uint16Array = (() => {
  // CRC-16/CCITT (XMODEM) table, polynomial 0x1021, MSB-first.
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(buf: Uint8Array, len: number): number {
  let crc = 0;
  for (let i = 0; i < len; i++) crc = ((crc << 8) ^ CRC16_TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** libmemcached crc32: 15-bit. */
export function crc32Libmemcached(buf: Uint8Array, len: number): number {
  const t = CRC32_TABLE;
  let c = -1;
  for (let i = 0; i < len; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ((~c) >>> 16) & 0x7fff;
}

export function crc32a(buf: Uint8Array, len: number): number {
  return crc32(buf, len);
}

const FNV64_INIT_LO = 0x84222325;
const FNV64_PRIME_LO = 0x1b3;
const FNV32_INIT = 0x811c9dc5; // 2166136261
const FNV32_PRIME = 0x01000193; // 16777619

export function fnv1_64(buf: Uint8Array, len: number): number {
  let h = FNV64_INIT_LO | 0;
  for (let i = 0; i < len; i++) {
    h = Math.imul(h, FNV64_PRIME_LO);
    h ^= sx(buf[i]!);
  }
  return h >>> 0;
}

export function fnv1a_64(buf: Uint8Array, len: number): number {
  let h = FNV64_INIT_LO | 0;
  for (let i = 0; i < len; i++) {
    h ^= sx(buf[i]!);
    h = Math.imul(h, FNV64_PRIME_LO);
  }
  return h >>> 0;
}

export function fnv1_32(buf: Uint8Array, len: number): number {
  let h = FNV32_INIT | 0;
  for (let i = 0; i < len; i++) {
    h = Math.imul(h, FNV32_PRIME);
    h ^= sx(buf[i]!);
  }
  return h >>> 0;
}

export function fnv1a_32(buf: Uint8Array, len: number): number {
  let h = FNV32_INIT | 0;
  for (let i = 0; i < len; i++) {
    h ^= sx(buf[i]!);
    h = Math.imul(h, FNV32_PRIME);
  }
  return h >>> 0;
}

/** Paul Hsieh's SuperFastHash as in libmemcached/twemproxy (initial hash 0). */
export function hsieh(buf: Uint8Array, len: number): number {
  if (len <= 0) return 0;
  let h = 0;
  const rem = len & 3;
  let p = 0;
  for (let n = len >>> 2; n > 0; n--, p += 4) {
    h = (h + (buf[p]! | (buf[p + 1]! << 8))) | 0;
    const tmp = ((buf[p + 2]! | (buf[p + 3]! << 8)) << 11) ^ h;
    h = (h << 16) ^ tmp;
    h = (h + (h >>> 11)) | 0;
  }
  switch (rem) {
    case 3:
      h = (h + (buf[p]! | (buf[p + 1]! << 8))) | 0;
      h ^= h << 16;
      h ^= sx(buf[p + 2]!) << 18; // signed char
      h = (h + (h >>> 11)) | 0;
      break;
    case 2:
      h = (h + (buf[p]! | (buf[p + 1]! << 8))) | 0;
      h ^= h << 11;
      h = (h + (h >>> 17)) | 0;
      break;
    case 1:
      h = (h + buf[p]!) | 0;
      h ^= h << 10;
      h = (h + (h >>> 1)) | 0;
      break;
  }
  h ^= h << 3;
  h = (h + (h >>> 5)) | 0;
  h ^= h << 4;
  h = (h + (h >>> 17)) | 0;
  h ^= h << 25;
  h = (h + (h >>> 6)) | 0;
  return h >>> 0;
}

/** MurmurHash2 32-bit, seed = 0xdeadbeef * len, h = seed ^ len (twemproxy hash_murmur). */
export function murmur(buf: Uint8Array, len: number): number {
  const m = 0x5bd1e995;
  const seed = Math.imul(0xdeadbeef, len);
  let h = seed ^ len;
  let p = 0;
  let l = len;
  while (l >= 4) {
    let k = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
    p += 4;
    l -= 4;
  }
  if (l > 0) {
    if (l === 3) h ^= buf[p + 2]! << 16;
    if (l >= 2) h ^= buf[p + 1]! << 8;
    h ^= buf[p]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h >>> 0;
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Bob Jenkins' lookup3 hashlittle, initval 13 (libmemcached/twemproxy `jenkins`). */
export function jenkins(buf: Uint8Array, len: number): number {
  let a = (0xdeadbeef + len + 13) | 0;
  let b = a;
  let c = a;
  let p = 0;
  let l = len;
  while (l > 12) {
    a = (a + (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24))) | 0;
    b = (b + (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24))) | 0;
    c = (c + (buf[p + 8]! | (buf[p + 9]! << 8) | (buf[p + 10]! << 16) | (buf[p + 11]! << 24))) | 0;
    // mix
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    l -= 12;
    p += 12;
  }
  if (l === 0) return c >>> 0;
  // tail: bytes are added at their little-endian positions within a, b, c
  for (let i = l - 1; i >= 0; i--) {
    const v = buf[p + i]! << (8 * (i & 3));
    if (i >= 8) c = (c + v) | 0;
    else if (i >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  // final
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

export const KEY_HASHES: Readonly<Record<string, KeyHashFn>> = Object.freeze({
  one_at_a_time: oneAtATime,
  md5: md5Hash,
  crc16,
  crc32: crc32Libmemcached,
  crc32a,
  fnv1_64,
  fnv1a_64,
  fnv1_32,
  fnv1a_32,
  hsieh,
  murmur,
  jenkins,
});

export function getKeyHash(name: string): KeyHashFn {
  const f = Object.prototype.hasOwnProperty.call(KEY_HASHES, name) ? KEY_HASHES[name] : undefined;
  if (f === undefined) {
    throw new Error(`unknown key hash "${name}" (expected one of: ${Object.keys(KEY_HASHES).join(', ')})`);
  }
  return f;
}
