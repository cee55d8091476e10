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
import type { Registry } from 'prom-client';
import { collected } from './collected.js';

/** What one scrape reads, once for all the metrics below. */
interface Snapshot {
  user: number;
  system: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  fds: number;
  lag: { min: number; max: number; mean: number; p50: number; p90: number; p99: number };
}

/** Register the process metrics on `registry` (names as prom-client's defaults, after `prefix`). */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  // Event-loop delay: libuv samples it on its own timer (10 ms resolution); the histogram restarts per scrape.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const sec = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
  let snap: Snapshot | null = null;
  const take = (): Snapshot => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    let fds = 0;
    try {
      fds = fs.readdirSync('/proc/self/fd').length - 1; // minus the one readdir opened
    } catch {
      // not Linux: 0
    }
    const lag = { min: sec(delay.min), max: sec(delay.max), mean: sec(delay.mean), p50: sec(delay.percentile(50)), p90: sec(delay.percentile(90)), p99: sec(delay.percentile(99)) };
    delay.reset();
    return { user: cpu.user / 1e6, system: cpu.system / 1e6, rss: mem.rss, heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external, fds, lag };
  };
  const one = (kind: 'counter' | 'gauge', name: string, help: string, read: (s: Snapshot) => number, first = false): void =>
    collected(registry, kind, prefix + name, help, [], (emit) => {
      // The first metric registered takes the scrape's snapshot; the rest read it (prom-client collects in order).
      if (first || snap === null) snap = take();
      emit({}, read(snap));
    });
  one('counter', 'process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (s) => s.user, true);
  one('counter', 'process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (s) => s.system);
  one('counter', 'process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (s) => s.user + s.system);
  const started = Math.round(Date.now() / 1000 - process.uptime());
  one('gauge', 'process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => started);
  one('gauge', 'process_resident_memory_bytes', 'Resident memory size in bytes.', (s) => s.rss);
  one('gauge', 'process_open_fds', 'Number of open file descriptors.', (s) => s.fds);
  one('gauge', 'nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (s) => s.heapTotal);
  one('gauge', 'nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (s) => s.heapUsed);
  one('gauge', 'nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (s) => s.external);
  one('gauge', 'nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', (s) => s.lag.min);
  one('gauge', 'nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', (s) => s.lag.max);
  one('gauge', 'nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', (s) => s.lag.mean);
  one('gauge', 'nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', (s) => s.lag.p50);
  one('gauge', 'nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', (s) => s.lag.p90);
  one('gauge', 'nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', (s) => s.lag.p99);
  const [major, minor, patch] = process.versions.node.split('.');
  collected(registry, 'gauge', `${prefix}nodejs_version_info`, 'Node.js version info.', ['version', 'major', 'minor', 'patch'], (emit) =>
    emit({ version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, 1),
  );
}
