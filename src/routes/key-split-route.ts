/**
 * KeySplitRoute: spreads one hot key over `replicas` copies so that no single memcached server takes all of
 * its reads. Each mcrelay host uses replica `hostId % replicas`; replica 0 is the key itself and replica
 * `i > 0` is the key with `::<i>` appended, or inserted just before the first `|#|` (hash stop) when there
 * is one, so the copies hash to different servers through `destination` (usually a PoolRoute).
 *
 *   get-like:     this host's replica; with `first_hit`, every replica in parallel, answering the first hit
 *                 (or, with no hit, this host's replica's reply).
 *   update-like:  with `all_sync`, every replica in parallel, answering the worst reply by severity; without,
 *                 this host's replica answers and the other replicas are written in the background
 *                 (`ctx.spawn(…, 'async')`, bounded, dropped when over the cap).
 *   delete-like:  every replica in parallel, worst reply.
 *   arithmetic and other ops: this host's replica only.
 *
 * Keys too long to split (key length + 5 > 250 bytes) are not split: every op goes to the key itself.
 * When everything fails: the reply described above (errors are never retried here).
 * Differences from mcrouter: the length rule uses mcrelay's 250-byte key limit (mcrouter: 255).
 */
import { hashStopIndex, isHit, routingPrefixLength, opGroup, type Reply, type Request } from '../protocol/types.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';
import { routeToAllWorst } from './util/worst-reply.js';

const MAX_KEY = 250;
const SPLIT_OVERHEAD = 5; // "::999"

/** The key of replica `id` (id 0 = the key itself). */
export function replicaKey(key: Buffer, id: number): Buffer {
  if (id === 0) return key;
  const suffix = Buffer.from(`::${id}`, 'latin1');
  const stop = hashStopIndex(key, routingPrefixLength(key));
  if (stop === -1) return Buffer.concat([key, suffix]);
  return Buffer.concat([key.subarray(0, stop), suffix, key.subarray(stop)]);
}

export class KeySplitRoute implements RouteHandle {
  readonly type = 'KeySplitRoute';
  readonly name: string;
  /** mcrouter's `keysplit|replicas=N|all-sync=B|first-hit=B|replicaId=<hostid % N>`. */
  readonly routeNames: readonly string[];

  /**
   * @param destination supplies where every replica key goes
   * @param replicas supplies the number of copies, 2..1000
   * @param hostId supplies this host's id (for the route_handles name; requests use the context's)
   */
  constructor(
    readonly destination: RouteHandle,
    readonly replicas: number,
    readonly allSync: boolean,
    readonly firstHit: boolean = false,
    hostId = 0,
  ) {
    if (!(replicas >= 2 && replicas <= 1000)) throw new Error('KeySplitRoute: replicas must be in 2..1000');
    this.name = `KeySplitRoute|${replicas}`;
    this.routeNames = [`keysplit|replicas=${replicas}|all-sync=${allSync}|first-hit=${firstHit}|replicaId=${(hostId >>> 0) % replicas}`];
  }

  private splittable(req: Request): boolean {
    return req.wireKey === null && req.key.length + SPLIT_OVERHEAD <= MAX_KEY;
  }

  private forReplica(req: Request, id: number): Request {
    return id === 0 ? req : req.withKey(replicaKey(req.key, id));
  }

  private all(req: Request): Request[] {
    const out: Request[] = [];
    for (let i = 0; i < this.replicas; i++) out.push(this.forReplica(req, i));
    return out;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (!this.splittable(req)) {
      this.destination.route(req, ctx, done);
      return;
    }
    const own = ctx.hostId % this.replicas;
    switch (opGroup(req.op)) {
      case 'get_like':
        if (this.firstHit) this.firstHitOf(this.all(req), own, ctx, done);
        else this.destination.route(this.forReplica(req, own), ctx, done);
        return;
      case 'update_like':
        if (this.allSync) {
          routeToAllWorst(this.sameChild(), this.all(req), ctx, done);
        } else {
          this.destination.route(this.forReplica(req, own), ctx, done);
          for (let i = 0; i < this.replicas; i++) {
            if (i !== own) ctx.spawn(this.destination, this.forReplica(req, i), 'async');
          }
        }
        return;
      case 'delete_like':
        routeToAllWorst(this.sameChild(), this.all(req), ctx, done);
        return;
      default:
        this.destination.route(this.forReplica(req, own), ctx, done);
    }
  }

  private children: readonly RouteHandle[] | null = null;
  private sameChild(): readonly RouteHandle[] {
    this.children ??= Object.freeze(Array.from({ length: this.replicas }, () => this.destination));
    return this.children;
  }

  /** All replicas in parallel: the first hit wins; with no hit, replica `own`'s reply. */
  private firstHitOf(reqs: readonly Request[], own: number, ctx: RouteContext, done: ReplyCallback): void {
    let pending = reqs.length;
    let answered = false;
    let ownReply: Reply | null = null;
    reqs.forEach((r, i) => {
      this.destination.route(r, ctx, (reply) => {
        pending--;
        if (i === own) ownReply = reply;
        if (answered) return;
        if (isHit(reply)) {
          answered = true;
          done(reply);
        } else if (pending === 0) {
          answered = true;
          done(ownReply ?? reply);
        }
      });
    });
  }

  traverse(req: Request, t: Traversal): void {
    if (!this.splittable(req)) {
      t.visit(this.destination, req);
      return;
    }
    const g = opGroup(req.op);
    if (g === 'delete_like' || g === 'update_like' || (g === 'get_like' && this.firstHit)) {
      for (const r of this.all(req)) t.visit(this.destination, r);
    } else {
      // Traversal has no host id; replica 0 (the key itself) stands for this host's copy.
      t.visit(this.destination, req);
    }
  }
}

export interface KeySplitRouteOptions {
  destination: unknown;
  replicas: number;
  all_sync: boolean;
  first_hit: boolean;
}

export const keySplitRouteFactory = defineRoute<KeySplitRouteOptions>({
  type: 'KeySplitRoute',
  description: 'Spreads hot keys over N replica keys (key::<i>): each host reads its own replica, writes and deletes reach all.',
  schema: {
    type: 'object',
    properties: {
      destination: routeNodeSchema('Where every replica key goes (usually a PoolRoute).'),
      replicas: { type: 'integer', minimum: 2, maximum: 1000, description: 'Number of copies of each key (2..1000).' },
      all_sync: { type: 'boolean', description: 'Updates wait for every replica (true) or only this host\'s, the rest in the background (false).' },
      first_hit: { type: 'boolean', default: false, description: 'Gets read every replica in parallel and return the first hit.' },
    },
    required: ['destination', 'replicas', 'all_sync'],
    additionalProperties: false,
  },
  create: (o, b, path) => new KeySplitRoute(b.route(o.destination, `${path}/destination`), o.replicas, o.all_sync, o.first_hit, b.options.hostId),
});
