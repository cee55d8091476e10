/**
 * JSONM: mcrouter's "JSON with macros" preprocessor (reference mcrouter.md §1.6), run on every config after
 * parsing and before building, as mcrouter does. Input and output are the loader's JSON model (null-prototype
 * objects); the input is never modified.
 *
 * What it does:
 *   - top-level `"macros"`: an object name → definition, or an array of such objects (later wins). A
 *     definition is `{"type": "macroDef", "params": [...], "result": ...}` (a param is a name or
 *     `{"name", "default"}` / `{"name", "optional": true}`; required params may not follow optional ones) or
 *     `{"type": "constDef", "result": ...}` (expanded once, on first use). The key is removed from the output.
 *   - `%name%` in a string is replaced by a parameter, a loop variable or a constant (innermost first). A
 *     string that is exactly `"%name%"` becomes the value itself (any JSON); elsewhere the value must be a
 *     string (numbers are accepted too and printed).
 *   - a string starting with `@` is a call: `"@name"`, `"@name(a,b)"`. Arguments are split on top-level
 *     commas, trimmed, and each is expanded as a string, so an argument is a string unless it is itself a
 *     call or a whole `%param%`. `\\` (a backslash in the JSON text) escapes `@ % ( ) ,` and itself.
 *   - an object whose `"type"` names a macro is an object-form call: each parameter comes from the property
 *     of its name (expanded in the caller's scope); an extra `"vars": {...}` object adds variables visible in
 *     the macro's result. Built-in object calls: `transform`, `process`, `foreach`, `define`.
 *   - a macro's result sees only its own parameters, its `vars` and the constants (not the caller's
 *     variables); `transform`/`process`/`foreach`/`define` extend the current scope instead.
 *   - built-ins: see BUILTINS below. `@import(path[,default])` reads `file:<path>` (or a bare path; relative
 *     paths resolve against the main config's directory) through the loader, expands it, and caches it by
 *     path; the loader records the file so hot reload watches it.
 *
 * Differences from mcrouter, on purpose or by necessity (documented here and in the README):
 *   - JavaScript has one number type, so `1.0` is an int for isInt/isDouble; `@str` of a bool gives
 *     "true"/"false".
 *   - object key order is the document's (mcrouter's is unspecified), so keys/values/foreach are ordered.
 *   - not implemented: hash, weightedHash, isLocalIp (and the `mcr_opts-*` constants).
 *
 * Errors are ConfigErrors whose path is the JSON pointer of the value that failed (inside a macro, the
 * pointer into its definition), followed by the chain of calls that led there:
 *   /macros/policy/result/default_policy: unknown macro "x" (in @policy called at /routes/~1a~1a~1)
 * Nesting is bounded (MAX_DEPTH calls/imports deep), so a recursive macro or a constant that refers to
 * itself is an error rather than a stack overflow.
 */
import { ConfigError, joinPointer } from '../config-error.js';
import { FORBIDDEN_KEYS, type JsonValue } from './json-lenient.js';

type JsonObject = { [k: string]: JsonValue };

/** How deep macro calls, constants and imports may nest. */
export const MAX_DEPTH = 200;
/** Largest list `@range` may produce. */
const MAX_RANGE = 1_000_000;

/** Reads an `@import` target: returns the parsed data and the absolute file it came from; throws on failure. */
export type ImportReader = (path: string) => { readonly data: JsonValue; readonly file: string };

export interface PreprocessOptions {
  /** Global constants (`%default-route%`, --config-params, ...); see jsonmGlobals(). */
  readonly globals?: Readonly<Record<string, JsonValue>>;
  /** `@import` reader; without one, `@import` fails (or yields its default). */
  readonly readImport?: ImportReader;
}

export interface PreprocessResult {
  readonly data: JsonValue;
  /** Absolute files read by `@import`, in first-read order. */
  readonly imports: readonly string[];
}

/** Inputs of the global constants; the same fields as BuildOptions. */
export interface JsonmGlobalInputs {
  readonly routePrefix: string;
  readonly hostId: number;
  readonly numProxies?: number;
  readonly configParams?: Readonly<Record<string, string>>;
}

/**
 * mcrouter's global constants: default-route/-region/-cluster (from -R), hostid, router-name, service-name,
 * router-info-name, num-proxies, then each `--config-params` entry (which cannot replace a built-in one).
 */
export function jsonmGlobals(o: JsonmGlobalInputs): Record<string, JsonValue> {
  const parts = o.routePrefix.split('/');
  const g: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  g['default-route'] = o.routePrefix;
  g['default-region'] = parts[1] ?? '';
  g['default-cluster'] = parts[2] ?? '';
  g['hostid'] = o.hostId;
  g['router-name'] = 'unknown';
  g['service-name'] = 'unknown';
  g['service-router-capable'] = 0;
  g['router-info-name'] = 'Memcache';
  g['num-proxies'] = o.numProxies ?? 1;
  for (const [k, v] of Object.entries(o.configParams ?? {})) if (!(k in g)) g[k] = v;
  return g;
}

/**
 * Parse `--config-params 'name1:v1,name2:v2'` (a value may contain ':'; the first one splits).
 * @throws Error naming the bad entry
 */
