/**
 * The top-level config schema (mcrouter's format), and the editor schema generated from it plus every
 * registered route type. The top-level schema checks shapes only; cross-references (pool names, named
 * handles, route types, server strings, inherit chains) are checked by the builder, which knows the paths.
 *
 * Defaults that depend on the command line (server_timeout ← `--server-timeout`, the default routing prefix
 * ← `-R`) are not schema defaults: the builder fills them from BuildOptions.
 */
import type { SchemaObject } from 'ajv';
import { ROUTABLE_OPS, ROUTING_GROUPS, type RoutableOp, type RoutingGroup } from '../protocol/types.js';
import type { RouteFactory } from '../routes/route-factory.js';

/** JSON-pointer-free description of a route node, shared by `route`, `routes` and `named_handles`. */
const ROUTE_NODE: SchemaObject = {
  description: 'A route: an object with "type", a "Type|arg" string, a named handle, or a list of routes.',
  anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'array' }],
};

/** Security mechanisms accepted in server strings and `security_mech` (mcrouter names). */
export const SECURITY_MECHS = ['plain', 'ssl', 'tls', 'fizz', 'tls_to_plain', 'ktls12'] as const;

export const POOL_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'A pool: a list of memcached servers that PoolRoute hashes over.',
  properties: {
    servers: {
      description: 'Servers as "host:port[:protocol[:security[:compression]]]" (IPv6, or any host, in brackets: "[::1]:11211"); an empty field takes the pool\'s default; "host" alone with port_override. Protocol "ascii" or "caret", security "plain" or "ssl". An entry may also be a route object (as in mcrouter): that route is the pool member at its position (its weight is weights[i]). Or from DNS, re-resolved every --dns-refresh-interval-ms and sorted: {"srv": NAME} (SRV records: target:port) or {"dns": NAME, "port": PORT} (every A/AAAA record, e.g. a Kubernetes headless Service; port 11211 by default).',
      oneOf: [
        { type: 'array', items: { type: ['string', 'object'] } },
        {
          type: 'object',
          properties: { srv: { type: 'string', minLength: 1 } },
          required: ['srv'],
          additionalProperties: false,
        },
        {
          type: 'object',
          properties: { dns: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535, default: 11211 } },
          required: ['dns'],
          additionalProperties: false,
        },
      ],
    },
    inherit: { type: 'string', description: 'Name of a pool whose properties this pool starts from; its own keys win.' },
    name: { type: 'string', description: 'Pool name (inline pool objects only).' },
    server_timeout: {
      type: 'integer', minimum: 0,
      description: 'Per-request timeout in ms for servers of this pool. Default: --server-timeout (1000).',
    },
    connect_timeout: { type: 'integer', minimum: 0, description: 'Connect timeout in ms. Default: server_timeout.' },
    keep_routing_prefix: {
      type: 'boolean', default: false,
      description: 'Send keys downstream with their /region/cluster/ routing prefix (default: strip it).',
    },
    weights: {
      type: 'array', items: { type: 'number', minimum: 0 },
      description: 'One weight per server; makes PoolRoute default to WeightedCh3 (weights in [0, 1]).',
    },
    tags: { type: 'array', items: { type: 'string' }, description: 'One tag per server, for Rendezvous hashing.' },
    asynclog: { type: 'boolean', default: true, description: 'Spool deletes that failed, to replay later (mcrouter asynclog).' },
    protocol: {
      type: 'string',
      description: 'Server protocol, any case: "ascii" (default) or "caret" (accepted with a warning: mcrelay talks ASCII to caret servers). "thrift" is refused.',
    },
    security_mech: { type: 'string', enum: [...SECURITY_MECHS], default: 'plain', description: 'Default security for servers without one in their string.' },
    use_ssl: { type: 'boolean', description: 'Deprecated mcrouter spelling of security_mech "ssl".' },
    region: { type: 'string', description: 'Region of the pool (accepted for mcrouter compatibility; not used yet).' },
    cluster: { type: 'string', description: 'Cluster of the pool (accepted for mcrouter compatibility; not used yet).' },
    qos: {
      type: 'object', description: 'DSCP marking (accepted, not used).',
      properties: { class: { type: 'integer', minimum: 0, maximum: 4 }, path: { type: 'integer', minimum: 0, maximum: 3 } },
      additionalProperties: false,
    },
    tko_tracker: { type: 'object', description: 'Pool fail-open thresholds (accepted, not used yet).' },
    security_mech_within_dc: { type: 'string', description: 'Accepted for mcrouter compatibility; not used.' },
    security_mech_cross_dc: { type: 'string', description: 'Accepted for mcrouter compatibility; not used.' },
    port_override: {
      type: 'integer', minimum: 1, maximum: 65535,
      description: 'Replaces the port of every server of the pool; servers may then be written without one ("host").',
    },
    port_override_within_dc: {
      type: 'integer', minimum: 1, maximum: 65535,
      description: 'mcrouter: the port for servers in the local datacenter. mcrelay honours it only when port_override_cross_dc is equal (then it is the port_override).',
    },
    port_override_cross_dc: {
      type: 'integer', minimum: 1, maximum: 65535,
      description: 'mcrouter: the port for servers in other datacenters (see port_override_within_dc).',
    },
    failure_domains: { type: 'array', description: 'Accepted for mcrouter compatibility; not used.' },
    hostnames: { type: 'array', description: 'Accepted for mcrouter compatibility; not used.' },
    services: { type: 'array', description: 'Accepted for mcrouter compatibility; not used.' },
    additional_fanout: { type: 'integer', description: 'Accepted for mcrouter compatibility; not used.' },
    enable_compression: { type: 'boolean', description: 'Accepted for mcrouter compatibility; not used.' },
    disable_request_deadline_check: { type: 'boolean', description: 'Accepted for mcrouter compatibility; not used.' },
    error_on_empty: { type: 'boolean', description: 'Accepted for mcrouter compatibility (see PoolRoute).' },
  },
  additionalProperties: false,
};

