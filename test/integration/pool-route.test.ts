/**
 * PoolRoute `shadows`: the selected keys are copied to the shadow pool; the client gets production's reply.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { spooky32 } from '../../src/routes/hash/spooky-v2.js';
import { eventually, get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

describe('shadows', () => {
  it('PoolRoute shadows copy the selected keys to the test cluster; the client reply is production\'s', async () => {
    const [p1, p2, t1] = await servers(3);
    const r = await relay({
      pools: { prod: { servers: [p1!.address, p2!.address] }, test: { servers: [t1!.address] } },
      route: { type: 'PoolRoute', pool: 'prod', shadows: [{ target: 'PoolRoute|test', index_range: [0, 2], key_fraction_range: [0, 0.5] }] },
    });
    const c = await client(r.port);
    const [dp1, dp2, dt] = await direct([p1!, p2!, t1!]);
    const keys = Array.from({ length: 40 }, (_, i) => `sh:${i}`);
    for (const k of keys) expect(await set(c, k, 'P')).toBe('STORED\r\n');
    const half = Math.trunc(0.5 * 0xffffffff);
    const expected = keys.filter((k) => spooky32(Buffer.from(k)) <= half);
    expect(expected.length).toBeGreaterThan(5);
    await eventually(async () => {
      for (const k of expected) if ((await get(dt!, k)) !== 'P') return false;
      return true;
    }, 'shadow copies');
    for (const k of keys) {
      if (!expected.includes(k)) expect(await get(dt!, k)).toBeNull();
      expect([await get(dp1!, k), await get(dp2!, k)].filter((v) => v !== null)).toEqual(['P']);
    }
  });
});
