/**
 * mcrelay's command-line options: a compatible subset of mcrouter's flags (reference mcrouter.md §6),
 * plus a few of our own. Unknown mcrouter flags are collected and logged at warn, as mcrouter does.
 */
import { parseConfigParams } from './config/jsonm.js';
import { isEtcdUrl, parseEtcdUrl } from './fleet/etcd-url.js';

export interface ProxyOptions {
  /** `--config file:PATH`, `--config PATH`, `--config '<json>'`, or inline via `--config-str`. */
  config: string | null;
  configStr: string | null;
  ports: number[];
  listenAddresses: string[];
  listenSockFd: number | null;
  serverTimeoutMs: number;
  enableFlushCmd: boolean;
  validateConfig: boolean;
  routePrefix: string;
  sendInvalidRouteToDefault: boolean;
  /** `--big-value-split-threshold N`: split values over N bytes into chunks (mcrouter BigValueRoute; 0 = off). */
  bigValueSplitThreshold: number;
  logLevel: string;
  numProxies: number;
  timeoutsUntilTko: number;
  probeTimeoutInitialMs: number;
  probeTimeoutMaxMs: number;
  disableTkoTracking: boolean;
  asyncDir: string | null;
  asynclogDisable: boolean;
  maxClientOutstandingReqs: number;
  targetMaxInflightRequests: number;
  targetMaxPendingRequests: number;
  targetMaxShadowRequests: number;
  maxConns: number;
  connectionsPerDestination: number;
  localZone: string | null;
  hostId: number | null;
  /** `--config-params name1:v1,name2:v2`: extra JSONM global constants (%name1% ...). */
  configParams: Record<string, string>;
  adminPort: number | null;
  adminAddress: string;
  /** `stats` and `get __mcrouter__.*` on the client port: `all`, `loopback` (plaintext loopback clients only) or `off`. */
  adminTextCommands: string;
  /** `--stats-root DIR`: write mcrouter's stats files there (libmcrouter.mcrouter.<port>.stats, ...); null = off. */
  statsRoot: string | null;
  /** `--stats-logging-interval MS`: how often the stats files are written (mcrouter's default 10 s; 0 = never). */
  statsLoggingIntervalMs: number;
  /** Human-readable log lines instead of JSON. */
  logPretty: boolean;
  /** Log 1 in N requests at debug level (0 = never); only when the level is debug or lower. */
  logSampleRate: number;
  /** Per-prefix traffic counters (requests, hits, misses, bytes). */
  prefixStats: boolean;
  prefixStatsDelimiter: string;
  /** Explicit prefixes; when given they replace the delimiter rule. */
  prefixStatsPrefixes: string[];
  prefixStatsTopN: number;
  /** Hot-key detection (space-saving top-K per destination and overall). */
  hotKeys: boolean;
  hotKeysCapacity: number;
  hotKeysWindowMs: number;
  hotKeysSampleRate: number;
  /** Opt-in hot-key cache for keys with these prefixes (empty = off). */
  hotKeysCachePrefixes: string[];
  hotKeysCacheTtlMs: number;
  hotKeysCacheMaxEntries: number;
  /** A key is hot when it has at least this % of the sampled traffic in the window... */
  hotKeysCacheMinSharePct: number;
  /** ...and at least this many requests in the window. */
  hotKeysCacheMinCount: number;
  /** /tap may include values (still only when the listener asks `values=1`). */
  tapAllowValues: boolean;
  /** TLS listener port(s) (`--ssl-port`); empty = no TLS listener. */
  sslPorts: number[];
  /** Serve TLS only: no plaintext listener (`--no-plaintext`). */
  noPlaintext: boolean;
  /** Client-facing TLS: certificate, key, and CA for client certificates (`--server-pem-*-path`). */
  serverPemCertPath: string | null;
  serverPemKeyPath: string | null;
  serverPemCaPath: string | null;
  /** Mutual TLS on `--ssl-port`: clients must present a certificate signed by the CA. */
  sslRequirePeerCerts: boolean;
  /** Upstream TLS (servers `host:port:ascii:ssl`): client certificate, key and CA (`--pem-*-path`). */
  pemCertPath: string | null;
  pemKeyPath: string | null;
  pemCaPath: string | null;
  /** Verify upstream server certificates (default on; `--ssl-verify-peers=false` to turn off). */
  sslVerifyPeers: boolean;
  /** Identity upstream server certificates must carry (URI SAN, DNS SAN or CN); null = the configured host. */
  sslServiceIdentity: string | null;
  /** How often certificate/key files are checked for changes, ms (0 = never). */
  tlsCertPollMs: number;
  /** Accepted for mcrouter compatibility: the spool is always written in AS2.0. */
  useAsynclogVersion2: boolean;
  /** How often the failed-delete spool is replayed, ms (ours; 0 = never replay). */
  asynclogReplayIntervalMs: number;
  /** Close upstream connections idle this long, ms (mcrouter: after at most 2× this). 0 = never. */
  resetInactiveConnectionIntervalMs: number;
  /** Close client connections with nothing outstanding and silent this long, ms (ours; 0 = never). */
  idleClientTimeoutMs: number;
  /** Largest value accepted from a client, bytes (ours); larger ones get SERVER_ERROR object too large for cache. */
  maxValueSize: number;
  /** TCP keepalive (mcrouter -K/-i/-I): probe count (0 = keepalive off), interval and idle time in seconds. */
  keepaliveCount: number;
  keepaliveIntervalSec: number;
  keepaliveIdleSec: number;
  /** Re-resolve server hostnames this often, ms (ours; 0 = resolve once). */
  dnsRefreshIntervalMs: number;
  /** `--dns-servers HOST:PORT,...`: resolvers for server names and DNS-discovered pools (default: the system's). */
  dnsServers: string[];
  /** Wait this long after a config file changes before reloading, ms (mcrouter --reconfiguration-delay-ms). */
  reconfigurationDelayMs: number;
  /** On SIGTERM, how long in-flight requests may take before connections are closed, ms (ours). */
  shutdownTimeoutMs: number;
  /** etcd TLS and auth for `--config etcd://…` (etcdctl's names, prefixed): CA, client cert and key, user and password file. */
  etcdCacert: string | null;
  etcdCert: string | null;
  etcdKey: string | null;
  etcdUser: string | null;
  etcdPasswordFile: string | null;
  /** `--config-dump-root DIR`: save the last good config there; a start that cannot read its source uses it (null = off). */
  configDumpRoot: string | null;
  /** `--max-dumped-config-age S`: a dump older than this is not used, seconds (mcrouter's default 12 h). */
  maxDumpedConfigAgeSec: number;
  /** Flags we accept for compatibility but do not implement (name → value). */
  ignored: Record<string, string | true>;
}

