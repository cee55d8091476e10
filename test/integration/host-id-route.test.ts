/**
 * HostIdRoute: the replica is hostId % n.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('replica choice', () => {
  it('HostIdRoute uses hostId % n', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'HostIdRoute|Pool|A' }, ['--host-id', '4']);
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'hid', 'h')).toBe('STORED\r\n');
    expect([await get(ds[0]!, 'hid'), await get(ds[1]!, 'hid'), await get(ds[2]!, 'hid')]).toEqual([null, 'h', null]);
  });
});
