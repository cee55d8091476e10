/**
 * DestinationRoute: the leaf of every tree. Sends the request to one upstream server (a shared
 * Destination) with the pool's `server_timeout`, after removing the `/region/cluster/` routing prefix
 * from the key unless the pool sets `keep_routing_prefix`.
 *
 * Returns the server's reply, or an error result when the server cannot answer: `tko` at once while the
 * destination is marked down, `timeout`, `connect_error`, `remote_error`. Covers every routed op.
 * Not a config type: it is what `Pool|A` lists and what PoolRoute hashes over.
 *
 * Failed deletes (mcrouter asynclog): a `delete` that fails with a failover-class error is appended to the
 * spool and, once the line is written, answered `NOT_FOUND`; if the spool write fails the error goes to the
 * client. Off with the pool's `"asynclog": false` or `--asynclog-disable` (then the destination has no spool).
 * While a delete for a key is spooled, a set/add/ms of that key through this route is reported to the spool
 * (unless it certainly never reached the server), which cancels the replay: see src/spool/replayer.ts.
 */
import { isIPv6 } from 'node:net';
import { isFailoverError, Reply, type Op, type Request, type Result } from '../protocol/types.js';
import type { DeleteSpool, Destination } from '../upstream/destination.js';
import type { PoolInfo, ServerSpec } from './route-factory.js';
import type { DirectTarget, ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

const SPOOLED = new Reply('notfound', null);

/** Writes that replace a value outright (a spooled delete must not remove what they stored). */
function replacesValue(op: Op): boolean {
  return op === 'set' || op === 'add' || op === 'ms';
}

/** Results that prove the request never reached the server, or that nothing was stored. */
function certainlyNotWritten(r: Result): boolean {
  return r === 'tko' || r === 'connect_error' || r === 'connect_timeout' || r === 'local_error' || r === 'notstored' || r === 'client_error';
}

/**
 * The server as mcrouter's AccessPoint::toString writes it: `host:port:ascii:<security>:notcompressed`, an
 * IPv6 address fully written out in brackets (`[0000:…:0001]`, as folly's toFullyQualified). mcrelay speaks
 * ASCII to every server, caret pools included, so the protocol is always `ascii`.
 */
export function accessPointString(server: ServerSpec): string {
  const host = isIPv6(server.host) ? `[${fullyQualifiedIPv6(server.host)}]` : server.host;
  return `${host}:${server.port}:ascii:${server.security}:notcompressed`;
}

/** `::1` → `0000:0000:0000:0000:0000:0000:0000:0001` (an IPv4 tail becomes two groups; a `%zone` is dropped). */
function fullyQualifiedIPv6(addr: string): string {
  const zone = addr.indexOf('%');
  let text = zone === -1 ? addr : addr.slice(0, zone);
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.toLowerCase().padStart(4, '0')).join(':');
}

export class DestinationRoute implements RouteHandle {
  readonly type = 'DestinationRoute';
  readonly name: string;
  /**
   * mcrouter's DestinationRoute name: `host|pool=A|id=0|ap=<access point>|timeout=1000ms|keep_routing_prefix=false|msb=0`
   * (msb, the failure domain, is always 0: failure_domains are not implemented).
   */
  readonly routeNames: readonly string[];
  private readonly timeoutMs: number;
  private readonly keepPrefix: boolean;
  private readonly spool: DeleteSpool | null;
  private readonly direct: DirectTarget | null;

  /**
   * @param index supplies the entry's position in the pool's `servers` (route-object entries count)
   * @param server supplies that entry's server
   */
  constructor(
    readonly destination: Destination,
    readonly pool: PoolInfo,
    readonly index: number,
    readonly server: ServerSpec,
  ) {
    this.name = `host|pool=${pool.name}|id=${index}|ssl=${server.security === 'ssl'}|ap=${destination.address}:TCP:ascii`;
    this.routeNames = [`host|pool=${pool.name}|id=${index}|ap=${accessPointString(server)}|timeout=${pool.serverTimeoutMs}ms|keep_routing_prefix=${pool.keepRoutingPrefix}|msb=0`];
    this.timeoutMs = pool.serverTimeoutMs;
    this.keepPrefix = pool.keepRoutingPrefix;
    this.spool = pool.asynclog ? (destination.spool ?? null) : null;
    this.direct = destination.sendBatch === undefined ? null : { destination, timeoutMs: this.timeoutMs };
  }

  /**
   * The multi-get fast path: a get goes out unchanged. Only asked for keys without a routing prefix (see
   * RootRoute.directRange), so there is nothing to strip.
   */
  directRange(_buf: Buffer, _start: number, _end: number): DirectTarget | null {
    return this.direct;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    let wireKey: Buffer | undefined;
    if (!this.keepPrefix && req.wireKey === null) {
      const plen = req.routingPrefixLength();
      if (plen > 0) wireKey = req.key.subarray(plen);
    }
    const spool = this.spool;
    if (spool === null) {
      this.destination.send(req, this.timeoutMs, done, wireKey);
      return;
    }
    if (req.op === 'delete') {
      this.destination.send(req, this.timeoutMs, (reply) => this.spoolIfFailed(req, wireKey ?? req.key, spool, ctx, reply, done), wireKey);
      return;
    }
    if (replacesValue(req.op) && req.wireKey === null) {
      const key = wireKey ?? req.key;
      if (spool.hasPending(this.destination.address, key)) {
        this.destination.send(req, this.timeoutMs, (reply) => {
          if (!certainlyNotWritten(reply.result)) spool.noteWrite(this.destination.address, key);
          done(reply);
        }, wireKey);
        return;
      }
    }
    this.destination.send(req, this.timeoutMs, done, wireKey);
  }

  private spoolIfFailed(req: Request, key: Buffer, spool: DeleteSpool, ctx: RouteContext, reply: Reply, done: ReplyCallback): void {
    if (!isFailoverError(reply.result) || ctx.shadow) {
      done(reply);
      return;
    }
    const server = this.server;
    const address = this.destination.address;
    spool.append(
      {
        address,
        host: server.host,
        port: server.port,
        pool: this.pool.name,
        key: Buffer.from(key),
      },
      (ok) => {
        if (ok) {
          ctx.stats.spooledDeletes++;
          done(SPOOLED);
        } else {
          done(reply);
        }
      },
    );
    void req;
  }

  traverse(_req: Request, t: Traversal): void {
    t.destination(this.destination.address);
  }
}
