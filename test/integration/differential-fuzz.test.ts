/**
 * The differential fuzzer's CI sample (issue 13; the fuzzer is test/fuzz/differential-lib.ts, the long run
 * `node bench/differential-fuzz.mjs`).
 *
 * Random and mutated classic and meta requests go to a memcached directly and through mcrelay on a one-server
 * pool in front of a second memcached, on fresh keys; the replies must be byte-identical, cas values and
 * one-second clock differences aside (the lib's module comment says exactly what is normalised). A canary on
 * a second mcrelay connection sets and reads back its own keys all the while and must see no error.
 *
 * Every difference fails the test unless a rule of DELIBERATE below matches it. Each rule names the difference,
 * says why it is not an mcrelay bug, and matches only that: `memcached` rules are memcached 1.6.18 answering
 * the same bytes differently by itself (depending on how its reads split the stream, or on memory next to a
 * value; they apply to the control run too), `mcrelay` rules are differences mcrelay makes on purpose (the
 * README's table). The failure message is the classified summary: per class the count, the main commands
 * it showed under, a minimised reproducer and both replies, escaped; the canary's first errors follow.
 *
 * Environment: DIFF_FUZZ_INPUTS (default 20000), DIFF_FUZZ_SEED (default 0xd1ff), DIFF_FUZZ_CONTROL_INPUTS
 * (default 3000), DIFF_FUZZ_FINDINGS=path (write the findings as Markdown), DIFF_FUZZ_LOG=1 (progress and each
 * new class as it is found).
 *
 * Two self-tests keep the fuzzer honest: the same run with a second plain memcached in mcrelay's place must
 * find nothing (the generator, the runner and the normalisation add no difference of their own), and a run
 * with one reply byte changed on mcrelay's side must find and classify that difference.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Canary, findingsMarkdown, normalizeReply, runDifferential, sameReplies, summarize, type Deliberate, type DiffCase, type RunReport,
} from '../fuzz/differential-lib.js';
import { onePoolConfig, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const INPUTS = Number(process.env['DIFF_FUZZ_INPUTS'] ?? 20_000);
const SEED = Number(process.env['DIFF_FUZZ_SEED'] ?? 0xd1ff);
const FINDINGS = process.env['DIFF_FUZZ_FINDINGS'];
const LOG = process.env['DIFF_FUZZ_LOG'] === '1';
const CONTROL_INPUTS = Number(process.env['DIFF_FUZZ_CONTROL_INPUTS'] ?? 3000);
const LONG = INPUTS > 50_000 || CONTROL_INPUTS > 50_000;

/** Lines of a normalised reply. */
const linesOf = (b: Buffer): string[] => normalizeReply(b).text.split(/(?<=\n)/).filter((l) => l.length > 0);

/** True when `sub` is `all` with one or more lines left out (in order). */
function isSubsequence(sub: readonly string[], all: readonly string[]): boolean {
  let j = 0;
  for (const line of all) if (j < sub.length && sub[j] === line) j++;
  return j === sub.length && sub.length < all.length;
}

/** Index of the first line after the input's first that is a get-family command with a key over 250 bytes, or -1. */
function laterTooLongKeyGet(input: Buffer): number {
  const lines = input.toString('latin1').split('\n');
  return lines.findIndex((line, i) => {
    const toks = line.replace(/\r$/, '').split(' ').filter((t) => t.length > 0);
    return i > 0 && /^(get|gets|bget|gat|gats)$/.test(toks[0] ?? '') && toks.slice(1).some((t) => t.length > 250);
  });
}

const NON_NUMERIC = 'CLIENT_ERROR cannot increment or decrement non-numeric value';
const TOO_LARGE = 'SERVER_ERROR object too large for cache';
const BAD_CHUNK = 'CLIENT_ERROR bad data chunk';
const count = (b: Buffer, what: string): number => b.toString('latin1').split(what).length - 1;

