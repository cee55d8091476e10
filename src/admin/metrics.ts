/**
 * Every Prometheus metric mcrelay exports, defined in this one file (mcrouter keeps its stats in one
 * stat_list.h for the same reason: one place to read what exists and what it means).
 *
 * Names follow `mcrelay_<subsystem>_<what>_<unit>`; counters end in `_total`, durations are `_seconds`.
 * Labels come from a closed set: op, result, pool, destination, prefix (bounded to top N + `other`),
 * to (TKO state), cause (an upstream connection reset's ResetCause). Nothing is ever labelled by key.
 *
 * Cost model: the request path never touches prom-client. It bumps plain numeric fields and fixed-bucket
 * histograms (ProxyStats, RouteStats, destination counters, DestinationStats); every metric here is filled
 * from those in a `collect()` callback when /metrics is scraped. prom-client's own Histogram.observe()
 * hashes its label object on every call, which is why latency histograms are precomputed
 * (`SnapshotHistogram`) rather than observed.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALL_RESULTS, OPS } from '../protocol/types.js';
import { blockPoolStats } from '../protocol/block-pool.js';
import { collected, type Labels } from './collected.js';
import { registerProcessMetrics } from './process-metrics.js';
import { RESET_CAUSES } from '../upstream/connection.js';
import type { DestinationStats, Observability } from '../observe/observer.js';
import type { PrefixRow } from '../observe/prefix-stats.js';
import type { RouterCore } from '../router/router-core.js';
import { ProxyStats, RESULT_COUNT } from '../router/router-stats.js';
import { LatencyHistogram, PROM_BOUNDS_S } from '../metrics/latency-histogram.js';


/**
 * A histogram whose buckets are read from LatencyHistograms at scrape time. It subclasses prom-client's
 * Histogram only to be accepted by the Registry and rendered by it; `observe()` is never called.
 */
class SnapshotHistogram<T extends string> extends Histogram<T> {
  private readonly metricName: string;
  private readonly metricHelp: string;
  private readonly source: () => Iterable<[Labels<T>, LatencyHistogram]>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly T[], source: () => Iterable<[Labels<T>, LatencyHistogram]>) {
    super({ name, help, labelNames, buckets: [...PROM_BOUNDS_S], registers: [] });
    this.metricName = name;
    this.metricHelp = help;
    this.source = source;
    registry.registerMetric(this);
  }

  override async get(): ReturnType<Histogram<T>['get']> {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const [labels, h] of this.source()) {
      if (h.count === 0) continue;
      const cum = h.cumulativeProm();
      for (let k = 0; k < PROM_BOUNDS_S.length; k++) {
        values.push({ value: cum[k] as number, labels: { ...labels, le: PROM_BOUNDS_S[k] as number }, metricName: `${this.metricName}_bucket` });
      }
      values.push({ value: h.count, labels: { ...labels, le: '+Inf' }, metricName: `${this.metricName}_bucket` });
      values.push({ value: h.sumMs / 1000, labels: { ...labels }, metricName: `${this.metricName}_sum` });
      values.push({ value: h.count, labels: { ...labels }, metricName: `${this.metricName}_count` });
    }
    // Built here, not via super.get(): the base class would read its own (empty) observations.
    const snapshot = { name: this.metricName, help: this.metricHelp, type: 'histogram', aggregator: 'sum', values };
    return snapshot as unknown as Awaited<ReturnType<Histogram<T>['get']>>;
  }

  /** The Registry prefers this method when present; answer with the snapshot too. */
  getForPromString(): ReturnType<Histogram<T>['get']> {
    return this.get();
  }

  override observe(): void {
    throw new Error(`${this.metricName}: a SnapshotHistogram is filled at scrape time, not observed`);
  }
}

const TKO_LEVEL: Record<string, number> = { up: 0, soft_tko: 1, hard_tko: 2 };

