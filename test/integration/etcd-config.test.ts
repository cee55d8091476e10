/**
 * `--config etcd://…` against a real etcd 3.4 (Debian's) and real memcached, all on loopback:
 * - a put is applied within 1 s while clients keep sending, and no request fails (the put → applied time
 *   is printed);
 * - a bad put (or a delete) is rejected with its JSON pointer, counted in config_failures, and the old
 *   config serves;
 * - etcd killed: traffic goes on, and a put after etcd is back is applied (the watch resumes from the last
 *   revision it saw);
 * - the revision to resume from compacted while mcrelay was cut off: it reads the key again;
 * - `@import` of keys relative to the config's key, and changes to an imported key;
 * - a start while etcd is down serves the config dump, and switches to etcd when it answers; a dump older
 *   than --max-dumped-config-age is not used; a file config uses the dump the same way.
 * Which config serves is read from `get __mcrouter__.config_md5_digest` and from where a set lands.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer, startConfigRelay, TcpGate, type ConfigRelay } from './helpers/etcd.js';
import { Load } from './helpers/load-client.js';
import { sleep } from './helpers/ports.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const poolConfig = (server: string): string => `${JSON.stringify({ pools: { A: { servers: [server] } }, route: 'PoolRoute|A' })}\n`;

async function digest(c: RawClient): Promise<string> {
  const r = (await c.roundTrip('get __mcrouter__.config_md5_digest\r\n')).toString('latin1');
  return /^VALUE \S+ \d+ \d+\r\n([0-9a-f]+)\r\n/.exec(r)?.[1] ?? r;
}

async function statValue(c: RawClient, name: string): Promise<number> {
  const r = (await c.roundTrip('stats\r\n')).toString('latin1');
  const m = new RegExp(`^STAT ${name} (\\d+)\\r$`, 'm').exec(r);
  if (m === null) throw new Error(`no STAT ${name} in ${r.slice(0, 200)}`);
  return Number(m[1]);
}

/** Poll until the relay serves the config whose text is `text`; returns the ms it took. */
async function waitForDigest(c: RawClient, text: string, timeoutMs: number, since = Date.now()): Promise<number> {
  const want = md5(text);
  while (Date.now() - since < timeoutMs) {
    if ((await digest(c)) === want) return Date.now() - since;
    await sleep(5);
  }
  throw new Error(`config ${want} not applied within ${timeoutMs} ms (serving ${await digest(c)})`);
}

/** The relay's log, once it holds `text` (lines reach us through a pipe, a moment after the fact). */
async function logHas(r: ConfigRelay, text: string, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!r.output().includes(text) && Date.now() < deadline) await sleep(20);
  return r.output();
}

/** Where a key set through the relay landed: the memcached that has it. */
async function landsOn(relay: RawClient, key: string, servers: readonly MemcachedServer[]): Promise<string[]> {
  expect((await relay.roundTrip(`set ${key} 0 0 2\r\nok\r\n`)).toString('latin1')).toBe('STORED\r\n');
  const out: string[] = [];
  for (const s of servers) {
    const d = await connect(s.port);
    if ((await d.roundTrip(`get ${key}\r\n`)).toString('latin1').startsWith('VALUE ')) out.push(s.address);
    await d.close();
  }
  return out;
}

