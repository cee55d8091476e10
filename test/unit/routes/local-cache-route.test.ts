import { describe, expect, test } from 'vitest';
import { Reply, Request, type Op } from '../../../src/protocol/types.js';
import { LocalCacheRoute, type LocalCacheSettings } from '../../../src/routes/local-cache-route.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from '../../../src/routes/route-handle.js';
import { flushAllNearCaches } from '../../../src/routes/util/near-cache.js';
import { FakeRoute, makeRequest, makeTestContext, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { MemRoute } from './helpers/mem-route.js';
import { buildRoute, configError } from './helpers/fake-leaf-config.js';

const SETTINGS: LocalCacheSettings = { maxBytes: 1 << 20, ttlMs: 1000, maxItemFraction: 1, metaGet: true };

/** A fake monotonic clock the test moves by hand. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

function cacheOver(child: RouteHandle, settings: Partial<LocalCacheSettings> = {}, clock = fakeClock()): LocalCacheRoute {
  return new LocalCacheRoute(child, { ...SETTINGS, ...settings }, clock.now);
}

const text = (r: Reply): string => (r.raw === null ? r.result : r.raw.toString('latin1'));

/** Gets of `key` the child has seen so far. */
const getsSeen = (child: FakeRoute, key: string, op: Op = 'get'): number => child.seen.filter((r) => r.op === op && r.keyString() === key).length;

/** A meta request as the parser makes it: head `mg `, the flags after the key in tail. */
function metaRequest(op: Op, key: string, flags: string, value: string | null = null): Request {
  const tail = value === null ? flags : ` ${value.length}${flags}`;
  return new Request(op, Buffer.from(key, 'latin1'), Buffer.from(`${op} `), Buffer.from(tail, 'latin1'), value === null ? null : Buffer.from(value), false, 0);
}

/** A child that answers nothing until the test says so, in any order. */
class ScriptedChild implements RouteHandle {
  readonly type = 'ScriptedChild';
  readonly name = 'scripted';
  readonly routeNames: readonly string[] = ['scripted'];
  readonly pending: { req: Request; done: ReplyCallback }[] = [];

  route(req: Request, _ctx: RouteContext, done: ReplyCallback): void {
    this.pending.push({ req, done });
  }

  /** Answer the oldest pending request for `op` with `reply`. */
  answer(op: Op, reply: Reply): void {
    const i = this.pending.findIndex((p) => p.req.op === op);
    if (i < 0) throw new Error(`no pending ${op}`);
    const [p] = this.pending.splice(i, 1);
    p?.done(reply);
  }

  traverse(_req: Request, t: Traversal): void {
    t.destination('scripted');
  }
}

const hit = (key: string, data: string, flags = 0): Reply => new Reply('found', Buffer.from(`VALUE ${key} ${flags} ${data.length}\r\n${data}\r\n`, 'latin1'));

describe('LocalCacheRoute: reads', () => {
  test('a get hit is stored and served again without a request to the child, byte for byte', () => {
    const mem = new MemRoute('m');
    mem.put('k', 'hello', 7);
    const route = cacheOver(mem);
    const first = routeSync(route, makeRequest('get', 'k'));
    const second = routeSync(route, makeRequest('get', 'k'));
    expect(getsSeen(mem, 'k')).toBe(1);
    expect(text(second)).toBe(text(first));
    expect(text(second)).toBe('VALUE k 7 5\r\nhello\r\n');
    expect([route.hits, route.misses, route.fills]).toEqual([1, 1, 1]);
  });

  test('misses and errors are not stored', () => {
    const child = new FakeRoute('c', (req) => (req.keyString() === 'err' ? new Reply('timeout') : new Reply('notfound')));
    const route = cacheOver(child);
    for (let i = 0; i < 3; i++) {
      expect(routeSync(route, makeRequest('get', 'nope')).result).toBe('notfound');
      expect(routeSync(route, makeRequest('get', 'err')).result).toBe('timeout');
    }
    expect(child.seen.length).toBe(6);
    expect(route.fills).toBe(0);
    expect(route.bytes).toBe(0);
  });

  test('the stored value is a copy: reusing the upstream buffer does not change it', () => {
    // The child answers with views into one buffer it overwrites for every reply, as a connection's
    // read buffer is reused.
    const arena = Buffer.alloc(64);
    const child = new FakeRoute('c', (req) => {
      const block = Buffer.from(`VALUE ${req.keyString()} 0 3\r\n${req.keyString().slice(0, 3)}\r\n`, 'latin1');
      arena.fill(0x2e);
      block.copy(arena, 8);
      return new Reply('found', arena.subarray(8, 8 + block.length));
    });
    const route = cacheOver(child);
    routeSync(route, makeRequest('get', 'aaa'));
    routeSync(route, makeRequest('get', 'bbb'));
    expect(text(routeSync(route, makeRequest('get', 'aaa')))).toBe('VALUE aaa 0 3\r\naaa\r\n');
    expect(getsSeen(child, 'aaa')).toBe(1);
  });

  test('gets, me and mg with CAS or server-state flags go to the child every time and change nothing', () => {
    const child = new FakeRoute('c', (req) => (req.op === 'get' ? hit('k', 'v') : new Reply('found', Buffer.from('VALUE k 0 1 9\r\nv\r\n'))));
    const route = cacheOver(child);
    routeSync(route, makeRequest('get', 'k'));
    for (const req of [makeRequest('gets', 'k'), metaRequest('me', 'k', ''), metaRequest('mg', 'k', ' v c'), metaRequest('mg', 'k', ' v t'), metaRequest('mg', 'k', ' h l v'), metaRequest('mg', 'k', ' v Oabc')]) {
      routeSync(route, req);
      routeSync(route, req);
    }
    expect(child.seen.filter((r) => r.op !== 'get').length).toBe(12);
    // The classic get entry survived all of them.
    routeSync(route, makeRequest('get', 'k'));
    expect(getsSeen(child, 'k')).toBe(1);
  });

  test('mg with only v f s k b is cached per flag text; meta_get false sends every mg to the child', () => {
    const child = new FakeRoute('c', (req) => new Reply('found', Buffer.from(`VA 1${req.tail.toString()}\r\nv\r\n`)));
    const route = cacheOver(child);
    for (let i = 0; i < 3; i++) {
      expect(text(routeSync(route, metaRequest('mg', 'k', ' v f')))).toBe('VA 1 v f\r\nv\r\n');
      expect(text(routeSync(route, metaRequest('mg', 'k', ' s k v')))).toBe('VA 1 s k v\r\nv\r\n');
    }
    expect(child.seen.length).toBe(2);

    const off = new FakeRoute('c', (req) => new Reply('found', Buffer.from(`VA 1${req.tail.toString()}\r\nv\r\n`)));
    const noMeta = cacheOver(off, { metaGet: false });
    for (let i = 0; i < 3; i++) routeSync(noMeta, metaRequest('mg', 'k', ' v f'));
    expect(off.seen.length).toBe(3);
  });

  test('entries older than ttl_ms are not served', () => {
    const clock = fakeClock();
    const mem = new MemRoute('m');
    mem.put('k', 'v1');
    const route = cacheOver(mem, { ttlMs: 100 }, clock);
    routeSync(route, makeRequest('get', 'k'));
    // Written behind the cache's back: the old value is served until it is ttl_ms old.
    mem.put('k', 'v2');
    clock.advance(99);
    expect(text(routeSync(route, makeRequest('get', 'k')))).toContain('v1');
    clock.advance(1);
    expect(text(routeSync(route, makeRequest('get', 'k')))).toContain('v2');
    expect(getsSeen(mem, 'k')).toBe(2);
    expect(route.cache.expirations).toBe(1);
  });

  test('a shadow read neither hits nor fills', () => {
    const mem = new MemRoute('m');
    mem.put('k', 'v');
    const route = cacheOver(mem);
    const shadow = makeTestContext({ shadow: true });
    routeSync(route, makeRequest('get', 'k'), shadow);
    routeSync(route, makeRequest('get', 'k'), shadow);
    expect(route.fills).toBe(0);
    routeSync(route, makeRequest('get', 'k'));
    routeSync(route, makeRequest('get', 'k'), shadow);
    expect(getsSeen(mem, 'k')).toBe(4);
  });
});

describe('LocalCacheRoute: own writes', () => {
  const WRITES: readonly (() => Request)[] = [
    () => makeRequest('set', 'k', 'new'),
    () => makeRequest('add', 'k', 'new'),
    () => makeRequest('replace', 'k', 'new'),
    () => makeRequest('append', 'k', 'x'),
    () => makeRequest('prepend', 'k', 'x'),
    () => makeRequest('cas', 'k', 'new'),
    () => makeRequest('delete', 'k'),
    () => makeRequest('touch', 'k', null, 10),
    () => makeRequest('incr', 'k'),
    () => makeRequest('decr', 'k'),
    () => makeRequest('gat', 'k', null, 10),
    () => makeRequest('gats', 'k', null, 10),
    () => metaRequest('ms', 'k', '', 'new'),
    () => metaRequest('md', 'k', ''),
    () => metaRequest('ma', 'k', ''),
    () => metaRequest('mg', 'k', ' v T30'),
    () => metaRequest('mg', 'k', ' v N30'),
    // noreply / quiet forms: the parser strips the word and sets `quiet`.
    () => { const r = makeRequest('set', 'k', 'new'); return new Request(r.op, r.key, r.head, r.tail, r.value, true, 0); },
    () => { const r = metaRequest('md', 'k', ''); return new Request(r.op, r.key, r.head, r.tail, r.value, true, 0); },
  ];

  test.each(WRITES.map((w) => [`${w().op}${w().quiet ? ' (quiet)' : ''}${w().tail.toString()}`, w] as const))('%s drops the entry', (_name, write) => {
    const child = new FakeRoute('c', (req) => (req.op === 'get' ? hit('k', 'v') : new Reply('stored')));
    const route = cacheOver(child);
    routeSync(route, makeRequest('get', 'k'));
    routeSync(route, makeRequest('get', 'k'));
    expect(getsSeen(child, 'k')).toBe(1);
    routeSync(route, write());
    expect(route.bytes).toBe(0);
    routeSync(route, makeRequest('get', 'k'));
    expect(getsSeen(child, 'k')).toBe(2);
  });

  test('a write is read back at once, through a real store', () => {
    const mem = new MemRoute('m');
    const route = cacheOver(mem);
    routeSync(route, makeRequest('set', 'k', 'one'));
    expect(text(routeSync(route, makeRequest('get', 'k')))).toContain('one');
    routeSync(route, makeRequest('set', 'k', 'two'));
    expect(text(routeSync(route, makeRequest('get', 'k')))).toContain('two');
    routeSync(route, makeRequest('delete', 'k'));
    expect(routeSync(route, makeRequest('get', 'k')).result).toBe('notfound');
  });

  test('a write under a routing prefix drops the plain key (the server stores one item)', () => {
    const child = new FakeRoute('c', (req) => (req.op === 'get' ? hit('k', 'v') : new Reply('stored')));
    const route = cacheOver(child);
    routeSync(route, makeRequest('get', 'k'));
    routeSync(route, makeRequest('get', '/a/b/k'));
    routeSync(route, makeRequest('set', '/a/b/k', 'x'));
    routeSync(route, makeRequest('get', 'k'));
    routeSync(route, makeRequest('get', '/a/b/k'));
    expect(getsSeen(child, 'k') + getsSeen(child, '/a/b/k')).toBe(4);
  });

  test('a get answered after a write started is not stored', () => {
    const child = new ScriptedChild();
    const route = cacheOver(child);
    const ctx = makeTestContext();
    const replies: string[] = [];
    route.route(makeRequest('get', 'k'), ctx, (r) => replies.push(text(r)));
    route.route(makeRequest('set', 'k', 'new'), ctx, (r) => replies.push(r.result));
    // The get raced the set: its old value reaches the client but is not kept.
    child.answer('get', hit('k', 'old'));
    child.answer('set', new Reply('stored'));
    expect(replies).toEqual(['VALUE k 0 3\r\nold\r\n', 'stored']);
    expect(route.fills).toBe(0);
    expect(route.cache.raced).toBe(1);
    route.route(makeRequest('get', 'k'), ctx, () => {});
    expect(child.pending.length).toBe(1);
  });

  test('a get sent while a write is in flight may fill, but the write\'s answer drops it', () => {
    const child = new ScriptedChild();
    const route = cacheOver(child);
    const ctx = makeTestContext();
    route.route(makeRequest('set', 'k', 'new'), ctx, () => {});
    route.route(makeRequest('get', 'k'), ctx, () => {});
    // The server answered the get before applying the set (another connection): the old value.
    child.answer('get', hit('k', 'old'));
    expect(route.fills).toBe(1);
    child.answer('set', new Reply('stored'));
    expect(route.bytes).toBe(0);
    route.route(makeRequest('get', 'k'), ctx, () => {});
    expect(child.pending.length).toBe(1);
  });

  test('writes to other keys do not stop a get from filling', () => {
    const child = new ScriptedChild();
    const route = cacheOver(child);
    const ctx = makeTestContext();
    route.route(makeRequest('get', 'k'), ctx, () => {});
    for (let i = 0; i < 100; i++) route.route(makeRequest('set', `other${i}`, 'x'), ctx, () => {});
    child.answer('get', hit('k', 'v'));
    expect(route.fills).toBe(1);
  });

  test('flush_all through the process empties the cache', () => {
    const mem = new MemRoute('m');
    mem.put('k', 'v');
    const route = cacheOver(mem);
    routeSync(route, makeRequest('get', 'k'));
    flushAllNearCaches();
    routeSync(route, makeRequest('get', 'k'));
    expect(getsSeen(mem, 'k')).toBe(2);
  });
});

describe('LocalCacheRoute: bounds', () => {
  /** Bytes one entry holds: its key plus the child's reply bytes. */
  const entryBytes = (key: string, data: string): number => key.length + (hit(key, data).raw as Buffer).length;

  test('the byte bound holds, and the least recently used entry goes first', () => {
    const child = new FakeRoute('c', (req) => hit(req.keyString(), 'x'.repeat(20)));
    const one = entryBytes('k0', 'x'.repeat(20));
    const route = cacheOver(child, { maxBytes: 3 * one });
    for (const k of ['k0', 'k1', 'k2']) routeSync(route, makeRequest('get', k));
    expect(route.bytes).toBe(3 * one);
    routeSync(route, makeRequest('get', 'k0')); // k0 is now the most recently used
    routeSync(route, makeRequest('get', 'k3')); // evicts k1
    expect(route.bytes).toBe(3 * one);
    expect(route.evictions).toBe(1);
    const before = child.seen.length;
    for (const k of ['k0', 'k2', 'k3']) routeSync(route, makeRequest('get', k));
    expect(child.seen.length).toBe(before);
    routeSync(route, makeRequest('get', 'k1'));
    expect(child.seen.length).toBe(before + 1);
    for (let i = 0; i < 200; i++) {
      routeSync(route, makeRequest('get', `key${i % 37}`));
      expect(route.bytes).toBeLessThanOrEqual(3 * one);
    }
  });

  test('a value over max_item_fraction of max_bytes is not cached', () => {
    const child = new FakeRoute('c', (req) => hit(req.keyString(), req.keyString() === 'big' ? 'y'.repeat(200) : 'y'));
    const route = cacheOver(child, { maxBytes: 1000, maxItemFraction: 0.1 });
    routeSync(route, makeRequest('get', 'big'));
    routeSync(route, makeRequest('get', 'big'));
    routeSync(route, makeRequest('get', 'small'));
    routeSync(route, makeRequest('get', 'small'));
    expect(getsSeen(child, 'big')).toBe(2);
    expect(getsSeen(child, 'small')).toBe(1);
    expect(route.cache.tooBig).toBe(2);
  });
});

describe('LocalCacheRoute: stats, traverse, config', () => {
  test('hits, misses, fills and evictions are counted in the route stats too', () => {
    const child = new FakeRoute('c', (req) => hit(req.keyString(), 'v'));
    const route = cacheOver(child, { maxBytes: 2 * ('k0'.length + (hit('k0', 'v').raw as Buffer).length) });
    const ctx = makeTestContext();
    for (const k of ['k0', 'k0', 'k1', 'k2']) routeSync(route, makeRequest('get', k), ctx);
    expect([ctx.stats.localCacheHits, ctx.stats.localCacheMisses, ctx.stats.localCacheFills, ctx.stats.localCacheEvictions]).toEqual([1, 3, 3, 1]);
    expect([route.hits, route.misses, route.fills, route.evictions]).toEqual([1, 3, 3, 1]);
  });

  test('traverse visits the child', () => {
    const route = cacheOver(new FakeRoute('leaf'));
    expect(traverseDestinations(route, makeRequest('get', 'k'))).toEqual(['leaf']);
    expect(route.routeNames).toEqual(['local-cache']);
  });

  test('config: defaults, the shorthand, and the options', () => {
    const built = buildRoute({ type: 'LocalCacheRoute', child: 'Fake|a' });
    expect(built.root).toBeInstanceOf(LocalCacheRoute);
    expect((built.root as LocalCacheRoute).settings).toEqual({ maxBytes: 16 * 1024 * 1024, ttlMs: 1000, maxItemFraction: 0.01, metaGet: true });
    const short = buildRoute('LocalCacheRoute|Fake|a').root as LocalCacheRoute;
    expect(short).toBeInstanceOf(LocalCacheRoute);
    expect(short.child.name).toBe('a');
    const set = buildRoute({ type: 'LocalCacheRoute', child: 'Fake|a', max_bytes: 5000, ttl_ms: 20, max_item_fraction: 0.5, meta_get: false }).root as LocalCacheRoute;
    expect(set.settings).toEqual({ maxBytes: 5000, ttlMs: 20, maxItemFraction: 0.5, metaGet: false });
    expect(set.cache.maxItemBytes).toBe(2500);
  });

  test.each([
    [0, '/route/max_bytes'],
    [-1, '/route/max_bytes'],
    [1.5, '/route/max_bytes'],
    ['1MB', '/route/max_bytes'],
  ])('config: max_bytes %j is rejected at %s', (bad, pointer) => {
    const err = configError({ type: 'LocalCacheRoute', child: 'Fake|a', max_bytes: bad });
    expect(err.path).toBe(pointer);
    expect(err.message).toMatch(/^\/route\/max_bytes: LocalCacheRoute: /);
  });

  test('config: bad ttl_ms, max_item_fraction and unknown keys are rejected with their pointer', () => {
    expect(configError({ type: 'LocalCacheRoute', child: 'Fake|a', ttl_ms: 0 }).path).toBe('/route/ttl_ms');
    expect(configError({ type: 'LocalCacheRoute', child: 'Fake|a', max_item_fraction: 0 }).path).toBe('/route/max_item_fraction');
    expect(configError({ type: 'LocalCacheRoute', child: 'Fake|a', max_item_fraction: 2 }).path).toBe('/route/max_item_fraction');
    expect(configError({ type: 'LocalCacheRoute' }).path).toBe('/route');
    const nested = { type: 'PrefixSelectorRoute', policies: { 'a:': { type: 'LocalCacheRoute', child: 'Fake|a', max_bytes: 0 } }, wildcard: 'Fake|b' };
    expect(configError(nested).path).toBe('/route/policies/a:/max_bytes');
  });
});
