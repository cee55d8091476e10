/**
 * Client authorization: which identity may use which key prefixes and operations.
 *
 * The policy is the config's top-level `authorization` key (schema in config/schema.ts):
 *
 *     authorization:
 *       default: deny                      # identities no rule names: deny (default) or allow
 *       rules:
 *         - identity: spiffe://example.org/ns/web/sa/frontend
 *           prefixes: ["web:", "session:"] # omitted = every key
 *           operations: [get_like, set, delete]
 *         - identity: plaintext-loopback   # the local plaintext port
 *           operations: ["*"]
 *
 * An identity comes from the listener (server/listener.ts): a verified client certificate's URI SAN (a
 * SPIFFE ID) or CN, `tls-anonymous`, `plaintext-loopback` or `plaintext`. A rule's identity is exact, `*`, or
 * a prefix ending in `*`. An identity that at least one rule names gets the union of those rules' grants and
 * nothing else; other identities get the default (everything, or nothing).
 *
 * Compiled once per config generation into, per identity, a byte trie of prefixes carrying op bitmasks:
 * a check walks at most the key's bytes, allocates nothing and uses no regex. Per-identity grants are
 * cached (identities are few: they come from verified certificates or the listener).
 *
 * A denied request is answered `SERVER_ERROR permission denied` (mcrouter's text) by the client session,
 * never reaches a route or an upstream, is counted (`deniedTotal`, `deniedByIdentity`), and is logged at
 * most once per identity per `log_interval_ms`.
 *
 * `flush_all` (only with --enable-flush-cmd) is allowed to identities granted the `flush_all` operation.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config-error.js';
import { AUTHZ_OPERATIONS, type AuthzOperation } from '../config/schema.js';
import { opIndex, opIndicesWhere, OPS, Reply, type Op, type OpInfo, type Request, type RoutingGroup } from '../protocol/types.js';

// One bit per row of OPS (bit = opIndex(op)), so the masks must fit a 32-bit integer.
if (OPS.length > 31) throw new Error('authz: more ops than bits in a mask');

/** Op → bit. Every Op has one; `flush_all` (a local op) too. */
function opBit(op: Op): number {
  return 1 << opIndex(op);
}

function maskOf(test: (o: OpInfo) => boolean): number {
  let m = 0;
  for (const i of opIndicesWhere(test)) m |= 1 << i;
  return m;
}

/** Op class → the bits of its ops. */
const GROUP_MASK: Readonly<Record<RoutingGroup, number>> = {
  get_like: maskOf((o) => o.group === 'get_like'),
  update_like: maskOf((o) => o.group === 'update_like'),
  delete_like: maskOf((o) => o.group === 'delete_like'),
  arithmetic_like: maskOf((o) => o.group === 'arithmetic_like'),
};
/** `*`: every op a key can be routed with (flush_all must be named). */
const ALL_ROUTABLE = maskOf((o) => o.routable);

/** Bitmask for one `operations` entry. */
export function operationMask(name: AuthzOperation): number {
  switch (name) {
    case '*': return ALL_ROUTABLE;
    case 'get_like': case 'update_like': case 'delete_like': case 'arithmetic_like': return GROUP_MASK[name];
    default: return opBit(name);
  }
}

/** A node of the prefix trie: ops granted for keys that start with the path to here. */
class TrieNode {
  mask = 0;
  readonly children = new Map<number, TrieNode>();
}

/** What one identity may do: a prefix trie; `mask` at the root covers every key. */
export class Grant {
  private readonly root = new TrieNode();
  /** Ops granted for every key (root mask), for the fast path. */
  private everyKey = 0;
  /** True when some prefix is longer than zero bytes (the trie must be walked). */
  private hasPrefixes = false;

  add(prefix: Buffer, mask: number): void {
    let node = this.root;
    for (let i = 0; i < prefix.length; i++) {
      const byte = prefix[i] as number;
      let next = node.children.get(byte);
      if (next === undefined) {
        next = new TrieNode();
        node.children.set(byte, next);
      }
      node = next;
    }
    node.mask |= mask;
    if (prefix.length === 0) this.everyKey |= mask;
    else this.hasPrefixes = true;
  }

