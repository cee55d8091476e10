/**
 * ShadowRoute under --target-max-shadow-requests: copies over the cap are dropped and counted.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, statValue, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

describe('shadows', () => {
  it('ShadowRoute with the shadow cap at 0: every copy is dropped and counted in stats', async () => {
    const [p, t] = await servers(2);
    const r = await relay({
      pools: { prod: { servers: [p!.address] }, test: { servers: [t!.address] } },
      route: { type: 'ShadowRoute', children: 'PoolRoute|prod', shadows: [{ target: 'PoolRoute|test' }] },
    }, ['--target-max-shadow-requests', '0']);
    const c = await client(r.port);
    for (const k of KEYS.slice(0, 10)) expect(await set(c, k, 's')).toBe('STORED\r\n');
    expect(await statValue(c, 'shadow_requests_dropped', 'all')).toBe(10);
    expect(await get((await direct([t!]))[0]!, KEYS[0]!)).toBeNull();
  });
});
