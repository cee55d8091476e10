/**
 * MigrateRoute against real memcached processes, as examples/cluster-migration ships it (start_time
 * rewritten): before, during and after the migration window.
 */
import { describe, expect, it } from 'vitest';
import { cmd, example, set, useRouteBackends } from './helpers/route-backends.js';
import type { MemcachedServer } from './helpers/real-memcached.js';

const { servers: memcacheds, relay, client, directGet } = useRouteBackends();

describe('MigrateRoute (examples/cluster-migration)', () => {
  const withStart = (start: number) => (c: Record<string, unknown>): void => {
    (c['route'] as Record<string, unknown>)['start_time'] = start;
  };
  const now = (): number => Math.floor(Date.now() / 1000);

  it('before start: old pool; after start + 2·interval: new pool', async () => {
    const [o1, o2, n] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const before = await relay(example('cluster-migration', [o1, o2, n], withStart(now() + 86_400)));
    expect(await set(await client(before.port), 'm:before', 'x')).toBe('STORED\r\n');
    expect([(await directGet(o1, 'm:before')) ?? (await directGet(o2, 'm:before')), await directGet(n, 'm:before')]).toEqual(['x', null]);
    const after = await relay(example('cluster-migration', [o1, o2, n], withStart(now() - 3 * 3600)));
    expect(await set(await client(after.port), 'm:after', 'y')).toBe('STORED\r\n');
    expect([await directGet(o1, 'm:after'), await directGet(o2, 'm:after'), await directGet(n, 'm:after')]).toEqual([null, null, 'y']);
  });

  it('during the migration deletes reach both pools', async () => {
    const [o1, o2, n] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('cluster-migration', [o1, o2, n], withStart(now() - 10)));
    const c = await client(r.port);
    // Keys still live in old (first interval): a set through the relay lands there.
    expect(await set(c, 'm:k', 'old')).toBe('STORED\r\n');
    expect(await directGet(n, 'm:k')).toBeNull();
    expect(await set(await client(n.port), 'm:k', 'new')).toBe('STORED\r\n');
    expect(await cmd(c, 'delete m:k')).toBe('DELETED\r\n');
    expect([await directGet(o1, 'm:k'), await directGet(o2, 'm:k'), await directGet(n, 'm:k')]).toEqual([null, null, null]);
  });
});
