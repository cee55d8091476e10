import type { PeerCertificate } from 'node:tls';
import { describe, expect, test } from 'vitest';
import { certificateIdentity, hasServiceIdentity, parseSubjectAltNames, TLS_ANONYMOUS } from '../../../src/tls/identity.js';

const cert = (subject: Record<string, unknown>, subjectaltname?: string): PeerCertificate =>
  ({ subject, ...(subjectaltname !== undefined ? { subjectaltname } : {}) }) as unknown as PeerCertificate;

describe('parseSubjectAltNames', () => {
  test('Node\'s comma-separated form', () => {
    expect(parseSubjectAltNames('DNS:localhost, IP Address:127.0.0.1, URI:spiffe://t/ns/a')).toEqual([
      { kind: 'DNS', value: 'localhost' },
      { kind: 'IP Address', value: '127.0.0.1' },
      { kind: 'URI', value: 'spiffe://t/ns/a' },
    ]);
  });
  test('JSON-quoted values with separators inside', () => {
    expect(parseSubjectAltNames('URI:"spiffe://t/a, b", DNS:x')).toEqual([
      { kind: 'URI', value: 'spiffe://t/a, b' },
      { kind: 'DNS', value: 'x' },
    ]);
  });
  test('empty and missing', () => {
    expect(parseSubjectAltNames(undefined)).toEqual([]);
    expect(parseSubjectAltNames('')).toEqual([]);
  });
  test('long hostile input is linear (no regex, no backtracking)', () => {
    const evil = `URI:"${'\\\\'.repeat(50_000)}`;
    const started = performance.now();
    parseSubjectAltNames(evil);
    parseSubjectAltNames(', '.repeat(50_000));
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('certificateIdentity', () => {
  test('URI SAN first, then CN, then tls-anonymous', () => {
    expect(certificateIdentity(cert({ CN: 'web' }, 'DNS:web.local, URI:spiffe://t/ns/web'))).toBe('spiffe://t/ns/web');
    expect(certificateIdentity(cert({ CN: 'batch' }, 'DNS:batch.local'))).toBe('batch');
    expect(certificateIdentity(cert({ CN: ['first', 'second'] }))).toBe('first');
    expect(certificateIdentity(cert({}))).toBe(TLS_ANONYMOUS);
    expect(certificateIdentity(null)).toBe(TLS_ANONYMOUS);
    expect(certificateIdentity({} as PeerCertificate)).toBe(TLS_ANONYMOUS);
  });
});

describe('hasServiceIdentity', () => {
  test('URI SAN, DNS SAN or CN must equal the expected identity', () => {
    const c = cert({ CN: 'cache' }, 'DNS:cache.svc, URI:spiffe://t/ns/cache');
    expect(hasServiceIdentity(c, 'spiffe://t/ns/cache')).toBe(true);
    expect(hasServiceIdentity(c, 'cache.svc')).toBe(true);
    expect(hasServiceIdentity(c, 'cache')).toBe(true);
    expect(hasServiceIdentity(c, 'spiffe://t/ns/cach')).toBe(false);
    expect(hasServiceIdentity(c, 'other')).toBe(false);
  });
});
