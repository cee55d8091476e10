/**
 * The embedded router: mcrelay's route tree, placement, failover, TKO, hot reload and metrics inside a
 * Node process, with the sidecar's config and no client socket. Each call becomes the same Request the
 * sidecar would have parsed, goes through the same RouterCore, and its reply is decoded into a value.
 *
 * Batching: calls made in the same event-loop turn queue on their destinations' connections, which write
 * consecutive gets for one server as one `get k1 k2 …` line (up to 100 keys), so 100 concurrent get() calls
 * to one server cost one line and one reply stream. Each key still counts as one outstanding request
 * against --target-max-pending-requests (mcrouter's max_outstanding): merging saves syscalls and parsing,
 * not queue room, so a burst larger than the pending limit is refused per key exactly as in the sidecar.
 */
import type { Logger } from 'pino';
import { tick } from '../clock.js';
import { createLogger } from '../log.js';
import type { ProxyOptions } from '../options.js';
import { RequestParser, type LocalOp, type RequestSink } from '../protocol/request-parser.js';
import { OPS, Reply, Request, errorReply, isErrorResult, opIndex, type Op } from '../protocol/types.js';
import { ReloadWatcher } from '../router/config-watch.js';
import { RouterCore } from '../router/router-core.js';
import { startAdminHttp, type AdminHttp } from '../admin/admin-http.js';
import { CallDeadlines, PendingCall } from './call-deadlines.js';
import { McrelayError } from './mcrelay-error.js';
import { ReadThrough, type FetchOptions } from './read-through.js';
import { embeddedOptions, type RouterOptions } from './embedded-options.js';

export type { FetchOptions } from './read-through.js';
export type { RouterOptions } from './embedded-options.js';

/** A cached item. `cas` is set by `gets` (and by `getMulti` never). */
export interface Item {
  /** The value, byte-exact. */
  value: Buffer;
  /** The 32-bit client flags stored with it. */
  flags: number;
  /** The CAS unique, from `gets`. */
  cas?: bigint;
}

/** Options of the storage commands. */
export interface StoreOptions {
  /** Expiration time, seconds (memcached's exptime: 0 = never; over 30 days = a Unix time). Default 0. */
  ttl?: number;
  /** Client flags stored with the value (0 … 2^32-1). Default 0. */
  flags?: number;
}

/** A key: a string (its UTF-8 bytes) or the bytes themselves. */
export type Key = string | Buffer;
/** A value: bytes, or a string stored as its UTF-8 bytes. */
export type Value = Buffer | string;

/** The meta commands `meta()` sends. */
export type MetaCommand = 'mg' | 'ms' | 'md' | 'ma';

/** A meta reply: its status code, its return flags (letter → token, '' for a flag without one), its value. */
export interface MetaResult {
  status: 'VA' | 'HD' | 'EN' | 'NF' | 'NS' | 'EX';
  flags: Record<string, string>;
  value?: Buffer;
}

/** One destination as `stats()` reports it. */
export interface DestinationStatus {
  /** `host:port` as configured. */
  address: string;
  /** Pool name(s) it belongs to, as `/pools` names them (empty when unknown). */
  pool: string;
  /** TKO state. */
  state: 'up' | 'soft_tko' | 'hard_tko';
  /** Requests queued or on the wire. */
  pending: number;
  inflight: number;
  sent: number;
  replied: number;
  /** Send-to-reply latency, µs (null until a reply came). */
  latencyUs: { avg: number; p50: number; p99: number } | null;
  timeouts: number;
  errors: number;
}

/** What `stats()` returns. */
export interface RouterStats {
  /** Calls made and not yet answered. */
  outstanding: number;
  /** Config generation (1 = the first load) and its md5. */
  config: { generation: number; md5: string };
  /** Replies by result name since start. */
  requests: { sent: number; errors: number };
  destinations: DestinationStatus[];
}

/** Options of `close()`. */
export interface CloseOptions {
  /** How long outstanding calls may still finish, ms (default 5000). After that they reject. */
  drainMs?: number;
}

