/**
 * `--num-proxies N` (mcrouter's flag): N worker processes share the listen port(s).
 *
 * The primary forks N workers with the same arguments and does no proxying itself. It accepts client
 * connections and hands them to workers round-robin (SCHED_RR): that costs the primary one hand-off per
 * connection, never per request, and spreads connections evenly — with a shared socket (SCHED_NONE) Linux
 * tends to wake the same worker, which left one worker with nearly every connection in our tests. Every worker loads the same config file and watches it, so they reload together;
 * SIGHUP and SIGTERM sent to the primary are forwarded. A worker that dies unexpectedly is restarted.
 * The primary answers nothing on the memcached port. A worker answers `stats` with its own values, except the
 * counters mcrouter sums over its proxies (servers, connections, requests, results, per-op counts), which it
 * gathers from every worker through the primary (serveStatsSnapshots). The admin HTTP listener (when enabled)
 * runs in worker 1 only.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/**
 * Stats summed over the workers (mcrouter sums its proxies' counters): a worker asked for `stats` sends
 * `stats-gather` to the primary, which asks every worker for a snapshot (`stats-snapshot`), adds them up and
 * sends the sums back (`stats-gathered`). A worker that does not answer within GATHER_MS is left out.
 */
const GATHER_MS = 500;

interface StatsMessage {
  readonly mcrelay: 'stats-gather' | 'stats-snapshot' | 'stats-snapshot-reply' | 'stats-gathered';
  readonly id: number;
  readonly values?: Record<string, number>;
}

function isStatsMessage(m: unknown): m is StatsMessage {
  return typeof m === 'object' && m !== null && typeof (m as { mcrelay?: unknown }).mcrelay === 'string' && typeof (m as { id?: unknown }).id === 'number';
}

function addInto(sums: Record<string, number>, values: Record<string, number> | undefined): void {
  if (values === undefined) return;
  for (const [k, v] of Object.entries(values)) if (typeof v === 'number') sums[k] = (sums[k] ?? 0) + v;
}

const pendingGathers = new Map<number, (sums: Record<string, number> | null) => void>();
let nextGatherId = 1;
let snapshotProvider: (() => Record<string, number>) | null = null;

/** In a worker: answer the primary's snapshot requests with `snapshot()`, and receive gathered sums. */
export function serveStatsSnapshots(snapshot: () => Record<string, number>): void {
  if (!cluster.isWorker) return;
  const first = snapshotProvider === null;
  snapshotProvider = snapshot;
  if (!first) return;
  process.on('message', (m: unknown) => {
    if (!isStatsMessage(m)) return;
    if (m.mcrelay === 'stats-snapshot' && snapshotProvider !== null) {
      process.send?.({ mcrelay: 'stats-snapshot-reply', id: m.id, values: snapshotProvider() });
    } else if (m.mcrelay === 'stats-gathered') {
      const done = pendingGathers.get(m.id);
      pendingGathers.delete(m.id);
      done?.(m.values ?? null);
    }
  });
}

/** In a worker: every worker's snapshot summed (this one's included), or null outside a cluster or on timeout. */
export function gatherClusterStats(): Promise<Record<string, number> | null> {
  if (!cluster.isWorker || process.send === undefined) return Promise.resolve(null);
  const id = nextGatherId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pendingGathers.delete(id);
      resolve(null);
    }, GATHER_MS * 3);
    timer.unref();
    pendingGathers.set(id, (sums) => {
      clearTimeout(timer);
      resolve(sums);
    });
    process.send?.({ mcrelay: 'stats-gather', id });
  });
}

/** In the primary: serve `stats-gather` requests from workers. */
function serveGathers(): void {
  interface Gather {
    readonly from: Worker;
    readonly reqId: number;
    want: number;
    got: number;
    readonly sums: Record<string, number>;
    timer: NodeJS.Timeout | null;
  }
  const gathers = new Map<number, Gather>();
  let next = 1;
  const finish = (id: number): void => {
    const g = gathers.get(id);
    if (g === undefined) return;
    gathers.delete(id);
    if (g.timer !== null) clearTimeout(g.timer);
    if (g.from.isConnected()) g.from.send({ mcrelay: 'stats-gathered', id: g.reqId, values: g.sums });
  };
  cluster.on('message', (worker: Worker, m: unknown) => {
    if (!isStatsMessage(m)) return;
    if (m.mcrelay === 'stats-gather') {
      const id = next++;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
      const g: Gather = { from: worker, reqId: m.id, want: workers.length, got: 0, sums: {}, timer: null };
      gathers.set(id, g);
      g.timer = setTimeout(() => finish(id), GATHER_MS);
      for (const w of workers) w.send({ mcrelay: 'stats-snapshot', id });
    } else if (m.mcrelay === 'stats-snapshot-reply') {
      const g = gathers.get(m.id);
      if (g === undefined) return;
      addInto(g.sums, m.values);
      if (++g.got >= g.want) finish(m.id);
    }
  });
}

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
  serveGathers();
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
