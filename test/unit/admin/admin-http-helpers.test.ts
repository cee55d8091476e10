import { describe, expect, test } from 'vitest';
import { REDACTED, redact } from '../../../src/admin/admin-http.js';

describe('redact', () => {
  test('replaces secret-looking fields at any depth and keeps the rest', () => {
    const cfg = { pools: { A: { servers: ['h:1'], password: 'p', tls: { private_key: 'k', cert_path: '/c' } } }, auth_token: 't', route: 'PoolRoute|A' };
    expect(redact(cfg)).toEqual({
      pools: { A: { servers: ['h:1'], password: REDACTED, tls: { private_key: REDACTED, cert_path: '/c' } } },
      auth_token: REDACTED,
      route: 'PoolRoute|A',
    });
  });
});
