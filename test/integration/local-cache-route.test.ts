/**
 * LocalCacheRoute end to end: mcrelay with a LocalCacheRoute in front of a real memcached. The gets that
 * reach memcached are counted with its own `stats` (cmd_get) over a direct connection, and the bytes the
 * client gets are compared with what memcached itself answers.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { sleep } from './helpers/ports.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const text = (b: Buffer): string => b.toString('latin1');

interface Setup {
  mc: MemcachedServer;
  relay: RelayProcess;
  /** Client of mcrelay. */
  c: RawClient;
  /** Client of memcached itself. */
  direct: RawClient;
}

async function setup(cache: Record<string, unknown>, args: string[] = []): Promise<Setup> {
  const mc = await startMemcached();
  cleanups.push(() => mc.stop());
  const relay = await startRelay({ config: { pools: { A: { servers: [mc.address] } }, route: { type: 'LocalCacheRoute', child: 'PoolRoute|A', ...cache } }, args });
  cleanups.push(() => relay.close());
  const c = await connect(relay.port, { timeoutMs: 5000 });
  cleanups.push(() => c.destroy());
  const direct = await connect(mc.port, { timeoutMs: 5000 });
  cleanups.push(() => direct.destroy());
  return { mc, relay, c, direct };
}

/** memcached's cmd_get: keys it was asked for, by get and mg alike. */
async function cmdGet(direct: RawClient): Promise<number> {
  const m = /STAT cmd_get (\d+)/.exec(text(await direct.roundTrip('stats\r\n')));
  if (m === null) throw new Error('no cmd_get in stats');
  return Number(m[1]);
}

