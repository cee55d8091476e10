/**
 * A scripted memcached backend for byte-exact proxy tests, in the style of memcached's `t/proxyunits.t`.
 *
 * Scripted mode (default): the test takes each connection the proxy opens with `accept()`, asserts the exact bytes
 * the proxy sent with `recv()`, and answers with `send()`. Because the test controls every byte, it can answer
 * slowly (`sendSlowly`), send part of a reply and close (`send(partial)` then `close()`), answer garbage at any
 * byte position, or stop answering (`stall()`).
 *
 *     const be = await startMock();
 *     const relay = await startRelay({ config: onePool(be.address) });
 *     const client = await connect(relay.port);
 *     await client.send('get foo\r\n');
 *     const conn = await be.accept();
 *     await conn.recv('get foo\r\n');          // exactly these bytes, nothing more
 *     await conn.send('VALUE foo 0 2\r\nhi\r\nEND\r\n');
 *
 * Automatic mode: `conn.autoReply(handler)` (one connection) or `startMock({ handler })` (every connection) frames
 * incoming requests (a line, plus the data block for storage commands and `ms`) and writes whatever the handler
 * returns. `startMock({ builtin: true })` serves a tiny in-memory memcached (get/gets/set/add/replace/append/prepend/
 * cas/delete/incr/decr/touch/version/flush_all, mg/ms/md/mn) for tests that only need a working backend. Requests
 * seen in automatic mode are kept in `mock.requests` for assertions.
 */
import net from 'node:net';
import { LOOPBACK } from './ports.js';
import { escapeBytes, toBuffer, type Bytes } from './raw-client.js';

/** One framed request: the command line without its line ending, and the data block (without `\r\n`) if any. */
export interface MockRequest {
  readonly line: string;
  readonly value?: Buffer;
}

/** Reply to one request: bytes to send, or `undefined`/empty to send nothing. */
export type AutoReplyHandler = (line: string, value: Buffer | undefined, conn: MockConn) => Bytes | undefined;

export interface MockOptions {
  /** Answer every connection with this handler (see `MockConn.autoReply`). */
  readonly handler?: AutoReplyHandler;
  /** Answer every connection with the built-in in-memory memcached. */
  readonly builtin?: boolean;
  /** Default timeout for `recv()`/`accept()` in ms (default 3000). */
  readonly timeoutMs?: number;
}

export interface MockMemcached {
  readonly port: number;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  /** Every connection accepted so far, in order. */
  readonly connections: readonly MockConn[];
  /** Requests framed in automatic mode, across all connections, in arrival order. */
  readonly requests: readonly MockRequest[];
  /** The next connection not yet returned by `accept()`; waits for one up to the timeout. */
  accept(timeoutMs?: number): Promise<MockConn>;
  /** Stop listening and destroy every connection. */
  close(): Promise<void>;
}

