/**
 * Connection: a Request.quietUpstream request (`ma … q N…`) goes out with ` q` and an `mn` after it, and its
 * reply is what came before the MN: nothing (a success with no bytes), one line, or a VA block. The request
 * after it gets its own reply. Every stream is fed split at every byte, in both read modes.
 */
import { describe, expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { connectAndFlush, deliver, fakeConnection } from './fake-connection.js';

function quietMa(): Request {
  const r = Request.synthesize('ma', Buffer.from('k'), 'ma ', ' N0 t', null, 0);
  r.quietUpstream = true;
  return r;
}

const show = (r: Reply): string => `${r.result}:${r.raw === null ? '-' : r.raw.toString('latin1')}`;

/** The streams memcached 1.6.18 sends for `ma k N0 t q` + `mn` (created; updated) and for a `get k` after it. */
const CASES: { name: string; reply: string; want: string }[] = [
  { name: 'updated: memcached says nothing before the MN', reply: 'MN\r\n', want: 'found:' },
  { name: 'created: the HD, then the MN', reply: 'HD t-1\r\nMN\r\n', want: 'found:HD t-1\r\n' },
  { name: 'created with v: the VA block, then the MN', reply: 'VA 1 t-1\r\n0\r\nMN\r\n', want: 'found:VA 1 t-1\r\n0\r\n' },
  { name: 'an error line, then the MN', reply: 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\nMN\r\n', want: 'client_error:CLIENT_ERROR cannot increment or decrement non-numeric value\r\n' },
];

describe('Connection: quiet mode applied by the upstream', () => {
  for (const onread of [true, false]) {
    for (const c of CASES) {
      test(`${c.name} (${onread ? 'onread' : 'data events'})`, () => {
        const stream = Buffer.from(`${c.reply}VALUE k 0 1\r\nz\r\nEND\r\n`, 'latin1');
        for (let cut = 0; cut <= stream.length; cut++) {
          const f = fakeConnection(onread);
          const got: string[] = [];
          const ma = quietMa();
          f.conn.send(ma, ma.key, 1000, (r) => got.push(show(r)));
          const get = Request.synthesize('get', Buffer.from('k'), 'get ', '', null, 0);
          f.conn.send(get, get.key, 1000, (r) => got.push(show(r)));
          connectAndFlush(f);
          expect(f.sock.lines.join('')).toBe('ma k N0 t q\r\nmn\r\nget k\r\n');
          deliver(f, stream.subarray(0, cut));
          deliver(f, stream.subarray(cut));
          expect(got, `cut at ${cut}`).toEqual([c.want, 'found:VALUE k 0 1\r\nz\r\n']);
          expect(f.resets).toEqual([]);
          expect(f.conn.outstanding).toBe(0);
        }
      });
    }
  }

  test('a second reply line before the MN cannot be framed: the connection resets', () => {
    const f = fakeConnection(true);
    const got: string[] = [];
    const ma = quietMa();
    f.conn.send(ma, ma.key, 1000, (r) => got.push(show(r)));
    connectAndFlush(f);
    deliver(f, Buffer.from('HD\r\nHD\r\nMN\r\n'));
    expect(got).toEqual(['found:HD\r\n']);
    expect(f.resets.map((r) => r.cause)).toEqual(['unknown_reply']);
  });
});
