/**
 * mcrouter's destination identity and stats (issue 12 §3, §4):
 * - an ASCII destination is `host:port:ascii:plain:notcompressed-<timeout>`: two pools with different
 *   server_timeout get two destinations (own connections), sharing one TKO state per host:port;
 * - `stats servers` lines in mcrouter's ServerStat format; num_servers_new/up/down/closed;
 * - `stats count` (request and result counters), `stats cmd-error`, and the rate stats of `stats detailed`.
 */
import { afterEach, expect, test } from 'vitest';
import { startMock } from './helpers/mock-memcached.js';
import { getFreePort, LOOPBACK, sleep } from './helpers/ports.js';
import { startRelay } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function stats(c: RawClient, group: string): Promise<Map<string, string>> {
  const out = (await c.roundTrip(`stats ${group}\r\n`)).toString('latin1');
  expect(out.endsWith('END\r\n'), out).toBe(true);
  const m = new Map<string, string>();
  for (const l of out.split('\r\n')) {
    const f = /^STAT (\S+) (.*)$/.exec(l);
    if (f) m.set(f[1] as string, f[2] as string);
  }
  return m;
}

/** Two pools over the same servers with different server_timeout, routed by key prefix. */
function twoTimeouts(servers: string[]): object {
  return {
    pools: { fast: { servers, server_timeout: 250 }, slow: { servers } },
    route: { type: 'PrefixSelectorRoute', policies: { 'f:': 'PoolRoute|fast' }, wildcard: 'PoolRoute|slow' },
  };
}

test('identity includes the timeout; servers lines, states and results read as mcrouter writes them', async () => {
  const be = await startMock({ builtin: true });
  cleanup.push(() => be.close());
  const relay = await startRelay({ config: twoTimeouts([be.address]) });
  cleanup.push(() => relay.close());
  const c = await connect(relay.port);
  cleanup.push(() => c.close());

  const before = await stats(c, '');
  expect([before.get('num_servers'), before.get('num_servers_new'), before.get('num_servers_up'), before.get('num_servers_down'), before.get('num_servers_closed')]).toEqual(['2', '2', '0', '0', '0']);

  await c.roundTrip('set f:a 0 0 1\r\nx\r\nget f:a\r\nget f:b\r\nset s:a 0 0 1\r\ny\r\n');
  const servers = await stats(c, 'servers');
  expect([...servers.keys()].sort()).toEqual([`${be.address}:ascii:plain:notcompressed-1000`, `${be.address}:ascii:plain:notcompressed-250`]);
  expect(servers.get(`${be.address}:ascii:plain:notcompressed-250`)).toMatch(/^avg_latency_us:\d+\.\d{3} pending_reqs:0 inflight_reqs:0 up:1; found:1 notfound:1 stored:1$/);
  expect(servers.get(`${be.address}:ascii:plain:notcompressed-1000`)).toMatch(/^avg_latency_us:\d+\.\d{3} pending_reqs:0 inflight_reqs:0 up:1; stored:1$/);
  // Two destinations, two connections: requests with different timeouts never share an ASCII connection.
  expect(be.connections).toHaveLength(2);
  const after = await stats(c, '');
  expect([after.get('num_servers_new'), after.get('num_servers_up'), after.get('num_connections_opened')]).toEqual(['0', '2', '2']);
});

