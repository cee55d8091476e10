/**
 * mcrouter's TKO counting against scripted backends (issue 12 §2):
 * - a hung server goes soft TKO after exactly --timeouts-until-tko timed-out requests, also when the silent
 *   connection is reset under some of them (each timed-out request counts once);
 * - a server that refuses connections is hard TKO at once, and num_failures counts every request failed by a
 *   connect error and every failed probe (mcrouter's consecutiveFailureCount);
 * - TKO transitions are logged as mcrouter logs them, with the totals.
 */
import net from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, LOOPBACK, sleep } from './helpers/ports.js';
import { onePoolConfig, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect, type RawClient } from './helpers/raw-client.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function relayFor(servers: string[], args: string[]): Promise<{ relay: RelayProcess; c: RawClient }> {
  const relay = await startRelay({ config: onePoolConfig(servers), args });
  cleanup.push(() => relay.close());
  const c = await connect(relay.port, { timeoutMs: 10_000 });
  cleanup.push(() => c.close());
  return { relay, c };
}

/**
 * Whether the relay logs `text` within 3 s: log lines reach the pipe asynchronously, so a state already
 * visible through stats may not be in the output yet.
 */
async function logged(relay: RelayProcess, text: string): Promise<boolean> {
  const deadline = Date.now() + 3000;
  while (!relay.output().includes(text)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function line(c: RawClient, cmd: string): Promise<string> {
  await c.send(`${cmd}\r\n`);
  return (await c.readUntil('\r\n')).toString('latin1').trimEnd();
}

async function stats(c: RawClient, group: string): Promise<Map<string, string>> {
  await c.send(`stats ${group}\r\n`);
  const out = (await c.readUntil('END\r\n')).toString('latin1');
  const m = new Map<string, string>();
  for (const l of out.split('\r\n')) {
    const parts = l.split(' ');
    if (parts[0] === 'STAT' && parts.length >= 3) m.set(parts[1] as string, parts.slice(2).join(' '));
  }
  return m;
}

test('a hung server is soft TKO after exactly 3 timed-out requests, resets of its silent connection included', async () => {
  // The mock accepts connections and never answers: every request times out. Each request is sent as soon as
  // the previous one timed out, so the connection's zombie check (silent for two timeouts) resets it under
  // the next request; that request's timeout counts too.
  const be: MockMemcached = await startMock();
  cleanup.push(() => be.close());
  const { relay, c } = await relayFor([be.address], ['-t', '300', '--timeouts-until-tko', '3', '-r', '60000']);
  const replies: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await line(c, `get k${i}`);
    replies.push(r);
    if (r.startsWith('SERVER_ERROR Server unavailable')) break;
  }
  expect(replies.slice(0, 3)).toEqual(['SERVER_ERROR Reply timeout', 'SERVER_ERROR Reply timeout', 'SERVER_ERROR Reply timeout']);
  expect(replies[3]).toBe('SERVER_ERROR Server unavailable. Reason: mc_res_timeout');
  expect(replies).toHaveLength(4);

  const suspect = await stats(c, 'suspect_servers');
  expect(suspect.get(be.address)).toBe('status:tko num_failures:3');
  const d = await stats(c, 'detailed');
  expect([d.get('num_soft_tko_count'), d.get('num_hard_tko_count'), d.get('max_num_tko')]).toEqual(['1', '0', '1']);
  expect(await logged(relay, `${be.address} marked soft TKO. Total hard TKOs: 0; soft TKOs: 1. Reply: mc_res_timeout`)).toBe(true);
});

test('a refusing server is hard TKO at once; num_failures counts each failed request and each failed probe', async () => {
  // A port nobody listens on (taken, then released).
  const port = await getFreePort();
  const addr = `${LOOPBACK}:${port}`;
  const { relay, c } = await relayFor([addr], ['-t', '500', '-r', '100', '--probe-timeout-max', '100']);
  // Three requests queued on the connection being opened: all three fail with the connect error.
  await c.send('get a\r\nget b\r\nget c\r\n');
  const first = (await c.readUntil((b) => (b.toString('latin1').split('\r\n').length > 3 ? b.length : -1))).toString('latin1');
  const lines = first.split('\r\n').filter((l) => l !== '');
  expect(lines).toHaveLength(3);
  for (const l of lines) expect(l).toMatch(/^SERVER_ERROR /);
  expect(await line(c, 'get d')).toBe('SERVER_ERROR Server unavailable. Reason: mc_res_connect_error');
  expect((await stats(c, 'suspect_servers')).get(addr)).toBe('status:tko num_failures:3');

  // Probes every 100-150 ms, all refused: each one is a failure more.
  await sleep(700);
  const later = (await stats(c, 'suspect_servers')).get(addr) ?? '';
  const n = Number(/num_failures:(\d+)/.exec(later)?.[1]);
  expect(later.startsWith('status:tko ')).toBe(true);
  expect(n).toBeGreaterThanOrEqual(5);
  const d = await stats(c, 'detailed');
  expect([d.get('num_soft_tko_count'), d.get('num_hard_tko_count'), d.get('max_num_tko')]).toEqual(['0', '1', '1']);
  expect(await logged(relay, `${addr} marked hard TKO. Total hard TKOs: 1; soft TKOs: 0. Reply: mc_res_connect_error`)).toBe(true);

  // The server comes up: the next probe unmarks it and the count starts over.
  const srv = net.createServer((s) => s.on('data', () => s.write('VERSION 1.6.18\r\n')));
  await new Promise<void>((r) => srv.listen(port, LOOPBACK, () => r()));
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const deadline = Date.now() + 3000;
  while ((await stats(c, 'suspect_servers')).has(addr) && Date.now() < deadline) await sleep(50);
  expect((await stats(c, 'suspect_servers')).has(addr)).toBe(false);
  expect(await logged(relay, `${addr} unmarked TKO. Total hard TKOs: 0; soft TKOs: 0. Reply: mc_res_ok`)).toBe(true);
});
