/**
 * The upstream reply parser on its own (no Connection): reply streams recorded from memcached 1.6.18 are
 * framed into the units written out by hand below, whether they come in one read, cut at every byte
 * position, or one byte at a time; every strict prefix of a unit is INCOMPLETE (and when the parser says
 * how many bytes it needs, that is exactly the unit's length); garbage lines, bad headers and oversize or
 * short values are reported as what they are.
 */
import { describe, expect, test } from 'vitest';
import {
  classifyLine,
  INCOMPLETE,
  MALFORMED,
  MAX_LINE_BYTES,
  parseGetUnit,
  parseLineUnit,
  parseStatsUnit,
  ReplyKind,
  ReplyUnit,
} from '../../../src/upstream/reply-parser.js';

type KindName = keyof typeof ReplyKind;
const NAME = new Map<number, KindName>(Object.entries(ReplyKind).map(([k, v]) => [v, k as KindName]));
const nameOf = (kind: number): KindName | undefined => NAME.get(kind);

/**
 * Which parse function the reply's request calls for: `get` (get/gets/gat/gats), `data` (mg/ma: a VA block
 * or a line), `line` (everything else), `stats`.
 */
type Mode = 'get' | 'data' | 'line' | 'stats';

/** A unit as the test expects it: its kind, its bytes, and for VALUE its key, for VALUE and VA its data. */
interface Unit {
  kind: KindName;
  text: string;
  key?: string;
  data?: string;
}

/** One reply as memcached 1.6.18 sent it for `cmd`, and the units it frames into. */
interface Recorded {
  cmd: string;
  modes: Mode[];
  units: Unit[];
}

const L = (kind: KindName, text: string): Unit => ({ kind, text });
const V = (text: string, key: string, data: string): Unit => ({ kind: 'VALUE', text, key, data });
const VA = (text: string, data: string): Unit => ({ kind: 'VA', text, data });
const STATS_SLABS =
  'STAT 1:chunk_size 96\r\nSTAT 1:chunks_per_page 10922\r\nSTAT 1:total_pages 1\r\nSTAT 1:total_chunks 10922\r\n' +
  'STAT 1:used_chunks 0\r\nSTAT 1:free_chunks 10922\r\nSTAT 1:free_chunks_end 0\r\nSTAT 1:get_hits 0\r\nSTAT 1:cmd_set 1\r\n' +
  'STAT 1:delete_hits 1\r\nSTAT 1:incr_hits 1\r\nSTAT 1:decr_hits 0\r\nSTAT 1:cas_hits 0\r\nSTAT 1:cas_badval 0\r\n' +
  'STAT 1:touch_hits 0\r\nSTAT active_slabs 1\r\nSTAT total_malloced 1048576\r\nEND\r\n';

