/**
 * The multi-get fast path (issue 4): keys whose route is just "this destination, key unchanged" are
 * grouped into one KeyBatch per destination (Destination.sendBatch; batches of several clients share an
 * upstream get line) and come back as ranges of the upstream read buffers; every other key takes the
 * route tree. These tests drive real memcached servers through mcrelay and check the client sees
 * exactly what the slow path gave: hits in key order with their exact bytes, one END, the first error
 * for the whole reply when a server fails, and a usable connection afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { getFreePort } from './helpers/ports.js';

let servers: MemcachedServer[] = [];
const relays: RelayProcess[] = [];

beforeAll(async () => {
  servers = await Promise.all([0, 1, 2].map(() => startMemcached()));
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});

async function relay(config: object, args: string[] = []): Promise<RelayProcess> {
  const r = await startRelay({ config, args });
  relays.push(r);
  return r;
}

/** A value of `len` bytes that names its key, so a wrong block cannot pass for the right one. */
function valueOf(key: string, len: number): string {
  let v = `${key}=`;
  while (v.length < len) v += String.fromCharCode(97 + (v.length % 26));
  return v.slice(0, len);
}

const getAll = async (c: RawClient, keys: readonly string[], verb = 'get'): Promise<string> =>
  (await c.roundTrip(`${verb} ${keys.join(' ')}\r\n`, 10_000)).toString('latin1');

