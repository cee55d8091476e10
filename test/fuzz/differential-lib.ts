/**
 * Differential fuzzer: memcached 1.6.18 is the protocol truth, and mcrelay on a one-server pool must answer
 * every request with the same bytes.
 *
 * Two targets get the same bytes in the same order, each on its own connection:
 *
 *     direct:  fuzzer ──► memcached A
 *     relay:   fuzzer ──► mcrelay (PoolRoute over one server) ──► memcached B
 *
 * **Inputs** (`Generator`, seeded, deterministic; its own sfc32 `Rng`, see there). Each input is a few
 * commands around one main command of every kind: get/gets/bget/gat/gats (multi-key, repeated keys, keys of
 * 249–252 bytes, keys holding tab, \r, control or high bytes), the six storage commands and cas (noreply, bad
 * numbers, data blocks of the wrong length or with wrong terminators), delete, incr/decr, touch, verbosity,
 * and mg/ms/md/ma/me/mn with flag sets drawn from the whole alphabet: unknown and repeated flags, tokens like
 * `qB` (memcached reads only a token's first byte), opaques of 30–40 bytes, bad and overflowing numbers,
 * base64 keys with `b` (valid and not), `M` modes of the wrong length, up to 45 flags. Writes of the key often
 * come first and reads after, so hits and the effect of each command are seen too. 45% are then mutated at the
 * byte level: tokens swapped or repeated, spaces inserted, bytes deleted or inserted, digit runs changed,
 * `noreply` inserted or moved, a `\r` dropped, lines repeated, dropped or cut. Rarer kinds are sent alone:
 * values of 2 KB to 1.5 MB (across memcached's buffer sizes and its 1 MB item limit; only their command line
 * is mutated) and multi-gets of 100–1500 keys on one line.
 *
 * Every input has its own key prefix (`Input.prefixes`: 12 bytes, so a base64 key is the base64 prefix
 * followed by the base64 rest, and a re-run renames both). Not generated, because the reply would not be
 * memcached's on purpose or would depend on timing: stats, version, flush_all, quit, shutdown, admin commands,
 * keys starting with `/` (mcrouter routing prefixes), lines over 2000 bytes other than the lone multi-gets
 * (memcached 1.6.18 closes a connection holding more than 2048 bytes without a newline unless the line starts
 * with `get `/`gets `, so that depends on how its reads split the stream), and stored incr operands of 2^63 or
 * more (memcached then scans past the value, see `InputBuilder.arith`).
 *
 * **Runner** (`runDifferential`): 3 lanes, each a pair of connections kept while they stay in sync, send
 * batches (adaptive, up to 100 inputs): `input mn\r\n input mn\r\n … sentinel`, where an input may be
 * "glued" to the next (no `mn` between, so consecutive gets can be merged by mcrelay) and the sentinel is
 * `ma <fresh key> N2 J<unique number> v`, whose reply `VA n\r\n<number>\r\n` no input can produce: reading to
 * it takes the whole answer. mcrelay gets a quarter of the batches cut into writes 1 ms apart (its parser must
 * resume anywhere); memcached gets one write. A get with a key over 250 bytes goes in a batch of its own
 * (`mustIsolate`). When a target goes quiet before its sentinel it is waiting inside a data block (a declared
 * length longer than the bytes sent): both then get filler lines (as many bytes as the largest number in the
 * batch up to 1.2 MB, in lines of 1 KB) and a second sentinel. A target that closes, or never answers the
 * second sentinel, is marked (`<closed>`, `<no answer>`) and both connections are replaced; a new connection
 * first sends a lone `mn\r\n`, so a first byte of 0x80 never switches memcached to the binary protocol.
 * Now and then a lane also opens a pair, sends part of some inputs and closes (a client going away
 * mid-request), which the later exchanges and the canary must not notice.
 *
 * **Comparison** (`sameReplies`): byte-identical after `normalizeReply`, which changes only
 *  - cas uniques: the 5th token of `VALUE k f n <cas>`, a meta `c<digits>` return flag, `cas=<digits>` in
 *    `me` output (the two memcacheds do not see the same writes: the canary and the sentinels);
 *  - times that may be one second apart because each memcached's clock ticks on its own: the meta `t<n>`
 *    (remaining TTL) and `l<n>` (seconds since last access) return flags and `me`'s `exp=`/`la=`. Their
 *    values are compared separately and may differ by at most 1.
 * Data blocks are skipped by their declared length, so value bytes are never normalised.
 *
 * **Attribution and classes**: when a batch's replies differ, its halves are re-run (renamed keys) down to
 * the single inputs that differ on their own; when no part differs alone, the smallest window of consecutive
 * inputs that still differs is kept; when the batch does not differ again at all, the difference is kept as
 * "collateral" (what one request did to another's reply; the canary sees the same). Its class (signature) is
 * the first differing reply line of each side in a reduced shape (keys → K, digits → N); `Deliberate` rules
 * (the table is in the test) mark the differences that are not mcrelay bugs, one class per rule. After a
 * difference that is not deliberate the two memcacheds may hold different items, and a mutation can put a
 * key outside its input's prefix where later inputs meet it (such "foreign" inputs run one batch at a time,
 * so lanes never race on those items); so all lanes stop, both memcacheds are flushed (`flushPorts`), and
 * the difference is re-run: what is gone then is `unconfirmed` (reported, not counted as mcrelay's), as is
 * a difference in a foreign batch that is not seen again. At the end the shortest example of each class is minimised (lines and tokens dropped, long
 * tokens halved, while the class holds) into the reproducer the report prints.
 *
 * **Canary** (`Canary`): a second client of mcrelay that writes and reads back its own keys (set/get and
 * ms/mg) all the while and counts every reply that is not exactly the expected one.
 */
import { RawClient, escapeBytes } from '../integration/helpers/raw-client.js';

// ------------------------------------------------------------------------------------------------ inputs

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator): 128 bits of state, a counter in it so no
 * cycle is shorter than 2^32 outputs. Same interface as fuzz-lib's Rng, which is not used here: its
 * 32-bit xorshift repeats after 8190 outputs whatever the seed, so a long run would replay a few dozen inputs.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed | 0;
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

/** One fuzz input: bytes sent as they are, and the key prefixes they use (renamed on re-runs). */
export interface Input {
  readonly bytes: Buffer;
  /** Key prefixes in `bytes` (12 bytes each; one for generated inputs, several for a window of inputs). */
  readonly prefixes: readonly string[];
  /** The main command (`mg`, `set`, `get`, …), for the difference signature. */
  readonly label: string;
  /** The mutations applied, in order (empty when the input is as generated). */
  readonly mutations: readonly string[];
  /** Sent without the `mn\r\n` that otherwise follows each input (so its commands run into the next ones). */
  readonly glue: boolean;
  /** Sent in an exchange of its own (see mustIsolate; large values). */
  readonly alone: boolean;
  /** Names a key outside its own prefixes (see usesForeignKey): never runs while another such input does. */
  readonly foreign: boolean;
}

const PREFIX_LENGTH = 12;
const MAX_RUN_WITHOUT_NEWLINE = 2000;
const KEY_MAX = 250;

const b36 = (n: number, width: number): string => n.toString(36).padStart(width, '0').slice(-width);
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

/** A fresh 12-byte key prefix: a letter, 3 characters of the seed, a 7-character counter, `_`. */
export function makePrefix(letter: string, seed: number, n: number): string {
  return `${letter}${b36(seed >>> 0, 3)}${b36(n, 7)}_`;
}

const PRINTABLE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:;,!?#$%&*+=()[]{}<>@^~|';
const FLAG_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-=_!#$%&*.:;<>?@[]^{|}~';
/** Flags memcached 1.6.18 knows per meta command, a few it parses for every command, and E (newer than 1.6.18). */
const META_FLAGS: Readonly<Record<string, string>> = {
  mg: 'bcfhklOqstuvNRTEILP',
  ms: 'bcCFIkOqsSTMNE',
  md: 'bCIkOqTMx',
  ma: 'bCNJDTMOqtcvk',
  me: 'b',
  mn: '',
};
/** Flags that carry a numeric token. */
const NUMERIC_FLAGS = 'TNRFCDJESLP';
const MODES = ['E', 'A', 'P', 'R', 'S', 'I', 'i', '+', 'D', 'd', '-', 'X', 's', 'e', 'a'];

const GOOD_NUMBERS = ['0', '1', '2', '5', '10', '100', '255', '3600', '86400'];
const BAD_NUMBERS = [
  '-1', '-0', '+5', '007', 'abc', '1x', 'x1', '0x10', '1e3', '', '4294967295', '4294967296', '2147483647', '2147483648',
  '-2147483648', '-2147483649', '9223372036854775807', '9223372036854775808', '18446744073709551615',
  '18446744073709551616', '99999999999999999999', '-18446744073709551616', '1.5', '00000000000000000000001',
];
/** Data lengths a digit mutation may substitute: short (filler completes them) or refused at once. */
const LENGTH_NUMBERS = ['0', '1', '2', '3', '7', '30', '300', '-1', '-2', '2147483646', '2147483647', '4294967297', '1048000'];
/**
 * Lengths memcached accepts and then swallows for good (over its item limit, beyond what filler covers):
 * rare, since each leaves both connections to be replaced after a wait.
 */
const SWALLOW_FOREVER = ['2147483645', '100000000'];
const CAS_NUMBERS = ['0', '1', '12345', '18446744073709551615', '18446744073709551616', 'abc', '-1', '99'];

/** Seeded input generator; `next()` returns the next input of the sequence. */
export class Generator {
  private readonly rng: Rng;
  private n = 0;
  /** Probability that an input is mutated. */
  mutateRate = 0.45;

