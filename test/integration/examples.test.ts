/**
 * Boots EVERY config in examples/ (YAML and JSON twins alike) with real memcached processes substituted for
 * the placeholder servers, and sends get/set traffic through each: plain keys, keys under every
 * PrefixSelectorRoute policy prefix, and a multi-get. Plain keys must also be found directly on one of the
 * substituted backends (proof that the substitution, not some stale server, served them).
 *
 * Conventions for example files (documented in each file's header):
 *   - servers are placeholders (any `host:port`); each distinct one becomes its own memcached here;
 *   - a comment line `mcrelay-args: <args>` gives extra CLI arguments (e.g. `--local-zone us-east-1a`).
 * An example that uses a route type the registry does not know fails with the list of missing types.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/loader.js';
import { ROUTE_FACTORIES } from '../../src/routes/registry.js';
import { REPO_ROOT, startRelay } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
const FILES = fs.readdirSync(EXAMPLES_DIR).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Depth-first walk over every value with its parent key. */
function walk(v: Json, fn: (v: Json, key: string | null) => void, key: string | null = null): void {
  fn(v, key);
  if (Array.isArray(v)) for (const x of v) walk(x, fn, key);
  else if (isObj(v)) for (const k of Object.keys(v)) walk(v[k] as Json, fn, k);
}

/** Replace every `servers` entry through `map` (in place). */
function substituteServers(v: Json, map: (s: string) => string): void {
  walk(v, (x) => {
    if (!isObj(x) || !Array.isArray(x['servers'])) return;
    x['servers'] = x['servers'].map((s) => (typeof s === 'string' ? map(s) : s));
  });
}

function routeTypes(v: Json): Set<string> {
  const types = new Set<string>();
  walk(v, (x, key) => {
    if (isObj(x) && typeof x['type'] === 'string') types.add(x['type']);
    if (typeof x === 'string' && key !== 'servers' && /^[A-Z]\w*Route\|/.test(x)) types.add(x.slice(0, x.indexOf('|')));
    if (typeof x === 'string' && /^[A-Z]\w*Route$/.test(x)) types.add(x);
  });
  return types;
}

function policyPrefixes(v: Json): string[] {
  const out: string[] = [];
  walk(v, (x) => {
    if (isObj(x) && x['type'] === 'PrefixSelectorRoute' && isObj(x['policies'])) out.push(...Object.keys(x['policies']));
  });
  return out;
}

const text = (b: Buffer): string => b.toString('latin1');

async function client(port: number): Promise<RawClient> {
  const c = await connect(port, { timeoutMs: 5000 });
  cleanups.push(() => c.destroy());
  return c;
}

describe('examples/ boot and serve get/set traffic', () => {
  it('there are examples to test', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of FILES) {
    it(file, async () => {
      const source = fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8');
      const config = parseConfigText(source, file, !file.endsWith('.json')) as Json;
      const known = new Set(['Pool', ...ROUTE_FACTORIES.flatMap((f) => [f.type, ...f.aliases])]);
      const missing = [...routeTypes(config)].filter((t) => !known.has(t));
      expect(missing, `${file} uses route types the registry does not have yet`).toEqual([]);

      // One real memcached per distinct placeholder server.
      const placeholders = new Set<string>();
      walk(config, (x) => {
        if (isObj(x) && Array.isArray(x['servers'])) for (const s of x['servers']) if (typeof s === 'string') placeholders.add(s);
      });
      const backends = new Map<string, MemcachedServer>();
      await Promise.all([...placeholders].map(async (p) => {
        const m = await startMemcached();
        cleanups.push(() => m.stop());
        backends.set(p, m);
      }));
      substituteServers(config, (s) => backends.get(s)?.address ?? s);

      const argsLine = /mcrelay-args:[ \t]*(.*)$/m.exec(source);
      const args = argsLine?.[1]?.trim().split(/\s+/).filter((a) => a.length > 0) ?? [];
      const relay = await startRelay({ config: config as object, args });
      cleanups.push(() => relay.close());
      const c = await client(relay.port);

      const tag = file.replace(/\W/g, '_');
      const plain = Array.from({ length: 20 }, (_, i) => `ex:${tag}:${i}`);
      const prefixed = policyPrefixes(config).flatMap((p) => Array.from({ length: 5 }, (_, i) => `${p}${tag}:${i}`));
      for (const k of [...plain, ...prefixed]) {
        const v = `val-${k}`;
        expect(text(await c.roundTrip(`set ${k} 0 0 ${v.length}\r\n${v}\r\n`)), `set ${k}`).toBe('STORED\r\n');
        expect(text(await c.roundTrip(`get ${k}\r\n`)), `get ${k}`).toBe(`VALUE ${k} 0 ${v.length}\r\n${v}\r\nEND\r\n`);
      }
      const [a, b] = plain;
      expect(text(await c.roundTrip(`get ${a} nosuch:${tag} ${b}\r\n`))).toBe(
        `VALUE ${a} 0 ${`val-${a}`.length}\r\nval-${a}\r\nVALUE ${b} 0 ${`val-${b}`.length}\r\nval-${b}\r\nEND\r\n`,
      );

      // The plain keys really live on the substituted backends.
      const direct = await Promise.all([...backends.values()].map((m) => client(m.port)));
      for (const k of plain) {
        let found = 0;
        for (const d of direct) if (text(await d.roundTrip(`get ${k}\r\n`)) !== 'END\r\n') found++;
        expect(found, `${k} on some backend`).toBeGreaterThan(0);
      }
    });
  }
});
