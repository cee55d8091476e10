/**
 * mcrelay's options: a compatible subset of mcrouter's flags (reference mcrouter.md §6), plus a few of our own.
 * Unknown mcrouter flags are collected and logged at warn, as mcrouter does.
 *
 * Everything here comes from one table, {@link OPTION_TABLE}: each entry gives an option's flags, kind,
 * default, help line, environment variable and whether it means anything to an in-process router. The
 * {@link ProxyOptions} type, {@link DEFAULT_OPTIONS}, {@link parseArgs}, {@link usage} and
 * {@link routerOptions} are all derived from it, so they cannot disagree.
 */
import { parseConfigParams } from './config/jsonm.js';
import { nearestKey } from './suggest.js';
import { isEtcdUrl, parseEtcdUrl } from './fleet/etcd-url.js';

/**
 * How an option's value is read from the command line, and so its type: `int` is any integer, `ms` and `sec`
 * are integers in milliseconds and seconds (names end in `Ms` / `Sec`), `list` is comma-separated strings,
 * `ports` comma-separated integers, `params` JSONM constants `name1:v1,name2:v2`, and `bool` a flag that
 * takes no value (`--flag=false` turns it off; a bool that is on by default may have a `--no-flag` alias).
 */
export type OptionKind = 'string' | 'int' | 'ms' | 'sec' | 'bool' | 'list' | 'ports' | 'params';

/** The value type of each kind. */
interface KindValue {
  string: string;
  int: number;
  ms: number;
  sec: number;
  bool: boolean;
  list: string[];
  ports: number[];
  params: Record<string, string>;
}

/** The type of an option of kind `K`; `N` (nullable) adds `null`, which means "unset". */
type ValueOf<K extends OptionKind, N extends boolean> = N extends true ? KindValue[K] | null : KindValue[K];

/** Further flags that set an option, with their own help line and a rewrite of the value given to them. */
export interface OptionAlias {
  readonly flags: readonly [string, ...string[]];
  readonly help: string;
  readonly rewrite: (value: string) => string;
}

/** One entry of {@link OPTION_TABLE}. */
export interface OptionSpec<K extends OptionKind = OptionKind, N extends boolean = boolean, P extends boolean = boolean> {
  /** The flag, mcrouter's spelling first, then its aliases (`-t` ...). */
  readonly flags: readonly [string, ...string[]];
  readonly kind: K;
  /** Whether null ("unset") is a value. */
  readonly nullable: N;
  readonly default: ValueOf<K, N>;
  /** The help line; `{default}` stands for the default value. */
  readonly help: string;
  /** Whether the option means anything to a router embedded in a Node service (no listeners, no workers). */
  readonly inProcess: P;
  /** An environment variable that gives the value when the option is still unset (null) after flags. */
  readonly env?: string;
  /** The values accepted: for strings, the value; for bool flags, the `=value` forms (any of them means on). */
  readonly choices?: readonly string[];
  /** Further flags for this option, listed on their own help line. */
  readonly alias?: OptionAlias;
}

/** What a table entry is written as; `nullable` may be left out (false). */
interface OptionInput<K extends OptionKind, N extends boolean, P extends boolean> {
  readonly flags: readonly [string, ...string[]];
  readonly kind: K;
  readonly nullable?: N;
  readonly default: NoInfer<ValueOf<K, N>>;
  readonly help: string;
  readonly inProcess: P;
  readonly env?: N extends true ? string : never;
  readonly choices?: readonly string[];
  readonly alias?: OptionAlias;
}

/** A table entry, its default type-checked against its kind and nullability; frozen, default included. */
function opt<K extends OptionKind, P extends boolean, N extends boolean = false>(input: OptionInput<K, N, P>): OptionSpec<K, N, P> {
  if (typeof input.default === 'object' && input.default !== null) Object.freeze(input.default);
  return Object.freeze({ ...input, nullable: (input.nullable ?? false) as N }) as OptionSpec<K, N, P>;
}

/** The rewrite of a `--no-…` alias of a bool option: `--no-x` is `--x=false`, and `--no-x=false` is `--x`. */
function negate(value: string): string {
  return value === 'false' ? 'true' : 'false';
}

/**
 * Every option, by its camelCase name, in the order `--help` lists them. `inProcess: false` marks what only the
 * `mcrelay` process uses: its listeners (ports, addresses, TLS listener, client connection limits), its worker
 * processes, `--validate-config` and the SIGTERM drain.
 */