  constructor(private readonly seed: number) {
    this.rng = new Rng(seed ^ 0x6a09e667);
  }

  next(): Input {
    const r = this.rng;
    for (;;) {
      const prefix = makePrefix('f', this.seed, this.n++);
      const g = new InputBuilder(r, prefix);
      if (r.chance(0.004)) {
        // A multi-get line longer than 2048 bytes: memcached reads those (and only those: get and gets)
        // across reads; sent alone after complete replies, so it always starts a command.
        const label = g.hugeGet();
        return { bytes: Buffer.from(g.text, 'latin1'), prefixes: [prefix], label, mutations: [], glue: false, alone: true, foreign: false };
      }
      if (r.chance(0.01)) {
        // A large value: its data has a line end every 1000 bytes at most, so when a mutated length
        // misframes it, what memcached then reads as commands are short lines.
        const label = g.big();
        const mutations: string[] = [];
        if (r.chance(0.3)) mutations.push(g.mutateCommandLine());
        return { bytes: Buffer.from(g.text, 'latin1'), prefixes: [prefix], label, mutations, glue: false, alone: true, foreign: false };
      }
      const label = g.build();
      let bytes: Buffer = Buffer.from(g.text, 'latin1');
      const mutations: string[] = [];
      if (r.chance(this.mutateRate)) {
        for (let i = 1 + r.int(3); i > 0; i--) {
          const [name, out] = mutateInput(r, bytes);
          mutations.push(name);
          bytes = out;
        }
      }
      if (!acceptable(bytes)) continue;
      // With the `mn\r\n` that follows it: an input cut mid-line runs into that `mn`.
      const alone = mustIsolate(Buffer.concat([bytes, MN]));
      // Glued inputs run into the next one (consecutive gets may then be merged by mcrelay); only after a
      // complete line, so no line grows past the limit.
      const glue = !alone && bytes[bytes.length - 1] === 0x0a && r.chance(0.3);
      return { bytes, prefixes: [prefix], label, mutations, glue, alone, foreign: usesForeignKey(bytes, [prefix]) };
    }
  }
}

/**
 * Whether an input must be sent on its own: it has a get/gets/bget/gat/gats line with a key over 250 bytes.
 * memcached 1.6.18 then discards every reply it has not written yet (those to the earlier commands of the
 * same read), so batched with others it would take their replies with it.
 */
export function mustIsolate(bytes: Buffer): boolean {
  for (const line of bytes.toString('latin1').split('\n')) {
    const toks = line.split(' ').filter((t) => t.length > 0);
    const verb = toks[0];
    if ((verb === 'get' || verb === 'gets' || verb === 'bget' || verb === 'gat' || verb === 'gats') && toks.some((t, i) => i > 0 && t.replace(/\r$/, '').length > KEY_MAX)) return true;
  }
  return false;
}

const ONE_KEY_VERBS = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas', 'delete', 'incr', 'decr', 'touch', 'mg', 'ms', 'md', 'ma', 'me']);

/**
 * Whether a line of `bytes` names a key that does not start with one of `prefixes` (raw or base64): a
 * mutation split a key (`get f0ab 00c_a`), or moved another token into its place (`get s k`, `me b`). Items
 * under such keys are shared by every input that names them, so two lanes running such inputs at once would
 * race on them; the runner runs them one at a time.
 */
export function usesForeignKey(bytes: Buffer, prefixes: readonly string[]): boolean {
  const own = (t: string): boolean => prefixes.some((p) => t.startsWith(p) || t.startsWith(b64(p)));
  for (const raw of bytes.toString('latin1').split('\n')) {
    const toks = raw.replace(/\r$/, '').split(' ').filter((t) => t.length > 0);
    const verb = toks[0] ?? '';
    const keys = verb === 'get' || verb === 'gets' || verb === 'bget' ? toks.slice(1) : verb === 'gat' || verb === 'gats' ? toks.slice(2) : ONE_KEY_VERBS.has(verb) ? toks.slice(1, 2) : [];
    if (keys.some((k) => !own(k))) return true;
  }
  return false;
}

/** Whether an input may be sent: no long newline-free run, no `/`-prefixed token (mcrouter routing). */
export function acceptable(bytes: Buffer): boolean {
  let run = 0;
  let atTokenStart = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 0x0a) run = 0;
    else if (++run > MAX_RUN_WITHOUT_NEWLINE) return false;
    if (c === 0x2f && atTokenStart) return false;
    atTokenStart = c === 0x20 || c === 0x0a;
  }
  return true;
}

/** Builds one input's text (latin1) around a main command. */
class InputBuilder {
  text = '';
  constructor(private readonly rng: Rng, private readonly prefix: string) {}

  private k(suffix = 'a'): string {
    return `${this.prefix}${suffix}`;
  }

  /** A key: usually short, sometimes 249–252 bytes (memcached's limit is 250). */
  private key(suffix = 'a'): string {
    const r = this.rng;
    if (r.chance(0.1)) return this.k(suffix).padEnd(249 + r.int(4), 'L');
    // Bytes memcached takes as part of a key (only space and newline end a token): tab, control, high, \r.
    if (r.chance(0.04)) return `${this.k(suffix)}${r.pick(['\t', '\x01', '\x7f', '\xff', '\x80', '\r', '\0', 'é', '\x1b[0m'])}${r.chance(0.5) ? 'z' : ''}`;
    return this.k(suffix);
  }

  private line(s: string): void {
    this.text += `${s}\r\n`;
  }

  private num(goodRate = 0.8): string {
    return this.rng.chance(goodRate) ? this.rng.pick(GOOD_NUMBERS) : this.rng.pick(BAD_NUMBERS);
  }

  private value(): string {
    const r = this.rng;
    if (r.chance(0.03)) return 'v'.repeat(200 + r.int(1400));
    // Reply lines inside a value: a reply parser that looks for them instead of counting bytes breaks.
    if (r.chance(0.05)) return r.pick(['END\r\n', 'VALUE x 0 1\r\ny\r\nEND\r\n', 'EN\r\n', 'MN\r\n', 'HD\r\nVA 1\r\nz', 'STORED\r\n', '\r\nEND', 'SERVER_ERROR x\r\n']);
    let s = '';
    for (let i = r.int(r.chance(0.2) ? 3 : 40); i > 0; i--) {
      const c = r.int(40);
      s += c === 0 ? '\r\n' : c === 1 ? ' ' : c === 2 ? '\0' : c === 3 ? '\xff' : r.pick([...PRINTABLE]);
    }
    return s;
  }

  /** `\r\n` mostly; else a wrong terminator. */
  private terminator(): string {
    return this.rng.chance(0.85) ? '\r\n' : this.rng.pick(['\n', '\r', '', '\r\r\n', 'XX', '\n\r', ' \r\n', 'x\r\n']);
  }

  /** The data length token for `value`: right mostly; else off by one, negative, or huge. */
  private length(value: string): string {
    const r = this.rng;
    if (r.chance(0.85)) return String(value.length);
    if (r.chance(0.02)) return r.pick(SWALLOW_FOREVER);
    return r.pick([String(value.length + 1), String(Math.max(0, value.length - 1)), String(value.length + 2), ...BAD_NUMBERS.slice(0, 8), '2147483647', '2147483646']);
  }

  private noreply(rate = 0.25): string {
    return this.rng.chance(rate) ? ' noreply' : '';
  }

  /**
   * A classic read of `key` after other commands: `get`, or `mg` when the key is over 250 bytes (a get of it
   * would make memcached drop the earlier replies, see mustIsolate).
   */
  private readBack(key: string): string {
    return key.length > KEY_MAX ? `mg ${key} v` : `${this.rng.pick(['get', 'gets', 'bget'])} ${key}`;
  }

  private setupClassic(key: string, value = 'hello'): void {
    this.line(`set ${key} ${this.rng.pick(['0', '7', '4294967295'])} 0 ${value.length}`);
    this.line(value);
  }

  /**
   * A large value (4 KB to 1.5 MB, around memcached's buffer sizes and its 1 MB item limit) written with
   * set/add/append/prepend/ms and read back with get, gets, gat, mg and a multi-get.
   */
  big(): string {
    const r = this.rng;
    const key = this.k();
    const n = r.chance(0.75)
      ? r.pick([2048, 4095, 4096, 4097, 8191, 8192, 16383, 16384, 16385, 32768, 65535, 65536, 100_000])
      : r.pick([262_144, 524_288, 1_000_000, 1_048_576 - 59 - key.length, 1_048_576 - 58 - key.length, 1_048_576, 1_500_000]);
    let value = '';
    while (value.length < n) {
      const room = n - value.length;
      const chunk = Math.min(room, 1 + r.int(1000));
      value += chunk > 2 ? `${String.fromCharCode(0x41 + r.int(26)).repeat(chunk - 2)}\r\n` : 'z'.repeat(chunk);
    }
    const op = r.pick(['set', 'set', 'ms', 'add', 'append', 'prepend']);
    if (op === 'append' || op === 'prepend') this.setupClassic(key, 'small');
    if (op === 'ms') this.text += `ms ${key} ${n} T0 F${r.int(9)}${r.chance(0.2) ? ' q' : ''}\r\n${value}\r\n`;
    else this.text += `${op} ${key} ${r.int(9)} 0 ${n}${r.chance(0.2) ? ' noreply' : ''}\r\n${value}\r\n`;
    const reads = [`get ${key}`, `gets ${key}`, `mg ${key} s v f`, `get ${this.k('x')} ${key} ${this.k('y')} ${key}`, `gat 0 ${key}`, `mg ${key} v q k`];
    for (let i = 1 + r.int(3); i > 0; i--) this.line(r.pick(reads));
    return `big ${op}`;
  }

