/**
 * The request-path half of observability. `Observability` is the router's RequestObserver and the
 * per-destination hook; each feature is a nullable field, so a switched-off feature costs one null check:
 *
 *   onKeyReply ─┬─ prefixStats?.record   (requests, hits, misses, bytes per prefix)
 *               ├─ hotKeys?.offer        (overall top-K)
 *               ├─ tap.active && tap.record   (only while someone streams /tap)
 *               └─ debug sampling        (1 in N requests logged at debug, only when debug is on)
 *
 *   destination reply ─ DestinationStats.onReply (latency histogram, results, per-destination top-K)
 *
 * Counters the rest of the proxy already keeps (ProxyStats, RouteStats, destination counters) are not
 * copied here: the metrics module reads them at scrape time.
 */
import type { Logger } from 'pino';
import { LatencyHistogram } from '../metrics/latency-histogram.js';
import { ALL_RESULTS, type Reply, type Request, type Result } from '../protocol/types.js';
import type { DestinationObserver, UpstreamDestination } from '../upstream/upstream-destination.js';
import { HotKeyCache } from './hot-key-cache.js';
import { HotKeys } from './hot-keys.js';
import { PrefixStats } from './prefix-stats.js';
import type { ProxyOptions } from '../options.js';
import type { ConfigEvent, RequestObserver } from './events.js';
import { Tap } from './tap.js';

const RESULT_INDEX = new Map<string, number>(ALL_RESULTS.map((r, i) => [r, i]));

/** Per-destination instruments, made when the destination is created (the metric "children"). */
export class DestinationStats implements DestinationObserver {
  readonly latency = new LatencyHistogram();
  readonly results = new Float64Array(ALL_RESULTS.length);

  constructor(
    readonly destination: UpstreamDestination,
    readonly pool: string,
    private readonly hotKeys: HotKeys | null,
  ) {}

  onReply(req: Request, result: Result, ms: number): void {
    this.latency.record(ms);
    const i = RESULT_INDEX.get(result);
    if (i !== undefined) this.results[i] = (this.results[i] as number) + 1;
    if (this.hotKeys !== null) this.hotKeys.offerDestination(this.destination.address, req.key);
  }
}

export interface ObservabilityOptions {
  readonly prefixStats: { delimiter: string; prefixes: readonly string[]; topN: number } | null;
  readonly hotKeys: { capacity: number; windowMs: number; sampleRate: number } | null;
  readonly hotKeyCache: { prefixes: readonly string[]; ttlMs: number; maxEntries: number; minShare: number; minCount: number } | null;
  /** Log 1 in N requests at debug (0 = never). */
  readonly debugSampleRate: number;
}

/** The observability features the command-line options switch on. */
export function observabilityOptions(o: ProxyOptions): ObservabilityOptions {
  const hotKeys = o.hotKeys || o.hotKeysCachePrefixes.length > 0;
  return {
    prefixStats: o.prefixStats ? { delimiter: o.prefixStatsDelimiter, prefixes: o.prefixStatsPrefixes, topN: Math.max(1, o.prefixStatsTopN) } : null,
    hotKeys: hotKeys ? { capacity: Math.max(1, o.hotKeysCapacity), windowMs: Math.max(2, o.hotKeysWindowMs), sampleRate: Math.max(1, o.hotKeysSampleRate) } : null,
    hotKeyCache:
      o.hotKeysCachePrefixes.length > 0
        ? { prefixes: o.hotKeysCachePrefixes, ttlMs: o.hotKeysCacheTtlMs, maxEntries: Math.max(1, o.hotKeysCacheMaxEntries), minShare: o.hotKeysCacheMinSharePct / 100, minCount: o.hotKeysCacheMinCount }
        : null,
    debugSampleRate: Math.max(0, o.logSampleRate),
  };
}

export class Observability implements RequestObserver {
  readonly prefixStats: PrefixStats | null;
  readonly hotKeys: HotKeys | null;
  readonly cache: HotKeyCache | null;
  readonly tap = new Tap();
  readonly destinations = new Map<UpstreamDestination, DestinationStats>();
  /** The last 50 config load attempts, oldest first. */
  readonly configEvents: ConfigEvent[] = [];
  private readonly reqLog: Logger;
  private sampleTick = 0;

  constructor(
    log: Logger,
    readonly opts: ObservabilityOptions,
  ) {
    this.reqLog = log.child({ subsystem: 'requests' });
    this.prefixStats = opts.prefixStats === null ? null : new PrefixStats(opts.prefixStats);
    this.hotKeys = opts.hotKeys === null ? null : new HotKeys(opts.hotKeys);
    const hk = this.hotKeys;
    const c = opts.hotKeyCache;
    this.cache =
      c === null || hk === null
        ? null
        : new HotKeyCache({
            prefixes: c.prefixes,
            ttlMs: c.ttlMs,
            maxEntries: c.maxEntries,
            isHot: (key) => {
              const n = hk.overall.countOf(key) * hk.opts.sampleRate;
              const total = hk.overall.total * hk.opts.sampleRate;
              return n >= c.minCount && total > 0 && n / total >= c.minShare;
            },
          });
  }

  /** Give a new destination its instruments (the router calls this for each destination it creates). */
  attach(d: UpstreamDestination, pool: string): void {
    if (this.destinations.has(d)) return;
    const s = new DestinationStats(d, pool, this.hotKeys);
    this.destinations.set(d, s);
    d.observer = s;
  }

  /** Stats of destinations still in use (closed ones are dropped at the next call). */
  liveDestinations(): DestinationStats[] {
    const out: DestinationStats[] = [];
    for (const [d, s] of this.destinations) {
      if (d.closed) this.destinations.delete(d);
      else out.push(s);
    }
    return out;
  }

  /** Keep a config load attempt for the status page. */
  onConfigEvent(e: ConfigEvent): void {
    this.configEvents.push(e);
    if (this.configEvents.length > 50) this.configEvents.shift();
  }

  onKeyReply(req: Request, reply: Reply, durationMs: number): void {
    const ps = this.prefixStats;
    if (ps !== null) {
      const result = reply.result;
      ps.record(req.key, result === 'found', result === 'notfound', req.value === null ? 0 : req.value.length, reply.raw === null ? 0 : reply.raw.length);
    }
    if (this.hotKeys !== null) this.hotKeys.offer(req.key);
    if (this.tap.active) this.tap.record(req, reply, durationMs);
    if (this.opts.debugSampleRate > 0 && ++this.sampleTick % this.opts.debugSampleRate === 0 && this.reqLog.isLevelEnabled('debug')) {
      this.reqLog.debug({ op: req.op, key: req.keyString(), result: reply.result, latencyUs: Math.round(durationMs * 1000) }, 'sampled request');
    }
  }

  close(): void {
    this.hotKeys?.close();
  }
}
