/**
 * Builds the route tree from validated config data (mcrouter's RouteHandleFactory, in our words).
 *
 * Phase 1 (pure): the top-level schema, `inherit`, server strings, routing prefixes, every route node's
 * options against its factory's schema. Phase 2: factories create handles, and the DestinationProvider
 * hands out the shared upstream for each server. With an inert provider (see validate.ts) the whole build
 * is side-effect free, which is what `--validate-config` and unit tests use.
 *
 * Route node forms (all accepted wherever a route is expected):
 *   {"type": "HashRoute", "name": "h", ...}  an object; a `name` makes it shared: the first definition wins,
 *                                              later objects or strings with that name reuse the instance
 *   "PoolRoute|A"                            shorthand: `rest` goes to the factory's fromString
 *   "NullRoute" / "myHandle"                 a no-argument type, or a named handle
 *   [a, b, [c]]                              a list (flattened) where a list is expected
 *   "Pool|A" / {"type": "Pool", ...}         the pool's per-server destination routes (a list)
 *
 * Every error is a ConfigError whose path is the JSON pointer of the offending value; errors raised by a
 * route factory start with the route type. Unknown keys (top level, pools, route options) are not errors, as
 * in mcrouter: they are ignored and reported in `warnings` with the nearest known key (unknown-keys.ts).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { DestinationRoute } from '../routes/destination-route.js';
import { ROUTE_FACTORIES, createRegistry, type RouteRegistry } from '../routes/registry.js';
import { RootRoute, isValidRoutingPrefix } from '../routes/root-route.js';
import type { BuildOptions, PoolInfo, RouteBuilder, RouteFactory, ServerSpec } from '../routes/route-factory.js';
import type { RouteHandle } from '../routes/route-handle.js';
import type { Destination } from '../upstream/destination.js';
import { ajvToConfigError } from './ajv-errors.js';
import { ConfigError, joinPointer } from '../config-error.js';
import { makePoolInfo, resolvePools } from './pools.js';
import type { MemberLookup } from './discovery.js';
import { POOL_SCHEMA, TOP_LEVEL_SCHEMA } from './schema.js';
import { findUnknownKeys, lenientSchema, unknownKeyMessage } from './unknown-keys.js';

/** Hands out the upstream Destination for a server; the destination map implements it (shared by host:port). */
export interface DestinationProvider {
  get(server: ServerSpec, pool: PoolInfo): Destination;
}

export interface BuildConfigContext {
  readonly options: BuildOptions;
  readonly destinations: DestinationProvider;
  /** Route types; default: the full registry (ROUTE_FACTORIES). */
  readonly registry?: RouteRegistry;
  /** Members of pools whose servers come from DNS (see discovery.ts); default: placeholders. */
  readonly members?: MemberLookup;
}

export interface BuiltConfig {
  /** The tree the session routes every request through. */
  readonly root: RootRoute;
  readonly pools: ReadonlyMap<string, PoolInfo>;
  /** Every destination the tree can reach (flush_all, stats, and reload bookkeeping). */
  readonly destinations: ReadonlySet<Destination>;
  /** Every named route handle (named_handles and named objects in the tree). */
  readonly namedHandles: ReadonlyMap<string, RouteHandle>;
  /**
   * The member routes of each pool the tree uses (PoolRoute, `Pool|A`), in server order: what mcrouter's
   * `__mcrouter__.pools` lists. Unused pools are absent, as in mcrouter.
   */
  readonly poolRoutes: ReadonlyMap<string, readonly RouteHandle[]>;
  /** Non-fatal findings, `<pointer>: <message>` (logged at warn; printed by --validate-config). */
  readonly warnings: readonly string[];
}

/** Proxy-wide defaults (mcrouter's): `-R /././`, 1000 ms server timeout. */
export const DEFAULT_BUILD_OPTIONS: BuildOptions = Object.freeze({
  routePrefix: '/././',
  serverTimeoutMs: 1000,
  hostId: 0,
  sendInvalidRouteToDefault: false,
  localZone: null,
  asynclogDisable: false,
});

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy that keeps null prototypes (structuredClone would not). */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isObject(v)) {
    const out = Object.create(Object.getPrototypeOf(v) === null ? null : Object.prototype) as Obj;
    for (const k of Object.keys(v)) out[k] = cloneJson(v[k]);
    return out as T;
  }
  return v;
}

