/**
 * The two values that flow through mcrelay: a Request (a view over the client's bytes) and a Reply
 * (a result code plus, when an upstream answered, that upstream's exact bytes).
 *
 * Requests are immutable once parsed: routes that need a different key or exptime make a copy with
 * `withKey()` / `withLine()`, so one Request can be sent to many children safely (AllSync, shadows).
 *
 * This module also owns the table of operations (`OPS`): every list of op names elsewhere (stats lines,
 * metric labels, authorization names, routing groups, the config schema) is derived from it.
 */

/** Operation classes, as mcrouter's RoutingGroupRoute names them; `other` holds the ops that carry no key. */
export const OP_GROUPS = ['get_like', 'update_like', 'delete_like', 'arithmetic_like', 'other'] as const;

/** Operation classes, as mcrouter's RoutingGroupRoute names them. */
export type OpGroup = (typeof OP_GROUPS)[number];

/** The groups of ops that carry a key: RoutingGroupRoute's policy names and authorization's op classes. */
export type RoutingGroup = Exclude<OpGroup, 'other'>;

/** The shape of one row of `OPS`. */
export interface OpSpec {
  /** The op's name, which is also its wire verb (`flush_all`, `mg`). */
  readonly name: string;
  /** mcrouter's stat name (`cmd_<stat>_count`, `duration_<stat>_p50_us`, the `op` metric label). */
  readonly stat: string;
  readonly group: OpGroup;
  /** Carries one key and goes through the route tree; the others are answered by the session itself. */
  readonly routable: boolean;
  /** A data block follows the command line. */
  readonly value: boolean;
  /** A meta-protocol command (two-letter verb, flags instead of positional tokens). */
  readonly meta: boolean;
  /** A classic retrieval: takes several keys (`get a b c`) and answers hits as VALUE blocks ended by one END. */
  readonly multiKey: boolean;
  /**
   * ModifyExptimeRoute may set its exptime (ms gets a T flag added when it has none). mg and ma are false:
   * they are rewritten only when they already carry a T flag.
   */
  readonly exptime: boolean;
  /** Which of `stats`' duration_get_us / duration_update_us averages it counts in, if either. */
  readonly durationStat: 'get' | 'update' | null;
  /**
   * The carbon operation names OperationSelectorRoute looks up for it, in order (the first configured
   * one wins); empty: default_policy.
   */
  readonly carbon: readonly string[];
}

/**
 * Every operation mcrelay understands, in `stats` order (the `cmd_<op>_count` lines come out in this order).
 * The position of a row is the op's index in per-op counters (`opIndex`).
 */
