/**
 * Hot keys end to end: a synthetic Zipf workload's hottest keys are found (overall and per destination), and
 * the opt-in hot-key cache cuts the gets the backend sees for them while local writes stay read-your-writes.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { zipf } from '../unit/observe/helpers/zipf.js';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const KEYS = 500;
const GETS = 6000;

/** Run the workload; returns the backend's get count per key. */
async function runWorkload(args: readonly string[]): Promise<{ relay: RelayProcess; be: MockMemcached; upstreamGets: Map<string, number> }> {
  const be = await startMock({ builtin: true });
  cleanups.push(() => be.close());
  const relay = await startRelay({ config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }, args: ['--hot-keys', '--hot-keys-sample-rate', '1', ...args] });
  cleanups.push(() => relay.close());
  const c = await connect(relay.port, { timeoutMs: 20_000 });
  cleanups.push(() => c.close());
  let sets = '';
  for (let i = 0; i < KEYS; i++) sets += `set hot:${i} 0 0 1 noreply\r\nv\r\n`;
  await c.roundTrip(sets);
  const next = zipf(KEYS, 1.2, 7);
  for (let batch = 0; batch < GETS / 100; batch++) {
    let cmds = '';
    for (let i = 0; i < 100; i++) cmds += `get hot:${next()}\r\n`;
    await c.roundTrip(cmds);
  }
  const upstreamGets = new Map<string, number>();
  for (const r of be.requests) {
    if (r.line.startsWith('get ')) for (const k of r.line.slice(4).split(' ')) upstreamGets.set(k, (upstreamGets.get(k) ?? 0) + 1);
  }
  const hk = (await c.roundTrip('get __mcrouter__.hot_keys(5)\r\n')).toString('latin1');
  const json = hk.split('\r\n')[1] ?? '{}';
  const report = JSON.parse(json) as { overall: { key: string }[]; destinations: Record<string, { key: string }[]> };
  expect(report.overall.map((h) => h.key)).toEqual(['hot:0', 'hot:1', 'hot:2', 'hot:3', 'hot:4']);
  expect((report.destinations[be.address] ?? []).slice(0, 3).map((h) => h.key)).toEqual(args.length === 0 ? ['hot:0', 'hot:1', 'hot:2'] : expect.any(Array));
  return { relay, be, upstreamGets };
}

describe('hot keys', () => {
  test('Zipf: the hottest keys are found, and the hot-key cache cuts their upstream gets', async () => {
    const off = await runWorkload([]);
    const on = await runWorkload(['--hot-keys-cache-prefixes', 'hot:', '--hot-keys-cache-min-count', '50', '--hot-keys-cache-min-share-pct', '2', '--hot-keys-cache-ttl-ms', '10000']);
    const top = ['hot:0', 'hot:1', 'hot:2'];
    const sum = (m: Map<string, number>): number => top.reduce((a, k) => a + (m.get(k) ?? 0), 0);
    // Without the cache every client get reaches the backend.
    expect(sum(off.upstreamGets)).toBeGreaterThan(2000);
    // With it, the hot keys are fetched until they qualify (50 requests, 2 %), then served locally for the TTL.
    expect(sum(on.upstreamGets)).toBeLessThan(sum(off.upstreamGets) / 10);
    // Cold keys are never cached: each of their client gets still reaches the backend.
    expect(on.upstreamGets.get('hot:400') ?? 0).toBe(off.upstreamGets.get('hot:400') ?? 0);
  }, 120_000);

  test('the cache: local writes and deletes are read back at once', async () => {
    const be = await startMock({ builtin: true });
    cleanups.push(() => be.close());
    const relay = await startRelay({
      config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' },
      args: ['--hot-keys-sample-rate', '4', '--hot-keys-cache-prefixes', 'h:', '--hot-keys-cache-min-count', '3', '--hot-keys-cache-min-share-pct', '1', '--hot-keys-cache-ttl-ms', '60000'],
    });
    cleanups.push(() => relay.close());
    const c = await connect(relay.port);
    cleanups.push(() => c.close());
    await c.roundTrip('set h:x 0 0 3\r\none\r\n');
    for (let i = 0; i < 10; i++) expect((await c.roundTrip('get h:x\r\n')).toString()).toBe('VALUE h:x 0 3\r\none\r\nEND\r\n');
    const before = be.requests.filter((r) => r.line === 'get h:x').length;
    expect(before).toBeLessThan(10);
    await c.roundTrip('set h:x 0 0 3\r\ntwo\r\n');
    expect((await c.roundTrip('get h:x\r\n')).toString()).toBe('VALUE h:x 0 3\r\ntwo\r\nEND\r\n');
    await c.roundTrip('delete h:x\r\n');
    expect((await c.roundTrip('get h:x\r\n')).toString()).toBe('END\r\n');
  });
});
