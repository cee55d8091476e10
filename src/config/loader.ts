/**
 * Reads a config from where the command line points and turns it into plain data (phase 0 of the
 * pipeline; no validation beyond syntax). Accepted forms, as mcrouter's `--config`:
 *
 *   --config file:/etc/mcrelay.json     a file (JSON with comments / trailing commas)
 *   --config /etc/mcrelay.yaml          a bare path; `.yaml` / `.yml` files are YAML
 *   --config '{"route": "NullRoute"}'   inline JSON (a value whose first non-blank char is `{`)
 *   --config-str '{"route": ...}'       inline JSON (mcrouter's deprecated flag)
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
import { ConfigError } from './config-error.js';
import { lineColumn, parseLenientJson, toJsonModel, type JsonValue } from './json-lenient.js';
import { jsonmGlobals, preprocessConfig, type JsonmGlobalInputs } from './jsonm.js';

/** `--config` value as a string, or `{ configStr }` for `--config-str`. */
export type ConfigSpec = string | { readonly configStr: string };

export interface ConfigSource {
  /** The config text exactly as read. */
  readonly text: string;
  /** The document as parsed (null-prototype objects), macros and all. */
  readonly raw: JsonValue;
  /** The preprocessed config (JSONM expanded): what is built, and what `preprocessed_config` shows. */
  readonly data: JsonValue;
  /** Hex md5 of `text` (mcrouter reports config_md5_digest). */
  readonly md5: string;
  /** Absolute path of the file, or null for inline configs. */
  readonly sourcePath: string | null;
  /** Files the config was read from (to watch for reload). */
  readonly files: readonly string[];
}

/** True when the path names a YAML file. */
export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
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
 * Read and parse the config named by `spec` (relative paths resolve against `cwd`), then expand JSONM with
 * the global constants derived from `globals` (the build options: -R, host id, --config-params...).
 * @throws ConfigError on unreadable files, syntax errors and macro errors
 */
export function loadConfigSource(spec: ConfigSpec, cwd: string = process.cwd(), globals: JsonmGlobalInputs = DEFAULT_GLOBAL_INPUTS): ConfigSource {
  let text: string;
  let sourcePath: string | null = null;
  if (typeof spec !== 'string') {
    text = spec.configStr;
  } else if (spec.trimStart().startsWith('{')) {
    text = spec;
  } else {
    const raw = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
    if (raw === '') throw new ConfigError('', 'config file path is empty', 'MCP_ERR_CONFIG_READ');
    sourcePath = resolve(cwd, raw);
    try {
      text = readFileSync(sourcePath, 'utf8');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ConfigError('', `cannot read config file ${sourcePath}: ${why}`, 'MCP_ERR_CONFIG_READ', { cause: e });
    }
  }
  const name = sourcePath ?? '<inline config>';
  const raw = parseConfigText(text, name, sourcePath !== null && isYamlPath(sourcePath));
  const baseDir = sourcePath === null ? cwd : dirname(sourcePath);
  const files = sourcePath === null ? [] : [sourcePath];
  const { data } = preprocessConfig(raw, {
    globals: jsonmGlobals(globals),
    readImport: (path) => {
      const file = resolve(baseDir, path);
      // Watched even when missing (an optional import with a default), so creating it triggers a reload.
      if (!files.includes(file)) files.push(file);
      const body = readFileSync(file, 'utf8');
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
  };
}
