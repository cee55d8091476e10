/**
 * The concrete Destination: `host:port`, its pipelined connection(s), its TKO tracker and its bounded
 * wait queue, plus the DestinationMap that shares destinations across pools and across config reloads
 * (mcrouter ProxyDestinationMap: "reuse the same destinations, and so their open connections, on reconfigure").
 *
 * Flow control per destination (mcrouter §4.2):
 *
 *   send() ──► TKO? ──yes──► `tko` at once ("Server unavailable. Reason: ...")
 *                │no
 *                ▼
 *        in flight < --target-max-inflight-requests (0 = no cap) and address known?
 *                │yes                                  │no
 *                ▼                                     ▼
 *          connection FIFO               wait queue (≤ --target-max-pending-requests,
 *                                         else `local_error` "Max pending requests (N) reached ...");
 *                                         entries keep their deadline and time out there too
 *
 * The wait queue is fair across clients (wait-queue.ts): slots go round-robin over the client sessions
 * that have requests waiting, and when it is full a newcomer pushes out the newest request of the
 * longest backlog, so one client's thousands of pipelined requests neither queue ahead of everyone else
 * nor take the room the others need.
 *
 * Without an in-flight cap the connection FIFO itself is capped at the pending limit; there, a client's
 * share is bounded by the session (it stops reading past --max-client-outstanding-reqs, at most half
 * the pending limit; see server/sidecar.ts clientOutstandingCap).
 *
 * Hostnames: a server entry may name a host. Its address is resolved when the destination is created and
 * again every `dnsRefreshMs`; requests wait in the queue (bounded as above) until the first answer. When the
 * address changes, the open connections are retired (they finish what they carry, then close) and new
 * requests connect to the new address; a TKO'd destination is probed at once.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { Logger } from 'pino';
import { turnNow } from '../clock.js';
import { ALL_RESULTS, FIRST_ERROR_RESULT, FOUND_RESULT, Reply, Request, resultIndex, type Result } from '../protocol/types.js';
import type { PoolInfo, ServerSpec } from './pool-info.js';
import { CLIENT_QUEUE_TIMEOUT, Connection, connectionClock, printableBytes, RESET_CAUSES, type EntryOwner, type KeyBatch, type ResetCause } from './connection.js';
import type { DeleteSpool, Destination, DestinationCallback } from './destination.js';
import { TkoCounters, TkoTracker, type TkoOptions, type TkoState } from './tko-tracker.js';
import { FairWaitQueue, Waiting } from './wait-queue.js';
import { tlsUnavailable, type UpstreamTls } from '../tls/upstream-tls.js';

/** Resolve a hostname to one address (injectable for tests; default: the system resolver). */
export type HostLookup = (host: string) => Promise<string>;

export const systemLookup: HostLookup = async (host) => (await dns.promises.lookup(host)).address;

export interface UpstreamOptions {
  /** Connections per destination (pipelined; requests spread round-robin). Default 1. */
  connectionsPerDestination: number;
  tko: TkoOptions;
  keepAlive: boolean;
  /** TCP keepalive idle time in ms (mcrouter -I). */
  keepAliveIdleMs?: number;
  /** Pending cap (`--target-max-pending-requests`): fail fast beyond it (0 = unlimited). */
  maxOutstanding: number;
  /** In-flight cap per destination (`--target-max-inflight-requests`, 0 = off); extra requests wait. */
  maxInflight?: number;
  /** Close connections idle this long (`--reset-inactive-connection-interval`, 0 = never). */
  idleResetMs?: number;
  /** Re-resolve hostnames this often (0 = only once). */
  dnsRefreshMs?: number;
  lookup?: HostLookup;
  /** Failed-delete spool handed to DestinationRoute (null = spooling off). */
  spool?: DeleteSpool | null;
  /** Outgoing TLS for `ssl` servers (null: such servers fail to connect rather than downgrade). */
  tls?: UpstreamTls | null;
  log: Logger;
}

/** Sees every reply of one destination (the observability layer's per-destination instruments). */
export interface DestinationObserver {
  /** One request to this destination finished; `ms` from send to reply (or error). */
  onReply(req: Request, result: Result, ms: number): void;
  /** Keys [from, to) of a multi-get batch (ranges of `batch.buf`) finished, after `ms`. */
  onKeys(batch: KeyBatch, from: number, to: number, ms: number): void;
}

const VERSION_PROBE = Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0);