  /** A get/gets of 100–1500 keys (some written first, some repeated, some 250 bytes long). */
  hugeGet(): string {
    const r = this.rng;
    const op = r.chance(0.7) ? 'get' : 'gets';
    const n = 100 + r.int(1400);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      if (keys.length > 0 && r.chance(0.1)) {
        keys.push(r.pick(keys));
        continue;
      }
      const key = r.chance(0.02) ? this.k(b36(i, 3)).padEnd(250, 'L') : this.k(b36(i, 3));
      if (r.chance(0.3)) this.setupClassic(key, `v${i}`);
      keys.push(key);
    }
    this.line(`${op} ${keys.join(r.chance(0.8) ? ' ' : '  ')}`);
    if (r.chance(0.3)) this.line(`mg ${keys[0] ?? this.k()} v`);
    return `huge ${op}`;
  }

  /** Mutate the first line only (a large value's command line): its length, noreply, its `\r\n`. */
  mutateCommandLine(): string {
    const r = this.rng;
    const nl = this.text.indexOf('\r\n');
    let line = this.text.slice(0, nl);
    let rest = this.text.slice(nl);
    let name: string;
    switch (r.int(4)) {
      case 0:
        name = 'length';
        line = line.replace(/ (\d+)(?=( T0| noreply|$))/, (_m, d: string) => ` ${Number(d) + r.pick([1, -1, 2, -2, 1000])}`);
        break;
      case 1:
        name = 'insert-noreply';
        line = `${line} noreply`;
        break;
      case 2:
        name = 'drop-cr';
        rest = rest.slice(1);
        break;
      default:
        name = 'insert-space';
        line = line.replace(' ', '  ');
    }
    this.text = line + rest;
    return name;
  }

  build(): string {
    const r = this.rng;
    const which = r.int(100);
    if (which < 10) return this.retrieval(r.pick(['get', 'get', 'gets', 'gets', 'bget']));
    if (which < 15) return this.gat(r.pick(['gat', 'gats']));
    if (which < 33) return this.storage(r.pick(['set', 'set', 'add', 'replace', 'append', 'prepend', 'cas']));
    if (which < 38) return this.del();
    if (which < 44) return this.arith(r.pick(['incr', 'decr']));
    if (which < 48) return this.touch();
    if (which < 50) return this.verbosity();
    return this.meta(r.pick(['mg', 'mg', 'mg', 'ms', 'ms', 'ms', 'md', 'ma', 'ma', 'me', 'mn']));
  }

  /**
   * Writes of some of `keys` before a read of them, unless one key is over 250 bytes: memcached 1.6.18 would
   * then discard the writes' replies (see mustIsolate), so the read goes first and alone.
   */
  private setupSome(keys: readonly string[], value: () => string): void {
    if (keys.some((k) => k.length > KEY_MAX)) return;
    for (const key of new Set(keys)) if (this.rng.chance(0.5)) this.setupClassic(key, value());
  }

  private retrieval(op: string): string {
    const r = this.rng;
    const n = r.chance(0.05) ? 0 : 1 + r.int(5);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(r.chance(0.2) && keys.length > 0 ? r.pick(keys) : this.key(String.fromCharCode(0x61 + i)));
    this.setupSome(keys, () => this.value().replace(/\r\n/g, ''));
    const sep = (): string => (r.chance(0.1) ? '  ' : ' ');
    this.line(`${op}${keys.map((k) => sep() + k).join('')}${r.chance(0.05) ? ' ' : ''}${r.chance(0.05) ? ' noreply' : ''}`);
    return op;
  }

  private gat(op: string): string {
    const r = this.rng;
    const keys: string[] = [];
    for (let i = r.chance(0.1) ? 0 : 1 + r.int(4); i > 0; i--) keys.push(this.key(String.fromCharCode(0x61 + i)));
    this.setupSome(keys, () => 'hello');
    this.line(`${op} ${this.num(0.85)}${keys.map((k) => ` ${k}`).join('')}`);
    if (r.chance(0.4) && keys[0] !== undefined && keys[0].length <= KEY_MAX) this.line(`mg ${keys[0]} t v`);
    return op;
  }

  private storage(op: string): string {
    const r = this.rng;
    const key = this.key();
    if (r.chance(0.5) && key.length <= KEY_MAX) this.setupClassic(key);
    const value = this.value();
    const flags = r.chance(0.85) ? r.pick(['0', '1', '123', '4294967295']) : r.pick(BAD_NUMBERS);
    const exptime = r.chance(0.85) ? r.pick(['0', '0', '100', '-1', '2592001']) : r.pick(BAD_NUMBERS);
    const cas = op === 'cas' ? ` ${r.pick(CAS_NUMBERS)}` : '';
    const extra = r.chance(0.05) ? ' extra' : '';
    this.text += `${op} ${key} ${flags} ${exptime} ${this.length(value)}${cas}${extra}${this.noreply()}\r\n${value}${this.terminator()}`;
    if (r.chance(0.6)) this.line(r.chance(0.5) ? this.readBack(key) : `mg ${key} v f s`);
    return op;
  }

  private del(): string {
    const r = this.rng;
    const key = this.key();
    if (r.chance(0.6) && key.length <= KEY_MAX) this.setupClassic(key);
    this.line(`delete ${key}${r.pick(['', '', ' 0', ' 5', ' x', ' 0 0', ' noreply noreply', ' 0 x', ' -0'])}${this.noreply()}`);
    if (r.chance(0.4)) this.line(this.readBack(key));
    return 'delete';
  }

  /**
   * incr/decr after a write of a number or not. No stored operand is 2^63 or more: memcached 1.6.18 then
   * looks for a minus sign with a scan that runs past the value's end, and answers at random.
   */
  private arith(op: string): string {
    const r = this.rng;
    const key = this.key();
    if (r.chance(0.7) && key.length <= KEY_MAX) this.setupClassic(key, r.pick(['10', '0', '9223372036854775807', 'abc', '007', ' 5', '99999999999999999999', '1 ', '-1']));
    this.line(`${op} ${key} ${this.num(0.6)}${this.noreply()}`);
    if (r.chance(0.4)) this.line(this.readBack(key));
    return op;
  }

  private touch(): string {
    const r = this.rng;
    const key = this.key();
    if (r.chance(0.6) && key.length <= KEY_MAX) this.setupClassic(key);
    this.line(`touch ${key} ${this.num(0.7)}${this.noreply()}`);
    if (r.chance(0.5)) this.line(`mg ${key} t`);
    return 'touch';
  }

  private verbosity(): string {
    this.line(`verbosity${this.rng.pick(['', ' 1', ' 0', ' x', ' 1 noreply', ' noreply', ' 1 2', ' 1 2 3', ' -1', ' 99999999999999999999'])}`);
    return 'verbosity';
  }

  /** A meta command with a random flag set; sometimes after a write of its key, and followed by a read. */
  private meta(op: string): string {
    const r = this.rng;
    const key = this.key();
    if (op === 'mn') {
      this.line(`mn${r.chance(0.5) ? ` ${this.metaFlags('mg', r.int(3)).join(' ')}` : ''}`);
      return 'mn';
    }
    if (r.chance(0.5) && key.length <= KEY_MAX) {
      if (op === 'ma' && r.chance(0.7)) this.setupClassic(key, r.pick(['5', '0', '9223372036854775807', 'x', '99999999999999999999']));
      else this.setupClassic(key);
    }
    const flags = this.metaFlags(op, r.chance(0.15) ? 0 : r.chance(0.04) ? 15 + r.int(30) : 1 + r.int(r.chance(0.2) ? 9 : 5));
    // A `b` flag among them: the key is sent base64 encoded (valid mostly; else not base64 at all).
    let keyText = key;
    if (flags.some((f) => f === 'b')) keyText = this.base64Key(key);
    if (r.chance(0.03)) keyText = '';
    if (op === 'ms') {
      const value = this.value();
      const len = r.chance(0.05) ? '' : this.length(value);
      this.text += `ms ${keyText}${len === '' ? '' : ` ${len}`}${flags.map((f) => ` ${f}`).join('')}\r\n${value}${this.terminator()}`;
    } else {
      this.line(`${op}${keyText === '' ? '' : ` ${keyText}`}${flags.map((f) => ` ${f}`).join('')}`);
    }
    if (r.chance(0.4) && key.length <= KEY_MAX) this.line(`mg ${key} v f t${r.chance(0.3) ? ' q' : ''}`);
    return op;
  }

  private base64Key(key: string): string {
    const r = this.rng;
    if (r.chance(0.8)) return b64(key);
    return r.pick([`${b64(key)}=`, b64(key).slice(0, -1), `${b64(key)}!`, '!!!!', '====', `=${b64(key)}`, 'YQ', `${b64(key)}${b64(key)}`, b64('x'.repeat(190))]);
  }

  /** `count` flag tokens for `op`: known flags mostly, any character sometimes, some duplicated. */
  private metaFlags(op: string, count: number): string[] {
    const r = this.rng;
    const known = META_FLAGS[op] ?? '';
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      if (out.length > 0 && r.chance(0.12)) {
        const again = (r.pick(out) as string).charAt(0);
        out.push(this.flagToken(again));
        continue;
      }
      const c = known.length > 0 && r.chance(0.75) ? r.pick([...known]) : r.pick([...FLAG_ALPHABET]);
      out.push(this.flagToken(c));
    }
    return out;
  }

  private flagToken(c: string): string {
    const r = this.rng;
    if (c === 'O') {
      const len = r.chance(0.5) ? 30 + r.int(11) : r.int(12);
      let s = '';
      for (let i = 0; i < len; i++) s += r.pick([...PRINTABLE]);
      return `O${s}`;
    }
    if (c === 'M') {
      if (r.chance(0.8)) return `M${r.pick(MODES)}`;
      return `M${r.pick(['', 'EE', 'ES', 'SSS', 'A1', '+-'])}`;
    }
    if (NUMERIC_FLAGS.includes(c)) return `${c}${this.num(0.7)}`;
    if (r.chance(0.15)) return `${c}${r.pick(['B', 'v', 'q', '1', 'k', 'xyz', c])}`;
    return c;
  }
}

