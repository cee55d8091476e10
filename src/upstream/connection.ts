/**
 * One pipelined TCP connection to a memcached server.
 *
 * Requests are written in FIFO order and replies are matched to the head of the queue:
 *
 *     head                         unwritten
 *      v                               v
 *   | done/zombie | in flight ... | queued for this turn's write |
 *
 * - Writes are coalesced: everything enqueued during one event-loop turn goes out in one socket.write
 *   (see flush-scheduler.ts). Consecutive get/gets/gat/gats requests with the same command head are
 *   merged into one multi-key line (up to MAX_BATCH_KEYS), and so are consecutive KeyBatch entries (a
 *   client multi-get's keys for this server, queued as one entry by sendBatch); the VALUE stream is
 *   split back per key by matching keys in order (one matcher for both kinds of entry).
 * - Reply bytes are framed by reply-parser.ts (units as positions in the read buffer, nothing copied);
 *   this file keeps the read buffers and matches each unit to the request(s) at the head of the queue.
 * - One timer per connection: it is armed for the oldest unanswered request's deadline, and on expiry
 *   fails every expired request with `timeout`. Expired entries stay in the queue as zombies whose late
 *   replies are read and dropped, so the connection stays in sync; a connection whose oldest zombie is
 *   more than another full timeout late is reset.
 * - An error line (`ERROR`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`) in place of the expected reply is that
 *   request's answer (for a get line: the answer of every key the reply has not reached yet), and the
 *   next reply goes to the next request as usual.
 * - Bytes that cannot be framed as a reply to the request at the head reset the connection and fail
 *   everything in flight with `SERVER_ERROR` (remote_error). So do a socket error, the server closing, and
 *   a server silent for two timeouts. Each reset is reported once, with its cause (ResetCause), through
 *   ConnectionEvents.onReset. A connect failure fails the queue with connect_error / connect_timeout (a
 *   connect error, not a reset).
 */
import net from 'node:net';
import os from 'node:os';
import { isMultiKeyGet, Reply, type Request, type Result, type Op } from '../protocol/types.js';
import { bytesEqual, sameBytes, view } from '../protocol/bytes.js';
import { acquireBlock, releaseBlock } from '../protocol/block-pool.js';
import { isReplyUnread } from './destination.js';
import { tick } from '../clock.js';
import { batchAdd, batchAddAfterSpace, batchAddRange, batchAddRangeAfterSpace, batchWrite } from './write-batch.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { INCOMPLETE, parseGetUnit, parseLineUnit, parseStatsUnit, ReplyKind, ReplyUnit } from './reply-parser.js';

export type EntryCallback = (reply: Reply) => void;

/**
 * Optional per-request bookkeeping run when an entry finishes (instead of calling `done` directly), so
 * the owner (the destination's accounting) needs no closure per request.
 */
export interface EntryOwner {
  entryDone(req: Request, started: number, reply: Reply, done: EntryCallback): void;
  /**
   * The same bookkeeping for keys [from, to) of a KeyBatch: `found` of them were hits, the others got
   * `result`. Called a few times per batch, not per key (see Entry.accounted).
   */
  keysDone(batch: KeyBatch, from: number, to: number, found: number, result: Result, started: number): void;
}

/**
 * Receives the outcome of the keys of a KeyBatch (a client multi-get), identified by the caller's tags,
 * without a Reply object or a Buffer view per hit.
 */
export interface KeySink {
  /**
   * A hit: the `VALUE <key> ...\r\n<data>\r\n` block is `buf[start, end)`. Read buffers are never
   * reused, so the range stays valid for as long as the sink keeps `buf`.
   */
  keyHit(tag: number, buf: Buffer, start: number, end: number): void;
  /** Anything else: a miss (`notfound`) or an error result. */
  keyReply(tag: number, reply: Reply): void;
}

/**
 * Keys of one client multi-get for one destination, as ranges of the client's read buffer (never reused,
 * so the ranges stay valid): one queue entry, written into a get line shared with the batches queued next
 * to it (at most MAX_BATCH_KEYS keys a line), answered key by key through `sink` under each key's tag. No
 * Request, Entry or Buffer view per key.
 */
export class KeyBatch {
  n = 0;
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly tags: number[] = [];
  constructor(
    /** `get ` or `gets `: the command head written before the keys. */
    readonly head: Buffer,
    readonly buf: Buffer,
    readonly sink: KeySink,
  ) {}

  add(start: number, end: number, tag: number): void {
    this.starts.push(start);
    this.ends.push(end);
    this.tags.push(tag);
    this.n++;
  }
}

function noCallback(): void {}

/**
 * Reply bytes for a log line: at most `max` bytes, printable ASCII as is, `\r` `\n` `\\` escaped, anything
 * else as `\xNN`; `...(N bytes)` marks a cut.
 */
export function printableBytes(bytes: Buffer, max = 64): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c === 0x0d) s += '\\r';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  if (bytes.length > max) s += `...(${bytes.length} bytes)`;
  return s;
}

/** Max keys merged into one upstream get line. */
export const MAX_BATCH_KEYS = 100;

const CRLF = Buffer.from('\r\n');
/** Ends the line of a Request.quietUpstream request: quiet mode upstream, then a no-op that always answers. */
const QUIET_THEN_MN = Buffer.from(' q\r\nmn\r\n');
const EMPTY = Buffer.alloc(0);