export type DestinationConnState = 'new' | 'up' | 'down' | 'closed';

/** mcrouter's ProxyDestinationKey::str for an ASCII destination (AccessPoint::toString, then `-<timeout ms>`). */
export function destinationKey(server: ServerSpec, timeoutMs: number): string {
  return `${server.address}:ascii:${server.security}:notcompressed-${timeoutMs}`;
}

/**
 * One TKO transition, logged as mcrouter logs it (ProxyDestinationBase::onTkoEvent): `<host:port> marked soft TKO.
 * Total hard TKOs: N; soft TKOs: M. Reply: mc_res_timeout`, and `unmarked TKO`. A soft TKO escalating to hard is
 * not logged (mcrouter neither).
 */
function logTkoChange(log: Logger, address: string, t: TkoTracker, from: TkoState, to: TkoState, reason: string): void {
  if (from !== 'up' && to !== 'up') return;
  const event = to === 'up' ? 'unmarked TKO' : to === 'soft_tko' ? 'marked soft TKO' : 'marked hard TKO';
  const c = t.counters;
  log.info(
    { destination: address, event, from, to, reason, numFailures: t.consecutiveFailures, probesSent: t.probesSent, hardTkos: c.hard, softTkos: c.soft },
    `${address} ${event}. Total hard TKOs: ${c.hard}; soft TKOs: ${c.soft}. Reply: ${to === 'up' ? 'mc_res_ok' : reason}`,
  );
}

function noop(): void {}

export class UpstreamDestination implements Destination, EntryOwner {
  readonly address: string;
  private conns: (Connection | null)[];
  private rr = 0;
  readonly tko: TkoTracker;
  private readonly ownsTracker: boolean;
  /**
   * mcrouter's ProxyDestinationKey: `host:port:ascii:<security>:notcompressed-<timeout ms>`. ASCII is in order,
   * so requests with different timeouts cannot share a connection: each timeout is a destination of its own
   * (with its own connections), while TKO state stays per `host:port`.
   */
  readonly key: string;
  /** mcrouter's destination state: `new` (never connected), `up`, `down` (failed or lost), `closed` (closed after being up). */
  connState: DestinationConnState = 'new';
  /** Replies by result (index = ALL_RESULTS position), for `stats servers`. */
  readonly results = new Float64Array(ALL_RESULTS.length);
  closed = false;
  // Counters for `stats servers` and metrics.
  sent = 0;
  replied = 0;
  latencySumUs = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  /** Requests refused because the wait queue was full. */
  rejectedPending = 0;
  /** Requests answered `tko` without being sent. */
  tkoReplies = 0;
  /** Requests that timed out in the wait queue, never sent (counted as `timeout` in `results` too). */
  queueTimeouts = 0;
  /**
   * Connection resets by cause, indexed like RESET_CAUSES (made with the destination, so counting one
   * is an array store; metrics and `stats` read them).
   */
  readonly resets: number[] = RESET_CAUSES.map(() => 0);
  private connectTimeoutMs = 1000;
  /** Requests handed to a connection and not yet answered (zombies excluded). */
  private inflight = 0;
  private readonly waiting = new FairWaitQueue();
  private waitTimer: NodeJS.Timeout | null = null;
  /** The address connections go to; null until a hostname is resolved. */
  private resolved: string | null;
  private dnsTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly maxInflight: number;
  readonly spool: DeleteSpool | null;
  /** Set by the observability layer; null = nothing observes (one field read per reply). */
  observer: DestinationObserver | null = null;

