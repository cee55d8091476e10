/**
 * A raw TCP client for byte-exact protocol tests: no parsing, no framing, just bytes in and bytes out.
 *
 * Incoming data is appended to one buffer; each read consumes from its front. Only one read may wait at a time
 * (tests are sequential per connection). Every wait has a timeout, and a timeout or an unexpected close rejects with
 * the bytes received so far, escaped, so a failing test says what the server actually answered.
 *
 * `roundTrip(bytes)` is the workhorse: it appends `mn\r\n` (meta no-op) and reads until the reply ends with
 * `MN\r\n`. memcached answers commands in order, so everything before that `MN` is the complete answer to `bytes`,
 * including the silence of `noreply` and quiet-mode commands.
 */
import net from 'node:net';
import { LOOPBACK, sleep } from './ports.js';

export type Bytes = Buffer | string;

/** Turn test input into a Buffer. Strings are taken as latin1 so "\x00".."\xff" map to single bytes. */
export function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
}

/**
 * Printable form of bytes for failure messages: `\r`, `\n`, `\t`, `\\` and non-printables escaped, long runs of one
 * repeated byte shortened (`'x'*100000`) so a 1 MB value does not flood the report.
 */
export function escapeBytes(bytes: Bytes, maxLength = 4000): string {
  const buf = toBuffer(bytes);
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const byte = buf[i] as number;
    let run = 1;
    while (i + run < buf.length && buf[i + run] === byte) run++;
    const one = escapeByte(byte);
    if (run >= 16) {
      out += `[${one}*${run}]`;
      i += run;
    } else {
      out += one;
      i++;
    }
    if (out.length > maxLength) return `${out.slice(0, maxLength)}… (${buf.length} bytes total)`;
  }
  return out;
}