export const OPS = [
  { name: 'get',       stat: 'get',       group: 'get_like',        routable: true,  value: false, meta: false, multiKey: true,  exptime: false, durationStat: 'get',    carbon: ['get'] },
  { name: 'gets',      stat: 'gets',      group: 'get_like',        routable: true,  value: false, meta: false, multiKey: true,  exptime: false, durationStat: 'get',    carbon: ['gets'] },
  { name: 'gat',       stat: 'gat',       group: 'get_like',        routable: true,  value: false, meta: false, multiKey: true,  exptime: true,  durationStat: 'get',    carbon: ['gat'] },
  { name: 'gats',      stat: 'gats',      group: 'get_like',        routable: true,  value: false, meta: false, multiKey: true,  exptime: true,  durationStat: 'get',    carbon: ['gats'] },
  { name: 'set',       stat: 'set',       group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['set'] },
  { name: 'add',       stat: 'add',       group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['add'] },
  { name: 'replace',   stat: 'replace',   group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['replace'] },
  { name: 'append',    stat: 'append',    group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['append'] },
  { name: 'prepend',   stat: 'prepend',   group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['prepend'] },
  { name: 'cas',       stat: 'cas',       group: 'update_like',     routable: true,  value: true,  meta: false, multiKey: false, exptime: true,  durationStat: 'update', carbon: ['cas'] },
  { name: 'delete',    stat: 'delete',    group: 'delete_like',     routable: true,  value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: ['delete'] },
  { name: 'incr',      stat: 'incr',      group: 'arithmetic_like', routable: true,  value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: ['incr'] },
  { name: 'decr',      stat: 'decr',      group: 'arithmetic_like', routable: true,  value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: ['decr'] },
  { name: 'touch',     stat: 'touch',     group: 'update_like',     routable: true,  value: false, meta: false, multiKey: false, exptime: true,  durationStat: null,     carbon: ['touch'] },
  { name: 'mg',        stat: 'mg',        group: 'get_like',        routable: true,  value: false, meta: true,  multiKey: false, exptime: false, durationStat: 'get',    carbon: ['get'] },
  { name: 'ms',        stat: 'ms',        group: 'update_like',     routable: true,  value: true,  meta: true,  multiKey: false, exptime: true,  durationStat: 'update', carbon: ['set'] },
  { name: 'md',        stat: 'md',        group: 'delete_like',     routable: true,  value: false, meta: true,  multiKey: false, exptime: false, durationStat: null,     carbon: ['delete'] },
  { name: 'ma',        stat: 'ma',        group: 'arithmetic_like', routable: true,  value: false, meta: true,  multiKey: false, exptime: false, durationStat: null,     carbon: ['incr'] },
  { name: 'me',        stat: 'me',        group: 'get_like',        routable: true,  value: false, meta: true,  multiKey: false, exptime: false, durationStat: null,     carbon: ['metaget', 'get'] },
  { name: 'mn',        stat: 'mn',        group: 'other',           routable: false, value: false, meta: true,  multiKey: false, exptime: false, durationStat: null,     carbon: [] },
  { name: 'version',   stat: 'version',   group: 'other',           routable: false, value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: [] },
  { name: 'verbosity', stat: 'verbosity', group: 'other',           routable: false, value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: [] },
  { name: 'flush_all', stat: 'flushall',  group: 'other',           routable: false, value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: [] },
  { name: 'stats',     stat: 'stats',     group: 'other',           routable: false, value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: [] },
  { name: 'quit',      stat: 'quit',      group: 'other',           routable: false, value: false, meta: false, multiKey: false, exptime: false, durationStat: null,     carbon: [] },
] as const satisfies readonly OpSpec[];

/** One row of `OPS`, with its literal types. */
export type OpInfo = (typeof OPS)[number];

/** Every operation mcrelay understands, named by its wire verb. */
export type Op = OpInfo['name'];

/** The ops that carry a key and go through the route tree. */
export type RoutableOp = Extract<OpInfo, { readonly routable: true }>['name'];

/** The ops the session answers itself (no key, no route). */
export type SessionOp = Extract<OpInfo, { readonly routable: false }>['name'];

/**
 * Op → its position in `OPS`, the index of its slot in per-op counters (-1 for a name that is no op).
 *
 * A switch, not a property read: `table[op]` with a different name per call is a megamorphic keyed load
 * (a stub-cache probe, ~12 ns on this machine), and it ran several times per request (3 % of the CPU of
 * a pipelined get/set load under perf). Op strings are the parser's literals, so each case is one pointer
 * compare; the common ops come first. test/unit/protocol/ops-table.test.ts checks it against `OPS`.
 */
export function opIndex(op: Op): number {
  switch (op) {
    case 'get': return 0;
    case 'gets': return 1;
    case 'gat': return 2;
    case 'gats': return 3;
    case 'set': return 4;
    case 'add': return 5;
    case 'replace': return 6;
    case 'append': return 7;
    case 'prepend': return 8;
    case 'cas': return 9;
    case 'delete': return 10;
    case 'incr': return 11;
    case 'decr': return 12;
    case 'touch': return 13;
    case 'mg': return 14;
    case 'ms': return 15;
    case 'md': return 16;
    case 'ma': return 17;
    case 'me': return 18;
    case 'mn': return 19;
    case 'version': return 20;
    case 'verbosity': return 21;
    case 'flush_all': return 22;
    case 'stats': return 23;
    case 'quit': return 24;
    default: return -1;
  }
}

