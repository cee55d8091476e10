/**
 * NearCache: an in-process cache of read replies in front of a route (an L0 tier), and the routing rule
 * that keeps it coherent with this process's own writes. LocalCacheRoute and the hot-key cache
 * (observe/hot-key-cache.ts) are both this one mechanism with different admission rules.
 *
 * What it holds. Entries are keyed by the item key: the request key without its `/region/cluster/`
 * routing prefix, which is the key the server stores (so `foo` and `/a/b/foo` are one entry, and a write
 * to either drops both). Under an item key sit the replies of the read forms seen for it, each kept as the
 * child answered it and served back byte for byte:
 *   - a classic `get` hit: the upstream's `VALUE …\r\n<data>\r\n` block (the session puts the client's key
 *     and END around it, as it does for an upstream reply);
 *   - with `metaGet`, an `mg` hit whose flags are only `v f s k b` (value, client flags, size, key, base64
 *     key: nothing that changes on the server between two reads of the same value). Each distinct flag
 *     text is its own form, since it is its own reply.
 * Misses and errors are never stored.
 *
 * Bounds. `maxBytes` over everything held: each entry's key plus, per form, the reply bytes and the form
 * tag (the JS objects around them are not counted). `maxEntries` over the number of item
 * keys. A reply whose key + form + bytes exceed `maxItemBytes` is not stored. Over a bound, the least
 * recently used entry goes (a hit or a fill makes an entry the most recent). At most `maxFormsPerKey`
 * forms per key; a further one replaces the oldest.
 *
 * Freshness. A form stored at time t (the moment its reply arrived) is served while now - t < ttlMs,
 * then dropped at the next lookup. Nothing is refreshed in the background.
 *
 * Read-your-writes. Every op that can change an item (set add replace append prepend cas, delete, touch,
 * incr decr, gat gats, ms md ma, mg with any flag that is not a pure read; noreply and quiet forms alike)
 * drops the item's entry before it is sent and again when it is answered. A read's reply is stored only
 * if no such write to the same key started after the read was sent: the cache keeps a write clock, a read
 * takes the clock as its ticket, and a write stamps its key with the next tick (the stamps of the last
 * `writeHistory` keys written are kept; a read that started before the newest forgotten stamp does not
 * fill). Together: once a write through this cache is answered, the cache holds only replies to reads of
 * that key sent after the answer. `flush_all` through the process (flushAllNearCaches) empties every
 * NearCache at once.
 *
 * Writes that do not pass through this cache (other processes, other branches of the route tree, the
 * server's own expiry and eviction) are seen only when the entry's ttlMs runs out: a reply served from
 * here is at most ttlMs old.
 *
 * Passed through untouched: reads that carry a CAS or server state (`gets`, `me`, `mg` with any of
 * `t c h l O u P L`), and every op that is neither a read nor a write (version, stats, mn). Reads in a
 * shadow context neither hit nor fill; writes in one still drop entries.
 */
import { opGroup, Reply, routingPrefixLength, type Request } from '../../protocol/types.js';
import type { ReplyCallback, RouteContext, RouteHandle } from '../route-handle.js';

export interface NearCacheOptions {
  /** Bound on the bytes held (keys, replies and form tags). */
  readonly maxBytes: number;
  /** Bound on the number of item keys held (default: none). */
  readonly maxEntries?: number;
  /** A stored reply is served for this many ms after it arrived. */
  readonly ttlMs: number;
  /** One reply, with its key and form, bigger than this is not stored (default maxBytes). */
  readonly maxItemBytes?: number;
  /** Also serve `mg` whose flags are only v, f, s, k, b (default false: classic `get` only). */
  readonly metaGet?: boolean;
  /** Admission at fill time: store this request's hit? (default: every hit). */
  readonly admit?: (req: Request) => boolean;
  /** Bump the `localCache*` counters of the route context's RouteStats (LocalCacheRoute does). */
  readonly countInRouteStats?: boolean;
  /** Write stamps remembered for the fill check (default 8192). */
  readonly writeHistory?: number;
  /** Read forms kept per item key (default 4). */
  readonly maxFormsPerKey?: number;
  /** Monotonic ms (default performance.now). */
  readonly clock?: () => number;
}

/**
 * What the cache does with a request: `read` (cacheable: served from the cache, or routed and its hit
 * stored), `pass` (routed as is; the cache is neither read nor changed) or `write` (may change the item:
 * its entry is dropped before it is sent and when it is answered).
 */
