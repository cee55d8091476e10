import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readThroughSharedBuffer } from '../../../src/server/client-reads.js';

interface Accepted {
  sock: net.Socket;
  chunks: Buffer[];
  engaged: boolean;
}

/** A loopback server whose accepted sockets read through the shared buffer; `n` clients connected to it. */
async function withServer(n: number, run: (clients: net.Socket[], accepted: Accepted[]) => Promise<void>): Promise<void> {
  const accepted: Accepted[] = [];
  const server = net.createServer((sock) => {
    const a: Accepted = { sock, chunks: [], engaged: false };
    a.engaged = readThroughSharedBuffer(sock, (c) => a.chunks.push(c));
    accepted.push(a);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    clients.push(c);
  }
  for (let i = 0; i < 100 && accepted.length < n; i++) await wait(5);
  try {
    await run(clients, accepted);
  } finally {
    for (const c of clients) c.destroy();
    for (const a of accepted) a.sock.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const total = (a: Accepted): number => a.chunks.reduce((n, c) => n + c.length, 0);

describe('readThroughSharedBuffer', () => {
  it('engages on accepted sockets on this Node; every socket gets its own bytes, in order, never overwritten', async () => {
    await withServer(4, async (clients, accepted) => {
      expect(accepted.map((a) => a.engaged)).toEqual([true, true, true, true]);
      // Four clients write interleaved, so reads of different sockets alternate through the one buffer.
      const sent = clients.map((_, ci) => {
        const b = Buffer.alloc(200_000);
        for (let i = 0; i < b.length; i++) b[i] = (i * 31 + ci * 101 + 7) & 0xff;
        return b;
      });
      for (let off = 0; off < 200_000; off += 5_000) {
        clients.forEach((c, ci) => c.write(sent[ci]!.subarray(off, off + 5_000)));
        if (off % 50_000 === 0) await wait(2);
      }
      for (let i = 0; i < 300 && accepted.some((a) => total(a) < 200_000); i++) await wait(10);
      // Accepted sockets arrive in connect order on loopback; match by content to be safe.
      for (const a of accepted) {
        const got = Buffer.concat(a.chunks);
        const ci = sent.findIndex((s) => s.subarray(0, 16).equals(got.subarray(0, 16)));
        expect(ci).toBeGreaterThanOrEqual(0);
        expect(got.equals(sent[ci]!)).toBe(true);
      }
      // Chunks already handed out keep their bytes while later reads go through the shared buffer.
      const copies = accepted.map((a) => a.chunks.map((c) => Buffer.from(c)));
      clients.forEach((c) => c.write(Buffer.alloc(70_000, 0xee)));
      for (let i = 0; i < 300 && accepted.some((a) => total(a) < 270_000); i++) await wait(10);
      accepted.forEach((a, ai) => copies[ai]!.forEach((c, i) => expect(a.chunks[i]!.equals(c)).toBe(true)));
    });
  });

  it('pause() stops delivery and resume() continues', async () => {
    await withServer(1, async ([client], [srv]) => {
      client!.write('a');
      for (let i = 0; i < 50 && srv!.chunks.length === 0; i++) await wait(5);
      srv!.sock.pause();
      client!.write('bcd');
      await wait(50);
      expect(Buffer.concat(srv!.chunks).toString()).toBe('a');
      srv!.sock.resume();
      for (let i = 0; i < 50 && total(srv!) < 4; i++) await wait(5);
      expect(Buffer.concat(srv!.chunks).toString()).toBe('abcd');
    });
  });

  it('declines a socket that is already reading, and TLS sockets', async () => {
    await withServer(1, async ([client], [srv]) => {
      // Already switched: a second call finds the user buffer in place and changes nothing.
      expect(readThroughSharedBuffer(srv!.sock, () => {})).toBe(false);
      client!.write('x');
      for (let i = 0; i < 50 && srv!.chunks.length === 0; i++) await wait(5);
      expect(Buffer.concat(srv!.chunks).toString()).toBe('x');
    });
    const t = new tls.TLSSocket(new net.Socket());
    expect(readThroughSharedBuffer(t, () => {})).toBe(false);
    t.destroy();
  });
});