export const DEFAULT_OPTIONS: ProxyOptions = {
  config: null,
  configStr: null,
  ports: [],
  listenAddresses: ['127.0.0.1'],
  listenSockFd: null,
  serverTimeoutMs: 1000,
  enableFlushCmd: false,
  validateConfig: false,
  routePrefix: '/././',
  sendInvalidRouteToDefault: false,
  bigValueSplitThreshold: 0,
  logLevel: 'info',
  numProxies: 1,
  timeoutsUntilTko: 3,
  probeTimeoutInitialMs: 10_000,
  probeTimeoutMaxMs: 60_000,
  disableTkoTracking: false,
  asyncDir: null,
  asynclogDisable: false,
  maxClientOutstandingReqs: 1024,
  targetMaxInflightRequests: 0,
  targetMaxPendingRequests: 100_000,
  targetMaxShadowRequests: 1000,
  maxConns: 0,
  connectionsPerDestination: 1,
  localZone: null,
  hostId: null,
  configParams: {},
  adminPort: null,
  adminAddress: '127.0.0.1',
  adminTextCommands: 'all',
  statsRoot: null,
  statsLoggingIntervalMs: 10_000,
  logPretty: false,
  logSampleRate: 1000,
  prefixStats: false,
  prefixStatsDelimiter: ':',
  prefixStatsPrefixes: [],
  prefixStatsTopN: 50,
  hotKeys: false,
  hotKeysCapacity: 100,
  hotKeysWindowMs: 60_000,
  hotKeysSampleRate: 8,
  hotKeysCachePrefixes: [],
  hotKeysCacheTtlMs: 1000,
  hotKeysCacheMaxEntries: 1000,
  hotKeysCacheMinSharePct: 1,
  hotKeysCacheMinCount: 100,
  tapAllowValues: false,
  sslPorts: [],
  noPlaintext: false,
  serverPemCertPath: null,
  serverPemKeyPath: null,
  serverPemCaPath: null,
  sslRequirePeerCerts: false,
  pemCertPath: null,
  pemKeyPath: null,
  pemCaPath: null,
  sslVerifyPeers: true,
  sslServiceIdentity: null,
  tlsCertPollMs: 1000,
  useAsynclogVersion2: false,
  asynclogReplayIntervalMs: 1000,
  resetInactiveConnectionIntervalMs: 60_000,
  idleClientTimeoutMs: 0,
  maxValueSize: 64 * 1024 * 1024,
  keepaliveCount: 0,
  keepaliveIntervalSec: 60,
  keepaliveIdleSec: 300,
  dnsRefreshIntervalMs: 30_000,
  dnsServers: [],
  reconfigurationDelayMs: 1000,
  shutdownTimeoutMs: 5000,
  etcdCacert: null,
  etcdCert: null,
  etcdKey: null,
  etcdUser: null,
  etcdPasswordFile: null,
  configDumpRoot: null,
  maxDumpedConfigAgeSec: 12 * 3600,
  ignored: {},
};

