/**
 * L1L2CacheRoute: L1 refilled from L2 with flags and upgradingL1Exptime, negative caching in L1, sets to L1.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { eventually, get, setWithFlags as set, statValue, text, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('tiers', () => {
  it('L1L2CacheRoute refills L1 from L2 with the flags and upgradingL1Exptime; ncache sentinel in L1', async () => {
    const [l1, l2] = await servers(2);
    const r = await relay({
      pools: { L1: { servers: [l1!.address] }, L2: { servers: [l2!.address] } },
      route: { type: 'L1L2CacheRoute', l1: 'PoolRoute|L1', l2: 'PoolRoute|L2', upgradingL1Exptime: 100, ncacheExptime: 30, ncacheUpdatePeriod: 1000 },
    });
    const c = await client(r.port);
    const [d1, d2] = await direct([l1!, l2!]);
    expect(await set(d2!, 'tier:1', 'deep', 5)).toBe('STORED\r\n');
    expect(text(await c.roundTrip('get tier:1\r\n'))).toBe('VALUE tier:1 5 4\r\ndeep\r\nEND\r\n');
    let meta = '';
    await eventually(async () => (meta = text(await d1!.roundTrip('mg tier:1 v f t\r\n'))).startsWith('VA'), 'L1 refill');
    const m = /^VA 4 f5 t(\d+)\r\ndeep\r\n$/.exec(meta);
    expect(m, meta).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(90);
    expect(Number(m?.[1])).toBeLessThanOrEqual(100);
    // Negative caching: a miss in both leaves a 0x10000 sentinel in L1; the next get does not reach L2.
    expect(await get(c, 'tier:none')).toBeNull();
    await eventually(async () => /^VA \d+ f65536 t(2\d|30)\r\n/.test(text(await d1!.roundTrip('mg tier:none v f t\r\n'))), 'ncache sentinel');
    const l2Gets = await statValue(d2!, 'cmd_get');
    expect(await get(c, 'tier:none')).toBeNull();
    expect(await statValue(d2!, 'cmd_get')).toBe(l2Gets);
    // Sets go to L1 only (mcrouter).
    expect(await set(c, 'tier:w', 'w')).toBe('STORED\r\n');
    expect(await get(d2!, 'tier:w')).toBeNull();
    expect(await get(d1!, 'tier:w')).toBe('w');
  });
});
