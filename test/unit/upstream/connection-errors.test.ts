/**
 * Connection: an error line from upstream is a reply. `ERROR`, `CLIENT_ERROR ...` or `SERVER_ERROR ...` in
 * place of the expected reply answers the request at the head of the FIFO (for a get line: every key the
 * reply has not reached yet), the connection stays open, and the next request gets its own reply. Only
 * bytes that cannot be framed reset the connection, and each reset is reported once with its cause.
 *
 * Every stream is fed split at every byte, in both read modes (onread arenas as for plain TCP, 'data'
 * events as for TLS).
 */
import { describe, expect, test } from 'vitest';
import { printableBytes, KeyBatch, type KeySink } from '../../../src/upstream/connection.js';
import { Reply, Request, type Op, type Result } from '../../../src/protocol/types.js';
import { connectAndFlush, deliver, fakeConnection, type FakeConnection } from './fake-connection.js';

/**
 * Error lines as memcached 1.6.18 sent them, each recorded from it for the request in the comment. Any of
 * them can stand in place of any reply on the wire (a server or a proxy in between may say SERVER_ERROR
 * to anything), so every op is also tested with the generic ones.
 */
const ERROR_LINE = 'ERROR\r\n'; // `verbosity` without an argument; the data line of a rejected `set`
const BAD_FORMAT = 'CLIENT_ERROR bad command line format\r\n'; // a 251-byte key (get, gets, gat, gats, delete, touch, mg, me)
const OOM = 'SERVER_ERROR out of memory storing object\r\n'; // set to a full `-M` server
const GENERIC = [ERROR_LINE, BAD_FORMAT, OOM];
const PER_OP: Partial<Record<Op, string[]>> = {
  gat: ['CLIENT_ERROR invalid exptime argument\r\n'], // gat abc a
  set: ['SERVER_ERROR object too large for cache\r\n'], // set of 600 KB with -I 512k
  incr: ['CLIENT_ERROR cannot increment or decrement non-numeric value\r\n', 'CLIENT_ERROR invalid numeric delta argument\r\n'], // incr a 1 on "x"; incr a x
  touch: ['CLIENT_ERROR invalid exptime argument\r\n'], // touch a abc
  mg: ['CLIENT_ERROR invalid flag\r\n'], // mg a B
  ms: ['CLIENT_ERROR invalid flag\r\n'], // ms a 1 B
  md: ['CLIENT_ERROR invalid or duplicate flag\r\n'], // md a B
  ma: ['CLIENT_ERROR cannot increment or decrement non-numeric value\r\n', 'CLIENT_ERROR invalid or duplicate flag\r\n'], // ma a; ma a B
};

function errorResultOf(line: string): Result {
  return line.startsWith('SERVER_ERROR') ? 'remote_error' : 'client_error';
}

/** `result:raw` (or `result` when the reply carries no bytes, `result:message` for mcrelay's own). */
function show(r: Reply): string {
  if (r.raw !== null) return `${r.result}:${r.raw.toString('latin1')}`;
  return r.message === null ? r.result : `${r.result}:${r.message}`;
}

interface OpCase {
  op: Op;
  req: Request;
  /** The line (and data) the connection writes for it. */
  wire: string;
  /** A normal reply, and its result. */
  ok: string;
  okResult: Result;
}

