/**
 * AllMajorityRoute and AllFastestRoute over three servers, one of which dies.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('replication routes', () => {
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
