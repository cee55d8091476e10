/**
 * The Router: the active config and its route tree, the shared destination map (connections, TKO), the
 * route context, the spool, counters and observability, and where the config comes from (file, etcd,
 * config dump, DNS members). It has no client sockets: the sidecar (src/server/) and the embedded API
 * (src/embedded/) are both front ends over one RouterCore.
 *
 * A reload builds the new tree completely, then swaps `root` in one assignment: requests already routed
 * finish on the old tree, new ones take the new.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { buildConfig, type BuiltConfig } from '../config/builder.js';
import { ConfigError } from '../config-error.js';
import { configFilePath, loadConfigSource, type ConfigSource, type ConfigSpec, type FetchedConfig } from '../config/loader.js';
import type { ProxyOptions } from '../options.js';
import type { Reply, Request } from '../protocol/types.js';
import type { BuildOptions } from '../routes/route-factory.js';
import { RouteStats, type RouteContext, type RouteHandle } from '../routes/route-handle.js';
import { DestinationMap, type UpstreamDestination } from '../upstream/upstream-destination.js';
import { ProxyStats } from './router-stats.js';
import { Authorization, compileAuthorization, type AuthorizationPolicy } from './authz.js';
import { RouterRouteContext } from './route-context.js';
import type { ConfigEvent } from '../observe/events.js';
import { anyRequestFeature, Observability, observabilityOptions } from '../observe/observer.js';
import { turnNow } from '../clock.js';
import { TlsStats } from '../tls/tls-stats.js';
import { UpstreamTls } from '../tls/upstream-tls.js';
import { MEMCACHED_PROTOCOL_LEVEL, VERSION } from '../version.js';
import { AsyncLog } from '../spool/asynclog.js';
import { SpoolReplayer } from '../spool/replayer.js';
import { RequestParser } from '../protocol/request-parser.js';
import { collectDiscoverySpecs, specKey, type DiscoverySpec } from '../config/discovery.js';
import { DnsMembers } from '../discovery/dns-members.js';
import { ConfigDump, type DumpedConfig, type DumpOrigin } from '../fleet/config-dump.js';
import { createEtcdClient, etcdAuthOf } from '../fleet/etcd-client.js';
import { EtcdConfigSource } from '../fleet/etcd-config.js';
import { etcdName, isEtcdUrl, parseEtcdUrl, type EtcdUrl } from '../fleet/etcd-url.js';
import { RolloutAgent } from '../fleet/rollout-agent.js';
import type { TrafficSample } from '../fleet/rollout.js';
import { FINE_BUCKETS } from '../metrics/latency-histogram.js';

/** How long a start waits for etcd before it falls back to the config dump, ms. */
const ETCD_START_TIMEOUT_MS = 3000;

export interface ActiveConfig {
  readonly built: BuiltConfig;
  readonly source: ConfigSource;
  readonly loadedAt: number;
  readonly generation: number;
}