export const ROUTE_TABLE_ENTRY_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'One route tree and the routing prefixes ("/region/cluster/") it serves.',
  properties: {
    aliases: {
      type: 'array', minItems: 1, items: { type: 'string' },
      description: 'Routing prefixes served by this tree; one of them across all entries must be the default (-R).',
    },
    route: ROUTE_NODE,
  },
  required: ['aliases', 'route'],
  additionalProperties: false,
};

/** One name an authorization rule's `operations` may list. */
export type AuthzOperation = '*' | RoutingGroup | RoutableOp | 'flush_all';

/**
 * Operations an authorization rule can grant: `*` (every routable op; not flush_all), mcrouter's op classes,
 * single routable ops, and `flush_all` (only with --enable-flush-cmd), in that order.
 */
export const AUTHZ_OPERATIONS: readonly AuthzOperation[] = ['*', ...ROUTING_GROUPS, ...ROUTABLE_OPS, 'flush_all'];

/** `authorization`: who may use which key prefixes and operations (src/router/authz.ts; README "TLS"). */
export const AUTHORIZATION_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Client authorization by identity: a TLS client certificate\'s URI SAN (e.g. a spiffe:// ID) or CN, ' +
    '"tls-anonymous", "plaintext-loopback" or "plaintext". Without this key every client may do everything.',
  properties: {
    default: {
      type: 'string', enum: ['deny', 'allow'],
      description: 'For identities no rule names: "deny" (the default) or "allow". Named identities get only what their rules grant.',
    },
    log_interval_ms: {
      type: 'integer', minimum: 0,
      description: 'Denials are logged at most once per identity per this many ms (default 60000).',
    },
    rules: {
      type: 'array',
      description: 'Grants; an identity gets the union of every rule that names it.',
      items: {
        type: 'object',
        properties: {
          identity: {
            type: 'string', minLength: 1,
            description: 'An exact identity, "*" (everyone), or a prefix ending in "*" ("spiffe://example.org/ns/web/*").',
          },
          prefixes: {
            type: 'array', minItems: 1, items: { type: 'string' },
            description: 'Key prefixes (as the client sends the key, routing prefix included). Default: every key.',
          },
          operations: {
            type: 'array', minItems: 1, items: { type: 'string', enum: [...AUTHZ_OPERATIONS] },
            description: 'Ops, op classes (get_like, update_like, delete_like, arithmetic_like), "*" or flush_all.',
          },
        },
        required: ['identity', 'operations'],
        additionalProperties: false,
      },
    },
  },
  required: ['rules'],
  additionalProperties: false,
};

