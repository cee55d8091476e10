/**
 * mcrelay's command-line options: a compatible subset of mcrouter's flags (reference mcrouter.md §6),
 * plus a few of our own. Unknown mcrouter flags are collected and logged at warn, as mcrouter does.
 */
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
  adminPort: number | null;
  adminAddress: string;
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
  adminPort: null,
  adminAddress: '127.0.0.1',
  ignored: {},
};

type Kind = 'string' | 'int' | 'bool' | 'list' | 'ports';

interface FlagDef {
  names: string[];
  key: keyof ProxyOptions;
  kind: Kind;
  help: string;
}

const FLAGS: FlagDef[] = [
  { names: ['--config'], key: 'config', kind: 'string', help: 'config: file:PATH, PATH, or inline JSON' },
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
  { names: ['--log-level'], key: 'logLevel', kind: 'string', help: 'trace|debug|info|warn|error|fatal (default info)' },
  { names: ['--num-proxies'], key: 'numProxies', kind: 'int', help: 'worker processes sharing the port (default 1)' },
  { names: ['--timeouts-until-tko'], key: 'timeoutsUntilTko', kind: 'int', help: 'consecutive timeouts before soft TKO (default 3)' },
  { names: ['--probe-timeout-initial', '-r'], key: 'probeTimeoutInitialMs', kind: 'int', help: 'first TKO probe delay in ms (default 10000)' },
  { names: ['--probe-timeout-max'], key: 'probeTimeoutMaxMs', kind: 'int', help: 'max TKO probe delay in ms (default 60000)' },
  { names: ['--disable-tko-tracking'], key: 'disableTkoTracking', kind: 'bool', help: 'never mark destinations TKO' },
  { names: ['--async-dir', '-a'], key: 'asyncDir', kind: 'string', help: 'failed-delete spool directory' },
  { names: ['--asynclog-disable'], key: 'asynclogDisable', kind: 'bool', help: 'do not spool failed deletes' },
  { names: ['--max-client-outstanding-reqs'], key: 'maxClientOutstandingReqs', kind: 'int', help: 'pause reading a client past this many unanswered requests (default 1024)' },
  { names: ['--target-max-inflight-requests'], key: 'targetMaxInflightRequests', kind: 'int', help: 'per-destination in-flight cap (0 = off)' },
  { names: ['--target-max-pending-requests'], key: 'targetMaxPendingRequests', kind: 'int', help: 'per-destination queued cap; beyond it fail fast (default 100000)' },
  { names: ['--target-max-shadow-requests'], key: 'targetMaxShadowRequests', kind: 'int', help: 'cap on outstanding shadow requests (default 1000)' },
  { names: ['--max-conns'], key: 'maxConns', kind: 'int', help: 'max client connections (0 = unlimited)' },
  { names: ['--connections-per-destination'], key: 'connectionsPerDestination', kind: 'int', help: 'pipelined connections per upstream server (default 1)' },
  { names: ['--local-zone'], key: 'localZone', kind: 'string', help: 'this host\'s availability zone (or env MCRELAY_LOCAL_ZONE)' },
  { names: ['--host-id'], key: 'hostId', kind: 'int', help: 'host id for LatestRoute/HostIdRoute (default: hash of hostname)' },
  { names: ['--admin-port'], key: 'adminPort', kind: 'int', help: 'admin HTTP port (off when unset)' },
  { names: ['--admin-address'], key: 'adminAddress', kind: 'string', help: 'admin HTTP address (default 127.0.0.1)' },
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
