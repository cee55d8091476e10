/**
 * KeySplitRoute against real memcached processes, as examples/hot-key-split ships it: hot keys are written
 * to every replica and read from this host's.
 */
import { describe, expect, it } from 'vitest';
import { cmd, example, set, useRouteBackends } from './helpers/route-backends.js';

const { servers: memcacheds, relay, client, directGet } = useRouteBackends();

describe('KeySplitRoute (examples/hot-key-split)', () => {
  it('writes every replica, reads this host\'s replica, deletes all', async () => {
    const servers = await memcacheds(3);
    const r = await relay(example('hot-key-split', servers), ['--host-id', '4']); // 4 % 3 = replica 1
    const c = await client(r.port);
    expect(await set(c, 'hot:x', 'v')).toBe('STORED\r\n');
    const where = async (key: string): Promise<string[]> => {
      const out: string[] = [];
      for (const s of servers) { const v = await directGet(s, key); if (v !== null) out.push(v); }
      return out;
    };
    for (const k of ['hot:x', 'hot:x::1', 'hot:x::2']) expect(await where(k), k).toEqual(['v']);
    // Change replica 1 behind the relay's back: reads through the relay now see it.
    for (const s of servers) {
      if ((await directGet(s, 'hot:x::1')) !== null) expect(await set(await client(s.port), 'hot:x::1', 'r1')).toBe('STORED\r\n');
    }
    expect(await cmd(c, 'get hot:x')).toBe('VALUE hot:x 0 2\r\nr1\r\nEND\r\n');
    // Non-hot keys are not split.
    expect(await set(c, 'cold', 'c')).toBe('STORED\r\n');
    expect(await where('cold::1')).toEqual([]);
    expect(await cmd(c, 'delete hot:x')).toBe('DELETED\r\n');
    for (const k of ['hot:x', 'hot:x::1', 'hot:x::2']) expect(await where(k)).toEqual([]);
  });
});