export function parseConfigParams(s: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const entry of s.split(',')) {
    if (entry.trim() === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`--config-params: expected name:value, got "${entry}"`);
    out[entry.slice(0, colon).trim()] = entry.slice(colon + 1).trim();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/** A failure during expansion: where (pointer), what, and the calls that led there (innermost first). */
class JsonmError extends Error {
  readonly trail: string[] = [];
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
  toConfigError(): ConfigError {
    const via = this.trail.length === 0 ? '' : ` (in ${this.trail.join('; ')})`;
    return new ConfigError(this.path, `${this.detail}${via}`);
  }
}

/** Variables visible while expanding: a chain of frames; a macro call starts a fresh chain. */
interface Scope {
  readonly vars: ReadonlyMap<string, JsonValue>;
  readonly parent: Scope | null;
}

interface ParamDef {
  readonly name: string;
  readonly required: boolean;
  /** Used when the argument is absent (not expanded, as mcrouter). */
  readonly dflt?: JsonValue;
}

/** Arguments of one call, expanded on first use (so `if`/`select` only expand the branch they take). */
class Args {
  private readonly cache = new Map<string, JsonValue>();
  constructor(
    readonly macro: string,
    private readonly thunks: ReadonlyMap<string, () => JsonValue>,
    readonly path: string,
    /** The caller's scope (for `defined`). */
    readonly scope: Scope | null,
  ) {}
  has(name: string): boolean {
    return this.thunks.has(name);
  }
  get(name: string): JsonValue {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const t = this.thunks.get(name);
    if (t === undefined) throw new JsonmError(this.path, `${this.macro}: parameter "${name}" is missing`);
    const v = t();
    this.cache.set(name, v);
    return v;
  }
  fail(message: string): never {
    throw new JsonmError(this.path, `${this.macro}: ${message}`);
  }
}

type MacroFn = (args: Args, self: Preprocessor) => JsonValue;

interface MacroDef {
  readonly name: string;
  readonly params: readonly ParamDef[];
  readonly fn: MacroFn;
  /** User macros start a new scope for their result; built-ins just compute. */
  readonly user: boolean;
}

interface ConstDef {
  raw: JsonValue;
  readonly path: string;
  state: 'raw' | 'expanding' | 'done';
}

type BuiltinCall = (obj: JsonObject, scope: Scope | null, path: string, self: Preprocessor) => JsonValue;

function isObj(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function newObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  return typeof v;
}

function clone(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(clone);
  if (isObj(v)) {
    const o = newObject();
    for (const k of Object.keys(v)) o[k] = clone(v[k] as JsonValue);
    return o;
  }
  return v;
}

function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i] as JsonValue));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k] as JsonValue, b[k] as JsonValue));
  }
  return false;
}

/** Position of the first unescaped `c` in `s` from `from`, or -1. */
function findUnescaped(s: string, c: string, from = 0): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === c) return i;
  }
  return -1;
}

/** Trim whitespace, keeping a trailing space that is escaped (`a\ `). */
function trimArg(s: string): string {
  let end = s.length;
  while (end > 0 && /\s/.test(s[end - 1] as string)) {
    let slashes = 0;
    for (let j = end - 2; j >= 0 && s[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 1) break;
    end--;
  }
  let start = 0;
  while (start < end && /\s/.test(s[start] as string)) start++;
  return s.slice(start, end);
}

/** Split call arguments on commas outside parentheses; `@a()` has one empty argument, as mcrouter. */
function splitArgs(inner: string, fail: (m: string) => never): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (--depth < 0) fail(`unbalanced ")" in arguments "${inner}"`);
    } else if (c === ',' && depth === 0) {
      out.push(trimArg(inner.slice(start, i)));
      start = i + 1;
    }
  }
  if (depth !== 0) fail(`unbalanced "(" in arguments "${inner}"`);
  out.push(trimArg(inner.slice(start)));
  return out;
}

function parseParams(raw: JsonValue | undefined, name: string, path: string): ParamDef[] {
  if (raw === undefined) return [];
  const p = joinPointer(path, 'params');
  if (!Array.isArray(raw)) throw new JsonmError(p, `macro "${name}": params must be an array`);
  const out: ParamDef[] = [];
  let sawOptional = false;
  raw.forEach((item, i) => {
    const ip = joinPointer(p, i);
    let def: ParamDef;
    if (typeof item === 'string') {
      def = { name: item, required: true };
    } else if (isObj(item)) {
      const n = item['name'];
      if (typeof n !== 'string') throw new JsonmError(ip, `macro "${name}": a parameter object needs a string "name"`);
      if (item['default'] !== undefined) def = { name: n, required: false, dflt: item['default'] };
      else if (item['optional'] !== undefined && item['optional'] !== false) def = { name: n, required: false };
      else def = { name: n, required: true };
    } else {
      throw new JsonmError(ip, `macro "${name}": a parameter is ${typeName(item)}, expected a string or an object`);
    }
    if (def.required && sawOptional) {
      throw new JsonmError(ip, `macro "${name}": required parameter "${def.name}" follows an optional one`);
    }
    if (out.some((d) => d.name === def.name)) throw new JsonmError(ip, `macro "${name}": parameter "${def.name}" is listed twice`);
    sawOptional ||= !def.required;
    out.push(def);
  });
  return out;
}

