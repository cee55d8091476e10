/**
 * Who a certificate names, for authorization (client certificates) and for the expected service identity
 * (upstream server certificates).
 *
 * A client's identity is the first URI subject-alternative name of its certificate (a SPIFFE ID such as
 * `spiffe://example.org/ns/web/sa/api`), else the subject CN, else `tls-anonymous`. No regex: Node's
 * `subjectaltname` string is scanned by hand, honouring the JSON quoting Node uses for values that contain
 * separators.
 */
import type { PeerCertificate } from 'node:tls';

/** Identity of a TLS client that presented no certificate (only possible without --ssl-require-peer-certs). */
export const TLS_ANONYMOUS = 'tls-anonymous';

export interface SubjectAltName {
  /** `URI`, `DNS`, `IP Address`, `email`… as Node prints them. */
  readonly kind: string;
  readonly value: string;
}

/**
 * Split Node's `subjectaltname` ("DNS:a, URI:spiffe://x/y, IP Address:127.0.0.1") into entries.
 * Values Node had to quote (`URI:"a, b"`) are JSON strings and are unquoted here.
 */
export function parseSubjectAltNames(text: string | undefined): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  if (text === undefined || text.length === 0) return out;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (text.charCodeAt(j) === 0x22) {
      // A JSON string: find the closing quote that is not escaped.
      let k = j + 1;
      while (k < n) {
        const c = text.charCodeAt(k);
        if (c === 0x5c) k += 2;
        else if (c === 0x22) break;
        else k++;
      }
      const quoted = text.slice(j, k + 1);
      try {
        value = JSON.parse(quoted) as string;
      } catch {
        value = quoted;
      }
      j = k + 1;
      const comma = text.indexOf(',', j);
      i = comma < 0 ? n : comma + 1;
    } else {
      const comma = text.indexOf(', ', j);
      const end = comma < 0 ? n : comma;
      value = text.slice(j, end);
      i = comma < 0 ? n : comma + 2;
    }
    out.push({ kind, value });
  }
  return out;
}

/** The subject CN (the first one when the subject has several). */
export function commonName(cert: PeerCertificate): string | null {
  const cn: unknown = (cert.subject as unknown as Record<string, unknown> | undefined)?.['CN'];
  if (typeof cn === 'string') return cn;
  if (Array.isArray(cn) && typeof cn[0] === 'string') return cn[0];
  return null;
}

/** Authorization identity of a verified client certificate: URI SAN, else CN, else `tls-anonymous`. */
export function certificateIdentity(cert: PeerCertificate | null | undefined): string {
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return TLS_ANONYMOUS;
  for (const san of parseSubjectAltNames(cert.subjectaltname)) {
    if (san.kind === 'URI' && san.value.length > 0) return san.value;
  }
  const cn = commonName(cert);
  return cn !== null && cn.length > 0 ? cn : TLS_ANONYMOUS;
}

/**
 * True when a server certificate carries `expected` as a URI SAN, a DNS SAN or its subject CN
 * (`--ssl-service-identity`).
 */
export function hasServiceIdentity(cert: PeerCertificate, expected: string): boolean {
  for (const san of parseSubjectAltNames(cert.subjectaltname)) {
    if ((san.kind === 'URI' || san.kind === 'DNS') && san.value === expected) return true;
  }
  return commonName(cert) === expected;
}
