/**
 * Issue 3 part A routes against real memcached processes: keys are written through mcrelay and then read
 * directly from each backend to prove where they landed. The four examples/ topologies are used as they
 * ship (ports 11311-11313 and MigrateRoute's start_time rewritten), in both their YAML and JSON forms.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/loader.js';
import { validateConfig } from '../../src/config/validate.js';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { REPO_ROOT, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function memcacheds(n: number): Promise<MemcachedServer[]> {
  const out: MemcachedServer[] = [];
  for (let i = 0; i < n; i++) {
    const s = await startMemcached();
    cleanups.push(() => s.stop());
    out.push(s);
  }
  return out;
}

async function relay(config: object, args: string[] = []): Promise<RelayProcess> {
  const r = await startRelay({ config, args });
  cleanups.push(() => r.close());
  return r;
}

async function client(port: number): Promise<RawClient> {
  const c = await connect(port);
  cleanups.push(() => c.destroy());
  return c;
}

/** One command, its reply as text (everything before the MN the helper appends). */
async function cmd(c: RawClient, line: string): Promise<string> {
  return (await c.roundTrip(`${line}\r\n`)).toString('latin1');
}

async function set(c: RawClient, key: string, value: string, exptime = 0): Promise<string> {
  return cmd(c, `set ${key} 0 ${exptime} ${value.length}\r\n${value}`);
}

/** The value of `key` read directly from a backend, or null. */
async function directGet(server: { port: number }, key: string): Promise<string | null> {
  const c = await client(server.port);
  const r = await cmd(c, `get ${key}`);
  const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*?)\r\nEND\r\n$/.exec(r);
  return m === null ? null : (m[1] ?? null);
}

/** Remaining TTL of `key` on a backend (`mg <key> t`): -1 = never expires, null = not there. */
async function directTtl(server: { port: number }, key: string): Promise<number | null> {
  const c = await client(server.port);
  const r = await cmd(c, `mg ${key} t`);
  const m = /^HD t(-?\d+)/.exec(r);
  return m === null ? null : Number(m[1]);
}

/** An example's config with placeholder ports 11311.. replaced by `servers`' ports (JSON and YAML must agree). */
function example(name: string, servers: readonly { port: number }[], edit: (c: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const dir = path.join(REPO_ROOT, 'examples');
  const jsonText = fs.readFileSync(path.join(dir, `${name}.json`), 'utf8');
  const yamlText = fs.readFileSync(path.join(dir, `${name}.yaml`), 'utf8');
  const fromJson = parseConfigText(jsonText, `${name}.json`, false);
  expect(JSON.parse(JSON.stringify(parseYaml(yamlText)))).toEqual(JSON.parse(JSON.stringify(fromJson)));
  let text = JSON.stringify(fromJson);
  servers.forEach((s, i) => {
    text = text.split(`127.0.0.1:${11311 + i}`).join(`127.0.0.1:${s.port}`);
  });
  const config = JSON.parse(text) as Record<string, unknown>;
  edit(config);
  const v = validateConfig({ configStr: JSON.stringify(config) });
  if (!v.ok) throw v.error;
  return config;
}

describe('PrefixSelectorRoute + OperationSelectorRoute + ModifyKeyRoute (examples/prefix-routes)', () => {
  it('puts each prefix in its pool; user deletes reach both pools; user:v1: keys are rewritten', async () => {
    const [sessions, users, shared] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('prefix-routes', [sessions, users, shared]));
    const c = await client(r.port);
    expect(await set(c, 'session:1', 's1')).toBe('STORED\r\n');
    expect(await set(c, 'user:1', 'u1')).toBe('STORED\r\n');
    expect(await set(c, 'other', 'o')).toBe('STORED\r\n');
    expect(await set(c, 'user:v1:7', 'old-name')).toBe('STORED\r\n');
    expect([await directGet(sessions, 'session:1'), await directGet(users, 'session:1'), await directGet(shared, 'session:1')]).toEqual(['s1', null, null]);
    expect([await directGet(sessions, 'user:1'), await directGet(users, 'user:1'), await directGet(shared, 'user:1')]).toEqual([null, 'u1', null]);
    expect([await directGet(sessions, 'other'), await directGet(users, 'other'), await directGet(shared, 'other')]).toEqual([null, null, 'o']);
    expect([await directGet(users, 'user:v1:7'), await directGet(users, 'user:v2:7')]).toEqual([null, 'old-name']);
    // Through the relay the old name reads the new key.
    expect(await cmd(c, 'get user:v1:7')).toBe('VALUE user:v1:7 0 8\r\nold-name\r\nEND\r\n');
    // A user delete goes to users and sessions (AllSync): plant the key in sessions directly first.
    expect(await set(await client(sessions.port), 'user:1', 'stale')).toBe('STORED\r\n');
    expect(await cmd(c, 'delete user:1')).toMatch(/^(DELETED|NOT_FOUND)\r\n$/);
    expect([await directGet(sessions, 'user:1'), await directGet(users, 'user:1')]).toEqual([null, null]);
  });
});

