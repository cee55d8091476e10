/**
 * `mcrelay import twemproxy` end to end: for each nutcracker.yml below, Debian's nutcracker runs the YAML and
 * mcrelay runs what `dist/cli.js import twemproxy` printed for it (with the flags the import printed, minus the
 * listener, which the harness picks), over the same four memcached servers. 2,000 keys are set through
 * nutcracker and located by reading every backend directly; the backends are flushed; the same keys are set
 * through mcrelay and located again. No key may land elsewhere.
 *
 * The YAMLs cover the ways a pool shapes its ring: weights (with twemproxy's default hash, which the YAML
 * leaves out), explicit server names (which replace host:port on the ring and reorder Modula), a hash tag,
 * Modula, and a YAML with two pools imported with `--out-dir` (one mcrelay per pool).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitForPort } from './helpers/ports.js';
import { ensureBuilt, REPO_ROOT, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { flushBackends, placeThrough } from './helpers/placement.js';
import { startMemcached, trackChild, type MemcachedServer } from './helpers/real-memcached.js';

const KEYS = 2000;
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function findBinary(name: string): string {
  for (const d of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin']) {
    if (d.length > 0 && existsSync(join(d, name))) return join(d, name);
  }
  throw new Error(`${name} not found: apt-get install ${name}`);
}

let backends: MemcachedServer[] = [];
const direct: RawClient[] = [];
const children: ChildProcess[] = [];
let workdir = '';

beforeAll(async () => {
  await ensureBuilt();
  workdir = mkdtempSync(join(tmpdir(), 'mcrelay-import-'));
  backends = await Promise.all([0, 1, 2, 3].map(() => startMemcached()));
  for (const b of backends) direct.push(await connect(b.port));
}, 180_000);

afterAll(async () => {
  for (const c of direct) c.destroy();
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(backends.map((b) => b.stop()));
  if (workdir !== '') rmSync(workdir, { recursive: true, force: true });
});

/** `B0`..`B3` in a YAML template stand for the backends' ports, `LISTENn` for a fresh port nutcracker listens on. */
async function writeYaml(template: string): Promise<{ file: string; listen: number[] }> {
  const listen: number[] = [];
  let text = template;
  for (let i = 0; text.includes(`LISTEN${i}`); i++) {
    const port = await getFreePort();
    listen.push(port);
    text = text.replaceAll(`LISTEN${i}`, String(port));
  }
  backends.forEach((b, i) => (text = text.replaceAll(`B${i}`, String(b.port))));
  const file = join(workdir, `nutcracker-${listen[0] ?? 0}.yml`);
  writeFileSync(file, text);
  return { file, listen };
}

async function startNutcracker(file: string, ports: readonly number[]): Promise<void> {
  const stats = await getFreePort();
  const child = spawn(findBinary('nutcracker'), ['-c', file, '-s', String(stats), '-a', '127.0.0.1'], { stdio: 'ignore' });
  trackChild(child);
  children.push(child);
  for (const p of ports) await waitForPort(p);
}

interface Imported {
  readonly config: string;
  /** The flags the import printed, without the listener (-p, --listen-addresses). */
  readonly flags: string[];
}

function withoutListener(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '-p' || flags[i] === '--listen-addresses') i++;
    else out.push(flags[i] ?? '');
  }
  return out;
}

