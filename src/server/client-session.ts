/**
 * One client connection: parse → route → replies in request order, one coalesced write per turn.
 *
 *   slots:  | written ... | head (waiting) | later (maybe already complete) |
 *
 * Every command gets a slot in arrival order. A slot completes when its reply (or, for a multi-get, all of
 * its per-key replies) arrived; complete slots at the head are rendered into the output buffer, which is
 * written once per event-loop turn. Upstreams may answer in any order across destinations; the client
 * always sees request order.
 *
 * Multi-get: each key is routed on its own. Keys whose route is just "this server, key unchanged" (a
 * plain pool) skip the route tree: the parser hands them over as ranges of the read buffer and they go out
 * as one KeyBatch per server (see multiGetKeys); every other key gets a Request and takes the tree. The
 * upstream connection writes consecutive gets for a server as one line. The client gets the hits in key
 * order and one END. If any key fails, the client gets that one error line instead (mcrouter
 * MultiOpParent semantics).
 *
 * Backpressure: reading pauses while more than `maxOutstanding` commands are unanswered or the socket's
 * unsent output passes `maxOutputBytes`, so a slow reader cannot grow mcrelay's memory without bound.
 */
import type net from 'node:net';
import { RequestParser, type LocalOp, type RequestSink } from '../protocol/request-parser.js';
import { FOUND_RESULT, isErrorResult, isMeta, isMultiKeyGet, opIndex, Reply, Request, type Op, type Result } from '../protocol/types.js';
import { tick, turnNow } from '../clock.js';
import { bytesEqual, view } from '../protocol/bytes.js';
import { releaseBlock } from '../protocol/block-pool.js';
import { readThroughSharedBuffer, SHARED_READS_ENABLED } from './client-reads.js';
import { BIG, batchAddRange, batchWrite } from '../upstream/write-batch.js';
import { KeyBatch, MAX_BATCH_KEYS, type KeySink } from '../upstream/connection.js';
import type { DirectTarget, RouteHandle } from '../routes/route-handle.js';
import { stageKeys, unstageKeys } from '../routes/hash/murmur64a-wasm.js';
import { scheduleFlush, type Flushable } from '../upstream/flush-scheduler.js';
import type { RequestObserver } from '../observe/events.js';
import type { RouterCore } from '../router/router-core.js';
import { renderError } from '../protocol/error-line.js';
import type { Sidecar } from './sidecar.js';

const END = Buffer.from('END\r\n');
const MN = Buffer.from('MN\r\n');
const OK = Buffer.from('OK\r\n');
const ADMIN_PREFIX = Buffer.from('__mcrouter__.');
const EMPTY = Buffer.alloc(0);

/**
 * One client multi-get in flight: each key's outcome by its index. Keys on the fast path (a KeyBatch per
 * destination) report hits as buffer ranges; the others get a Reply through keyReply. Keys parsed as
 * ranges of the client's read buffer get a Request only when one is needed (route tree, admin keys, a
 * /tap stream); observers see them as ranges (RequestObserver.onKeyRange).
 */
class MultiGet implements KeySink {
  remaining: number;
  readonly bufs: (Buffer | null)[];
  readonly starts: number[];
  readonly ends: number[];
  /**
   * Each key's Reply, for keys that took the route tree or were settled; made at the first such key (null:
   * every key is a fast-path hit or miss, the usual case).
   */
  replies: (Reply | null)[] | null = null;
  /** Each key's Request once made (all of them when the multi-get came as Requests); made at the first. */
  private reqs: (Request | null)[] | null = null;
  /** The fast-path hits' bytes so far, and whether one of them is BIG (counted as they come: see finishMulti). */
  hitBytes = 0;
  bigHit = false;
  /** Where each key is in `keyBuf` (ranges given) — empty when the multi-get came as Requests. */
  readonly keyStarts: number[];
  readonly keyEnds: number[];