describe('config from etcd', () => {
  let etcd: EtcdServer;
  let a: MemcachedServer;
  let b: MemcachedServer;
  const relays: ConfigRelay[] = [];
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'mcrelay-etcd-test-'));
    dirs.push(d);
    return d;
  };
  const relay = async (config: string, args: readonly string[] = []): Promise<ConfigRelay> => {
    const r = await startConfigRelay(config, ['--log-level', 'debug', ...args]);
    relays.push(r);
    return r;
  };

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    a = await startMemcached();
    b = await startMemcached();
  });

  afterAll(async () => {
    for (const r of relays) await r.close();
    await etcd?.close();
    await a?.stop();
    await b?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('applies a put within 1 s under traffic, with no failed request', async () => {
    const key = '/mcrelay/traffic/config';
    await etcd.put(key, poolConfig(a.address));
    const r = await relay(etcd.url(key));
    const c = await connect(r.port);
    expect(await digest(c)).toBe(md5(poolConfig(a.address)));
    const load = new Load({ port: r.port, connections: 4, request: (conn, i) => (i % 2 === 0 ? `set t:${conn}:${i % 50} 0 0 3\r\nabc\r\n` : `get t:${conn}:${(i - 1) % 50}\r\n`) });
    await sleep(300);
    const times: number[] = [];
    let serving = a;
    for (const next of [b, a, b]) {
      const started = Date.now();
      await etcd.put(key, poolConfig(next.address));
      times.push(await waitForDigest(c, poolConfig(next.address), 1000, started));
      serving = next;
      await sleep(200);
    }
    const stats = await load.stop();
    console.log(`[etcd-config] put → applied (from etcdctl start to the new md5 served): ${times.join(', ')} ms; ${stats.sent} requests during the puts, ${[...stats.errors.values()].reduce((x, y) => x + y, 0)} failed`);
    expect(stats.sent).toBeGreaterThan(100);
    expect(stats.errors).toEqual(new Map());
    expect(stats.hangs).toBe(0);
    for (const t of times) expect(t).toBeLessThan(1000);
    expect(await landsOn(c, 'traffic:after', [a, b])).toEqual([serving.address]);
    await c.close();
  });

  it('rejects a bad put with its JSON pointer, counts it, and keeps serving the old config', async () => {
    const key = '/mcrelay/bad/config';
    const good = poolConfig(a.address);
    await etcd.put(key, good);
    const r = await relay(etcd.url(key));
    const c = await connect(r.port);
    expect(await statValue(c, 'config_failures')).toBe(0);
    await etcd.put(key, JSON.stringify({ pools: { A: { servers: [b.address] } }, route: { type: 'NoSuchRoute' } }));
    const deadline = Date.now() + 2000;
    while ((await statValue(c, 'config_failures')) < 1 && Date.now() < deadline) await sleep(20);
    expect(await statValue(c, 'config_failures')).toBe(1);
    await etcd.put(key, '{"pools": {"A": {"servers": [');
    while ((await statValue(c, 'config_failures')) < 2 && Date.now() < deadline + 2000) await sleep(20);
    expect(await statValue(c, 'config_failures')).toBe(2);
    expect(await digest(c)).toBe(md5(good));
    expect(await landsOn(c, 'bad:still-a', [a, b])).toEqual([a.address]);
    const rejectedLines = (): string[] => r.output().split('\n').filter((l) => l.includes('Failed to reconfigure'));
    const logDeadline = Date.now() + 3000;
    while (rejectedLines().length < 2 && Date.now() < logDeadline) await sleep(20);
    const rejected = rejectedLines();
    expect(rejected.length).toBe(2);
    expect(JSON.parse(rejected[0] ?? '{}')).toMatchObject({ path: '/route', err: expect.stringContaining('NoSuchRoute') as unknown });
    expect(rejected[1]).toContain(`etcd://${etcd.endpoint}${key}:1:`);
    // A deleted key is rejected the same way.
    await etcd.del(key);
    while ((await statValue(c, 'config_failures')) < 3 && Date.now() < deadline + 4000) await sleep(20);
    expect(await statValue(c, 'config_failures')).toBe(3);
    expect(await logHas(r, 'it does not exist')).toContain('it does not exist');
    expect(await landsOn(c, 'bad:deleted', [a, b])).toEqual([a.address]);
    // The fix is another put.
    await etcd.put(key, poolConfig(b.address));
    await waitForDigest(c, poolConfig(b.address), 1000);
    await c.close();
  });

  it('keeps serving while etcd is down, and applies a put once etcd is back', async () => {
    const key = '/mcrelay/outage/config';
    await etcd.put(key, poolConfig(a.address));
    const r = await relay(etcd.url(key));
    const c = await connect(r.port);
    const load = new Load({ port: r.port, connections: 2, request: (conn, i) => (i % 2 === 0 ? `set o:${conn}:${i % 20} 0 0 1\r\nx\r\n` : `get o:${conn}:${(i - 1) % 20}\r\n`) });
    await etcd.kill();
    await sleep(3000);
    const during = load.stats.sent;
    expect(await digest(c)).toBe(md5(poolConfig(a.address)));
    await etcd.restart();
    const back = Date.now();
    await etcd.put(key, poolConfig(b.address));
    const applied = await waitForDigest(c, poolConfig(b.address), 5000, back);
    const stats = await load.stop();
    console.log(`[etcd-config] etcd down 3 s: ${during} requests served meanwhile, 0 expected to fail (${stats.errors.size} kinds failed); put after restart applied ${applied} ms after etcd was back`);
    expect(during).toBeGreaterThan(50);
    expect(stats.errors).toEqual(new Map());
    expect(applied).toBeLessThan(2000 + 1000); // reconnect backoff cap (2 s) plus the apply
    const log = await logHas(r, 'watch resumed from the last revision seen');
    expect(log).toContain('etcd: watch disconnected');
    expect(log).toMatch(/"fromRevision":"\d+".*watch resumed from the last revision seen/);
    await c.close();
  });

  it('reads the key again when the revision to resume from was compacted', async () => {
    const key = '/mcrelay/compact/config';
    await etcd.put(key, poolConfig(a.address));
    const gate = await TcpGate.start(etcd.clientPort);
    try {
      const r = await relay(`etcd://${gate.endpoint}${key}`);
      const c = await connect(r.port);
      gate.block();
      await sleep(300);
      await etcd.put(key, poolConfig(b.address));
      const last = `${JSON.stringify({ pools: { A: { servers: [b.address] } }, route: 'PoolRoute|A', x_revision: 3 })}\n`;
      await etcd.put(key, last);
      await etcd.compact();
      expect(await digest(c)).toBe(md5(poolConfig(a.address)));
      gate.open();
      await waitForDigest(c, last, 5000);
      expect(await logHas(r, 'watch cancelled by etcd (revision compacted?)')).toContain('watch cancelled by etcd (revision compacted?)');
      // And the new watch works.
      await etcd.put(key, poolConfig(a.address));
      await waitForDigest(c, poolConfig(a.address), 1000);
      await c.close();
    } finally {
      await gate.close();
    }
  });

  it('resolves @import to keys relative to the config key, and reloads when an imported key changes', async () => {
    const key = '/mcrelay/imp/app/config.yaml';
    await etcd.put('/mcrelay/imp/app/pools.json', JSON.stringify({ A: { servers: [a.address] } }));
    await etcd.put('/mcrelay/imp/shared/route', '"PoolRoute|A"');
    const yaml = 'pools: "@import(pools.json)"\nroute: "@import(../shared/route)"\n';
    await etcd.put(key, yaml);
    const r = await relay(etcd.url(key));
    const c = await connect(r.port);
    expect(await digest(c)).toBe(md5(yaml));
    expect(await landsOn(c, 'imp:1', [a, b])).toEqual([a.address]);
    const started = Date.now();
    await etcd.put('/mcrelay/imp/app/pools.json', JSON.stringify({ A: { servers: [b.address] } }));
    let moved: string[] = [];
    while (Date.now() - started < 1000) {
      moved = await landsOn(c, `imp:2:${Date.now()}`, [a, b]);
      if (moved[0] === b.address) break;
      await sleep(20);
    }
    expect(moved).toEqual([b.address]);
    console.log(`[etcd-config] imported key put → applied: ${Date.now() - started} ms`);
    // An import the config did not have before is fetched, then watched.
    await etcd.put('/mcrelay/imp/app/extra', '"PoolRoute|A"');
    const yaml2 = 'pools: "@import(pools.json)"\nroute: "@import(extra)"\n';
    await etcd.put(key, yaml2);
    await waitForDigest(c, yaml2, 1000);
    await etcd.put('/mcrelay/imp/app/extra', '"NullRoute"');
    const t0 = Date.now();
    let reply = '';
    while (Date.now() - t0 < 1000) {
      await c.roundTrip('set imp:null 0 0 1\r\nx\r\n');
      reply = (await c.roundTrip('get imp:null\r\n')).toString('latin1');
      if (reply === 'END\r\n') break;
      await sleep(20);
    }
    expect(reply).toBe('END\r\n');
    // A missing import without a default is a rejected config with its pointer.
    const failures = await statValue(c, 'config_failures');
    await etcd.put(key, 'pools: "@import(pools.json)"\nroute: "@import(missing)"\n');
    while ((await statValue(c, 'config_failures')) === failures && Date.now() - t0 < 3000) await sleep(20);
    expect(await logHas(r, '/mcrelay/imp/app/missing does not exist')).toMatch(/"path":"\/route".*\/mcrelay\/imp\/app\/missing does not exist/);
    await c.close();
  });

  it('starts from the config dump while etcd is down, then switches to etcd when it answers', async () => {
    const key = '/mcrelay/dump/config';
    const dumpRoot = tmp();
    await etcd.put(key, poolConfig(a.address));
    const first = await relay(etcd.url(key), ['--config-dump-root', dumpRoot]);
    await first.close();
    await etcd.kill();
    try {
      const started = Date.now();
      const r = await relay(etcd.url(key), ['--config-dump-root', dumpRoot]);
      const startMs = Date.now() - started;
      const c = await connect(r.port);
      expect(await digest(c)).toBe(md5(poolConfig(a.address)));
      expect(await landsOn(c, 'dump:1', [a, b])).toEqual([a.address]);
      const warn = (await logHas(r, 'serving the dumped config')).split('\n').find((l) => l.includes('serving the dumped config'));
      expect(JSON.parse(warn ?? '{}')).toMatchObject({ level: 40 });
      console.log(`[etcd-config] start with etcd down: serving from the dump after ${startMs} ms`);
      // A dump older than --max-dumped-config-age is not used: the start fails.
      await sleep(1100);
      const old = await startConfigRelay(etcd.url(key), ['--config-dump-root', dumpRoot, '--max-dumped-config-age', '1'], { expectExit: true });
      expect(await old.exited).toBe(3);
      expect(await logHas(old, 'config dump not used')).toContain('config dump not used');
      await etcd.restart();
      await etcd.put(key, poolConfig(b.address));
      await waitForDigest(c, poolConfig(b.address), 5000);
      expect(await logHas(r, 'no longer serving the dumped config')).toContain('no longer serving the dumped config');
      await c.close();
    } finally {
      await etcd.restart();
    }
  });

  it('uses the dump for a file config too, and goes back to the file when it returns', async () => {
    const dir = tmp();
    const dumpRoot = tmp();
    const file = join(dir, 'mcrelay.json');
    writeFileSync(file, poolConfig(a.address));
    const first = await relay(`file:${file}`, ['--config-dump-root', dumpRoot]);
    await first.close();
    renameSync(file, `${file}.away`);
    const r = await relay(`file:${file}`, ['--config-dump-root', dumpRoot, '--reconfiguration-delay-ms', '50']);
    const c = await connect(r.port);
    expect(await digest(c)).toBe(md5(poolConfig(a.address)));
    expect(await logHas(r, 'serving the dumped config')).toContain('serving the dumped config');
    writeFileSync(file, poolConfig(b.address));
    await waitForDigest(c, poolConfig(b.address), 3000);
    await c.close();
  });
});
