/**
 * Pools whose servers come from DNS, against a real dnsmasq on a loopback port:
 * - `{"dns": NAME, "port": P}`: every A record of NAME (memcacheds on 127.0.0.11-14, one port), and
 *   `{"srv": NAME}`: every SRV record (memcacheds on 127.0.0.1, their own ports);
 * - members are sorted, so placement equals that of a static config listing the same servers sorted,
 *   whatever order DNS answers in (the hosts file lists them shuffled);
 * - a record added to DNS moves exactly the keys that Ch3 moves between the two server lists (10,000 keys,
 *   compared with two static-config relays), and no others;
 * - a DNS outage keeps the last members, and traffic goes on.
 * Placement is read with `get __mcrouter__.route(get,KEY)` and checked with real sets and gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dnsmasq } from './helpers/dnsmasq.js';
import { getFreePort, sleep } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const A_NAME = 'mc.discovery.test';
const SRV_NAME = '_memcache._tcp.mcs.discovery.test';
const KEYS = 10_000;

function dnsConfig(port: number): object {
  return {
    pools: { A: { servers: { dns: A_NAME, port } }, S: { servers: { srv: SRV_NAME } } },
    route: { type: 'PrefixSelectorRoute', policies: { 's:': 'PoolRoute|S' }, wildcard: 'PoolRoute|A' },
  };
}

/** Where each key goes, by the relay's own route debug answer (one pipelined write per 500 keys). */
async function placement(c: RawClient, keys: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const reply = (await c.roundTrip(batch.map((k) => `get __mcrouter__.route(get,${k})\r\n`).join(''), 20_000)).toString('latin1');
    const values = [...reply.matchAll(/^VALUE \S+ \d+ \d+\r\n([^\r]*)\r\n/gm)].map((m) => m[1] ?? '');
    expect(values.length).toBe(batch.length);
    out.push(...values);
  }
  return out;
}

