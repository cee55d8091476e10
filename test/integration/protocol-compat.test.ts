/**
 * Byte-faithfulness: every request in the corpus below is sent to a memcached directly and to a "candidate", and the
 * two reply streams must be byte-identical, cas unique values aside.
 *
 * - `memcached vs memcached` (control): the candidate is a second, direct memcached. It proves the corpus, the
 *   runner and the cas normalization are right, and it needs no mcrelay, so it must always pass.
 * - `mcrelay vs memcached`: the candidate is mcrelay with a one-server pool in front of its own memcached
 *   (`{"pools":{"A":{"servers":[ADDR]}},"route":"PoolRoute|A"}`). A failure names the case and shows both replies
 *   escaped (`\r`, `\n`, `\x00`, long runs as `[v*100000]`), so the diff points at the differing byte.
 *
 * Each case runs on a fresh connection with its own key prefix (`c<NNN>_`), so cases are independent of each other;
 * both servers see the same bytes in the same order. Unless a case says otherwise, the runner appends `mn\r\n` and
 * reads up to the `MN\r\n` (see raw-client.ts), which also captures the silence of noreply and quiet commands.
 *
 * Set MCRELAY_COMPAT_DUMP=1 to print memcached's reply to every case (escaped): a quick reference for the parser.
 *
 * Where mcrelay must answer differently (version, stats, flush_all without --enable-flush-cmd) the case says why in
 * `differs` and checks each side's reply precisely instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onePoolConfig, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, escapeBytes, toBuffer, type Bytes, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

type Kind = 'memcached' | 'mcrelay';

/** A step is literal bytes, or bytes computed from the previous step's reply (e.g. to reuse a cas value). */
type Step = Bytes | ((previousReply: Buffer) => Bytes);

interface CompatCase {
  readonly name: string;
  /** Build the request(s) from the case's key function; several steps run one after another on one connection. */
  readonly steps: (k: (suffix: string) => string) => Step[];
  /**
   * How the reply ends: `mn` (default: append `mn\r\n`, read to `MN\r\n`), `close` (the server closes; compare the
   * bytes before the close), `idle` (read until 300 ms of silence; for requests that leave the server mid-value).
   */
  readonly end?: 'mn' | 'close' | 'idle';
  /** Deliver each step byte by byte, or as two writes at every split point (each split is its own round trip). */
  readonly split?: 'every-byte' | 'two-parts';
  /** The reply legitimately differs through mcrelay: why, and the precise check applied to each side. */
  readonly differs?: { readonly why: string; check(reply: Buffer, kind: Kind): void };
  /** Run through a second mcrelay started with `--enable-flush-cmd`. */
  readonly flushEnabled?: boolean;
}

const MB = 1024 * 1024;
/** Largest value memcached 1.6.18 stores with the default `-I 1m` for a key of `keyLength` bytes (measured). */
const maxValueFor = (keyLength: number): number => MB - 59 - keyLength;

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const lines = (...ls: string[]): string => ls.map((l) => `${l}\r\n`).join('');
/** The cas unique from a `VALUE k f n CAS` line or a meta `c<cas>` flag in a reply. */
function casFrom(reply: Buffer): string {
  const text = reply.toString('latin1');
  const m = /^VALUE \S+ \d+ \d+ (\d+)\r$/m.exec(text) ?? /^(?:VA \d+|HD)(?: \S+)* c(\d+)/m.exec(text);
  if (!m?.[1]) throw new Error(`no cas value in reply "${escapeBytes(reply)}"`);
  return m[1];
}

const cases: CompatCase[] = [];
const add = (c: CompatCase): void => {
  cases.push(c);
};
const simple = (name: string, build: (k: (s: string) => string) => string | Buffer, extra: Partial<CompatCase> = {}): void =>
  add({ name, steps: (k) => [build(k)], ...extra });

// ---- classic retrieval and storage -------------------------------------------------------------------------
simple('get miss', (k) => lines(`get ${k('a')}`));
simple('set then get, gets', (k) => lines(`set ${k('a')} 7 0 3`, 'abc', `get ${k('a')}`, `gets ${k('a')}`));
simple('set flags 0 and 4294967295, get', (k) => lines(`set ${k('a')} 0 0 1`, 'x', `set ${k('b')} 4294967295 0 1`, 'y', `get ${k('a')} ${k('b')}`));
simple('flags 4294967296 (accepted by 1.6.18)', (k) => lines(`set ${k('a')} 4294967296 0 1`, 'x', `get ${k('a')}`));
simple('add: miss stores, hit NOT_STORED', (k) => lines(`add ${k('a')} 0 0 1`, '1', `add ${k('a')} 0 0 1`, '2', `get ${k('a')}`));
simple('replace: miss NOT_STORED, hit stores', (k) =>
  lines(`replace ${k('a')} 0 0 1`, '1', `set ${k('a')} 0 0 1`, '2', `replace ${k('a')} 3 0 1`, '3', `get ${k('a')}`));