class Preprocessor {
  private readonly macros = new Map<string, MacroDef>();
  private readonly consts = new Map<string, ConstDef>();
  private readonly importCache = new Map<string, JsonValue>();
  private readonly importing = new Set<string>();
  readonly imports: string[] = [];
  private depth = 0;
  private readonly callStack: string[] = [];

  constructor(private readonly opts: PreprocessOptions) {
    for (const [k, v] of Object.entries(opts.globals ?? {})) this.consts.set(k, { raw: v, path: '', state: 'done' });
    for (const b of BUILTINS) this.macros.set(b.name, b);
  }

  run(config: JsonValue): JsonValue {
    if (!isObj(config)) return this.expand(config, null, '');
    const macros = config['macros'];
    if (macros !== undefined) this.defineAll(macros, '/macros');
    const rest = newObject();
    for (const k of Object.keys(config)) if (k !== 'macros') rest[k] = config[k] as JsonValue;
    return this.expand(rest, null, '');
  }

  private defineAll(raw: JsonValue, path: string): void {
    // The block itself may be computed (an @import of shared macros); definitions inside stay raw.
    const block = this.expand(raw, null, path);
    if (Array.isArray(block)) {
      block.forEach((b, i) => this.defineAll(b, joinPointer(path, i)));
      return;
    }
    if (!isObj(block)) throw new JsonmError(path, `"macros" is ${typeName(block)}, expected an object or an array`);
    for (const name of Object.keys(block)) this.defineOne(name, block[name] as JsonValue, joinPointer(path, name));
  }

  private defineOne(name: string, def: JsonValue, path: string): void {
    if (!isObj(def)) throw new JsonmError(path, `macro definition "${name}" is ${typeName(def)}, expected an object`);
    const type = def['type'];
    const result = def['result'];
    if (type !== 'macroDef' && type !== 'constDef') {
      throw new JsonmError(joinPointer(path, 'type'), `definition "${name}": type must be "macroDef" or "constDef", got ${JSON.stringify(type ?? null)}`);
    }
    if (result === undefined) throw new JsonmError(path, `${type} "${name}" has no "result"`);
    const resultPath = joinPointer(path, 'result');
    if (type === 'constDef') {
      this.consts.set(name, { raw: result, path: resultPath, state: 'raw' });
      return;
    }
    const params = parseParams(def['params'], name, path);
    this.macros.set(name, { name, params, user: true, fn: (args) => this.expand(result, this.macroScope(args, params), resultPath) });
  }

  /** The scope a user macro's result is expanded in: its parameters and `vars` only. */
  private macroScope(args: Args, params: readonly ParamDef[]): Scope {
    const vars = new Map<string, JsonValue>();
    if (args.has(' vars')) {
      const v = args.get(' vars');
      if (!isObj(v)) args.fail(`"vars" is ${typeName(v)}, expected an object`);
      for (const k of Object.keys(v)) vars.set(k, v[k] as JsonValue);
    }
    for (const p of params) if (args.has(p.name)) vars.set(p.name, args.get(p.name));
    return { vars, parent: null };
  }

  // --- expansion ------------------------------------------------------------------------------------------

  expand(v: JsonValue, scope: Scope | null, path: string): JsonValue {
    if (typeof v === 'string') return this.expandString(v, scope, path);
    if (Array.isArray(v)) return v.map((x, i) => this.expand(x, scope, joinPointer(path, i)));
    if (!isObj(v)) return v;
    const t = v['type'];
    if (t !== undefined) {
      const type = this.expand(t, scope, joinPointer(path, 'type'));
      if (typeof type === 'string') {
        const call = BUILTIN_CALLS.get(type);
        if (call !== undefined) return this.nested(type, path, () => call(v, scope, path, this), false);
        const m = this.macros.get(type);
        if (m !== undefined) return this.callObject(m, v, scope, path);
      }
    }
    const out = newObject();
    for (const k of Object.keys(v)) {
      const kp = joinPointer(path, k);
      const key = this.expandString(k, scope, kp);
      if (typeof key !== 'string') throw new JsonmError(kp, `the key "${k}" expands to ${typeName(key)}, expected a string`);
      if (FORBIDDEN_KEYS.has(key)) throw new JsonmError(kp, `the key "${k}" expands to the forbidden key "${key}"`);
      out[key] = this.expand(v[k] as JsonValue, scope, kp);
    }
    return out;
  }

