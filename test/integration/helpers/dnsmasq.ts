/**
 * A real DNS server for discovery tests: Debian's dnsmasq (package dnsmasq-base) on a loopback port,
 * reading nothing of the machine's own configuration (no /etc/hosts, no /etc/resolv.conf, no upstream).
 *
 * - A records come from a hosts file (`setHosts`, re-read on SIGHUP, so members change without a restart).
 * - SRV records and the A records of their targets are command-line options, so changing them means a
 *   restart on the same port (`restart`).
 * - `stop()` is an outage: the port stops answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { getFreePort, sleep } from './ports.js';
import { trackChild } from './real-memcached.js';

export interface SrvRecord {
  /** `_service._proto.name` */
  readonly name: string;
  readonly target: string;
  readonly port: number;
}

export interface DnsmasqOptions {
  /** Lines of `address name` for the hosts file (several lines may share a name). */
  readonly hosts: readonly [string, string][];
  readonly srv?: readonly SrvRecord[];
}

export class Dnsmasq {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'mcrelay-dnsmasq-'));
  private readonly hostsFile = join(this.dir, 'hosts');
  private output = '';

  private constructor(
    readonly port: number,
    private srv: readonly SrvRecord[],
  ) {}

  /** `127.0.0.1:PORT`, for `--dns-servers`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: DnsmasqOptions): Promise<Dnsmasq> {
    const d = new Dnsmasq(await getFreePort(), options.srv ?? []);
    d.writeHosts(options.hosts);
    await d.launch();
    return d;
  }

  /** Replace the A records and make dnsmasq re-read them; resolves once it answers with the new set. */
  async setHosts(hosts: readonly [string, string][]): Promise<void> {
    this.writeHosts(hosts);
    this.child?.kill('SIGHUP');
    const name = hosts[0]?.[1];
    if (name === undefined) return;
    const want = hosts.filter(([, n]) => n === name).map(([a]) => a).sort().join(',');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const got = (await this.query4(name)).sort().join(',');
      if (got === want) return;
      await sleep(20);
    }
    throw new Error(`dnsmasq: ${name} still does not answer ${want}`);
  }

  /** Stop and start again on the same port with other SRV records. */
  async restart(srv: readonly SrvRecord[]): Promise<void> {
    await this.stop();
    this.srv = srv;
    await this.launch();
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.child = null;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  logs(): string {
    return this.output;
  }

  private writeHosts(hosts: readonly [string, string][]): void {
    writeFileSync(this.hostsFile, hosts.map(([a, n]) => `${a} ${n}\n`).join(''));
  }

  private async launch(): Promise<void> {
    const args = [
      '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', '--user=root',
      `--port=${this.port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', '--no-poll', `--addn-hosts=${this.hostsFile}`, '--log-facility=-',
      ...this.srv.map((r) => `--srv-host=${r.name},${r.target},${r.port}`),
    ];
    const child = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    let failed: Error | null = null;
    child.once('error', (err) => (failed = err));
    this.child = child;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (failed !== null) throw new Error(`dnsmasq did not start (apt-get install dnsmasq-base): ${String(failed)}`);
      if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${this.output}`);
      // Any answer (NXDOMAIN included) means it is up; a refused or silent port is not.
      const up = await this.resolver()
        .resolve4('up.check.invalid')
        .then(() => true, (e: NodeJS.ErrnoException) => e.code !== 'ECONNREFUSED' && e.code !== 'ETIMEOUT');
      if (up) return;
      await sleep(30);
    }
    throw new Error(`dnsmasq did not answer on port ${this.port}: ${this.output}`);
  }

  private resolver(): Resolver {
    const r = new Resolver({ timeout: 300, tries: 1 });
    r.setServers([this.address]);
    return r;
  }

  private async query4(name: string): Promise<string[]> {
    return this.resolver().resolve4(name).catch(() => []);
  }
}
