/**
 * TLS counters (`core.tlsStats`), plain fields that the TLS tests read. Nothing here is per request.
 */
export class TlsStats {
  /** Upstream TLS handshakes completed (mcrelay → memcached). */
  upstreamHandshakes = 0;
  /** Of those, resumed from the session cache (no full handshake). */
  upstreamResumed = 0;
  /** Upstream handshakes that failed (verification, identity mismatch, reset). */
  upstreamHandshakeFailures = 0;
  /** Certificate/key reloads that succeeded / failed (files changed on disk), both sides. */
  certReloads = 0;
  certReloadFailures = 0;
}