  constructor(
    private readonly session: ClientSession,
    private readonly observer: RequestObserver | null,
    readonly slot: Slot,
    readonly op: Op,
    private readonly head: Buffer,
    private readonly keyBuf: Buffer,
    n: number,
    readonly started: number,
  ) {
    this.remaining = n;
    // Holey arrays, never filled (a hole reads as undefined, which every reader treats as null): fill() is
    // a C++ builtin call per array (1.6 % of a 100-key multi-get's CPU when five arrays were filled). Plain
    // arrays: an Int32Array of 100 entries is an off-heap (malloc'd) backing store per multi-get.
    this.bufs = new Array<Buffer | null>(n);
    this.starts = new Array<number>(n);
    this.ends = new Array<number>(n);
    // Filled in by multiGetKeys when the keys come as ranges (keyBuf not empty); else they stay empty.
    this.keyStarts = keyBuf.length === 0 ? [] : new Array<number>(n);
    this.keyEnds = keyBuf.length === 0 ? [] : new Array<number>(n);
  }

  get size(): number {
    return this.bufs.length;
  }

  request(tag: number): Request {
    const reqs = (this.reqs ??= new Array<Request | null>(this.bufs.length));
    let r = reqs[tag];
    if (r === null || r === undefined) {
      r = new Request(this.op, view(this.keyBuf, this.keyStarts[tag] as number, this.keyEnds[tag] as number), this.head, EMPTY, null, false, 0);
      r.client = this.session.clientId;
      reqs[tag] = r;
    }
    return r;
  }

  /** Key `tag`'s Request, given (a multi-get that came as Requests). */
  setRequest(tag: number, req: Request): void {
    (this.reqs ??= new Array<Request | null>(this.bufs.length))[tag] = req;
  }

  private setReply(tag: number, reply: Reply): void {
    (this.replies ??= new Array<Reply | null>(this.bufs.length))[tag] = reply;
  }

  keyHit(tag: number, buf: Buffer, start: number, end: number): void {
    this.bufs[tag] = buf;
    this.starts[tag] = start;
    this.ends[tag] = end;
    const len = end - start;
    this.hitBytes += len;
    if (len >= BIG) this.bigHit = true;
    const obs = this.observer;
    if (obs !== null) {
      // The key and its hit as ranges (no Request or Reply), unless something shows the objects (/tap).
      if (obs.wantsObjects) obs.onKeyReply(this.request(tag), new Reply('found', buf.subarray(start, end)), turnNow() - this.started);
      else obs.onKeyRange(this.op, this.keyBuf, this.keyStarts[tag] as number, this.keyEnds[tag] as number, 'found', 0, end - start, turnNow() - this.started);
    }
    if (--this.remaining === 0) this.session.finishMulti(this);
  }

  keyReply(tag: number, reply: Reply): void {
    this.setReply(tag, reply);
    const obs = this.observer;
    if (obs !== null) {
      const ms = turnNow() - this.started;
      if (this.keyStarts.length === 0 || obs.wantsObjects) obs.onKeyReply(this.request(tag), reply, ms);
      else obs.onKeyRange(this.op, this.keyBuf, this.keyStarts[tag] as number, this.keyEnds[tag] as number, reply.result, 0, reply.raw === null ? 0 : reply.raw.length, ms);
    }
    if (--this.remaining === 0) this.session.finishMulti(this);
  }

  /** A key answered by the proxy itself (admin key, denied): not observed, like the single-key path. */
  settle(tag: number, reply: Reply): void {
    this.setReply(tag, reply);
    if (--this.remaining === 0) this.session.finishMulti(this);
  }
}

