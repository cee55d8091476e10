/**
 * TLS from mcrelay to memcached, for servers written `host:port:ascii:ssl` or in a pool with
 * `security_mech: ssl` (mcrouter's syntax). `connect(host, port)` is the socket factory that
 * upstream/connection.ts calls instead of `net.connect`; everything above the socket (pipelining, write
 * coalescing, the reply parser, timeouts) is unchanged.
 *
 * - Client certificate and CA: `--pem-cert-path`, `--pem-key-path`, `--pem-ca-path` (no CA: Node's bundled
 *   roots). One SecureContext is shared by every connection and rebuilt when the files change.
 * - Verification (`--ssl-verify-peers`, on by default): the server's chain must verify, and the certificate
 *   must name the expected service identity (`--ssl-service-identity`: a URI SAN, DNS SAN or CN equal to it)
 *   or, without one, the host the config names (an IP SAN for IP addresses).
 * - Session resumption: the newest session (TLS 1.3 ticket or 1.2 session) per `host:port` is kept and offered
 *   on the next connect, so reconnects and probes skip the full handshake. Some servers hand out tickets they
 *   then refuse with a fatal alert (memcached 1.6.18 with `ssl_verify_mode` ≥ 1 answers a resumption with
 *   "internal error"): so before a server's sessions are offered to real connections, one side connection
 *   checks that it really resumes (and answers `version`); a server that fails is never offered sessions again
 *   (until the certificate files change). A failed resumption would otherwise look like a connect error and
 *   mark the server TKO. The cache is cleared when the client certificate changes, so a resumed session never
 *   carries a rotated-out identity.
 * - "Connected" means "handshake done": Connection starts writing and stops its connect timer on `connect`,
 *   so for a TLS socket that event is taken as `secureConnect`. A handshake failure is then a connect error
 *   (hard TKO, like a refused connection), and the connect timeout covers the handshake.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { hasServiceIdentity } from './identity.js';
import { PemWatcher, readPem, type PemPaths } from './pem-files.js';
import { MIN_TLS_VERSION } from './server-tls.js';
import type { TlsStats } from './tls-stats.js';

export interface UpstreamTlsOptions {
  readonly certPath: string | null;
  readonly keyPath: string | null;
  readonly caPath: string | null;
  readonly verifyPeers: boolean;
  /** Expected identity in the server's certificate; null = the host name / IP from the config. */
  readonly serviceIdentity: string | null;
  /** How often the files are checked for changes, in ms (0 = never). */
  readonly pollMs: number;
}

/**
 * Open a TLS connection to `host:port` (the resolved address); `name` is the host as the config wrote it,
 * used for SNI, certificate verification and the session cache (default: `host`).
 */
export type UpstreamTlsConnect = (host: string, port: number, name?: string) => net.Socket;

/** Upper bound on cached sessions (one per upstream server). */
const MAX_SESSIONS = 4096;

export class UpstreamTls {
  private context: tls.SecureContext;
  private readonly sessions = new Map<string, Buffer>();
  /** Per server: 'probing' while the side check runs, then whether offered sessions really resume. */
  private readonly resumes = new Map<string, boolean | 'probing'>();
  private readonly watcher: PemWatcher;
  private readonly paths: PemPaths;
  private readonly checkIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;

  constructor(
    private readonly opts: UpstreamTlsOptions,
    private readonly log: Logger,
    private readonly stats: TlsStats,
  ) {
    if ((opts.certPath === null) !== (opts.keyPath === null)) {
      throw new Error('--pem-cert-path and --pem-key-path must be given together');
    }
    this.paths = { cert: opts.certPath, key: opts.keyPath, ca: opts.caPath };
    this.context = this.buildContext();
    const expected = opts.serviceIdentity;
    this.checkIdentity =
      expected === null
        ? (host, cert) => tls.checkServerIdentity(host, cert)
        : (_host, cert) =>
            hasServiceIdentity(cert, expected) ? undefined : Object.assign(new Error(`server certificate does not name the service identity "${expected}"`), { code: 'ERR_MCRELAY_SERVICE_IDENTITY' });
    this.watcher = new PemWatcher(this.paths, opts.pollMs, () => this.reload(), log, stats, 'upstream');
    this.watcher.start();
  }

