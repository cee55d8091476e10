/**
 * Live placement check against the real Debian twemproxy (nutcracker 0.5.0) and memcached.
 *
 * Starts 4 memcached backends and one nutcracker with several pools over them, sets >= 2,000 keys per
 * pool through nutcracker, finds each key by reading every backend directly, and asserts that
 * createSelector() predicts the same backend for every key. Keys include UTF-8 and raw 0x80..0xFF bytes
 * (the signed-char quirk). Fails loudly when memcached / nutcracker are missing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createSelector, type HashSpec } from '../../src/routes/hash/selector.js';

const N_BACKENDS = 4;
const KEYS_PER_POOL = 2000;

function findBinary(name: string): string {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d.length > 0);
  // Debian puts nutcracker in /usr/sbin, which is not on every user's PATH.
  for (const d of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} not found on PATH (${dirs.join(delimiter)}); install it (apt-get install ${name === 'nutcracker' ? 'nutcracker' : 'memcached'})`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const children: ChildProcess[] = [];

/** Spawn a server on a fresh port; retry with a new port if it exits or never listens. */
async function startOnFreePort(make: (port: number) => ChildProcess, extraWaitPort?: () => number): Promise<number> {
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = make(port);
    children.push(child);
    let exited = false;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      if ((await canConnect(port)) && (extraWaitPort === undefined || (await canConnect(extraWaitPort())))) return port;
      await sleep(50);
    }
    lastErr = stderr;
    child.kill('SIGKILL');
  }
  throw new Error(`could not start server: ${lastErr}`);
}

