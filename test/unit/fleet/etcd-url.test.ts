import { describe, expect, test } from 'vitest';
import { endpointUrls, etcdName, isEtcdUrl, parseEtcdUrl, resolveImportKey } from '../../../src/fleet/etcd-url.js';

describe('etcd:// config URLs', () => {
  test('the key is the path, leading slash included', () => {
    expect(parseEtcdUrl('etcd://127.0.0.1:2379/mcrelay/config')).toEqual({ endpoints: ['127.0.0.1:2379'], key: '/mcrelay/config' });
    expect(parseEtcdUrl('etcd://h:1/a/b/c.yaml').key).toBe('/a/b/c.yaml');
  });

  test('several endpoints, IPv6 in brackets, and the default port 2379', () => {
    const u = parseEtcdUrl('etcd://10.0.0.1:2379, 10.0.0.2:32379,[::1]:2381,etcd-0.etcd/k');
    expect(u.endpoints).toEqual(['10.0.0.1:2379', '10.0.0.2:32379', '[::1]:2381', 'etcd-0.etcd:2379']);
    expect(endpointUrls(u, false)).toEqual(['http://10.0.0.1:2379', 'http://10.0.0.2:32379', 'http://[::1]:2381', 'http://etcd-0.etcd:2379']);
    expect(endpointUrls(u, true)[0]).toBe('https://10.0.0.1:2379');
    expect(etcdName(u)).toBe('etcd://10.0.0.1:2379,10.0.0.2:32379,[::1]:2381,etcd-0.etcd:2379/k');
  });

  test('refuses URLs without an endpoint or a key, and bad endpoints', () => {
    expect(isEtcdUrl('file:/x')).toBe(false);
    expect(() => parseEtcdUrl('etcd:///key')).toThrow(/no endpoint/);
    expect(() => parseEtcdUrl('etcd://h:2379')).toThrow(/no key/);
    expect(() => parseEtcdUrl('etcd://h:2379/')).toThrow(/empty key/);
    expect(() => parseEtcdUrl('etcd://h:99999/k')).toThrow(/bad etcd port/);
    expect(() => parseEtcdUrl('etcd://h:2379,,h2/k')).toThrow(/bad etcd endpoint ""/);
    expect(() => parseEtcdUrl('etcd://user@h/k')).toThrow(/bad etcd endpoint "user@h"/);
  });

  test('@import resolves against the config key\'s directory; an absolute path is a key', () => {
    expect(resolveImportKey('/mcrelay/config', 'pools.json')).toBe('/mcrelay/pools.json');
    expect(resolveImportKey('/mcrelay/app/config', '../shared/pools')).toBe('/mcrelay/shared/pools');
    expect(resolveImportKey('/mcrelay/app/config', './a/./b')).toBe('/mcrelay/app/a/b');
    expect(resolveImportKey('/mcrelay/app/config', '/other/key')).toBe('/other/key');
    expect(resolveImportKey('/config', 'x')).toBe('/x');
    expect(resolveImportKey('/a/config', '../../../x')).toBe('/x');
  });
});