  /**
   * @param tracker the `host:port`'s TKO tracker when the DestinationMap shares one among the destinations of that
   *   server (it then routes the tracker's events to every one); without it the destination has its own.
   * @param timeoutMs the server timeout of the pools that use it: part of an ASCII destination's identity.
   */
  constructor(
    readonly server: ServerSpec,
    private readonly opts: UpstreamOptions,
    tracker: TkoTracker | null = null,
    timeoutMs = 1000,
  ) {
    this.address = server.address;
    this.key = destinationKey(server, timeoutMs);
    this.spool = opts.spool ?? null;
    this.maxInflight = opts.maxInflight ?? 0;
    this.connectTimeoutMs = timeoutMs;
    this.conns = new Array<Connection | null>(Math.max(1, opts.connectionsPerDestination)).fill(null);
    this.ownsTracker = tracker === null;
    this.tko =
      tracker ??
      new TkoTracker(opts.tko, {
        probe: (result) => this.probe(result),
        onStateChange: (from: TkoState, to: TkoState, reason: string) => {
          logTkoChange(opts.log, this.address, this.tko, from, to, reason);
          this.onTkoChange(from, to);
        },
      });
    if (net.isIP(server.host) !== 0) {
      this.resolved = server.host;
    } else {
      this.resolved = null;
      this.refreshAddress();
      const every = opts.dnsRefreshMs ?? 0;
      if (every > 0) {
        this.dnsTimer = setInterval(() => this.refreshAddress(), every);
        this.dnsTimer.unref();
      }
    }
    const idle = opts.idleResetMs ?? 0;
    if (idle > 0) {
      this.idleTimer = setInterval(() => this.closeIdle(idle), idle);
      this.idleTimer.unref();
    }
  }

  /**
   * A TKO transition of this destination's `host:port`: settle the waiting requests (the tracker's owner logs it).
   * A soft TKO escalating to hard may change the reason, so waiting requests get the current reply.
   */
  onTkoChange(_from: TkoState, to: TkoState): void {
    this.tkoReplyCache = null;
    if (to === 'up') this.drainWaiting();
    else this.failWaiting(this.tkoReply());
  }

  private tkoReplyCache: Reply | null = null;

  /** What a request gets while TKO (mcrouter DestinationRoute): one Reply per TKO, not per request. */
  private tkoReply(): Reply {
    let r = this.tkoReplyCache;
    if (r === null) {
      r = new Reply('tko', null, `Server unavailable. Reason: ${this.tko.reason}`);
      this.tkoReplyCache = r;
    }
    return r;
  }

  /** The address connections currently go to (null while a hostname is unresolved). */
  get resolvedAddress(): string | null {
    return this.resolved;
  }

  isTko(): boolean {
    return this.tko.isTko();
  }

  state(): string {
    if (this.closed) return 'closed';
    if (this.tko.state !== 'up') return this.tko.state;
    return this.conns.some((c) => c !== null) ? 'up' : 'new';
  }

  /** In-flight plus queued requests over all connections and the wait queue. */
  outstanding(): number {
    let n = this.waiting.size;
    for (const c of this.conns) if (c !== null) n += c.outstanding;
    return n;
  }

  /** Requests waiting for an in-flight slot or for the address. */
  pendingCount(): number {
    return this.waiting.size;
  }

  inflightCount(): number {
    return this.inflight;
  }

  send(req: Request, timeoutMs: number, done: DestinationCallback, wireKey?: Buffer): void {
    if (this.tko.isTko()) {
      this.tkoReplies++;
      done(this.tkoReply());
      return;
    }
    if (this.closed) {
      done(new Reply('local_error', null, 'destination removed from config'));
      return;
    }
    this.connectTimeoutMs = timeoutMs;
    const maxPending = this.opts.maxOutstanding;
    const mustWait =
      this.resolved === null || (this.maxInflight > 0 && (this.inflight >= this.maxInflight || this.waiting.size > 0));
    if (!mustWait) {
      if (this.maxInflight === 0 && maxPending > 0 && this.outstanding() >= maxPending) {
        this.rejectPending(done);
        return;
      }
      this.dispatch(req, timeoutMs, done, wireKey);
      return;
    }
    let pushedOut: Waiting | null = null;
    if (maxPending > 0 && this.waiting.size >= maxPending) {
      // Full: room for this client only at the expense of a longer backlog (see wait-queue.ts).
      pushedOut = this.waiting.pushOut(req.client);
      if (pushedOut === null) {
        this.rejectPending(done);
        return;
      }
    }
    const w = new Waiting(req, Date.now() + timeoutMs, done, wireKey);
    this.waiting.push(w);
    if (this.waitTimer === null) this.armWaitTimer(w.deadline);
    // Last: the callback may send again (a failover route), and the queue is consistent by now.
    if (pushedOut !== null) this.rejectPending(pushedOut.done);
  }

  private rejectPending(done: DestinationCallback): void {
    this.rejectedPending++;
    done(new Reply('local_error', null, `Max pending requests (${this.opts.maxOutstanding}) reached for destination ${this.address}`));
  }

  private dispatch(req: Request, timeoutMs: number, done: DestinationCallback, wireKey: Buffer | undefined): void {
    const conn = this.pick();
    this.sent++;
    this.inflight++;
    conn.send(req, wireKey ?? req.wireKeyOrKey(), timeoutMs, done, this, turnNow());
  }

