/**
 * Text-protocol admin: `stats [group]`, `flush_all`, and `get __mcrouter__.<cmd>` (reference mcrouter.md
 * §5.1–5.2). Admin replies are normal VALUE hits; errors come back as the value `ERROR: ...`.
 */
import { Reply, Request, isErrorResult, type Op } from '../protocol/types.js';
import { Traversal } from '../routes/route-handle.js';
import type { UpstreamDestination } from '../upstream/upstream-destination.js';
import { VERSION } from '../version.js';
import { renderError } from './client-session.js';
import type { Observability } from './observer.js';
import type { ProxyCore } from './proxy-core.js';
import { ProxyStats, STAT_OPS } from './proxy-stats.js';

const END = Buffer.from('END\r\n');
const ADMIN_PREFIX_LEN = '__mcrouter__.'.length;

const ROUTABLE_OPS: ReadonlySet<string> = new Set<Op>([
  'get', 'gets', 'gat', 'gats', 'set', 'add', 'replace', 'append', 'prepend', 'cas', 'delete', 'incr', 'decr',
  'touch', 'mg', 'ms', 'md', 'ma', 'me',
]);

function valueBlock(key: Buffer, value: string): Buffer {
  const data = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from(`VALUE `, 'latin1'), key, Buffer.from(` 0 ${data.length}\r\n`, 'latin1'), data, Buffer.from('\r\n')]);
}

const DISABLED_STATS = Buffer.from('SERVER_ERROR admin commands disabled for this client\r\n');
const UNKNOWN_STATS = Buffer.from('ERROR\r\n');

export class Admin {
  /** Set by the observability layer (hot keys); null = not running. */
  observability: Observability | null = null;

  constructor(private readonly core: ProxyCore) {}

  /**
   * May `identity` use admin text commands? `--admin-text-commands`: `all` (mcrouter behaviour), `loopback`
   * (only plaintext clients on loopback) or `off`.
   */
  allowed(identity: string): boolean {
    const mode = this.core.options.adminTextCommands;
    if (mode === 'off') return false;
    if (mode === 'loopback') return identity === 'plaintext-loopback';
    return true;
  }

  /** Full reply bytes for a single-key `get __mcrouter__.X`. */
  handleGet(req: Request, identity = 'plaintext-loopback'): Buffer {
    const r = this.getReply(req, identity);
    return Buffer.concat([r.raw ?? Buffer.alloc(0), END]);
  }

  /** The hit (a VALUE block) for `__mcrouter__.X`. */
  getReply(req: Request, identity = 'plaintext-loopback'): Reply {
    const cmd = req.key.subarray(ADMIN_PREFIX_LEN).toString('utf8');
    let value: string;
    try {
      value = this.allowed(identity) ? this.command(cmd) : 'ERROR: admin commands disabled for this client';
    } catch (err) {
      value = `ERROR: ${err instanceof Error ? err.message : String(err)}`;
    }
    return new Reply('found', valueBlock(req.key, value));
  }

  private command(cmd: string): string {
    const core = this.core;
    const open = cmd.indexOf('(');
    const name = open === -1 ? cmd : cmd.slice(0, open);
    const args = open === -1 ? null : cmd.slice(open + 1, cmd.endsWith(')') ? -1 : undefined);
    switch (name) {
      case 'version':
        return `mcrelay ${VERSION}`;
      case 'config_age':
        return String(Math.floor((Date.now() - core.active.loadedAt) / 1000));
      case 'config_file':
        return core.active.source.sourcePath ?? 'ERROR: no config file found!';
      case 'config_md5_digest':
        return core.active.source.md5;
      case 'preprocessed_config':
        return JSON.stringify(core.active.source.data);
      case 'hostid':
        return String(core.hostId);
      case 'options':
        if (args !== null) return this.option(args);
        return this.optionLines().join('\n');
      case 'pools': {
        const out: Record<string, string[]> = {};
        for (const [poolName, pool] of core.active.built.pools) out[poolName] = pool.servers.map((s) => s.address);
        return JSON.stringify(out);
      }
      case 'hot_keys': {
        const hk = this.observability?.hotKeys ?? null;
        if (hk === null) throw new Error('hot-key tracking is off (start with --hot-keys)');
        return JSON.stringify(hk.report(args === null || args === '' ? 20 : Math.max(1, Number(args) || 20)));
      }
      case 'route':
      case 'route_handles': {
        if (args === null) throw new Error(`${name} needs (op,key)`);
        const comma = args.indexOf(',');
        if (comma === -1) throw new Error(`${name} needs (op,key)`);
        const op = args.slice(0, comma).trim();
        const key = args.slice(comma + 1);
        if (!ROUTABLE_OPS.has(op)) throw new Error(`unknown operation: ${op}`);
        const req = Request.synthesize(op as Op, Buffer.from(key, 'utf8'), `${op} `, '', null, 0);
        const t = new Traversal();
        t.visit(core.root, req);
        if (name === 'route') return t.destinations.join('\r\n');
        return t.nodes.map((n) => `${' '.repeat(n.depth)}${n.name}`).join('\n');
      }
      default:
        throw new Error(`unknown command: ${cmd}`);
    }
  }

