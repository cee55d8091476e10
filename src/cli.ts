#!/usr/bin/env -S node --initial-old-space-size=64
/**
 * `mcrelay` command: flags (mcrouter-compatible subset), --validate-config, signals
 * (SIGHUP = reload, SIGTERM/SIGINT = drain and exit) and config file watching.
 *
 * Launch with `node --initial-old-space-size=64` (the shebang, the Dockerfile, examples/demo.sh and the
 * bench do): V8 reads heap sizes only at startup. With big values (100 KB) the proxy allocates over 1 GB/s
 * of short-lived buffers while its own heap stays ~10 MB, and V8's default old-generation limit for so
 * small a heap starts a mark-compact about every 30 ms (p99 17 ms); with a 64 MB initial limit it runs a
 * handful per minute (p99 7 ms). Other loads are unaffected (one mark-compact per run either way).
 */
import { validateConfig } from './config/validate.js';
import { runImportCommand } from './import/import-command.js';
import { createLogger } from './log.js';
import { parseArgs, usage, UsageError } from './options.js';
import { startProxy } from './index.js';
import { ReloadWatcher } from './router/config-watch.js';
import { VERSION } from './version.js';
import type { ConfigSpec } from './config/loader.js';
import { readEtcdConfigOnce } from './fleet/etcd-config.js';
import { runFleetCommand } from './fleet/fleet-command.js';
import { isEtcdUrl, parseEtcdUrl } from './fleet/etcd-url.js';
import { etcdAuthOf } from './fleet/etcd-client.js';
import { isClusterWorker, runPrimary } from './cluster/cluster.js';

async function main(argv: readonly string[]): Promise<number> {
  // `mcrelay import twemproxy FILE` is a subcommand: it prints configs and exits (src/import/).
  if (argv[0] === 'import') return runImportCommand(argv.slice(1));
  // `mcrelay fleet status|rollout|promote|abort --config etcd://…` edits and reads rollouts (src/fleet/).
  if (argv[0] === 'fleet') return runFleetCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mcrelay: ${err.message}\n${usage()}\n`);
      return 64;
    }
    throw err;
  }
  const { options, help, version, unknown } = parsed;
  if (help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (version) {
    process.stdout.write(`mcrelay ${VERSION}\n`);
    return 0;
  }
  const spec = options.configStr !== null ? { configStr: options.configStr } : options.config;
  if (spec === null) {
    process.stderr.write('mcrelay: no config given (use --config file:PATH)\n');
    return 64;
  }
  // mcrouter's --validate-config[=exit|run] (parseArgs refuses other values): "run" validates, then starts
  // as usual, as deploy scripts expect.
  const validateThenRun = argv.includes('--validate-config=run');
  if (options.validateConfig) {
    let checked: ConfigSpec = spec;
    if (typeof spec === 'string' && isEtcdUrl(spec)) {
      // --config etcd://…: read the key and its imports once (src/fleet/), then check that text.
      try {
        checked = { fetched: await readEtcdConfigOnce(parseEtcdUrl(spec), etcdAuthOf(options), { routePrefix: options.routePrefix, hostId: options.hostId ?? 0, numProxies: options.numProxies, configParams: options.configParams }, createLogger('silent'), 3000) };
      } catch (err) {
        process.stderr.write(`mcrelay: invalid config: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      }
    }
    const res = validateConfig(checked, {
      options: {
        routePrefix: options.routePrefix,
        serverTimeoutMs: options.serverTimeoutMs,
        sendInvalidRouteToDefault: options.sendInvalidRouteToDefault,
        localZone: options.localZone,
        configParams: options.configParams,
        numProxies: options.numProxies,
        ...(options.hostId === null ? {} : { hostId: options.hostId }),
      },
    });
    if (!res.ok) {
      process.stderr.write(`mcrelay: invalid config: ${res.error.message}\n`);
      return 1;
    }
    for (const w of res.built.warnings) process.stderr.write(`mcrelay: warning: ${w}\n`);
    process.stdout.write('config is valid\n');
    if (!validateThenRun) return 0;
  }
  const log = createLogger(options.logLevel, { pretty: options.logPretty });
  for (const u of unknown) log.warn({ flag: u }, 'unknown option ignored');
  if (options.numProxies > 1 && !isClusterWorker()) {
    // Validate once up front so a bad config fails fast instead of crash-looping N workers. (An etcd config
    // is read and watched by each worker, which may start from the dump: nothing to check here.)
    const res = typeof spec === 'string' && isEtcdUrl(spec) ? null : validateConfig(spec, { options: { routePrefix: options.routePrefix, configParams: options.configParams, numProxies: options.numProxies } });
    if (res !== null && !res.ok) {
      process.stderr.write(`mcrelay: invalid config: ${res.error.message}\n`);
      return 1;
    }
    return runPrimary(options.numProxies, log);
  }
  let proxy;
  try {
    proxy = await startProxy(options, log);
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
    process.stderr.write(`mcrelay: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  const core = proxy.router;
  log.info(
    { ports: proxy.ports, addresses: options.listenAddresses, adminPort: proxy.adminPort, config: core.active.source.sourcePath ?? 'inline', md5: core.active.source.md5, pools: core.active.built.pools.size, destinations: core.active.built.destinations.size },
    'mcrelay listening',
  );
  // Hot reload (router/config-watch.ts): SIGHUP, and polling of every config file, mcrouter-style.
  const watcher = new ReloadWatcher(core, { pollMs: 100, delayMs: options.reconfigurationDelayMs, log });
  watcher.start();
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info({ signal: sig, deadlineMs: options.shutdownTimeoutMs }, 'shutting down: draining');
      watcher.stop();
      void proxy.close(options.shutdownTimeoutMs).then(() => {
        log.info('stopped');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // A --num-proxies worker whose primary died (even by SIGKILL) drains and exits instead of lingering.
    if (isClusterWorker()) process.once('disconnect', () => stop('primary gone'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A cluster worker's IPC channel (and any stray handle) would keep the process alive: exit explicitly.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`mcrelay: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  },
);