/**
 * Differences that are not mcrelay bugs, each with its reason and a precise test. `memcached` rules are
 * memcached 1.6.18 answering the same bytes differently by itself (they apply to the control run too);
 * `mcrelay` rules are differences mcrelay makes on purpose (the README's table lists the same).
 */
const DELIBERATE: ReadonlyArray<Deliberate & { readonly source: 'memcached' | 'mcrelay' }> = [
  {
    id: 'too-long-key-get-drops-pending-replies',
    source: 'memcached',
    why:
      'memcached 1.6.18 discards every reply it has not written yet when a get/gets/bget/gat/gats has a key over 250 ' +
      'bytes (the replies to the earlier commands of the same read); mcrelay answers every command. Matched when ' +
      'such a get follows another command and memcached\'s reply is mcrelay\'s with lines left out',
    matches: (d: DiffCase) => d.directEnd === d.relayEnd && laterTooLongKeyGet(d.sent) > 0 && isSubsequence(linesOf(d.direct), linesOf(d.relay)),
  },
  {
    id: 'too-large-block-with-bad-terminator',
    source: 'mcrelay',
    why:
      'a data block with a bad terminator that is also over the server\'s item size limit: memcached answers ' +
      `"${TOO_LARGE}" (it checks the size first and swallows the block), mcrelay "${BAD_CHUNK}" (it refuses a ` +
      'malformed block before forwarding it and does not know the server\'s -I; README table). Matched when that ' +
      'pair of lines is the only difference and the input declares a block of 1,000,000 bytes or more',
    matches: (d: DiffCase) => {
      const a = linesOf(d.direct);
      const b = linesOf(d.relay);
      if (d.directEnd !== d.relayEnd || a.length !== b.length || !/\d{7}/.test(d.sent.toString('latin1'))) return false;
      const at = a.flatMap((line, i) => (line === b[i] ? [] : [i]));
      return at.length > 0 && at.every((i) => a[i] === `${TOO_LARGE}\r\n` && b[i] === `${BAD_CHUNK}\r\n`);
    },
  },
  {
    id: 'memcached-incr-operand-scan',
    source: 'memcached',
    why:
      'memcached 1.6.18 looks for a minus sign in a stored incr/decr/ma operand of 2^63 or more with a scan that ' +
      'runs past the end of the value into whatever memory follows, so the same request answers a number on one ' +
      `memcached and "${NON_NUMERIC}" on another. Matched when the input has arithmetic and a number of 19 or more ` +
      'digits, and the two replies have that error a different number of times',
    matches: (d: DiffCase) =>
      /(^|\n) *(incr|decr|ma) /.test(d.sent.toString('latin1')) && /\d{19}/.test(d.sent.toString('latin1')) && count(d.direct, NON_NUMERIC) !== count(d.relay, NON_NUMERIC),
  },
];
const MEMCACHED_NOISE = DELIBERATE.filter((r) => r.source === 'memcached');

/** The commit under test, for the findings file. */
function gitHead(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim() !== '';
  return `${r.stdout.trim() || 'unknown'}${dirty ? ' (src/ modified)' : ''}`;
}

/** The run's figures on one line; the classes last, most frequent first, each as count and (short) class. */
function figures(r: RunReport): string {
  const classes = [...r.classes.values()]
    .sort((a, b) => b.count - a.count)
    .map((c) => `${c.count}× ${c.deliberate !== null ? `deliberate:${c.deliberate}` : c.signature.length > 90 ? `${c.signature.slice(0, 87)}...` : c.signature}`);
  return (
    `inputs=${r.inputs} mutated=${r.mutated} exchanges=${r.exchanges} reruns=${r.reruns} filled=${r.filled} reconnects=${r.reconnects} ` +
    `flushes=${r.flushes} aborted=${r.aborted} differences=${r.differences} deliberate=${r.deliberateDifferences} classes=${r.classes.size} ` +
    `ms=${Math.round(r.wallMs)}${classes.length > 0 ? ` byClass=[${classes.join('; ')}]` : ''}`
  );
}