/** Run `mcrelay import twemproxy FILE` (one pool: the config is on stdout, its run line in the header). */
function importOne(file: string, expectedListen: number): Imported {
  const r = spawnSync(process.execPath, [CLI, 'import', 'twemproxy', file], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  const run = /^\/\/ {3}mcrelay --config file:\S+ (.*)$/m.exec(r.stdout);
  expect(run, r.stdout).not.toBeNull();
  const flags = (run?.[1] ?? '').split(' ');
  expect(flags.slice(0, 4)).toEqual(['-p', String(expectedListen), '--listen-addresses', '127.0.0.1']);
  return { config: r.stdout, flags: withoutListener(flags) };
}

/** Run `mcrelay import twemproxy FILE --out-dir DIR`: one file per pool plus one run line each on stdout. */
function importAll(file: string, dir: string): Map<string, Imported> {
  const r = spawnSync(process.execPath, [CLI, 'import', 'twemproxy', file, '--out-dir', dir], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  const out = new Map<string, Imported>();
  for (const m of r.stdout.matchAll(/^# pool "([^"]+)" -> (\S+)\nmcrelay --config file:(\S+) (.*)$/gm)) {
    expect(m[3]).toBe(m[2]);
    out.set(m[1] ?? '', { config: readFileSync(m[2] ?? '', 'utf8'), flags: withoutListener((m[4] ?? '').split(' ')) });
  }
  return out;
}

function keyAt(i: number): string {
  // Mixed shapes: plain, hash-tagged, and UTF-8 bytes (twemproxy's signed-char quirk).
  if (i % 7 === 0) return `user:{${i % 97}}:profile:${i}`;
  if (i % 11 === 0) return `café:${i}:ü`;
  return `key:${i}:${(i * 2654435761) % 1000003}`;
}
const KEY_LIST = Array.from({ length: KEYS }, (_, i) => keyAt(i));

/** Place KEY_LIST through nutcracker's `ncPort`, then through mcrelay running `imported`; compare. */
async function comparePlacement(ncPort: number, imported: Imported): Promise<void> {
  await flushBackends(direct);
  const viaNutcracker = await placeThrough(ncPort, direct, KEY_LIST);
  expect(viaNutcracker.every((b) => b >= 0)).toBe(true);
  // Every backend got keys, so agreement is not trivial.
  expect(new Set(viaNutcracker).size).toBe(backends.length);
  await flushBackends(direct);
  let relay: RelayProcess | null = null;
  try {
    relay = await startRelay({ config: imported.config, args: imported.flags });
    const viaRelay = await placeThrough(relay.port, direct, KEY_LIST);
    const misplaced = KEY_LIST.filter((_, i) => viaNutcracker[i] !== viaRelay[i]);
    expect(misplaced.length, `misplaced, e.g. ${misplaced.slice(0, 5).join(' ')}`).toBe(0);
    // Every flag the import printed is one mcrelay knows.
    expect(relay.output()).not.toContain('unknown option');
  } finally {
    await relay?.close();
  }
}

const ONE_POOL_CASES: { name: string; yaml: string }[] = [
  {
    name: 'weights, twemproxy\'s default hash (fnv1a_64, not in the YAML), auto-eject on',
    yaml: [
      'cache:',
      '  listen: 127.0.0.1:LISTEN0',
      '  distribution: ketama',
      '  timeout: 2000',
      '  auto_eject_hosts: true',
      '  server_failure_limit: 3',
      '  server_retry_timeout: 5000',
      '  servers:',
      '   - 127.0.0.1:B0:1',
      '   - 127.0.0.1:B1:2',
      '   - 127.0.0.1:B2:5',
      '   - 127.0.0.1:B3:3',
      '',
    ].join('\n'),
  },
  {
    name: 'server names and weights, md5 (libmemcached-compatible)',
    yaml: [
      'sessions:',
      '  listen: 127.0.0.1:LISTEN0',
      '  hash: md5',
      '  distribution: ketama',
      '  timeout: 400',
      '  servers:',
      '   - 127.0.0.1:B0:1 cache-a',
      '   - 127.0.0.1:B1:2 cache-b',
      '   - 127.0.0.1:B2:1 cache-c',
      '   - 127.0.0.1:B3:1 cache-d',
      '',
    ].join('\n'),
  },
  {
    name: 'hash_tag with murmur',
    yaml: [
      'tagged:',
      '  listen: 127.0.0.1:LISTEN0',
      '  hash: murmur',
      '  hash_tag: "{}"',
      '  servers:',
      '   - 127.0.0.1:B0:1',
      '   - 127.0.0.1:B1:1',
      '   - 127.0.0.1:B2:2',
      '   - 127.0.0.1:B3:2',
      '',
    ].join('\n'),
  },
  {
    name: 'modula, names that sort unlike the server order, crc32a',
    yaml: [
      'mod:',
      '  listen: 127.0.0.1:LISTEN0',
      '  hash: crc32a',
      '  distribution: modula',
      '  servers:',
      '   - 127.0.0.1:B0:1 zeta',
      '   - 127.0.0.1:B1:3 al',
      '   - 127.0.0.1:B2:2 mid',
      '   - 127.0.0.1:B3:1 a',
      '',
    ].join('\n'),
  },
];

describe('mcrelay import twemproxy places keys as nutcracker does', () => {
  for (const c of ONE_POOL_CASES) {
    it(c.name, async () => {
      const { file, listen } = await writeYaml(c.yaml);
      const port = listen[0] ?? 0;
      await startNutcracker(file, [port]);
      await comparePlacement(port, importOne(file, port));
    });
  }

  it('two pools with --out-dir: one config and one mcrelay per pool', async () => {
    const { file, listen } = await writeYaml([
      'east:',
      '  listen: 127.0.0.1:LISTEN0',
      '  hash: one_at_a_time',
      '  distribution: ketama',
      '  hash_tag: "[]"',
      '  servers:',
      '   - 127.0.0.1:B0:2 e0',
      '   - 127.0.0.1:B1:1 e1',
      '   - 127.0.0.1:B2:1 e2',
      '   - 127.0.0.1:B3:1 e3',
      'west:',
      '  listen: 127.0.0.1:LISTEN1',
      '  hash: hsieh',
      '  distribution: modula',
      '  servers:',
      '   - 127.0.0.1:B3:1',
      '   - 127.0.0.1:B2:1',
      '   - 127.0.0.1:B1:2',
      '   - 127.0.0.1:B0:1',
      '',
    ].join('\n'));
    await startNutcracker(file, listen);
    const imported = importAll(file, join(workdir, 'out'));
    expect([...imported.keys()].sort()).toEqual(['east', 'west']);
    await comparePlacement(listen[0] ?? 0, imported.get('east') as Imported);
    await comparePlacement(listen[1] ?? 0, imported.get('west') as Imported);
  });

  it('keys shaped like a routing prefix are served and stored under their full name', async () => {
    const { file, listen } = await writeYaml(ONE_POOL_CASES[0]?.yaml ?? '');
    const imported = importOne(file, listen[0] ?? 0);
    await flushBackends(direct);
    const relay = await startRelay({ config: imported.config, args: imported.flags });
    try {
      const keys = Array.from({ length: 50 }, (_, i) => `/users/${i}/profile`);
      const where = await placeThrough(relay.port, direct, keys);
      expect(where.filter((b) => b < 0)).toEqual([]);
    } finally {
      await relay.close();
    }
  });
});
