/**
 * Start mcrelay for an integration test by spawning its CLI as a child process:
 *
 *     node dist/cli.js --config-str '<json>' -p PORT --listen-addresses 127.0.0.1 [args]
 *
 * Running the built CLI (not `import { startProxy }`) keeps the tests decoupled from the library API, exercises
 * the real argv/startup path, and lets a test kill or pause the proxy like any other process.
 *
 * The CLI is built with `tsc` (`npm run build`) into `dist/`. `ensureBuilt()` rebuilds when `dist/cli.js` is
 * missing or older than any file in `src/` or `tsconfig.json`. Vitest runs test files in parallel forks, so the
 * build is guarded by a lock directory (mkdir is atomic): one fork builds, the others wait and then reuse it.
 * When tsc reports type errors but still emitted `dist/cli.js`, the diagnostics are printed and the tests go on
 * (one engineer's type error should not block every integration test); when nothing was emitted the error says why.
 *
 * `startRelay` resolves once the proxy answers `version` on its port; if the process exits first, or the port was
 * taken, it rejects with the captured stderr. Every proxy is killed on `close()` and at process exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, LOOPBACK, PortInUseError, sleep, withFreePort } from './ports.js';
import { answersVersion, trackChild } from './real-memcached.js';

/** Repository root: test/integration/helpers/../../.. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli.js');
const SRC_DIR = path.join(REPO_ROOT, 'src');
const TSC_PATH = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const LOCK_DIR = path.join(os.tmpdir(), `mcrelay-build-${Buffer.from(REPO_ROOT).toString('hex').slice(-40)}.lock`);
const LOCK_STALE_MS = 5 * 60_000;

export interface RelayOptions {
  /** The config: an object (sent as JSON) or config text, both passed with `--config-str`. */
  readonly config: object | string;
  /** Extra CLI arguments, e.g. `['--enable-flush-cmd']`. */
  readonly args?: readonly string[];
  /** How long to wait for the proxy to answer `version` (default 15 s). */
  readonly startTimeoutMs?: number;
}

export interface RelayProcess {
  readonly port: number;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly pid: number;
  /** Everything the proxy wrote to stderr and stdout so far (logs), for failure messages. */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after 3 s). Safe to call twice. */
  close(): Promise<void>;
  /** SIGKILL at once. */
  kill(): void;
}

/** A one-pool config routing everything to `servers` (the shape protocol tests use). */
export function onePoolConfig(servers: readonly string[]): object {
  return { pools: { A: { servers } }, route: 'PoolRoute|A' };
}

/** Start mcrelay on a free loopback port; see the module comment. */
export async function startRelay(options: RelayOptions): Promise<RelayProcess> {
  await ensureBuilt();
  return withFreePort((port) => startOnPort(port, options));
}