/** Send `payload` on a fresh connection, resolve with everything received once `done(buf)` says so. */
async function exchange(port: number, payload: Buffer, done: (buf: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let total = 0;
    let finished = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout talking to port ${port}: got ${total} bytes`));
    }, 20000);
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      const buf = Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(buf);
      if (!finished && done(buf)) {
        finished = true;
        clearTimeout(timer);
        s.end();
        resolve(buf);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      if (!finished) {
        clearTimeout(timer);
        reject(new Error(`connection to ${port} closed early after ${total} bytes`));
      }
    });
    s.write(payload);
  });
}

function countOccurrences(buf: Buffer, needle: Buffer): number {
  let n = 0;
  let i = buf.indexOf(needle);
  while (i !== -1) {
    n++;
    i = buf.indexOf(needle, i + needle.length);
  }
  return n;
}

const STORED = Buffer.from('STORED\r\n');
const END = Buffer.from('END\r\n');

async function setAll(port: number, keys: readonly Buffer[], ids: readonly number[]): Promise<void> {
  const parts: Buffer[] = [];
  keys.forEach((k, i) => {
    const v = String(ids[i]);
    parts.push(Buffer.from('set '), k, Buffer.from(` 0 0 ${v.length}\r\n${v}\r\n`));
  });
  const resp = await exchange(port, Buffer.concat(parts), (b) => countOccurrences(b, STORED) >= keys.length);
  expect(countOccurrences(resp, STORED)).toBe(keys.length);
}

/** Ids of the given keys that are present on the memcached at `port`. */
async function presentIds(port: number, keys: readonly Buffer[]): Promise<Set<number>> {
  const parts: Buffer[] = [];
  for (const k of keys) parts.push(Buffer.from('get '), k, Buffer.from('\r\n'));
  const resp = await exchange(port, Buffer.concat(parts), (b) => countOccurrences(b, END) >= keys.length);
  const ids = new Set<number>();
  let pos = 0;
  while (pos < resp.length) {
    if (resp.subarray(pos, pos + 5).equals(END)) {
      pos += 5;
      continue;
    }
    const eol = resp.indexOf('\r\n', pos);
    const header = resp.subarray(pos, eol).toString('latin1');
    if (!header.startsWith('VALUE ')) throw new Error(`unexpected reply line: ${header}`);
    const bytes = Number(header.slice(header.lastIndexOf(' ') + 1));
    ids.add(Number(resp.subarray(eol + 2, eol + 2 + bytes).toString('latin1')));
    pos = eol + 2 + bytes + 2;
  }
  return ids;
}

/** Deterministic key generator: ASCII, UTF-8 and raw high bytes (no space/control/DEL). */
function makeKeys(prefix: string, count: number, seed: number, withTags: boolean): Buffer[] {
  let x = seed >>> 0;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return Math.floor((x / 4294967296) * n);
  };
  const utf8 = ['é', 'ß', 'ü', '日本', '語', 'Ω', '€', '😀', 'ñ', 'ç'];
  const seen = new Set<string>();
  const out: Buffer[] = [];
  while (out.length < count) {
    const kind = rnd(4);
    const parts: Buffer[] = [Buffer.from(prefix)];
    const len = 1 + rnd(40);
    for (let i = 0; i < len; i++) {
      if (kind === 0) parts.push(Buffer.from([0x21 + rnd(94)])); // printable ASCII except space
      else if (kind === 1) parts.push(rnd(3) === 0 ? Buffer.from(utf8[rnd(utf8.length)]!, 'utf8') : Buffer.from([0x61 + rnd(26)]));
      else if (kind === 2) parts.push(Buffer.from([0x80 + rnd(128)])); // raw 0x80..0xFF bytes (not valid UTF-8)
      else parts.push(Buffer.from(`${rnd(1000000)}`));
    }
    if (withTags && rnd(2) === 0) parts.push(Buffer.from(`{${rnd(50)}}`), Buffer.from([0x80 + rnd(128)]));
    const k = Buffer.concat(parts);
    if (k.length > 250) continue;
    const hex = k.toString('hex');
    if (seen.has(hex)) continue;
    seen.add(hex);
    out.push(k);
  }
  return out;
}

interface PoolCase {
  name: string;
  yaml: (servers: string[]) => string[];
  spec: HashSpec;
  /** backend indexes used by this pool, in config order */
  backends: number[];
  withTags: boolean;
}

const CASES: PoolCase[] = [
  {
    name: 'md5_ketama_weighted_named',
    backends: [0, 1, 2, 3],
    yaml: (s) => ['hash: md5', 'distribution: ketama', 'servers:', ` - ${s[0]}:600 cacheA`, ` - ${s[1]}:300 cacheB`, ` - ${s[2]}:1000 cacheC`, ` - ${s[3]}:100 cacheD`],
    spec: { hashFunc: 'Ketama', keyHash: 'md5', weights: [600, 300, 1000, 100], names: ['cacheA', 'cacheB', 'cacheC', 'cacheD'] },
    withTags: false,
  },
  {
    name: 'default_fnv1a_64_equal',
    backends: [0, 1, 2, 3],
    yaml: (s) => ['distribution: ketama', 'servers:', ...s.map((x) => ` - ${x}:1`)],
    spec: { hashFunc: 'Ketama' },
    withTags: false,
  },
  {
    name: 'hsieh_weighted',
    backends: [3, 1, 0],
    yaml: (s) => ['hash: hsieh', 'distribution: ketama', 'servers:', ` - ${s[0]}:5`, ` - ${s[1]}:2`, ` - ${s[2]}:3`],
    spec: { hashFunc: 'Ketama', keyHash: 'hsieh', weights: [5, 2, 3] },
    withTags: false,
  },
  {
    name: 'murmur_hashtag_weighted',
    backends: [2, 0, 1, 3],
    yaml: (s) => ['hash: murmur', 'hash_tag: "{}"', 'distribution: ketama', 'servers:', ` - ${s[0]}:1`, ` - ${s[1]}:3`, ` - ${s[2]}:2`, ` - ${s[3]}:7`],
    spec: { hashFunc: 'Ketama', keyHash: 'murmur', hashTag: '{}', weights: [1, 3, 2, 7] },
    withTags: true,
  },
  {
    name: 'one_at_a_time_modula_weighted',
    backends: [0, 1, 2],
    yaml: (s) => ['hash: one_at_a_time', 'distribution: modula', 'servers:', ` - ${s[0]}:2`, ` - ${s[1]}:1`, ` - ${s[2]}:3`],
    spec: { hashFunc: 'Modula', keyHash: 'one_at_a_time', weights: [2, 1, 3] },
    withTags: false,
  },
  {
    // nutcracker sorts servers by name (shorter first): slot order is zz, bbb, aaaa, not config order
    name: 'crc32a_modula_named',
    backends: [1, 2, 3, 0],
    yaml: (s) => ['hash: crc32a', 'distribution: modula', 'servers:', ` - ${s[0]}:1 aaaa`, ` - ${s[1]}:2 bbb`, ` - ${s[2]}:1 zz`, ` - ${s[3]}:3 cc1`],
    spec: { hashFunc: 'Modula', keyHash: 'crc32a', weights: [1, 2, 1, 3], names: ['aaaa', 'bbb', 'zz', 'cc1'] },
    withTags: false,
  },
];

describe('ketama/modula placement matches real nutcracker', () => {
  let dir = '';
  const backendPorts: number[] = [];
  const poolPorts = new Map<string, number>();

  beforeAll(async () => {
    const memcachedBin = findBinary('memcached');
    const nutcrackerBin = findBinary('nutcracker');
    dir = mkdtempSync(join(tmpdir(), 'mcrelay-ketama-'));
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    for (let i = 0; i < N_BACKENDS; i++) {
      backendPorts.push(
        await startOnFreePort((port) =>
          spawn(memcachedBin, [...(asRoot ? ['-u', 'root'] : []), '-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'], {
            stdio: ['ignore', 'ignore', 'pipe'],
          }),
        ),
      );
    }
    let conf = '';
    for (const c of CASES) {
      const p = await freePort();
      poolPorts.set(c.name, p);
      const servers = c.backends.map((b) => `127.0.0.1:${backendPorts[b]}`);
      conf += `${c.name}:\n  listen: 127.0.0.1:${p}\n  timeout: 5000\n  server_retry_timeout: 30000\n  auto_eject_hosts: false\n${c
        .yaml(servers)
        .map((l) => `  ${l}`)
        .join('\n')}\n`;
    }
    const confPath = join(dir, 'nutcracker.yml');
    writeFileSync(confPath, conf);
    const firstPool = () => poolPorts.get(CASES[0]!.name)!;
    await startOnFreePort(
      (statsPort) =>
        spawn(nutcrackerBin, ['-c', confPath, '-s', String(statsPort), '-a', '127.0.0.1', '-v', '4'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        }),
      firstPool,
    );
    for (const c of CASES) {
      for (let i = 0; i < 100 && !(await canConnect(poolPorts.get(c.name)!)); i++) await sleep(50);
    }
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  CASES.forEach((c, ci) => {
    it(`${c.name}: createSelector predicts nutcracker's backend for ${KEYS_PER_POOL} keys`, async () => {
      const keys = makeKeys(`${c.name.slice(0, 3)}${ci}:`, KEYS_PER_POOL, 1000 + ci * 7919, c.withTags);
      const ids = keys.map((_, i) => ci * 1000000 + i);
      expect(keys.some((k) => k.some((b) => b >= 0x80))).toBe(true);
      await setAll(poolPorts.get(c.name)!, keys, ids);
      const where = new Map<number, number[]>();
      for (let pos = 0; pos < c.backends.length; pos++) {
        const present = await presentIds(backendPorts[c.backends[pos]!]!, keys);
        for (const id of present) {
          if (id < ci * 1000000 || id >= (ci + 1) * 1000000) continue;
          const list = where.get(id) ?? [];
          list.push(pos);
          where.set(id, list);
        }
      }
      const selector = createSelector(c.spec, c.backends.map((b) => ({ host: '127.0.0.1', port: backendPorts[b]! })));
      const mismatches: string[] = [];
      const used = new Set<number>();
      keys.forEach((k, i) => {
        const found = where.get(ids[i]!) ?? [];
        const predicted = selector.select(k);
        used.add(predicted);
        if (found.length !== 1 || found[0] !== predicted) {
          mismatches.push(`${k.toString('hex')}: nutcracker -> [${found.join(',')}], selector -> ${predicted}`);
        }
      });
      expect(mismatches.slice(0, 10)).toEqual([]);
      expect(mismatches.length).toBe(0);
      expect(used.size).toBe(c.backends.length);
    });
  });
});
