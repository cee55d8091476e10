/**
 * A hostname server entry: resolved through an injected lookup, and a changed address moves the
 * destination (old connection retired, new requests to the new address) without a restart.
 */
import net from 'node:net';
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { UpstreamDestination } from '../../../src/upstream/upstream-destination.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

function serve(host: string, port: number, name: string): Promise<number> {
  const s = net.createServer((sock) => {
    sock.on('data', () => sock.write(`VERSION ${name}\r\n`));
    sock.on('error', () => {});
  });
  servers.push(s);
  return new Promise((r) => s.listen(port, host, () => r((s.address() as net.AddressInfo).port)));
}

test('address change moves the destination', async () => {
  const port = await serve('127.0.0.1', 0, 'one');
  await serve('127.0.0.2', port, 'two');
  let addr = '127.0.0.1';
  const d = new UpstreamDestination(
    { host: 'cache.example', port, protocol: 'ascii', security: 'plain', address: `cache.example:${port}`, text: '' },
    {
      connectionsPerDestination: 1,
      tko: { timeoutsUntilTko: 3, probeInitialMs: 50, probeMaxMs: 100, disabled: false },
      keepAlive: false,
      maxOutstanding: 100,
      dnsRefreshMs: 0,
      lookup: (host) => (host === 'cache.example' ? Promise.resolve(addr) : Promise.reject(new Error('nx'))),
      log: pino({ level: 'silent' }),
    },
  );
  const version = (): Promise<string> =>
    new Promise((r) => d.send(Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0), 1000, (rep: Reply) => r(rep.raw?.toString() ?? rep.result)));
  expect(await version()).toBe('VERSION one\r\n');
  addr = '127.0.0.2';
  await d.refreshAddress();
  expect(d.resolvedAddress).toBe('127.0.0.2');
  expect(await version()).toBe('VERSION two\r\n');
  d.close();
});