simple('append and prepend (flags kept)', (k) =>
  lines(`append ${k('a')} 0 0 1`, 'x', `set ${k('a')} 9 0 2`, 'mm', `append ${k('a')} 0 0 2`, 'zz', `prepend ${k('a')} 5 0 2`, 'aa', `prepend ${k('b')} 0 0 1`, 'x', `get ${k('a')}`));
add({
  name: 'cas: wrong, right, stale, missing',
  steps: (k) => [
    lines(`set ${k('a')} 0 0 1`, '1', `gets ${k('a')}`),
    (prev) => lines(`cas ${k('a')} 0 0 1 ${BigInt(casFrom(prev)) + 1000n}`, '2', `cas ${k('a')} 0 0 1 ${casFrom(prev)}`, '3', `cas ${k('a')} 0 0 1 ${casFrom(prev)}`, '4', `cas ${k('zz')} 0 0 1 1`, '5', `get ${k('a')}`),
  ],
});
simple('delete hit, miss, legacy "delete k 0", bad "delete k 5"', (k) =>
  lines(`set ${k('a')} 0 0 1`, 'x', `delete ${k('a')}`, `delete ${k('a')}`, `set ${k('b')} 0 0 1`, 'x', `delete ${k('b')} 0`, `delete ${k('b')} 5`));
simple('incr/decr: miss, numeric, wrap at 2^64, decr floors at 0, non-numeric value', (k) =>
  lines(`incr ${k('a')} 1`, `set ${k('a')} 0 0 2`, '10', `incr ${k('a')} 5`, `incr ${k('a')} 18446744073709551615`, `decr ${k('a')} 100`,
    `set ${k('b')} 0 0 20`, '18446744073709551615', `incr ${k('b')} 1`, `set ${k('c')} 0 0 3`, 'abc', `incr ${k('c')} 1`, `set ${k('d')} 0 0 3`, '007', `incr ${k('d')} 1`, `get ${k('d')}`));
simple('incr/decr bad deltas', (k) =>
  lines(`set ${k('a')} 0 0 1`, '1', `incr ${k('a')} abc`, `incr ${k('a')} -1`, `decr ${k('a')} 99999999999999999999`, `incr ${k('a')}`));
simple('touch hit and miss, gat and gats', (k) =>
  lines(`set ${k('a')} 3 0 2`, 'hi', `touch ${k('a')} 100`, `touch ${k('zz')} 100`, `gat 200 ${k('a')} ${k('zz')}`, `gats 0 ${k('a')}`, `gat 0`, `gat x ${k('a')}`));
simple('negative exptime expires at once', (k) => lines(`set ${k('a')} 0 -1 1`, 'x', `get ${k('a')}`));
simple('verbosity: forms memccapable sends, extra tokens, noreply', () =>
  lines('verbosity 1', 'verbosity 0', 'verbosity', 'verbosity foo bar my', 'verbosity noreply', 'verbosity 0 noreply', 'verbosity x'));
add({ name: 'quit closes the connection', steps: () => ['quit\r\n'], end: 'close' });
add({ name: 'quit after a set: the set is answered, later commands are not', steps: (k) => [lines(`set ${k('a')} 0 0 1`, 'x', 'quit', `get ${k('a')}`)], end: 'close' });

// ---- noreply on every command that takes it ----------------------------------------------------------------
simple('noreply: set add replace append prepend', (k) =>
  lines(`set ${k('a')} 0 0 1 noreply`, '1', `add ${k('a')} 0 0 1 noreply`, '2', `add ${k('b')} 0 0 1 noreply`, '3', `replace ${k('b')} 0 0 1 noreply`, '4',
    `append ${k('a')} 0 0 1 noreply`, '5', `prepend ${k('a')} 0 0 1 noreply`, '6', `get ${k('a')} ${k('b')}`));
add({
  name: 'noreply: cas',
  steps: (k) => [lines(`set ${k('a')} 0 0 1`, '1', `gets ${k('a')}`), (prev) => lines(`cas ${k('a')} 0 0 1 ${casFrom(prev)} noreply`, '2', `cas ${k('a')} 0 0 1 1 noreply`, '3', `get ${k('a')}`)],
});
simple('noreply: delete incr decr touch verbosity', (k) =>
  lines(`set ${k('a')} 0 0 2`, '10', `incr ${k('a')} 5 noreply`, `decr ${k('a')} 3 noreply`, `touch ${k('a')} 10 noreply`, `get ${k('a')}`,
    `delete ${k('a')} noreply`, `delete ${k('a')} noreply`, 'verbosity 1 noreply', `get ${k('a')}`));
simple('noreply suppresses CLIENT_ERROR but the data line then answers ERROR', (k) =>
  lines(`set ${k('a')} 0 0 1`, '5', `incr ${k('a')} abc noreply`, `set ${k('a')} x 0 1 noreply`, '5', `get ${k('a')}`));

