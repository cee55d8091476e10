/**
 * `mcrelay import twemproxy`: turns a nutcracker.yml into mcrelay configs that place every key on the
 * server nutcracker places it on, one config per twemproxy pool.
 *
 * Why one config per pool: each twemproxy pool listens on its own address, and an mcrelay process serves one
 * route tree on all of its ports. A nutcracker with three pools becomes three mcrelay processes, each started
 * on its pool's old port with the flags the import prints (`--pool NAME` picks one, `--out-dir` writes all).
 *
 * Reading follows nutcracker 0.5.0's conf.c (peers.md §2.1): every scalar is text (YAML's failsafe schema, so
 * `timeout: "400"` is 400 as for nutcracker), numbers are decimal digits only, booleans exactly true/false,
 * a server is `host:port:weight [name]` split from the right. A YAML nutcracker would refuse (bad number,
 * unknown hash, zero weight, duplicate server names, no servers) is refused here with its line and column.
 * Unknown directives are warnings with the nearest known one (nutcracker refuses them; forks add some).
 *
 * Placement (peers.md §2.2–2.3, reproduced by routes/hash/ketama.ts and selector.ts):
 *   distribution ketama | modula → PoolRoute with hash {hash_func: Ketama | Modula, key_hash: <hash>,
 *     weights, names, hash_tag}; `names` only where nutcracker's ring name differs from what mcrelay derives
 *     from host:port (explicit names, or a port written unusually);
 *   distribution random → RandomRoute over the pool's servers (uniform, weights ignored, as nutcracker).
 * Pools get `keep_routing_prefix: true` and the flags include `--send-invalid-route-to-default`, so a key that
 * looks like an mcrouter routing prefix (`/a/b/rest`) is still served and stored under its full name; such
 * keys, and keys containing `|#|`, hash differently from nutcracker (mcrelay hashes the routing key), which
 * the header comment says.
 *
 * Failure handling has no exact twin: `auto_eject_hosts` maps to the nearest TKO flags, with a comment on
 * what differs (nutcracker remaps an ejected server's keys to the others; mcrelay fails them fast).
 */
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { escapePointer } from '../config-error.js';
import { nearestKey } from '../suggest.js';
import { ketamaNodeName } from '../routes/hash/ketama.js';
import { KEY_HASHES } from '../routes/hash/key-hashes.js';

/** A nutcracker.yml that cannot be imported; `where` is `file:line:column` (or the file) of the problem. */
export class ImportError extends Error {
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(where === '' ? detail : `${where}: ${detail}`);
    this.name = 'ImportError';
  }
}

export type Distribution = 'ketama' | 'modula' | 'random';

export interface TwemproxyServer {
  /** The list entry as written. */
  readonly text: string;
  /** The address part as written (a host name, an IPv4 or IPv6 address, or a unix socket path). */
  readonly host: string;
  /** 0 for a unix socket. */
  readonly port: number;
  readonly weight: number;
  /** The string the server contributes to nutcracker's ring (and its Modula order). */
  readonly ringName: string;
  /** The name after the space, if any. */
  readonly explicitName: string | null;
  readonly unixSocket: boolean;
  readonly where: string;
}

export type TwemproxyListen =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly text: string }
  | { readonly kind: 'unix'; readonly path: string; readonly text: string };

export interface TwemproxyPool {
  readonly name: string;
  readonly where: string;
  readonly listen: TwemproxyListen;
  /** Key hash; `fnv1a_64` when not given (nutcracker's default). */
  readonly hash: string;
  readonly hashTag: string | null;
  readonly distribution: Distribution;
  /** ms; null when not given or <= 0 (nutcracker then waits forever). */
  readonly timeoutMs: number | null;
  readonly autoEjectHosts: boolean;
  /** Defaults as nutcracker's: 2 failures, 30000 ms. */
  readonly serverFailureLimit: number;
  readonly serverRetryTimeoutMs: number;
  /** Every directive given, as written (for the notes and the warnings). */
  readonly given: ReadonlyMap<string, string>;
  readonly servers: readonly TwemproxyServer[];
}

