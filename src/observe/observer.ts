/**
 * The request-path half of observability, on by default. `Observability` is the router's RequestObserver
 * and the per-destination hook; each feature is a nullable field (or a flag), so a switched-off feature
 * costs one check:
 *
 *   onKeyReply / onKeyRange ─┬─ prefixStats?.recordRange (requests, hits, misses, bytes per prefix; no string)
 *                            ├─ hotKeys?.offer            (overall top-K, 1 in sampleRate; no string unless counted)
 *                            ├─ tap.active && tap.record  (only while someone streams /tap)
 *                            └─ debug sampling            (a countdown; logs only when the level is debug)
 *
 *   destination reply ─ DestinationStats.onReply / onKeys (latency histogram, results, per-destination top-K)
 *
 * A multi-get key on the fast path comes as a range of the client's read buffer (onKeyRange, onKeys), so
 * observing it makes no Request, Reply or string.
 *
 * Counters the rest of the proxy already keeps (ProxyStats, RouteStats, destination counters) are not
 * copied here: the metrics module reads them at scrape time.
 */
import type { Logger } from 'pino';
import { LatencyHistogram } from '../metrics/latency-histogram.js';
import { resultIndex, type Op, type Reply, type Request, type Result } from '../protocol/types.js';
import type { KeyBatch } from '../upstream/connection.js';
import type { DestinationObserver, UpstreamDestination } from '../upstream/upstream-destination.js';
import { HotKeyCache } from './hot-key-cache.js';
import { HotKeys, type WindowedTopK } from './hot-keys.js';
import { PrefixStats } from './prefix-stats.js';
import type { ProxyOptions } from '../options.js';
import type { ConfigEvent, RequestObserver } from './events.js';
import { Tap } from './tap.js';

/**
 * Per-destination instruments, made when the destination is created (the metric "children"): its latency
 * histogram and hot keys, fed per reply, and its replies by result, read from the destination's own counters.
 */
export class DestinationStats implements DestinationObserver {
  readonly latency = new LatencyHistogram();
  /** This destination's hot-key tracker, made at its first counted request. */
  private hot: WindowedTopK | null = null;
  /** Requests until the next one counted for hot keys (1 in the tracker's sample rate). */
  private hotLeft: number;

  constructor(
    readonly destination: UpstreamDestination,
    readonly pool: string,
    private readonly hotKeys: HotKeys | null,
    /** Record send-to-reply latency (--latency-histograms). */
    private readonly histograms = true,
  ) {
    this.hotLeft = hotKeys === null ? 0 : hotKeys.rate;
  }

  /**
   * Replies by result (index = ALL_RESULTS position): the destination counts them for `stats servers` anyway,
   * so they cost nothing here. Requests that timed out in its wait queue were never sent, so they are left out.
   */
  get results(): Float64Array {
    const r = Float64Array.from(this.destination.results);
    const t = resultIndex('timeout');
    r[t] = (r[t] as number) - this.destination.queueTimeouts;
    return r;
  }

  onReply(req: Request, _result: Result, ms: number): void {
    if (this.histograms) this.latency.record(ms);
    const hk = this.hotKeys;
    if (hk !== null && --this.hotLeft === 0) {
      this.hotLeft = hk.rate;
      (this.hot ??= hk.destination(this.destination.address)).offerRange(req.key, 0, req.key.length);
    }
  }

  onKeys(batch: KeyBatch, from: number, to: number, ms: number): void {
    const n = to - from;
    if (this.histograms) this.latency.recordN(ms, n);
    const hk = this.hotKeys;
    if (hk === null) return;
    const left = this.hotLeft;
    if (n < left) {
      this.hotLeft = left - n;
      return;
    }
    // Counted: the key `left - 1` places on, then every rate-th.
    const t = (this.hot ??= hk.destination(this.destination.address));
    const rate = hk.rate;
    let m = from + left - 1;
    for (; m < to; m += rate) t.offerRange(batch.buf, batch.starts[m] as number, batch.ends[m] as number);
    this.hotLeft = m - to + 1;
  }
}

export interface ObservabilityOptions {
  readonly prefixStats: { delimiter: string; prefixes: readonly string[]; topN: number; rerankMs: number } | null;
  readonly hotKeys: { capacity: number; windowMs: number; sampleRate: number } | null;
  readonly hotKeyCache: { prefixes: readonly string[]; ttlMs: number; maxEntries: number; minShare: number; minCount: number } | null;
  /** Per-destination replies by result, latency histogram and hot keys (DestinationStats as each destination's observer). */
  readonly destinationStats: boolean;
  /** Per-destination latency histograms (the per-op ones are ProxyStats'). */
  readonly latencyHistograms: boolean;
  /** Log 1 in N requests at debug (0 = never). */
  readonly debugSampleRate: number;
}