const v = Buffer.from('xy');
const mk = (op: Op, head: string, tail: string, value: Buffer | null = null): Request => Request.synthesize(op, Buffer.from('k'), head, tail, value, 0);
const OPS: OpCase[] = [
  { op: 'get', req: mk('get', 'get ', ''), wire: 'get k\r\n', ok: 'VALUE k 0 2\r\nxy\r\nEND\r\n', okResult: 'found' },
  { op: 'gets', req: mk('gets', 'gets ', ''), wire: 'gets k\r\n', ok: 'VALUE k 0 2 41\r\nxy\r\nEND\r\n', okResult: 'found' },
  { op: 'gat', req: mk('gat', 'gat 10 ', ''), wire: 'gat 10 k\r\n', ok: 'VALUE k 0 2\r\nxy\r\nEND\r\n', okResult: 'found' },
  { op: 'gats', req: mk('gats', 'gats 10 ', ''), wire: 'gats 10 k\r\n', ok: 'VALUE k 0 2 41\r\nxy\r\nEND\r\n', okResult: 'found' },
  { op: 'set', req: mk('set', 'set ', ' 0 0 2', v), wire: 'set k 0 0 2\r\nxy\r\n', ok: 'STORED\r\n', okResult: 'stored' },
  { op: 'add', req: mk('add', 'add ', ' 0 0 2', v), wire: 'add k 0 0 2\r\nxy\r\n', ok: 'NOT_STORED\r\n', okResult: 'notstored' },
  { op: 'replace', req: mk('replace', 'replace ', ' 0 0 2', v), wire: 'replace k 0 0 2\r\nxy\r\n', ok: 'STORED\r\n', okResult: 'stored' },
  { op: 'append', req: mk('append', 'append ', ' 0 0 2', v), wire: 'append k 0 0 2\r\nxy\r\n', ok: 'STORED\r\n', okResult: 'stored' },
  { op: 'prepend', req: mk('prepend', 'prepend ', ' 0 0 2', v), wire: 'prepend k 0 0 2\r\nxy\r\n', ok: 'NOT_STORED\r\n', okResult: 'notstored' },
  { op: 'cas', req: mk('cas', 'cas ', ' 0 0 2 41', v), wire: 'cas k 0 0 2 41\r\nxy\r\n', ok: 'EXISTS\r\n', okResult: 'exists' },
  { op: 'delete', req: mk('delete', 'delete ', ''), wire: 'delete k\r\n', ok: 'DELETED\r\n', okResult: 'deleted' },
  { op: 'incr', req: mk('incr', 'incr ', ' 1'), wire: 'incr k 1\r\n', ok: '43\r\n', okResult: 'found' },
  { op: 'decr', req: mk('decr', 'decr ', ' 1'), wire: 'decr k 1\r\n', ok: 'NOT_FOUND\r\n', okResult: 'notfound' },
  { op: 'touch', req: mk('touch', 'touch ', ' 10'), wire: 'touch k 10\r\n', ok: 'TOUCHED\r\n', okResult: 'touched' },
  { op: 'mg', req: mk('mg', 'mg ', ' v'), wire: 'mg k v\r\n', ok: 'VA 2\r\nxy\r\n', okResult: 'found' },
  { op: 'ms', req: mk('ms', 'ms ', ' 2'), wire: 'ms k 2\r\n', ok: 'HD\r\n', okResult: 'stored' },
  { op: 'md', req: mk('md', 'md ', ''), wire: 'md k\r\n', ok: 'NF\r\n', okResult: 'notfound' },
  { op: 'ma', req: mk('ma', 'ma ', ' v'), wire: 'ma k v\r\n', ok: 'VA 1\r\n5\r\n', okResult: 'found' },
  { op: 'me', req: mk('me', 'me ', ''), wire: 'me k\r\n', ok: 'ME k exp=-1 la=2 cas=5 fetch=no cls=1 size=61\r\n', okResult: 'found' },
];

/** The request sent after the one under test: a `delete` after get-like ops (so nothing merges), else a get. */
function nextFor(op: Op): OpCase {
  return op === 'get' || op === 'gets' || op === 'gat' || op === 'gats' ? (OPS.find((c) => c.op === 'delete') as OpCase) : (OPS[0] as OpCase);
}

/** What the reply for `c` carries as raw bytes: a get hit's VALUE block has no END (the session adds it). */
function rawOf(c: OpCase): string {
  return c.ok.endsWith('END\r\n') ? c.ok.slice(0, -5) : c.ok;
}

/** Deliver `stream` cut once at `cut`. */
function deliverCut(f: FakeConnection, stream: Buffer, cut: number): void {
  deliver(f, stream.subarray(0, cut));
  deliver(f, stream.subarray(cut));
}

