/**
 * Shadowing, shared by PoolRoute `shadows` and ShadowRoute: a copy of some production requests goes to a
 * test target, fire-and-forget, without delaying or changing the client's reply.
 *
 * A shadow setting applies to the normal child at index i (a pool's destination index, or a ShadowRoute
 * child index) when ALL of:
 *   - `index_range` [start, end): start <= i < end (end-exclusive, as mcrouter's code; default: every index);
 *   - the key: with `keys_to_shadow`, the routing key is one of those keys; otherwise Spooky32 (seed 0) of
 *     the routing key lies in [trunc(start·0xFFFFFFFF), trunc(end·0xFFFFFFFF)] inclusive
 *     (`key_fraction_range`, default [0, 1] = every key);
 *   - a random draw in [0, 1) is below `requests_fraction` (default 1.0 = every request).
 * The copy goes through `ctx.spawn(target, req, 'shadow')`, which routes it with the shadow context and
 * enforces `--target-max-shadow-requests` (drops are counted in `shadowDropped`). Requests that are
 * already shadow copies are never shadowed again. The request object is shared (Requests are immutable).
 *
 * A setting with `keys_to_shadow` applies at every index, whatever its `index_range` (as mcrouter's
 * makeShadowRoutes does).
 *
 * Bad entries are logged and skipped, as in mcrouter (ShadowRoute-inl.h makeShadowRoutes): a `shadows` that
 * is not a list is ignored, and an entry that is not an object, has no `target`, fails its checks (ranges,
 * types) or whose target does not build is dropped with a warning at its JSON pointer; the rest still work.
 *
 * Compatibility: mcrouter's runtime-var overrides (`key_fraction_range_rv`, `index_range_rv`) and shadow
 * policies other than "default" are accepted by the schemas and not implemented.
 */
import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { ConfigError } from '../../config-error.js';
import { nearestKey } from '../../suggest.js';
import type { Request } from '../../protocol/types.js';
import { spooky32 } from '../hash/spooky-v2.js';
import { routeNodeSchema, type RouteBuilder } from '../route-factory.js';
import type { ReplyCallback, RouteContext, RouteHandle, Traversal } from '../route-handle.js';

/** One shadow target and the requests it takes. */
export interface ShadowSettings {
  readonly target: RouteHandle;
  /** [start, end) over the normal child index. */
  readonly indexStart: number;
  readonly indexEnd: number;
  /** Inclusive bounds on spooky32(routingKey, 0). */
  readonly keyLow: number;
  readonly keyHigh: number;
  readonly requestsFraction: number;
  /** Routing keys (latin1 text) to shadow instead of the key range, or null. */
  readonly keys: ReadonlySet<string> | null;
}

/** Config form of one shadow (snake_case, mcrouter names). */
export interface ShadowOptions {
  target: unknown;
  index_range?: number[];
  key_fraction_range?: number[];
  requests_fraction?: number;
  keys_to_shadow?: string[];
  key_fraction_range_rv?: string;
  index_range_rv?: string;
}

/** JSON schema of one shadow object. */
export const SHADOW_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    target: routeNodeSchema('Where shadow copies go, e.g. "PoolRoute|test".'),
    index_range: {
      type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2,
      description: '[start, end): shadow requests whose normal destination index i has start <= i < end. Default: every index.',
    },
    key_fraction_range: {
      type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2,
      description: '[start, end] in [0, 1]: shadow keys whose Spooky32 hash falls in this fraction of the hash space. Default [0, 1].',
    },
    requests_fraction: { type: 'number', minimum: 0, maximum: 1, default: 1, description: 'Fraction of the matching requests to shadow, drawn at random.' },
    keys_to_shadow: { type: 'array', items: { type: 'string' }, description: 'Shadow exactly these routing keys (instead of key_fraction_range).' },
    key_fraction_range_rv: { type: 'string', description: 'mcrouter runtime-var override; accepted, not implemented.' },
    index_range_rv: { type: 'string', description: 'mcrouter runtime-var override; accepted, not implemented.' },
  },
  required: ['target'],
  additionalProperties: false,
};

/**
 * JSON schema of a `shadows` list: the shape, for editors, and anything else too, because bad entries are
 * skipped with a warning rather than refused (buildShadows checks each one).
 */
export const SHADOWS_SCHEMA: SchemaObject = {
  // `{}` first: the builder's unknown-key walk stops here, and buildShadows reports each entry's own keys.
  anyOf: [{}, { type: 'array', items: SHADOW_SCHEMA }],
  description: 'Shadow targets: each gets a fire-and-forget copy of the requests it selects (index_range, key_fraction_range, requests_fraction, ' +
    'keys_to_shadow). As in mcrouter, an entry that is not valid is logged and skipped.',
};

// One entry's checks, without the unknown-key rule (unknown keys are warnings, reported by the builder).
const entryAjv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true, useDefaults: true });
let entryValidator: ValidateFunction | null = null;
function validateEntry(entry: unknown): { at: string; why: string } | null {
  if (entryValidator === null) {
    const { additionalProperties: _closed, ...open } = SHADOW_SCHEMA;
    entryValidator = entryAjv.compile(open);
  }
  if (entryValidator(entry)) return null;
  const e = entryValidator.errors?.[0];
  return { at: e?.instancePath ?? '', why: `${e?.instancePath === '' || e === undefined ? '' : `${e.instancePath.slice(1)} `}${e?.message ?? 'is not valid'}` };
}