  expandString(s: string, scope: Scope | null, path: string): JsonValue {
    const call = s.trimStart();
    if (!call.startsWith('@')) return this.substitute(s, scope, path);
    const str = trimArg(call);
    const fail = (m: string): never => {
      throw new JsonmError(path, m);
    };
    let nameRaw: string;
    let argStrs: string[] = [];
    const open = findUnescaped(str, '(');
    if (open !== -1) {
      if (!str.endsWith(')') || str.endsWith('\\)')) fail(`no closing ")" in the call "${str}"`);
      nameRaw = str.slice(1, open);
      argStrs = splitArgs(str.slice(open + 1, -1), fail);
    } else {
      nameRaw = str.slice(1);
    }
    const name = this.substitute(trimArg(nameRaw), scope, path);
    if (typeof name !== 'string' || name === '') fail(`bad macro name in "${str}"`);
    const m = this.macros.get(name as string);
    if (m === undefined) return fail(`unknown macro "${name as string}"`);
    if (m.params.length === 0 && argStrs.length === 1 && argStrs[0] === '') argStrs = [];
    const min = m.params.filter((p) => p.required).length;
    if (argStrs.length < min || argStrs.length > m.params.length) {
      const want = min === m.params.length ? `${min}` : `${min} to ${m.params.length}`;
      fail(`@${m.name} takes ${want} argument${m.params.length === 1 ? '' : 's'}, got ${argStrs.length}`);
    }
    const thunks = new Map<string, () => JsonValue>();
    m.params.forEach((p, i) => {
      const a = argStrs[i];
      if (a !== undefined) thunks.set(p.name, () => this.expandString(a, scope, path));
      else if (p.dflt !== undefined) {
        const d = p.dflt;
        thunks.set(p.name, () => clone(d));
      }
    });
    return this.invoke(m, new Args(`@${m.name}`, thunks, path, scope), path);
  }

  private callObject(m: MacroDef, obj: JsonObject, scope: Scope | null, path: string): JsonValue {
    const thunks = new Map<string, () => JsonValue>();
    for (const p of m.params) {
      const raw = obj[p.name];
      if (raw !== undefined) thunks.set(p.name, () => this.expand(raw, scope, joinPointer(path, p.name)));
      else if (p.required) throw new JsonmError(path, `macro "${m.name}": parameter "${p.name}" is missing`);
      else if (p.dflt !== undefined) {
        const d = p.dflt;
        thunks.set(p.name, () => clone(d));
      }
    }
    const vars = obj['vars'];
    if (m.user && vars !== undefined && !m.params.some((p) => p.name === 'vars')) {
      thunks.set(' vars', () => this.expand(vars, scope, joinPointer(path, 'vars')));
    }
    return this.invoke(m, new Args(m.name, thunks, path, scope), path);
  }

  private invoke(m: MacroDef, args: Args, path: string): JsonValue {
    if (!m.user) return m.fn(args, this);
    return this.nested(`@${m.name}`, path, () => m.fn(args, this));
  }

  /** Run `f` one level deeper; errors from inside gain "`what` called at `path`" in their trail (if `trail`). */
  nested<T>(what: string, path: string, f: () => T, trail = true): T {
    if (this.depth >= MAX_DEPTH) {
      const recent = this.callStack.slice(-6).join(' → ');
      throw new JsonmError(path, `macros nest more than ${MAX_DEPTH} deep (a cycle? ... ${recent} → ${what})`);
    }
    this.depth++;
    this.callStack.push(what);
    try {
      return f();
    } catch (e) {
      if (trail && e instanceof JsonmError && e.trail.length < 8) e.trail.push(`${what} called at ${path || '/'}`);
      throw e;
    } finally {
      this.depth--;
      this.callStack.pop();
    }
  }

  /** Replace `%name%` and remove escapes; a string that is exactly one `%name%` yields its value. */
  substitute(s: string, scope: Scope | null, path: string): JsonValue {
    if (s.indexOf('%') === -1 && s.indexOf('\\') === -1) return s;
    let buf = '';
    let i = 0;
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '\\') {
        if (i + 1 >= s.length) throw new JsonmError(path, `the string "${s}" ends with an escape backslash`);
        buf += s[i + 1];
        i += 2;
        continue;
      }
      if (c !== '%') {
        buf += c;
        i++;
        continue;
      }
      let name = '';
      let j = i + 1;
      for (; j < s.length && s[j] !== '%'; j++) {
        if (s[j] === '\\') j++;
        name += s[j] ?? '';
      }
      if (j >= s.length) throw new JsonmError(path, `unmatched "%" in "${s}" (write \\\\% for a literal %)`);
      const value = this.lookup(name, scope, path);
      if (buf === '' && i === 0 && j === s.length - 1) return clone(value);
      if (typeof value === 'string') buf += value;
      else if (typeof value === 'number') buf += String(value);
      else throw new JsonmError(path, `%${name}% is ${typeName(value)}; only a string can be part of a longer string`);
      i = j + 1;
    }
    return buf;
  }

  lookup(name: string, scope: Scope | null, path: string): JsonValue {
    for (let s = scope; s !== null; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    const c = this.consts.get(name);
    if (c === undefined) throw new JsonmError(path, `unknown parameter or constant %${name}%`);
    if (c.state === 'done') return c.raw;
    if (c.state === 'expanding') throw new JsonmError(c.path, `constant "${name}" refers to itself`);
    c.state = 'expanding';
    try {
      c.raw = this.nested(`%${name}%`, path, () => this.expand(c.raw, null, c.path));
      c.state = 'done';
    } catch (e) {
      c.state = 'raw';
      throw e;
    }
    return c.raw;
  }

  isDefined(name: string, scope: Scope | null): boolean {
    for (let s = scope; s !== null; s = s.parent) if (s.vars.has(name)) return true;
    return this.consts.has(name);
  }

  importFile(target: string, args: Args): JsonValue {
    const reader = this.opts.readImport;
    let loaded: { readonly data: JsonValue; readonly file: string };
    try {
      if (reader === undefined) throw new Error('imports are not available here');
      loaded = reader(target);
    } catch (e) {
      if (args.has('default')) return args.get('default');
      return args.fail(`cannot import "${target}": ${e instanceof Error ? e.message : String(e)}`);
    }
    const hit = this.importCache.get(loaded.file);
    if (hit !== undefined) return clone(hit);
    if (this.importing.has(loaded.file)) args.fail(`"${loaded.file}" imports itself`);
    if (!this.imports.includes(loaded.file)) this.imports.push(loaded.file);
    this.importing.add(loaded.file);
    let out: JsonValue;
    try {
      out = this.nested(`@import(${target})`, args.path, () => {
        try {
          return this.expand(loaded.data, null, '');
        } catch (e) {
          if (e instanceof JsonmError) {
            const inner = new JsonmError(args.path, `@import: in ${loaded.file}${e.path === '' ? '' : ` at ${e.path}`}: ${e.detail}`);
            inner.trail.push(...e.trail);
            throw inner;
          }
          throw e;
        }
      }, false);
    } finally {
      this.importing.delete(loaded.file);
    }
    this.importCache.set(loaded.file, out);
    return clone(out);
  }
}

