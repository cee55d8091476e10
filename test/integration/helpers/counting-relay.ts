/**
 * A counting TCP relay for integration tests: listens on a free loopback port, connects every accepted
 * client to one upstream (a real memcached), forwards bytes both ways unchanged, and parses the
 * client-to-server stream into request lines so a test can count what reached the server:
 *
 *   - `getLines`: one entry per request line starting with `get ` (the keys on it, in order);
 *   - `commands`: how many request lines each command word opened (`get`, `set`, `mg`, …).
 *
 * Storage commands (`set`/`add`/`replace`/`append`/`prepend`/`cas` and `ms`) are followed by their data
 * block, which is skipped by length so value bytes are never mistaken for request lines.
 */
import net from 'node:net';
import { LOOPBACK } from './ports.js';

export interface CountingRelay {
  readonly port: number;
  /** `127.0.0.1:PORT`, for a config's `servers`. */
  readonly address: string;
  /** The keys of every `get ` line seen, one array per line, in arrival order. */
  readonly getLines: string[][];
  /** Request lines seen, by command word. */
  readonly commands: Map<string, number>;
  /** Client connections accepted so far. */
  connections(): number;
  /** Forget what was counted so far. */
  reset(): void;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
}

const STORAGE = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

/** Parses one client's request stream; calls `line` for each request line. */
class LineCounter {
  private buf: Buffer = Buffer.alloc(0);
  /** Data bytes (with their `\r\n`) still to skip after a storage command. */
  private skip = 0;

  constructor(private readonly line: (text: string) => void) {}

  feed(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length);
        this.buf = this.buf.subarray(n);
        this.skip -= n;
        if (this.skip > 0) return;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) return;
      const text = this.buf.toString('latin1', 0, nl).replace(/\r$/, '');
      this.buf = this.buf.subarray(nl + 1);
      this.line(text);
      const words = text.split(' ');
      const cmd = words[0] ?? '';
      if (STORAGE.has(cmd)) this.skip = Number(words[4] ?? 0) + 2;
      else if (cmd === 'ms') this.skip = Number(words[2] ?? 0) + 2;
    }
  }
}

/** Start a counting relay in front of `upstreamPort` on 127.0.0.1. */
export function startCountingRelay(upstreamPort: number): Promise<CountingRelay> {
  const getLines: string[][] = [];
  const commands = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const onLine = (text: string): void => {
    const cmd = text.split(' ', 1)[0] ?? '';
    commands.set(cmd, (commands.get(cmd) ?? 0) + 1);
    if (text.startsWith('get ')) getLines.push(text.slice(4).split(' ').filter((k) => k.length > 0));
  };
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host: LOOPBACK, port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const counter = new LineCounter(onLine);
    client.on('data', (chunk: Buffer) => {
      counter.feed(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const a = server.address();
      if (a === null || typeof a === 'string') {
        reject(new Error('startCountingRelay: no TCP address'));
        return;
      }
      resolve({
        port: a.port,
        address: `${LOOPBACK}:${a.port}`,
        getLines,
        commands,
        connections: () => accepted,
        reset() {
          getLines.length = 0;
          commands.clear();
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
