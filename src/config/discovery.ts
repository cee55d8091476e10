/**
 * Pools whose servers come from DNS instead of a list (pure: no sockets; the resolver is in
 * src/discovery/):
 *
 *   "servers": {"srv": "_memcache._tcp.mc.ns.svc"}          every SRV record of the name: target:port
 *   "servers": {"dns": "mc-headless.ns.svc", "port": 11211} every A/AAAA record of the name, on one port
 *                                                           (a Kubernetes headless Service); port 11211
 *                                                           when left out
 *
 * Members are sorted, so Ch3 placement does not depend on the order of DNS answers: SRV members by target
 * name, then port; A/AAAA members by address (IPv4 before IPv6, numerically). The builder asks a
 * `MemberLookup` for the current members of each name; `--validate-config`, which resolves nothing,
 * stands one placeholder server (the name itself) in for them.
 */
import { isIP } from 'node:net';
import { ConfigError, joinPointer } from '../config-error.js';

export type DiscoverySpec =
  | { readonly kind: 'srv'; readonly name: string }
  | { readonly kind: 'dns'; readonly name: string; readonly port: number };

/** Members (server strings) of a spec as last resolved, or undefined when it was never resolved. */
export type MemberLookup = (spec: DiscoverySpec) => readonly string[] | undefined;

const NAME_RE = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/** The one key a spec is known by (logs, caches, metrics labels). */
export function specKey(spec: DiscoverySpec): string {
  return spec.kind === 'srv' ? `srv:${spec.name}` : `dns:${spec.name}:${spec.port}`;
}

/**
 * Read a `servers` object. Returns null when `value` is not an object (a plain server list).
 * @throws ConfigError at `path` for anything else that is not a valid spec
 */
export function parseDiscoverySpec(value: unknown, path: string): DiscoverySpec | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Readonly<Record<string, unknown>>;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  const name = (key: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > 253 || !NAME_RE.test(v)) {
      throw new ConfigError(joinPointer(path, key), `"${key}" must be a DNS name, got ${JSON.stringify(v)}`, 'MCP_ERR_CONFIG_BAD_SERVER');
    }
    return v;
  };
  if (has('srv') === has('dns')) {
    throw new ConfigError(path, 'servers: give either {"srv": NAME} or {"dns": NAME, "port": PORT}', 'MCP_ERR_CONFIG_BAD_SERVER');
  }
  for (const k of Object.keys(o)) {
    if (k !== 'srv' && k !== 'dns' && k !== 'port') {
      throw new ConfigError(joinPointer(path, k), `servers: unknown key "${k}" (srv, dns, port)`, 'MCP_ERR_CONFIG_BAD_SERVER');
    }
  }
  if (has('srv')) {
    if (has('port')) throw new ConfigError(joinPointer(path, 'port'), 'servers: an SRV record carries its own port', 'MCP_ERR_CONFIG_BAD_SERVER');
    return { kind: 'srv', name: name('srv') };
  }
  const port = has('port') ? o['port'] : 11211;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(joinPointer(path, 'port'), `"port" must be an integer 1..65535, got ${JSON.stringify(port)}`, 'MCP_ERR_CONFIG_BAD_SERVER');
  }
  return { kind: 'dns', name: name('dns'), port };
}

/** Server strings standing in for a spec's members when nothing was resolved (validation only). */
export function placeholderMembers(spec: DiscoverySpec): readonly string[] {
  const host = spec.name.endsWith('.') ? spec.name.slice(0, -1) : spec.name;
  return [spec.kind === 'srv' ? `${host}:11211` : `${host}:${spec.port}`];
}

/** SRV answers as sorted server strings: by target name, then port; duplicates dropped. */
export function srvMembers(records: readonly { readonly name: string; readonly port: number }[]): string[] {
  const seen = new Set<string>();
  const sorted = [...records]
    .map((r) => ({ name: r.name.endsWith('.') ? r.name.slice(0, -1).toLowerCase() : r.name.toLowerCase(), port: r.port }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
  const out: string[] = [];
  for (const r of sorted) {
    const s = isIP(r.name) === 6 ? `[${r.name}]:${r.port}` : `${r.name}:${r.port}`;
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

/** A/AAAA answers as sorted server strings on `port`: IPv4 numerically, then IPv6 numerically. */
export function addressMembers(addresses: readonly string[], port: number): string[] {
  const keyed = [...new Set(addresses)].map((a) => ({ a, key: addressSortKey(a) }));
  keyed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return keyed.map(({ a }) => (isIP(a) === 6 ? `[${a}]:${port}` : `${a}:${port}`));
}

/** Family digit plus the address as fixed-width hex, so string order is numeric order. */
function addressSortKey(a: string): string {
  if (isIP(a) === 4) return `4${a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = a.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `6${groups.map((g) => g.padStart(4, '0').toLowerCase()).join('')}`;
}

/** Every discovery spec in a config: each `servers` object under any pool, top-level or inline. */
export function collectDiscoverySpecs(data: unknown): DiscoverySpec[] {
  const found = new Map<string, DiscoverySpec>();
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 64 || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, joinPointer(path, i), depth + 1));
      return;
    }
    const o = node as Readonly<Record<string, unknown>>;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'servers') {
        let spec: DiscoverySpec | null = null;
        try {
          spec = parseDiscoverySpec(v, joinPointer(path, k));
        } catch {
          spec = null; // reported with its path when the config is built
        }
        if (spec !== null) found.set(specKey(spec), spec);
        else walk(v, joinPointer(path, k), depth + 1);
      } else {
        walk(v, joinPointer(path, k), depth + 1);
      }
    }
  };
  walk(data, '', 0);
  return [...found.values()];
}