// ------------------------------------------------------------------------------------------------ mutations

const NUMBER_POOL = [...GOOD_NUMBERS, ...BAD_NUMBERS, ...LENGTH_NUMBERS];
const INSERT_BYTES = [0x00, 0x09, 0x0d, 0x0a, 0x20, 0x80, 0xff, 0x71, 0x62, 0x4f, 0x3d, 0x2b];

/** Offsets of the starts and ends of space-separated tokens in `s` (lines kept apart). */
function tokens(s: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const re = /[^ \r\n]+/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** One named mutation of `input`. */
export function mutateInput(rng: Rng, input: Buffer): [string, Buffer] {
  const s = input.toString('latin1');
  const at = s.length === 0 ? 0 : rng.int(s.length);
  const toks = tokens(s);
  const out = (name: string, t: string): [string, Buffer] => [name, Buffer.from(t, 'latin1')];
  switch (rng.int(12)) {
    case 0: {
      // Swap two tokens of one line.
      const nl = s.indexOf('\n', at);
      const lineStart = s.lastIndexOf('\n', at - 1) + 1;
      const lineEnd = nl < 0 ? s.length : nl;
      const inLine = toks.filter(([a, b]) => a >= lineStart && b <= lineEnd);
      if (inLine.length < 2) break;
      const i = rng.int(inLine.length);
      let j = rng.int(inLine.length - 1);
      if (j >= i) j++;
      const [x, y] = i < j ? [inLine[i], inLine[j]] : [inLine[j], inLine[i]];
      if (x === undefined || y === undefined) break;
      return out('swap-tokens', s.slice(0, x[0]) + s.slice(y[0], y[1]) + s.slice(x[1], y[0]) + s.slice(x[0], x[1]) + s.slice(y[1]));
    }
    case 1:
      return out('insert-space', s.slice(0, at) + rng.pick([' ', ' ', '  ', '\t']) + s.slice(at));
    case 2:
      return out('delete-bytes', s.slice(0, at) + s.slice(at + 1 + rng.int(rng.chance(0.8) ? 2 : 8)));
    case 3: {
      const runs = [...s.matchAll(/\d+/g)];
      const m = runs.length > 0 ? rng.pick(runs) : undefined;
      if (m === undefined || m.index === undefined) break;
      const repl = rng.chance(0.7) ? rng.pick(NUMBER_POOL) : String(Number(m[0]) + rng.pick([1, -1, 2, 10]));
      return out('change-digits', s.slice(0, m.index) + repl + s.slice(m.index + m[0].length));
    }
    case 4: {
      // noreply at the end of a line, or between two tokens.
      if (rng.chance(0.6)) {
        const nl = s.indexOf('\n', at);
        if (nl < 0) return out('insert-noreply', `${s} noreply`);
        const end = nl > 0 && s[nl - 1] === '\r' ? nl - 1 : nl;
        return out('insert-noreply', `${s.slice(0, end)} noreply${s.slice(end)}`);
      }
      const t = toks.length > 0 ? rng.pick(toks) : undefined;
      if (t === undefined) break;
      return out('insert-noreply', `${s.slice(0, t[1])} noreply${s.slice(t[1])}`);
    }
    case 5: {
      const i = s.indexOf(' noreply');
      if (i < 0) break;
      const without = s.slice(0, i) + s.slice(i + 8);
      const ts = tokens(without);
      const t = ts.length > 0 ? rng.pick(ts) : undefined;
      if (t === undefined) break;
      return out('move-noreply', `${without.slice(0, t[1])} noreply${without.slice(t[1])}`);
    }
    case 6: {
      const crs = [...s.matchAll(/\r\n/g)];
      const m = crs.length > 0 ? rng.pick(crs) : undefined;
      if (m === undefined || m.index === undefined) break;
      return out('drop-cr', s.slice(0, m.index) + s.slice(m.index + 1));
    }
    case 7: {
      const t = toks.length > 0 ? rng.pick(toks) : undefined;
      if (t === undefined) break;
      return out('duplicate-token', `${s.slice(0, t[1])} ${s.slice(t[0], t[1])}${s.slice(t[1])}`);
    }
    case 8:
      return out('insert-byte', s.slice(0, at) + String.fromCharCode(rng.pick(INSERT_BYTES)) + s.slice(at));
    case 9: {
      // Change the first character of a token (a flag becomes another flag, a verb another verb).
      const t = toks.length > 0 ? rng.pick(toks) : undefined;
      if (t === undefined) break;
      return out('replace-char', s.slice(0, t[0]) + rng.pick([...FLAG_ALPHABET]) + s.slice(t[0] + 1));
    }
    case 10: {
      const lines = s.split(/(?<=\n)/);
      const i = rng.int(lines.length);
      if (rng.chance(0.5)) lines.splice(i, 0, lines[i] ?? '');
      else lines.splice(i, 1);
      return out(rng.chance(0.5) ? 'duplicate-line' : 'drop-line', lines.join(''));
    }
    default:
      return out('truncate', s.slice(0, at));
  }
  return out('insert-space', `${s.slice(0, at)} ${s.slice(at)}`);
}

// ------------------------------------------------------------------------------------------------ comparison

/** A reply with cas uniques replaced and clock-dependent numbers taken out (see the module comment). */
export interface Normalized {
  readonly text: string;
  readonly times: readonly number[];
}

// Tokens are what memcached separates with spaces: a key (k flag, VALUE line) may hold \t, \r or any byte.
const META_HEADER = /^(VA \d+|HD|EN|NF|NS|EX|MN)((?: [^ \n]*)*)\r\n$/;

/** Normalise one token list of a meta reply header (` c123 t5 kfoo` → ` c<cas> t<time> kfoo`). */
function metaFlags(flags: string, times: number[]): string {
  return flags.replace(/ (?:c\d+|([tl])(-?\d+))(?= |$)/g, (whole, t: string | undefined, n: string | undefined) => {
    if (t === undefined || n === undefined) return ' c<cas>';
    times.push(Number(n));
    return ` ${t}<time>`;
  });
}

/** Normalise a reply stream; see the module comment for exactly what changes. */
export function normalizeReply(reply: Buffer): Normalized {
  const times: number[] = [];
  let text = '';
  let pos = 0;
  while (pos < reply.length) {
    const nl = reply.indexOf(0x0a, pos);
    if (nl < 0) {
      text += reply.toString('latin1', pos);
      break;
    }
    let line = reply.toString('latin1', pos, nl + 1);
    let data = -1;
    const value = /^VALUE ([^ \n]+) (\d+) (\d+)( \d+)?\r\n$/.exec(line);
    const meta = value ? null : META_HEADER.exec(line);
    if (value) {
      data = Number(value[3]);
      if (value[4] !== undefined) line = `VALUE ${value[1]} ${value[2]} ${value[3]} <cas>\r\n`;
    } else if (meta) {
      const head = meta[1] ?? '';
      if (head.startsWith('VA ')) data = Number(head.slice(3));
      line = `${head}${metaFlags(meta[2] ?? '', times)}\r\n`;
    } else if (line.startsWith('ME ')) {
      line = line.replace(/ cas=\d+/, ' cas=<cas>').replace(/ (exp|la)=(-?\d+)/g, (_w, name: string, n: string) => {
        times.push(Number(n));
        return ` ${name}=<time>`;
      });
    }
    text += line;
    pos = nl + 1;
    if (data >= 0) {
      const end = Math.min(reply.length, pos + data + 2);
      text += reply.toString('latin1', pos, end);
      pos = end;
    }
  }
  return { text, times };
}

/** True when two replies are the same after normalisation, times at most one second apart. */
export function sameReplies(a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true;
  const x = normalizeReply(a);
  const y = normalizeReply(b);
  if (x.text !== y.text || x.times.length !== y.times.length) return false;
  return x.times.every((t, i) => Math.abs(t - (y.times[i] as number)) <= 1);
}

// ------------------------------------------------------------------------------------------------ exchanges

/** How a target's answer to an exchange ended. */
export type EndState = 'sentinel' | 'closed' | 'no-answer';

export interface SideReply {
  /** Everything the target answered to the inputs (without the sentinel's reply). */
  readonly bytes: Buffer;
  readonly end: EndState;
}

export interface Exchange {
  readonly direct: SideReply;
  readonly relay: SideReply;
  /** Filler had to be sent (memcached was left waiting inside a data block). */
  readonly filled: boolean;
}

/** A side's reply as compared: the bytes plus a marker when it did not end at the sentinel. */
function endMarker(s: SideReply): string {
  return s.end === 'sentinel' ? '' : s.end === 'closed' ? '<closed>' : '<no answer>';
}

export function sameExchange(e: Exchange): boolean {
  return e.direct.end === e.relay.end && sameReplies(e.direct.bytes, e.relay.bytes);
}

const MN = Buffer.from('mn\r\n', 'latin1');

export interface Timeouts {
  /** How long memcached may take to answer a batch before it is taken as waiting in a data block. */
  readonly directMs: number;
  /** How long mcrelay may take once memcached has answered (another process, another hop). */
  readonly relayMs: number;
  /** Silence after which a target that has not answered is taken as waiting in a data block. */
  readonly idleMs: number;
}

const DEFAULT_TIMEOUTS: Timeouts = { directMs: 400, relayMs: 3000, idleMs: 60 };

/** Sentinel keys and numbers are unique in this process, and across processes started at other times. */
const RUN_TAG = b36(Date.now() % 36 ** 4, 4);
let sentinelSerial = 0;

/** A pair of connections (direct memcached, mcrelay) that exchanges batches of inputs. */
export class Lane {
  private direct: RawClient | null = null;
  private relay: RawClient | null = null;
  /** Exchanges that needed filler; that ended with a connection replaced (closed, or still waiting). */
  filled = 0;
  reconnects = 0;
  /** Optional tampering with mcrelay's replies (the self-test injects a difference with it). */
  tamper: ((relay: Buffer) => Buffer) | null = null;
  /** Where slow exchanges are reported (debugging the runner). */
  log: ((line: string) => void) | null = null;
  /** Share of exchanges whose bytes reach mcrelay in several writes. */
  cutRate = 0.25;
  private readonly rng: Rng;

  constructor(
    private readonly directPort: number,
    private readonly relayPort: number,
    private readonly tag: string,
    private readonly timeouts: Timeouts = DEFAULT_TIMEOUTS,
  ) {
    this.rng = new Rng(Number.parseInt(tag, 36) | 0);
  }

  /**
   * Send `inputs` (each followed by `mn\r\n` unless glued) to both targets and collect both answers.
   * mcrelay gets the stream cut at random points into writes a millisecond apart now and then (its parser
   * must resume anywhere); memcached gets it in one write.
   */
  async exchange(inputs: readonly Input[]): Promise<Exchange> {
    const t0 = performance.now();
    if (this.direct === null || this.relay === null) {
      this.close();
      const [dc, rc] = await Promise.all([RawClient.connect(this.directPort, { timeoutMs: 10_000 }), RawClient.connect(this.relayPort, { timeoutMs: 10_000 })]);
      // First bytes on a new connection: `mn`, alone, so memcached settles on the text protocol and
      // nothing is pending when the first input arrives.
      await Promise.all([dc.roundTrip(''), rc.roundTrip('')]);
      [this.direct, this.relay] = [dc, rc];
    }
    const direct = this.direct;
    const relay = this.relay;
    const parts: Buffer[] = [];
    for (const x of inputs) {
      parts.push(x.bytes);
      if (!x.glue) parts.push(MN);
    }
    const s1 = this.sentinel();
    parts.push(s1.request);
    const stream = Buffer.concat(parts);
    await Promise.all([direct.send(stream).catch(() => undefined), this.sendCut(relay, stream).catch(() => undefined)]);

    const { directMs, relayMs, idleMs } = this.timeouts;
    let [d, r] = await Promise.all([waitFor(direct, s1.reply, directMs, idleMs), waitFor(relay, s1.reply, directMs, idleMs)]);
    if (d === 'sentinel' && r === 'no-answer') r = await waitFor(relay, s1.reply, relayMs, 5 * idleMs);
    let filled = false;
    let last = s1.reply;
    if (d === 'no-answer' || r === 'no-answer') {
      // Waiting inside a data block: complete it on both sides, then a second sentinel.
      filled = true;
      this.filled++;
      const s2 = this.sentinel();
      const more = Buffer.concat([filler(inputs), s2.request]);
      await Promise.all([d !== 'closed' ? direct.send(more).catch(() => undefined) : undefined, r !== 'closed' ? relay.send(more).catch(() => undefined) : undefined]);
      // Now patience: what is decided here is final. memcached has had its filler; silence for 300 ms means a
      // length the filler cannot cover (it swallows for good), or a slow machine, which 300 ms covers.
      const d2 = d === 'closed' ? 'closed' : await waitFor(direct, s2.reply, relayMs, 5 * idleMs);
      const r2 = r === 'closed' ? 'closed' : await waitFor(relay, s2.reply, relayMs, d2 === 'sentinel' ? 1000 : 5 * idleMs);
      [d, r] = [d2, r2];
      last = s2.reply;
      // Still waiting (a declared length beyond what filler covers): take what has come, then replace both.
      if (d === 'no-answer' || r === 'no-answer') await Promise.all([direct.readIdle(idleMs, 4 * idleMs), relay.readIdle(idleMs, 4 * idleMs)]).catch(() => undefined);
    }
    const take = async (c: RawClient, end: EndState): Promise<SideReply> => {
      let bytes = await c.readWith((buf) => buf.length, 1000, 'what is buffered');
      if (end === 'sentinel') bytes = bytes.subarray(0, bytes.length - last.length);
      return { bytes, end };
    };
    const dr = await take(direct, d);
    let rr = await take(relay, r);
    if (this.tamper !== null) rr = { bytes: this.tamper(rr.bytes), end: rr.end };
    if (d !== 'sentinel' || r !== 'sentinel') {
      this.reconnects++;
      this.close();
    }
    const ms = performance.now() - t0;
    if (ms > 500) this.log?.(`[diff-fuzz] slow exchange: ${Math.round(ms)} ms, ${inputs.length} inputs, memcached ${d}, mcrelay ${r}, filled ${filled}; last input "${escapeBytes(inputs[inputs.length - 1]?.bytes ?? Buffer.alloc(0), 300)}"`);
    return { direct: dr, relay: rr, filled };
  }

  /**
   * A client that goes away mid-request: part of `inputs` (cut anywhere, often inside a command or value)
   * goes to both targets, followed by a FIN, without reading the replies. Nothing is compared; what must
   * hold is that mcrelay's shared upstream connections stay in sync, which the next exchanges and the
   * canary check. (A FIN, not a reset: on a reset the kernel may drop bytes memcached has not read yet, so
   * the two servers would not have run the same commands.)
   */
  async abort(inputs: readonly Input[]): Promise<void> {
    const [dc, rc] = await Promise.all([RawClient.connect(this.directPort, { timeoutMs: 10_000 }), RawClient.connect(this.relayPort, { timeoutMs: 10_000 })]);
    const stream = Buffer.concat(inputs.map((x) => x.bytes));
    const cut = stream.subarray(0, 1 + this.rng.int(Math.max(1, stream.length)));
    await Promise.all([dc.send(cut).catch(() => undefined), rc.send(cut).catch(() => undefined)]);
    if (this.rng.chance(0.5)) await new Promise((resolve) => setTimeout(resolve, this.rng.int(5)));
    dc.socket.end();
    rc.socket.end();
    // Both close once they have read the FIN (memcached after running what came before it).
    await Promise.all([dc.expectClosed(2000).catch(() => undefined), rc.expectClosed(2000).catch(() => undefined)]);
    dc.destroy();
    rc.destroy();
  }

  /** A draw from the lane's generator (for the runner's own choices). */
  chance(p: number): boolean {
    return this.rng.chance(p);
  }

  /** Write `stream` to `c`, now and then in 2–5 pieces cut at random offsets, 1 ms apart. */
  private async sendCut(c: RawClient, stream: Buffer): Promise<void> {
    if (this.cutRate === 0 || !this.rng.chance(this.cutRate) || stream.length < 2) {
      await c.send(stream);
      return;
    }
    const cuts = new Set<number>();
    for (let i = 1 + this.rng.int(4); i > 0; i--) cuts.add(1 + this.rng.int(stream.length - 1));
    let at = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      await c.send(stream.subarray(at, cut));
      await new Promise((resolve) => setTimeout(resolve, 1));
      at = cut;
    }
    await c.send(stream.subarray(at));
  }

  close(): void {
    this.direct?.destroy();
    this.relay?.destroy();
    this.direct = null;
    this.relay = null;
  }

  private sentinel(): { request: Buffer; reply: Buffer } {
    const n = sentinelSerial++;
    const id = String(1_000_000_000_000 + n);
    return {
      request: Buffer.from(`ma s${RUN_TAG}${this.tag}${b36(n, 8)} N2 J${id} v\r\n`, 'latin1'),
      reply: Buffer.from(`VA ${id.length}\r\n${id}\r\n`, 'latin1'),
    };
  }
}

