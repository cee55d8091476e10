/**
 * Unknown keys are warnings, not errors, as in mcrouter: it reads the keys it knows (`json.get_ptr("...")`)
 * and ignores the rest, so real configs carry keys such as a pool's `pool_locality` or a route's comment
 * fields. mcrelay's schemas still say `additionalProperties: false` (the editor schema keeps flagging typos);
 * validation uses a lenient copy without it, and `findUnknownKeys` then walks the data alongside the strict
 * schema to name every key the schema does not know, with the nearest known one so a typo is not silent.
 *
 * Types and values of known keys stay errors (ajv still checks them). Where mcrouter refuses unknown keys
 * (RoutingGroupRoute's group names), the schema says so with `propertyNames: {enum: [...]}`, which the
 * lenient copy keeps and validation reports as an error (ajv-errors.ts). STRICT_SCHEMAS keep
 * `additionalProperties: false` as an error: mcrelay's own `authorization`, where an ignored misspelt key
 * (`prefix` for `prefixes`) would grant more than the operator wrote.
 *
 * The walk follows `properties`, `patternProperties`, `additionalProperties` (schema), `items`, `allOf`,
 * `if`/`then`/`else`, and for `anyOf`/`oneOf` the first branch the value matches. It never resolves `$ref`.
 */
import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { joinPointer } from '../config-error.js';
import { AUTHORIZATION_SCHEMA } from './schema.js';
import { nearestKey } from '../suggest.js';

export interface UnknownKey {
  /** JSON pointer of the unknown key. */
  readonly path: string;
  readonly key: string;
  /** The nearest key the schema knows at that level, if one is close. */
  readonly suggestion: string | null;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Schemas whose unknown keys stay errors (not mcrouter's: mcrelay's own, where leniency would be unsafe). */
const STRICT_SCHEMAS: readonly object[] = [AUTHORIZATION_SCHEMA];

const lenientCache = new WeakMap<object, SchemaObject>();

/**
 * A copy of `schema` without any `additionalProperties: false`, except inside STRICT_SCHEMAS (kept as they
 * are). Cached per schema object.
 */
export function lenientSchema(schema: SchemaObject): SchemaObject {
  const cached = lenientCache.get(schema);
  if (cached !== undefined) return cached;
  const copy = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(copy);
    if (!isObject(s)) return s;
    if (STRICT_SCHEMAS.includes(s)) return s;
    const out: Obj = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'additionalProperties' && v === false) continue;
      out[k] = copy(v);
    }
    return out;
  };
  const out = copy(schema) as SchemaObject;
  lenientCache.set(schema, out);
  return out;
}

// Branch matching for anyOf/oneOf: a plain ajv (no defaults, so matching never changes the data).
const matchAjv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true });
const matchers = new WeakMap<object, ValidateFunction>();

function matches(branch: unknown, value: unknown): boolean {
  if (typeof branch === 'boolean') return branch;
  if (!isObject(branch)) return false;
  let v = matchers.get(branch);
  if (v === undefined) {
    v = matchAjv.compile(lenientSchema(branch as SchemaObject));
    matchers.set(branch, v);
  }
  return v(value);
}

export interface UnknownKeyOptions {
  /** Extra keys known at the top level of `data` (a route object's `type` and `name`). */
  readonly alsoKnown?: readonly string[];
  /** Delete each unknown key from the data (only for data the caller owns, e.g. a route's cloned options). */
  readonly remove?: boolean;
}

/** Every key of `data` that `schema` does not know, in document order. `path` is `data`'s pointer. */
export function findUnknownKeys(data: unknown, schema: SchemaObject, path: string, options: UnknownKeyOptions = {}): UnknownKey[] {
  const out: UnknownKey[] = [];
  walk(data, schema, path, options, out, options.alsoKnown ?? []);
  return out;
}

function walk(data: unknown, schema: unknown, path: string, o: UnknownKeyOptions, out: UnknownKey[], extra: readonly string[]): void {
  if (!isObject(schema) || STRICT_SCHEMAS.includes(schema)) return;
  for (const comb of ['anyOf', 'oneOf'] as const) {
    const branches = schema[comb];
    if (Array.isArray(branches)) {
      const branch: unknown = branches.find((b: unknown) => matches(b, data));
      if (branch !== undefined) walk(data, branch, path, o, out, extra);
    }
  }
  const all = schema['allOf'];
  if (Array.isArray(all)) for (const s of all) walk(data, s, path, o, out, extra);
  if (schema['if'] !== undefined) {
    const next = matches(schema['if'], data) ? schema['then'] : schema['else'];
    if (next !== undefined) walk(data, next, path, o, out, extra);
  }
  if (isObject(data)) walkObject(data, schema, path, o, out, extra);
  else if (Array.isArray(data)) {
    const items = schema['items'];
    const prefix = schema['prefixItems'];
    data.forEach((item: unknown, i: number) => {
      const s = Array.isArray(prefix) && i < prefix.length ? prefix[i] : Array.isArray(items) ? items[i] : items;
      walk(item, s, joinPointer(path, i), o, out, []);
    });
  }
}

function walkObject(data: Obj, schema: Obj, path: string, o: UnknownKeyOptions, out: UnknownKey[], extra: readonly string[]): void {
  const props = isObject(schema['properties']) ? schema['properties'] : null;
  const patterns = isObject(schema['patternProperties']) ? Object.entries(schema['patternProperties']) : [];
  const additional = schema['additionalProperties'];
  if (props === null && patterns.length === 0 && additional === undefined) return;
  const known = [...Object.keys(props ?? {}), ...extra];
  for (const key of Object.keys(data)) {
    const at = joinPointer(path, key);
    if (props !== null && Object.hasOwn(props, key)) {
      walk(data[key], props[key], at, o, out, []);
      continue;
    }
    const pattern = patterns.find(([re]) => new RegExp(re, 'u').test(key));
    if (pattern !== undefined) walk(data[key], pattern[1], at, o, out, []);
    else if (additional === false) {
      if (extra.includes(key)) continue;
      out.push({ path: at, key, suggestion: nearestKey(key, known) });
      if (o.remove === true) delete data[key];
    } else if (isObject(additional)) walk(data[key], additional, at, o, out, []);
  }
}

/**
 * The warning text for an unknown key (the builder prefixes the pointer and the route type). With `base`, a
 * nested key is named by its path below `base` (`unknown option "hash/seed"`), as validation errors name them.
 */
export function unknownKeyMessage(u: UnknownKey, noun: 'property' | 'option', base?: string): string {
  let name = u.key;
  if (base !== undefined && u.path.startsWith(`${base}/`)) {
    name = u.path.slice(base.length + 1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')).join('/');
  }
  const hint = u.suggestion === null ? '' : `; did you mean "${u.suggestion}"?`;
  return `unknown ${noun} "${name}" ignored${hint}`;
}
