/**
 * Pools: server strings, `inherit` resolution, and per-pool defaults. Pure (no sockets), so it serves
 * `--validate-config` and tests as well as the real build.
 */
import type { PoolEntry, PoolInfo, ServerSpec } from '../routes/route-factory.js';
import { ConfigError, joinPointer } from '../config-error.js';
import { parseDiscoverySpec, placeholderMembers, specKey, type MemberLookup } from './discovery.js';

type Obj = Readonly<Record<string, unknown>>;

const SSL_MECHS: ReadonlySet<string> = new Set(['ssl', 'tls', 'fizz', 'tls_to_plain', 'ktls12']);
const HOST_RE = /^[A-Za-z0-9._-]+$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

function securityOf(mech: string): 'plain' | 'ssl' | null {
  if (mech === 'plain') return 'plain';
  return SSL_MECHS.has(mech) ? 'ssl' : null;
}

/** What a server string says beyond its ServerSpec: things the pool warns about once. */
interface ParsedServer {
  readonly spec: ServerSpec;
  /** The string (or the pool's default) names the caret protocol; mcrelay talks ASCII to it. */
  readonly caret: boolean;
  /** Port 0 with no port_override (mcrouter accepts it; nothing listens there). */
  readonly portZero: boolean;
}

export interface ServerDefaults {
  /** The pool's security_mech, used when the string names none. */
  readonly security?: 'plain' | 'ssl';
  /** The pool's protocol, used when the string names none. */
  readonly caret?: boolean;
  /** The pool's port_override: replaces every server's port, so servers may omit theirs. */
  readonly portOverride?: number | null;
}

/**
 * Parse a server string as mcrouter's AccessPoint does: `host[:port[:protocol[:security[:compression]]]]`,
 * with the host in brackets for IPv6 (`[::1]:11211`) or, optionally, for a host name (`[cache-1]:11211`).
 * An empty field takes the pool's default. The port may be left out, or be anything, when the pool has a
 * port_override (which replaces it); port 0 is accepted, as mcrouter does. `caret` is accepted (mcrelay
 * talks ASCII to such servers; the pool warns once); `thrift` is refused.
 * @throws ConfigError at `path`
 */
function parseServerText(text: string, path: string, defaults: ServerDefaults): ParsedServer {
  const bad = (why: string): never => {
    throw new ConfigError(path, `bad server "${text}": ${why}`, 'MCP_ERR_CONFIG_BAD_SERVER');
  };
  let host: string;
  let rest: string | null;
  let ipv6 = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) bad('missing "]" after an IPv6 address');
    host = text.slice(1, close);
    if (host === '') bad('empty host');
    if (host.includes(':')) {
      if (!IPV6_RE.test(host)) bad(`"${host}" is not an IPv6 address`);
      ipv6 = true;
    } else if (!HOST_RE.test(host)) {
      bad(`"${host}" is not a host name or IPv4 address`);
    }
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) bad('expected ":port" after "]"');
    rest = after === '' ? null : after.slice(1);
  } else {
    const colon = text.indexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    rest = colon === -1 ? null : text.slice(colon + 1);
    if (host === '') bad('empty host');
    if (!HOST_RE.test(host)) bad(`"${host}" is not a host name or IPv4 address`);
  }
  const parts = rest === null ? [] : rest.split(':');
  if (parts.length > 4) bad('too many ":" fields (expected host:port[:protocol[:security[:compression]]])');
  const override = defaults.portOverride ?? null;
  let port: number;
  if (override !== null) {
    // mcrouter never reads the string's port when the pool overrides it.
    port = override;
  } else {
    const portText = parts[0];
    if (portText === undefined) return bad('expected "host:port" (or a pool port_override)');
    if (!/^\d{1,5}$/.test(portText)) bad(`"${portText}" is not a port number`);
    port = Number(portText);
    if (port > 65535) bad(`port ${port} is out of range 0-65535`);
  }
  let caret = defaults.caret === true;
  const protocol = parts[1] ?? '';
  if (protocol !== '') {
    const p = protocol.toLowerCase();
    if (p === 'caret') caret = true;
    else if (p === 'ascii') caret = false;
    else if (p === 'thrift') bad('protocol "thrift" is not supported (mcrelay talks ascii; caret servers are spoken to in ascii)');
    else bad(`protocol "${protocol}" is not supported (ascii or caret)`);
  }
  let security = defaults.security ?? 'plain';
  const mech = parts[2] ?? '';
  if (mech !== '') {
    const s = securityOf(mech.toLowerCase());
    if (s === null) bad(`security "${mech}" must be one of plain, ssl, tls, fizz, tls_to_plain, ktls12`);
    else security = s;
  }
  const compression = parts[3] ?? '';
  if (compression !== '' && compression !== 'compressed' && compression !== 'notcompressed') {
    bad(`"${compression}" must be "compressed" or "notcompressed"`);
  }
  const address = ipv6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { spec: { host, port, protocol: 'ascii', security, address, text }, caret, portZero: port === 0 };
}