/** Op → its row, for the request path. */
export function opInfo(op: Op): OpInfo {
  return OPS[opIndex(op)] as OpInfo;
}

/** The routable ops, in table order. */
export const ROUTABLE_OPS: readonly RoutableOp[] = OPS.filter((o): o is Extract<OpInfo, { readonly routable: true }> => o.routable).map((o) => o.name);

const ROUTABLE_SET: ReadonlySet<string> = new Set(ROUTABLE_OPS);

/** The groups of routable ops, in `OP_GROUPS` order. */
export const ROUTING_GROUPS: readonly RoutingGroup[] = OP_GROUPS.filter((g): g is RoutingGroup => g !== 'other');

/** True when `name` is an op a key can be routed with (admin `route` commands take op names as text). */
export function isRoutableOp(name: string): name is RoutableOp {
  return ROUTABLE_SET.has(name);
}

/** The ops of `group`, in table order. */
export function opsInGroup(group: OpGroup): Op[] {
  return OPS.filter((o) => o.group === group).map((o) => o.name);
}

/** The counter indices (positions in OPS) of the ops whose row passes `test`, in table order. */
export function opIndicesWhere(test: (o: OpInfo) => boolean): number[] {
  const out: number[] = [];
  OPS.forEach((o, i) => {
    if (test(o)) out.push(i);
  });
  return out;
}

/** Ops in the get_like group: get, gets, gat, gats, mg, me. */
export function isGetLike(op: Op): boolean {
  return opInfo(op).group === 'get_like';
}

/** The op's group (mcrouter's RoutingGroupRoute classes). */
export function opGroup(op: Op): OpGroup {
  return opInfo(op).group;
}

/** True for ops that carry a data block after the command line. */
export function hasValue(op: Op): boolean {
  return opInfo(op).value;
}

/** True for the meta-protocol commands (mg, ms, md, ma, me, mn). */
export function isMeta(op: Op): boolean {
  return opInfo(op).meta;
}

/** True for the classic retrievals (get, gets, gat, gats): several keys per line, VALUE blocks and one END. */
export function isMultiKeyGet(op: Op): boolean {
  return opInfo(op).multiKey;
}

/**
 * One client request for one key (a multi-key `get a b c` is split by the session into one Request
 * per key; the upstream connection merges them back into one line per destination).
 *
 * Wire layout, all views into the client's buffer (no copies on the hot path):
 *
 *   head      key        tail                       value (storage ops and ms only)
 *   "set "   "foo"   " 0 0 5"          "\r\n"        "hello"   "\r\n"
 *
 * `tail` has `noreply` (classic) or the `q` flag (meta) already removed: mcrelay always asks the upstream
 * for a reply (so pipelined FIFO matching can never desync) and drops it when the client asked for quiet.
 */
export class Request {
  constructor(
    readonly op: Op,
    /** The key as the client sent it (including any /region/cluster/ routing prefix). */
    readonly key: Buffer,
    /** Command-line bytes before the key (e.g. `set `, `gat 100 `, `mg `). */
    readonly head: Buffer,
    /** Command-line bytes after the key, without line terminator and without noreply / `q`. */
    readonly tail: Buffer,
    /** Data block without its trailing \r\n, or null. */
    readonly value: Buffer | null,
    /** The client asked for no reply (classic `noreply`) or quiet mode (meta `q`). */
    readonly quiet: boolean,
    /** Parsed exptime for ops that carry one (storage, touch, gat/gats), else 0. Meta: from the T flag. */
    readonly exptime: number,
  ) {}

  private rk: Buffer | null = null;
  private oi = -1;
  /**
   * Meta requests with the `b` flag: the base64 key text as the client sent it. `key` holds the decoded
   * bytes (routing and hashing use those); the upstream gets this form, since memcached decodes it itself.
   */
  wireKey: Buffer | null = null;
  /**
   * Who sent it: the id of the client session (set by the session), so a destination at its in-flight cap
   * serves waiting requests round-robin across clients. 0 = no client (probes, refills, admin); copies
   * made with withKey/withLine keep it.
   */
  client = 0;
  /**
   * Quiet mode the upstream itself must apply: the request goes out with `q` and an `mn` after it, and
   * the reply is whatever came before the MN (nothing, or one reply). Only for what mcrelay cannot decide
   * from a reply: an `ma … q N…` shows the HD of an item it created but hides an update's, and both read
   * the same. Copies made with withKey/withLine keep it.
   */
  quietUpstream = false;

