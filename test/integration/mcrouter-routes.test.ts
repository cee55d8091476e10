/**
 * Valid config fixtures against real memcached: every config in test/fixtures/configs/valid/ boots mcrelay
 * with one memcached per distinct server of the fixture and answers a set and a get through it. Issue 12's
 * route fixtures (OWN_TESTS) then show the route's own behaviour on the wire (what lands on which
 * memcached); the lenient fixtures are booted by lenient-configs.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/loader.js';
import { furcHash } from '../../src/routes/hash/furc.js';
import { rendezvousIndex, rendezvousTagHashes } from '../../src/routes/hash/rendezvous.js';
import { REPO_ROOT, startRelay } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'configs', 'valid');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObj = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (b: Buffer): string => b.toString('latin1');

/** Every `servers` list in the config, in place. */
function eachServers(v: Json, fn: (servers: Json[]) => void): void {
  if (Array.isArray(v)) for (const x of v) eachServers(x, fn);
  else if (isObj(v)) {
    if (Array.isArray(v['servers'])) fn(v['servers']);
    for (const k of Object.keys(v)) eachServers(v[k] as Json, fn);
  }
}

async function client(port: number): Promise<RawClient> {
  const c = await connect(port, { timeoutMs: 5000 });
  cleanups.push(() => c.destroy());
  return c;
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Booted {
  readonly relay: RawClient;
  /** The memcached standing in for a placeholder server. */
  server(placeholder: string): MemcachedServer;
  /** A direct client per placeholder server string of the fixture. */
  direct(placeholder: string): Promise<RawClient>;
}

/** Boot `file` with one memcached per distinct server; servers are rewritten in place, names kept. */
async function boot(file: string, args: readonly string[] = []): Promise<Booted> {
  const config = parseConfigText(fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8'), file, !file.endsWith('.json')) as Json;
  const placeholders = new Set<string>();
  eachServers(config, (s) => s.forEach((x) => typeof x === 'string' && placeholders.add(x)));
  const backends = new Map<string, MemcachedServer>();
  await Promise.all([...placeholders].map(async (p) => {
    const m = await startMemcached();
    cleanups.push(() => m.stop());
    backends.set(p, m);
  }));
  eachServers(config, (s) => s.forEach((x, i) => {
    if (typeof x === 'string') s[i] = backends.get(x)?.address ?? x;
  }));
  const relay = await startRelay({ config: config as object, args });
  cleanups.push(() => relay.close());
  return {
    relay: await client(relay.port),
    server: (p) => {
      const m = backends.get(p);
      if (m === undefined) throw new Error(`${file}: no server ${p}`);
      return m;
    },
    direct: async (p) => {
      const m = backends.get(p);
      if (m === undefined) throw new Error(`${file}: no server ${p}`);
      return client(m.port);
    },
  };
}

async function setGet(c: RawClient, key: string, value: string): Promise<void> {
  expect(text(await c.roundTrip(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`)), `set ${key}`).toBe('STORED\r\n');
  expect(text(await c.roundTrip(`get ${key}\r\n`)), `get ${key}`).toBe(`VALUE ${key} 0 ${value.length}\r\n${value}\r\nEND\r\n`);
}

/** Valid fixtures with a test of their own below (it boots the fixture and answers a set and a get first). */
const OWN_TESTS = [
  'l1l2-negative-cache.json', 'failover-deterministic-order.json', 'failover-rendezvous.json', 'failover-least-failures.json',
  'pool-slow-warmup.json', 'l1l2-size-split.json', 'servers-route-objects.json', 'big-value-pool.json',
];
const VALID_FIXTURES = fs.readdirSync(FIXTURES_DIR).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();

describe('every valid config fixture boots against real memcached and answers a get', () => {
  it('the fixtures with their own test exist', () => {
    for (const f of OWN_TESTS) expect(VALID_FIXTURES, f).toContain(f);
  });

  for (const file of VALID_FIXTURES.filter((f) => !OWN_TESTS.includes(f))) {
    it(file, async () => {
      const b = await boot(file);
      await setGet(b.relay, `fixture:${file}`, 'ok');
    });
  }
});

describe('issue 12 route fixtures boot and answer gets against real memcached', () => {
  it('l1l2-negative-cache.json: L2 values are served and copied to L1; a miss in both leaves the sentinel', async () => {
    const b = await boot('l1l2-negative-cache.json');
    await setGet(b.relay, 'nc:set', 'one');
    const l1 = await b.direct('127.0.0.1:12411');
    // Put a value straight into both L2 servers; the relay's get misses L1, reads L2, refills L1.
    for (const s of ['127.0.0.1:12412', '127.0.0.1:12413']) {
      expect(text(await (await b.direct(s)).roundTrip('set nc:deep 3 0 4\r\ndeep\r\n'))).toBe('STORED\r\n');
    }
    expect(text(await b.relay.roundTrip('gets nc:deep\r\n'))).toMatch(/^VALUE nc:deep 3 4 \d+\r\ndeep\r\nEND\r\n$/);
    await eventually(async () => text(await l1.roundTrip('get nc:deep\r\n')) === 'VALUE nc:deep 3 4\r\ndeep\r\nEND\r\n', 'L1 refill');
    // gat goes through both tiers too.
    for (const s of ['127.0.0.1:12412', '127.0.0.1:12413']) await (await b.direct(s)).roundTrip('set nc:gat 0 0 1\r\ng\r\n');
    expect(text(await b.relay.roundTrip('gat 100 nc:gat\r\n'))).toBe('VALUE nc:gat 0 1\r\ng\r\nEND\r\n');
    // Negative caching: the sentinel (flag 65536, "ncache", ncacheExptime 30) lands in L1.
    expect(text(await b.relay.roundTrip('get nc:none\r\n'))).toBe('END\r\n');
    await eventually(async () => /^VA 6 f65536 t(2\d|30)\r\nncache\r\n$/.test(text(await l1.roundTrip('mg nc:none v f t\r\n'))), 'sentinel in L1');
    expect(text(await b.relay.roundTrip('get nc:none\r\n'))).toBe('END\r\n');
  });

  it('failover-deterministic-order.json: with the key\'s server dead, a set lands on the salted re-hash pick', async () => {
    const servers = ['127.0.0.1:12421', '127.0.0.1:12422', '127.0.0.1:12423', '127.0.0.1:12424'];
    const b = await boot('failover-deterministic-order.json');
    await setGet(b.relay, 'do:k', 'one');
    const key = 'do:failover';
    // Normal route: Ch3 over the 4 servers. Failover: Ch3 over the 5 children (the PoolRoute is index 0)
    // of key ‖ "2", "3", ... skipping 0 and the normal pick + 1 (mcrouter FailoverDeterministicOrderPolicy).
    const primary = furcHash(Buffer.from(key), 4);
    let salt = 1;
    let pick = 0;
    do pick = furcHash(Buffer.from(`${key}${++salt}`), 5); while (pick === 0 || pick === primary + 1);
    b.server(servers[primary]!).kill();
    expect(text(await b.relay.roundTrip(`set ${key} 0 0 3\r\nabc\r\n`))).toBe('STORED\r\n');
    expect(text(await b.relay.roundTrip(`get ${key}\r\n`))).toBe(`VALUE ${key} 0 3\r\nabc\r\nEND\r\n`);
    for (const [i, s] of servers.entries()) {
      if (i === primary) continue;
      const got = text(await (await b.direct(s)).roundTrip(`get ${key}\r\n`));
      expect(got, `server ${i} (pick ${pick - 1})`).toBe(i === pick - 1 ? `VALUE ${key} 0 3\r\nabc\r\nEND\r\n` : 'END\r\n');
    }
  });

  it('failover-rendezvous.json: with the key\'s server dead, a set lands on its second Rendezvous choice', async () => {
    const servers = ['127.0.0.1:12431', '127.0.0.1:12432', '127.0.0.1:12433'];
    const tags = ['rack1-host1', 'rack2-host1', 'rack3-host1'];
    const b = await boot('failover-rendezvous.json');
    await setGet(b.relay, 'rv:k', 'one');
    const key = 'rv:failover';
    const rk = Buffer.from(key);
    const primary = rendezvousIndex(rk, rk.length, rendezvousTagHashes(tags));
    const rest = [0, 1, 2].filter((i) => i !== primary);
    const second = rest[rendezvousIndex(rk, rk.length, rendezvousTagHashes(rest.map((i) => tags[i]!)))]!;
    b.server(servers[primary]!).kill();
    expect(text(await b.relay.roundTrip(`set ${key} 0 0 3\r\nxyz\r\n`))).toBe('STORED\r\n');
    for (const i of rest) {
      const got = text(await (await b.direct(servers[i]!)).roundTrip(`get ${key}\r\n`));
      expect(got, `server ${i} (second choice ${second})`).toBe(i === second ? `VALUE ${key} 0 3\r\nxyz\r\nEND\r\n` : 'END\r\n');
    }
  });

  it('failover-least-failures.json: with the first replica dead, requests go to the replica that fails least', async () => {
    const b = await boot('failover-least-failures.json');
    await setGet(b.relay, 'lf:k', 'one');
    b.server('127.0.0.1:12441').kill();
    // west and south have no errors: the tie keeps config order, so west takes the writes.
    for (let i = 0; i < 3; i++) expect(text(await b.relay.roundTrip(`set lf:${i} 0 0 1\r\n${i}\r\n`))).toBe('STORED\r\n');
    const west = await b.direct('127.0.0.1:12442');
    const south = await b.direct('127.0.0.1:12443');
    for (let i = 0; i < 3; i++) {
      expect(text(await west.roundTrip(`get lf:${i}\r\n`))).toBe(`VALUE lf:${i} 0 1\r\n${i}\r\nEND\r\n`);
      expect(text(await south.roundTrip(`get lf:${i}\r\n`))).toBe('END\r\n');
    }
    // Now west hangs (SIGSTOP): its timeouts raise its count, so the next requests prefer south.
    b.server('127.0.0.1:12442').pause();
    cleanups.push(() => b.server('127.0.0.1:12442').resume());
    expect(text(await b.relay.roundTrip('set lf:x 0 0 1\r\nx\r\n'))).toMatch(/^SERVER_ERROR /); // east dead, west timed out: max_tries 2
    expect(text(await b.relay.roundTrip('set lf:y 0 0 1\r\ny\r\n'))).toBe('STORED\r\n');
    expect(text(await south.roundTrip('get lf:y\r\n'))).toBe('VALUE lf:y 0 1\r\ny\r\nEND\r\n');
  });

  it('pool-slow-warmup.json: an empty server gets about start of the reads; the rest come from the gutter', async () => {
    const b = await boot('pool-slow-warmup.json');
    const main = await b.direct('127.0.0.1:12451');
    const gutter = await b.direct('127.0.0.1:12452');
    await setGet(b.relay, 'sw:k', 'one'); // warm: under min_requests the server takes everything
    for (let i = 0; i < 200; i++) await gutter.roundTrip(`set sw:${i} 0 0 1\r\ng\r\n`);
    // 20 counted misses (hit rate 1/21 < 0.7): the server is warming up, its share is 0.1 + 1/21 · 1.
    for (let i = 0; i < 20; i++) expect(text(await b.relay.roundTrip(`get sw:none${i}\r\n`))).toBe('END\r\n');
    let hits = 0;
    for (let i = 0; i < 200; i++) if (text(await b.relay.roundTrip(`get sw:${i}\r\n`)).startsWith('VALUE')) hits++;
    // Reads sent to the empty server miss and keep its rate low; the others hit in the gutter. Expected
    // about 200 · (1 − 0.15) = 170 hits; the bounds are ~8 standard deviations wide.
    expect(hits).toBeGreaterThan(130);
    expect(hits).toBeLessThan(200);
    // Every read went to exactly one of the two (the gutter's 200 sets are not gets).
    const cmdGet = async (c: RawClient): Promise<number> => Number(/STAT cmd_get (\d+)/.exec(text(await c.roundTrip('stats\r\n')))?.[1]);
    expect((await cmdGet(main)) + (await cmdGet(gutter))).toBe(1 + 20 + 200);
    expect(await cmdGet(gutter)).toBeGreaterThanOrEqual(hits);
    // Writes always go to the server being warmed.
    expect(text(await b.relay.roundTrip('set sw:w 0 0 1\r\nw\r\n'))).toBe('STORED\r\n');
    expect(text(await main.roundTrip('get sw:w\r\n'))).toBe('VALUE sw:w 0 1\r\nw\r\nEND\r\n');
  });

  it('l1l2-size-split.json: large values live in L2 behind an empty 0x20 sentinel in L1', async () => {
    const b = await boot('l1l2-size-split.json');
    const l1 = await b.direct('127.0.0.1:12461');
    await setGet(b.relay, 'ss:small', 'tiny');
    expect(text(await l1.roundTrip('get ss:small\r\n'))).toBe('VALUE ss:small 0 4\r\ntiny\r\nEND\r\n');
    const big = 'L'.repeat(5000);
    expect(text(await b.relay.roundTrip(`set ss:big 3 0 ${big.length}\r\n${big}\r\n`))).toBe('STORED\r\n');
    expect(text(await l1.roundTrip('get ss:big\r\n'))).toBe('VALUE ss:big 35 0\r\n\r\nEND\r\n'); // 3 | 0x20, empty
    expect(text(await b.relay.roundTrip('get ss:big\r\n'))).toBe(`VALUE ss:big 3 5000\r\n${big}\r\nEND\r\n`);
    // The L2 copy disappears: gets deletes the dangling sentinel and, retrying, answers a plain miss.
    for (const s of ['127.0.0.1:12462', '127.0.0.1:12463']) await (await b.direct(s)).roundTrip('delete ss:big\r\n');
    expect(text(await b.relay.roundTrip('gets ss:big\r\n'))).toBe('END\r\n');
    expect(text(await l1.roundTrip('get ss:big\r\n'))).toBe('END\r\n');
  });

  it('servers-route-objects.json: a route object in servers is a pool member; its keys go to the pair, then fail over', async () => {
    const b = await boot('servers-route-objects.json');
    await setGet(b.relay, 'ro:k', 'one');
    const keys = Array.from({ length: 60 }, (_, i) => `ro:${i}`);
    const member = (k: string): number => furcHash(Buffer.from(k), 3);
    const onPair = keys.filter((k) => member(k) === 2);
    const onServer = keys.filter((k) => member(k) === 1);
    expect(onPair.length).toBeGreaterThan(5);
    for (const k of [...onPair, ...onServer]) expect(text(await b.relay.roundTrip(`set ${k} 0 0 1\r\nv\r\n`))).toBe('STORED\r\n');
    const first = await b.direct('127.0.0.1:12481');
    const second = await b.direct('127.0.0.1:12484');
    for (const k of onPair) expect(text(await first.roundTrip(`get ${k}\r\n`)), k).toBe(`VALUE ${k} 0 1\r\nv\r\nEND\r\n`);
    for (const k of onServer) expect(text(await second.roundTrip(`get ${k}\r\n`)), k).toBe(`VALUE ${k} 0 1\r\nv\r\nEND\r\n`);
    // The member is a FailoverRoute: with the pair's first server dead, its keys go to the second.
    b.server('127.0.0.1:12481').kill();
    const k = onPair[0] as string;
    expect(text(await b.relay.roundTrip(`set ${k} 0 0 1\r\nw\r\n`))).toBe('STORED\r\n');
    expect(text(await (await b.direct('127.0.0.1:12482')).roundTrip(`get ${k}\r\n`))).toBe(`VALUE ${k} 0 1\r\nw\r\nEND\r\n`);
    expect(text(await b.relay.roundTrip(`get ${k}\r\n`))).toBe(`VALUE ${k} 0 1\r\nw\r\nEND\r\n`);
  });

  it('big-value-pool.json with --big-value-split-threshold 5000: a 2 MB value is chunked over the pool and read back', async () => {
    const servers = ['127.0.0.1:12471', '127.0.0.1:12472', '127.0.0.1:12473'];
    const b = await boot('big-value-pool.json', ['--big-value-split-threshold', '5000']);
    await setGet(b.relay, 'bv:small', 'one');
    const value = 'abc'.repeat(700_005); // 2,100,015 bytes: 421 chunks, the last one short
    expect(text(await b.relay.roundTrip(`set bv:big 0 0 ${value.length}\r\n${value}\r\n`))).toBe('STORED\r\n');
    const got = text(await b.relay.roundTrip('get bv:big\r\n'));
    expect(got.length).toBe(`VALUE bv:big 32768 ${value.length}\r\n`.length + value.length + 7);
    expect(got === `VALUE bv:big 32768 ${value.length}\r\n${value}\r\nEND\r\n`).toBe(true);
    // Chunks landed on every server of the pool (421 keys hashed over 3 servers).
    for (const s of servers) {
      const items = Number(/STAT curr_items (\d+)/.exec(text(await (await b.direct(s)).roundTrip('stats\r\n')))?.[1]);
      expect(items, s).toBeGreaterThan(50);
    }
    // mcrouter's test_bigvalue.py imitation: an index and chunks written by hand read back as one value.
    const piece = 'a'.repeat(5000);
    expect(text(await b.relay.roundTrip('set key 32768 0 8\r\n1-2-1234\r\n'))).toBe('STORED\r\n');
    expect(text(await b.relay.roundTrip(`set key:0:1234 0 0 5000\r\n${piece}\r\n`))).toBe('STORED\r\n');
    expect(text(await b.relay.roundTrip('set key:1:1234 0 0 1\r\na\r\n'))).toBe('STORED\r\n');
    expect(text(await b.relay.roundTrip('get key\r\n'))).toBe(`VALUE key 32768 5001\r\n${piece}a\r\nEND\r\n`);
    expect(text(await b.relay.roundTrip('delete key:1:1234\r\n'))).toBe('DELETED\r\n');
    expect(text(await b.relay.roundTrip('get key\r\n'))).toBe('END\r\n');
  });
});

