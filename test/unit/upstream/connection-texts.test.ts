/**
 * A connect that never completes fails with mcrouter's connect-timeout text (AsyncMcClientImpl::connectErr over
 * folly's AsyncSocketException), and every request queued on it gets that reply.
 */
import net from 'node:net';
import { expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { Connection } from '../../../src/upstream/connection.js';

test('connect timeout: "Timed out when trying to connect to server. Ex: AsyncSocketException: ..."', async () => {
  const noop = (): void => {};
  // A socket that never connects: nothing is ever dialled.
  const conn = new Connection(
    { host: '127.0.0.1', port: 1, connectTimeoutMs: 30, keepAlive: false, connect: () => new net.Socket() },
    { onConnectError: noop, onTimeout: noop, onReply: noop, onClose: noop },
  );
  const req = Request.synthesize('get', Buffer.from('k'), 'get ', '', null, 0);
  const replies = await Promise.all(
    [1, 2].map(() => new Promise<Reply>((resolve) => conn.send(req, req.key, 1000, resolve))),
  );
  for (const r of replies) {
    expect([r.result, r.message]).toEqual([
      'connect_timeout',
      'Timed out when trying to connect to server. Ex: AsyncSocketException: connect timed out after 30ms, type = Timed out',
    ]);
  }
});
