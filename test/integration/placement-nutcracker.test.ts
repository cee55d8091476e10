/**
 * End to end: the same pool, once behind Debian's nutcracker (twemproxy 0.5.0) and once behind mcrelay with
 * `hash_func: Ketama`, over the same four memcached servers. For each config, 2,000+ keys are set through
 * nutcracker and located by reading every backend directly; the backends are flushed; the same keys are set
 * through mcrelay and located again. Every key must land on the same backend through both proxies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitForPort } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { flushBackends, placeThrough } from './helpers/placement.js';
import { startMemcached, trackChild, type MemcachedServer } from './helpers/real-memcached.js';

const KEYS = 2000;

function findBinary(name: string): string {
  for (const d of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin']) {
    if (d.length > 0 && existsSync(join(d, name))) return join(d, name);
  }
  throw new Error(`${name} not found: apt-get install ${name}`);
}

interface PoolCase {
  name: string;
  /** twemproxy pool keys besides listen/servers. */
  twemproxy: Record<string, string>;
  weights: number[];
  names: (string | null)[];
  /** mcrelay hash options. */
  hash: Record<string, unknown>;
}

const CASES: PoolCase[] = [
  {
    name: 'md5 ketama, weighted, named servers (libmemcached-compatible)',
    twemproxy: { hash: 'md5', distribution: 'ketama' },
    weights: [1, 2, 5, 3],
    names: ['alpha', 'beta', 'gamma', 'delta'],
    hash: { hash_func: 'Ketama', key_hash: 'md5' },
  },
  {
    name: 'fnv1a_64 (twemproxy default), equal weights, unnamed',
    twemproxy: { hash: 'fnv1a_64', distribution: 'ketama' },
    weights: [1, 1, 1, 1],
    names: [null, null, null, null],
    hash: { hash_func: 'Ketama', key_hash: 'fnv1a_64' },
  },
  {
    name: 'murmur, weighted, unnamed',
    twemproxy: { hash: 'murmur', distribution: 'ketama' },
    weights: [3, 1, 1, 2],
    names: [null, null, null, null],
    hash: { hash_func: 'Ketama', key_hash: 'murmur' },
  },
  {
    name: 'hsieh with a hash tag',
    twemproxy: { hash: 'hsieh', distribution: 'ketama', hash_tag: '"{}"' },
    weights: [1, 1, 2, 2],
    names: [null, null, null, null],
    hash: { hash_func: 'Ketama', key_hash: 'hsieh', hash_tag: '{}' },
  },
];

function keyAt(i: number): string {
  // Mixed shapes: plain, hash-tagged, and UTF-8 bytes (twemproxy's signed-char quirk).
  if (i % 7 === 0) return `user:{${i % 97}}:profile:${i}`;
  if (i % 11 === 0) return `café:${i}:ü`;
  return `key:${i}:${(i * 2654435761) % 1000003}`;
}

let backends: MemcachedServer[] = [];
const direct: RawClient[] = [];
const children: ChildProcess[] = [];
let workdir = '';

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'mcrelay-place-'));
  backends = await Promise.all([0, 1, 2, 3].map(() => startMemcached()));
  for (const b of backends) direct.push(await connect(b.port));
});

afterAll(async () => {
  for (const c of direct) c.destroy();
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(backends.map((b) => b.stop()));
  rmSync(workdir, { recursive: true, force: true });
});

async function startNutcracker(c: PoolCase): Promise<number> {
  const port = await getFreePort();
  const stats = await getFreePort();
  const servers = backends.map((b, i) => `   - 127.0.0.1:${b.port}:${c.weights[i]}${c.names[i] === null ? '' : ` ${c.names[i]}`}`);
  const extra = Object.entries(c.twemproxy).map(([k, v]) => `  ${k}: ${v}`);
  const yaml = ['pool:', `  listen: 127.0.0.1:${port}`, ...extra, '  timeout: 2000', '  servers:', ...servers, ''].join('\n');
  const file = join(workdir, `nc-${port}.yml`);
  writeFileSync(file, yaml);
  const child = spawn(findBinary('nutcracker'), ['-c', file, '-s', String(stats), '-a', '127.0.0.1'], { stdio: 'ignore' });
  trackChild(child);
  children.push(child);
  await waitForPort(port);
  return port;
}

function mcrelayConfig(c: PoolCase): object {
  return {
    pools: { P: { servers: backends.map((b) => `127.0.0.1:${b.port}`) } },
    route: { type: 'PoolRoute', pool: 'P', hash: { ...c.hash, weights: c.weights, names: c.names } },
  };
}

describe('key placement: nutcracker vs mcrelay (hash_func Ketama) on the same servers', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const keys = Array.from({ length: KEYS }, (_, i) => keyAt(i));
      await flushBackends(direct);
      const ncPort = await startNutcracker(c);
      const viaNutcracker = await placeThrough(ncPort, direct, keys);
      await flushBackends(direct);
      let relay: RelayProcess | null = null;
      try {
        relay = await startRelay({ config: mcrelayConfig(c) });
        const viaRelay = await placeThrough(relay.port, direct, keys);
        expect(viaNutcracker.every((b) => b >= 0)).toBe(true);
        // Every backend got some keys, so the comparison is not trivially equal.
        expect(new Set(viaNutcracker).size).toBe(backends.length);
        const mismatches = keys.filter((_, i) => viaNutcracker[i] !== viaRelay[i]);
        expect(mismatches.slice(0, 5)).toEqual([]);
      } finally {
        await relay?.close();
      }
    });
  }
});
