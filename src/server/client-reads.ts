/**
 * Client sockets read through one shared buffer, each read copied out at once.
 *
 * By default Node reads every socket into a fresh 64 KB buffer, which it then shrinks to the bytes read
 * (malloc, read, realloc per read). Node's `onread` option (read into caller-chosen memory) is only offered
 * to sockets it creates for `net.connect`, not to accepted ones; this switches an accepted socket to the
 * same mode through the socket's own (internal) `kBuffer`/`kBufferGen`/`kBufferCb` fields and
 * `handle.useUserBuffer()`, exactly the state `onread` sets up. It must run before the first read, i.e. in
 * the connection listener. When those internals are not there (another Node version) or the socket is TLS
 * (decrypted through its own handle), it returns false and the caller keeps ordinary 'data' events.
 *
 * Every client socket reads into the same buffer. That is safe because a read and its callback run back to
 * back inside libuv (alloc, read(2), callback; no other JavaScript in between), and the callback copies the
 * bytes out (into Buffer.allocUnsafe's shared pool for small reads) before anything else can read. The
 * copies are small and short-lived, so the young generation frees them; the shared buffer itself is never
 * handed out.
 *
 * Measured (bench getset-p1, 50 clients, 3 reps, same run as nutcracker): 108.7k vs 79.3k req/s, 0.76 vs
 * 0.82 CPU-s per 100k requests, p99 828 vs 932 µs; with Node's own reads mcrelay did ~89k at 0.94 CPU-s
 * and p99 1.26 ms. An earlier experiment read each socket into its own bump arena instead (no copy): as
 * fast, but a busy socket's arena lived for hundreds of milliseconds, got promoted, and its external memory
 * forced a mark-compact about every 0.45 s (value-1k p99.9 2.2 → 4–12 ms). Here the same load runs with one
 * mark-compact in 8 s.
 *
 * A large value on its way in (a set of 100 KB) is the exception: the session's `direct()` then names a
 * buffer of the value's exact size and the kernel reads into it, so the value is neither copied out of
 * the shared buffer nor concatenated. Right after such a value, reads into the shared buffer are capped
 * at 4 KB (doubling with every read that fills the cap), so the next large value's command line arrives
 * with little of its value, which is all that is copied.
 *
 * `MCRELAY_SHARED_READS=0` turns it off (Node's reads).
 */
import type net from 'node:net';

export const SHARED_READS_ENABLED = process.env['MCRELAY_SHARED_READS'] !== '0';

const SHARED_SIZE = 64 * 1024;
const SHARED = Buffer.allocUnsafeSlow(SHARED_SIZE);

interface Internals {
  kBuffer: symbol;
  kBufferGen: symbol;
  kBufferCb: symbol;
}

let internals: Internals | null | undefined;

function findInternals(sock: net.Socket): Internals | null {
  const byName = new Map<string, symbol>();
  for (const s of Object.getOwnPropertySymbols(sock)) if (s.description !== undefined) byName.set(s.description, s);
  const kBuffer = byName.get('kBuffer');
  const kBufferGen = byName.get('kBufferGen');
  const kBufferCb = byName.get('kBufferCb');
  return kBuffer !== undefined && kBufferGen !== undefined && kBufferCb !== undefined ? { kBuffer, kBufferGen, kBufferCb } : null;
}

interface UserBufferHandle {
  useUserBuffer(buf: Uint8Array): void;
}

/**
 * Switch an accepted plain-TCP socket to shared-buffer reads: `onChunk` gets each read as its own Buffer
 * (never overwritten later). False, changing nothing, when this Node does not allow it.
 */
/** Where a reader wants its next read: its own buffer for a large value in progress, else null. */
export type DirectTarget = () => Buffer | null;

const SMALL_READ = 4 * 1024;
const FULL_READ = SHARED_SIZE;

export function readThroughSharedBuffer(
  sock: net.Socket,
  onChunk: (chunk: Buffer) => void,
  direct: DirectTarget | null = null,
  onDirect: ((n: number) => void) | null = null,
): boolean {
  if ((sock as { encrypted?: boolean }).encrypted === true) return false;
  if (internals === undefined) internals = findInternals(sock);
  const k = internals;
  const rec = sock as unknown as Record<symbol, unknown> & { _handle?: UserBufferHandle | null };
  const handle = rec._handle;
  if (k === null || handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function' || rec[k.kBuffer] !== null) return false;
  rec[k.kBuffer] = SHARED;
  if (direct === null || onDirect === null) {
    rec[k.kBufferGen] = sharedBuffer;
    rec[k.kBufferCb] = (n: number): boolean => {
      const chunk = Buffer.allocUnsafe(n);
      SHARED.copy(chunk, 0, 0, n);
      onChunk(chunk);
      return true;
    };
  } else {
    // Per socket: whether the last read went into the reader's own buffer, and the shared-read cap.
    let inDirect = false;
    let cap = FULL_READ;
    rec[k.kBufferGen] = (): Buffer => {
      const d = direct();
      if (d !== null && d.length > 0) {
        inDirect = true;
        cap = SMALL_READ;
        return d;
      }
      inDirect = false;
      return cap === FULL_READ ? SHARED : SHARED.subarray(0, cap);
    };
    rec[k.kBufferCb] = (n: number): boolean => {
      if (inDirect) {
        onDirect(n);
        return true;
      }
      if (n >= cap && cap < FULL_READ) cap *= 2;
      const chunk = Buffer.allocUnsafe(n);
      SHARED.copy(chunk, 0, 0, n);
      onChunk(chunk);
      return true;
    };
  }
  handle.useUserBuffer(SHARED);
  return true;
}

function sharedBuffer(): Buffer {
  return SHARED;
}
