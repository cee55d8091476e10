/**
 * Selector: the single entry point PoolRoute/HashRoute use to map a routing key to a server index.
 *
 * createSelector(spec, servers) validates parameters, precomputes everything (furc thresholds,
 * Rendezvous tag hashes, ketama ring, modula slots), and returns `select(routingKey)`, which:
 * - hashes raw BYTES (routing prefix already removed, cut at the first `|#|` by the caller);
 * - appends `salt` (mcrouter semantics: plain byte concatenation, '' = none) into a reusable scratch
 *   buffer — no per-call allocation when the salt is empty (Jump with a salt allocates one view);
 * - for Ketama/Modula applies twemproxy's hash_tag to the routing key FIRST, then appends the salt;
 *   an empty hashed key has hash 0; a 1-server pool always returns 0 (true for every function).
 *
 * Hash functions: Ch3 (furc), WeightedCh3, Crc32, ConstShard, Rendezvous, WeightedRendezvous
 * (mcrouter.md §3), Ketama / Modula (twemproxy, peers.md §2.3), Jump (farmhash fingerprint64 + jump).
 *
 * Modula follows nutcracker's server order (servers sorted by node name, see ketama.ts), not config order.
 *
 * Default key hash for Ketama/Modula: **fnv1a_64**, twemproxy's default, so a nutcracker pool
 * that omits `hash:` keeps its placement when moved to mcrelay. For libmemcached
 * (KETAMA_WEIGHTED / "libketama compatible") placement set keyHash: 'md5'.
 */
import { furcHash, FURC_MAX_POOL_SIZE } from './furc.js';
import { weightedCh3Index, weightedCh3Thresholds } from './weighted-ch3.js';
import { crc32HashIndex } from './crc32.js';
import { constShardIndex } from './const-shard.js';
import { rendezvousIndex, rendezvousTagHashes, weightedRendezvousIndex } from './rendezvous.js';
import { buildKetamaRing, buildModulaSlots, ketamaLookup, ketamaNodeName, twemproxyServerOrder } from './ketama.js';
import { getKeyHash } from './key-hashes.js';
import { jumpIndex } from './jump.js';
import { spooky32 as spooky32Impl } from './spooky-v2.js';
import { view } from '../../protocol/bytes.js';

export type HashFuncName =
  | 'Ch3'
  | 'WeightedCh3'
  | 'Crc32'
  | 'ConstShard'
  | 'Rendezvous'
  | 'WeightedRendezvous'
  | 'Ketama'
  | 'Modula'
  | 'Jump';

export interface HashSpec {
  hashFunc: HashFuncName;
  /** Appended to the routing key before hashing (mcrouter semantics); '' = none. */
  salt?: string;
  /** WeightedCh3 / WeightedRendezvous: floats in [0,1] (>= 0 for WeightedRendezvous); Ketama/Modula: positive integers. */
  weights?: readonly number[];
  /** Rendezvous / WeightedRendezvous: one tag per server. */
  tags?: readonly string[];
  /** Ketama/Modula: twemproxy key hash name. Default: 'fnv1a_64' (twemproxy's default). */
  keyHash?: string;
  /** Ketama/Modula: explicit node names (twemproxy "host:port:weight name"); null/'' = derive from host:port. Modula slot order follows twemproxy's name sort. */
  names?: readonly (string | null)[];
  /** Ketama/Modula: twemproxy hash_tag, exactly 2 characters, e.g. "{}". */
  hashTag?: string;
}

export interface SelectorServer {
  readonly host: string;
  readonly port: number;
}

export interface Selector {
  readonly n: number;
  /** Index into servers, in [0, n). */
  select(routingKey: Buffer): number;
  /** The same index for the routing key `buf[start, end)`, read in place where the hash allows it. */
  selectRange(buf: Buffer, start: number, end: number): number;
}

export const DEFAULT_KETAMA_KEY_HASH = 'fnv1a_64';
export const HASH_FUNC_NAMES: readonly HashFuncName[] = [
  'Ch3',
  'WeightedCh3',
  'Crc32',
  'ConstShard',
  'Rendezvous',
  'WeightedRendezvous',
  'Ketama',
  'Modula',
  'Jump',
];

/** mcrouter routingKeyHash / shadow key_fraction_range: SpookyHashV2.Hash32(buf, seed). */
export function spooky32(buf: Uint8Array, seed: number = 0): number {
  return spooky32Impl(buf, seed);
}

/** Core: hash buf[0, len) -> index. buf is either the caller's key (len = key.length) or a scratch buffer. */
type Core = (buf: Buffer, len: number) => number;
/** A core that reads buf[off, off+len) in place (the multi-get fast path hashes keys inside the read buffer). */
type RangeCore = (buf: Buffer, off: number, len: number) => number;