// --- built-in macros ----------------------------------------------------------------------------------------

function builtin(name: string, params: (string | { name: string; optional: true })[], fn: MacroFn): MacroDef {
  return {
    name,
    user: false,
    params: params.map((p) => (typeof p === 'string' ? { name: p, required: true } : { name: p.name, required: false })),
    fn,
  };
}

function int(a: Args, name: string): number {
  const v = a.get(name);
  if (typeof v !== 'number' || !Number.isInteger(v)) a.fail(`${name} is ${typeName(v)}, expected an int`);
  return v as number;
}

function bool(a: Args, name: string): boolean {
  const v = a.get(name);
  if (typeof v !== 'boolean') a.fail(`${name} is ${typeName(v)}, expected a bool`);
  return v as boolean;
}

function str(a: Args, name: string): string {
  const v = a.get(name);
  if (typeof v !== 'string') a.fail(`${name} is ${typeName(v)}, expected a string`);
  return v as string;
}

function arith(name: string, op: (x: number, y: number, a: Args) => number): MacroDef {
  return builtin(name, ['A', 'B'], (a) => op(int(a, 'A'), int(a, 'B'), a));
}

function compare(a: JsonValue, b: JsonValue, fail: (m: string) => never): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a === null && b === null) return 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i] as JsonValue, b[i] as JsonValue, fail);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  return fail(`cannot compare ${typeName(a)} with ${typeName(b)}`);
}

const BOOL_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false };