  /**
   * The routing key (mcrouter): the key without its `/region/cluster/` routing prefix, cut at the first
   * `|#|` hash stop. This is what hash functions and prefix selectors see. Computed once, on first use.
   */
  routingKey(): Buffer {
    let rk = this.rk;
    if (rk === null) {
      rk = computeRoutingKey(this.key);
      this.rk = rk;
    }
    return rk;
  }

  /**
   * The op's row in `OPS` ({@link opIndex}), computed on first use and kept: the request path asks for it
   * when it counts the request, and the reply path reuses it, so the op switch runs (and is inlined) once.
   */
  opSlot(): number {
    let i = this.oi;
    if (i < 0) {
      i = opIndex(this.op);
      this.oi = i;
    }
    return i;
  }

  /** Length of the `/region/cluster/` routing prefix, or 0. */
  routingPrefixLength(): number {
    return routingPrefixLength(this.key);
  }

  /** A copy with another key (the rest of the command line and the value are shared, not copied). */
  withKey(key: Buffer): Request {
    const r = new Request(this.op, key, this.head, this.tail, this.value, this.quiet, this.exptime);
    r.client = this.client;
    r.quietUpstream = this.quietUpstream;
    return r;
  }

  /** The key bytes to write upstream, before any routing-prefix stripping. */
  wireKeyOrKey(): Buffer {
    return this.wireKey ?? this.key;
  }

  /** A copy with another command line around the same key (used by exptime rewrites). */
  withLine(head: Buffer, tail: Buffer, exptime: number): Request {
    const r = new Request(this.op, this.key, head, tail, this.value, this.quiet, exptime);
    r.client = this.client;
    r.quietUpstream = this.quietUpstream;
    r.wireKey = this.wireKey;
    return r;
  }

  /** A copy with another op and line (e.g. L1 refill `add` built from a `get`). */
  static synthesize(op: Op, key: Buffer, head: string, tail: string, value: Buffer | null, exptime: number): Request {
    return new Request(op, key, Buffer.from(head, 'latin1'), Buffer.from(tail, 'latin1'), value, false, exptime);
  }

  /** The key as text, for logs and debug output only (never on the hot path). */
  keyString(): string {
    return this.key.toString('latin1');
  }
}

const SLASH = 0x2f;
const PIPE = 0x7c;
const HASH = 0x23;

/**
 * `/a/b/rest` has routing prefix `/a/b/` (both components non-empty); anything else has none.
 */
export function routingPrefixLength(key: Buffer): number {
  if (key.length < 5 || key[0] !== SLASH) return 0;
  const second = key.indexOf(SLASH, 1);
  if (second <= 1) return 0;
  const third = key.indexOf(SLASH, second + 1);
  if (third <= second + 1) return 0;
  return third + 1;
}

/** {@link routingPrefixLength} of the key `buf[start, end)`, without a Buffer for it. */
export function routingPrefixLengthIn(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 5 || buf[start] !== SLASH) return 0;
  let second = start + 1;
  while (second < end && buf[second] !== SLASH) second++;
  if (second >= end || second === start + 1) return 0;
  let third = second + 1;
  while (third < end && buf[third] !== SLASH) third++;
  if (third >= end || third === second + 1) return 0;
  return third + 1 - start;
}

/** Position of the first `|#|` in key[from, end), or -1. */
export function hashStopIndex(key: Buffer, from: number, end: number = key.length): number {
  if (end - from <= 64) {
    // Short keys (almost all): a JS scan is cheaper than Buffer#indexOf's call into C++.
    for (let i = from, last = end - 2; i < last; i++) {
      if (key[i] === PIPE && key[i + 1] === HASH && key[i + 2] === PIPE) return i;
    }
    return -1;
  }
  for (let i = key.indexOf(PIPE, from); i !== -1 && i + 2 < end; i = key.indexOf(PIPE, i + 1)) {
    if (key[i + 1] === HASH && key[i + 2] === PIPE) return i;
  }
  return -1;
}