class SaltedSelector implements Selector {
  private scratch: Buffer;
  constructor(
    readonly n: number,
    private readonly core: Core,
    private readonly salt: Buffer,
  ) {
    this.scratch = Buffer.allocUnsafe(256 + salt.length);
  }
  select(routingKey: Buffer): number {
    const len = routingKey.length + this.salt.length;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(len * 2);
    routingKey.copy(this.scratch, 0);
    this.salt.copy(this.scratch, routingKey.length);
    return this.core(this.scratch, len);
  }
  selectRange(buf: Buffer, start: number, end: number): number {
    const klen = end - start;
    const len = klen + this.salt.length;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(len * 2);
    buf.copy(this.scratch, 0, start, end);
    this.salt.copy(this.scratch, klen);
    return this.core(this.scratch, len);
  }
}

class PlainSelector implements Selector {
  constructor(
    readonly n: number,
    private readonly core: Core,
    private readonly rangeCore: RangeCore | null,
  ) {}
  select(routingKey: Buffer): number {
    return this.core(routingKey, routingKey.length);
  }
  selectRange(buf: Buffer, start: number, end: number): number {
    if (this.rangeCore !== null) return this.rangeCore(buf, start, end - start);
    return this.core(view(buf, start, end), end - start);
  }
}

class ConstSelector implements Selector {
  readonly n = 1;
  select(_routingKey: Buffer): number {
    return 0;
  }
  selectRange(_buf: Buffer, _start: number, _end: number): number {
    return 0;
  }
}

function checkWeights01(fn: string, weights: readonly number[], allowAboveOne: boolean): void {
  for (const w of weights) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || (!allowAboveOne && w > 1)) {
      throw new Error(`${fn}: weights must be finite numbers in [0, ${allowAboveOne ? 'inf' : '1'}] (got ${String(w)})`);
    }
  }
}

function twemproxyWeights(fn: string, spec: HashSpec, n: number): number[] {
  if (spec.weights === undefined) return new Array<number>(n).fill(1);
  if (spec.weights.length !== n) throw new Error(`${fn}: weights must have one entry per server (${spec.weights.length} != ${n})`);
  for (const w of spec.weights) {
    if (!Number.isInteger(w) || w <= 0) throw new Error(`${fn}: weights must be positive integers (got ${String(w)})`);
  }
  return [...spec.weights];
}

/** Returns [start, end) of the hash_tag region of buf[0,len), or [0, len) if the tag does not apply. */
function makeTagFinder(tag: string): (buf: Uint8Array, len: number) => number {
  const t = Buffer.from(tag, 'utf8');
  if (t.length !== 2) throw new Error(`hashTag must be exactly 2 characters (got "${tag}")`);
  const open = t[0]!;
  const close = t[1]!;
  // Result packs the region as start * 2^26 + end (keys are far shorter than 2^26 bytes).
  return (buf, len) => {
    let s = 0;
    while (s < len && buf[s] !== open) s++;
    if (s >= len) return len; // whole key: start 0, end len
    let e = s + 1;
    while (e < len && buf[e] !== close) e++;
    if (e >= len || e - s <= 1) return len;
    return (s + 1) * 67108864 + e;
  };
}

function twemproxyCore(
  spec: HashSpec,
  dispatch: (h: number) => number,
): { core: Core; tagged: boolean } {
  const keyHash = getKeyHash(spec.keyHash ?? DEFAULT_KETAMA_KEY_HASH);
  if (spec.hashTag === undefined || spec.hashTag === '') {
    return {
      core: (buf, len) => dispatch(len === 0 ? 0 : keyHash(buf, len)),
      tagged: false,
    };
  }
  const find = makeTagFinder(spec.hashTag);
  const salt = Buffer.from(spec.salt ?? '', 'utf8');
  let scratch = Buffer.allocUnsafe(256);
  // Tag region first, then salt; handled entirely here (the caller does not pre-append the salt).
  return {
    core: (buf, len) => {
      const r = find(buf, len);
      const start = Math.floor(r / 67108864);
      const end = r - start * 67108864;
      const l = end - start + salt.length;
      if (l === 0) return dispatch(0);
      if (start === 0 && salt.length === 0) return dispatch(keyHash(buf, end));
      if (scratch.length < l) scratch = Buffer.allocUnsafe(l * 2);
      buf.copy(scratch, 0, start, end);
      salt.copy(scratch, end - start);
      return dispatch(keyHash(scratch, l));
    },
    tagged: true,
  };
}

