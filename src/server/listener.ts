/**
 * Client listeners: plain TCP on every `--port` × `--listen-addresses` (loopback by default), or an
 * inherited `--listen-sock-fd`. Each accepted socket becomes a ClientSession with an identity for
 * authorization: `plaintext-loopback` when the peer is on loopback, `plaintext` otherwise.
 */
import net from 'node:net';
import type { ProxyCore } from './proxy-core.js';

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

export async function listenAll(core: ProxyCore): Promise<{ servers: net.Server[]; ports: number[] }> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  const onPlain = (sock: net.Socket): void => core.accept(sock, plaintextIdentity(sock));
  const o = core.options;
  if (o.listenSockFd !== null) {
    const server = net.createServer(onPlain);
    ports.push(await listenOne(server, { fd: o.listenSockFd } as net.ListenOptions));
    servers.push(server);
    return { servers, ports };
  }
  const plainPorts = o.ports.length > 0 ? o.ports : [11211];
  for (const port of plainPorts) {
    for (const host of o.listenAddresses) {
      const server = net.createServer(onPlain);
      ports.push(await listenOne(server, { port, host, backlog: 1024 }));
      servers.push(server);
    }
  }
  return { servers, ports };
}