// ---- meta commands -----------------------------------------------------------------------------------------
simple('mn alone', () => '');
simple('ms then mg with v f t c k s O q', (k) =>
  lines(`ms ${k('a')} 2 T0 F5`, 'hi', `mg ${k('a')} v f t c k s O123 q`, `mg ${k('a')}`, `mg ${k('a')} s v`, `mg ${k('a')} k`));
simple('mg miss: plain, with k and O, quiet', (k) => lines(`mg ${k('a')} v`, `mg ${k('a')} v k O9`, `mg ${k('a')} v q`, `mg ${k('a')} q k O1`));
simple('quiet mode pipelined: only hits answer before MN', (k) =>
  lines(`ms ${k('h')} 1 q`, 'h', `mg ${k('m1')} v q`, `mg ${k('h')} v q k`, `mg ${k('m2')} v q O5`, `md ${k('m3')} q`, `md ${k('h')} q`, `mg ${k('h')} v q`));
simple('mg with T (touch) and t, N (vivify) then W/X/Z', (k) =>
  lines(`ms ${k('a')} 1 T100`, 'x', `mg ${k('a')} t T50 v`, `mg ${k('a')} t`, `mg ${k('v')} N30 v c t`, `mg ${k('v')} v c t`, `mg ${k('v')} s`));
simple('mg h flag (hit before)', (k) => lines(`ms ${k('a')} 1`, 'x', `mg ${k('a')} h`, `mg ${k('a')} h v`));
simple('mg base64 key (b) on miss and hit', (k) =>
  lines(`mg ${b64(k('a'))} b v k`, `ms ${b64(k('a'))} 1 b`, 'x', `mg ${b64(k('a'))} b v k O1`, `mg ${k('a')} v`));
simple('ms modes E A P R S and invalid X', (k) =>
  lines(`ms ${k('a')} 2 ME`, 'hi', `ms ${k('a')} 2 ME`, 'no', `ms ${k('a')} 2 MA`, 'yo', `ms ${k('a')} 2 MP`, 'zz', `mg ${k('a')} v`,
    `ms ${k('a')} 2 MR`, 'rr', `ms ${k('b')} 2 MR`, 'rr', `ms ${k('b')} 2 MA`, 'rr', `ms ${k('a')} 2 MS`, 'ss', `ms ${k('a')} 2 MX`, 'xx', `mg ${k('a')} v`));
simple('ms flags F T q k O, invalid flag swallows the value', (k) =>
  lines(`ms ${k('a')} 3 F7 T0 k O42`, 'abc', `ms ${k('a')} 3 q`, 'def', `mg ${k('a')} v f`, `ms ${k('a')} 1 QQ`, 'x', `ms ${k('a')} 1 v v`, 'y', `mg ${k('a')} v`));
simple('ms I (invalidate) then mg sees X/W', (k) => lines(`ms ${k('a')} 1`, 'x', `ms ${k('a')} 1 I T30`, 'y', `mg ${k('a')} v c`, `mg ${k('a')} v`));
add({
  name: 'meta cas: ms C, md C, ma C with right and wrong values',
  steps: (k) => [
    lines(`ms ${k('a')} 1`, 'x', `mg ${k('a')} c`),
    (prev) => lines(`ms ${k('a')} 1 C${BigInt(casFrom(prev)) + 99n}`, 'y', `ms ${k('a')} 1 C${casFrom(prev)}`, 'z', `mg ${k('a')} v`, `md ${k('a')} C1`, `ma ${k('a')} C1`),
  ],
});
simple('ma: miss, N autoviv with J, default incr, MD with D, MI with v t c, q', (k) =>
  lines(`ma ${k('c')}`, `ma ${k('c')} N0 J13 v`, `ma ${k('c')} v`, `ma ${k('c')} MD D5 v`, `ma ${k('c')} MI D100 v t c N0`, `ma ${k('c')} q`, `ma ${k('zz')} q`, `ma ${k('c')} v k O7`,
    `ma ${k('c')} MX`, `ma ${k('c')} D-1`));
simple('ma on non-numeric and on decr below 0', (k) => lines(`ms ${k('a')} 3`, 'abc', `ma ${k('a')}`, `ms ${k('b')} 1`, '2', `ma ${k('b')} MD D10 v`));
simple('md: hit, miss, q, I with T, k O, x (not in 1.6.18)', (k) =>
  lines(`ms ${k('a')} 1`, 'x', `md ${k('a')} q`, `md ${k('a')}`, `md ${k('a')} q k O3`, `ms ${k('b')} 2`, 'bb', `md ${k('b')} I T30`, `mg ${k('b')} v`, `md ${k('b')} x`, `mg ${k('b')} v`));
simple('E flag (explicit cas, newer than 1.6.18) is an invalid flag; opaque limits', (k) =>
  lines(`ms ${k('a')} 1 E999`, 'x', `mg ${k('a')} c v`, `ma ${k('b')} N0 J5 E77 c v`, `md ${k('a')} E5`, `mg ${k('a')} O123456789012345678901234567890123 v`, `mg ${k('a')} Oabc v`, `mg ${k('a')} k O`));