// One ajv per purpose: the top level must not fill defaults (a child pool's defaults would hide its
// parent's values under `inherit`); route options do.
const plainAjv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true });
const defaultsAjv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true, useDefaults: true });
let topValidator: ValidateFunction | null = null;
let inlinePoolValidator: ValidateFunction | null = null;
const optionValidators = new WeakMap<RouteFactory, ValidateFunction>();

function validatorFor(f: RouteFactory): ValidateFunction {
  let v = optionValidators.get(f);
  if (v === undefined) {
    try {
      v = defaultsAjv.compile(lenientSchema(f.schema));
    } catch (e) {
      throw new ConfigError('', `${f.type}: its options schema does not compile: ${e instanceof Error ? e.message : String(e)}`, 'MCP_ERR_INTERNAL');
    }
    optionValidators.set(f, v);
  }
  return v;
}

const DEFAULT_REGISTRY_CACHE: { reg: RouteRegistry | null } = { reg: null };
function defaultRegistry(): RouteRegistry {
  DEFAULT_REGISTRY_CACHE.reg ??= createRegistry(ROUTE_FACTORIES);
  return DEFAULT_REGISTRY_CACHE.reg;
}

/**
 * Build a config. `data` is the loader's output (or any JSON value).
 * @throws ConfigError naming the JSON pointer of the first problem found
 */
export function buildConfig(data: unknown, ctx: BuildConfigContext): BuiltConfig {
  if (!isObject(data)) throw new ConfigError('', 'the config must be a JSON object');
  topValidator ??= plainAjv.compile(lenientSchema(TOP_LEVEL_SCHEMA));
  if (!topValidator(data)) throw ajvToConfigError(topValidator.errors, '', null);
  const unknownTop = findUnknownKeys(data, TOP_LEVEL_SCHEMA, '');
  const hasRoute = data['route'] !== undefined;
  const hasRoutes = data['routes'] !== undefined;
  if (hasRoute && hasRoutes) {
    throw new ConfigError('/routes', 'both "route" and "routes" are given; use one', 'MCP_ERR_CONFIG_BAD_ROUTES');
  }
  if (!hasRoute && !hasRoutes) throw new ConfigError('', 'the config needs "route" or "routes"', 'MCP_ERR_CONFIG_BAD_ROUTES');
  const { options } = ctx;
  if (!isValidRoutingPrefix(options.routePrefix)) {
    throw new ConfigError('', `invalid default routing prefix "${options.routePrefix}" (expected /region/cluster/)`, 'MCP_ERR_CONFIG_BAD_ROUTES');
  }

  const poolWarnings: [string, string][] = [];
  const members = ctx.members;
  const pools = resolvePools((data['pools'] ?? {}) as Obj, { serverTimeoutMs: options.serverTimeoutMs, warn: (p, m) => poolWarnings.push([p, m]), ...(members === undefined ? {} : { members }) });
  const b = new TreeBuilder(ctx.registry ?? defaultRegistry(), options, ctx.destinations, pools, data['named_handles'], members);
  for (const u of unknownTop) b.warn(u.path, unknownKeyMessage(u, 'property'));
  for (const [p, m] of poolWarnings) b.warn(p, m);
  // Named handles first, in order (as mcrouter): their definitions win over same-named objects in the
  // trees. They may refer to each other in any order; each is built on its first reference.
  b.buildNamedHandles();

  const table = new Map<string, RouteHandle>();
  if (hasRoute) {
    table.set(options.routePrefix, b.route(data['route'], '/route'));
  } else {
    const routes = data['routes'];
    const add = (alias: string, path: string, handle: () => RouteHandle): void => {
      if (!isValidRoutingPrefix(alias)) throw new ConfigError(path, `invalid routing prefix "${alias}" (expected /region/cluster/)`, 'MCP_ERR_CONFIG_BAD_ROUTES');
      if (table.has(alias)) throw new ConfigError(path, `routing prefix "${alias}" is listed twice`, 'MCP_ERR_CONFIG_BAD_ROUTES');
      table.set(alias, handle());
    };
    if (Array.isArray(routes)) {
      routes.forEach((entry: unknown, i: number) => {
        const e = entry as Obj;
        const base = joinPointer('/routes', i);
        const aliases = e['aliases'] as string[];
        let built: RouteHandle | null = null;
        const get = (): RouteHandle => (built ??= b.route(e['route'], joinPointer(base, 'route')));
        aliases.forEach((alias, j) => add(alias, joinPointer(base, 'aliases', j), get));
      });
    } else {
      for (const [alias, node] of Object.entries(routes as Obj)) {
        const path = joinPointer('/routes', alias);
        add(alias, path, () => b.route(node, path));
      }
    }
    if (!table.has(options.routePrefix)) {
      throw new ConfigError('/routes', `invalid default route: "${options.routePrefix}" (-R) is not one of the aliases`, 'MCP_ERR_CONFIG_BAD_ROUTES');
    }
  }
  const root = new RootRoute(table, options.routePrefix, { sendInvalidRouteToDefault: options.sendInvalidRouteToDefault, bigValueSplitThreshold: options.bigValueSplitThreshold ?? 0 });
  return { root, pools: b.allPools(), destinations: b.destinations, namedHandles: b.named, poolRoutes: b.usedPools(), warnings: b.warnings };
}

