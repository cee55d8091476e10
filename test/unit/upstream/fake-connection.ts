/**
 * A Connection over a fake socket, for the read-path tests: what the connection wrote is recorded one
 * string per write, and reply bytes are delivered the way either kind of socket does it.
 */
import type net from 'node:net';
import { Connection, type ResetCause } from '../../../src/upstream/connection.js';
import { FakeSocket } from '../../fuzz/fuzz-lib.js';

/** Records what the connection wrote, one string per write. */
export class RecordingSocket extends FakeSocket {
  lines: string[] = [];
  override write(b: Buffer): boolean {
    this.lines.push(b.toString('latin1'));
    return super.write(b);
  }
}

/** The Connection internals a plain TCP socket drives in onread mode, and its flush. */
export interface Reader {
  userBuffers: boolean;
  readBuffer(): Buffer;
  onRead(n: number): void;
  flush(): void;
}

export interface FakeConnection {
  conn: Connection;
  sock: RecordingSocket;
  reader: Reader;
  /** Timeouts the connection reported (soft TKO material). */
  timeouts: () => number;
  /** Resets the connection reported: cause, the offending bytes (latin1) or null, requests failed. */
  resets: { cause: ResetCause; bytes: string | null; failed: number }[];
}

/** A connection in onread mode (`onread`, as for plain TCP) or with 'data' events (as for TLS). */
export function fakeConnection(onread: boolean, connectTimeoutMs = 1000): FakeConnection {
  const sock = new RecordingSocket();
  let timeouts = 0;
  const resets: FakeConnection['resets'] = [];
  const conn = new Connection(
    { host: '127.0.0.1', port: 1, connectTimeoutMs, keepAlive: false, connect: () => sock as unknown as net.Socket },
    {
      onConnectError: () => {},
      onTimeout: () => timeouts++,
      onReply: () => {},
      onClose: () => {},
      onReset: (cause, bytes, failed) => void resets.push({ cause, bytes: bytes === null ? null : bytes.toString('latin1'), failed }),
    },
  );
  const reader = conn as unknown as Reader;
  reader.userBuffers = onread;
  return { conn, sock, reader, timeouts: () => timeouts, resets };
}

/** Connect and write what is queued. */
export function connectAndFlush(f: FakeConnection): void {
  f.sock.emit('connect');
  f.reader.flush();
}

/**
 * Deliver `bytes` as reads: one 'data' event, or in onread mode copied into the buffers readBuffer() hands
 * out (as many reads as they need).
 */
export function deliver(f: FakeConnection, bytes: Buffer): void {
  if (bytes.length === 0) return;
  if (!f.reader.userBuffers) {
    f.sock.emit('data', Buffer.from(bytes));
    return;
  }
  let p = 0;
  while (p < bytes.length) {
    const dst = f.reader.readBuffer();
    const n = Math.min(dst.length, bytes.length - p);
    bytes.copy(dst, 0, p, p + n);
    f.reader.onRead(n);
    p += n;
  }
}