  private optionLines(): string[] {
    const o = this.core.options as unknown as Record<string, unknown>;
    return Object.keys(o)
      .filter((k) => k !== 'ignored')
      .sort()
      .map((k) => `${toFlagName(k)} ${formatOption(o[k])}`);
  }

  private option(name: string): string {
    const o = this.core.options as unknown as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (toFlagName(k) === name || k === name) return formatOption(o[k]);
    }
    throw new Error(`no such option: ${name}`);
  }

  /** `stats [group]`. */
  stats(group: string, identity = 'plaintext-loopback'): Buffer {
    if (!this.allowed(identity)) return DISABLED_STATS;
    const lines: [string, string | number][] = [];
    switch (group) {
      case '':
        this.basic(lines);
        break;
      case 'detailed':
        this.basic(lines);
        this.detailed(lines);
        break;
      case 'all':
        this.basic(lines);
        this.detailed(lines);
        break;
      case 'servers':
        this.serverLines(lines);
        break;
      case 'suspect_servers':
        this.suspectLines(lines);
        break;
      case 'version':
        lines.push(['mcrelay-version', this.core.versionString]);
        break;
      default:
        // memcached's answer to a group it does not know (`stats noreply` included); mcrouter says
        // `CLIENT_ERROR bad stats command` here. README: deliberate differences.
        return UNKNOWN_STATS;
    }
    let out = '';
    for (const [k, v] of lines) out += `STAT ${k} ${v}\r\n`;
    out += 'END\r\n';
    return Buffer.from(out, 'utf8');
  }

  private basic(lines: [string, string | number][]): void {
    const core = this.core;
    const s = core.stats;
    const mem = process.memoryUsage();
    const ru = process.resourceUsage();
    const dests = core.destinations.all();
    lines.push(
      ['version', core.versionString],
      ['commandargs', process.argv.slice(2).join(' ')],
      ['pid', process.pid],
      ['parent_pid', process.ppid],
      ['time', Math.floor(Date.now() / 1000)],
      ['uptime', s.uptimeSeconds()],
      ['num_proxies', core.options.numProxies],
      ['ps_rss', mem.rss],
      ['rusage_user', (ru.userCPUTime / 1e6).toFixed(6)],
      ['rusage_system', (ru.systemCPUTime / 1e6).toFixed(6)],
      ['num_client_connections', s.numClientConnections],
      ['num_servers', dests.length],
      ['num_servers_up', dests.filter((d) => d.state() === 'up').length],
      ['num_servers_down', dests.filter((d) => d.isTko()).length],
      ['num_suspect_servers', dests.filter((d) => d.tko.consecutiveFailures > 0).length],
      ['config_age', Math.floor((Date.now() - core.active.loadedAt) / 1000)],
      ['config_last_attempt', Math.floor(s.configLastAttempt / 1000)],
      ['config_last_success', Math.floor(s.configLastSuccess / 1000)],
      ['config_failures', s.configFailures],
      ['duration_us', Math.round(s.avgDurationUs())],
      ['duration_get_us', Math.round(avgUs(s, GET_OPS))],
      ['duration_update_us', Math.round(avgUs(s, UPDATE_OPS))],
      ['proxy_reqs_processing', core.sessionCount === 0 ? 0 : this.processing()],
      ['request_success_count', s.requestSuccess],
      ['request_error_count', s.requestErrors],
    );
    for (const [k, v] of s.opStats()) lines.push([k, v]);
    const r = core.routeStats;
    lines.push(
      ['failover_all', r.failoverAll],
      ['failover_all_failed', r.failoverAllFailed],
      ['failover_rate_limited', r.failoverRateLimited],
      ['failover_tko_skipped', r.failoverTkoSkipped],
      ['dev_null_requests', r.devNullRequests],
      ['asynclog_requests', r.spooledDeletes],
    );
  }

  private detailed(lines: [string, string | number][]): void {
    const core = this.core;
    const r = core.routeStats;
    let opened = 0;
    let closed = 0;
    let resets = 0;
    for (const d of core.destinations.all()) {
      opened += d.connectionsOpened;
      closed += d.connectionsClosed;
      resets += d.connectionResets;
    }
    // mcrouter's TKO counters are gauges: destinations soft / hard TKO now, and the most at once.
    const tko = core.destinations.tkoCounters;
    lines.push(
      ['num_connections_opened', opened],
      ['num_connections_closed', closed],
      ['num_connection_resets', resets],
      ['num_soft_tko_count', tko.soft],
      ['num_hard_tko_count', tko.hard],
      ['max_num_tko', tko.max],
      ['shadow_requests_sent', r.shadowSent],
      ['shadow_requests_dropped', r.shadowDropped],
      ['total_client_connections', core.stats.totalClientConnections],
    );
    for (const [res, n] of core.stats.resultCount) lines.push([`result_${res}_count`, n]);
    this.latencyLines(lines);
  }

  /** Per-op request latency percentiles (µs) for ops seen so far: duration_<op>_{p50,p95,p99,p999}_us. */
  private latencyLines(lines: [string, string | number][]): void {
    const s = this.core.stats;
    for (let i = 0; i < STAT_OPS.length; i++) {
      const h = s.latency[i];
      if (h === undefined || h.count === 0) continue;
      const op = ProxyStats.opName(i);
      lines.push(
        [`duration_${op}_p50_us`, Math.round(h.percentileUs(0.5))],
        [`duration_${op}_p95_us`, Math.round(h.percentileUs(0.95))],
        [`duration_${op}_p99_us`, Math.round(h.percentileUs(0.99))],
        [`duration_${op}_p999_us`, Math.round(h.percentileUs(0.999))],
      );
    }
  }

  /** Requests in flight on destinations (mcrouter proxy_reqs_processing). */
  private processing(): number {
    let n = 0;
    for (const d of this.core.destinations.all()) n += d.inflightCount();
    return n;
  }

  private serverLines(lines: [string, string | number][]): void {
    for (const d of this.core.destinations.all()) {
      const avg = d.replied === 0 ? 0 : d.latencySumUs / d.replied;
      lines.push([
        d.address,
        `avg_latency_us:${avg.toFixed(3)} pending_reqs:${d.pendingCount()} inflight_reqs:${d.inflightCount()} state:${d.state()} sent:${d.sent} replied:${d.replied} errors:${d.errors} timeouts:${d.timeouts} resets:${d.connectionResets}`,
      ]);
    }
  }

  private suspectLines(lines: [string, string | number][]): void {
    for (const d of this.core.destinations.all()) {
      if (d.isTko()) lines.push([d.address, `status:tko num_failures:${d.tko.consecutiveFailures}`]);
      else if (d.tko.consecutiveFailures > 0) lines.push([d.address, `status:down num_failures:${d.tko.consecutiveFailures}`]);
    }
  }

  /** flush_all: disabled unless --enable-flush-cmd; then sent to every destination in the config. */
  flushAll(args: Buffer, done: (reply: Buffer) => void): void {
    const core = this.core;
    if (!core.options.enableFlushCmd) {
      done(Buffer.from('SERVER_ERROR Command disabled\r\n'));
      return;
    }
    const dests = [...core.active.built.destinations] as UpstreamDestination[];
    if (dests.length === 0) {
      done(Buffer.from('OK\r\n'));
      return;
    }
    const delay = args.toString('latin1').trim().split(/ +/).filter((t) => t !== 'noreply' && t !== '')[0];
    const req = Request.synthesize('flush_all' as Op, Buffer.alloc(0), delay === undefined ? 'flush_all' : `flush_all ${delay}`, '', null, 0);
    let remaining = dests.length;
    let firstError: Reply | null = null;
    for (const d of dests) {
      d.send(req, core.options.serverTimeoutMs, (reply) => {
        if (isErrorResult(reply.result) && firstError === null) firstError = reply;
        if (--remaining === 0) done(firstError === null ? Buffer.from('OK\r\n') : renderError(firstError));
      });
    }
  }
}

const GET_OPS = ['get', 'gets', 'gat', 'gats', 'mg'].map((op) => STAT_OPS.indexOf(op as (typeof STAT_OPS)[number]));
const UPDATE_OPS = ['set', 'add', 'replace', 'append', 'prepend', 'cas', 'ms'].map((op) => STAT_OPS.indexOf(op as (typeof STAT_OPS)[number]));

function avgUs(s: ProxyStats, ops: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const i of ops) {
    sum += s.durationUsSum[i] as number;
    n += s.replied[i] as number;
  }
  return n === 0 ? 0 : sum / n;
}

function toFlagName(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function formatOption(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}:${String(x)}`).join(','); // --config-params
  return String(v);
}
