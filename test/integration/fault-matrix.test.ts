/**
 * Fault matrix (issue 5): each fault under concurrent client load, asserting what clients see and how long
 * it takes. Figures are printed (`[fault-matrix] ...`) and appended to $MCRELAY_FAULT_REPORT when set.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Load, rssOf, startRelayWithFile } from './helpers/load-client.js';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, LOOPBACK, sleep } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';
import { reportFault } from './helpers/fault-report.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const report = reportFault;

async function relayFor(servers: string[], args: string[], extra: object = {}): Promise<RelayProcess> {
  const relay = await startRelay({ config: { pools: { A: { servers, ...extra } }, route: 'PoolRoute|A' }, args });
  cleanup.push(() => relay.close());
  return relay;
}

async function memcached(port?: number): Promise<MemcachedServer> {
  const m = await startMemcached(port === undefined ? {} : { port });
  cleanup.push(() => m.stop());
  return m;
}

const getSet = (c: number, i: number): string => (i % 2 === 0 ? `set k${c}_${i % 16} 0 0 5\r\nhello\r\n` : `get k${c}_${(i - 1) % 16}\r\n`);

/** First time (ms since start) at or after `from` where a reply matching `pred` was seen. */
function firstAt(load: Load, from: number, pred: (e: { t: number; ok: boolean; text: string }) => boolean): number | null {
  for (const e of load.stats.timeline) if (e.t >= from && pred(e)) return e.t;
  return null;
}

