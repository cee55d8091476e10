/**
 * WarmUpRoute: brings a new, empty (`cold`) cluster up to speed from an existing (`warm`) one.
 *
 * `get`: ask cold. A hit is the answer. Otherwise read the key from warm with `mg <key> v f t` (value,
 * client flags and REMAINING TTL) and answer with that value as a normal `VALUE` reply; on a warm hit, cold
 * is filled in the background (`ctx.spawn(cold, ..., 'refill')`) with `ms <key> <len> F<flags> T<ttl> ME`
 * (meta set in add mode), so the copy expires when the warm one does. When warm reports no expiry
 * (t = -1) the copy gets `exptime` (default 0 = none). mcrouter needs its private `metaget` command and
 * `enable_metaget` for this; mcrelay uses memcached's standard meta protocol. With `enable_metaget: false`
 * the warm read is the client's own `get` and the refill is `add` with `exptime`, as in mcrouter.
 * Everything else (sets, deletes, touch, arithmetic, other ops) goes to cold only.
 *
 * Replies when everything fails: warm's reply for gets that missed cold (a miss, or warm's error).
 * Ops: `get` as above; gets/gat/gats/mg/me try cold and, when it does not hit, pass the same request to
 * warm and return its reply without filling cold (a CAS token from warm would be meaningless on cold).
 * Limits: fills are background work, capped by the route context (`refillDropped`); an `add` never
 * overwrites a value written to cold meanwhile. Warm must speak the meta protocol (memcached >= 1.6).
 */
import { frozenReply, isGetLike, isHit, isMiss, Reply, type Request } from '../protocol/types.js';
import { metaGetRequest, metaSetRequest, storageRequest, valueOf } from '../protocol/rewrite.js';
import { defineRoute, routeNodeSchema } from './route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from './route-handle.js';

const MISS = frozenReply(new Reply('notfound'));

/** A classic `VALUE <key> <flags> <bytes>` block for a value read with meta get. */
function valueBlock(key: Buffer, flags: number, data: Buffer): Buffer {
  const head = Buffer.from(`VALUE ${key.toString('latin1')} ${flags >>> 0} ${data.length}\r\n`, 'latin1');
  return Buffer.concat([head, data, Buffer.from('\r\n', 'latin1')]);
}

export class WarmUpRoute implements RouteHandle {
  readonly type = 'WarmUpRoute';
  readonly name = 'WarmUpRoute';
  readonly routeNames: readonly string[] = ['warm-up'];

  constructor(
    private readonly cold: RouteHandle,
    private readonly warm: RouteHandle,
    readonly exptime: number,
    readonly useMetaGet: boolean,
  ) {}

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    if (!isGetLike(req.op)) {
      this.cold.route(req, ctx, done);
      return;
    }
    this.cold.route(req, ctx, (coldReply) => {
      if (isHit(coldReply)) {
        done(coldReply);
        return;
      }
      if (req.op !== 'get') this.warm.route(req, ctx, done);
      else if (this.useMetaGet) this.warmUpWithMeta(req, ctx, done);
      else this.warmUpWithGet(req, ctx, done);
    });
  }

  private warmUpWithMeta(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.warm.route(metaGetRequest(req.key, 'v f t'), ctx, (warmReply) => {
      const v = isHit(warmReply) ? valueOf(warmReply) : null;
      if (v === null) {
        done(isMiss(warmReply) || isHit(warmReply) ? MISS : warmReply);
        return;
      }
      const ttl = v.ttl === null || v.ttl < 0 ? this.exptime : Math.max(1, v.ttl);
      ctx.spawn(this.cold, metaSetRequest(req.key, v.data, `F${v.flags >>> 0} T${ttl} ME`), 'refill');
      done(new Reply('found', valueBlock(req.key, v.flags, v.data)));
    });
  }

  private warmUpWithGet(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.warm.route(req, ctx, (warmReply) => {
      const v = valueOf(warmReply);
      if (v !== null) ctx.spawn(this.cold, storageRequest('add', req.key, v.flags, this.exptime, v.data), 'refill');
      done(warmReply);
    });
  }

  traverse(req: Request, t: Traversal): void {
    t.visit(this.cold, req);
    if (isGetLike(req.op)) t.visit(this.warm, req);
  }
}

export interface WarmUpRouteOptions {
  cold: unknown;
  warm: unknown;
  exptime: number;
  enable_metaget: boolean;
}

export const warmUpRouteFactory = defineRoute<WarmUpRouteOptions>({
  type: 'WarmUpRoute',
  description: 'Gets try cold, then warm (filling cold in the background, keeping the remaining TTL); everything else goes to cold.',
  schema: {
    type: 'object',
    properties: {
      cold: routeNodeSchema('The new cluster being warmed up; gets all writes and is asked first.'),
      warm: routeNodeSchema('The existing cluster; read on cold misses.'),
      exptime: { type: 'integer', minimum: 0, default: 0, description: 'TTL in seconds for copies whose warm TTL is unknown or infinite (0 = no expiry).' },
      enable_metaget: { type: 'boolean', default: true, description: 'Read warm with `mg v f t` so copies keep the remaining TTL (false: plain get, copies get `exptime`).' },
    },
    required: ['cold', 'warm'],
    additionalProperties: false,
  },
  create: (o, b, path) => new WarmUpRoute(b.route(o.cold, `${path}/cold`), b.route(o.warm, `${path}/warm`), o.exptime, o.enable_metaget),
});
