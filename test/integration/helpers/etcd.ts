/**
 * A real etcd for fleet tests: Debian's `etcd` 3.4 (package etcd-server) as a one-member cluster on two free
 * loopback ports, in a temp data dir:
 *
 *   etcd --data-dir TMP --listen-client-urls http://127.0.0.1:P --advertise-client-urls http://127.0.0.1:P
 *        --listen-peer-urls http://127.0.0.1:Q --initial-advertise-peer-urls http://127.0.0.1:Q
 *        --initial-cluster default=http://127.0.0.1:Q
 *
 * Keys are written and read with `etcdctl` (package etcd-client), never with the client library mcrelay
 * uses, so a test cannot pass because both sides share a bug. etcdctl runs asynchronously: a test's load
 * generator shares this event loop.
 *
 * - `kill()` is an outage (SIGKILL, the ports stop answering); `restart()` starts it again on the same
 *   ports and data dir, so keys and revisions survive.
 * - `{ tls }` serves clients over TLS and requires client certificates signed by the CA
 *   (`--client-cert-auth`); etcdctl then uses the given client pair. `enableAuth(...)` adds users and
 *   turns etcd's auth on; etcdctl then writes as root.
 * - `TcpGate` sits between mcrelay and etcd: `block()` cuts every connection and refuses new ones while
 *   etcd stays up (so a test can write and compact behind mcrelay's back), `open()` lets it through again.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getFreePort, LOOPBACK, PortInUseError, sleep } from './ports.js';
import { startRelayWithConfig } from './proxy-harness.js';
import { trackChild } from './real-memcached.js';

const run = promisify(execFile);

export interface EtcdTls {
  /** Server certificate and key (for 127.0.0.1), and the CA that signs client certificates. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** The client pair etcdctl uses. */
  readonly clientCert: string;
  readonly clientKey: string;
}

export interface EtcdOptions {
  readonly tls?: EtcdTls;
}

