/**
 * Process metrics for /metrics, read at scrape time: CPU, memory, heap, open file descriptors, start time,
 * event-loop delay and the Node version, under prom-client's default names (with the `mcrelay_` prefix).
 *
 * prom-client's collectDefaultMetrics also times every garbage collection through a perf_hooks `gc`
 * observer. Node then builds a PerformanceEntry and runs a callback per collection, and a proxy moving
 * hundreds of thousands of requests a second collects its young generation hundreds of times a second: that
 * observer alone cost 2.6 % of mcrelay's CPU per request at pipeline depth 8 (a bare counting observer still
 * 1.8 %), more than every request-path feature but one. So GC timing is opt-in (`--gc-metrics`, which uses
 * prom-client's full default set instead of this one); everything here costs nothing between scrapes.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Counter, type Registry } from 'prom-client';

/** Register the process metrics on `registry` (names as prom-client's defaults, after `prefix`). */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name: prefix + name,
      help,
      registers: [registry],
      collect(this: Gauge) {
        this.set(read());
      },
    });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name: prefix + name,
      help,
      registers: [registry],
      collect(this: Counter) {
        this.reset();
        this.inc(read());
      },
    });
  };
  counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => process.cpuUsage().user / 1e6);
  counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', () => process.cpuUsage().system / 1e6);
  counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  const started = Math.round(Date.now() / 1000 - process.uptime());
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => started);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('process_open_fds', 'Number of open file descriptors.', () => {
    try {
      return fs.readdirSync('/proc/self/fd').length - 1; // minus the one readdir opened
    } catch {
      return 0;
    }
  });
  gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => process.memoryUsage().heapTotal);
  gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => process.memoryUsage().heapUsed);
  gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => process.memoryUsage().external);
  // Event-loop delay: libuv samples it on its own timer (10 ms resolution); the histogram restarts per scrape.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const s = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
  let snapshot = { min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 };
  const take = (): void => {
    snapshot = { min: s(delay.min), max: s(delay.max), mean: s(delay.mean), p50: s(delay.percentile(50)), p90: s(delay.percentile(90)), p99: s(delay.percentile(99)) };
    delay.reset();
  };
  // The first gauge of the set takes the snapshot; the others read it (prom-client collects in registration order).
  new Gauge({
    name: `${prefix}nodejs_eventloop_lag_min_seconds`,
    help: 'The minimum recorded event loop delay.',
    registers: [registry],
    collect(this: Gauge) {
      take();
      this.set(snapshot.min);
    },
  });
  gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', () => snapshot.max);
  gauge('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', () => snapshot.mean);
  gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', () => snapshot.p50);
  gauge('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', () => snapshot.p90);
  gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', () => snapshot.p99);
  const [major, minor, patch] = process.versions.node.split('.').map(Number);
  new Gauge({
    name: `${prefix}nodejs_version_info`,
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    registers: [registry],
    collect(this: Gauge) {
      this.set({ version: process.version, major: String(major), minor: String(minor), patch: String(patch) }, 1);
    },
  });
}
