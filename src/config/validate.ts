/**
 * `--validate-config`: load and build a config completely, without opening a socket. Destinations are
 * inert (they answer `local_error` if ever used), so the check is side-effect free and repeatable.
 */
import { frozenReply, errorReply, type Request } from '../protocol/types.js';
import type { BuildOptions, PoolInfo, ServerSpec } from '../routes/route-factory.js';
import type { RouteRegistry } from '../routes/registry.js';
import type { Destination, DestinationCallback } from '../upstream/destination.js';
import { buildConfig, DEFAULT_BUILD_OPTIONS, type BuiltConfig, type DestinationProvider } from './builder.js';
import { ConfigError } from '../config-error.js';
import { loadConfigSource, type ConfigSource, type ConfigSpec } from './loader.js';

const INERT_REPLY = frozenReply(errorReply('local_error', 'destination is not connected (config validation)'));

/** A destination that never connects; one per address. */
class InertDestination implements Destination {
  constructor(readonly address: string) {}
  send(_req: Request, _timeoutMs: number, done: DestinationCallback): void {
    done(INERT_REPLY);
  }
  isTko(): boolean {
    return false;
  }
  state(): string {
    return 'closed';
  }
}

/** A DestinationProvider that shares one inert destination per `host:port`. */
export function inertDestinations(): DestinationProvider {
  const byAddress = new Map<string, Destination>();
  return {
    get(server: ServerSpec, _pool: PoolInfo): Destination {
      let d = byAddress.get(server.address);
      if (d === undefined) {
        d = new InertDestination(server.address);
        byAddress.set(server.address, d);
      }
      return d;
    },
  };
}

export type ValidateResult =
  | { readonly ok: true; readonly source: ConfigSource; readonly built: BuiltConfig }
  | { readonly ok: false; readonly error: ConfigError };

export interface ValidateOptions {
  readonly options?: Partial<BuildOptions>;
  readonly registry?: RouteRegistry;
  /** Directory relative config paths resolve against (default: process.cwd()). */
  readonly cwd?: string;
}

/**
 * Load and build the config named by `spec` (a `--config` value, or `{configStr}`).
 * Never throws for config problems: they come back as `{ok: false, error}`. Other errors are bugs and throw.
 */
export function validateConfig(spec: ConfigSpec, opts: ValidateOptions = {}): ValidateResult {
  try {
    const options: BuildOptions = { ...DEFAULT_BUILD_OPTIONS, ...opts.options };
    const source = loadConfigSource(spec, opts.cwd, options);
    const built = buildConfig(source.data, {
      options,
      destinations: inertDestinations(),
      ...(opts.registry === undefined ? {} : { registry: opts.registry }),
    });
    return { ok: true, source, built };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e };
    throw e;
  }
}
