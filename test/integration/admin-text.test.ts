/**
 * mcrouter-compatible text admin through the client port: `stats` groups and `get __mcrouter__.X`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';

let be: MockMemcached;
let relay: RelayProcess;
let c: RawClient;
const config = { pools: { A: { servers: [] as string[] } }, route: 'PoolRoute|A' };

async function ask(cmd: string): Promise<string> {
  return (await c.roundTrip(`${cmd}\r\n`)).toString('latin1');
}
/** The value of `get __mcrouter__.X`, checking the VALUE framing. */
async function adminValue(cmd: string): Promise<string> {
  const out = await ask(`get __mcrouter__.${cmd}`);
  const m = /^VALUE (\S+) 0 (\d+)\r\n([\s\S]*)\r\nEND\r\n$/.exec(out);
  expect(m, out).not.toBeNull();
  expect(m?.[1]).toBe(`__mcrouter__.${cmd}`);
  expect(Buffer.byteLength(m?.[3] ?? '')).toBe(Number(m?.[2]));
  return m?.[3] ?? '';
}
function statNames(out: string): string[] {
  expect(out.endsWith('END\r\n')).toBe(true);
  return out.split('\r\n').filter((l) => l.startsWith('STAT ')).map((l) => l.split(' ')[1] as string);
}

beforeAll(async () => {
  be = await startMock({ builtin: true });
  config.pools.A.servers = [be.address];
  relay = await startRelay({ config, args: ['--hot-keys', '--hot-keys-sample-rate', '1'] });
  c = await connect(relay.port);
  await c.roundTrip('set k 0 0 1\r\nx\r\nget k\r\nget k\r\nget miss\r\n');
});

afterAll(async () => {
  await c?.close();
  await relay?.close();
  await be?.close();
});

describe('stats groups', () => {
  test('basic: mcrouter names', async () => {
    const names = statNames(await ask('stats'));
    for (const n of ['version', 'pid', 'uptime', 'num_client_connections', 'num_servers', 'num_servers_up', 'num_servers_down', 'num_suspect_servers', 'config_age', 'config_last_success', 'config_failures', 'duration_us', 'duration_get_us', 'duration_update_us', 'cmd_get_count', 'cmd_set_count', 'failover_all', 'asynclog_requests']) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('duration_get_p99_us');
  });

  test('detailed and all add connection/TKO counters and p50/p95/p99/p999 per op', async () => {
    for (const group of ['detailed', 'all']) {
      const out = await ask(`stats ${group}`);
      const names = statNames(out);
      for (const n of ['num_connections_opened', 'num_soft_tko_count', 'num_hard_tko_count', 'duration_get_p50_us', 'duration_get_p95_us', 'duration_get_p99_us', 'duration_get_p999_us', 'duration_set_p99_us']) {
        expect(names).toContain(n);
      }
      expect(out).toMatch(/STAT duration_get_p50_us \d+\r\n/);
      expect(out).toContain('STAT num_connections_opened 1\r\n');
    }
  });

  test('servers: one line per destination; suspect_servers: none while healthy; unknown group', async () => {
    // mcrouter's format: ProxyDestinationKey, then ServerStat::toString (state count, then `; result:n ...`).
    expect(await ask('stats servers')).toMatch(new RegExp(`^STAT ${be.address}:ascii:plain:notcompressed-1000 avg_latency_us:\\d+\\.\\d{3} pending_reqs:0 inflight_reqs:0 up:1; found:2 notfound:1 stored:1\\r\\nEND\\r\\n$`));
    expect(await ask('stats suspect_servers')).toBe('END\r\n');
    expect(await ask('stats nonsense')).toBe('ERROR\r\n');
  });
});

describe('get __mcrouter__.*', () => {
  test('version, hostid, config_file, config_age, config_md5_digest', async () => {
    expect(await adminValue('version')).toBe('mcrelay 0.1.0');
    expect(await adminValue('hostid')).toMatch(/^\d+$/);
    expect(await adminValue('config_file')).toBe('ERROR: no config file found!');
    expect(await adminValue('config_age')).toMatch(/^\d+$/);
    expect(await adminValue('config_md5_digest')).toMatch(/^[0-9a-f]{32}$/);
  });

  test('options and options(name)', async () => {
    const lines = (await adminValue('options')).split('\n');
    expect(lines).toContain('server_timeout_ms 1000');
    expect(lines).toContain('hot_keys true');
    expect(lines).toContain('hot_keys_sample_rate 1');
    expect(await adminValue('options(route_prefix)')).toBe('/././');
    expect(await adminValue('options(nope)')).toBe('ERROR: no such option: nope');
  });

  test('route, route_handles (keys may contain commas), pools, preprocessed_config', async () => {
    expect(await adminValue('route(get,a,b)')).toBe(be.address);
    // mcrouter's names: RootRoute, AsynclogRoute (a one-server PoolRoute has no selection route), DestinationRoute.
    const dest = `host|pool=A|id=0|ap=${be.address}:ascii:plain:notcompressed|timeout=1000ms|keep_routing_prefix=false|msb=0`;
    expect(await adminValue('route_handles(get,k)')).toBe(`root\n asynclog:A\n  ${dest}`);
    // mcrouter's pools: pretty, key-sorted JSON of each pool's member route names.
    expect(await adminValue('pools')).toBe(`{\n  "A": [\n    "${dest}"\n  ]\n}`);
    expect(JSON.parse(await adminValue('preprocessed_config'))).toEqual(config);
    expect(await adminValue('route(bogus,k)')).toBe('ERROR: unknown operation: bogus');
    expect(await adminValue('nonsense')).toBe('ERROR: unknown command: nonsense');
  });

  test('hot_keys: JSON top-K overall and per destination', async () => {
    const hk = JSON.parse(await adminValue('hot_keys(1)')) as { overall: unknown[]; destinations: Record<string, unknown[]> };
    expect(hk.overall).toEqual([{ key: 'k', count: 3, error: 0, share: 0.75 }]);
    expect(hk.destinations[be.address]).toEqual([{ key: 'k', count: 3, error: 0, share: 0.75 }]);
  });
});

describe('--admin-text-commands', () => {
  test('off: stats and __mcrouter__ answer with an error, normal traffic still flows', async () => {
    const r = await startRelay({ config, args: ['--admin-text-commands', 'off'] });
    const c2 = await connect(r.port);
    try {
      expect((await c2.roundTrip('stats\r\n')).toString()).toBe('SERVER_ERROR admin commands disabled for this client\r\n');
      expect((await c2.roundTrip('get __mcrouter__.version\r\n')).toString()).toBe('VALUE __mcrouter__.version 0 46\r\nERROR: admin commands disabled for this client\r\nEND\r\n');
      expect((await c2.roundTrip('get k\r\n')).toString()).toBe('VALUE k 0 1\r\nx\r\nEND\r\n');
    } finally {
      await c2.close();
      await r.close();
    }
  });

  test('loopback: plaintext loopback clients keep admin commands', async () => {
    const r = await startRelay({ config, args: ['--admin-text-commands', 'loopback'] });
    const c2 = await connect(r.port);
    try {
      expect((await c2.roundTrip('get __mcrouter__.version\r\n')).toString()).toBe('VALUE __mcrouter__.version 0 13\r\nmcrelay 0.1.0\r\nEND\r\n');
    } finally {
      await c2.close();
      await r.close();
    }
  });
});
