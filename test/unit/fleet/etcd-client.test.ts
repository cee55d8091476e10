import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { etcdClientOptions, NO_ETCD_AUTH, RECONNECT_CAP_MS, reconnectDelayMs } from '../../../src/fleet/etcd-client.js';
import { parseEtcdUrl } from '../../../src/fleet/etcd-url.js';

const dir = mkdtempSync(join(tmpdir(), 'mcrelay-etcd-client-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const url = parseEtcdUrl('etcd://127.0.0.1:2379,127.0.0.2:2379/k');

describe('etcd client setup', () => {
  test('reconnect backoff doubles from 100 ms and is capped at 2 s (jitter takes off at most 25%)', () => {
    const top = (n: number): number => reconnectDelayMs(n, () => 1);
    const bottom = (n: number): number => reconnectDelayMs(n, () => 0);
    expect([0, 1, 2, 3, 4, 5, 6, 50].map(top)).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    expect(bottom(0)).toBe(75);
    expect(bottom(50)).toBe(1500);
    for (let n = 0; n < 100; n++) expect(reconnectDelayMs(n)).toBeLessThanOrEqual(RECONNECT_CAP_MS);
  });

  test('plaintext endpoints without TLS flags; every unary call has a deadline, streams none', () => {
    const o = etcdClientOptions(url, NO_ETCD_AUTH);
    expect(o.hosts).toEqual(['http://127.0.0.1:2379', 'http://127.0.0.2:2379']);
    expect(o.credentials).toBeUndefined();
    expect(o.auth).toBeUndefined();
    const factory = o.defaultCallOptions;
    if (typeof factory !== 'function') throw new Error('expected a call options factory');
    const unary = factory({ service: 'KV', method: 'range', isStream: false, params: {} });
    expect(typeof unary.deadline).toBe('number');
    expect(factory({ service: 'Watch', method: 'watch', isStream: true })).toEqual({});
    const backoff = o.faultHandling?.watchBackoff;
    const first = backoff?.next(undefined);
    expect(first?.duration).toBeLessThanOrEqual(100);
    let b = first;
    for (let i = 0; i < 30; i++) b = b?.next(undefined);
    expect(b?.duration).toBeLessThanOrEqual(RECONNECT_CAP_MS);
  });

  test('TLS as etcdctl: --etcd-cacert turns it on, the client pair goes with it', () => {
    const ca = file('ca.pem', 'CA');
    const o = etcdClientOptions(url, { ...NO_ETCD_AUTH, cacert: ca, cert: file('c.pem', 'CERT'), key: file('k.pem', 'KEY') });
    expect(o.hosts).toEqual(['https://127.0.0.1:2379', 'https://127.0.0.2:2379']);
    expect(o.credentials?.rootCertificate.toString()).toBe('CA');
    expect(o.credentials?.certChain?.toString()).toBe('CERT');
    expect(o.credentials?.privateKey?.toString()).toBe('KEY');
    expect(() => etcdClientOptions(url, { ...NO_ETCD_AUTH, cert: file('c2.pem', 'CERT') })).toThrow('--etcd-cert and --etcd-key go together');
    expect(() => etcdClientOptions(url, { ...NO_ETCD_AUTH, cacert: join(dir, 'missing.pem') })).toThrow(/--etcd-cacert .*missing\.pem/);
  });

  test('--etcd-user with the first line of --etcd-password-file, or etcdctl\'s NAME:PASSWORD', () => {
    const pw = file('pw', 's3cret:with:colons\nignored\n');
    expect(etcdClientOptions(url, { ...NO_ETCD_AUTH, user: 'mcrelay', passwordFile: pw }).auth).toEqual({ username: 'mcrelay', password: 's3cret:with:colons' });
    expect(etcdClientOptions(url, { ...NO_ETCD_AUTH, user: 'root:pw' }).auth).toEqual({ username: 'root', password: 'pw' });
    expect(() => etcdClientOptions(url, { ...NO_ETCD_AUTH, user: 'root' })).toThrow(/needs --etcd-password-file/);
    expect(() => etcdClientOptions(url, { ...NO_ETCD_AUTH, passwordFile: pw })).toThrow(/needs --etcd-user/);
  });
});