simple('me (debug)', (k) => lines(`me ${k('a')}`));
simple('meta errors: no key, bad flag, duplicate flag, missing length, bad length, S flag', (k) =>
  lines('mg', `mg ${k('a')} zz`, `mg ${k('a')} v v`, `ms ${k('a')}`, `ms ${k('a')} x`, `ms ${k('a')} S2`, 'hi', `md`, `ma`, `mg ${k('a')} ${'v '.repeat(3000)}`));

// ---- hostile input: meta grammar and classic edge cases (each line mcrelay must answer as memcached does) -----
simple('a token\'s first byte names its flag: `qB` is quiet mode (mg miss answers nothing)', (k) => lines(`mg ${k('a')} O123 qB `, `mg ${k('a')} qx v`));
simple('meta flag errors: invalid, duplicate by first byte, quiet errors shown', (k) =>
  lines(`mg ${k('a')} B`, `mg ${k('a')} k kx`, `mg ${k('a')} q B`, `md ${k('a')} q B`, `ma ${k('a')} q Cx`, `md ${k('a')} v v`, `mg ${k('a')} \x7f`));
simple('meta numeric tokens: T N R C J D F M', (k) =>
  lines(`mg ${k('a')} Tabc`, `mg ${k('a')} T\v5 t`, `mg ${k('a')} T4294967301 t`, `mg ${k('a')} T-9223372036854775809`, `mg ${k('a')} C-1`,
    `mg ${k('a')} J1x`, `mg ${k('a')} D`, `mg ${k('a')} F`, `mg ${k('a')} Tx F-1`, `mg ${k('a')} M`, `ms ${k('a')} 1 MSS`, 'x', `ma ${k('a')} MZ`));
simple('ms flag, opaque and mode errors swallow exactly datalen + 2 bytes', (k) =>
  lines(`ms ${k('a')} 2 B`, 'abcdef', `ms ${k('a')} 2 MZ`, 'ab', `ms ${k('a')} 2 O${'1'.repeat(32)}`, 'ab', `ms ${k('a')} 2 F-1`, 'ab', `mg ${k('a')} v`));
simple('ms bad key length, bad or truncated datalen', (k) =>
  lines(`ms ${'k'.repeat(251)} 2`, 'ab', `ms ${k('a')} 4294967298`, 'ab', `ms ${k('a')} 2147483648`, 'ab', `ms ${k('a')} \t2`, 'cd', `mg ${k('a')} v`));
simple('opaque of 32 bytes echoed, 33 refused (mg on a hit and a miss, md, ma)', (k) =>
  lines(`ms ${k('a')} 1`, 'x', `mg ${k('a')} O${'1'.repeat(31)}`, `mg ${k('a')} O${'1'.repeat(32)} v`, `mg ${k('b')} q O${'2'.repeat(32)}`, `md ${k('b')} O${'3'.repeat(32)}`,
    `ms ${k('c')} 1`, '5', `ma ${k('c')} O${'4'.repeat(32)} v`, `mg ${k('c')} v`));
simple('20 tokens or more on a meta line', (k) =>
  lines(`mg ${k('a')} c f h k l O P L s t u v I T1 F1 C1 N1 R1`, `md ${k('a')} c f h k l O P L s t u v I T1 F1 C1 N1 R1`, `ms ${k('a')} 1 c f h k l O P L s t u v I T1 F1 C1 N1`, 'x',
    `mg ${k('a')} c f h k l O P L s t u v I T1 F1 C1 N1`));
simple('base64 keys memcached cannot decode, and ones it decodes leniently', (k) =>
  lines(`mg hit${k('a')} b`, `ms === 2 b`, 'ab', `md !!!! b`, `ms ${b64(k('a'))} 2 b`, 'ab', `mg ${b64(k('a')).replace(/(..)/, '$1!')} b k v`, `me !!!! b`));
simple('quiet ma: an update hides HD and VA', (k) => lines(`ms ${k('a')} 1`, '7', `ma ${k('a')} q v`, `ma ${k('a')} q`, `ma ${k('b')} q`, `mg ${k('a')} v`));
simple('quiet ma with N: a created item shows its HD, an update does not', (k) =>
  lines(`ma ${k('a')} q t c N1`, `ma ${k('a')} q t N1`, `ma ${k('b')} N0 q v`, `ma ${k('b')} N0 q v`, `ma ${k('c')} N100 q t k`, `mg ${k('a')} v`, `ms ${k('d')} 1`, 'x', `ma ${k('d')} q N0`));
simple('bget is a get', (k) => lines(`set ${k('a')} 3 0 1`, 'x', `bget ${k('a')}`, `bget ${k('a')} ${k('b')}`));
simple('keys with \\r and control bytes inside, anywhere in a multi-get', (k) =>
  lines(`set ${k('a')}\rz 0 0 1`, 'x', `set ${k('c')}\r 0 0 1`, 'y', `set ${k('d')}\x01\t 0 0 1`, 'z',
    `get ${k('q')} ${k('a')}\rz ${k('c')}\r ${k('d')}\x01\t`, `gets ${k('q')} ${k('c')}\r`, `mg ${k('a')}\rz v k`));