  /** May `op` be used on `key`? */
  allows(op: Op, key: Buffer): boolean {
    const bit = opBit(op);
    if ((this.everyKey & bit) !== 0) return true;
    if (!this.hasPrefixes) return false;
    let node: TrieNode | undefined = this.root;
    for (let i = 0; i < key.length; i++) {
      node = node.children.get(key[i] as number);
      if (node === undefined) return false;
      if ((node.mask & bit) !== 0) return true;
    }
    return false;
  }

  /** May `op` be used regardless of key (flush_all)? */
  allowsOp(op: Op): boolean {
    return (this.everyKey & opBit(op)) !== 0 || (this.hasPrefixes && this.anyNodeHas(this.root, opBit(op)));
  }

  private anyNodeHas(node: TrieNode, bit: number): boolean {
    if ((node.mask & bit) !== 0) return true;
    for (const c of node.children.values()) if (this.anyNodeHas(c, bit)) return true;
    return false;
  }
}

interface CompiledRule {
  /** Exact identity, or the prefix before a trailing `*` (`''` for `*`). */
  readonly identity: string;
  readonly isPrefix: boolean;
  readonly prefixes: readonly Buffer[];
  readonly mask: number;
}

const ALLOW_ALL = new Grant();
ALLOW_ALL.add(Buffer.alloc(0), ALL_ROUTABLE | opBit('flush_all'));
const DENY_ALL = new Grant();

/** A compiled `authorization` section. Immutable; a reload compiles a new one. */
export class AuthorizationPolicy {
  private readonly cache = new Map<string, Grant>();

  constructor(
    private readonly rules: readonly CompiledRule[],
    readonly defaultAllow: boolean,
    readonly logIntervalMs: number,
  ) {}

  /** The grant for an identity (cached). */
  grantFor(identity: string): Grant {
    let g = this.cache.get(identity);
    if (g !== undefined) return g;
    let named = false;
    const grant = new Grant();
    for (const r of this.rules) {
      const match = r.isPrefix ? identity.startsWith(r.identity) : identity === r.identity;
      if (!match) continue;
      named = true;
      for (const p of r.prefixes) grant.add(p, r.mask);
    }
    g = named ? grant : this.defaultAllow ? ALLOW_ALL : DENY_ALL;
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(identity, g);
    return g;
  }

  allows(identity: string, req: Request): boolean {
    return this.grantFor(identity).allows(req.op, req.key);
  }
}

const EVERY_KEY: readonly Buffer[] = [Buffer.alloc(0)];

/**
 * Compile the config's `authorization` section (the document is already schema-checked by the builder).
 * @returns null when the config has no policy (everyone may do everything)
 * @throws ConfigError for what the schema cannot express (a `*` that is not at the end of an identity)
 */
export function compileAuthorization(config: unknown): AuthorizationPolicy | null {
  if (typeof config !== 'object' || config === null) return null;
  const section = (config as Record<string, unknown>)['authorization'];
  if (section === undefined) return null;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new ConfigError('/authorization', 'must be an object');
  }
  const s = section as Record<string, unknown>;
  const def = s['default'] ?? 'deny';
  if (def !== 'deny' && def !== 'allow') throw new ConfigError('/authorization/default', 'must be "deny" or "allow"');
  const interval = s['log_interval_ms'] ?? 60_000;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 0) {
    throw new ConfigError('/authorization/log_interval_ms', 'must be a non-negative integer');
  }
  const rawRules = s['rules'];
  if (!Array.isArray(rawRules)) throw new ConfigError('/authorization/rules', 'must be an array');
  const rules: CompiledRule[] = [];
  rawRules.forEach((raw: unknown, i: number) => {
    const path = `/authorization/rules/${i}`;
    if (typeof raw !== 'object' || raw === null) throw new ConfigError(path, 'must be an object');
    const r = raw as Record<string, unknown>;
    const id = r['identity'];
    if (typeof id !== 'string' || id.length === 0) throw new ConfigError(`${path}/identity`, 'must be a non-empty string');
    const star = id.indexOf('*');
    if (star >= 0 && star !== id.length - 1) {
      throw new ConfigError(`${path}/identity`, `"${id}": "*" is only allowed at the end (a prefix match)`);
    }
    const ops = r['operations'];
    if (!Array.isArray(ops) || ops.length === 0) throw new ConfigError(`${path}/operations`, 'must be a non-empty array');
    let mask = 0;
    ops.forEach((op: unknown, j: number) => {
      if (typeof op !== 'string' || !(AUTHZ_OPERATIONS as readonly string[]).includes(op)) {
        throw new ConfigError(`${path}/operations/${j}`, `unknown operation ${JSON.stringify(op)}; one of ${AUTHZ_OPERATIONS.join(', ')}`);
      }
      mask |= operationMask(op as AuthzOperation);
    });
    const pfx = r['prefixes'];
    let prefixes: readonly Buffer[] = EVERY_KEY;
    if (pfx !== undefined) {
      if (!Array.isArray(pfx) || pfx.length === 0) throw new ConfigError(`${path}/prefixes`, 'must be a non-empty array');
      prefixes = pfx.map((p: unknown, j: number) => {
        if (typeof p !== 'string') throw new ConfigError(`${path}/prefixes/${j}`, 'must be a string');
        return Buffer.from(p, 'utf8');
      });
    }
    rules.push({ identity: star >= 0 ? id.slice(0, -1) : id, isPrefix: star >= 0, prefixes, mask });
  });
  return new AuthorizationPolicy(rules, def === 'allow', interval);
}

