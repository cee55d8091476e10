/**
 * WarmUpRoute: cold filled from warm with the remaining TTL and the flags; writes go to cold.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { eventually, get, setWithFlags as set, text, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('tiers', () => {
  it('WarmUpRoute fills cold from warm keeping the remaining TTL and flags', async () => {
    const [cold, warm] = await servers(2);
    const r = await relay({ pools: { cold: { servers: [cold!.address] }, warm: { servers: [warm!.address] } }, route: { type: 'WarmUpRoute', cold: 'PoolRoute|cold', warm: 'PoolRoute|warm' } });
    const c = await client(r.port);
    const [dc, dw] = await direct([cold!, warm!]);
    expect(await set(dw!, 'wu:1', 'warmval', 3, 500)).toBe('STORED\r\n');
    expect(text(await c.roundTrip('get wu:1\r\n'))).toBe('VALUE wu:1 3 7\r\nwarmval\r\nEND\r\n');
    let meta = '';
    await eventually(async () => (meta = text(await dc!.roundTrip('mg wu:1 v f t\r\n'))).startsWith('VA'), 'cold fill');
    const m = /^VA 7 f3 t(\d+)\r\nwarmval\r\n$/.exec(meta);
    expect(m, meta).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(490);
    expect(Number(m?.[1])).toBeLessThanOrEqual(500);
    // Writes go to cold only.
    expect(await set(c, 'wu:2', 'c')).toBe('STORED\r\n');
    expect(await get(dw!, 'wu:2')).toBeNull();
    expect(await get(c, 'wu:nosuch')).toBeNull();
  });
});
