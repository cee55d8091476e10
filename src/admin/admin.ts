/**
 * Text-protocol admin: `stats [group]`, `flush_all`, and `get __mcrouter__.<cmd>` (reference mcrouter.md
 * §5.1–5.2). Admin replies are normal VALUE hits; errors come back as the value `ERROR: ...`.
 */
import { ALL_RESULTS, isErrorResult, isRoutableOp, opIndicesWhere, OPS, Reply, Request, type Result } from '../protocol/types.js';
import { Traversal } from '../routes/route-handle.js';
import { flushAllNearCaches, flushAllNearCachesAfter } from '../routes/util/near-cache.js';
import type { DestinationMap, UpstreamDestination } from '../upstream/upstream-destination.js';
import { formatG, RateWindow } from './stat-rates.js';
import { gatherClusterStats, isClusterWorker, serveStatsSnapshots, workerIndex } from '../cluster/cluster.js';
import { md5Hex, StatsFiles } from './stats-files.js';
import fs from 'node:fs';
import { VERSION } from '../version.js';
import { renderError } from '../protocol/error-line.js';
import type { RouterCore } from '../router/router-core.js';
import { ProxyStats } from '../router/router-stats.js';

const END = Buffer.from('END\r\n');
const ADMIN_PREFIX_LEN = '__mcrouter__.'.length;

function valueBlock(key: Buffer, value: string): Buffer {
  const data = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from(`VALUE `, 'latin1'), key, Buffer.from(` 0 ${data.length}\r\n`, 'latin1'), data, Buffer.from('\r\n')]);
}

const DISABLED_STATS = Buffer.from('SERVER_ERROR admin commands disabled for this client\r\n');
const UNKNOWN_STATS = Buffer.from('ERROR\r\n');

export class Admin {
  constructor(
    private readonly core: RouterCore,
    /** How many client connections are open (the front end's). */
    private readonly clientCount: () => number = () => 0,
  ) {
    this.rates = new RateWindow(() => this.rateCounters());
    this.rates.start();
    if (isClusterWorker()) serveStatsSnapshots(() => this.summedSnapshot());
    this.statsFiles = this.startStatsFiles();
  }

  /** `--stats-root`: mcrouter's stats files (one writer: worker 1 under --num-proxies, with the workers' sums). */
  readonly statsFiles: StatsFiles | null;

  private startStatsFiles(): StatsFiles | null {
    const o = this.core.options;
    if (o.statsRoot === null || o.statsLoggingIntervalMs <= 0) return null;
    if (isClusterWorker() && workerIndex() !== 1) return null;
    const port = o.ports[0] ?? (o.listenSockFd !== null ? 0 : 11211);
    const files = new StatsFiles({
      root: o.statsRoot,
      intervalMs: o.statsLoggingIntervalMs,
      prefix: `libmcrouter.mcrouter.${port}`,
      startupOptions: () => {
        const out: Record<string, string> = {};
        for (const line of this.optionLines()) {
          const sp = line.indexOf(' ');
          out[line.slice(0, sp)] = line.slice(sp + 1);
        }
        return out;
      },
      stats: async () => {
        if (this.core.active === undefined) return null;
        const sums = isClusterWorker() && o.numProxies > 1 ? await gatherClusterStats() : null;
        return this.odsValues(sums);
      },
      configSources: () => this.configSourcesInfo(),
      log: this.core.log,
    });
    return files.start() ? files : null;
  }

  private sourcesCache: { generation: number; info: Record<string, unknown> } | null = null;

  /**
   * mcrouter's config_sources_info: the config file and the md5 of its text (`mcrouter_config`), and each
   * imported file's md5 (`config_import`); an inline config only has its md5. Computed once per config generation.
   */
  configSourcesInfo(): Record<string, unknown> | null {
    const active = this.core.active;
    if (active === undefined) return null;
    const c = this.sourcesCache;
    if (c !== null && c.generation === active.generation) return c.info;
    const src = active.source;
    const info: Record<string, unknown> = { mcrouter_config: src.md5 };
    if (src.sourcePath !== null) info['config_file'] = src.sourcePath;
    const imports: Record<string, string> = {};
    for (const f of src.files) {
      if (f === src.sourcePath) continue;
      try {
        imports[f] = md5Hex(fs.readFileSync(f));
      } catch {
        // Gone since the load: left out.
      }
    }
    if (Object.keys(imports).length > 0) info['config_import'] = imports;
    this.sourcesCache = { generation: active.generation, info };
    return info;
  }

