/**
 * write-batch: pieces are copied into a reused scratch buffer and written once; the scratch is reused only
 * when the socket took the bytes inside write(). A socket that kept them (writableLength > 0) must still
 * see its bytes intact after any number of later batches; big pieces go out uncopied; TLS sockets get
 * copies.
 */
import type net from 'node:net';
import { describe, expect, test } from 'vitest';
import { BIG, batchAdd, batchWrite } from '../../../src/upstream/write-batch.js';

class RecordingSocket {
  /** Every buffer handed to write(), as passed (not copied). */
  readonly written: Buffer[] = [];
  /** Snapshot of each write's bytes at the time of the call. */
  readonly expected: string[] = [];
  corked = 0;
  writableLength = 0;
  constructor(
    /** Keep the bytes queued (as if the kernel buffer were full). */
    private readonly keep: boolean,
    readonly encrypted = false,
  ) {}
  write(b: Buffer): boolean {
    this.written.push(b);
    this.expected.push(b.toString('latin1'));
    if (this.keep) this.writableLength += b.length;
    return true;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {}
  asSocket(): net.Socket {
    return this as unknown as net.Socket;
  }
  /** What the peer would receive, from the buffers as they are now. */
  receivedNow(): string {
    return this.written.map((b) => b.toString('latin1')).join('');
  }
}

function piece(seed: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = 97 + ((seed * 7 + i) % 26);
  return b;
}

describe('write-batch', () => {
  test('small pieces: one write per batch, bytes in order', () => {
    const s = new RecordingSocket(false);
    batchAdd(Buffer.from('get '));
    batchAdd(Buffer.from('a'));
    batchAdd(Buffer.from(' '));
    batchAdd(piece(1, 200));
    batchAdd(Buffer.from('\r\n'));
    batchWrite(s.asSocket());
    expect(s.written).toHaveLength(1);
    expect(s.expected[0]).toBe(`get a ${piece(1, 200).toString('latin1')}\r\n`);
    expect(s.corked).toBe(0);
  });

  test('a socket that keeps its bytes keeps them intact across later batches', () => {
    const kept = new RecordingSocket(true);
    const other = new RecordingSocket(false);
    let want = '';
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 20; k++) {
        const p = piece(round * 31 + k, 1 + ((round * 13 + k * 7) % 900));
        want += p.toString('latin1');
        batchAdd(p);
      }
      batchWrite(kept.asSocket());
      // Another socket's batches reuse whatever scratch is free: they must not touch `kept`'s bytes.
      for (let k = 0; k < 5; k++) batchAdd(piece(999 + k, 3000));
      batchWrite(other.asSocket());
    }
    expect(kept.receivedNow()).toBe(want);
    expect(kept.receivedNow()).toBe(kept.expected.join(''));
  });

  test('a socket that took its bytes lets the scratch be reused (no allocation per batch)', () => {
    const s = new RecordingSocket(false);
    const buffers = new Set<ArrayBuffer>();
    for (let round = 0; round < 20; round++) {
      batchAdd(piece(round, 100));
      batchAdd(piece(round + 1, 100));
      batchWrite(s.asSocket());
      buffers.add((s.written.at(-1) as Buffer).buffer as ArrayBuffer);
    }
    expect(buffers.size).toBe(1);
  });

  test('big pieces are written as they are, between copied runs, in one corked writev', () => {
    const s = new RecordingSocket(false);
    const big = piece(5, BIG + 10);
    batchAdd(Buffer.from('VALUE k 0 4106\r\n'));
    batchAdd(big);
    batchAdd(Buffer.from('\r\nEND\r\n'));
    batchWrite(s.asSocket());
    expect(s.corked).toBe(1);
    expect(s.written).toHaveLength(3);
    expect(s.written[1]).toBe(big);
    expect(s.expected.join('')).toBe(`VALUE k 0 4106\r\n${big.toString('latin1')}\r\nEND\r\n`);
  });

  test('batches larger than the scratch buffer arrive whole', () => {
    const s = new RecordingSocket(true);
    let want = '';
    for (let k = 0; k < 400; k++) {
      const p = piece(k, 1000 + (k % 3000));
      want += p.toString('latin1');
      batchAdd(p);
    }
    batchWrite(s.asSocket());
    batchAdd(piece(1, 60_000 % BIG));
    batchWrite(new RecordingSocket(false).asSocket());
    expect(s.receivedNow()).toBe(want);
  });

  test('TLS sockets get copies of scratch bytes', () => {
    const s = new RecordingSocket(false, true);
    batchAdd(Buffer.from('STORED\r\n'));
    batchWrite(s.asSocket());
    batchAdd(Buffer.from('XXXXXXXX'));
    batchWrite(new RecordingSocket(false).asSocket());
    expect(s.receivedNow()).toBe('STORED\r\n');
  });
});
