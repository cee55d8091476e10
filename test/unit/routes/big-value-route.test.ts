import { describe, expect, test } from 'vitest';
import { buildConfig, DEFAULT_BUILD_OPTIONS } from '../../../src/config/builder.js';
import { inertDestinations } from '../../../src/config/validate.js';
import { storageRequest } from '../../../src/protocol/rewrite.js';
import type { Reply } from '../../../src/protocol/types.js';
import { BIG_VALUE_FLAG, BigValueRoute, bigValueSuffix, parseChunksInfo, type BigValueOptions } from '../../../src/routes/big-value-route.js';
import { spookyHash32 } from '../../../src/routes/hash/spooky-v2.js';
import { RootRoute } from '../../../src/routes/root-route.js';
import { makeRequest, makeTestContext, routeOnce, routeSync, traverseDestinations } from './helpers/fake-route.js';
import { MemRoute } from './helpers/mem-route.js';

const O: BigValueOptions = { threshold: 4, batchSize: 10, hideReplyFlag: false };
const set = (key: string, value: string, flags = 0, exptime = 0) => storageRequest('set', Buffer.from(key), flags, exptime, Buffer.from(value));
const text = (r: Reply): string => r.raw?.toString('latin1') ?? r.result;

describe('BigValueRoute', () => {
  test('values up to the threshold and other ops pass through unchanged', () => {
    const mem = new MemRoute('pool');
    const route = new BigValueRoute(mem, O);
    const req = set('k', 'abcd', 3);
    routeSync(route, req);
    expect(mem.seen[0]).toBe(req);
    expect(mem.items.get('k')).toMatchObject({ flags: 3 });
    for (const r of [makeRequest('delete', 'k'), makeRequest('incr', 'n'), makeRequest('mg', 'k')]) routeSync(route, r);
    expect(mem.seen.slice(1).map((r) => r.op)).toEqual(['delete', 'incr', 'mg']);
  });

  test('a big set: chunks key:<i>:<suffix> of threshold bytes, then the index 1-<n>-<suffix> with flags | 0x8000', () => {
    const mem = new MemRoute('pool');
    const route = new BigValueRoute(mem, O);
    const value = 'abcdefghij'; // 10 bytes, threshold 4: chunks "abcd", "efgh", "ij"
    const suffix = String(spookyHash32(Buffer.from(value), 0) >>> 0);
    expect(bigValueSuffix(Buffer.from(value))).toBe(suffix);
    expect(routeSync(route, set('big', value, 5, 600)).result).toBe('stored');
    expect([...mem.items.keys()]).toEqual([`big:0:${suffix}`, `big:1:${suffix}`, `big:2:${suffix}`, 'big']);
    expect([0, 1, 2].map((i) => mem.value(`big:${i}:${suffix}`))).toEqual(['abcd', 'efgh', 'ij']);
    expect(mem.items.get(`big:0:${suffix}`)).toMatchObject({ flags: 0, exptime: 600 });
    expect(mem.items.get('big')).toMatchObject({ flags: 5 | BIG_VALUE_FLAG, exptime: 600 });
    expect(mem.value('big')).toBe(`1-3-${suffix}`);
    // get reassembles with the index's flags; gets carries the index's CAS token.
    expect(text(routeSync(route, makeRequest('get', 'big')))).toBe(`VALUE big ${5 | BIG_VALUE_FLAG} 10\r\nabcdefghij\r\n`);
    const cas = mem.items.get('big')?.cas;
    expect(text(routeSync(route, makeRequest('gets', 'big')))).toBe(`VALUE big ${5 | BIG_VALUE_FLAG} 10 ${cas}\r\nabcdefghij\r\n`);
    // The chunks were read with plain gets.
    expect(mem.seen.slice(-3).map((r) => `${r.op} ${r.keyString()}`)).toEqual([0, 1, 2].map((i) => `get big:${i}:${suffix}`));
    // hide_reply_flag clears 0x8000 in reassembled hits.
    expect(text(routeSync(new BigValueRoute(mem, { ...O, hideReplyFlag: true }), makeRequest('gat', 'big')))).toBe('VALUE big 5 10\r\nabcdefghij\r\n');
  });

  test('reads an index written by mcrouter (test_bigvalue.py: 1-2-1234, split 5000)', () => {
    const mem = new MemRoute('pool');
    const route = new BigValueRoute(mem, { threshold: 5000, batchSize: 2, hideReplyFlag: false });
    const value = `${'a'.repeat(5000)}a`;
    mem.put('key', '1-2-1234', BIG_VALUE_FLAG);
    mem.put('key:0:1234', value.slice(0, 5000));
    mem.put('key:1:1234', value.slice(5000));
    expect(routeSync(route, makeRequest('get', 'key')).raw?.toString().endsWith(`\r\n${value}\r\n`)).toBe(true);
    // A missing piece makes the whole read a miss; an error piece, that error.
    mem.items.delete('key:1:1234');
    expect(routeSync(route, makeRequest('get', 'key')).result).toBe('notfound');
    mem.failKeys = { match: /^key:0:/, result: 'timeout' };
    expect(routeSync(route, makeRequest('get', 'key')).result).toBe('timeout');
  });

  test('an index that does not parse reads as a miss', () => {
    for (const bad of ['2-1-5', '1-2', 'x', '1-2-3 ', '1-0-5', '']) {
      const mem = new MemRoute('pool');
      mem.put('k', bad, BIG_VALUE_FLAG);
      expect(routeSync(new BigValueRoute(mem, O), makeRequest('get', 'k')).result, bad).toBe('notfound');
    }
    expect(parseChunksInfo(Buffer.from('1-7-18446744073709551615'))).toEqual({ chunks: 7, suffix: '18446744073709551615' });
    expect(parseChunksInfo(Buffer.from('1-7-18446744073709551616'))).toBeNull();
  });

  test('a failed chunk write returns the worst chunk result and writes no index', () => {
    const mem = new MemRoute('pool');
    mem.failKeys = { match: /:1:/, result: 'connect_error' };
    expect(routeSync(new BigValueRoute(mem, O), set('k', 'abcdefghij')).result).toBe('connect_error');
    expect(mem.items.has('k')).toBe(false);
  });

  test('add, replace and cas keep their own command for the index item', () => {
    const mem = new MemRoute('pool');
    const route = new BigValueRoute(mem, O);
    routeSync(route, storageRequest('add', Buffer.from('k'), 1, 0, Buffer.from('abcdefgh')));
    expect(mem.seen.at(-1)?.op).toBe('add');
    expect(routeSync(route, storageRequest('add', Buffer.from('k'), 1, 0, Buffer.from('abcdefgh'))).result).toBe('notstored');
    const cas = mem.items.get('k')?.cas;
    const casReq = makeRequest('cas', 'k', 'abcdefghij');
    const withToken = casReq.withLine(casReq.head, Buffer.from(` 0 0 10 ${cas}`), 0);
    expect(routeSync(route, withToken).result).toBe('stored');
    expect(mem.seen.at(-1)?.tail.toString()).toMatch(new RegExp(` ${BIG_VALUE_FLAG} 0 \\d+ ${cas}$`));
  });

  test('chunks go out at most batch size at a time (0 = all at once)', async () => {
    for (const [batchSize, expected] of [[2, 2], [3, 3], [0, 7]] as const) {
      const mem = new MemRoute('pool', { async: true });
      let inFlight = 0;
      let max = 0;
      const real = mem.route.bind(mem);
      mem.route = (req, ctx, done) => {
        inFlight++;
        max = Math.max(max, inFlight);
        real(req, ctx, (r) => {
          inFlight--;
          done(r);
        });
      };
      const route = new BigValueRoute(mem, { threshold: 2, batchSize, hideReplyFlag: false });
      expect((await routeOnce(route, set('k', 'abcdefghijklm'))).result).toBe('stored'); // 7 chunks
      expect(max, `batch ${batchSize}`).toBe(expected);
      max = 0;
      expect((await routeOnce(route, makeRequest('get', 'k'))).raw?.toString()).toContain('abcdefghijklm');
      expect(max, `batch ${batchSize}`).toBe(expected);
    }
  });

  test('synchronous children work too (replies inside the batch loop)', () => {
    const mem = new MemRoute('pool');
    const route = new BigValueRoute(mem, { threshold: 1, batchSize: 3, hideReplyFlag: false });
    expect(routeSync(route, set('k', 'abcdefg')).result).toBe('stored');
    expect(text(routeSync(route, makeRequest('get', 'k')))).toBe(`VALUE k ${BIG_VALUE_FLAG} 7\r\nabcdefg\r\n`);
  });

  test('--big-value-split-threshold puts it above RootRoute\'s dispatch and turns off the multi-get fast path', () => {
    const pools = { A: { servers: ['127.0.0.1:1'] } };
    const build = (t: number): RootRoute =>
      buildConfig({ pools, route: 'PoolRoute|A' }, { options: { ...DEFAULT_BUILD_OPTIONS, bigValueSplitThreshold: t }, destinations: inertDestinations() }).root;
    expect(build(0).bigValue).toBeNull();
    const root = build(5000);
    expect(root.bigValue?.options).toEqual({ threshold: 5000, batchSize: 10, hideReplyFlag: false });
    const key = Buffer.from('k');
    expect(root.directRange(key, 0, 1)).toBeNull();
    expect(traverseDestinations(root, makeRequest('get', 'k'))).toEqual(['127.0.0.1:1']);
    // Over fake trees: a routed big set is split, whatever alias the key uses.
    const mem = new MemRoute('pool');
    const r = new RootRoute(new Map([['/././', mem]]), '/././', { sendInvalidRouteToDefault: false, bigValueSplitThreshold: 4 });
    expect(routeSync(r, set('k', 'abcdefgh'), makeTestContext()).result).toBe('stored');
    expect(mem.items.size).toBe(3);
    expect(text(routeSync(r, makeRequest('get', 'k')))).toBe(`VALUE k ${BIG_VALUE_FLAG} 8\r\nabcdefgh\r\n`);
  });
});
