/**
 * etcd's own security, as etcdctl spells it: an etcd serving clients only over TLS with client certificates
 * (`--client-cert-auth`) and with auth on, where mcrelay's user may only read keys under /mcrelay/.
 * mcrelay reaches it with `--etcd-cacert`, `--etcd-cert`, `--etcd-key`, `--etcd-user` and
 * `--etcd-password-file`, reads and watches its config; a wrong password gets no config (the start fails).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer, startConfigRelay, type ConfigRelay } from './helpers/etcd.js';
import { sleep } from './helpers/ports.js';
import { connect } from './helpers/raw-client.js';
import { startMemcached, type MemcachedServer } from './helpers/real-memcached.js';
import { makePki, type Pki } from './helpers/tls-certs.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const poolConfig = (server: string): string => `${JSON.stringify({ pools: { A: { servers: [server] } }, route: 'PoolRoute|A' })}\n`;

describe('etcd over TLS with client certificates and user auth', () => {
  let pki: Pki;
  let etcd: EtcdServer;
  let mc: MemcachedServer;
  let dir: string;
  const relays: ConfigRelay[] = [];
  let tlsArgs: string[];

  beforeAll(async () => {
    pki = makePki();
    const server = pki.issue('etcd-server', { cn: 'etcd', san: ['IP:127.0.0.1', 'DNS:localhost'] });
    const admin = pki.issue('etcdctl', { cn: 'root' });
    const client = pki.issue('mcrelay', { cn: 'mcrelay' });
    etcd = await EtcdServer.start({ tls: { cert: server.cert, key: server.key, ca: pki.ca.cert, clientCert: admin.cert, clientKey: admin.key } });
    await etcd.enableAuth('mcrelay', 'the-password', '/mcrelay/');
    mc = await startMemcached();
    dir = mkdtempSync(join(tmpdir(), 'mcrelay-etcd-auth-'));
    writeFileSync(join(dir, 'password'), 'the-password\n');
    writeFileSync(join(dir, 'wrong'), 'not-the-password\n');
    tlsArgs = ['--etcd-cacert', pki.ca.cert, '--etcd-cert', client.cert, '--etcd-key', client.key, '--etcd-user', 'mcrelay'];
  });

  afterAll(async () => {
    for (const r of relays) await r.close();
    await etcd?.close();
    await mc?.stop();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads and watches the config with --etcd-cacert/--etcd-cert/--etcd-key and --etcd-user/--etcd-password-file', async () => {
    const key = '/mcrelay/secure/config';
    await etcd.put(key, poolConfig(mc.address));
    const r = await startConfigRelay(`etcd://${etcd.endpoint}${key}`, [...tlsArgs, '--etcd-password-file', join(dir, 'password')]);
    relays.push(r);
    const c = await connect(r.port);
    const digest = async (): Promise<string> => /\r\n([0-9a-f]{32})\r\n/.exec((await c.roundTrip('get __mcrouter__.config_md5_digest\r\n')).toString('latin1'))?.[1] ?? '';
    expect(await digest()).toBe(md5(poolConfig(mc.address)));
    const next = `${JSON.stringify({ pools: { A: { servers: [mc.address] } }, route: 'PoolRoute|A', x: 2 })}\n`;
    await etcd.put(key, next);
    const t0 = Date.now();
    while ((await digest()) !== md5(next) && Date.now() - t0 < 2000) await sleep(10);
    expect(await digest()).toBe(md5(next));
    await c.close();
  });

  it('a wrong password gets no config: the start fails and says why', async () => {
    const r = await startConfigRelay(`etcd://${etcd.endpoint}/mcrelay/secure/config`, [...tlsArgs, '--etcd-password-file', join(dir, 'wrong')], { expectExit: true });
    relays.push(r);
    expect(await r.exited).toBe(3);
    expect(r.output()).toMatch(/authentication failed/i);
  });

  it('plaintext to a TLS-only etcd gets no config either', async () => {
    const r = await startConfigRelay(`etcd://${etcd.endpoint}/mcrelay/secure/config`, ['--etcd-user', 'mcrelay', '--etcd-password-file', join(dir, 'password')], { expectExit: true });
    relays.push(r);
    expect(await r.exited).toBe(3);
    expect(r.output()).toContain('etcd: no answer at start');
  });
});