class Entry {
  /** Set once the callback has run (reply, timeout or failure); for a batch, once its END (or error) came. */
  finished = false;
  /**
   * A get entry's (a batch's, or a single key's) first key the reply has not reached yet. Keys before it
   * are answered (hits and misses, in order); a finished entry's keys are all answered, and its late reply
   * only moves this cursor. A Request.quietUpstream entry: 1 once its reply came and only the MN after it
   * is left.
   */
  next = 0;
  /** For the first entry of a merged get line: number of entries in the group; else 0 (or 1 alone). */
  group = 1;
  /**
   * When the request times out (connection clock, ms); 0 until it is written. Stamped once per flush for
   * the whole batch, so queueing a request reads no clock (Date.now() per key was ~4% of a 100-key get).
   */
  deadline = 0;
  /**
   * A batch entry's owner bookkeeping runs per run of keys, not per key (per hit it was ~4 % of a 100-key
   * get): keys before `accounted` are accounted; of the answered keys after it, `hits` were hits and the
   * rest misses. The run is accounted when the batch's last key is answered, or before an error answers
   * the keys left, so the owner's counters are complete before the sink's last callback.
   */
  accounted = 0;
  hits = 0;
  constructor(
    /** The request; null for a batch entry. */
    readonly req: Request | null,
    /** The key written upstream (routing prefix already stripped by the caller when needed). */
    readonly key: Buffer,
    readonly done: EntryCallback,
    readonly timeoutMs: number,
    readonly owner: EntryOwner | null,
    /** Owner's start time (turn clock), passed back to it. */
    readonly started: number,
    /** The keys of a sendBatch entry (then `req` is null and `done` unused). */
    readonly batch: KeyBatch | null,
  ) {}
}

/** Answer every key of `e` the reply has not reached (all of a request's one) with `reply`. */
function finishEntry(e: Entry, reply: Reply): void {
  const b = e.batch;
  if (b !== null) answerKeys(e, b, e.next, b.n, reply);
  else answerRequest(e, reply);
}

function answerRequest(e: Entry, reply: Reply): void {
  if (e.owner !== null) e.owner.entryDone(e.req as Request, e.started, reply, e.done);
  else e.done(reply);
}

/** Answer keys [from, to) of a batch entry with `reply`. */
function answerKeys(e: Entry, b: KeyBatch, from: number, to: number, reply: Reply): void {
  if (from >= to) return;
  const owner = e.owner;
  if (owner !== null) {
    if (reply.result === 'notfound') {
      if (to === b.n) accountKeys(owner, e, b, to);
    } else {
      accountKeys(owner, e, b, from);
      owner.keysDone(b, from, to, 0, reply.result, e.started);
      e.accounted = to;
    }
  }
  const sink = b.sink;
  const tags = b.tags;
  for (let m = from; m < to; m++) sink.keyReply(tags[m] as number, reply);
}

/** Account the answered keys [e.accounted, to) of a batch entry: e.hits hits, the others misses. */
function accountKeys(owner: EntryOwner, e: Entry, b: KeyBatch, to: number): void {
  if (e.accounted >= to) return;
  owner.keysDone(b, e.accounted, to, e.hits, 'notfound', e.started);
  e.accounted = to;
  e.hits = 0;
}

/** Keys of a get entry: a batch's, or a single request's one. */
function keyCount(e: Entry): number {
  return e.batch === null ? 1 : e.batch.n;
}

/** Keys [e.next, to) of an unfinished get entry were misses. */
function missKeys(e: Entry, to: number): void {
  const b = e.batch;
  if (b !== null) answerKeys(e, b, e.next, to, MISS);
  else if (e.next < to) {
    e.finished = true;
    answerRequest(e, MISS);
  }
}

/** Key `k` of an unfinished get entry is a hit: its VALUE block is buf[start, end). */
function hitKey(e: Entry, k: number, buf: Buffer, start: number, end: number): void {
  const b = e.batch;
  if (b === null) {
    e.finished = true;
    answerRequest(e, Reply.hit(view(buf, start, end)));
    return;
  }
  e.hits++;
  if (k + 1 === b.n && e.owner !== null) accountKeys(e.owner, e, b, b.n);
  b.sink.keyHit(b.tags[k] as number, buf, start, end);
}

/** Classic gets to one destination are batched into one `get k1 k2 …` line; every other op goes alone. */
function isBatchable(op: Op): boolean {
  return isMultiKeyGet(op);
}

/**
 * Why an established connection was torn down (closed set: the `cause` label of
 * mcrelay_upstream_connection_resets_total):
 * - unexpected_data: reply bytes while no request was waiting for one;
 * - unknown_reply: a line that is no reply to the request at the head (e.g. `STORED` to an `mg`);
 * - bad_value: a malformed VALUE/VA header (bad token, a size over memcached's 1 GB item limit) or a data
 *   block not ended by `\r\n`;
 * - unrequested_key: a VALUE block for a key the get line did not ask for;
 * - line_too_long: over 64 KB without a line end;
 * - zombie_timeout: requests timed out and the server then stayed silent for another full timeout;
 * - remote_closed: the server closed the connection;
 * - socket_error: the socket failed (ECONNRESET, EPIPE, ...);
 * - proxy_closed: mcrelay closed the connection while requests were still outstanding (destination closed).
 */