describe('differential fuzz: memcached vs mcrelay on a one-server pool', () => {
  let direct: MemcachedServer;
  let behind: MemcachedServer;
  let relay: RelayProcess;
  beforeAll(async () => {
    // -m 1024: memory is allocated lazily; enough that no fuzz item is evicted in a long run.
    [direct, behind] = await Promise.all([startMemcached({ args: ['-m', '1024'] }), startMemcached({ args: ['-m', '1024'] })]);
    relay = await startRelay({ config: onePoolConfig([behind.address]) });
  });
  afterAll(async () => {
    await Promise.all([relay?.close(), direct?.stop(), behind?.stop()]);
  });

  it('normalisation: cas uniques and one-second clock steps only, never value bytes', () => {
    const a = Buffer.from('VALUE k 0 5 123\r\nc9 99\r\nVA 2 c77 t10 f1\r\nc1\r\nHD c5 kx\r\nME k exp=9 la=0 cas=3 fetch=no cls=1 size=64\r\nEND\r\n', 'latin1');
    const b = Buffer.from('VALUE k 0 5 456\r\nc9 99\r\nVA 2 c78 t9 f1\r\nc1\r\nHD c6 kx\r\nME k exp=10 la=1 cas=4 fetch=no cls=1 size=64\r\nEND\r\n', 'latin1');
    expect(sameReplies(a, b)).toBe(true);
    expect(sameReplies(a, Buffer.from(b.toString('latin1').replace('t9', 't8'), 'latin1'))).toBe(false);
    expect(sameReplies(a, Buffer.from(b.toString('latin1').replace('c9 99', 'c8 99'), 'latin1'))).toBe(false);
    expect(sameReplies(a, Buffer.from(b.toString('latin1').replace('f1', 'f2'), 'latin1'))).toBe(false);
    expect(sameReplies(Buffer.from('EN\r\n'), Buffer.from('EN\r\n\r\n'))).toBe(false);
    // Keys may hold any byte but space and newline (tab, \r): still one token.
    const k = (cas: number, t: number): Buffer => Buffer.from(`VALUE k\t\r 1 2 ${cas}\r\nab\r\nHD kk\r c${cas} t${t}\r\n`, 'latin1');
    expect(sameReplies(k(5, 7), k(6, 8))).toBe(true);
    expect(sameReplies(k(5, 7), k(6, 9))).toBe(false);
  });

  it('deliberate rules match the difference they name and nothing else', () => {
    const diff = (sent: string, direct: string, relay: string): DiffCase => {
      const b = (t: string): Buffer => Buffer.from(t, 'latin1');
      return { input: b(sent), sent: b(sent), direct: b(direct), relay: b(relay), directEnd: 'sentinel', relayEnd: 'sentinel' };
    };
    const rule = (d: DiffCase): string | undefined => DELIBERATE.find((r) => r.matches(d))?.id;
    const long = `k${'L'.repeat(250)}`;
    const ce = 'CLIENT_ERROR bad command line format\r\n';
    expect(rule(diff(`set a 0 0 1\r\nx\r\nget ${long}\r\nmn\r\n`, `${ce}MN\r\n`, `STORED\r\n${ce}MN\r\n`))).toBe('too-long-key-get-drops-pending-replies');
    expect(rule(diff(`get ${long}\r\nset a 0 0 1\r\nx\r\nmn\r\n`, `${ce}MN\r\n`, `${ce}STORED\r\nMN\r\n`))).toBeUndefined();
    expect(rule(diff(`set a 0 0 1\r\nx\r\nget ${long}\r\nmn\r\n`, `NOT_STORED\r\n${ce}MN\r\n`, `STORED\r\n${ce}MN\r\n`))).toBeUndefined();
    const big = `set k 0 0 1048503\r\n${'v'.repeat(1048503)}XXmn\r\n`;
    expect(rule(diff(big, `${TOO_LARGE}\r\nMN\r\n`, `${BAD_CHUNK}\r\nMN\r\n`))).toBe('too-large-block-with-bad-terminator');
    expect(rule(diff(big, `${TOO_LARGE}\r\nMN\r\n`, `${BAD_CHUNK}\r\nEND\r\n`))).toBeUndefined();
    expect(rule(diff('set k 0 0 3\r\nabcXXmn\r\n', `${TOO_LARGE}\r\n`, `${BAD_CHUNK}\r\n`))).toBeUndefined();
    const incr = 'set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nmn\r\n';
    expect(rule(diff(incr, `STORED\r\n${NON_NUMERIC}\r\nMN\r\n`, 'STORED\r\n0\r\nMN\r\n'))).toBe('memcached-incr-operand-scan');
    expect(rule(diff('set n 0 0 2\r\n10\r\nincr n 1\r\nmn\r\n', `STORED\r\n${NON_NUMERIC}\r\nMN\r\n`, 'STORED\r\n11\r\nMN\r\n'))).toBeUndefined();
  });

  it(`control: ${CONTROL_INPUTS} inputs with a second plain memcached in mcrelay's place show no difference`, async () => {
    const report = await runDifferential({
      inputs: CONTROL_INPUTS, seed: SEED + 1, directPort: direct.port, relayPort: behind.port, deliberate: MEMCACHED_NOISE, flushPorts: [direct.port, behind.port], minimizeTries: 0,
    });
    console.log(`[diff-fuzz] control ${figures(report)}`);
    const unexpected = [...report.classes.values()].filter((k) => k.deliberate === null && k.confirmed);
    expect(summarize({ ...report, classes: new Map(unexpected.map((k) => [k.signature, k])) })).toBe('');
  }, LONG ? 24 * 3_600_000 : 60_000);

  it('self-test: a changed reply byte on mcrelay\'s side is found and classified', async () => {
    // Turn mcrelay's first "EN" reply of an exchange into "NF": what a parser bug would look like.
    const tamper = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(/^EN\r\n/m, 'NF\r\n'), 'latin1');
    const report = await runDifferential({ inputs: 400, seed: SEED + 2, directPort: direct.port, relayPort: behind.port, tamper, minimizeTries: 10 });
    expect(report.differences).toBeGreaterThan(0);
    const sigs = [...report.classes.keys()];
    expect(sigs.some((s) => s.includes('memcached EN | mcrelay NF'))).toBe(true);
  }, 60_000);

  it(`${INPUTS} random and mutated requests (seed ${SEED}): byte-identical replies, canary without errors`, async () => {
    const canary = new Canary(relay.port, `c${SEED}`);
    canary.start();
    let report: RunReport;
    try {
      report = await runDifferential({
        inputs: INPUTS,
        seed: SEED,
        directPort: direct.port,
        relayPort: relay.port,
        deliberate: DELIBERATE,
        flushPorts: [direct.port, behind.port],
        quiesce: canary,
        ...(LOG ? { log: (l: string) => console.log(l) } : {}),
      });
    } finally {
      await canary.stop();
    }
    const c = canary.report;
    console.log(`[diff-fuzz] canaryRequests=${c.requests} canaryErrors=${c.errors} ${figures(report)}`);
    if (FINDINGS) writeFileSync(FINDINGS, findingsMarkdown(report, `Differential fuzz findings: memcached 1.6.18 vs mcrelay at ${gitHead()} (${new Date().toISOString()})`, DELIBERATE, c));
    // `unconfirmed` classes (items earlier inputs left under keys outside their prefixes) are in the findings,
    // but are not mcrelay's.
    const unexpected = [...report.classes.values()].filter((k) => k.deliberate === null && k.confirmed);
    const summary = summarize({ ...report, classes: new Map(unexpected.map((k) => [k.signature, k])) });
    expect(summary, `differences between memcached and mcrelay (classified; minimised reproducer per class):\n${summary}`).toBe('');
    expect(c.samples, `canary errors: ${c.errors} of ${c.requests}`).toEqual([]);
    expect(c.errors).toBe(0);
    expect(report.inputs).toBe(INPUTS);
  }, LONG ? 24 * 3_600_000 : 180_000);
});