/** Directives nutcracker 0.5.0 knows (conf.c's command table; `tcpkeepalive` is accepted by the Debian build). */
export const TWEMPROXY_DIRECTIVES: readonly string[] = [
  'listen', 'hash', 'hash_tag', 'distribution', 'timeout', 'backlog', 'client_connections', 'redis', 'redis_auth',
  'redis_db', 'preconnect', 'auto_eject_hosts', 'server_connections', 'server_retry_timeout', 'server_failure_limit',
  'servers', 'tcpkeepalive',
];
/** Directives of later twemproxy versions and forks: warned about as not carried over, not as typos. */
const LATER_DIRECTIVES: ReadonlySet<string> = new Set(['reuseport', 'sentinel', 'sentinels', 'dynamic_server_list']);
const DISTRIBUTIONS: readonly Distribution[] = ['ketama', 'modula', 'random'];
const DEFAULT_HASH = 'fnv1a_64';
const DEFAULT_FAILURE_LIMIT = 2;
const DEFAULT_RETRY_TIMEOUT_MS = 30_000;
const MAX_PORT = 65535;

export interface ParsedTwemproxy {
  readonly pools: readonly TwemproxyPool[];
  /** Findings that do not stop the import (unknown directives, flow style, ...), with their pool if any. */
  readonly warnings: readonly ParseWarning[];
}

export interface ParseWarning {
  readonly pool: string | null;
  readonly message: string;
}

