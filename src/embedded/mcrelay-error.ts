/**
 * The one error type the embedded router rejects with. A miss is never an error.
 */
import { renderError } from '../protocol/error-line.js';
import type { Reply, Result } from '../protocol/types.js';

/** Why a call failed. */
export type McrelayErrorCode = 'TIMEOUT' | 'CONNECT' | 'UNAVAILABLE' | 'SERVER_ERROR' | 'CLIENT_ERROR' | 'BUSY' | 'DENIED';

/**
 * A failed call. `message` is the line memcached (or mcrouter) would have sent a client, without `\r\n`,
 * e.g. `SERVER_ERROR unavailable`; `code` classifies it; `result` is the router's result name.
 */
export class McrelayError extends Error {
  override readonly name = 'McrelayError';

  constructor(
    /** The class of failure. */
    readonly code: McrelayErrorCode,
    message: string,
    /** The router's result name (`timeout`, `tko`, `connect_error`, ...). */
    readonly result: Result | 'client_error' = code === 'CLIENT_ERROR' ? 'client_error' : 'local_error',
  ) {
    super(message);
  }

  /** The error for an error reply from the route tree. */
  static fromReply(reply: Reply): McrelayError {
    const line = renderError(reply).toString('latin1').replace(/\r\n$/, '');
    // A remote_error the router made itself (no server line) is the connection failing under a request
    // already sent: reset, or closed by the server. A server's own SERVER_ERROR line carries raw bytes.
    const code = reply.result === 'remote_error' && reply.raw === null ? 'CONNECT' : codeOf(reply.result);
    return new McrelayError(code, line, reply.result);
  }
}

/** The error class of a router result. */
export function codeOf(r: Result): McrelayErrorCode {
  switch (r) {
    case 'timeout': case 'deadline_exceeded':
      return 'TIMEOUT';
    case 'connect_error': case 'connect_timeout':
      return 'CONNECT';
    case 'tko':
      return 'UNAVAILABLE';
    case 'busy': case 'try_again':
      return 'BUSY';
    case 'permission_denied':
      return 'DENIED';
    case 'client_error': case 'bad_key':
      return 'CLIENT_ERROR';
    default:
      return 'SERVER_ERROR';
  }
}
