/**
 * McrelayError: the code each router result maps to, and the message (the line a memcached client would
 * have read) for replies from an upstream, replies mcrelay made with a message, and bare results.
 */
import { describe, expect, it } from 'vitest';
import { McrelayError, codeOf, type McrelayErrorCode } from '../../../src/embedded/mcrelay-error.js';
import { ALL_RESULTS, Reply, isErrorResult, type Result } from '../../../src/protocol/types.js';

/** The classification callers rely on (retry on TIMEOUT/CONNECT/UNAVAILABLE/BUSY, never on CLIENT_ERROR). */
const EXPECTED: Record<string, McrelayErrorCode> = {
  timeout: 'TIMEOUT',
  deadline_exceeded: 'TIMEOUT',
  connect_error: 'CONNECT',
  connect_timeout: 'CONNECT',
  tko: 'UNAVAILABLE',
  busy: 'BUSY',
  try_again: 'BUSY',
  permission_denied: 'DENIED',
  client_error: 'CLIENT_ERROR',
  bad_key: 'CLIENT_ERROR',
  remote_error: 'SERVER_ERROR',
  local_error: 'SERVER_ERROR',
  shutdown: 'SERVER_ERROR',
};

describe('McrelayError', () => {
  it('maps every error result to its code', () => {
    const errors = ALL_RESULTS.filter((r) => isErrorResult(r));
    expect([...errors].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const r of errors) expect(codeOf(r), r).toBe(EXPECTED[r]);
  });

  it('takes an upstream error line as it came, without its CRLF', () => {
    const line = 'SERVER_ERROR out of memory storing object';
    const e = McrelayError.fromReply(new Reply('remote_error', Buffer.from(`${line}\r\n`, 'latin1')));
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(McrelayError);
    expect(e.name).toBe('McrelayError');
    expect(e.message).toBe(line);
    expect(e.code).toBe('SERVER_ERROR');
    expect(e.result).toBe('remote_error');
    const client = McrelayError.fromReply(new Reply('client_error', Buffer.from('CLIENT_ERROR bad data chunk\r\n', 'latin1')));
    expect(client.message).toBe('CLIENT_ERROR bad data chunk');
    expect(client.code).toBe('CLIENT_ERROR');
  });

  it('prefixes a router-made message with SERVER_ERROR, or CLIENT_ERROR for client errors', () => {
    const cases: [Result, string, string, McrelayErrorCode][] = [
      ['timeout', 'Reply timeout', 'SERVER_ERROR Reply timeout', 'TIMEOUT'],
      ['connect_error', 'AsyncSocketException: connect failed', 'SERVER_ERROR AsyncSocketException: connect failed', 'CONNECT'],
      ['local_error', 'Max pending requests (10) reached', 'SERVER_ERROR Max pending requests (10) reached', 'SERVER_ERROR'],
      ['client_error', 'key too long', 'CLIENT_ERROR key too long', 'CLIENT_ERROR'],
      ['bad_key', 'key contains a space', 'CLIENT_ERROR key contains a space', 'CLIENT_ERROR'],
    ];
    for (const [result, message, line, code] of cases) {
      const e = McrelayError.fromReply(new Reply(result, null, message));
      expect(e.message, result).toBe(line);
      expect(e.code, result).toBe(code);
      expect(e.result, result).toBe(result);
    }
  });

  it("uses mcrouter's default text for a bare error result", () => {
    const cases: [Result, string][] = [
      ['tko', 'SERVER_ERROR unavailable'],
      ['timeout', 'SERVER_ERROR timeout'],
      ['busy', 'SERVER_ERROR 307 busy'],
      ['bad_key', 'CLIENT_ERROR bad key'],
    ];
    for (const [result, line] of cases) {
      const e = McrelayError.fromReply(new Reply(result));
      expect(e.message, result).toBe(line);
      expect(e.message.endsWith('\r\n')).toBe(false);
    }
  });

  it('defaults result to client_error for CLIENT_ERROR and local_error otherwise', () => {
    expect(new McrelayError('CLIENT_ERROR', 'CLIENT_ERROR bad command line format').result).toBe('client_error');
    expect(new McrelayError('SERVER_ERROR', 'SERVER_ERROR x').result).toBe('local_error');
    expect(new McrelayError('TIMEOUT', 'SERVER_ERROR timeout', 'timeout').result).toBe('timeout');
  });
});