simple('me reads no flags but b', (k) => lines(`me ${k('a')} q`, `me ${k('a')} zz yy`, `mn extra tokens`));
simple('a NUL byte ends the line', (k) => `set ${k('a')} 0 0 1\r\nx\r\nmg ${k('a')}\u0000 zz\r\nget ${k('a')}\u0000b ${k('c')}\r\n`);
simple('flags beyond 64 bits: format error, the data line is read as a command', (k) => lines(`set ${k('a')} 18446744073709551616 0 1`, 'x'));
simple('flags and data length truncated to 32 bits as memcached does', (k) =>
  lines(`set ${k('a')} 0 0 4294967298`, 'ab', `set ${k('b')} 4294967297 0 1`, 'x', `get ${k('a')} ${k('b')}`, `touch ${k('a')} 4294967396`, `incr ${k('a')} +0`));
simple('noreply hides a bad data chunk; the rest of the chunk is a command', (k) => lines(`set ${k('a')} 0 0 3 noreply`, 'abcde', `get ${k('a')}`));
simple('meta quiet still shows a bad data chunk', (k) => lines(`ms ${k('a')} 2 T1 q`, 'abc'));
simple('stats with an unknown group, noreply included', () => lines('stats noreply', 'stats nonsense'));

// ---- multi-gets ----------------------------------------------------------------------------------------------
for (const count of [1, 2, 10, 100, 500]) {
  add({
    name: `multi-get of ${count} keys, hits and misses interleaved, with duplicates`,
    steps: (k) => {
      const keys = Array.from({ length: count }, (_, i) => k(`m${i}`));
      const sets = keys.filter((_, i) => i % 3 === 0).map((key, i) => lines(`set ${key} ${i} 0 ${String(i).length}`, String(i))).join('');
      const wanted = [...keys, ...keys.slice(0, Math.min(5, count))].join(' ');
      return [sets + lines(`get ${wanted}`, `gets ${wanted}`)];
    },
  });
}
simple('multi-get: trailing space, double spaces, tab inside a key', (k) =>
  lines(`set ${k('a')} 0 0 1`, 'x', `get ${k('a')} `, `get  ${k('a')}   ${k('b')}`, `get ${k('a')}\t${k('b')}`));

// ---- values --------------------------------------------------------------------------------------------------
simple('values of 0 and 1 bytes', (k) => lines(`set ${k('a')} 0 0 0`, '', `set ${k('b')} 0 0 1`, 'z', `get ${k('a')} ${k('b')}`, `mg ${k('a')} v s`));
simple('value with \\r\\n, NUL and high bytes inside', (k) =>
  Buffer.concat([toBuffer(`set ${k('a')} 0 0 9\r\n`), Buffer.from([0x0d, 0x0a, 0x00, 0x45, 0x4e, 0x44, 0x0d, 0x0a, 0xff]), toBuffer(`\r\nget ${k('a')}\r\nms ${k('b')} 4\r\n\r\n\r\n\r\nmg ${k('b')} v\r\n`)]));
simple('100 KB value', (k) => lines(`set ${k('a')} 1 0 102400`, 'v'.repeat(102400), `get ${k('a')}`));
simple('value at the 1 MB item limit is stored', (k) => {
  const n = maxValueFor(k('a').length);
  return lines(`set ${k('a')} 0 0 ${n}`, 'v'.repeat(n), `mg ${k('a')} s`, `get ${k('a')}`);
});
simple('value one byte over the item limit: SERVER_ERROR, value swallowed', (k) => {
  const n = maxValueFor(k('a').length) + 1;
  return lines(`set ${k('a')} 0 0 ${n}`, 'v'.repeat(n), `mg ${k('a')} s`);
});
simple('1 MB (1048576-byte) value via set and ms: object too large', (k) => lines(`set ${k('a')} 0 0 ${MB}`, 'w'.repeat(MB), `ms ${k('b')} ${MB}`, 'w'.repeat(MB), `mg ${k('a')} s`));

