/**
 * The sidecar: memcached's text and meta protocol on TCP (and TLS) over one RouterCore. It owns the
 * listeners and the client sessions, and nothing an embedded user needs: routing, reload and the upstream
 * side are the router's.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import type { ProxyOptions } from '../options.js';
import { Admin } from '../admin/admin.js';
import type { RouterCore } from '../router/router-core.js';
import { ClientSession } from './client-session.js';
import { listenAll } from './listener.js';

/**
 * How many unanswered keys one client may have before its session stops reading:
 * --max-client-outstanding-reqs, but without an in-flight cap at most half of --target-max-pending-requests.
 * There the connection FIFO is the destination's pending queue and this is the only bound on one client's
 * share of it, so a single pipelining client can never fill the pending room and get every other client's
 * requests refused with `Max pending requests`. (With an in-flight cap the wait queue itself is fair; see
 * upstream/wait-queue.ts.)
 */
export function clientOutstandingCap(o: Pick<ProxyOptions, 'maxClientOutstandingReqs' | 'targetMaxInflightRequests' | 'targetMaxPendingRequests'>): number {
  const pending = o.targetMaxPendingRequests;
  if (o.targetMaxInflightRequests > 0 || pending <= 0) return o.maxClientOutstandingReqs;
  return Math.min(o.maxClientOutstandingReqs, Math.max(1, Math.floor(pending / 2)));
}

/** Per-session limits: outstanding keys, and reply bytes held for a slow reader. */
export interface SessionLimits {
  readonly maxClientOutstanding: number;
  readonly maxClientOutputBytes: number;
}

export class Sidecar {
  readonly limits: SessionLimits;
  /** `stats`, `flush_all` and `get __mcrouter__.*` on the client port. */
  readonly admin: Admin;
  readonly log: Logger;
  private readonly sessions = new Set<ClientSession>();
  private readonly servers: net.Server[] = [];
  private draining = false;

  constructor(readonly router: RouterCore) {
    this.log = router.log;
    this.limits = { maxClientOutstanding: clientOutstandingCap(router.options), maxClientOutputBytes: 8 * 1024 * 1024 };
    this.admin = new Admin(router, () => this.sessions.size);
  }

  get options(): ProxyOptions {
    return this.router.options;
  }

  /** Start the client listeners (plain, and TLS when configured). Resolves with the bound ports. */
  async listen(): Promise<number[]> {
    const { servers, ports } = await listenAll(this);
    this.servers.push(...servers);
    return ports;
  }

  /** A new client connection from a listener; `identity` is who it is for authorization. */
  accept(sock: net.Socket, identity: string): void {
    if (this.draining) {
      sock.destroy();
      return;
    }
    const o = this.router.options;
    if (o.maxConns > 0 && this.sessions.size >= o.maxConns && !this.evictIdleSession()) {
      sock.destroy();
      return;
    }
    if (o.keepaliveCount > 0) sock.setKeepAlive(true, o.keepaliveIdleSec * 1000);
    const s = new ClientSession(sock, this, identity);
    if (o.idleClientTimeoutMs > 0) {
      sock.setTimeout(o.idleClientTimeoutMs, () => {
        if (s.pendingCount === 0) s.destroy();
      });
    }
    this.sessions.add(s);
    const stats = this.router.stats;
    stats.numClientConnections = this.sessions.size;
    stats.totalClientConnections++;
  }

  /**
   * --max-conns: make room by closing the oldest client connection that has nothing outstanding
   * (mcrouter evicts connections too). False when every connection is busy: the new one is refused.
   */
  private evictIdleSession(): boolean {
    for (const s of this.sessions) {
      if (s.pendingCount === 0) {
        s.destroy();
        return true;
      }
    }
    return false;
  }

  onSessionClosed(s: ClientSession): void {
    this.sessions.delete(s);
    this.router.stats.numClientConnections = this.sessions.size;
  }

  /** Stop accepting, let in-flight requests finish (up to `deadlineMs`), then close the router. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.draining = true;
    // server.close() only calls back once every connection has ended, so stop accepting first and wait
    // for the listeners' callbacks after the sessions have drained.
    const closed = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of this.sessions) s.closeWhenIdle();
    const started = Date.now();
    while (this.sessions.size > 0 && Date.now() - started < deadlineMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of [...this.sessions]) s.destroy();
    await Promise.all(closed);
    this.admin.close();
    await this.router.close();
  }
}
