/**
 * Turns ajv's error list into one ConfigError that names the exact JSON pointer of the offending value.
 * ajv reports every failed branch of an anyOf; we keep the deepest error (the one closest to the real
 * mistake) and phrase type unions in words ("must be a string, an object or an array").
 */
import type { ErrorObject } from 'ajv';
import { ConfigError, joinPointer } from '../config-error.js';

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean',
  object: 'an object', array: 'an array', null: 'null',
};

function words(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}

function typeWord(t: unknown): string {
  const list = Array.isArray(t) ? t.map(String) : String(t).split(',');
  return words(list.map((x) => ARTICLE[x] ?? x));
}

/** The most specific error: deepest instancePath, then not a combinator, then first. */
export function pickAjvError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  let best: ErrorObject | undefined;
  const depth = (e: ErrorObject): number => (e.instancePath === '' ? 0 : e.instancePath.split('/').length)
    + (e.keyword === 'required' || e.keyword === 'additionalProperties' ? 1 : 0);
  const weak = (e: ErrorObject): boolean => e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if' || e.keyword === 'type';
  for (const e of errors) {
    if (best === undefined) best = e;
    else if (depth(e) > depth(best)) best = e;
    else if (depth(e) === depth(best) && weak(best) && !weak(e)) best = e;
  }
  if (best !== undefined && best.keyword === 'type') {
    // Several branches of an anyOf failed on type at the same spot: report the union of types.
    const types = new Set<string>();
    for (const e of errors) {
      if (e.keyword === 'type' && e.instancePath === best.instancePath) {
        for (const t of String((e.params as { type: unknown }).type).split(',')) types.add(t);
      }
    }
    if (types.size > 1) return { ...best, params: { type: [...types] } };
  }
  return best;
}

/** Decode a JSON pointer's tokens for display (`/hash/hash_func` → `hash/hash_func`). */
function displayPath(pointer: string): string {
  return pointer.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
}

function childDisplay(rel: string, prop: string): string {
  return rel === '' ? prop : `${displayPath(rel)}/${prop}`;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `must be ${typeWord(p['type'])}`;
    case 'enum':
      return `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p['allowedValue'])}`;
    case 'anyOf':
    case 'oneOf':
      return 'does not match any allowed form';
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/**
 * @param base JSON pointer of the validated value in the config document
 * @param subject `"HashRoute"` for a route's options (message `HashRoute: ...`), or null for the top level
 * @param shorthand the options came from a `"Type|rest"` string: report at `base`, not inside it
 */
export function ajvToConfigError(errors: readonly ErrorObject[] | null | undefined, base: string, subject: string | null, shorthand = false): ConfigError {
  const e = errors === null || errors === undefined ? undefined : pickAjvError(errors);
  const prefix = subject === null ? '' : `${subject}: `;
  const noun = subject === null ? 'property' : 'option';
  if (e === undefined) return new ConfigError(base, `${prefix}invalid`);
  const rel = e.instancePath;
  const p = e.params as Record<string, unknown>;
  let path = shorthand ? base : base + rel;
  let detail: string;
  const badName = (e as { propertyName?: unknown }).propertyName;
  if (typeof badName === 'string' || e.keyword === 'propertyNames') {
    // A closed set of keys (`propertyNames: {enum}`): an unknown key there is an error, named by its path.
    const name = typeof badName === 'string' ? badName : String(p['propertyName']);
    const allowed = errors?.find((x) => x.keyword === 'enum' && (x as { propertyName?: unknown }).propertyName === name)?.params as { allowedValues?: unknown[] } | undefined;
    const list = allowed?.allowedValues === undefined ? '' : ` (expected one of ${allowed.allowedValues.map(String).join(', ')})`;
    if (!shorthand) path = joinPointer(path, name);
    return new ConfigError(path, `${prefix}unknown ${noun} "${childDisplay(subject === null ? '' : rel, name)}"${list}`, 'MCP_ERR_CONFIG_INVALID');
  }
  if (e.keyword === 'required') {
    detail = `missing required ${noun} "${childDisplay(subject === null ? '' : rel, String(p['missingProperty']))}"`;
  } else if (e.keyword === 'additionalProperties') {
    const prop = String(p['additionalProperty']);
    if (!shorthand) path = joinPointer(path, prop);
    detail = `unknown ${noun} "${childDisplay(subject === null ? '' : rel, prop)}"`;
  } else if (subject !== null && rel !== '') {
    detail = `${displayPath(rel)} ${describe(e)}`;
  } else {
    detail = describe(e);
  }
  return new ConfigError(path, prefix + detail, 'MCP_ERR_CONFIG_INVALID');
}
