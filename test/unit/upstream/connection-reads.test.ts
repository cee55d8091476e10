/**
 * Connection read path in onread mode (plain TCP): replies are read into bump arenas; a reply cut by the
 * end of a read stays where it is and the next read lands right behind it (a new arena starts with a copy
 * of the partial reply). These streams are long enough to roll over many arenas, with partial replies at
 * every kind of position, and every hit's bytes are checked after the whole stream was read.
 */
import { describe, expect, test } from 'vitest';
import { Reply, Request } from '../../../src/protocol/types.js';
import { Rng } from '../../fuzz/fuzz-lib.js';
import { connectAndFlush, deliver, fakeConnection, type FakeConnection } from './fake-connection.js';

function run(seed: number, keys: number, maxRead: number): { hits: number; misses: number; bad: string[] } {
  // The fuzz library's seeded generator, so a failure names a seed that reproduces it.
  const gen = new Rng(seed);
  const rand = (n: number): number => gen.int(n);
  const f = fakeConnection(true);
  const { conn, sock, reader } = f;
  const expected: (string | null)[] = [];
  const got: (Reply | null)[] = new Array<Reply | null>(keys).fill(null);
  let stream = '';
  // Groups of up to 100 keys (one merged get line each); values from 0 to 6,000 bytes so some take the
  // exact-size block path (> 4 KB) and most stay in the arena.
  for (let i = 0; i < keys; i++) {
    const key = `k${seed}:${i}`;
    const op = rand(4) === 0 ? 'gets' : 'get';
    const req = Request.synthesize(op, Buffer.from(key), `${op} `, '', null, 0);
    conn.send(req, req.key, 1000, (r) => {
      got[i] = r;
    });
    if (rand(5) === 0) {
      expected.push(null);
    } else {
      const size = rand(10) === 0 ? rand(6000) : rand(300);
      let v = '';
      for (let j = 0; j < size; j++) v += String.fromCharCode(32 + ((i + j) % 90));
      const block = `VALUE ${key} ${rand(70000)} ${size}${op === 'gets' ? ` ${rand(1e9)}` : ''}\r\n${v}\r\n`;
      expected.push(block);
    }
  }
  connectAndFlush(f);
  // The reply stream follows the merged lines the connection wrote: one END per line.
  let k = 0;
  for (const chunk of sock.lines) {
    for (const line of chunk.split('\r\n')) {
      if (line === '') continue;
      const n = line.split(' ').length - 1;
      for (let j = 0; j < n; j++, k++) stream += expected[k] ?? '';
      stream += 'END\r\n';
    }
  }
  const bytes = Buffer.from(stream, 'latin1');
  let pos = 0;
  while (pos < bytes.length) {
    const dst = reader.readBuffer();
    const n = Math.min(dst.length, 1 + rand(maxRead), bytes.length - pos);
    bytes.copy(dst, 0, pos, pos + n);
    reader.onRead(n);
    pos += n;
  }
  const bad: string[] = [];
  let hits = 0;
  let misses = 0;
  for (let i = 0; i < keys; i++) {
    const r = got[i];
    const e = expected[i];
    if (r === null || r === undefined) {
      bad.push(`key ${i}: no reply`);
    } else if (e === null || e === undefined) {
      if (r.result !== 'notfound') bad.push(`key ${i}: expected a miss, got ${r.result}`);
      else misses++;
    } else if (r.result !== 'found' || r.raw?.toString('latin1') !== e) {
      bad.push(`key ${i}: expected its VALUE block (${e.length} bytes), got ${r.result} (${r.raw?.length ?? 0} bytes)`);
    } else {
      hits++;
    }
  }
  conn.close();
  return { hits, misses, bad };
}

describe('Connection reads (onread arenas)', () => {
  test.each([
    [1, 3000, 200],
    [2, 3000, 4096],
    [3, 3000, 65536],
    [4, 2000, 17],
  ])('seed %i: %i keys, reads of 1..%i bytes, hits intact across arena rollovers', (seed, keys, maxRead) => {
    const r = run(seed, keys, maxRead);
    expect(r.bad.slice(0, 5)).toEqual([]);
    expect(r.hits + r.misses).toBe(keys);
    expect(r.hits).toBeGreaterThan(keys / 2);
  });
});