export type ResetCause =
  | 'unexpected_data' | 'unknown_reply' | 'bad_value' | 'unrequested_key' | 'line_too_long'
  | 'zombie_timeout' | 'remote_closed' | 'socket_error' | 'proxy_closed';

export const RESET_CAUSES: readonly ResetCause[] = [
  'unexpected_data', 'unknown_reply', 'bad_value', 'unrequested_key', 'line_too_long',
  'zombie_timeout', 'remote_closed', 'socket_error', 'proxy_closed',
];

export interface ConnectionEvents {
  /** The connection could not be established (hard TKO material). */
  onConnectError(result: Result, message: string): void;
  /** A request got a timeout (soft TKO material). */
  onTimeout(): void;
  /** A reply arrived (any reply: the server is alive). */
  onReply(): void;
  /** The connection is established. */
  onUp?(): void;
  /** The connection closed; the destination may drop it. */
  onClose(conn: Connection): void;
  /**
   * The connection was reset: it had connected, and it was torn down other than by a graceful close with
   * nothing outstanding. Fires once, after the failed requests' callbacks and before onClose. `bytes`:
   * for the protocol causes, the input from where framing failed (a view; copy what you keep), else null.
   * `failed`: requests failed by the reset (each unanswered key of a batch counts; zombies do not).
   */
  onReset?(cause: ResetCause, bytes: Buffer | null, failed: number): void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  /**
   * The server as mcrouter's AccessPoint::toString names it (`host:port:ascii:plain:notcompressed`), for the
   * text of read and write errors; default `host:port`.
   */
  endpoint?: string;
  connectTimeoutMs: number;
  keepAlive: boolean;
  /** TCP keepalive idle time before the first probe (mcrouter -I), when keepAlive is on. Default 60 s. */
  keepAliveIdleMs?: number;
  /** Optional socket factory (TLS wraps here). */
  connect?: (host: string, port: number) => net.Socket;
}

export class Connection implements Flushable {
  flushQueued = false;
  private socket: net.Socket | null = null;
  private connected = false;
  private closed = false;
  /** FIFO of entries; `head` is the index of the oldest entry still expecting a reply. */
  private queue: Entry[] = [];
  private head = 0;
  /** Index of the first entry not yet written. */
  private unwritten = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Reply parser state. */
  private rest: Buffer = EMPTY;
  private valueChunks: Buffer[] = [];
  private valueBytes = 0;
  private valueNeed = 0;
  /**
   * Inside the reply to a get line (a group of get entries, from the head to groupEnd): the entry whose
   * `next` key the reply has reached; -1 between groups.
   */
  private groupCursor = -1;
  private groupEnd = -1;
  /** What the reply parser found in the last unit (reused for every unit). */
  private readonly unit = new ReplyUnit();
  /** Keys beyond the first of every queued batch entry (so `outstanding` counts keys). */
  private batchExtraKeys = 0;
  /** connectionClock() of the last write or received bytes (idle-connection reset). */
  lastActivity = connectionClock();
  /** Set by retire(): close as soon as nothing is outstanding (address moved, draining). */
  private retiring = false;
  /**
   * Plain TCP sockets read through `onread` into buffers chosen here (see readBuffer): a bump-allocated
   * arena for ordinary replies, and for a large value block an exact-size buffer the kernel fills
   * directly, so big values are neither read into 64 KB chunks nor concatenated.
   */
  private userBuffers = false;
  private arena: Buffer = EMPTY;
  private arenaOff = 0;
  /** The completed large reply block being parsed (during onData only), else null. */
  private parsingBlock: Buffer | null = null;
  /** The incomplete large reply block being read in place, and how many of its bytes arrived. */
  private block: Buffer | null = null;
  private blockHave = 0;
  /**
   * Most bytes one arena read may take. After a large value it drops to SMALL_READ, so the next large
   * value's header arrives with few of its bytes (which are copied into its block) and the kernel writes
   * the rest straight into the block; a read that fills the cap doubles it again, so a stream of small
   * replies is back to full-size reads within a few reads.
   */
  private readCap = ARENA_SIZE;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {}

