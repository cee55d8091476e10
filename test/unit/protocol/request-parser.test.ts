import { describe, expect, it } from 'vitest';
import { RequestParser, type LocalOp, type RequestSink } from '../../../src/protocol/request-parser.js';
import type { Request } from '../../../src/protocol/types.js';

/** Records parser events as readable strings. */
class Recorder implements RequestSink {
  events: string[] = [];
  request(req: Request): void {
    this.events.push(describeReq(req));
  }
  multiGet(reqs: Request[]): void {
    this.events.push(`MULTI ${reqs[0]?.op} ${reqs.map((r) => r.key.toString('latin1')).join(',')} head=${JSON.stringify(reqs[0]?.head.toString('latin1'))}`);
  }
  local(op: LocalOp, args: Buffer, noreply: boolean): void {
    this.events.push(`LOCAL ${op} ${JSON.stringify(args.toString('latin1'))}${noreply ? ' noreply' : ''}`);
  }
  replyLine(line: string): void {
    this.events.push(`LINE ${line}`);
  }
  fatal(line: string | null): void {
    this.events.push(`FATAL ${line}`);
  }
}

function describeReq(r: Request): string {
  const v = r.value === null ? '' : ` value=${JSON.stringify(r.value.toString('latin1'))}`;
  const wk = r.wireKey === null ? '' : ` wire=${r.wireKey.toString('latin1')}`;
  return `REQ ${r.op} key=${JSON.stringify(r.key.toString('latin1'))} head=${JSON.stringify(r.head.toString('latin1'))} tail=${JSON.stringify(r.tail.toString('latin1'))}${v}${r.quiet ? ' quiet' : ''}${r.quietUpstream ? ' upstream' : ''} exptime=${r.exptime}${wk}`;
}

function parseWhole(input: Buffer): string[] {
  const rec = new Recorder();
  new RequestParser(rec).feed(input);
  return rec.events;
}

function parseChunks(chunks: Buffer[]): string[] {
  const rec = new Recorder();
  const p = new RequestParser(rec);
  for (const c of chunks) p.feed(c);
  return rec.events;
}

interface Case {
  name: string;
  input: string;
  expect: string[];
}

const K251 = 'k'.repeat(251);
const K250 = 'k'.repeat(250);

