/**
 * Routes of issue 3 part B against real memcached processes: every key is written THROUGH mcrelay and then
 * read DIRECTLY from each backend to prove where it landed (and where it did not). Failure cases kill or
 * SIGSTOP whole zones mid-test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';
import { sleep } from './helpers/ports.js';
import { latestPicks } from '../../src/routes/latest-route.js';
import { spooky32 } from '../../src/routes/hash/spooky-v2.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function servers(n: number): Promise<MemcachedServer[]> {
  const out = await Promise.all(Array.from({ length: n }, () => startMemcached()));
  for (const s of out) cleanups.push(() => { s.resume(); return s.stop(); });
  return out;
}

async function relay(config: object, args: string[] = []): Promise<RelayProcess> {
  const r = await startRelay({ config, args });
  cleanups.push(() => r.close());
  return r;
}

async function client(port: number): Promise<RawClient> {
  const c = await connect(port, { timeoutMs: 5000 });
  cleanups.push(() => c.destroy());
  return c;
}

const text = (b: Buffer): string => b.toString('latin1');

async function set(c: RawClient, key: string, value: string, flags = 0, exptime = 0): Promise<string> {
  return text(await c.roundTrip(`set ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`));
}

async function get(c: RawClient, key: string): Promise<string | null> {
  const r = text(await c.roundTrip(`get ${key}\r\n`));
  if (r === 'END\r\n') return null;
  const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*)\r\nEND\r\n$/.exec(r);
  if (m === null) throw new Error(`get ${key}: unexpected reply ${JSON.stringify(r)}`);
  return m[1] ?? '';
}

/** Direct clients, one per backend. */
async function direct(ss: readonly MemcachedServer[]): Promise<RawClient[]> {
  return Promise.all(ss.map((s) => client(s.port)));
}

/** Poll until `check` is true (background copies land asynchronously). */
async function eventually(check: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`eventually: ${what}`);
}

async function statValue(c: RawClient, name: string, group = ''): Promise<number> {
  const r = text(await c.roundTrip(`stats${group === '' ? '' : ` ${group}`}\r\n`));
  const m = new RegExp(`STAT ${name} (\\d+)`).exec(r);
  if (m === null) throw new Error(`no stat ${name} in ${r}`);
  return Number(m[1]);
}

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

describe('replication routes', () => {
  it('AllSyncRoute writes every key to every server, deletes from all', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'AllSyncRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    for (const k of KEYS) expect(await set(c, k, `v-${k}`)).toBe('STORED\r\n');
    for (const d of ds) for (const k of KEYS) expect(await get(d, k)).toBe(`v-${k}`);
    expect(text(await c.roundTrip('delete rb:0\r\n'))).toBe('DELETED\r\n');
    for (const d of ds) expect(await get(d, 'rb:0')).toBeNull();
    // Multi-get through AllSync still answers each key once.
    expect(text(await c.roundTrip('get rb:1 rb:2\r\n'))).toBe('VALUE rb:1 0 6\r\nv-rb:1\r\nVALUE rb:2 0 6\r\nv-rb:2\r\nEND\r\n');
  });

  it('AllAsyncRoute replies NOT_STORED at once and the copies land on every server', async () => {
    const ss = await servers(2);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'AllAsyncRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'async:1', 'x')).toBe('NOT_STORED\r\n');
    await eventually(async () => (await get(ds[0]!, 'async:1')) === 'x' && (await get(ds[1]!, 'async:1')) === 'x', 'async copies');
  });

  it('AllInitialRoute answers from the first child; the others get the write too', async () => {
    const ss = await servers(2);
    const r = await relay({ route: { type: 'AllInitialRoute', children: ss.map((s) => `PoolRoute|${s.port}`) }, pools: Object.fromEntries(ss.map((s) => [String(s.port), { servers: [s.address] }])) });
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'init:1', 'y')).toBe('STORED\r\n');
    await eventually(async () => (await get(ds[1]!, 'init:1')) === 'y', 'second child copy');
    ss[1]!.kill();
    expect(await set(c, 'init:2', 'z')).toBe('STORED\r\n');
  });

  it('AllMajorityRoute and AllFastestRoute survive one dead server of three', async () => {
    const ss = await servers(3);
    const pools = { A: { servers: ss.map((s) => s.address) } };
    const maj = await relay({ pools, route: 'AllMajorityRoute|Pool|A' });
    const fast = await relay({ pools, route: 'AllFastestRoute|Pool|A' });
    const cm = await client(maj.port);
    const cf = await client(fast.port);
    expect(await set(cm, 'maj:1', 'm')).toBe('STORED\r\n');
    for (const d of await direct(ss)) expect(await get(d, 'maj:1')).toBe('m');
    ss[2]!.kill();
    expect(await set(cm, 'maj:2', 'm2')).toBe('STORED\r\n');
    expect(await get(cf, 'maj:2')).toBe('m2');
  });
});