  /** Number of requests (keys, for batches) sent or queued that still expect a reply (zombies included). */
  get outstanding(): number {
    return this.queue.length - this.head + this.batchExtraKeys;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queue a request; `key` is what goes on the wire in the key position. */
  send(req: Request, key: Buffer, timeoutMs: number, done: EntryCallback, owner: EntryOwner | null = null, started = 0): void {
    if (this.closed) {
      const reply = new Reply('remote_error', null, 'connection closed');
      if (owner !== null) owner.entryDone(req, started, reply, done);
      else done(reply);
      return;
    }
    // The deadline is stamped and the timer armed when the request is written (flush); until then a
    // request waiting for the connection is covered by the connect timeout.
    this.enqueue(new Entry(req, key, done, timeoutMs, owner, started, null));
  }

  /**
   * Queue a batch of get/gets keys (see KeyBatch), written into one get line with the batches around it;
   * each key's outcome goes to the batch's sink. Timeouts and failures answer every key not answered yet.
   */
  sendBatch(batch: KeyBatch, timeoutMs: number, owner: EntryOwner | null, started: number): void {
    const e = new Entry(null, EMPTY, noCallback, timeoutMs, owner, started, batch);
    if (this.closed) {
      e.finished = true;
      finishEntry(e, new Reply('remote_error', null, 'connection closed'));
      return;
    }
    this.batchExtraKeys += batch.n - 1;
    this.enqueue(e);
  }

  private enqueue(e: Entry): void {
    this.queue.push(e);
    if (this.socket === null) this.open();
    if (this.connected) scheduleFlush(this);
  }

  private open(): void {
    const { host, port } = this.opts;
    let sock: net.Socket;
    if (this.opts.connect) {
      sock = this.opts.connect(host, port);
      sock.on('data', (chunk: Buffer) => this.onData(chunk));
    } else {
      this.userBuffers = true;
      sock = net.connect({
        host,
        port,
        onread: {
          buffer: () => this.readBuffer(),
          callback: (n: number) => {
            this.onRead(n);
            return true;
          },
        },
      });
    }
    this.socket = sock;
    sock.setNoDelay(true);
    if (this.opts.keepAlive) sock.setKeepAlive(true, this.opts.keepAliveIdleMs ?? 60_000);
    const connectTimer = setTimeout(() => {
      if (!this.connected) this.fail('connect_timeout', connectTimeoutText(this.opts.connectTimeoutMs), true, null, null);
    }, this.opts.connectTimeoutMs);
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      if (this.closed) return;
      this.connected = true;
      this.events.onUp?.();
      if (this.unwritten < this.queue.length) scheduleFlush(this);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (!this.connected) {
        this.fail('connect_error', connectErrorText(err, this.opts), true, null, null);
      } else {
        this.fail('remote_error', socketErrorText(err, this.opts), false, 'socket_error', null);
      }
    });
    sock.on('close', () => {
      clearTimeout(connectTimer);
      if (this.closed) return;
      if (this.connected) this.fail('remote_error', CLOSED_BY_SERVER, false, 'remote_closed', null);
      else this.fail('connect_error', 'AsyncSocketException: connect failed, type = Socket not open', true, null, null);
    });
  }

  /** Write everything enqueued since the last flush, merging get lines. */
  flush(): void {
    const sock = this.socket;
    if (sock === null || !this.connected || this.closed) return;
    const q = this.queue;
    const end = q.length;
    let i = this.unwritten;
    if (i >= end) return;
    const now = connectionClock();
    this.lastActivity = now;
    for (let k = i; k < end; k++) {
      const e = q[k] as Entry;
      e.deadline = now + e.timeoutMs;
    }
    if (this.timer === null) this.armTimer((q[i] as Entry).deadline, now);
    while (i < end) {
      const e = q[i] as Entry;
      // An entry that timed out before it was written is still written (keeps FIFO simple); its reply
      // is dropped.
      const b = e.batch;
      if (b !== null) {
        // Following batches with the same head (other clients' multi-gets) share the line, up to
        // MAX_BATCH_KEYS keys: fewer, longer get lines cost the server less.
        let j = i + 1;
        let keys = b.n;
        while (j < end) {
          const b2 = (q[j] as Entry).batch;
          if (b2 === null || keys + b2.n > MAX_BATCH_KEYS || !sameBytes(b2.head, b.head)) break;
          keys += b2.n;
          j++;
        }
        e.group = j - i;
        batchAdd(b.head);
        batchAddRange(b.buf, b.starts[0] as number, b.ends[0] as number);
        for (let k = 1; k < b.n; k++) batchAddRangeAfterSpace(b.buf, b.starts[k] as number, b.ends[k] as number);
        for (let m = i + 1; m < j; m++) {
          const em = q[m] as Entry;
          em.group = 0;
          const bm = em.batch as KeyBatch;
          for (let k = 0; k < bm.n; k++) batchAddRangeAfterSpace(bm.buf, bm.starts[k] as number, bm.ends[k] as number);
        }
        batchAdd(CRLF);
        i = j;
        continue;
      }
      const req = e.req as Request;
      if (isBatchable(req.op)) {
        // Merge following single-key entries with the same op and head into one line.
        let j = i + 1;
        while (j < end && j - i < MAX_BATCH_KEYS) {
          const r2 = (q[j] as Entry).req;
          if (r2 === null || r2.op !== req.op || !sameBytes(r2.head, req.head)) break;
          j++;
        }
        e.group = j - i;
        batchAdd(req.head);
        batchAdd(e.key);
        for (let k = i + 1; k < j; k++) {
          const ek = q[k] as Entry;
          ek.group = 0;
          batchAddAfterSpace(ek.key);
        }
        batchAdd(CRLF);
        i = j;
        continue;
      }
      batchAdd(req.head);
      batchAdd(e.key);
      batchAdd(req.tail);
      batchAdd(req.quietUpstream ? QUIET_THEN_MN : CRLF);
      if (req.value !== null) {
        batchAdd(req.value);
        batchAdd(CRLF);
      }
      i++;
    }
    this.unwritten = end;
    batchWrite(sock);
  }

  private armTimer(at: number, now: number): void {
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, at - now));
  }

  private onTimer(): void {
    this.timer = null;
    if (this.closed) return;
    const now = connectionClock();
    const q = this.queue;
    let i = this.head;
    let expired = 0;
    // Fail every unanswered entry whose deadline passed (they stay queued as zombies).
    for (; i < q.length; i++) {
      const e = q[i] as Entry;
      if (e.finished) continue;
      if (e.deadline === 0 || e.deadline > now) break; // 0: not written yet (stamped at flush)
      e.finished = true;
      expired++;
      // Each timed-out request (each key of a batch) counts toward soft TKO (mcrouter counts per reply, not
      // per timer tick).
      const keys = e.batch === null ? 1 : e.batch.n - e.next;
      finishEntry(e, REPLY_TIMEOUT);
      for (let k = 0; k < keys; k++) this.events.onTimeout();
    }
    const headEntry = q[this.head];
    if (headEntry !== undefined && headEntry.finished && now - headEntry.deadline > this.opts.connectTimeoutMs) {
      // The server has been silent for two timeouts: stop waiting for late replies.
      this.fail('timeout', null, false, 'zombie_timeout', null);
      return;
    }
    // Re-arm for the next unanswered entry.
    for (let k = this.head; k < q.length; k++) {
      const e = q[k] as Entry;
      if (!e.finished) {
        // An unwritten entry (deadline 0) gets the timer armed when flush() stamps it.
        if (e.deadline !== 0) this.armTimer(e.deadline, now);
        return;
      }
    }
    if (this.head < q.length) {
      // Only zombies left: check again after a timeout to reset if the server stays silent.
      this.armTimer(now + this.opts.connectTimeoutMs, now);
    }
  }

  /**
   * Fail every queued entry and close. `cause`: why, when this is a reset (see ResetCause; null for a
   * connect failure); `proxy_closed` is only reported when something was outstanding.
   */
  private fail(result: Result, message: string | null, isConnectFailure: boolean, cause: ResetCause | null, bytes: Buffer | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const sock = this.socket;
    this.socket = null;
    if (sock !== null) {
      sock.removeAllListeners('data');
      sock.on('error', () => {});
      sock.destroy();
    }
    const q = this.queue;
    const start = this.head;
    this.queue = [];
    this.head = 0;
    this.unwritten = 0;
    this.batchExtraKeys = 0;
    if (isConnectFailure) this.events.onConnectError(result, message ?? result);
    const reply = new Reply(result, null, message);
    const timedOut = result === 'timeout';
    let failed = 0;
    for (let i = start; i < q.length; i++) {
      const e = q[i] as Entry;
      if (!e.finished) {
        e.finished = true;
        failed += e.batch === null ? 1 : e.batch.n - e.next;
        // A reset of a silent server: what was written timed out waiting for its reply, the rest in the queue.
        finishEntry(e, timedOut ? (e.deadline === 0 ? CLIENT_QUEUE_TIMEOUT : REPLY_TIMEOUT) : reply);
      }
    }
    if (cause !== null && this.connected && (cause !== 'proxy_closed' || failed > 0) && this.events.onReset !== undefined) {
      this.events.onReset(cause, bytes, failed);
    }
    this.events.onClose(this);
  }

  /**
   * Take no new requests (the owner stops handing them out) and close once every outstanding request
   * is answered or timed out. Used when a hostname's address moved and when draining.
   */
  retire(): void {
    this.retiring = true;
    if (this.outstanding === 0) this.close();
  }

  /** Close gracefully: stop accepting, fail nothing that has already been answered. */
  close(): void {
    this.fail('remote_error', 'connection closed by proxy', false, 'proxy_closed', null);
  }

  // ---------------------------------------------------------------- reply parsing

  /**
   * Where the next read goes (onread mode; called after every read). Reply bytes stay referenced by
   * Replies after the read, so an arena is only ever bumped forward, never reused.
   */
  private readBuffer(): Buffer {
    const b = this.block;
    if (b !== null) return b.subarray(this.blockHave);
    if (this.arena.length - this.arenaOff < ARENA_MIN_FREE) {
      // A partial reply at the end of the old arena moves to the start of the new one, so the next read
      // lands right behind it and the two need no concatenation (see onRead).
      const rest = this.rest;
      const arena = Buffer.allocUnsafeSlow(Math.max(ARENA_SIZE, 2 * rest.length + ARENA_MIN_FREE));
      rest.copy(arena, 0);
      this.arena = arena;
      this.arenaOff = rest.length;
      if (rest.length > 0) this.rest = arena.subarray(0, rest.length);
    }
    const off = this.arenaOff;
    return this.arena.subarray(off, Math.min(this.arena.length, off + this.readCap));
  }

  /** onread mode: `n` bytes arrived in the buffer readBuffer() returned last. */
  private onRead(n: number): void {
    const b = this.block;
    if (b !== null) {
      this.blockHave += n;
      if (this.blockHave < b.length) {
        this.lastActivity = tick();
        return;
      }
      this.block = null;
      this.blockHave = 0;
      this.readCap = SMALL_READ;
      this.parsingBlock = b;
      this.onData(b);
      this.parsingBlock = null;
      return;
    }
    const start = this.arenaOff;
    this.arenaOff = start + n;
    if (n >= this.readCap && this.readCap < ARENA_SIZE) this.readCap *= 2;
    // In onread mode a partial reply (`rest`) always ends exactly where this read began (readBuffer keeps
    // it so), so rest + new bytes is one view of the arena: no copy.
    const restLen = this.rest.length;
    this.rest = EMPTY;
    this.onData(this.arena.subarray(start - restLen, start + n));
  }

  private onData(chunk: Buffer): void {
    const now = tick();
    if (this.closed) return;
    this.lastActivity = now;
    this.events.onReply();
    if (this.valueNeed > 0) {
      this.valueChunks.push(chunk);
      this.valueBytes += chunk.length;
      if (this.valueBytes < this.valueNeed) return;
      chunk = Buffer.concat(this.valueChunks, this.valueBytes);
      this.valueChunks = [];
      this.valueBytes = 0;
      this.valueNeed = 0;
    } else if (this.rest.length > 0) {
      chunk = Buffer.concat([this.rest, chunk]);
      this.rest = EMPTY;
    }
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      const consumed = this.parseOne(chunk, pos);
      if (consumed < 0) {
        // Incomplete: keep from pos. For a value, wait until -consumed bytes are available.
        const need = -consumed;
        const tail = chunk.subarray(pos);
        if (need > tail.length && need > 4096 && need <= EXACT_BLOCK_MAX && this.userBuffers) {
          // Read the rest of the block straight into a buffer of its exact size (see readBuffer). Bigger
          // announced sizes collect the bytes as they arrive instead: memory follows what the server sent,
          // not what its header claims.
          // A pooled block: the client session gives it back once its bytes are written (block-pool.ts).
          const b = acquireBlock(need);
          tail.copy(b, 0);
          this.block = b;
          this.blockHave = tail.length;
        } else if (need > tail.length && need > 4096) {
          this.valueChunks = [tail];
          this.valueBytes = tail.length;
          this.valueNeed = need;
        } else {
          this.rest = tail;
        }
        break;
      }
      if (this.closed) return;
      pos = consumed;
    }
    // Drop answered entries: they keep their requests (and a batch its whole multi-get with the read buffers
    // it points into) alive. Usually everything sent was answered and the queue simply starts over.
    const head = this.head;
    if (head > 0 && (head === this.queue.length || (head > 64 && head * 2 > this.queue.length))) {
      this.queue = head === this.queue.length ? [] : this.queue.slice(head);
      this.unwritten -= this.head;
      if (this.groupCursor >= 0) {
        this.groupCursor -= this.head;
        this.groupEnd -= this.head;
      }
      this.head = 0;
    }
    if (this.retiring && this.outstanding === 0) this.close();
  }

  /**
   * Bytes that cannot be framed: reset and fail in-flight requests. `pos` is where the reply unit that
   * failed starts (reported with the reset).
   */
  private protocolError(cause: ResetCause, what: string, buf: Buffer, pos: number): number {
    this.fail('remote_error', `bad reply from server: ${what}`, false, cause, buf.subarray(pos));
    return Number.MAX_SAFE_INTEGER;
  }

  /** The reply parser found no complete unit at `pos` (`code`: INCOMPLETE or MALFORMED): see parseOne. */
  private noUnit(code: number, buf: Buffer, pos: number): number {
    const u = this.unit;
    if (code === INCOMPLETE) return u.need > 0 ? -u.need : -1;
    return this.protocolError(u.fault, u.what, buf, pos);
  }

  /**
   * Parse one reply unit at `pos` and answer the request(s) it is for. Returns the new position, or a
   * negative number when incomplete (minus the total bytes needed from `pos`, or -1 when unknown).
   */
  private parseOne(buf: Buffer, pos: number): number {
    const entry = this.queue[this.head];
    if (entry === undefined) return this.protocolError('unexpected_data', 'unexpected data', buf, pos);
    const req = entry.req;
    if (req === null || isBatchable(req.op)) return this.getReply(buf, pos);
    const op = req.op;
    const u = this.unit;
    // Request.quietUpstream: nothing or one reply, then the MN of the mn sent after it. `next` is 1 on the
    // entry once its reply came and only the MN is left (then a VA line is no reply either).
    const quietUpstream = req.quietUpstream;
    const end = op === 'stats' ? parseStatsUnit(buf, pos, u) : parseLineUnit(buf, pos, u, (op === 'mg' || op === 'ma') && entry.next === 0);
    if (end < 0) return this.noUnit(end, buf, pos);
    const kind = u.kind;
    if (quietUpstream) {
      const isMn = kind === ReplyKind.MN && u.lineEnd - pos === 2;
      if (entry.next === 1 || isMn) {
        if (!isMn) return this.protocolError('unknown_reply', `reply to ${op} q before its mn`, buf, pos);
        this.head++;
        if (entry.next === 0) this.complete(entry, QUIET_NOTHING);
        return end;
      }
    }
    const result = kind === ReplyKind.VA ? 'found' : resultOf(op, kind);
    if (result === null) return this.protocolError('unknown_reply', `reply to ${op}`, buf, pos);
    if (quietUpstream) entry.next = 1;
    else this.head++;
    this.complete(entry, new Reply(result, view(buf, pos, end)));
    return end;
  }

  /*
   * The reply to a get line. A group is the entries that share one get line (flush merges consecutive
   * single-key get entries, or consecutive KeyBatch entries): it runs from the head entry to groupEnd, and
   * its keys are the entries' keys in order (one for a single-key entry, the batch's for a batch). The
   * reply is VALUE blocks in key order, for the keys that hit, then END:
   *
   *     groupCursor             groupEnd
   *          v                     v
   *   | answered | e: next key ... | next group
   *
   * A VALUE block is matched to the first key at or after the cursor with its bytes (keys passed over were
   * misses); END answers every key not reached as a miss, and an error line answers them with itself.
   * Finished (timed-out) entries' keys are still matched, to stay in step, but not answered again.
   */

  /** One unit of the reply to a get line: a VALUE block, END, or one error line for the whole group. */
  private getReply(buf: Buffer, pos: number): number {
    const q = this.queue;
    if (this.groupCursor < 0) {
      this.groupCursor = this.head;
      this.groupEnd = this.head + Math.max(1, (q[this.head] as Entry).group);
    }
    // Usually a block is for the first key not reached yet: the parser compares that key in place.
    const groupEnd = this.groupEnd;
    let c = this.groupCursor;
    let e = q[c] as Entry;
    while (e.next >= keyCount(e) && c + 1 < groupEnd) e = q[++c] as Entry;
    let hint: Buffer | null = null;
    let hintStart = 0;
    let hintLength = 0;
    const b = e.batch;
    if (b === null) {
      if (e.next === 0) {
        hint = e.key;
        hintLength = hint.length;
      }
    } else if (e.next < b.n) {
      hint = b.buf;
      hintStart = b.starts[e.next] as number;
      hintLength = (b.ends[e.next] as number) - hintStart;
    }
    const u = this.unit;
    const end = parseGetUnit(buf, pos, u, hint, hintStart, hintLength);
    if (end < 0) return this.noUnit(end, buf, pos);
    switch (u.kind) {
      case ReplyKind.VALUE:
        return this.valueBlock(buf, pos, end, c, e);
      case ReplyKind.END:
        this.endGroup(MISS);
        return end;
      case ReplyKind.ERROR:
      case ReplyKind.CLIENT_ERROR:
        this.endGroup(new Reply('client_error', buf.subarray(pos, end)));
        return end;
      case ReplyKind.SERVER_ERROR:
        this.endGroup(new Reply('remote_error', buf.subarray(pos, end)));
        return end;
      default:
        return this.protocolError('unknown_reply', 'get reply', buf, pos);
    }
  }

  /**
   * The VALUE block buf[pos, end) (this.unit describes it) in a get group, whose first key not reached yet
   * is key `e.next` of entry `c`: find the key it is for, answer the keys passed over as misses and that
   * key as a hit.
   */
  private valueBlock(buf: Buffer, pos: number, end: number, c: number, e: Entry): number {
    const q = this.queue;
    let k = e.next;
    const u = this.unit;
    if (!u.keyMatched) {
      // Not the hinted key (k): scan on from the key after it.
      const keyStart = u.keyStart;
      const keyLen = u.keyEnd - keyStart;
      k++;
      for (;;) {
        const b = e.batch;
        if (b === null) {
          if (k === 0 && e.key.length === keyLen && bytesEqual(buf, keyStart, e.key, 0, keyLen)) break;
        } else {
          while (k < b.n) {
            const s = b.starts[k] as number;
            if ((b.ends[k] as number) - s === keyLen && bytesEqual(buf, keyStart, b.buf, s, keyLen)) break;
            k++;
          }
          if (k < b.n) break;
        }
        if (++c >= this.groupEnd) return this.protocolError('unrequested_key', 'VALUE for a key not requested', buf, pos);
        e = q[c] as Entry;
        k = e.next;
      }
      // Entries passed over entirely: the rest of their keys were misses; so were e's keys before k.
      for (let m = this.groupCursor; m < c; m++) {
        const em = q[m] as Entry;
        const n = keyCount(em);
        if (!em.finished) missKeys(em, n);
        em.next = n;
      }
      if (!e.finished) missKeys(e, k);
    }
    this.groupCursor = c;
    e.next = k + 1;
    const answered = !e.finished;
    if (answered) hitKey(e, k, buf, pos, end);
    // A pooled block (it holds this VALUE block alone) that nobody got, or whose one reader declared it does
    // not read reply bytes (a shadow's or an async copy's completion): straight back to the pool.
    if (buf === this.parsingBlock && e.batch === null && (!answered || isReplyUnread(e.done))) releaseBlock(buf);
    return end;
  }

  /** The get group ended (END or an error line): every key not answered yet gets `reply`. */
  private endGroup(reply: Reply): void {
    const q = this.queue;
    const from = this.head;
    const to = this.groupEnd;
    // The queue is consistent before any callback runs (a callback may send again, or close).
    this.head = to;
    this.groupCursor = -1;
    this.groupEnd = -1;
    for (let m = from; m < to; m++) {
      const b = (q[m] as Entry).batch;
      if (b !== null) this.batchExtraKeys -= b.n - 1;
    }
    for (let m = from; m < to; m++) this.complete(q[m] as Entry, reply);
  }

  private complete(e: Entry, reply: Reply): void {
    if (e.finished) return;
    e.finished = true;
    finishEntry(e, reply);
  }
}