type Kind = 'string' | 'int' | 'bool' | 'list' | 'ports' | 'params';

interface FlagDef {
  names: string[];
  key: keyof ProxyOptions;
  kind: Kind;
  help: string;
}

const FLAGS: FlagDef[] = [
  { names: ['--config'], key: 'config', kind: 'string', help: 'config: file:PATH, PATH, inline JSON, or etcd://HOST:PORT[,HOST:PORT...]/KEY (read and watched in etcd)' },
  { names: ['--config-file', '-f'], key: 'config', kind: 'string', help: 'config file path (deprecated alias of --config file:PATH)' },
  { names: ['--config-str'], key: 'configStr', kind: 'string', help: 'inline JSON config' },
  { names: ['--port', '-p'], key: 'ports', kind: 'ports', help: 'listen port(s), comma separated (default 11211)' },
  { names: ['--listen-addresses'], key: 'listenAddresses', kind: 'list', help: 'listen addresses, comma separated (default 127.0.0.1)' },
  { names: ['--listen-sock-fd'], key: 'listenSockFd', kind: 'int', help: 'listen on an inherited socket fd' },
  { names: ['--server-timeout', '-t'], key: 'serverTimeoutMs', kind: 'int', help: 'upstream reply timeout in ms (default 1000)' },
  { names: ['--enable-flush-cmd'], key: 'enableFlushCmd', kind: 'bool', help: 'allow flush_all (sent to every destination)' },
  { names: ['--validate-config'], key: 'validateConfig', kind: 'bool', help: 'validate the config and exit (0 = valid)' },
  { names: ['--route-prefix', '-R'], key: 'routePrefix', kind: 'string', help: 'default routing prefix (default /././)' },
  { names: ['--send-invalid-route-to-default'], key: 'sendInvalidRouteToDefault', kind: 'bool', help: 'route unknown routing prefixes to the default route' },
  { names: ['--big-value-split-threshold'], key: 'bigValueSplitThreshold', kind: 'int', help: 'split values over N bytes into chunks of N across the pool, reassembled on get (mcrouter BigValueRoute; default 0 = off)' },
  { names: ['--log-level'], key: 'logLevel', kind: 'string', help: 'trace|debug|info|warn|error|fatal (default info)' },
  { names: ['--num-proxies'], key: 'numProxies', kind: 'int', help: 'worker processes sharing the port (default 1)' },
  { names: ['--timeouts-until-tko'], key: 'timeoutsUntilTko', kind: 'int', help: 'consecutive timeouts before soft TKO (default 3)' },
  { names: ['--probe-timeout-initial', '-r'], key: 'probeTimeoutInitialMs', kind: 'int', help: 'first TKO probe delay in ms (default 10000)' },
  { names: ['--probe-timeout-max'], key: 'probeTimeoutMaxMs', kind: 'int', help: 'max TKO probe delay in ms (default 60000)' },
  { names: ['--disable-tko-tracking'], key: 'disableTkoTracking', kind: 'bool', help: 'never mark destinations TKO' },
  { names: ['--async-dir', '-a'], key: 'asyncDir', kind: 'string', help: 'failed-delete spool directory' },
  { names: ['--asynclog-disable'], key: 'asynclogDisable', kind: 'bool', help: 'do not spool failed deletes' },
  { names: ['--max-client-outstanding-reqs'], key: 'maxClientOutstandingReqs', kind: 'int', help: 'pause reading a client past this many unanswered requests; each key of a multi-get counts (default 1024)' },
  { names: ['--target-max-inflight-requests'], key: 'targetMaxInflightRequests', kind: 'int', help: 'per-destination in-flight cap (0 = off)' },
  { names: ['--target-max-pending-requests'], key: 'targetMaxPendingRequests', kind: 'int', help: 'per-destination queued cap; beyond it fail fast (default 100000)' },
  { names: ['--target-max-shadow-requests'], key: 'targetMaxShadowRequests', kind: 'int', help: 'cap on outstanding shadow requests (default 1000)' },
  { names: ['--max-conns'], key: 'maxConns', kind: 'int', help: 'max client connections; past it the longest-idle one is evicted (0 = unlimited)' },
  { names: ['--use-asynclog-version2'], key: 'useAsynclogVersion2', kind: 'bool', help: 'accepted: the spool is always AS2.0' },
  { names: ['--asynclog-replay-interval-ms'], key: 'asynclogReplayIntervalMs', kind: 'int', help: 'replay the failed-delete spool this often (default 1000; 0 = never)' },
  { names: ['--reset-inactive-connection-interval'], key: 'resetInactiveConnectionIntervalMs', kind: 'int', help: 'close idle upstream connections, ms (default 60000; 0 = never)' },
  { names: ['--idle-client-timeout-ms'], key: 'idleClientTimeoutMs', kind: 'int', help: 'close idle client connections, ms (default 0 = never)' },
  { names: ['--max-value-size'], key: 'maxValueSize', kind: 'int', help: 'largest value accepted from clients, bytes (default 67108864)' },
  { names: ['--keepalive-count', '-K'], key: 'keepaliveCount', kind: 'int', help: 'TCP keepalive probe count (default 0 = keepalive off)' },
  { names: ['--keepalive-interval', '-i'], key: 'keepaliveIntervalSec', kind: 'int', help: 'TCP keepalive probe interval, s (default 60; kernel setting used)' },
  { names: ['--keepalive-idle', '-I'], key: 'keepaliveIdleSec', kind: 'int', help: 'TCP keepalive idle time, s (default 300)' },
  { names: ['--dns-refresh-interval-ms'], key: 'dnsRefreshIntervalMs', kind: 'int', help: 're-resolve server hostnames, ms (default 30000; 0 = once)' },
  { names: ['--dns-servers'], key: 'dnsServers', kind: 'list', help: 'DNS servers HOST:PORT for pools whose servers come from DNS ({"srv": …} / {"dns": …}), comma separated (default: the system\'s)' },
  { names: ['--reconfiguration-delay-ms'], key: 'reconfigurationDelayMs', kind: 'int', help: 'delay before reloading a changed config file, ms (default 1000)' },
  { names: ['--shutdown-timeout-ms'], key: 'shutdownTimeoutMs', kind: 'int', help: 'SIGTERM: time allowed for in-flight requests, ms (default 5000)' },
  { names: ['--connections-per-destination'], key: 'connectionsPerDestination', kind: 'int', help: 'pipelined connections per upstream server (default 1)' },
  { names: ['--local-zone'], key: 'localZone', kind: 'string', help: 'this host\'s availability zone (or env MCRELAY_LOCAL_ZONE)' },
  { names: ['--host-id'], key: 'hostId', kind: 'int', help: 'host id for LatestRoute/HostIdRoute (default: hash of hostname)' },
  { names: ['--etcd-cacert'], key: 'etcdCacert', kind: 'string', help: 'etcd: CA certificate of the etcd servers (PEM; turns TLS on)' },
  { names: ['--etcd-cert'], key: 'etcdCert', kind: 'string', help: 'etcd: client certificate (PEM; with --etcd-key)' },
  { names: ['--etcd-key'], key: 'etcdKey', kind: 'string', help: 'etcd: client private key (PEM)' },
  { names: ['--etcd-user'], key: 'etcdUser', kind: 'string', help: 'etcd: user name (password from --etcd-password-file)' },
  { names: ['--etcd-password-file'], key: 'etcdPasswordFile', kind: 'string', help: 'etcd: file whose first line is the --etcd-user password' },
  { names: ['--config-dump-root'], key: 'configDumpRoot', kind: 'string', help: 'save the last good config here; a start that cannot read its config uses it (default off)' },
  { names: ['--max-dumped-config-age'], key: 'maxDumpedConfigAgeSec', kind: 'int', help: 'use a config dump only when younger than this, seconds (default 43200)' },
  { names: ['--config-params'], key: 'configParams', kind: 'params', help: 'JSONM constants for the config: name1:value1,name2:value2' },
  { names: ['--admin-port'], key: 'adminPort', kind: 'int', help: 'admin HTTP port (off when unset)' },
  { names: ['--admin-address'], key: 'adminAddress', kind: 'string', help: 'admin HTTP address (default 127.0.0.1)' },
  { names: ['--admin-text-commands'], key: 'adminTextCommands', kind: 'string', help: 'stats / __mcrouter__.* on the client port: all|loopback|off (default all)' },
  { names: ['--stats-root'], key: 'statsRoot', kind: 'string', help: "write mcrouter's stats files (libmcrouter.mcrouter.<port>.stats, ...) to this directory (default off)" },
  { names: ['--stats-logging-interval'], key: 'statsLoggingIntervalMs', kind: 'int', help: 'write the stats files every N ms (default 10000; 0 = never)' },
  { names: ['--log-pretty'], key: 'logPretty', kind: 'bool', help: 'human-readable log lines instead of JSON' },
  { names: ['--log-sample-rate'], key: 'logSampleRate', kind: 'int', help: 'at debug level, log 1 in N requests (0 = never; default 1000)' },
  { names: ['--prefix-stats'], key: 'prefixStats', kind: 'bool', help: 'count requests/hits/misses/bytes per key prefix' },
  { names: ['--prefix-stats-delimiter'], key: 'prefixStatsDelimiter', kind: 'string', help: 'key prefix ends at this character (default :)' },
  { names: ['--prefix-stats-prefixes'], key: 'prefixStatsPrefixes', kind: 'list', help: 'explicit key prefixes, comma separated (replaces the delimiter rule)' },
  { names: ['--prefix-stats-top-n'], key: 'prefixStatsTopN', kind: 'int', help: 'distinct prefixes tracked; the rest count as other (default 50)' },
  { names: ['--hot-keys'], key: 'hotKeys', kind: 'bool', help: 'track hot keys (top-K per destination and overall)' },
  { names: ['--hot-keys-capacity'], key: 'hotKeysCapacity', kind: 'int', help: 'counters per hot-key tracker (default 100)' },
  { names: ['--hot-keys-window-ms'], key: 'hotKeysWindowMs', kind: 'int', help: 'hot-key sliding window (default 60000)' },
  { names: ['--hot-keys-sample-rate'], key: 'hotKeysSampleRate', kind: 'int', help: 'count 1 in N requests for hot keys (default 8)' },
  { names: ['--hot-keys-cache-prefixes'], key: 'hotKeysCachePrefixes', kind: 'list', help: 'cache hot keys with these prefixes in the proxy (opt-in; reads may be ttl-stale)' },
  { names: ['--hot-keys-cache-ttl-ms'], key: 'hotKeysCacheTtlMs', kind: 'int', help: 'hot-key cache entry lifetime (default 1000)' },
  { names: ['--hot-keys-cache-max-entries'], key: 'hotKeysCacheMaxEntries', kind: 'int', help: 'hot-key cache size (default 1000)' },
  { names: ['--hot-keys-cache-min-share-pct'], key: 'hotKeysCacheMinSharePct', kind: 'int', help: 'a key is hot at this % of traffic in the window (default 1)' },
  { names: ['--hot-keys-cache-min-count'], key: 'hotKeysCacheMinCount', kind: 'int', help: 'and at least this many requests in the window (default 100)' },
  { names: ['--tap-allow-values'], key: 'tapAllowValues', kind: 'bool', help: 'let /tap?values=1 include values' },
  { names: ['--ssl-port'], key: 'sslPorts', kind: 'ports', help: 'TLS listen port(s), comma separated (needs --server-pem-cert-path/--server-pem-key-path)' },
  { names: ['--no-plaintext'], key: 'noPlaintext', kind: 'bool', help: 'no plaintext listener: serve only on --ssl-port' },
  { names: ['--server-pem-cert-path'], key: 'serverPemCertPath', kind: 'string', help: 'TLS listener certificate chain (PEM; re-read when it changes)' },
  { names: ['--server-pem-key-path'], key: 'serverPemKeyPath', kind: 'string', help: 'TLS listener private key (PEM; re-read when it changes)' },
  { names: ['--server-pem-ca-path'], key: 'serverPemCaPath', kind: 'string', help: 'CA for client certificates (PEM)' },
  { names: ['--ssl-require-peer-certs'], key: 'sslRequirePeerCerts', kind: 'bool', help: 'mutual TLS: clients must present a certificate signed by the CA' },
  { names: ['--pem-cert-path'], key: 'pemCertPath', kind: 'string', help: 'client certificate for TLS to servers (PEM)' },
  { names: ['--pem-key-path'], key: 'pemKeyPath', kind: 'string', help: 'client key for TLS to servers (PEM)' },
  { names: ['--pem-ca-path'], key: 'pemCaPath', kind: 'string', help: 'CA that signs the servers\' certificates (PEM; default: Node\'s roots)' },
  { names: ['--ssl-verify-peers'], key: 'sslVerifyPeers', kind: 'bool', help: 'verify servers\' certificates (default on; =false to turn off)' },
  { names: ['--ssl-service-identity'], key: 'sslServiceIdentity', kind: 'string', help: 'identity the servers\' certificates must carry (URI SAN, DNS SAN or CN)' },
  { names: ['--tls-cert-poll-ms'], key: 'tlsCertPollMs', kind: 'int', help: 'check certificate/key files for changes every N ms (default 1000; 0 = never)' },
];