async function startOnPort(port: number, options: RelayOptions): Promise<RelayProcess> {
  const configText = typeof options.config === 'string' ? options.config : JSON.stringify(options.config);
  const args = [CLI_PATH, '--config-str', configText, '-p', String(port), '--listen-addresses', LOOPBACK, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);

  let output = '';
  const collect = (text: string): void => {
    output += text;
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);

  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitDescription = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
    child.once('error', (err) => {
      exitDescription = err.message;
      resolve();
    });
  });

  const commandLine = `node dist/cli.js ${args.slice(1).map((a) => (/[\s"'{}]/.test(a) ? `'${a}'` : a)).join(' ')}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (exitDescription !== undefined) {
      if (/EADDRINUSE/.test(output)) throw new PortInUseError(port, output.trim());
      throw new Error(`startRelay: mcrelay exited during startup (${exitDescription}).\n  command: ${commandLine}\n  output:\n${indent(output)}`);
    }
    if (await answersVersion(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`startRelay: mcrelay did not answer "version" on ${LOOPBACK}:${port} in time.\n  command: ${commandLine}\n  output:\n${indent(output)}`);
    }
    await sleep(25);
  }
  const pid = child.pid ?? -1;

  return {
    port,
    address: `${LOOPBACK}:${port}`,
    pid,
    output: () => output,
    async close() {
      if (exitDescription !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (exitDescription === undefined) child.kill('SIGKILL');
    },
  };
}

function indent(text: string): string {
  const body = text.trim() || '(no output)';
  return body
    .split('\n')
    .slice(-40)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Newest modification time (ms) of any file under `dir`, or of `extra` files. */
function newestMtime(dir: string, extra: readonly string[]): number {
  let newest = 0;
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  for (const file of extra) if (fs.existsSync(file)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  return newest;
}

function isBuildFresh(): boolean {
  if (!fs.existsSync(CLI_PATH)) return false;
  return fs.statSync(CLI_PATH).mtimeMs >= newestMtime(SRC_DIR, [path.join(REPO_ROOT, 'tsconfig.json')]);
}

let buildChecked: Promise<void> | undefined;

/** Build `dist/` with tsc if it is missing or stale; at most one build at a time across test forks. */
export function ensureBuilt(): Promise<void> {
  buildChecked ??= buildOnce();
  return buildChecked;
}

async function buildOnce(): Promise<void> {
  if (isBuildFresh()) return;
  await acquireLock();
  try {
    // Another fork may have finished the build while we waited for the lock.
    if (isBuildFresh()) return;
    const result = spawnSync(process.execPath, [TSC_PATH, '-p', 'tsconfig.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    const diagnostics = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    if (result.status !== 0) {
      if (!fs.existsSync(CLI_PATH)) {
        throw new Error(
          `proxy-harness: "npm run build" (tsc) failed and produced no dist/cli.js, so mcrelay cannot be started.\n${indent(diagnostics)}`,
        );
      }
      process.stderr.write(`proxy-harness: tsc reported errors; testing the emitted dist/ anyway:\n${indent(diagnostics)}\n`);
    }
  } finally {
    releaseLock();
  }
}

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 3 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - fs.statSync(LOCK_DIR).mtimeMs > LOCK_STALE_MS) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch {
      // the holder released it meanwhile
    }
    if (Date.now() > deadline) throw new Error(`proxy-harness: waited too long for the build lock ${LOCK_DIR}`);
    await sleep(100);
  }
}

function releaseLock(): void {
  fs.rmSync(LOCK_DIR, { recursive: true, force: true });
}

export interface ConfigRelay {
  readonly port: number;
  readonly pid: number;
  /** Send a signal while it runs (SIGHUP, SIGSTOP, ...). */
  signal(s: NodeJS.Signals): void;
  /** Everything it logged so far (JSON lines). */
  output(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 8 s; waits for the exit. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Start the CLI with `--config CONFIG` (`file:PATH`, an `etcd://` URL; startRelay passes only --config-str).
 * Resolves once it answers `version`; with `expectExit`, once it exited instead (a start that must fail).
 */
export async function startRelayWithConfig(config: string, args: readonly string[] = [], opts: { expectExit?: boolean; startTimeoutMs?: number } = {}): Promise<ConfigRelay> {
  await ensureBuilt();
  const port = await getFreePort();
  const child = spawn(process.execPath, [CLI_PATH, '--config', config, '-p', String(port), '--listen-addresses', LOOPBACK, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (out += t));
  let gone = false;
  // 'close', not 'exit': it fires once the child's stdout and stderr are drained, so output() is complete.
  const exited = new Promise<number | null>((r) =>
    child.once('close', (code) => {
      gone = true;
      r(code);
    }),
  );
  const relay: ConfigRelay = {
    port,
    pid: child.pid ?? -1,
    signal: (s) => {
      if (!gone) child.kill(s);
    },
    output: () => out,
    exited,
    close: async () => {
      if (gone) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
  };
  if (opts.expectExit === true) {
    await exited;
    return relay;
  }
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  while (!(await answersVersion(port))) {
    if (gone || Date.now() > deadline) {
      await relay.close();
      throw new Error(`relay did not start: ${out}`);
    }
    await sleep(25);
  }
  return relay;
}