test('TKO is per host:port: both destinations of a refusing server are hard TKO; stats count and rates', async () => {
  const port = await getFreePort();
  const addr = `${LOOPBACK}:${port}`;
  const relay = await startRelay({ config: twoTimeouts([addr]), args: ['-r', '60000'] });
  cleanup.push(() => relay.close());
  const c = await connect(relay.port);
  cleanup.push(() => c.close());

  // Through the 250 ms pool: refused, hard TKO for the host. The 1000 ms pool's destination is TKO too.
  expect((await c.roundTrip('get f:a\r\n')).toString()).toMatch(/^SERVER_ERROR AsyncSocketException: connect failed/);
  expect((await c.roundTrip('get s:a\r\nget f:b\r\n')).toString()).toBe(
    'SERVER_ERROR Server unavailable. Reason: mc_res_connect_error\r\nSERVER_ERROR Server unavailable. Reason: mc_res_connect_error\r\n',
  );
  const servers = await stats(c, 'servers');
  expect(servers.get(`${addr}:ascii:plain:notcompressed-250`)).toMatch(/ hard_tko; {2}down:1; connect_error:1$/);
  expect(servers.get(`${addr}:ascii:plain:notcompressed-1000`)).toMatch(/ hard_tko; {2}new:1$/);
  expect([...(await stats(c, 'suspect_servers')).entries()]).toEqual([[addr, 'status:tko num_failures:1']]);
  const basic = await stats(c, '');
  expect([basic.get('num_servers_down'), basic.get('num_servers_new'), basic.get('num_hard_tko_count'), basic.get('num_suspect_servers')]).toEqual(['1', '1', '1', '1']);

  const count = await stats(c, 'count');
  const want: Record<string, string> = {
    request_sent_count: '3',
    request_error_count: '3',
    request_success_count: '0',
    request_replied_count: '3',
    result_error_count: '3',
    result_error_all_count: '3',
    result_connect_error_count: '1',
    result_connect_error_all_count: '1',
    result_tko_count: '2',
    result_tko_all_count: '2',
    result_data_timeout_count: '0',
    result_local_error_all_count: '0',
    result_remote_error_all_count: '0',
    result_deadline_exceeded_error_all_count: '0',
  };
  for (const [k, v] of Object.entries(want)) expect([k, count.get(k)]).toEqual([k, v]);
  expect(count.has('num_servers')).toBe(false);

  expect(await c.roundTrip('stats cmd-error\r\n')).toEqual(Buffer.from('END\r\n'));
  // Rates: per second over the last minute, sampled from the first `stats` on.
  await sleep(1200);
  const detailed = await stats(c, 'detailed');
  expect(Number(detailed.get('result_error'))).toBeGreaterThan(0);
  expect(detailed.get('result_tko_all')).toMatch(/^[0-9.]+(e[+-]\d\d)?$/);
  expect(detailed.get('result_data_timeout')).toBe('0');
});

test('--num-proxies 2: num_servers_new/up and the counters are summed over the workers, as mcrouter sums its proxies', async () => {
  const be = await startMock({ builtin: true });
  cleanup.push(() => be.close());
  const relay = await startRelay({ config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }, args: ['--num-proxies', '2'] });
  cleanup.push(() => relay.close());
  // Connections go to the workers in turn (once both listen): open them until both workers had traffic.
  const clients: RawClient[] = [];
  let basic = new Map<string, string>();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const c = await connect(relay.port);
    cleanup.push(() => c.close());
    clients.push(c);
    await c.roundTrip('set k 0 0 1\r\nx\r\nget k\r\n');
    basic = await stats(c, '');
    if (basic.get('num_servers_up') === '2') break;
    await sleep(100);
  }
  const n = clients.length;
  expect([basic.get('num_servers'), basic.get('num_proxies')]).toEqual(['2', '2']);
  for (const c of clients) {
    const s = await stats(c, '');
    expect([s.get('num_servers_up'), s.get('num_servers_new'), s.get('num_client_connections'), s.get('cmd_get_count')]).toEqual(['2', '0', String(n), String(n)]);
    expect((await stats(c, 'count')).get('request_sent_count')).toBe(String(2 * n));
  }
});

test('configs_from_disk is 1 while the config serving came from --config-dump-root', async () => {
  const { startRelayWithFile } = await import('./helpers/load-client.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const be = await startMock({ builtin: true });
  cleanup.push(() => be.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-from-disk-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }));
  const dumps = path.join(dir, 'dumps');
  const first = await startRelayWithFile(file, ['--config-dump-root', dumps]);
  const c1 = await connect(first.port);
  expect((await stats(c1, '')).get('configs_from_disk')).toBe('0');
  await c1.close();
  await first.close();
  fs.rmSync(file);
  const second = await startRelayWithFile(file, ['--config-dump-root', dumps]);
  cleanup.push(() => second.close());
  const c2 = await connect(second.port);
  cleanup.push(() => c2.close());
  expect((await stats(c2, '')).get('configs_from_disk')).toBe('1');
  expect((await stats(c2, 'ods')).get('configs_from_disk')).toBe('1');
});