describe('LocalCacheRoute with real memcached', () => {
  test('repeated gets are served without a request to memcached, with memcached\'s bytes', async () => {
    const { c, direct } = await setup({ ttl_ms: 60_000 });
    expect(text(await c.roundTrip('set k 5 0 5\r\nhello\r\n'))).toBe('STORED\r\n');
    const fromMemcached = text(await direct.roundTrip('get k\r\n'));
    const before = await cmdGet(direct);
    for (let i = 0; i < 10; i++) expect(text(await c.roundTrip('get k\r\n'))).toBe(fromMemcached);
    expect(await cmdGet(direct)).toBe(before + 1);
    // A multi-get takes its cached keys from the cache and asks memcached for the rest.
    await c.roundTrip('set k2 0 0 2\r\nv2\r\n');
    const multi = text(await direct.roundTrip('get k nokey k2\r\n'));
    const beforeMulti = await cmdGet(direct);
    expect(text(await c.roundTrip('get k nokey k2\r\n'))).toBe(multi);
    expect(await cmdGet(direct)).toBe(beforeMulti + 2);
  });

  test('mg with v/f/s/k is cached too; mg with t, and gets, are not', async () => {
    const { c, direct } = await setup({ ttl_ms: 60_000 });
    await c.roundTrip('set m 3 0 4\r\ndata\r\n');
    const plain = text(await direct.roundTrip('mg m s v f k\r\n'));
    const withTtl = text(await direct.roundTrip('mg m v t\r\n'));
    const before = await cmdGet(direct);
    for (let i = 0; i < 5; i++) expect(text(await c.roundTrip('mg m s v f k\r\n'))).toBe(plain);
    expect(await cmdGet(direct)).toBe(before + 1);
    for (let i = 0; i < 3; i++) expect(text(await c.roundTrip('mg m v t\r\n'))).toBe(withTtl);
    for (let i = 0; i < 3; i++) expect(text(await c.roundTrip('gets m\r\n'))).toMatch(/^VALUE m 3 4 \d+\r\ndata\r\nEND\r\n$/);
    expect(await cmdGet(direct)).toBe(before + 7);
  });

  test('own writes are read back at once (noreply and meta too)', async () => {
    const { c, direct } = await setup({ ttl_ms: 60_000 });
    await c.roundTrip('set w 0 0 3\r\none\r\n');
    expect(text(await c.roundTrip('get w\r\n'))).toBe('VALUE w 0 3\r\none\r\nEND\r\n');
    expect(text(await c.roundTrip('get w\r\n'))).toBe('VALUE w 0 3\r\none\r\nEND\r\n');
    const steps: [string, string][] = [
      ['set w 0 0 3\r\ntwo\r\n', 'VALUE w 0 3\r\ntwo\r\nEND\r\n'],
      ['set w 0 0 5 noreply\r\nthree\r\n', 'VALUE w 0 5\r\nthree\r\nEND\r\n'],
      ['append w 0 0 1\r\n!\r\n', 'VALUE w 0 6\r\nthree!\r\nEND\r\n'],
      ['ms w 4 q\r\nfour\r\n', 'VALUE w 0 4\r\nfour\r\nEND\r\n'],
      ['set w 0 0 1\r\n7\r\n', 'VALUE w 0 1\r\n7\r\nEND\r\n'],
      ['incr w 1 noreply\r\n', 'VALUE w 0 1\r\n8\r\nEND\r\n'],
      ['delete w\r\n', 'END\r\n'],
    ];
    for (const [write, expected] of steps) {
      await c.roundTrip(write);
      // memcached agrees, and the relay answers the same at once, then again (from the cache).
      expect(text(await direct.roundTrip('get w\r\n'))).toBe(expected);
      expect(text(await c.roundTrip('get w\r\n'))).toBe(expected);
      expect(text(await c.roundTrip('get w\r\n'))).toBe(expected);
    }
  });

  test('flush_all through the relay empties the cache', async () => {
    const { c } = await setup({ ttl_ms: 60_000 }, ['--enable-flush-cmd']);
    await c.roundTrip('set f 0 0 1\r\nv\r\n');
    await c.roundTrip('get f\r\n');
    expect(text(await c.roundTrip('get f\r\n'))).toBe('VALUE f 0 1\r\nv\r\nEND\r\n');
    expect(text(await c.roundTrip('flush_all\r\n'))).toBe('OK\r\n');
    expect(text(await c.roundTrip('get f\r\n'))).toBe('END\r\n');
  });

  test('a write made elsewhere is seen once the entry is ttl_ms old', async () => {
    const ttlMs = 1500;
    const { c, direct } = await setup({ ttl_ms: ttlMs });
    await c.roundTrip('set e 0 0 3\r\nold\r\n');
    const filled = Date.now();
    expect(text(await c.roundTrip('get e\r\n'))).toBe('VALUE e 0 3\r\nold\r\nEND\r\n');
    // Written straight to memcached, behind the relay's back.
    await direct.roundTrip('set e 0 0 3\r\nnew\r\n');
    const stale = text(await c.roundTrip('get e\r\n'));
    if (Date.now() - filled < ttlMs) expect(stale).toBe('VALUE e 0 3\r\nold\r\nEND\r\n');
    await sleep(ttlMs + 100 - (Date.now() - filled));
    expect(text(await c.roundTrip('get e\r\n'))).toBe('VALUE e 0 3\r\nnew\r\nEND\r\n');
  });

  test('the byte bound holds: ten entries fit, an eleventh pushes the least recently used out', async () => {
    const value = 'x'.repeat(100);
    const keys = Array.from({ length: 11 }, (_, i) => `b:${String(i).padStart(2, '0')}`);
    // What one entry holds: its key plus memcached's VALUE block for it.
    const entryBytes = keys[0]!.length + Buffer.byteLength(`VALUE ${keys[0]} 0 ${value.length}\r\n${value}\r\n`);
    const { c, direct } = await setup({ ttl_ms: 60_000, max_bytes: 10 * entryBytes, max_item_fraction: 1 });
    for (const k of keys) await c.roundTrip(`set ${k} 0 0 ${value.length}\r\n${value}\r\n`);

    const ten = keys.slice(0, 10);
    for (const k of ten) await c.roundTrip(`get ${k}\r\n`);
    let before = await cmdGet(direct);
    for (const k of ten) await c.roundTrip(`get ${k}\r\n`);
    expect(await cmdGet(direct), 'ten entries fit in max_bytes').toBe(before);

    // Cycling over eleven keys in LRU order: once the eleventh is in, each get evicts the key asked for
    // next, so every one misses.
    for (const k of keys) await c.roundTrip(`get ${k}\r\n`);
    before = await cmdGet(direct);
    for (let round = 0; round < 2; round++) for (const k of keys) await c.roundTrip(`get ${k}\r\n`);
    expect(await cmdGet(direct), 'eleven entries never fit').toBe(before + 2 * keys.length);
  });
});
