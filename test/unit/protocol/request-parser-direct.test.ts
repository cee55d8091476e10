/**
 * RequestParser.directBuffer/directRead: a large value read in place gives exactly the Request a fed value
 * gives, whatever mix of fed chunks and direct reads brought its bytes.
 */
import { describe, expect, it } from 'vitest';
import { RequestParser, type LocalOp, type RequestSink } from '../../../src/protocol/request-parser.js';
import type { Request } from '../../../src/protocol/types.js';

class Sink implements RequestSink {
  reqs: Request[] = [];
  lines: string[] = [];
  request(req: Request): void {
    this.reqs.push(req);
  }
  multiGet(reqs: Request[]): void {
    this.reqs.push(...reqs);
  }
  local(_op: LocalOp, _args: Buffer, _noreply: boolean): void {}
  replyLine(line: string): void {
    this.lines.push(line);
  }
  fatal(line: string | null): void {
    this.lines.push(`FATAL ${line}`);
  }
}

function value(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

/** Feed `cmd` as a socket would with direct reads: at most `cut` bytes per read, into the direct buffer when offered. */
function readLikeSocket(cmd: Buffer, cut: number): { sink: Sink; directBytes: number } {
  const sink = new Sink();
  const p = new RequestParser(sink);
  let at = 0;
  let directBytes = 0;
  while (at < cmd.length) {
    const d = p.directBuffer();
    if (d !== null) {
      const n = Math.min(d.length, cut, cmd.length - at);
      cmd.copy(d, 0, at, at + n);
      p.directRead(n);
      directBytes += n;
      at += n;
    } else {
      const n = Math.min(cut, cmd.length - at);
      p.feed(cmd.subarray(at, at + n));
      at += n;
    }
  }
  return { sink, directBytes };
}

describe('RequestParser direct reads', () => {
  it('no direct buffer for small values or between commands', () => {
    const p = new RequestParser(new Sink());
    expect(p.directBuffer()).toBeNull();
    p.feed(Buffer.from('set k 0 0 100\r\nabc'));
    expect(p.directBuffer()).toBeNull();
  });

  for (const cut of [1000, 4096, 65536]) {
    it(`a 200 KB set read ${cut} bytes at a time: the same Request as one feed, most bytes read in place`, () => {
      const v = value(200_000);
      const cmd = Buffer.concat([Buffer.from('set big 5 60 200000\r\n'), v, Buffer.from('\r\nget big\r\n')]);
      const { sink, directBytes } = readLikeSocket(cmd, cut);
      const whole = new Sink();
      new RequestParser(whole).feed(cmd);
      expect(sink.reqs.map((r) => [r.op, r.key.toString(), r.tail.toString(), r.exptime])).toEqual(whole.reqs.map((r) => [r.op, r.key.toString(), r.tail.toString(), r.exptime]));
      expect(sink.reqs[0]?.value?.equals(v)).toBe(true);
      expect(sink.lines).toEqual([]);
      expect(directBytes).toBeGreaterThan(200_000 - Math.max(cut, 4096));
    });
  }

  it('a bad data block end read in place answers CLIENT_ERROR bad data chunk, as fed', () => {
    const cmd = Buffer.concat([Buffer.from('set big 0 0 10000\r\n'), value(10_000), Buffer.from('XX')]);
    const { sink } = readLikeSocket(cmd, 3000);
    expect(sink.reqs).toEqual([]);
    expect(sink.lines).toEqual(['CLIENT_ERROR bad data chunk']);
  });

  it('bytes fed while a direct block is open fill the block', () => {
    const sink = new Sink();
    const p = new RequestParser(sink);
    const v = value(50_000);
    p.feed(Buffer.concat([Buffer.from('set k 0 0 50000\r\n'), v.subarray(0, 100)]));
    const d = p.directBuffer();
    expect(d?.length).toBe(50_002 - 100);
    p.feed(Buffer.concat([v.subarray(100), Buffer.from('\r\ndelete k\r\n')]));
    expect(sink.reqs.map((r) => r.op)).toEqual(['set', 'delete']);
    expect(sink.reqs[0]?.value?.equals(v)).toBe(true);
  });
});