/** Build the registry for one proxy. `obs` may be null when only /metrics is wanted. */
export function createMetrics(core: RouterCore, obs: Observability | null): Registry {
  const registry = new Registry();
  // prom-client's full default set times every GC (a perf_hooks observer, ~2.6 % of the CPU at high rates):
  // only with --gc-metrics; otherwise the same process metrics read at scrape time (process-metrics.ts).
  if (core.options.gcMetrics) collectDefaultMetrics({ register: registry, prefix: 'mcrelay_' });
  else registerProcessMetrics(registry, 'mcrelay_');
  const s = core.stats;
  const r = core.routeStats;

  // ---------------------------------------------------------------- client side
  collected(registry, 'counter', 'mcrelay_client_requests_total', 'Client requests answered, by op and result (a multi-get counts once).', ['op', 'result'], (emit) => {
    for (let i = 0; i < OPS.length; i++) {
      for (let j = 0; j < RESULT_COUNT; j++) {
        const v = s.byOpResult[i * RESULT_COUNT + j] as number;
        if (v > 0) emit({ op: ProxyStats.opName(i), result: ALL_RESULTS[j] as string }, v);
      }
    }
  });
  new SnapshotHistogram(registry, 'mcrelay_client_request_duration_seconds', 'Client-observed latency from parse to reply, by op.', ['op'], function* () {
    for (let i = 0; i < OPS.length; i++) yield [{ op: ProxyStats.opName(i) }, s.latency[i] as LatencyHistogram];
  });
  collected(registry, 'gauge', 'mcrelay_client_connections', 'Open client connections.', [], (emit) => emit({}, s.numClientConnections));
  collected(registry, 'counter', 'mcrelay_client_connections_accepted_total', 'Client connections accepted since start.', [], (emit) => emit({}, s.totalClientConnections));

  // ---------------------------------------------------------------- large value blocks (protocol/block-pool.ts)
  collected(registry, 'counter', 'mcrelay_value_blocks_allocated_total', 'Large value blocks allocated for the block pool.', [], (emit) => emit({}, blockPoolStats().allocated));
  collected(registry, 'counter', 'mcrelay_value_blocks_reused_total', 'Large value blocks handed out again from the pool instead of allocated.', [], (emit) => emit({}, blockPoolStats().reused));
  collected(registry, 'gauge', 'mcrelay_value_block_pool_free_bytes', 'Bytes of large value blocks held free for reuse (bounded).', [], (emit) => emit({}, blockPoolStats().freeBytes));

  // ---------------------------------------------------------------- upstream, per destination
  const dests = (): { pool: string; destination: string; ds: DestinationStats }[] =>
    obs === null ? [] : obs.liveDestinations().map((ds) => ({ pool: ds.pool, destination: ds.destination.address, ds }));
  new SnapshotHistogram(registry, 'mcrelay_upstream_request_duration_seconds', 'Send-to-reply latency per destination.', ['pool', 'destination'], function* () {
    for (const d of dests()) yield [{ pool: d.pool, destination: d.destination }, d.ds.latency];
  });
  collected(registry, 'counter', 'mcrelay_upstream_replies_total', 'Replies per destination and result.', ['pool', 'destination', 'result'], (emit) => {
    for (const d of dests()) {
      const results = d.ds.results;
      for (let j = 0; j < RESULT_COUNT; j++) {
        const v = results[j] as number;
        if (v > 0) emit({ pool: d.pool, destination: d.destination, result: ALL_RESULTS[j] as string }, v);
      }
    }
  });
  const perDest = (name: string, kind: 'counter' | 'gauge', help: string, read: (d: import('../upstream/upstream-destination.js').UpstreamDestination) => number): void =>
    collected(registry, kind, name, help, ['pool', 'destination'], (emit) => {
      for (const d of dests()) emit({ pool: d.pool, destination: d.destination }, read(d.ds.destination));
    });
  perDest('mcrelay_upstream_requests_sent_total', 'counter', 'Requests sent to the destination.', (d) => d.sent);
  perDest('mcrelay_upstream_inflight_requests', 'gauge', 'Requests written or queued on the destination\'s connections, awaiting a reply.', (d) => d.outstanding());
  perDest('mcrelay_upstream_connections_opened_total', 'counter', 'Connections opened to the destination.', (d) => d.connectionsOpened);
  perDest('mcrelay_upstream_connections_closed_total', 'counter', 'Connections to the destination that closed.', (d) => d.connectionsClosed);
  collected(
    registry,
    'counter',
    'mcrelay_upstream_connection_resets_total',
    'Connections to the destination torn down with their in-flight requests failed, by cause: unexpected_data, unknown_reply, bad_value, unrequested_key, line_too_long (reply bytes that cannot be framed), zombie_timeout (silent after timeouts), remote_closed, socket_error, proxy_closed.',
    ['pool', 'destination', 'cause'],
    (emit) => {
      for (const d of dests()) {
        const resets = d.ds.destination.resets;
        for (let i = 0; i < RESET_CAUSES.length; i++) emit({ pool: d.pool, destination: d.destination, cause: RESET_CAUSES[i] as string }, resets[i] as number);
      }
    },
  );
  perDest('mcrelay_upstream_tko', 'gauge', 'TKO state: 0 up, 1 soft TKO, 2 hard TKO.', (d) => TKO_LEVEL[d.tko.state] ?? 0);
  collected(registry, 'counter', 'mcrelay_upstream_tko_transitions_total', 'Times the destination was marked TKO, by new state.', ['pool', 'destination', 'to'], (emit) => {
    for (const d of dests()) {
      emit({ pool: d.pool, destination: d.destination, to: 'soft_tko' }, d.ds.destination.tko.softTkoCount);
      emit({ pool: d.pool, destination: d.destination, to: 'hard_tko' }, d.ds.destination.tko.hardTkoCount);
    }
  });

  // ---------------------------------------------------------------- routes (RouteStats)
  const route = (name: string, help: string, read: () => number): void => collected(registry, 'counter', name, help, [], (emit) => emit({}, read()));
  route('mcrelay_route_failovers_total', 'Requests a failover route sent to a further child (mcrouter failover_all).', () => r.failoverAll);
  route('mcrelay_route_failovers_failed_total', 'Failovers where every child failed (failover_all_failed).', () => r.failoverAllFailed);
  route('mcrelay_route_failovers_rate_limited_total', 'Failovers refused by the failover rate limit.', () => r.failoverRateLimited);
  route('mcrelay_route_shadow_sent_total', 'Shadow requests sent.', () => r.shadowSent);
  route('mcrelay_route_shadow_dropped_total', 'Shadow requests dropped at the outstanding cap.', () => r.shadowDropped);
  route('mcrelay_route_dev_null_requests_total', 'Requests answered by DevNullRoute.', () => r.devNullRequests);
  route('mcrelay_route_local_cache_hits_total', 'Reads answered from a LocalCacheRoute\'s in-process cache.', () => r.localCacheHits);
  route('mcrelay_route_local_cache_misses_total', 'Cacheable reads a LocalCacheRoute sent to its child.', () => r.localCacheMisses);
  route('mcrelay_route_local_cache_fills_total', 'Replies stored in a LocalCacheRoute\'s cache.', () => r.localCacheFills);
  route('mcrelay_route_local_cache_evictions_total', 'LocalCacheRoute entries dropped to stay within max_bytes.', () => r.localCacheEvictions);
  route('mcrelay_spool_lines_written_total', 'Failed deletes written to the spool (mcrouter asynclog).', () => r.spooledDeletes);
  route('mcrelay_spool_lines_replayed_total', 'Spooled deletes replayed.', () => core.replayer?.stats.replayed ?? 0);

  // ---------------------------------------------------------------- config
  collected(registry, 'gauge', 'mcrelay_config_generation', 'Generation of the active config (1 = first load).', [], (emit) => emit({}, core.active?.generation ?? 0));
  collected(registry, 'gauge', 'mcrelay_config_last_success_timestamp_seconds', 'Unix time of the last successful config load.', [], (emit) => emit({}, s.configLastSuccess / 1000));
  collected(registry, 'gauge', 'mcrelay_config_last_attempt_timestamp_seconds', 'Unix time of the last config load attempt.', [], (emit) => emit({}, s.configLastAttempt / 1000));
  collected(registry, 'counter', 'mcrelay_config_failures_total', 'Config loads that failed (the old config kept serving).', [], (emit) => emit({}, s.configFailures));
  collected(registry, 'counter', 'mcrelay_dns_lookup_failures_total', 'DNS lookups of pool members that failed or came back empty (the last members were kept).', [], (emit) => emit({}, core.dnsMembers.failures));
  collected(registry, 'counter', 'mcrelay_dns_member_changes_total', 'DNS lookups that changed a pool\'s members (applied as a config change).', [], (emit) => emit({}, core.dnsMembers.changes));

  // ---------------------------------------------------------------- prefixes, hot keys
  if (obs !== null && obs.prefixStats !== null) {
    const ps = obs.prefixStats;
    const prefix = (name: string, help: string, read: (row: PrefixRow) => number): void =>
      collected(registry, 'counter', name, help, ['prefix'], (emit) => {
        for (const row of ps.all()) emit({ prefix: row.prefix }, read(row));
      });
    prefix('mcrelay_prefix_requests_total', 'Routed keys per key prefix (top N prefixes plus `other`).', (row) => row.requests);
    prefix('mcrelay_prefix_hits_total', 'Get hits per key prefix.', (row) => row.hits);
    prefix('mcrelay_prefix_misses_total', 'Get misses per key prefix.', (row) => row.misses);
    prefix('mcrelay_prefix_request_bytes_total', 'Value bytes clients sent, per key prefix.', (row) => row.bytesIn);
    prefix('mcrelay_prefix_reply_bytes_total', 'Reply bytes upstreams returned, per key prefix.', (row) => row.bytesOut);
  }
  if (obs !== null && obs.hotKeys !== null) {
    const hk = obs.hotKeys;
    collected(registry, 'gauge', 'mcrelay_hot_key_top_share', 'Share (0..1) of a destination\'s sampled traffic taken by its hottest key in the window.', ['destination'], (emit) => {
      for (const [d, share] of hk.topShares()) emit({ destination: d }, share);
    });
  }
  if (obs !== null && obs.cache !== null) {
    const c = obs.cache;
    collected(registry, 'counter', 'mcrelay_hot_key_cache_hits_total', 'Gets served from the hot-key cache.', [], (emit) => emit({}, c.hits));
    collected(registry, 'counter', 'mcrelay_hot_key_cache_fills_total', 'Hot-key cache entries stored.', [], (emit) => emit({}, c.fills));
    collected(registry, 'counter', 'mcrelay_hot_key_cache_invalidations_total', 'Hot-key cache entries dropped by local writes.', [], (emit) => emit({}, c.invalidations));
  }
  if (obs !== null) {
    collected(registry, 'gauge', 'mcrelay_tap_listeners', 'Clients streaming /tap.', [], (emit) => emit({}, obs.tap.listenerCount));
  }
  return registry;
}
