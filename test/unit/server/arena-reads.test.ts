import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readIntoArenas } from '../../../src/server/arena-reads.js';

/** A loopback server whose accepted socket reads into arenas; returns the collected chunks. */
async function withArenaServer(run: (client: net.Socket, server: { chunks: Buffer[]; socket: () => net.Socket; engaged: () => boolean }) => Promise<void>): Promise<void> {
  const chunks: Buffer[] = [];
  let accepted: net.Socket | null = null;
  let engaged = false;
  const server = net.createServer((sock) => {
    accepted = sock;
    engaged = readIntoArenas(sock, (c) => chunks.push(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as net.AddressInfo;
  const client = net.connect(addr.port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  try {
    await run(client, { chunks, socket: () => accepted as unknown as net.Socket, engaged: () => engaged });
  } finally {
    client.destroy();
    (accepted as net.Socket | null)?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('readIntoArenas', () => {
  it('engages on an accepted socket on this Node version and delivers every byte in order', async () => {
    await withArenaServer(async (client, srv) => {
      const sent = Buffer.alloc(300_000);
      for (let i = 0; i < sent.length; i++) sent[i] = (i * 31 + 7) & 0xff;
      for (let off = 0; off < sent.length; off += 7_000) {
        client.write(sent.subarray(off, off + 7_000));
        if (off % 70_000 === 0) await wait(2);
      }
      for (let i = 0; i < 200 && Buffer.concat(srv.chunks).length < sent.length; i++) await wait(10);
      expect(srv.engaged()).toBe(true);
      expect(Buffer.concat(srv.chunks).equals(sent)).toBe(true);
      // Bytes already handed out are never overwritten by later reads (regions are not reused).
      const copy = srv.chunks.map((c) => Buffer.from(c));
      client.write(Buffer.alloc(50_000, 0xee));
      await wait(50);
      srv.chunks.slice(0, copy.length).forEach((c, i) => expect(c.equals(copy[i] as Buffer)).toBe(true));
      // Chunks come from arenas (at most 64 KB), not a fresh 64 KB buffer each.
      for (const c of srv.chunks) expect(c.buffer.byteLength).toBeLessThanOrEqual(65_536);
    });
  });

  it('pause() stops delivery and resume() continues', async () => {
    await withArenaServer(async (client, srv) => {
      client.write('a');
      for (let i = 0; i < 50 && srv.chunks.length === 0; i++) await wait(5);
      srv.socket().pause();
      client.write('bcd');
      await wait(50);
      expect(Buffer.concat(srv.chunks).toString()).toBe('a');
      srv.socket().resume();
      for (let i = 0; i < 50 && Buffer.concat(srv.chunks).length < 4; i++) await wait(5);
      expect(Buffer.concat(srv.chunks).toString()).toBe('abcd');
    });
  });
});