describe('replica choice', () => {
  it('LatestRoute sends everything to this host\'s first pick', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'LatestRoute|Pool|A' }, ['--host-id', '77']);
    const c = await client(r.port);
    const ds = await direct(ss);
    const first = latestPicks(77, 3, 5, '', null)[0] as number;
    for (const k of KEYS.slice(0, 10)) expect(await set(c, k, 'L')).toBe('STORED\r\n');
    for (let i = 0; i < 3; i++) for (const k of KEYS.slice(0, 10)) expect(await get(ds[i]!, k)).toBe(i === first ? 'L' : null);
    // The first pick dies: reads and writes fail over to the second pick.
    ss[first]!.kill();
    expect(await set(c, 'latest:after', 'L2')).toBe('STORED\r\n');
    expect(await get(c, 'latest:after')).toBe('L2');
  });

  it('HostIdRoute uses hostId % n', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'HostIdRoute|Pool|A' }, ['--host-id', '4']);
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'hid', 'h')).toBe('STORED\r\n');
    expect([await get(ds[0]!, 'hid'), await get(ds[1]!, 'hid'), await get(ds[2]!, 'hid')]).toEqual([null, 'h', null]);
  });

  it('RandomRoute puts each key on exactly one server, spread over several', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'RandomRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    const used = new Set<number>();
    for (const k of KEYS) {
      expect(await set(c, k, 'r')).toBe('STORED\r\n');
      const where = [];
      for (let i = 0; i < 3; i++) if ((await get(ds[i]!, k)) === 'r') where.push(i);
      expect(where).toHaveLength(1);
      used.add(where[0]!);
    }
    expect(used.size).toBeGreaterThan(1);
  });

  it('BalancedReplicaRoute writes to all replicas and spreads reads evenly by key; a dead replica fails no read', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { R: { servers: ss.map((s) => s.address) } }, route: 'BalancedReplicaRoute|Pool|R' }, ['--server-timeout', '300']);
    const c = await client(r.port);
    const ds = await direct(ss);
    const keys = Array.from({ length: 600 }, (_, i) => `bal:${i}`);
    for (const k of keys) expect(await set(c, k, 'b')).toBe('STORED\r\n');
    for (const d of ds) expect(await get(d, 'bal:7')).toBe('b');
    const before = await Promise.all(ds.map((d) => statValue(d, 'get_hits')));
    for (const k of keys) expect(await get(c, k)).toBe('b');
    const hits = (await Promise.all(ds.map((d) => statValue(d, 'get_hits')))).map((h, i) => h - (before[i] ?? 0));
    expect(hits.reduce((a, b) => a + b, 0)).toBe(600);
    for (const h of hits) expect(Math.abs(h - 200)).toBeLessThan(60);
    ss[0]!.kill();
    for (const k of keys.slice(0, 60)) expect(await get(c, k)).toBe('b');
  });
});

