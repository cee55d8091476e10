/**
 * Large value blocks are recycled (protocol/block-pool.ts): a block goes back to the pool once the kernel
 * took the client's write of it, or once the server answered the set it carried. A block given back too
 * early would show as another key's bytes in a reply, so many clients churn distinct large values through
 * one pool while a slow reader (whose writes stay queued, so its blocks must not be given back) reads a
 * stream it checks byte for byte.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { getFreePort, LOOPBACK, sleep } from './helpers/ports.js';
import { startRelay } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Bytes that differ for every (seed, position), with `\r\n` sprinkled in. */
function valueOf(n: number, seed: string): Buffer {
  const h = crypto.createHash('sha256').update(seed).digest();
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = ((h[i % 32] as number) ^ (i * 131) ^ (i >> 9)) & 0xff;
  for (let i = 5; i + 1 < n; i += 1021) {
    out[i] = 0x0d;
    out[i + 1] = 0x0a;
  }
  return out;
}

function setCmd(key: string, v: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`set ${key} 0 0 ${v.length}\r\n`), v, Buffer.from('\r\n')]);
}

function valueBlock(key: string, v: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`VALUE ${key} 0 ${v.length}\r\n`), v, Buffer.from('\r\n')]);
}

const END = Buffer.from('END\r\n');
const SIZES = [9_000, 40_000, 100_000, 250_000];

async function metric(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://${LOOPBACK}:${adminPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (m === null) throw new Error(`${name} not in /metrics`);
  return Number(m[1]);
}

