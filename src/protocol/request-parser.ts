/**
 * Streaming parser for the memcached text protocol (classic and meta commands), client side.
 *
 * It parses in place: a Request's key, head, tail and value are subarrays of the bytes the client sent,
 * so forwarding a request copies nothing until the upstream write. It dispatches on the length of the verb
 * and then on its bytes; no regex, no toString() of the line.
 *
 * Framing and error replies follow memcached 1.6.18 byte for byte (the protocol-compat suite proves it):
 *  - tokens are split on spaces only (a tab is part of a token); leading and repeated spaces are skipped;
 *  - a line ends at `\n`, and one `\r` just before it is dropped;
 *  - a storage command's data block is read (and checked for its `\r\n`) only when the whole command line
 *    is valid; otherwise the data line is parsed as the next command, exactly like memcached;
 *  - `noreply` is recognised only as the last token and silences the errors memcached silences.
 *
 * Resumption: when a chunk ends mid-line or mid-value, the unconsumed tail is kept and the next chunk is
 * appended (for values, chunks are collected and concatenated once, when the value is complete).
 */
import { Request, type Op, type SessionOp } from './types.js';
import { view } from './bytes.js';
import { acquireBlock } from './block-pool.js';
import { isStrtoull, strtol32, strtoul32 } from './c-numbers.js';
import { decodeBase64Key } from './base64.js';

export const KEY_MAX_LENGTH = 250;
/**
 * A non-get command line longer than this closes the connection without a reply. memcached 1.6.18 closes
 * when it holds more than 2048 bytes with no newline after a read of up to 16 KB, so what it does with a
 * 2–16 KB line depends on how the bytes arrive; mcrelay uses the 16 KB read size as the fixed limit.
 */
export const MAX_LINE_LENGTH = 16384;
/** Upper bound for a multi-get line, to bound memory per client. */
export const MAX_GET_LINE_LENGTH = 1 << 20;

/** Commands the session answers itself: the ops that carry no key, and `shutdown` (always refused with ERROR). */
export type LocalOp = SessionOp | 'shutdown';

/** Where parsed commands go. Called synchronously from feed(), in request order. */
export interface RequestSink {
  /** One routed single-key request (storage, delete, arithmetic, touch, meta, or a one-key get). */
  request(req: Request): void;
  /** A get/gets/gat/gats with two or more keys, one Request per key, in client order (see multiGetKeys). */
  multiGet(reqs: Request[]): void;
  /**
   * Optional: a get/gets with two or more keys as ranges of `buf` — key i (first <= i < n) is
   * buf[tok[2i], tok[2i+1]) — so the sink makes Requests only for the keys that need one. `tok` is the
   * parser's scratch, valid during the call only. Without it the parser calls multiGet.
   */
  multiGetKeys?(op: Op, head: Buffer, buf: Buffer, tok: Int32Array, first: number, n: number): void;
  /** A command mcrelay answers itself. `args` is the rest of the line after the verb (trimmed). */
  local(op: LocalOp, args: Buffer, noreply: boolean): void;
  /** Reply this exact line (without \r\n) in order, e.g. `ERROR`, `CLIENT_ERROR bad data chunk`, `END`. */
  replyLine(line: string): void;
  /** The stream cannot be resynchronised: reply `line` (if not null) and close the connection. */
  fatal(line: string | null): void;
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

const NOREPLY = Buffer.from('noreply');
const EMPTY = Buffer.alloc(0);

const ERR_FORMAT = 'CLIENT_ERROR bad command line format';
/** A pending value with at least this many bytes still to come is read in place (directBuffer). */
const DIRECT_MIN = 4096;
const ERR_DATA_CHUNK = 'CLIENT_ERROR bad data chunk';
const ERR_TOO_LARGE = 'SERVER_ERROR object too large for cache';
const ERR_BAD_TOKEN = 'CLIENT_ERROR bad token in command line format';
const ERR_DUP_FLAG = 'CLIENT_ERROR invalid or duplicate flag';
const ERR_LONG_OPAQUE = 'CLIENT_ERROR opaque token too long';
/** memcached refuses a meta line of this many tokens or more (its MFLAG_MAX_OPT_LENGTH counts one more). */
const META_MAX_TOKENS = 20;
/** Longest opaque (`O`) token memcached echoes, the `O` included. */
const MAX_OPAQUE_LENGTH = 32;

/** Pending storage command waiting for its data block. */
interface PendingValue {
  op: Op;
  key: Buffer;
  head: Buffer;
  tail: Buffer;
  quiet: boolean;
  exptime: number;
  /** Data length + 2 (the \r\n). */
  need: number;
  /** Meta `b` keys: the base64 text sent upstream (memcached decodes it itself). */
  wireKey: Buffer | null;
}

export class RequestParser {
  /**
   * Largest data block accepted (`--max-value-size`): a bigger one is swallowed without being buffered and
   * answered `SERVER_ERROR object too large for cache`, as memcached does past its item size limit.
   */
  static maxValueBytes = 64 * 1024 * 1024;
  /** Unconsumed bytes (an incomplete line) from earlier chunks. */
  private rest: Buffer = EMPTY;
  /** A storage command whose value has not fully arrived. */
  private pending: PendingValue | null = null;
  private pendingChunks: Buffer[] = [];
  private pendingBytes = 0;
  /** The pending value's whole data block, read in place by the socket (see directBuffer), or null. */
  private direct: Buffer | null = null;
  /** Token boundaries of the current line: [start0, end0, start1, end1, ...]. Reused. */
  private tok = new Int32Array(64);
  /** End of the current line's content: its end, or an earlier NUL byte (see tokenize). */
  private lineEnd = 0;
  /** Meta flags seen on the current line, by first byte (a 128-bit set). */
  private readonly seen = new Int32Array(4);
  private closed = false;
  /** Paused by the session (too much outstanding work for this client). */
  private held = false;

