/**
 * Connection: KeyBatch entries (the multi-get fast path). A batch is the keys of one client multi-get for
 * one destination, given as ranges of the client's read buffer; consecutive batches share one get line (up
 * to MAX_BATCH_KEYS keys) and the reply is split back per batch and per key by matching keys in order.
 * Scripted replies are fed split at every byte, in both read modes; timeouts leave zombies whose late
 * replies must be matched (to stay in step) but not answered twice.
 */
import { describe, expect, test } from 'vitest';
import { KeyBatch, MAX_BATCH_KEYS, type EntryOwner, type KeySink } from '../../../src/upstream/connection.js';
import { Reply, Request, type Result } from '../../../src/protocol/types.js';
import { connectAndFlush, deliver, fakeConnection } from './fake-connection.js';

/**
 * Records each key's outcome as `found:<block>`, `notfound`, or `<result>:<raw or message>`. With `owner`
 * and `batch` set, it also checks that the owner's bookkeeping covers every key of the batch by the time the
 * last key is answered (the owner accounts runs of keys, not single keys).
 */
class Sink implements KeySink {
  readonly got = new Map<number, string[]>();
  owner: Owner | null = null;
  batch: KeyBatch | null = null;
  /** Keys answered before the owner had accounted all of them at the batch's last answer. */
  lateAccounting = 0;
  constructor(private readonly keys: string[]) {}
  private add(tag: number, s: string): void {
    const list = this.got.get(tag) ?? [];
    list.push(s);
    this.got.set(tag, list);
    if (this.owner !== null && this.batch !== null && this.got.size === this.keys.length) {
      const cover = this.owner.cover.get(this.batch) ?? [];
      for (let k = 0; k < this.keys.length; k++) if (cover[k] !== 1) this.lateAccounting++;
    }
  }
  keyHit(tag: number, buf: Buffer, start: number, end: number): void {
    this.add(tag, `found:${buf.toString('latin1', start, end)}`);
  }
  keyReply(tag: number, reply: Reply): void {
    this.add(tag, reply.result === 'notfound' ? 'notfound' : `${reply.result}:${reply.raw?.toString('latin1') ?? reply.message ?? ''}`);
  }
  /** Each key's outcomes in tag order (exactly one each when all is well). */
  outcomes(): string[][] {
    return this.keys.map((_, i) => this.got.get(i) ?? []);
  }
}

