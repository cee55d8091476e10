import { afterEach, describe, expect, test, vi } from 'vitest';
import { Reply } from '../../../src/protocol/types.js';
import { flushAllNearCachesAfter, NearCache } from '../../../src/routes/util/near-cache.js';
import { HotKeyCache } from '../../../src/observe/hot-key-cache.js';
import { FakeRoute, makeRequest, routeSync } from './helpers/fake-route.js';

const hit = (key: string, data: string): Reply => new Reply('found', Buffer.from(`VALUE ${key} 0 ${data.length}\r\n${data}\r\n`, 'latin1'));

afterEach(() => {
  vi.useRealTimers();
});

describe('NearCache', () => {
  test('a read older than the remembered write history does not fill', () => {
    const cache = new NearCache({ maxBytes: 1 << 20, ttlMs: 1000, writeHistory: 4 });
    const ticket = cache.ticket();
    for (let i = 0; i < 4; i++) cache.invalidate(`other${i}`);
    // Four writes to other keys: still within the history, so the read may fill.
    expect(cache.fill('k', '', hit('k', 'v'), ticket, 0)).toBe(true);
    const late = cache.ticket();
    cache.invalidate('k');
    const old = cache.ticket();
    for (let i = 0; i < 5; i++) cache.invalidate(`more${i}`);
    // The write to k was forgotten; a read that started before it must not fill.
    expect(cache.fill('k', '', hit('k', 'v'), late, 0)).toBe(false);
    // Nor one that started after it but before a forgotten stamp (it could have been k's)...
    expect(cache.fill('k', '', hit('k', 'v'), old, 0)).toBe(false);
    // ...while one that started after every forgotten stamp may.
    expect(cache.fill('k', '', hit('k', 'v'), cache.ticket(), 0)).toBe(true);
  });

  test('maxEntries bounds the keys; forms beyond maxFormsPerKey replace the oldest', () => {
    const cache = new NearCache({ maxBytes: Number.POSITIVE_INFINITY, maxEntries: 2, ttlMs: 1000, maxFormsPerKey: 2 });
    for (const k of ['a', 'b', 'c']) cache.fill(k, '', hit(k, 'v'), cache.ticket(), 0);
    expect(cache.size).toBe(2);
    expect(cache.lookup('a', '', 0)).toBeNull();
    for (const f of ['f1', 'f2', 'f3']) cache.fill('b', f, hit('b', f), cache.ticket(), 0);
    expect(cache.lookup('b', 'f1', 0)).toBeNull();
    expect(cache.lookup('b', 'f3', 0)?.raw?.toString()).toContain('f3');
    // Bytes add up to keys plus form tags plus replies.
    const expected = ['b', 'c'].reduce((n, k) => n + k.length, 0)
      + ['f2', 'f3'].reduce((n, f) => n + f.length + (hit('b', f).raw as Buffer).length, 0)
      + (hit('c', 'v').raw as Buffer).length;
    expect(cache.bytes).toBe(expected);
  });

  test('a delayed flush_all empties the caches when it takes effect', () => {
    vi.useFakeTimers();
    const cache = new NearCache({ maxBytes: 1 << 20, ttlMs: 60_000 });
    flushAllNearCachesAfter(5);
    cache.fill('k', '', hit('k', 'v'), cache.ticket(), 0);
    vi.advanceTimersByTime(4900);
    expect(cache.lookup('k', '', 0)).not.toBeNull();
    vi.advanceTimersByTime(200);
    expect(cache.lookup('k', '', 0)).toBeNull();
  });
});

describe('HotKeyCache on NearCache', () => {
  test('only hot keys under the prefixes are stored; the counters read the store', () => {
    const hot = new Set(['h:1']);
    const cache = new HotKeyCache({ prefixes: ['h:'], ttlMs: 1000, maxEntries: 10, isHot: (k) => hot.has(k) });
    const child = new FakeRoute('c', (req) => (req.op === 'get' ? hit(req.keyString(), 'v') : new Reply('stored')));
    const route = cache.wrap(child);
    for (const k of ['h:1', 'h:1', 'h:2', 'h:2', 'x:1', 'x:1']) routeSync(route, makeRequest('get', k));
    expect(child.keys).toEqual(['h:1', 'h:2', 'h:2', 'x:1', 'x:1']);
    expect([cache.hits, cache.fills, cache.size]).toEqual([1, 1, 1]);
    routeSync(route, makeRequest('set', 'h:1', 'new'));
    expect([cache.invalidations, cache.size]).toEqual([1, 0]);
    // A mg is never served from the hot-key cache.
    expect(cache.store.metaGet).toBe(false);
  });
});
