/**
 * Authorization by identity over TLS: SPIFFE IDs from client certificates (exact and `*` prefix rules), a
 * CN-only certificate, tls-anonymous and plaintext-loopback; allow and deny by key prefix and operation;
 * denials never reach the backend and are logged once per identity per interval.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startMock, type MockMemcached } from './helpers/mock-memcached.js';
import { getFreePort } from './helpers/ports.js';
import { startRelay, type RelayProcess } from './helpers/proxy-harness.js';
import { RawClient } from './helpers/raw-client.js';
import { makePki, tlsConnect, type CertFiles, type Pki } from './helpers/tls-certs.js';

let pki: Pki;
let web: CertFiles;
let reader: CertFiles;
let batch: CertFiles;
let backend: MockMemcached;
let relay: RelayProcess;
let sslPort: number;

const DENIED = 'SERVER_ERROR permission denied\r\n';

beforeAll(async () => {
  pki = makePki();
  const server = pki.issue('server', { cn: 'localhost', san: ['IP:127.0.0.1', 'DNS:localhost'] });
  web = pki.issue('web', { cn: 'web', san: ['URI:spiffe://test/ns/web/sa/frontend'] });
  reader = pki.issue('reader', { cn: 'reader', san: ['URI:spiffe://test/ns/reports/sa/reader'] });
  batch = pki.issue('batch', { cn: 'batch-job' });
  backend = await startMock({ builtin: true });
  sslPort = await getFreePort();
  relay = await startRelay({
    config: {
      pools: { A: { servers: [backend.address] } },
      route: 'PoolRoute|A',
      authorization: {
        default: 'deny',
        rules: [
          { identity: 'spiffe://test/ns/web/sa/frontend', prefixes: ['web:', 'session:'], operations: ['*'] },
          { identity: 'spiffe://test/ns/reports/*', prefixes: ['web:'], operations: ['get_like'] },
          { identity: 'batch-job', operations: ['delete_like', 'flush_all'] },
          { identity: 'plaintext-loopback', prefixes: ['local:'], operations: ['get', 'set'] },
        ],
      },
    },
    args: [
      '--ssl-port', String(sslPort), '--server-pem-cert-path', server.cert, '--server-pem-key-path', server.key,
      '--server-pem-ca-path', pki.ca.cert, '--enable-flush-cmd',
    ],
  });
});

afterAll(async () => {
  await relay.close();
  await backend.close();
  pki.cleanup();
});

test('a SPIFFE identity may use its prefixes with every op, and nothing else', async () => {
  const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
  expect(await c.request('set web:1 0 0 2\r\nhi\r\n')).toBe('STORED\r\n');
  expect(await c.request('get web:1\r\n', 'END\r\n')).toBe('VALUE web:1 0 2\r\nhi\r\nEND\r\n');
  expect(await c.request('mg web:1 v\r\n')).toBe('VA 2\r\nhi\r\n');
  expect(await c.request('set session:9 0 0 1\r\nx\r\n')).toBe('STORED\r\n');
  expect(await c.request('set billing:1 0 0 2\r\nno\r\n')).toBe(DENIED);
  expect(await c.request('get billing:1\r\n')).toBe(DENIED);
  expect(await c.request('delete billing:1\r\n')).toBe(DENIED);
  // A key that merely starts like an allowed prefix is not inside it.
  expect(await c.request('get web\r\n')).toBe(DENIED);
  // flush_all needs its own grant.
  expect(await c.request('flush_all\r\n')).toBe(DENIED);
  c.close();
});

test('a prefix rule (spiffe://test/ns/reports/*) grants reads only', async () => {
  const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: reader });
  expect(await c.request('get web:1\r\n', 'END\r\n')).toBe('VALUE web:1 0 2\r\nhi\r\nEND\r\n');
  expect(await c.request('gets web:1\r\n', 'END\r\n')).toMatch(/^VALUE web:1 0 2 \d+\r\nhi\r\nEND\r\n$/);
  expect(await c.request('set web:1 0 0 3\r\nbad\r\n')).toBe(DENIED);
  expect(await c.request('delete web:1\r\n')).toBe(DENIED);
  expect(await c.request('incr web:1 1\r\n')).toBe(DENIED);
  expect(await c.request('ms web:1 1\r\nz\r\n')).toBe(DENIED);
  // A multi-get with one forbidden key fails as a whole (mcrouter multi-op semantics), without leaking the allowed one.
  expect(await c.request('get web:1 session:9\r\n')).toBe(DENIED);
  c.close();
});

test('a CN identity (no URI SAN): deletes and flush_all only', async () => {
  const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: batch });
  expect(await c.request('get web:1\r\n')).toBe(DENIED);
  expect(await c.request('delete session:9\r\n')).toBe('DELETED\r\n');
  expect(await c.request('flush_all\r\n')).toBe('OK\r\n');
  c.close();
});

test('no client certificate (tls-anonymous) is denied by default; plaintext-loopback has its own rule', async () => {
  const anon = await tlsConnect(sslPort, { ca: pki.ca.cert });
  expect(await anon.request('get web:1\r\n')).toBe(DENIED);
  expect(await anon.request('version\r\n')).toMatch(/^VERSION /); // not a key operation
  anon.close();
  const plain = await RawClient.connect(relay.port);
  expect((await plain.roundTrip('set local:1 0 0 1\r\nL\r\nget local:1\r\n')).toString('latin1')).toBe('STORED\r\nVALUE local:1 0 1\r\nL\r\nEND\r\n');
  expect((await plain.roundTrip('delete local:1\r\n')).toString('latin1')).toBe(DENIED);
  expect((await plain.roundTrip('get web:1\r\n')).toString('latin1')).toBe(DENIED);
  plain.destroy();
});

test('denied requests never reach the backend; denials are logged once per identity', async () => {
  const c = await tlsConnect(sslPort, { ca: pki.ca.cert, client: web });
  for (let i = 0; i < 20; i++) expect(await c.request(`get billing:${i}\r\n`)).toBe(DENIED);
  c.close();
  const lines = backend.requests.map((r) => r.line);
  expect(lines.some((l) => l.includes('billing:'))).toBe(false);
  expect(lines.some((l) => l.startsWith('set web:1 0 0 3'))).toBe(false);
  expect(lines.some((l) => l.startsWith('ms '))).toBe(false);
  expect(lines.some((l) => l.startsWith('incr'))).toBe(false);
  const logged = relay.output().split('\n').filter((l) => l.includes('request denied by authorization policy') && l.includes('spiffe://test/ns/web/sa/frontend'));
  expect(logged.length).toBe(1);
});
