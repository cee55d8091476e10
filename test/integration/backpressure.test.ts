/**
 * Bounds: a slow reader of huge multi-gets does not grow mcrelay's memory (reading pauses); the pending
 * cap fails fast; --max-value-size swallows oversized values; --max-conns evicts idle connections.
 */
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

describe('backpressure and bounds', () => {
  test('huge multi-gets from a client that does not read: RSS stays bounded', async () => {
    const m = await startMemcached({ args: ['-m', '256'] });
    cleanup.push(() => m.stop());
    // Parsing and reading pause past 16 unanswered keys (each key of a multi-get counts, as in mcrouter)
    // or 8 MB of held/unsent output, even in the middle of a read chunk. The bound is then about one
    // command's replies + 8 MB, not the client's appetite.
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' }, args: ['--max-client-outstanding-reqs', '16'] });
    cleanup.push(() => relay.close());
    const c = await connect(m.port);
    const v = 'v'.repeat(100_000);
    for (let i = 0; i < 100; i++) await c.roundTrip(`set big${i} 0 0 ${v.length}\r\n${v}\r\n`);
    c.destroy();
    const before = rssOf(relay.pid);
    // Each request asks for 100 x 100 KB = 10 MB; the client never reads.
    const line = `get ${Array.from({ length: 100 }, (_, i) => `big${i}`).join(' ')}\r\n`;
    const sock = net.connect(relay.port, LOOPBACK);
    cleanup.push(() => {
      sock.destroy();
    });
    sock.pause();
    let written = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      if (sock.write(line)) written++;
      else await sleep(20);
      if (written % 50 === 0) await sleep(1);
    }
    await sleep(500);
    const mid = rssOf(relay.pid);
    await sleep(1500);
    const after = rssOf(relay.pid);
    // Another client is still served.
    const other = await connect(relay.port);
    const r = (await other.roundTrip('get big0\r\n')).toString();
    other.destroy();
    console.log(`[backpressure] multi-gets written=${written} (${written * 10} MB asked for), relay RSS ${before.rssMb} -> ${mid.rssMb} -> ${after.rssMb} MB, peak ${after.peakMb} MB`);
    expect(r.startsWith('VALUE big0')).toBe(true);
    // The pause takes effect between commands, not read chunks, so the peak is about one multi-get's
    // 10 MB of replies plus the 8 MB output cap above the starting RSS, and it does not grow.
    expect(after.peakMb).toBeLessThan(before.rssMb + 128);
    expect(after.rssMb).toBeLessThanOrEqual(mid.rssMb + 64);
  });

  test('pending cap: past --target-max-pending-requests requests fail at once', async () => {
    const m = await startMemcached();
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' }, args: ['--target-max-pending-requests', '10', '--target-max-inflight-requests', '5', '-t', '500', '--timeouts-until-tko', '100000'] });
    cleanup.push(() => relay.close());
    m.pause();
    cleanup.push(() => m.resume());
    const c = await connect(relay.port, { timeoutMs: 3000 });
    await c.send(Array.from({ length: 40 }, (_, i) => `get p${i}\r\n`).join(''));
    const t0 = performance.now();
    const out = (await c.readUntil((b) => ((b.toString().match(/\r\n/g) ?? []).length >= 40 ? b.length : -1))).toString();
    const ms = performance.now() - t0;
    c.destroy();
    const lines = out.trim().split('\r\n');
    const maxPending = lines.filter((l) => l.includes('Max pending requests (10)')).length;
    const timeouts = lines.filter((l) => l === 'SERVER_ERROR Reply timeout' || l === 'SERVER_ERROR Client queue timeout').length;
    console.log(`[backpressure] 40 gets to a stalled server, cap 5 in flight + 10 waiting: ${maxPending} failed fast, ${timeouts} timed out, all answered in ${Math.round(ms)} ms`);
    expect(maxPending).toBe(25);
    expect(timeouts).toBe(15);
    expect(ms).toBeLessThan(900);
  });

  test('--max-value-size: larger values are swallowed with SERVER_ERROR object too large for cache', async () => {
    const m = await startMemcached();
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' }, args: ['--max-value-size', '1000'] });
    cleanup.push(() => relay.close());
    const c = await connect(relay.port);
    expect((await c.roundTrip(`set k 0 0 1001\r\n${'x'.repeat(1001)}\r\n`)).toString()).toBe('SERVER_ERROR object too large for cache\r\n');
    expect((await c.roundTrip(`set k 0 0 1000\r\n${'x'.repeat(1000)}\r\n`)).toString()).toBe('STORED\r\n');
    c.destroy();
  });

  test('--max-conns evicts the oldest idle connection', async () => {
    const m = await startMemcached();
    cleanup.push(() => m.stop());
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' }, args: ['--max-conns', '3'] });
    cleanup.push(() => relay.close());
    await sleep(100);
    const cs = [await connect(relay.port), await connect(relay.port), await connect(relay.port)];
    for (const c of cs) expect((await c.roundTrip('get a\r\n')).toString()).toBe('END\r\n');
    const extra = await connect(relay.port);
    expect((await extra.roundTrip('get a\r\n')).toString()).toBe('END\r\n');
    await (cs[0] as Awaited<ReturnType<typeof connect>>).expectClosed(2000);
    for (const c of [...cs, extra]) c.destroy();
  });
});
