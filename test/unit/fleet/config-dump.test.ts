import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfigSource } from '../../../src/config/loader.js';
import { ConfigDump, type DumpOrigin } from '../../../src/fleet/config-dump.js';

const log = pino({ level: 'silent' });
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('config dumps', () => {
  const etcd: DumpOrigin = { kind: 'etcd', key: '/mcrelay/app/config', name: 'etcd://127.0.0.1:2379/mcrelay/app/config' };

  test('saves the text and imports of a loaded config, and loads them back as they were', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'mcrelay-dump-')), 'not', 'yet');
    const dump = new ConfigDump(root, log);
    const text = '{"pools": "@import(../pools)", "route": "@import(r, \\"NullRoute\\")"}';
    const source = loadConfigSource({
      fetched: { name: etcd.name, text, resolveImport: (p) => (p.startsWith('..') ? '/mcrelay/pools' : `/mcrelay/app/${p}`), imports: new Map([['/mcrelay/pools', '{"A": {"servers": ["h:1"]}}'], ['/mcrelay/app/r', null]]) },
    });
    dump.save(etcd, source, 1_000_000);
    await dump.flush();
    expect(dump.written).toBe(1);
    expect(readdirSync(root)).toEqual([dump.fileFor(etcd).slice(root.length + 1)]);
    expect(dump.fileFor(etcd)).toMatch(/etcd_mcrelay_app_config-[0-9a-f]{8}\.json$/);
    const { dump: back } = dump.load(etcd, 60_000, 1_000_000 + 59_000);
    if (back === null) throw new Error('no dump');
    expect(back.md5).toBe(source.md5);
    expect(back.savedAt).toBe(1_000_000);
    const again = loadConfigSource({ fetched: back.fetched });
    expect(again.text).toBe(text);
    expect(plain(again.data)).toEqual(plain(source.data));
    expect(back.fetched.resolveImport('../pools')).toBe('/mcrelay/pools');
  });

  test('not used past the max age, nor for another source, nor when unreadable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mcrelay-dump-'));
    const dump = new ConfigDump(root, log);
    dump.save(etcd, loadConfigSource('{"route": "NullRoute"}'), 0);
    await dump.flush();
    expect(dump.load(etcd, 12 * 3600_000, 12 * 3600_000 + 1).why).toMatch(/is 43200 s old \(max 43200 s\)/);
    expect(dump.load({ ...etcd, key: '/other' }, 1000, 0).why).toMatch(/^no config dump at /);
    writeFileSync(dump.fileFor(etcd), '{"format": 1, "source": "etcd:/other"}');
    expect(dump.load(etcd, 1000, 0).why).toMatch(/is not a dump of etcd:\/mcrelay\/app\/config/);
    writeFileSync(dump.fileFor(etcd), '{trunc');
    expect(dump.load(etcd, 1000, 0).why).toMatch(/unreadable/);
  });

  test('file configs: imports resolve against the file\'s directory; writes coalesce to the newest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcrelay-dump-src-'));
    writeFileSync(join(dir, 'pools.json'), '{"A": {"servers": ["h:1"]}}');
    writeFileSync(join(dir, 'c.json'), '{"pools": "@import(pools.json)", "route": "PoolRoute|A"}');
    const file: DumpOrigin = { kind: 'file', path: join(dir, 'c.json') };
    const root = mkdtempSync(join(tmpdir(), 'mcrelay-dump-'));
    const dump = new ConfigDump(root, log);
    dump.save(file, loadConfigSource('{"route": "NullRoute"}'));
    dump.save(file, loadConfigSource(`file:${file.path}`));
    await dump.flush();
    expect(dump.written).toBeLessThanOrEqual(2);
    const rec = JSON.parse(readFileSync(dump.fileFor(file), 'utf8')) as { imports: Record<string, string> };
    expect(Object.keys(rec.imports)).toEqual([join(dir, 'pools.json')]);
    const { dump: back } = dump.load(file, 60_000);
    if (back === null) throw new Error('no dump');
    expect(plain(loadConfigSource({ fetched: back.fetched }).data)).toEqual({ pools: { A: { servers: ['h:1'] } }, route: 'PoolRoute|A' });
  });

  test('a dump root that cannot be written is logged and counted, never thrown', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'mcrelay-dump-'));
    writeFileSync(join(parent, 'file'), 'x');
    const dump = new ConfigDump(join(parent, 'file', 'sub'), log);
    dump.save(etcd, loadConfigSource('{"route": "NullRoute"}'));
    await dump.flush();
    expect(dump.failures).toBe(1);
  });
});
