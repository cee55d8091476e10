/**
 * Framing of the replies a memcached server sends (text protocol, classic and meta), in place.
 *
 * Each parse function looks at the bytes at `pos` and finds one reply unit: one line, a `VALUE` or `VA`
 * header with its data block, or a whole `stats` reply. It answers with the position right after the unit
 * and fills a caller-owned ReplyUnit with what the unit is (its ReplyKind) and where its parts are; the
 * value bytes are never copied or decoded. When the bytes hold only the start of a unit it answers
 * INCOMPLETE (and how many bytes it needs, when the header says), and the caller parses again from the
 * same `pos` once more bytes are appended: a unit cut at any byte reads the same as a whole one. Bytes
 * that cannot be the unit asked for answer MALFORMED, with the reason.
 *
 * Which function to call depends on the request the reply is for, since memcached's replies are not
 * self-describing (`VA` only answers mg/ma, a line of digits only incr/decr):
 *
 *   parseGetUnit    get/gets/gat/gats (one or many keys): VALUE blocks, then END; or one error line
 *   parseLineUnit   everything else: one line, or (allowData) a `VA <size> ...` line and its data block
 *   parseStatsUnit  stats: STAT/ITEM/PREFIX lines up to END, or one line (an error, OK, RESET)
 *
 * What a unit means for the request (a miss, an unexpected kind) is for the caller to decide; this module
 * holds no state beyond the ReplyUnit it is handed, opens no sockets and reads no clock.
 *
 * Framing follows memcached 1.6.18: a line ends at `\n`, and one `\r` before it is not part of the line; a
 * key in a VALUE line ends at a space only (memcached stores keys with `\r` or control bytes in them).
 */
import { bytesEqual } from '../protocol/bytes.js';

/** What a reply unit is. Named after the reply word memcached sends. */
export const ReplyKind = {
  /** A line this module does not know as a reply (what it means is the caller's call). */
  UNKNOWN: 0,
  /** `VALUE <key> <flags> <bytes>[ <cas>]` and its data block (parseGetUnit). */
  VALUE: 1,
  /** `END`, exactly. */
  END: 2,
  STORED: 3,
  NOT_STORED: 4,
  EXISTS: 5,
  NOT_FOUND: 6,
  DELETED: 7,
  TOUCHED: 8,
  /** A line that starts with a digit: incr/decr's new value. */
  NUMBER: 9,
  OK: 10,
  /** `VERSION <text>`. */
  VERSION: 11,
  ERROR: 12,
  CLIENT_ERROR: 13,
  SERVER_ERROR: 14,
  /** A whole stats reply, from its first line through END (parseStatsUnit). */
  STATS: 15,
  /** `RESET` (the reply to `stats reset`). */
  RESET: 16,
  /** `VA <size> <flags>*` and its data block (parseLineUnit with allowData). */
  VA: 17,
  HD: 18,
  EN: 19,
  NF: 20,
  NS: 21,
  EX: 22,
  MN: 23,
  /** `ME <key> <k=v>*` (the reply to `me`). */
  ME: 24,
} as const;

/** One of the ReplyKind values. */
export type ReplyKind = (typeof ReplyKind)[keyof typeof ReplyKind];

/** Why bytes are MALFORMED (the names match the connection's reset causes). */
export type ReplyFault = 'bad_value' | 'line_too_long';

/** A parse function's answer when the bytes at `pos` are only the start of a unit (see ReplyUnit.need). */
export const INCOMPLETE = -1;
/** A parse function's answer when the bytes at `pos` cannot be a unit (see ReplyUnit.fault and .what). */
export const MALFORMED = -2;

/** memcached's largest item (its -I limit is 1 GB): a header announcing more is not memcached's. */
export const MAX_VALUE_BYTES = 1024 * 1024 * 1024;
/** A reply line still without its end after this many bytes is MALFORMED (`line_too_long`). */
export const MAX_LINE_BYTES = 65536;

/**
 * What a parse function found, filled in place (one instance per reader, reused for every unit). Only the
 * fields named for the answer are meaningful; the others keep stale values.
 */
