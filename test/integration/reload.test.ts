/**
 * Hot reload: a bad config is rejected (old one serves, error logged with its path, config_failures),
 * SIGHUP reloads, connections to kept destinations survive, SIGTERM drains and exits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startRelayWithFile } from './helpers/load-client.js';
import { sleep } from './helpers/ports.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached } from './helpers/real-memcached.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

test('bad config rejected with its path; SIGHUP reload keeps connections to kept servers; SIGTERM exits 0', async () => {
  const a = await startMemcached();
  const b = await startMemcached();
  cleanup.push(() => a.stop(), () => b.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-reload-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ pools: { A: { servers: [a.address] } }, route: 'PoolRoute|A' }));
  const relay = await startRelayWithFile(file, ['--reconfiguration-delay-ms', '10']);
  cleanup.push(() => relay.close());
  const c = await connect(relay.port);
  expect((await c.roundTrip('set k 0 0 1\r\na\r\n')).toString()).toBe('STORED\r\n');
  const connsBefore = (await connect(a.port).then(async (x) => { const s = (await x.roundTrip('stats\r\n')).toString(); x.destroy(); return /total_connections (\d+)/.exec(s)?.[1]; }));
  fs.writeFileSync(file, JSON.stringify({ pools: { A: { servers: ['127.0.0.1:notaport'] } }, route: 'PoolRoute|A' }));
  await sleep(400);
  expect((await c.roundTrip('get k\r\n')).toString()).toContain('VALUE k');
  const stats = (await c.roundTrip('stats\r\n')).toString();
  expect(stats).toMatch(/STAT config_failures 1\r\n/);
  expect(relay.output()).toContain('/pools/A/servers/0');
  // A valid config with A kept and B added, applied by SIGHUP.
  fs.writeFileSync(file, JSON.stringify({ pools: { A: { servers: [a.address] }, B: { servers: [b.address] } }, route: 'PoolRoute|A' }));
  relay.signal('SIGHUP');
  await sleep(400);
  expect((await c.roundTrip('get k\r\n')).toString()).toContain('VALUE k');
  const connsAfter = (await connect(a.port).then(async (x) => { const s = (await x.roundTrip('stats\r\n')).toString(); x.destroy(); return /total_connections (\d+)/.exec(s)?.[1]; }));
  // Our stats probe itself is the only new connection to A: the proxy's connection survived the reloads.
  expect(Number(connsAfter)).toBe(Number(connsBefore) + 1);
  c.destroy();
  relay.signal('SIGTERM');
  expect(await relay.exited).toBe(0);
});