export class UsageError extends Error {}

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

/** Parse argv (without node and script). */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: ProxyOptions = { ...DEFAULT_OPTIONS, ignored: {} };
  const byName = new Map<string, FlagDef>();
  for (const f of FLAGS) for (const n of f.names) byName.set(n, f);
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
    const def = byName.get(name);
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
    if (def.kind === 'bool') {
      if (def.key === 'validateConfig' && value !== null && value !== 'exit' && value !== 'run') {
        throw new UsageError(`${name}: expected exit or run`);
      }
      (options as unknown as Record<string, unknown>)[def.key] = value === null ? true : value !== 'false';
      continue;
    }
    if (value === null) {
      const nextTok = argv[i + 1];
      if (nextTok === undefined) throw new UsageError(`${name} needs a value`);
      value = nextTok;
      i++;
    }
    const rec = options as unknown as Record<string, unknown>;
    switch (def.kind) {
      case 'string':
        rec[def.key] = value;
        if (name === '--config-file' || name === '-f') {
          rec[def.key] = value.startsWith('file:') ? value : `file:${value}`;
        }
        break;
      case 'int':
        rec[def.key] = parseIntStrict(name, value);
        break;
      case 'list':
        rec[def.key] = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
        break;
      case 'ports':
        rec[def.key] = value.split(',').map((s) => parseIntStrict(name, s.trim()));
        break;
      case 'params':
        try {
          rec[def.key] = parseConfigParams(value);
        } catch (e) {
          throw new UsageError(e instanceof Error ? e.message : String(e));
        }
        break;
    }
  }
  if (!['all', 'loopback', 'off'].includes(options.adminTextCommands)) {
    throw new UsageError(`--admin-text-commands: expected all, loopback or off, got "${options.adminTextCommands}"`);
  }
  if (options.config !== null && isEtcdUrl(options.config)) {
    try {
      parseEtcdUrl(options.config);
    } catch (e) {
      throw new UsageError(`--config: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (options.localZone === null && process.env['MCRELAY_LOCAL_ZONE']) options.localZone = process.env['MCRELAY_LOCAL_ZONE'];
  return { options, help, version, unknown };
}

export function usage(): string {
  const lines = ['Usage: mcrelay --config file:PATH [-p PORT] [options]', '', 'Options:'];
  for (const f of FLAGS) {
    const flag = f.names.join(', ') + (f.kind === 'bool' ? '' : ' VALUE');
    lines.push(`  ${flag.padEnd(40)} ${f.help}`);
  }
  lines.push(`  ${'--help, -h'.padEnd(40)} this help`);
  lines.push(`  ${'--version, -V'.padEnd(40)} print the version`);
  return lines.join('\n');
}