/**
 * Wait until `c`'s buffered bytes end with `tail` ('sentinel') or the peer closed ('closed'), for at most
 * `maxMs`, and with `idleMs` also giving up once no byte came for that long ('no-answer'). Consumes nothing.
 */
async function waitFor(c: RawClient, tail: Buffer, maxMs: number, idleMs: number | null): Promise<EndState> {
  const start = performance.now();
  let seen = -1;
  let lastChange = start;
  for (;;) {
    const buf = c.buffered();
    if (buf.length >= tail.length && buf.subarray(buf.length - tail.length).equals(tail)) return 'sentinel';
    if (c.closed) return 'closed';
    const now = performance.now();
    if (buf.length !== seen) {
      seen = buf.length;
      lastChange = now;
    }
    const left = Math.min(start + maxMs - now, idleMs === null ? Infinity : lastChange + idleMs - now);
    if (left <= 0) return 'no-answer';
    const before = seen;
    // Wake on the next bytes (or close), or when the time is up.
    await c.readWith((b, closed) => (b.length !== before || closed ? 0 : -1), Math.ceil(left), 'more bytes').catch(() => undefined);
  }
}

const FILL_CAP = 1_200_000;
const FILL_LINE = `${'x'.repeat(1022)}\r\n`;

/**
 * Bytes that complete any data block a batch can leave memcached waiting in: at least the largest number
 * in the batch that is at most FILL_CAP (a declared length), plus 2, in lines of 1 KB (so the rest, parsed
 * as commands, never makes a line too long).
 */
export function filler(inputs: readonly Input[]): Buffer {
  let need = 64;
  for (const x of inputs) {
    for (const m of x.bytes.toString('latin1').matchAll(/\d+/g)) {
      const n = Number(m[0]);
      if (n <= FILL_CAP && n + 2 > need) need = n + 2;
    }
  }
  const lines = Math.ceil(need / FILL_LINE.length) + 1;
  return Buffer.from(FILL_LINE.repeat(lines), 'latin1');
}

