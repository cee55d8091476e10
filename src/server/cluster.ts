/**
 * `--num-proxies N` (mcrouter's flag): N worker processes share the listen port(s).
 *
 * The primary forks N workers with the same arguments and does no proxying itself. It accepts client
 * connections and hands them to workers round-robin (SCHED_RR): that costs the primary one hand-off per
 * connection, never per request, and spreads connections evenly — with a shared socket (SCHED_NONE) Linux
 * tends to wake the same worker, which left one worker with nearly every connection in our tests. Every worker loads the same config file and watches it, so they reload together;
 * SIGHUP and SIGTERM sent to the primary are forwarded. A worker that dies unexpectedly is restarted.
 * The primary answers nothing on the memcached port; each worker answers `stats` for itself, and the
 * admin HTTP listener (when enabled) runs in worker 1 only.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';

/** True when this process is a worker started by `runPrimary`. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** The worker's 1-based index, or 0 outside a cluster. */
export function workerIndex(): number {
  return cluster.isWorker ? Number(process.env['MCRELAY_WORKER_INDEX'] ?? '0') : 0;
}

/** Run the primary: fork `n` workers and supervise them until SIGTERM/SIGINT. */
export function runPrimary(n: number, log: Logger): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let stopping = false;
  const indexOf = new Map<number, number>();
  const fork = (index: number): void => {
    const w = cluster.fork({ MCRELAY_WORKER_INDEX: String(index) });
    if (w.process.pid !== undefined) indexOf.set(w.id, index);
  };
  for (let i = 1; i <= n; i++) fork(i);
  cluster.on('exit', (worker, code, signal) => {
    const index = indexOf.get(worker.id) ?? 0;
    indexOf.delete(worker.id);
    if (stopping) return;
    log.error({ worker: index, code, signal }, 'worker exited; restarting');
    setTimeout(() => fork(index), 500).unref();
  });
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  return new Promise<number>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig, workers: n }, 'stopping workers');
      const workers = Object.values(cluster.workers ?? {});
      let left = workers.length;
      if (left === 0) resolve(0);
      for (const w of workers) {
        w?.once('exit', () => {
          if (--left === 0) resolve(0);
        });
        w?.process.kill('SIGTERM');
      }
      setTimeout(() => resolve(0), 10_000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