const MAX_U32 = 0xffffffff;

/**
 * Build the settings of a `shadows` list (targets are built at `path/<i>/target`). Entries that are not
 * valid are skipped with a warning (see the module comment); only bugs throw.
 */
export function buildShadows(b: RouteBuilder, list: unknown, path: string): ShadowSettings[] {
  if (!Array.isArray(list)) {
    b.warn(path, 'shadows is not a list; ignored, as mcrouter does');
    return [];
  }
  const out: ShadowSettings[] = [];
  list.forEach((entry: unknown, i: number) => {
    const p = `${path}/${i}`;
    const skip = (at: string, why: string): void => b.warn(at, `shadows: ${why}; this shadow is skipped, as mcrouter does`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return skip(p, 'a shadow must be an object');
    const s = entry as ShadowOptions;
    if (s.target === undefined) return skip(p, 'no target');
    const bad = validateEntry(s);
    if (bad !== null) return skip(p + bad.at, bad.why);
    const known = Object.keys(SHADOW_SCHEMA['properties'] as object);
    for (const k of Object.keys(s)) {
      if (known.includes(k)) continue;
      const near = nearestKey(k, known);
      b.warn(`${p}/${k}`, `unknown option "${path.slice(path.lastIndexOf('/') + 1)}/${i}/${k}" ignored${near === null ? '' : `; did you mean "${near}"?`}`);
    }
    const [iStart, iEnd] = s.index_range ?? [0, Number.MAX_SAFE_INTEGER];
    if ((iStart as number) > (iEnd as number)) return skip(`${p}/index_range`, `index_range start ${iStart} is after end ${iEnd}`);
    const [kStart, kEnd] = s.key_fraction_range ?? [0, 1];
    if ((kStart as number) > (kEnd as number)) return skip(`${p}/key_fraction_range`, `key_fraction_range start ${kStart} is after end ${kEnd}`);
    let target: RouteHandle;
    try {
      target = b.route(s.target, `${p}/target`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return skip(e.path === '' ? `${p}/target` : e.path, `the target does not build: ${e.detail}`);
    }
    out.push({
      target,
      indexStart: iStart as number,
      indexEnd: iEnd as number,
      keyLow: Math.trunc((kStart as number) * MAX_U32),
      keyHigh: Math.trunc((kEnd as number) * MAX_U32),
      requestsFraction: s.requests_fraction ?? 1,
      keys: s.keys_to_shadow === undefined || s.keys_to_shadow.length === 0 ? null : new Set(s.keys_to_shadow),
    });
  });
  return out;
}

/** Whether `s` covers the normal child at `index` (the request-independent part); keys_to_shadow: every index. */
export function coversIndex(s: ShadowSettings, index: number): boolean {
  return s.keys !== null || (s.indexStart <= index && index < s.indexEnd);
}

/** Whether `req` is selected by `s`'s key and request-fraction tests. */
export function selectsRequest(s: ShadowSettings, req: Request, random: () => number = Math.random): boolean {
  const rk = req.routingKey();
  if (s.keys !== null) {
    if (!s.keys.has(rk.toString('latin1'))) return false;
  } else if (s.keyLow !== 0 || s.keyHigh !== MAX_U32) {
    const h = spooky32(rk, 0);
    if (h < s.keyLow || h > s.keyHigh) return false;
  }
  return s.requestsFraction >= 1 || random() < s.requestsFraction;
}

/**
 * The normal child at one index plus the shadows covering that index. Routes to `normal` first (so its
 * upstream write goes out first), then spawns the shadow copies in the same turn.
 */
export class ShadowedRoute implements RouteHandle {
  readonly type = 'ShadowRoute';
  readonly name: string;
  readonly routeNames: readonly string[] = ['shadow'];

  constructor(
    readonly normal: RouteHandle,
    readonly shadows: readonly ShadowSettings[],
    private readonly random: () => number = Math.random,
  ) {
    this.name = `${normal.name}+shadow`;
  }

  route(req: Request, ctx: RouteContext, done: ReplyCallback): void {
    this.normal.route(req, ctx, done);
    if (ctx.shadow) return;
    for (const s of this.shadows) {
      if (selectsRequest(s, req, this.random)) ctx.spawn(s.target, req, 'shadow');
    }
  }

  /**
   * Visits the normal child, then every shadow target as a shadow (listed by route_handles, as mcrouter's
   * ShadowRoute traverses them, but a shadow copy is not where the request goes: no destinations).
   */
  traverse(req: Request, t: Traversal): void {
    t.visit(this.normal, req);
    for (const s of this.shadows) t.visitListed(s.target, req);
  }
}

/**
 * Wrap each child whose index some shadow covers; the others are returned unchanged, so unshadowed
 * indices keep their direct hot path.
 */
export function wrapWithShadows(children: readonly RouteHandle[], shadows: readonly ShadowSettings[], random: () => number = Math.random): RouteHandle[] {
  if (shadows.length === 0) return [...children];
  return children.map((c, i) => {
    const covering = shadows.filter((s) => coversIndex(s, i));
    return covering.length === 0 ? c : new ShadowedRoute(c, covering, random);
  });
}
