/**
 * `--config etcd://HOST:PORT[,HOST:PORT…]/KEY`: the etcd endpoints and the key a config is read from.
 * Pure (no sockets).
 *
 *   etcd://127.0.0.1:2379/mcrelay/config            key `/mcrelay/config` (the path, leading slash included)
 *   etcd://10.0.0.1:2379,10.0.0.2:2379/mcrelay/c    several endpoints of one cluster
 *   etcd://[::1]:2379/mcrelay/config.yaml           IPv6; a key ending in .yaml/.yml holds YAML, else JSON(M)
 *
 * A missing port is etcd's client port, 2379. The endpoints are spoken to over TLS when a CA is given
 * (`--etcd-cacert`, as etcdctl's `--cacert`), else in plaintext.
 *
 * `@import(path)` inside an etcd config reads another key: an absolute path is that key, a relative one
 * resolves against the config key's "directory", as a file's imports resolve against its directory:
 * `@import(pools.json)` in `/mcrelay/config` reads `/mcrelay/pools.json`, `@import(../shared/p)` reads
 * `/shared/p`.
 */
import { posix } from 'node:path';

export interface EtcdUrl {
  /** `host:port` of every endpoint, as written (IPv6 in brackets). */
  readonly endpoints: readonly string[];
  /** The key, leading slash included. */
  readonly key: string;
}

export const ETCD_SCHEME = 'etcd://';
const DEFAULT_PORT = 2379;

/** True when a `--config` value names an etcd key. */
export function isEtcdUrl(spec: string): boolean {
  return spec.startsWith(ETCD_SCHEME);
}

/**
 * Parse `etcd://HOST:PORT[,HOST:PORT…]/KEY`.
 * @throws Error with a message that says what is wrong
 */
export function parseEtcdUrl(spec: string): EtcdUrl {
  if (!isEtcdUrl(spec)) throw new Error(`not an etcd URL (etcd://HOST:PORT/KEY): ${spec}`);
  const rest = spec.slice(ETCD_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new Error(`etcd URL has no ${slash === 0 ? 'endpoint' : 'key'}: ${spec} (etcd://HOST:PORT/KEY)`);
  const key = rest.slice(slash);
  if (key.length < 2) throw new Error(`etcd URL has an empty key: ${spec}`);
  const endpoints = rest
    .slice(0, slash)
    .split(',')
    .map((e) => endpoint(e.trim(), spec));
  return { endpoints, key };
}

function endpoint(e: string, spec: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$/.exec(e);
  if (m === null) throw new Error(`bad etcd endpoint "${e}" in ${spec} (HOST:PORT)`);
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad etcd port in "${e}" (${spec})`);
  return `${m[1] ?? ''}:${port}`;
}

/** The gRPC host strings the client dials: `http://h:p`, or `https://h:p` with TLS. */
export function endpointUrls(url: EtcdUrl, tls: boolean): string[] {
  return url.endpoints.map((e) => `${tls ? 'https' : 'http'}://${e}`);
}

/** `etcd://endpoints/key`, the name a config read from etcd goes by (logs, errors, `config_file`). */
export function etcdName(url: EtcdUrl, key: string = url.key): string {
  return `${ETCD_SCHEME}${url.endpoints.join(',')}${key}`;
}

/** The key `@import(path)` reads from a config stored at `configKey` (see the module comment). */
export function resolveImportKey(configKey: string, path: string): string {
  return posix.normalize(path.startsWith('/') ? path : posix.join(posix.dirname(configKey), path));
}