export class EtcdServer {
  private child: ChildProcess | null = null;
  private output = '';
  private exited: Promise<void> = Promise.resolve();
  /** `user:password` etcdctl writes as, once auth is on. */
  private rootUser: string | null = null;

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly opts: EtcdOptions,
  ) {}

  /** `127.0.0.1:P`, for `etcd://…` URLs and etcdctl. */
  get endpoint(): string {
    return `${LOOPBACK}:${this.clientPort}`;
  }

  /** `etcd://127.0.0.1:P<key>`. */
  url(key: string): string {
    return `etcd://${this.endpoint}${key}`;
  }

  /** Start etcd on two free ports (retried on new ports when one was taken meanwhile). */
  static async start(opts: EtcdOptions = {}): Promise<EtcdServer> {
    let last: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'mcrelay-etcd-'));
      const e = new EtcdServer(await getFreePort(), await getFreePort(), dir, opts);
      try {
        await e.launch();
        return e;
      } catch (err) {
        await e.close();
        if (!(err instanceof PortInUseError)) throw err;
        last = err;
      }
    }
    throw new Error('EtcdServer: gave up after 5 port collisions', { cause: last });
  }

  private async launch(): Promise<void> {
    const tls = this.opts.tls;
    const client = `${tls === undefined ? 'http' : 'https'}://${LOOPBACK}:${this.clientPort}`;
    const peer = `http://${LOOPBACK}:${this.peerPort}`;
    const tlsArgs = tls === undefined ? [] : ['--cert-file', tls.cert, '--key-file', tls.key, '--trusted-ca-file', tls.ca, '--client-cert-auth'];
    const args = [
      ...tlsArgs,
      '--data-dir', this.dataDir, '--name', 'default',
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `default=${peer}`,
      '--logger', 'zap', '--log-level', 'warn',
    ];
    const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    let failed: Error | null = null;
    child.once('error', (err) => (failed = err));
    this.exited = new Promise((r) => child.once('exit', () => r()));
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (failed !== null) throw new Error(`etcd did not start (apt-get install etcd-server): ${String(failed)}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        if (/address already in use/i.test(this.output)) throw new PortInUseError(this.clientPort, this.output.slice(-300));
        throw new Error(`etcd exited: ${this.output.slice(-2000)}`);
      }
      if (await this.answers()) return;
      await sleep(50);
    }
    throw new Error(`etcd did not answer on ${this.endpoint}: ${this.output.slice(-2000)}`);
  }

  private async answers(): Promise<boolean> {
    try {
      await this.ctl(['get', '/mcrelay-test-ping'], 1000);
      return true;
    } catch {
      return false;
    }
  }

  /** Run etcdctl against this server; resolves with its stdout. */
  async ctl(args: readonly string[], timeoutMs = 5000): Promise<string> {
    const tls = this.opts.tls;
    const tlsArgs = tls === undefined ? [] : ['--cacert', tls.ca, '--cert', tls.clientCert, '--key', tls.clientKey];
    const userArgs = this.rootUser === null ? [] : ['--user', this.rootUser];
    const { stdout } = await run('etcdctl', ['--endpoints', this.endpoint, ...tlsArgs, ...userArgs, `--command-timeout=${Math.ceil(timeoutMs / 1000)}s`, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: timeoutMs + 2000,
    });
    return stdout;
  }

  /**
   * Turn etcd's auth on: a root user, and `user` with read access to keys under `prefix` only. From then on
   * etcdctl writes as root.
   */
  async enableAuth(user: string, password: string, prefix: string): Promise<void> {
    await this.ctl(['user', 'add', 'root', '--new-user-password=root-pw']);
    await this.ctl(['user', 'add', user, `--new-user-password=${password}`]);
    await this.ctl(['role', 'add', 'config-reader']);
    await this.ctl(['role', 'grant-permission', 'config-reader', 'read', '--prefix=true', prefix]);
    await this.ctl(['user', 'grant-role', user, 'config-reader']);
    await this.ctl(['auth', 'enable']);
    this.rootUser = 'root:root-pw';
  }

  async put(key: string, value: string): Promise<void> {
    // `--` so a value starting with '-' is not read as a flag.
    await this.ctl(['put', '--', key, value]);
  }

  async del(key: string): Promise<void> {
    await this.ctl(['del', '--', key]);
  }

  /** The store's current revision. */
  async revision(): Promise<number> {
    const out = JSON.parse(await this.ctl(['get', '/mcrelay-test-ping', '-w', 'json'])) as { header: { revision: number | string } };
    return Number(out.header.revision);
  }

  /** Compact the history up to `revision` (the current one when left out). */
  async compact(revision?: number): Promise<number> {
    const rev = revision ?? (await this.revision());
    await this.ctl(['compact', String(rev), '--physical']);
    return rev;
  }

  /** SIGKILL: an outage. Keys stay in the data dir for restart(). */
  async kill(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.child = null;
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await this.exited;
  }

  /** Start again on the same ports and data dir. */
  async restart(): Promise<void> {
    await this.kill();
    // The kernel may hold the ports for a moment after the kill.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.launch();
        return;
      } catch (err) {
        if (!(err instanceof PortInUseError) || Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  logs(): string {
    return this.output;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A TCP forwarder on a free loopback port that a test can cut (see the module comment). */
export class TcpGate {
  private readonly sockets = new Set<net.Socket>();
  private blocked = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpGate> {
    let gate: TcpGate | null = null;
    const server = net.createServer((client) => gate?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('TcpGate: no address');
    gate = new TcpGate(server, addr.port);
    return gate;
  }

  get endpoint(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  private accept(client: net.Socket, targetPort: number): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, LOOPBACK);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cut every connection; refuse new ones until open(). */
  block(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
  }

  open(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A relay started with `--config CONFIG` (see startRelayWithConfig in proxy-harness.ts). */
export type { ConfigRelay } from './proxy-harness.js';

/** Start the CLI with `--config CONFIG` (an etcd:// URL here). */
export const startConfigRelay = startRelayWithConfig;