/** After the replies: the connection still frames the next exchange. */
function expectStillInSync(f: FakeConnection): void {
  const got: string[] = [];
  const req = Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0);
  f.conn.send(req, req.key, 1000, (r) => got.push(show(r)));
  f.reader.flush();
  deliver(f, Buffer.from('VERSION 1.6.18\r\n'));
  expect(got).toEqual(['ok:VERSION 1.6.18\r\n']);
}

describe('an error line in place of a one-key reply answers that request; the next request gets its own reply', () => {
  for (const c of OPS) {
    const lines = [...GENERIC, ...(PER_OP[c.op] ?? [])];
    test(`${c.op}: ${lines.length} error lines, split at every byte`, () => {
      const n = nextFor(c.op);
      for (const err of lines) {
        const stream = Buffer.from(err + n.ok, 'latin1');
        const want = [`${errorResultOf(err)}:${err}`, `${n.okResult}:${rawOf(n)}`];
        for (let cut = 0; cut <= stream.length; cut++) {
          for (const onread of [false, true]) {
            const f = fakeConnection(onread);
            const got: string[] = [];
            f.conn.send(c.req, c.req.key, 1000, (r) => got.push(show(r)));
            f.conn.send(n.req, n.req.key, 1000, (r) => got.push(show(r)));
            connectAndFlush(f);
            expect(f.sock.lines).toEqual([c.wire + n.wire]);
            deliverCut(f, stream, cut);
            expect({ err, cut, onread, got, resets: f.resets, closed: f.conn.isClosed }).toEqual({ err, cut, onread, got: want, resets: [], closed: false });
            expectStillInSync(f);
            f.conn.close();
          }
        }
      }
    });
  }

  test('a late error line for a request that already timed out is read and dropped; the next request gets its reply', () => {
    for (const onread of [false, true]) {
      const f = fakeConnection(onread);
      const got: string[] = [];
      const mg = OPS.find((c) => c.op === 'mg') as OpCase;
      const get = OPS[0] as OpCase;
      f.conn.send(mg.req, mg.req.key, -5, (r) => got.push(show(r)));
      f.conn.send(get.req, get.req.key, 1000, (r) => got.push(show(r)));
      connectAndFlush(f);
      (f.conn as unknown as { onTimer(): void }).onTimer();
      expect(got).toEqual(['timeout:Reply timeout']);
      deliver(f, Buffer.from(`CLIENT_ERROR invalid flag\r\n${get.ok}`));
      expect(got).toEqual(['timeout:Reply timeout', `found:VALUE k 0 2\r\nxy\r\n`]);
      expect(f.resets).toEqual([]);
      expectStillInSync(f);
      f.conn.close();
    }
  });
});

