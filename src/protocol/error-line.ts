/**
 * The error line a client gets for an error reply: the upstream's own line when there was one, else
 * `CLIENT_ERROR <message>` / `SERVER_ERROR <message>`, else the result's default text.
 */
import { defaultErrorText, type Reply } from './types.js';

export function renderError(reply: Reply): Buffer {
  if (reply.raw !== null) return reply.raw;
  if (reply.message !== null) {
    const kind = reply.result === 'client_error' || reply.result === 'bad_key' ? 'CLIENT_ERROR' : 'SERVER_ERROR';
    return Buffer.from(`${kind} ${reply.message}\r\n`, 'latin1');
  }
  return Buffer.from(`${defaultErrorText(reply.result)}\r\n`, 'latin1');
}