// ------------------------------------------------------------------------------------------------ differences

/** What a deliberate-difference rule sees. */
export interface DiffCase {
  readonly input: Buffer;
  /** `input` as it went out: followed by `mn\r\n` unless glued (a line the input leaves open ends there). */
  readonly sent: Buffer;
  readonly direct: Buffer;
  readonly relay: Buffer;
  readonly directEnd: EndState;
  readonly relayEnd: EndState;
}

/** A difference mcrelay makes on purpose: its id, why, and a precise test of the difference. */
export interface Deliberate {
  readonly id: string;
  readonly why: string;
  matches(d: DiffCase): boolean;
}

export interface Difference extends DiffCase {
  readonly inputs: readonly Input[];
  readonly label: string;
  readonly signature: string;
  /**
   * `single` input, a `window` of consecutive inputs, `collateral` (did not happen again on a re-run), or
   * `unconfirmed`: it came from items an earlier input left under a key outside its prefix (a mutation can
   * split a key), not from this input: gone when re-run after both memcacheds were flushed, or not seen again
   * in a batch of inputs that name such keys.
   */
  readonly kind: 'single' | 'window' | 'collateral' | 'unconfirmed';
  readonly deliberate: string | null;
}

export interface DiffClass {
  readonly signature: string;
  readonly deliberate: string | null;
  /** False for `unconfirmed` differences (see Difference.kind): reported, but not an mcrelay difference. */
  readonly confirmed: boolean;
  count: number;
  /** The shortest examples seen (at most 3). */
  examples: Difference[];
  /** The shortest example after minimisation (filled in at the end of a run). */
  minimized: Difference | null;
  /** How often each main command (Input.label) showed this difference. */
  readonly labels: Map<string, number>;
}

/** Lines of a normalised reply, plus its end marker. */
function replyLines(bytes: Buffer, end: EndState): string[] {
  const lines = normalizeReply(bytes).text.split(/(?<=\n)/).filter((l) => l.length > 0);
  const m = endMarker({ bytes, end });
  if (m !== '') lines.push(m);
  return lines;
}

/** A reply line reduced to its shape: keys → K, digit runs → N, at most 60 characters. */
function shape(line: string | undefined, prefixes: readonly string[]): string {
  if (line === undefined) return '∅';
  let s = line;
  for (const p of prefixes) {
    s = s.split(p).join('\u0001').split(b64(p)).join('\u0001');
  }
  s = s.replace(/\u0001\S*/g, 'K').replace(/\d+/g, 'N').replace(/\r\n$/, '');
  s = escapeBytes(Buffer.from(s, 'latin1'));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The class of a difference: the first differing line of each side, shaped. (Not the input's main command:
 * the line that differs is often another one, e.g. the write before it, and one cause shows up under many.)
 */
export function signatureOf(e: Exchange, prefixes: readonly string[]): string {
  const a = replyLines(e.direct.bytes, e.direct.end);
  const b = replyLines(e.relay.bytes, e.relay.end);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) {
    const x = normalizeReply(e.direct.bytes).times;
    const y = normalizeReply(e.relay.bytes).times;
    return x.length === y.length && x.some((t, j) => Math.abs(t - (y[j] as number)) > 1) ? 'times differ by more than 1 s' : 'same lines (a difference the comparison was told to see)';
  }
  return `memcached ${shape(a[i], prefixes)} | mcrelay ${shape(b[i], prefixes)}`;
}

/** Replace every prefix of `input` with a fresh one of the same length (raw and base64 forms). */
export function rename(input: Input, fresh: () => string): Input {
  let s = input.bytes.toString('latin1');
  const prefixes: string[] = [];
  for (const p of input.prefixes) {
    const q = fresh();
    s = s.split(p).join(q).split(b64(p)).join(b64(q));
    prefixes.push(q);
  }
  return { ...input, bytes: Buffer.from(s, 'latin1'), prefixes };
}

/** Several consecutive inputs as one (joined as a batch sends them). */
function joinInputs(xs: readonly Input[]): Input {
  const parts: Buffer[] = [];
  xs.forEach((x, i) => {
    parts.push(x.bytes);
    if (i < xs.length - 1 && !x.glue) parts.push(MN);
  });
  const last = xs[xs.length - 1];
  return {
    bytes: Buffer.concat(parts),
    prefixes: xs.flatMap((x) => x.prefixes),
    label: xs.length === 1 && last ? last.label : `${last?.label ?? '?'} (window)`,
    mutations: xs.flatMap((x) => x.mutations),
    glue: last?.glue ?? false,
    alone: xs.some((x) => x.alone),
    foreign: xs.some((x) => x.foreign),
  };
}

// ------------------------------------------------------------------------------------------------ the run

/** Wakes everyone waiting on it (then waits again start over). */
class Bell {
  private ringNow: () => void = () => {};
  private next: Promise<void> = this.fresh();
  private fresh(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.ringNow = resolve;
    });
  }
  wait(): Promise<void> {
    return this.next;
  }
  ring(): void {
    const ring = this.ringNow;
    this.next = this.fresh();
    ring();
  }
}

export interface RunOptions {
  readonly inputs: number;
  readonly seed: number;
  readonly directPort: number;
  readonly relayPort: number;
  readonly deliberate?: readonly Deliberate[];
  /** Share of batches preceded by a request abandoned mid-way (Lane.abort); default 0.01. */
  readonly abortRate?: number;
  /** Concurrent lanes (connection pairs); default 3. */
  readonly lanes?: number;
  /** Largest batch (inputs per exchange); default 100. */
  readonly maxBatch?: number;
  /** Minimisation tries per class at the end; default 80 (0: none). */
  readonly minimizeTries?: number;
  /** Time for all minimisation, most frequent classes first; default 20 s. */
  readonly minimizeMs?: number;
  readonly timeouts?: Timeouts;
  /** Inject a difference into mcrelay's replies (self-test only). */
  readonly tamper?: (relay: Buffer) => Buffer;
  /**
   * Both memcacheds (direct, and the one behind mcrelay). After a difference that is not deliberate the two
   * may hold different items (mcrelay may not have forwarded a write), and a key outside the inputs' prefixes
   * (a mutation can split one) would carry that into later inputs; so all lanes stop, `quiesce` pauses other
   * clients (the canary), and both get `flush_all`.
   */
  readonly flushPorts?: readonly number[];
  readonly quiesce?: { pause(): Promise<void>; resume(): void };
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface RunReport {
  readonly seed: number;
  inputs: number;
  mutated: number;
  exchanges: number;
  reruns: number;
  filled: number;
  reconnects: number;
  /** Times both memcacheds were flushed after a difference. */
  flushes: number;
  /** Connections closed mid-request on purpose (Lane.abort; their inputs are extra, not counted above). */
  aborted: number;
  differences: number;
  deliberateDifferences: number;
  readonly classes: Map<string, DiffClass>;
  wallMs: number;
}

/** Run the differential fuzzer; see the module comment. */
export async function runDifferential(opts: RunOptions): Promise<RunReport> {
  const t0 = performance.now();
  const gen = new Generator(opts.seed);
  const deliberate = opts.deliberate ?? [];
  const maxBatch = opts.maxBatch ?? 100;
  const report: RunReport = {
    seed: opts.seed, inputs: 0, mutated: 0, exchanges: 0, reruns: 0, filled: 0, reconnects: 0, flushes: 0, aborted: 0, differences: 0, deliberateDifferences: 0,
    classes: new Map(), wallMs: 0,
  };
  let renamed = 0;
  const fresh = (): string => makePrefix('r', opts.seed, renamed++);
  let lastLog = performance.now();

  /** A difference that is not deliberate was seen: flush both memcacheds before the next batch. */
  let resyncWanted = false;
  const bell = new Bell();
  const record = (d: Difference): void => {
    report.differences++;
    if (d.deliberate === null && d.kind !== 'unconfirmed') {
      resyncWanted = true;
      bell.ring();
    }
    if (d.deliberate !== null) report.deliberateDifferences++;
    let c = report.classes.get(d.signature);
    if (c === undefined) {
      c = { signature: d.signature, deliberate: d.deliberate, confirmed: d.kind !== 'unconfirmed', count: 0, examples: [], minimized: null, labels: new Map() };
      report.classes.set(d.signature, c);
      opts.log?.(`[diff-fuzz] new class: ${d.signature}\n  input:     ${escapeBytes(d.input, 600)}\n  memcached: ${escapeBytes(d.direct, 600)}${d.directEnd === 'sentinel' ? '' : ` <${d.directEnd}>`}\n  mcrelay:   ${escapeBytes(d.relay, 600)}${d.relayEnd === 'sentinel' ? '' : ` <${d.relayEnd}>`}`);
    }
    c.count++;
    c.labels.set(d.label, (c.labels.get(d.label) ?? 0) + 1);
    c.examples.push(d);
    c.examples.sort((x, y) => x.input.length - y.input.length);
    if (c.examples.length > 3) c.examples.length = 3;
  };

  const makeDifference = (xs: readonly Input[], e: Exchange, kind: Difference['kind']): Difference => {
    const one = joinInputs(xs);
    const sent = one.glue ? one.bytes : Buffer.concat([one.bytes, MN]);
    const base: DiffCase = { input: one.bytes, sent, direct: e.direct.bytes, relay: e.relay.bytes, directEnd: e.direct.end, relayEnd: e.relay.end };
    const rule = deliberate.find((r) => r.matches(base));
    const sig = signatureOf(e, one.prefixes);
    const tagged =
      kind === 'collateral' ? `collateral (not reproducible alone) | ${sig}` : kind === 'unconfirmed' ? `unconfirmed (items left by earlier inputs under foreign keys) | ${sig}` : sig;
    // One class per deliberate rule: the rule, not the reply lines, says what the difference is.
    return { ...base, inputs: xs, label: one.label, signature: rule ? `[deliberate: ${rule.id}]` : tagged, kind, deliberate: rule?.id ?? null };
  };

  const lanes: Lane[] = [];
  const laneCount = opts.lanes ?? 3;
  for (let i = 0; i < laneCount; i++) {
    const lane = new Lane(opts.directPort, opts.relayPort, `${b36(opts.seed >>> 0, 3)}${i}`, opts.timeouts ?? DEFAULT_TIMEOUTS);
    if (opts.tamper) lane.tamper = opts.tamper;
    if (opts.log) lane.log = opts.log;
    lanes.push(lane);
  }
  const control = await RawClient.connect(opts.directPort, { timeoutMs: 5000 });

  /** Re-run `xs` with fresh keys; the exchange, and whether it differs. */
  const rerun = async (lane: Lane, xs: readonly Input[]): Promise<{ xs: Input[]; e: Exchange; differs: boolean }> => {
    report.reruns++;
    const ys = xs.map((x) => rename(x, fresh));
    const e = await lane.exchange(ys);
    return { xs: ys, e, differs: !sameExchange(e) };
  };

  /** Smallest window of consecutive inputs of `xs` (which differ together) that still differs. */
  const windowOf = async (lane: Lane, xs: readonly Input[], found: Difference[]): Promise<void> => {
    let lo = 1;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((await rerun(lane, xs.slice(0, mid))).differs) hi = mid;
      else lo = mid + 1;
    }
    let s = 0;
    let e = hi - 1;
    while (s < e) {
      const mid = (s + e + 1) >> 1;
      if ((await rerun(lane, xs.slice(mid, hi))).differs) s = mid;
      else e = mid - 1;
    }
    const last = await rerun(lane, xs.slice(s, hi));
    if (last.differs) found.push(makeDifference(last.xs, last.e, last.xs.length === 1 ? 'single' : 'window'));
  };