function hostIdFromHostname(): number {
  // Stable per host: FNV-1a of the hostname (mcrouter hashes the first non-loopback IP; we have no
  // network to consult here, so the hostname stands in; --host-id overrides).
  let h = 0x811c9dc5;
  const name = os.hostname();
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Where route() delivers a reply. */
export interface ReplySink {
  onReply(reply: Reply): void;
}

/** What a front end hands the router beyond the options. */
export interface RouterDeps {
  /** Keep per-destination instruments and the other observability features even without --admin-port. */
  readonly observe?: boolean;
}

export class RouterCore {
  readonly stats = new ProxyStats();
  readonly routeStats = new RouteStats();
  readonly ctx: RouteContext;
  readonly destinations: DestinationMap;
  /**
   * What `version` answers. Clients such as libmemcached (and memccapable) parse the leading number to
   * decide which protocol features the server has, so it starts with the memcached protocol level mcrelay
   * speaks (1.6.18: classic text plus meta commands), followed by mcrelay's own version.
   */
  readonly versionString = `${MEMCACHED_PROTOCOL_LEVEL} mcrelay-${VERSION}`;
  readonly buildOptions: BuildOptions;
  readonly hostId: number;
  root!: RouteHandle;
  /**
   * Metrics, per-prefix traffic, hot keys, the hot-key cache and /tap (on by default); null only when every
   * per-request feature is switched off and there is no admin listener (then observing a reply costs one
   * null check).
   */
  readonly observability: Observability | null;
  active!: ActiveConfig;
  /** The config's `authorization` policy and its denial counters (router/authz.ts). */
  readonly authz: Authorization;
  /** TLS handshake/reload counters, both sides (tls/tls-stats.ts). */
  readonly tlsStats = new TlsStats();
  /** TLS to servers written `host:port:ascii:ssl` (tls/upstream-tls.ts). */
  readonly upstreamTls: UpstreamTls;
  /** The failed-delete spool (null with --asynclog-disable or without --async-dir) and its replayer. */
  readonly spool: AsyncLog | null = null;
  readonly replayer: SpoolReplayer | null = null;
  /** Members of pools whose servers come from DNS (`{"srv": …}`, `{"dns": …}`), re-resolved on a timer. */
  readonly dnsMembers: DnsMembers;
  private dnsSpecs: readonly DiscoverySpec[] = [];
  private dnsTimer: NodeJS.Timeout | null = null;
  private dnsPending: Promise<void> | null = null;
  /** `--config etcd://…`: the key and its watcher (src/fleet/); null for files and inline configs. */
  readonly etcdUrl: EtcdUrl | null;
  etcdConfig: EtcdConfigSource | null = null;
  /** What loads read in etcd mode: the latest snapshot from etcd (null until etcd first answers). */
  private fetched: FetchedConfig | null = null;
  /** Staged rollouts of an etcd config (`KEY/rollout`, `KEY/status/<host id>`). */
  rollout: RolloutAgent | null = null;
  /** `--config-dump-root` (null = off), and the dump the active config was loaded from, if it was. */
  readonly configDump: ConfigDump | null;
  fromDump: DumpedConfig | null = null;
  private generation = 0;
  private draining = false;

  constructor(
    readonly options: ProxyOptions,
    readonly log: Logger,
    deps: RouterDeps = {},
  ) {
    this.hostId = options.hostId ?? hostIdFromHostname();
    const obsOpts = observabilityOptions(options);
    this.stats.histograms = obsOpts.latencyHistograms;
    this.observability =
      deps.observe === true || options.adminPort !== null || anyRequestFeature(obsOpts) ? new Observability(log, obsOpts) : null;
    this.ctx = new RouterRouteContext(false, this.routeStats, log.child({ subsystem: 'routes' }), this.hostId, {
      maxShadow: options.targetMaxShadowRequests,
      maxAsync: 10_000,
    }, null);
    this.authz = new Authorization(log.child({ subsystem: 'authz' }));
    this.upstreamTls = new UpstreamTls({
      certPath: options.pemCertPath,
      keyPath: options.pemKeyPath,
      caPath: options.pemCaPath,
      verifyPeers: options.sslVerifyPeers,
      serviceIdentity: options.sslServiceIdentity,
      pollMs: options.tlsCertPollMs,
    }, log.child({ subsystem: 'tls' }), this.tlsStats);
    if (options.asyncDir !== null && !options.asynclogDisable) {
      const spoolLog = log.child({ subsystem: 'asynclog' });
      try {
        this.spool = new AsyncLog(options.asyncDir, spoolLog);
      } catch (err) {
        spoolLog.error({ dir: options.asyncDir, err: err instanceof Error ? err.message : String(err) }, 'asynclog: spool directory unusable; failed deletes will not be spooled');
      }
    }
    if (options.maxValueSize > 0) RequestParser.maxValueBytes = options.maxValueSize;
    this.destinations = new DestinationMap({
      connectionsPerDestination: options.connectionsPerDestination,
      tko: {
        timeoutsUntilTko: options.timeoutsUntilTko,
        probeInitialMs: options.probeTimeoutInitialMs,
        probeMaxMs: options.probeTimeoutMaxMs,
        disabled: options.disableTkoTracking,
      },
      keepAlive: options.keepaliveCount > 0,
      keepAliveIdleMs: options.keepaliveIdleSec * 1000,
      maxOutstanding: options.targetMaxPendingRequests,
      maxInflight: options.targetMaxInflightRequests,
      idleResetMs: options.resetInactiveConnectionIntervalMs,
      dnsRefreshMs: options.dnsRefreshIntervalMs,
      spool: this.spool,
      log: log.child({ subsystem: 'upstream' }),
      tls: this.upstreamTls,
    });
    const obs = this.observability;
    if (obs !== null) this.destinations.onCreate = (d, pool) => obs.attach(d, pool.name);
    if (this.spool !== null) {
      this.replayer = new SpoolReplayer(this.spool, {
        log: log.child({ subsystem: 'asynclog' }),
        destinations: this.destinations,
        upstream: this.destinations.options,
        timeoutMs: options.serverTimeoutMs,
        intervalMs: Math.max(1, options.asynclogReplayIntervalMs),
      });
      if (options.asynclogReplayIntervalMs > 0) this.replayer.start();
    }
    this.buildOptions = {
      routePrefix: options.routePrefix,
      serverTimeoutMs: options.serverTimeoutMs,
      hostId: this.hostId,
      sendInvalidRouteToDefault: options.sendInvalidRouteToDefault,
      localZone: options.localZone,
      asynclogDisable: options.asynclogDisable,
      configParams: options.configParams,
      numProxies: options.numProxies,
      bigValueSplitThreshold: options.bigValueSplitThreshold,
    };
    this.dnsMembers = new DnsMembers({ servers: options.dnsServers, log: log.child({ subsystem: 'dns' }) });
    this.etcdUrl = options.configStr === null && options.config !== null && isEtcdUrl(options.config) ? parseEtcdUrl(options.config) : null;
    this.configDump = options.configDumpRoot !== null ? new ConfigDump(options.configDumpRoot, log.child({ subsystem: 'config-dump' })) : null;
  }

  // --- config from etcd, and config dumps (src/fleet/) ---------------------------------------------------

  /**
   * Before the first load of an `etcd://` config: read it (and its imports) and start watching. A put is
   * then reloaded exactly as a changed file is. If etcd does not answer within ETCD_START_TIMEOUT_MS, the
   * first load falls back to the config dump, and etcd's first answer replaces it.
   */
  async fetchConfig(): Promise<void> {
    const url = this.etcdUrl;
    if (url === null || this.etcdConfig !== null) return;
    const client = createEtcdClient(url, etcdAuthOf(this.options));
    const rollout = new RolloutAgent({
      url,
      client,
      globals: this.buildOptions,
      log: this.log.child({ subsystem: 'rollout' }),
      host: {
        hostId: this.hostId,
        serve: (config, reason) => {
          this.fetched = config;
          return this.draining || this.active === undefined ? true : this.reload(reason);
        },
        sample: () => this.trafficSample(),
        active: () => (this.active === undefined ? null : { md5: this.active.source.md5, generation: this.active.generation }),
      },
    });
    this.rollout = rollout;
    this.etcdConfig = new EtcdConfigSource({
      url,
      client,
      globals: this.buildOptions,
      log: this.log.child({ subsystem: 'etcd' }),
      // The stable config: served unless this host runs a rollout's candidate.
      onChange: (config, reason) => rollout.setStable(config, reason),
    });
    this.fetched = await this.etcdConfig.start(ETCD_START_TIMEOUT_MS);
    rollout.start(this.fetched);
  }

  /** Client-visible replies so far (the rollout guard's input): all, errors, and their latency buckets. */
  private trafficSample(): TrafficSample {
    const buckets = new Float64Array(FINE_BUCKETS + 1);
    for (const h of this.stats.latency) for (let i = 0; i < buckets.length; i++) buckets[i] = (buckets[i] as number) + (h.counts[i] ?? 0);
    return { at: Date.now(), requests: this.stats.requestErrors + this.stats.requestSuccess, errors: this.stats.requestErrors, buckets };
  }

  /** Where the config comes from, as config dumps name it; null for inline configs (never dumped). */
  private dumpOrigin(): DumpOrigin | null {
    if (this.etcdUrl !== null) return { kind: 'etcd', key: this.etcdUrl.key, name: etcdName(this.etcdUrl) };
    const path = this.options.configStr === null && this.options.config !== null ? configFilePath(this.options.config) : null;
    return path === null || path === '' ? null : { kind: 'file', path };
  }

  /**
   * Read the config source. The first load, when the source cannot be read (etcd unreachable, a missing key
   * or file), uses the config dump if it is younger than --max-dumped-config-age, and says so at warn
   * (unless `quiet`: the DNS pre-resolution reads it too).
   */
  private readSource(quiet = false): { source: ConfigSource; dump: DumpedConfig | null } {
    try {
      return { source: loadConfigSource(this.configSpec(), process.cwd(), this.buildOptions), dump: null };
    } catch (err) {
      const origin = this.dumpOrigin();
      if (this.active !== undefined || this.configDump === null || origin === null || !(err instanceof ConfigError) || err.code !== 'MCP_ERR_CONFIG_READ') throw err;
      const { dump, why } = this.configDump.load(origin, this.options.maxDumpedConfigAgeSec * 1000);
      if (dump === null) {
        if (!quiet) this.log.warn({ reason: why }, 'config dump not used');
        throw err;
      }
      const source = loadConfigSource({ fetched: dump.fetched }, process.cwd(), this.buildOptions);
      if (!quiet) this.log.warn(
        { err: err.message, dump: dump.file, savedAt: new Date(dump.savedAt).toISOString(), ageS: Math.round((Date.now() - dump.savedAt) / 1000), md5: dump.md5 },
        'config source unreadable at start: serving the dumped config until the source answers',
      );
      return { source, dump };
    }
  }

  /** After a successful load: save it under --config-dump-root, and note when it came from the dump. */
  private afterLoad(source: ConfigSource, dump: DumpedConfig | null): void {
    if (dump === null && this.fromDump !== null) this.log.warn({ config: source.sourcePath, md5: source.md5 }, 'config source answered: no longer serving the dumped config');
    this.fromDump = dump;
    const origin = this.dumpOrigin();
    // A rollout's candidate is not dumped: a start from the dump serves the stable config.
    if (dump === null && origin !== null && this.rollout?.role !== 'candidate') this.configDump?.save(origin, source);
    this.rollout?.publish();
  }

  /** Stop watching etcd and finish writing the config dump. */
  async closeConfigSources(): Promise<void> {
    await this.rollout?.close();
    await this.etcdConfig?.close();
    await this.configDump?.flush();
  }

  // --------------------------------------------------------------------------------------------------------

  /**
   * Resolve the DNS names the config's pools take their servers from, before the first build (the
   * builder only reads the cache). A config that cannot be read is reported by loadConfig, not here.
   */
  async resolveMembers(): Promise<void> {
    let specs: DiscoverySpec[];
    try {
      specs = collectDiscoverySpecs(this.readSource(true).source.data);
    } catch {
      return;
    }
    if (specs.length > 0) await this.dnsMembers.refresh(specs);
  }

  /**
   * After each successful load: re-resolve the config's DNS names every --dns-refresh-interval-ms, and
   * apply a change in a pool's members as a config change (kept destinations keep their connections).
   */
  private watchMembers(specs: readonly DiscoverySpec[]): void {
    this.dnsSpecs = specs;
    if (specs.length === 0 || this.dnsTimer !== null || this.options.dnsRefreshIntervalMs <= 0) return;
    this.dnsTimer = setInterval(() => {
      if (this.dnsPending !== null || this.draining) return;
      this.dnsPending = this.dnsMembers.refresh(this.dnsSpecs).then((changed) => {
        this.dnsPending = null;
        if (changed && !this.draining) this.reload('dns members changed');
      });
    }, this.options.dnsRefreshIntervalMs);
    this.dnsTimer.unref();
  }

  /** A reload named DNS names never resolved: resolve them, then load again. */
  private resolveThenReload(specs: readonly DiscoverySpec[]): void {
    if (this.dnsPending !== null) return;
    this.dnsPending = this.dnsMembers.refresh(specs).then(() => {
      this.dnsPending = null;
      if (this.dnsMembers.hasAll(specs) && !this.draining) this.reload('dns members resolved');
    });
  }

  configSpec(): ConfigSpec {
    if (this.options.configStr !== null) return { configStr: this.options.configStr };
    if (this.etcdUrl !== null) {
      if (this.fetched !== null) return { fetched: this.fetched };
      throw new ConfigError('', `cannot read config from ${etcdName(this.etcdUrl)}: etcd has not answered`, 'MCP_ERR_CONFIG_READ');
    }
    if (this.options.config !== null) return this.options.config;
    throw new ConfigError('', 'no config given (use --config file:PATH)');
  }

  /** Load, validate and build the config; swap it in. Throws ConfigError (the old config stays). */
  loadConfig(): ActiveConfig {
    this.stats.configLastAttempt = Date.now();
    let source: ConfigSource;
    let dump: DumpedConfig | null;
    let built: BuiltConfig;
    let policy: AuthorizationPolicy | null;
    let specs: DiscoverySpec[];
    try {
      ({ source, dump } = this.readSource());
      specs = collectDiscoverySpecs(source.data);
      if (!this.dnsMembers.hasAll(specs)) {
        if (this.active !== undefined) this.resolveThenReload(specs);
        const names = specs.filter((sp) => !this.dnsMembers.hasAll([sp])).map(specKey).join(', ');
        throw new ConfigError('/pools', `no DNS answer yet for ${names}; the config is applied once one comes`, 'MCP_ERR_CONFIG_BAD_SERVER');
      }
      built = buildConfig(source.data, { options: this.buildOptions, destinations: this.destinations, members: this.dnsMembers.lookup });
      policy = compileAuthorization(source.data);
    } catch (err) {
      this.stats.configFailures++;
      this.configEvent({ ok: false, at: Date.now(), generation: this.generation, md5: null, error: err instanceof Error ? err.message : String(err), path: err instanceof ConfigError ? err.path : null });
      throw err;
    }
    for (const warning of built.warnings) this.log.warn({ warning }, 'config option ignored');
    const active: ActiveConfig = { built, source, loadedAt: Date.now(), generation: ++this.generation };
    this.active = active;
    this.authz.activate(policy);
    const cache = this.observability?.cache ?? null;
    this.root = cache === null ? built.root : cache.wrap(built.root);
    this.configEvent({ ok: true, at: active.loadedAt, generation: active.generation, md5: source.md5, error: null, path: null });
    this.stats.configLastSuccess = active.loadedAt;
    const keep = new Set<UpstreamDestination>();
    for (const d of built.destinations) keep.add(d as UpstreamDestination);
    this.destinations.retainOnly(keep, 5_000, this.log);
    this.watchMembers(specs);
    this.afterLoad(source, dump);
    return active;
  }

  /** Reload; on failure log and keep serving the old config. Returns true on success. */
  reload(reason: string): boolean {
    try {
      const a = this.loadConfig();
      this.log.info({ reason, generation: a.generation, md5: a.source.md5 }, 'config reloaded');
      return true;
    } catch (err) {
      const path = err instanceof ConfigError ? err.path : undefined;
      this.log.error({ reason, path, err: err instanceof Error ? err.message : String(err) }, 'Failed to reconfigure');
      return false;
    }
  }

  /**
   * Route one request through the active tree, counting it and reporting its reply to the observers
   * (what the sidecar does for each single-key command). Authorization is the caller's (it knows who asks).
   */
  route(req: Request, cb: (reply: Reply) => void): void {
    this.routeTo(req, { onReply: cb });
  }

  /** As route(), with the reply handed to `sink.onReply` (one object per call instead of a closure). */
  routeTo(req: Request, sink: ReplySink): void {
    const stats = this.stats;
    stats.countOp(req.opSlot());
    stats.requestSent++;
    const started = turnNow();
    this.root.route(req, this.ctx, (reply: Reply) => {
      this.replied(req, reply, turnNow() - started);
      sink.onReply(reply);
    });
  }

  /** Count and observe the reply to a single-key request, `ms` after it was routed (the session's and routeTo's step). */
  replied(req: Request, reply: Reply, ms: number): void {
    this.stats.recordReply(req, reply, ms);
    const obs = this.observability;
    if (obs !== null) obs.onKeyReply(req, reply, ms);
  }

  /**
   * Stop: no more reloads, then close the spool (spooled deletes are acknowledged only once written),
   * the upstream connections, TLS and the config sources. Front ends drain their requests first.
   */
  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    if (this.dnsTimer !== null) clearInterval(this.dnsTimer);
    if (this.replayer !== null) await this.replayer.stop();
    if (this.spool !== null) await this.spool.close();
    this.destinations.closeAll();
    this.upstreamTls.close();
    this.observability?.close();
    await this.closeConfigSources();
  }

  private configEvent(e: ConfigEvent): void {
    this.observability?.onConfigEvent(e);
  }

  /** Files to watch for hot reload. */
  watchedFiles(): readonly string[] {
    // Serving a dumped copy of a file config: watch the file, so its return is a reload.
    const origin = this.fromDump !== null ? this.dumpOrigin() : null;
    if (origin?.kind === 'file') return [origin.path];
    return this.active?.source.files ?? [];
  }
}
