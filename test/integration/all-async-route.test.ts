/**
 * AllAsyncRoute: the client is answered at once, the copies land on every server in the background.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { eventually, get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('replication routes', () => {
  it('AllAsyncRoute replies NOT_STORED at once and the copies land on every server', async () => {
    const ss = await servers(2);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'AllAsyncRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    expect(await set(c, 'async:1', 'x')).toBe('NOT_STORED\r\n');
    await eventually(async () => (await get(ds[0]!, 'async:1')) === 'x' && (await get(ds[1]!, 'async:1')) === 'x', 'async copies');
  });
});