const RECORDED: Recorded[] = [
  { cmd: 'set a 5 0 3 (abc)', modes: ['line'], units: [L('STORED', 'STORED\r\n')] },
  { cmd: 'add a 0 0 1 (a exists)', modes: ['line'], units: [L('NOT_STORED', 'NOT_STORED\r\n')] },
  { cmd: 'gets a', modes: ['get', 'get'], units: [V('VALUE a 5 3 1\r\nabc\r\n', 'a', 'abc'), L('END', 'END\r\n')] },
  { cmd: 'cas a 0 0 1 999', modes: ['line'], units: [L('EXISTS', 'EXISTS\r\n')] },
  { cmd: 'cas nokey 0 0 1 1', modes: ['line'], units: [L('NOT_FOUND', 'NOT_FOUND\r\n')] },
  { cmd: 'get a b', modes: ['get', 'get'], units: [V('VALUE a 5 3\r\nabc\r\n', 'a', 'abc'), L('END', 'END\r\n')] },
  { cmd: 'get b', modes: ['get'], units: [L('END', 'END\r\n')] },
  { cmd: 'delete a', modes: ['line'], units: [L('DELETED', 'DELETED\r\n')] },
  { cmd: 'incr n 5 (n was 10)', modes: ['line'], units: [L('NUMBER', '15\r\n')] },
  { cmd: 'touch n 10', modes: ['line'], units: [L('TOUCHED', 'TOUCHED\r\n')] },
  { cmd: 'gat 0 n', modes: ['get', 'get'], units: [V('VALUE n 0 2\r\n15\r\n', 'n', '15'), L('END', 'END\r\n')] },
  { cmd: 'version', modes: ['line'], units: [L('VERSION', 'VERSION 1.6.18\r\n')] },
  { cmd: 'verbosity 1', modes: ['line'], units: [L('OK', 'OK\r\n')] },
  { cmd: 'bogus', modes: ['line'], units: [L('ERROR', 'ERROR\r\n')] },
  { cmd: 'incr n x', modes: ['line'], units: [L('CLIENT_ERROR', 'CLIENT_ERROR invalid numeric delta argument\r\n')] },
  { cmd: 'set to a full -M server', modes: ['line'], units: [L('SERVER_ERROR', 'SERVER_ERROR out of memory storing object\r\n')] },
  { cmd: 'get a 251-byte key', modes: ['get'], units: [L('CLIENT_ERROR', 'CLIENT_ERROR bad command line format\r\n')] },
  { cmd: 'mg n v t f', modes: ['data'], units: [VA('VA 2 t-1 f0\r\n10\r\n', '10')] },
  { cmd: 'mg n k v O123', modes: ['data'], units: [VA('VA 4 kn O123\r\n12xy\r\n', '12xy')] },
  { cmd: 'mg nokey v', modes: ['data'], units: [L('EN', 'EN\r\n')] },
  { cmd: 'mg m B', modes: ['data'], units: [L('CLIENT_ERROR', 'CLIENT_ERROR invalid flag\r\n')] },
  { cmd: 'ma n v', modes: ['data'], units: [VA('VA 2\r\n11\r\n', '11')] },
  { cmd: 'ma n', modes: ['data'], units: [L('HD', 'HD\r\n')] },
  { cmd: 'ma nokey', modes: ['data'], units: [L('NF', 'NF\r\n')] },
  { cmd: 'ms n 2 MA', modes: ['line'], units: [L('HD', 'HD\r\n')] },
  { cmd: 'ms n 2 C1', modes: ['line'], units: [L('EX', 'EX\r\n')] },
  { cmd: 'ms n 2 ME', modes: ['line'], units: [L('NS', 'NS\r\n')] },
  { cmd: 'md m (gone)', modes: ['line'], units: [L('NF', 'NF\r\n')] },
  { cmd: 'me n', modes: ['line'], units: [L('ME', 'ME n exp=-1 la=0 cas=3 fetch=yes cls=1 size=62\r\n')] },
  { cmd: 'mn', modes: ['line'], units: [L('MN', 'MN\r\n')] },
  // Quiet mode applied upstream (`q` then `mn`): what comes before the MN, then the MN.
  { cmd: 'ma nokey q N0 v + mn (created)', modes: ['data', 'line'], units: [VA('VA 1\r\n0\r\n', '0'), L('MN', 'MN\r\n')] },
  { cmd: 'ma nx q N0 + mn (created)', modes: ['data', 'line'], units: [L('HD', 'HD\r\n'), L('MN', 'MN\r\n')] },
  { cmd: 'ma nokey q N0 v + mn (updated)', modes: ['data'], units: [L('MN', 'MN\r\n')] },
  {
    cmd: 'ma n q v + mn (not a number)',
    modes: ['data', 'line'],
    units: [L('CLIENT_ERROR', 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'), L('MN', 'MN\r\n')],
  },
  { cmd: 'stats slabs', modes: ['stats'], units: [L('STATS', STATS_SLABS)] },
  { cmd: 'stats cachedump 1 1', modes: ['stats'], units: [L('STATS', 'ITEM n [4 b; 0 s]\r\nEND\r\n')] },
  { cmd: 'stats cachedump 1 1 (empty)', modes: ['stats'], units: [L('STATS', 'END\r\n')] },
  { cmd: 'stats detail dump', modes: ['stats'], units: [L('STATS', 'PREFIX a get 1 hit 0 set 0 del 0\r\nEND\r\n')] },
  { cmd: 'stats reset', modes: ['stats'], units: [L('RESET', 'RESET\r\n')] },
  { cmd: 'stats detail on', modes: ['stats'], units: [L('OK', 'OK\r\n')] },
];

/** Streams memcached does not send, and how they frame. */
const SYNTHETIC: Recorded[] = [
  // Bare \n line ends, a value that looks like replies, \r and control bytes in keys, an empty value.
  {
    cmd: 'get lines with \\n only',
    modes: ['get', 'get', 'get', 'get'],
    units: [V('VALUE a 1 2\nok\r\n', 'a', 'ok'), V('VALUE e 0 5\r\nEND\r\n\r\n', 'e', 'END\r\n'), V('VALUE b 0 0 9\r\n\r\n', 'b', ''), L('END', 'END\n')],
  },
  {
    cmd: 'keys with \\r, tab and control bytes',
    modes: ['get', 'get', 'get'],
    units: [V('VALUE a\rz 0 1\r\nx\r\n', 'a\rz', 'x'), V('VALUE c\t\x01 4294967295 2\r\nyy\r\n', 'c\t\x01', 'yy'), L('END', 'END\r\n')],
  },
  { cmd: 'lines with more words', modes: ['line', 'line', 'line'], units: [L('STORED', 'STORED x\r\n'), L('OK', 'OK then\n'), L('HD', 'HD t-1 Oab\r\n')] },
  { cmd: 'a VA block with flags, bare \\n', modes: ['data'], units: [VA('VA 3 s3 t-1\nabc\r\n', 'abc')] },
  { cmd: 'an MN with a word after it', modes: ['line'], units: [L('MN', 'MN x\r\n')] },
];

/** Lines no request gets as a reply: framed as lines of kind UNKNOWN (the caller decides). */
const UNKNOWN_LINES: [Mode, string][] = [
  ['line', 'HELLO\r\n'],
  ['line', 'stored\r\n'],
  ['line', 'STOREDX\r\n'],
  ['line', 'HDX\r\n'],
  ['line', 'END x\r\n'],
  ['line', 'ENDX\r\n'],
  ['line', 'ERRORS\r\n'],
  ['line', '\r\n'],
  ['line', '\n'],
  ['line', '\0\0\0\r\n'],
  ['line', 'VALUE a 0 1\r\n'],
  ['line', 'VA 1\r\n'], // without allowData (the reply to anything but mg/ma), a VA line is no data header
  ['line', 'STAT pid 1\r\n'],
  ['line', 'H\r\n'],
  ['get', 'HELLO\r\n'],
  ['get', 'END x\r\n'],
  ['get', 'ENDX\r\n'],
  ['get', '\r\n'],
  ['stats', 'HELLO\r\n'],
];

/** Call the parse function for `mode`; the hint (get mode only) is optional. */
function parseAt(mode: Mode, buf: Buffer, pos: number, u: ReplyUnit, hint: Buffer | null = null): number {
  switch (mode) {
    case 'get':
      return parseGetUnit(buf, pos, u, hint, 0, hint === null ? 0 : hint.length);
    case 'data':
      return parseLineUnit(buf, pos, u, true);
    case 'line':
      return parseLineUnit(buf, pos, u, false);
    case 'stats':
      return parseStatsUnit(buf, pos, u);
  }
}

/** What a complete unit at `pos` ending at `end` is, in the test's terms. */
function unitAt(u: ReplyUnit, buf: Buffer, pos: number, end: number): Unit {
  const kind = nameOf(u.kind) ?? (`kind ${u.kind}` as KindName);
  const out: Unit = { kind, text: buf.toString('latin1', pos, end) };
  if (u.kind === ReplyKind.VALUE) out.key = buf.toString('latin1', u.keyStart, u.keyEnd);
  if (u.kind === ReplyKind.VALUE || u.kind === ReplyKind.VA) out.data = buf.toString('latin1', u.dataStart, u.dataStart + u.dataLength);
  return out;
}

interface ReadResult {
  units: Unit[];
  /** `fault: what` of the first MALFORMED answer, else null. */
  fault: string | null;
  /** INCOMPLETE answers whose `need` was not the length of the unit expected there. */
  badNeeds: string[];
}

/**
 * Read `chunks` the way a connection does: keep the unconsumed tail, append the next chunk, parse units
 * (unit i in `modes[i]`) until one is incomplete. `expected` (the units written out for the stream) is used
 * only to check INCOMPLETE's `need` against the length of the unit being read.
 */
function read(chunks: Buffer[], modes: Mode[], expected: Unit[] = []): ReadResult {
  const u = new ReplyUnit();
  const units: Unit[] = [];
  const badNeeds: string[] = [];
  let rest: Buffer = Buffer.alloc(0);
  for (const chunk of chunks) {
    const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let pos = 0;
    while (pos < buf.length && units.length < modes.length) {
      const i = units.length;
      const r = parseAt(modes[i] as Mode, buf, pos, u);
      if (r === MALFORMED) return { units, fault: `${u.fault}: ${u.what}`, badNeeds };
      if (r === INCOMPLETE) {
        const want = expected[i];
        if (u.need > 0 && want !== undefined && u.need !== Buffer.byteLength(want.text, 'latin1')) {
          badNeeds.push(`unit ${i}: need ${u.need}, unit is ${want.text.length} bytes`);
        }
        break;
      }
      expect(r).toBeGreaterThan(pos);
      units.push(unitAt(u, buf, pos, r));
      pos = r;
    }
    rest = buf.subarray(pos);
  }
  return { units, fault: null, badNeeds };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The stream split once at every position, and one byte at a time. */
function splits(stream: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let cut = 0; cut <= stream.length; cut++) out.push([stream.subarray(0, cut), stream.subarray(cut)]);
  out.push(Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1)));
  return out;
}

