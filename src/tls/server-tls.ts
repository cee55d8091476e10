/**
 * The client-facing TLS listener's credentials (`--ssl-port`): certificate, key and optional CA for client
 * certificates, mutual TLS with `--ssl-require-peer-certs`, hot reload of the files, and each connection's
 * authorization identity.
 *
 * Client certificates:
 * - `--ssl-require-peer-certs`: a client without a certificate signed by the CA fails the handshake.
 * - CA given but not required: a certificate is requested; a client may send none (identity `tls-anonymous`),
 *   but a certificate that does not verify is refused (the connection is closed right after the handshake),
 *   so a presented identity is always a verified one.
 * - No CA and not required: no certificate is requested; every client is `tls-anonymous`.
 */
import tls from 'node:tls';
import type { Logger } from 'pino';
import { certificateIdentity, TLS_ANONYMOUS } from './identity.js';
import { PemWatcher, readPem, type PemPaths } from './pem-files.js';
import type { TlsStats } from './tls-stats.js';

export interface ServerTlsOptions {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string | null;
  readonly requirePeerCerts: boolean;
  /** How often the files are checked for changes, in ms (0 = never). */
  readonly pollMs: number;
}

/** Lowest protocol version offered on either side. */
export const MIN_TLS_VERSION: tls.SecureVersion = 'TLSv1.2';

const FAILURE_LOG_INTERVAL_MS = 10_000;

export class ServerTls {
  private readonly paths: PemPaths;
  private readonly servers = new Set<tls.Server>();
  private readonly watcher: PemWatcher;
  private lastFailureLog = 0;
  private suppressedFailures = 0;

  constructor(
    private readonly opts: ServerTlsOptions,
    private readonly log: Logger,
    stats: TlsStats,
  ) {
    this.paths = { cert: opts.certPath, key: opts.keyPath, ca: opts.caPath };
    // Fail at startup when the files are unreadable or do not form a usable context.
    tls.createSecureContext(this.contextOptions());
    this.watcher = new PemWatcher(this.paths, opts.pollMs, () => this.reload(), log, stats, 'server');
  }

  /** Context options from the files as they are now. @throws on unreadable files or a key that does not match. */
  contextOptions(): tls.SecureContextOptions {
    const pem = readPem(this.paths);
    const o: tls.SecureContextOptions = { minVersion: MIN_TLS_VERSION };
    if (pem.cert !== null) o.cert = pem.cert;
    if (pem.key !== null) o.key = pem.key;
    if (pem.ca !== null) o.ca = pem.ca;
    return o;
  }

  /** Options for `tls.createServer`. */
  serverOptions(): tls.TlsOptions {
    const requestCert = this.opts.requirePeerCerts || this.opts.caPath !== null;
    return { ...this.contextOptions(), requestCert, rejectUnauthorized: this.opts.requirePeerCerts };
  }

  /** Track a listener for reloads and handshake-failure accounting. */
  attach(server: tls.Server): void {
    this.servers.add(server);
    this.watcher.start();
    server.on('tlsClientError', (err: Error & { code?: string }) => this.onHandshakeFailure(err));
    server.once('close', () => {
      this.servers.delete(server);
      if (this.servers.size === 0) this.watcher.stop();
    });
  }

  /** Re-read the files and give every listener the new context (new handshakes only). */
  reload(): void {
    const ctx = this.contextOptions();
    tls.createSecureContext(ctx); // validate before installing anywhere
    for (const s of this.servers) s.setSecureContext(ctx);
  }

  /**
   * The authorization identity of a client whose handshake completed, or null when the connection must be
   * refused (a certificate was presented but did not verify; or one was required and none came).
   */
  identify(sock: tls.TLSSocket): string | null {
    const cert = sock.getPeerCertificate();
    const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
    if (!presented) return this.opts.requirePeerCerts ? null : TLS_ANONYMOUS;
    if (!sock.authorized) {
      this.onHandshakeFailure(new Error(`client certificate rejected: ${String(sock.authorizationError)}`));
      return null;
    }
    return certificateIdentity(cert);
  }

  private onHandshakeFailure(err: Error & { code?: string }): void {
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      this.suppressedFailures++;
      return;
    }
    this.log.warn({ err: err.message, code: err.code, suppressed: this.suppressedFailures }, 'TLS client handshake failed');
    this.lastFailureLog = now;
    this.suppressedFailures = 0;
  }

  close(): void {
    this.watcher.stop();
  }
}
