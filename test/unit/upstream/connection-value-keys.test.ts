/**
 * Connection: VALUE blocks whose key holds bytes other than a space (memcached accepts `\r`, tabs and control
 * bytes inside a key) are matched to the key asked for, also when the block is not for the next key asked
 * (the scan path), in merged single-key get lines and in KeyBatch groups. Split at every byte, both read modes.
 */
import { describe, expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { KeyBatch, type KeySink } from '../../../src/upstream/connection.js';
import { connectAndFlush, deliver, fakeConnection } from './fake-connection.js';

const KEYS = ['q', 'a\rz', 'b\t\x01', 'c\r'];
const STREAM = `VALUE a\rz 0 1\r\nx\r\nVALUE c\r 5 2\r\nyy\r\nEND\r\n`;
const WANT = ['q:notfound', 'a\rz:found', 'b\t\x01:notfound', 'c\r:found'];

describe('Connection: keys with \\r and control bytes in VALUE lines', () => {
  for (const onread of [true, false]) {
    test(`merged single-key gets (${onread ? 'onread' : 'data events'})`, () => {
      const stream = Buffer.from(STREAM, 'latin1');
      for (let cut = 0; cut <= stream.length; cut++) {
        const f = fakeConnection(onread);
        const got: string[] = [];
        for (const k of KEYS) {
          const r = Request.synthesize('get', Buffer.from(k, 'latin1'), 'get ', '', null, 0);
          f.conn.send(r, r.key, 1000, (reply: Reply) => got.push(`${k}:${reply.result}`));
        }
        connectAndFlush(f);
        expect(f.sock.lines.join('')).toBe(`get ${KEYS.join(' ')}\r\n`);
        deliver(f, stream.subarray(0, cut));
        deliver(f, stream.subarray(cut));
        expect(got, `cut ${cut}`).toEqual(WANT);
        expect(f.resets).toEqual([]);
      }
    });

    test(`a KeyBatch (${onread ? 'onread' : 'data events'})`, () => {
      const stream = Buffer.from(STREAM, 'latin1');
      for (let cut = 0; cut <= stream.length; cut++) {
        const f = fakeConnection(onread);
        const line = Buffer.from(KEYS.join(' '), 'latin1');
        const got: string[] = [];
        const sink: KeySink = {
          keyHit: (tag) => void got.push(`${KEYS[tag] ?? '?'}:found`),
          keyReply: (tag, reply) => void got.push(`${KEYS[tag] ?? '?'}:${reply.result}`),
        };
        const batch = new KeyBatch(Buffer.from('get '), line, sink);
        let at = 0;
        KEYS.forEach((k, i) => {
          batch.add(at, at + Buffer.byteLength(k, 'latin1'), i);
          at += Buffer.byteLength(k, 'latin1') + 1;
        });
        f.conn.sendBatch(batch, 1000, null, 0);
        connectAndFlush(f);
        deliver(f, stream.subarray(0, cut));
        deliver(f, stream.subarray(cut));
        expect(got.sort(), `cut ${cut}`).toEqual([...WANT].sort());
        expect(f.resets).toEqual([]);
      }
    });
  }
});