const BUILTINS: readonly MacroDef[] = [
  builtin('import', ['path', { name: 'default', optional: true }], (a, p) => {
    const raw = str(a, 'path');
    return p.importFile(raw.startsWith('file:') ? raw.slice('file:'.length) : raw, a);
  }),
  builtin('int', ['value'], (a) => {
    const v = a.get('value');
    if (typeof v === 'number') return Math.trunc(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
    return a.fail(`cannot convert ${typeName(v)} ${JSON.stringify(v)} to an int`);
  }),
  builtin('double', ['value'], (a) => {
    const v = a.get('value');
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    return a.fail(`cannot convert ${typeName(v)} ${JSON.stringify(v)} to a double`);
  }),
  builtin('str', ['value'], (a) => {
    const v = a.get('value');
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return a.fail(`cannot convert ${typeName(v)} to a string`);
  }),
  builtin('bool', ['value'], (a) => {
    const v = a.get('value');
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    if (typeof v === 'string') {
      const b = BOOL_WORDS[v.trim().toLowerCase()];
      if (b !== undefined) return b;
    }
    return a.fail(`cannot convert ${typeName(v)} ${JSON.stringify(v)} to a bool`);
  }),
  builtin('not', ['A'], (a) => !bool(a, 'A')),
  builtin('and', ['A', 'B'], (a) => bool(a, 'A') && bool(a, 'B')),
  builtin('or', ['A', 'B'], (a) => bool(a, 'A') || bool(a, 'B')),
  builtin('less', ['A', 'B'], (a) => compare(a.get('A'), a.get('B'), (m) => a.fail(m)) < 0),
  builtin('equals', ['A', 'B'], (a) => deepEqual(a.get('A'), a.get('B'))),
  builtin('if', ['condition', 'is_true', 'is_false'], (a) => (bool(a, 'condition') ? a.get('is_true') : a.get('is_false'))),
  builtin('isArray', ['value'], (a) => Array.isArray(a.get('value'))),
  builtin('isBool', ['value'], (a) => typeof a.get('value') === 'boolean'),
  builtin('isInt', ['value'], (a) => Number.isInteger(a.get('value'))),
  builtin('isDouble', ['value'], (a) => {
    const v = a.get('value');
    return typeof v === 'number' && !Number.isInteger(v);
  }),
  builtin('isObject', ['value'], (a) => isObj(a.get('value'))),
  builtin('isString', ['value'], (a) => typeof a.get('value') === 'string'),
  arith('add', (x, y) => x + y),
  arith('sub', (x, y) => x - y),
  arith('mul', (x, y) => x * y),
  arith('div', (x, y, a) => (y === 0 ? a.fail('division by zero') : Math.trunc(x / y))),
  arith('mod', (x, y, a) => (y === 0 ? a.fail('division by zero') : x % y)),
  arith('bitwiseAnd', (x, y) => Number(BigInt(x) & BigInt(y))),
  arith('bitwiseOr', (x, y) => Number(BigInt(x) | BigInt(y))),
  arith('bitwiseXor', (x, y) => Number(BigInt(x) ^ BigInt(y))),
  arith('bitwiseLeftShift', (x, y) => Number(BigInt.asIntN(64, BigInt(x) << BigInt(y)))),
  arith('bitwiseRightShift', (x, y) => Number(BigInt(x) >> BigInt(y))),
  builtin('bitwiseNot', ['A'], (a) => Number(~BigInt(int(a, 'A')))),
  builtin('keys', ['dictionary'], (a) => {
    const d = a.get('dictionary');
    return isObj(d) ? Object.keys(d) : a.fail(`dictionary is ${typeName(d)}, expected an object`);
  }),
  builtin('values', ['dictionary'], (a) => {
    const d = a.get('dictionary');
    return isObj(d) ? Object.values(d).map(clone) : a.fail(`dictionary is ${typeName(d)}, expected an object`);
  }),
  builtin('merge', ['params'], (a) => {
    const ps = a.get('params');
    if (!Array.isArray(ps) || ps.length === 0) return a.fail('params must be a non-empty array');
    const first = ps[0] as JsonValue;
    if (Array.isArray(first)) {
      return ps.flatMap((p, i) => (Array.isArray(p) ? p.map(clone) : a.fail(`params/${i} is ${typeName(p)}, expected an array like params/0`)));
    }
    if (isObj(first)) {
      const out = newObject();
      ps.forEach((p, i) => {
        if (!isObj(p)) a.fail(`params/${i} is ${typeName(p)}, expected an object like params/0`);
        for (const k of Object.keys(p as JsonObject)) out[k] = clone((p as JsonObject)[k] as JsonValue);
      });
      return out;
    }
    if (typeof first === 'string') {
      return ps.map((p, i) => (typeof p === 'string' ? p : a.fail(`params/${i} is ${typeName(p)}, expected a string like params/0`))).join('');
    }
    return a.fail(`params/0 is ${typeName(first)}, expected an array, object or string`);
  }),
  builtin('select', ['dictionary', 'key', { name: 'default', optional: true }], (a) => {
    const d = a.get('dictionary');
    const k = a.get('key');
    if (isObj(d)) {
      if (typeof k !== 'string') return a.fail(`dictionary is an object, so key must be a string (got ${typeName(k)})`);
      const v = d[k];
      if (v !== undefined) return clone(v);
      return a.has('default') ? a.get('default') : a.fail(`key "${k}" not found and no default given`);
    }
    if (Array.isArray(d)) {
      if (typeof k !== 'number' || !Number.isInteger(k)) return a.fail(`dictionary is an array, so key must be an int (got ${typeName(k)})`);
      const v = d[k < 0 ? k + d.length : k];
      if (v !== undefined) return clone(v);
      return a.has('default') ? a.get('default') : a.fail(`index ${k} is out of range [0, ${d.length})`);
    }
    return a.fail(`dictionary is ${typeName(d)}, expected an object or an array`);
  }),
  builtin('shuffle', ['dictionary'], (a) => {
    const d = a.get('dictionary');
    if (isObj(d)) return clone(d);
    if (!Array.isArray(d)) return a.fail(`dictionary is ${typeName(d)}, expected an array or an object`);
    const out = d.map(clone);
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [out[i], out[j]] = [out[j] as JsonValue, out[i] as JsonValue];
    }
    return out;
  }),
  builtin('slice', ['dictionary', 'from', 'to'], (a) => {
    const d = a.get('dictionary');
    if (isObj(d)) {
      const from = str(a, 'from');
      const to = str(a, 'to');
      const out = newObject();
      for (const k of Object.keys(d)) if (from <= k && k <= to) out[k] = clone(d[k] as JsonValue);
      return out;
    }
    if (!Array.isArray(d) && typeof d !== 'string') return a.fail(`dictionary is ${typeName(d)}, expected an array, object or string`);
    // Both ends are inclusive, as mcrouter.
    const from = Math.max(0, int(a, 'from'));
    const to = int(a, 'to') + 1;
    return Array.isArray(d) ? d.slice(from, Math.max(from, to)).map(clone) : d.slice(from, Math.max(from, to));
  }),
  builtin('split', ['dictionary', 'delim'], (a) => {
    const d = str(a, 'dictionary');
    const delim = str(a, 'delim');
    if (delim === '') a.fail('delim is empty');
    return d.split(delim);
  }),
  builtin('range', ['from', 'to'], (a) => {
    const from = int(a, 'from');
    const to = int(a, 'to');
    if (to - from + 1 > MAX_RANGE) a.fail(`the range [${from}, ${to}] has more than ${MAX_RANGE} elements`);
    const out: number[] = [];
    for (let i = from; i <= to; i++) out.push(i);
    return out;
  }),
  builtin('contains', ['dictionary', 'key'], (a) => {
    const d = a.get('dictionary');
    const k = a.get('key');
    if (isObj(d)) return typeof k === 'string' ? d[k] !== undefined : a.fail(`dictionary is an object, so key must be a string (got ${typeName(k)})`);
    if (Array.isArray(d)) return d.some((x) => deepEqual(x, k));
    if (typeof d === 'string') return typeof k === 'string' ? d.includes(k) : a.fail(`dictionary is a string, so key must be a string (got ${typeName(k)})`);
    return a.fail(`dictionary is ${typeName(d)}, expected an object, array or string`);
  }),
  builtin('empty', ['dictionary'], (a) => sizeOf(a) === 0),
  builtin('size', ['dictionary'], (a) => sizeOf(a)),
  builtin('sort', ['dictionary'], (a) => {
    const d = a.get('dictionary');
    if (!Array.isArray(d)) return a.fail(`dictionary is ${typeName(d)}, expected an array`);
    return d.map(clone).sort((x, y) => compare(x, y, (m) => a.fail(m)));
  }),
  builtin('set', ['dictionary', 'key', 'value'], (a) => {
    const d = a.get('dictionary');
    const k = a.get('key');
    const v = a.get('value');
    if (isObj(d)) {
      if (typeof k !== 'string') return a.fail(`dictionary is an object, so key must be a string (got ${typeName(k)})`);
      if (FORBIDDEN_KEYS.has(k)) return a.fail(`the key "${k}" is forbidden`);
      const out = clone(d) as JsonObject;
      out[k] = v;
      return out;
    }
    if (Array.isArray(d)) {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= d.length) return a.fail(`key ${JSON.stringify(k)} is not an index in [0, ${d.length})`);
      const out = d.map(clone);
      out[k] = v;
      return out;
    }
    return a.fail(`dictionary is ${typeName(d)}, expected an object or an array`);
  }),
  builtin('defined', ['name'], (a, p) => p.isDefined(str(a, 'name'), a.scope)),
  builtin('fail', ['msg'], (a) => {
    const msg = a.get('msg');
    throw new JsonmError(a.path, typeof msg === 'string' ? msg : JSON.stringify(msg));
  }),
];