export const TOP_LEVEL_SCHEMA: SchemaObject = {
  $id: 'https://mcrelay.dev/schema/config.json',
  title: 'mcrelay config',
  description: 'An mcrouter-compatible config: pools of servers and a route tree (or one tree per routing prefix).',
  type: 'object',
  properties: {
    pools: {
      type: 'object', default: {},
      description: 'Pool name → pool.',
      additionalProperties: POOL_SCHEMA,
    },
    route: { ...ROUTE_NODE, description: 'The route tree, bound to the default routing prefix (-R, default /././).' },
    routes: {
      description: 'One tree per routing prefix: a list of {aliases, route}, or an object prefix → route. Not together with "route".',
      anyOf: [
        { type: 'array', items: ROUTE_TABLE_ENTRY_SCHEMA },
        { type: 'object', additionalProperties: ROUTE_NODE },
      ],
    },
    named_handles: {
      description: 'Routes defined once and referred to by name: a list of objects with "name", or an object name → route.',
      anyOf: [
        { type: 'array', items: { type: 'object' } },
        { type: 'object', additionalProperties: ROUTE_NODE },
      ],
    },
    macros: { type: ['object', 'array'], description: 'JSONM macro definitions (macroDef/constDef), expanded by the loader before building; never present in a preprocessed config.' },
    routing_options: { type: 'object', description: 'mcrouter-internal distribution toggles; accepted and ignored.' },
    authorization: AUTHORIZATION_SCHEMA,
  },
  additionalProperties: false,
};

function isRouteNodeSchema(s: SchemaObject): boolean {
  const any: unknown = s['anyOf'];
  if (!Array.isArray(any) || any.length !== 3) return false;
  const types = any.map((b: unknown) => (typeof b === 'object' && b !== null ? (b as { type?: unknown }).type : undefined));
  return types.includes('string') && types.includes('object') && types.includes('array') && Object.keys(s).every((k) => k === 'anyOf' || k === 'description');
}

/** Deep copy of a schema with every route-node sub-schema replaced by a `$ref` to the route definition. */
function linkRouteNodes(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(linkRouteNodes);
  if (typeof s !== 'object' || s === null) return s;
  const obj = s as SchemaObject;
  if (isRouteNodeSchema(obj)) {
    const out: SchemaObject = { $ref: '#/$defs/route' };
    if (typeof obj['description'] === 'string') out['description'] = obj['description'];
    return out;
  }
  const out: SchemaObject = {};
  for (const [k, v] of Object.entries(obj)) out[k] = linkRouteNodes(v);
  return out;
}

/**
 * The full schema for editors (config/config.schema.json): the top-level schema, with every route node
 * typed by the registry's factories (one if/then per `type`, the type's options and descriptions).
 * Deterministic: the same registry always yields the same text.
 */
export function generateEditorSchema(factories: readonly RouteFactory[]): SchemaObject {
  const sorted = [...factories].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const typeNames: string[] = ['Pool'];
  const branches: SchemaObject[] = [];
  for (const f of sorted) {
    const names = [f.type, ...f.aliases];
    typeNames.push(...names);
    const own = linkRouteNodes(f.schema) as SchemaObject;
    const props: Record<string, unknown> = {
      type: { enum: names, description: f.description },
      name: { type: 'string', description: 'Name of this route; later references by name reuse this instance.' },
      ...((own['properties'] as Record<string, unknown> | undefined) ?? {}),
    };
    const then: SchemaObject = { ...own, properties: props };
    branches.push({ if: { properties: { type: { enum: names } }, required: ['type'] }, then });
  }
  branches.push({
    if: { properties: { type: { const: 'Pool' } }, required: ['type'] },
    then: {
      description: 'The list of per-server destination routes of a pool (no hashing).',
      properties: { type: { const: 'Pool' }, ...((linkRouteNodes(POOL_SCHEMA) as SchemaObject)['properties'] as Record<string, unknown>) },
      required: ['name', 'servers'],
      additionalProperties: false,
    },
  });
  typeNames.sort();
  const top = linkRouteNodes(TOP_LEVEL_SCHEMA) as SchemaObject;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...top,
    $defs: {
      route: {
        description: 'A route: an object with "type", a "Type|arg" string, a named handle, or a list of routes.',
        anyOf: [
          { type: 'string' },
          { type: 'array', items: { $ref: '#/$defs/route' } },
          {
            type: 'object',
            required: ['type'],
            properties: { type: { enum: typeNames } },
            allOf: branches,
          },
        ],
      },
    },
  };
}
