/**
 * Loopback port helpers for integration tests.
 *
 * Every test server listens on 127.0.0.1 only, on a port chosen by the kernel (`listen(0)`), never a fixed one
 * (ARCHITECTURE.md section 7). A port read from `listen(0)` and then released can be taken by another process
 * before our child binds it, so anything that spawns a server on a chosen port goes through `withFreePort`, which
 * retries with a new port when the attempt fails with "address in use".
 */
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Ask the kernel for a free loopback TCP port: listen on 0, read the port, close. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('getFreePort: server.address() returned no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Thrown (or wrapped) by a start attempt when the port was taken between `getFreePort()` and the bind. */
export class PortInUseError extends Error {
  constructor(readonly port: number, detail: string) {
    super(`port ${port} is already in use: ${detail}`);
    this.name = 'PortInUseError';
  }
}

/** True for Node's EADDRINUSE errors and for our own PortInUseError. */
export function isAddressInUse(err: unknown): boolean {
  if (err instanceof PortInUseError) return true;
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

export interface PortRetryOptions {
  /** How many ports to try before giving up (default 5). */
  readonly attempts?: number;
}

/**
 * Run `start(port)` on a fresh free port; when it fails because the port is in use, try again on another one.
 * Any other failure is rethrown at once.
 */
export async function withFreePort<T>(start: (port: number) => Promise<T>, options: PortRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await getFreePort();
    try {
      return await start(port);
    } catch (err) {
      if (!isAddressInUse(err)) throw err;
      last = err;
    }
  }
  throw new Error(`withFreePort: gave up after ${attempts} ports were in use`, { cause: last });
}

/** Resolve once a TCP connection to `port` succeeds; reject after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = LOOPBACK): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`waitForPort: nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