describe('FailoverWithExptimeRoute (examples/gutter-failover)', () => {
  it('serves from main; after a main server dies, its keys go to the gutter with a capped exptime', async () => {
    const [m1, m2, gutter] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('gutter-failover', [m1, m2, gutter]), ['--server-timeout', '300']);
    const c = await client(r.port);
    const keys = Array.from({ length: 20 }, (_, i) => `g:${i}`);
    for (const k of keys) expect(await set(c, k, 'v', 3600)).toBe('STORED\r\n');
    const onM1: string[] = [];
    for (const k of keys) {
      const a = await directGet(m1, k);
      const b = await directGet(m2, k);
      expect([a, b].filter((x) => x !== null).length, k).toBe(1);
      if (a !== null) onM1.push(k);
      expect(await directGet(gutter, k)).toBeNull();
    }
    expect(onM1.length).toBeGreaterThan(0);
    expect(onM1.length).toBeLessThan(keys.length);

    m1.kill();
    for (const k of keys) expect(await set(c, k, 'after', 3600), k).toBe('STORED\r\n');
    for (const k of keys) {
      if (onM1.includes(k)) {
        expect(await directGet(gutter, k)).toBe('after');
        const ttl = await directTtl(gutter, k);
        expect(ttl).not.toBeNull();
        expect(ttl as number).toBeGreaterThan(0);
        expect(ttl as number).toBeLessThanOrEqual(10);
        // Reads through the relay fail over to the gutter too.
        expect(await cmd(c, `get ${k}`)).toBe(`VALUE ${k} 0 5\r\nafter\r\nEND\r\n`);
      } else {
        expect(await directGet(m2, k)).toBe('after');
        expect(await directTtl(m2, k)).toBeGreaterThan(3000);
        expect(await directGet(gutter, k)).toBeNull();
      }
    }
  });
});

describe('MigrateRoute (examples/cluster-migration)', () => {
  const withStart = (start: number) => (c: Record<string, unknown>): void => {
    (c['route'] as Record<string, unknown>)['start_time'] = start;
  };
  const now = (): number => Math.floor(Date.now() / 1000);

  it('before start: old pool; after start + 2·interval: new pool', async () => {
    const [o1, o2, n] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const before = await relay(example('cluster-migration', [o1, o2, n], withStart(now() + 86_400)));
    expect(await set(await client(before.port), 'm:before', 'x')).toBe('STORED\r\n');
    expect([(await directGet(o1, 'm:before')) ?? (await directGet(o2, 'm:before')), await directGet(n, 'm:before')]).toEqual(['x', null]);
    const after = await relay(example('cluster-migration', [o1, o2, n], withStart(now() - 3 * 3600)));
    expect(await set(await client(after.port), 'm:after', 'y')).toBe('STORED\r\n');
    expect([await directGet(o1, 'm:after'), await directGet(o2, 'm:after'), await directGet(n, 'm:after')]).toEqual([null, null, 'y']);
  });

  it('during the migration deletes reach both pools', async () => {
    const [o1, o2, n] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('cluster-migration', [o1, o2, n], withStart(now() - 10)));
    const c = await client(r.port);
    // Keys still live in old (first interval): a set through the relay lands there.
    expect(await set(c, 'm:k', 'old')).toBe('STORED\r\n');
    expect(await directGet(n, 'm:k')).toBeNull();
    expect(await set(await client(n.port), 'm:k', 'new')).toBe('STORED\r\n');
    expect(await cmd(c, 'delete m:k')).toBe('DELETED\r\n');
    expect([await directGet(o1, 'm:k'), await directGet(o2, 'm:k'), await directGet(n, 'm:k')]).toEqual([null, null, null]);
  });
});

describe('KeySplitRoute (examples/hot-key-split)', () => {
  it('writes every replica, reads this host\'s replica, deletes all', async () => {
    const servers = await memcacheds(3);
    const r = await relay(example('hot-key-split', servers), ['--host-id', '4']); // 4 % 3 = replica 1
    const c = await client(r.port);
    expect(await set(c, 'hot:x', 'v')).toBe('STORED\r\n');
    const where = async (key: string): Promise<string[]> => {
      const out: string[] = [];
      for (const s of servers) { const v = await directGet(s, key); if (v !== null) out.push(v); }
      return out;
    };
    for (const k of ['hot:x', 'hot:x::1', 'hot:x::2']) expect(await where(k), k).toEqual(['v']);
    // Change replica 1 behind the relay's back: reads through the relay now see it.
    for (const s of servers) {
      if ((await directGet(s, 'hot:x::1')) !== null) expect(await set(await client(s.port), 'hot:x::1', 'r1')).toBe('STORED\r\n');
    }
    expect(await cmd(c, 'get hot:x')).toBe('VALUE hot:x 0 2\r\nr1\r\nEND\r\n');
    // Non-hot keys are not split.
    expect(await set(c, 'cold', 'c')).toBe('STORED\r\n');
    expect(await where('cold::1')).toEqual([]);
    expect(await cmd(c, 'delete hot:x')).toBe('DELETED\r\n');
    for (const k of ['hot:x', 'hot:x::1', 'hot:x::2']) expect(await where(k)).toEqual([]);
  });
});