  constructor(private readonly sink: RequestSink) {}

  /** Parse a chunk; calls the sink for every complete command. */
  feed(chunk: Buffer): void {
    if (this.closed) return;
    const d = this.direct;
    if (d !== null) {
      // Bytes that did not come through directBuffer (a caller that reads for itself): fill the block.
      const n = Math.min(d.length - this.pendingBytes, chunk.length);
      chunk.copy(d, this.pendingBytes, 0, n);
      this.directRead(n);
      if (n < chunk.length) this.feed(chunk.subarray(n));
      return;
    }
    if (this.held) {
      // Paused between commands: keep the bytes; resume() parses them.
      this.rest = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
      return;
    }
    if (this.skipRemaining > 0) {
      if (chunk.length <= this.skipRemaining) {
        this.skipRemaining -= chunk.length;
        return;
      }
      chunk = chunk.subarray(this.skipRemaining);
      this.skipRemaining = 0;
    }
    if (this.pending !== null) {
      this.pendingChunks.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.pending.need) return;
      const whole = Buffer.concat(this.pendingChunks, this.pendingBytes);
      this.pendingChunks = [];
      this.pendingBytes = 0;
      const p = this.pending;
      this.pending = null;
      const pos = this.finishValue(p, whole, 0);
      this.parse(whole, pos);
      return;
    }
    let buf = chunk;
    if (this.rest.length > 0) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = EMPTY;
    }
    this.parse(buf, 0);
  }

  /**
   * Where the socket should read next when a large value is arriving: a buffer of the data block's exact
   * size holding what already came, whose unfilled rest is returned, so the kernel writes the value in
   * place and it is never concatenated. Null when no large value is pending (read into a shared buffer
   * and feed() the copy). After a non-null answer the caller must report the read with directRead(n).
   */
  directBuffer(): Buffer | null {
    const p = this.pending;
    if (p === null || this.closed) return null;
    let d = this.direct;
    if (d === null) {
      if (this.held || p.need - this.pendingBytes < DIRECT_MIN) return null;
      // Pooled: the client session gives the block back once the server answered the write (block-pool.ts).
      d = acquireBlock(p.need);
      let at = 0;
      for (const c of this.pendingChunks) at += c.copy(d, at);
      this.pendingChunks = [];
      this.direct = d;
    }
    return d.subarray(this.pendingBytes);
  }

  /** `n` bytes were read into the buffer directBuffer() returned. */
  directRead(n: number): void {
    const d = this.direct;
    const p = this.pending;
    if (d === null || p === null) return;
    this.pendingBytes += n;
    if (this.pendingBytes < p.need) return;
    this.direct = null;
    this.pending = null;
    this.pendingBytes = 0;
    this.finishValue(p, d, 0);
  }

  /**
   * Stop handing out commands after the current one (backpressure from the session). Bytes already read
   * stay buffered; nothing is parsed until resume().
   */
  pause(): void {
    this.held = true;
  }

  /** Continue with the bytes buffered while paused. */
  resume(): void {
    if (!this.held) return;
    this.held = false;
    if (this.rest.length > 0 && this.pending === null) {
      const buf = this.rest;
      this.rest = EMPTY;
      this.parse(buf, 0);
    }
  }

  get isPaused(): boolean {
    return this.held;
  }

  private parse(buf: Buffer, pos: number): void {
    const len = buf.length;
    while (pos < len && !this.closed) {
      if (this.held) {
        this.rest = buf.subarray(pos);
        return;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        const remaining = len - pos;
        if ((remaining > MAX_LINE_LENGTH && !isGetPrefix(buf, pos, len)) || remaining > MAX_GET_LINE_LENGTH) {
          this.closed = true;
          this.sink.fatal(null);
          return;
        }
        this.rest = pos === 0 ? buf : buf.subarray(pos);
        return;
      }
      if (nl - pos > MAX_LINE_LENGTH && !isGetPrefix(buf, pos, nl)) {
        this.closed = true;
        this.sink.fatal(null);
        return;
      }
      let end = nl;
      if (end > pos && buf[end - 1] === CR) end--;
      const next = nl + 1;
      pos = this.command(buf, pos, end, next);
    }
  }

  /**
   * Tokenize [start, end) on spaces into this.tok. memcached reads the line as a C string, so a NUL byte
   * ends it: tokens stop there, and `this.lineEnd` is where the line really ends.
   */
  private tokenize(buf: Buffer, start: number, end: number): number {
    let n = 0;
    let i = start;
    let tok = this.tok;
    this.lineEnd = end;
    while (i < end) {
      let c = buf[i];
      while (c === SP) c = buf[++i];
      if (i >= end) break;
      if (c === 0) {
        this.lineEnd = i;
        break;
      }
      const s = i;
      while (i < end && (c = buf[i]) !== SP && c !== 0) i++;
      if (c === 0 && i < end) {
        this.lineEnd = end = i;
      }
      if (2 * n + 2 > tok.length) {
        const bigger = new Int32Array(tok.length * 2);
        bigger.set(tok);
        this.tok = tok = bigger;
      }
      tok[2 * n] = s;
      tok[2 * n + 1] = i;
      n++;
    }
    return n;
  }

  private ts(i: number): number {
    return this.tok[2 * i] as number;
  }

  private te(i: number): number {
    return this.tok[2 * i + 1] as number;
  }

  private tokenIs(buf: Buffer, i: number, word: Buffer): boolean {
    const s = this.ts(i);
    const e = this.te(i);
    if (e - s !== word.length) return false;
    for (let j = 0; j < word.length; j++) if (buf[s + j] !== word[j]) return false;
    return true;
  }

  /**
   * Handle one command line [start, end); `next` is the offset after its newline.
   * Returns the offset where parsing continues.
   */
  private command(buf: Buffer, start: number, end: number, next: number): number {
    const n = this.tokenize(buf, start, end);
    end = this.lineEnd;
    const sink = this.sink;
    if (n === 0) {
      sink.replyLine('ERROR');
      return next;
    }
    const vs = this.ts(0);
    const vlen = this.te(0) - vs;
    const c0 = buf[vs];
    const c1 = buf[vs + 1];
    switch (vlen) {
      case 2:
        if (c0 === 0x6d /* m */) {
          switch (c1) {
            case 0x67: return this.meta(buf, 'mg', n, start, end, next);
            case 0x73: return this.meta(buf, 'ms', n, start, end, next);
            case 0x64: return this.meta(buf, 'md', n, start, end, next);
            case 0x61: return this.meta(buf, 'ma', n, start, end, next);
            case 0x65: return this.meta(buf, 'me', n, start, end, next);
            case 0x6e: sink.local('mn', EMPTY, false); return next;
          }
        }
        break;
      case 3:
        if (c0 === 0x67 && c1 === 0x65 && buf[vs + 2] === 0x74) return this.get(buf, 'get', n, 1, next);
        if (c0 === 0x73 && c1 === 0x65 && buf[vs + 2] === 0x74) return this.storage(buf, 'set', n, start, end, next);
        if (c0 === 0x61 && c1 === 0x64 && buf[vs + 2] === 0x64) return this.storage(buf, 'add', n, start, end, next);
        if (c0 === 0x63 && c1 === 0x61 && buf[vs + 2] === 0x73) return this.storage(buf, 'cas', n, start, end, next);
        if (c0 === 0x67 && c1 === 0x61 && buf[vs + 2] === 0x74) return this.gat(buf, 'gat', n, next);
        break;
      case 4:
        if (c0 === 0x67 && c1 === 0x65 && buf[vs + 2] === 0x74 && buf[vs + 3] === 0x73) return this.get(buf, 'gets', n, 1, next);
        if (c0 === 0x69 && c1 === 0x6e && buf[vs + 2] === 0x63 && buf[vs + 3] === 0x72) return this.arith(buf, 'incr', n, start, end, next);
        if (c0 === 0x64 && c1 === 0x65 && buf[vs + 2] === 0x63 && buf[vs + 3] === 0x72) return this.arith(buf, 'decr', n, start, end, next);
        if (c0 === 0x67 && c1 === 0x61 && buf[vs + 2] === 0x74 && buf[vs + 3] === 0x73) return this.gat(buf, 'gats', n, next);
        // memcached still takes `bget` (a get from the binary-protocol days) and answers it as a get.
        if (c0 === 0x62 && verbIs(buf, vs, 'bget')) return this.get(buf, 'get', n, 1, next);
        if (c0 === 0x71 && verbIs(buf, vs, 'quit')) {
          sink.local('quit', EMPTY, false);
          this.closed = true;
          return next;
        }
        break;
      case 5:
        if (verbIs(buf, vs, 'touch')) return this.touch(buf, n, start, end, next);
        if (verbIs(buf, vs, 'stats')) {
          sink.local('stats', this.restOfLine(buf, 1, n, end), false);
          return next;
        }
        break;
      case 6:
        if (verbIs(buf, vs, 'delete')) return this.del(buf, n, start, end, next);
        if (verbIs(buf, vs, 'append')) return this.storage(buf, 'append', n, start, end, next);
        break;
      case 7:
        if (verbIs(buf, vs, 'replace')) return this.storage(buf, 'replace', n, start, end, next);
        if (verbIs(buf, vs, 'prepend')) return this.storage(buf, 'prepend', n, start, end, next);
        if (verbIs(buf, vs, 'version')) {
          sink.local('version', EMPTY, false);
          return next;
        }
        break;
      case 9:
        if (verbIs(buf, vs, 'verbosity')) return this.verbosity(buf, n, end, next);
        if (verbIs(buf, vs, 'flush_all')) return this.flushAll(buf, n, end, next);
        break;
    }
    sink.replyLine('ERROR');
    return next;
  }

  private restOfLine(buf: Buffer, fromToken: number, n: number, end: number): Buffer {
    if (fromToken >= n) return EMPTY;
    return buf.subarray(this.ts(fromToken), end);
  }

  private keyAt(buf: Buffer, i: number): Buffer {
    return view(buf, this.ts(i), this.te(i));
  }

  /** get/gets: `get <key>*`. keys start at token `first`. */
  private get(buf: Buffer, op: Op, n: number, first: number, next: number): number {
    if (n <= first) {
      this.sink.replyLine('ERROR');
      return next;
    }
    for (let i = first; i < n; i++) {
      if (this.te(i) - this.ts(i) > KEY_MAX_LENGTH) {
        this.sink.replyLine(ERR_FORMAT);
        return next;
      }
    }
    const head = op === 'get' ? HEAD_GET : HEAD_GETS;
    if (n === first + 1) {
      this.sink.request(new Request(op, this.keyAt(buf, first), head, EMPTY, null, false, 0));
      return next;
    }
    if (this.sink.multiGetKeys !== undefined) {
      this.sink.multiGetKeys(op, head, buf, this.tok, first, n);
      return next;
    }
    const reqs: Request[] = new Array<Request>(n - first);
    for (let i = first; i < n; i++) {
      reqs[i - first] = new Request(op, this.keyAt(buf, i), head, EMPTY, null, false, 0);
    }
    this.sink.multiGet(reqs);
    return next;
  }

  /** gat/gats: `gat <exptime> <key>*`. */
  private gat(buf: Buffer, op: Op, n: number, next: number): number {
    if (n < 2) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const exptime = strtol32(buf, this.ts(1), this.te(1));
    if (exptime === null) {
      this.sink.replyLine('CLIENT_ERROR invalid exptime argument');
      return next;
    }
    if (n === 2) {
      // memcached answers a key-less gat with an empty result.
      this.sink.replyLine('END');
      return next;
    }
    for (let i = 2; i < n; i++) {
      if (this.te(i) - this.ts(i) > KEY_MAX_LENGTH) {
        this.sink.replyLine(ERR_FORMAT);
        return next;
      }
    }
    // head = "gat <exptime> " rebuilt canonically so batches merge on equal heads.
    const head = Buffer.from(`${op} ${exptime} `, 'latin1');
    if (n === 3) {
      this.sink.request(new Request(op, this.keyAt(buf, 2), head, EMPTY, null, false, exptime));
      return next;
    }
    const reqs: Request[] = new Array<Request>(n - 2);
    for (let i = 2; i < n; i++) reqs[i - 2] = new Request(op, this.keyAt(buf, i), head, EMPTY, null, false, exptime);
    this.sink.multiGet(reqs);
    return next;
  }

  /** True when the last token is `noreply` (memcached's set_noreply_maybe). */
  private noreplyLast(buf: Buffer, n: number): boolean {
    return n > 0 && this.tokenIs(buf, n - 1, NOREPLY);
  }

  /** End of the line content that is forwarded: before a trailing noreply token, trailing spaces trimmed. */
  private tailEnd(buf: Buffer, n: number, end: number, noreply: boolean): number {
    if (!noreply) return end;
    let e = this.ts(n - 1);
    while (e > 0 && buf[e - 1] === SP) e--;
    return e;
  }

  /** set/add/replace/append/prepend `<key> <flags> <exptime> <bytes> [noreply]`, cas `... <cas> [noreply]`. */
  private storage(buf: Buffer, op: Op, n: number, start: number, end: number, next: number): number {
    const isCas = op === 'cas';
    const min = isCas ? 6 : 5;
    if (n !== min && n !== min + 1) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    const keyLen = this.te(1) - this.ts(1);
    const flagsOk = strtoul32(buf, this.ts(2), this.te(2)) !== null;
    const exptime = strtol32(buf, this.ts(3), this.te(3));
    const vlen = strtol32(buf, this.ts(4), this.te(4));
    const casOk = !isCas || isStrtoull(buf, this.ts(5), this.te(5));
    if (keyLen > KEY_MAX_LENGTH || !flagsOk || exptime === null || vlen === null || vlen < 0 || vlen > 0x7ffffffd || !casOk) {
      if (!noreply) this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    if (vlen > RequestParser.maxValueBytes) return this.skipValue(buf, next, vlen + 2, noreply ? null : ERR_TOO_LARGE);
    const p: PendingValue = {
      op,
      key: this.keyAt(buf, 1),
      head: view(buf, start, this.ts(1)),
      tail: view(buf, this.te(1), this.tailEnd(buf, n, end, noreply)),
      quiet: noreply,
      exptime,
      need: vlen + 2,
      wireKey: null,
    };
    return this.readValue(p, buf, next);
  }

  /** Continue with the data block of `p` at `pos`; returns where parsing continues. */
  private readValue(p: PendingValue, buf: Buffer, pos: number): number {
    const avail = buf.length - pos;
    if (avail >= p.need) return this.finishValue(p, buf, pos);
    // Wait for more: keep what we have (copy only the partial value, not the whole chunk's history).
    this.pending = p;
    // The Request's key/head/tail point into `buf`; keeping `buf` alive is fine (it is one chunk).
    this.pendingChunks = avail > 0 ? [buf.subarray(pos)] : [];
    this.pendingBytes = avail;
    return buf.length;
  }

  private finishValue(p: PendingValue, buf: Buffer, pos: number): number {
    const vend = pos + p.need - 2;
    if (buf[vend] !== CR || buf[vend + 1] !== LF) {
      // memcached: a classic noreply hides the error, meta mode always shows it.
      if (!p.quiet || p.op === 'ms') this.sink.replyLine(ERR_DATA_CHUNK);
      return pos + p.need;
    }
    const req = new Request(p.op, p.key, p.head, p.tail, view(buf, pos, vend), p.quiet, p.exptime);
    if (p.wireKey !== null) req.wireKey = p.wireKey;
    this.sink.request(req);
    return pos + p.need;
  }

  /** delete <key> [0] [noreply] */
  private del(buf: Buffer, n: number, start: number, end: number, next: number): number {
    if (n < 2 || n > 4) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    if (n > 2) {
      // memcached accepts only a literal 0 time (or noreply) after the key.
      const extra = noreply ? n - 3 : n - 2;
      const zeroOk = extra === 0 || (extra === 1 && this.te(2) - this.ts(2) === 1 && buf[this.ts(2)] === 0x30);
      if (!zeroOk) {
        if (!noreply) this.sink.replyLine('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]');
        return next;
      }
    }
    if (this.te(1) - this.ts(1) > KEY_MAX_LENGTH) {
      if (!noreply) this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    this.sink.request(new Request('delete', this.keyAt(buf, 1), buf.subarray(start, this.ts(1)), EMPTY, null, noreply, 0));
    return next;
  }

  /** incr/decr <key> <delta> [noreply] */
  private arith(buf: Buffer, op: Op, n: number, start: number, end: number, next: number): number {
    if (n !== 3 && n !== 4) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    if (this.te(1) - this.ts(1) > KEY_MAX_LENGTH) {
      if (!noreply) this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    if (!isStrtoull(buf, this.ts(2), this.te(2))) {
      if (!noreply) this.sink.replyLine('CLIENT_ERROR invalid numeric delta argument');
      return next;
    }
    const tailEnd = noreply && n === 4 ? this.te(2) : end;
    this.sink.request(new Request(op, this.keyAt(buf, 1), buf.subarray(start, this.ts(1)), buf.subarray(this.te(1), tailEnd), null, noreply, 0));
    return next;
  }

  /** touch <key> <exptime> [noreply] */
  private touch(buf: Buffer, n: number, start: number, end: number, next: number): number {
    if (n !== 3 && n !== 4) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    if (this.te(1) - this.ts(1) > KEY_MAX_LENGTH) {
      if (!noreply) this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    const exptime = strtol32(buf, this.ts(2), this.te(2));
    if (exptime === null) {
      if (!noreply) this.sink.replyLine('CLIENT_ERROR invalid exptime argument');
      return next;
    }
    const tailEnd = noreply && n === 4 ? this.te(2) : end;
    this.sink.request(new Request('touch', this.keyAt(buf, 1), buf.subarray(start, this.ts(1)), buf.subarray(this.te(1), tailEnd), null, noreply, exptime));
    return next;
  }

  private verbosity(buf: Buffer, n: number, end: number, next: number): number {
    if (n !== 2 && n !== 3) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    const levelTok = noreply && n === 2 ? -1 : 1;
    if (levelTok === 1 && strtoul32(buf, this.ts(1), this.te(1)) === null) {
      if (!noreply) this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    this.sink.local('verbosity', this.restOfLine(buf, 1, n, end), noreply);
    return next;
  }

  private flushAll(buf: Buffer, n: number, end: number, next: number): number {
    if (n > 3) {
      this.sink.replyLine('ERROR');
      return next;
    }
    const noreply = this.noreplyLast(buf, n);
    const hasDelay = n - (noreply ? 1 : 0) > 1;
    if (hasDelay && strtol32(buf, this.ts(1), this.te(1)) === null) {
      if (!noreply) this.sink.replyLine('CLIENT_ERROR invalid exptime argument');
      return next;
    }
    this.sink.local('flush_all', this.restOfLine(buf, 1, n, end), noreply);
    return next;
  }

  /**
   * Meta commands `mg ms md ma <key> [<datalen> for ms] <flag>*` and `me <key> [b]`, checked against
   * memcached 1.6.18's grammar (proto_text.c, every row measured against the binary) before anything is
   * forwarded, so that every forwarded line gets exactly one reply mcrelay can frame. What fails is answered
   * here with memcached's line; the connection goes on with the next line.
   *
   * | check, in memcached's order | mg | ms | md | ma |
   * |---|---|---|---|---|
   * | no key token | `ERROR` | `ERROR` | `ERROR` | `ERROR` |
   * | key over 250 bytes (before base64 decoding) | FORMAT | FORMAT, data not swallowed | FORMAT | FORMAT |
   * | ms without a datalen | | FORMAT | | |
   * | 20 tokens or more on the line | `options flags are too long` | `options flags too long` | same | same |
   * | ms datalen not a `strtol` int32 (truncated), or < 0, or > INT_MAX-2 | | FORMAT, not swallowed | | |
   * | a flag's first byte seen before (or >= 127) | `duplicate flag` | `duplicate flag` | DUP | DUP |
   * | a first byte outside `b N T R l O P L k s t c f v h u q F C M J D I` | `invalid flag` | `invalid flag` | DUP | DUP |
   * | `b` and the key is not base64 (base64.ts) | `error decoding key` | same | DUP | DUP |
   * | `N T R` not `strtol` int32 / `C` not `strtoull` | `bad token in command line format` | same | DUP | DUP |
   * | `J` / `D` not `strtoull` | `invalid numeric initial value` / `… delta value` | same | DUP | DUP |
   * | `M` not 2 bytes long | `incorrect length for M token` | same | DUP | DUP |
   * | `F` not `strtoul` uint32 | the message so far, else FORMAT | same | DUP | DUP |
   * | an `O` token over 32 bytes | forwarded (memcached checks it after the fetch) | `opaque token too long` | `opaque token too long` | forwarded (after the update) |
   * | mode `M<x>` not in `E A P R S` (ms) / `I + D -` (ma) | | `invalid mode for ms M token` | | `invalid mode for ma M token` |
   *
   * FORMAT = `CLIENT_ERROR bad command line format`, DUP = `CLIENT_ERROR invalid or duplicate flag` (md and
   * ma report every flag error so). Only a token's first byte names its flag (`qB` is `q`). For the flag
   * errors, the last message set wins, and an unknown or repeated flag stops the scan; ms swallows its data
   * block (datalen + 2 bytes) after flag, opaque and mode errors. Errors are shown in quiet mode too.
   *
   * `me` takes no flags: only a `b` token right after the key is read (FORMAT when the key does not decode),
   * and everything else is forwarded as it is. Quiet mode (`q`) is not forwarded: the upstream always
   * answers, and the session drops the reply memcached would not have sent. The one exception is
   * `ma … q N…`, whose HD memcached shows when it created the item and hides when it updated it: that goes
   * out with `q` and an `mn` after it (Request.quietUpstream), so memcached decides.
   */
  private meta(buf: Buffer, op: Op, n: number, start: number, end: number, next: number): number {
    if (op === 'me') return this.metaDebug(buf, n, start, end, next);
    const sink = this.sink;
    if (n < 2) {
      sink.replyLine('ERROR');
      return next;
    }
    const ks = this.ts(1);
    const ke = this.te(1);
    if (ke - ks > KEY_MAX_LENGTH || (op === 'ms' && n === 2)) {
      sink.replyLine(ERR_FORMAT);
      return next;
    }
    if (n >= META_MAX_TOKENS) {
      sink.replyLine(op === 'mg' ? 'CLIENT_ERROR options flags are too long' : 'CLIENT_ERROR options flags too long');
      return next;
    }
    let firstFlag = 2;
    let vlen = -1;
    if (op === 'ms') {
      const v = strtol32(buf, this.ts(2), this.te(2));
      if (v === null || v < 0 || v > 0x7ffffffd) {
        sink.replyLine(ERR_FORMAT);
        return next;
      }
      vlen = v;
      firstFlag = 3;
    }
    // Flags, in memcached's order (see the table).
    const seen = this.seen;
    seen[0] = seen[1] = seen[2] = seen[3] = 0;
    let err: string | null = null;
    let failed = false;
    let quiet = false;
    let qTok = -1;
    let key: Buffer | null = null;
    let exptime = 0;
    let mode = 0;
    let longOpaque = false;
    let vivify = false;
    for (let i = firstFlag; i < n; i++) {
      const s = this.ts(i);
      const e = this.te(i);
      const f = buf[s] as number;
      const bit = 1 << (f & 31);
      if (f >= 127 || ((seen[f >> 5] as number) & bit) !== 0) {
        err = 'CLIENT_ERROR duplicate flag';
        failed = true;
        break;
      }
      seen[f >> 5] = (seen[f >> 5] as number) | bit;
      let bad: string | null = null;
      switch (f) {
        case 0x62: // b
          key = decodeBase64Key(buf, ks, ke);
          if (key === null) bad = 'CLIENT_ERROR error decoding key';
          break;
        case 0x4e: // N
          if (strtol32(buf, s + 1, e) === null) bad = ERR_BAD_TOKEN;
          vivify = true;
          break;
        case 0x52: // R
          if (strtol32(buf, s + 1, e) === null) bad = ERR_BAD_TOKEN;
          break;
        case 0x54: { // T
          const t = strtol32(buf, s + 1, e);
          if (t === null) bad = ERR_BAD_TOKEN;
          else exptime = t;
          break;
        }
        case 0x43: // C
          if (!isStrtoull(buf, s + 1, e)) bad = ERR_BAD_TOKEN;
          break;
        case 0x4a: // J
          if (!isStrtoull(buf, s + 1, e)) bad = 'CLIENT_ERROR invalid numeric initial value';
          break;
        case 0x44: // D
          if (!isStrtoull(buf, s + 1, e)) bad = 'CLIENT_ERROR invalid numeric delta value';
          break;
        case 0x4d: // M
          if (e - s !== 2) bad = 'CLIENT_ERROR incorrect length for M token';
          else mode = buf[s + 1] as number;
          break;
        case 0x46: // F: an error without a message of its own
          if (strtoul32(buf, s + 1, e) === null) failed = true;
          break;
        case 0x4f: // O
          if (e - s > MAX_OPAQUE_LENGTH) longOpaque = true;
          break;
        case 0x71: // q
          quiet = true;
          qTok = i;
          break;
        case 0x6c: case 0x50: case 0x4c: case 0x6b: case 0x73: case 0x74: case 0x63: // l P L k s t c
        case 0x66: case 0x76: case 0x68: case 0x75: case 0x49: // f v h u I
          break;
        default:
          err = 'CLIENT_ERROR invalid flag';
          failed = true;
          i = n;
          break;
      }
      if (bad !== null) {
        err = bad;
        failed = true;
      }
    }
    if (failed) {
      const line = op === 'md' || op === 'ma' ? ERR_DUP_FLAG : (err ?? ERR_FORMAT);
      if (vlen >= 0) return this.skipValue(buf, next, vlen + 2, line);
      sink.replyLine(line);
      return next;
    }
    if (op === 'ms') {
      const badMode = mode !== 0 && mode !== 0x45 && mode !== 0x41 && mode !== 0x50 && mode !== 0x52 && mode !== 0x53;
      if (badMode || longOpaque) {
        return this.skipValue(buf, next, vlen + 2, badMode ? 'CLIENT_ERROR invalid mode for ms M token' : ERR_LONG_OPAQUE);
      }
    } else if (op === 'ma') {
      if (mode !== 0 && mode !== 0x49 && mode !== 0x2b && mode !== 0x44 && mode !== 0x2d) {
        sink.replyLine('CLIENT_ERROR invalid mode for ma M token');
        return next;
      }
    } else if (op === 'md' && longOpaque) {
      sink.replyLine(ERR_LONG_OPAQUE);
      return next;
    }
    if (vlen > RequestParser.maxValueBytes) return this.skipValue(buf, next, vlen + 2, ERR_TOO_LARGE);
    const wireKey = key === null ? null : view(buf, ks, ke);
    if (key === null) key = view(buf, ks, ke);
    // tail = everything after the key (after datalen for ms), minus the q token.
    let tail: Buffer;
    if (qTok === -1) {
      tail = view(buf, ke, end);
    } else {
      // Drop the q token and the spaces before it (the token before it is the key, datalen or a flag).
      const cut = this.te(qTok - 1);
      const qe = this.te(qTok);
      tail = cut === ke ? view(buf, qe, end) : Buffer.concat([buf.subarray(ke, cut), buf.subarray(qe, end)]);
    }
    const head = view(buf, start, ks);
    if (vlen < 0) {
      const req = new Request(op, key, head, tail, null, quiet, exptime);
      if (wireKey !== null) req.wireKey = wireKey;
      if (quiet && vivify && op === 'ma') req.quietUpstream = true;
      this.sink.request(req);
      return next;
    }
    const p: PendingValue = { op, key, head, tail, quiet, exptime, need: vlen + 2, wireKey };
    return this.readValue(p, buf, next);
  }

  /** `me <key> [b]`: memcached's debug command reads no flags but a `b` right after the key. */
  private metaDebug(buf: Buffer, n: number, start: number, end: number, next: number): number {
    if (n < 2 || this.te(1) - this.ts(1) > KEY_MAX_LENGTH) {
      this.sink.replyLine(ERR_FORMAT);
      return next;
    }
    const ks = this.ts(1);
    const ke = this.te(1);
    let key = view(buf, ks, ke);
    let wireKey: Buffer | null = null;
    if (n >= 3 && this.te(2) - this.ts(2) === 1 && buf[this.ts(2)] === 0x62) {
      const decoded = decodeBase64Key(buf, ks, ke);
      if (decoded === null) {
        this.sink.replyLine(ERR_FORMAT);
        return next;
      }
      wireKey = key;
      key = decoded;
    }
    const req = new Request('me', key, view(buf, start, ks), view(buf, ke, end), null, false, 0);
    if (wireKey !== null) req.wireKey = wireKey;
    this.sink.request(req);
    return next;
  }

  /** Skip `need` bytes of data (a value we will not forward), then reply `line`. */
  private skipValue(buf: Buffer, pos: number, need: number, line: string | null): number {
    if (line !== null) this.sink.replyLine(line);
    const avail = buf.length - pos;
    if (avail >= need) return pos + need;
    this.skipRemaining = need - avail;
    return buf.length;
  }

  private skipRemaining = 0;
}

const HEAD_GET = Buffer.from('get ');
const HEAD_GETS = Buffer.from('gets ');

function verbIs(buf: Buffer, s: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word.charCodeAt(i)) return false;
  return true;
}

function isGetPrefix(buf: Buffer, pos: number, len: number): boolean {
  // "get " / "gets " / "gat " / "gats " lines may exceed MAX_LINE_LENGTH (large multi-gets).
  if (len - pos < 4) return false;
  if (buf[pos] !== 0x67) return false;
  const b1 = buf[pos + 1];
  const b2 = buf[pos + 2];
  if (b2 !== 0x74 || (b1 !== 0x65 && b1 !== 0x61)) return false;
  const b3 = buf[pos + 3];
  return b3 === SP || (b3 === 0x73 && buf[pos + 4] === SP);
}