describe('reply units recorded from memcached 1.6.18', () => {
  for (const c of [...RECORDED, ...SYNTHETIC]) {
    test(`${c.cmd}: whole, cut at every byte, one byte at a time`, () => {
      const stream = bytes(c.units.map((x) => x.text).join(''));
      for (const chunks of splits(stream)) {
        const r = read(chunks, c.modes, c.units);
        expect({ chunks: chunks.length, ...r }).toEqual({ chunks: chunks.length, units: c.units, fault: null, badNeeds: [] });
      }
    });
  }

  test('every strict prefix of every unit is INCOMPLETE; when the parser says what it needs, it is the whole unit', () => {
    const u = new ReplyUnit();
    for (const c of [...RECORDED, ...SYNTHETIC]) {
      c.units.forEach((unit, i) => {
        const whole = bytes(unit.text);
        for (let n = 1; n < whole.length; n++) {
          const r = parseAt(c.modes[i] as Mode, whole.subarray(0, n), 0, u);
          expect({ cmd: c.cmd, n, r }).toEqual({ cmd: c.cmd, n, r: INCOMPLETE });
          if (u.need > 0) expect({ cmd: c.cmd, n, need: u.need }).toEqual({ cmd: c.cmd, n, need: whole.length });
        }
      });
    }
  });

  test('all recorded replies as one pipelined stream, cut at every byte and read one byte at a time', () => {
    const all = [...RECORDED, ...SYNTHETIC];
    const units = all.flatMap((c) => c.units);
    const modes = all.flatMap((c) => c.modes);
    const stream = bytes(units.map((x) => x.text).join(''));
    for (const chunks of splits(stream)) {
      const r = read(chunks, modes, units);
      if (r.fault !== null || r.badNeeds.length > 0 || r.units.length !== units.length) {
        expect({ chunks: chunks.map((b) => b.length), ...r }).toEqual({ chunks: chunks.map((b) => b.length), units, fault: null, badNeeds: [] });
      }
      expect(r.units).toEqual(units);
    }
  });

  test('every ReplyKind is covered by these tables', () => {
    const seen = new Set<string>([...RECORDED, ...SYNTHETIC].flatMap((c) => c.units.map((x) => x.kind)));
    seen.add('UNKNOWN');
    expect([...seen].sort()).toEqual(Object.keys(ReplyKind).sort());
  });
});

