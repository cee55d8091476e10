/**
 * DestinationRoute: the leaf of every tree. Sends the request to one upstream server (a shared
 * Destination) with the pool's `server_timeout`, after removing the `/region/cluster/` routing prefix
 * from the key unless the pool sets `keep_routing_prefix`.
 *
 * Returns the server's reply, or an error result when the server cannot answer: `tko` at once while the
 * destination is marked down, `timeout`, `connect_error`, `remote_error`. Covers every routed op.
 * Not a config type: it is what `Pool|A` lists and what PoolRoute hashes over.
 */
import type { Request } from '../protocol/types.js';
import type { Destination } from '../upstream/destination.js';
import type { PoolInfo } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

export class DestinationRoute implements RouteHandle {
  readonly type = 'DestinationRoute';
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly keepPrefix: boolean;

  constructor(
    readonly destination: Destination,
    readonly pool: PoolInfo,
    readonly index: number,
  ) {
    this.name = `host|pool=${pool.name}|id=${index}|ssl=${pool.servers[index]?.security === 'ssl'}|ap=${destination.address}:TCP:ascii`;
    this.timeoutMs = pool.serverTimeoutMs;
    this.keepPrefix = pool.keepRoutingPrefix;
  }

  route(req: Request, _ctx: RouteContext, done: ReplyCallback): void {
    if (!this.keepPrefix && req.wireKey === null) {
      const plen = req.routingPrefixLength();
      if (plen > 0) {
        this.destination.send(req, this.timeoutMs, done, req.key.subarray(plen));
        return;
      }
    }
    this.destination.send(req, this.timeoutMs, done);
  }

  traverse(_req: Request, t: Traversal): void {
    t.destination(this.destination.address);
  }
}
