/**
 * Proxy-wide counters with mcrouter's stat names (reference mcrouter.md §5.1). Plain numeric fields and
 * per-op arrays indexed at parse time: counting a request is an array increment, never a map lookup.
 */
import { LatencyHistogram } from '../metrics/latency-histogram.js';
import { ALL_RESULTS, FIRST_ERROR_RESULT, opIndex, OPS, resultIndex, type Op, type Reply, type Request, type Result } from '../protocol/types.js';

/** Per-op counters have one slot per row of OPS (index = opIndex(op)). */
const OP_COUNT = OPS.length;
export const RESULT_COUNT = ALL_RESULTS.length;

export class ProxyStats {
  readonly startedAt = Date.now();
  numClientConnections = 0;
  totalClientConnections = 0;
  readonly cmdCount = new Float64Array(OP_COUNT);
  /** Latency sum (µs) and replies per op, kept here only while histograms are off (see durationUsAt/repliedAt). */
  readonly durationUsSum = new Float64Array(OP_COUNT);
  readonly replied = new Float64Array(OP_COUNT);
  requestErrors = 0;
  requestSuccess = 0;
  /** Client requests handed to the route tree (mcrouter request_sent; a multi-get counts once). */
  requestSent = 0;
  readonly resultCount = new Map<Result, number>();
  configFailures = 0;
  configLastAttempt = 0;
  configLastSuccess = 0;
  /** Client-observed latency per op (index = opIndex(op)). Feeds `stats` percentiles and /metrics. */
  readonly latency: readonly LatencyHistogram[] = OPS.map(() => new LatencyHistogram());
  /** Whether replies are recorded in `latency` (--latency-histograms; on by default). */
  histograms = true;
  /** Replies by op × result: `byOpResult[opIndex * RESULT_COUNT + resultIndex]`. */
  readonly byOpResult = new Float64Array(OP_COUNT * RESULT_COUNT);

  /** Count one request of `op` (for callers without a Request: multi-gets, the session's own ops). */
  countRequest(op: Op): void {
    this.countOp(opIndex(op));
  }

  /** Count one request by its op slot (`req.opSlot()`, which the reply path reuses). */
  countOp(i: number): void {
    this.cmdCount[i] = (this.cmdCount[i] as number) + 1;
  }

  /**
   * The reply to a single-key request, `ms` after it was routed. By the slots the request and reply keep
   * (Request.opSlot, Reply.resultSlot), so the per-reply path runs no op or result switch.
   */
  recordReply(req: Request, reply: Reply, ms: number): void {
    this.recordReplyAt(req.opSlot(), reply.resultSlot(), ms);
  }

  /** One reply to a request of op slot `i` with result slot `r`, `ms` after it was routed. */
  recordReplyAt(i: number, r: number, ms: number): void {
    // The histogram keeps a count and a sum of its own: with it on, the two plain counters would repeat them.
    if (this.histograms) (this.latency[i] as LatencyHistogram).record(ms);
    else {
      this.durationUsSum[i] = (this.durationUsSum[i] as number) + ms * 1000;
      this.replied[i] = (this.replied[i] as number) + 1;
    }
    const j = i * RESULT_COUNT + r;
    this.byOpResult[j] = (this.byOpResult[j] as number) + 1;
    if (r < FIRST_ERROR_RESULT) this.requestSuccess++;
    else this.countError(r);
  }

  /** As recordReply, by names (cold and test callers). */
  recordReplyOf(op: Op, result: Result, ms: number): void {
    this.recordReplyAt(opIndex(op), resultIndex(result), ms);
  }

  private countError(r: number): void {
    const result = ALL_RESULTS[r] as Result;
    this.requestErrors++;
    this.resultCount.set(result, (this.resultCount.get(result) ?? 0) + 1);
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }

  /** `[name, value]` pairs of the per-op counters, mcrouter names. */
  opStats(): [string, number][] {
    const out: [string, number][] = [];
    for (let i = 0; i < OP_COUNT; i++) out.push([`cmd_${ProxyStats.opName(i)}_count`, this.cmdCount[i] as number]);
    return out;
  }

  /** mcrouter's stat name of the op at index `i` (flush_all → flushall). */
  static opName(i: number): string {
    return (OPS[i] as (typeof OPS)[number]).stat;
  }

  /** Replies to requests of the op at slot `i` (counted in its histogram, or without one in `replied`). */
  repliedAt(i: number): number {
    return (this.replied[i] as number) + (this.latency[i] as LatencyHistogram).count;
  }

  /** The summed latency of those replies, µs. */
  durationUsAt(i: number): number {
    return (this.durationUsSum[i] as number) + (this.latency[i] as LatencyHistogram).sumMs * 1000;
  }

  avgDurationUs(): number {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < OP_COUNT; i++) {
      sum += this.durationUsAt(i);
      n += this.repliedAt(i);
    }
    return n === 0 ? 0 : sum / n;
  }
}