  /** A dispatched request finished (EntryOwner: the connection calls this, so no closure per request). */
  entryDone(req: Request, started: number, reply: Reply, done: DestinationCallback): void {
    this.settle(req, started, reply);
    done(reply);
    if (this.waiting.size > 0) this.drainWaiting();
  }

  /** EntryOwner: keys [from, to) of a batch finished, `found` hits and the rest `result` (the sink has the outcome). */
  keysDone(batch: KeyBatch, from: number, to: number, found: number, result: Result, started: number): void {
    const n = to - from;
    this.inflight -= n;
    if (found > 0) this.account(FOUND_RESULT, 'found', started, found);
    if (n > found) this.account(resultIndex(result), result, started, n - found);
    const obs = this.observer;
    if (obs !== null) obs.onKeys(batch, from, to, turnNow() - started);
    if (this.waiting.size > 0) this.drainWaiting();
  }

  private settle(req: Request, started: number, reply: Reply): void {
    this.inflight--;
    this.account(reply.resultSlot(), reply.result, started, 1);
    if (this.observer !== null) this.observer.onReply(req, reply.result, turnNow() - started);
  }

  /**
   * The multi-get fast path (see Destination.sendBatch): queue a batch of get/gets keys sent unchanged, as
   * one entry on one connection. Returns false, sending nothing, whenever send() would not dispatch at once
   * (TKO, removed, waiting for a slot or an address, no room under the pending limit for every key): the
   * caller then routes each key the ordinary way and gets send()'s exact behaviour.
   */
  sendBatch(batch: KeyBatch, timeoutMs: number): boolean {
    if (this.closed || this.resolved === null || this.maxInflight > 0 || this.tko.isTko()) return false;
    const maxPending = this.opts.maxOutstanding;
    if (maxPending > 0 && this.outstanding() + batch.n > maxPending) return false;
    this.connectTimeoutMs = timeoutMs;
    const conn = this.pick();
    this.sent += batch.n;
    this.inflight += batch.n;
    conn.sendBatch(batch, timeoutMs, this, turnNow());
    return true;
  }

  /** Move waiting requests to connections while slots are free, taking clients in turn. */
  private drainWaiting(): void {
    if (this.resolved === null || this.closed || this.tko.isTko()) return;
    const q = this.waiting;
    const now = Date.now();
    while (this.maxInflight === 0 || this.inflight < this.maxInflight) {
      const w = q.take();
      if (w === null) break;
      const left = w.deadline - now;
      if (left <= 0) {
        this.queueTimedOut();
        w.done(CLIENT_QUEUE_TIMEOUT);
        continue;
      }
      this.dispatch(w.req, left, w.done, w.wireKey);
    }
  }

  private failWaiting(reply: Reply): void {
    if (this.waiting.size === 0) return;
    const all: Waiting[] = [];
    this.waiting.drainAll(all);
    for (const w of all) w.done(reply);
  }

  private armWaitTimer(at: number): void {
    this.waitTimer = setTimeout(() => this.onWaitTimer(), Math.max(1, at - Date.now()));
  }

  /** Waiting requests time out like sent ones: no client waits longer than server_timeout. */
  private onWaitTimer(): void {
    this.waitTimer = null;
    const expired: Waiting[] = [];
    const next = this.waiting.expire(Date.now(), expired);
    if (next !== Infinity) this.armWaitTimer(next);
    // Timed out before they were sent: mcrouter's "Client queue timeout", and each counts toward soft TKO.
    for (const w of expired) {
      this.queueTimedOut();
      w.done(CLIENT_QUEUE_TIMEOUT);
    }
  }

  /** A request timed out in the wait queue: a timeout like any other (TKO signal, result count). */
  private queueTimedOut(): void {
    this.queueTimeouts++;
    this.tko.recordResult('timeout');
    const ri = resultIndex('timeout');
    this.results[ri] = (this.results[ri] as number) + 1;
  }

  /**
   * Per finished request (n keys of a batch), `result` at slot `ri` of ALL_RESULTS: counters, and the
   * result's TKO signal, once per request (an error once per key).
   */
  private account(ri: number, result: Result, started: number, n: number): void {
    if (ri < FIRST_ERROR_RESULT) this.tko.recordSuccess();
    else for (let k = 0; k < n; k++) this.tko.recordError(result);
    this.results[ri] = (this.results[ri] as number) + n;
    this.replied += n;
    this.latencySumUs += (turnNow() - started) * 1000 * n;
  }