describe('merged get lines: an error line answers every key the reply has not reached', () => {
  const heads: [Op, string, string][] = [
    ['get', 'get ', ''],
    ['gets', 'gets ', ' 77'],
    ['gat', 'gat 10 ', ''],
    ['gats', 'gats 0 ', ' 77'],
  ];
  const keys = ['a', 'b', 'c'];
  const blockOf = (k: string, cas: string): string => `VALUE ${k} 1 3${cas}\r\n${k}${k}${k}\r\n`;
  // Before the error line: nothing, a's block, a's and b's blocks, b's block (a was a miss).
  const prefixes: string[][] = [[], ['a'], ['a', 'b'], ['b']];
  for (const [op, head, cas] of heads) {
    test(`${op}: error after 0, 1 or 2 VALUE blocks, split at every byte`, () => {
      const next = OPS.find((c) => c.op === 'delete') as OpCase;
      for (const err of [ERROR_LINE, BAD_FORMAT, OOM]) {
        for (const hits of prefixes) {
          const stream = Buffer.from(hits.map((k) => blockOf(k, cas)).join('') + err + next.ok, 'latin1');
          // Keys with a block are hits; keys before the last block without one were misses; the rest get the error.
          const last = hits.length === 0 ? -1 : keys.indexOf(hits[hits.length - 1] as string);
          const want = keys.map((k, i) => (hits.includes(k) ? `found:${blockOf(k, cas)}` : i < last ? 'notfound' : `${errorResultOf(err)}:${err}`));
          want.push(`${next.okResult}:${next.ok}`);
          for (let cut = 0; cut <= stream.length; cut++) {
            for (const onread of [false, true]) {
              const f = fakeConnection(onread);
              const got = new Map<string, string>();
              for (const k of keys) {
                const req = Request.synthesize(op, Buffer.from(k), head, '', null, 0);
                f.conn.send(req, req.key, 1000, (r) => got.set(k, show(r)));
              }
              f.conn.send(next.req, next.req.key, 1000, (r) => got.set('next', show(r)));
              connectAndFlush(f);
              expect(f.sock.lines).toEqual([`${head}a b c\r\n${next.wire}`]);
              deliverCut(f, stream, cut);
              expect({ err, hits, cut, onread, got: [...keys, 'next'].map((k) => got.get(k)), resets: f.resets, closed: f.conn.isClosed }).toEqual({
                err,
                hits,
                cut,
                onread,
                got: want,
                resets: [],
                closed: false,
              });
              expectStillInSync(f);
              f.conn.close();
            }
          }
        }
      }
    });
  }
});

/** A client's multi-get keys as a KeyBatch, answers recorded per key. */
class Sink implements KeySink {
  readonly got: string[][];
  constructor(readonly keys: string[]) {
    this.got = keys.map(() => []);
  }
  keyHit(tag: number, buf: Buffer, start: number, end: number): void {
    this.got[tag]?.push(`found:${buf.toString('latin1', start, end)}`);
  }
  keyReply(tag: number, reply: Reply): void {
    this.got[tag]?.push(reply.result === 'notfound' ? 'notfound' : show(reply));
  }
}

function batchOf(sink: Sink, head = 'get '): KeyBatch {
  const line = Buffer.from(`${head}${sink.keys.join(' ')}\r\n`, 'latin1');
  const b = new KeyBatch(Buffer.from(head, 'latin1'), line, sink);
  let p = head.length;
  sink.keys.forEach((k, i) => {
    b.add(p, p + k.length, i);
    p += k.length + 1;
  });
  return b;
}

describe('KeyBatch groups (the multi-get fast path): an error line answers every key not answered yet', () => {
  const blockOf = (k: string): string => `VALUE ${k} 0 2\r\n${k}${k}\r\n`;
  // Two client multi-gets sharing one line: [a b] [c d]. Before the error: nothing, a, a and c (b a miss), b c d.
  const cases: string[][] = [[], ['a'], ['a', 'c'], ['b', 'c', 'd']];
  for (const head of ['get ', 'gets ']) {
    test(`${head.trim()}: error after 0..3 VALUE blocks, split at every byte`, () => {
      const all = ['a', 'b', 'c', 'd'];
      const next = OPS.find((c) => c.op === 'delete') as OpCase;
      for (const err of [ERROR_LINE, OOM]) {
        for (const hits of cases) {
          const stream = Buffer.from(hits.map(blockOf).join('') + err + next.ok, 'latin1');
          const last = hits.length === 0 ? -1 : all.indexOf(hits[hits.length - 1] as string);
          const want = all.map((k, i) => [hits.includes(k) ? `found:${blockOf(k)}` : i < last ? 'notfound' : `${errorResultOf(err)}:${err}`]);
          for (let cut = 0; cut <= stream.length; cut++) {
            for (const onread of [false, true]) {
              const f = fakeConnection(onread);
              const s1 = new Sink(['a', 'b']);
              const s2 = new Sink(['c', 'd']);
              f.conn.sendBatch(batchOf(s1, head), 1000, null, 0);
              f.conn.sendBatch(batchOf(s2, head), 1000, null, 0);
              const nextGot: string[] = [];
              f.conn.send(next.req, next.req.key, 1000, (r) => nextGot.push(show(r)));
              connectAndFlush(f);
              expect(f.sock.lines).toEqual([`${head}a b c d\r\n${next.wire}`]);
              deliverCut(f, stream, cut);
              expect({ err, hits, cut, onread, got: [...s1.got, ...s2.got], nextGot, resets: f.resets }).toEqual({
                err,
                hits,
                cut,
                onread,
                got: want,
                nextGot: [`${next.okResult}:${next.ok}`],
                resets: [],
              });
              expectStillInSync(f);
              f.conn.close();
            }
          }
        }
      }
    });
  }
});

