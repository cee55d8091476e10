/**
 * Configs fetched before the load (etcd, config dumps): loaded from text without I/O, with `@import`s read
 * from what was fetched, and scanImports naming what is still missing until the preprocessor knows every
 * import.
 */
import { describe, expect, test } from 'vitest';
import { configErrorOf } from './helpers/config-error.js';
import { loadConfigSource, scanImports, type FetchedConfig } from '../../../src/config/loader.js';
import { resolveImportKey } from '../../../src/fleet/etcd-url.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function fetched(name: string, text: string | null, imports: Record<string, string | null> = {}): FetchedConfig {
  const key = name.replace(/^etcd:\/\/[^/]*/, '');
  return { name, text, resolveImport: (p) => resolveImportKey(key, p), imports: new Map(Object.entries(imports)) };
}

/** Fetch what scanImports asks for from `store` until nothing is missing; returns the rounds it took. */
function prefetch(f: FetchedConfig, store: Record<string, string>): { config: FetchedConfig; rounds: number } {
  const imports = new Map(f.imports);
  for (let rounds = 1; ; rounds++) {
    const config = { ...f, imports };
    const { unfetched } = scanImports(config);
    if (unfetched.length === 0) return { config, rounds };
    for (const k of unfetched) imports.set(k, store[k] ?? null);
  }
}

describe('fetched configs', () => {
  const name = 'etcd://127.0.0.1:2379/mcrelay/config';

  test('load from text: JSON with comments, md5 of the text, the name as sourcePath, nothing to watch on disk', () => {
    const text = '{"route": "NullRoute", // c\n}';
    const s = loadConfigSource({ fetched: fetched(name, text) });
    expect(plain(s.data)).toEqual({ route: 'NullRoute' });
    expect(s.text).toBe(text);
    expect(s.sourcePath).toBe(name);
    expect(s.files).toEqual([]);
  });

  test('YAML when the key ends in .yaml or .yml', () => {
    const s = loadConfigSource({ fetched: fetched(`${name}.yaml`, 'route: NullRoute\n') });
    expect(plain(s.data)).toEqual({ route: 'NullRoute' });
    const e = configErrorOf(() => loadConfigSource({ fetched: fetched(name, 'route: NullRoute\n') }));
    expect(e.message).toContain(`${name}:1:`);
  });

  test('a key that does not exist is a read error (what a config dump falls back on)', () => {
    const e = configErrorOf(() => loadConfigSource({ fetched: fetched(name, null) }));
    expect(e.code).toBe('MCP_ERR_CONFIG_READ');
    expect(e.message).toBe(`cannot read config ${name}: it does not exist`);
  });

  test('imports resolve to keys relative to the config key, nested imports too, iterating until all are known', () => {
    const store: Record<string, string> = {
      '/mcrelay/pools.json': '{"A": {"servers": ["@import(../shared/host)"]}}',
      '/shared/host': '"127.0.0.1:11211"',
      '/mcrelay/route.yaml': '"@import(route-name)"\n',
      '/mcrelay/route-name': '"PoolRoute|A"',
    };
    const f = fetched(name, '{"pools": "@import(pools.json)", "route": "@import(route.yaml)"}');
    expect(scanImports(f).unfetched).toEqual(['/mcrelay/pools.json', '/mcrelay/route.yaml']);
    expect(() => loadConfigSource({ fetched: f })).toThrow('imports not fetched yet: /mcrelay/pools.json, /mcrelay/route.yaml');
    const { config, rounds } = prefetch(f, store);
    expect(rounds).toBe(3); // the two top-level imports, then what each names, then nothing missing
    expect(scanImports(config).asked).toEqual(['/mcrelay/pools.json', '/shared/host', '/mcrelay/route.yaml', '/mcrelay/route-name']);
    const s = loadConfigSource({ fetched: config });
    expect(plain(s.data)).toEqual({ pools: { A: { servers: ['127.0.0.1:11211'] } }, route: 'PoolRoute|A' });
    expect([...s.importSources.keys()]).toEqual(['/mcrelay/pools.json', '/shared/host', '/mcrelay/route.yaml', '/mcrelay/route-name']);
  });

  test('an import fetched as absent takes its default, or fails the load with its pointer', () => {
    const f = prefetch(fetched(name, '{"route": "@import(missing, NullRoute)", "x": 1}'), {}).config;
    expect(plain(loadConfigSource({ fetched: f }).data)).toMatchObject({ route: 'NullRoute' });
    expect(loadConfigSource({ fetched: f }).importSources.get('/mcrelay/missing')).toBeNull();
    const g = prefetch(fetched(name, '{"pools": {}, "route": "@import(missing)"}'), {}).config;
    const e = configErrorOf(() => loadConfigSource({ fetched: g }));
    expect(e.path).toBe('/route');
    expect(e.message).toContain('/mcrelay/missing does not exist');
  });

  test('a config with a default import is never applied before that import was fetched', () => {
    const f = fetched(name, '{"route": "@import(later, NullRoute)"}');
    const e = configErrorOf(() => loadConfigSource({ fetched: f }));
    expect(e.code).toBe('MCP_ERR_CONFIG_READ');
    expect(e.message).toContain('imports not fetched yet: /mcrelay/later');
  });

  test('scanImports leaves other errors to the load, and names what it asked for before them', () => {
    const f = fetched(name, '{"a": "@import(one)", "b": "@nosuchmacro()"}', { '/mcrelay/one': '1' });
    expect(scanImports(f)).toEqual({ asked: ['/mcrelay/one'], unfetched: [] });
    expect(scanImports(fetched(name, '{not json'))).toEqual({ asked: [], unfetched: [] });
  });
});