export type NearCacheAction = 'read' | 'pass' | 'write';

interface Form {
  readonly form: string;
  readonly reply: Reply;
  readonly storedAt: number;
  readonly bytes: number;
}

interface Entry {
  readonly forms: Form[];
  /** Key length plus every form's bytes. */
  bytes: number;
}

/** Bumped by flushAllNearCaches(); every NearCache empties itself when it sees a new value. */
let flushGeneration = 0;

/**
 * `flush_all` went through this process: every NearCache drops everything, and reads in flight do not
 * fill. Call it when the flush is sent and again when it is answered (as a write drops its key twice).
 */
export function flushAllNearCaches(): void {
  flushGeneration++;
}

/** memcached: a flush_all delay (or exptime) above this many seconds is a unix time. */
const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30;
/** setTimeout's longest delay; longer waits are chained. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * `flush_all <delay>`: memcached drops, once the delay is over, every item stored before then, so every
 * NearCache empties itself again at that time (`delaySeconds` as memcached reads it: relative, or a unix
 * time above 30 days). The timer does not keep the process alive.
 */
export function flushAllNearCachesAfter(delaySeconds: number, nowMs: number = Date.now()): void {
  if (!Number.isFinite(delaySeconds) || delaySeconds <= 0) return;
  const atMs = delaySeconds > MAX_RELATIVE_SECONDS ? delaySeconds * 1000 : nowMs + delaySeconds * 1000;
  const arm = (): void => {
    const left = atMs - Date.now();
    if (left <= 0) {
      flushAllNearCaches();
      return;
    }
    setTimeout(arm, Math.min(left, MAX_TIMER_MS)).unref();
  };
  arm();
}

// mg flag bytes.
const F_V = 0x76;
const F_F = 0x66;
const F_S = 0x73;
const F_K = 0x6b;
const F_B = 0x62;
const F_T_LOWER = 0x74;
const F_C = 0x63;
const F_H = 0x68;
const F_L = 0x6c;
const F_O = 0x4f;
const F_U = 0x75;
const F_P = 0x50;
const F_L_UPPER = 0x4c;
const SPACE = 0x20;

/**
 * mg: `read` when every flag is one of `v f s k b` (and `metaGet` is on); `pass` when the flags only read
 * server state (`t c h l O u P L` besides those); `write` otherwise (`N` vivify, `T` touch, `R` and the rest).
 */
function metaGetAction(tail: Buffer, metaGet: boolean): NearCacheAction {
  let action: NearCacheAction = metaGet ? 'read' : 'pass';
  let atTokenStart = true;
  for (let i = 0; i < tail.length; i++) {
    const c = tail[i] as number;
    if (c === SPACE) {
      atTokenStart = true;
      continue;
    }
    if (!atTokenStart) continue;
    atTokenStart = false;
    switch (c) {
      case F_V: case F_F: case F_S: case F_K: case F_B:
        break;
      case F_T_LOWER: case F_C: case F_H: case F_L: case F_O: case F_U: case F_P: case F_L_UPPER:
        action = 'pass';
        break;
      default:
        return 'write';
    }
  }
  return action;
}

/** What a NearCache does with `req` (see NearCacheAction). */
export function nearCacheAction(req: Request, metaGet: boolean): NearCacheAction {
  const op = req.op;
  if (op === 'get') return 'read';
  if (op === 'mg') return metaGetAction(req.tail, metaGet);
  if (op === 'gat' || op === 'gats') return 'write';
  const g = opGroup(op);
  return g === 'update_like' || g === 'delete_like' || g === 'arithmetic_like' ? 'write' : 'pass';
}

/** The item key of `req`: its key without the routing prefix, as a latin1 string (one char per byte). */
export function itemKeyOf(req: Request): string {
  const key = req.key;
  return key.toString('latin1', routingPrefixLength(key), key.length);
}

/**
 * The read form of a cacheable `req`: '' for a classic get without routing prefix (the common case);
 * otherwise the mg flag text and the routing prefix, which together decide the reply's bytes.
 */
export function readFormOf(req: Request): string {
  const plen = routingPrefixLength(req.key);
  const shape = req.op === 'get' ? '' : `mg${req.tail.toString('latin1')}`;
  if (plen === 0 && shape === '') return '';
  // The flag text holds no line break, so the first '\n' splits the two parts.
  return `${shape}\n${req.key.toString('latin1', 0, plen)}`;
}

