/**
 * A Destination is one upstream memcached server, keyed by `host:port`, shared by every pool that lists
 * it and kept across config reloads. It owns the connection(s) to the server and its health (TKO) state.
 */
import type { Reply, Request } from '../protocol/types.js';

export type DestinationCallback = (reply: Reply) => void;

export interface Destination {
  /** `host:port`, the key in the destination map. */
  readonly address: string;
  /**
   * Send one request; `done` gets exactly one reply: the server's, or an error result (timeout,
   * connect_error, tko, ...). `timeoutMs` is the calling pool's server_timeout. `wireKey`, when given,
   * is written in the key position instead of the request's key (routing prefix stripped).
   */
  send(req: Request, timeoutMs: number, done: DestinationCallback, wireKey?: Buffer): void;
  /** True while the destination is marked TKO (requests fail fast without being sent). */
  isTko(): boolean;
  /** Human-readable state for debug output: `up`, `tko`, `hard_tko`, `new`, `closed`. */
  state(): string;
}