const DENIED = new Reply('permission_denied', null, 'permission denied');
const MAX_TRACKED_IDENTITIES = 1024;

/**
 * The live authorization state of a proxy: the active policy, the denial counters (kept across reloads)
 * and the once-per-interval denial log.
 *
 * Counters: `deniedTotal` and `deniedByIdentity` (identity → count; at most 1024 identities, the rest are
 * counted under `other`). /metrics does not export them; the authorization tests read them.
 */
export class Authorization {
  /** Requests refused by the policy (keys, for multi-gets), plus refused flush_all and admin keys. */
  deniedTotal = 0;
  readonly deniedByIdentity = new Map<string, number>();
  private policy: AuthorizationPolicy | null = null;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: Logger) {}

  get active(): AuthorizationPolicy | null {
    return this.policy;
  }

  /** Install `policy` (null = none: everyone may do everything). */
  activate(policy: AuthorizationPolicy | null): void {
    this.policy = policy;
  }

  /** May `identity` send `req`? True when no policy is active. */
  allows(identity: string, req: Request): boolean {
    const p = this.policy;
    return p === null || p.allows(identity, req);
  }

  /** Count and log a refused request; the reply the client gets. */
  deny(identity: string, req: Request): Reply {
    this.recordDenial(identity, req.op, req.key);
    return DENIED;
  }

  /** May `identity` send flush_all? (Only asked when --enable-flush-cmd is on.) */
  allowsFlush(identity: string): boolean {
    const p = this.policy;
    if (p === null || p.grantFor(identity).allowsOp('flush_all')) return true;
    this.recordDenial(identity, 'flush_all', null);
    return false;
  }

  /** Count and (rate-limited) log one refusal. */
  recordDenial(identity: string, op: string, key: Buffer | null): void {
    this.deniedTotal++;
    const label = this.deniedByIdentity.has(identity) || this.deniedByIdentity.size < MAX_TRACKED_IDENTITIES ? identity : 'other';
    this.deniedByIdentity.set(label, (this.deniedByIdentity.get(label) ?? 0) + 1);
    const interval = this.policy?.logIntervalMs ?? 60_000;
    const now = Date.now();
    const last = this.lastLogged.get(label);
    if (last !== undefined && now - last.at < interval) {
      last.suppressed++;
      return;
    }
    if (this.lastLogged.size >= MAX_TRACKED_IDENTITIES) this.lastLogged.clear();
    this.lastLogged.set(label, { at: now, suppressed: 0 });
    // The key is cut and latin1-decoded: enough to see the prefix, never a whole value-bearing line.
    const keyText = key === null ? undefined : key.toString('latin1', 0, Math.min(key.length, 64));
    this.log.warn({ identity, op, key: keyText, suppressedSinceLast: last?.suppressed ?? 0 }, 'request denied by authorization policy');
  }
}
