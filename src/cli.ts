#!/usr/bin/env node
/**
 * `mcrelay` command: flags (mcrouter-compatible subset), --validate-config, signals
 * (SIGHUP = reload, SIGTERM/SIGINT = drain and exit) and config file watching.
 */
import fs from 'node:fs';
import { validateConfig } from './config/validate.js';
import { createLogger } from './log.js';
import { parseArgs, usage, UsageError } from './options.js';
import { startProxy } from './index.js';
import { VERSION } from './version.js';
import { isClusterWorker, runPrimary } from './server/cluster.js';

async function main(argv: readonly string[]): Promise<number> {
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
  if (options.validateConfig) {
    const res = validateConfig(spec, {
      options: {
        routePrefix: options.routePrefix,
        serverTimeoutMs: options.serverTimeoutMs,
        sendInvalidRouteToDefault: options.sendInvalidRouteToDefault,
        localZone: options.localZone,
      },
    });
    if (res.ok) {
      process.stdout.write('config is valid\n');
      return 0;
    }
    process.stderr.write(`mcrelay: invalid config: ${res.error.message}\n`);
    return 1;
  }
  const log = createLogger(options.logLevel);
  for (const u of unknown) log.warn({ flag: u }, 'unknown option ignored');
  if (options.numProxies > 1 && !isClusterWorker()) {
    // Validate once up front so a bad config fails fast instead of crash-looping N workers.
    const res = validateConfig(spec, { options: { routePrefix: options.routePrefix } });
    if (!res.ok) {
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
  const core = proxy.core;
  log.info(
    { ports: proxy.ports, addresses: options.listenAddresses, config: core.active.source.sourcePath ?? 'inline', md5: core.active.source.md5, pools: core.active.built.pools.size, destinations: core.active.built.destinations.size },
    'mcrelay listening',
  );
  // Hot reload: SIGHUP, and polling of every config file (mtime/size), mcrouter-style.
  process.on('SIGHUP', () => core.reload('SIGHUP'));
  const watched = new Map<string, string>();
  const stamp = (f: string): string => {
    try {
      const st = fs.statSync(f);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'missing';
    }
  };
  for (const f of core.watchedFiles()) watched.set(f, stamp(f));
  const poll = setInterval(() => {
    let changed = false;
    for (const [f, s] of watched) {
      const now = stamp(f);
      if (now !== s) {
        watched.set(f, now);
        changed = true;
      }
    }
    if (changed) {
      if (core.reload('file changed')) {
        watched.clear();
        for (const f of core.watchedFiles()) watched.set(f, stamp(f));
      }
    }
  }, 500);
  poll.unref();
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info({ signal: sig }, 'shutting down: draining');
      clearInterval(poll);
      void proxy.close(5_000).then(() => {
        log.info('stopped');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (code !== 0) setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`mcrelay: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  },
);