  /** `xs` differed as a group (exchange `e`): find the inputs or windows responsible, into `found`. */
  const locate = async (lane: Lane, xs: readonly Input[], e: Exchange, top: boolean, found: Difference[]): Promise<void> => {
    // Not seen again: another client's doing, unless the batch names foreign keys, whose items any earlier
    // input may have left different on the two servers.
    const notAgain = (): Difference['kind'] => (xs.some((x) => x.foreign) ? 'unconfirmed' : 'collateral');
    if (xs.length === 1) {
      const again = await rerun(lane, xs);
      if (again.differs) found.push(makeDifference(again.xs, again.e, 'single'));
      else if (top) found.push(makeDifference(xs, e, notAgain()));
      return;
    }
    const half = xs.length >> 1;
    const a = await rerun(lane, xs.slice(0, half));
    const b = await rerun(lane, xs.slice(half));
    if (a.differs) await locate(lane, a.xs, a.e, false, found);
    if (b.differs) await locate(lane, b.xs, b.e, false, found);
    if (a.differs || b.differs) return;
    const whole = await rerun(lane, xs);
    if (whole.differs) await windowOf(lane, whole.xs, found);
    else if (top) found.push(makeDifference(xs, e, notAgain()));
  };

  /**
   * Record what locate found. A single input or window that is not deliberate is first re-run once more
   * after both memcacheds were flushed (when flushPorts are given): what is gone then was made by items an
   * earlier input left behind, and is recorded as `unconfirmed`.
   */
  const settle = async (lane: Lane, found: readonly Difference[]): Promise<void> => {
    const doubtful = found.filter((d) => d.deliberate === null && (d.kind === 'single' || d.kind === 'window'));
    for (const d of found) if (!doubtful.includes(d)) record(d);
    if (doubtful.length === 0) return;
    if (opts.flushPorts === undefined) {
      for (const d of doubtful) record(d);
      return;
    }
    resyncWanted = true;
    bell.ring();
    await arrive();
    for (const d of doubtful) {
      const again = await rerun(lane, d.inputs);
      if (again.differs) record(makeDifference(again.xs, again.e, d.kind));
      else record(makeDifference(d.inputs, { direct: { bytes: d.direct, end: d.directEnd }, relay: { bytes: d.relay, end: d.relayEnd }, filled: false }, 'unconfirmed'));
    }
  };

  /** Inputs for aborted requests come from a generator of their own, so the compared sequence stays the same. */
  const abortGen = new Generator(opts.seed ^ 0x5bd1e995);
  const abortRate = opts.abortRate ?? 0.01;
  let generated = 0;
  /** An input that must go alone, held back until the batch before it has been sent. */
  let held: Input | null = null;
  const nextInput = (): Input | null => {
    if (held !== null) {
      const x = held;
      held = null;
      return x;
    }
    if (generated >= opts.inputs) return null;
    const x = gen.next();
    generated++;
    if (x.mutations.length > 0) report.mutated++;
    return x;
  };
  /** Foreign inputs wait here until there are enough for a batch of their own (then run one at a time). */
  const foreignQueue: Input[] = [];
  /** The next batch: at most `n` inputs, all foreign or none; an `alone` input by itself. */
  const take = (n: number): Input[] => {
    if (foreignQueue.length >= n) return foreignQueue.splice(0, n);
    const out: Input[] = [];
    while (out.length < n) {
      const x = nextInput();
      if (x === null) break;
      if (x.alone) {
        if (out.length === 0) return [x];
        held = x;
        break;
      }
      if (x.foreign) {
        foreignQueue.push(x);
        if (foreignQueue.length >= n && out.length === 0) return foreignQueue.splice(0, n);
        continue;
      }
      out.push(x);
    }
    return out.length > 0 ? out : foreignQueue.splice(0, n);
  };

  // The flush barrier: every running lane waits between batches, the last one in flushes.
  let active = laneCount;
  let waiting: Array<() => void> = [];
  let flushing = false;
  const flushBoth = async (): Promise<void> => {
    if (opts.flushPorts === undefined) return;
    await opts.quiesce?.pause();
    try {
      for (const port of opts.flushPorts) {
        const c = await RawClient.connect(port, { timeoutMs: 5000 });
        try {
          const got = await c.roundTrip('flush_all\r\n');
          if (got.toString('latin1') !== 'OK\r\n') throw new Error(`flush_all on ${port} answered "${escapeBytes(got)}"`);
        } finally {
          c.destroy();
        }
      }
      report.flushes++;
    } finally {
      opts.quiesce?.resume();
    }
  };
  const tryFlush = async (): Promise<void> => {
    if (flushing || waiting.length === 0 || waiting.length < active) return;
    flushing = true;
    try {
      await flushBoth();
    } finally {
      resyncWanted = false;
      flushing = false;
      const w = waiting;
      waiting = [];
      for (const wake of w) wake();
    }
  };
  const arrive = (): Promise<void> =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      void tryFlush();
    });

  // One foreign batch at a time. A lane waiting for its turn still takes part in flush barriers (the
  // holder may need one to confirm a difference), so `bell` wakes it when either may have changed.
  let foreignHeld = false;
  const acquireForeign = async (): Promise<void> => {
    while (foreignHeld) {
      if (resyncWanted && opts.flushPorts !== undefined) await arrive();
      else await bell.wait();
    }
    foreignHeld = true;
  };
  const releaseForeign = (): void => {
    foreignHeld = false;
    bell.ring();
  };

  const runLane = async (lane: Lane): Promise<void> => {
    try {
      await laneLoop(lane, Math.min(32, maxBatch));
    } finally {
      active--;
      void tryFlush();
    }
  };

  const laneLoop = async (lane: Lane, initial: number): Promise<void> => {
    let size = initial;
    for (;;) {
      if (resyncWanted && opts.flushPorts !== undefined) await arrive();
      if (abortRate > 0 && lane.chance(abortRate)) {
        report.aborted++;
        const xs: Input[] = [];
        while (xs.length < 1 + (report.aborted % 4)) {
          const x = abortGen.next();
          if (!x.foreign) xs.push(x);
        }
        await lane.abort(xs);
      }
      const batch = take(size);
      if (batch.length === 0) return;
      const foreign = batch[0]?.foreign === true;
      if (foreign) await acquireForeign();
      try {
        size = await runBatch(lane, batch, size);
      } finally {
        if (foreign) releaseForeign();
      }
      if (batch.some((x) => x.bytes.includes('verbosity'))) {
        // memcached logs every command at verbosity > 1 (to a pipe the harness keeps): set it back.
        await control.roundTrip('verbosity 0\r\n').catch(() => undefined);
      }
      if (opts.log && performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        opts.log(`[diff-fuzz] progress inputs=${report.inputs} differences=${report.differences} classes=${report.classes.size} ms=${Math.round(lastLog - t0)}`);
      }
    }
  };

  /** Exchange one batch, attribute what differs; the next batch size. */
  const runBatch = async (lane: Lane, batch: readonly Input[], size: number): Promise<number> => {
    {
      report.exchanges++;
      const e = await lane.exchange(batch);
      report.inputs += batch.length;
      const differs = !sameExchange(e);
      if (differs) {
        const found: Difference[] = [];
        await locate(lane, batch, e, true, found);
        await settle(lane, found);
        return Math.max(4, size >> 1);
      }
      return Math.min(maxBatch, size + 8);
    }
  };

  try {
    await Promise.all(lanes.map(runLane));
    const tries = opts.minimizeTries ?? 80;
    const until = performance.now() + (opts.minimizeMs ?? 20_000);
    const lane = lanes[0];
    if (resyncWanted) {
      await flushBoth();
      resyncWanted = false;
    }
    if (tries > 0 && lane !== undefined) {
      for (const c of [...report.classes.values()].sort((x, y) => y.count - x.count)) {
        const ex = c.examples[0];
        if (ex === undefined || ex.kind === 'collateral' || !c.confirmed || c.deliberate !== null || performance.now() > until) continue;
        c.minimized = await minimize(ex, tries, until, (xs, e) => makeDifference(xs, e, 'single'), (x) => rerun(lane, [x]));
      }
    }
  } finally {
    for (const l of lanes) {
      report.filled += l.filled;
      report.reconnects += l.reconnects;
      l.close();
    }
    control.destroy();
  }
  report.wallMs = performance.now() - t0;
  return report;
}