const CASES: Case[] = [
  { name: 'get one key', input: 'get foo\r\n', expect: ['REQ get key="foo" head="get " tail="" exptime=0'] },
  { name: 'get with \\n only', input: 'get foo\n', expect: ['REQ get key="foo" head="get " tail="" exptime=0'] },
  { name: 'get trailing space (Cache::Memcached)', input: 'get foo \r\n', expect: ['REQ get key="foo" head="get " tail="" exptime=0'] },
  { name: 'leading and double spaces', input: ' get  a  b\r\n', expect: ['MULTI get a,b head="get "'] },
  { name: 'gets multi', input: 'gets a b c\r\n', expect: ['MULTI gets a,b,c head="gets "'] },
  { name: 'get without key', input: 'get\r\n', expect: ['LINE ERROR'] },
  { name: 'get space only', input: 'get \r\n', expect: ['LINE ERROR'] },
  { name: 'get 250-byte key ok', input: `get ${K250}\r\n`, expect: [`REQ get key="${K250}" head="get " tail="" exptime=0`] },
  { name: 'get 251-byte key', input: `get ${K251}\r\n`, expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'get second key too long', input: `get b ${K251}\r\n`, expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'gat single', input: 'gat 100 k\r\n', expect: ['REQ gat key="k" head="gat 100 " tail="" exptime=100'] },
  { name: 'gats multi', input: 'gats 5 a b\r\n', expect: ['MULTI gats a,b head="gats 5 "'] },
  { name: 'gat no keys', input: 'gat 10\r\n', expect: ['LINE END'] },
  { name: 'gat bad exptime', input: 'gat x a\r\n', expect: ['LINE CLIENT_ERROR invalid exptime argument'] },
  { name: 'set', input: 'set k 1 2 5\r\nhello\r\n', expect: ['REQ set key="k" head="set " tail=" 1 2 5" value="hello" exptime=2'] },
  { name: 'set noreply', input: 'set k 0 0 1 noreply\r\nx\r\n', expect: ['REQ set key="k" head="set " tail=" 0 0 1" value="x" quiet exptime=0'] },
  { name: 'set 6th token not noreply', input: 'set k 0 0 1 foo\r\nx\r\n', expect: ['REQ set key="k" head="set " tail=" 0 0 1 foo" value="x" exptime=0'] },
  { name: 'set value with CRLF and NUL inside', input: 'set k 0 0 4\r\n\r\n\0z\r\n', expect: ['REQ set key="k" head="set " tail=" 0 0 4" value="\\r\\n\\u0000z" exptime=0'] },
  { name: 'set empty value', input: 'set k 0 0 0\r\n\r\n', expect: ['REQ set key="k" head="set " tail=" 0 0 0" value="" exptime=0'] },
  { name: 'set too few tokens', input: 'set a 0 0\r\n', expect: ['LINE ERROR'] },
  { name: 'set too many tokens then data as command', input: 'set a 0 0 1 noreply extra\r\nx\r\n', expect: ['LINE ERROR', 'LINE ERROR'] },
  { name: 'set negative length', input: 'set a 0 0 -1\r\n', expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'set bad flags does not swallow data', input: 'set a abc 0 1\r\nx\r\n', expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'set bad flags noreply is silent', input: 'set a abc 0 1 noreply\r\nx\r\n', expect: ['LINE ERROR'] },
  { name: 'set key too long', input: `set ${K251} 0 0 1\r\nx\r\n`, expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'set bad data chunk', input: 'set a 0 0 1\r\nxy\r\nmn\r\n', expect: ['LINE CLIENT_ERROR bad data chunk', 'LINE ERROR', 'LOCAL mn ""'] },
  { name: 'set plus sign numbers', input: 'set e +5 +0 +1\r\ne\r\n', expect: ['REQ set key="e" head="set " tail=" +5 +0 +1" value="e" exptime=0'] },
  { name: 'set hex flags rejected', input: 'set e 0x5 0 1\r\ne\r\n', expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'set huge length rejected', input: 'set e 5 0 2147483648\r\n', expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'cas', input: 'cas k 0 0 1 99\r\nx\r\n', expect: ['REQ cas key="k" head="cas " tail=" 0 0 1 99" value="x" exptime=0'] },
  { name: 'cas missing unique', input: 'cas a 0 0 1\r\nx\r\n', expect: ['LINE ERROR', 'LINE ERROR'] },
  { name: 'append/prepend/add/replace', input: 'append a 0 0 1\r\nC\r\nprepend a 0 0 1\r\nA\r\nadd b 0 0 1\r\nB\r\nreplace b 0 0 1\r\nR\r\n', expect: [
    'REQ append key="a" head="append " tail=" 0 0 1" value="C" exptime=0',
    'REQ prepend key="a" head="prepend " tail=" 0 0 1" value="A" exptime=0',
    'REQ add key="b" head="add " tail=" 0 0 1" value="B" exptime=0',
    'REQ replace key="b" head="replace " tail=" 0 0 1" value="R" exptime=0',
  ] },
  { name: 'delete', input: 'delete k\r\n', expect: ['REQ delete key="k" head="delete " tail="" exptime=0'] },
  { name: 'delete 0 noreply', input: 'delete k 0 noreply\r\n', expect: ['REQ delete key="k" head="delete " tail="" quiet exptime=0'] },
  { name: 'delete with time', input: 'delete a 5\r\n', expect: ['LINE CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]'] },
  { name: 'delete too many tokens', input: 'delete a b c d\r\n', expect: ['LINE ERROR'] },
  { name: 'incr', input: 'incr n 5\r\n', expect: ['REQ incr key="n" head="incr " tail=" 5" exptime=0'] },
  { name: 'decr noreply', input: 'decr n 1 noreply\r\n', expect: ['REQ decr key="n" head="decr " tail=" 1" quiet exptime=0'] },
  { name: 'incr bad delta', input: 'incr a -1\r\n', expect: ['LINE CLIENT_ERROR invalid numeric delta argument'] },
  { name: 'incr delta over 2^64', input: 'incr b 18446744073709551616\r\n', expect: ['LINE CLIENT_ERROR invalid numeric delta argument'] },
  { name: 'incr missing delta', input: 'incr a\r\n', expect: ['LINE ERROR'] },
  { name: 'touch', input: 'touch k 10\r\n', expect: ['REQ touch key="k" head="touch " tail=" 10" exptime=10'] },
  { name: 'touch bad exptime', input: 'touch e abc\r\n', expect: ['LINE CLIENT_ERROR invalid exptime argument'] },
  { name: 'touch missing exptime', input: 'touch a\r\n', expect: ['LINE ERROR'] },
  { name: 'version/verbosity/mn', input: 'version\r\nverbosity 1\r\nverbosity 1 noreply\r\nmn\r\n', expect: ['LOCAL version ""', 'LOCAL verbosity "1"', 'LOCAL verbosity "1 noreply" noreply', 'LOCAL mn ""'] },
  { name: 'verbosity without level', input: 'verbosity\r\n', expect: ['LINE ERROR'] },
  { name: 'verbosity bad level', input: 'verbosity a\r\n', expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'stats with group', input: 'stats servers\r\n', expect: ['LOCAL stats "servers"'] },
  { name: 'flush_all forms', input: 'flush_all\r\nflush_all 0\r\nflush_all noreply\r\nflush_all abc\r\n', expect: ['LOCAL flush_all ""', 'LOCAL flush_all "0"', 'LOCAL flush_all "noreply" noreply', 'LINE CLIENT_ERROR invalid exptime argument'] },
  { name: 'quit stops parsing', input: 'quit\r\nget a\r\n', expect: ['LOCAL quit ""'] },
  { name: 'unknown and upper-case commands', input: 'foo\r\nGET a\r\n\r\n', expect: ['LINE ERROR', 'LINE ERROR', 'LINE ERROR'] },
  { name: 'tab is not a separator', input: 'get\tb\r\n', expect: ['LINE ERROR'] },
  { name: 'mg with flags', input: 'mg k v f t O123\r\n', expect: ['REQ mg key="k" head="mg " tail=" v f t O123" exptime=0'] },
  { name: 'mg quiet strips q', input: 'mg k v q k\r\n', expect: ['REQ mg key="k" head="mg " tail=" v k" quiet exptime=0'] },
  { name: 'mg no key', input: 'mg\r\n', expect: ['LINE ERROR'] },
  { name: 'me no key', input: 'me\r\n', expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'mg key too long', input: `mg ${K251} v\r\n`, expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'ms', input: 'ms k 2 T10 F5\r\nab\r\n', expect: ['REQ ms key="k" head="ms " tail=" 2 T10 F5" value="ab" exptime=10'] },
  { name: 'ms quiet', input: 'ms k 1 q\r\nx\r\n', expect: ['REQ ms key="k" head="ms " tail=" 1" value="x" quiet exptime=0'] },
  { name: 'ms without datalen', input: 'ms a\r\n', expect: ['LINE CLIENT_ERROR bad command line format'] },
  { name: 'ms bad datalen does not swallow', input: 'ms g S2\r\nab\r\n', expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'ms unknown flag is answered here, its data swallowed', input: 'ms a 1 Z\r\nx\r\n', expect: ['LINE CLIENT_ERROR invalid flag'] },
  // Meta grammar (memcached 1.6.18's replies, measured against the binary; see the table on RequestParser.meta).
  { name: 'mg unknown flag', input: 'mg foo B\r\nmn\r\n', expect: ['LINE CLIENT_ERROR invalid flag', 'LOCAL mn ""'] },
  { name: 'a token\'s first byte names its flag: qB is q', input: 'mg foo O123 qB \r\n', expect: ['REQ mg key="foo" head="mg " tail=" O123 " quiet exptime=0'] },
  { name: 'mg duplicate flag', input: 'mg k v v\r\n', expect: ['LINE CLIENT_ERROR duplicate flag'] },
  { name: 'mg duplicate by first byte', input: 'mg k k kx\r\n', expect: ['LINE CLIENT_ERROR duplicate flag'] },
  { name: 'quiet mode still shows errors', input: 'mg k q B\r\n', expect: ['LINE CLIENT_ERROR invalid flag'] },
  { name: 'md reports every flag error as invalid or duplicate', input: 'md k q B\r\nmd k Tx\r\nmd k v v\r\n', expect: [
    'LINE CLIENT_ERROR invalid or duplicate flag', 'LINE CLIENT_ERROR invalid or duplicate flag', 'LINE CLIENT_ERROR invalid or duplicate flag',
  ] },
  { name: 'ma bad C token', input: 'ma k Cx\r\n', expect: ['LINE CLIENT_ERROR invalid or duplicate flag'] },
  { name: 'numeric tokens', input: 'mg k Tabc\r\nmg k N\r\nmg k C-1\r\nmg k J1x\r\nmg k D\r\n', expect: [
    'LINE CLIENT_ERROR bad token in command line format', 'LINE CLIENT_ERROR bad token in command line format',
    'LINE CLIENT_ERROR bad token in command line format', 'LINE CLIENT_ERROR invalid numeric initial value',
    'LINE CLIENT_ERROR invalid numeric delta value',
  ] },
  { name: 'T reads like strtol: leading and trailing vertical tab', input: 'mg k T\v5 t\r\nmg k T5\v t\r\n', expect: [
    'REQ mg key="k" head="mg " tail=" T\\u000b5 t" exptime=5', 'REQ mg key="k" head="mg " tail=" T5\\u000b t" exptime=5',
  ] },
  { name: 'T is truncated to 32 bits, out of 64-bit range rejected', input: 'mg k T4294967301\r\nmg k T-9223372036854775809\r\n', expect: [
    'REQ mg key="k" head="mg " tail=" T4294967301" exptime=5', 'LINE CLIENT_ERROR bad token in command line format',
  ] },
  { name: 'F has no message of its own', input: 'mg k F\r\nmg k Tx F-1\r\n', expect: ['LINE CLIENT_ERROR bad command line format', 'LINE CLIENT_ERROR bad token in command line format'] },
  { name: 'M must be two bytes', input: 'mg k M\r\nms k 1 MSS\r\nx\r\n', expect: ['LINE CLIENT_ERROR incorrect length for M token', 'LINE CLIENT_ERROR incorrect length for M token'] },
  { name: 'ms and ma modes', input: 'ms k 2 MZ\r\nab\r\nma k MZ\r\nma k M-\r\n', expect: [
    'LINE CLIENT_ERROR invalid mode for ms M token', 'LINE CLIENT_ERROR invalid mode for ma M token', 'REQ ma key="k" head="ma " tail=" M-" exptime=0',
  ] },
  { name: 'an ms flag error swallows exactly datalen + 2 bytes', input: 'ms k 2 B\r\nabcdef\r\n', expect: ['LINE CLIENT_ERROR invalid flag', 'LINE ERROR'] },
  { name: 'opaque of 32 bytes is fine, 33 too long (md, ms answered here; mg forwarded)', input:
      `md k O${'1'.repeat(31)}\r\nmd k O${'1'.repeat(32)}\r\nms k 1 O${'1'.repeat(32)}\r\nx\r\nmg k O${'1'.repeat(32)}\r\n`, expect: [
    `REQ md key="k" head="md " tail=" O${'1'.repeat(31)}" exptime=0`, 'LINE CLIENT_ERROR opaque token too long', 'LINE CLIENT_ERROR opaque token too long',
    `REQ mg key="k" head="mg " tail=" O${'1'.repeat(32)}" exptime=0`,
  ] },
  { name: 'base64 key that does not decode', input: 'mg hit b\r\nms hit 2 b\r\nab\r\nmd === b\r\n', expect: [
    'LINE CLIENT_ERROR error decoding key', 'LINE CLIENT_ERROR error decoding key', 'LINE CLIENT_ERROR invalid or duplicate flag',
  ] },
  { name: 'base64 decoding skips foreign bytes and stops at padding', input: 'mg Ym!Fy b\r\nmg YQ==YmFy b\r\n', expect: [
    'REQ mg key="bar" head="mg " tail=" b" exptime=0 wire=Ym!Fy', 'REQ mg key="a" head="mg " tail=" b" exptime=0 wire=YQ==YmFy',
  ] },
  { name: 'ms key too long: data not swallowed', input: `ms ${K251} 2\r\nab\r\n`, expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'ms datalen is truncated to 32 bits', input: 'ms k 4294967298\r\nab\r\nms k 2147483648\r\nab\r\n', expect: [
    'REQ ms key="k" head="ms " tail=" 4294967298" value="ab" exptime=0', 'LINE CLIENT_ERROR bad command line format', 'LINE ERROR',
  ] },
  { name: '20 tokens or more', input: `mg k ${'c f h k l O P L s t u v I T1 F1 C1 N1'} R1\r\nmd k ${'c f h k l O P L s t u v I T1 F1 C1 N1'} R1\r\nmg k ${'c f h k l O P L s t u v I T1 F1 C1 N1'}\r\n`, expect: [
    'LINE CLIENT_ERROR options flags are too long', 'LINE CLIENT_ERROR options flags too long',
    'REQ mg key="k" head="mg " tail=" c f h k l O P L s t u v I T1 F1 C1 N1" exptime=1',
  ] },
  { name: 'me reads no flags but b', input: 'me k q\r\nme YmFy b\r\nme !!!! b\r\n', expect: [
    'REQ me key="k" head="me " tail=" q" exptime=0', 'REQ me key="bar" head="me " tail=" b" exptime=0 wire=YmFy', 'LINE CLIENT_ERROR bad command line format',
  ] },
  { name: 'a NUL byte ends the line (memcached reads it as a C string)', input: 'mg hit\u0000 zz\r\nget a\u0000b c\r\n', expect: [
    'REQ mg key="hit" head="mg " tail="" exptime=0', 'REQ get key="a" head="get " tail="" exptime=0',
  ] },
  { name: 'quiet ma with N: quiet mode is left to the upstream', input: 'ma k q N0 t\r\nma k q t\r\nmg k q N0\r\n', expect: [
    'REQ ma key="k" head="ma " tail=" N0 t" quiet upstream exptime=0', 'REQ ma key="k" head="ma " tail=" t" quiet exptime=0',
    'REQ mg key="k" head="mg " tail=" N0" quiet exptime=0',
  ] },
  // Classic edge cases.
  { name: 'bget is a get', input: 'bget a\r\nbget a b\r\n', expect: ['REQ get key="a" head="get " tail="" exptime=0', 'MULTI get a,b head="get "'] },
  { name: 'flags beyond 64 bits: format error, the data line is a command', input: 'set k 18446744073709551616 0 1\r\nx\r\n', expect: ['LINE CLIENT_ERROR bad command line format', 'LINE ERROR'] },
  { name: 'flags and datalen are truncated to 32 bits', input: 'set k 4294967296 0 1\r\nx\r\nset k 0 0 4294967298\r\nab\r\n', expect: [
    'REQ set key="k" head="set " tail=" 4294967296 0 1" value="x" exptime=0', 'REQ set key="k" head="set " tail=" 0 0 4294967298" value="ab" exptime=0',
  ] },
  { name: 'noreply hides a bad data chunk; the rest of the chunk is a command', input: 'set k 0 0 3 noreply\r\nabcde\r\n', expect: ['LINE ERROR'] },
  { name: 'meta quiet still shows a bad data chunk', input: 'ms k 2 T1 q\r\nabc\r\n', expect: ['LINE CLIENT_ERROR bad data chunk', 'LINE ERROR'] },
  { name: 'md ma me', input: 'md k q\r\nma k N0 J1\r\nme k\r\n', expect: [
    'REQ md key="k" head="md " tail="" quiet exptime=0',
    'REQ ma key="k" head="ma " tail=" N0 J1" exptime=0',
    'REQ me key="k" head="me " tail="" exptime=0',
  ] },
  { name: 'mg base64 key routes on decoded bytes', input: 'mg YmFy b v\r\n', expect: ['REQ mg key="bar" head="mg " tail=" b v" exptime=0 wire=YmFy'] },
  { name: 'pipeline of mixed commands', input: 'set a 0 0 1\r\n1\r\nget a\r\ndelete a\r\nmn\r\n', expect: [
    'REQ set key="a" head="set " tail=" 0 0 1" value="1" exptime=0',
    'REQ get key="a" head="get " tail="" exptime=0',
    'REQ delete key="a" head="delete " tail="" exptime=0',
    'LOCAL mn ""',
  ] },
];