/**
 * Parse one server string (see parseServerText for the forms).
 * @param defaultSecurity supplies the security used when the string names none (the pool's security_mech)
 * @throws ConfigError at `path`
 */
export function parseServer(text: string, path: string, defaultSecurity: 'plain' | 'ssl' = 'plain', defaults: ServerDefaults = {}): ServerSpec {
  return parseServerText(text, path, { ...defaults, security: defaultSecurity }).spec;
}

export interface PoolDefaults {
  readonly serverTimeoutMs: number;
  /** Where non-fatal findings go (`path`, message): caret pools, port 0. */
  readonly warn?: (path: string, message: string) => void;
  /**
   * Current members of pools whose servers come from DNS (discovery.ts). Without it, or for a name never
   * resolved, a placeholder stands in (--validate-config resolves nothing).
   */
  readonly members?: MemberLookup;
}

/**
 * The pool's port override (mcrouter: `port_override`, or `port_override_within_dc` and `_cross_dc` when
 * they are equal; mcrelay does not tell datacenters apart, so different values are ignored with a warning).
 */
function portOverrideOf(raw: Obj, where: (key: string) => string, warn: (path: string, message: string) => void): number | null {
  const within = raw['port_override_within_dc'];
  const cross = raw['port_override_cross_dc'];
  if (typeof within === 'number' && typeof cross === 'number' && within === cross) return within;
  if (typeof within === 'number' || typeof cross === 'number') {
    const key = typeof within === 'number' ? 'port_override_within_dc' : 'port_override_cross_dc';
    warn(where(key), 'port_override_within_dc/_cross_dc apply per datacenter, which mcrelay does not know; ignored unless both are equal');
  }
  const o = raw['port_override'];
  return typeof o === 'number' ? o : null;
}

/**
 * Turn a validated (schema-checked) pool object into a PoolInfo, after inherit was applied.
 * @param origins supplies, for each key, the JSON pointer of the pool that defined it (for error paths)
 */
