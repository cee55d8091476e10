/**
 * How a route type is declared and built. Each route file exports one factory made with `defineRoute`;
 * `registry.ts` lists them all in one table. The config builder validates a node's options against the
 * factory's ajv schema (filling defaults), then calls `create` with typed options and a RouteBuilder that
 * builds children at their JSON-pointer paths.
 */
import type { SchemaObject } from 'ajv';
import type { RouteHandle } from './route-handle.js';
import type { Destination } from '../upstream/destination.js';

export type { PoolEntry, PoolInfo, ServerSpec } from '../upstream/pool-info.js';
import type { PoolInfo, ServerSpec } from '../upstream/pool-info.js';

/** Proxy-wide settings the tree is built with (from CLI flags). */
export interface BuildOptions {
  /** Default routing prefix `-R` (mcrouter default `/././`). */
  readonly routePrefix: string;
  readonly serverTimeoutMs: number;
  readonly hostId: number;
  /** Send requests whose routing prefix matches no alias to the default route. */
  readonly sendInvalidRouteToDefault: boolean;
  /** Local availability zone (AZ affinity routes), from --local-zone / MCRELAY_LOCAL_ZONE. */
  readonly localZone: string | null;
  readonly asynclogDisable: boolean;
  /** `--config-params name:value,...`: extra JSONM global constants (read by the loader, not the builder). */
  readonly configParams?: Readonly<Record<string, string>>;
  /** `--num-proxies` (the JSONM constant %num-proxies%). */
  readonly numProxies?: number;
  /** `--big-value-split-threshold` (0 or absent = off): RootRoute puts a BigValueRoute on top. */
  readonly bigValueSplitThreshold?: number;
}

export interface RouteBuilder {
  readonly options: BuildOptions;
  /** Build one route from a config node (object, `Type|arg` string, named handle, or a one-element list). */
  route(node: unknown, path: string): RouteHandle;
  /** Build a list of routes: an array, a single node, or `Pool|X` (one destination route per server). */
  routeList(node: unknown, path: string): RouteHandle[];
  /** Resolve a pool by name, or an inline pool object (`{name, servers, ...}`). */
  pool(node: unknown, path: string): PoolInfo;
  /** One route per entry of the pool, in config order: a destination per server, the built route per route object. */
  poolDestinations(pool: PoolInfo, path: string): RouteHandle[];
  /** The shared upstream destination for a server (keyed by host:port across pools and reloads). */
  destination(server: ServerSpec, pool: PoolInfo): Destination;
  /** Throw a ConfigError that names `path`. */
  fail(path: string, message: string): never;
  /** Record a non-fatal problem (an accepted but unimplemented option); the proxy logs it at warn. */
  warn(path: string, message: string): void;
  /**
   * The `name` of the route object being built (the one whose factory is running), if it has one. Routes
   * whose mcrouter route_handles name includes it read it here (FailoverRoute, LatestRoute).
   */
  nodeName?(): string | undefined;
}

export interface RouteFactory {
  /** Config `type`; the same word as the class and file name. */
  readonly type: string;
  /** Other accepted type names (mcrouter aliases like PrefixPolicyRoute). */
  readonly aliases: readonly string[];
  /** One line for docs and the generated schema. */
  readonly description: string;
  /** JSON Schema of the options object (without `type`/`name`, which every route accepts). */
  readonly schema: SchemaObject;
  /** Options for the `"Type|rest"` shorthand. */
  fromString(rest: string): Record<string, unknown>;
  /** Build the handle from options already validated (defaults filled) by `schema`. */
  build(opts: Readonly<Record<string, unknown>>, b: RouteBuilder, path: string): RouteHandle;
}

export interface RouteDefinition<O> {
  type: string;
  aliases?: readonly string[];
  description: string;
  schema: SchemaObject;
  /** Default: `{ children: rest }`. */
  fromString?: (rest: string) => Record<string, unknown>;
  create(opts: O, b: RouteBuilder, path: string): RouteHandle;
}

/**
 * Declare a route type. `O` is the TS shape of the options; the ajv schema is the runtime truth and
 * the two are kept in step by each route's tests.
 */
export function defineRoute<O>(def: RouteDefinition<O>): RouteFactory {
  return {
    type: def.type,
    aliases: def.aliases ?? [],
    description: def.description,
    schema: def.schema,
    fromString: def.fromString ?? ((rest: string) => ({ children: rest })),
    build: (opts, b, path) => def.create(opts as unknown as O, b, path),
  };
}

/** Schema for an option that holds a route node (object, string, or list). */
export function routeNodeSchema(description: string): SchemaObject {
  return {
    description,
    anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'array' }],
  };
}
