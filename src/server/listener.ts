/**
 * Client listeners.
 *
 * - Plain TCP on every `--port` × `--listen-addresses` (loopback, 127.0.0.1, by default), or an inherited
 *   `--listen-sock-fd`. Off with `--no-plaintext`. Identity: `plaintext-loopback` when the peer is on
 *   loopback, `plaintext` otherwise.
 * - TLS on every `--ssl-port` × `--listen-addresses`, with `--server-pem-cert-path`/`--server-pem-key-path`
 *   (and `--server-pem-ca-path`, `--ssl-require-peer-certs` for client certificates; see tls/server-tls.ts).
 *   Identity: the verified client certificate's URI SAN (a spiffe:// ID), else its CN, else `tls-anonymous`.
 *   The files are polled and a changed certificate is installed for new handshakes; open connections stay.
 *
 * Every accepted socket becomes a ClientSession carrying its identity, which authorization (authz.ts) uses.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ServerTls } from '../tls/server-tls.js';
import type { Sidecar } from './sidecar.js';

export function plaintextIdentity(sock: net.Socket): string {
  const a = sock.remoteAddress ?? '';
  return a === '127.0.0.1' || a === '::1' || a.startsWith('127.') || a === '::ffff:127.0.0.1' ? 'plaintext-loopback' : 'plaintext';
}

function listenOne(server: net.Server, opts: net.ListenOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : (opts.port ?? 0));
    });
  });
}

/** The TLS credentials for `--ssl-port`, or null when no TLS port is configured. @throws on missing flags or files */
export function serverTlsFor(core: Sidecar): ServerTls | null {
  const o = core.options;
  if (o.sslPorts.length === 0) return null;
  if (o.serverPemCertPath === null || o.serverPemKeyPath === null) {
    throw new Error('--ssl-port needs --server-pem-cert-path and --server-pem-key-path');
  }
  return new ServerTls(
    {
      certPath: o.serverPemCertPath,
      keyPath: o.serverPemKeyPath,
      caPath: o.serverPemCaPath,
      requirePeerCerts: o.sslRequirePeerCerts,
      pollMs: o.tlsCertPollMs,
    },
    core.log.child({ subsystem: 'tls' }),
    core.router.tlsStats,
  );
}

/**
 * Bind every listener. `ports` lists the plaintext ports first, then the TLS ports, in flag order.
 * @throws when `--no-plaintext` leaves nothing to listen on, or the TLS files are unusable
 */
export async function listenAll(core: Sidecar): Promise<{ servers: net.Server[]; ports: number[] }> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  const onPlain = (sock: net.Socket): void => core.accept(sock, plaintextIdentity(sock));
  const o = core.options;
  const serverTls = serverTlsFor(core);
  if (o.noPlaintext && serverTls === null) throw new Error('--no-plaintext needs --ssl-port');
  if (!o.noPlaintext) {
    if (o.listenSockFd !== null) {
      const server = net.createServer(onPlain);
      ports.push(await listenOne(server, { fd: o.listenSockFd } as net.ListenOptions));
      servers.push(server);
    } else {
      const plainPorts = o.ports.length > 0 ? o.ports : [11211];
      for (const port of plainPorts) {
        for (const host of o.listenAddresses) {
          const server = net.createServer(onPlain);
          ports.push(await listenOne(server, { port, host, backlog: 1024 }));
          servers.push(server);
        }
      }
    }
  }
  if (serverTls !== null) {
    const onSecure = (sock: tls.TLSSocket): void => {
      const identity = serverTls.identify(sock);
      if (identity === null) {
        sock.destroy();
        return;
      }
      core.accept(sock, identity);
    };
    const tlsOptions = serverTls.serverOptions();
    for (const port of o.sslPorts) {
      for (const host of o.listenAddresses) {
        const server = tls.createServer(tlsOptions, onSecure);
        serverTls.attach(server);
        ports.push(await listenOne(server, { port, host, backlog: 1024 }));
        servers.push(server);
      }
    }
  }
  return { servers, ports };
}
