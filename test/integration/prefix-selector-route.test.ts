/**
 * PrefixSelectorRoute, with OperationSelectorRoute and ModifyKeyRoute under it, against real memcached
 * processes, as examples/prefix-routes ships it (YAML and JSON forms): each key prefix lands in its pool.
 */
import { describe, expect, it } from 'vitest';
import { cmd, example, set, useRouteBackends } from './helpers/route-backends.js';
import type { MemcachedServer } from './helpers/real-memcached.js';

const { servers: memcacheds, relay, client, directGet } = useRouteBackends();

describe('PrefixSelectorRoute + OperationSelectorRoute + ModifyKeyRoute (examples/prefix-routes)', () => {
  it('puts each prefix in its pool; user deletes reach both pools; user:v1: keys are rewritten', async () => {
    const [sessions, users, shared] = await memcacheds(3) as [MemcachedServer, MemcachedServer, MemcachedServer];
    const r = await relay(example('prefix-routes', [sessions, users, shared]));
    const c = await client(r.port);
    expect(await set(c, 'session:1', 's1')).toBe('STORED\r\n');
    expect(await set(c, 'user:1', 'u1')).toBe('STORED\r\n');
    expect(await set(c, 'other', 'o')).toBe('STORED\r\n');
    expect(await set(c, 'user:v1:7', 'old-name')).toBe('STORED\r\n');
    expect([await directGet(sessions, 'session:1'), await directGet(users, 'session:1'), await directGet(shared, 'session:1')]).toEqual(['s1', null, null]);
    expect([await directGet(sessions, 'user:1'), await directGet(users, 'user:1'), await directGet(shared, 'user:1')]).toEqual([null, 'u1', null]);
    expect([await directGet(sessions, 'other'), await directGet(users, 'other'), await directGet(shared, 'other')]).toEqual([null, null, 'o']);
    expect([await directGet(users, 'user:v1:7'), await directGet(users, 'user:v2:7')]).toEqual([null, 'old-name']);
    // Through the relay the old name reads the new key.
    expect(await cmd(c, 'get user:v1:7')).toBe('VALUE user:v1:7 0 8\r\nold-name\r\nEND\r\n');
    // A user delete goes to users and sessions (AllSync): plant the key in sessions directly first.
    expect(await set(await client(sessions.port), 'user:1', 'stale')).toBe('STORED\r\n');
    expect(await cmd(c, 'delete user:1')).toMatch(/^(DELETED|NOT_FOUND)\r\n$/);
    expect([await directGet(sessions, 'user:1'), await directGet(users, 'user:1')]).toEqual([null, null]);
  });
});
