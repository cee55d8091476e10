/**
 * Large values on their way through: values read in place on both sides (the upstream block and the client's
 * direct read), byte-exact whatever way the bytes are cut, and memory bounded by a slow reader of 100 KB
 * values, not by how much it asks for.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { rssOf } from './helpers/load-client.js';
import { LOOPBACK, sleep } from './helpers/ports.js';
import { startRelay } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function setCmd(key: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`set ${key} 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]);
}

/** Random bytes that also contain every byte value and `\r\n` sequences, so nothing framing-like is safe. */
function nasty(n: number, seed: number): Buffer {
  const b = crypto.createHash('sha256').update(String(seed)).digest();
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = ((b[i % 32] as number) + i * 31 + (i >> 7)) & 0xff;
  for (let i = 0; i + 1 < n; i += 997) {
    out[i] = 0x0d;
    out[i + 1] = 0x0a;
  }
  return out;
}

describe('large values', () => {
  test('sets and gets of 5 KB–1 MB values, cut at odd places and pipelined, match memcached byte for byte', async () => {
    const m = await startMemcached({ args: ['-I', '2m', '-m', '256'] });
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' } });
    cleanup.push(() => relay.close());
    const sizes = [5_000, 65_535, 65_536, 100_000, 100_001, 300_000, 1_000_000];
    const values = sizes.map((n, i) => nasty(n, i));
    const c = await connect(relay.port, { timeoutMs: 10_000 });
    // 1: every set in one write, with small commands between them.
    const burst = Buffer.concat(values.flatMap((v, i) => [setCmd(`lv${i}`, v), Buffer.from(`set small${i} 0 0 1\r\nx\r\n`)]));
    await c.send(burst);
    const stored = (await c.readUntil((b) => ((b.toString('latin1').match(/STORED\r\n/g) ?? []).length >= 2 * sizes.length ? b.length : -1))).toString('latin1');
    expect(stored).toBe('STORED\r\n'.repeat(2 * sizes.length));
    // 2: the same sets again, sent in slices of 1–3000 bytes with pauses (many reads per value).
    for (let i = 0; i < values.length; i++) {
      const cmd = setCmd(`lv${i}`, values[i] as Buffer);
      const slices: Buffer[] = [];
      for (let at = 0, k = 0; at < cmd.length; k++) {
        const n = 1 + ((k * 7919 + i * 131) % 3000);
        slices.push(cmd.subarray(at, at + n));
        at += n;
      }
      await c.sendChunks(slices, 1);
      expect((await c.readUntil('\r\n')).toString()).toBe('STORED\r\n');
    }
    // 3: read everything back through mcrelay and straight from memcached, pipelined.
    const direct = await connect(m.port, { timeoutMs: 10_000 });
    const ask = values.map((_, i) => `get lv${i}\r\nget small${i}\r\n`).join('');
    const endCount = (b: Buffer): number => ((b.toString('latin1').match(/END\r\n/g) ?? []).length >= 2 * sizes.length ? b.length : -1);
    await c.send(ask);
    await direct.send(ask);
    const viaRelay = await c.readUntil(endCount);
    const viaMemcached = await direct.readUntil(endCount);
    expect(viaRelay.length).toBe(viaMemcached.length);
    expect(viaRelay.equals(viaMemcached)).toBe(true);
    // And the values are what was sent.
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as Buffer;
      const r = await c.roundTrip(`get lv${i}\r\n`);
      const head = `VALUE lv${i} 0 ${v.length}\r\n`;
      expect(r.subarray(0, head.length).toString('latin1')).toBe(head);
      expect(r.subarray(head.length, head.length + v.length).equals(v)).toBe(true);
    }
    c.destroy();
    direct.destroy();
  });

  test('a slow reader of 100 KB gets: RSS stays bounded, and another client is still served', async () => {
    const m = await startMemcached({ args: ['-m', '128'] });
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' } });
    cleanup.push(() => relay.close());
    const c = await connect(m.port);
    const v = nasty(100_000, 7);
    for (let i = 0; i < 50; i++) await c.roundTrip(setCmd(`big${i}`, v));
    c.destroy();
    const before = rssOf(relay.pid);
    // One client pipelines single-key gets for 100 KB values as fast as it can write, and reads 64 KB
    // every 20 ms (~3 MB/s): it asks for far more than mcrelay may hold for it.
    const sock = net.connect(relay.port, LOOPBACK);
    cleanup.push(() => {
      sock.destroy();
    });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.pause();
    let received = 0;
    const reader = setInterval(() => {
      let chunk: Buffer | null;
      let got = 0;
      while (got < 65_536 && (chunk = sock.read() as Buffer | null) !== null) got += chunk.length;
      received += got;
    }, 20);
    cleanup.push(() => clearInterval(reader));
    let asked = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      let line = '';
      for (let i = 0; i < 20; i++) line += `get big${(asked + i) % 50}\r\n`;
      if (sock.write(line)) asked += 20;
      else await sleep(20);
      await sleep(1);
    }
    const mid = rssOf(relay.pid);
    await sleep(1500);
    const after = rssOf(relay.pid);
    const other = await connect(relay.port);
    const t1 = performance.now();
    const r = await other.roundTrip('get big0\r\n');
    const otherMs = performance.now() - t1;
    other.destroy();
    const askedMb = Math.round((asked * 100_000) / 1e6);
    console.log(`[large-values] slow reader asked ${asked} x 100 KB (${askedMb} MB), read ${Math.round(received / 1e6)} MB; relay RSS ${before.rssMb} -> ${mid.rssMb} -> ${after.rssMb} MB, peak ${after.peakMb} MB; another client's get took ${otherMs.toFixed(1)} ms`);
    expect(r.subarray(0, 20).toString('latin1')).toBe('VALUE big0 0 100000\r');
    // It asked for hundreds of MB; mcrelay holds about the 8 MB output cap plus the replies of the keys it
    // lets one client have outstanding, so the peak stays within a small multiple of that.
    expect(askedMb).toBeGreaterThan(300);
    expect(after.peakMb).toBeLessThan(before.rssMb + 160);
    expect(after.rssMb).toBeLessThanOrEqual(mid.rssMb + 64);
    expect(otherMs).toBeLessThan(500);
  });
});