describe('the other routes, one relay, two memcached backends A and B', () => {
  it('lands each write where the route says', async () => {
    const [a, b] = await memcacheds(2) as [MemcachedServer, MemcachedServer];
    const r = await relay({
      pools: { A: { servers: [a.address] }, B: { servers: [b.address] } },
      route: {
        type: 'PrefixSelectorRoute',
        policies: {
          'rg:': { type: 'RoutingGroupRoute', routing_group_policies: { update_like: 'PoolRoute|B' }, default_policy: 'PoolRoute|A' },
          'mf:': { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
          'me:': { type: 'ModifyExptimeRoute', target: 'PoolRoute|B', exptime: 50, action: 'min' },
          'fo:': { type: 'FailoverRoute', children: [{ type: 'FaultInjectionRoute', target: 'PoolRoute|A', down: true }, 'PoolRoute|B'] },
          'rl:': { type: 'RateLimitRoute', target: 'PoolRoute|A', fallback: 'PoolRoute|B', rates: { sets_rate: 0, sets_burst: 2 } },
          'li:': { type: 'LatencyInjectionRoute', child: 'PoolRoute|A', before_latency_ms: 150 },
          'mk:': { type: 'ModifyKeyRoute', target: 'PoolRoute|B', set_key_suffix: ':b' },
        },
        wildcard: 'PoolRoute|A',
      },
    });
    const c = await client(r.port);
    // RoutingGroupRoute: updates to B, gets from A.
    expect(await set(c, 'rg:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'rg:1'), await directGet(b, 'rg:1')]).toEqual([null, 'v']);
    expect(await cmd(c, 'get rg:1')).toBe('END\r\n');
    // MissFailoverRoute: a miss on A is followed by a hit on B.
    expect(await set(await client(b.port), 'mf:1', 'fromB')).toBe('STORED\r\n');
    expect(await cmd(c, 'get mf:1')).toBe('VALUE mf:1 0 5\r\nfromB\r\nEND\r\n');
    // ModifyExptimeRoute min: 0 and 3600 become 50, 10 stays.
    expect(await set(c, 'me:0', 'v', 0)).toBe('STORED\r\n');
    expect(await set(c, 'me:10', 'v', 10)).toBe('STORED\r\n');
    expect(await directTtl(b, 'me:0')).toBeGreaterThan(40);
    expect(await directTtl(b, 'me:0')).toBeLessThanOrEqual(50);
    expect(await directTtl(b, 'me:10')).toBeLessThanOrEqual(10);
    // FailoverRoute over a FaultInjectionRoute that is down: writes land in B only.
    expect(await set(c, 'fo:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'fo:1'), await directGet(b, 'fo:1')]).toEqual([null, 'v']);
    // RateLimitRoute: the first two sets go to A, the rest to the fallback B.
    for (let i = 0; i < 4; i++) expect(await set(c, `rl:${i}`, 'v')).toBe('STORED\r\n');
    expect([await directGet(a, 'rl:0'), await directGet(a, 'rl:1'), await directGet(b, 'rl:2'), await directGet(b, 'rl:3')]).toEqual(['v', 'v', 'v', 'v']);
    // LatencyInjectionRoute: the reply takes at least before_latency_ms.
    const t0 = Date.now();
    expect(await set(c, 'li:1', 'v')).toBe('STORED\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await directGet(a, 'li:1')).toBe('v');
    // ModifyKeyRoute: the key gets its suffix on B.
    expect(await set(c, 'mk:1', 'v')).toBe('STORED\r\n');
    expect([await directGet(b, 'mk:1'), await directGet(b, 'mk:1:b')]).toEqual([null, 'v']);
  });
});

describe('multi-get batching through PrefixSelectorRoute → FailoverRoute → PoolRoute', () => {
  it('a 100-key get reaches each backend as ONE get line', async () => {
    const mocks: MockMemcached[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await startMock({ builtin: true });
      cleanups.push(() => m.close());
      mocks.push(m);
    }
    const [p1, p2, g] = mocks as [MockMemcached, MockMemcached, MockMemcached];
    const r = await relay({
      pools: { P: { servers: [p1.address, p2.address] }, G: { servers: [g.address] } },
      route: { type: 'PrefixSelectorRoute', policies: { 'b:': { type: 'FailoverRoute', children: ['PoolRoute|P', 'PoolRoute|G'] } }, wildcard: 'PoolRoute|G' },
    });
    const c = await client(r.port);
    const keys = Array.from({ length: 100 }, (_, i) => `b:${i}`);
    const reply = await cmd(c, `get ${keys.join(' ')}`);
    expect(reply).toBe('END\r\n');
    const getLines = (m: MockMemcached): string[] => m.requests.map((q) => q.line).filter((l) => l.startsWith('get '));
    const l1 = getLines(p1);
    const l2 = getLines(p2);
    expect(l1.length).toBe(1);
    expect(l2.length).toBe(1);
    expect(getLines(g)).toEqual([]);
    const got = [...(l1[0] ?? '').split(' ').slice(1), ...(l2[0] ?? '').split(' ').slice(1)].sort();
    expect(got).toEqual([...keys].sort());
  });
});
