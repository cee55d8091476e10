/**
 * Reads a config from where the command line points and turns it into plain data (phase 0 of the
 * pipeline; no validation beyond syntax). Accepted forms, as mcrouter's `--config`:
 *
 *   --config file:/etc/mcrelay.json     a file (JSON with comments / trailing commas)
 *   --config /etc/mcrelay.yaml          a bare path; `.yaml` / `.yml` files are YAML
 *   --config '{"route": "NullRoute"}'   inline JSON (a value whose first non-blank char is `{`)
 *   --config-str '{"route": ...}'       inline JSON (mcrouter's deprecated flag)
 *   { fetched: FetchedConfig }          text fetched beforehand (etcd, a config dump): loaded without I/O
 *
 * YAML produces the same model as JSON (null-prototype objects, `__proto__` rejected with its path), so a
 * YAML config builds exactly the tree its JSON twin builds. JSONM (macros, `%param%`, `@import`; see
 * jsonm.ts) is expanded right after parsing, as mcrouter does: `raw` is the document as parsed, `data` the
 * preprocessed config every later phase builds from. `files` is the source file plus every file read by
 * `@import` (what a reload watcher must watch); imports from an inline config resolve against `cwd`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../config-error.js';
import { lineColumn, parseLenientJson, toJsonModel, type JsonValue } from './json-lenient.js';
import { jsonmGlobals, preprocessConfig, type JsonmGlobalInputs } from './jsonm.js';

/**
 * A config whose sources were fetched asynchronously before the load (from etcd by src/fleet/, or from a
 * config dump), so loading stays synchronous and does no I/O. `@import` reads `imports`; a name that is
 * not there yet makes the load fail; pendingImports() names those, so the fetcher can get them first.
 */
export interface FetchedConfig {
  /** Where it came from, e.g. `etcd://127.0.0.1:2379/mcrelay/config`: error messages and `sourcePath`. */
  readonly name: string;
  /** The config text, or null when the source does not exist (an etcd key that was deleted). */
  readonly text: string | null;
  /** The name an `@import(path)` reads (an etcd key, relative to the config's key). */
  readonly resolveImport: (path: string) => string;
  /** Imported sources fetched so far, by resolved name; null = fetched, and it does not exist. */
  readonly imports: ReadonlyMap<string, string | null>;
}

/** `--config` value as a string, `{ configStr }` for `--config-str`, or a config fetched beforehand. */
export type ConfigSpec = string | { readonly configStr: string } | { readonly fetched: FetchedConfig };

export interface ConfigSource {
  /** The config text exactly as read. */
  readonly text: string;
  /** The document as parsed (null-prototype objects), macros and all. */
  readonly raw: JsonValue;
  /** The preprocessed config (JSONM expanded): what is built, and what `preprocessed_config` shows. */
  readonly data: JsonValue;
  /** Hex md5 of `text` (mcrouter reports config_md5_digest). */
  readonly md5: string;
  /** Absolute path of the file, the name of a fetched config (`etcd://…`), or null for inline configs. */
  readonly sourcePath: string | null;
  /** Files the config was read from (to watch for reload); none for a fetched config. */
  readonly files: readonly string[];
  /** Every source `@import` asked for (absolute file or resolved name) → its text, or null when missing. */
  readonly importSources: ReadonlyMap<string, string | null>;
}

/** True when the path names a YAML file. */
export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/**
 * An inline config (`--config-str`, or a string given to createRouter) is YAML when it does not start like
 * JSON (`{`, `[`, or a `//` / `/*` comment) and has a `key:` line; anything else is read as JSON, so a
 * malformed JSON config still gets JSON's error message.
 */
export function isInlineYaml(text: string): boolean {
  const t = text.trimStart();
  if (t === '' || t[0] === '{' || t[0] === '[' || t[0] === '/') return false;
  return /^[ \t]*[A-Za-z_"'][^\n]*:(?:[ \t]|$)/m.test(t);
}

/**
 * Parse config text. `name` is used in error messages; YAML when `yaml` is true.
 * @throws ConfigError (MCP_ERR_CONFIG_PARSE with `name:line:column`, or MCP_ERR_CONFIG_FORBIDDEN_KEY)
 */
export function parseConfigText(text: string, name: string, yaml: boolean): JsonValue {
  if (!yaml) return parseLenientJson(text, name);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: false });
  const err = doc.errors[0];
  if (err !== undefined) {
    const { line, column } = lineColumn(text, err.pos[0]);
    const where = `${name}:${line}:${column}`;
    throw new ConfigError('', `${where}: ${err.message.split('\n')[0] ?? err.message}`, 'MCP_ERR_CONFIG_PARSE');
  }
  let js: unknown;
  try {
    js = doc.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (e) {
    // e.g. "Excessive alias count" (a billion-laughs document)
    throw new ConfigError('', `${name}: ${e instanceof Error ? e.message : String(e)}`, 'MCP_ERR_CONFIG_PARSE', { cause: e });
  }
  return toJsonModel(js, '');
}

/** Default JSONM globals when the caller gives none (mcrouter defaults: `-R /././`, host id 0). */
const DEFAULT_GLOBAL_INPUTS: JsonmGlobalInputs = { routePrefix: '/././', hostId: 0 };

