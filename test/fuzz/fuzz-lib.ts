/**
 * mcrelay's own fuzzer (no dependency): a seeded PRNG, a seed corpus of valid requests and replies, and
 * byte-level mutators. Two targets, both in-process and socket-free so millions of inputs take minutes:
 *
 * - fuzzClient: client bytes (random, mutated valid requests, several requests glued together) go into
 *   the RequestParser twice, once whole and once cut at random split points. Invariants: no throw; the two
 *   runs produce the same commands and replies (framing does not depend on how bytes arrive); the parser's
 *   buffered bytes stay under its line/value limits.
 * - fuzzUpstream: replies for a random batch of requests (get multi-key batches, gets, set, delete, incr,
 *   touch, mg/ms/md, version, and KeyBatches — a client multi-get's keys for one server), valid or damaged (garbage, truncated values, missing END, wrong lengths,
 *   bytes flipped), sometimes delivered after the requests already timed out, fed to a Connection at random
 *   split points. Invariants: no throw; every request's callback (every batch key's answer) runs exactly
 *   once; undamaged replies give the expected results; after a late reply the connection is still in sync or was reset.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { RequestParser, type LocalOp, type RequestSink } from '../../src/protocol/request-parser.js';
import { Request, type Op, type Reply } from '../../src/protocol/types.js';
import { Connection, KeyBatch, type KeySink } from '../../src/upstream/connection.js';

/**
 * xoshiro128** over four 32-bit words (period 2^128 - 1), seeded through splitmix32, deterministic from a
 * seed. (The xorshift variant it replaces mixed 32-bit halves of a 64-bit design and cycled after 8,190
 * outputs, so a "10^7-input" run replayed a few thousand inputs.)
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(seed: number) {
    let z = seed >>> 0;
    const split = (): number => {
      z = (z + 0x9e3779b9) | 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) | 0;
    };
    this.s0 = split();
    this.s1 = split();
    this.s2 = split();
    this.s3 = split();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }
  u32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export const CLIENT_SEEDS: readonly string[] = [
  'get foo\r\n', 'get a b c d\r\n', 'gets foo\r\n', 'gat 10 foo bar\r\n', 'gats 0 k\r\n',
  'set foo 0 0 5\r\nhello\r\n', 'set foo 1 2 3 noreply\r\nabc\r\n', 'add k 0 0 1\r\nx\r\n', 'replace k 0 0 0\r\n\r\n',
  'append k 0 0 2\r\nab\r\n', 'prepend k 0 0 2\r\nab\r\n', 'cas k 0 0 1 99\r\nz\r\n', 'delete foo\r\n', 'delete foo noreply\r\n',
  'incr n 1\r\n', 'decr n 5 noreply\r\n', 'touch k 100\r\n', 'mg foo v f t c\r\n', 'mg foo q k\r\n', 'ms foo 3 T10 F5\r\nabc\r\n',
  'ms foo 2 q\r\nhi\r\n', 'md foo q\r\n', 'md foo C12\r\n', 'ma n D2\r\n', 'mn\r\n', 'me foo\r\n', 'mg Zm9v b v\r\n',
  'version\r\n', 'verbosity 1\r\n', 'stats\r\n', 'flush_all\r\n', 'quit\r\n', '/a/b/key\r\n', 'get /r/c/key|#|x\r\n',
];

const INTERESTING = ['\r\n', '\n', ' ', '\r', '\0', 'noreply', 'q', '-1', '4294967296', '99999999999', 'END\r\n', 'get ', 'set ', 'b', 'k'.repeat(251)];

/** One mutation of `buf` (bytes flipped, inserted, deleted, duplicated, numbers changed, tokens spliced). */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const pos = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(8)) {
      case 0:
        if (b.length > 0) b[pos] = rng.int(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from([rng.int(256)]), b.subarray(pos)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(Math.min(b.length, pos + 1 + rng.int(8)))]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(rng.pick(INTERESTING), 'latin1'), b.subarray(pos)]);
        break;
      case 4: {
        const end = Math.min(b.length, pos + 1 + rng.int(16));
        b = Buffer.concat([b.subarray(0, end), b.subarray(pos, end), b.subarray(end)]);
        break;
      }
      case 5:
        b = b.subarray(0, pos);
        break;
      case 6: {
        // Replace a digit run with another number.
        const s = b.toString('latin1').replace(/\d+/, String(rng.pick([0, 1, 2, 5, 255, 1024, 65536, 2 ** 31 - 1, 2 ** 32])));
        b = Buffer.from(s, 'latin1');
        break;
      }
      default:
        b = Buffer.concat([b, Buffer.from(rng.pick(CLIENT_SEEDS), 'latin1')]);
    }
  }
  return b;
}