describe('bytes that cannot be framed reset the connection, reported once with their cause', () => {
  const get = (k: string): Request => Request.synthesize('get', Buffer.from(k), 'get ', '', null, 0);
  const mg = Request.synthesize('mg', Buffer.from('m'), 'mg ', ' v', null, 0);
  const set = Request.synthesize('set', Buffer.from('s'), 'set ', ' 0 0 1', Buffer.from('z'), 0);
  // [name, requests, reply stream, cause, bytes reported from where framing failed]
  const cases: [string, Request[], string, string, string][] = [
    ['a reply with nothing in flight', [set], 'STORED\r\nSTORED\r\n', 'unexpected_data', 'STORED\r\n'],
    ['`STORED` to an mg (the reply of a request mcrelay never got, as in issue 13)', [mg, set], 'STORED\r\n', 'unknown_reply', 'STORED\r\n'],
    ['a line that is no get reply', [get('a'), set], 'HD\r\nSTORED\r\n', 'unknown_reply', 'HD\r\nSTORED\r\n'],
    ['a VALUE line with a bad flags token', [get('a'), set], 'VALUE a x 1\r\nz\r\nEND\r\nSTORED\r\n', 'bad_value', 'VALUE a x 1\r\nz\r\nEND\r\nSTORED\r\n'],
    ['a data block not ended by \\r\\n', [get('a'), set], 'VALUE a 0 1\r\nzzEND\r\n', 'bad_value', 'VALUE a 0 1\r\nzzEND\r\n'],
    ['a VA size beyond 1 GB', [mg, set], 'VA 2000000000\r\n', 'bad_value', 'VA 2000000000\r\n'],
    ['a VALUE for a key not asked for', [get('a'), get('b'), set], 'VALUE zz 0 1\r\nz\r\nEND\r\n', 'unrequested_key', 'VALUE zz 0 1\r\nz\r\nEND\r\n'],
  ];
  for (const [name, reqs, stream, cause, bytes] of cases) {
    // The unexpected_data case: its one request is answered before the stray reply.
    const failed = cause === 'unexpected_data' ? 0 : reqs.length;
    test(`${name}: ${cause}`, () => {
      const buf = Buffer.from(stream, 'latin1');
      for (let cut = 0; cut <= buf.length; cut++) {
        for (const onread of [false, true]) {
          const f = fakeConnection(onread);
          const got: string[] = [];
          for (const r of reqs) f.conn.send(r, r.key, 1000, (rep) => got.push(show(rep)));
          connectAndFlush(f);
          deliverCut(f, buf, cut);
          expect({ cut, onread, closed: f.conn.isClosed, resets: f.resets.map((r) => ({ ...r, bytes: null })) }).toEqual({ cut, onread, closed: true, resets: [{ cause, bytes: null, failed }] });
          // The bytes from where framing failed: all of them when they came in one read, else what had
          // arrived (at least the start of the unit that failed).
          const reported = f.resets[0]?.bytes ?? '';
          if (cut === 0) expect(reported).toBe(bytes);
          expect(reported.length).toBeGreaterThan(0);
          expect(bytes.startsWith(reported)).toBe(true);
          expect(got).toHaveLength(reqs.length);
          for (const g of got.slice(reqs.length - failed)) expect(g).toMatch(/^remote_error:bad reply from server: /);
        }
      }
    });
  }

  test('a reply line over 64 KB without its end: line_too_long, the bytes reported from the line start', () => {
    for (const onread of [false, true]) {
      const f = fakeConnection(onread);
      const got: string[] = [];
      f.conn.send(mg, mg.key, 1000, (r) => got.push(show(r)));
      connectAndFlush(f);
      deliver(f, Buffer.from(`HD ${'O'.repeat(70_000)}`));
      expect(got).toEqual(['remote_error:bad reply from server: line too long']);
      expect(f.resets.map((r) => [r.cause, r.bytes?.slice(0, 8), r.failed])).toEqual([['line_too_long', 'HD OOOOO', 1]]);
    }
  });

  test('a batch reset counts each unanswered key as a failed request', () => {
    const f = fakeConnection(false);
    const s = new Sink(['a', 'b', 'c']);
    f.conn.sendBatch(batchOf(s), 1000, null, 0);
    connectAndFlush(f);
    deliver(f, Buffer.from('VALUE a 0 1\r\nz\r\nGARBAGE\r\n'));
    expect(s.got).toEqual([['found:VALUE a 0 1\r\nz\r\n'], ['remote_error:bad reply from server: get reply'], ['remote_error:bad reply from server: get reply']]);
    expect(f.resets).toEqual([{ cause: 'unknown_reply', bytes: 'GARBAGE\r\n', failed: 2 }]);
  });

  test('the server closing, a socket error, a silent server, and mcrelay closing with requests outstanding', () => {
    const run = (act: (f: FakeConnection) => void, timeoutMs = 1000): FakeConnection => {
      const f = fakeConnection(false, 20);
      const got: string[] = [];
      f.conn.send(get('a'), Buffer.from('a'), timeoutMs, (r) => got.push(show(r)));
      f.conn.send(set, set.key, timeoutMs, (r) => got.push(show(r)));
      connectAndFlush(f);
      act(f);
      expect(got).toHaveLength(2);
      return f;
    };
    expect(run((f) => f.sock.emit('close')).resets).toEqual([{ cause: 'remote_closed', bytes: null, failed: 2 }]);
    expect(run((f) => f.sock.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).resets).toEqual([{ cause: 'socket_error', bytes: null, failed: 2 }]);
    expect(run((f) => f.conn.close()).resets).toEqual([{ cause: 'proxy_closed', bytes: null, failed: 2 }]);
    // Both timed out 30 ms ago (zombies), longer than another (connect) timeout of 20 ms: the timer resets
    // the connection, and the reset fails nothing further (both were answered with `timeout`).
    const zombie = run((f) => (f.conn as unknown as { onTimer(): void }).onTimer(), -30);
    expect(zombie.resets).toEqual([{ cause: 'zombie_timeout', bytes: null, failed: 0 }]);
  });

  test('no reset: a graceful close with nothing outstanding, and a connect failure', () => {
    const idle = fakeConnection(false);
    const req = Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0);
    idle.conn.send(req, req.key, 1000, () => {});
    connectAndFlush(idle);
    deliver(idle, Buffer.from('VERSION 1\r\n'));
    idle.conn.close();
    expect(idle.resets).toEqual([]);
    const never = fakeConnection(false);
    never.conn.send(req, req.key, 1000, () => {});
    never.sock.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(never.conn.isClosed).toBe(true);
    expect(never.resets).toEqual([]);
  });
});

describe('printableBytes (the reset log line)', () => {
  test('escapes control bytes and backslashes, and cuts at the limit', () => {
    expect(printableBytes(Buffer.from('STORED\r\n'))).toBe('STORED\\r\\n');
    expect(printableBytes(Buffer.from([0x00, 0x5c, 0x41, 0xff]))).toBe('\\x00\\\\A\\xff');
    expect(printableBytes(Buffer.from('x'.repeat(100)), 64)).toBe(`${'x'.repeat(64)}...(100 bytes)`);
  });
});