  /**
   * mcrouter's `ods_stats` group (stat_list.h), what `stats ods` prints and the stats file holds: gauges and counts
   * as integers, rate stats as per-second doubles. `sums`: the counters summed over --num-proxies workers.
   */
  odsValues(sums: Record<string, number> | null): Record<string, number> {
    const lines: [string, string | number][] = [];
    this.basic(lines);
    this.countLines(lines);
    const all = new Map<string, number>();
    for (const [k, v] of lines) all.set(k, Number(v));
    const rates = this.rates.rates();
    RATE_NAMES.forEach((name, i) => all.set(name, rates[i] as number));
    const out: Record<string, number> = {};
    for (const name of ODS_NAMES) {
      const sum = sums !== null && isSummed(name) ? sums[name] : undefined;
      out[name] = sum ?? all.get(name) ?? 0;
    }
    return out;
  }

  /** This worker's values of the counters summed over workers. */
  private summedSnapshot(): Record<string, number> {
    const lines: [string, string | number][] = [];
    this.basic(lines);
    this.detailed(lines);
    this.countLines(lines);
    const out: Record<string, number> = {};
    for (const [k, v] of lines) if (isSummed(k)) out[k] = Number(v);
    return out;
  }

  /**
   * `stats [group]`, with mcrouter's sums over proxies: with --num-proxies the summed counters are gathered from
   * every worker before `done` is called.
   */
  statsFor(group: string, identity: string, done: (reply: Buffer) => void): void {
    if (!isClusterWorker() || this.core.options.numProxies <= 1 || !SUMMED_GROUPS.has(group) || !this.allowed(identity)) {
      done(this.stats(group, identity));
      return;
    }
    void gatherClusterStats().then((sums) => done(this.stats(group, identity, sums)));
  }

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
        // mcrouter's answer: pretty, key-sorted JSON of each pool the config uses → its members' route names.
        const out: Record<string, string[]> = {};
        const used = core.active.built.poolRoutes;
        for (const poolName of [...used.keys()].sort()) out[poolName] = (used.get(poolName) ?? []).map((r) => r.routeNames[0] ?? r.name);
        return JSON.stringify(out, null, 2);
      }
      case 'hot_keys': {
        const hk = this.core.observability?.hotKeys ?? null;
        if (hk === null) throw new Error('hot-key tracking is off (--no-hot-keys)');
        return JSON.stringify(hk.report(args === null || args === '' ? 20 : Math.max(1, Number(args) || 20)));
      }
      case 'route':
      case 'route_handles': {
        if (args === null) throw new Error(`${name} needs (op,key)`);
        const comma = args.indexOf(',');
        if (comma === -1) throw new Error(`${name} needs (op,key)`);
        const op = args.slice(0, comma).trim();
        const key = args.slice(comma + 1);
        if (!isRoutableOp(op)) throw new Error(`unknown operation: ${op}`);
        const req = Request.synthesize(op, Buffer.from(key, 'utf8'), `${op} `, '', null, 0);
        const t = new Traversal();
        t.visit(core.root, req);
        if (name === 'route') return t.destinations.join('\r\n');
        return t.routeHandlesText();
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
  stats(group: string, identity = 'plaintext-loopback', sums: Record<string, number> | null = null): Buffer {
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
        this.countLines(lines);
        break;
      case 'count':
        this.countLines(lines);
        break;
      case 'ods':
        for (const [k, v] of Object.entries(this.odsValues(null))) lines.push([k, Number.isInteger(v) ? v : formatG(v)]);
        break;
      case 'cmd-error':
      case 'external':
        // Groups mcrouter accepts that hold nothing in an open-source build (no stat is in cmd_error_stats;
        // external stats come from a Meta-internal handler).
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
    for (const [k, v] of lines) {
      const sum = sums !== null && isSummed(k) ? sums[k] : undefined;
      out += `STAT ${k} ${sum === undefined ? v : typeof v === 'string' ? formatG(sum) : sum}\r\n`;
    }
    out += 'END\r\n';
    return Buffer.from(out, 'utf8');
  }

  private basic(lines: [string, string | number][]): void {
    const core = this.core;
    const s = core.stats;
    const mem = process.memoryUsage();
    const ru = process.resourceUsage();
    const dests = core.destinations.all();
    const st = serverStates(dests);
    let opened = 0;
    let closed = 0;
    for (const d of dests) {
      opened += d.connectionsOpened;
      closed += d.connectionsClosed;
    }
    // mcrouter's TKO counters are gauges: destinations soft / hard TKO now, and the most at once.
    const tko = core.destinations.tkoCounters;
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
      // mcrouter's destination states (ProxyDestinationBase::State): never connected, up, failed or lost,
      // closed after being up; the ssl_ ones count TLS destinations only.
      ['num_servers', dests.length],
      ['num_servers_new', st.all.new],
      ['num_servers_up', st.all.up],
      ['num_servers_down', st.all.down],
      ['num_servers_closed', st.all.closed],
      ['num_ssl_servers', st.sslTotal],
      ['num_ssl_servers_new', st.ssl.new],
      ['num_ssl_servers_up', st.ssl.up],
      ['num_ssl_servers_down', st.ssl.down],
      ['num_ssl_servers_closed', st.ssl.closed],
      ['num_suspect_servers', suspectCount(dests)],
      ['num_connections_opened', opened],
      ['num_connections_closed', closed],
      ['num_soft_tko_count', tko.soft],
      ['num_hard_tko_count', tko.hard],
      ['max_num_tko', tko.max],
      ['config_age', Math.floor((Date.now() - core.active.loadedAt) / 1000)],
      ['config_last_attempt', Math.floor(s.configLastAttempt / 1000)],
      ['config_last_success', Math.floor(s.configLastSuccess / 1000)],
      ['config_failures', s.configFailures],
      // mcrouter: 1 while the config serving was read from --config-dump-root rather than its source.
      ['configs_from_disk', core.fromDump !== null ? 1 : 0],
      ['duration_us', Math.round(s.avgDurationUs())],
      ['duration_get_us', Math.round(avgUs(s, GET_OPS))],
      ['duration_update_us', Math.round(avgUs(s, UPDATE_OPS))],
      ['proxy_reqs_processing', this.clientCount() === 0 ? 0 : this.processing()],
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
    let resets = 0;
    for (const d of core.destinations.all()) resets += d.connectionResets;
    lines.push(
      ['num_connection_resets', resets],
      // Pools whose members come from DNS: lookups that failed or came back empty (the members were kept),
      // and lookups that changed a pool's members.
      ['dns_lookup_failures', core.dnsMembers.failures],
      ['dns_member_changes', core.dnsMembers.changes],
      ['shadow_requests_sent', r.shadowSent],
      ['shadow_requests_dropped', r.shadowDropped],
      ['total_client_connections', core.stats.totalClientConnections],
    );
    // mcrouter's rate stats: per second over the last minute, printed with %g.
    const rates = this.rates.rates();
    RATE_NAMES.forEach((name, i) => lines.push([name, formatG(rates[i] as number)]));
    this.latencyLines(lines);
  }

  /** Counters behind the rate stats, in RATE_NAMES order (one copy per second, see RateWindow). */
  private rateCounters(): Float64Array {
    const s = this.core.stats;
    const g = resultGroup(this.core.destinations);
    const out = new Float64Array(RATE_NAMES.length);
    out[0] = s.requestSent;
    out[1] = s.requestErrors;
    out[2] = s.requestSuccess;
    out[3] = s.requestErrors + s.requestSuccess;
    out[4] = s.requestErrors;
    RESULT_GROUP.forEach((name, i) => {
      out[5 + 2 * i] = g[name];
      out[6 + 2 * i] = g[name];
    });
    return out;
  }

  /** Stop the rate sampler and the stats-file writer (the front end is shutting down). */
  close(): void {
    this.rates.stop();
    this.statsFiles?.stop();
  }

  /** Sampled every second from the start (unref'd timer): rates read 0 for the first second. */
  private readonly rates: RateWindow;

  /**
   * mcrouter's `count_stats` group. The result counters count every reply a destination gave (or the `tko` /
   * pending-limit refusal it made instead); mcrelay does not tell shadow copies and failover retries apart
   * there, so `result_X_count` equals `result_X_all_count` (mcrouter leaves those two classes out of the first).
   * The failover-policy and Meta-internal counters mcrelay has no source for read 0.
   */
  private countLines(lines: [string, string | number][]): void {
    const core = this.core;
    const s = core.stats;
    const r = core.routeStats;
    const g = resultGroup(core.destinations);
    lines.push(
      ['rate_limited_log_count', 0],
      ['load_balancer_load_reset_count', 0],
      ['request_sent_count', s.requestSent],
      ['request_error_count', s.requestErrors],
      ['request_success_count', s.requestSuccess],
      ['request_replied_count', s.requestErrors + s.requestSuccess],
    );
    for (const name of RESULT_GROUP) lines.push([`result_${name}_count`, g[name]], [`result_${name}_all_count`, g[name]]);
    lines.push(
      ['failover_num_collisions', 0],
      ['failover_num_failed_domain_collisions', 0],
      ['failover_same_failure_domain', 0],
      ['failover_conditional_count', 0],
      ['failover_policy_result_error', 0],
      ['failover_all_failed_count', r.failoverAllFailed],
      ['failover_policy_tko_error', r.failoverTkoSkipped],
      ['custom_policy_attempts_count', 0],
      ['failover_custom_deadline_exceeded_count', 0],
      ['failover_custom_limit_reached_count', 0],
      ['failover_custom_master_region_count', 0],
      ['failover_custom_master_region_skipped_count', 0],
      ['dest_with_no_failure_domain_count', 0],
      ['failover_custom_db_enabled_region_count', 0],
      ['failover_custom_db_disabled_all_regions_count', 0],
      ['request_deadline_num_copy', 0],
      ['redirected_lease_set_count', 0],
    );
  }

  /** Per-op request latency percentiles (µs) for ops seen so far: duration_<op>_{p50,p95,p99,p999}_us. */
  private latencyLines(lines: [string, string | number][]): void {
    const s = this.core.stats;
    for (let i = 0; i < OPS.length; i++) {
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

  /**
   * mcrouter's `stats servers` (ServerStat::toString), one line per ProxyDestinationKey
   * (`host:port:ascii:plain:notcompressed-<timeout>`): `avg_latency_us:… pending_reqs:… inflight_reqs:…`, then
   * ` hard_tko; ` / ` soft_tko; ` while TKO, the destination's state (` up:1`), and `; <result>:<n> …` for the
   * results it has seen. mcrelay adds ` resets:<n>` (connection resets) after the TKO mark when there were any.
   */
  private serverLines(lines: [string, string | number][]): void {
    for (const d of this.core.destinations.all()) lines.push([d.key, serverLine(d)]);
  }

  /** mcrouter's `stats suspect_servers`: per `host:port` with failures since its last success. */
  private suspectLines(lines: [string, string | number][]): void {
    const seen = new Set<string>();
    for (const d of this.core.destinations.all()) {
      if (seen.has(d.address)) continue;
      seen.add(d.address);
      const n = d.tko.consecutiveFailures;
      if (d.isTko()) lines.push([d.address, `status:tko num_failures:${n}`]);
      else if (n > 0) lines.push([d.address, `status:down num_failures:${n}`]);
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
    const req = Request.synthesize('flush_all', Buffer.alloc(0), delay === undefined ? 'flush_all' : `flush_all ${delay}`, '', null, 0);
    // In-process caches (LocalCacheRoute, hot-key cache) drop everything now, when the flush is answered,
    // and when a delayed flush takes effect.
    flushAllNearCaches();
    if (delay !== undefined) flushAllNearCachesAfter(Number(delay));
    let remaining = dests.length;
    let firstError: Reply | null = null;
    for (const d of dests) {
      d.send(req, core.options.serverTimeoutMs, (reply) => {
        if (isErrorResult(reply.result) && firstError === null) firstError = reply;
        if (--remaining === 0) {
          flushAllNearCaches();
          done(firstError === null ? Buffer.from('OK\r\n') : renderError(firstError));
        }
      });
    }
  }
}

/**
 * The `ods_stats` group of mcrouter's stat_list.h that mcrelay has values for (the Meta-internal ones read 0 in
 * the stats file as in `stats ods`: axon, distribution, fibers, prefix ACLs are not listed).
 */
const ODS_NAMES: readonly string[] = [
  'uptime', 'num_client_connections',
  'num_servers', 'num_servers_new', 'num_servers_up', 'num_servers_down', 'num_servers_closed',
  'num_ssl_servers', 'num_ssl_servers_new', 'num_ssl_servers_up', 'num_ssl_servers_down', 'num_ssl_servers_closed',
  'num_suspect_servers', 'num_connections_opened', 'num_connections_closed', 'num_soft_tko_count', 'num_hard_tko_count',
  'ps_rss', 'num_proxies', 'proxy_reqs_processing', 'proxy_reqs_waiting',
  'rate_limited_log_count', 'load_balancer_load_reset_count',
  'request_sent', 'request_error', 'request_success', 'request_replied', 'failover_all', 'failover_all_failed',
  'failover_rate_limited',
  ...['error', 'connect_error', 'connect_timeout', 'data_timeout', 'busy', 'tko', 'client_error', 'local_error', 'remote_error', 'deadline_exceeded_error'].flatMap((n) => [
    `result_${n}_count`, `result_${n}_all_count`,
  ]),
  'failover_all_failed_count', 'failover_policy_tko_error',
  'final_result_error',
  ...['error', 'connect_error', 'connect_timeout', 'data_timeout', 'busy', 'tko', 'client_error', 'local_error', 'remote_error', 'deadline_exceeded_error'].flatMap((n) => [
    `result_${n}`, `result_${n}_all`,
  ]),
  'max_num_tko', 'duration_us', 'duration_get_us', 'duration_update_us',
  'config_age', 'config_last_attempt', 'config_last_success', 'config_failures', 'configs_from_disk',
];

/** Groups whose counters are summed over --num-proxies workers. */
const SUMMED_GROUPS: ReadonlySet<string> = new Set(['', 'detailed', 'all', 'count', 'ods']);

/** The counters mcrouter aggregates over its proxies (a worker here); gauges of shared state (TKO) are not. */
function isSummed(name: string): boolean {
  return /^(num_(ssl_)?servers(_new|_up|_down|_closed)?|num_client_connections|num_connections_(opened|closed)|num_connection_resets|total_client_connections|proxy_reqs_processing|request_\w+|final_result_error|result_\w+|cmd_\w+_count|failover_\w+|dev_null_requests|asynclog_requests|shadow_requests_\w+)$/.test(name);
}

/** mcrouter's result group, `result_<name>[_all][_count]`. */
const RESULT_GROUP = [
  'error', 'connect_error', 'connect_timeout', 'data_timeout', 'busy', 'tko', 'client_error', 'local_error', 'remote_error',
  'deadline_exceeded_error',
] as const;
type ResultGroupName = (typeof RESULT_GROUP)[number];

/** The rate stats of `stats detailed`, in the order rateCounters fills them. */
const RATE_NAMES: readonly string[] = [
  'request_sent', 'request_error', 'request_success', 'request_replied', 'final_result_error',
  ...RESULT_GROUP.flatMap((n) => [`result_${n}`, `result_${n}_all`]),
];

/** Result → ALL_RESULTS position. */
const RI = new Map<Result, number>(ALL_RESULTS.map((r, i) => [r, i]));
/** carbon's result order, for the `; <result>:<n>` part of `stats servers`. */
const SERVER_RESULT_ORDER: readonly Result[] = [
  'deleted', 'touched', 'found', 'notfound', 'stored', 'ok', 'notstored', 'exists', 'timeout', 'connect_timeout', 'connect_error',
  'busy', 'try_again', 'shutdown', 'tko', 'bad_key', 'client_error', 'local_error', 'remote_error', 'deadline_exceeded',
  'permission_denied',
];

/** The result group from every destination's counts, plus those of destinations removed from the config. */
function resultGroup(map: DestinationMap): Record<ResultGroupName, number> {
  const sum = Float64Array.from(map.retired.results);
  let tko = map.retired.tkoReplies;
  let rejected = map.retired.rejectedPending;
  for (const d of map.all()) {
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (d.results[i] as number);
    tko += d.tkoReplies;
    rejected += d.rejectedPending;
  }
  const of = (r: Result): number => sum[RI.get(r) as number] as number;
  let errors = tko + rejected;
  for (const r of ALL_RESULTS) if (isErrorResult(r)) errors += of(r);
  return {
    error: errors,
    connect_error: of('connect_error'),
    connect_timeout: of('connect_timeout'),
    data_timeout: of('timeout'),
    busy: of('busy') + of('try_again'),
    tko,
    client_error: of('client_error') + of('bad_key'),
    local_error: of('local_error') + rejected,
    remote_error: of('remote_error'),
    deadline_exceeded_error: of('deadline_exceeded'),
  };
}

function serverLine(d: UpstreamDestination): string {
  const avg = d.replied === 0 ? 0 : d.latencySumUs / d.replied;
  let v = `avg_latency_us:${avg.toFixed(3)} pending_reqs:${d.pendingCount()} inflight_reqs:${d.inflightCount()}`;
  const t = d.tko.state;
  if (t === 'hard_tko') v += ' hard_tko; ';
  else if (t === 'soft_tko') v += ' soft_tko; ';
  if (d.connectionResets > 0) v += ` resets:${d.connectionResets}`;
  v += ` ${d.connState}:1`;
  let first = true;
  for (const r of SERVER_RESULT_ORDER) {
    const n = d.results[RI.get(r) as number] as number;
    if (n > 0) {
      v += `${first ? ';' : ''} ${r}:${n}`;
      first = false;
    }
  }
  return v;
}

interface StateCounts {
  new: number;
  up: number;
  down: number;
  closed: number;
}

function serverStates(dests: readonly UpstreamDestination[]): { all: StateCounts; ssl: StateCounts; sslTotal: number } {
  const all: StateCounts = { new: 0, up: 0, down: 0, closed: 0 };
  const ssl: StateCounts = { new: 0, up: 0, down: 0, closed: 0 };
  let sslTotal = 0;
  for (const d of dests) {
    all[d.connState]++;
    if (d.server.security === 'ssl') {
      ssl[d.connState]++;
      sslTotal++;
    }
  }
  return { all, ssl, sslTotal };
}

/** `host:port`s with failures since their last success (mcrouter counts trackers, not destinations). */
function suspectCount(dests: readonly UpstreamDestination[]): number {
  const seen = new Set<string>();
  for (const d of dests) if (d.tko.consecutiveFailures > 0) seen.add(d.address);
  return seen.size;
}

/** Counter indices of the ops duration_get_us and duration_update_us average over. */
const GET_OPS = opIndicesWhere((o) => o.durationStat === 'get');
const UPDATE_OPS = opIndicesWhere((o) => o.durationStat === 'update');

function avgUs(s: ProxyStats, ops: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const i of ops) {
    sum += s.durationUsAt(i);
    n += s.repliedAt(i);
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