/**
 * The absolute path of the file `spec` names ('' for `file:` with no path), or null when it names none
 * (inline JSON, `--config-str`, a fetched config).
 */
export function configFilePath(spec: ConfigSpec, cwd: string = process.cwd()): string | null {
  if (typeof spec !== 'string' || spec.trimStart().startsWith('{')) return null;
  const raw = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  return raw === '' ? '' : resolve(cwd, raw);
}

/**
 * Read and parse the config named by `spec` (relative paths resolve against `cwd`), then expand JSONM with
 * the global constants derived from `globals` (the build options: -R, host id, --config-params...).
 * @throws ConfigError on unreadable files, syntax errors and macro errors
 */
export function loadConfigSource(spec: ConfigSpec, cwd: string = process.cwd(), globals: JsonmGlobalInputs = DEFAULT_GLOBAL_INPUTS): ConfigSource {
  if (typeof spec !== 'string' && 'fetched' in spec) {
    const unfetched: string[] = [];
    const source = loadFetched(spec.fetched, globals, unfetched);
    // An import with a default would have loaded without its source: never apply a config half-fetched.
    if (unfetched.length > 0) throw new ConfigError('', `${spec.fetched.name}: imports not fetched yet: ${unfetched.join(', ')}`, 'MCP_ERR_CONFIG_READ');
    return source;
  }
  let text: string;
  const sourcePath = configFilePath(spec, cwd);
  if (typeof spec !== 'string') {
    text = spec.configStr;
  } else if (sourcePath === null) {
    text = spec;
  } else {
    if (sourcePath === '') throw new ConfigError('', 'config file path is empty', 'MCP_ERR_CONFIG_READ');
    try {
      text = readFileSync(sourcePath, 'utf8');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ConfigError('', `cannot read config file ${sourcePath}: ${why}`, 'MCP_ERR_CONFIG_READ', { cause: e });
    }
  }
  const name = sourcePath ?? '<inline config>';
  const raw = parseConfigText(text, name, sourcePath !== null ? isYamlPath(sourcePath) : isInlineYaml(text));
  const baseDir = sourcePath === null ? cwd : dirname(sourcePath);
  const files = sourcePath === null ? [] : [sourcePath];
  const importSources = new Map<string, string | null>();
  const { data } = preprocessConfig(raw, {
    globals: jsonmGlobals(globals),
    readImport: (path) => {
      const file = resolve(baseDir, path);
      // Watched even when missing (an optional import with a default), so creating it triggers a reload.
      if (!files.includes(file)) files.push(file);
      if (!importSources.has(file)) importSources.set(file, null);
      const body = readFileSync(file, 'utf8');
      importSources.set(file, body);
      return { file, data: parseConfigText(body, file, isYamlPath(file)) };
    },
  });
  return {
    text,
    raw,
    data,
    md5: createHash('md5').update(text).digest('hex'),
    sourcePath,
    files,
    importSources,
  };
}

/**
 * Load a fetched config. An import it does not have yet is pushed onto `unfetched` and reads as null, so
 * the scan goes on to the imports after it (such a load is never applied: loadConfigSource refuses it).
 * Every import asked for lands in `importSources` (given by the caller, so it is filled even when this
 * throws).
 */
function loadFetched(f: FetchedConfig, globals: JsonmGlobalInputs, unfetched: string[], importSources = new Map<string, string | null>()): ConfigSource {
  if (f.text === null) throw new ConfigError('', `cannot read config ${f.name}: it does not exist`, 'MCP_ERR_CONFIG_READ');
  const text = f.text;
  const raw = parseConfigText(text, f.name, isYamlPath(f.name));
  const { data } = preprocessConfig(raw, {
    globals: jsonmGlobals(globals),
    readImport: (path) => {
      const name = f.resolveImport(path);
      const body = f.imports.get(name);
      importSources.set(name, body ?? null);
      if (body === undefined) {
        // Stand null in for it and go on, so one scan finds every import that does not depend on it.
        if (!unfetched.includes(name)) unfetched.push(name);
        return { file: name, data: null };
      }
      if (body === null) throw new Error(`${name} does not exist`);
      return { file: name, data: parseConfigText(body, name, isYamlPath(name)) };
    },
  });
  return { text, raw, data, md5: createHash('md5').update(text).digest('hex'), sourcePath: f.name, files: [], importSources };
}

/** What the `@import`s of a fetched config ask for: every name, and those it does not have yet. */
export interface ImportScan {
  /** Every name an `@import` asked for, fetched or not, in the order asked. */
  readonly asked: readonly string[];
  /** Of those, the ones not in `imports` yet: fetch them, add them, and scan again. */
  readonly unfetched: readonly string[];
}

/**
 * Scan a fetched config's imports without applying it. Iterate: an import can name another, or depend on
 * a value read from one, so fetch `unfetched`, add them to `imports` and scan again until it is empty.
 * Errors other than missing imports are left for the real load to report.
 */
export function scanImports(f: FetchedConfig, globals: JsonmGlobalInputs = DEFAULT_GLOBAL_INPUTS): ImportScan {
  const unfetched: string[] = [];
  const asked = new Map<string, string | null>();
  try {
    loadFetched(f, globals, unfetched, asked);
  } catch {
    // reported by the load itself
  }
  return { asked: [...asked.keys()], unfetched };
}