class Slot {
  /** Rendered bytes, null = nothing to send (quiet). Valid once `ready`. */
  out: Buffer | null = null;
  ready = false;
  /** Keys this command routes (a multi-get counts each key), for the outstanding-work cap. */
  keys = 1;
  /** A second buffer written after `out` (END after a get hit), so the hit is never copied. */
  out2: Buffer | null = null;
  /**
   * A multi-get's reply (`out` is null then): its hits in key order, as ranges of the upstream read
   * buffers or VALUE blocks, then END, copied once at flush (see writeMulti). Null otherwise.
   */
  multi: MultiGet | null = null;
  /** Total bytes this slot sends: `out` and `out2`, or the multi-get reply. */
  bytes = 0;
  /** Close the connection after this slot is written (quit, fatal errors). */
  closeAfter = false;
  /**
   * A pooled value block `out` is, that no one else references (see request()), or EMPTY for a multi-get
   * with large fast-path hits (see finishMulti): given back to the pool once the kernel took the write in
   * full (see flush).
   */
  block: Buffer | null = null;
}

/** Client session ids (Request.client): unique per process, 0 is "no client". */
let nextClientId = 1;

export class ClientSession implements RequestSink, Flushable {
  flushQueued = false;
  /** This session's id on its requests (fair queueing at destinations; see wait-queue.ts). */
  readonly clientId = nextClientId++;
  private readonly router: RouterCore;
  private readonly parser: RequestParser;
  private slots: Slot[] = [];
  private head = 0;
  /** Complete slots with bytes to send at the next flush, in order. */
  private readonly out: Slot[] = [];
  private outBytes = 0;
  private closing = false;
  private destroyed = false;
  private paused = false;
  /** Keys in commands not yet written back (mcrouter counts each key of a multi-get as a request). */
  private pendingKeys = 0;
  /** Reply bytes held in completed slots waiting behind an earlier slot. */
  private heldBytes = 0;
  /** Slots not yet written that hold a pooled block (Slot.block). */
  private blocks = 0;
  /** A plain TCP socket (TLS keeps cleartext until it encrypts it: no pooled blocks go to it). */
  private readonly plain: boolean;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: Sidecar,
    /**
     * Who is on the other end, for authorization: a TLS client certificate's identity (URI SAN such as a
     * spiffe:// ID, else the subject CN), or `plaintext-loopback` / `plaintext` for the plain port.
     */
    readonly identity: string = 'plaintext',
  ) {
    this.router = host.router;
    this.parser = new RequestParser(this);
    this.plain = (socket as { encrypted?: boolean }).encrypted !== true;
    socket.setNoDelay(true);
    const onChunk = (chunk: Buffer): void => this.onData(chunk);
    const direct = (): Buffer | null => (this.destroyed || this.closing ? null : this.parser.directBuffer());
    const onDirect = (n: number): void => this.onDirect(n);
    if (!SHARED_READS_ENABLED || !readThroughSharedBuffer(socket, onChunk, direct, onDirect)) socket.on('data', onChunk);
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.maybeResume());
  }

  private onData(chunk: Buffer): void {
    if (this.destroyed || this.closing) return;
    tick();
    try {
      this.parser.feed(chunk);
    } catch (err) {
      // A throw here is a bug; answer and keep the process alive.
      this.router.log.error({ err }, 'request handling failed');
      this.replyLine('SERVER_ERROR internal error');
    }
    this.maybePause();
  }

  /** `n` bytes of a large value were read straight into the parser's block (see client-reads.ts). */
  private onDirect(n: number): void {
    if (this.destroyed || this.closing) return;
    tick();
    try {
      this.parser.directRead(n);
    } catch (err) {
      this.router.log.error({ err }, 'request handling failed');
      this.replyLine('SERVER_ERROR internal error');
    }
    this.maybePause();
  }

  private newSlot(keys = 1): Slot {
    const s = new Slot();
    s.keys = keys;
    this.pendingKeys += keys;
    this.slots.push(s);
    if (this.pendingKeys > this.host.limits.maxClientOutstanding) this.pauseReading();
    return s;
  }

  private complete(slot: Slot, out: Buffer | null): void {
    slot.out = out;
    slot.bytes = out === null ? 0 : out.length + (slot.out2 === null ? 0 : slot.out2.length);
    this.completed(slot);
  }

  private completed(slot: Slot): void {
    slot.ready = true;
    if (this.slots[this.head] === slot) {
      this.drainReady();
    } else if (slot.bytes > 0) {
      this.heldBytes += slot.bytes;
      if (this.heldBytes > this.host.limits.maxClientOutputBytes) this.pauseReading();
    }
  }

  /** Move complete slots at the head into the output list. */
  private drainReady(): void {
    const slots = this.slots;
    const out = this.out;
    let h = this.head;
    let close = false;
    while (h < slots.length) {
      const s = slots[h] as Slot;
      if (!s.ready) break;
      if (s.bytes > 0) {
        out.push(s);
        this.outBytes += s.bytes;
        if (h !== this.head) this.heldBytes -= s.bytes;
      }
      this.pendingKeys -= s.keys;
      h++;
      if (s.closeAfter) {
        close = true;
        break;
      }
    }
    this.head = h;
    if (h === slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (h > 1024) {
      this.slots = slots.slice(h);
      this.head = 0;
    }
    if (close) this.closing = true;
    if (this.outBytes > 0 || close) scheduleFlush(this);
  }

  flush(): void {
    if (this.destroyed) return;
    if (this.outBytes > 0) {
      const out = this.out;
      const first = out[0] as Slot;
      if (out.length === 1 && first.out !== null && first.out2 === null && first.bytes >= BIG) {
        this.socket.write(first.out);
      } else {
        for (let i = 0; i < out.length; i++) {
          const s = out[i] as Slot;
          if (s.multi !== null) {
            writeMulti(s.multi);
          } else if (s.out !== null) {
            batchAddRange(s.out, 0, s.out.length);
            if (s.out2 !== null) batchAddRange(s.out2, 0, s.out2.length);
          }
        }
        batchWrite(this.socket);
      }
      if (this.blocks > 0) this.releaseBlocks(out);
      out.length = 0;
      this.outBytes = 0;
    }
    if (this.closing) {
      // Destroy once the last bytes are flushed: a paused socket may never read the peer's FIN.
      this.socket.end(() => this.socket.destroy());
      this.destroyed = true;
      this.host.onSessionClosed(this);
      return;
    }
    this.maybeResume();
  }

  /**
   * After a flush: the pooled blocks among the slots just written go back to the pool when the kernel took
   * every byte inside write(); otherwise the socket still holds them, and they are left to the garbage
   * collector (a slow reader's memory stays bounded by the output cap, as for any reply).
   */
  private releaseBlocks(out: Slot[]): void {
    const done = this.socket.writableLength === 0;
    for (let i = 0; i < out.length; i++) {
      const s = out[i] as Slot;
      const b = s.block;
      if (b === null) continue;
      s.block = null;
      this.blocks--;
      if (!done) continue;
      const mg = s.multi;
      if (mg === null) {
        releaseBlock(b);
        continue;
      }
      // A multi-get: its fast-path hits (releaseBlock ignores the upstream read arenas among them).
      const { bufs, starts, ends } = mg;
      for (let k = 0; k < bufs.length; k++) {
        const hit = bufs[k];
        if (hit !== null && hit !== undefined && (ends[k] as number) - (starts[k] as number) >= BIG) releaseBlock(hit);
      }
    }
  }

  /**
   * Backpressure: stop parsing (even mid-chunk) and reading while this client has more than
   * `maxClientOutstanding` keys in flight, or more than `maxClientOutputBytes` of replies held or unsent.
   * Memory per client is then bounded by those caps (plus one command's replies), however fast it sends.
   */
  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.parser.pause();
    this.socket.pause();
  }

  private maybePause(): void {
    if (this.paused) return;
    if (this.socket.writableLength + this.heldBytes > this.host.limits.maxClientOutputBytes) this.pauseReading();
  }

  private maybeResume(): void {
    if (!this.paused || this.destroyed || this.closing) return;
    const lim = this.host.limits;
    if (this.pendingKeys <= lim.maxClientOutstanding / 2 && this.socket.writableLength + this.heldBytes <= lim.maxClientOutputBytes / 2) {
      this.paused = false;
      this.parser.resume();
      if (!this.paused) this.socket.resume();
    }
  }

  /** Number of commands received and not yet answered. */
  get pendingCount(): number {
    return this.slots.length - this.head;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.socket.destroy();
    this.host.onSessionClosed(this);
  }

  /** Stop reading; close once every pending reply is written (graceful shutdown). */
  closeWhenIdle(): void {
    if (this.destroyed) return;
    this.socket.pause();
    const s = this.newSlot();
    s.closeAfter = true;
    this.complete(s, null);
  }

  // ------------------------------------------------------------------ RequestSink

  request(req: Request): void {
    const core = this.router;
    req.client = this.clientId;
    core.stats.countOp(req.opSlot());
    const slot = this.newSlot();
    if ((req.op === 'get' || req.op === 'gets') && req.key.length > ADMIN_PREFIX.length && req.key[0] === 0x5f && startsWithBuf(req.key, ADMIN_PREFIX)) {
      this.complete(slot, this.host.admin.handleGet(req, this.identity));
      return;
    }
    if (core.authz.active !== null && !core.authz.allows(this.identity, req)) {
      this.complete(slot, this.render(req, core.authz.deny(this.identity, req)));
      return;
    }
    const root = core.root;
    const started = turnNow();
    core.stats.requestSent++;
    root.route(req, core.ctx, (reply: Reply) => {
      core.replied(req, reply, turnNow() - started);
      this.answer(slot, req, reply, root);
    });
  }

  /**
   * Put the reply to a single-key request in its slot. A method rather than part of the route callback, so
   * the callback stays small: V8 inlines it into the destination's reply handler, whose inlined code shares
   * one budget (920 bytes of bytecode), and this then goes in, or is called, as one piece.
   */
  private answer(slot: Slot, req: Request, reply: Reply, root: RouteHandle): void {
    const raw = reply.raw;
    if (raw !== null && reply.result === 'found' && (req.op === 'get' || req.op === 'gets')) {
      // The common hit: the upstream's VALUE block, then END, without copying the value.
      slot.out2 = END;
      const block = valueBlockForClient(req, raw);
      // A large block on the route "this server, key unchanged" is referenced by this slot alone (nothing
      // on that route keeps replies, and observers only read them), so it can go back to the pool.
      if (block === raw && raw.length >= BIG && this.plain && onDirectRoute(root, req.key)) {
        slot.block = raw;
        this.blocks++;
      }
      this.complete(slot, block);
    } else {
      this.complete(slot, this.render(req, reply));
      // A large stored value read into a pooled block: once the server answered, it has every byte, and on
      // the direct route nothing else keeps the request.
      const v = req.value;
      if (v !== null && v.length >= BIG && isServerAnswerToWrite(reply.result) && onDirectRoute(root, req.key)) {
        releaseBlock(v);
      }
    }
  }

  /** A multi-get given as Requests (gat/gats, and get/gets when an authorization policy is on). */
  multiGet(reqs: Request[]): void {
    const core = this.router;
    const n = reqs.length;
    const op = (reqs[0] as Request).op;
    core.stats.countRequest(op);
    core.stats.requestSent++;
    const mg = new MultiGet(this, core.observability, this.newSlot(n), op, EMPTY, EMPTY, n, turnNow());
    for (let i = 0; i < n; i++) {
      const req = reqs[i] as Request;
      req.client = this.clientId;
      mg.setRequest(i, req);
      if (req.key[0] === 0x5f && startsWithBuf(req.key, ADMIN_PREFIX)) {
        mg.settle(i, this.host.admin.getReply(req, this.identity));
        continue;
      }
      if (core.authz.active !== null && !core.authz.allows(this.identity, req)) {
        mg.settle(i, core.authz.deny(this.identity, req));
        continue;
      }
      this.routeKey(mg, i);
    }
  }

  /**
   * A get/gets of two or more keys, as ranges of `buf` (token i is tok[2i], tok[2i+1]; valid during this
   * call only). The fast path: keys whose route is just "this destination, key unchanged" are grouped into
   * one KeyBatch per destination — one queue entry and one (shared) upstream get line, no Request, Entry or Buffer
   * per key. Everything else takes the route tree with a Request of its own.
   */
  multiGetKeys(op: Op, head: Buffer, buf: Buffer, tok: Int32Array, first: number, n: number): void {
    const core = this.router;
    const root = core.root;
    const count = n - first;
    if (core.authz.active !== null || root.directRange === undefined) {
      // Authorization checks every key's Request; a root without the fast path routes each key anyway.
      const reqs = new Array<Request>(count);
      for (let i = 0; i < count; i++) {
        const t = 2 * (first + i);
        reqs[i] = new Request(op, view(buf, tok[t] as number, tok[t + 1] as number), head, EMPTY, null, false, 0);
      }
      this.multiGet(reqs);
      return;
    }
    core.stats.countRequest(op);
    core.stats.requestSent++;
    const mg = new MultiGet(this, core.observability, this.newSlot(count), op, head, buf, count, turnNow());
    const { keyStarts, keyEnds } = mg;
    for (let i = 0; i < count; i++) {
      const t = 2 * (first + i);
      keyStarts[i] = tok[t] as number;
      keyEnds[i] = tok[t + 1] as number;
    }
    // The batch for each destination route (DirectTarget: one per pool server), searched linearly: a
    // multi-get usually touches a few destinations. Local arrays: sending can complete requests
    // synchronously, and nothing here may be shared with a nested call.
    const groupTargets: DirectTarget[] = [];
    const groupBatches: KeyBatch[] = [];
    let groups = 0;
    // The key bytes go to the hash function's memory in one copy instead of one per key (the parsed line
    // is never written again).
    stageKeys(buf, keyStarts[0] as number, keyEnds[count - 1] as number);
    for (let i = 0; i < count; i++) {
      const s = keyStarts[i] as number;
      const e = keyEnds[i] as number;
      if (buf[s] === 0x5f && e - s >= ADMIN_PREFIX.length && bytesEqual(buf, s, ADMIN_PREFIX, 0, ADMIN_PREFIX.length)) {
        mg.settle(i, this.host.admin.getReply(mg.request(i), this.identity));
        continue;
      }
      const target = root.directRange(buf, s, e);
      if (target === null) {
        this.routeKey(mg, i);
        continue;
      }
      let g = 0;
      while (g < groups && groupTargets[g] !== target) g++;
      let batch: KeyBatch;
      if (g === groups) {
        batch = new KeyBatch(head, buf, mg);
        groupTargets[g] = target;
        groupBatches[g] = batch;
        groups++;
      } else {
        batch = groupBatches[g] as KeyBatch;
      }
      batch.add(s, e, i);
      if (batch.n === MAX_BATCH_KEYS) {
        // Full: send it now and start a new one for this destination if more keys come.
        this.sendBatch(mg, target, batch);
        groups--;
        groupTargets[g] = groupTargets[groups] as DirectTarget;
        groupBatches[g] = groupBatches[groups] as KeyBatch;
        groupTargets.length = groups;
        groupBatches.length = groups;
      }
    }
    unstageKeys();
    for (let g = 0; g < groups; g++) this.sendBatch(mg, groupTargets[g] as DirectTarget, groupBatches[g] as KeyBatch);
  }

  /** Hand a batch to its destination, or route its keys one by one when it cannot take it at once. */
  private sendBatch(mg: MultiGet, target: DirectTarget, batch: KeyBatch): void {
    if (target.destination.sendBatch?.(batch, target.timeoutMs) === true) return;
    for (let k = 0; k < batch.n; k++) this.routeKey(mg, batch.tags[k] as number);
  }

  /** One key of a multi-get through the route tree. */
  private routeKey(mg: MultiGet, i: number): void {
    this.router.root.route(mg.request(i), this.router.ctx, (reply: Reply) => mg.keyReply(i, reply));
  }

  /** Every key of a multi-get is answered: the hits in key order and END, or the first error. */
  finishMulti(mg: MultiGet): void {
    const { replies, slot, op } = mg;
    const n = mg.size;
    // The fast-path hits were counted as they came; only keys with a Reply need a pass.
    let bytes = END.length + mg.hitBytes;
    const big = mg.bigHit;
    if (replies !== null) {
      for (let i = 0; i < n; i++) {
        const r = replies[i];
        if (r !== null && r !== undefined && isErrorResult(r.result)) {
          this.router.stats.recordReplyOf(op, r.result, turnNow() - mg.started);
          this.complete(slot, renderError(r));
          return;
        }
      }
      for (let i = 0; i < n; i++) {
        const r = replies[i];
        if (r !== null && r !== undefined && r.result === 'found' && r.raw !== null) {
          const block = valueBlockForClient(mg.request(i), r.raw);
          // Kept as the key's reply, so writeMulti sends the block with the client's key.
          replies[i] = block === r.raw ? r : new Reply('found', block);
          bytes += block.length;
        }
      }
    }
    this.router.stats.recordReplyAt(opIndex(op), FOUND_RESULT, turnNow() - mg.started);
    slot.multi = mg;
    slot.bytes = bytes;
    if (big && this.plain) {
      // Fast-path hits are the batch's alone (observers only read them): their pooled blocks can go back.
      slot.block = EMPTY;
      this.blocks++;
    }
    this.completed(slot);
  }

  local(op: LocalOp, args: Buffer, noreply: boolean): void {
    const slot = this.newSlot();
    const core = this.router;
    switch (op) {
      case 'mn':
        this.complete(slot, MN);
        return;
      case 'version':
        this.complete(slot, Buffer.from(`VERSION ${core.versionString}\r\n`));
        return;
      case 'verbosity':
        this.complete(slot, noreply ? null : OK);
        return;
      case 'quit':
        slot.closeAfter = true;
        this.complete(slot, null);
        return;
      case 'stats':
        core.stats.countRequest('stats');
        this.host.admin.statsFor(args.toString('latin1').trim(), this.identity, (reply) => this.complete(slot, reply));
        return;
      case 'flush_all':
        core.stats.countRequest('flush_all');
        if (core.authz.active !== null && !core.authz.allowsFlush(this.identity)) {
          // An authorization policy is active: flush_all needs an explicit `flush_all` grant.
          this.complete(slot, noreply ? null : Buffer.from('SERVER_ERROR permission denied\r\n'));
          return;
        }
        this.host.admin.flushAll(args, (reply) => this.complete(slot, noreply ? null : reply));
        return;
      case 'shutdown':
        this.complete(slot, Buffer.from('ERROR\r\n'));
        return;
    }
  }

  replyLine(line: string): void {
    const slot = this.newSlot();
    this.complete(slot, Buffer.from(`${line}\r\n`, 'latin1'));
  }

  fatal(line: string | null): void {
    const slot = this.newSlot();
    slot.closeAfter = true;
    this.complete(slot, line === null ? null : Buffer.from(`${line}\r\n`, 'latin1'));
  }

  // ------------------------------------------------------------------ rendering

  /** Bytes for the client, or null when the client asked for quiet and the reply is suppressed. */
  private render(req: Request, reply: Reply): Buffer | null {
    const op = req.op;
    const result = reply.result;
    const raw = reply.raw;
    // A quietUpstream request was answered by an upstream in quiet mode: what came is what memcached shows.
    if (req.quiet && !req.quietUpstream) {
      if (!isMeta(op)) return null; // classic noreply: never answer
      // Meta q mode (memcached 1.6.18): mg hides EN; ms, md and ma hide HD, and ma its VA too (an `ma … v`
      // that updated the item). Everything else, errors included, is shown.
      if (op === 'mg') {
        if (result === 'notfound') return null;
      } else if (raw !== null && ((raw[0] === 0x48 && raw[1] === 0x44) || (op === 'ma' && raw[0] === 0x56 && raw[1] === 0x41))) {
        return null;
      } else if (raw === null && (result === 'stored' || result === 'deleted')) {
        return null;
      }
    }
    if (isMultiKeyGet(op)) {
      if (result === 'found' && raw !== null) {
        const block = valueBlockForClient(req, raw);
        return Buffer.concat([block, END], block.length + END.length);
      }
      if (result === 'notfound') return END;
      if (raw !== null) return raw;
      return renderError(reply);
    }
    if (raw !== null) return raw;
    return renderSynthetic(req, reply);
  }
}