// ---- line endings and framing ------------------------------------------------------------------------------
simple('\\n-only line ends for get, set, mg, ms', (k) => `set ${k('a')} 0 0 2\nhi\r\nget ${k('a')}\nms ${k('b')} 1\nx\r\nmg ${k('b')} v\n`);
simple('stray \\r before \\r\\n, empty lines', (k) => `get ${k('a')}\r\r\n\r\n\nget ${k('a')}\r\n`);
simple('commands are case-sensitive', (k) => lines(`GET ${k('a')}`, `Set ${k('a')} 0 0 1`, 'x'));
add({ name: 'split at every byte: set + get', steps: (k) => [lines(`set ${k('a')} 5 0 5`, 'he\r\nl', `get ${k('a')}`)], split: 'every-byte' });
add({ name: 'split at every byte: ms + mg with flags', steps: (k) => [lines(`ms ${k('a')} 3 T0 F3`, 'a\r\n', `mg ${k('a')} v f k O77 q`)], split: 'every-byte' });
add({ name: 'two parts at every split: set + get', steps: (k) => [lines(`set ${k('a')} 5 0 4`, '\r\n\r\n', `get ${k('a')} ${k('b')}`)], split: 'two-parts' });
add({ name: 'two parts at every split: gets of 3 keys', steps: (k) => [lines(`gets ${k('a')} ${k('b')} ${k('c')}`)], split: 'two-parts' });
add({ name: 'two parts at every split: mg quiet + ms', steps: (k) => [lines(`ms ${k('a')} 2 q`, 'ok', `mg ${k('a')} v q`, `mg ${k('x')} v q`)], split: 'two-parts' });
add({ name: 'two parts at every split: incr noreply', steps: (k) => [lines(`set ${k('a')} 0 0 1`, '1', `incr ${k('a')} 2 noreply`, `get ${k('a')}`)], split: 'two-parts' });
simple('pipeline of 100 mixed commands in one write', (k) => {
  const out: string[] = [];
  for (let i = 0; i < 20; i++) {
    out.push(lines(`set ${k(`p${i}`)} ${i} 0 2`, 'xy'), lines(`get ${k(`p${i}`)} ${k(`q${i}`)}`), lines(`incr ${k(`p${i}`)} 1`), lines(`mg ${k(`p${i}`)} v f k`), lines(i % 2 ? `delete ${k(`p${i}`)}` : `md ${k(`q${i}`)}`));
  }
  return out.join('');
});

// ---- errors ----------------------------------------------------------------------------------------------
simple('unknown command and empty line', () => lines('foo', 'foo bar baz', ''));
add({
  // One step per bad command: pipelined in one write, memcached 1.6.18 drops replies after a too-long-key get
  // (see the next case), and that batch-dependent bug is not something a proxy can or should reproduce.
  name: 'key of 250 bytes is fine, 251 bytes is CLIENT_ERROR (get, multi-get, set, delete, mg, incr, touch)',
  steps: (k) => {
    const ok = k('a').padEnd(250, 'k');
    const bad = k('a').padEnd(251, 'k');
    return [
      lines(`set ${ok} 0 0 1`, 'x', `get ${ok}`),
      lines(`get ${bad}`),
      lines(`get ${ok} ${bad}`),
      lines(`get ${bad} ${ok}`),
      lines(`set ${bad} 0 0 1`, 'x'),
      lines(`delete ${bad}`),
      lines(`mg ${bad} v`),
      lines(`incr ${bad} 1`),
      lines(`touch ${bad} 1`),
    ];
  },
});
add({
  name: 'too-long-key gets pipelined in one write (memcached 1.6.18 drops replies)',
  steps: (k) => {
    const bad = k('a').padEnd(251, 'k');
    return [lines(`get ${bad}`, `get ${bad}`), lines(`get ${bad}`, 'version', `get ${bad}`, 'version')];
  },
  differs: {
    why:
      'memcached 1.6.18 answers only the first of consecutive too-long-key gets in one read, and drops a later ' +
      '"version" reply too; sent in separate writes each gets its CLIENT_ERROR. mcrelay answers every command',
    check(reply, kind) {
      const ce = 'CLIENT_ERROR bad command line format\r\n';
      const text = reply.toString('latin1').replace(/^VERSION [^\r\n]*\r\n/gm, 'VERSION\r\n');
      if (kind === 'memcached') expect(text).toBe(`${ce}${ce}VERSION\r\n`);
      else expect(text).toBe(`${ce}${ce}${ce}VERSION\r\n${ce}VERSION\r\n`);
    },
  },
});
simple('missing arguments', (k) => lines('get', 'gets', `set ${k('a')} 0 0`, `incr ${k('a')}`, `touch ${k('a')}`, 'delete', 'cas', `cas ${k('a')} 0 0 1`, 'x'));
simple('bad numbers: flags, exptime, length, cas', (k) =>
  lines(`set ${k('a')} x 0 1`, 'x', `set ${k('a')} -1 0 1`, 'x', `set ${k('a')} 0 abc 1`, 'x', `set ${k('a')} 0 0 abc`, 'x', `cas ${k('a')} 0 0 1 abc`, 'x', `flush_all abc`, `verbosity x`));
simple('negative data length: CLIENT_ERROR, the data line then answers ERROR', (k) => lines(`set ${k('a')} 0 0 -1`, 'abc', `get ${k('a')}`));
simple('data block longer than declared: bad data chunk', (k) => lines(`set ${k('a')} 0 0 3`, 'abcd', `get ${k('a')}`));
simple('data block shorter than declared eats the next line', (k) => lines(`set ${k('a')} 0 0 5`, 'ab', `get ${k('a')}`, `get ${k('a')}`));
add({ name: 'data block shorter than declared at end of input: waits for more', steps: (k) => [lines(`set ${k('a')} 0 0 10`, 'abc')], end: 'idle' });
simple('3000-byte unknown command line (one write) answers ERROR', () => lines('x'.repeat(3000)));
simple('10 KB key on get: CLIENT_ERROR', () => lines(`get ${'k'.repeat(10_000)}`));
add({ name: 'too-long line (20 KB, not a get): connection closed without a reply', steps: () => [lines('x'.repeat(20_000))], end: 'close' });