describe('AzAffinityRoute', () => {
  it('writes land in every zone; losing the local zone (killed) and a far zone (SIGSTOP) fails zero reads', async () => {
    const [a1, a2, b1, c1] = await servers(4);
    const config = {
      pools: { 'zone-a': { servers: [a1!.address, a2!.address] }, 'zone-b': { servers: [b1!.address] }, 'zone-c': { servers: [c1!.address] } },
      route: { type: 'AzAffinityRoute', zones: { 'us-a': 'PoolRoute|zone-a', 'us-b': 'PoolRoute|zone-b', 'us-c': 'PoolRoute|zone-c' }, write_policy: 'all' },
    };
    const r = await relay(config, ['--local-zone', 'us-a', '--server-timeout', '250']);
    const c = await client(r.port);
    const [da1, da2, db, dc] = await direct([a1!, a2!, b1!, c1!]);
    for (const k of KEYS) expect(await set(c, k, `z-${k}`)).toBe('STORED\r\n');
    for (const k of KEYS) {
      const inA = [await get(da1!, k), await get(da2!, k)].filter((v) => v !== null);
      expect(inA).toEqual([`z-${k}`]);
      expect(await get(db!, k)).toBe(`z-${k}`);
      expect(await get(dc!, k)).toBe(`z-${k}`);
    }
    // Reads are served by the local zone while it is up.
    const bHits = await statValue(db!, 'get_hits');
    for (const k of KEYS) expect(await get(c, k)).toBe(`z-${k}`);
    expect(await statValue(db!, 'get_hits')).toBe(bHits);
    // Lose the whole local zone, and hang one far zone: every read still answers with the data.
    a1!.kill();
    a2!.kill();
    b1!.pause();
    let failed = 0;
    for (const k of KEYS) if ((await get(c, k)) !== `z-${k}`) failed++;
    expect(failed).toBe(0);
    // Multi-get across the outage.
    expect(text(await c.roundTrip('get rb:1 rb:2 nosuch\r\n'))).toBe('VALUE rb:1 0 6\r\nz-rb:1\r\nVALUE rb:2 0 6\r\nz-rb:2\r\nEND\r\n');
    b1!.resume();
  });

  it('a missing local zone is a startup error naming the path', async () => {
    await expect(startRelay({ config: { pools: { p: { servers: ['127.0.0.1:1'] } }, route: { type: 'AzAffinityRoute', zones: { x: 'PoolRoute|p' } } }, args: ['--local-zone', 'nope'], startTimeoutMs: 5000 }))
      .rejects.toThrow(/\/route\/zones.*local zone "nope"|local zone "nope"/);
  });
});

