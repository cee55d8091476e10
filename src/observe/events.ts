/**
 * What the router tells its observers: each routed key's reply, and each config load attempt.
 */
import type { Op, Reply, Request, Result } from '../protocol/types.js';

/** Sees every routed key's reply (metrics, per-prefix traffic, hot keys, tap). Off the reply path's critical work. */
export interface RequestObserver {
  /** One routed key finished; multi-gets report each key. `durationMs` is from routing to reply. */
  onKeyReply(req: Request, reply: Reply, durationMs: number): void;
  /**
   * The same for a key given as `buf[start, end)` (a multi-get key parsed as a range of the client's read
   * buffer), with its result and byte counts instead of a Request and a Reply: `bytesIn` value bytes the
   * client sent, `bytesOut` reply bytes the upstream returned.
   */
  onKeyRange(op: Op, buf: Buffer, start: number, end: number, result: Result, bytesIn: number, bytesOut: number, durationMs: number): void;
  /**
   * True while onKeyRange is not enough because something shows each key's Request and Reply (a `/tap`
   * stream): callers then make them and call onKeyReply.
   */
  readonly wantsObjects: boolean;
}

/** One config load attempt. */
export interface ConfigEvent {
  readonly ok: boolean;
  readonly at: number;
  readonly generation: number;
  readonly md5: string | null;
  readonly error: string | null;
  /** JSON pointer of a ConfigError, else null. */
  readonly path: string | null;
}