const MISS = new Reply('notfound', null);
/** A request written and not answered in time (mcrouter McClientRequestContext: "Reply timeout"). */
export const REPLY_TIMEOUT = new Reply('timeout', null, 'Reply timeout');
/** A request that timed out before it was written ("Client queue timeout"). */
export const CLIENT_QUEUE_TIMEOUT = new Reply('timeout', null, 'Client queue timeout');
/** The server closed the connection (mcrouter AsyncMcClientImpl::readEOF). */
const CLOSED_BY_SERVER = 'Connection closed by the server.';

/**
 * mcrouter's texts for socket failures (AsyncMcClientImpl::connectErr/readErr/writeErr, carrying folly's
 * AsyncSocketException text: `AsyncSocketException: <what>, type = <type>, errno = <n> (<strerror>)`).
 */
function connectTimeoutText(ms: number): string {
  return `Timed out when trying to connect to server. Ex: AsyncSocketException: connect timed out after ${ms}ms, type = Timed out`;
}

function connectErrorText(err: NodeJS.ErrnoException, o: ConnectionOptions): string {
  const code = err.code ?? '';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(code)) {
    return `SSLError: ${err.message}. Connect to ${o.host}:${o.port} failed.`;
  }
  return `AsyncSocketException: connect failed, type = Socket not open${errnoSuffix(err)}`;
}

