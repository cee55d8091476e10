/**
 * Test certificates, made at test time with Debian's `openssl` (no private key is ever committed).
 *
 *     const pki = makePki();                       // a CA in a fresh temp directory
 *     const server = pki.issue('server', { cn: 'localhost', san: ['IP:127.0.0.1', 'DNS:localhost'] });
 *     const web = pki.issue('web', { cn: 'web', san: ['URI:spiffe://test/ns/web'] });
 *     const expired = pki.issue('old', { cn: 'old', days: -1 });
 *     const other = makePki('otherca');            // an unrelated CA
 *
 * Keys are EC P-256 (fast to make). Every certificate can serve as both client and server.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertFiles {
  /** PEM certificate path. */
  readonly cert: string;
  /** PEM private key path. */
  readonly key: string;
}

export interface IssueOptions {
  readonly cn: string;
  /** subjectAltName entries in openssl form: `IP:127.0.0.1`, `DNS:localhost`, `URI:spiffe://…`. */
  readonly san?: readonly string[];
  /** Validity in days from now; negative = already expired (default 2). */
  readonly days?: number;
}

export interface Pki {
  readonly dir: string;
  /** The CA certificate and key. */
  readonly ca: CertFiles;
  issue(name: string, options: IssueOptions): CertFiles;
  /** Remove the directory. */
  cleanup(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`tls-certs: cannot run openssl (apt-get install openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tls-certs: openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A new CA (self-signed, valid 2 days) in its own temp directory. */
export function makePki(caName = 'mcrelay-test-ca', parentDir?: string): Pki {
  const dir = fs.mkdtempSync(path.join(parentDir ?? os.tmpdir(), 'mcrelay-pki-'));
  const ca = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') };
  openssl(['req', '-x509', ...EC, '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let serial = 1;
  return {
    dir,
    ca,
    issue(name, options) {
      const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
      const csr = path.join(dir, `${name}.csr`);
      const ext = path.join(dir, `${name}.ext`);
      const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'];
      if (options.san !== undefined && options.san.length > 0) lines.push(`subjectAltName=${options.san.join(',')}`);
      fs.writeFileSync(ext, `${lines.join('\n')}\n`);
      openssl(['req', ...EC, '-keyout', files.key, '-out', csr, '-subj', `/CN=${options.cn}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial++ + Date.now()),
        '-out', files.cert, '-days', String(options.days ?? 2), '-extfile', ext], dir);
      return files;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Read a PEM file. */
export function pem(file: string): Buffer {
  return fs.readFileSync(file);
}

export interface TlsMemcachedOptions {
  /** The server's certificate. */
  readonly server: CertFiles;
  /** CA for client certificates (`ssl_ca_cert`). */
  readonly ca?: string;
  /** memcached `ssl_verify_mode`: 0 none (default), 1 request, 2 require, 3 once. */
  readonly verifyMode?: 0 | 1 | 2 | 3;
  /** Trust for the `version` readiness check (default: the server certificate is not verified). */
  readonly args?: readonly string[];
}