function escapeByte(byte: number): string {
  switch (byte) {
    case 0x0d:
      return '\\r';
    case 0x0a:
      return '\\n';
    case 0x09:
      return '\\t';
    case 0x5c:
      return '\\\\';
    default:
      return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
}

/**
 * Decide how many bytes at the front of `buf` complete a read: return that length, or -1 to keep waiting.
 * `closed` is true when the peer has closed, so no more bytes will come.
 */
export type ReadPredicate = (buf: Buffer, closed: boolean) => number;

export interface ConnectOptions {
  readonly host?: string;
  /** Default timeout for reads on this client, in ms (default 5000). */
  readonly timeoutMs?: number;
}

const MN_REQUEST = Buffer.from('mn\r\n', 'latin1');
const MN_REPLY = Buffer.from('MN\r\n', 'latin1');

/** Bytes of a reply stream up to (not including) the trailing `MN\r\n`, or -1 while it has not arrived. */
export function endsWithMn(buf: Buffer): number {
  if (buf.length < MN_REPLY.length) return -1;
  const tail = buf.subarray(buf.length - MN_REPLY.length);
  if (!tail.equals(MN_REPLY)) return -1;
  // The MN must start a line: either the whole stream or preceded by "\n".
  if (buf.length === MN_REPLY.length || buf[buf.length - MN_REPLY.length - 1] === 0x0a) return buf.length;
  return -1;
}

export class RawClient {
  readonly socket: net.Socket;
  readonly timeoutMs: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #closed = false;
  #socketError: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#notify();
    });
    socket.on('end', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('error', (err) => {
      this.#socketError = err;
      this.#closed = true;
      this.#notify();
    });
  }

  /** Open a connection to 127.0.0.1:`port` (no other host unless given). */
  static connect(port: number, options: ConnectOptions = {}): Promise<RawClient> {
    const host = options.host ?? LOOPBACK;
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const onError = (err: Error): void => reject(new Error(`RawClient: cannot connect to ${host}:${port}: ${err.message}`));
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RawClient(socket, timeoutMs));
      });
    });
  }

  /** True once the peer closed (FIN or reset). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet consumed by a read (does not consume them). */
  buffered(): Buffer {
    return this.#peek();
  }

  /** Write bytes in one `socket.write`; resolves when Node has handed them to the kernel. */
  send(bytes: Bytes): Promise<void> {
    const buf = toBuffer(bytes);
    return new Promise((resolve, reject) => {
      this.socket.write(buf, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Write each chunk separately, pausing `delayMs` between them so each one reaches the server as its own segment
   * (Nagle is off). Use it to prove a parser resumes across splits.
   */
  async sendChunks(chunks: readonly Bytes[], delayMs = 2): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0) await sleep(delayMs);
      await this.send(chunks[i] as Bytes);
    }
  }

  /** Write one byte at a time with `delayMs` between bytes. */
  sendSlowly(bytes: Bytes, delayMs = 1): Promise<void> {
    const buf = toBuffer(bytes);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i++) chunks.push(buf.subarray(i, i + 1));
    return this.sendChunks(chunks, delayMs);
  }

  /** Read exactly `n` bytes. */
  read(n: number, timeoutMs = this.timeoutMs): Promise<Buffer> {
    return this.readWith((buf) => (buf.length >= n ? n : -1), timeoutMs, `${n} bytes`);
  }

  /**
   * Read up to and including the first occurrence of `terminator`, or until `predicate` says the read is complete.
   */
  readUntil(until: Bytes | ReadPredicate, timeoutMs = this.timeoutMs): Promise<Buffer> {
    if (typeof until === 'function') return this.readWith(until, timeoutMs, 'predicate');
    const terminator = toBuffer(until);
    return this.readWith(
      (buf) => {
        const at = buf.indexOf(terminator);
        return at < 0 ? -1 : at + terminator.length;
      },
      timeoutMs,
      `terminator "${escapeBytes(terminator)}"`,
    );
  }

  /** Read whatever arrives until no byte has come for `quietMs` (or the peer closes). May return an empty buffer. */
  async readIdle(quietMs = 150, timeoutMs = this.timeoutMs): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (seen !== this.#length && !this.#closed) {
      seen = this.#length;
      if (Date.now() > deadline) break;
      await sleep(quietMs);
    }
    return this.#take(this.#length);
  }

  /**
   * Send `request` followed by `mn\r\n` and return every byte the server answered before the closing `MN\r\n`.
   * Rejects (with the bytes so far) when the connection closes first or the MN does not come within the timeout.
   */
  async roundTrip(request: Bytes, timeoutMs = this.timeoutMs): Promise<Buffer> {
    await this.send(Buffer.concat([toBuffer(request), MN_REQUEST]));
    const reply = await this.readWith(endsWithMn, timeoutMs, 'a reply ending in MN\\r\\n');
    return reply.subarray(0, reply.length - MN_REPLY.length);
  }

  /**
   * Wait until the peer closes the connection and return the unread bytes it sent before closing.
   * Rejects if the connection is still open after `timeoutMs`.
   */
  expectClosed(timeoutMs = this.timeoutMs): Promise<Buffer> {
    return this.readWith((buf, closed) => (closed ? buf.length : -1), timeoutMs, 'the peer to close the connection');
  }

  /** Close our side and wait for the socket to be fully closed. */
  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }

  /** Tear the connection down immediately (RST-like from our side). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Core read loop: wait until `complete(buffer)` returns a length, then consume and return that many bytes. */
  async readWith(complete: ReadPredicate, timeoutMs: number, what: string): Promise<Buffer> {
    if (this.#wake) throw new Error('RawClient: a read is already waiting on this connection');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const buf = this.#peek();
      const n = complete(buf, this.#closed);
      if (n >= 0) return this.#take(n);
      if (this.#closed) {
        const cause = this.#socketError ? ` (${this.#socketError.message})` : '';
        throw new Error(`RawClient: connection closed${cause} while waiting for ${what}; received ${buf.length} bytes: "${escapeBytes(buf)}"`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`RawClient: timed out after ${timeoutMs} ms waiting for ${what}; received ${buf.length} bytes: "${escapeBytes(buf)}"`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  #notify(): void {
    this.#wake?.();
  }

  #peek(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const buf = this.#peek();
    const out = Buffer.from(buf.subarray(0, n));
    const rest = buf.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return out;
  }
}

/** Connect to 127.0.0.1:`port` (shorthand for `RawClient.connect`). */
export function connect(port: number, options: ConnectOptions = {}): Promise<RawClient> {
  return RawClient.connect(port, options);
}