describe('garbage lines are framed as lines of kind UNKNOWN', () => {
  for (const [mode, line] of UNKNOWN_LINES) {
    test(`${mode}: ${JSON.stringify(line)}, split at every byte`, () => {
      const stream = bytes(line);
      for (const chunks of splits(stream)) {
        expect(read(chunks, [mode])).toEqual({ units: [{ kind: 'UNKNOWN', text: line }], fault: null, badNeeds: [] });
      }
    });
  }
});

describe('bad headers, and oversize or short values, are MALFORMED with what is wrong', () => {
  const GB = 1024 * 1024 * 1024;
  // [mode, stream, fault]
  const cases: [Mode, string, string][] = [
    ['get', 'VALUE\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUEX a 0 1\r\n', 'bad_value: VALUE line'],
    ['get', 'VA 2\r\nab\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE  0 1\r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a\n0 1\r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a x 1\r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a 0\r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a 0 \r\nz\r\n', 'bad_value: VALUE length'],
    ['get', 'VALUE a 0 1 \r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a 0 1 x\r\nz\r\n', 'bad_value: VALUE line'],
    ['get', 'VALUE a 0 1\rz\r\n', 'bad_value: VALUE line'],
    ['get', `VALUE a 0 ${GB + 1}\r\n`, 'bad_value: VALUE length'],
    ['get', 'VALUE a 0 99999999999999999999\r\n', 'bad_value: VALUE length'],
    // Short and long data blocks: the bytes where the \r\n should be are something else.
    ['get', 'VALUE a 0 5\r\nab\r\nEND\r\n', 'bad_value: value terminator'],
    ['get', 'VALUE a 0 1\r\nabc\r\nEND\r\n', 'bad_value: value terminator'],
    ['get', 'VALUE a 0 2\r\nab\n\nEND\r\n', 'bad_value: value terminator'],
    ['data', 'VA -1\r\n', 'bad_value: VA length'],
    ['data', 'VA \r\n', 'bad_value: VA length'],
    ['data', 'VA x t\r\n', 'bad_value: VA length'],
    ['data', 'VA 12345678901\r\n', 'bad_value: VA length'],
    ['data', `VA ${GB + 1} t-1\r\n`, 'bad_value: VA length'],
    ['data', 'VA 2147483647\r\n', 'bad_value: VA length'],
  ];
  for (const [mode, stream, fault] of cases) {
    test(`${mode}: ${JSON.stringify(stream)} → ${fault}, split at every byte`, () => {
      for (const chunks of splits(bytes(stream))) expect(read(chunks, [mode]).fault).toBe(fault);
    });
  }

  test('a value of exactly 1 GB is waited for (INCOMPLETE, need = header + 1 GB + 2), not refused', () => {
    const u = new ReplyUnit();
    const get = `VALUE a 0 ${GB}\r\n`;
    expect(parseGetUnit(bytes(`${get}xyz`), 0, u, null, 0, 0)).toBe(INCOMPLETE);
    expect(u.need).toBe(get.length + GB + 2);
    const va = `VA ${GB} t-1\r\n`;
    expect(parseLineUnit(bytes(va), 0, u, true)).toBe(INCOMPLETE);
    expect(u.need).toBe(va.length + GB + 2);
  });

  test('a short value followed by nothing yet is INCOMPLETE with the announced size', () => {
    const u = new ReplyUnit();
    expect(parseGetUnit(bytes('VALUE a 0 5\r\nab\r\n'), 0, u, null, 0, 0)).toBe(INCOMPLETE);
    expect(u.need).toBe('VALUE a 0 5\r\n'.length + 5 + 2);
    expect(parseLineUnit(bytes('VA 5\r\nab\r\n'), 0, u, true)).toBe(INCOMPLETE);
    expect(u.need).toBe('VA 5\r\n'.length + 5 + 2);
  });

  test(`a line still without its end after ${MAX_LINE_BYTES} bytes is line_too_long; up to that it is INCOMPLETE`, () => {
    const u = new ReplyUnit();
    const cases: [Mode, string][] = [
      ['line', 'HD '],
      ['data', 'VA 1 '],
      ['get', 'VALUE '],
      ['get', 'VALUE a 0 1 '],
      ['get', 'SERVER_ERROR '],
      ['stats', 'STAT x '],
    ];
    for (const [mode, start] of cases) {
      const at = (n: number): Buffer => bytes(start + '1'.repeat(n - start.length));
      expect({ start, r: parseAt(mode, at(MAX_LINE_BYTES), 0, u) }).toEqual({ start, r: INCOMPLETE });
      expect({ start, r: parseAt(mode, at(MAX_LINE_BYTES + 1), 0, u), fault: u.fault, what: u.what }).toEqual({ start, r: MALFORMED, fault: 'line_too_long', what: 'line too long' });
    }
    // In a stats reply the limit is per line: a long reply of short lines is fine, one long line is not.
    const many = `STAT a b\r\n${'STAT x 1\r\n'.repeat(10_000)}END\r\n`;
    expect(parseStatsUnit(bytes(many), 0, u)).toBe(many.length);
    const long = bytes(`STAT a b\r\nSTAT x ${'1'.repeat(MAX_LINE_BYTES)}`);
    expect([parseStatsUnit(long, 0, u), u.fault]).toEqual([MALFORMED, 'line_too_long']);
  });
});