describe('multi-get fast path', () => {
  test('over a 3-server pool: hits in key order, exact bytes, misses skipped, one END', async () => {
    const r = await relay({ pools: { A: { servers: servers.map((s) => s.address) } }, route: 'PoolRoute|A' });
    const c = await connect(r.port);
    const keys: string[] = [];
    const stored = new Map<string, { flags: number; value: string }>();
    for (let i = 0; i < 300; i++) {
      const k = `fp:${i}`;
      keys.push(k);
      if (i % 5 === 4) continue; // a miss
      // Mostly small values; some over 4 KB (read in place) and a few over 64 KB (across read arenas).
      const len = i % 50 === 0 ? 70_000 + i : i % 7 === 0 ? 5_000 + i : 10 + (i % 200);
      const value = valueOf(k, len);
      const flags = i * 7;
      stored.set(k, { flags, value });
      expect((await c.roundTrip(`set ${k} ${flags} 0 ${len}\r\n${value}\r\n`)).toString()).toBe('STORED\r\n');
    }
    // Shuffled request order, a key asked twice, a missing key at each end.
    const asked = ['nope:first', ...keys.filter((_, i) => i % 3 === 0), ...keys.filter((_, i) => i % 3 !== 0).reverse(), 'fp:1', 'nope:last'];
    const want = asked.map((k) => {
      const s = stored.get(k);
      return s === undefined ? '' : `VALUE ${k} ${s.flags} ${s.value.length}\r\n${s.value}\r\n`;
    });
    expect(await getAll(c, asked)).toBe(`${want.join('')}END\r\n`);
    // gets: the same blocks with each server's cas unique.
    const gets = await getAll(c, asked, 'gets');
    expect(gets.replace(/^(VALUE \S+ \d+ \d+) \d+\r\n/gm, '$1\r\n')).toBe(`${want.join('')}END\r\n`);
    // Pipelined multi-gets on one connection come back in request order.
    const a = asked.slice(0, 50);
    const b = asked.slice(50, 120);
    const both = (await c.roundTrip(`get ${a.join(' ')}\r\nget ${b.join(' ')}\r\n`, 10_000)).toString('latin1');
    const wa = a.map((k) => want[asked.indexOf(k)]).join('');
    const wb = b.map((k) => want[asked.indexOf(k)]).join('');
    expect(both).toBe(`${wa}END\r\n${wb}END\r\n`);
    await c.close();
  });

  test('many clients at once, observers on: each gets exactly its reply; per-key stats add up', async () => {
    const adminPort = await getFreePort();
    const r = await relay({ pools: { A: { servers: servers.slice(0, 3).map((s) => s.address) } }, route: 'PoolRoute|A' }, [
      '--admin-port', String(adminPort), '--prefix-stats', '--hot-keys', '--hot-keys-sample-rate', '1', '--hot-keys-capacity', '1000',
    ]);
    const setup = await connect(r.port);
    const stored = new Map<string, string>();
    // Keys with a hash stop (`|#|`) place by the part before it, like the route tree does.
    const all = Array.from({ length: 400 }, (_, i) => (i % 9 === 0 ? `cc:${i}|#|tail${i % 4}` : `cc:${i}`));
    for (const [i, k] of all.entries()) {
      if (i % 4 === 3) continue; // a miss
      const v = valueOf(k, 5 + (i % 90));
      stored.set(k, v);
      expect((await setup.roundTrip(`set ${k} ${i} 0 ${v.length}\r\n${v}\r\n`)).toString()).toBe('STORED\r\n');
    }
    await setup.close();
    const blockOf = (k: string): string => {
      const v = stored.get(k);
      return v === undefined ? '' : `VALUE ${k} ${all.indexOf(k)} ${v.length}\r\n${v}\r\n`;
    };
    // 12 clients, each pipelining 3 multi-gets of overlapping keys (some over 100 keys for one server,
    // so a batch fills up and a second one starts), all sent in the same instant.
    const clients = await Promise.all(Array.from({ length: 12 }, () => connect(r.port)));
    const plans = clients.map((_, ci) => [0, 1, 2].map((j) => all.filter((_, i) => (i + 5 * j + 11 * ci) % (ci % 3 === 0 ? 1 + j : 7) === 0)));
    const replies = await Promise.all(
      clients.map((c, ci) => c.roundTrip(plans[ci]!.map((keys) => `get ${keys.join(' ')}\r\n`).join(''), 10_000)),
    );
    let requested = 0;
    let hits = 0;
    let hitBytes = 0;
    /** Times each key was asked for or set (what the hot-key trackers count at sample rate 1). */
    const asked = new Map<string, number>([...stored.keys()].map((k) => [k, 1]));
    for (const [ci, reply] of replies.entries()) {
      const want = plans[ci]!.map((keys) => `${keys.map(blockOf).join('')}END\r\n`).join('');
      expect(reply.toString('latin1')).toBe(want);
      for (const keys of plans[ci]!) {
        requested += keys.length;
        hits += keys.filter((k) => stored.has(k)).length;
        hitBytes += keys.reduce((n, k) => n + Buffer.byteLength(blockOf(k), 'latin1'), 0);
        for (const k of keys) asked.set(k, (asked.get(k) ?? 0) + 1);
      }
    }
    expect(plans.some((p) => p.some((keys) => keys.length > 300))).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    // The observers saw every key once: prefix stats count requests (the sets too), hits and misses per key.
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toContain(`mcrelay_prefix_requests_total{prefix="cc:"} ${requested + stored.size}`);
    expect(metrics).toContain(`mcrelay_prefix_hits_total{prefix="cc:"} ${hits}`);
    expect(metrics).toContain(`mcrelay_prefix_misses_total{prefix="cc:"} ${requested - hits}`);
    // Reply bytes: the VALUE blocks of the hits, and each set's STORED line.
    const stats = (await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).json()) as { prefixes: { prefix: string; bytes_out: number }[] };
    expect(stats.prefixes.find((p) => p.prefix === 'cc:')?.bytes_out).toBe(hitBytes + stored.size * 'STORED\r\n'.length);
    // Hot keys (every request counted, room for every key): exact counts overall, and per destination
    // summed over the three servers.
    const hot = (await (await fetch(`http://127.0.0.1:${adminPort}/hot-keys?k=1000`)).json()) as {
      overall: { key: string; count: number }[];
      destinations: Record<string, { key: string; count: number }[]>;
    };
    const overall = new Map(hot.overall.map((h) => [h.key, h.count]));
    const byDest = new Map<string, number>();
    for (const list of Object.values(hot.destinations)) for (const h of list) byDest.set(h.key, (byDest.get(h.key) ?? 0) + h.count);
    expect(Object.keys(hot.destinations)).toHaveLength(3);
    expect(overall).toEqual(asked);
    expect(byDest).toEqual(asked);
  });

  test('fast-path keys, routing-prefixed keys and admin keys in one multi-get', async () => {
    const pools = { A: { servers: [servers[0]!.address, servers[1]!.address] } };
    const r = await relay({ pools, routes: [{ aliases: ['/r/c/'], route: 'PoolRoute|A' }] }, ['-R', '/r/c/']);
    const c = await connect(r.port);
    for (const k of ['mx:1', 'mx:2', 'mx:3']) {
      expect((await c.roundTrip(`set ${k} 1 0 ${valueOf(k, 20).length}\r\n${valueOf(k, 20)}\r\n`)).toString()).toBe('STORED\r\n');
    }
    // `/r/c/mx:2` is routed through the tree (prefix stripped upstream) and answered with the client's key.
    const reply = await getAll(c, ['mx:1', '/r/c/mx:2', '__mcrouter__.route_prefix', 'mx:3', 'mx:missing']);
    const blocks = [...reply.matchAll(/^VALUE (\S+) (\d+) (\d+)\r\n/gm)].map((m) => m[1]);
    expect(blocks).toEqual(['mx:1', '/r/c/mx:2', '__mcrouter__.route_prefix', 'mx:3']);
    expect(reply).toContain(`VALUE mx:1 1 20\r\n${valueOf('mx:1', 20)}\r\n`);
    expect(reply).toContain(`VALUE /r/c/mx:2 1 20\r\n${valueOf('mx:2', 20)}\r\n`);
    expect(reply.endsWith(`VALUE mx:3 1 20\r\n${valueOf('mx:3', 20)}\r\nEND\r\n`)).toBe(true);
    await c.close();
  });

  test('a server that stops answering fails the whole multi-get with a timeout; the connection stays usable', async () => {
    const extra = await startMemcached();
    servers.push(extra);
    const r = await relay({ pools: { A: { servers: [servers[0]!.address, extra.address], server_timeout: 300 } }, route: 'PoolRoute|A' });
    const c = await connect(r.port);
    const keys = Array.from({ length: 40 }, (_, i) => `st:${i}`);
    for (const k of keys) expect((await c.roundTrip(`set ${k} 0 0 3\r\nabc\r\n`)).toString()).toBe('STORED\r\n');
    // Which keys live on the server that will hang: ask it directly.
    const direct = await connect(extra.port);
    const onExtra = [...(await getAll(direct, keys)).matchAll(/^VALUE (\S+) /gm)].map((m) => m[1] as string);
    await direct.close();
    expect(onExtra.length).toBeGreaterThan(0);
    expect(onExtra.length).toBeLessThan(keys.length);
    const live = keys.filter((k) => !onExtra.includes(k));
    extra.pause();
    try {
      const t0 = Date.now();
      const failed = await getAll(c, keys);
      expect(failed).toMatch(/^SERVER_ERROR .*timeout.*\r\n$/);
      expect(Date.now() - t0).toBeLessThan(3_000);
      // Keys on the live server alone still come back whole.
      expect(await getAll(c, live)).toBe(`${live.map((k) => `VALUE ${k} 0 3\r\nabc\r\n`).join('')}END\r\n`);
    } finally {
      extra.resume();
    }
    await c.close();
  });

  test('a dead server (connection refused, then TKO) fails the multi-get each time; live keys still work', async () => {
    const doomed = await startMemcached();
    const r = await relay({ pools: { A: { servers: [servers[1]!.address, doomed.address] } }, route: 'PoolRoute|A' });
    const c = await connect(r.port);
    const keys = Array.from({ length: 40 }, (_, i) => `dd:${i}`);
    for (const k of keys) expect((await c.roundTrip(`set ${k} 0 0 2\r\nok\r\n`)).toString()).toBe('STORED\r\n');
    const direct = await connect(doomed.port);
    const onDoomed = [...(await getAll(direct, keys)).matchAll(/^VALUE (\S+) /gm)].map((m) => m[1] as string);
    await direct.close();
    const live = keys.filter((k) => !onDoomed.includes(k));
    expect(onDoomed.length).toBeGreaterThan(0);
    await doomed.stop();
    // Enough attempts to see connect errors and then the TKO fast-fail (which the fast path leaves to
    // the route tree): every one is a single SERVER_ERROR line.
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const reply = await getAll(c, keys);
      expect(reply).toMatch(/^SERVER_ERROR [^\r\n]+\r\n$/);
      seen.add(reply.includes('unavailable') ? 'tko' : 'error');
      expect(await getAll(c, live)).toBe(`${live.map((k) => `VALUE ${k} 0 2\r\nok\r\n`).join('')}END\r\n`);
    }
    expect(seen.has('tko')).toBe(true);
    await c.close();
  });
});
