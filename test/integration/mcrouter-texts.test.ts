/**
 * The error lines only a router produces are mcrouter's (issue 12 §3): reply and queue timeouts, connect
 * errors, the server closing or resetting the connection, no route. Where mcrouter's answer conflicts with
 * memcached's for the same input, the memcached line stays, checked here against a real memcached 1.6.18
 * (the README's table of deliberate differences lists what mcrouter sends there).
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startMock } from './helpers/mock-memcached.js';
import { getFreePort, LOOPBACK } from './helpers/ports.js';
import { onePoolConfig, startRelay } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function client(config: object, args: string[] = []): Promise<RawClient> {
  const relay = await startRelay({ config, args });
  cleanup.push(() => relay.close());
  const c = await connect(relay.port, { timeoutMs: 10_000 });
  cleanup.push(() => c.close());
  return c;
}

async function lines(c: RawClient, send: string, n: number): Promise<string[]> {
  await c.send(send);
  const out = await c.readUntil((b) => (b.toString('latin1').split('\r\n').length > n ? b.length : -1));
  return out.toString('latin1').split('\r\n').slice(0, n);
}

test('a request written and not answered: SERVER_ERROR Reply timeout; one still queued: Client queue timeout', async () => {
  const be = await startMock();
  cleanup.push(() => be.close());
  const c = await client(onePoolConfig([be.address]), ['-t', '200', '--target-max-inflight-requests', '1', '--timeouts-until-tko', '100']);
  expect(await lines(c, 'set k 0 0 1\r\nx\r\nget q\r\n', 2)).toEqual(['SERVER_ERROR Reply timeout', 'SERVER_ERROR Client queue timeout']);
});

test('connection refused: folly AsyncSocketException text, as mcrouter forwards it', async () => {
  const port = await getFreePort();
  const c = await client(onePoolConfig([`${LOOPBACK}:${port}`]));
  expect(await lines(c, 'get k\r\n', 1)).toEqual([
    'SERVER_ERROR AsyncSocketException: connect failed, type = Socket not open, errno = 111 (Connection refused)',
  ]);
});

test('the server closes, or resets, the connection under a request', async () => {
  const be = await startMock();
  cleanup.push(() => be.close());
  const c = await client(onePoolConfig([be.address]), ['--timeouts-until-tko', '100']);
  await c.send('get a\r\n');
  const first = await be.accept();
  await first.recv('get a\r\n');
  first.socket.end();
  expect((await c.readUntil('\r\n')).toString()).toBe('SERVER_ERROR Connection closed by the server.\r\n');

  await c.send('get b\r\n');
  const second = await be.accept();
  await second.recv('get b\r\n');
  second.socket.resetAndDestroy();
  expect((await c.readUntil('\r\n')).toString()).toBe(
    `SERVER_ERROR Failed to read from socket with remote endpoint "${be.address}:ascii:plain:notcompressed". ` +
      'Exception: AsyncSocketException: recv() failed, type = Internal error, errno = 104 (Connection reset by peer)\r\n',
  );
});

test('no route for the key: SERVER_ERROR local error (mcrouter RootRoute ErrorReply)', async () => {
  const c = await client({ pools: { A: { servers: [`${LOOPBACK}:1`] } }, routes: [{ aliases: ['/a/a/'], route: 'NullRoute' }] }, ['-R', '/a/a/']);
  expect(await lines(c, 'get /b/b/k\r\nset /b/b/k 0 0 1\r\nx\r\n', 2)).toEqual(['SERVER_ERROR local error', 'SERVER_ERROR local error']);
});

let mc: MemcachedServer;
beforeAll(async () => {
  mc = await startMemcached();
});
afterAll(async () => {
  await mc?.stop();
});

test('inputs where mcrouter and memcached disagree get memcached 1.6.18\'s exact bytes', async () => {
  const viaRelay = await client(onePoolConfig([mc.address]));
  const direct = await connect(mc.port);
  cleanup.push(() => direct.close());
  const long = 'k'.repeat(251);
  // mcrouter: `CLIENT_ERROR bad stats command` for the stats forms, `CLIENT_ERROR malformed request` and a close
  // for `get` with no key, `CLIENT_ERROR bad key` (data block swallowed) for the 251-byte key.
  for (const input of ['statsfoo\r\n', 'stats foo\r\n', 'stats\tdetailed\r\n', 'get\r\n', `set ${long} 0 0 1\r\nx\r\n`, `get ${long}\r\n`]) {
    const a = (await viaRelay.roundTrip(input)).toString('latin1');
    const b = (await direct.roundTrip(input)).toString('latin1');
    expect(a, JSON.stringify(input)).toBe(b);
  }
});