  /** Requests that timed out (read from the result counts, at scrape time). */
  get timeouts(): number {
    return this.results[resultIndex('timeout')] as number;
  }

  /** Requests that failed upstream: remote errors, connect errors and connect timeouts. */
  get errors(): number {
    const r = this.results;
    return (r[resultIndex('remote_error')] as number) + (r[resultIndex('connect_error')] as number) + (r[resultIndex('connect_timeout')] as number);
  }

  private pick(): Connection {
    const n = this.conns.length;
    let i = 0;
    if (n > 1) {
      i = this.rr;
      this.rr = (i + 1) % n;
    }
    let c = this.conns[i];
    if (c === undefined || c === null || c.isClosed) {
      c = this.newConnection(i);
    }
    return c;
  }

  private connectionOptions(keepAlive: boolean): ConstructorParameters<typeof Connection>[0] {
    const o: ConstructorParameters<typeof Connection>[0] = {
      host: this.resolved ?? this.server.host,
      port: this.server.port,
      connectTimeoutMs: this.connectTimeoutMs,
      keepAlive,
      endpoint: `${this.server.address}:ascii:${this.server.security}:notcompressed`,
    };
    if (this.opts.keepAliveIdleMs !== undefined) o.keepAliveIdleMs = this.opts.keepAliveIdleMs;
    if (this.server.security === 'ssl') {
      // TLS connects by name (SNI and certificate identity need it); the system resolver picks the address.
      o.host = this.server.host;
      const t = this.opts.tls;
      o.connect = t !== undefined && t !== null ? t.connect : tlsUnavailable;
    }
    return o;
  }

  private newConnection(slot: number): Connection {
    this.connectionsOpened++;
    // TKO is fed per request result (account), not by these connection events: a request failed by a reset
    // counts exactly like one failed by its own timer.
    const c: Connection = new Connection(this.connectionOptions(this.opts.keepAlive), {
      onConnectError: () => {
        this.connState = 'down';
      },
      onTimeout: noop,
      onReply: noop,
      onUp: () => {
        this.connState = 'up';
      },
      onClose: (conn) => {
        this.connectionsClosed++;
        if (this.conns[slot] === conn) this.conns[slot] = null;
        // Closed on purpose (idle, retired, removed) after being up; a reset has already said `down`.
        if (this.connState === 'up' && !this.conns.some((x) => x !== null && !x.isClosed)) this.connState = 'closed';
      },
      onReset: (cause, bytes, failed) => {
        this.connState = 'down';
        this.onReset(cause, bytes, failed);
      },
    });
    this.conns[slot] = c;
    return c;
  }

  /** Connection resets, all causes. */
  get connectionResets(): number {
    let n = 0;
    for (const v of this.resets) n += v;
    return n;
  }

  /** One of this destination's connections was reset (see ResetCause): count it and say why. */
  private onReset(cause: ResetCause, bytes: Buffer | null, failed: number): void {
    const i = RESET_CAUSES.indexOf(cause);
    this.resets[i] = (this.resets[i] as number) + 1;
    this.opts.log.warn(
      { destination: this.address, cause, bytes: bytes === null ? null : printableBytes(bytes, 64), requestsFailed: failed },
      'upstream connection reset',
    );
  }

  private closeIdle(idleMs: number): void {
    const now = connectionClock();
    for (const c of this.conns) {
      if (c !== null && c.outstanding === 0 && now - c.lastActivity >= idleMs) c.close();
    }
  }

  /** Resolve the hostname; on a new address, retire the old connections. */
  refreshAddress(): Promise<void> {
    const lookup = this.opts.lookup ?? systemLookup;
    return lookup(this.server.host).then(
      (addr) => {
        if (this.closed) return;
        const old = this.resolved;
        if (addr === old) return;
        this.resolved = addr;
        if (old !== null) {
          this.opts.log.info({ destination: this.address, from: old, to: addr }, 'destination address changed');
          for (let i = 0; i < this.conns.length; i++) {
            const c = this.conns[i];
            this.conns[i] = null;
            c?.retire();
          }
          this.tko.probeSoon();
        }
        this.drainWaiting();
      },
      (err: unknown) => {
        if (this.closed) return;
        this.opts.log.warn({ destination: this.address, err: err instanceof Error ? err.message : String(err) }, 'cannot resolve destination host');
        if (this.resolved === null) {
          // Each waiting request fails with a connect error, and counts as one (at least one: the lookup).
          const n = Math.max(1, this.waiting.size);
          for (let i = 0; i < n; i++) this.tko.recordResult('connect_error');
          this.failWaiting(new Reply('connect_error', null, `cannot resolve ${this.server.host}`));
        }
      },
    );
  }

