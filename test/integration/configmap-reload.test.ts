/**
 * A config mounted from a Kubernetes ConfigMap, with the kubelet's exact layout, built in a temp dir:
 *
 *   DIR/..2026_12_01_10_00_00.000000001/mcrelay.json     the files of one version
 *   DIR/..data -> ..2026_12_01_10_00_00.000000001          swapped by one rename(2) per update
 *   DIR/mcrelay.json -> ..data/mcrelay.json                what --config names
 *
 * An update writes a new timestamped directory, points a temporary symlink at it, renames that over
 * `..data`, and removes the old directory. mcrelay must see the change and apply it: checked by the config
 * md5 it reports and by where a new key is stored.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers/ports.js';
import { startRelayWithFile } from './helpers/load-client.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const configFor = (server: string): string => `${JSON.stringify({ pools: { A: { servers: [server] } }, route: 'PoolRoute|A' }, null, 2)}\n`;

describe('ConfigMap mount: the ..data symlink swap is a config change', () => {
  let dir: string;
  let first: MemcachedServer;
  let second: MemcachedServer;
  let relay: Awaited<ReturnType<typeof startRelayWithFile>>;
  let version = 0;

  /** Write a version as the kubelet does; returns the version directory's name. */
  const publish = (text: string, previous: string | null): string => {
    const name = `..2026_12_01_10_00_0${version++}.000000001`;
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'mcrelay.json'), text);
    symlinkSync(name, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (previous !== null) rmSync(join(dir, previous), { recursive: true, force: true });
    return name;
  };

  beforeAll(async () => {
    first = await startMemcached();
    second = await startMemcached();
    dir = mkdtempSync(join(tmpdir(), 'mcrelay-configmap-'));
    publish(configFor(first.address), null);
    symlinkSync('..data/mcrelay.json', join(dir, 'mcrelay.json'));
    relay = await startRelayWithFile(join(dir, 'mcrelay.json'), ['--reconfiguration-delay-ms', '100']);
  });

  afterAll(async () => {
    await relay?.close();
    await first?.stop();
    await second?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads after the swap and routes to the new server', async () => {
    const c = await connect(relay.port);
    const digest = async (): Promise<string> => {
      const r = (await c.roundTrip('get __mcrouter__.config_md5_digest\r\n')).toString('latin1');
      return /^VALUE \S+ \d+ \d+\r\n([0-9a-f]+)\r\n/.exec(r)?.[1] ?? r;
    };
    expect(await digest()).toBe(md5(configFor(first.address)));
    const started = Date.now();
    publish(configFor(second.address), '..2026_12_01_10_00_00.000000001');
    const want = md5(configFor(second.address));
    while ((await digest()) !== want && Date.now() - started < 10_000) await sleep(50);
    expect(await digest()).toBe(want);
    console.log(`[configmap-reload] ..data swap applied in ${Date.now() - started} ms (reconfiguration delay 100 ms)`);
    expect((await c.roundTrip('set cm:k 0 0 2\r\nok\r\n')).toString('latin1')).toBe('STORED\r\n');
    const direct = await connect(second.port);
    expect((await direct.roundTrip('get cm:k\r\n')).toString('latin1')).toBe('VALUE cm:k 0 2\r\nok\r\nEND\r\n');
    await direct.close();
    await c.close();
  });
});