describe('RequestParser', () => {
  for (const c of CASES) {
    it(`${c.name}: whole`, () => {
      expect(parseWhole(Buffer.from(c.input, 'latin1'))).toEqual(c.expect);
    });
    it(`${c.name}: split at every byte boundary`, () => {
      const input = Buffer.from(c.input, 'latin1');
      for (let i = 1; i < input.length; i++) {
        const got = parseChunks([Buffer.from(input.subarray(0, i)), Buffer.from(input.subarray(i))]);
        expect(got, `split at ${i}`).toEqual(c.expect);
      }
      // and one byte at a time
      const bytes: Buffer[] = [];
      for (let i = 0; i < input.length; i++) bytes.push(Buffer.from(input.subarray(i, i + 1)));
      expect(parseChunks(bytes), 'byte by byte').toEqual(c.expect);
    });
  }

  it('a 1 MB value split into many chunks arrives intact', () => {
    const value = Buffer.alloc(1 << 20);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
    const input = Buffer.concat([Buffer.from(`set big 0 0 ${value.length}\r\n`), value, Buffer.from('\r\nget big\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 65536) chunks.push(input.subarray(i, i + 65536));
    const rec = new Recorder();
    const reqs: Request[] = [];
    const p = new RequestParser({ ...rec, request: (r) => reqs.push(r), multiGet: () => {}, local: () => {}, replyLine: (l) => rec.events.push(l), fatal: () => {} });
    for (const c of chunks) p.feed(c);
    expect(reqs.length).toBe(2);
    expect(reqs[0]?.value?.equals(value)).toBe(true);
    expect(reqs[1]?.op).toBe('get');
    expect(rec.events).toEqual([]);
  });

  it('a non-get line longer than 16 KB closes the connection without a reply', () => {
    const rec = new Recorder();
    new RequestParser(rec).feed(Buffer.from('x'.repeat(20_000)));
    expect(rec.events).toEqual(['FATAL null']);
    const rec2 = new Recorder();
    new RequestParser(rec2).feed(Buffer.from(`${'x'.repeat(20_000)}\r\n`));
    expect(rec2.events).toEqual(['FATAL null']);
  });

  it('a 3000-byte unknown command with its newline answers ERROR', () => {
    expect(parseWhole(Buffer.from(`${'x'.repeat(3000)}\r\n`))).toEqual(['LINE ERROR']);
  });

  it('a long multi-get line is accepted across chunks', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `key:${i}`);
    const input = Buffer.from(`get ${keys.join(' ')}\r\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 1000) chunks.push(input.subarray(i, i + 1000));
    const got = parseChunks(chunks);
    expect(got).toEqual([`MULTI get ${keys.join(',')} head="get "`]);
  });

  it('keeps parsing after errors (connection stays usable)', () => {
    expect(parseWhole(Buffer.from('bogus\r\nincr a x\r\nget k\r\n'))).toEqual([
      'LINE ERROR',
      'LINE CLIENT_ERROR invalid numeric delta argument',
      'REQ get key="k" head="get " tail="" exptime=0',
    ]);
  });
});

describe('RequestParser pause/resume (session backpressure)', () => {
  it('stops between commands in the middle of a chunk and continues on resume', () => {
    const seen: string[] = [];
    let parser: RequestParser | null = null;
    const sink: RequestSink = {
      request: (r) => {
        seen.push(r.key.toString());
        if (seen.length === 1) parser?.pause();
      },
      multiGet: () => {},
      local: () => {},
      replyLine: () => {},
      fatal: () => {},
    };
    parser = new RequestParser(sink);
    parser.feed(Buffer.from('get a\r\nget b\r\nset c 0 0 1\r\nx\r\nget d'));
    expect(seen).toEqual(['a']);
    expect(parser.isPaused).toBe(true);
    parser.feed(Buffer.from('\r\n'));
    expect(seen).toEqual(['a']);
    parser.resume();
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });
});