export function createSelector(spec: HashSpec, servers: readonly SelectorServer[]): Selector {
  const fn = spec.hashFunc;
  const n = servers.length;
  if (!HASH_FUNC_NAMES.includes(fn)) {
    throw new Error(`unknown hash function "${String(fn)}" (expected one of: ${HASH_FUNC_NAMES.join(', ')})`);
  }
  if (n === 0) throw new Error(`${fn}: at least one server is required`);
  if (spec.hashTag !== undefined && spec.hashTag !== '' && fn !== 'Ketama' && fn !== 'Modula') {
    throw new Error(`${fn}: hashTag is only supported for Ketama and Modula`);
  }
  if (spec.keyHash !== undefined && fn !== 'Ketama' && fn !== 'Modula') {
    throw new Error(`${fn}: keyHash is only supported for Ketama and Modula`);
  }
  if (spec.names !== undefined && fn !== 'Ketama' && fn !== 'Modula') {
    throw new Error(`${fn}: names are only supported for Ketama and Modula`);
  }

  let core: Core;
  let rangeCore: RangeCore | null = null;
  let saltHandled = false;
  switch (fn) {
    case 'Ch3':
    case 'ConstShard': {
      if (n > FURC_MAX_POOL_SIZE) throw new Error(`${fn}: pool size must be in [1, ${FURC_MAX_POOL_SIZE}] (got ${n})`);
      core = fn === 'Ch3' ? (buf, len) => furcHash(buf, n, len) : (buf, len) => constShardIndex(buf, len, n);
      if (fn === 'Ch3') rangeCore = (buf, off, len) => furcHash(buf, n, len, off);
      break;
    }
    case 'WeightedCh3': {
      if (n > FURC_MAX_POOL_SIZE) throw new Error(`${fn}: pool size must be in [1, ${FURC_MAX_POOL_SIZE}] (got ${n})`);
      if (spec.weights === undefined) throw new Error('WeightedCh3: weights are required');
      checkWeights01(fn, spec.weights, false);
      const th = weightedCh3Thresholds(spec.weights, n); // missing => 0.5, extra ignored
      core = (buf, len) => weightedCh3Index(buf, len, n, th);
      break;
    }
    case 'Crc32':
      core = (buf, len) => crc32HashIndex(buf, len, n);
      break;
    case 'Rendezvous':
    case 'WeightedRendezvous': {
      if (spec.tags === undefined || spec.tags.length !== n) {
        throw new Error(`${fn}: tags must have one entry per server (${spec.tags?.length ?? 0} != ${n})`);
      }
      const tagHashes = rendezvousTagHashes(spec.tags);
      if (fn === 'Rendezvous') {
        core = (buf, len) => rendezvousIndex(buf, len, tagHashes);
      } else {
        if (spec.weights === undefined || spec.weights.length !== n) {
          throw new Error(`WeightedRendezvous: weights must have one entry per tag (${spec.weights?.length ?? 0} != ${n})`);
        }
        checkWeights01(fn, spec.weights, true);
        const w = Float64Array.from(spec.weights);
        core = (buf, len) => weightedRendezvousIndex(buf, len, tagHashes, w);
      }
      break;
    }
    case 'Ketama':
    case 'Modula': {
      const weights = twemproxyWeights(fn, spec, n);
      if (spec.names !== undefined && spec.names.length !== n) {
        throw new Error(`${fn}: names must have one entry per server (${spec.names.length} != ${n})`);
      }
      const names = servers.map((s, i) => ketamaNodeName(s.host, s.port, spec.names?.[i] ?? null));
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name)) throw new Error(`${fn}: duplicate node name "${name}"`);
        seen.add(name);
      }
      let r: { core: Core; tagged: boolean };
      if (fn === 'Ketama') {
        const ring = buildKetamaRing(names.map((name, i) => ({ name, weight: weights[i]! })));
        r = twemproxyCore(spec, (h) => ketamaLookup(ring, h));
      } else {
        const slots = buildModulaSlots(weights, twemproxyServerOrder(names));
        const len = slots.length;
        r = twemproxyCore(spec, (h) => slots[h % len]!);
      }
      core = r.core;
      saltHandled = r.tagged;
      break;
    }
    case 'Jump': {
      if (n >= 2 ** 31) throw new Error(`Jump: pool size must be < 2^31 (got ${n})`);
      core = (buf, len) => jumpIndex(len === buf.length ? buf : buf.subarray(0, len), n);
      break;
    }
    default:
      throw new Error(`unknown hash function "${String(fn)}"`);
  }
  if (n === 1) return new ConstSelector();
  const salt = spec.salt ?? '';
  if (salt === '' || saltHandled) return new PlainSelector(n, core, rangeCore);
  return new SaltedSelector(n, core, Buffer.from(salt, 'utf8'));
}
