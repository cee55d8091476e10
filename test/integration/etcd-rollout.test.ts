/**
 * Staged rollouts over 20 mcrelay processes (host ids 1..20) sharing one etcd config, with real memcached:
 * - `mcrelay fleet rollout --fraction 0.25` → exactly the hosts the cohort rule names run the candidate
 *   (the rule is computed here independently: md5(salt + ":" + id), first 8 hex digits / 2^32 < fraction);
 * - raising it to 0.5 keeps those and adds the newly named ones;
 * - a candidate whose pool points at a dead server is reverted by the guard on every host that took it,
 *   and they say so in their status; `mcrelay fleet status` shows all of it;
 * - `fleet promote` makes the candidate the config everyone serves, `fleet abort` ends a rollout.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer, startConfigRelay, type ConfigRelay } from './helpers/etcd.js';
import { Load } from './helpers/load-client.js';
import { getFreePort, sleep } from './helpers/ports.js';
import { REPO_ROOT } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';

const run = promisify(execFile);
const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
const poolConfig = (server: string, tag: string): string => `${JSON.stringify({ pools: { A: { servers: [server] } }, route: 'PoolRoute|A', tag })}\n`;
const HOSTS = Array.from({ length: 20 }, (_, i) => i + 1);
const KEY = '/fleet/config';
const SALT = 'rollout-test-1';

/** `fleet status`'s last line: `N hosts; <md5>: n, <md5>: m; reverted: k`. */
function summary(out: string): { hosts: number; md5s: Record<string, number>; reverted: number } {
  const last = out.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+) hosts; (.*?);? ?reverted: (\d+)$/.exec(last);
  if (m === null) throw new Error(`not a summary line: ${last}`);
  const md5s: Record<string, number> = {};
  for (const part of (m[2] ?? '').split(', ').filter((p) => p !== '')) {
    const [k, n] = part.split(': ');
    md5s[k ?? ''] = Number(n);
  }
  return { hosts: Number(m[1]), md5s, reverted: Number(m[3]) };
}

/** The rule, written out here rather than imported, so the test checks mcrelay against it. */
function cohort(salt: string, fraction: number): number[] {
  return HOSTS.filter((id) => parseInt(createHash('md5').update(`${salt}:${id}`).digest('hex').slice(0, 8), 16) / 2 ** 32 < fraction);
}