/** Add a finished multi-get's reply to the current write batch: the hits in key order, then END. */
function writeMulti(mg: MultiGet): void {
  const { bufs, starts, ends, replies } = mg;
  for (let i = 0; i < bufs.length; i++) {
    const b = bufs[i];
    if (b !== null && b !== undefined) {
      // Fast-path hit: the wire key is the client's key, so the VALUE block goes out as it came.
      batchAddRange(b, starts[i] as number, ends[i] as number);
      continue;
    }
    if (replies === null) continue;
    const r = replies[i];
    if (r !== null && r !== undefined && r.result === 'found' && r.raw !== null) batchAddRange(r.raw, 0, r.raw.length);
  }
  batchAddRange(END, 0, END.length);
}

/**
 * Does `key` take the route "this server, key unchanged" (the multi-get fast path's condition)? Nothing on
 * that route keeps a request or a reply, so the session holds the last reference to their value blocks.
 */
function onDirectRoute(root: RouteHandle, key: Buffer): boolean {
  return root.directRange !== undefined && root.directRange(key, 0, key.length) !== null;
}

/** A storage command's result that only the server's own reply line gives (not a timeout or error). */
function isServerAnswerToWrite(r: Result): boolean {
  return r === 'stored' || r === 'notstored' || r === 'exists' || r === 'notfound';
}