describe('fault matrix', () => {
  test('backend killed: connect errors, hard TKO, fail fast, probes bring it back after restart', async () => {
    const m = await memcached();
    const relay = await relayFor([m.address], ['-t', '300', '-r', '200', '--probe-timeout-max', '400']);
    const load = new Load({ port: relay.port, connections: 20, request: getSet, recordTimeline: true });
    const t0 = Date.now();
    await sleep(300);
    const killAt = Date.now() - t0;
    m.kill();
    await sleep(1000);
    const restartAt = Date.now() - t0;
    await memcached(m.port);
    await sleep(1500);
    const s = await load.stop();
    const tko = firstAt(load, killAt, (e) => e.text.includes('Server unavailable'));
    const lastErr = [...s.timeline].reverse().find((e) => !e.ok);
    const recovered = firstAt(load, restartAt, (e) => e.ok && e.t > (lastErr?.t ?? 0));
    const before = s.timeline.filter((e) => !e.ok && e.t >= killAt && (tko === null || e.t < tko)).length;
    report('backend killed', {
      timeToTkoMs: tko === null ? null : tko - killAt,
      errorsBeforeTko: before,
      recoveryAfterRestartMs: recovered === null ? null : recovered - restartAt,
      errors: Object.fromEntries(s.errors),
      ok: s.ok + s.miss,
      maxLatencyMs: Math.round(s.maxLatencyMs),
      hangs: s.hangs,
    });
    expect(s.hangs).toBe(0);
    expect(tko).not.toBeNull();
    expect((tko as number) - killAt).toBeLessThan(500);
    expect(recovered).not.toBeNull();
    expect(s.maxLatencyMs).toBeLessThan(1000);
  });

  test('backend SIGSTOP: timeouts, soft TKO, nobody waits past server_timeout, recovery after SIGCONT', async () => {
    const m = await memcached();
    const timeout = 300;
    const relay = await relayFor([m.address], ['-t', String(timeout), '-r', '200', '--probe-timeout-max', '400']);
    const load = new Load({ port: relay.port, connections: 20, request: getSet, recordTimeline: true });
    const t0 = Date.now();
    await sleep(300);
    const stopAt = Date.now() - t0;
    m.pause();
    await sleep(1500);
    const contAt = Date.now() - t0;
    m.resume();
    await sleep(1500);
    const s = await load.stop();
    const tko = firstAt(load, stopAt, (e) => e.text.includes('Server unavailable'));
    const timeouts = (s.errors.get('SERVER_ERROR Reply timeout') ?? 0) + (s.errors.get('SERVER_ERROR Client queue timeout') ?? 0);
    const lastErr = [...s.timeline].reverse().find((e) => !e.ok);
    const recovered = firstAt(load, contAt, (e) => e.ok && e.t > (lastErr?.t ?? 0));
    report('backend SIGSTOP', {
      timeToTkoMs: tko === null ? null : tko - stopAt,
      timeoutsSeen: timeouts,
      recoveryAfterSigcontMs: recovered === null ? null : recovered - contAt,
      errors: Object.fromEntries(s.errors),
      maxLatencyMs: Math.round(s.maxLatencyMs),
      hangs: s.hangs,
    });
    expect(s.hangs).toBe(0);
    expect(timeouts).toBeGreaterThan(0);
    expect(tko).not.toBeNull();
    // One timer tick of slack over server_timeout.
    expect(s.maxLatencyMs).toBeLessThan(timeout + 150);
    expect(recovered).not.toBeNull();
  });

  test('slow backend: timeouts counted, fast requests unaffected', async () => {
    // A backend that answers every get after 400 ms (timeout 200 ms).
    const server = await startMock({
      handler: (line, _value, conn) => {
        if (line.startsWith('get')) {
          setTimeout(() => conn.send('END\r\n').catch(() => {}), 400);
          return undefined;
        }
        return line.startsWith('version') ? 'VERSION 1.6.18\r\n' : undefined;
      },
    });
    cleanup.push(() => server.close());
    const slowPort = server.port;
    const relay = await relayFor([`${LOOPBACK}:${slowPort}`], ['-t', '200', '--timeouts-until-tko', '1000000']);
    const load = new Load({ port: relay.port, connections: 10, request: (c) => `get slow${c}\r\n` });
    await sleep(1500);
    const s = await load.stop();
    const c = await connect(relay.port);
    const stats = (await c.roundTrip('stats servers\r\n')).toString();
    c.destroy();
    report('slow backend', { errors: Object.fromEntries(s.errors), maxLatencyMs: Math.round(s.maxLatencyMs), statsServers: stats.trim().split('\r\n')[0] });
    expect(s.errors.get('SERVER_ERROR Reply timeout') ?? 0).toBeGreaterThan(10);
    expect(s.maxLatencyMs).toBeLessThan(400);
    expect(stats).toMatch(/[ ;]timeout:[1-9]/);
  });

  test('backend answers garbage or closes mid-value: reset, in-flight get SERVER_ERROR, next request succeeds', async () => {
    let n = 0;
    const mock: MockMemcached = await startMock({
      handler: (line, _v, conn) => {
        n++;
        if (line.startsWith('version')) return 'VERSION 1.6.18\r\n';
        if (n === 1) {
          setTimeout(() => conn.socket.destroy(), 20);
          return 'VALUE a 0 10\r\nabc';
        }
        if (n === 2) return 'HELLO GARBAGE\r\n';
        return 'END\r\n';
      },
    });
    cleanup.push(() => mock.close());
    const relay = await relayFor([mock.address], ['-t', '1000']);
    const c = await connect(relay.port);
    const t1 = performance.now();
    const r1 = (await c.roundTrip('get a\r\n')).toString();
    const d1 = performance.now() - t1;
    const r2 = (await c.roundTrip('get b\r\n')).toString();
    const r3 = (await c.roundTrip('get c\r\n')).toString();
    c.destroy();
    report('garbage / close mid-value', { closeMidValue: r1.trim(), closeMidValueMs: Math.round(d1), garbage: r2.trim(), next: r3.trim(), backendConnections: mock.connections.length });
    expect(r1).toMatch(/^SERVER_ERROR/);
    expect(r2).toMatch(/^SERVER_ERROR/);
    expect(r3).toBe('END\r\n');
    expect(mock.connections.length).toBe(3);
  });

  test('all replicas down: a clear SERVER_ERROR at once, no pile-up', async () => {
    const p1 = await getFreePort();
    const p2 = await getFreePort();
    const relay = await relayFor([`${LOOPBACK}:${p1}`, `${LOOPBACK}:${p2}`], ['-t', '1000', '-r', '60000']);
    const load = new Load({ port: relay.port, connections: 50, request: (c, i) => `get k${c}_${i}\r\n`, recordTimeline: true });
    await sleep(1000);
    const s = await load.stop();
    const unavailable = [...s.errors].filter(([k]) => k.includes('Server unavailable')).reduce((a, [, v]) => a + v, 0);
    report('all replicas down', { requests: s.sent, errors: Object.fromEntries([...s.errors].slice(0, 4)), unavailable, ok: s.ok, maxLatencyMs: Math.round(s.maxLatencyMs), rss: rssOf(relay.pid) });
    expect(s.ok).toBe(0);
    expect(s.hangs).toBe(0);
    expect(unavailable).toBeGreaterThan(s.sent * 0.9);
    expect(s.maxLatencyMs).toBeLessThan(200);
  });

  test('deletes during a stall: spooled (NOT_FOUND), replayed after recovery, gone on the backend', async () => {
    const m = await memcached();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-spool-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const relay = await relayFor([m.address], ['-t', '200', '-r', '200', '--probe-timeout-max', '400', '--async-dir', dir, '--asynclog-replay-interval-ms', '200']);
    const c = await connect(relay.port, { timeoutMs: 5000 });
    for (let i = 0; i < 50; i++) expect((await c.roundTrip(`set d${i} 0 0 1\r\nx\r\n`)).toString()).toBe('STORED\r\n');
    m.pause();
    const t0 = performance.now();
    const replies = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const r = (await c.roundTrip(`delete d${i}\r\n`)).toString().trim();
      replies.set(r, (replies.get(r) ?? 0) + 1);
    }
    const deleteMs = performance.now() - t0;
    const files = fs.readdirSync(dir).filter((d) => !d.startsWith('.'));
    const spoolFiles = files.flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => path.join(dir, d, f)));
    const lines = spoolFiles.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== ''));
    m.resume();
    const tr = performance.now();
    const direct = await connect(m.port, { timeoutMs: 5000 });
    let remaining = 50;
    while (performance.now() - tr < 10_000) {
      const got = (await direct.roundTrip(`get ${Array.from({ length: 50 }, (_, i) => `d${i}`).join(' ')}\r\n`)).toString();
      remaining = (got.match(/VALUE/g) ?? []).length;
      if (remaining === 0) break;
      await sleep(100);
    }
    const replayMs = performance.now() - tr;
    direct.destroy();
    c.destroy();
    report('deletes during a stall', { replies: Object.fromEntries(replies), deletesTookMs: Math.round(deleteMs), spooledLines: lines.length, sampleLine: lines[0], replayedAllAfterMs: Math.round(replayMs), remainingOnBackend: remaining });
    expect(replies.get('NOT_FOUND')).toBe(50);
    expect(lines.length).toBe(50);
    expect(JSON.parse(lines[0] as string)[0]).toBe('AS2.0');
    expect(remaining).toBe(0);
    // The spool is emptied once everything is replayed.
    await sleep(500);
    const left = fs.readdirSync(dir).filter((d) => !d.startsWith('.')).flatMap((d) => fs.readdirSync(path.join(dir, d)));
    expect(left).toEqual([]);
  });

  test('config reload during load: zero failed requests', async () => {
    const a = await memcached();
    const b = await memcached();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcrelay-reload-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'config.json');
    const cfg = (servers: string[]): string => JSON.stringify({ pools: { A: { servers } }, route: 'PoolRoute|A' });
    fs.writeFileSync(file, cfg([a.address]));
    const relay = await startRelayWithFile(file, ['--reconfiguration-delay-ms', '50']);
    cleanup.push(() => relay.close());
    const load = new Load({ port: relay.port, connections: 50, request: getSet });
    const configs = [[a.address, b.address], [b.address], [a.address], [a.address, b.address]];
    for (let i = 0; i < 12; i++) {
      fs.writeFileSync(file, cfg(configs[i % configs.length] as string[]));
      await sleep(250);
      if (i === 5) {
        fs.writeFileSync(file, '{"pools": {"A": {"servers": ["nope"]}}, "route": "PoolRoute|A"}');
        await sleep(250);
      }
    }
    const s = await load.stop();
    const c = await connect(relay.port);
    const stats = (await c.roundTrip('stats\r\n')).toString();
    c.destroy();
    const failures = Number(/STAT config_failures (\d+)/.exec(stats)?.[1]);
    report('config reload during load', { reloads: 13, requests: s.sent, errors: Object.fromEntries(s.errors), configFailures: failures, maxLatencyMs: Math.round(s.maxLatencyMs) });
    expect(s.sent).toBeGreaterThan(1000);
    expect(s.errors.size).toBe(0);
    expect(failures).toBe(1);
  });

  test('10,000 concurrent client connections with traffic: all served, RSS reported', async () => {
    const m = await memcached();
    const relay = await relayFor([m.address], ['--max-client-outstanding-reqs', '16']);
    const N = 10_000;
    const socks: net.Socket[] = [];
    cleanup.push(() => {
      for (const s of socks) s.destroy();
    });
    const base = rssOf(relay.pid);
    const t0 = performance.now();
    let served = 0;
    let failed = 0;
    const one = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect(relay.port, LOOPBACK);
        socks.push(s);
        let buf = '';
        let step = 0;
        s.on('connect', () => s.write(`set c${i} 0 0 4\r\nv${String(i % 1000).padStart(3, '0')}\r\n`));
        s.on('data', (d) => {
          buf += d.toString('latin1');
          if (step === 0 && buf.includes('\r\n')) {
            step = 1;
            buf = '';
            s.write(`get c${i}\r\n`);
          } else if (step === 1 && buf.endsWith('END\r\n')) {
            if (buf.startsWith('VALUE')) served++;
            else failed++;
            step = 2;
            resolve();
          }
        });
        s.on('error', () => {
          failed++;
          resolve();
        });
      });
    // Connect in waves (the listen backlog is 1024), but keep every connection open.
    for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => one(i + k)));
    const allOpen = rssOf(relay.pid);
    // Traffic again on every connection at once.
    let second = 0;
    await Promise.all(
      socks.map(
        (s, i) =>
          new Promise<void>((resolve) => {
            let buf = '';
            s.removeAllListeners('data');
            s.on('data', (d) => {
              buf += d.toString('latin1');
              if (buf.endsWith('END\r\n')) {
                if (buf.startsWith('VALUE')) second++;
                resolve();
              }
            });
            s.write(`get c${i}\r\n`);
            setTimeout(resolve, 20_000);
          }),
      ),
    );
    const ms = performance.now() - t0;
    const c = await connect(relay.port);
    const stats = (await c.roundTrip('stats\r\n')).toString();
    c.destroy();
    const conns = Number(/STAT num_client_connections (\d+)/.exec(stats)?.[1]);
    const after = rssOf(relay.pid);
    report('10,000 connections', { served, failed, secondRoundServed: second, clientConnectionsAtProxy: conns, tookMs: Math.round(ms), rssBeforeMb: base.rssMb, rssAllOpenMb: allOpen.rssMb, peakRssMb: after.peakMb });
    expect(served).toBe(N);
    expect(second).toBe(N);
    expect(conns).toBeGreaterThanOrEqual(N);
  }, 120_000);
});
