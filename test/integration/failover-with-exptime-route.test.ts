/**
 * FailoverWithExptimeRoute against real memcached processes, as examples/gutter-failover ships it: keys of a
 * dead main server go to the gutter with a capped exptime.
 */
import { describe, expect, it } from 'vitest';
import { cmd, example, set, useRouteBackends } from './helpers/route-backends.js';
import type { MemcachedServer } from './helpers/real-memcached.js';

const { servers: memcacheds, relay, client, directGet, directTtl } = useRouteBackends();

describe('FailoverWithExptimeRoute (examples/gutter-failover)', () => {
  it('serves from main; after a main server dies, its keys go to the gutter with a capped exptime', async () => {
    const [m1, m2, gutter] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('gutter-failover', [m1, m2, gutter]), ['--server-timeout', '300']);
    const c = await client(r.port);
    const keys = Array.from({ length: 20 }, (_, i) => `g:${i}`);
    for (const k of keys) expect(await set(c, k, 'v', 3600)).toBe('STORED\r\n');
    const onM1: string[] = [];
    for (const k of keys) {
      const a = await directGet(m1, k);
      const b = await directGet(m2, k);
      expect([a, b].filter((x) => x !== null).length, k).toBe(1);
      if (a !== null) onM1.push(k);
      expect(await directGet(gutter, k)).toBeNull();
    }
    expect(onM1.length).toBeGreaterThan(0);
    expect(onM1.length).toBeLessThan(keys.length);

    m1.kill();
    for (const k of keys) expect(await set(c, k, 'after', 3600), k).toBe('STORED\r\n');
    for (const k of keys) {
      if (onM1.includes(k)) {
        expect(await directGet(gutter, k)).toBe('after');
        const ttl = await directTtl(gutter, k);
        expect(ttl).not.toBeNull();
        expect(ttl as number).toBeGreaterThan(0);
        expect(ttl as number).toBeLessThanOrEqual(10);
        // Reads through the relay fail over to the gutter too.
        expect(await cmd(c, `get ${k}`)).toBe(`VALUE ${k} 0 5\r\nafter\r\nEND\r\n`);
      } else {
        expect(await directGet(m2, k)).toBe('after');
        expect(await directTtl(m2, k)).toBeGreaterThan(3000);
        expect(await directGet(gutter, k)).toBeNull();
      }
    }
  });
});