function socketErrorText(err: NodeJS.ErrnoException, o: ConnectionOptions): string {
  const endpoint = o.endpoint ?? `${o.host}:${o.port}`;
  if (err.syscall === 'write') {
    return `Failed to write into socket with remote endpoint "${endpoint}", wrote 0 bytes. Exception: AsyncSocketException: write failed, type = Internal error${errnoSuffix(err)}`;
  }
  return `Failed to read from socket with remote endpoint "${endpoint}". Exception: AsyncSocketException: recv() failed, type = Internal error${errnoSuffix(err)}`;
}

/** glibc's strerror for the errors a socket meets (libuv's own texts are lower case). */
const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ECONNABORTED: 'Software caused connection abort',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EPIPE: 'Broken pipe',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EMFILE: 'Too many open files',
  ENOBUFS: 'No buffer space available',
};

function errnoSuffix(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  const n = typeof err.errno === 'number' ? Math.abs(err.errno) : (os.constants.errno as Record<string, number>)[code];
  if (n === undefined || n === 0) return '';
  return `, errno = ${n} (${STRERROR[code] ?? code})`;
}
/** A Request.quietUpstream request the upstream answered with silence: a success with no bytes to send. */
const QUIET_NOTHING = new Reply('found', EMPTY);

/**
 * The clock for deadlines and idle times: performance.now(), the base the turn clock (clock.ts) uses, so
 * a reply chunk's tick() doubles as the activity stamp.
 */
