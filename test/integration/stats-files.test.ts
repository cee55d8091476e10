/**
 * `--stats-root`: mcrouter's stats files, read back the way its tooling reads them (issue 12 §3):
 * libmcrouter.mcrouter.<port>.{startup_options,stats,config_sources_info}, pretty-printed sorted JSON, the stats
 * keys prefixed, rewritten every --stats-logging-interval, startup_options touched each time.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startRelayWithFile } from './helpers/load-client.js';
import { startMock } from './helpers/mock-memcached.js';
import { sleep } from './helpers/ports.js';
import { connect } from './helpers/raw-client.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Wait until `file` exists and `ok(parsed JSON)` holds; returns the text. */
async function waitForFile(file: string, ok: (j: Record<string, unknown>) => boolean, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      if (ok(JSON.parse(text) as Record<string, unknown>)) return text;
    } catch {
      // not there yet, or being replaced
    }
    if (Date.now() > deadline) throw new Error(`${file} never held what was expected`);
    await sleep(50);
  }
}

test('stats, startup_options and config_sources_info, in mcrouter\'s names, format and schedule', async () => {
  const be = await startMock({ builtin: true });
  cleanup.push(() => be.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-stats-root-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const confDir = path.join(dir, 'conf');
  fs.mkdirSync(confDir);
  const poolsText = JSON.stringify({ A: { servers: [be.address] } });
  const configText = '{"pools": "@import(pools.json)", "route": "PoolRoute|A"}\n';
  fs.writeFileSync(path.join(confDir, 'pools.json'), poolsText);
  fs.writeFileSync(path.join(confDir, 'config.json'), configText);
  const statsRoot = path.join(dir, 'stats');
  const relay = await startRelayWithFile(path.join(confDir, 'config.json'), ['--stats-root', statsRoot, '--stats-logging-interval', '200']);
  cleanup.push(() => relay.close());
  const prefix = `libmcrouter.mcrouter.${relay.port}`;

  // startup_options: every option as a string, and the pid.
  const startup = JSON.parse(await waitForFile(path.join(statsRoot, `${prefix}.startup_options`), () => true)) as Record<string, unknown>;
  expect(startup['pid']).toBe(String(relay.pid));
  expect(startup['stats_root']).toBe(statsRoot);
  expect(Object.values(startup).every((v) => typeof v === 'string')).toBe(true);

  const c = await connect(relay.port);
  cleanup.push(() => c.close());
  await c.roundTrip('set k 0 0 1\r\nx\r\nget k\r\nget nope\r\n');

  // stats: prefixed ods keys, integers for counters; rewritten every interval, so the traffic shows up.
  const statsFile = path.join(statsRoot, `${prefix}.stats`);
  // request_sent is a rate stat (ods): per second over the last minute, a double.
  const text = await waitForFile(statsFile, (j) => (j[`${prefix}.request_sent`] as number) > 0);
  const stats = JSON.parse(text) as Record<string, number>;
  expect(text).toBe(`${JSON.stringify(stats, null, 2)}\n`);
  expect(Object.keys(stats)).toEqual(Object.keys(stats).sort());
  expect(Object.keys(stats).every((k) => k.startsWith(`${prefix}.`))).toBe(true);
  for (const name of ['uptime', 'num_servers', 'num_servers_up', 'num_client_connections', 'result_error_count', 'result_error_all_count', 'request_sent', 'config_last_success', 'max_num_tko']) {
    expect(typeof stats[`${prefix}.${name}`], name).toBe('number');
  }
  expect([stats[`${prefix}.num_servers`], stats[`${prefix}.num_servers_up`], stats[`${prefix}.num_client_connections`], stats[`${prefix}.result_error_count`]]).toEqual([1, 1, 1, 0]);

  // config_sources_info: the file, its md5, the import's md5; no newline at the end.
  const sourcesText = await waitForFile(path.join(statsRoot, `${prefix}.config_sources_info`), () => true);
  expect(JSON.parse(sourcesText)).toEqual({
    config_file: path.join(confDir, 'config.json'),
    mcrouter_config: md5(configText),
    config_import: { [path.join(confDir, 'pools.json')]: md5(poolsText) },
  });
  expect(sourcesText.endsWith('}')).toBe(true);

  // startup_options is touched at every interval (its mtime says the process is alive), not rewritten.
  const before = fs.statSync(path.join(statsRoot, `${prefix}.startup_options`)).mtimeMs;
  await sleep(500);
  expect(fs.statSync(path.join(statsRoot, `${prefix}.startup_options`)).mtimeMs).toBeGreaterThan(before);
  expect(fs.readdirSync(statsRoot).sort()).toEqual([`${prefix}.config_sources_info`, `${prefix}.startup_options`, `${prefix}.stats`]);
});
