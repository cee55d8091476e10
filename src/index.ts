/**
 * Library entry: start an mcrelay proxy in this process. No side effects on import.
 */
import type { Logger } from 'pino';
import { createLogger } from './log.js';
import { DEFAULT_OPTIONS, parseArgs, type ProxyOptions } from './options.js';
import { ProxyCore } from './server/proxy-core.js';
import { startAdminHttp, type AdminHttp } from './server/admin-http.js';
import { Observability, observabilityOptions } from './server/observer.js';

export { VERSION } from './version.js';
export { parseArgs, DEFAULT_OPTIONS, type ProxyOptions } from './options.js';
export { validateConfig } from './config/validate.js';

export interface RunningProxy {
  /** Ports actually bound (useful with port 0). */
  readonly ports: readonly number[];
  readonly core: ProxyCore;
  /** The admin HTTP listener's port (`--admin-port`), or null when it is off. */
  readonly adminPort: number | null;
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
  const logger = log ?? createLogger(options.logLevel, { pretty: options.logPretty });
  const core = new ProxyCore(options, logger);
  // Observability hooks go in before the first load, so every destination gets its instruments.
  const obsOpts = observabilityOptions(options);
  const obs = options.adminPort !== null || obsOpts.prefixStats !== null || obsOpts.hotKeys !== null ? new Observability(core, obsOpts) : null;
  obs?.install();
  try {
    await core.fetchConfig(); // --config etcd://…: read it and watch it (src/fleet/)
    await core.resolveMembers();
    core.loadConfig();
  } catch (err) {
    await core.closeConfigSources();
    throw err;
  }
  const ports = await core.listen();
  let admin: AdminHttp | null = null;
  if (obs !== null && options.adminPort !== null) {
    try {
      admin = await startAdminHttp(core, obs, logger, options.adminPort, options.adminAddress);
    } catch (err) {
      await core.shutdown(0);
      throw err;
    }
  }
  return {
    ports,
    core,
    adminPort: admin?.port ?? null,
    reload: () => core.reload('api'),
    close: async (deadlineMs = 5_000) => {
      await admin?.close();
      obs?.close();
      await core.shutdown(deadlineMs);
    },
  };
}