export function connectionClock(): number {
  return performance.now();
}

/** Largest block read into a buffer of its announced size up front (onread mode). */
const EXACT_BLOCK_MAX = 16 * 1024 * 1024;
/** The arena read cap right after a large value (see Connection.readCap). */
const SMALL_READ = 4 * 1024;

/** onread arenas: size, and the free space below which the next read gets a fresh arena. */
const ARENA_SIZE = 64 * 1024;
const ARENA_MIN_FREE = 16 * 1024;

/**
 * What a reply line of `kind` means for a request of `op` (not a get), or null when it is no reply to it:
 * an error line answers any request; meta requests take the two-letter codes, incr/decr a number or
 * NOT_FOUND, the other classic requests the classic words.
 */
function resultOf(op: Op, kind: ReplyKind): Result | null {
  switch (kind) {
    case ReplyKind.ERROR:
    case ReplyKind.CLIENT_ERROR:
      return 'client_error';
    case ReplyKind.SERVER_ERROR:
      return 'remote_error';
  }
  switch (op) {
    case 'mg': case 'ms': case 'md': case 'ma': case 'me': case 'mn':
      switch (kind) {
        case ReplyKind.HD: return op === 'ms' ? 'stored' : op === 'md' ? 'deleted' : 'found';
        case ReplyKind.EN: return 'notfound';
        case ReplyKind.NF: return 'notfound';
        case ReplyKind.NS: return 'notstored';
        case ReplyKind.EX: return 'exists';
        case ReplyKind.MN: return 'ok';
        case ReplyKind.ME: return 'found';
        default: return null;
      }
    case 'incr': case 'decr':
      if (kind === ReplyKind.NUMBER) return 'found';
      if (kind === ReplyKind.NOT_FOUND) return 'notfound';
      return null;
    case 'stats':
      return kind === ReplyKind.STATS || kind === ReplyKind.OK || kind === ReplyKind.RESET ? 'ok' : null;
    default:
      switch (kind) {
        case ReplyKind.STORED: return 'stored';
        case ReplyKind.NOT_FOUND: return 'notfound';
        case ReplyKind.NOT_STORED: return 'notstored';
        case ReplyKind.EXISTS: return 'exists';
        case ReplyKind.DELETED: return 'deleted';
        case ReplyKind.TOUCHED: return 'touched';
        case ReplyKind.OK: return 'ok';
        case ReplyKind.VERSION: return 'ok';
        default: return null;
      }
  }
}
