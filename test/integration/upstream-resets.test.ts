/**
 * Upstream connection resets through the real CLI: a reply that cannot be framed resets the connection,
 * and the reset shows as mcrelay_upstream_connection_resets_total{cause}, in `stats servers` and
 * `stats detailed`, and as one warn line with the destination, cause, bytes and requests failed.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, sleep } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';

let be: MockMemcached;
let relay: RelayProcess;
let admin: string;

beforeAll(async () => {
  // An mg gets the reply of some other command: no framing can match it to the mg.
  be = await startMock({ handler: (line) => (line.startsWith('mg ') ? 'STORED\r\n' : line.startsWith('get ') ? 'END\r\n' : 'ERROR\r\n') });
  const port = await getFreePort();
  relay = await startRelay({ config: { pools: { A: { servers: [be.address] } }, route: 'PoolRoute|A' }, args: ['--admin-port', String(port)] });
  admin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await relay?.close();
  await be?.close();
});

test('a reset: counted by cause in /metrics and stats, logged once at warn', async () => {
  const c = await connect(relay.port);
  expect((await c.roundTrip('mg k v\r\n')).toString()).toBe('SERVER_ERROR bad reply from server: reply to mg\r\n');
  // An error line is a reply, not a reset.
  expect((await c.roundTrip('touch k 1\r\n')).toString()).toBe('ERROR\r\n');
  expect((await c.roundTrip('get k\r\n')).toString()).toBe('END\r\n');
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const series = metrics.split('\n').filter((l) => l.startsWith('mcrelay_upstream_connection_resets_total{'));
  expect(series).toContain(`mcrelay_upstream_connection_resets_total{pool="A",destination="${be.address}",cause="unknown_reply"} 1`);
  // Every cause is exported (0 when it never happened), so rate() works from the first scrape.
  expect(series).toHaveLength(9);
  expect(series.filter((l) => !l.endsWith(' 0'))).toHaveLength(1);
  expect((await c.roundTrip('stats servers\r\n')).toString()).toMatch(new RegExp(`^STAT ${be.address}:ascii:plain:notcompressed-1000 .* resets:1 (up|down):1; .*\\r\\nEND\\r\\n$`));
  expect((await c.roundTrip('stats detailed\r\n')).toString()).toContain('STAT num_connection_resets 1\r\n');
  await c.close();
  await sleep(50);
  const warns = relay
    .output()
    .split('\n')
    .filter((l) => l.includes('upstream connection reset'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(warns).toEqual([expect.objectContaining({ level: 40, destination: be.address, cause: 'unknown_reply', bytes: 'STORED\\r\\n', requestsFailed: 1 })]);
});