function startsWithBuf(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && bytesEqual(b, 0, prefix, 0, prefix.length);
}

/** The VALUE block with the client's key when the upstream saw a different one (routing prefix stripped). */
function valueBlockForClient(req: Request, raw: Buffer): Buffer {
  const key = req.key;
  // raw = "VALUE <key> ..." ; compare the key in place.
  const ks = 6;
  const kl = key.length;
  // Fast path: the key at the expected place, followed by a space (no C++ indexOf call).
  if (raw.length > ks + kl && raw[ks + kl] === 0x20 && bytesEqual(raw, ks, key, 0, kl)) return raw;
  const ke = raw.indexOf(0x20, ks);
  if (ke - ks === key.length && bytesEqual(raw, ks, key, 0, key.length)) return raw;
  return Buffer.concat([raw.subarray(0, ks), key, raw.subarray(ke)]);
}

/** Replies mcrelay makes itself (NullRoute etc.), in the form the client's command expects. */
function renderSynthetic(req: Request, reply: Reply): Buffer {
  const meta = isMeta(req.op);
  switch (reply.result) {
    case 'found':
      return meta ? Buffer.from('HD\r\n') : Buffer.from('OK\r\n');
    case 'notfound':
      if (req.op === 'mg' || req.op === 'me') return Buffer.from('EN\r\n');
      return meta ? Buffer.from('NF\r\n') : Buffer.from('NOT_FOUND\r\n');
    case 'stored':
      return meta ? Buffer.from('HD\r\n') : Buffer.from('STORED\r\n');
    case 'notstored':
      return meta ? Buffer.from('NS\r\n') : Buffer.from('NOT_STORED\r\n');
    case 'exists':
      return meta ? Buffer.from('EX\r\n') : Buffer.from('EXISTS\r\n');
    case 'deleted':
      return meta ? Buffer.from('HD\r\n') : Buffer.from('DELETED\r\n');
    case 'touched':
      return Buffer.from('TOUCHED\r\n');
    case 'ok':
      return OK;
    default:
      return renderError(reply);
  }
}