export function computeRoutingKey(key: Buffer): Buffer {
  const start = routingPrefixLength(key);
  const stop = hashStopIndex(key, start);
  if (start === 0 && stop === -1) return key;
  return key.subarray(start, stop === -1 ? key.length : stop);
}

/**
 * Result codes, named after mcrouter's carbon results. Upstream trouble is data, never an exception.
 */
export type Result =
  // success-ish
  | 'found' | 'notfound' | 'stored' | 'notstored' | 'exists' | 'deleted' | 'touched' | 'ok'
  // errors (mcrouter: "error" means anything from ooo upwards)
  | 'timeout' | 'connect_error' | 'connect_timeout' | 'tko' | 'busy' | 'try_again' | 'shutdown'
  | 'remote_error' | 'local_error' | 'client_error' | 'bad_key' | 'permission_denied' | 'deadline_exceeded';

/**
 * A reply. `raw` holds the upstream's exact bytes for this request when an upstream answered:
 *  - get/gets/gat/gats: the `VALUE ...\r\n<data>\r\n` block of a hit (no END; the session adds one END);
 *  - everything else: the whole reply (status line, plus data for mg/ma/me hits).
 * When `raw` is null the session renders the reply from `result` and `message`.
 */
export class Reply {
  constructor(
    readonly result: Result,
    readonly raw: Buffer | null = null,
    /** Error text for SERVER_ERROR / CLIENT_ERROR replies mcrelay makes itself. */
    readonly message: string | null = null,
    /** Set on replies that came from a failover target (for stats and debugging). */
    readonly isFailover: boolean = false,
  ) {}

  private ri = -1;

  /** A `found` reply with its result slot already known (the upstream's get hit, the commonest reply). */
  static hit(raw: Buffer): Reply {
    const r = new Reply('found', raw);
    r.ri = FOUND_RESULT;
    return r;
  }

  /**
   * The result's position in `ALL_RESULTS` ({@link resultIndex}), computed on first use and kept: the
   * destination and the proxy counters both index by it, and the result switch then runs once per reply.
   */
  resultSlot(): number {
    const i = this.ri;
    return i >= 0 ? i : this.fillResultSlot();
  }

  private fillResultSlot(): number {
    const i = resultIndex(this.result);
    this.ri = i;
    return i;
  }
}

/**
 * A shared constant reply, frozen so no route can change it. Its result slot is filled in first, since a
 * frozen object cannot cache it later.
 */
export function frozenReply(r: Reply): Reply {
  r.resultSlot();
  Object.freeze(r);
  return r;
}

/** mcrouter's result severity (McResUtil::resultSeverity); larger is worse. Used by AllSync/AllMajority. */
export function resultSeverity(r: Result): number {
  switch (r) {
    case 'ok': case 'stored': case 'exists': case 'deleted': case 'found':
      return 1;
    case 'notfound': case 'notstored':
      return 4;
    case 'timeout': case 'connect_timeout': case 'connect_error': case 'busy': case 'shutdown': case 'try_again': case 'tko':
      return 5;
    case 'bad_key': case 'deadline_exceeded':
      return 6;
    case 'remote_error':
      return 7;
    case 'local_error':
      return 8;
    case 'client_error':
      return 9;
    default:
      // mcrouter quirk kept on purpose: `touched` is not in its table and falls to the default.
      return 10;
  }
}

export function isHit(r: Reply): boolean {
  return r.result === 'found';
}

export function isMiss(r: Reply): boolean {
  return r.result === 'notfound';
}

/** mcrouter's isErrorResult: every transport, server or local failure (misses and NOT_STORED are not errors). */
export function isErrorResult(r: Result): boolean {
  switch (r) {
    case 'found': case 'notfound': case 'stored': case 'notstored': case 'exists': case 'deleted': case 'touched': case 'ok':
      return false;
    default:
      return true;
  }
}

