/**
 * Proves the integration helpers themselves, against a real memcached and against the mock backend. None of
 * this needs mcrelay, so it must stay green while the proxy is being written.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, isAddressInUse, PortInUseError, withFreePort } from './helpers/ports.js';
import { onePoolConfig } from './helpers/proxy-harness.js';
import { connect, escapeBytes, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function memcached(args?: string[]): Promise<MemcachedServer> {
  const server = await startMemcached(args ? { args } : {});
  cleanups.push(() => server.stop());
  return server;
}

async function client(port: number, timeoutMs?: number): Promise<RawClient> {
  const c = await connect(port, timeoutMs === undefined ? {} : { timeoutMs });
  cleanups.push(() => c.destroy());
  return c;
}

async function mock(options?: Parameters<typeof startMock>[0]): Promise<MockMemcached> {
  const m = await startMock(options);
  cleanups.push(() => m.close());
  return m;
}

describe('ports', () => {
  it('hands out a bindable loopback port', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('withFreePort retries on "address in use" and rethrows anything else', async () => {
    let calls = 0;
    const port = await withFreePort(async (p) => {
      calls++;
      if (calls < 3) throw new PortInUseError(p, 'simulated');
      return p;
    });
    expect(calls).toBe(3);
    expect(port).toBeGreaterThan(0);
    await expect(withFreePort(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(isAddressInUse(Object.assign(new Error('x'), { code: 'EADDRINUSE' }))).toBe(true);
  });
});

describe('real memcached', () => {
  it('starts on loopback, answers a round trip, and reports its address', async () => {
    const mc = await memcached();
    expect(mc.host).toBe('127.0.0.1');
    expect(mc.address).toBe(`127.0.0.1:${mc.port}`);
    expect(mc.pid).toBeGreaterThan(0);
    const c = await client(mc.port);
    expect((await c.roundTrip('set k 5 0 2\r\nhi\r\nget k\r\n')).toString()).toBe('STORED\r\nVALUE k 5 2\r\nhi\r\nEND\r\n');
    expect((await c.roundTrip('set q 0 0 1 noreply\r\nx\r\n')).toString()).toBe('');
  });

  it('passes extra arguments (-I 2m raises the item size limit)', async () => {
    const mc = await memcached(['-I', '2m']);
    const c = await client(mc.port);
    const value = 'v'.repeat(1024 * 1024);
    expect((await c.roundTrip(`set big 0 0 ${value.length}\r\n${value}\r\n`)).toString()).toBe('STORED\r\n');
  });

  it('reports a taken port as PortInUseError, which withFreePort retries', async () => {
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const taken = (blocker.address() as net.AddressInfo).port;
    const err: unknown = await startMemcached({ port: taken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect(isAddressInUse(err)).toBe(true);
  });

  it('pause() hangs the server and resume() lets the reply through', async () => {
    const mc = await memcached();
    const c = await client(mc.port, 300);
    mc.pause();
    await c.send('version\r\n');
    await expect(c.readUntil('\r\n')).rejects.toThrow(/timed out after 300 ms/);
    mc.resume();
    expect((await c.readUntil('\r\n', 3000)).toString()).toMatch(/^VERSION 1\.6\.\d+\r\n$/);
  });

  it('kill() drops client connections', async () => {
    const mc = await memcached();
    const c = await client(mc.port);
    mc.kill();
    expect((await c.expectClosed(3000)).length).toBe(0);
    await mc.stop();
  });

  it('throws a clear error when memcached is not on PATH', async () => {
    const savedPath = process.env['PATH'];
    process.env['PATH'] = '/nonexistent-for-test';
    try {
      await expect(startMemcached()).rejects.toThrow(/"memcached" binary is not on PATH/);
    } finally {
      process.env['PATH'] = savedPath;
    }
  });
});

describe('raw client', () => {
  it('reads exact lengths, up to terminators, with predicates, and sees a close', async () => {
    const mc = await memcached();
    const c = await client(mc.port);
    await c.send('set a 0 0 3\r\nabc\r\nget a\r\n');
    expect((await c.read(8)).toString()).toBe('STORED\r\n');
    expect((await c.readUntil('\r\n')).toString()).toBe('VALUE a 0 3\r\n');
    expect((await c.readUntil((buf) => (buf.length >= 5 ? 5 : -1))).toString()).toBe('abc\r\n');
    expect((await c.readUntil('END\r\n')).toString()).toBe('END\r\n');
    await c.send('quit\r\n');
    expect((await c.expectClosed()).length).toBe(0);
  });

  it('sendSlowly and sendChunks deliver a request in pieces', async () => {
    const mc = await memcached();
    const c = await client(mc.port);
    await c.sendSlowly('set s 0 0 2\r\nok\r\n');
    expect((await c.readUntil('\r\n')).toString()).toBe('STORED\r\n');
    await c.sendChunks(['g', 'et', ' s\r', '\n']);
    expect((await c.readUntil('END\r\n')).toString()).toBe('VALUE s 0 2\r\nok\r\nEND\r\n');
  });

  it('timeouts and closes report the bytes received so far', async () => {
    const mc = await memcached();
    const c = await client(mc.port, 200);
    await c.send('get nothing\r\n');
    await expect(c.read(100)).rejects.toThrow('received 5 bytes: "END\\r\\n"');
    await c.send('quit\r\n');
    await expect(c.roundTrip('version\r\n')).rejects.toThrow(/connection closed/);
  });

  it('escapeBytes shows control bytes and shortens runs', () => {
    expect(escapeBytes(Buffer.from([0x61, 0x0d, 0x0a, 0x00, 0xff, 0x5c]))).toBe('a\\r\\n\\x00\\xff\\\\');
    expect(escapeBytes('x'.repeat(100))).toBe('[x*100]');
  });
});

describe('mock memcached', () => {
  it('scripted: asserts the exact bytes received and sends scripted replies', async () => {
    const be = await mock();
    const c = await client(be.port);
    await c.send('get foo\r\nget bar\r\n');
    const conn = await be.accept();
    expect((await conn.recv('get foo\r\n')).toString()).toBe('get foo\r\n');
    await conn.send('VALUE foo 0 2\r\nhi\r\nEND\r\n');
    expect((await c.readUntil('END\r\n')).toString()).toBe('VALUE foo 0 2\r\nhi\r\nEND\r\n');
    expect((await conn.recv(9)).toString()).toBe('get bar\r\n');
    await conn.expectNothing(50);
    expect(be.connections).toHaveLength(1);
  });

  it('scripted: a mismatch fails with both byte strings escaped', async () => {
    const be = await mock();
    const c = await client(be.port);
    await c.send('get foo\r\n');
    const conn = await be.accept();
    await expect(conn.recv('get bar\r\n')).rejects.toThrow('expected: "get bar\\r\\n"\n  received: "get foo\\r\\n"');
  });

  it('scripted: can close mid-reply at an exact byte, send slowly, and stall', async () => {
    const be = await mock({ timeoutMs: 300 });
    const c1 = await client(be.port);
    const conn1 = await be.accept();
    await conn1.sendSlowly('VALUE', 1);
    await conn1.send(' k 0 1');
    await conn1.close();
    expect((await c1.expectClosed()).toString()).toBe('VALUE k 0 1');

    const c2 = await client(be.port, 200);
    const conn2 = await be.accept();
    conn2.stall();
    await c2.send('get k\r\n');
    await expect(c2.read(1)).rejects.toThrow(/timed out/);
    expect(c2.closed).toBe(false);
    await expect(be.accept(50)).rejects.toThrow(/no connection/);
  });

  it('autoReply frames lines and data blocks, including split writes and bare \\n', async () => {
    const be = await mock({ handler: (line, value) => `${line}|${value?.toString('latin1') ?? '-'}\r\n` });
    const c = await client(be.port);
    await c.sendChunks(['set k 0 0 4\r\na\r', '\nb\r\nget k\n']);
    expect((await c.readUntil('get k|-\r\n')).toString()).toBe('set k 0 0 4|a\r\nb\r\nget k|-\r\n');
    expect(be.requests.map((r) => r.line)).toEqual(['set k 0 0 4', 'get k']);
  });

  it('builtin: a tiny in-memory memcached for routing tests', async () => {
    const be = await mock({ builtin: true });
    const c = await client(be.port);
    const reply = await c.roundTrip(
      'set a 3 0 1\r\nx\r\nget a b\r\nadd a 0 0 1\r\ny\r\nincr n 1\r\nset n 0 0 1\r\n9\r\nincr n 2\r\n' +
        'delete a\r\ndelete a\r\nms m 2\r\nhi\r\nmg m v k\r\nmg zz v\r\nmd m q\r\n',
    );
    expect(reply.toString()).toBe(
      'STORED\r\nVALUE a 3 1\r\nx\r\nEND\r\nNOT_STORED\r\nNOT_FOUND\r\nSTORED\r\n11\r\n' +
        'DELETED\r\nNOT_FOUND\r\nHD\r\nVA 2 km\r\nhi\r\nEN\r\n',
    );
  });
});

describe('proxy harness', () => {
  it('onePoolConfig builds the one-server pool config the protocol suite uses', () => {
    expect(onePoolConfig(['127.0.0.1:1'])).toEqual({ pools: { A: { servers: ['127.0.0.1:1'] } }, route: 'PoolRoute|A' });
  });
});