export const OPTION_TABLE = {
  /** `--config file:PATH`, `--config PATH`, `--config '<json>'`, `--config etcd://…`, or inline via `--config-str`. */
  config: opt({
    flags: ['--config'], kind: 'string', nullable: true, default: null, inProcess: true,
    help: 'config: file:PATH, PATH, inline JSON, or etcd://HOST:PORT[,HOST:PORT...]/KEY (read and watched in etcd)',
    alias: { flags: ['--config-file', '-f'], help: 'config file path (deprecated alias of --config file:PATH)', rewrite: (v) => (v.startsWith('file:') ? v : `file:${v}`) },
  }),
  /** Inline JSON config; when set it is used instead of `config`. */
  configStr: opt({ flags: ['--config-str'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'inline JSON config' }),
  /** Listen ports; empty = 11211. */
  ports: opt({ flags: ['--port', '-p'], kind: 'ports', default: [], inProcess: false, help: 'listen port(s), comma separated (default 11211)' }),
  listenAddresses: opt({ flags: ['--listen-addresses'], kind: 'list', default: ['127.0.0.1'], inProcess: false, help: 'listen addresses, comma separated (default {default})' }),
  listenSockFd: opt({ flags: ['--listen-sock-fd'], kind: 'int', nullable: true, default: null, inProcess: false, help: 'listen on an inherited socket fd' }),
  serverTimeoutMs: opt({ flags: ['--server-timeout', '-t'], kind: 'ms', default: 1000, inProcess: true, help: 'upstream reply timeout in ms (default {default})' }),
  enableFlushCmd: opt({ flags: ['--enable-flush-cmd'], kind: 'bool', default: false, inProcess: true, help: 'allow flush_all (sent to every destination)' }),
  /** `--validate-config[=exit|run]`: validate the config, then exit (or, with `=run`, start). */
  validateConfig: opt({ flags: ['--validate-config'], kind: 'bool', default: false, inProcess: false, choices: ['exit', 'run'], help: 'validate the config and exit (0 = valid)' }),
  routePrefix: opt({ flags: ['--route-prefix', '-R'], kind: 'string', default: '/././', inProcess: true, help: 'default routing prefix (default {default})' }),
  sendInvalidRouteToDefault: opt({ flags: ['--send-invalid-route-to-default'], kind: 'bool', default: false, inProcess: true, help: 'route unknown routing prefixes to the default route' }),
  /** `--big-value-split-threshold N`: split values over N bytes into chunks (mcrouter BigValueRoute; 0 = off). */
  bigValueSplitThreshold: opt({ flags: ['--big-value-split-threshold'], kind: 'int', default: 0, inProcess: true, help: 'split values over N bytes into chunks of N across the pool, reassembled on get (mcrouter BigValueRoute; default 0 = off)' }),
  logLevel: opt({ flags: ['--log-level'], kind: 'string', default: 'info', inProcess: true, help: 'trace|debug|info|warn|error|fatal (default {default})' }),
  /** Worker processes sharing the port (also JSONM's `%num-proxies%`). */
  numProxies: opt({ flags: ['--num-proxies'], kind: 'int', default: 1, inProcess: false, help: 'worker processes sharing the port (default {default})' }),
  timeoutsUntilTko: opt({ flags: ['--timeouts-until-tko'], kind: 'int', default: 3, inProcess: true, help: 'consecutive timeouts before soft TKO (default {default})' }),
  probeTimeoutInitialMs: opt({ flags: ['--probe-timeout-initial', '-r'], kind: 'ms', default: 10_000, inProcess: true, help: 'first TKO probe delay in ms (default {default})' }),
  probeTimeoutMaxMs: opt({ flags: ['--probe-timeout-max'], kind: 'ms', default: 60_000, inProcess: true, help: 'max TKO probe delay in ms (default {default})' }),
  disableTkoTracking: opt({ flags: ['--disable-tko-tracking'], kind: 'bool', default: false, inProcess: true, help: 'never mark destinations TKO' }),
  asyncDir: opt({ flags: ['--async-dir', '-a'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'failed-delete spool directory' }),
  asynclogDisable: opt({ flags: ['--asynclog-disable'], kind: 'bool', default: false, inProcess: true, help: 'do not spool failed deletes' }),
  maxClientOutstandingReqs: opt({ flags: ['--max-client-outstanding-reqs'], kind: 'int', default: 1024, inProcess: false, help: 'pause reading a client past this many unanswered requests; each key of a multi-get counts (default {default})' }),
  targetMaxInflightRequests: opt({ flags: ['--target-max-inflight-requests'], kind: 'int', default: 0, inProcess: true, help: 'per-destination in-flight cap (0 = off)' }),
  targetMaxPendingRequests: opt({ flags: ['--target-max-pending-requests'], kind: 'int', default: 100_000, inProcess: true, help: 'per-destination queued cap; beyond it fail fast (default {default})' }),
  targetMaxShadowRequests: opt({ flags: ['--target-max-shadow-requests'], kind: 'int', default: 1000, inProcess: true, help: 'cap on outstanding shadow requests (default {default})' }),
  maxConns: opt({ flags: ['--max-conns'], kind: 'int', default: 0, inProcess: false, help: 'max client connections; past it the longest-idle one is evicted (0 = unlimited)' }),
  /** Accepted for mcrouter compatibility: the spool is always written in AS2.0. */
  useAsynclogVersion2: opt({ flags: ['--use-asynclog-version2'], kind: 'bool', default: false, inProcess: true, help: 'accepted: the spool is always AS2.0' }),
  /** How often the failed-delete spool is replayed, ms (ours; 0 = never replay). */
  asynclogReplayIntervalMs: opt({ flags: ['--asynclog-replay-interval-ms'], kind: 'ms', default: 1000, inProcess: true, help: 'replay the failed-delete spool this often (default 1000; 0 = never)' }),
  /** Close upstream connections idle this long, ms (mcrouter: after at most 2× this). 0 = never. */
  resetInactiveConnectionIntervalMs: opt({ flags: ['--reset-inactive-connection-interval'], kind: 'ms', default: 60_000, inProcess: true, help: 'close idle upstream connections, ms (default 60000; 0 = never)' }),
  /** Close client connections with nothing outstanding and silent this long, ms (ours; 0 = never). */
  idleClientTimeoutMs: opt({ flags: ['--idle-client-timeout-ms'], kind: 'ms', default: 0, inProcess: false, help: 'close idle client connections, ms (default 0 = never)' }),
  /** Largest value accepted from a client, bytes (ours); larger ones get SERVER_ERROR object too large for cache. */
  maxValueSize: opt({ flags: ['--max-value-size'], kind: 'int', default: 64 * 1024 * 1024, inProcess: false, help: 'largest value accepted from clients, bytes (default {default})' }),
  /** TCP keepalive (mcrouter -K/-i/-I), to servers and clients: probe count (0 = keepalive off). */
  keepaliveCount: opt({ flags: ['--keepalive-count', '-K'], kind: 'int', default: 0, inProcess: true, help: 'TCP keepalive probe count (default 0 = keepalive off)' }),
  /** TCP keepalive probe interval, seconds. */
  keepaliveIntervalSec: opt({ flags: ['--keepalive-interval', '-i'], kind: 'sec', default: 60, inProcess: true, help: 'TCP keepalive probe interval, s (default {default}; kernel setting used)' }),
  /** TCP keepalive idle time, seconds. */
  keepaliveIdleSec: opt({ flags: ['--keepalive-idle', '-I'], kind: 'sec', default: 300, inProcess: true, help: 'TCP keepalive idle time, s (default {default})' }),
  /** Re-resolve server hostnames this often, ms (ours; 0 = resolve once). */
  dnsRefreshIntervalMs: opt({ flags: ['--dns-refresh-interval-ms'], kind: 'ms', default: 30_000, inProcess: true, help: 're-resolve server hostnames, ms (default {default}; 0 = once)' }),
  /** `--dns-servers HOST:PORT,...`: resolvers for server names and DNS-discovered pools (default: the system's). */
  dnsServers: opt({ flags: ['--dns-servers'], kind: 'list', default: [], inProcess: true, help: 'DNS servers HOST:PORT for pools whose servers come from DNS ({"srv": …} / {"dns": …}), comma separated (default: the system\'s)' }),
  /** Wait this long after a config file changes before reloading, ms (mcrouter --reconfiguration-delay-ms). */
  reconfigurationDelayMs: opt({ flags: ['--reconfiguration-delay-ms'], kind: 'ms', default: 1000, inProcess: true, help: 'delay before reloading a changed config file, ms (default {default})' }),
  /** On SIGTERM, how long in-flight requests may take before connections are closed, ms (ours). */
  shutdownTimeoutMs: opt({ flags: ['--shutdown-timeout-ms'], kind: 'ms', default: 5000, inProcess: false, help: 'SIGTERM: time allowed for in-flight requests, ms (default {default})' }),
  connectionsPerDestination: opt({ flags: ['--connections-per-destination'], kind: 'int', default: 1, inProcess: true, help: 'pipelined connections per upstream server (default {default})' }),
  /** This host's availability zone (AzAffinityRoute); from the flag, else the environment. */
  localZone: opt({ flags: ['--local-zone'], kind: 'string', nullable: true, default: null, inProcess: true, env: 'MCRELAY_LOCAL_ZONE', help: 'this host\'s availability zone' }),
  /** Host id for LatestRoute/HostIdRoute; null = a hash of the hostname. */
  hostId: opt({ flags: ['--host-id'], kind: 'int', nullable: true, default: null, inProcess: true, help: 'host id for LatestRoute/HostIdRoute (default: hash of hostname)' }),
  /** etcd TLS and auth for `--config etcd://…` (etcdctl's names, prefixed): CA, client cert and key, user and password file. */
  etcdCacert: opt({ flags: ['--etcd-cacert'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'etcd: CA certificate of the etcd servers (PEM; turns TLS on)' }),
  etcdCert: opt({ flags: ['--etcd-cert'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'etcd: client certificate (PEM; with --etcd-key)' }),
  etcdKey: opt({ flags: ['--etcd-key'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'etcd: client private key (PEM)' }),
  etcdUser: opt({ flags: ['--etcd-user'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'etcd: user name (password from --etcd-password-file)' }),
  etcdPasswordFile: opt({ flags: ['--etcd-password-file'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'etcd: file whose first line is the --etcd-user password' }),
  /** `--config-dump-root DIR`: save the last good config there; a start that cannot read its source uses it (null = off). */
  configDumpRoot: opt({ flags: ['--config-dump-root'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'save the last good config here; a start that cannot read its config uses it (default off)' }),
  /** `--max-dumped-config-age S`: a dump older than this is not used, seconds (mcrouter's default 12 h). */
  maxDumpedConfigAgeSec: opt({ flags: ['--max-dumped-config-age'], kind: 'sec', default: 12 * 3600, inProcess: true, help: 'use a config dump only when younger than this, seconds (default {default})' }),
  /** `--config-params name1:v1,name2:v2`: extra JSONM global constants (%name1% ...). */
  configParams: opt({ flags: ['--config-params'], kind: 'params', default: {}, inProcess: true, help: 'JSONM constants for the config: name1:value1,name2:value2' }),
  /** Admin HTTP port (/metrics, /status, /tap ...); null = off. */
  adminPort: opt({ flags: ['--admin-port'], kind: 'int', nullable: true, default: null, inProcess: true, help: 'admin HTTP port (off when unset)' }),
  adminAddress: opt({ flags: ['--admin-address'], kind: 'string', default: '127.0.0.1', inProcess: true, help: 'admin HTTP address (default {default})' }),
  /** `stats` and `get __mcrouter__.*` on the client port: `all`, `loopback` (plaintext loopback clients only) or `off`. */
  adminTextCommands: opt({ flags: ['--admin-text-commands'], kind: 'string', default: 'all', inProcess: false, choices: ['all', 'loopback', 'off'], help: 'stats / __mcrouter__.* on the client port: all|loopback|off (default {default})' }),
  /** `--stats-root DIR`: write mcrouter's stats files there (libmcrouter.mcrouter.<port>.stats, ...); null = off. */
  statsRoot: opt({ flags: ['--stats-root'], kind: 'string', nullable: true, default: null, inProcess: true, help: "write mcrouter's stats files (libmcrouter.mcrouter.<port>.stats, ...) to this directory (default off)" }),
  /** `--stats-logging-interval MS`: how often the stats files are written (mcrouter's default 10 s; 0 = never). */
  statsLoggingIntervalMs: opt({ flags: ['--stats-logging-interval'], kind: 'ms', default: 10_000, inProcess: true, help: 'write the stats files every N ms (default {default}; 0 = never)' }),
  /** Human-readable log lines instead of JSON. */
  logPretty: opt({ flags: ['--log-pretty'], kind: 'bool', default: false, inProcess: true, help: 'human-readable log lines instead of JSON' }),
  /** Log 1 in N requests at debug level (0 = never); only when the level is debug or lower. */
  logSampleRate: opt({ flags: ['--log-sample-rate'], kind: 'int', default: 1000, inProcess: true, help: 'at debug level, log 1 in N requests (0 = never; default {default})' }),
  /**
   * prom-client's full default metrics, with nodejs_gc_duration_seconds: a perf_hooks observer timing every
   * garbage collection, which costs a few % of the CPU at high request rates. Off by default (the process
   * metrics are still there, read at scrape time).
   */
  gcMetrics: opt({ flags: ['--gc-metrics'], kind: 'bool', default: false, inProcess: true, help: 'also export GC durations (nodejs_gc_duration_seconds; a per-GC observer, a few % of CPU at high rates)' }),
  /**
   * Latency histograms: client-observed per op (`stats` percentiles, /metrics) and send-to-reply per destination.
   * On by default; `--latency-histograms=false` or `--no-latency-histograms` turns both off.
   */
  latencyHistograms: opt({
    flags: ['--latency-histograms'], kind: 'bool', default: true, inProcess: true,
    help: 'latency histograms per op and per destination (default on; =false to turn off)',
    alias: { flags: ['--no-latency-histograms'], help: 'turn the latency histograms off', rewrite: negate },
  }),
  /**
   * Per-destination reply instruments: replies by result, the latency histogram and hot keys of each destination
   * (mcrelay_upstream_replies_total, mcrelay_upstream_request_duration_seconds). On by default.
   */
  destinationStats: opt({
    flags: ['--destination-stats'], kind: 'bool', default: true, inProcess: true,
    help: 'per-destination replies by result, latency and hot keys (default on; =false to turn off)',
    alias: { flags: ['--no-destination-stats'], help: 'turn the per-destination reply instruments off', rewrite: negate },
  }),
  /** Per-prefix traffic counters (requests, hits, misses, bytes) for the busiest prefixes. On by default. */
  prefixStats: opt({
    flags: ['--prefix-stats'], kind: 'bool', default: true, inProcess: true,
    help: 'count requests/hits/misses/bytes per key prefix (default on; =false to turn off)',
    alias: { flags: ['--no-prefix-stats'], help: 'turn the per-prefix counters off', rewrite: negate },
  }),
  prefixStatsDelimiter: opt({ flags: ['--prefix-stats-delimiter'], kind: 'string', default: ':', inProcess: true, help: 'key prefix ends at this character (default {default})' }),
  /** Explicit prefixes; when given they replace the delimiter rule. */
  prefixStatsPrefixes: opt({ flags: ['--prefix-stats-prefixes'], kind: 'list', default: [], inProcess: true, help: 'explicit key prefixes, comma separated (replaces the delimiter rule)' }),
  prefixStatsTopN: opt({ flags: ['--prefix-stats-top-n'], kind: 'int', default: 50, inProcess: true, help: 'the busiest N prefixes get their own counters; the rest count as other (default {default})' }),
  /** How often the busiest prefixes are re-ranked, ms (at most; a prefix that drops out folds into `other`). */
  prefixStatsRerankMs: opt({ flags: ['--prefix-stats-rerank-ms'], kind: 'ms', default: 5000, inProcess: true, help: 're-rank the busiest prefixes at most every N ms (at least 100; default {default})' }),
  /** Sampled hot-key detection (space-saving top-K per destination and overall). On by default. */
  hotKeys: opt({
    flags: ['--hot-keys'], kind: 'bool', default: true, inProcess: true,
    help: 'track hot keys, sampled (top-K per destination and overall; default on; =false to turn off)',
    alias: { flags: ['--no-hot-keys'], help: 'turn hot-key tracking off', rewrite: negate },
  }),
  hotKeysCapacity: opt({ flags: ['--hot-keys-capacity'], kind: 'int', default: 100, inProcess: true, help: 'counters per hot-key tracker (default {default})' }),
  hotKeysWindowMs: opt({ flags: ['--hot-keys-window-ms'], kind: 'ms', default: 60_000, inProcess: true, help: 'hot-key sliding window (default {default})' }),
  hotKeysSampleRate: opt({ flags: ['--hot-keys-sample-rate'], kind: 'int', default: 32, inProcess: true, help: 'count 1 in N requests for hot keys (default {default})' }),
  /** Opt-in hot-key cache for keys with these prefixes (empty = off). */
  hotKeysCachePrefixes: opt({ flags: ['--hot-keys-cache-prefixes'], kind: 'list', default: [], inProcess: true, help: 'cache hot keys with these prefixes in the proxy (opt-in; reads may be ttl-stale)' }),
  hotKeysCacheTtlMs: opt({ flags: ['--hot-keys-cache-ttl-ms'], kind: 'ms', default: 1000, inProcess: true, help: 'hot-key cache entry lifetime (default {default})' }),
  hotKeysCacheMaxEntries: opt({ flags: ['--hot-keys-cache-max-entries'], kind: 'int', default: 1000, inProcess: true, help: 'hot-key cache size (default {default})' }),
  /** A key is hot when it has at least this % of the sampled traffic in the window... */
  hotKeysCacheMinSharePct: opt({ flags: ['--hot-keys-cache-min-share-pct'], kind: 'int', default: 1, inProcess: true, help: 'a key is hot at this % of traffic in the window (default {default})' }),
  /** ...and at least this many requests in the window. */
  hotKeysCacheMinCount: opt({ flags: ['--hot-keys-cache-min-count'], kind: 'int', default: 100, inProcess: true, help: 'and at least this many requests in the window (default {default})' }),
  /** /tap may include values (still only when the listener asks `values=1`). */
  tapAllowValues: opt({ flags: ['--tap-allow-values'], kind: 'bool', default: false, inProcess: true, help: 'let /tap?values=1 include values' }),
  /** TLS listener port(s) (`--ssl-port`); empty = no TLS listener. */
  sslPorts: opt({ flags: ['--ssl-port'], kind: 'ports', default: [], inProcess: false, help: 'TLS listen port(s), comma separated (needs --server-pem-cert-path/--server-pem-key-path)' }),
  /** Serve TLS only: no plaintext listener (`--no-plaintext`). */
  noPlaintext: opt({ flags: ['--no-plaintext'], kind: 'bool', default: false, inProcess: false, help: 'no plaintext listener: serve only on --ssl-port' }),
  /** Client-facing TLS: certificate, key, and CA for client certificates (`--server-pem-*-path`). */
  serverPemCertPath: opt({ flags: ['--server-pem-cert-path'], kind: 'string', nullable: true, default: null, inProcess: false, help: 'TLS listener certificate chain (PEM; re-read when it changes)' }),
  serverPemKeyPath: opt({ flags: ['--server-pem-key-path'], kind: 'string', nullable: true, default: null, inProcess: false, help: 'TLS listener private key (PEM; re-read when it changes)' }),
  serverPemCaPath: opt({ flags: ['--server-pem-ca-path'], kind: 'string', nullable: true, default: null, inProcess: false, help: 'CA for client certificates (PEM)' }),
  /** Mutual TLS on `--ssl-port`: clients must present a certificate signed by the CA. */
  sslRequirePeerCerts: opt({ flags: ['--ssl-require-peer-certs'], kind: 'bool', default: false, inProcess: false, help: 'mutual TLS: clients must present a certificate signed by the CA' }),
  /** Upstream TLS (servers `host:port:ascii:ssl`): client certificate, key and CA (`--pem-*-path`). */
  pemCertPath: opt({ flags: ['--pem-cert-path'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'client certificate for TLS to servers (PEM)' }),
  pemKeyPath: opt({ flags: ['--pem-key-path'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'client key for TLS to servers (PEM)' }),
  pemCaPath: opt({ flags: ['--pem-ca-path'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'CA that signs the servers\' certificates (PEM; default: Node\'s roots)' }),
  /** Verify upstream server certificates (default on; `--ssl-verify-peers=false` to turn off). */
  sslVerifyPeers: opt({ flags: ['--ssl-verify-peers'], kind: 'bool', default: true, inProcess: true, help: 'verify servers\' certificates (default on; =false to turn off)' }),
  /** Identity upstream server certificates must carry (URI SAN, DNS SAN or CN); null = the configured host. */
  sslServiceIdentity: opt({ flags: ['--ssl-service-identity'], kind: 'string', nullable: true, default: null, inProcess: true, help: 'identity the servers\' certificates must carry (URI SAN, DNS SAN or CN)' }),
  /** How often certificate/key files are checked for changes, ms (0 = never). */
  tlsCertPollMs: opt({ flags: ['--tls-cert-poll-ms'], kind: 'ms', default: 1000, inProcess: true, help: 'check certificate/key files for changes every N ms (default {default}; 0 = never)' }),
} as const;

type Table = typeof OPTION_TABLE;

/** The camelCase name of every option in {@link OPTION_TABLE}. */
export type OptionName = keyof Table;

/** The value type an entry declares. */
type ValueOfSpec<S> = S extends OptionSpec<infer K, infer N, boolean> ? ValueOf<K, N> : never;

/** Each table entry's value, by name. */
type TableValues = { -readonly [Name in keyof Table]: ValueOfSpec<Table[Name]> };

/** Every option of an mcrelay proxy, as the table declares them. */
export interface ProxyOptions extends TableValues {
  /** Flags we accept for compatibility but do not implement (name → value). */
  ignored: Record<string, string | true>;
}

/** The options that mean something to a router embedded in a Node service (`inProcess: true` in the table). */
export type RouterOptionName = { [Name in keyof Table]: Table[Name]['inProcess'] extends true ? Name : never }[keyof Table];

/** What an embedded router may be given: the in-process options, by camelCase name; the rest default. */
export type RouterOptions = Partial<Pick<ProxyOptions, RouterOptionName>>;

/** An environment to read variables from (`process.env` by default). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The table typed loosely for lookups; the assignment checks every entry is an {@link OptionSpec}. */
const SPECS: Readonly<Record<OptionName, OptionSpec>> = OPTION_TABLE;

/** The table's entries, in order. */
const ENTRIES = Object.entries(SPECS) as [OptionName, OptionSpec][];

/** The in-process option names, in table order. */
const ROUTER_OPTION_NAMES: readonly RouterOptionName[] = ENTRIES.filter(([, s]) => s.inProcess).map(([n]) => n as RouterOptionName);

/** A fresh copy of a default, so that no two option objects share an array or object. */
function copyDefault(v: OptionSpec['default']): OptionSpec['default'] {
  if (Array.isArray(v)) return [...v] as string[] | number[];
  if (v !== null && typeof v === 'object') return { ...v };
  return v;
}

/** A new options object holding every default. */
function defaultOptions(): ProxyOptions {
  const o: Record<string, unknown> = {};
  for (const [name, spec] of ENTRIES) o[name] = copyDefault(spec.default);
  o['ignored'] = {};
  return o as unknown as ProxyOptions;
}

/** Every option at its default (environment variables not applied). */
export const DEFAULT_OPTIONS: ProxyOptions = defaultOptions();

/** A bad command line: unknown positional argument, missing or malformed value. */
export class UsageError extends Error {}

/** A bad {@link routerOptions} argument; `option` is the offending camelCase name. */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

/** What {@link parseArgs} makes of a command line. */
export interface ParsedArgs {
  options: ProxyOptions;
  help: boolean;
  version: boolean;
  /** Unknown flags (logged at warn, ignored). */
  unknown: string[];
}

function parseIntStrict(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`${flag}: expected an integer, got "${v}"`);
  return Number(v);
}

/** `a, b or c`. */
function orList(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Read a (non-bool) value given to `flag` (as typed, for messages) or read from an environment variable. */
function parseValue(flag: string, kind: OptionKind, value: string): unknown {
  switch (kind) {
    case 'string':
      return value;
    case 'int':
    case 'ms':
    case 'sec':
      return parseIntStrict(flag, value);
    case 'list':
      return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'ports':
      return value.split(',').map((s) => parseIntStrict(flag, s.trim()));
    case 'params':
      try {
        return parseConfigParams(value);
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    case 'bool':
      return value !== 'false';
  }
}

/**
 * Fill unset (null) options from the environment variables the table names (`MCRELAY_LOCAL_ZONE` → `localZone`);
 * empty variables count as unset. Both {@link parseArgs} and {@link routerOptions} call it, so the command and
 * the library read the environment alike. Changes `options` in place and returns it.
 */
export function applyEnvironment<T extends ProxyOptions>(options: T, env: Environment = process.env): T {
  const rec = options as unknown as Record<string, unknown>;
  for (const [name, spec] of ENTRIES) {
    if (spec.env === undefined || rec[name] !== null) continue;
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') rec[name] = parseValue(spec.env, spec.kind, raw);
  }
  return options;
}

/** Flag spelling → the option it sets, and the alias rewrite if it is one. */
const BY_FLAG = new Map<string, { name: OptionName; spec: OptionSpec; rewrite: ((v: string) => string) | null }>();
for (const [name, spec] of ENTRIES) {
  for (const f of spec.flags) BY_FLAG.set(f, { name, spec, rewrite: null });
  if (spec.alias !== undefined) for (const f of spec.alias.flags) BY_FLAG.set(f, { name, spec, rewrite: spec.alias.rewrite });
}

/** The first string option holding a value outside its `choices`, as a message. */
function badChoice(options: ProxyOptions, label: (name: OptionName, spec: OptionSpec) => string): { name: OptionName; message: string } | null {
  const rec = options as unknown as Record<string, unknown>;
  for (const [name, spec] of ENTRIES) {
    const v = rec[name];
    if (spec.kind !== 'string' || spec.choices === undefined || typeof v !== 'string' || spec.choices.includes(v)) continue;
    return { name, message: `${label(name, spec)}: expected ${orList(spec.choices)}, got "${v}"` };
  }
  return null;
}

/** Why an `etcd://` config is malformed, or null. */
function badEtcdUrl(options: ProxyOptions): string | null {
  if (options.config === null || !isEtcdUrl(options.config)) return null;
  try {
    parseEtcdUrl(options.config);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Parse argv (without node and script) into options; unset options are then read from `env`
 * ({@link applyEnvironment}). Throws {@link UsageError} on a malformed command line.
 */
export function parseArgs(argv: readonly string[], env: Environment = process.env): ParsedArgs {
  const options = defaultOptions();
  const rec = options as unknown as Record<string, unknown>;
  const unknown: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version' || arg === '-V') {
      version = true;
      continue;
    }
    let name = arg;
    let value: string | null = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    const def = BY_FLAG.get(name);
    if (def === undefined) {
      if (arg.startsWith('-')) {
        unknown.push(arg);
        // mcrouter-style flags usually take a value: swallow a following non-flag token.
        const nextTok = argv[i + 1];
        if (value === null && nextTok !== undefined && !nextTok.startsWith('-')) {
          options.ignored[name] = nextTok;
          i++;
        } else {
          options.ignored[name] = value ?? true;
        }
        continue;
      }
      throw new UsageError(`unexpected argument "${arg}"`);
    }
    const { spec } = def;
    if (spec.kind === 'bool') {
      if (spec.choices !== undefined && value !== null && !spec.choices.includes(value)) {
        throw new UsageError(`${name}: expected ${orList(spec.choices)}`);
      }
      // A bare flag means `=true`; an alias (`--no-x`) rewrites the value it is given.
      const given = value ?? 'true';
      rec[def.name] = (def.rewrite === null ? given : def.rewrite(given)) !== 'false';
      continue;
    }
    if (value === null) {
      const nextTok = argv[i + 1];
      if (nextTok === undefined) throw new UsageError(`${name} needs a value`);
      value = nextTok;
      i++;
    }
    rec[def.name] = parseValue(name, spec.kind, def.rewrite === null ? value : def.rewrite(value));
  }
  const choice = badChoice(options, (_, spec) => spec.flags[0]);
  if (choice !== null) throw new UsageError(choice.message);
  const etcd = badEtcdUrl(options);
  if (etcd !== null) throw new UsageError(`--config: ${etcd}`);
  return { options: applyEnvironment(options, env), help, version, unknown };
}

/** What a value of this kind must be, for messages. */
const KIND_WANTED: Record<OptionKind, string> = {
  string: 'a string',
  int: 'an integer',
  ms: 'an integer (milliseconds)',
  sec: 'an integer (seconds)',
  bool: 'a boolean',
  list: 'an array of strings',
  ports: 'an array of integers',
  params: 'an object of strings',
};

function isKind(kind: OptionKind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'int':
    case 'ms':
    case 'sec':
      return Number.isInteger(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'ports':
      return Array.isArray(v) && v.every((x) => Number.isInteger(x));
    case 'params':
      return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

/** ` (did you mean "x"?)` for a misspelt or flag-spelt name, else ''. */
function nameHint(key: string): string {
  const byFlag = BY_FLAG.get(key) ?? BY_FLAG.get(`--${key}`);
  const guess = byFlag !== undefined && byFlag.spec.inProcess ? byFlag.name : nearestKey(key, ROUTER_OPTION_NAMES);
  return guess === null ? '' : ` (did you mean "${guess}"?)`;
}

/**
 * The options of a router embedded in this process: `partial`'s in-process options, every other option at its
 * default, then unset ones read from `env` ({@link applyEnvironment}), as {@link parseArgs} does. Throws
 * {@link OptionError} naming the key for a name that is not an in-process option (unknown, or one only the
 * `mcrelay` process uses, such as `ports`), for a value of the wrong type, and for a value outside the
 * option's choices. Keys whose value is `undefined` are left at their defaults.
 */
export function routerOptions(partial: RouterOptions = {}, env: Environment = process.env): ProxyOptions {
  const options = defaultOptions();
  const rec = options as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(partial) as [string, unknown][]) {
    const spec: OptionSpec | undefined = Object.hasOwn(SPECS, key) ? SPECS[key as OptionName] : undefined;
    if (spec === undefined) throw new OptionError(key, `routerOptions: unknown option "${key}"${nameHint(key)}`);
    if (!spec.inProcess) {
      throw new OptionError(key, `routerOptions: "${key}" (${spec.flags[0]}) is an option of the mcrelay command only, not of an in-process router`);
    }
    if (value === undefined) continue;
    if (!(value === null ? spec.nullable : isKind(spec.kind, value))) {
      throw new OptionError(key, `routerOptions: "${key}" must be ${KIND_WANTED[spec.kind]}${spec.nullable ? ' or null' : ''}, got ${value === null ? 'null' : typeof value}`);
    }
    rec[key] = value;
  }
  const choice = badChoice(options, (name) => `routerOptions: "${name}"`);
  if (choice !== null) throw new OptionError(choice.name, choice.message);
  const etcd = badEtcdUrl(options);
  if (etcd !== null) throw new OptionError('config', `routerOptions: "config": ${etcd}`);
  return applyEnvironment(options, env);
}

/** How a default reads in a help line. */
function formatDefault(v: OptionSpec['default']): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** An entry's help text as `--help` prints it. */
function helpText(spec: OptionSpec): string {
  const text = spec.help.replace('{default}', () => formatDefault(spec.default));
  return spec.env === undefined ? text : `${text} (or env ${spec.env})`;
}

function usageLine(flags: readonly string[], kind: OptionKind, help: string): string {
  const flag = flags.join(', ') + (kind === 'bool' ? '' : ' VALUE');
  return `  ${flag.padEnd(40)} ${help}`;
}

/** The `--help` text: one line per table entry (and per alias with its own help), in table order. */
export function usage(): string {
  const lines = ['Usage: mcrelay --config file:PATH [-p PORT] [options]', '', 'Options:'];
  for (const [, spec] of ENTRIES) {
    lines.push(usageLine(spec.flags, spec.kind, helpText(spec)));
    if (spec.alias !== undefined) lines.push(usageLine(spec.alias.flags, spec.kind, spec.alias.help));
  }
  lines.push(usageLine(['--help', '-h'], 'bool', 'this help'));
  lines.push(usageLine(['--version', '-V'], 'bool', 'print the version'));
  return lines.join('\n');
}
