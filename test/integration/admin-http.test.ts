/**
 * The admin HTTP listener through the real CLI: every endpoint with its exact shape.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';

let be: MockMemcached;
let relay: RelayProcess;
let admin: string;

async function http(path: string, init?: RequestInit): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${admin}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

beforeAll(async () => {
  be = await startMock({ builtin: true });
  const port = await getFreePort();
  relay = await startRelay({
    config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' },
    args: ['--admin-port', String(port), '--prefix-stats', '--hot-keys', '--hot-keys-sample-rate', '1', '--tap-allow-values'],
  });
  admin = `http://127.0.0.1:${port}`;
  const c = await connect(relay.port);
  await c.roundTrip('set user:1 0 0 2\r\nhi\r\nget user:1 user:2\r\nget sess:9\r\n');
  await c.close();
});

afterAll(async () => {
  await relay?.close();
  await be?.close();
});

describe('admin HTTP', () => {
  test('/healthz is ready once a config is active', async () => {
    const r = await http('/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok', generation: 1 });
  });

  test('/config: the active config and its md5', async () => {
    const r = await http('/config');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['config', 'file', 'generation', 'loaded_at', 'md5']);
    expect(body['md5']).toMatch(/^[0-9a-f]{32}$/);
    expect(body['config']).toEqual({ pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' });
  });

  test('/route walks the tree: handles and destinations with TKO state', async () => {
    const body = JSON.parse((await http('/route?op=get&key=user:1')).body) as unknown;
    expect(body).toEqual({
      op: 'get',
      key: 'user:1',
      handles: [
        { depth: 0, name: 'RootRoute' },
        { depth: 1, name: 'PoolRoute|A' },
        { depth: 2, name: `host|pool=A|id=0|ssl=false|ap=${be.address}:TCP:ascii` },
      ],
      destinations: [{ address: be.address, state: 'up', tko: false, tko_reason: '' }],
    });
    expect((await http('/route?op=bogus&key=k')).status).toBe(400);
    expect((await http('/route?op=get')).status).toBe(400);
  });

  test('/metrics: Prometheus text with client, upstream, prefix, config and process metrics', async () => {
    const r = await http('/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain('mcrelay_client_requests_total{op="get",result="found"} 1');
    expect(r.body).toContain('mcrelay_client_requests_total{op="set",result="stored"} 1');
    expect(r.body).toMatch(/mcrelay_client_request_duration_seconds_bucket\{op="get",le="0\.00001"\} \d+/);
    expect(r.body).toContain('mcrelay_client_request_duration_seconds_count{op="get"} 2');
    expect(r.body).toContain(`mcrelay_upstream_replies_total{pool="A",destination="${be.address}",result="notfound"} 2`);
    expect(r.body).toContain(`mcrelay_upstream_tko{pool="A",destination="${be.address}"} 0`);
    expect(r.body).toContain(`mcrelay_upstream_connections_opened_total{pool="A",destination="${be.address}"} 1`);
    expect(r.body).toContain('mcrelay_prefix_requests_total{prefix="user:"} 3');
    expect(r.body).toContain('mcrelay_prefix_hits_total{prefix="user:"} 1');
    expect(r.body).toContain('mcrelay_prefix_misses_total{prefix="sess:"} 1');
    expect(r.body).toContain('mcrelay_config_generation 1');
    expect(r.body).toContain('mcrelay_config_failures_total 0');
    expect(r.body).toContain('mcrelay_route_failovers_total 0');
    expect(r.body).toContain('mcrelay_spool_lines_written_total 0');
    expect(r.body).toMatch(/mcrelay_hot_key_top_share\{destination="[^"]+"\} 0\.\d+/);
    expect(r.body).toMatch(/mcrelay_process_cpu_user_seconds_total \d/);
    expect(r.body).not.toMatch(/key="/);
    // Process metrics under prom-client's default names, read at scrape time; no per-GC observer by default.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(r.body).toMatch(new RegExp(`^mcrelay_${name} \\d`, 'm'));
    }
    expect(r.body).toMatch(/^mcrelay_nodejs_version_info\{version="v\d+/m);
    expect(r.body).not.toContain('nodejs_gc_duration_seconds');
  });

  test('--gc-metrics adds GC durations (prom-client\'s full default set)', async () => {
    const port = await getFreePort();
    const r = await startRelay({ config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }, args: ['--admin-port', String(port), '--gc-metrics'] });
    try {
      // Make some garbage so that at least one collection is recorded.
      const c = await connect(r.port);
      for (let i = 0; i < 300; i++) await c.roundTrip(`set g:${i % 20} 0 0 5000\r\n${'x'.repeat(5000)}\r\n`);
      await c.close();
      let body = '';
      for (let i = 0; i < 50 && !/nodejs_gc_duration_seconds_count\{kind="\w+"\} [1-9]/.test(body); i++) {
        body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(body).toMatch(/^mcrelay_nodejs_gc_duration_seconds_count\{kind="\w+"\} [1-9]/m);
      expect(body).toMatch(/^mcrelay_process_cpu_seconds_total \d/m);
    } finally {
      await r.close();
    }
  });

  test('/stats: JSON snapshot with ops percentiles, destinations, prefixes, hot keys, config events', async () => {
    const s = JSON.parse((await http('/stats')).body) as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual(['clients', 'config', 'destinations', 'history', 'hot_key_cache', 'hot_keys', 'ops', 'pid', 'pools', 'prefixes', 'requests', 'routes', 'uptime', 'version'].sort());
    const ops = s['ops'] as Record<string, Record<string, number>>;
    expect(Object.keys(ops['get'] ?? {}).sort()).toEqual(['avg_us', 'count', 'p50_us', 'p95_us', 'p999_us', 'p99_us']);
    expect(ops['get']?.['count']).toBe(2);
    expect(s['pools']).toEqual({ A: [be.address] });
    const dests = s['destinations'] as Record<string, unknown>[];
    expect(dests).toHaveLength(1);
    expect(dests[0]).toMatchObject({ address: be.address, pool: 'A', state: 'up', tko: false, sent: 4, replied: 4 });
    expect(s['prefixes']).toEqual([
      { prefix: 'user:', requests: 3, hits: 1, misses: 1, hit_rate: 0.5, bytes_in: 2, bytes_out: expect.any(Number) },
      { prefix: 'sess:', requests: 1, hits: 0, misses: 1, hit_rate: 0, bytes_in: 0, bytes_out: 0 },
      { prefix: 'other', requests: 0, hits: 0, misses: 0, hit_rate: null, bytes_in: 0, bytes_out: 0 },
    ]);
    const events = (s['config'] as { events: { ok: boolean; generation: number }[] }).events;
    expect(events.map((e) => [e.ok, e.generation])).toEqual([[true, 1]]);
  });

  test('/hot-keys: overall and per destination', async () => {
    const body = JSON.parse((await http('/hot-keys?k=1')).body) as { overall: { key: string; count: number }[]; destinations: Record<string, { key: string; count: number }[]> };
    expect(body.overall).toEqual([{ key: 'user:1', count: 2, error: 0, share: 0.5 }]);
    expect(body.destinations[be.address]).toEqual([{ key: 'user:1', count: 2, error: 0, share: 0.5 }]);
  });

  test('/tap streams live requests as NDJSON, filtered by prefix, ended at the limit', async () => {
    const res = await fetch(`${admin}/tap?prefix=tap:&limit=2&values=1`);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const c = await connect(relay.port);
    await c.roundTrip('get other:1\r\nset tap:a 0 0 3\r\nabc\r\nget tap:a\r\nget tap:b\r\n');
    await c.close();
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => Object.keys(l).sort())).toEqual([
      ['key', 'latencyUs', 'op', 'replyBytes', 'reqBytes', 'result', 'ts', 'value'],
      ['key', 'latencyUs', 'op', 'replyBytes', 'reqBytes', 'result', 'ts', 'value'],
    ]);
    expect(lines.map((l) => [l['op'], l['key'], l['result'], l['reqBytes'], l['value']])).toEqual([
      ['set', 'tap:a', 'stored', 3, 'abc'],
      ['get', 'tap:a', 'found', 0, 'abc'],
    ]);
  });

  test('/log-level: read, change at runtime, reject unknown levels', async () => {
    expect(JSON.parse((await http('/log-level')).body)).toEqual({ level: 'info' });
    expect(JSON.parse((await http('/log-level?level=debug', { method: 'POST' })).body)).toEqual({ level: 'debug' });
    expect(JSON.parse((await http('/log-level')).body)).toEqual({ level: 'debug' });
    expect((await http('/log-level', { method: 'PUT', body: 'loud' })).status).toBe(400);
    expect(JSON.parse((await http('/log-level', { method: 'PUT', body: 'info' })).body)).toEqual({ level: 'info' });
    // The log line reaches the pipe a little after the HTTP answer: wait for it (bounded).
    const deadline = Date.now() + 3000;
    while (!relay.output().includes('log level changed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(relay.output()).toContain('log level changed');
  });

  test('unknown paths are 404, writes elsewhere 405; / is the status page', async () => {
    expect((await http('/nope')).status).toBe(404);
    expect((await http('/metrics', { method: 'POST' })).status).toBe(405);
    const page = await http('/');
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>mcrelay status</title>');
    expect(page.body).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  });
});

describe('observability defaults', () => {
  /** A relay with `args`, after `set user:1`, 64 gets of it and one miss; its /metrics, /stats and /hot-keys status. */
  async function observed(args: string[]): Promise<{ metrics: string; stats: Record<string, unknown>; hotKeys: number }> {
    const port = await getFreePort();
    const r = await startRelay({ config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }, args: ['--admin-port', String(port), ...args] });
    try {
      const c = await connect(r.port);
      await c.roundTrip(`set user:1 0 0 2\r\nhi\r\n${'get user:1\r\n'.repeat(64)}get user:2\r\n`);
      await c.close();
      const base = `http://127.0.0.1:${port}`;
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const stats = (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>;
      const hotKeys = (await fetch(`${base}/hot-keys`)).status;
      return { metrics, stats, hotKeys };
    } finally {
      await r.close();
    }
  }

  test('with no flag, latency histograms, per-destination replies, per-prefix traffic and hot keys are on', async () => {
    const { metrics, stats, hotKeys } = await observed([]);
    expect(metrics).toContain('mcrelay_client_request_duration_seconds_count{op="get"} 65');
    expect(metrics).toContain(`mcrelay_upstream_request_duration_seconds_count{pool="A",destination="${be.address}"} 66`);
    expect(metrics).toContain(`mcrelay_upstream_replies_total{pool="A",destination="${be.address}",result="found"} 64`);
    expect(metrics).toContain('mcrelay_prefix_requests_total{prefix="user:"} 66');
    expect(metrics).toContain('mcrelay_prefix_hits_total{prefix="user:"} 64');
    // 1 in 32 requests sampled: the 32nd and 64th (both gets of user:1) reached the destination's tracker.
    expect(metrics).toContain(`mcrelay_hot_key_top_share{destination="${be.address}"} 1`);
    expect(stats['prefixes']).not.toBeNull();
    expect(stats['hot_keys']).toMatchObject({ sampleRate: 32 });
    expect(hotKeys).toBe(200);
  });

  test('every feature can be switched off: --no-… and =false', async () => {
    const { metrics, stats, hotKeys } = await observed(['--no-prefix-stats', '--hot-keys=false', '--no-latency-histograms', '--destination-stats=false']);
    expect(metrics).not.toContain('mcrelay_client_request_duration_seconds_count');
    expect(metrics).not.toContain('mcrelay_upstream_request_duration_seconds_count');
    // Replies by result are the destination's own counters, kept for `stats servers` anyway.
    expect(metrics).toContain(`mcrelay_upstream_replies_total{pool="A",destination="${be.address}",result="found"} 64`);
    expect(metrics).toContain('mcrelay_client_requests_total{op="get",result="found"} 64');
    expect(metrics).not.toContain('mcrelay_prefix_');
    expect(metrics).not.toContain('mcrelay_hot_key_top_share');
    expect(stats['prefixes']).toBeNull();
    expect(stats['hot_keys']).toBeNull();
    expect(hotKeys).toBe(404);
  });
});