export function makePoolInfo(name: string, raw: Obj, path: string, origins: Readonly<Record<string, string>>, defaults: PoolDefaults): PoolInfo {
  const where = (key: string): string => joinPointer(origins[key] ?? path, key);
  const spec = parseDiscoverySpec(raw['servers'], where('servers'));
  let serversRaw = raw['servers'];
  if (spec !== null) {
    const members = defaults.members?.(spec);
    if (members !== undefined && members.length === 0) {
      throw new ConfigError(where('servers'), `pool "${name}": DNS gave no members for ${specKey(spec)}`, 'MCP_ERR_CONFIG_BAD_SERVER');
    }
    serversRaw = members ?? placeholderMembers(spec);
  }
  if (!Array.isArray(serversRaw)) throw new ConfigError(path, `pool "${name}" has no "servers"`);
  let defaultSecurity: 'plain' | 'ssl' = 'plain';
  const mech = raw['security_mech'];
  if (typeof mech === 'string') defaultSecurity = securityOf(mech) ?? 'plain';
  else if (raw['use_ssl'] === true) defaultSecurity = 'ssl';
  const warn = defaults.warn ?? ((): void => undefined);
  const protocol = raw['protocol'];
  const poolCaret = typeof protocol === 'string' && protocol.toLowerCase() === 'caret';
  if (typeof protocol === 'string' && !poolCaret && protocol.toLowerCase() !== 'ascii') {
    const why = protocol.toLowerCase() === 'thrift' ? 'is not supported (mcrelay talks ascii; caret pools are spoken to in ascii)' : 'is not one of ascii, caret';
    throw new ConfigError(where('protocol'), `pool "${name}": protocol "${protocol}" ${why}`, 'MCP_ERR_CONFIG_BAD_SERVER');
  }
  const serverDefaults: ServerDefaults = { security: defaultSecurity, caret: poolCaret, portOverride: portOverrideOf(raw, where, warn) };
  // mcrouter's makePool: each entry is a server string or a route object (built by the route factory and
  // used as that member of the pool); anything else is refused.
  const entries: PoolEntry[] = [];
  /** The parsed server string of each entry (null for a route object). */
  const parsed: (ParsedServer | null)[] = [];
  serversRaw.forEach((s: unknown, i: number) => {
    const at = joinPointer(where('servers'), i);
    if (typeof s === 'object' && s !== null && !Array.isArray(s)) {
      entries.push(Object.freeze({ kind: 'route' as const, node: s as Obj, path: at }));
      parsed.push(null);
      return;
    }
    if (typeof s !== 'string') throw new ConfigError(at, `pool "${name}": server #${i} is not a string/object`, 'MCP_ERR_CONFIG_BAD_SERVER');
    const p = parseServerText(s, at, serverDefaults);
    entries.push(Object.freeze({ kind: 'server' as const, server: p.spec }));
    parsed.push(p);
  });
  const servers = parsed.flatMap((p) => (p === null ? [] : [p.spec]));
  const caretAt = parsed.findIndex((p) => p?.caret === true);
  if (caretAt !== -1) {
    const at = poolCaret ? where('protocol') : joinPointer(where('servers'), caretAt);
    warn(at, `pool "${name}" uses the caret protocol; mcrelay talks ASCII to its servers (they must speak ASCII, as memcached does)`);
  }
  parsed.forEach((p, i) => {
    if (p?.portZero === true) warn(joinPointer(where('servers'), i), `pool "${name}": port 0 (accepted, as mcrouter does; nothing listens there, so requests fail until the config gives a port)`);
  });
  const listOf = <T>(key: string, strict: boolean): readonly T[] | null => {
    const v = raw[key];
    if (!Array.isArray(v)) return null;
    if (strict && v.length !== entries.length) {
      throw new ConfigError(where(key), `pool "${name}" has ${v.length} ${key} for ${entries.length} servers`);
    }
    return Object.freeze(v.slice() as T[]);
  };
  // Weights are checked by the hash that uses them: WeightedCh3 pads or drops them (as mcrouter), the
  // twemproxy and Rendezvous hashes need one per server (hash-route.ts makeSelector).
  const weights = listOf<number>('weights', false);
  const tags = listOf<string>('tags', true);
  const st = raw['server_timeout'];
  const serverTimeoutMs = typeof st === 'number' ? st : defaults.serverTimeoutMs;
  const ct = raw['connect_timeout'];
  return Object.freeze({
    name,
    servers: Object.freeze(servers),
    entries: Object.freeze(entries),
    serverTimeoutMs,
    connectTimeoutMs: typeof ct === 'number' ? ct : serverTimeoutMs,
    keepRoutingPrefix: raw['keep_routing_prefix'] === true,
    weights,
    tags,
    asynclog: raw['asynclog'] !== false,
    raw,
    path,
  });
}

/**
 * Resolve every pool's `inherit` chain (parent first, own keys win) and build PoolInfos.
 * @param pools supplies the validated `pools` object
 * @throws ConfigError for unknown parents (`/pools/B/inherit: unknown pool "Z"`) and cycles
 */
export function resolvePools(pools: Obj, defaults: PoolDefaults): Map<string, PoolInfo> {
  const merged = new Map<string, { raw: Record<string, unknown>; origins: Record<string, string> }>();
  const resolve = (name: string, chain: string[]): { raw: Record<string, unknown>; origins: Record<string, string> } => {
    const done = merged.get(name);
    if (done !== undefined) return done;
    const path = joinPointer('/pools', name);
    const own = pools[name] as Obj;
    const raw = Object.create(null) as Record<string, unknown>;
    const origins = Object.create(null) as Record<string, string>;
    const parent = own['inherit'];
    if (typeof parent === 'string') {
      const inheritPath = joinPointer(path, 'inherit');
      if (!Object.hasOwn(pools, parent)) throw new ConfigError(inheritPath, `unknown pool "${parent}"`, 'MCP_ERR_CONFIG_UNKNOWN_POOL');
      const at = chain.indexOf(parent);
      if (at !== -1 || parent === name) {
        const cycle = [...chain.slice(at === -1 ? chain.length : at), name, parent].join(' -> ');
        throw new ConfigError(inheritPath, `inherit cycle: ${cycle}`, 'MCP_ERR_CONFIG_INHERIT_CYCLE');
      }
      const base = resolve(parent, [...chain, name]);
      Object.assign(raw, base.raw);
      Object.assign(origins, base.origins);
    }
    for (const [k, v] of Object.entries(own)) {
      if (k === 'inherit') continue;
      raw[k] = v;
      origins[k] = path;
    }
    const out = { raw, origins };
    merged.set(name, out);
    return out;
  };
  const result = new Map<string, PoolInfo>();
  for (const name of Object.keys(pools)) {
    const { raw, origins } = resolve(name, []);
    result.set(name, makePoolInfo(name, Object.freeze(raw), joinPointer('/pools', name), origins, defaults));
  }
  return result;
}