describe('tiers', () => {
  it('L1L2CacheRoute refills L1 from L2 with the flags and upgradingL1Exptime; ncache sentinel in L1', async () => {
    const [l1, l2] = await servers(2);
    const r = await relay({
      pools: { L1: { servers: [l1!.address] }, L2: { servers: [l2!.address] } },
      route: { type: 'L1L2CacheRoute', l1: 'PoolRoute|L1', l2: 'PoolRoute|L2', upgradingL1Exptime: 100, ncacheExptime: 30, ncacheUpdatePeriod: 1000 },
    });
    const c = await client(r.port);
    const [d1, d2] = await direct([l1!, l2!]);
    expect(await set(d2!, 'tier:1', 'deep', 5)).toBe('STORED\r\n');
    expect(text(await c.roundTrip('get tier:1\r\n'))).toBe('VALUE tier:1 5 4\r\ndeep\r\nEND\r\n');
    let meta = '';
    await eventually(async () => (meta = text(await d1!.roundTrip('mg tier:1 v f t\r\n'))).startsWith('VA'), 'L1 refill');
    const m = /^VA 4 f5 t(\d+)\r\ndeep\r\n$/.exec(meta);
    expect(m, meta).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(90);
    expect(Number(m?.[1])).toBeLessThanOrEqual(100);
    // Negative caching: a miss in both leaves a 0x10000 sentinel in L1; the next get does not reach L2.
    expect(await get(c, 'tier:none')).toBeNull();
    await eventually(async () => /^VA \d+ f65536 t(2\d|30)\r\n/.test(text(await d1!.roundTrip('mg tier:none v f t\r\n'))), 'ncache sentinel');
    const l2Gets = await statValue(d2!, 'cmd_get');
    expect(await get(c, 'tier:none')).toBeNull();
    expect(await statValue(d2!, 'cmd_get')).toBe(l2Gets);
    // Sets go to L1 only (mcrouter).
    expect(await set(c, 'tier:w', 'w')).toBe('STORED\r\n');
    expect(await get(d2!, 'tier:w')).toBeNull();
    expect(await get(d1!, 'tier:w')).toBe('w');
  });

  it('WarmUpRoute fills cold from warm keeping the remaining TTL and flags', async () => {
    const [cold, warm] = await servers(2);
    const r = await relay({ pools: { cold: { servers: [cold!.address] }, warm: { servers: [warm!.address] } }, route: { type: 'WarmUpRoute', cold: 'PoolRoute|cold', warm: 'PoolRoute|warm' } });
    const c = await client(r.port);
    const [dc, dw] = await direct([cold!, warm!]);
    expect(await set(dw!, 'wu:1', 'warmval', 3, 500)).toBe('STORED\r\n');
    expect(text(await c.roundTrip('get wu:1\r\n'))).toBe('VALUE wu:1 3 7\r\nwarmval\r\nEND\r\n');
    let meta = '';
    await eventually(async () => (meta = text(await dc!.roundTrip('mg wu:1 v f t\r\n'))).startsWith('VA'), 'cold fill');
    const m = /^VA 7 f3 t(\d+)\r\nwarmval\r\n$/.exec(meta);
    expect(m, meta).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(490);
    expect(Number(m?.[1])).toBeLessThanOrEqual(500);
    // Writes go to cold only.
    expect(await set(c, 'wu:2', 'c')).toBe('STORED\r\n');
    expect(await get(dw!, 'wu:2')).toBeNull();
    expect(await get(c, 'wu:nosuch')).toBeNull();
  });
});

describe('shadows', () => {
  it('PoolRoute shadows copy the selected keys to the test cluster; the client reply is production\'s', async () => {
    const [p1, p2, t1] = await servers(3);
    const r = await relay({
      pools: { prod: { servers: [p1!.address, p2!.address] }, test: { servers: [t1!.address] } },
      route: { type: 'PoolRoute', pool: 'prod', shadows: [{ target: 'PoolRoute|test', index_range: [0, 2], key_fraction_range: [0, 0.5] }] },
    });
    const c = await client(r.port);
    const [dp1, dp2, dt] = await direct([p1!, p2!, t1!]);
    const keys = Array.from({ length: 40 }, (_, i) => `sh:${i}`);
    for (const k of keys) expect(await set(c, k, 'P')).toBe('STORED\r\n');
    const half = Math.trunc(0.5 * 0xffffffff);
    const expected = keys.filter((k) => spooky32(Buffer.from(k)) <= half);
    expect(expected.length).toBeGreaterThan(5);
    await eventually(async () => {
      for (const k of expected) if ((await get(dt!, k)) !== 'P') return false;
      return true;
    }, 'shadow copies');
    for (const k of keys) {
      if (!expected.includes(k)) expect(await get(dt!, k)).toBeNull();
      expect([await get(dp1!, k), await get(dp2!, k)].filter((v) => v !== null)).toEqual(['P']);
    }
  });

  it('ShadowRoute with the shadow cap at 0: every copy is dropped and counted in stats', async () => {
    const [p, t] = await servers(2);
    const r = await relay({
      pools: { prod: { servers: [p!.address] }, test: { servers: [t!.address] } },
      route: { type: 'ShadowRoute', children: 'PoolRoute|prod', shadows: [{ target: 'PoolRoute|test' }] },
    }, ['--target-max-shadow-requests', '0']);
    const c = await client(r.port);
    for (const k of KEYS.slice(0, 10)) expect(await set(c, k, 's')).toBe('STORED\r\n');
    expect(await statValue(c, 'shadow_requests_dropped', 'all')).toBe(10);
    expect(await get((await direct([t!]))[0]!, KEYS[0]!)).toBeNull();
  });
});
