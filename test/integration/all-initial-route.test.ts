/**
 * AllInitialRoute: the first child answers, the others get the write too.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { eventually, get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('replication routes', () => {
  it('AllInitialRoute answers from the first child; the others get the write too', async () => {
    const ss = await servers(2);
    const r = await relay({ route: { type: 'AllInitialRoute', children: ss.map((s) => `PoolRoute|${s.port}`) }, pools: Object.fromEntries(ss.map((s) => [String(s.port), { servers: [s.address] }])) });
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'init:1', 'y')).toBe('STORED\r\n');
    await eventually(async () => (await get(ds[1]!, 'init:1')) === 'y', 'second child copy');
    ss[1]!.kill();
    expect(await set(c, 'init:2', 'z')).toBe('STORED\r\n');
  });
});
