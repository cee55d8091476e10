/**
 * examples/embedded/server.mjs runs as its README says: an HTTP service whose cache reads go through the embedded
 * router's fetch. A herd of concurrent requests for one cold user costs one database call, and a second copy of
 * the service (another "host") reads the value the first one stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitForPort } from './helpers/ports.js';
import { ensureBuilt, REPO_ROOT } from './helpers/proxy-harness.js';
import { startMemcached, trackChild, type MemcachedServer } from './helpers/real-memcached.js';

function getJson(port: number, p: string): Promise<{ status: number; body: unknown; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: res.headers }));
    }).on('error', reject);
  });
}

async function startService(memcachedPort: number): Promise<{ port: number; child: ChildProcess; output: () => string }> {
  const port = await getFreePort();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'examples', 'embedded', 'server.mjs')], {
    env: { ...process.env, PORT: String(port), MEMCACHED_PORT: String(memcachedPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await waitForPort(port, 15_000);
  return { port, child, output: () => out };
}

describe('examples/embedded', () => {
  let mc: MemcachedServer;
  const services: ChildProcess[] = [];
  beforeAll(async () => {
    await ensureBuilt();
    mc = await startMemcached();
  });
  afterAll(async () => {
    for (const c of services) c.kill('SIGTERM');
    await mc?.stop();
  });

  it('a herd of 100 requests for a cold user calls the database once, across two copies of the service', async () => {
    const a = await startService(mc.port);
    const b = await startService(mc.port);
    services.push(a.child, b.child);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => getJson(i % 2 === 0 ? a.port : b.port, '/user/42')));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.headers['x-cache']).toBeUndefined();
      expect((r.body as { id: string }).id).toBe('42');
    }
    // Every reply carries the same row: the one load's timestamp and loader pid.
    expect(new Set(replies.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const sa = (await getJson(a.port, '/stats')).body as { dbCalls: number };
    const sb = (await getJson(b.port, '/stats')).body as { dbCalls: number };
    expect(sa.dbCalls + sb.dbCalls).toBe(1);
    // A later read is a plain hit.
    await getJson(b.port, '/user/42');
    const sb2 = (await getJson(b.port, '/stats')).body as { dbCalls: number };
    expect(sb2.dbCalls).toBe(sb.dbCalls);
  });

  it('with memcached gone it answers from the database (McrelayError, x-cache: bypass)', async () => {
    const port = await getFreePort(); // nothing listens there
    const s = await startService(port);
    services.push(s.child);
    const r = await getJson(s.port, '/user/7');
    expect(r.status).toBe(200);
    expect(r.headers['x-cache']).toBe('bypass');
  });
});
