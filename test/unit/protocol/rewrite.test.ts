import { describe, expect, it } from 'vitest';
import { RequestParser, type RequestSink } from '../../../src/protocol/request-parser.js';
import { withExptime } from '../../../src/protocol/rewrite.js';
import type { Request } from '../../../src/protocol/types.js';

function parseOne(line: string): Request {
  let got: Request | null = null;
  const sink: RequestSink = {
    request: (r) => void (got = r),
    multiGet: () => {},
    local: () => {},
    replyLine: (l) => {
      throw new Error(`unexpected reply ${l}`);
    },
    fatal: () => {},
  };
  new RequestParser(sink).feed(Buffer.from(line, 'latin1'));
  if (got === null) throw new Error('no request');
  return got;
}

describe('withExptime', () => {
  it('keeps the base64 wire key of a meta request (the upstream decodes it again)', () => {
    const req = parseOne('mg Zm9v b T30 v\r\n');
    const out = withExptime(req, 10);
    expect(out.key.toString('latin1')).toBe('foo');
    expect(out.wireKeyOrKey().toString('latin1')).toBe('Zm9v');
    expect(out.tail.toString('latin1')).toContain('T10');
  });

  it('keeps quiet mode left to the upstream (ma … q N…)', () => {
    const out = withExptime(parseOne('ma k q N0 T30\r\n'), 10);
    expect(out.quietUpstream).toBe(true);
  });
});
