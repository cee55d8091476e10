/**
 * Library entry: start an mcrelay proxy in this process. No side effects on import.
 */
import type { Logger } from 'pino';
import { createLogger } from './log.js';
import { DEFAULT_OPTIONS, parseArgs, type ProxyOptions } from './options.js';
import { ProxyCore } from './server/proxy-core.js';

export { VERSION } from './version.js';
export { parseArgs, DEFAULT_OPTIONS, type ProxyOptions } from './options.js';
export { validateConfig } from './config/validate.js';

export interface RunningProxy {
  /** Ports actually bound (useful with port 0). */
  readonly ports: readonly number[];
  readonly core: ProxyCore;
  /** Re-read and rebuild the config; false (old config kept) when it is invalid. */
  reload(): boolean;
  /** Stop accepting, finish in-flight requests (up to `deadlineMs`), close everything. */
  close(deadlineMs?: number): Promise<void>;
}

/**
 * Start a proxy from options (or CLI-style arguments). Throws ConfigError when the config is invalid.
 */
export async function startProxy(opts: Partial<ProxyOptions> | readonly string[], log?: Logger): Promise<RunningProxy> {
  const options: ProxyOptions = Array.isArray(opts)
    ? parseArgs(opts as readonly string[]).options
    : { ...DEFAULT_OPTIONS, ...(opts as Partial<ProxyOptions>) };
  const logger = log ?? createLogger(options.logLevel);
  const core = new ProxyCore(options, logger);
  core.loadConfig();
  const ports = await core.listen();
  return {
    ports,
    core,
    reload: () => core.reload('api'),
    close: (deadlineMs = 5_000) => core.shutdown(deadlineMs),
  };
}
