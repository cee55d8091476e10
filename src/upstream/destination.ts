/**
 * A Destination is one upstream memcached server, keyed by `host:port`, shared by every pool that lists
 * it and kept across config reloads. It owns the connection(s) to the server and its health (TKO) state.
 */
import type { Reply, Request } from '../protocol/types.js';
import type { KeyBatch } from './connection.js';

export type DestinationCallback = (reply: Reply) => void;

/** Callbacks that never read the reply they are given (see markReplyUnread). */
const unreadCallbacks = new WeakSet<DestinationCallback>();

/**
 * Declare that `done` ignores its reply's bytes (a shadow's or an async copy's completion): when exactly
 * this function reaches a destination (no route in between wrapped it, so none can read the reply), a large
 * value in the reply is not kept — its block goes straight back to the pool (protocol/block-pool.ts). Any
 * route that wants the reply passes its own callback, which is not marked.
 */
export function markReplyUnread<T extends DestinationCallback>(done: T): T {
  unreadCallbacks.add(done);
  return done;
}

/** Was `done` declared with markReplyUnread? */
export function isReplyUnread(done: DestinationCallback): boolean {
  return unreadCallbacks.has(done);
}

/** A delete that failed with a failover-class error, as the spool records it (mcrouter asynclog). */
export interface FailedDelete {
  /** Destination `host:port` (the destination map's key). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly pool: string;
  /** The key exactly as it was sent upstream (routing prefix already stripped unless kept). */
  readonly key: Buffer;
}

/**
 * The failed-delete spool as destinations and DestinationRoute see it (implemented in src/spool/).
 * Absent when `--asynclog-disable` is set or no spool directory is usable.
 */
export interface DeleteSpool {
  /** Append one record; `done(true)` once it is written to the spool file, `done(false)` if it could not be. */
  append(rec: FailedDelete, done: (ok: boolean) => void): void;
  /** True when a spooled delete for (address, key) is still waiting for replay. One map lookup. */
  hasPending(address: string, key: Buffer): boolean;
  /**
   * A write that may have replaced the value of (address, key) was sent after a delete for it was spooled:
   * the replay of that delete is cancelled, so it cannot remove the newer value.
   */
  noteWrite(address: string, key: Buffer): void;
}

export interface Destination {
  /** `host:port`, the key in the destination map. */
  readonly address: string;
  /**
   * Send one request; `done` gets exactly one reply: the server's, or an error result (timeout,
   * connect_error, tko, ...). `timeoutMs` is the calling pool's server_timeout. `wireKey`, when given,
   * is written in the key position instead of the request's key (routing prefix stripped).
   */
  send(req: Request, timeoutMs: number, done: DestinationCallback, wireKey?: Buffer): void;
  /**
   * Optional multi-get fast path: queue the keys of `batch` (get/gets keys sent unchanged) as one request,
   * each key answered through the batch's sink (no Request, Reply or callback per key). Returns false
   * without sending when the destination cannot dispatch at once; the caller then uses send() per key.
   */
  sendBatch?(batch: KeyBatch, timeoutMs: number): boolean;
  /** True while the destination is marked TKO (requests fail fast without being sent). */
  isTko(): boolean;
  /** Human-readable state for debug output: `up`, `tko`, `hard_tko`, `new`, `closed`. */
  state(): string;
  /** Where failed deletes to this destination are spooled; null/absent = spooling is off. */
  readonly spool?: DeleteSpool | null;
}