  /** One `version` probe on its own connection; its result goes to the tracker (a failure counts as one). */
  probe(result: (r: Result) => void): void {
    if (this.closed) return;
    const run = (): void => {
      if (this.closed || this.resolved === null) {
        result('connect_error');
        return;
      }
      const c = new Connection(this.connectionOptions(false), { onConnectError: noop, onTimeout: noop, onReply: noop, onClose: noop });
      c.send(VERSION_PROBE, VERSION_PROBE.key, this.connectTimeoutMs, (reply) => {
        c.close();
        result(reply.result);
      });
    };
    if (net.isIP(this.server.host) === 0) void this.refreshAddress().then(run);
    else run();
  }

  /** Close connections and stop probing (removed from config, or shutdown). */
  close(): void {
    this.closed = true;
    if (this.ownsTracker) this.tko.stop();
    if (this.dnsTimer !== null) clearInterval(this.dnsTimer);
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.dnsTimer = this.idleTimer = this.waitTimer = null;
    this.failWaiting(new Reply('local_error', null, 'destination closed'));
    for (const c of this.conns) c?.close();
    this.conns.fill(null);
  }

  /** Close once nothing is outstanding (drain), or after `graceMs`. */
  drainAndClose(graceMs: number): void {
    const started = Date.now();
    const check = (): void => {
      if (this.outstanding() === 0 || Date.now() - started >= graceMs) {
        this.close();
        return;
      }
      setTimeout(check, 50).unref();
    };
    check();
  }
}

/**
 * Pool fail-open (mcrouter `tko_tracker`): once `upper` servers of the pool are TKO, no more are marked
 * until the count falls back to `lower`, so a partitioned proxy keeps trying rather than failing everything.
 */
class PoolTkoGroup {
  readonly members = new Set<UpstreamDestination>();
  private failOpen = false;
  constructor(
    public upper: number,
    public lower: number,
  ) {}

  mayMark(): boolean {
    let n = 0;
    for (const d of this.members) if (d.isTko()) n++;
    if (this.failOpen && n <= this.lower) this.failOpen = false;
    if (!this.failOpen && n >= this.upper) this.failOpen = true;
    return !this.failOpen;
  }
}

function thresholds(pool: PoolInfo): { upper: number; lower: number } | null {
  const t = pool.raw['tko_tracker'];
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return null;
  const o = t as Record<string, unknown>;
  const upper = o['num_tko_threshold_upper'];
  if (typeof upper !== 'number' || upper <= 0) return null;
  const lowerRaw = o['num_tko_threshold_lower'];
  const lower = typeof lowerRaw === 'number' && lowerRaw >= 0 && lowerRaw < upper ? lowerRaw : Math.max(0, upper - 1);
  return { upper, lower };
}

/** The replies counted by destinations that are gone (result counters are proxy-wide and only grow). */
export class RetiredCounts {
  readonly results = new Float64Array(ALL_RESULTS.length);
  tkoReplies = 0;
  rejectedPending = 0;

  add(d: UpstreamDestination): void {
    for (let i = 0; i < d.results.length; i++) this.results[i] = (this.results[i] as number) + (d.results[i] as number);
    this.tkoReplies += d.tkoReplies;
    this.rejectedPending += d.rejectedPending;
  }
}

/** One `host:port`'s TKO tracker and the destinations (one per timeout and security) that share it. */
class SharedTracker {
  readonly members = new Set<UpstreamDestination>();
  readonly tracker: TkoTracker;

  constructor(opts: UpstreamOptions, counters: TkoCounters, address: string) {
    this.tracker = new TkoTracker(
      opts.tko,
      {
        // One prober per host:port (mcrouter: the responsible destination probes).
        probe: (result) => {
          for (const m of this.members) {
            if (!m.closed) {
              m.probe(result);
              return;
            }
          }
        },
        onStateChange: (from, to, reason) => {
          logTkoChange(opts.log, address, this.tracker, from, to, reason);
          for (const m of this.members) m.onTkoChange(from, to);
        },
      },
      counters,
    );
  }
}