function sizeOf(a: Args): number {
  const d = a.get('dictionary');
  if (isObj(d)) return Object.keys(d).length;
  if (Array.isArray(d) || typeof d === 'string') return d.length;
  return a.fail(`dictionary is ${typeName(d)}, expected an object, array or string`);
}

// --- built-in object calls ----------------------------------------------------------------------------------

function field(obj: JsonObject, name: string, call: string, path: string): JsonValue {
  const v = obj[name];
  if (v === undefined) throw new JsonmError(path, `${call}: "${name}" is missing`);
  return v;
}

function nameField(obj: JsonObject, name: string, dflt: string, call: string, path: string): string {
  const v = obj[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new JsonmError(joinPointer(path, name), `${call}: "${name}" must be a string`);
  return v;
}

/** `[key, item]` pairs of an object or an array (index keys). */
function entries(d: JsonValue): [JsonValue, JsonValue][] {
  if (Array.isArray(d)) return d.map((x, i) => [i, x]);
  if (isObj(d)) return Object.keys(d).map((k) => [k, d[k] as JsonValue]);
  return [];
}

function frame(parent: Scope | null, vars: [string, JsonValue][]): Scope {
  return { vars: new Map(vars), parent };
}

const BUILTIN_CALLS: ReadonlyMap<string, BuiltinCall> = new Map<string, BuiltinCall>([
  // Definitions that appear outside "macros" (or are being read there) stay as they are.
  ['macroDef', (obj) => obj],
  ['constDef', (obj) => obj],
  [
    'define',
    (obj, scope, path, p) => {
      const vars = p.expand(field(obj, 'vars', 'define', path), scope, joinPointer(path, 'vars'));
      if (!isObj(vars)) throw new JsonmError(joinPointer(path, 'vars'), `define: "vars" is ${typeName(vars)}, expected an object`);
      const inner = frame(scope, Object.keys(vars).map((k) => [k, vars[k] as JsonValue]));
      return p.expand(field(obj, 'result', 'define', path), inner, joinPointer(path, 'result'));
    },
  ],
  [
    'transform',
    (obj, scope, path, p) => {
      const dp = joinPointer(path, 'dictionary');
      const d = p.expand(field(obj, 'dictionary', 'transform', path), scope, dp);
      if (!isObj(d) && !Array.isArray(d)) throw new JsonmError(dp, `transform: dictionary is ${typeName(d)}, expected an object or an array`);
      const keyName = nameField(obj, 'keyName', 'key', 'transform', path);
      const itemName = nameField(obj, 'itemName', 'item', 'transform', path);
      const itemT = obj['itemTransform'];
      const keyT = obj['keyTransform'];
      const itemP = joinPointer(path, 'itemTransform');
      if (Array.isArray(d)) {
        if (itemT === undefined) throw new JsonmError(path, 'transform: "itemTransform" is required for an array');
        return d.map((item, i) => p.expand(itemT, frame(scope, [[keyName, i], [itemName, item]]), itemP));
      }
      const out = newObject();
      for (const [key, item] of entries(d)) {
        const f = frame(scope, [[keyName, key], [itemName, item]]);
        const nk = keyT === undefined ? key : p.expand(keyT, f, joinPointer(path, 'keyTransform'));
        const keys = Array.isArray(nk) ? nk : [nk];
        const ni = itemT === undefined ? clone(item) : p.expand(itemT, f, itemP);
        for (const k of keys) {
          if (typeof k !== 'string') throw new JsonmError(joinPointer(path, 'keyTransform'), `transform: a transformed key is ${typeName(k)}, expected a string`);
          if (FORBIDDEN_KEYS.has(k)) throw new JsonmError(joinPointer(path, 'keyTransform'), `transform: the key "${k}" is forbidden`);
          out[k] = clone(ni);
        }
      }
      return out;
    },
  ],
  [
    'process',
    (obj, scope, path, p) => {
      const dp = joinPointer(path, 'dictionary');
      const d = p.expand(field(obj, 'dictionary', 'process', path), scope, dp);
      if (!isObj(d) && !Array.isArray(d)) throw new JsonmError(dp, `process: dictionary is ${typeName(d)}, expected an object or an array`);
      let value = p.expand(field(obj, 'initialValue', 'process', path), scope, joinPointer(path, 'initialValue'));
      const t = field(obj, 'transform', 'process', path);
      const keyName = nameField(obj, 'keyName', 'key', 'process', path);
      const itemName = nameField(obj, 'itemName', 'item', 'process', path);
      const valueName = nameField(obj, 'valueName', 'value', 'process', path);
      for (const [key, item] of entries(d)) {
        value = p.expand(t, frame(scope, [[keyName, key], [itemName, item], [valueName, value]]), joinPointer(path, 'transform'));
      }
      return value;
    },
  ],
  [
    'foreach',
    (obj, scope, path, p) => {
      const fp = joinPointer(path, 'from');
      const from = p.expand(field(obj, 'from', 'foreach', path), scope, fp);
      if (!isObj(from) && !Array.isArray(from)) throw new JsonmError(fp, `foreach: from is ${typeName(from)}, expected an object or an array`);
      const keyName = nameField(obj, 'key', 'key', 'foreach', path);
      const itemName = nameField(obj, 'item', 'item', 'foreach', path);
      let top = Infinity;
      if (obj['top'] !== undefined) {
        const t = p.expand(obj['top'], scope, joinPointer(path, 'top'));
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new JsonmError(joinPointer(path, 'top'), 'foreach: top must be a non-negative int');
        top = t;
      }
      const use = obj['use'];
      const where = obj['where'];
      let result: JsonValue[] | JsonObject | null = null;
      for (const [key, item] of entries(from)) {
        if (top <= 0) break;
        const f = frame(scope, [[keyName, key], [itemName, item]]);
        if (where !== undefined) {
          const w = p.expand(where, f, joinPointer(path, 'where'));
          if (typeof w !== 'boolean') throw new JsonmError(joinPointer(path, 'where'), `foreach: "where" gave ${typeName(w)}, expected a bool`);
          if (!w) continue;
        }
        top--;
        if (use === undefined) {
          if (Array.isArray(from)) {
            const list: JsonValue[] = Array.isArray(result) ? result : [];
            list.push(clone(item));
            result = list;
          } else {
            const o: JsonObject = isObj(result) ? result : newObject();
            o[key as string] = clone(item);
            result = o;
          }
          continue;
        }
        const u = p.expand(use, f, joinPointer(path, 'use'));
        if (result === null) {
          if (!isObj(u) && !Array.isArray(u)) throw new JsonmError(joinPointer(path, 'use'), `foreach: "use" gave ${typeName(u)}, expected an object or an array`);
          result = u;
        } else if (Array.isArray(result)) {
          if (!Array.isArray(u)) throw new JsonmError(joinPointer(path, 'use'), `foreach: "use" gave ${typeName(u)}, expected an array like the first one`);
          result.push(...u);
        } else {
          if (!isObj(u)) throw new JsonmError(joinPointer(path, 'use'), `foreach: "use" gave ${typeName(u)}, expected an object like the first one`);
          for (const k of Object.keys(u)) result[k] = u[k] as JsonValue;
        }
      }
      if (result !== null) return result;
      if (obj['noMatchResult'] !== undefined) return p.expand(obj['noMatchResult'], scope, joinPointer(path, 'noMatchResult'));
      return Array.isArray(from) ? [] : newObject();
    },
  ],
]);

/**
 * Expand all JSONM in a parsed config.
 * @throws ConfigError naming the JSON pointer of the failing value and the macro calls that led there
 */
export function preprocessConfig(config: JsonValue, opts: PreprocessOptions = {}): PreprocessResult {
  const p = new Preprocessor(opts);
  try {
    return { data: p.run(config), imports: p.imports };
  } catch (e) {
    if (e instanceof JsonmError) throw e.toConfigError();
    if (e instanceof RangeError) throw new ConfigError('', `JSONM expansion failed: ${e.message}`);
    throw e;
  }
}