/** The store and its routing rule; see the module comment. */
export class NearCache {
  /** Item key → entry, least recently used first (Map order; a use re-inserts at the end). */
  private readonly entries = new Map<string, Entry>();
  /** Item key → the write clock of its last write, oldest first (bounded by writeHistory). */
  private readonly writes = new Map<string, number>();
  /** The write clock: +1 per write (and per clear). */
  private clockTick = 0;
  /** Reads with a ticket below this cannot be checked (their writes were forgotten): they do not fill. */
  private floor = 0;
  private seenFlush = flushGeneration;
  private heldBytes = 0;

  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly maxItemBytes: number;
  readonly ttlMs: number;
  readonly metaGet: boolean;
  private readonly admit: ((req: Request) => boolean) | null;
  private readonly countInRouteStats: boolean;
  private readonly writeHistory: number;
  private readonly maxFormsPerKey: number;
  private readonly now: () => number;

  /** Lookups answered from the cache. */
  hits = 0;
  /** Lookups not answered (no entry, no such form, or expired). */
  misses = 0;
  /** Replies stored. */
  fills = 0;
  /** Entries (or forms beyond maxFormsPerKey) dropped to stay within the bounds. */
  evictions = 0;
  /** Entries dropped by writes (counted when there was one to drop). */
  invalidations = 0;
  /** Forms dropped because they outlived ttlMs. */
  expirations = 0;
  /** Hits not stored because a write to the key started while the read was in flight. */
  raced = 0;
  /** Hits not stored because they exceed maxItemBytes. */
  tooBig = 0;

  constructor(opts: NearCacheOptions) {
    this.maxBytes = opts.maxBytes;
    this.maxEntries = opts.maxEntries ?? Number.POSITIVE_INFINITY;
    this.maxItemBytes = Math.min(opts.maxItemBytes ?? opts.maxBytes, opts.maxBytes);
    this.ttlMs = opts.ttlMs;
    this.metaGet = opts.metaGet ?? false;
    this.admit = opts.admit ?? null;
    this.countInRouteStats = opts.countInRouteStats ?? false;
    this.writeHistory = Math.max(1, opts.writeHistory ?? 8192);
    this.maxFormsPerKey = Math.max(1, opts.maxFormsPerKey ?? 4);
    this.now = opts.clock ?? (() => performance.now());
  }

  /** Bytes held (keys, replies and form tags). */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Item keys held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Route `req` to `child` through the cache: a cacheable read is answered from the cache when it can be
   * (synchronously), else routed and its hit stored; a write drops the key's entry before it is sent and
   * again when it is answered; everything else goes to `child` untouched.
   */
  route(child: RouteHandle, req: Request, ctx: RouteContext, done: ReplyCallback): void {
    const action = nearCacheAction(req, this.metaGet);
    if (action === 'pass') {
      child.route(req, ctx, done);
      return;
    }
    const key = itemKeyOf(req);
    if (action === 'write') {
      this.invalidate(key);
      child.route(req, ctx, (reply) => {
        this.invalidate(key);
        done(reply);
      });
      return;
    }
    if (ctx.shadow) {
      child.route(req, ctx, done);
      return;
    }
    const form = readFormOf(req);
    const hit = this.lookup(key, form, this.now());
    const counted = this.countInRouteStats;
    if (hit !== null) {
      if (counted) ctx.stats.localCacheHits++;
      done(hit);
      return;
    }
    if (counted) ctx.stats.localCacheMisses++;
    const ticket = this.ticket();
    child.route(req, ctx, (reply) => {
      if (reply.result === 'found' && reply.raw !== null && (this.admit === null || this.admit(req))) {
        const evicted = this.evictions;
        if (this.fill(key, form, reply, ticket, this.now()) && counted) {
          ctx.stats.localCacheFills++;
          ctx.stats.localCacheEvictions += this.evictions - evicted;
        }
      }
      done(reply);
    });
  }

