/**
 * Opt-in hot-key mitigation: a tiny in-proxy cache, for keys the hot-key tracker currently reports hot
 * and whose key starts with a configured prefix (`--hot-keys-cache-prefixes`). Nothing else is cached.
 *
 * - Only classic `get` is served from it (not gets/gat/meta: they carry a CAS or a TTL change).
 * - An entry lives `ttlMs` (short: default 1000 ms), then the next get goes upstream again.
 * - Any other op through this proxy for a cached key (set, delete, touch, incr, meta ...) drops the entry
 *   before it is sent, and a get's reply is only stored if no such write started meanwhile (epoch check),
 *   so this proxy's own writes are read back at once.
 *
 * Consistency trade-off, plainly: writes made through *other* proxies or straight to memcached are not
 * seen here until the entry expires. A client may read a value up to `ttlMs` old. Enable it only for
 * prefixes whose readers tolerate that staleness (counters shown to users, config blobs, feature flags),
 * never for data read-modify-written under CAS.
 *
 * The wrapper is transparent to `traverse` (route, route_handles and /route show the real tree).
 */
import { Reply, type Request } from '../protocol/types.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from '../routes/route-handle.js';

export interface HotKeyCacheOptions {
  readonly prefixes: readonly string[];
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Is this key hot right now? */
  readonly isHot: (key: string) => boolean;
}

interface Entry {
  reply: Reply;
  expires: number;
}

export class HotKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly prefixes: readonly Buffer[];
  /** Bumped by every write to a cacheable key; a get started before a write does not fill. */
  private epoch = 0;
  hits = 0;
  fills = 0;
  invalidations = 0;

  constructor(readonly opts: HotKeyCacheOptions) {
    this.prefixes = opts.prefixes.map((p) => Buffer.from(p, 'latin1'));
  }

  matches(key: Buffer): boolean {
    for (const p of this.prefixes) {
      if (key.length >= p.length && key.compare(p, 0, p.length, 0, p.length) === 0) return true;
    }
    return false;
  }

  get size(): number {
    return this.entries.size;
  }

  wrap(child: RouteHandle): RouteHandle {
    return new HotKeyCacheRoute(child, this);
  }

  lookup(key: string, now: number): Reply | null {
    const e = this.entries.get(key);
    if (e === undefined) return null;
    if (e.expires <= now) {
      this.entries.delete(key);
      return null;
    }
    return e.reply;
  }

  currentEpoch(): number {
    return this.epoch;
  }

  fill(key: string, reply: Reply, startedEpoch: number, now: number): void {
    if (startedEpoch !== this.epoch || !this.opts.isHot(key)) return;
    if (this.entries.size >= this.opts.maxEntries && !this.entries.has(key)) {
      // Evict the oldest insertion (Map order); entries are short-lived anyway.
      const first = this.entries.keys().next();
      if (!first.done) this.entries.delete(first.value);
    }
    // Copy: the upstream reply may be a view into a connection's read buffer.
    const raw = reply.raw === null ? null : Buffer.from(reply.raw);
    this.entries.set(key, { reply: new Reply(reply.result, raw, reply.message), expires: now + this.opts.ttlMs });
    this.fills++;
  }

  invalidate(key: string): void {
    this.epoch++;
    if (this.entries.delete(key)) this.invalidations++;
  }
}

class HotKeyCacheRoute implements RouteHandle {
  readonly type: string;
  readonly name: string;
  readonly routeNames: readonly string[];

  constructor(
    private readonly child: RouteHandle,
    private readonly cache: HotKeyCache,
  ) {
    this.type = child.type;
    this.name = child.name;
    this.routeNames = child.routeNames;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const cache = this.cache;
    if (ctx.shadow || !cache.matches(req.key)) {
      this.child.route(req, ctx, done);
      return;
    }
    const key = req.keyString();
    if (req.op === 'get') {
      const now = Date.now();
      const hit = cache.lookup(key, now);
      if (hit !== null) {
        cache.hits++;
        done(hit);
        return;
      }
      const epoch = cache.currentEpoch();
      this.child.route(req, ctx, (reply) => {
        if (reply.result === 'found') cache.fill(key, reply, epoch, Date.now());
        done(reply);
      });
      return;
    }
    // Anything else may change the value: drop it now, and again once the write is answered.
    cache.invalidate(key);
    this.child.route(req, ctx, (reply) => {
      cache.invalidate(key);
      done(reply);
    });
  }

  traverse(req: Request, t: Traversal): void {
    this.child.traverse(req, t);
  }
}