export function clientInput(rng: Rng): Buffer {
  const kind = rng.int(10);
  if (kind === 0) {
    const len = rng.int(64);
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = rng.chance(0.1) ? rng.pick([0x0a, 0x0d, 0x20]) : rng.int(256);
    return b;
  }
  const parts: Buffer[] = [];
  const count = 1 + rng.int(kind < 5 ? 1 : 4);
  for (let i = 0; i < count; i++) parts.push(Buffer.from(rng.pick(CLIENT_SEEDS), 'latin1'));
  const whole = Buffer.concat(parts);
  return kind < 8 ? mutate(rng, whole) : whole;
}

class RecordingSink implements RequestSink {
  readonly events: string[] = [];
  request(req: Request): void {
    this.events.push(`R ${req.op} ${req.key.toString('latin1')}|${req.head.toString('latin1')}|${req.tail.toString('latin1')}|${req.value?.length ?? -1}|${req.quiet}`);
  }
  multiGet(reqs: Request[]): void {
    this.events.push(`M ${reqs.map((r) => r.key.toString('latin1')).join(' ')}`);
  }
  local(op: LocalOp, args: Buffer, noreply: boolean): void {
    this.events.push(`L ${op} ${args.toString('latin1')} ${noreply}`);
  }
  replyLine(line: string): void {
    this.events.push(`E ${line}`);
  }
  fatal(line: string | null): void {
    this.events.push(`F ${line}`);
  }
}

export interface FuzzStats {
  inputs: number;
  bytes: number;
  events: number;
  failures: string[];
}

/** Feed `iterations` client inputs whole and split; collect invariant violations. */
export function fuzzClient(iterations: number, seed: number): FuzzStats {
  const rng = new Rng(seed);
  const st: FuzzStats = { inputs: 0, bytes: 0, events: 0, failures: [] };
  for (let it = 0; it < iterations; it++) {
    const input = clientInput(rng);
    st.inputs++;
    st.bytes += input.length;
    const whole = new RecordingSink();
    const split = new RecordingSink();
    try {
      new RequestParser(whole).feed(input);
      const p = new RequestParser(split);
      let pos = 0;
      while (pos < input.length) {
        const n = 1 + rng.int(Math.max(1, input.length - pos));
        p.feed(input.subarray(pos, pos + n));
        pos += n;
      }
    } catch (err) {
      st.failures.push(`throw on ${JSON.stringify(input.toString('latin1'))}: ${(err as Error).stack ?? String(err)}`);
      if (st.failures.length > 20) break;
      continue;
    }
    st.events += whole.events.length;
    const a = whole.events.join('\n');
    const b = split.events.join('\n');
    if (a !== b) {
      st.failures.push(`split changes framing for ${JSON.stringify(input.toString('latin1'))}:\nwhole: ${a}\nsplit: ${b}`);
      if (st.failures.length > 20) break;
    }
  }
  return st;
}

// ------------------------------------------------------------------ upstream side

