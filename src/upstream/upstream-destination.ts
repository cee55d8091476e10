/**
 * The concrete Destination: `host:port`, its pipelined connection(s) and its TKO tracker, plus the
 * DestinationMap that shares destinations across pools and across config reloads (mcrouter
 * ProxyDestinationMap: "reuse the same destinations, and so their open connections, on reconfigure").
 */
import type { Logger } from 'pino';
import { Reply, Request, type Result } from '../protocol/types.js';
import type { PoolInfo, ServerSpec } from '../routes/route-factory.js';
import { Connection } from './connection.js';
import type { Destination, DestinationCallback } from './destination.js';
import { TkoTracker, type TkoOptions, type TkoState } from './tko-tracker.js';

export interface UpstreamOptions {
  /** Connections per destination (pipelined; requests spread round-robin). Default 1. */
  connectionsPerDestination: number;
  tko: TkoOptions;
  keepAlive: boolean;
  /** Fail fast past this many outstanding requests per destination (0 = unlimited). */
  maxOutstanding: number;
  log: Logger;
}

const VERSION_PROBE = Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0);

export class UpstreamDestination implements Destination {
  readonly address: string;
  private conns: (Connection | null)[];
  private rr = 0;
  readonly tko: TkoTracker;
  /** Pools referencing this destination in the active config (for draining removed ones). */
  refCount = 0;
  closed = false;
  // Counters for `stats servers` and metrics.
  sent = 0;
  replied = 0;
  errors = 0;
  timeouts = 0;
  latencySumUs = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  private connectTimeoutMs = 1000;

  constructor(
    readonly server: ServerSpec,
    private readonly opts: UpstreamOptions,
  ) {
    this.address = server.address;
    this.conns = new Array<Connection | null>(Math.max(1, opts.connectionsPerDestination)).fill(null);
    this.tko = new TkoTracker(opts.tko, {
      probe: (result) => this.probe(result),
      onStateChange: (from: TkoState, to: TkoState, reason: string) => {
        opts.log.info({ destination: this.address, from, to, reason }, to === 'up' ? 'destination recovered' : 'destination marked TKO');
      },
    });
  }

  isTko(): boolean {
    return this.tko.isTko();
  }

  state(): string {
    if (this.closed) return 'closed';
    if (this.tko.state !== 'up') return this.tko.state;
    return this.conns.some((c) => c !== null) ? 'up' : 'new';
  }

  /** In-flight plus queued requests over all connections. */
  outstanding(): number {
    let n = 0;
    for (const c of this.conns) if (c !== null) n += c.outstanding;
    return n;
  }

  send(req: Request, timeoutMs: number, done: DestinationCallback, wireKey?: Buffer): void {
    if (this.tko.isTko()) {
      done(new Reply('tko', null, `Server unavailable. Reason: ${this.tko.reason}`));
      return;
    }
    if (this.closed) {
      done(new Reply('local_error', null, 'destination removed from config'));
      return;
    }
    if (this.opts.maxOutstanding > 0 && this.outstanding() >= this.opts.maxOutstanding) {
      done(new Reply('local_error', null, `Max pending requests (${this.opts.maxOutstanding}) reached for destination ${this.address}`));
      return;
    }
    this.connectTimeoutMs = timeoutMs;
    const conn = this.pick();
    this.sent++;
    const started = performance.now();
    conn.send(req, wireKey ?? req.wireKeyOrKey(), timeoutMs, (reply) => {
      this.account(reply.result, started);
      done(reply);
    });
  }

  private account(result: Result, started: number): void {
    this.replied++;
    this.latencySumUs += (performance.now() - started) * 1000;
    if (result === 'timeout') this.timeouts++;
    else if (result === 'remote_error' || result === 'connect_error' || result === 'connect_timeout') this.errors++;
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

  private newConnection(slot: number): Connection {
    this.connectionsOpened++;
    const c: Connection = new Connection(
      {
        host: this.server.host,
        port: this.server.port,
        connectTimeoutMs: this.connectTimeoutMs,
        keepAlive: this.opts.keepAlive,
      },
      {
        onConnectError: (result, message) => {
          this.tko.recordConnectError(result === 'connect_timeout' ? 'mc_res_connect_timeout' : `mc_res_connect_error (${message})`);
        },
        onTimeout: () => this.tko.recordTimeout(),
        onReply: () => this.tko.recordSuccess(),
        onClose: (conn) => {
          this.connectionsClosed++;
          if (this.conns[slot] === conn) this.conns[slot] = null;
        },
      },
    );
    this.conns[slot] = c;
    return c;
  }

  private probe(result: (ok: boolean) => void): void {
    if (this.closed) return;
    const c = new Connection(
      { host: this.server.host, port: this.server.port, connectTimeoutMs: this.connectTimeoutMs, keepAlive: false },
      { onConnectError: () => {}, onTimeout: () => {}, onReply: () => {}, onClose: () => {} },
    );
    c.send(VERSION_PROBE, VERSION_PROBE.key, this.connectTimeoutMs, (reply) => {
      c.close();
      result(reply.result === 'ok');
    });
  }

  /** Close connections and stop probing (removed from config, or shutdown). */
  close(): void {
    this.closed = true;
    this.tko.stop();
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

/** Destinations by `host:port`, shared by all pools and kept across reloads. */
export class DestinationMap {
  private readonly map = new Map<string, UpstreamDestination>();

  constructor(private readonly opts: UpstreamOptions) {}

  get(server: ServerSpec, _pool: PoolInfo): UpstreamDestination {
    const key = server.security === 'plain' ? server.address : `${server.address}:${server.security}`;
    let d = this.map.get(key);
    if (d === undefined || d.closed) {
      d = new UpstreamDestination(server, this.opts);
      this.map.set(key, d);
    }
    return d;
  }

  all(): UpstreamDestination[] {
    return [...this.map.values()];
  }

  /** After a reload: drain and close destinations the new config no longer uses. */
  retainOnly(keep: ReadonlySet<UpstreamDestination>, graceMs: number, log: Logger): void {
    for (const [key, d] of this.map) {
      if (!keep.has(d)) {
        if (d.isTko()) log.info({ destination: d.address }, `${d.address} was TKO, removed from config`);
        this.map.delete(key);
        d.drainAndClose(graceMs);
      }
    }
  }

  closeAll(): void {
    for (const d of this.map.values()) d.close();
    this.map.clear();
  }
}