describe('Connection get-reply parsing, split at every byte', () => {
  const cases: [string, string[], string][] = [
    ['hit, miss, hit', ['a', 'bb', 'c'], 'VALUE a 0 3\r\nxyz\r\nVALUE c 4294967295 0\r\n\r\nEND\r\n'],
    ['gets with cas', ['a', 'b'], 'VALUE b 12 2 987654321\r\nhi\r\nEND\r\n'],
    ['bare \\n line ends', ['a'], 'VALUE a 1 2\nok\r\nEND\n'],
    ['error line ends the group', ['a', 'b'], 'VALUE a 0 1\r\nq\r\nSERVER_ERROR out of memory\r\n'],
    ['a value that looks like a reply', ['a'], 'VALUE a 0 5\r\nEND\r\n\r\nEND\r\n'],
  ];
  const expectFor = (stream: string, keys: string[]): string[] => {
    // What each key must get: its VALUE block, else the group's error line, else a miss.
    const err = /(SERVER_ERROR[^\r]*\r\n)$/.exec(stream)?.[1];
    return keys.map((k) => {
      const m = new RegExp(`VALUE ${k} \\d+ (\\d+)[^\\n]*\\n`).exec(stream);
      if (m === null) return err === undefined ? 'notfound' : `remote_error:${err}`;
      const end = m.index + m[0].length + Number(m[1]) + 2;
      return `found:${stream.slice(m.index, end)}`;
    });
  };
  for (const [name, keys, stream] of cases) {
    test(name, () => {
      const want = expectFor(stream, keys);
      const bytes = Buffer.from(stream, 'latin1');
      for (let cut = 0; cut <= bytes.length; cut++) {
        for (const onread of [false, true]) {
          const f = fakeConnection(onread);
          const { conn, sock } = f;
          const got: string[] = [];
          for (const k of keys) {
            const req = Request.synthesize('get', Buffer.from(k), 'get ', '', null, 0);
            conn.send(req, req.key, 1000, (r) => got.push(`${r.result}${r.raw === null ? '' : `:${r.raw.toString('latin1')}`}`));
          }
          connectAndFlush(f);
          expect(sock.lines).toEqual([`get ${keys.join(' ')}\r\n`]);
          deliver(f, bytes.subarray(0, cut));
          deliver(f, bytes.subarray(cut));
          expect({ cut, onread, got }).toEqual({ cut, onread, got: want });
          conn.close();
        }
      }
    });
  }
});

describe('Connection: announced value sizes', () => {
  function setup(onread: boolean, op: 'get' | 'mg' = 'get'): { f: FakeConnection; got: string[] } {
    const f = fakeConnection(onread);
    const got: string[] = [];
    const req = op === 'get' ? Request.synthesize('get', Buffer.from('a'), 'get ', '', null, 0) : Request.synthesize('mg', Buffer.from('a'), 'mg ', ' v', null, 0);
    f.conn.send(req, req.key, 1000, (r) => got.push(`${r.result}:${r.raw?.length ?? r.message ?? ''}`));
    connectAndFlush(f);
    return { f, got };
  }

  test.each([
    ['get', 'VALUE a 0 1073741825\r\n', 'remote_error:bad reply from server: VALUE length'],
    ['get', 'VALUE a 0 99999999999999999999\r\n', 'remote_error:bad reply from server: VALUE length'],
    ['mg', 'VA 2147483647\r\n', 'remote_error:bad reply from server: VA length'],
  ] as const)('%s: a size beyond memcached\'s 1 GB item limit resets the connection (%j)', (op, line, want) => {
    for (const onread of [false, true]) {
      const { f, got } = setup(onread, op);
      deliver(f, Buffer.from(line, 'latin1'));
      expect(got).toEqual([want]);
      expect(f.conn.isClosed).toBe(true);
    }
  });

  test('a value above 16 MB is collected as it arrives, not allocated at its announced size', () => {
    const size = 40 * 1024 * 1024;
    const { f, got } = setup(true);
    const before = process.memoryUsage().arrayBuffers;
    deliver(f, Buffer.from(`VALUE a 0 ${size}\r\n${'x'.repeat(1000)}`, 'latin1'));
    // 40 MB allocated up front would show here; what arrived is a few KB (plus at most one fresh arena).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    const rest = Buffer.alloc(size - 1000, 0x79);
    deliver(f, Buffer.concat([rest, Buffer.from('\r\nEND\r\n')]));
    expect(got).toEqual([`found:${`VALUE a 0 ${size}\r\n`.length + size + 2}`]);
    f.conn.close();
  });
});

describe('Connection: a stats request', () => {
  // `stats cachedump 1 1` as memcached 1.6.18 answered it, then a get on the same connection.
  const STATS = 'ITEM n [4 b; 0 s]\r\nEND\r\n';
  test('gets the whole reply through END as one `ok` reply, split at every byte; the next request gets its own', () => {
    const stream = Buffer.from(`${STATS}VALUE k 0 1\r\nz\r\nEND\r\n`, 'latin1');
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const onread of [false, true]) {
        const f = fakeConnection(onread);
        const got: string[] = [];
        const stats = Request.synthesize('stats', Buffer.alloc(0), 'stats cachedump 1 1', '', null, 0);
        f.conn.send(stats, stats.key, 1000, (r) => got.push(`${r.result}:${r.raw?.toString('latin1') ?? ''}`));
        const get = Request.synthesize('get', Buffer.from('k'), 'get ', '', null, 0);
        f.conn.send(get, get.key, 1000, (r) => got.push(`${r.result}:${r.raw?.toString('latin1') ?? ''}`));
        connectAndFlush(f);
        expect(f.sock.lines).toEqual(['stats cachedump 1 1\r\nget k\r\n']);
        deliver(f, stream.subarray(0, cut));
        deliver(f, stream.subarray(cut));
        expect({ cut, onread, got, resets: f.resets }).toEqual({ cut, onread, got: [`ok:${STATS}`, 'found:VALUE k 0 1\r\nz\r\n'], resets: [] });
        f.conn.close();
      }
    }
  });
});