/** A socket stand-in for Connection: counts written bytes, never connects by itself. */
export class FakeSocket extends EventEmitter {
  written = 0;
  destroyed = false;
  write(b: Buffer): boolean {
    this.written += b.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

interface Planned {
  req: Request;
  /** Valid reply bytes for this request (for merged gets: the VALUE block or '' on a miss). */
  reply: string;
  expect: string;
  /** A KeyBatch entry instead of a request: its keys (VALUE block or '' each). */
  batch?: { keys: string[]; blocks: string[] };
}

function plan(rng: Rng, big = false): Planned[] {
  const out: Planned[] = [];
  const n = 1 + rng.int(8);
  // Keys read by get, gets and batches have one state per stream (memcached answers every occurrence of a
  // key alike, and a merged line's VALUE goes to the first unanswered occurrence): a value, or null for a
  // miss. Keys repeat within and across requests.
  const state = new Map<string, string | null>();
  const stateOf = (key: string, value: string): string | null => {
    if (!state.has(key)) state.set(key, rng.chance(0.5) ? value : null);
    return state.get(key) ?? null;
  };
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.25)) {
      const keys: string[] = [];
      const blocks: string[] = [];
      for (let j = 1 + rng.int(6); j > 0; j--) {
        const key = `b${rng.int(6)}`;
        const size = big && rng.chance(0.3) ? 4000 + rng.int(70000) : rng.int(40);
        const v = stateOf(key, String.fromCharCode(0x61 + rng.int(26)).repeat(size) + key);
        keys.push(key);
        blocks.push(v === null ? '' : `VALUE ${key} 3 ${v.length}\r\n${v}\r\n`);
      }
      out.push({ req: Request.synthesize('get', Buffer.alloc(0), 'get ', '', null, 0), reply: blocks.join(''), expect: 'batch', batch: { keys, blocks } });
      continue;
    }
    const key = `k${rng.int(20)}`;
    const hit = rng.chance(0.5);
    // `big`: some values above the 4 KB large-block threshold, with varied bytes to catch overwrites.
    const v = big && rng.chance(0.3) ? String.fromCharCode(0x61 + rng.int(26)).repeat(4000 + rng.int(70000)) + `${rng.int(1e9)}` : 'x'.repeat(rng.int(40));
    const op = rng.pick<Op>(['get', 'get', 'gets', 'set', 'delete', 'incr', 'touch', 'mg', 'ms', 'md', 'version']);
    const mk = (head: string, tail: string, value: Buffer | null = null): Request => Request.synthesize(op, Buffer.from(key), head, tail, value, 0);
    switch (op) {
      case 'get':
      case 'gets': {
        const sv = stateOf(key, v);
        const cas = op === 'gets' ? ' 77' : '';
        out.push({ req: mk(`${op} `, ''), reply: sv !== null ? `VALUE ${key} 0 ${sv.length}${cas}\r\n${sv}\r\n` : '', expect: sv !== null ? 'found' : 'notfound' });
        break;
      }
      case 'set':
        out.push({ req: mk('set ', ` 0 0 ${v.length}`, Buffer.from(v)), reply: hit ? 'STORED\r\n' : 'NOT_STORED\r\n', expect: hit ? 'stored' : 'notstored' });
        break;
      case 'delete':
        out.push({ req: mk('delete ', ''), reply: hit ? 'DELETED\r\n' : 'NOT_FOUND\r\n', expect: hit ? 'deleted' : 'notfound' });
        break;
      case 'incr':
        out.push({ req: mk('incr ', ' 1'), reply: hit ? '42\r\n' : 'NOT_FOUND\r\n', expect: hit ? 'found' : 'notfound' });
        break;
      case 'touch':
        out.push({ req: mk('touch ', ' 10'), reply: hit ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n', expect: hit ? 'touched' : 'notfound' });
        break;
      case 'mg':
        out.push({ req: mk('mg ', ' v'), reply: hit ? `VA ${v.length}\r\n${v}\r\n` : 'EN\r\n', expect: hit ? 'found' : 'notfound' });
        break;
      case 'ms':
        out.push({ req: mk('ms ', ` ${v.length}`, Buffer.from(v)), reply: hit ? 'HD\r\n' : 'NS\r\n', expect: hit ? 'stored' : 'notstored' });
        break;
      case 'md':
        out.push({ req: mk('md ', ''), reply: hit ? 'HD\r\n' : 'NF\r\n', expect: hit ? 'deleted' : 'notfound' });
        break;
      default:
        out.push({ req: Request.synthesize('version', Buffer.alloc(0), 'version', '', null, 0), reply: 'VERSION 1.6.18\r\n', expect: 'ok' });
    }
  }
  return out;
}

/**
 * The reply stream memcached would send: consecutive plain gets are merged into one line, and so are
 * consecutive batches (but never with each other), one END per line.
 */
function replyStream(p: Planned[]): string {
  let s = '';
  for (let i = 0; i < p.length; i++) {
    const e = p[i] as Planned;
    const op = e.req.op;
    if (op === 'get' || op === 'gets') {
      const isBatch = e.batch !== undefined;
      let j = i;
      while (j < p.length && (p[j] as Planned).req.op === op && ((p[j] as Planned).batch !== undefined) === isBatch) {
        s += (p[j] as Planned).reply;
        j++;
      }
      s += 'END\r\n';
      i = j - 1;
    } else {
      s += e.reply;
    }
  }
  return s;
}

const GARBAGE = ['HELLO\r\n', 'VALUE\r\n', 'VALUE k0 0 999999999\r\n', 'VA -1\r\n', 'END', '\r\n', 'SERVER_ERROR out of memory\r\n', 'ERROR\r\n', 'STORED STORED\r\n', '\0\0\0'];

export interface UpstreamFuzzStats {
  batches: number;
  replies: number;
  damaged: number;
  late: number;
  failures: string[];
}

function damage(rng: Rng, s: string): string {
  switch (rng.int(6)) {
    case 0: // truncated value / cut anywhere
      return s.slice(0, rng.int(s.length + 1));
    case 1: // missing END
      return s.replace(/END\r\n/, '');
    case 2: // wrong lengths
      return s.replace(/ (\d+)\r\n/, (_m, d: string) => ` ${Number(d) + 1 + rng.int(5)}\r\n`);
    case 3: // garbage inserted
      {
        const at = rng.int(s.length + 1);
        return s.slice(0, at) + rng.pick(GARBAGE) + s.slice(at);
      }
    case 4:
      return mutate(rng, Buffer.from(s, 'latin1')).toString('latin1');
    default:
      return rng.pick(GARBAGE) + s;
  }
}

/** The Connection internals the onread mode drives (the socket calls them in production). */
interface UserBufferReader {
  userBuffers: boolean;
  readBuffer(): Buffer;
  onRead(n: number): void;
}

/**
 * Feed `batches` reply streams into fresh connections; collect invariant violations.
 * `userBuffers`: deliver bytes the way a plain TCP socket does (net `onread`): copied into the buffer the
 * connection's readBuffer() hands out, then onRead(n); adds large values, and checks every undamaged hit's
 * bytes after the whole stream was read (a reused read buffer would have overwritten them).
 */
export function fuzzUpstream(batches: number, seed: number, userBuffers = false): UpstreamFuzzStats {
  const rng = new Rng(seed);
  const st: UpstreamFuzzStats = { batches: 0, replies: 0, damaged: 0, late: 0, failures: [] };
  const noop = (): void => {};
  for (let it = 0; it < batches && st.failures.length < 20; it++) {
    st.batches++;
    const sock = new FakeSocket();
    const conn = new Connection(
      { host: '127.0.0.1', port: 1, connectTimeoutMs: 1000, keepAlive: false, connect: () => sock as unknown as net.Socket },
      { onConnectError: noop, onTimeout: noop, onReply: noop, onClose: noop },
    );
    const reader = conn as unknown as UserBufferReader;
    if (userBuffers) reader.userBuffers = true;
    const p = plan(rng, userBuffers);
    const calls = new Array<number>(p.length).fill(0);
    const results: (Reply | null)[] = new Array<Reply | null>(p.length).fill(null);
    const late = rng.chance(0.1);
    /** Per batch entry: each key's answers, as `found:<block>` or the result name. */
    const keyAnswers = new Map<number, string[][]>();
    p.forEach((e, i) => {
      if (e.batch !== undefined) {
        const answers = e.batch.keys.map((): string[] => []);
        keyAnswers.set(i, answers);
        const line = Buffer.from(`get ${e.batch.keys.join(' ')}\r\n`, 'latin1');
        const sink: KeySink = {
          keyHit: (tag, buf, start, end) => void answers[tag]?.push(`found:${buf.toString('latin1', start, end)}`),
          keyReply: (tag, r) => void answers[tag]?.push(r.result),
        };
        const b = new KeyBatch(Buffer.from('get '), line, sink);
        let at = 4;
        e.batch.keys.forEach((k, tag) => {
          b.add(at, at + k.length, tag);
          at += k.length + 1;
        });
        conn.sendBatch(b, late ? -5 : 1000, null, 0);
        return;
      }
      conn.send(e.req, e.req.key, late ? -5 : 1000, (r) => {
        calls[i] = (calls[i] as number) + 1;
        results[i] = r;
      });
    });
    sock.emit('connect');
    (conn as unknown as { flush(): void }).flush();
    if (late) {
      st.late++;
      (conn as unknown as { onTimer(): void }).onTimer();
    }
    let stream = replyStream(p);
    const damaged = rng.chance(0.5);
    if (damaged) {
      st.damaged++;
      stream = damage(rng, stream);
    }
    st.replies += p.length;
    const bytes = Buffer.from(stream, 'latin1');
    try {
      let pos = 0;
      while (pos < bytes.length) {
        if (userBuffers) {
          const dst = reader.readBuffer();
          const n = Math.min(dst.length, 1 + rng.int(Math.max(1, bytes.length - pos)));
          bytes.copy(dst, 0, pos, pos + n);
          reader.onRead(n);
          pos += n;
          continue;
        }
        const n = 1 + rng.int(Math.max(1, bytes.length - pos));
        sock.emit('data', bytes.subarray(pos, pos + n));
        pos += n;
      }
      conn.close();
    } catch (err) {
      st.failures.push(`throw: ${(err as Error).stack ?? String(err)} on ${JSON.stringify(stream)}`);
      continue;
    }
    for (let i = 0; i < p.length; i++) {
      const batch = (p[i] as Planned).batch;
      if (batch !== undefined) {
        const answers = keyAnswers.get(i) ?? [];
        batch.keys.forEach((k, tag) => {
          const a = answers[tag] ?? [];
          const want = late ? 'timeout' : batch.blocks[tag] === '' ? 'notfound' : `found:${batch.blocks[tag] ?? ''}`;
          if (a.length !== 1) st.failures.push(`batch ${i} key ${tag} (${k}) answered ${a.length} times; stream ${JSON.stringify(stream)}`);
          else if (!damaged && a[0] !== want) st.failures.push(`batch ${i} key ${tag} (${k}) expected ${want.slice(0, 40)}, got ${String(a[0]).slice(0, 40)}; stream ${JSON.stringify(stream).slice(0, 400)}`);
        });
        continue;
      }
      if (calls[i] !== 1) st.failures.push(`request ${i} (${(p[i] as Planned).req.op}) got ${calls[i]} replies; stream ${JSON.stringify(stream)}`);
      else if (!damaged && !late && results[i]?.result !== (p[i] as Planned).expect) {
        st.failures.push(`request ${i} (${(p[i] as Planned).req.op}) expected ${(p[i] as Planned).expect}, got ${results[i]?.result}; stream ${JSON.stringify(stream)}`);
      } else if (late && results[i]?.result !== 'timeout') {
        st.failures.push(`late request ${i} expected timeout, got ${results[i]?.result}`);
      } else if (userBuffers && !damaged && !late && results[i]?.result === 'found') {
        const e = p[i] as Planned;
        const op = e.req.op;
        if ((op === 'get' || op === 'gets' || op === 'mg') && results[i]?.raw?.toString('latin1') !== e.reply) {
          st.failures.push(`request ${i} (${op}) hit bytes differ (${results[i]?.raw?.length} vs ${e.reply.length} bytes)`);
        }
      }
    }
  }
  return st;
}
