/**
 * AllSyncRoute: writes and deletes reach every server; a multi-get answers each key once.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, text, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

describe('replication routes', () => {
  it('AllSyncRoute writes every key to every server, deletes from all', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'AllSyncRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    for (const k of KEYS) expect(await set(c, k, `v-${k}`)).toBe('STORED\r\n');
    for (const d of ds) for (const k of KEYS) expect(await get(d, k)).toBe(`v-${k}`);
    expect(text(await c.roundTrip('delete rb:0\r\n'))).toBe('DELETED\r\n');
    for (const d of ds) expect(await get(d, 'rb:0')).toBeNull();
    // Multi-get through AllSync still answers each key once.
    expect(text(await c.roundTrip('get rb:1 rb:2\r\n'))).toBe('VALUE rb:1 0 6\r\nv-rb:1\r\nVALUE rb:2 0 6\r\nv-rb:2\r\nEND\r\n');
  });
});
