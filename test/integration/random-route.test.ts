/**
 * RandomRoute: each key on exactly one server, the keys spread over several.
 * Every key is written THROUGH mcrelay to real memcached processes and read DIRECTLY from each backend.
 */
import { describe, expect, it } from 'vitest';
import { get, set, useRouteBackends } from './helpers/route-backends.js';

const { servers, relay, client, direct } = useRouteBackends();

const KEYS = Array.from({ length: 30 }, (_, i) => `rb:${i}`);

describe('replica choice', () => {
  it('RandomRoute puts each key on exactly one server, spread over several', async () => {
    const ss = await servers(3);
    const r = await relay({ pools: { A: { servers: ss.map((s) => s.address) } }, route: 'RandomRoute|Pool|A' });
    const c = await client(r.port);
    const ds = await direct(ss);
    const used = new Set<number>();
    for (const k of KEYS) {
      expect(await set(c, k, 'r')).toBe('STORED\r\n');
      const where = [];
      for (let i = 0; i < 3; i++) if ((await get(ds[i]!, k)) === 'r') where.push(i);
      expect(where).toHaveLength(1);
      used.add(where[0]!);
    }
    expect(used.size).toBeGreaterThan(1);
  });
});
