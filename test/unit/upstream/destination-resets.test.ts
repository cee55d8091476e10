/**
 * A destination counts each reset of its connections by cause and logs one warn line per reset with the
 * destination, the cause, the offending bytes (escaped, cut at 64) and how many requests it failed.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { RESET_CAUSES } from '../../../src/upstream/connection.js';
import { UpstreamDestination } from '../../../src/upstream/upstream-destination.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A server that answers every read with `reply(data)`. */
function serve(reply: (data: string) => string): Promise<number> {
  const s = net.createServer((sock) => {
    sock.on('data', (d) => sock.write(reply(d.toString('latin1'))));
    sock.on('error', () => {});
  });
  cleanup.push(() => s.close());
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
}

function destination(port: number, lines: Record<string, unknown>[]): UpstreamDestination {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const d = new UpstreamDestination(
    { host: '127.0.0.1', port, protocol: 'ascii', security: 'plain', address: `127.0.0.1:${port}`, text: '' },
    {
      connectionsPerDestination: 1,
      tko: { timeoutsUntilTko: 3, probeInitialMs: 1000, probeMaxMs: 1000, disabled: true },
      keepAlive: false,
      maxOutstanding: 100,
      log: pino({ level: 'info' }, sink),
    },
  );
  cleanup.push(() => d.close());
  return d;
}

const send = (d: UpstreamDestination, req: Request): Promise<Reply> => new Promise((r) => d.send(req, 1000, r));

test('a reply that cannot be framed: counted under its cause, one warn line, and the next request gets a new connection', async () => {
  // The case: the server answers an mg with STORED (the reply of a request mcrelay never saw).
  const port = await serve((data) => (data.startsWith('mg') ? `STORED\r\n${'\u0001'.repeat(80)}` : 'VERSION 1.6.18\r\n'));
  const lines: Record<string, unknown>[] = [];
  const d = destination(port, lines);
  const r = await send(d, Request.synthesize('mg', Buffer.from('k'), 'mg ', ' v', null, 0));
  expect([r.result, r.message]).toEqual(['remote_error', 'bad reply from server: reply to mg']);
  expect(d.resets[RESET_CAUSES.indexOf('unknown_reply')]).toBe(1);
  expect(d.connectionResets).toBe(1);
  const warns = lines.filter((l) => l['msg'] === 'upstream connection reset');
  expect(warns).toEqual([
    expect.objectContaining({
      level: 40,
      destination: `127.0.0.1:${port}`,
      cause: 'unknown_reply',
      bytes: `STORED\\r\\n${'\\x01'.repeat(56)}...(88 bytes)`,
      requestsFailed: 1,
    }),
  ]);
  const v = await send(d, Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0));
  expect(v.raw?.toString()).toBe('VERSION 1.6.18\r\n');
  expect(d.connectionResets).toBe(1);
});

test('an error line is a reply, not a reset', async () => {
  const port = await serve(() => 'CLIENT_ERROR invalid flag\r\n');
  const lines: Record<string, unknown>[] = [];
  const d = destination(port, lines);
  const r = await send(d, Request.synthesize('mg', Buffer.from('k'), 'mg ', ' B', null, 0));
  expect([r.result, r.raw?.toString()]).toEqual(['client_error', 'CLIENT_ERROR invalid flag\r\n']);
  expect(d.connectionResets).toBe(0);
  expect(lines.filter((l) => l['msg'] === 'upstream connection reset')).toEqual([]);
});