/** mcrelay as a library: the route tree of the sidecar, called in-process. */
export interface Router {
  /** The item, or undefined on a miss. */
  get(key: Key): Promise<Item | undefined>;
  /** The item with its CAS unique, or undefined on a miss. */
  gets(key: Key): Promise<Item | undefined>;
  /** The items found; missing keys are absent. Keys are decoded as UTF-8 (binary keys: use get). */
  getMulti(keys: readonly Key[]): Promise<Map<string, Item>>;
  /** Stored (true) or not stored (false). */
  set(key: Key, value: Value, opts?: StoreOptions): Promise<boolean>;
  add(key: Key, value: Value, opts?: StoreOptions): Promise<boolean>;
  replace(key: Key, value: Value, opts?: StoreOptions): Promise<boolean>;
  append(key: Key, value: Value, opts?: StoreOptions): Promise<boolean>;
  prepend(key: Key, value: Value, opts?: StoreOptions): Promise<boolean>;
  /** Compare-and-swap against a CAS unique from `gets`. */
  cas(key: Key, value: Value, cas: bigint, opts?: StoreOptions): Promise<'stored' | 'exists' | 'not_found'>;
  /** True when the key was deleted, false when it was not there. */
  delete(key: Key): Promise<boolean>;
  /** True when the key's TTL was changed, false when it was not there. */
  touch(key: Key, ttl: number): Promise<boolean>;
  /** The new value, or undefined when the key was not there. */
  incr(key: Key, delta: number | bigint): Promise<bigint | undefined>;
  decr(key: Key, delta: number | bigint): Promise<bigint | undefined>;
  /** Any meta command through the route tree, with memcached's flags (`['v', 't', 'N30']`). */
  meta(command: MetaCommand, key: Key, flags: readonly string[], value?: Value): Promise<MetaResult>;
  /** Read-through with herd protection across the fleet (see FetchOptions). */
  fetch(key: Key, loader: () => Promise<Value> | Value, opts: FetchOptions): Promise<Buffer>;
  /** Rebuild from the config source (or from `config`); false when invalid (the old config keeps serving). */
  reload(config?: RouterOptions['config']): boolean;
  stats(): RouterStats;
  close(opts?: CloseOptions): Promise<void>;
}

const EMPTY = Buffer.alloc(0);
/** `<op> ` by opIndex (an array read per call: see opIndex). */
const HEADS: Buffer[] = OPS.map((o) => Buffer.from(`${o.name} `, 'latin1'));
function head(op: Op): Buffer {
  return HEADS[opIndex(op)] as Buffer;
}
const GET = head('get');
const GETS = head('gets');
/** Values up to this size are copied out of the connection's read arena; larger ones have their own buffer. */
const COPY_MAX = 16 * 1024;
const CLOSED = errorReply('shutdown', 'router closed');

function clientError(line: string): McrelayError {
  return new McrelayError('CLIENT_ERROR', line);
}

/** A key's bytes, checked as memcached checks a text-protocol key. */
function keyBytes(key: Key): Buffer {
  const b = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (b.length === 0 || b.length > 250) throw clientError('CLIENT_ERROR bad command line format');
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c <= 0x20 || c === 0x7f) throw clientError('CLIENT_ERROR bad command line format');
  }
  return b;
}

function valueBytes(v: Value): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Client flags: memcached's 32-bit unsigned; anything else is the line memcached sends for a bad set. */
function flagsOf(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw clientError('CLIENT_ERROR bad command line format');
  return n;
}

/** An exptime: an integer, as memcached parses it (a fraction is a bad command line). */
function ttlOf(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n)) throw clientError('CLIENT_ERROR bad command line format');
  return n;
}