describe('staged rollout over 20 hosts', () => {
  let etcd: EtcdServer;
  let stableMc: MemcachedServer;
  let candidateMc: MemcachedServer;
  let deadPort: number;
  const relays = new Map<number, ConfigRelay>();
  const stable = (): string => poolConfig(stableMc.address, 'stable');
  const candidate = (): string => poolConfig(candidateMc.address, 'candidate');

  const fleet = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'fleet', ...args, '--config', etcd.url(KEY)], { cwd: REPO_ROOT, timeout: 20_000 });
    return stdout;
  };
  const digestOf = async (id: number): Promise<string> => {
    const c = await connect((relays.get(id) as ConfigRelay).port);
    const r = (await c.roundTrip('get __mcrouter__.config_md5_digest\r\n')).toString('latin1');
    await c.close();
    return /\r\n([0-9a-f]{32})\r\n/.exec(r)?.[1] ?? r;
  };
  /** Poll `fleet status` until `ok(lines)`; returns the last output. */
  const statusUntil = async (ok: (lines: string[]) => boolean, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    while (Date.now() < deadline) {
      out = await fleet('status');
      if (ok(out.trim().split('\n'))) return out;
      await sleep(200);
    }
    throw new Error(`fleet status never matched:\n${out}`);
  };
  const rolesAre = (candidates: readonly number[], candMd5: string) => (lines: string[]): boolean => {
    const hostLines = lines.slice(0, -1);
    if (hostLines.length !== HOSTS.length) return false;
    return hostLines.every((l) => {
      const [id, m, role] = l.split(' ');
      const isCand = candidates.includes(Number(id));
      return isCand ? role === 'candidate' && m === candMd5 : role === 'stable' && m === md5(stable());
    });
  };

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    stableMc = await startMemcached();
    candidateMc = await startMemcached();
    deadPort = await getFreePort();
    await etcd.put(KEY, stable());
    await etcd.put('/fleet/candidate', candidate());
    for (let i = 0; i < HOSTS.length; i += 5) {
      const batch = await Promise.all(HOSTS.slice(i, i + 5).map((id) => startConfigRelay(etcd.url(KEY), ['--host-id', String(id)])));
      batch.forEach((r, j) => relays.set(HOSTS[i + j] as number, r));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...relays.values()].map((r) => r.close()));
    await etcd?.close();
    await stableMc?.stop();
    await candidateMc?.stop();
  }, 60_000);

  it('fraction 0.25 puts exactly the named hosts on the candidate; 0.5 keeps them and adds the new ones', async () => {
    const quarter = cohort(SALT, 0.25);
    const half = cohort(SALT, 0.5);
    expect(quarter.length).toBeGreaterThan(0);
    expect(half.length).toBeGreaterThan(quarter.length);
    const all = await statusUntil((l) => l.length === HOSTS.length + 1, 15_000);
    expect(all.trim().split('\n').at(-1)).toBe(`20 hosts; ${md5(stable())}: 20; reverted: 0`);

    let started = Date.now();
    const rec = await fleet('rollout', '--fraction', '0.25', '--candidate-key', '/fleet/candidate', '--salt', SALT, '--window-s', '30', '--max-error-rate-increase', '0.01', '--max-p99-increase-ms', '1000');
    expect(JSON.parse(rec)).toMatchObject({ candidate: { key: '/fleet/candidate' }, fraction: 0.25, salt: SALT });
    await statusUntil(rolesAre(quarter, md5(candidate())), 10_000);
    const quarterMs = Date.now() - started;
    for (const id of HOSTS) expect(await digestOf(id)).toBe(quarter.includes(id) ? md5(candidate()) : md5(stable()));

    started = Date.now();
    const rec2 = JSON.parse(await fleet('rollout', '--fraction', '0.5')) as { salt: string; candidate: unknown };
    expect(rec2).toMatchObject({ salt: SALT, candidate: { key: '/fleet/candidate' } });
    const out = await statusUntil(rolesAre(half, md5(candidate())), 10_000);
    const halfMs = Date.now() - started;
    for (const id of quarter) expect(half).toContain(id);
    for (const id of HOSTS) expect(await digestOf(id)).toBe(half.includes(id) ? md5(candidate()) : md5(stable()));
    expect(summary(out)).toEqual({ hosts: 20, md5s: { [md5(stable())]: 20 - half.length, [md5(candidate())]: half.length }, reverted: 0 });
    console.log(`[etcd-rollout] cohort at 0.25: hosts ${quarter.join(',')} (${quarter.length}/20), all on the candidate ${quarterMs} ms after the put; at 0.5: ${half.join(',')} (${half.length}/20), ${halfMs} ms`);
  });

  it('a candidate pointing at a dead server is reverted by the guard on every host that took it', async () => {
    const half = cohort(SALT, 0.5);
    const bad = poolConfig(`127.0.0.1:${deadPort}`, 'dead');
    await etcd.put('/fleet/candidate-dead', bad);
    const loads = half.map((id) => new Load({ port: (relays.get(id) as ConfigRelay).port, connections: 1, request: (_c, i) => `get guard:${i % 100}\r\n` }));
    await sleep(500);
    const started = Date.now();
    await fleet('rollout', '--fraction', '0.5', '--candidate-key', '/fleet/candidate-dead');
    const out = await statusUntil((lines) => half.every((id) => lines.some((l) => l.startsWith(`${id} ${md5(stable())} stable reverted: error rate`))), 20_000);
    const revertMs = Date.now() - started;
    for (const l of loads) await l.stop();
    for (const id of half) expect(await digestOf(id)).toBe(md5(stable()));
    const lines = out.trim().split('\n');
    expect(lines.at(-1)).toBe(`20 hosts; ${md5(stable())}: 20; reverted: ${half.length}`);
    for (const id of HOSTS.filter((h) => !half.includes(h))) expect(lines).toContain(`${id} ${md5(stable())} stable`);
    const log = (relays.get(half[0] as number) as ConfigRelay).output();
    expect(log).toContain('rollout: guard tripped; reverting to the stable config');
    console.log(`[etcd-rollout] dead-server candidate: ${half.length} hosts took it and all reverted within ${revertMs} ms of the put (guard: 100 requests, +1 point error rate)\n${out}`);
    // Reverted for that candidate: it stays reverted even though the record still names it.
    await sleep(500);
    for (const id of half) expect(await digestOf(id)).toBe(md5(stable()));
  });

  it('fleet promote makes the candidate everyone\'s config; fleet abort ends a rollout', async () => {
    await fleet('rollout', '--fraction', '0.25', '--candidate-key', '/fleet/candidate', '--salt', SALT);
    await statusUntil(rolesAre(cohort(SALT, 0.25), md5(candidate())), 10_000);
    expect(await fleet('abort')).toContain('aborted');
    await statusUntil((lines) => lines.at(-1) === `20 hosts; ${md5(stable())}: 20; reverted: 0`, 10_000);
    await fleet('rollout', '--fraction', '0.25', '--candidate-key', '/fleet/candidate', '--salt', SALT);
    await statusUntil(rolesAre(cohort(SALT, 0.25), md5(candidate())), 10_000);
    expect(await fleet('promote')).toContain('promoted');
    await statusUntil((lines) => lines.at(-1) === `20 hosts; ${md5(candidate())}: 20; reverted: 0`, 10_000);
    for (const id of HOSTS) expect(await digestOf(id)).toBe(md5(candidate()));
  });
});
