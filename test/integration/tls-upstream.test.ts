/**
 * TLS from mcrelay to Debian's memcached started with `-Z`: server verification (CA, service identity),
 * client certificates when memcached requires them, pool `security_mech`, session resumption, pipelining,
 * and TLS on both hops at once (client → mcrelay over mutual TLS, mcrelay → memcached over mutual TLS).
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UpstreamTls } from '../../src/tls/upstream-tls.js';
import { TlsStats } from '../../src/tls/tls-stats.js';
import { getFreePort } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { RawClient } from './helpers/raw-client.js';
import { makePki, startTlsMemcached, tlsConnect, type CertFiles, type Pki, type TlsMemcached } from './helpers/tls-certs.js';

let pki: Pki;
let other: Pki;
let mcCert: CertFiles;
let relayClient: CertFiles;
let relayServer: CertFiles;
let app: CertFiles;
let plainTls: TlsMemcached; // -Z, no client certificates
let mutualTls: TlsMemcached; // -Z, client certificates required

beforeAll(async () => {
  pki = makePki();
  other = makePki('other-ca');
  mcCert = pki.issue('memcached', { cn: 'cache.test', san: ['IP:127.0.0.1', 'DNS:localhost', 'URI:spiffe://test/ns/cache/sa/memcached'] });
  relayClient = pki.issue('relay-client', { cn: 'mcrelay', san: ['URI:spiffe://test/ns/cache/sa/mcrelay'] });
  relayServer = pki.issue('relay-server', { cn: 'localhost', san: ['IP:127.0.0.1', 'DNS:localhost'] });
  app = pki.issue('app', { cn: 'app', san: ['URI:spiffe://test/ns/web/sa/app'] });
  plainTls = await startTlsMemcached({ server: mcCert });
  mutualTls = await startTlsMemcached({ server: mcCert, ca: pki.ca.cert, verifyMode: 2 }, relayClient);
});

afterAll(async () => {
  await plainTls.stop();
  await mutualTls.stop();
  pki.cleanup();
  other.cleanup();
});

async function setGet(relay: RelayProcess, key: string): Promise<string> {
  const c = await RawClient.connect(relay.port);
  try {
    return (await c.roundTrip(`set ${key} 0 0 3\r\nabc\r\nget ${key}\r\n`)).toString('latin1');
  } finally {
    c.destroy();
  }
}

const OK = (key: string): string => `STORED\r\nVALUE ${key} 0 3\r\nabc\r\nEND\r\n`;

describe('mcrelay → memcached -Z', () => {
  test('host:port:ascii:ssl with the CA: works, pipelined gets come back in order', async () => {
    const relay = await startRelay({ config: { pools: { A: { servers: [plainTls.sslAddress] } }, route: 'PoolRoute|A' }, args: ['--pem-ca-path', pki.ca.cert] });
    try {
      expect(await setGet(relay, 'up:1')).toBe(OK('up:1'));
      const c = await RawClient.connect(relay.port);
      const gets = Array.from({ length: 200 }, (_, i) => `get ${i % 3 === 0 ? 'up:1' : `up:miss${i}`}\r\n`).join('');
      const reply = (await c.roundTrip(gets)).toString('latin1');
      expect(reply.split('VALUE up:1 0 3').length - 1).toBe(67);
      expect(reply.split('END\r\n').length - 1).toBe(200);
      c.destroy();
    } finally {
      await relay.close();
    }
  });

  test('pool security_mech: ssl applies to servers without a security field', async () => {
    const relay = await startRelay({
      config: { pools: { A: { servers: [`127.0.0.1:${plainTls.port}`], security_mech: 'ssl' } }, route: 'PoolRoute|A' },
      args: ['--pem-ca-path', pki.ca.cert],
    });
    try {
      expect(await setGet(relay, 'up:mech')).toBe(OK('up:mech'));
    } finally {
      await relay.close();
    }
  });

  test('a server certificate from an untrusted CA: requests fail, nothing is sent in clear', async () => {
    const relay = await startRelay({ config: { pools: { A: { servers: [plainTls.sslAddress] } }, route: 'PoolRoute|A' }, args: ['--pem-ca-path', other.ca.cert] });
    try {
      const c = await RawClient.connect(relay.port);
      expect((await c.roundTrip('get up:1\r\n')).toString('latin1')).toMatch(/^SERVER_ERROR /);
      c.destroy();
    } finally {
      await relay.close();
    }
  });

  test('--ssl-service-identity: the expected SPIFFE ID passes, another one fails', async () => {
    const config = { pools: { A: { servers: [plainTls.sslAddress] } }, route: 'PoolRoute|A' };
    const good = await startRelay({ config, args: ['--pem-ca-path', pki.ca.cert, '--ssl-service-identity', 'spiffe://test/ns/cache/sa/memcached'] });
    const bad = await startRelay({ config, args: ['--pem-ca-path', pki.ca.cert, '--ssl-service-identity', 'spiffe://test/ns/other/sa/impostor'] });
    try {
      expect(await setGet(good, 'up:id')).toBe(OK('up:id'));
      const c = await RawClient.connect(bad.port);
      expect((await c.roundTrip('get up:id\r\n')).toString('latin1')).toMatch(/^SERVER_ERROR /);
      c.destroy();
    } finally {
      await good.close();
      await bad.close();
    }
  });

  test('memcached requiring client certificates: refused without one, served with --pem-cert-path/--pem-key-path', async () => {
    const config = { pools: { A: { servers: [mutualTls.sslAddress] } }, route: 'PoolRoute|A' };
    const without = await startRelay({ config, args: ['--pem-ca-path', pki.ca.cert] });
    const withCert = await startRelay({ config, args: ['--pem-ca-path', pki.ca.cert, '--pem-cert-path', relayClient.cert, '--pem-key-path', relayClient.key] });
    try {
      const c = await RawClient.connect(without.port);
      expect((await c.roundTrip('get up:m\r\n')).toString('latin1')).toMatch(/^SERVER_ERROR /);
      c.destroy();
      expect(await setGet(withCert, 'up:m')).toBe(OK('up:m'));
    } finally {
      await without.close();
      await withCert.close();
    }
  });
});

test('TLS on both hops: app → mcrelay (mutual TLS) → memcached (mutual TLS)', async () => {
  const sslPort = await getFreePort();
  const relay = await startRelay({
    config: { pools: { A: { servers: [mutualTls.sslAddress] } }, route: 'PoolRoute|A' },
    args: [
      '--ssl-port', String(sslPort), '--server-pem-cert-path', relayServer.cert, '--server-pem-key-path', relayServer.key,
      '--server-pem-ca-path', pki.ca.cert, '--ssl-require-peer-certs',
      '--pem-ca-path', pki.ca.cert, '--pem-cert-path', relayClient.cert, '--pem-key-path', relayClient.key,
      '--ssl-service-identity', 'spiffe://test/ns/cache/sa/memcached',
    ],
  });
  try {
    const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: app });
    expect(await c.request('set both:1 5 0 4\r\ndata\r\n')).toBe('STORED\r\n');
    expect(await c.request('get both:1\r\n', 'END\r\n')).toBe('VALUE both:1 5 4\r\ndata\r\nEND\r\n');
    expect(await c.request('mg both:1 v f\r\n')).toBe('VA 4 f5\r\ndata\r\n');
    const lines = Array.from({ length: 100 }, (_, i) => `set both:k${i} 0 0 1\r\n${i % 10}\r\n`).join('');
    const stored = await c.request(`${lines}mn\r\n`, 'MN\r\n');
    expect(stored.split('STORED').length - 1).toBe(100);
    c.close();
  } finally {
    await relay.close();
  }
});

describe('upstream session resumption', () => {
  const make = (stats: TlsStats): UpstreamTls =>
    new UpstreamTls(
      { certPath: relayClient.cert, keyPath: relayClient.key, caPath: pki.ca.cert, verifyPeers: true, serviceIdentity: null, pollMs: 0 },
      pino({ level: 'silent' }),
      stats,
    );
  const versionOnce = (upstream: UpstreamTls, port: number): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const s = upstream.connect('127.0.0.1', port) as import('node:tls').TLSSocket;
      s.once('connect', () => s.write('version\r\n'));
      s.once('data', (d: Buffer) => {
        expect(d.toString('latin1')).toMatch(/^VERSION /);
        const reused = s.isSessionReused();
        s.end();
        resolve(reused);
      });
      s.once('error', reject);
    });
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

  test('reconnects resume the session (no full handshake)', async () => {
    const stats = new TlsStats();
    const upstream = make(stats);
    try {
      expect(await versionOnce(upstream, plainTls.port)).toBe(false);
      await settle(); // the side check that the server really resumes
      expect(await versionOnce(upstream, plainTls.port)).toBe(true);
      expect(await versionOnce(upstream, plainTls.port)).toBe(true);
      expect(stats.upstreamHandshakes).toBe(3);
      expect(stats.upstreamResumed).toBe(2);
      // New certificate files clear the cache: the next handshake is a full one.
      upstream.reload();
      expect(await versionOnce(upstream, plainTls.port)).toBe(false);
    } finally {
      upstream.close();
    }
  });

  test('a server that refuses its own tickets (memcached with ssl_verify_mode=2) is never offered one', async () => {
    const stats = new TlsStats();
    const upstream = make(stats);
    try {
      for (let i = 0; i < 4; i++) {
        expect(await versionOnce(upstream, mutualTls.port)).toBe(false);
        await settle();
      }
      expect(stats.upstreamHandshakeFailures).toBe(0);
      expect(stats.upstreamHandshakes).toBe(4);
    } finally {
      upstream.close();
    }
  });
});
