/**
 * AzAffinityRoute: writes land in every zone, reads stay local, and losing zones (killed or SIGSTOPped)
 * fails no read.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { startRelay } from './helpers/proxy-harness.js';
import { get, set, statValue, text, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

describe('AzAffinityRoute', () => {
  it('writes land in every zone; losing the local zone (killed) and a far zone (SIGSTOP) fails zero reads', async () => {
    const [a1, a2, b1, c1] = await servers(4);
    const config = {
      pools: { 'zone-a': { servers: [a1!.address, a2!.address] }, 'zone-b': { servers: [b1!.address] }, 'zone-c': { servers: [c1!.address] } },
      route: { type: 'AzAffinityRoute', zones: { 'us-a': 'PoolRoute|zone-a', 'us-b': 'PoolRoute|zone-b', 'us-c': 'PoolRoute|zone-c' }, write_policy: 'all' },
    };
    const r = await relay(config, ['--local-zone', 'us-a', '--server-timeout', '250']);
    const c = await client(r.port);
    const [da1, da2, db, dc] = await direct([a1!, a2!, b1!, c1!]);
    for (const k of KEYS) expect(await set(c, k, `z-${k}`)).toBe('STORED\r\n');
    for (const k of KEYS) {
      const inA = [await get(da1!, k), await get(da2!, k)].filter((v) => v !== null);
      expect(inA).toEqual([`z-${k}`]);
      expect(await get(db!, k)).toBe(`z-${k}`);
      expect(await get(dc!, k)).toBe(`z-${k}`);
    }
    // Reads are served by the local zone while it is up.
    const bHits = await statValue(db!, 'get_hits');
    for (const k of KEYS) expect(await get(c, k)).toBe(`z-${k}`);
    expect(await statValue(db!, 'get_hits')).toBe(bHits);
    // Lose the whole local zone, and hang one far zone: every read still answers with the data.
    a1!.kill();
    a2!.kill();
    b1!.pause();
    let failed = 0;
    for (const k of KEYS) if ((await get(c, k)) !== `z-${k}`) failed++;
    expect(failed).toBe(0);
    // Multi-get across the outage.
    expect(text(await c.roundTrip('get rb:1 rb:2 nosuch\r\n'))).toBe('VALUE rb:1 0 6\r\nz-rb:1\r\nVALUE rb:2 0 6\r\nz-rb:2\r\nEND\r\n');
    b1!.resume();
  });

  it('a missing local zone is a startup error naming the path', async () => {
    await expect(startRelay({ config: { pools: { p: { servers: ['127.0.0.1:1'] } }, route: { type: 'AzAffinityRoute', zones: { x: 'PoolRoute|p' } } }, args: ['--local-zone', 'nope'], startTimeoutMs: 5000 }))
      .rejects.toThrow(/\/route\/zones.*local zone "nope"|local zone "nope"/);
  });
});