  private buildContext(): tls.SecureContext {
    const pem = readPem(this.paths);
    const o: tls.SecureContextOptions = { minVersion: MIN_TLS_VERSION };
    if (pem.cert !== null) o.cert = pem.cert;
    if (pem.key !== null) o.key = pem.key;
    if (pem.ca !== null) o.ca = pem.ca;
    return tls.createSecureContext(o);
  }

  /** Rebuild the client context from the files; new connections use it. */
  reload(): void {
    this.context = this.buildContext();
    this.sessions.clear();
    this.resumes.clear();
  }

  /** The socket factory for upstream/connection.ts (see the module comment). */
  readonly connect: UpstreamTlsConnect = (host, port, name = host) => {
    const key = `${name}:${port}`;
    const options: tls.ConnectionOptions = {
      host,
      port,
      secureContext: this.context,
      rejectUnauthorized: this.opts.verifyPeers,
      checkServerIdentity: (_h, cert) => this.checkIdentity(name, cert),
    };
    // SNI carries host names only (RFC 6066 forbids IP literals).
    if (net.isIP(name) === 0) options.servername = name;
    const session = this.resumes.get(key) === true ? this.sessions.get(key) : undefined;
    if (session !== undefined) options.session = session;
    const sock = tls.connect(options);
    sock.on('session', (s: Buffer) => this.saveSession(key, s, options));
    let secured = false;
    sock.once('secureConnect', () => {
      secured = true;
      this.stats.upstreamHandshakes++;
      if (sock.isSessionReused()) this.stats.upstreamResumed++;
    });
    sock.once('error', (err: Error & { code?: string }) => {
      if (secured) return;
      this.stats.upstreamHandshakeFailures++;
      // A session the server no longer accepts must not be offered again.
      this.sessions.delete(key);
      if (session !== undefined) this.resumes.set(key, false);
      this.log.debug({ destination: key, code: err.code, err: err.message }, 'upstream TLS handshake failed');
    });
    // Connection registers `once('connect')` synchronously right after this factory returns; that one
    // registration (and only it: Node registers its own 'connect' listeners too, some later) is moved to
    // 'secureConnect'. The instance override removes itself on first use.
    type Once = (this: tls.TLSSocket, event: string | symbol, listener: (...args: unknown[]) => void) => tls.TLSSocket;
    const protoOnce = tls.TLSSocket.prototype.once as unknown as Once;
    const onceSecure: Once = function (this: tls.TLSSocket, event, listener) {
      if (event !== 'connect') return protoOnce.call(this, event, listener);
      delete (this as { once?: unknown }).once;
      return this.once('secureConnect', listener);
    };
    sock.once = onceSecure as unknown as typeof sock.once;
    return sock;
  };

  private saveSession(key: string, s: Buffer, base: tls.ConnectionOptions): void {
    const state = this.resumes.get(key);
    if (state === false) return;
    if (this.sessions.size >= MAX_SESSIONS && !this.sessions.has(key)) {
      this.sessions.clear();
      this.resumes.clear();
    }
    this.sessions.set(key, s);
    if (state === undefined) this.checkResumption(key, { ...base, session: s });
  }

  /** Side connection: does this server resume the session it just issued? (See the module comment.) */
  private checkResumption(key: string, options: tls.ConnectionOptions): void {
    this.resumes.set(key, 'probing');
    const context = this.context;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      // Ignore a result that belongs to a context replaced meanwhile.
      if (context === this.context && this.resumes.get(key) === 'probing') this.resumes.set(key, ok);
      if (!ok) this.log.info({ destination: key }, 'upstream TLS server does not resume sessions; full handshakes only');
    };
    const sock = tls.connect(options);
    const timer = setTimeout(() => finish(false), 5_000);
    timer.unref();
    sock.once('secureConnect', () => {
      if (!sock.isSessionReused()) finish(false);
      else sock.write('version\r\n');
    });
    sock.once('data', () => finish(true));
    sock.once('error', () => finish(false));
    sock.once('close', () => finish(false));
  }

  close(): void {
    this.watcher.stop();
    this.sessions.clear();
    this.resumes.clear();
  }
}

/** The factory used when a server asks for TLS but none is configured: fails the connect instead of downgrading. */
export function tlsUnavailable(host: string, port: number, _name?: string): net.Socket {
  const sock = new net.Socket();
  process.nextTick(() => sock.destroy(Object.assign(new Error(`TLS is not configured for ${host}:${port}`), { code: 'ERR_MCRELAY_NO_TLS' })));
  return sock;
}