describe('parseGetUnit: the hinted key', () => {
  const block = 'VALUE abc 0 1\r\nz\r\n';
  // [hint, matched in place, key found]
  const cases: [string | null, boolean][] = [
    ['abc', true],
    [null, false],
    ['ab', false],
    ['abcd', false],
    ['xyz', false],
    ['abd', false],
  ];
  for (const [hint, matched] of cases) {
    test(`hint ${JSON.stringify(hint)}: key abc, ${matched ? 'compared in place' : 'scanned'}, split at every byte`, () => {
      const stream = bytes(`${block}END\r\n`);
      const u = new ReplyUnit();
      const h = hint === null ? null : bytes(`  ${hint} `);
      for (let n = 1; n <= stream.length; n++) {
        const r = parseGetUnit(stream.subarray(0, n), 0, u, h, 2, hint?.length ?? 0);
        if (n < block.length) {
          expect({ n, r }).toEqual({ n, r: INCOMPLETE });
          continue;
        }
        expect({ n, r, key: stream.toString('latin1', u.keyStart, u.keyEnd), matched: u.keyMatched }).toEqual({ n, r: block.length, key: 'abc', matched });
      }
    });
  }
});

describe('classifyLine', () => {
  // [line text (no line end), kind]
  const cases: [string, KindName][] = [
    ['STORED', 'STORED'], ['STORED x', 'STORED'], ['STORED_', 'UNKNOWN'],
    ['NOT_STORED', 'NOT_STORED'], ['NOT_FOUND', 'NOT_FOUND'], ['NOT_FOUNDX', 'UNKNOWN'],
    ['EXISTS', 'EXISTS'], ['DELETED', 'DELETED'], ['TOUCHED', 'TOUCHED'], ['OK', 'OK'], ['OK x', 'OK'], ['OKAY', 'UNKNOWN'],
    ['END', 'END'], ['END ', 'UNKNOWN'], ['EN', 'EN'], ['EN x', 'EN'], ['EX', 'EX'], ['EXX', 'UNKNOWN'],
    ['ERROR', 'ERROR'], ['ERROR x', 'ERROR'], ['CLIENT_ERROR bad', 'CLIENT_ERROR'], ['SERVER_ERROR', 'SERVER_ERROR'],
    ['VERSION 1.6.18', 'VERSION'], ['VERSIONS', 'UNKNOWN'], ['RESET', 'RESET'],
    ['0', 'NUMBER'], ['18446744073709551615', 'NUMBER'], ['4x', 'NUMBER'],
    ['HD', 'HD'], ['NF', 'NF'], ['NS', 'NS'], ['MN', 'MN'], ['ME k exp=-1', 'ME'], ['MNO', 'UNKNOWN'],
    ['VA', 'UNKNOWN'], ['VALUE a 0 1', 'UNKNOWN'], ['STAT pid 1', 'UNKNOWN'], ['', 'UNKNOWN'], ['H', 'UNKNOWN'],
    ['hd', 'UNKNOWN'], [' HD', 'UNKNOWN'],
  ];
  test.each(cases)('%j is %s', (line, kind) => {
    // The bytes after the line do not matter: a line end, or more replies.
    for (const after of ['\r\n', '\n', '\r\n HD\r\n']) {
      const buf = bytes(line + after);
      expect(nameOf(classifyLine(buf, 0, line.length))).toBe(kind);
    }
    // Nor where in the buffer the line starts.
    const shifted = bytes(`xx${line}\r\n`);
    expect(nameOf(classifyLine(shifted, 2, 2 + line.length))).toBe(kind);
  });
});