/** Counts keysDone per result, like a destination's accounting, and how often each key of a batch was accounted. */
class Owner implements EntryOwner {
  readonly counts = new Map<Result, number>();
  readonly cover = new Map<KeyBatch, number[]>();
  entryDone(): void {
    throw new Error('not a batch');
  }
  keysDone(b: KeyBatch, from: number, to: number, found: number, result: Result): void {
    if (found > 0) this.counts.set('found', (this.counts.get('found') ?? 0) + found);
    if (to - from > found) this.counts.set(result, (this.counts.get(result) ?? 0) + to - from - found);
    const c = this.cover.get(b) ?? new Array<number>(b.n).fill(0);
    for (let k = from; k < to; k++) c[k] = (c[k] as number) + 1;
    this.cover.set(b, c);
  }
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/** A client's multi-get: keys as ranges of one read buffer (`get k1 k2 ...\r\n`), tags 0..n-1. */
function batchOf(keys: string[], sink: KeySink, head = 'get '): KeyBatch {
  const line = Buffer.from(`${head}${keys.join(' ')}\r\n`, 'latin1');
  const b = new KeyBatch(Buffer.from(head, 'latin1'), line, sink);
  let p = head.length;
  keys.forEach((k, i) => {
    b.add(p, p + k.length, i);
    p += k.length + 1;
  });
  return b;
}

const block = (key: string, value: string, cas = ''): string => `VALUE ${key} 7 ${value.length}${cas}\r\n${value}\r\n`;

describe('Connection batches: lines written', () => {
  test('consecutive batches share a get line up to MAX_BATCH_KEYS keys; get and gets never mix', () => {
    const f = fakeConnection(false);
    const { conn, sock } = f;
    const s = new Sink([]);
    conn.sendBatch(batchOf(['a', 'b'], s), 1000, null, 0);
    conn.sendBatch(batchOf(['c'], s), 1000, null, 0);
    conn.sendBatch(batchOf(['d', 'e'], s, 'gets '), 1000, null, 0);
    conn.sendBatch(batchOf(['f'], s), 1000, null, 0);
    const wide = Array.from({ length: MAX_BATCH_KEYS - 2 }, (_, i) => `w${i}`);
    conn.sendBatch(batchOf(wide, s), 1000, null, 0);
    conn.sendBatch(batchOf(['x', 'y'], s), 1000, null, 0);
    connectAndFlush(f);
    expect(sock.lines.join('')).toBe(
      'get a b c\r\n' + 'gets d e\r\n' + `get f ${wide.join(' ')}\r\n` + 'get x y\r\n',
    );
    expect(conn.outstanding).toBe(3 + 2 + 1 + wide.length + 2);
    conn.close();
  });
});

describe('Connection batches: replies split at every byte', () => {
  // Three clients' batches in one line; duplicate keys within and across batches; hits, misses, gets.
  const clients = [['a', 'b', 'a', 'c'], ['c', 'dd'], ['e', 'a']];
  const cases: [string, string, (string | null)[][]][] = [
    [
      'hits and misses across three batches',
      block('a', 'one') + block('a', 'two') + block('c', '') + block('c', 'z') + block('a', 'A2') + 'END\r\n',
      [['found:' + block('a', 'one'), 'notfound', 'found:' + block('a', 'two'), 'found:' + block('c', '')], ['found:' + block('c', 'z'), 'notfound'], ['notfound', 'found:' + block('a', 'A2')]],
    ],
    [
      'all misses',
      'END\r\n',
      [['notfound', 'notfound', 'notfound', 'notfound'], ['notfound', 'notfound'], ['notfound', 'notfound']],
    ],
    [
      'an error line after some hits answers every key not answered yet',
      block('b', 'bee') + block('dd', 'DD') + 'SERVER_ERROR out of memory\r\n',
      [['notfound', 'found:' + block('b', 'bee'), 'notfound', 'notfound'], ['notfound', 'found:' + block('dd', 'DD')], ['remote_error:SERVER_ERROR out of memory\r\n', 'remote_error:SERVER_ERROR out of memory\r\n']],
    ],
    [
      'bare \\n line ends and a value that looks like END',
      'VALUE e 0 5\nEND\r\n\r\n' + 'END\n',
      [['notfound', 'notfound', 'notfound', 'notfound'], ['notfound', 'notfound'], ['found:VALUE e 0 5\nEND\r\n\r\n', 'notfound']],
    ],
  ];
  for (const [name, stream, want] of cases) {
    for (const onread of [false, true]) {
      test(`${name} (${onread ? 'onread arenas' : 'data events'})`, () => {
        const bytes = Buffer.from(stream, 'latin1');
        for (let cut = 0; cut <= bytes.length; cut++) {
          const f = fakeConnection(onread);
          const { conn, sock } = f;
          const owner = new Owner();
          const sinks = clients.map((keys) => new Sink(keys));
          clients.forEach((keys, i) => {
            const s = sinks[i] as Sink;
            const b = batchOf(keys, s);
            s.owner = owner;
            s.batch = b;
            conn.sendBatch(b, 1000, owner, 0);
          });
          connectAndFlush(f);
          expect(sock.lines).toEqual(['get a b a c c dd e a\r\n']);
          deliver(f, bytes.subarray(0, cut));
          deliver(f, bytes.subarray(cut));
          // Then a single-key request on the same connection: it must get its own reply (still in step).
          let after: Reply | null = null;
          conn.send(Request.synthesize('get', Buffer.from('zz'), 'get ', '', null, 0), Buffer.from('zz'), 1000, (r) => (after = r));
          f.reader.flush();
          deliver(f, Buffer.from(block('zz', 'last') + 'END\r\n', 'latin1'));
          const got = sinks.map((s) => s.outcomes().map((o) => (o.length === 1 ? o[0] : `answered ${o.length} times: ${o.join(' | ')}`)));
          expect({ cut, got }).toEqual({ cut, got: want });
          expect((after as Reply | null)?.raw?.toString('latin1')).toBe(block('zz', 'last'));
          expect(owner.total()).toBe(8);
          // The owner's counts by result are the sinks' outcomes, each key accounted once, before its batch's last answer.
          const byResult = new Map<string, number>();
          for (const o of want.flat()) {
            const r = (o as string).split(':')[0] as string;
            byResult.set(r, (byResult.get(r) ?? 0) + 1);
          }
          expect({ cut, counts: Object.fromEntries(owner.counts) }).toEqual({ cut, counts: Object.fromEntries(byResult) });
          for (const s of sinks) {
            expect(owner.cover.get(s.batch as KeyBatch)).toEqual(new Array<number>(s.outcomes().length).fill(1));
            expect({ cut, late: s.lateAccounting }).toEqual({ cut, late: 0 });
          }
          expect(conn.outstanding).toBe(0);
          conn.close();
        }
      });
    }
  }

  test('a VALUE for a key no batch asked for resets the connection and fails every key', () => {
    const f = fakeConnection(false);
    const { conn, sock } = f;
    const s = new Sink(['a', 'b']);
    conn.sendBatch(batchOf(['a', 'b'], s), 1000, null, 0);
    connectAndFlush(f);
    sock.emit('data', Buffer.from(block('a', '1') + block('zzz', '2') + 'END\r\n'));
    expect(s.outcomes()).toEqual([['found:' + block('a', '1')], ['remote_error:bad reply from server: VALUE for a key not requested']]);
    expect(conn.isClosed).toBe(true);
    expect(sock.destroyed).toBe(true);
  });

  test('a closed connection answers a new batch at once', () => {
    const { conn } = fakeConnection(false);
    conn.close();
    const s = new Sink(['a', 'b']);
    const owner = new Owner();
    conn.sendBatch(batchOf(['a', 'b'], s), 1000, owner, 0);
    expect(s.outcomes()).toEqual([['remote_error:connection closed'], ['remote_error:connection closed']]);
    expect(owner.counts.get('remote_error')).toBe(2);
  });
});

describe('Connection batches: timeouts', () => {
  test('a timed-out batch sharing a line with a live one: its late reply is matched, not answered again', async () => {
    const f = fakeConnection(false, 5000);
    const { conn, sock, timeouts } = f;
    const owner = new Owner();
    const slow = new Sink(['k', 'm', 'k']);
    const live = new Sink(['k', 'n']);
    conn.sendBatch(batchOf(['k', 'm', 'k'], slow), 30, owner, 0);
    conn.sendBatch(batchOf(['k', 'n'], live), 5000, owner, 0);
    connectAndFlush(f);
    expect(sock.lines).toEqual(['get k m k k n\r\n']);
    // The first key of the slow batch is answered before its deadline, the rest time out.
    sock.emit('data', Buffer.from(block('k', 'first')));
    await new Promise((r) => setTimeout(r, 120));
    expect(slow.outcomes()).toEqual([['found:' + block('k', 'first')], ['timeout:Reply timeout'], ['timeout:Reply timeout']]);
    expect(timeouts()).toBe(2);
    expect(live.outcomes()).toEqual([[], []]);
    // The late rest of the reply: the slow batch's second `k` must not be taken for the live batch's `k`.
    sock.emit('data', Buffer.from(block('k', 'late') + block('k', 'mine') + block('n', 'N') + 'END\r\n'));
    expect(slow.outcomes()).toEqual([['found:' + block('k', 'first')], ['timeout:Reply timeout'], ['timeout:Reply timeout']]);
    expect(live.outcomes()).toEqual([['found:' + block('k', 'mine')], ['found:' + block('n', 'N')]]);
    expect(owner.counts.get('timeout')).toBe(2);
    expect(owner.total()).toBe(5);
    expect(conn.outstanding).toBe(0);
    expect(conn.isClosed).toBe(false);
    conn.close();
  });
});