/** Start a mock backend on a free loopback port. */
export async function startMock(options: MockOptions = {}): Promise<MockMemcached> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const connections: MockConn[] = [];
  const requests: MockRequest[] = [];
  const pending: MockConn[] = [];
  let wake: (() => void) | undefined;
  const store = options.builtin ? new MemoryStore() : undefined;

  const server = net.createServer((socket) => {
    const conn = new MockConn(socket, timeoutMs, requests);
    connections.push(conn);
    if (store) conn.autoReply((line, value) => store.handle(line, value));
    else if (options.handler) conn.autoReply(options.handler);
    pending.push(conn);
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('startMock: no TCP address');
  const port = address.port;

  return {
    port,
    address: `${LOOPBACK}:${port}`,
    connections,
    requests,
    async accept(waitMs = timeoutMs) {
      const deadline = Date.now() + waitMs;
      while (pending.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`mock ${port}: no connection was opened within ${waitMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
      return pending.shift() as MockConn;
    },
    async close() {
      for (const conn of connections) conn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The backend side of one connection from the proxy. */
export class MockConn {
  readonly socket: net.Socket;
  readonly timeoutMs: number;
  #received: Buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;
  #handler: AutoReplyHandler | undefined;
  readonly #requests: MockRequest[];

  constructor(socket: net.Socket, timeoutMs: number, requests: MockRequest[]) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.#requests = requests;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#received = this.#received.length === 0 ? chunk : Buffer.concat([this.#received, chunk]);
      if (this.#handler) this.#drainAutomatic();
      this.#wake?.();
    });
    const onClose = (): void => {
      this.#closed = true;
      this.#wake?.();
    };
    socket.on('end', onClose);
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  /** True once the proxy closed this connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet consumed by `recv`. */
  buffered(): Buffer {
    return this.#received;
  }

  /**
   * Wait for bytes from the proxy. Given bytes, assert that exactly those arrive next (the comparison happens as soon
   * as that many bytes are in, so extra bytes after them stay buffered for the next `recv`). Given a number, return
   * that many bytes. Rejects on timeout or close with an escaped dump of what did arrive.
   */
  async recv(expected: Bytes | number, timeoutMs = this.timeoutMs): Promise<Buffer> {
    const want = typeof expected === 'number' ? undefined : toBuffer(expected);
    const n = want ? want.length : (expected as number);
    const deadline = Date.now() + timeoutMs;
    while (this.#received.length < n) {
      if (this.#closed) {
        throw new Error(`mock: connection closed while waiting for ${describeWant(want, n)}; received "${escapeBytes(this.#received)}"`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`mock: timed out after ${timeoutMs} ms waiting for ${describeWant(want, n)}; received "${escapeBytes(this.#received)}"`);
      }
      await this.#wait(left);
    }
    const got = this.#received.subarray(0, n);
    this.#received = this.#received.subarray(n);
    if (want && !got.equals(want)) {
      throw new Error(`mock: backend received unexpected bytes\n  expected: "${escapeBytes(want)}"\n  received: "${escapeBytes(got)}"`);
    }
    return Buffer.from(got);
  }

  /** Assert that nothing more arrives within `quietMs` (the proxy sent no extra bytes). */
  async expectNothing(quietMs = 100): Promise<void> {
    await this.#wait(quietMs);
    if (this.#received.length > 0) throw new Error(`mock: expected no more bytes, received "${escapeBytes(this.#received)}"`);
  }

  /** Wait until the proxy closes this connection. */
  async expectClosed(timeoutMs = this.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`mock: the proxy did not close the connection within ${timeoutMs} ms`);
      await this.#wait(left);
    }
  }

  /** Write bytes in one write. */
  send(bytes: Bytes): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(toBuffer(bytes), (err) => (err ? reject(err) : resolve())));
  }

  /** Write one byte at a time, `perByteDelayMs` apart. */
  async sendSlowly(bytes: Bytes, perByteDelayMs = 1): Promise<void> {
    const buf = toBuffer(bytes);
    for (let i = 0; i < buf.length; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, perByteDelayMs));
      await this.send(buf.subarray(i, i + 1));
    }
  }

  /** Half-close after flushing what was sent (FIN). Combine with `send(partial)` to close at an exact byte. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      this.socket.end(() => resolve());
    });
  }

  /** Abort the connection at once (RST when data is unread). */
  destroy(): void {
    this.socket.resetAndDestroy();
  }

  /** Stop reading and answering: the connection stays open but the backend is hung. */
  stall(): void {
    this.#handler = undefined;
    this.socket.pause();
  }

  /**
   * Answer requests automatically: frame each request (a line, plus the data block for set/add/replace/append/
   * prepend/cas and ms) and write what `handler` returns. Bytes already buffered are processed at once.
   */
  autoReply(handler: AutoReplyHandler): void {
    this.#handler = handler;
    this.#drainAutomatic();
  }

  #drainAutomatic(): void {
    const handler = this.#handler;
    if (!handler) return;
    const out: Buffer[] = [];
    for (;;) {
      const framed = frameRequest(this.#received);
      if (!framed) break;
      this.#received = this.#received.subarray(framed.consumed);
      this.#requests.push(framed.request);
      const reply = handler(framed.request.line, framed.request.value, this);
      if (reply !== undefined) out.push(toBuffer(reply));
    }
    if (out.length > 0) this.socket.write(Buffer.concat(out));
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

function describeWant(want: Buffer | undefined, n: number): string {
  return want ? `"${escapeBytes(want)}"` : `${n} bytes`;
}

const STORAGE_VERBS = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

/**
 * Frame one request at the front of `buf`: returns it with the number of bytes it used, or undefined when more
 * bytes are needed. Lines may end in `\r\n` or `\n`.
 */
export function frameRequest(buf: Buffer): { request: MockRequest; consumed: number } | undefined {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return undefined;
  const lineEnd = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  const line = buf.toString('latin1', 0, lineEnd);
  const tokens = line.split(' ').filter((t) => t.length > 0);
  const verb = tokens[0] ?? '';
  let length: number | undefined;
  if (STORAGE_VERBS.has(verb)) length = Number(tokens[4]);
  else if (verb === 'ms') length = Number(tokens[2]);
  if (length === undefined || !Number.isInteger(length) || length < 0) return { request: { line }, consumed: nl + 1 };
  const end = nl + 1 + length + 2;
  if (buf.length < end) return undefined;
  return { request: { line, value: Buffer.from(buf.subarray(nl + 1, nl + 1 + length)) }, consumed: end };
}

interface StoredItem {
  value: Buffer;
  flags: string;
  cas: number;
  exptime: number;
}

/**
 * The built-in backend: just enough memcached for routing tests. It does not expire items by time (exptime is kept
 * and reported but not enforced) and does not validate keys; use a real memcached for protocol fidelity.
 */
export class MemoryStore {
  readonly items = new Map<string, StoredItem>();
  #nextCas = 1;

  handle(line: string, value: Buffer | undefined): Bytes | undefined {
    const t = line.split(' ').filter((s) => s.length > 0);
    const verb = t[0] ?? '';
    const noreply = t[t.length - 1] === 'noreply';
    const answer = (s: string): string | undefined => (noreply ? undefined : `${s}\r\n`);
    switch (verb) {
      case 'get':
      case 'gets':
        return this.#retrieve(t.slice(1), verb === 'gets');
      case 'set':
      case 'add':
      case 'replace':
      case 'append':
      case 'prepend':
      case 'cas':
        return answer(this.#store(verb, t, value ?? Buffer.alloc(0)));
      case 'delete':
        return answer(this.items.delete(t[1] ?? '') ? 'DELETED' : 'NOT_FOUND');
      case 'incr':
      case 'decr':
        return answer(this.#arith(verb === 'incr', t[1] ?? '', t[2] ?? ''));
      case 'touch': {
        const item = this.items.get(t[1] ?? '');
        if (item) item.exptime = Number(t[2]);
        return answer(item ? 'TOUCHED' : 'NOT_FOUND');
      }
      case 'version':
        return 'VERSION 1.6.18-mock\r\n';
      case 'flush_all':
        this.items.clear();
        return answer('OK');
      case 'mn':
        return 'MN\r\n';
      case 'mg':
        return this.#metaGet(t);
      case 'ms': {
        const key = t[1] ?? '';
        this.items.set(key, { value: value ?? Buffer.alloc(0), flags: '0', cas: this.#nextCas++, exptime: 0 });
        return t.includes('q') ? undefined : 'HD\r\n';
      }
      case 'md': {
        const hit = this.items.delete(t[1] ?? '');
        if (hit && t.includes('q')) return undefined;
        return hit ? 'HD\r\n' : 'NF\r\n';
      }
      default:
        return 'ERROR\r\n';
    }
  }

  #retrieve(keys: string[], withCas: boolean): Buffer {
    const parts: Buffer[] = [];
    for (const key of keys) {
      const item = this.items.get(key);
      if (!item) continue;
      const cas = withCas ? ` ${item.cas}` : '';
      parts.push(Buffer.from(`VALUE ${key} ${item.flags} ${item.value.length}${cas}\r\n`, 'latin1'), item.value, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('END\r\n'));
    return Buffer.concat(parts);
  }

  #store(verb: string, t: string[], value: Buffer): string {
    const key = t[1] ?? '';
    const existing = this.items.get(key);
    const fresh = (): StoredItem => ({ value, flags: t[2] ?? '0', cas: this.#nextCas++, exptime: Number(t[3] ?? 0) });
    switch (verb) {
      case 'add':
        if (existing) return 'NOT_STORED';
        break;
      case 'replace':
        if (!existing) return 'NOT_STORED';
        break;
      case 'append':
      case 'prepend':
        if (!existing) return 'NOT_STORED';
        existing.value = verb === 'append' ? Buffer.concat([existing.value, value]) : Buffer.concat([value, existing.value]);
        existing.cas = this.#nextCas++;
        return 'STORED';
      case 'cas':
        if (!existing) return 'NOT_FOUND';
        if (String(existing.cas) !== t[5]) return 'EXISTS';
        break;
    }
    this.items.set(key, fresh());
    return 'STORED';
  }

  #arith(incr: boolean, key: string, delta: string): string {
    const item = this.items.get(key);
    if (!item) return 'NOT_FOUND';
    const current = BigInt(item.value.toString('latin1') || '0');
    const step = BigInt(delta);
    const max = (1n << 64n) - 1n;
    const next = incr ? (current + step) & max : current > step ? current - step : 0n;
    item.value = Buffer.from(next.toString(), 'latin1');
    item.cas = this.#nextCas++;
    return next.toString();
  }

  #metaGet(t: string[]): Bytes | undefined {
    const key = t[1] ?? '';
    const flags = t.slice(2);
    const item = this.items.get(key);
    const echo = flags.filter((f) => f.startsWith('O') || f === 'k').map((f) => (f === 'k' ? `k${key}` : f));
    if (!item) {
      if (flags.includes('q')) return undefined;
      return `EN${echo.length > 0 ? ` ${echo.join(' ')}` : ''}\r\n`;
    }
    const out: string[] = [];
    for (const f of flags) {
      if (f === 'f') out.push(`f${item.flags}`);
      else if (f === 'c') out.push(`c${item.cas}`);
      else if (f === 's') out.push(`s${item.value.length}`);
      else if (f === 't') out.push(item.exptime === 0 ? 't-1' : `t${item.exptime}`);
      else if (f === 'k') out.push(`k${key}`);
      else if (f.startsWith('O')) out.push(f);
    }
    const tail = out.length > 0 ? ` ${out.join(' ')}` : '';
    if (flags.includes('v')) {
      return Buffer.concat([Buffer.from(`VA ${item.value.length}${tail}\r\n`, 'latin1'), item.value, Buffer.from('\r\n')]);
    }
    return `HD${tail}\r\n`;
  }
}