export function isError(r: Reply): boolean {
  return isErrorResult(r.result);
}

/** Results that count as a TKO reply (the request was never sent); failover does not count them as a try. */
export function isTkoResult(r: Result): boolean {
  return r === 'tko';
}

/** Hard-TKO results: the destination could not be reached at all. */
export function isHardTkoResult(r: Result): boolean {
  return r === 'connect_error' || r === 'connect_timeout' || r === 'shutdown';
}

/** The default failover-class errors (mcrouter FailoverRoute / asynclog). */
export const FAILOVER_ERRORS: readonly Result[] = [
  'busy', 'shutdown', 'tko', 'try_again', 'local_error', 'connect_error', 'connect_timeout', 'timeout',
  'remote_error', 'deadline_exceeded',
];

const DEFAULT_FAILOVER_SET = new Set<Result>(FAILOVER_ERRORS);

export function isFailoverError(r: Result): boolean {
  return DEFAULT_FAILOVER_SET.has(r);
}

/** All result names, for config validation (`failover_errors`). */
export const ALL_RESULTS: readonly Result[] = [
  'found', 'notfound', 'stored', 'notstored', 'exists', 'deleted', 'touched', 'ok',
  'timeout', 'connect_error', 'connect_timeout', 'tko', 'busy', 'try_again', 'shutdown',
  'remote_error', 'local_error', 'client_error', 'bad_key', 'permission_denied', 'deadline_exceeded',
];

/**
 * `ALL_RESULTS` lists the successes first: a result index at or above this one is an error
 * ({@link isErrorResult}), so a counter that has the index tells success from error with one compare.
 */
export const FIRST_ERROR_RESULT = 8;

/** `ALL_RESULTS` position of `found`, the result a multi-get hit counts under. */
export const FOUND_RESULT = 0;

/** Result → its position in `ALL_RESULTS` (a switch for the reason given at {@link opIndex}). */
export function resultIndex(r: Result): number {
  switch (r) {
    case 'found': return 0;
    case 'notfound': return 1;
    case 'stored': return 2;
    case 'notstored': return 3;
    case 'exists': return 4;
    case 'deleted': return 5;
    case 'touched': return 6;
    case 'ok': return 7;
    case 'timeout': return 8;
    case 'connect_error': return 9;
    case 'connect_timeout': return 10;
    case 'tko': return 11;
    case 'busy': return 12;
    case 'try_again': return 13;
    case 'shutdown': return 14;
    case 'remote_error': return 15;
    case 'local_error': return 16;
    case 'client_error': return 17;
    case 'bad_key': return 18;
    case 'permission_denied': return 19;
    case 'deadline_exceeded': return 20;
    default: return -1;
  }
}

/** mcrouter's default ASCII text for an error result without a custom message. */
export function defaultErrorText(r: Result): string {
  switch (r) {
    case 'timeout': return 'SERVER_ERROR timeout';
    case 'connect_timeout': return 'SERVER_ERROR connection timeout';
    case 'connect_error': return 'SERVER_ERROR connection error';
    case 'busy': return 'SERVER_ERROR 307 busy';
    case 'try_again': return 'SERVER_ERROR 302 try again';
    case 'shutdown': return 'SERVER_ERROR 301 shutdown';
    case 'tko': return 'SERVER_ERROR unavailable';
    case 'deadline_exceeded': return 'SERVER_ERROR request deadline exceeded';
    case 'remote_error': return 'SERVER_ERROR remote error';
    case 'permission_denied': return 'SERVER_ERROR permission denied';
    case 'client_error': return 'CLIENT_ERROR bad command';
    case 'bad_key': return 'CLIENT_ERROR bad key';
    default: return 'SERVER_ERROR local error';
  }
}

/** A reply made by mcrelay itself (no upstream bytes). */
export function errorReply(result: Result, message: string | null = null): Reply {
  return new Reply(result, null, message);
}
