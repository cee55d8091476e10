/**
 * Library entry. `createRouter` is mcrelay in-process (the embedded router); `startProxy` runs the
 * sidecar (listeners and all) in this process. Importing has no side effects.
 */
import type { Logger } from 'pino';
import { createLogger } from './log.js';
import { DEFAULT_OPTIONS, parseArgs, type ProxyOptions } from './options.js';
import { RouterCore } from './router/router-core.js';
import { Sidecar } from './server/sidecar.js';
import { startAdminHttp, type AdminHttp } from './admin/admin-http.js';

export { VERSION } from './version.js';
export { parseArgs, DEFAULT_OPTIONS, OptionError, type ProxyOptions } from './options.js';
export { validateConfig } from './config/validate.js';
export { ConfigError } from './config-error.js';
export { createRouter, EmbeddedRouter } from './embedded/router.js';
export type {
  Router, Item, Key, Value, StoreOptions, MetaCommand, MetaResult, FetchOptions, RouterOptions, RouterStats,
  DestinationStatus, CloseOptions,
} from './embedded/router.js';
export { McrelayError, type McrelayErrorCode } from './embedded/mcrelay-error.js';

export interface RunningProxy {
  /** Ports actually bound (useful with port 0). */
  readonly ports: readonly number[];
  /** The router under the sidecar: config, route tree, destinations. */
  readonly router: RouterCore;
  /** The memcached-protocol front end: listeners and client sessions. */
  readonly sidecar: Sidecar;
  /** The admin HTTP listener's port (`--admin-port`), or null when it is off. */
  readonly adminPort: number | null;
  /** Re-read and rebuild the config; false (old config kept) when it is invalid. */
  reload(): boolean;
  /** Stop accepting, finish in-flight requests (up to `deadlineMs`), close everything. */
  close(deadlineMs?: number): Promise<void>;
}

/** Load the router's first config: etcd and DNS first when the config needs them. */
export async function loadFirstConfig(router: RouterCore): Promise<void> {
  try {
    await router.fetchConfig(); // --config etcd://…: read it and watch it (src/fleet/)
    await router.resolveMembers();
    router.loadConfig();
  } catch (err) {
    await router.close();
    throw err;
  }
}

/**
 * Start a proxy from options (or CLI-style arguments). Throws ConfigError when the config is invalid.
 */
export async function startProxy(opts: Partial<ProxyOptions> | readonly string[], log?: Logger): Promise<RunningProxy> {
  const options: ProxyOptions = Array.isArray(opts)
    ? parseArgs(opts as readonly string[]).options
    : { ...DEFAULT_OPTIONS, ...(opts as Partial<ProxyOptions>) };
  const logger = log ?? createLogger(options.logLevel, { pretty: options.logPretty });
  const router = new RouterCore(options, logger);
  await loadFirstConfig(router);
  const sidecar = new Sidecar(router);
  const ports = await sidecar.listen();
  let admin: AdminHttp | null = null;
  const obs = router.observability;
  if (obs !== null && options.adminPort !== null) {
    try {
      admin = await startAdminHttp(router, obs, logger, options.adminPort, options.adminAddress);
    } catch (err) {
      await sidecar.shutdown(0);
      throw err;
    }
  }
  return {
    ports,
    router,
    sidecar,
    adminPort: admin?.port ?? null,
    reload: () => router.reload('api'),
    close: async (deadlineMs = 5_000) => {
      await admin?.close();
      await sidecar.shutdown(deadlineMs);
    },
  };
}