/** nutcracker's nc_atoi: decimal digits only; anything else is not a number. */
function digits(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * Parse a nutcracker.yml. `file` names it in messages.
 * @throws ImportError at the first thing nutcracker would refuse
 */
export function parseTwemproxyYaml(text: string, file: string): ParsedTwemproxy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: true, lineCounter: lines, prettyErrors: false });
  const at = (node: { range?: readonly number[] | null | undefined } | null | undefined): string => {
    const start = node?.range?.[0];
    if (start === undefined) return file;
    const p = lines.linePos(start);
    return `${file}:${p.line}:${p.col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const p = lines.linePos(firstError.pos[0]);
    throw new ImportError(`${file}:${p.line}:${p.col}`, firstError.message.split('\n')[0] ?? firstError.message);
  }
  const warnings: ParseWarning[] = [];
  let warnedFlow = false;
  const noteFlow = (node: Node): void => {
    if (isCollection(node) && node.flow === true && !warnedFlow) {
      warnedFlow = true;
      warnings.push({ pool: null, message: `${at(node)}: flow style ([...] or {...}) is read, but nutcracker refuses it` });
    }
  };
  const root = doc.contents;
  if (!isMap(root)) throw new ImportError(at(root ?? null), 'expected a mapping of pool names to pools');
  noteFlow(root);
  if (root.items.length === 0) throw new ImportError(file, 'no pools');
  const pools: TwemproxyPool[] = [];
  for (const pair of root.items as Pair<unknown, unknown>[]) {
    pools.push(parsePool(pair, at, warnings, noteFlow));
  }
  const byListen = new Map<string, string>();
  for (const p of pools) {
    const other = byListen.get(p.listen.text);
    if (other !== undefined) throw new ImportError(p.where, `pools "${other}" and "${p.name}" have the same listen address "${p.listen.text}"`);
    byListen.set(p.listen.text, p.name);
  }
  return { pools, warnings };
}

type At = (node: { range?: readonly number[] | null | undefined } | null | undefined) => string;

function scalarText(node: unknown, where: string, what: string): string {
  if (isAlias(node)) throw new ImportError(where, `${what}: aliases are not allowed (nutcracker refuses them)`);
  if (!isScalar(node)) throw new ImportError(where, `${what} must be a single value`);
  return String(node.value ?? '');
}

function parsePool(pair: Pair<unknown, unknown>, at: At, warnings: ParseWarning[], noteFlow: (n: Node) => void): TwemproxyPool {
  const keyNode = pair.key as Node | null;
  const name = scalarText(keyNode, at(keyNode), 'a pool name');
  const where = at(keyNode);
  const body = pair.value as Node | null;
  if (!isMap(body)) throw new ImportError(where, `pool "${name}" must be a mapping of directives`);
  noteFlow(body);
  const given = new Map<string, string>();
  const whereOf = new Map<string, string>();
  let serversNode: Node | null = null;
  for (const item of body.items as Pair<unknown, unknown>[]) {
    const k = item.key as Node | null;
    const key = scalarText(k, at(k), 'a directive name');
    const kWhere = at(k);
    whereOf.set(key, kWhere);
    if (key === 'servers') {
      const v = item.value as Node | null;
      if (!isSeq(v)) throw new ImportError(kWhere, `pool "${name}": "servers" must be a list`);
      noteFlow(v);
      serversNode = v;
      given.set(key, '');
      continue;
    }
    given.set(key, scalarText(item.value, kWhere, `pool "${name}": "${key}"`));
    if (!TWEMPROXY_DIRECTIVES.includes(key)) {
      if (LATER_DIRECTIVES.has(key)) {
        warnings.push({ pool: name, message: `${kWhere}: pool "${name}": "${key}" (a later twemproxy's directive) is not carried over` });
      } else {
        const near = nearestKey(key, TWEMPROXY_DIRECTIVES);
        const hint = near === null ? '' : `; did you mean "${near}"?`;
        warnings.push({ pool: name, message: `${kWhere}: pool "${name}": unknown directive "${key}" ignored (nutcracker refuses it)${hint}` });
      }
    }
  }
  const fail = (key: string, why: string): never => {
    throw new ImportError(whereOf.get(key) ?? where, `pool "${name}": "${key}" ${why}`);
  };
  const num = (key: string): number | null => {
    const v = given.get(key);
    if (v === undefined) return null;
    const n = digits(v);
    if (n === null) return fail(key, `is not a number: "${v}"`);
    return n;
  };
  const bool = (key: string): boolean | null => {
    const v = given.get(key);
    if (v === undefined) return null;
    if (v !== 'true' && v !== 'false') return fail(key, `is not "true" or "false": "${v}"`);
    return v === 'true';
  };

  const listenText = given.get('listen');
  if (listenText === undefined) throw new ImportError(where, `pool "${name}": directive "listen" is missing`);
  const listen = parseListen(listenText, (why) => fail('listen', why));

  const hash = given.get('hash') ?? DEFAULT_HASH;
  if (!Object.hasOwn(KEY_HASHES, hash)) fail('hash', `is not a valid hash: "${hash}" (one of ${Object.keys(KEY_HASHES).join(', ')})`);
  const hashTag = given.get('hash_tag') ?? null;
  if (hashTag !== null && Buffer.byteLength(hashTag, 'utf8') !== 2) fail('hash_tag', `is not a valid hash tag string with two characters: "${hashTag}"`);
  // nutcracker counts bytes: one two-byte UTF-8 character passes there, but mcrelay's hash_tag is two characters.
  if (hashTag !== null && hashTag.length !== 2) fail('hash_tag', `must be two ASCII characters for mcrelay: "${hashTag}"`);
  const dist = given.get('distribution') ?? 'ketama';
  if (!(DISTRIBUTIONS as readonly string[]).includes(dist)) fail('distribution', `is not a valid distribution: "${dist}" (ketama, modula or random)`);
  const timeout = num('timeout');
  for (const key of ['backlog', 'client_connections', 'redis_db', 'server_connections']) num(key);
  if (num('server_connections') === 0) fail('server_connections', 'cannot be 0');
  for (const key of ['preconnect', 'tcpkeepalive']) bool(key);
  if (bool('redis') === true) {
    throw new ImportError(whereOf.get('redis') ?? where, `pool "${name}" is a redis pool; mcrelay speaks memcached only`);
  }
  const autoEject = bool('auto_eject_hosts') ?? false;
  const failureLimit = num('server_failure_limit') ?? DEFAULT_FAILURE_LIMIT;
  const retryMs = num('server_retry_timeout') ?? DEFAULT_RETRY_TIMEOUT_MS;

  if (serversNode === null || !isSeq(serversNode) || serversNode.items.length === 0) {
    throw new ImportError(where, `pool "${name}" has no servers`);
  }
  const servers = (serversNode.items as unknown[]).map((item) => {
    const w = at(item as Node);
    return parseServerLine(scalarText(item, w, `pool "${name}": a server`), w, name);
  });
  const seen = new Map<string, TwemproxyServer>();
  for (const s of servers) {
    const dup = seen.get(s.ringName);
    if (dup !== undefined) throw new ImportError(s.where, `pool "${name}" has servers with same name "${s.ringName}" ("${dup.text}" and "${s.text}")`);
    seen.set(s.ringName, s);
  }
  return {
    name,
    where,
    listen,
    hash,
    hashTag,
    distribution: dist as Distribution,
    timeoutMs: timeout === null || timeout <= 0 ? null : timeout,
    autoEjectHosts: autoEject,
    serverFailureLimit: failureLimit,
    serverRetryTimeoutMs: retryMs,
    given,
    servers,
  };
}