export interface TlsMemcached {
  readonly port: number;
  readonly pid: number;
  /** `127.0.0.1:PORT:ascii:ssl`, the config form. */
  readonly sslAddress: string;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Start Debian's memcached with TLS on every connection (`-Z`) on a free loopback port; resolves once a TLS
 * `version` round trip works (with the client certificate `readyClient` when memcached requires one).
 */
export async function startTlsMemcached(options: TlsMemcachedOptions, readyClient?: CertFiles): Promise<TlsMemcached> {
  const { spawn } = await import('node:child_process');
  const tls = await import('node:tls');
  const { getFreePort, sleep } = await import('./ports.js');
  const { trackChild } = await import('./real-memcached.js');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await getFreePort();
    const opts = [`ssl_chain_cert=${options.server.cert}`, `ssl_key=${options.server.key}`];
    if (options.ca !== undefined) opts.push(`ssl_ca_cert=${options.ca}`);
    if (options.verifyMode !== undefined) opts.push(`ssl_verify_mode=${options.verifyMode}`);
    const args = ['-u', 'root', '-l', '127.0.0.1', '-p', String(port), '-U', '0', '-t', '1', '-Z', '-o', opts.join(','), ...(options.args ?? [])];
    const child = spawn('memcached', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    trackChild(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      if (stderr.length < 20_000) stderr += t;
    });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => {
      exited = true;
      resolve();
    }));
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      ready = await new Promise<boolean>((resolve) => {
        const s = tls.connect({
          host: '127.0.0.1', port, rejectUnauthorized: false,
          ...(readyClient !== undefined ? { cert: pem(readyClient.cert), key: pem(readyClient.key) } : {}),
        });
        const timer = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
        s.once('secureConnect', () => s.write('version\r\n'));
        s.once('data', (d: Buffer) => { clearTimeout(timer); s.destroy(); resolve(d.toString('latin1').startsWith('VERSION ')); });
        s.once('error', () => { clearTimeout(timer); s.destroy(); resolve(false); });
      });
      if (ready) break;
      await sleep(30);
    }
    if (!ready) {
      child.kill('SIGKILL');
      await exit;
      if (/Address already in use/i.test(stderr)) continue;
      throw new Error(`startTlsMemcached: memcached ${args.join(' ')} did not answer over TLS; stderr: ${stderr.slice(0, 2000)}`);
    }
    return {
      port,
      pid: child.pid ?? -1,
      sslAddress: `127.0.0.1:${port}:ascii:ssl`,
      stderr: () => stderr,
      async stop() {
        if (!exited) child.kill('SIGKILL');
        await exit;
      },
    };
  }
  throw new Error('startTlsMemcached: no free port after 5 attempts');
}

export interface TlsClientOptions {
  /** CA file the client trusts (the server's certificate is always verified). */
  readonly ca: string;
  /** Client certificate to present. */
  readonly client?: CertFiles;
  readonly timeoutMs?: number;
}

/** A TLS connection to mcrelay with a simple request/reply helper. */
export interface TlsTestClient {
  readonly socket: import('node:tls').TLSSocket;
  /** Send bytes and resolve with the reply once it ends with `end` (default: ends with "\r\n"). */
  request(bytes: string, end?: string): Promise<string>;
  close(): void;
}

/** Connect over TLS to 127.0.0.1:port; rejects when the handshake fails. */
export async function tlsConnect(port: number, options: TlsClientOptions): Promise<TlsTestClient> {
  const tls = await import('node:tls');
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = await new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1', port, ca: pem(options.ca), servername: 'localhost',
      ...(options.client !== undefined ? { cert: pem(options.client.cert), key: pem(options.client.key) } : {}),
    });
    const timer = setTimeout(() => { s.destroy(); reject(new Error('tlsConnect: timeout')); }, timeoutMs);
    s.once('secureConnect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); s.destroy(); reject(e); });
  });
  let buf = '';
  let closedWith: string | null = null;
  let wake: (() => void) | null = null;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => { buf += d; wake?.(); });
  socket.on('error', (e: Error) => { closedWith = e.message; wake?.(); });
  socket.on('close', () => { closedWith ??= 'closed'; wake?.(); });
  return {
    socket,
    async request(bytes, end = '\r\n') {
      buf = '';
      socket.write(bytes);
      const deadline = Date.now() + timeoutMs;
      while (!buf.endsWith(end)) {
        if (closedWith !== null) throw new Error(`connection ${closedWith}; received ${JSON.stringify(buf)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout waiting for ${JSON.stringify(end)}; received ${JSON.stringify(buf)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          wake = () => { clearTimeout(t); wake = null; r(); };
        });
      }
      return buf;
    },
    close() {
      socket.destroy();
    },
  };
}

/**
 * True when the server refuses this client: the handshake fails, or (TLS 1.3, where the server judges the client
 * certificate after the client already finished) the first request gets no reply before the connection dies.
 */
export async function isRefused(port: number, options: TlsClientOptions): Promise<boolean> {
  let c: TlsTestClient;
  try {
    c = await tlsConnect(port, options);
  } catch {
    return true;
  }
  try {
    await c.request('version\r\n');
    return false;
  } catch {
    return true;
  } finally {
    c.close();
  }
}
