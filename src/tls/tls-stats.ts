/**
 * TLS counters, plain fields for the metrics layer to read (`core.tlsStats`). Nothing here is per request.
 */
export class TlsStats {
  /** Client connections that completed a TLS handshake on an `--ssl-port`. */
  serverHandshakes = 0;
  /** Of those, resumed sessions (ticket or session id). */
  serverResumed = 0;
  /** Client handshakes that failed (wrong CA, expired, missing client certificate, not TLS at all…). */
  serverHandshakeFailures = 0;
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
