/**
 * A large VALUE block read in place comes from the block pool (protocol/block-pool.ts). When the request's
 * callback was declared not to read reply bytes (markReplyUnread: shadow and async copies), or nobody is
 * waiting for the reply any more, the block goes straight back to the pool; any other callback keeps it.
 */
import { describe, expect, test } from 'vitest';
import { blockClass, blockPoolStats } from '../../../src/protocol/block-pool.js';
import { Reply, Request } from '../../../src/protocol/types.js';
import { markReplyUnread } from '../../../src/upstream/destination.js';
import { connectAndFlush, fakeConnection } from './fake-connection.js';

const SIZE = 50_000;

/** Send one get with `done`, then deliver its 50 KB VALUE block and END in small reads. */
function getWith(done: (r: Reply) => void): Buffer {
  const f = fakeConnection(true);
  const { conn, reader } = f;
  const req = Request.synthesize('get', Buffer.from('big'), 'get ', '', null, 0);
  conn.send(req, req.key, 1000, done);
  connectAndFlush(f);
  const value = Buffer.alloc(SIZE, 0x61);
  const bytes = Buffer.concat([Buffer.from(`VALUE big 0 ${SIZE}\r\n`), value, Buffer.from('\r\nEND\r\n')]);
  let pos = 0;
  while (pos < bytes.length) {
    const dst = reader.readBuffer();
    const n = Math.min(dst.length, 3000, bytes.length - pos);
    bytes.copy(dst, 0, pos, pos + n);
    reader.onRead(n);
    pos += n;
  }
  conn.close();
  return value;
}

describe('connection: pooled blocks of replies nobody reads', () => {
  test('a callback marked unread gets its reply, and the block is back in the pool at once', () => {
    const before = blockPoolStats().freeBytes;
    let result = '';
    getWith(markReplyUnread((r: Reply) => {
      result = r.result;
    }));
    expect(result).toBe('found');
    expect(blockPoolStats().freeBytes).toBe(before + blockClass(SIZE + `VALUE big 0 ${SIZE}\r\n`.length + 2));
  });

  test('an ordinary callback keeps the block: its bytes stay the value', () => {
    const before = blockPoolStats().freeBytes;
    let raw: Buffer | null = null;
    const value = getWith((r) => {
      raw = r.raw;
    });
    // It took a block (the one the first test gave back, if still free) and did not give it back.
    const cls = blockClass(SIZE + `VALUE big 0 ${SIZE}\r\n`.length + 2);
    expect(blockPoolStats().freeBytes).toBe(before >= cls ? before - cls : before);
    const head = `VALUE big 0 ${SIZE}\r\n`;
    const got = raw as Buffer | null;
    expect(got?.subarray(head.length, head.length + SIZE).equals(value)).toBe(true);
  });
});