/** The RouteBuilder handed to factories; one per build. */
class TreeBuilder implements RouteBuilder {
  readonly named = new Map<string, RouteHandle>();
  readonly destinations = new Set<Destination>();
  private readonly inlinePools = new Map<string, PoolInfo>();
  private readonly poolRoutes = new Map<PoolInfo, readonly RouteHandle[]>();
  private readonly namedLists = new Map<string, readonly RouteHandle[]>();
  /** Pools whose entries are being built (a route-object entry may refer back to its pool). */
  private readonly buildingPools = new Set<PoolInfo>();
  /** named_handles not built yet: name → [node, path]. Built in order, or earlier on a forward reference. */
  private readonly pendingNamed = new Map<string, { node: unknown; path: string }>();
  private readonly building = new Set<string>();
  /** Types of the factories currently inside build(), innermost last (prefixes fail() messages). */
  private readonly typeStack: string[] = [];
  /** The `name` of each route object inside build(), innermost last (undefined for unnamed nodes). */
  private readonly nameStack: (string | undefined)[] = [];

  constructor(
    private readonly registry: RouteRegistry,
    readonly options: BuildOptions,
    private readonly provider: DestinationProvider,
    private readonly pools: ReadonlyMap<string, PoolInfo>,
    namedHandles: unknown,
    private readonly members: MemberLookup | undefined,
  ) {
    if (Array.isArray(namedHandles)) {
      namedHandles.forEach((node: unknown, i: number) => {
        const path = joinPointer('/named_handles', i);
        const name = isObject(node) ? node['name'] : undefined;
        if (typeof name !== 'string' || name === '') throw new ConfigError(path, 'a named handle needs a "name"');
        if (!this.pendingNamed.has(name)) this.pendingNamed.set(name, { node, path });
      });
    } else if (isObject(namedHandles)) {
      for (const [name, node] of Object.entries(namedHandles)) {
        this.pendingNamed.set(name, { node, path: joinPointer('/named_handles', name) });
      }
    }
  }

  allPools(): ReadonlyMap<string, PoolInfo> {
    const all = new Map(this.pools);
    for (const [k, v] of this.inlinePools) if (!all.has(k)) all.set(k, v);
    return all;
  }

  usedPools(): ReadonlyMap<string, readonly RouteHandle[]> {
    const out = new Map<string, readonly RouteHandle[]>();
    for (const [pool, routes] of this.poolRoutes) out.set(pool.name, routes);
    return out;
  }

  /** Build every entry of named_handles (those already built by a forward reference are skipped). */
  buildNamedHandles(): void {
    for (const name of [...this.pendingNamed.keys()]) this.resolveNamed(name);
  }

  readonly warnings: string[] = [];

  warn(path: string, message: string): void {
    const type = this.typeStack[this.typeStack.length - 1];
    const msg = type === undefined || message.startsWith(`${type}:`) ? message : `${type}: ${message}`;
    this.warnings.push(`${path}: ${msg}`);
  }

  nodeName(): string | undefined {
    return this.nameStack[this.nameStack.length - 1];
  }

  fail(path: string, message: string): never {
    const type = this.typeStack[this.typeStack.length - 1];
    const msg = type === undefined || message.startsWith(`${type}:`) ? message : `${type}: ${message}`;
    throw new ConfigError(path, msg, 'MCP_ERR_CONFIG_ROUTE_BUILD');
  }

