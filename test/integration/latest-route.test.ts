/**
 * LatestRoute: this host's first pick takes everything; when it dies, the next pick does.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { latestPicks } from '../../src/routes/latest-route.js';
import { get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

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
});