export class ReplyUnit {
  /** The unit's kind (after a complete unit). */
  kind: ReplyKind = ReplyKind.UNKNOWN;
  /** Where the text of the unit's first line ends (before its `\r\n` or `\n`). */
  lineEnd = 0;
  /** VALUE: the key is [keyStart, keyEnd). */
  keyStart = 0;
  keyEnd = 0;
  /** VALUE: the key is the one the caller hinted (compared in place instead of scanned). */
  keyMatched = false;
  /** VALUE and VA: the data block is [dataStart, dataStart + dataLength), its `\r\n` after it. */
  dataStart = 0;
  dataLength = 0;
  /** INCOMPLETE: bytes needed from `pos` for the unit to be complete; 0 when unknown until more arrive. */
  need = 0;
  /** MALFORMED: why. */
  fault: ReplyFault = 'bad_value';
  /** MALFORMED: which part, for the error text (`VALUE line`, `VA length`, `line too long`, ...). */
  what = '';
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/**
 * One unit of the reply to a get line: a `VALUE` block (kind VALUE), `END`, or any other line (classified
 * as by classifyLine: an error line ends the reply; anything else is no get reply). A line starting `VA`
 * that is not a well-formed VALUE header is MALFORMED (`bad_value`).
 *
 * `hint`: the key the block most likely is for, as hint[hintStart, hintStart + hintLength) (no space or
 * `\n` in it), or null. When the VALUE line holds that key it is compared in place and `keyMatched` set;
 * otherwise the key is scanned. Either way keyStart/keyEnd are set.
 *
 * @returns the position after the unit, INCOMPLETE or MALFORMED
 */
export function parseGetUnit(buf: Buffer, pos: number, u: ReplyUnit, hint: Buffer | null, hintStart: number, hintLength: number): number {
  const c0 = buf[pos];
  // The common units, checked byte by byte: a Buffer#indexOf per field is a call into C++ each.
  if (c0 === 0x56 && buf[pos + 1] === 0x41 && buf[pos + 2] === 0x4c && buf[pos + 3] === 0x55 && buf[pos + 4] === 0x45 && buf[pos + 5] === SP) {
    return valueBlock(buf, pos, u, hint, hintStart, hintLength);
  }
  if (c0 === 0x45 && buf[pos + 1] === 0x4e && buf[pos + 2] === 0x44 && buf[pos + 3] === CR && buf[pos + 4] === LF) {
    u.kind = ReplyKind.END;
    u.lineEnd = pos + 3;
    return pos + 5;
  }
  const nl = buf.indexOf(LF, pos);
  if (nl === -1) return incompleteLine(buf, pos, u);
  const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
  u.lineEnd = lineEnd;
  if (c0 === 0x56 && buf[pos + 1] === 0x41) return malformed(u, 'bad_value', 'VALUE line');
  u.kind = classifyLine(buf, pos, lineEnd);
  return nl + 1;
}

/**
 * One reply line, classified by classifyLine. With `allowData` (the reply to mg or ma), a `VA <size> ...`
 * line is kind VA and the unit runs through its data block and the two bytes after it (a size token that
 * is not 1 to 10 digits, or over MAX_VALUE_BYTES, is MALFORMED). Unlike a VALUE block's, those two bytes
 * are not checked for `\r\n`: after a wrong size, what follows fails to frame as the next unit instead.
 *
 * @returns the position after the unit, INCOMPLETE or MALFORMED
 */
export function parseLineUnit(buf: Buffer, pos: number, u: ReplyUnit, allowData: boolean): number {
  const nl = buf.indexOf(LF, pos);
  if (nl === -1) return incompleteLine(buf, pos, u);
  const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
  const next = nl + 1;
  u.lineEnd = lineEnd;
  if (allowData && buf[pos] === 0x56 && buf[pos + 1] === 0x41 && buf[pos + 2] === SP) {
    let sizeEnd = pos + 3;
    while (sizeEnd < lineEnd && buf[sizeEnd] !== SP) sizeEnd++;
    const nbytes = parseDigits(buf, pos + 3, sizeEnd);
    if (nbytes < 0 || nbytes > MAX_VALUE_BYTES) return malformed(u, 'bad_value', 'VA length');
    const blockEnd = next + nbytes + 2;
    if (blockEnd > buf.length) return incomplete(u, blockEnd - pos);
    u.kind = ReplyKind.VA;
    u.dataStart = next;
    u.dataLength = nbytes;
    return blockEnd;
  }
  u.kind = classifyLine(buf, pos, lineEnd);
  return next;
}

/**
 * A whole reply to a `stats` command. One that starts with a `STAT `, `ITEM ` or `PREFIX ` line runs
 * through the first line that is exactly `END` (kind STATS); so does a lone `END` (an empty listing). Any
 * other first line is the whole reply, classified by classifyLine (an error line, `OK`, `RESET`).
 *
 * @returns the position after the unit, INCOMPLETE or MALFORMED
 */
export function parseStatsUnit(buf: Buffer, pos: number, u: ReplyUnit): number {
  const nl = buf.indexOf(LF, pos);
  if (nl === -1) return incompleteLine(buf, pos, u);
  const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
  u.lineEnd = lineEnd;
  if (!isWordThenSpace(buf, pos, lineEnd, 'STAT') && !isWordThenSpace(buf, pos, lineEnd, 'ITEM') && !isWordThenSpace(buf, pos, lineEnd, 'PREFIX')) {
    const kind = classifyLine(buf, pos, lineEnd);
    u.kind = kind === ReplyKind.END ? ReplyKind.STATS : kind;
    return nl + 1;
  }
  let line = nl + 1;
  for (;;) {
    const n = buf.indexOf(LF, line);
    if (n === -1) {
      // The limit applies to each line; the reply as a whole is as long as the server makes it.
      if (buf.length - line > MAX_LINE_BYTES) return malformed(u, 'line_too_long', 'line too long');
      return incomplete(u, 0);
    }
    const end = n > line && buf[n - 1] === CR ? n - 1 : n;
    if (end - line === 3 && buf[line] === 0x45 && buf[line + 1] === 0x4e && buf[line + 2] === 0x44) {
      u.kind = ReplyKind.STATS;
      return n + 1;
    }
    line = n + 1;
  }
}

/**
 * The kind of the reply line buf[pos, end) (its text, without the line end). Words match when the line is
 * the word, or the word then a space and more (`SERVER_ERROR out of memory`); the two-letter meta codes
 * and `OK` likewise. `END` matches only alone. A line that starts with a digit is NUMBER.
 */
export function classifyLine(buf: Buffer, pos: number, end: number): ReplyKind {
  const n = end - pos;
  if (n <= 0) return ReplyKind.UNKNOWN;
  const c0 = buf[pos] as number;
  if (c0 >= 0x30 && c0 <= 0x39) return ReplyKind.NUMBER;
  if (n === 1) return ReplyKind.UNKNOWN;
  const c1 = buf[pos + 1];
  if (n === 2 || buf[pos + 2] === SP) {
    // No reply word has a space as its third byte: this is a two-letter code or nothing.
    switch (c0) {
      case 0x48: // H
        if (c1 === 0x44) return ReplyKind.HD;
        break;
      case 0x45: // E
        if (c1 === 0x4e) return ReplyKind.EN;
        if (c1 === 0x58) return ReplyKind.EX;
        break;
      case 0x4e: // N
        if (c1 === 0x46) return ReplyKind.NF;
        if (c1 === 0x53) return ReplyKind.NS;
        break;
      case 0x4d: // M
        if (c1 === 0x4e) return ReplyKind.MN;
        if (c1 === 0x45) return ReplyKind.ME;
        break;
      case 0x4f: // O
        if (c1 === 0x4b) return ReplyKind.OK;
        break;
    }
    return ReplyKind.UNKNOWN;
  }
  switch (c0) {
    case 0x53: // S
      if (isWord(buf, pos, end, 'STORED')) return ReplyKind.STORED;
      if (isWord(buf, pos, end, 'SERVER_ERROR')) return ReplyKind.SERVER_ERROR;
      break;
    case 0x4e: // N
      if (isWord(buf, pos, end, 'NOT_FOUND')) return ReplyKind.NOT_FOUND;
      if (isWord(buf, pos, end, 'NOT_STORED')) return ReplyKind.NOT_STORED;
      break;
    case 0x45: // E
      if (n === 3 && c1 === 0x4e && buf[pos + 2] === 0x44) return ReplyKind.END;
      if (isWord(buf, pos, end, 'EXISTS')) return ReplyKind.EXISTS;
      if (isWord(buf, pos, end, 'ERROR')) return ReplyKind.ERROR;
      break;
    case 0x44: // D
      if (isWord(buf, pos, end, 'DELETED')) return ReplyKind.DELETED;
      break;
    case 0x54: // T
      if (isWord(buf, pos, end, 'TOUCHED')) return ReplyKind.TOUCHED;
      break;
    case 0x56: // V
      if (isWord(buf, pos, end, 'VERSION')) return ReplyKind.VERSION;
      break;
    case 0x43: // C
      if (isWord(buf, pos, end, 'CLIENT_ERROR')) return ReplyKind.CLIENT_ERROR;
      break;
    case 0x52: // R
      if (isWord(buf, pos, end, 'RESET')) return ReplyKind.RESET;
      break;
  }
  return ReplyKind.UNKNOWN;
}

/**
 * `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n` at `pos` (the `VALUE ` already seen): check the
 * header, find the block's end, and check that the data is followed by `\r\n`.
 */
function valueBlock(buf: Buffer, pos: number, u: ReplyUnit, hint: Buffer | null, hintStart: number, hintLength: number): number {
  const len = buf.length;
  const keyStart = pos + 6;
  let p = keyStart;
  let c = 0;
  let matched = false;
  if (hint !== null) {
    const ke = keyStart + hintLength;
    if (ke < len && buf[ke] === SP && bytesEqual(buf, keyStart, hint, hintStart, hintLength)) {
      matched = true;
      p = ke;
      c = SP;
    }
  }
  if (!matched) {
    // A key ends at a space: memcached stores keys with any other byte but \n in them, \r included.
    while (p < len && (c = buf[p] as number) !== SP && c !== LF) p++;
    if (p >= len) return incompleteLine(buf, pos, u);
  }
  u.keyStart = keyStart;
  u.keyEnd = p;
  u.keyMatched = matched;
  if (c !== SP || p === keyStart) return malformed(u, 'bad_value', 'VALUE line');
  const flagsStart = ++p;
  while (p < len && (c = buf[p] as number) >= 0x30 && c <= 0x39) p++;
  if (p >= len) return incompleteLine(buf, pos, u);
  if (c !== SP || p === flagsStart) return malformed(u, 'bad_value', 'VALUE line');
  const bytesStart = ++p;
  let nbytes = 0;
  while (p < len && (c = buf[p] as number) >= 0x30 && c <= 0x39) {
    nbytes = nbytes * 10 + (c - 0x30);
    p++;
  }
  if (p >= len) return incompleteLine(buf, pos, u);
  if (p === bytesStart || nbytes > MAX_VALUE_BYTES) return malformed(u, 'bad_value', 'VALUE length');
  if (c === SP) {
    // gets: the cas unique
    const casStart = ++p;
    while (p < len && (c = buf[p] as number) >= 0x30 && c <= 0x39) p++;
    if (p >= len) return incompleteLine(buf, pos, u);
    if (p === casStart) return malformed(u, 'bad_value', 'VALUE line');
  }
  u.lineEnd = p;
  if (c === CR) {
    if (++p >= len) return incompleteLine(buf, pos, u);
    c = buf[p] as number;
  }
  if (c !== LF) return malformed(u, 'bad_value', 'VALUE line');
  const dataStart = p + 1;
  const blockEnd = dataStart + nbytes + 2;
  if (blockEnd > len) return incomplete(u, blockEnd - pos);
  if (buf[blockEnd - 2] !== CR || buf[blockEnd - 1] !== LF) return malformed(u, 'bad_value', 'value terminator');
  u.kind = ReplyKind.VALUE;
  u.dataStart = dataStart;
  u.dataLength = nbytes;
  return blockEnd;
}

/** A line without its end yet: wait for more bytes, unless it is already absurdly long. */
function incompleteLine(buf: Buffer, pos: number, u: ReplyUnit): number {
  if (buf.length - pos > MAX_LINE_BYTES) return malformed(u, 'line_too_long', 'line too long');
  return incomplete(u, 0);
}

function incomplete(u: ReplyUnit, need: number): number {
  u.need = need;
  return INCOMPLETE;
}

function malformed(u: ReplyUnit, fault: ReplyFault, what: string): number {
  u.fault = fault;
  u.what = what;
  return MALFORMED;
}

/** 1 to 10 decimal digits in buf[s, e), or -1. */
function parseDigits(buf: Buffer, s: number, e: number): number {
  if (s >= e || e - s > 10) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** The line buf[pos, end) is `word`, or `word` then a space. */
function isWord(buf: Buffer, pos: number, end: number, word: string): boolean {
  if (end - pos < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[pos + i] !== word.charCodeAt(i)) return false;
  return end - pos === word.length || buf[pos + word.length] === SP;
}

/** The line buf[pos, end) starts with `word` and a space. */
function isWordThenSpace(buf: Buffer, pos: number, end: number, word: string): boolean {
  return end - pos > word.length && isWord(buf, pos, end, word);
}
