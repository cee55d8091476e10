/**
 * createRouter's options: `config`, plus every sidecar option that makes sense in-process, by its camelCase
 * name (`serverTimeoutMs`, `localZone`, `asyncDir`, `timeoutsUntilTko`, `adminPort`, `logLevel`, …). The
 * names, defaults and environment variables come from the one option table (src/options.ts).
 */
import { routerOptions, type ProxyOptions, type RouterOptions as TableOptions } from '../options.js';

/** What createRouter takes: the in-process options of the option table, and `config`. */
export interface RouterOptions extends Omit<TableOptions, 'config' | 'configStr'> {
  /**
   * `file:PATH` (watched and reloaded like the sidecar's), an `etcd://` URL, a config object, or JSON/YAML
   * text.
   */
  config: string | object;
}

/** A string that names where the config is, rather than being it. */
function isSourceName(s: string): boolean {
  const t = s.trim();
  if (t.startsWith('file:') || t.startsWith('etcd://')) return true;
  return !t.includes('\n') && !t.startsWith('{') && /\.(json|ya?ml)$/i.test(t);
}

/** The ProxyOptions a createRouter call stands for. Throws OptionError naming a bad or unknown key. */
export function embeddedOptions(opts: RouterOptions): ProxyOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('createRouter: options must be an object with a config');
  const { config, ...rest } = opts;
  if ('configStr' in rest) throw new TypeError('createRouter: give the config as `config` (an object, text, or file:PATH)');
  let source: { config: string | null; configStr: string | null };
  if (typeof config === 'string') source = isSourceName(config) ? { config: config.trim(), configStr: null } : { config: null, configStr: config };
  else if (config !== null && typeof config === 'object') source = { config: null, configStr: JSON.stringify(config) };
  else throw new TypeError('createRouter: config must be file:PATH, an etcd:// URL, a config object, or JSON/YAML text');
  return routerOptions({ ...(rest as TableOptions), ...source });
}