  route(node: unknown, path: string): RouteHandle {
    if (typeof node === 'string') return this.routeFromString(node, path);
    if (Array.isArray(node)) {
      if (node.length === 1) return this.route(node[0], joinPointer(path, 0));
      throw new ConfigError(path, `expected one route, got a list of ${node.length}`);
    }
    if (isObject(node)) {
      const type = node['type'];
      if (typeof type !== 'string') throw new ConfigError(path, 'a route object needs a "type" string');
      const name = node['name'];
      if (name !== undefined && typeof name !== 'string') throw new ConfigError(joinPointer(path, 'name'), 'must be a string');
      if (name !== undefined) {
        const seen = this.named.get(name);
        if (seen !== undefined) return seen;
      }
      if (type === 'Pool') return this.single(this.routeList(node, path), path);
      const factory = this.factory(type, path);
      const opts = Object.create(null) as Obj;
      for (const k of Object.keys(node)) if (k !== 'type' && k !== 'name') opts[k] = cloneJson(node[k]);
      const handle = this.buildTyped(factory, opts, path, false, name);
      if (name !== undefined && !this.named.has(name)) {
        this.named.set(name, handle);
        this.pendingNamed.delete(name);
      }
      return handle;
    }
    throw new ConfigError(path, 'a route must be an object, a string or a list');
  }

  routeList(node: unknown, path: string): RouteHandle[] {
    if (Array.isArray(node)) {
      const out: RouteHandle[] = [];
      node.forEach((item: unknown, i: number) => {
        for (const h of this.routeList(item, joinPointer(path, i))) out.push(h);
      });
      return out;
    }
    if (typeof node === 'string' && node.startsWith('Pool|')) {
      return this.poolDestinations(this.pool(node.slice('Pool|'.length), path), path);
    }
    if (isObject(node) && node['type'] === 'Pool') {
      const name = node['name'];
      if (typeof name === 'string') {
        const seen = this.namedLists.get(name);
        if (seen !== undefined) return [...seen];
      }
      const inline = Object.create(null) as Obj;
      for (const k of Object.keys(node)) if (k !== 'type') inline[k] = node[k];
      const list = this.poolDestinations(this.pool(inline, path), path);
      if (typeof name === 'string') this.namedLists.set(name, list);
      return [...list];
    }
    return [this.route(node, path)];
  }

  pool(node: unknown, path: string): PoolInfo {
    if (typeof node === 'string') {
      const p = this.pools.get(node) ?? this.inlinePools.get(node);
      if (p === undefined) throw new ConfigError(path, `unknown pool "${node}"`, 'MCP_ERR_CONFIG_UNKNOWN_POOL');
      return p;
    }
    if (!isObject(node)) throw new ConfigError(path, 'a pool must be a pool name or a pool object');
    inlinePoolValidator ??= plainAjv.compile({ ...lenientSchema(POOL_SCHEMA), required: ['name', 'servers'] });
    if (!inlinePoolValidator(node)) throw ajvToConfigError(inlinePoolValidator.errors, path, null);
    for (const u of findUnknownKeys(node, POOL_SCHEMA, path, { alsoKnown: ['type'] })) this.warn(u.path, unknownKeyMessage(u, 'property'));
    const name = node['name'] as string;
    const existing = this.pools.get(name) ?? this.inlinePools.get(name);
    if (existing !== undefined) return existing;
    if (node['inherit'] !== undefined) throw new ConfigError(joinPointer(path, 'inherit'), 'inline pools cannot inherit');
    const origins = Object.create(null) as Record<string, string>;
    const info = makePoolInfo(name, Object.freeze(cloneJson(node)), path, origins, {
      serverTimeoutMs: this.options.serverTimeoutMs,
      warn: (p, m) => this.warn(p, m),
      ...(this.members === undefined ? {} : { members: this.members }),
    });
    this.inlinePools.set(name, info);
    return info;
  }

  poolDestinations(pool: PoolInfo, path: string): RouteHandle[] {
    const cached = this.poolRoutes.get(pool);
    if (cached !== undefined) return [...cached];
    // A route-object entry may lead back to its own pool; mcrouter would recurse without end.
    if (this.buildingPools.has(pool)) throw new ConfigError(path, `pool "${pool.name}" contains itself (through a route object in its servers)`, 'MCP_ERR_CONFIG_BAD_SERVER');
    this.buildingPools.add(pool);
    let list: RouteHandle[];
    try {
      list = pool.entries.map((e, i) => (e.kind === 'server' ? new DestinationRoute(this.destination(e.server, pool), pool, i, e.server) : this.route(e.node, e.path)));
    } finally {
      this.buildingPools.delete(pool);
    }
    this.poolRoutes.set(pool, Object.freeze(list.slice()));
    return list;
  }