/** The decimal number at raw[pos…] up to the next space or CR; `end` receives where it stopped. */
function readUint(raw: Buffer, pos: number): number {
  let n = 0;
  for (let i = pos; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** Index of the next space at or after `pos`, or -1 before the line's end. */
function nextSpace(raw: Buffer, pos: number, eol: number): number {
  for (let i = pos; i < eol; i++) if (raw[i] === 0x20) return i;
  return -1;
}

/** `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` → Item, read in place. */
function decodeValue(raw: Buffer | null, withCas: boolean): Item {
  if (raw === null) return { value: EMPTY, flags: 0 };
  const eol = raw.indexOf(0x0d, 6);
  const afterKey = nextSpace(raw, 6, eol);
  const flags = readUint(raw, afterKey + 1);
  const lenAt = nextSpace(raw, afterKey + 1, eol) + 1;
  const len = readUint(raw, lenAt);
  const start = eol + 2;
  const view = raw.subarray(start, start + len);
  const value = len <= COPY_MAX ? Buffer.from(view) : view;
  if (!withCas) return { value, flags };
  const casAt = nextSpace(raw, lenAt, eol);
  const item: Item = { value, flags };
  if (casAt > 0) item.cas = BigInt(raw.toString('latin1', casAt + 1, eol));
  return item;
}

function decodeGet(reply: Reply): Item | undefined {
  return reply.result === 'found' ? decodeValue(reply.raw, false) : undefined;
}
function decodeGets(reply: Reply): Item | undefined {
  return reply.result === 'found' ? decodeValue(reply.raw, true) : undefined;
}
function isStored(reply: Reply): boolean {
  return reply.result === 'stored';
}

/** Collects what the request parser makes of one meta line (meta() reuses the sidecar's grammar). */
class OneRequest implements RequestSink {
  req: Request | null = null;
  error: string | null = null;
  request(req: Request): void {
    this.req = req;
  }
  multiGet(reqs: Request[]): void {
    this.req = reqs[0] ?? null;
  }
  local(_op: LocalOp, _args: Buffer, _noreply: boolean): void {
    this.error = 'CLIENT_ERROR not a keyed command';
  }
  replyLine(line: string): void {
    this.error = line;
  }
  fatal(line: string | null): void {
    this.error = line ?? 'CLIENT_ERROR bad command line format';
  }
}

function decodeMeta(op: MetaCommand, reply: Reply): MetaResult {
  const raw = reply.raw;
  if (raw === null) {
    // A reply the router made itself (NullRoute, a failover's synthetic answer).
    switch (reply.result) {
      case 'notfound': return { status: op === 'mg' ? 'EN' : 'NF', flags: {} };
      case 'notstored': return { status: 'NS', flags: {} };
      case 'exists': return { status: 'EX', flags: {} };
      default: return { status: 'HD', flags: {} };
    }
  }
  const eol = raw.indexOf(0x0d);
  const tokens = raw.toString('latin1', 0, eol < 0 ? raw.length : eol).split(' ');
  const status = tokens[0] as MetaResult['status'];
  const flags: Record<string, string> = {};
  let i = 1;
  let value: Buffer | undefined;
  if (status === 'VA') {
    const len = Number(tokens[1] ?? 0);
    i = 2;
    const view = raw.subarray(eol + 2, eol + 2 + len);
    value = len <= COPY_MAX ? Buffer.from(view) : view;
  }
  for (; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t !== '') flags[t[0] as string] = t.slice(1);
  }
  return value === undefined ? { status, flags } : { status, flags, value };
}

/** One call's promise and how its reply becomes the promise's value: one object per call. */
class Call<T> extends PendingCall {
  constructor(
    private readonly resolve: (v: T) => void,
    private readonly reject: (e: unknown) => void,
    private readonly decode: (reply: Reply) => T,
  ) {
    super();
  }

  protected answer(reply: Reply): void {
    if (isErrorResult(reply.result)) this.reject(McrelayError.fromReply(reply));
    else this.resolve(this.decode(reply));
  }
}

export class EmbeddedRouter implements Router {
  private readonly deadlines: CallDeadlines;
  private parser: RequestParser;
  private readonly sink = new OneRequest();
  private readonly readThrough: ReadThrough;
  private closed = false;

  constructor(
    /** The router under this API (the sidecar's RouterCore). */
    readonly core: RouterCore,
    private readonly watcher: ReloadWatcher | null,
    private readonly admin: AdminHttp | null,
  ) {
    const o = core.options;
    // The budget is the server timeout, plus the sweep's granularity.
    this.deadlines = new CallDeadlines(o.serverTimeoutMs + 10, errorReply('timeout', 'no reply within the server timeout'));
    this.parser = new RequestParser(this.sink);
    this.readThrough = new ReadThrough(this);
  }

  /** The port of the admin HTTP listener (`adminPort`), or null. */
  get adminPort(): number | null {
    return this.admin?.port ?? null;
  }

  /** Send one Request; `call` gets its reply (an error reply when the budget ran out). */
  private send(req: Request, call: PendingCall): void {
    if (this.closed) {
      call.onReply(CLOSED);
      return;
    }
    tick();
    this.core.routeTo(req, this.deadlines.track(call));
  }

  private call<T>(req: Request, decode: (reply: Reply) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => this.send(req, new Call(resolve, reject, decode)));
  }

  private retrieve(op: 'get' | 'gets', key: Key): Promise<Item | undefined> {
    let k: Buffer;
    try {
      k = keyBytes(key);
    } catch (err) {
      return Promise.reject(err);
    }
    const req = new Request(op, k, op === 'get' ? GET : GETS, EMPTY, null, false, 0);
    return this.call(req, op === 'get' ? decodeGet : decodeGets);
  }

  get(key: Key): Promise<Item | undefined> {
    return this.retrieve('get', key);
  }

  gets(key: Key): Promise<Item | undefined> {
    return this.retrieve('gets', key);
  }

  async getMulti(keys: readonly Key[]): Promise<Map<string, Item>> {
    const items = await Promise.all(keys.map((k) => this.retrieve('get', k)));
    const out = new Map<string, Item>();
    for (let i = 0; i < keys.length; i++) {
      const item = items[i];
      if (item !== undefined) {
        const k = keys[i] as Key;
        out.set(typeof k === 'string' ? k : k.toString('utf8'), item);
      }
    }
    return out;
  }

  private store(op: 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas', key: Key, value: Value, opts: StoreOptions | undefined, cas?: bigint): Request {
    const k = keyBytes(key);
    const v = valueBytes(value);
    const ttl = ttlOf(opts?.ttl);
    const flags = flagsOf(opts?.flags);
    const tail = cas === undefined ? ` ${flags} ${ttl} ${v.length}` : ` ${flags} ${ttl} ${v.length} ${cas}`;
    return new Request(op, k, head(op), Buffer.from(tail, 'latin1'), v, false, ttl);
  }

  private stored(op: 'set' | 'add' | 'replace' | 'append' | 'prepend', key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    let req: Request;
    try {
      req = this.store(op, key, value, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call(req, isStored);
  }

  set(key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    return this.stored('set', key, value, opts);
  }
  add(key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    return this.stored('add', key, value, opts);
  }
  replace(key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    return this.stored('replace', key, value, opts);
  }
  append(key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    return this.stored('append', key, value, opts);
  }
  prepend(key: Key, value: Value, opts?: StoreOptions): Promise<boolean> {
    return this.stored('prepend', key, value, opts);
  }

  cas(key: Key, value: Value, cas: bigint, opts?: StoreOptions): Promise<'stored' | 'exists' | 'not_found'> {
    let req: Request;
    try {
      if (typeof cas !== 'bigint' || cas < 0n) throw clientError('CLIENT_ERROR bad command line format');
      req = this.store('cas', key, value, opts, cas);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call(req, (reply) => (reply.result === 'stored' ? 'stored' : reply.result === 'exists' ? 'exists' : 'not_found'));
  }

  delete(key: Key): Promise<boolean> {
    let req: Request;
    try {
      req = new Request('delete', keyBytes(key), head('delete'), EMPTY, null, false, 0);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call(req, (reply) => reply.result === 'deleted');
  }

  touch(key: Key, ttl: number): Promise<boolean> {
    let req: Request;
    try {
      const t = ttlOf(ttl);
      req = new Request('touch', keyBytes(key), head('touch'), Buffer.from(` ${t}`, 'latin1'), null, false, t);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call(req, (reply) => reply.result === 'touched');
  }

  private arith(op: 'incr' | 'decr', key: Key, delta: number | bigint): Promise<bigint | undefined> {
    let req: Request;
    try {
      const d = BigInt(delta);
      if (d < 0n || d > 0xffffffffffffffffn) throw clientError('CLIENT_ERROR invalid numeric delta argument');
      req = new Request(op, keyBytes(key), head(op), Buffer.from(` ${d}`, 'latin1'), null, false, 0);
    } catch (err) {
      return Promise.reject(err instanceof McrelayError ? err : clientError('CLIENT_ERROR invalid numeric delta argument'));
    }
    return this.call(req, (reply) => {
      if (reply.result !== 'found' || reply.raw === null) return undefined;
      const eol = reply.raw.indexOf(0x0d);
      return BigInt(reply.raw.toString('latin1', 0, eol < 0 ? reply.raw.length : eol).trim());
    });
  }

  incr(key: Key, delta: number | bigint): Promise<bigint | undefined> {
    return this.arith('incr', key, delta);
  }
  decr(key: Key, delta: number | bigint): Promise<bigint | undefined> {
    return this.arith('decr', key, delta);
  }

  /** Parse one meta command line exactly as the sidecar parses it. */
  private metaRequest(command: MetaCommand, key: Key, flags: readonly string[], value?: Value): Request {
    if (command !== 'mg' && command !== 'ms' && command !== 'md' && command !== 'ma') throw clientError('CLIENT_ERROR bad command line format');
    const k = keyBytes(key);
    for (const f of flags) {
      if (typeof f !== 'string' || f.length === 0 || /[\s]/.test(f)) throw clientError('CLIENT_ERROR bad token in command line format');
      if (f === 'q') throw clientError('CLIENT_ERROR quiet mode is not available through meta(); leave out q');
    }
    const v = command === 'ms' ? valueBytes(value ?? EMPTY) : null;
    const parts: Buffer[] = [head(command), k];
    if (v !== null) parts.push(Buffer.from(` ${v.length}`, 'latin1'));
    if (flags.length > 0) parts.push(Buffer.from(` ${flags.join(' ')}`, 'latin1'));
    parts.push(Buffer.from('\r\n'));
    if (v !== null) parts.push(v, Buffer.from('\r\n'));
    const sink = this.sink;
    sink.req = null;
    sink.error = null;
    this.parser.feed(Buffer.concat(parts));
    if (sink.error !== null || sink.req === null) {
      const line = sink.error ?? 'CLIENT_ERROR bad command line format';
      this.parser = new RequestParser(sink);
      throw line.startsWith('SERVER_ERROR') ? new McrelayError('SERVER_ERROR', line, 'local_error') : clientError(line);
    }
    return sink.req;
  }

  meta(command: MetaCommand, key: Key, flags: readonly string[], value?: Value): Promise<MetaResult> {
    let req: Request;
    try {
      req = this.metaRequest(command, key, flags, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call(req, (reply) => decodeMeta(command, reply));
  }

  fetch(key: Key, loader: () => Promise<Value> | Value, opts: FetchOptions): Promise<Buffer> {
    return this.readThrough.fetch(key, loader, opts);
  }

  reload(config?: RouterOptions['config']): boolean {
    if (config !== undefined) {
      let next: ProxyOptions;
      try {
        next = embeddedOptions({ config });
      } catch (err) {
        this.core.log.error({ reason: 'api', err: err instanceof Error ? err.message : String(err) }, 'Failed to reconfigure');
        return false;
      }
      const o = this.core.options as { config: string | null; configStr: string | null };
      const before = { config: o.config, configStr: o.configStr };
      o.config = next.config;
      o.configStr = next.configStr;
      const ok = this.core.reload('api');
      if (!ok) {
        o.config = before.config;
        o.configStr = before.configStr;
      }
      return ok;
    }
    return this.core.reload('api');
  }

  stats(): RouterStats {
    const core = this.core;
    const obs = core.observability;
    const byDest = new Map(obs === null ? [] : obs.liveDestinations().map((ds) => [ds.destination, ds]));
    const destinations: DestinationStatus[] = core.destinations.all().map((d) => {
      const ds = byDest.get(d);
      const lat = ds !== undefined && ds.latency.count > 0
        ? { avg: d.replied === 0 ? 0 : d.latencySumUs / d.replied, p50: ds.latency.percentileUs(0.5), p99: ds.latency.percentileUs(0.99) }
        : d.replied > 0 ? { avg: d.latencySumUs / d.replied, p50: NaN, p99: NaN } : null;
      return {
        address: d.address,
        pool: ds?.pool ?? '',
        state: d.tko.state,
        pending: d.pendingCount(),
        inflight: d.inflightCount(),
        sent: d.sent,
        replied: d.replied,
        latencyUs: lat,
        timeouts: d.timeouts,
        errors: d.errors,
      };
    });
    return {
      outstanding: this.deadlines.outstanding,
      config: { generation: core.active.generation, md5: core.active.source.md5 },
      requests: { sent: core.stats.requestSent, errors: core.stats.requestErrors },
      destinations,
    };
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.stop();
    const drainMs = opts.drainMs ?? 5_000;
    const started = Date.now();
    while (this.deadlines.outstanding > 0 && Date.now() - started < drainMs) await new Promise((r) => setTimeout(r, 5));
    this.deadlines.failAll(CLOSED);
    await this.admin?.close();
    await this.core.close();
  }
}

/**
 * Start an embedded router. `config` is `file:PATH` (watched and reloaded like the sidecar's), an
 * `etcd://` URL, a config object, or JSON/YAML text; every other field is a sidecar option in camelCase
 * (`serverTimeoutMs`, `localZone`, `adminPort`, …).
 * @throws ConfigError (with its JSON pointer in `path`) when the config is invalid.
 */
export async function createRouter(options: RouterOptions, log?: Logger): Promise<Router> {
  const o: ProxyOptions = embeddedOptions(options);
  const logger = log ?? createLogger(o.logLevel, { pretty: o.logPretty });
  const core = new RouterCore(o, logger, { observe: true });
  try {
    await core.fetchConfig();
    await core.resolveMembers();
    core.loadConfig();
  } catch (err) {
    await core.close();
    throw err;
  }
  let watcher: ReloadWatcher | null = null;
  if (o.configStr === null) {
    watcher = new ReloadWatcher(core, { pollMs: 100, delayMs: o.reconfigurationDelayMs, log: logger, sighup: false });
    watcher.start();
  }
  let admin: AdminHttp | null = null;
  const obs = core.observability;
  if (o.adminPort !== null && obs !== null) {
    try {
      admin = await startAdminHttp(core, obs, logger, o.adminPort, o.adminAddress);
    } catch (err) {
      watcher?.stop();
      await core.close();
      throw err;
    }
  }
  return new EmbeddedRouter(core, watcher, admin);
}