describe('DNS discovery of pool members', () => {
  let port: number;
  const mcs: MemcachedServer[] = [];
  const srvMcs: MemcachedServer[] = [];
  let dns: Dnsmasq;
  let relay: RelayProcess;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    port = await getFreePort();
    for (const host of ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']) mcs.push(await startMemcached({ host, port }));
    for (let i = 0; i < 3; i++) srvMcs.push(await startMemcached());
    dns = await Dnsmasq.start({
      // Shuffled on purpose: the members must come out sorted.
      hosts: [['127.0.0.13', A_NAME], ['127.0.0.11', A_NAME], ['127.0.0.12', A_NAME], ['127.0.0.1', 'b.srv.discovery.test'], ['127.0.0.1', 'a.srv.discovery.test'], ['127.0.0.1', 'c.srv.discovery.test']],
      srv: [
        { name: SRV_NAME, target: 'c.srv.discovery.test', port: (srvMcs[2] as MemcachedServer).port },
        { name: SRV_NAME, target: 'a.srv.discovery.test', port: (srvMcs[0] as MemcachedServer).port },
        { name: SRV_NAME, target: 'b.srv.discovery.test', port: (srvMcs[1] as MemcachedServer).port },
      ],
    });
    relay = await startRelay({ config: dnsConfig(port), args: ['--dns-servers', dns.address, '--dns-refresh-interval-ms', '200'] });
    relays.push(relay);
  });

  afterAll(async () => {
    for (const r of relays) await r.close();
    await dns?.close();
    for (const m of [...mcs, ...srvMcs]) await m.stop();
  });

  const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:profile`);

  it('finds the A and SRV members, sorted, and serves through them', async () => {
    const c = await connect(relay.port);
    const sortedA = ['127.0.0.11', '127.0.0.12', '127.0.0.13'].map((h) => `${h}:${port}`);
    const staticRelay = await startRelay({ config: { pools: { A: { servers: sortedA } }, route: 'PoolRoute|A' } });
    relays.push(staticRelay);
    const sc = await connect(staticRelay.port);
    const sample = keys.slice(0, 2000);
    expect(await placement(c, sample)).toEqual(await placement(sc, sample));
    expect(new Set(await placement(c, sample))).toEqual(new Set(sortedA));
    // SRV members: by target name (a, b, c), each on its own port.
    const srvSample = sample.map((k) => `s:${k}`);
    const sortedSrv = ['a', 'b', 'c'].map((t, i) => `${t}.srv.discovery.test:${(srvMcs[i] as MemcachedServer).port}`);
    const staticSrv = await startRelay({ config: { pools: { S: { servers: sortedSrv } }, route: 'PoolRoute|S' } });
    relays.push(staticSrv);
    const ssc = await connect(staticSrv.port);
    const got = await placement(c, srvSample);
    expect(got).toEqual(await placement(ssc, srvSample));
    // Real traffic lands where the route debug says.
    for (let i = 0; i < 30; i++) {
      expect((await c.roundTrip(`set ${sample[i]} 0 0 2\r\nv${i % 10}\r\n`)).toString('latin1')).toBe('STORED\r\n');
    }
    const where = await placement(c, sample.slice(0, 30));
    for (let i = 0; i < 30; i++) {
      const m = mcs.find((s) => s.address === where[i]) as MemcachedServer;
      const direct = await connect(m.port, { host: m.host });
      expect((await direct.roundTrip(`get ${sample[i]}\r\n`)).toString('latin1')).toBe(`VALUE ${sample[i]} 0 2\r\nv${i % 10}\r\nEND\r\n`);
      await direct.close();
    }
    for (const x of [c, sc, ssc]) await x.close();
  });

  it('an added A record moves only the keys Ch3 moves', async () => {
    const c = await connect(relay.port);
    const before = await placement(c, keys);
    await dns.setHosts([['127.0.0.13', A_NAME], ['127.0.0.14', A_NAME], ['127.0.0.11', A_NAME], ['127.0.0.12', A_NAME]]);
    const four = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'].map((h) => `${h}:${port}`);
    const deadline = Date.now() + 10_000;
    let after = before;
    while (Date.now() < deadline) {
      after = await placement(c, keys.slice(0, 200));
      if (after.includes(`127.0.0.14:${port}`)) break;
      await sleep(100);
    }
    after = await placement(c, keys);
    const static4 = await startRelay({ config: { pools: { A: { servers: four } }, route: 'PoolRoute|A' } });
    relays.push(static4);
    const s4 = await connect(static4.port);
    const expected = await placement(s4, keys);
    expect(after).toEqual(expected);
    const moved = keys.filter((_, i) => before[i] !== after[i]);
    const movedToNew = keys.filter((_, i) => before[i] !== after[i] && after[i] === `127.0.0.14:${port}`);
    // Ch3 (consistent hashing) moves keys only onto the new server, about a quarter of them.
    expect(moved).toEqual(movedToNew);
    expect(moved.length).toBeGreaterThan(KEYS * 0.2);
    expect(moved.length).toBeLessThan(KEYS * 0.3);
    console.log(`[dns-discovery] 3 -> 4 members: ${moved.length} of ${KEYS} keys moved, all to the new member`);
    await c.close();
    await s4.close();
  });

  it('a DNS outage keeps the last members, and traffic goes on', async () => {
    const c = await connect(relay.port);
    const before = await placement(c, keys.slice(0, 1000));
    await dns.stop();
    await sleep(1500); // several refreshes, each failing
    expect(await placement(c, keys.slice(0, 1000))).toEqual(before);
    expect((await c.roundTrip('set outage:k 0 0 1\r\nx\r\nget outage:k\r\n')).toString('latin1')).toBe('STORED\r\nVALUE outage:k 0 1\r\nx\r\nEND\r\n');
    expect(relay.output()).toMatch(/dns: lookup failed; keeping the last known members/);
    const stats = (await c.roundTrip('stats detailed\r\n')).toString('latin1');
    expect(Number(/STAT dns_lookup_failures (\d+)/.exec(stats)?.[1])).toBeGreaterThan(0);
    // The added A record of the test before was one change.
    expect(stats).toContain('STAT dns_member_changes 1\r\n');
    await c.close();
  });
});
