/**
 * BalancedReplicaRoute: writes reach every replica, reads spread evenly by key, a dead replica fails no read.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, statValue, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('replica choice', () => {
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