// ---- replies mcrelay answers itself --------------------------------------------------------------------------
add({
  name: 'version',
  steps: () => ['version\r\n'],
  differs: {
    why: 'mcrelay answers with its own version instead of asking a backend',
    check(reply, kind) {
      if (kind === 'memcached') expect(reply.toString('latin1')).toMatch(/^VERSION 1\.6\.\d+\r\n$/);
      // mcrelay answers the protocol level it speaks, then its own version (clients parse the number).
      else expect(reply.toString('latin1')).toMatch(/^VERSION 1\.6\.18 mcrelay-\d+\.\d+\.\d+\r\n$/);
    },
  },
});
add({
  name: 'version with extra tokens and noreply (memccapable sends these)',
  steps: () => [lines('version foo bar', 'version noreply')],
  differs: {
    why: 'mcrelay answers with its own version; memcached 1.6 ignores extra tokens and noreply on version',
    check(reply, kind) {
      if (kind === 'memcached') expect(reply.toString('latin1')).toMatch(/^(VERSION 1\.6\.\d+\r\n){2}$/);
      else expect(reply.toString('latin1')).toMatch(/^(VERSION \S+[^\r\n]*\r\n){2}$/);
    },
  },
});
add({ name: 'quit with extra tokens closes too', steps: () => ['quit foo bar\r\n'], end: 'close' });
add({
  name: 'stats',
  steps: () => ['stats\r\n'],
  differs: {
    why: 'mcrelay reports its own stats, with mcrouter names',
    check(reply, kind) {
      const text = reply.toString('latin1');
      expect(text).toMatch(/^(STAT \S+ [^\r\n]*\r\n)+END\r\n$/);
      expect(text).toContain('STAT uptime ');
      if (kind === 'mcrelay') {
        expect(text).toContain('STAT num_client_connections ');
        expect(text).toContain('STAT cmd_get_count ');
      } else {
        expect(text).toContain('STAT curr_connections ');
      }
    },
  },
});
add({
  name: 'flush_all without --enable-flush-cmd',
  steps: (k) => [lines(`set ${k('a')} 0 0 1`, 'x', 'flush_all', `get ${k('a')}`)],
  differs: {
    why: 'mcrelay refuses flush_all unless started with --enable-flush-cmd (one client must not wipe a fleet)',
    check(reply, kind) {
      const expected = kind === 'memcached' ? 'STORED\r\nOK\r\nEND\r\n' : `STORED\r\nSERVER_ERROR Command disabled\r\nVALUE KEY 0 1\r\nx\r\nEND\r\n`;
      expect(reply.toString('latin1').replace(/^VALUE \S+/m, 'VALUE KEY')).toBe(expected);
    },
  },
});
simple('flush_all with --enable-flush-cmd: forms 0, noreply, bad, -1', (k) =>
  lines(`set ${k('a')} 0 0 1`, 'x', 'flush_all', `get ${k('a')}`, 'flush_all 0', 'flush_all noreply', 'flush_all 0 noreply', 'flush_all abc', 'flush_all -1'), { flushEnabled: true });

// ---- runner ----------------------------------------------------------------------------------------------------

/** Replace cas uniques (5th token of VALUE lines, meta `c` flag values) with `<cas>`, skipping value bytes. */
function normalizeCas(reply: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < reply.length) {
    const nl = reply.indexOf(0x0a, pos);
    if (nl < 0) break;
    const line = reply.toString('latin1', pos, nl + 1);
    let replaced = line;
    let dataLength = -1;
    // A key is any bytes but a space (memcached keeps \r, tabs and control bytes in keys).
    const value = /^VALUE ([^ ]+) (\d+) (\d+)( \d+)?\r\n$/.exec(line);
    const meta = /^(VA \d+|HD|EN|NF|NS|EX)((?: [^ ]+)*)\r\n$/.exec(line);
    if (value) {
      dataLength = Number(value[3]);
      if (value[4]) replaced = `VALUE ${value[1]} ${value[2]} ${value[3]} <cas>\r\n`;
    } else if (meta) {
      if (meta[1]?.startsWith('VA ')) dataLength = Number(meta[1].slice(3));
      replaced = `${meta[1]}${(meta[2] ?? '').replace(/ c\d+/g, ' c<cas>')}\r\n`;
    }
    out.push(Buffer.from(replaced, 'latin1'));
    pos = nl + 1;
    if (dataLength >= 0) {
      out.push(reply.subarray(pos, Math.min(reply.length, pos + dataLength + 2)));
      pos += dataLength + 2;
    }
  }
  if (pos < reply.length) out.push(reply.subarray(pos));
  return Buffer.concat(out);
}

