/**
 * Write a batch of buffers to a socket as one syscall.
 *
 * Small batches are concatenated (one allocation, one write). Large ones — values of tens or hundreds of
 * KB — are written with cork/uncork so libuv sends them with one writev and nothing is copied in JS:
 * copying big values made a 100 KB-value benchmark spend a quarter of its time in the garbage collector.
 */
import type net from 'node:net';

/** Above this many bytes a batch is written without concatenating. */
export const COPY_LIMIT = 16 * 1024;

export function writeBatch(sock: net.Socket, parts: readonly Buffer[], bytes: number): void {
  if (parts.length === 1) {
    sock.write(parts[0] as Buffer);
    return;
  }
  if (bytes <= COPY_LIMIT) {
    sock.write(Buffer.concat(parts as Buffer[], bytes));
    return;
  }
  // Big buffers go out as they are; runs of small ones between them are concatenated, so the writev
  // has a few large iovecs rather than many tiny ones.
  sock.cork();
  let runStart = 0;
  let runBytes = 0;
  for (let i = 0; i < parts.length; i++) {
    const b = parts[i] as Buffer;
    if (b.length < BIG) {
      runBytes += b.length;
      continue;
    }
    if (runBytes > 0) sock.write(i - runStart === 1 ? (parts[runStart] as Buffer) : Buffer.concat(parts.slice(runStart, i) as Buffer[], runBytes));
    sock.write(b);
    runStart = i + 1;
    runBytes = 0;
  }
  if (runBytes > 0) {
    const n = parts.length - runStart;
    sock.write(n === 1 ? (parts[runStart] as Buffer) : Buffer.concat(parts.slice(runStart) as Buffer[], runBytes));
  }
  sock.uncork();
}

/** A buffer at least this big is written as it is. */
const BIG = 4096;
