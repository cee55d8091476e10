/**
 * Test doubles for route unit tests (mcrouter's TestHandle idea): children that answer with canned replies
 * and record what they received, a RouteContext that records background work, and request makers.
 * No sockets anywhere.
 */
import { pino } from 'pino';
import { Reply, Request, type Op, type Result } from '../../../../src/protocol/types.js';
import {
  RouteStats,
  type ReplyCallback,
  type RouteContext,
  type RouteHandle,
  type SpawnKind,
  Traversal,
} from '../../../../src/routes/route-handle.js';

export type ReplySource = Reply | Result | ((req: Request) => Reply);

export interface FakeRouteOptions {
  /** Reply on a later macrotask instead of synchronously (default false). */
  async?: boolean;
  /** Never call `done` (to test timeouts / background work). */
  hang?: boolean;
}

/** A leaf that replies with `reply` (a Reply, a result name, or a function of the request). */
export class FakeRoute implements RouteHandle {
  readonly type = 'FakeRoute';
  readonly seen: Request[] = [];
  /** Requests whose `done` has not been called yet (only with `hang`). */
  readonly pending: { req: Request; done: ReplyCallback }[] = [];

  /** route_handles shows a fake leaf by its name. */
  readonly routeNames: readonly string[];

  constructor(
    readonly name: string,
    private readonly reply: ReplySource = 'notfound',
    private readonly opts: FakeRouteOptions = {},
  ) {
    this.routeNames = [name];
  }

  /** Keys (as text) of every request seen, in order. */
  get keys(): string[] {
    return this.seen.map((r) => r.keyString());
  }

  replyFor(req: Request): Reply {
    const r = this.reply;
    if (typeof r === 'function') return r(req);
    if (typeof r === 'string') return new Reply(r);
    return r;
  }

  route(req: Request, _ctx: RouteContext, done: ReplyCallback): void {
    this.seen.push(req);
    if (this.opts.hang === true) {
      this.pending.push({ req, done });
      return;
    }
    const reply = this.replyFor(req);
    if (this.opts.async === true) setTimeout(() => done(reply), 0);
    else done(reply);
  }

  traverse(_req: Request, t: Traversal): void {
    t.destination(this.name);
  }
}

export interface SpawnRecord {
  handle: RouteHandle;
  req: Request;
  kind: SpawnKind;
  /** Filled when the spawned route replied. */
  reply: Reply | null;
}

export interface TestContext extends RouteContext {
  readonly spawned: SpawnRecord[];
  readonly stats: RouteStats;
}

export interface TestContextOptions {
  /** Max spawned tasks accepted; further ones return false (default unlimited). */
  spawnCap?: number;
  /** Run spawned work right away (default true); otherwise only record it. */
  runSpawned?: boolean;
  hostId?: number;
  shadow?: boolean;
}

/** A RouteContext that records spawned background work and runs it (by default) immediately. */
export function makeTestContext(opts: TestContextOptions = {}): TestContext {
  const spawned: SpawnRecord[] = [];
  const stats = new RouteStats();
  const log = pino({ level: 'silent' });
  const cap = opts.spawnCap ?? Number.POSITIVE_INFINITY;
  const run = opts.runSpawned ?? true;
  const make = (shadow: boolean, shadowCtx: TestContext | null): TestContext => {
    const ctx: TestContext = {
      shadow,
      get shadowContext(): RouteContext {
        return shadowCtx ?? ctx;
      },
      spawned,
      stats,
      log,
      hostId: opts.hostId ?? 0,
      spawn(handle: RouteHandle, req: Request, kind: SpawnKind): boolean {
        if (spawned.length >= cap) {
          if (kind === 'shadow') stats.shadowDropped++;
          else if (kind === 'async') stats.asyncDropped++;
          else stats.refillDropped++;
          return false;
        }
        const rec: SpawnRecord = { handle, req, kind, reply: null };
        spawned.push(rec);
        if (kind === 'shadow') stats.shadowSent++;
        else if (kind === 'async') stats.asyncSent++;
        if (run) handle.route(req, kind === 'shadow' ? ctx.shadowContext : ctx, (r) => { rec.reply = r; });
        return true;
      },
    };
    return ctx;
  };
  if (opts.shadow === true) return make(true, null);
  const shadowCtx = make(true, null);
  return make(false, shadowCtx);
}

const STORAGE: ReadonlySet<Op> = new Set<Op>(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

/**
 * Build a Request without the parser: `makeRequest('get', 'foo')`, `makeRequest('set', '/a/b/k', 'value')`.
 * Storage ops get a `flags exptime bytes` tail; `exptime` defaults to 0.
 */
export function makeRequest(op: Op, key: string, value: string | null = null, exptime = 0): Request {
  const head = Buffer.from(`${op} `, 'latin1');
  let tail = '';
  let val: Buffer | null = null;
  if (STORAGE.has(op) || op === 'ms') {
    val = Buffer.from(value ?? '', 'latin1');
    tail = op === 'ms' ? ` ${val.length}` : ` 0 ${exptime} ${val.length}${op === 'cas' ? ' 1' : ''}`;
  } else if (op === 'touch') {
    tail = ` ${exptime}`;
  } else if (op === 'incr' || op === 'decr') {
    tail = ` ${value ?? '1'}`;
  }
  return new Request(op, Buffer.from(key, 'latin1'), head, Buffer.from(tail, 'latin1'), val, false, exptime);
}

/** Route and return the reply, failing the test if `done` is not called synchronously. */
export function routeSync(handle: RouteHandle, req: Request, ctx: RouteContext = makeTestContext()): Reply {
  let out: Reply | null = null;
  let calls = 0;
  handle.route(req, ctx, (r) => {
    calls++;
    out = r;
  });
  if (calls !== 1 || out === null) throw new Error(`${handle.name}: done called ${calls} times synchronously (expected 1)`);
  return out;
}

/** Route and resolve with the reply; rejects if `done` is called more than once. */
export function routeOnce(handle: RouteHandle, req: Request, ctx: RouteContext = makeTestContext()): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    handle.route(req, ctx, (r) => {
      calls++;
      if (calls > 1) reject(new Error(`${handle.name}: done called ${calls} times`));
      else resolve(r);
    });
  });
}

/** Destinations a request would reach (dry run). */
export function traverseDestinations(handle: RouteHandle, req: Request): string[] {
  const t = new Traversal();
  handle.traverse(req, t);
  return t.destinations;
}