  /** The reply stored for `key` in read form `form`, if it is younger than ttlMs at `now`; counts a hit or miss. */
  lookup(key: string, form: string, now: number): Reply | null {
    this.syncFlush();
    const e = this.entries.get(key);
    if (e !== undefined) {
      const forms = e.forms;
      for (let i = 0; i < forms.length; i++) {
        const f = forms[i] as Form;
        if (f.form !== form) continue;
        if (now - f.storedAt >= this.ttlMs) {
          this.dropForm(key, e, i);
          this.expirations++;
          break;
        }
        // Most recently used: move to the end of the Map order.
        this.entries.delete(key);
        this.entries.set(key, e);
        this.hits++;
        return f.reply;
      }
    }
    this.misses++;
    return null;
  }

  /** The ticket a read takes before it is sent: pass it to fill() with the read's reply. */
  ticket(): number {
    return this.clockTick;
  }

  /**
   * Store a copy of `reply` (a hit for `key` in form `form`, arrived at `now`), unless a write to `key`
   * started after the read took `ticket`, or it exceeds maxItemBytes. Evicts to stay within the bounds.
   * @return true when it was stored
   */
  fill(key: string, form: string, reply: Reply, ticket: number, now: number): boolean {
    this.syncFlush();
    const raw = reply.raw;
    if (raw === null) return false;
    const stamp = this.writes.get(key);
    if (ticket < this.floor || (stamp !== undefined && stamp > ticket)) {
      this.raced++;
      return false;
    }
    const formBytes = form.length + raw.length;
    if (key.length + formBytes > this.maxItemBytes) {
      this.tooBig++;
      return false;
    }
    // An owned copy of exactly this size: the upstream reply is a view into a connection's read buffer,
    // which is reused, and a pooled copy would pin a shared slab.
    const copy = Buffer.allocUnsafeSlow(raw.length);
    raw.copy(copy, 0, 0, raw.length);
    const stored: Form = { form, reply: new Reply(reply.result, copy, reply.message), storedAt: now, bytes: formBytes };
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { forms: [], bytes: key.length };
      this.heldBytes += key.length;
    } else {
      this.entries.delete(key);
    }
    this.entries.set(key, e);
    const forms = e.forms;
    let i = 0;
    while (i < forms.length && (forms[i] as Form).form !== form) i++;
    if (i < forms.length) {
      this.removeFormAt(e, i);
    } else if (forms.length >= this.maxFormsPerKey) {
      this.removeFormAt(e, 0);
      this.evictions++;
    }
    forms.push(stored);
    e.bytes += formBytes;
    this.heldBytes += formBytes;
    this.fills++;
    this.evictToBounds();
    return true;
  }

  /** A write to `key` starts or was answered: drop its entry, and stop reads sent before now from filling. */
  invalidate(key: string): void {
    this.syncFlush();
    const stamp = ++this.clockTick;
    const writes = this.writes;
    // Re-inserted at the end, so the Map stays in stamp order and the oldest stamp is first.
    writes.delete(key);
    writes.set(key, stamp);
    if (writes.size > this.writeHistory) {
      const oldest = writes.entries().next();
      if (oldest.done !== true) {
        writes.delete(oldest.value[0]);
        if (oldest.value[1] > this.floor) this.floor = oldest.value[1];
      }
    }
    const e = this.entries.get(key);
    if (e !== undefined) {
      this.entries.delete(key);
      this.heldBytes -= e.bytes;
      this.invalidations++;
    }
  }

  /** Drop everything; reads in flight do not fill. */
  clear(): void {
    this.entries.clear();
    this.writes.clear();
    this.heldBytes = 0;
    this.floor = ++this.clockTick;
  }

  private syncFlush(): void {
    if (this.seenFlush !== flushGeneration) {
      this.seenFlush = flushGeneration;
      this.clear();
    }
  }

  private removeFormAt(e: Entry, i: number): void {
    const f = e.forms[i] as Form;
    e.forms.splice(i, 1);
    e.bytes -= f.bytes;
    this.heldBytes -= f.bytes;
  }

  private dropForm(key: string, e: Entry, i: number): void {
    this.removeFormAt(e, i);
    if (e.forms.length === 0) {
      this.entries.delete(key);
      this.heldBytes -= e.bytes;
    }
  }

  private evictToBounds(): void {
    const entries = this.entries;
    while (this.heldBytes > this.maxBytes || entries.size > this.maxEntries) {
      const first = entries.entries().next();
      if (first.done === true) break;
      entries.delete(first.value[0]);
      this.heldBytes -= first.value[1].bytes;
      this.evictions++;
    }
  }
}
