/**
 * memcached's number parsing (util.c `safe_strtol`, `safe_strtoul`, `safe_strtoull`), reproduced on a token
 * `buf[s, e)` so the parser accepts and rejects exactly what memcached 1.6.18 does:
 *
 * | step | behaviour (C `strto*` with base 10, on a 64-bit build) |
 * |---|---|
 * | leading bytes | isspace bytes (`\t \n \v \f \r`; a space cannot be inside a token) are skipped |
 * | sign | one optional `+` or `-` |
 * | digits | at least one, else the token is rejected |
 * | range | a magnitude that does not fit the 64-bit type (ERANGE) is rejected |
 * | after the digits | the token must end there, or the next byte must be isspace (what follows it is ignored) |
 * | unsigned with `-` | the value wraps (2^64 - n) and is rejected when that is negative as a signed long, i.e. for 0 < n <= 2^63 (`-0` passes) |
 * | 32-bit results | the 64-bit value is truncated, not range-checked: `4294967298` as an int32 is `2` |
 *
 * Measured against the binary: `ms k 4294967298` stores a 2-byte value, `F4294967297` stores flags 1,
 * `T-9223372036854775809` is `bad token`, `T\v5` and `T5\v` are TTL 5.
 */

/** C isspace in the "C" locale, less the space itself (never inside a token). */
function isCSpace(c: number | undefined): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x20;
}

const MAX_U64 = (1n << 64n) - 1n;
const MAX_I64 = (1n << 63n) - 1n;
const HALF_U64 = 1n << 63n;

/**
 * Scan a C integer: returns the magnitude as a bigint only when it needs more than 15 digits, else as a
 * number in `small`; null when the token is rejected (no digits, bad trailing byte).
 */
class Scan {
  neg = false;
  /** Magnitude when it has at most 15 digits (exact in a double), else -1 and `big` holds it. */
  small = 0;
  big = 0n;

  run(buf: Buffer, s: number, e: number): boolean {
    let i = s;
    while (i < e && isCSpace(buf[i])) i++;
    this.neg = false;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) {
      this.neg = buf[i] === 0x2d;
      i++;
    }
    const d0 = i;
    let v = 0;
    while (i < e) {
      const c = buf[i] as number;
      if (c < 0x30 || c > 0x39) break;
      if (i - d0 < 15) v = v * 10 + (c - 0x30);
      i++;
    }
    if (i === d0) return false;
    if (i < e && !isCSpace(buf[i])) return false;
    if (i - d0 <= 15) {
      this.small = v;
    } else {
      this.small = -1;
      this.big = BigInt(buf.toString('latin1', d0, i));
    }
    return true;
  }
}

const scan = new Scan();

/** `safe_strtol` into an int32 (exptimes, a data length, meta N/T/R tokens): the value, or null. */
export function strtol32(buf: Buffer, s: number, e: number): number | null {
  if (!scan.run(buf, s, e)) return null;
  if (scan.small >= 0) return scan.neg ? -scan.small | 0 : scan.small | 0;
  const m = scan.big;
  if (scan.neg ? m > MAX_I64 + 1n : m > MAX_I64) return null;
  return Number(BigInt.asIntN(32, scan.neg ? -m : m));
}

/** `safe_strtoul` into a uint32 (client flags, verbosity level): the value, or null. */
export function strtoul32(buf: Buffer, s: number, e: number): number | null {
  if (!scan.run(buf, s, e)) return null;
  if (scan.small >= 0) {
    if (scan.neg && scan.small !== 0) return null;
    return scan.small >>> 0;
  }
  const m = scan.big;
  if (m > MAX_U64 || (scan.neg && m <= HALF_U64)) return null;
  return Number(BigInt.asUintN(32, scan.neg ? -m : m));
}

/** `safe_strtoull` (cas uniques, arithmetic deltas, meta C/J/D tokens): whether the token is accepted. */
export function isStrtoull(buf: Buffer, s: number, e: number): boolean {
  if (!scan.run(buf, s, e)) return false;
  if (scan.small >= 0) return !scan.neg || scan.small === 0;
  return scan.big <= MAX_U64 && (!scan.neg || scan.big > HALF_U64);
}