function parseListen(text: string, fail: (why: string) => never): TwemproxyListen {
  if (text.startsWith('/')) {
    const space = text.lastIndexOf(' ');
    return { kind: 'unix', path: space === -1 ? text : text.slice(0, space), text };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return fail(`has an invalid "hostname:port" format string: "${text}"`);
  const port = digits(text.slice(colon + 1));
  if (port === null || port < 1 || port > MAX_PORT) return fail(`has an invalid port in "hostname:port" format string: "${text}"`);
  return { kind: 'tcp', host: text.slice(0, colon), port, text };
}

/**
 * `host:port:weight [name]` or `/path/socket:weight [name]`, split from the right as nutcracker does: the
 * name is what follows the last space, then the weight and the port are the last two `:` fields.
 */
export function parseServerLine(text: string, where: string, pool: string): TwemproxyServer {
  const bad = (why: string): never => {
    throw new ImportError(where, `pool "${pool}": server "${text}" ${why}`);
  };
  const unixSocket = text.startsWith('/');
  let rest = text;
  let explicitName: string | null = null;
  const space = rest.lastIndexOf(' ');
  if (space !== -1) {
    explicitName = rest.slice(space + 1);
    rest = rest.slice(0, space);
  }
  const wColon = rest.lastIndexOf(':');
  if (wColon === -1) return bad('has an invalid "hostname:port:weight [name]" format string');
  const weightText = rest.slice(wColon + 1);
  const addrPort = rest.slice(0, wColon);
  const weight = digits(weightText);
  if (weight === null) return bad('has an invalid weight');
  if (weight === 0) return bad('has a zero weight');
  let host = addrPort;
  let port = 0;
  let portText = '';
  if (!unixSocket) {
    const pColon = addrPort.lastIndexOf(':');
    if (pColon === -1) return bad('has an invalid "hostname:port:weight [name]" format string');
    host = addrPort.slice(0, pColon);
    portText = addrPort.slice(pColon + 1);
    const p = digits(portText);
    if (p === null || p < 1 || p > MAX_PORT) return bad('has an invalid port');
    port = p;
  }
  if (host === '') return bad('has an empty address');
  if (explicitName === '') explicitName = null;
  // nutcracker's ring name: the explicit name, else the address, plus ":port" as written unless it is 11211.
  const ringName = explicitName ?? (unixSocket || port === 11211 ? host : `${host}:${portText}`);
  return { text, host, port, weight, ringName, explicitName, unixSocket, where };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** One twemproxy pool as an mcrelay config, with what the operator must know about it. */
export interface PoolImport {
  readonly pool: TwemproxyPool;
  /** The mcrelay config (one pool, one route). */
  readonly config: JsonObject;
  /** Comment lines to print above a value, by its JSON pointer; '' = the header of the file. */
  readonly comments: ReadonlyMap<string, readonly string[]>;
  /** mcrelay flags the pool needs besides `--config` (listener, TKO, connections). */
  readonly flags: readonly string[];
  /** What cannot be carried over; printed on stderr and in the header. */
  readonly warnings: readonly string[];
}

function mcrelayServer(s: TwemproxyServer): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

/** The mcrelay config and notes for one parsed pool. */
export function translatePool(pool: TwemproxyPool): PoolImport {
  const warnings: string[] = [];
  const header: string[] = [];
  const comments = new Map<string, string[]>();
  const poolPtr = `/pools/${escapePointer(pool.name)}`;
  const given = pool.given;
  const unix = pool.servers.filter((s) => s.unixSocket);
  if (unix.length > 0) {
    throw new ImportError(unix[0]?.where ?? pool.where, `pool "${pool.name}": server "${unix[0]?.text ?? ''}" is a unix socket; mcrelay connects over TCP only, ` +
      'and leaving the server out would move its keys (serve it on a TCP port and name it with the socket path to keep its ring position)');
  }

  const mcPool: JsonObject = { servers: pool.servers.map(mcrelayServer) };
  if (pool.timeoutMs !== null) {
    mcPool['server_timeout'] = pool.timeoutMs;
    comments.set(`${poolPtr}/server_timeout`, [`twemproxy timeout: ${pool.timeoutMs} ms, for the connect and for each reply (connect_timeout follows server_timeout)`]);
  } else {
    warnings.push(`timeout: ${given.has('timeout') ? `${given.get('timeout') ?? ''} means` : 'not set:'} nutcracker waits forever for a server; mcrelay has no "forever": --server-timeout (default 1000 ms) applies, or set server_timeout`);
  }
  mcPool['keep_routing_prefix'] = true;
  comments.set(`${poolPtr}/keep_routing_prefix`, ['keys go upstream exactly as clients send them, even ones shaped like an mcrouter routing prefix (/a/b/rest)']);

  let route: JsonObject;
  if (pool.distribution === 'random') {
    route = { type: 'RandomRoute', children: `Pool|${pool.name}` };
    comments.set('/route', ['twemproxy distribution: random: each request goes to a server picked at random, weights ignored, as in nutcracker']);
    for (const key of ['hash', 'hash_tag']) if (given.has(key)) warnings.push(`${key}: unused with distribution random (as in nutcracker)`);
  } else {
    const hash: JsonObject = { hash_func: pool.distribution === 'ketama' ? 'Ketama' : 'Modula', key_hash: pool.hash };
    if (pool.servers.some((s) => s.weight !== 1)) hash['weights'] = pool.servers.map((s) => s.weight);
    const names = pool.servers.map((s) => (s.ringName === ketamaNodeName(s.host, s.port) ? null : s.ringName));
    if (names.some((n) => n !== null)) hash['names'] = names;
    if (pool.hashTag !== null) hash['hash_tag'] = pool.hashTag;
    route = { type: 'PoolRoute', pool: pool.name, hash };
    const what = [`distribution: ${pool.distribution}`, `hash: ${pool.hash}${given.has('hash') ? '' : ' (the default)'}`];
    if (pool.hashTag !== null) what.push(`hash_tag: "${pool.hashTag}"`);
    const lines = [`twemproxy ${what.join(', ')}: the same ring as nutcracker's`];
    if (hash['weights'] !== undefined) lines.push('weights: one per server, in server order');
    if (hash['names'] !== undefined) lines.push('names: each server\'s ring name where it is not host[:port] (null = derived from the address)');
    comments.set('/route/hash', lines);
  }

  const flags: string[] = [];
  if (pool.listen.kind === 'tcp') {
    flags.push('-p', String(pool.listen.port), '--listen-addresses', pool.listen.host);
  } else {
    warnings.push(`listen: ${pool.listen.text} is a unix socket; mcrelay listens on TCP only: pick a port with -p and point clients at it`);
  }
  flags.push('--send-invalid-route-to-default');
  header.push(...failureNotes(pool, flags, warnings));
  const conns = given.get('server_connections');
  if (conns !== undefined && conns !== '1') flags.push('--connections-per-destination', String(Number(conns)));
  if (given.get('tcpkeepalive') === 'true') {
    // nutcracker sets SO_KEEPALIVE and leaves timing to the kernel (Linux: 7200 s idle, 9 probes).
    flags.push('--keepalive-count', '9', '--keepalive-idle', '7200');
    warnings.push('tcpkeepalive: mcrelay turns keepalive on for client connections too');
  }
  if (given.has('client_connections')) {
    warnings.push(`client_connections: ${given.get('client_connections') ?? ''} is not carried over; nutcracker 0.5.0 does not enforce it either (mcrelay's --max-conns evicts the longest-idle client instead of refusing new ones)`);
  }
  if (given.has('backlog')) warnings.push(`backlog: ${given.get('backlog') ?? ''} is not carried over (mcrelay listens with Node's backlog, 511)`);
  if (given.get('preconnect') === 'true') warnings.push('preconnect: not carried over; mcrelay connects to a server on its first request');
  for (const key of ['redis_auth', 'redis_db']) if (given.has(key)) warnings.push(`${key}: not carried over (redis only)`);

  const config: JsonObject = { pools: { [pool.name]: mcPool }, route };
  const source = [
    `mcrelay config for twemproxy pool "${pool.name}" (${pool.where}), from \`mcrelay import twemproxy\`.`,
    `Every key lands on the server nutcracker puts it on (${pool.servers.length} server${pool.servers.length === 1 ? '' : 's'}), except keys`,
    'shaped like a routing prefix (/a/b/rest) or containing "|#|": mcrelay hashes them without the prefix, up to the "|#|".',
  ];
  const listenLine = pool.listen.kind === 'tcp'
    ? `nutcracker listened on ${pool.listen.text}; run mcrelay there (one process per twemproxy pool):`
    : `nutcracker listened on the unix socket ${pool.listen.path}; run mcrelay on a TCP port (one process per pool):`;
  comments.set('', [...source, listenLine, `  mcrelay --config file:${poolFileName(pool.name)} ${flags.join(' ')}`, ...header,
    ...(warnings.length === 0 ? [] : ['Not carried over:', ...warnings.map((w) => `  - ${w}`)])]);
  return { pool, config, comments, flags, warnings };
}

/** The TKO flags nearest to nutcracker's auto-eject settings, and the header lines that say what differs. */
function failureNotes(pool: TwemproxyPool, flags: string[], warnings: string[]): string[] {
  const g = pool.given;
  if (!pool.autoEjectHosts) {
    flags.push('--disable-tko-tracking');
    for (const key of ['server_failure_limit', 'server_retry_timeout']) {
      if (g.has(key)) warnings.push(`${key}: has no effect without auto_eject_hosts: true (as in nutcracker)`);
    }
    return [
      'Failures: auto_eject_hosts is false, so nutcracker never takes a server out: every request to a dead server',
      'gets an error. --disable-tko-tracking does the same (mcrelay would otherwise fail a dead server\'s keys fast).',
    ];
  }
  const limit = Math.max(1, pool.serverFailureLimit);
  const retry = Math.max(1, pool.serverRetryTimeoutMs);
  flags.push('--timeouts-until-tko', String(limit), '--probe-timeout-initial', String(retry), '--probe-timeout-max', String(retry));
  return [
    `Failures: auto_eject_hosts: true, server_failure_limit: ${pool.serverFailureLimit}, server_retry_timeout: ${pool.serverRetryTimeoutMs} ms. The nearest`,
    `mcrelay settings (the flags above): TKO after ${limit} timeout${limit === 1 ? '' : 's'} in a row, probed again after ${retry} ms. What differs:`,
    '  - nutcracker rebuilds the ring without an ejected server, so its keys move to the others (and back later);',
    '    mcrelay keeps every key in place and answers SERVER_ERROR for the down server\'s keys until it recovers;',
    '  - nutcracker counts every failure (refused, reset, timeout); mcrelay counts timeouts, and a refused',
    '    connect marks the server down at once;',
    '  - nutcracker lets the next client request retry the server after server_retry_timeout; mcrelay sends its',
    '    own probe (a "version" request, +5-50% jitter) and brings the server back when it answers.',
  ];
}

/** The file name `--out-dir` writes a pool's config to (and the header's run line names). */
export function poolFileName(pool: string): string {
  const safe = pool.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return `${safe === '' ? 'pool' : safe}.json`;
}

/** Render a PoolImport as JSON with `//` comments (mcrelay's config dialect). */
export function renderPoolImport(p: PoolImport): string {
  const head = (p.comments.get('') ?? []).map((l) => `// ${l}`.trimEnd());
  return `${[...head, renderValue(p.config, '', '', p.comments)].join('\n')}\n`;
}

function renderValue(v: Json, pointer: string, indent: string, comments: ReadonlyMap<string, readonly string[]>): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    const flat = JSON.stringify(v);
    if (v.every((x) => x === null || typeof x !== 'object') && flat.length + indent.length <= 100) return flat.replaceAll(',', ', ');
    return `[\n${v.map((x, i) => inner + renderValue(x, `${pointer}/${i}`, inner, comments)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.keys(v).map((k) => {
    const child = `${pointer}/${escapePointer(k)}`;
    const notes = (comments.get(child) ?? []).map((l) => `${inner}// ${l}\n`).join('');
    return `${notes}${inner}${JSON.stringify(k)}: ${renderValue(v[k] ?? null, child, inner, comments)}`;
  });
  return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
}