/**
 * Greedy minimisation of a difference: drop lines, then tokens, then shorten long tokens, keeping every
 * change after which a re-run still differs with the same signature. At most `tries` re-runs.
 */
async function minimize(
  d: Difference,
  tries: number,
  until: number,
  make: (xs: readonly Input[], e: Exchange) => Difference,
  run: (x: Input) => Promise<{ xs: Input[]; e: Exchange; differs: boolean }>,
): Promise<Difference> {
  let best = joinInputs(d.inputs);
  let bestDiff = d;
  let left = tries;
  const attempt = async (bytes: string): Promise<boolean> => {
    if (performance.now() > until) left = 0;
    if (left <= 0) return false;
    const cand: Input = { ...best, bytes: Buffer.from(bytes, 'latin1') };
    if (!acceptable(cand.bytes)) return false;
    left--;
    const r = await run(cand);
    if (!r.differs) return false;
    const got = make(r.xs, r.e);
    if (got.signature !== d.signature) return false;
    // Keep the original prefixes (rename() maps them afresh on every try).
    best = cand;
    bestDiff = got;
    return true;
  };
  let progress = true;
  while (progress && left > 0) {
    progress = false;
    // 1. whole lines
    let lines = best.bytes.toString('latin1').split(/(?<=\n)/);
    for (let i = 0; i < lines.length && left > 0; ) {
      if (lines.length > 1 && (await attempt([...lines.slice(0, i), ...lines.slice(i + 1)].join('')))) {
        lines = best.bytes.toString('latin1').split(/(?<=\n)/);
        progress = true;
      } else i++;
    }
    // 2. tokens
    let s = best.bytes.toString('latin1');
    let toks = tokens(s);
    for (let i = toks.length - 1; i >= 0 && left > 0; i--) {
      const t = toks[i];
      if (t === undefined) continue;
      const start = t[0] > 0 && s[t[0] - 1] === ' ' ? t[0] - 1 : t[0];
      if (await attempt(s.slice(0, start) + s.slice(t[1]))) {
        s = best.bytes.toString('latin1');
        toks = tokens(s);
        progress = true;
      }
    }
    // 3. long tokens (values, opaques) halved, but never the key prefix itself
    s = best.bytes.toString('latin1');
    toks = tokens(s);
    for (let i = toks.length - 1; i >= 0 && left > 0; i--) {
      const t = toks[i];
      if (t === undefined || t[1] - t[0] < 8) continue;
      const tok = s.slice(t[0], t[1]);
      const keep = best.prefixes.find((p) => tok.startsWith(p)) !== undefined ? PREFIX_LENGTH + 1 : 1;
      const cut = Math.max(keep, (t[1] - t[0]) >> 1);
      if (cut >= t[1] - t[0]) continue;
      if (await attempt(s.slice(0, t[0] + cut) + s.slice(t[1]))) {
        s = best.bytes.toString('latin1');
        toks = tokens(s);
        progress = true;
      }
    }
  }
  return bestDiff;
}

// ------------------------------------------------------------------------------------------------ reporting

/** One-paragraph description of a difference (escaped input and both replies). */
export function describeDifference(d: Difference, max = 1500): string {
  const end = (e: EndState): string => (e === 'sentinel' ? '' : ` <${e}>`);
  return [
    `  input:     "${escapeBytes(d.input, max)}"`,
    `  memcached: "${escapeBytes(d.direct, max)}"${end(d.directEnd)}`,
    `  mcrelay:   "${escapeBytes(d.relay, max)}"${end(d.relayEnd)}`,
  ].join('\n');
}

function labelCounts(c: DiffClass): string {
  return [...c.labels].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
}

/** The classified summary: one block per class, most frequent first. */
export function summarize(report: RunReport): string {
  const classes = [...report.classes.values()].sort((a, b) => b.count - a.count);
  const out: string[] = [];
  for (const c of classes) {
    const ex = c.minimized ?? c.examples[0];
    out.push(`${c.count}× ${c.signature} (${labelCounts(c)})`);
    if (ex !== undefined) out.push(describeDifference(ex, 700));
  }
  return out.join('\n');
}

/** Markdown findings file: per class the minimal reproducer and both replies. */
export function findingsMarkdown(report: RunReport, title: string, deliberate: readonly Deliberate[], canary: CanaryReport | null = null): string {
  const classes = [...report.classes.values()].sort((a, b) => (a.deliberate === null) === (b.deliberate === null) ? b.count - a.count : a.deliberate === null ? -1 : 1);
  const lines: string[] = [`# ${title}`, '', `inputs ${report.inputs} (mutated ${report.mutated}), seed ${report.seed}, differences ${report.differences} (deliberate ${report.deliberateDifferences}), classes ${report.classes.size}, exchanges ${report.exchanges}, re-runs ${report.reruns}, wall ${Math.round(report.wallMs)} ms`, ''];
  if (canary !== null) {
    lines.push(`canary: ${canary.requests} requests, ${canary.errors} errors${canary.samples.length > 0 ? '; first errors:' : ''}`, '');
    for (const e of canary.samples) lines.push(`- ${e}`);
    lines.push('');
  }
  lines.push('| # | count | class |', '|---|---|---|');
  classes.forEach((c, i) => lines.push(`| ${i + 1} | ${c.count} | ${c.signature.replace(/\|/g, '\\|')} |`));
  lines.push('');
  classes.forEach((c, i) => {
    lines.push(`## ${i + 1}. ${c.signature}`, '', `count: ${c.count} (main command: ${labelCounts(c)})${c.deliberate ? ` — deliberate: ${deliberate.find((r) => r.id === c.deliberate)?.why ?? c.deliberate}` : ''}`, '');
    const show = (label: string, d: Difference): void => {
      lines.push(`${label} (${d.kind}${d.inputs[0]?.mutations.length ? `, mutations: ${d.inputs.flatMap((x) => x.mutations).join(', ')}` : ''}):`, '```', describeDifference(d, 900), '```');
    };
    if (c.minimized) show('minimal reproducer', c.minimized);
    const first = c.examples[0];
    if (first) show('shortest example as found', first);
    lines.push('');
  });
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------ canary

export interface CanaryReport {
  requests: number;
  errors: number;
  /** The first errors (expected vs got, escaped). */
  readonly samples: string[];
}

/**
 * A well-behaved client on its own connection through mcrelay: writes its own keys and reads them back
 * (classic set/get and meta ms/mg), checking every byte, until stop() is called.
 */
export class Canary {
  readonly report: CanaryReport = { requests: 0, errors: 0, samples: [] };
  private running = true;
  private done: Promise<void> = Promise.resolve();
  /** While paused: resolves pause() once the loop is between rounds, and holds it there until resume(). */
  private gate: { reached: () => void; open: Promise<void>; release: () => void } | null = null;

  constructor(private readonly port: number, private readonly tag: string, private readonly pauseMs = 1) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<CanaryReport> {
    this.running = false;
    this.resume();
    await this.done;
    return this.report;
  }

  /** Hold the canary between two rounds (while the fuzzer flushes the servers); resolves once it is held. */
  pause(): Promise<void> {
    if (this.gate !== null || !this.running) return Promise.resolve();
    return new Promise<void>((reached) => {
      let release = (): void => {};
      const open = new Promise<void>((r) => {
        release = r;
      });
      this.gate = { reached, open, release };
    });
  }

  resume(): void {
    const g = this.gate;
    this.gate = null;
    g?.reached();
    g?.release();
  }

  private fail(what: string): void {
    this.report.errors++;
    if (this.report.samples.length < 10) this.report.samples.push(what);
  }

  private async loop(): Promise<void> {
    const rng = new Rng(0xca9a7 ^ this.tag.length);
    let client: RawClient | null = null;
    for (let i = 0; this.running; i++) {
      try {
        client ??= await RawClient.connect(this.port, { timeoutMs: 5000 });
        const key = `canary_${this.tag}_${i % 500}`;
        const value = `${'abcdefghij'.repeat(rng.int(30))}${i}`;
        const meta = i % 3 === 0;
        const request = meta
          ? `ms ${key} ${value.length} T0 F${i % 7}\r\n${value}\r\nmg ${key} v f\r\n`
          : `set ${key} ${i % 7} 0 ${value.length}\r\n${value}\r\nget ${key}\r\n`;
        const expected = meta ? `HD\r\nVA ${value.length} f${i % 7}\r\n${value}\r\n` : `STORED\r\nVALUE ${key} ${i % 7} ${value.length}\r\n${value}\r\nEND\r\n`;
        this.report.requests += 2;
        const got = await client.roundTrip(request);
        if (got.toString('latin1') !== expected) {
          this.fail(`${meta ? 'ms+mg' : 'set+get'} ${key}: expected "${escapeBytes(expected, 100)}", got "${escapeBytes(got, 200)}"`);
          client.destroy();
          client = null;
        }
      } catch (err) {
        this.fail(err instanceof Error ? err.message : String(err));
        client?.destroy();
        client = null;
      }
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      const g = this.gate;
      if (g !== null) {
        g.reached();
        await g.open;
      }
    }
    client?.destroy();
  }
}
