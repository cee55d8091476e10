/**
 * Configs mcrouter runs although they carry keys it does not know, or server forms mcrelay once refused
 * (test/fixtures/configs/lenient/): mcrelay must start on each, log every warning at warn with its JSON
 * pointer (the lines of the sibling `.warnings` file), and serve. Each fixture's servers are pointed at one real memcached; a set and a get
 * through mcrelay must round-trip.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigSource } from '../../src/config/loader.js';
import { REPO_ROOT, startRelay } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'configs', 'lenient');
const FIXTURES = readdirSync(DIR).filter((f) => ['.json', '.yaml', '.yml'].includes(extname(f))).sort();

let memcached: MemcachedServer | null = null;

beforeAll(async () => {
  memcached = await startMemcached();
});

afterAll(async () => {
  await memcached?.stop();
});

/**
 * The fixture's preprocessed config with every server pointed at `port`: the port of each `127.0.0.1:N...`
 * or `[127.0.0.1]:N...` string and every `port_override` become `port`; the rest of each string is kept.
 */
function pointedAt(file: string, port: number): string {
  const swap = (v: unknown, key: string): unknown => {
    if (key === 'port_override' && typeof v === 'number') return port;
    if (typeof v === 'string') return v.replace(/^(\[?127\.0\.0\.1\]?):\d+/, `$1:${port}`);
    if (Array.isArray(v)) return v.map((x) => swap(x, ''));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x, k)]));
    return v;
  };
  return JSON.stringify(swap(loadConfigSource(`file:${join(DIR, file)}`).data, ''));
}

describe('mcrelay serves the configs mcrouter accepts despite unknown keys', () => {
  it('has fixtures', () => expect(FIXTURES.length).toBeGreaterThanOrEqual(6));

  for (const file of FIXTURES) {
    it(file, async () => {
      const server = memcached as MemcachedServer;
      const text = readFileSync(join(DIR, `${basename(file, extname(file))}.warnings`), 'utf8').trimEnd();
      const warnings = text === '' ? [] : text.split('\n');
      const relay = await startRelay({ config: pointedAt(file, server.port) });
      try {
        const c = await connect(relay.port);
        try {
          const key = `lenient:${basename(file)}`;
          expect((await c.roundTrip(`set ${key} 0 0 2\r\nok\r\n`)).toString()).toBe('STORED\r\n');
          expect((await c.roundTrip(`get ${key}\r\n`)).toString()).toBe(`VALUE ${key} 0 2\r\nok\r\nEND\r\n`);
        } finally {
          c.destroy();
        }
        const logged = relay.output().split('\n').filter((l) => l.includes('"level":40')).map((l) => (JSON.parse(l) as { warning?: string }).warning);
        for (const w of warnings) expect(logged).toContain(w);
      } finally {
        await relay.close();
      }
    });
  }
});
