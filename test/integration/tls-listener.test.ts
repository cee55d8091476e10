/**
 * Client-facing TLS (`--ssl-port`): handshakes that must fail (wrong CA, expired, missing or foreign client
 * certificate), mutual TLS, `--no-plaintext`, and a certificate rotated on disk in the middle of traffic.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort, sleep } from './helpers/ports.js';
import { ensureBuilt, onePoolConfig, REPO_ROOT, startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { trackChild } from './helpers/real-memcached.js';
import { isRefused, makePki, tlsConnect, type CertFiles, type Pki } from './helpers/tls-certs.js';

let pki: Pki;
let other: Pki;
let server: CertFiles;
let web: CertFiles;
let expired: CertFiles;
let foreign: CertFiles;
let backend: MockMemcached;

beforeAll(async () => {
  pki = makePki();
  other = makePki('other-ca');
  server = pki.issue('server', { cn: 'localhost', san: ['IP:127.0.0.1', 'DNS:localhost'] });
  web = pki.issue('web', { cn: 'web', san: ['URI:spiffe://test/ns/web'] });
  expired = pki.issue('expired', { cn: 'old', san: ['URI:spiffe://test/ns/old'], days: -1 });
  foreign = other.issue('foreign', { cn: 'web', san: ['URI:spiffe://test/ns/web'] });
  backend = await startMock({ builtin: true });
});

afterAll(async () => {
  await backend.close();
  pki.cleanup();
  other.cleanup();
});

async function relayWithTls(extra: readonly string[] = []): Promise<{ relay: RelayProcess; sslPort: number }> {
  const sslPort = await getFreePort();
  const relay = await startRelay({
    config: onePoolConfig([backend.address]),
    args: ['--ssl-port', String(sslPort), '--server-pem-cert-path', server.cert, '--server-pem-key-path', server.key, ...extra],
  });
  return { relay, sslPort };
}

describe('TLS listener, server certificate only', () => {
  let relay: RelayProcess;
  let sslPort: number;
  beforeAll(async () => ({ relay, sslPort } = await relayWithTls()));
  afterAll(() => relay.close());

  test('serves memcached over TLS next to the plaintext port', async () => {
    const c = await tlsConnect(sslPort, { ca: pki.ca.cert });
    expect(c.socket.getProtocol()).toBe('TLSv1.3');
    expect(await c.request('set tls:a 0 0 2\r\nhi\r\n')).toBe('STORED\r\n');
    expect(await c.request('get tls:a\r\n', 'END\r\n')).toBe('VALUE tls:a 0 2\r\nhi\r\nEND\r\n');
    // Pipelined: many requests in one write come back in order.
    const many = Array.from({ length: 50 }, (_, i) => `get tls:${i % 2 === 0 ? 'a' : 'missing'}\r\n`).join('');
    const reply = await c.request(`${many}mn\r\n`, 'MN\r\n');
    expect(reply.split('VALUE').length - 1).toBe(25);
    c.close();
  });

  test('a client that trusts another CA refuses the server', async () => {
    await expect(tlsConnect(sslPort, { ca: other.ca.cert })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  test('plain TCP bytes on the TLS port get no memcached reply', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: sslPort });
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.write('version\r\n');
      setTimeout(() => s.destroy(), 1000);
    });
    expect(reply).not.toContain('VERSION');
  });
});

describe('mutual TLS (--ssl-require-peer-certs)', () => {
  let relay: RelayProcess;
  let sslPort: number;
  beforeAll(async () => ({ relay, sslPort } = await relayWithTls(['--server-pem-ca-path', pki.ca.cert, '--ssl-require-peer-certs'])));
  afterAll(() => relay.close());

  test('a client certificate from the CA is accepted', async () => {
    const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
    expect(await c.request('version\r\n')).toMatch(/^VERSION /);
    c.close();
  });

  test('no client certificate: refused', async () => {
    expect(await isRefused(sslPort, { ca: pki.ca.cert })).toBe(true);
  });

  test('an expired client certificate: refused', async () => {
    expect(await isRefused(sslPort, { ca: pki.ca.cert, client: expired })).toBe(true);
  });

  test('a client certificate from another CA: refused', async () => {
    expect(await isRefused(sslPort, { ca: pki.ca.cert, client: foreign })).toBe(true);
  });
});

describe('CA without --ssl-require-peer-certs', () => {
  let relay: RelayProcess;
  let sslPort: number;
  beforeAll(async () => ({ relay, sslPort } = await relayWithTls(['--server-pem-ca-path', pki.ca.cert])));
  afterAll(() => relay.close());

  test('no certificate is allowed (tls-anonymous), a bad one is refused', async () => {
    const c = await tlsConnect(sslPort, { ca: pki.ca.cert });
    expect(await c.request('version\r\n')).toMatch(/^VERSION /);
    c.close();
    expect(await isRefused(sslPort, { ca: pki.ca.cert, client: foreign })).toBe(true);
    expect(await isRefused(sslPort, { ca: pki.ca.cert, client: expired })).toBe(true);
  });
});

test('--no-plaintext: only the TLS port listens', async () => {
  await ensureBuilt();
  const plainPort = await getFreePort();
  const sslPort = await getFreePort();
  const child = spawn(process.execPath, [
    path.join(REPO_ROOT, 'dist', 'cli.js'), '--config-str', JSON.stringify(onePoolConfig([backend.address])),
    '-p', String(plainPort), '--no-plaintext', '--ssl-port', String(sslPort),
    '--server-pem-cert-path', server.cert, '--server-pem-key-path', server.key,
  ], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  try {
    let c = null;
    for (let i = 0; i < 200 && c === null; i++) {
      c = await tlsConnect(sslPort, { ca: pki.ca.cert, timeoutMs: 500 }).catch(() => null);
      if (c === null) await sleep(50);
    }
    expect(c).not.toBeNull();
    expect(await c?.request('version\r\n')).toMatch(/^VERSION /);
    c?.close();
    const plainOpen = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: plainPort });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    expect(plainOpen).toBe(false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('--no-plaintext without --ssl-port is a startup error', async () => {
  await expect(startRelay({ config: onePoolConfig([backend.address]), args: ['--no-plaintext'], startTimeoutMs: 5000 })).rejects.toThrow(/no-plaintext needs --ssl-port/);
});

test('a certificate rotated mid-traffic: new connections get it, open ones keep working, nothing fails', async () => {
  const next = pki.issue('server-next', { cn: 'localhost', san: ['IP:127.0.0.1', 'DNS:localhost'] });
  const liveCert = path.join(pki.dir, 'live.pem');
  const liveKey = path.join(pki.dir, 'live.key');
  fs.copyFileSync(server.cert, liveCert);
  fs.copyFileSync(server.key, liveKey);
  const serialOf = (file: string): string => new X509Certificate(fs.readFileSync(file)).serialNumber;
  const sslPort = await getFreePort();
  const relay = await startRelay({
    config: onePoolConfig([backend.address]),
    args: ['--ssl-port', String(sslPort), '--server-pem-cert-path', liveCert, '--server-pem-key-path', liveKey,
      '--server-pem-ca-path', pki.ca.cert, '--ssl-require-peer-certs', '--tls-cert-poll-ms', '50'],
  });
  try {
    const peerSerial = (c: Awaited<ReturnType<typeof tlsConnect>>): string => c.socket.getPeerCertificate().serialNumber;
    const first = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
    expect(peerSerial(first)).toBe(serialOf(server.cert));

    // Traffic on the open connection, and new connections, throughout the rotation.
    let stop = false;
    const errors: string[] = [];
    let ops = 0;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          expect(await first.request(`set rot:${i % 10} 0 0 1\r\nx\r\n`)).toBe('STORED\r\n');
          ops++;
        } catch (e) {
          errors.push(`open connection: ${String(e)}`);
          return;
        }
      }
    })();
    const serials = new Set<string>();
    const newConns = (async () => {
      while (!stop) {
        try {
          const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
          serials.add(peerSerial(c));
          expect(await c.request('get rot:1\r\n', 'END\r\n')).toContain('END');
          c.close();
        } catch (e) {
          errors.push(`new connection: ${String(e)}`);
        }
        await sleep(20);
      }
    })();

    await sleep(200);
    // Rotate the way tools do it: write the new files next to the old ones, then rename over them.
    fs.copyFileSync(next.key, `${liveKey}.tmp`);
    fs.copyFileSync(next.cert, `${liveCert}.tmp`);
    fs.renameSync(`${liveCert}.tmp`, liveCert);
    fs.renameSync(`${liveKey}.tmp`, liveKey);

    let rotated = false;
    for (let i = 0; i < 100 && !rotated; i++) {
      await sleep(50);
      rotated = serials.has(serialOf(next.cert));
    }
    await sleep(200);
    stop = true;
    await Promise.all([traffic, newConns]);
    expect(rotated).toBe(true);
    expect(errors).toEqual([]);
    expect(ops).toBeGreaterThan(10);
    // The connection opened before the rotation still has the old certificate and still works.
    expect(peerSerial(first)).toBe(serialOf(server.cert));
    expect(await first.request('get rot:1\r\n', 'END\r\n')).toBe('VALUE rot:1 0 1\r\nx\r\nEND\r\n');
    first.close();
    const after = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
    expect(peerSerial(after)).toBe(serialOf(next.cert));
    after.close();
  } finally {
    await relay.close();
  }
});