  destination(server: ServerSpec, pool: PoolInfo): Destination {
    const d = this.provider.get(server, pool);
    this.destinations.add(d);
    return d;
  }

  private single(list: RouteHandle[], path: string): RouteHandle {
    const [only] = list;
    if (list.length === 1 && only !== undefined) return only;
    throw new ConfigError(path, `expected one route, got a list of ${list.length}`);
  }

  private factory(type: string, path: string): RouteFactory {
    const f = this.registry.get(type);
    if (f === undefined) throw new ConfigError(path, `unknown route type "${type}"`, 'MCP_ERR_CONFIG_UNKNOWN_ROUTE');
    return f;
  }

  private routeFromString(s: string, path: string): RouteHandle {
    const bar = s.indexOf('|');
    if (bar !== -1) {
      const type = s.slice(0, bar);
      if (type === 'Pool') return this.single(this.routeList(s, path), path);
      const factory = this.factory(type, path);
      let opts: Obj;
      try {
        opts = factory.fromString(s.slice(bar + 1));
      } catch (e) {
        throw this.wrap(factory, e, path);
      }
      return this.buildTyped(factory, cloneJson(opts), path, true);
    }
    const named = this.named.get(s);
    if (named !== undefined) return named;
    if (this.pendingNamed.has(s)) return this.resolveNamed(s, path);
    const factory = this.registry.get(s);
    if (factory !== undefined) return this.buildTyped(factory, Object.create(null) as Obj, path, true);
    throw new ConfigError(path, `unknown route "${s}": not a named handle or a route type`, 'MCP_ERR_CONFIG_UNKNOWN_ROUTE');
  }

  private resolveNamed(name: string, fromPath?: string): RouteHandle {
    const done = this.named.get(name);
    if (done !== undefined) return done;
    const def = this.pendingNamed.get(name);
    if (def === undefined) throw new ConfigError(fromPath ?? '', `unknown named handle "${name}"`);
    if (this.building.has(name)) {
      throw new ConfigError(fromPath ?? def.path, `named handle "${name}" refers to itself`);
    }
    this.building.add(name);
    try {
      const handle = this.route(def.node, def.path);
      if (!this.named.has(name)) this.named.set(name, handle);
      this.pendingNamed.delete(name);
      return this.named.get(name) ?? handle;
    } finally {
      this.building.delete(name);
    }
  }

  private buildTyped(factory: RouteFactory, opts: Obj, path: string, shorthand: boolean, name?: string): RouteHandle {
    const validate = validatorFor(factory);
    if (!validate(opts)) throw ajvToConfigError(validate.errors, path, factory.type, shorthand);
    // A "Type|rest" string only yields options the factory knows; objects may carry anything.
    if (!shorthand) {
      for (const u of findUnknownKeys(opts, factory.schema, path, { alsoKnown: ['type', 'name'], remove: true })) {
        this.warnings.push(`${u.path}: ${factory.type}: ${unknownKeyMessage(u, 'option', path)}`);
      }
    }
    this.typeStack.push(factory.type);
    this.nameStack.push(name);
    let handle: RouteHandle;
    try {
      handle = factory.build(opts, this, path);
    } catch (e) {
      // Everything under a "Type|rest" string is inside that string: no deeper pointer exists.
      if (shorthand && e instanceof ConfigError && e.path.startsWith(`${path}/`)) {
        throw new ConfigError(path, e.detail, e.code, { cause: e });
      }
      throw this.wrap(factory, e, path);
    } finally {
      this.typeStack.pop();
      this.nameStack.pop();
    }
    if (typeof handle !== 'object' || handle === null) {
      throw new ConfigError(path, `${factory.type}: the factory returned no route`, 'MCP_ERR_INTERNAL');
    }
    return handle;
  }

  /** Keep ConfigErrors (they carry their own, deeper path); give anything else the path and the type. */
  private wrap(factory: RouteFactory, e: unknown, path: string): ConfigError {
    if (e instanceof ConfigError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    const text = msg.startsWith(`${factory.type}:`) ? msg : `${factory.type}: ${msg}`;
    return new ConfigError(path, text, 'MCP_ERR_CONFIG_ROUTE_BUILD', { cause: e });
  }
}