describe('value block reuse', () => {
  test('16 clients churning distinct 9–250 KB values and a slow reader all get their own bytes back', async () => {
    const m = await startMemcached({ args: ['-m', '256'] });
    cleanup.push(() => m.stop());
    const adminPort = await getFreePort();
    const relay = await startRelay({ config: { pools: { A: { servers: [m.address] } }, route: 'PoolRoute|A' }, args: ['--admin-port', String(adminPort)] });
    cleanup.push(() => relay.close());

    // The slow reader's keys: set once, then read over and over by a client that reads 32 KB every 10 ms.
    const slowKeys = ['slow0', 'slow1', 'slow2'];
    const slowValues = slowKeys.map((k, i) => valueOf(SIZES[(i + 1) % SIZES.length] as number, k));
    const setup = await connect(relay.port, { timeoutMs: 10_000 });
    for (let i = 0; i < slowKeys.length; i++) expect((await setup.roundTrip(setCmd(slowKeys[i] as string, slowValues[i] as Buffer))).toString()).toBe('STORED\r\n');
    setup.destroy();
    const slowReply = Buffer.concat(slowKeys.map((k, i) => Buffer.concat([valueBlock(k, slowValues[i] as Buffer), END])));
    const slow = net.connect(relay.port, LOOPBACK);
    cleanup.push(() => {
      slow.destroy();
    });
    await new Promise<void>((r) => slow.once('connect', () => r()));
    slow.pause();
    const slowChunks: Buffer[] = [];
    let slowRead = 0;
    const reader = setInterval(() => {
      let got = 0;
      let c: Buffer | null;
      while (got < 32_768 && (c = slow.read() as Buffer | null) !== null) {
        slowChunks.push(c);
        got += c.length;
      }
      slowRead += got;
    }, 10);
    cleanup.push(() => clearInterval(reader));
    const slowAsk = slowKeys.map((k) => `get ${k}\r\n`).join('');
    let slowAsked = 0;
    let writing = true;
    const slowWriter = (async () => {
      while (writing) {
        if (slow.write(slowAsk)) slowAsked++;
        await sleep(2);
      }
    })();

    // The churning clients: each owns its keys and checks every reply against what it last stored.
    const rounds = 12;
    const perClient = async (c: number): Promise<number> => {
      const cl = await connect(relay.port, { timeoutMs: 20_000 });
      let checked = 0;
      for (let r = 0; r < rounds; r++) {
        const keys = [0, 1, 2].map((j) => `c${c}k${j}`);
        const vals = keys.map((k, j) => valueOf(SIZES[(c + j + r) % SIZES.length] as number, `${k}/${r}`));
        // Sets, single gets and a multi-get of all three, pipelined in one write.
        const ask = Buffer.concat([
          ...keys.map((k, j) => setCmd(k, vals[j] as Buffer)),
          ...keys.map((k) => Buffer.from(`get ${k}\r\n`)),
          Buffer.from(`get ${keys.join(' ')}\r\n`),
        ]);
        const expected = Buffer.concat([
          Buffer.from('STORED\r\n'.repeat(3)),
          ...keys.map((k, j) => Buffer.concat([valueBlock(k, vals[j] as Buffer), END])),
          ...keys.map((k, j) => valueBlock(k, vals[j] as Buffer)),
          END,
        ]);
        await cl.send(ask);
        const got = await cl.read(expected.length);
        if (!got.equals(expected)) {
          let at = 0;
          while (at < got.length && got[at] === expected[at]) at++;
          throw new Error(`client ${c} round ${r}: reply differs from what it stored at byte ${at} of ${expected.length}`);
        }
        checked += 6;
      }
      cl.destroy();
      return checked;
    };
    const checked = (await Promise.all(Array.from({ length: 16 }, (_, c) => perClient(c)))).reduce((a, b) => a + b, 0);
    writing = false;
    await slowWriter;
    // Let the slow reader catch up with everything it asked for, then check its stream byte for byte.
    const want = slowAsked * slowReply.length;
    const t0 = Date.now();
    while (slowRead < want && Date.now() - t0 < 20_000) await sleep(20);
    clearInterval(reader);
    const stream = Buffer.concat(slowChunks);
    expect(stream.length).toBe(want);
    for (let i = 0; i < slowAsked; i++) {
      if (!stream.subarray(i * slowReply.length, (i + 1) * slowReply.length).equals(slowReply)) throw new Error(`slow reader: reply ${i} of ${slowAsked} is not what was stored`);
    }
    expect(checked).toBe(16 * rounds * 6);
    // The pool was used: most blocks were handed out again rather than allocated.
    const reused = await metric(adminPort, 'mcrelay_value_blocks_reused_total');
    const allocated = await metric(adminPort, 'mcrelay_value_blocks_allocated_total');
    console.log(`[value-block-reuse] ${checked} replies checked, slow reader ${slowAsked} x ${slowReply.length} B; blocks allocated ${allocated}, reused ${reused}`);
    expect(reused).toBeGreaterThan(allocated);
    expect(await metric(adminPort, 'mcrelay_value_block_pool_free_bytes')).toBeLessThanOrEqual(16 * 1024 * 1024);
  }, 60_000);

  test("a shadow's large replies are not kept: their blocks go back to the pool as they arrive", async () => {
    const a = await startMemcached({ args: ['-m', '64'] });
    cleanup.push(() => a.stop());
    const b = await startMemcached({ args: ['-m', '64'] });
    cleanup.push(() => b.stop());
    // Only the shadow has the value: the client's gets miss on A, and every large reply is a shadow's.
    const direct = await connect(b.port);
    const v = valueOf(100_000, 'shadowed');
    expect((await direct.roundTrip(setCmd('big', v))).toString()).toBe('STORED\r\n');
    direct.destroy();
    const adminPort = await getFreePort();
    const config = {
      pools: { A: { servers: [a.address] }, B: { servers: [b.address] } },
      route: { type: 'PoolRoute', pool: 'A', shadows: [{ target: 'PoolRoute|B' }] },
    };
    const relay = await startRelay({ config, args: ['--admin-port', String(adminPort)] });
    cleanup.push(() => relay.close());
    const c = await connect(relay.port);
    for (let i = 0; i < 200; i++) expect((await c.roundTrip('get big\r\n')).toString()).toBe('END\r\n');
    c.destroy();
    // The shadow's replies arrive a moment after the client's: wait for all 200.
    const t0 = Date.now();
    let reused = 0;
    let allocated = 0;
    while (Date.now() - t0 < 5000) {
      reused = await metric(adminPort, 'mcrelay_value_blocks_reused_total');
      allocated = await metric(adminPort, 'mcrelay_value_blocks_allocated_total');
      if (reused + allocated >= 200) break;
      await sleep(50);
    }
    console.log(`[value-block-reuse] 200 shadowed 100 KB gets: blocks allocated ${allocated}, reused ${reused}`);
    expect(reused + allocated).toBe(200);
    expect(allocated).toBeLessThanOrEqual(5);
  });
});