/** Send one case to one server and return everything it answered (normalized separately). */
async function runCase(port: number, c: CompatCase, prefix: string): Promise<Buffer> {
  const client: RawClient = await connect(port, { timeoutMs: 15_000 });
  try {
    const k = (suffix: string): string => `${prefix}${suffix}`;
    const replies: Buffer[] = [];
    let previous: Buffer = Buffer.alloc(0);
    for (const step of c.steps(k)) {
      const bytes = toBuffer(typeof step === 'function' ? step(previous) : step);
      previous = await deliver(client, bytes, c);
      replies.push(previous);
    }
    return Buffer.concat(replies);
  } finally {
    client.destroy();
  }
}

async function deliver(client: RawClient, bytes: Buffer, c: CompatCase): Promise<Buffer> {
  if (c.split === 'every-byte') {
    await client.sendSlowly(bytes, 1);
    return client.roundTrip('');
  }
  if (c.split === 'two-parts') {
    const replies: Buffer[] = [];
    for (let at = 1; at < bytes.length; at++) {
      await client.sendChunks([bytes.subarray(0, at), bytes.subarray(at)], 3);
      replies.push(Buffer.from(`#split ${at}\n`), await client.roundTrip(''));
    }
    return Buffer.concat(replies);
  }
  switch (c.end ?? 'mn') {
    case 'mn':
      return client.roundTrip(bytes);
    case 'close':
      await client.send(bytes);
      return client.expectClosed();
    case 'idle':
      await client.send(bytes);
      return client.readIdle(300);
  }
}

interface Candidate {
  readonly kind: Kind;
  /** Port of the candidate for a case (mcrelay has a second instance for flush cases). */
  port(c: CompatCase): Promise<number>;
}

/** Register one `it()` per case comparing `reference` (direct memcached) with the candidate. */
function defineCases(reference: () => MemcachedServer, candidate: () => Candidate): void {
  cases.forEach((c, index) => {
    const prefix = `c${String(index).padStart(3, '0')}_`;
    const timeout = c.split ? 120_000 : 30_000;
    it(c.name, async () => {
      const cand = candidate();
      const [ref, got] = await Promise.all([runCase(reference().port, c, prefix), cand.port(c).then((port) => runCase(port, c, prefix))]);
      if (process.env['MCRELAY_COMPAT_DUMP']) process.stdout.write(`--- ${c.name}\n${escapeBytes(ref, 3000)}\n`);
      if (c.differs) {
        c.differs.check(ref, 'memcached');
        c.differs.check(got, cand.kind);
        return;
      }
      const want = escapeBytes(normalizeCas(ref), 400_000);
      const have = escapeBytes(normalizeCas(got), 400_000);
      expect(have, `case "${c.name}": ${cand.kind} reply differs from memcached (escaped; cas normalized)`).toBe(want);
    }, timeout);
  });
}

describe('protocol corpus', () => {
  it('has unique case names and covers the corpus', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it('normalizeCas touches only cas uniques, never value bytes', () => {
    const reply = Buffer.from('VALUE k 0 5 123\r\nc9 99\r\nVALUE j 1 1\r\nx\r\nVA 2 c77 f1\r\nc1\r\nHD c5 kx\r\nEND\r\n', 'latin1');
    expect(normalizeCas(reply).toString('latin1')).toBe('VALUE k 0 5 <cas>\r\nc9 99\r\nVALUE j 1 1\r\nx\r\nVA 2 c<cas> f1\r\nc1\r\nHD c<cas> kx\r\nEND\r\n');
  });
});

describe('memcached vs memcached (control: proves the corpus and the normalization)', () => {
  let direct: MemcachedServer;
  let other: MemcachedServer;
  beforeAll(async () => {
    [direct, other] = await Promise.all([startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all([direct?.stop(), other?.stop()]);
  });
  defineCases(
    () => direct,
    () => ({ kind: 'memcached', port: () => Promise.resolve(other.port) }),
  );
});

describe('mcrelay vs memcached (one-server PoolRoute)', () => {
  let direct: MemcachedServer;
  let behind: MemcachedServer;
  let relay: RelayProcess | undefined;
  let flushRelay: RelayProcess | undefined;
  let startError: unknown;
  beforeAll(async () => {
    [direct, behind] = await Promise.all([startMemcached(), startMemcached()]);
    try {
      relay = await startRelay({ config: onePoolConfig([behind.address]) });
    } catch (err) {
      // Reported by every case below, so each failure says why mcrelay is not there.
      startError = err;
    }
  });
  afterAll(async () => {
    await Promise.all([relay?.close(), flushRelay?.close(), direct?.stop(), behind?.stop()]);
  });
  defineCases(
    () => direct,
    () => ({
      kind: 'mcrelay',
      async port(c) {
        if (!relay) throw new Error(`mcrelay could not be started: ${startError instanceof Error ? startError.message : String(startError)}`);
        if (!c.flushEnabled) return relay.port;
        flushRelay ??= await startRelay({ config: onePoolConfig([behind.address]), args: ['--enable-flush-cmd'] });
        return flushRelay.port;
      },
    }),
  );
});
