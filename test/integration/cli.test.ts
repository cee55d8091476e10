/**
 * The `mcrelay` command itself: flags, config sources, inherited sockets, unknown flags, signals.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { getFreePort, waitForPort } from './helpers/ports.js';
import { REPO_ROOT, ensureBuilt } from './helpers/proxy-harness.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, trackChild, type MemcachedServer } from './helpers/real-memcached.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
let mc: MemcachedServer;
let dir = '';

beforeAll(async () => {
  await ensureBuilt();
  mc = await startMemcached();
  dir = mkdtempSync(join(tmpdir(), 'mcrelay-cli-'));
});

afterAll(async () => {
  await mc.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(): string {
  return JSON.stringify({ pools: { A: { servers: [mc.address] } }, route: 'PoolRoute|A' });
}

/** Start the CLI with args; resolves once `port` answers. */
async function start(args: string[], port: number, extraStdio: (number | 'ignore')[] = []) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe', ...extraStdio] });
  trackChild(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await Promise.race([waitForPort(port, 15_000), exited.then((c) => Promise.reject(new Error(`exited ${c}: ${out}`)))]);
  return { child, exited, output: () => out };
}

describe('mcrelay CLI', () => {
  it('--version prints the package version', () => {
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`mcrelay ${VERSION}`);
  });

  it('--help lists the mcrouter flags', () => {
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of ['--config', '--port', '--listen-addresses', '--listen-sock-fd', '--server-timeout', '--enable-flush-cmd', '--validate-config', '--route-prefix', '--log-level', '--num-proxies']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('a bad flag value exits with a usage error', () => {
    const r = spawnSync(process.execPath, [CLI, '--config-str', config(), '-p', 'abc'], { encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('-p: expected an integer, got "abc"');
  });

  it('starts from a YAML file via -f (deprecated alias), logs unknown mcrouter flags at warn and ignores them', async () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `pools:\n  A:\n    servers: ["${mc.address}"]\nroute: PoolRoute|A\n`);
    const port = await getFreePort();
    const p = await start(['-f', file, '-p', String(port), '--debug-fifo-root', '/nonexistent', '--use-asynclog-version2', '--proxy-threads', 'auto'], port);
    try {
      const c = await connect(port);
      expect((await c.roundTrip('set k 0 0 1\r\nv\r\nget k\r\n')).toString()).toBe('STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
      c.destroy();
      expect(p.output()).toMatch(/"level":40.*"flag":"--debug-fifo-root".*unknown option ignored/);
      expect(p.output()).toContain('"flag":"--proxy-threads"');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('--config file:PATH with a JSON file that has comments and trailing commas', async () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, `// mcrouter-style\n{ "pools": { "A": { "servers": ["${mc.address}",], }, }, /* x */ "route": "PoolRoute|A", }\n`);
    const port = await getFreePort();
    const p = await start(['--config', `file:${file}`, '-p', String(port)], port);
    try {
      const c = await connect(port);
      expect((await c.roundTrip('version\r\n')).toString()).toMatch(/^VERSION \S+/);
      c.destroy();
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('--listen-sock-fd serves on an inherited listening socket', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const p = await start(['--config-str', config(), '--listen-sock-fd', '3'], port, [fd]);
    server.close();
    try {
      const c = await connect(port);
      expect((await c.roundTrip('set s 0 0 2\r\nok\r\nget s\r\n')).toString()).toBe('STORED\r\nVALUE s 0 2\r\nok\r\nEND\r\n');
      c.destroy();
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const port = await getFreePort();
    // A backend that answers after 300 ms.
    let gotRequest: () => void = () => undefined;
    const received = new Promise<void>((r) => (gotRequest = r));
    const slow = net.createServer((s) => {
      s.on('data', () => {
        gotRequest();
        setTimeout(() => s.write('END\r\n'), 300);
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const sa = slow.address();
    const slowPort = typeof sa === 'object' && sa !== null ? sa.port : 0;
    const cfg = JSON.stringify({ pools: { A: { servers: [`127.0.0.1:${slowPort}`] } }, route: 'PoolRoute|A' });
    const p = await start(['--config-str', cfg, '-p', String(port)], port);
    try {
      const c = await connect(port);
      await c.send('get k\r\n');
      // In flight: the request has reached the backend, whose answer is 300 ms away.
      await received;
      p.child.kill('SIGTERM');
      expect((await c.readUntil('END\r\n', 5000)).toString()).toBe('END\r\n');
      expect(await p.exited).toBe(0);
      // New connections are refused once it has stopped.
      await expect(connect(port, { timeoutMs: 500 })).rejects.toThrow();
    } finally {
      slow.close();
    }
  });

  it('--num-proxies 2 runs two workers on one port', async () => {
    const port = await getFreePort();
    const p = await start(['--config-str', config(), '-p', String(port), '--num-proxies', '2'], port);
    try {
      const pids = new Set<string>();
      // The second worker may still be starting when the first one is already serving: poll for a while.
      for (let i = 0; i < 100 && pids.size < 2; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        const c = await connect(port);
        const stats = (await c.roundTrip('stats\r\n')).toString();
        const m = /STAT pid (\d+)/.exec(stats);
        if (m?.[1] !== undefined) pids.add(m[1]);
        c.destroy();
      }
      expect(pids.size).toBe(2);
      expect(pids.has(String(p.child.pid))).toBe(false);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  });
});
