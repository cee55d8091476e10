/**
 * What the router tells its observers: each routed key's reply, and each config load attempt.
 */
import type { Reply, Request } from '../protocol/types.js';

/** Sees every routed key's reply (metrics, per-prefix traffic, hot keys, tap). Off the reply path's critical work. */
export interface RequestObserver {
  /** One routed key finished; multi-gets report each key. `durationMs` is from routing to reply. */
  onKeyReply(req: Request, reply: Reply, durationMs: number): void;
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
