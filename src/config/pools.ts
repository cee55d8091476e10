/**
 * Pools: server strings, `inherit` resolution, and per-pool defaults. Pure (no sockets), so it serves
 * `--validate-config` and tests as well as the real build.
 */
import type { PoolInfo, ServerSpec } from '../routes/route-factory.js';
import { ConfigError, joinPointer } from './config-error.js';

type Obj = Readonly<Record<string, unknown>>;

const SSL_MECHS: ReadonlySet<string> = new Set(['ssl', 'tls', 'fizz', 'tls_to_plain', 'ktls12']);
const HOST_RE = /^[A-Za-z0-9._-]+$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

function securityOf(mech: string): 'plain' | 'ssl' | null {
  if (mech === 'plain') return 'plain';
  return SSL_MECHS.has(mech) ? 'ssl' : null;
}

/**
 * Parse `host:port[:protocol[:security[:compression]]]`; IPv6 hosts are bracketed (`[::1]:11211`).
 * @param defaultSecurity supplies the security used when the string names none (the pool's security_mech)
 * @throws ConfigError at `path`
 */
export function parseServer(text: string, path: string, defaultSecurity: 'plain' | 'ssl' = 'plain'): ServerSpec {
  const bad = (why: string): never => {
    throw new ConfigError(path, `bad server "${text}": ${why}`, 'MCP_ERR_CONFIG_BAD_SERVER');
  };
  let host: string;
  let rest: string;
  let ipv6 = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) bad('missing "]" after an IPv6 address');
    host = text.slice(1, close);
    if (!IPV6_RE.test(host) || !host.includes(':')) bad(`"${host}" is not an IPv6 address`);
    if (text[close + 1] !== ':') bad('expected ":port" after "]"');
    rest = text.slice(close + 2);
    ipv6 = true;
  } else {
    const colon = text.indexOf(':');
    if (colon === -1) bad('expected "host:port"');
    host = text.slice(0, colon);
    rest = text.slice(colon + 1);
    if (host === '') bad('empty host');
    if (!HOST_RE.test(host)) bad(`"${host}" is not a host name or IPv4 address`);
  }
  const parts = rest.split(':');
  const portText = parts[0] ?? '';
  if (!/^\d{1,5}$/.test(portText)) bad(`"${portText}" is not a port number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) bad(`port ${port} is out of range 1-65535`);
  if (parts.length > 4) bad('too many ":" fields (expected host:port[:protocol[:security[:compression]]])');
  const protocol = parts[1];
  if (protocol !== undefined && protocol.toLowerCase() !== 'ascii') {
    bad(`protocol "${protocol}" is not supported (only "ascii")`);
  }
  let security = defaultSecurity;
  const mech = parts[2];
  if (mech !== undefined) {
    const s = securityOf(mech.toLowerCase());
    if (s === null) bad(`security "${mech}" must be one of plain, ssl, tls, fizz, tls_to_plain, ktls12`);
    else security = s;
  }
  const compression = parts[3];
  if (compression !== undefined && compression !== 'compressed' && compression !== 'notcompressed') {
    bad(`"${compression}" must be "compressed" or "notcompressed"`);
  }
  const address = ipv6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, protocol: 'ascii', security, address, text };
}

export interface PoolDefaults {
  readonly serverTimeoutMs: number;
}

/**
 * Turn a validated (schema-checked) pool object into a PoolInfo, after inherit was applied.
 * @param origins supplies, for each key, the JSON pointer of the pool that defined it (for error paths)
 */
export function makePoolInfo(name: string, raw: Obj, path: string, origins: Readonly<Record<string, string>>, defaults: PoolDefaults): PoolInfo {
  const where = (key: string): string => joinPointer(origins[key] ?? path, key);
  const serversRaw = raw['servers'];
  if (!Array.isArray(serversRaw)) throw new ConfigError(path, `pool "${name}" has no "servers"`);
  let defaultSecurity: 'plain' | 'ssl' = 'plain';
  const mech = raw['security_mech'];
  if (typeof mech === 'string') defaultSecurity = securityOf(mech) ?? 'plain';
  else if (raw['use_ssl'] === true) defaultSecurity = 'ssl';
  const servers = serversRaw.map((s: unknown, i: number) => parseServer(String(s), joinPointer(where('servers'), i), defaultSecurity));
  const listOf = <T>(key: string): readonly T[] | null => {
    const v = raw[key];
    if (!Array.isArray(v)) return null;
    if (v.length !== servers.length) {
      throw new ConfigError(where(key), `pool "${name}" has ${v.length} ${key} for ${servers.length} servers`);
    }
    return Object.freeze(v.slice() as T[]);
  };
  const weights = listOf<number>('weights');
  const tags = listOf<string>('tags');
  const st = raw['server_timeout'];
  const serverTimeoutMs = typeof st === 'number' ? st : defaults.serverTimeoutMs;
  const ct = raw['connect_timeout'];
  return Object.freeze({
    name,
    servers: Object.freeze(servers),
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
