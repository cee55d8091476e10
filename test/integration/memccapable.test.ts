/**
 * libmemcached's `memccapable -a` (ASCII protocol conformance) against memcached directly and through mcrelay.
 *
 * Against memcached 1.6.18 all 27 ASCII tests pass; that run pins the expected list, so a change in the installed
 * tool shows up here rather than as a mysterious mcrelay failure. mcrelay is started with `--enable-flush-cmd`
 * because memccapable exercises `flush_all` (and `flush_all noreply`); without it mcrelay answers
 * `SERVER_ERROR Command disabled` by design. With it, every test must pass through the proxy too: memccapable
 * checks reply shapes, not memcached-specific values, so no test has to differ through a proxy.
 *
 * One trap, measured on 2026-11-25: memccapable first sends `version` and parses the number. When mcrelay answered
 * `VERSION 0.1.0 mcrelay`, 17 of the 27 tests failed (version, quit, verbosity, set, set noreply, flush noreply,
 * add, add noreply, replace, replace noreply, cas, cas noreply, and the noreply variants of delete/incr/decr/append/
 * prepend): for such an old version it expects legacy answers, e.g. `ERROR` to `version foo bar`, where memcached
 * 1.6 answers `VERSION 1.6.18`. Rewriting only that reply to `VERSION 1.6.18 mcrelay` (a test tap in front of the
 * proxy) made all 27 pass. libmemcached-based clients parse VERSION the same way, so mcrelay's version line should
 * lead with a memcached-compatible version number.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onePoolConfig, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

/** The 27 ASCII tests of memccapable (libmemcached-tools), in the order it runs them. */
const ASCII_TESTS = [
  'ascii version', 'ascii quit', 'ascii verbosity', 'ascii set', 'ascii set noreply', 'ascii get', 'ascii gets',
  'ascii mget', 'ascii flush', 'ascii flush noreply', 'ascii add', 'ascii add noreply', 'ascii replace',
  'ascii replace noreply', 'ascii cas', 'ascii cas noreply', 'ascii delete', 'ascii delete noreply', 'ascii incr',
  'ascii incr noreply', 'ascii decr', 'ascii decr noreply', 'ascii append', 'ascii append noreply', 'ascii prepend',
  'ascii prepend noreply', 'ascii stat',
];

interface CapableRun {
  readonly exitCode: number | null;
  readonly output: string;
  /** Test name → result word as printed (`pass`, `FAIL`, `skipped`, …). */
  readonly results: ReadonlyMap<string, string>;
}

/** Run `memccapable -h 127.0.0.1 -p PORT -a` and parse its `name   [result]` lines. */
function runMemccapable(port: number): Promise<CapableRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('memccapable', ['-h', '127.0.0.1', '-p', String(port), '-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Results are parsed from stdout only: the assertion text goes to stderr and would interleave with them.
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`memccapable could not be run (install libmemcached-tools): ${err.message}`));
    });
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      const results = new Map<string, string>();
      for (const m of stdout.matchAll(/^(ascii [a-z]+(?: noreply)?)\s+\[(\w+)\]\s*$/gm)) {
        if (m[1] && m[2]) results.set(m[1], m[2]);
      }
      resolve({ exitCode, output: `${stdout}\n--- stderr (assertions that failed):\n${stderr}`, results });
    });
  });
}

/** The first line mcrelay answers to `version`, for the failure message. */
async function versionLine(port: number): Promise<string> {
  const client = await connect(port);
  try {
    await client.send('version\r\n');
    return (await client.readUntil('\r\n')).toString('latin1').trim();
  } finally {
    client.destroy();
  }
}

function summary(run: CapableRun): string {
  return `exit ${String(run.exitCode)}; output:\n${run.output}`;
}

describe('memccapable -a (ASCII conformance)', () => {
  let direct: MemcachedServer;
  let behind: MemcachedServer;
  let relay: RelayProcess | undefined;
  beforeAll(async () => {
    [direct, behind] = await Promise.all([startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all([relay?.close(), direct?.stop(), behind?.stop()]);
  });

  it('passes all 27 ASCII tests against memcached directly', async () => {
    const run = await runMemccapable(direct.port);
    expect([...run.results.keys()], summary(run)).toEqual(ASCII_TESTS);
    expect([...run.results.values()].every((r) => r === 'pass'), summary(run)).toBe(true);
    expect(run.output).toContain('All tests passed');
    expect(run.exitCode).toBe(0);
  });

  it('passes all 27 ASCII tests through mcrelay (--enable-flush-cmd)', async () => {
    relay = await startRelay({ config: onePoolConfig([behind.address]), args: ['--enable-flush-cmd'] });
    const run = await runMemccapable(relay.port);
    const version = await versionLine(relay.port);
    const failed = [...run.results].filter(([, r]) => r !== 'pass').map(([name, r]) => `${name}: ${r}`);
    expect(failed, `${summary(run)}\nmcrelay answers "${version}" to version; see the module comment if it does not start with a memcached 1.4+ version number`).toEqual([]);
    expect([...run.results.keys()], summary(run)).toEqual(ASCII_TESTS);
    expect(run.exitCode, summary(run)).toBe(0);
  });
});
