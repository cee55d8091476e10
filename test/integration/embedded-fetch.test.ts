/**
 * router.fetch (read-through with herd protection) against real memcached: two routers over the same pool
 * stand for two hosts of one fleet, and the loader's calls are counted across both. The herd guard is
 * memcached's own (mg N/R flags: one W win per miss or per early refresh), so the tests read the server's
 * TTLs (`mg <key> t`) instead of assuming when its once-a-second clock ticks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../src/index.js';
import { sleep } from './helpers/ports.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function memcached(): Promise<MemcachedServer> {
  const m = await startMemcached();
  cleanup.push(() => m.stop());
  return m;
}

async function raw(port: number): Promise<RawClient> {
  const c = await connect(port, { timeoutMs: 10_000 });
  cleanup.push(() => c.destroy());
  return c;
}

/** Two routers over one 2-server pool (two hosts of one fleet), and a raw client to each server. */
async function fleet(): Promise<{ hosts: [Router, Router]; servers: RawClient[] }> {
  const ms = [await memcached(), await memcached()];
  const config = { pools: { A: { servers: ms.map((m) => m.address) } }, route: 'PoolRoute|A' };
  const hosts: Router[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await createRouter({ config, logLevel: 'silent' });
    cleanup.push(() => r.close({ drainMs: 0 }));
    hosts.push(r);
  }
  return { hosts: hosts as [Router, Router], servers: await Promise.all(ms.map((m) => raw(m.port))) };
}

/** The key's remaining TTL on whichever server holds it (`mg <key> t`), or null when no server has it. */
async function ttlOf(servers: readonly RawClient[], key: string): Promise<number | null> {
  for (const c of servers) {
    const line = (await c.roundTrip(`mg ${key} t v\r\n`)).toString('latin1');
    const m = /^VA \d+ t(-?\d+)/.exec(line);
    if (m !== null) return Number(m[1]);
  }
  return null;
}

/** The key's value on whichever server holds it, or null. */
async function valueOn(servers: readonly RawClient[], key: string): Promise<string | null> {
  for (const c of servers) {
    const text = (await c.roundTrip(`get ${key}\r\n`)).toString('latin1');
    const m = /^VALUE \S+ \d+ \d+\r\n([^]*)\r\nEND\r\n$/.exec(text);
    if (m !== null) return m[1] as string;
  }
  return null;
}

describe('9. fetch', () => {
  it('50 concurrent callers on a cold key, 25 on each of two routers: the loader runs once in total, all get its value', async () => {
    const { hosts, servers } = await fleet();
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls++;
      await sleep(300);
      return `loaded-${calls}`;
    };
    // Callers arrive over ~100 ms (in different turns), all while the one load is running.
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await sleep(i * 2);
        return hosts[i % 2]?.fetch('herd:cold', loader, { ttl: 60 });
      }),
    );
    expect(calls).toBe(1);
    expect(results.map((v) => v?.toString())).toEqual(Array.from({ length: 50 }, () => 'loaded-1'));
    expect(await valueOn(servers, 'herd:cold')).toBe('loaded-1');
    const ttl = await ttlOf(servers, 'herd:cold');
    expect(ttl).toBeGreaterThanOrEqual(58);
    expect(ttl).toBeLessThanOrEqual(60);

    // A second fetch, on either host, is a hit: no load.
    for (const r of hosts) expect((await r.fetch('herd:cold', loader, { ttl: 60 })).toString()).toBe('loaded-1');
    expect(calls).toBe(1);
  });

  it('a loader that throws rejects every in-process waiter with its error; the next fetch loads again at once', async () => {
    const { hosts, servers } = await fleet();
    const r = hosts[0];
    let calls = 0;
    const failure = new Error('backing store down');
    const boom = async (): Promise<string> => {
      calls++;
      await sleep(100);
      throw failure;
    };
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, async (_, i) => {
        await sleep(i * 3);
        return r.fetch('herd:fail', boom, { ttl: 60, lockSeconds: 10 });
      }),
    );
    expect(calls).toBe(1);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBe(failure);
    }
    // Nothing was cached.
    expect(await valueOn(servers, 'herd:fail')).toBeNull();

    // The next fetch does not wait out the 10 s placeholder: it loads again (on either host).
    const t0 = Date.now();
    const v = await hosts[1].fetch('herd:fail', () => {
      calls++;
      return 'recovered';
    }, { ttl: 60, lockSeconds: 10 });
    expect(v.toString()).toBe('recovered');
    expect(calls).toBe(2);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(await valueOn(servers, 'herd:fail')).toBe('recovered');
    expect((await r.fetch('herd:fail', boom, { ttl: 60 })).toString()).toBe('recovered');
    expect(calls).toBe(2);
  });

  it('recacheSeconds: with fewer than R seconds left, exactly one caller reloads while the others keep the old value', async () => {
    const { hosts, servers } = await fleet();
    const [a, bHost] = hosts;
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls++;
      const v = `v${calls}`;
      await sleep(400);
      return v;
    };
    const opts = { ttl: 6, recacheSeconds: 4 };
    expect((await a.fetch('herd:rc', loader, opts)).toString()).toBe('v1');
    expect(calls).toBe(1);
    // Fresh (6 s left, R is 4): no reload from either host.
    for (const r of hosts) expect((await r.fetch('herd:rc', loader, opts)).toString()).toBe('v1');
    expect(calls).toBe(1);

    // Wait for memcached's clock to bring the TTL under R.
    const deadline = Date.now() + 10_000;
    let left = await ttlOf(servers, 'herd:rc');
    while (left !== null && left >= 4 && Date.now() < deadline) {
      await sleep(50);
      left = await ttlOf(servers, 'herd:rc');
    }
    expect(left).not.toBeNull();
    expect(left).toBeLessThan(4);
    expect(left).toBeGreaterThanOrEqual(1);

    // Host A wins the refresh; while its loader runs, host B's callers get the current value at once.
    const refreshing = a.fetch('herd:rc', loader, opts);
    while (calls < 2) await sleep(5);
    const others: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      others.push((await bHost.fetch('herd:rc', loader, opts)).toString());
      expect(Date.now() - t0, 'a caller waited for the refresh').toBeLessThan(300);
    }
    const concurrent = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      await sleep(i);
      return (await bHost.fetch('herd:rc', loader, opts)).toString();
    }));
    expect(others).toEqual(['v1', 'v1', 'v1', 'v1', 'v1']);
    expect(concurrent).toEqual(Array.from({ length: 10 }, () => 'v1'));
    expect(calls).toBe(2);
    expect((await refreshing).toString()).toBe('v2');

    // The refreshed value is stored with a full TTL again, and served without another load.
    expect(await valueOn(servers, 'herd:rc')).toBe('v2');
    expect(await ttlOf(servers, 'herd:rc')).toBeGreaterThanOrEqual(5);
    for (const r of hosts) expect((await r.fetch('herd:rc', loader, opts)).toString()).toBe('v2');
    expect(calls).toBe(2);
  });
});