/** The observability features the command-line options leave on (all of them by default). */
export function observabilityOptions(o: ProxyOptions): ObservabilityOptions {
  const hotKeys = o.hotKeys || o.hotKeysCachePrefixes.length > 0;
  return {
    prefixStats: o.prefixStats
      ? { delimiter: o.prefixStatsDelimiter, prefixes: o.prefixStatsPrefixes, topN: Math.max(1, o.prefixStatsTopN), rerankMs: Math.max(100, o.prefixStatsRerankMs) }
      : null,
    hotKeys: hotKeys ? { capacity: Math.max(1, o.hotKeysCapacity), windowMs: Math.max(2, o.hotKeysWindowMs), sampleRate: Math.max(1, o.hotKeysSampleRate) } : null,
    hotKeyCache:
      o.hotKeysCachePrefixes.length > 0
        ? { prefixes: o.hotKeysCachePrefixes, ttlMs: o.hotKeysCacheTtlMs, maxEntries: Math.max(1, o.hotKeysCacheMaxEntries), minShare: o.hotKeysCacheMinSharePct / 100, minCount: o.hotKeysCacheMinCount }
        : null,
    destinationStats: o.destinationStats,
    latencyHistograms: o.latencyHistograms,
    debugSampleRate: Math.max(0, o.logSampleRate),
  };
}

/** True when some feature that works per request is on (else, without an admin listener, nothing needs an Observability). */
export function anyRequestFeature(o: ObservabilityOptions): boolean {
  return o.prefixStats !== null || o.hotKeys !== null || o.destinationStats;
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
  /** Requests until the next debug-sampled one; 0 = sampling off. */
  private sampleLeft: number;

  constructor(
    log: Logger,
    readonly opts: ObservabilityOptions,
  ) {
    this.reqLog = log.child({ subsystem: 'requests' });
    this.sampleLeft = opts.debugSampleRate;
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
              const n = hk.overall.countOf(key) * hk.rate;
              const total = hk.overall.total * hk.rate;
              return n >= c.minCount && total > 0 && n / total >= c.minShare;
            },
          });
  }

  /**
   * Give a new destination its instruments (the router calls this for each destination it creates). With
   * --no-destination-stats they are still made (they list the live destinations for /metrics and /stats) but
   * observe nothing.
   */
  attach(d: UpstreamDestination, pool: string): void {
    if (this.destinations.has(d)) return;
    const s = new DestinationStats(d, pool, this.hotKeys, this.opts.latencyHistograms);
    this.destinations.set(d, s);
    if (this.opts.destinationStats) d.observer = s;
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

  get wantsObjects(): boolean {
    return this.tap.active;
  }

  onKeyReply(req: Request, reply: Reply, durationMs: number): void {
    const key = req.key;
    const result = reply.result;
    const ps = this.prefixStats;
    if (ps !== null) ps.recordRange(key, 0, key.length, result === 'found', result === 'notfound', req.value === null ? 0 : req.value.length, reply.raw === null ? 0 : reply.raw.length);
    const hk = this.hotKeys;
    if (hk !== null) hk.offerRange(key, 0, key.length);
    if (this.tap.active) this.tap.record(req, reply, durationMs);
    if (this.sampleLeft > 0 && --this.sampleLeft === 0) this.sample(req.op, key, 0, key.length, result, durationMs);
  }

  onKeyRange(op: Op, buf: Buffer, start: number, end: number, result: Result, bytesIn: number, bytesOut: number, durationMs: number): void {
    const ps = this.prefixStats;
    if (ps !== null) ps.recordRange(buf, start, end, result === 'found', result === 'notfound', bytesIn, bytesOut);
    const hk = this.hotKeys;
    if (hk !== null) hk.offerRange(buf, start, end);
    if (this.sampleLeft > 0 && --this.sampleLeft === 0) this.sample(op, buf, start, end, result, durationMs);
  }

  /** The debug-sampled request: logged when the level is debug or lower. */
  private sample(op: Op, buf: Buffer, start: number, end: number, result: Result, durationMs: number): void {
    this.sampleLeft = this.opts.debugSampleRate;
    if (!this.reqLog.isLevelEnabled('debug')) return;
    this.reqLog.debug({ op, key: buf.toString('latin1', start, end), result, latencyUs: Math.round(durationMs * 1000) }, 'sampled request');
  }

  close(): void {
    this.hotKeys?.close();
  }
}