/**
 * Destinations by mcrouter's ProxyDestinationKey (`host:port:ascii:plain:notcompressed-<timeout>`), shared by all
 * pools with the same server and timeout and kept across reloads; TKO state is shared per `host:port`.
 */
export class DestinationMap {
  private readonly map = new Map<string, UpstreamDestination>();
  private readonly trackers = new Map<string, SharedTracker>();
  private readonly groups = new Map<string, PoolTkoGroup>();
  private readonly groupsOf = new Map<UpstreamDestination, Set<PoolTkoGroup>>();
  /** Called once for every destination created (the observability layer attaches its instruments). */
  onCreate: ((d: UpstreamDestination, pool: PoolInfo) => void) | null = null;
  /** Destinations TKO now and at most (`num_soft_tko_count`, `num_hard_tko_count`, `max_num_tko`). */
  readonly tkoCounters = new TkoCounters();
  /** What destinations removed from the config had counted, so proxy-wide result counters never go back. */
  readonly retired = new RetiredCounts();

  constructor(private readonly opts: UpstreamOptions) {}

  /** The options every destination is made with (the spool replayer makes private ones alike). */
  get options(): UpstreamOptions {
    return this.opts;
  }

  get(server: ServerSpec, pool: PoolInfo): UpstreamDestination {
    const key = destinationKey(server, pool.serverTimeoutMs);
    let d = this.map.get(key);
    if (d === undefined || d.closed) {
      let shared = this.trackers.get(server.address);
      if (shared === undefined) {
        const sh = new SharedTracker(this.opts, this.tkoCounters, server.address);
        shared = sh;
        this.trackers.set(server.address, sh);
        sh.tracker.mayMark = () => {
          for (const m of sh.members) {
            const gs = this.groupsOf.get(m);
            if (gs !== undefined) for (const g of gs) if (!g.mayMark()) return false;
          }
          return true;
        };
      }
      d = new UpstreamDestination(server, this.opts, shared.tracker, pool.serverTimeoutMs);
      shared.members.add(d);
      this.map.set(key, d);
      if (this.onCreate !== null) this.onCreate(d, pool);
    }
    const th = thresholds(pool);
    if (th !== null) {
      let g = this.groups.get(pool.name);
      if (g === undefined) {
        g = new PoolTkoGroup(th.upper, th.lower);
        this.groups.set(pool.name, g);
      } else {
        g.upper = th.upper;
        g.lower = th.lower;
      }
      g.members.add(d);
      let gs = this.groupsOf.get(d);
      if (gs === undefined) this.groupsOf.set(d, (gs = new Set()));
      gs.add(g);
    }
    return d;
  }

  /** A plain destination for `host:port`, if the map has one (any timeout). */
  find(address: string): UpstreamDestination | undefined {
    for (const d of this.map.values()) if (d.address === address && d.server.security === 'plain') return d;
    return undefined;
  }

  all(): UpstreamDestination[] {
    return [...this.map.values()];
  }

  /** After a reload: drain and close destinations the new config no longer uses. */
  retainOnly(keep: ReadonlySet<UpstreamDestination>, graceMs: number, log: Logger): void {
    for (const [key, d] of this.map) {
      if (!keep.has(d)) {
        this.map.delete(key);
        const gs = this.groupsOf.get(d);
        if (gs !== undefined) for (const g of gs) g.members.delete(d);
        this.groupsOf.delete(d);
        this.leaveTracker(d);
        d.drainAndClose(graceMs);
      }
    }
  }

  /** The last destination of a `host:port` is gone: its tracker stops probing and stops counting as TKO. */
  private leaveTracker(d: UpstreamDestination): void {
    const sh = this.trackers.get(d.address);
    if (sh === undefined) return;
    sh.members.delete(d);
    this.retired.add(d);
    if (sh.members.size === 0) {
      if (sh.tracker.isTko()) this.opts.log.info({ destination: d.address }, `${d.address} was TKO, removed from config`);
      sh.tracker.stop();
      this.trackers.delete(d.address);
    }
  }

  closeAll(): void {
    for (const d of this.map.values()) {
      d.close();
      this.leaveTracker(d);
    }
    this.map.clear();
  }
}