describe('quiet mode upstream: the MN terminator', () => {
  test('MN alone is the two-byte line a quiet request waits for; with more words it is an MN reply line', () => {
    const u = new ReplyUnit();
    for (const s of ['MN\r\n', 'MN\n']) {
      expect(parseLineUnit(bytes(s), 0, u, true)).toBe(s.length);
      expect([nameOf(u.kind), u.lineEnd]).toEqual(['MN', 2]);
    }
    expect(parseLineUnit(bytes('MN x\r\n'), 0, u, false)).toBe(6);
    expect([nameOf(u.kind), u.lineEnd]).toEqual(['MN', 4]);
  });

  test('a quiet reply and its MN in one read: the MN starts where the reply ends', () => {
    const u = new ReplyUnit();
    const s = bytes('VA 2 t-1\r\nMN\r\nMN\r\n');
    // The data block is `MN`: the MN after it is the terminator, not the block.
    const end = parseLineUnit(s, 0, u, true);
    expect([nameOf(u.kind), s.toString('latin1', u.dataStart, u.dataStart + u.dataLength), end]).toEqual(['VA', 'MN', 14]);
    expect(parseLineUnit(s, end, u, false)).toBe(s.length);
    expect([nameOf(u.kind), u.lineEnd - end]).toEqual(['MN', 2]);
  });
});
