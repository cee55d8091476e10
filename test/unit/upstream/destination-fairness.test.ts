/**
 * A destination at its in-flight cap serves waiting requests fairly across clients (Request.client):
 * one client's backlog does not queue ahead of everyone else, and a full wait queue makes room for
 * another client at the expense of the longest backlog. Over a loopback server that records the keys in
 * the order they were written to it.
 */
import net from 'node:net';
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import { Request, type Reply } from '../../../src/protocol/types.js';
import { UpstreamDestination } from '../../../src/upstream/upstream-destination.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A server answering each get line with END, once released; `keys` in the order they arrived. */
async function recordingServer(held: boolean): Promise<{ port: number; keys: string[]; release: () => void }> {
  const keys: string[] = [];
  let open = !held;
  const owing: (() => void)[] = [];
  const s = net.createServer((sock) => {
    let rest = '';
    let owed = 0;
    const answer = (): void => {
      if (open && owed > 0) {
        sock.write('END\r\n'.repeat(owed));
        owed = 0;
      }
    };
    owing.push(answer);
    sock.on('data', (d) => {
      rest += d.toString('latin1');
      let nl: number;
      while ((nl = rest.indexOf('\r\n')) !== -1) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 2);
        keys.push(...line.split(' ').slice(1));
        owed++;
      }
      answer();
    });
    sock.on('error', () => {});
  });
  cleanup.push(() => s.close());
  const port = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
  const release = (): void => {
    open = true;
    for (const answer of owing) answer();
  };
  return { port, keys, release };
}

function destination(port: number, maxInflight: number, maxPending: number): UpstreamDestination {
  const d = new UpstreamDestination(
    { host: '127.0.0.1', port, protocol: 'ascii', security: 'plain', address: `127.0.0.1:${port}`, text: '' },
    {
      connectionsPerDestination: 1,
      tko: { timeoutsUntilTko: 3, probeInitialMs: 1000, probeMaxMs: 1000, disabled: true },
      keepAlive: false,
      maxOutstanding: maxPending,
      maxInflight,
      log: pino({ level: 'silent' }),
    },
  );
  cleanup.push(() => d.close());
  return d;
}

function get(client: number, key: string): Request {
  const r = Request.synthesize('get', Buffer.from(key), 'get ', '', null, 0);
  r.client = client;
  return r;
}

/** Send and collect the reply of each request by key. */
function sendAll(d: UpstreamDestination, reqs: Request[], replies: Map<string, Reply>): Promise<void>[] {
  return reqs.map(
    (req) =>
      new Promise<void>((resolve) =>
        d.send(req, 5000, (r) => {
          replies.set(req.key.toString(), r);
          resolve();
        }),
      ),
  );
}

test('client A has 1,000 requests waiting, then client B sends 1: B is written within the next few slots', async () => {
  const srv = await recordingServer(false);
  const d = destination(srv.port, 4, 100_000);
  const replies = new Map<string, Reply>();
  const a = Array.from({ length: 1000 }, (_, i) => get(1, `a${i}`));
  const done = sendAll(d, a, replies);
  expect(d.pendingCount()).toBe(996);
  done.push(...sendAll(d, [get(2, 'b0')], replies));
  await Promise.all(done);
  expect(replies.size).toBe(1001);
  for (const r of replies.values()) expect(r.result).toBe('notfound');
  // The first 4 went out at once; b0 is the second request dispatched after them (A's turn, then B's).
  const at = srv.keys.indexOf('b0');
  expect(srv.keys.slice(0, 6)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
  expect(at).toBe(5);
});

test('three clients with uneven backlogs take turns; each client\'s own order is kept', async () => {
  const srv = await recordingServer(false);
  const d = destination(srv.port, 2, 100_000);
  const replies = new Map<string, Reply>();
  const done = [
    ...sendAll(d, Array.from({ length: 300 }, (_, i) => get(1, `a${i}`)), replies),
    ...sendAll(d, Array.from({ length: 10 }, (_, i) => get(2, `b${i}`)), replies),
    ...sendAll(d, Array.from({ length: 10 }, (_, i) => get(3, `c${i}`)), replies),
  ];
  await Promise.all(done);
  const pos = (k: string): number => srv.keys.indexOf(k);
  // After the first 2 (a0 a1), turns go A B C A B C ...: B's and C's tenth are out within 2 + 3·10 slots.
  expect(pos('b9')).toBeLessThan(2 + 30);
  expect(pos('c9')).toBeLessThan(2 + 30);
  for (const c of ['a', 'b', 'c']) {
    const mine = srv.keys.filter((k) => k.startsWith(c));
    expect(mine).toEqual([...mine].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
  }
});

test('a full wait queue: another client still gets in, and the longest backlog loses its newest request', async () => {
  const srv = await recordingServer(true);
  const d = destination(srv.port, 1, 10);
  const replies = new Map<string, Reply>();
  // A: 1 in flight, 10 waiting, 9 refused at once.
  const done = sendAll(d, Array.from({ length: 20 }, (_, i) => get(1, `a${i}`)), replies);
  const refusedA = (): string[] => [...replies].filter(([, r]) => r.message?.startsWith('Max pending requests (10)') === true).map(([k]) => k);
  expect(refusedA()).toEqual(['a11', 'a12', 'a13', 'a14', 'a15', 'a16', 'a17', 'a18', 'a19']);
  // B's request is queued: A's newest waiting one (a10) makes room for it.
  done.push(...sendAll(d, [get(2, 'b0')], replies));
  expect(refusedA()).toContain('a10');
  expect(replies.has('b0')).toBe(false);
  expect(d.pendingCount()).toBe(10);
  srv.release();
  await Promise.all(done);
  expect(replies.get('b0')?.result).toBe('notfound');
  expect(srv.keys.indexOf('b0')).toBeLessThanOrEqual(2);
  expect(d.rejectedPending).toBe(10);
});

test('a full wait queue shared evenly: a client is refused rather than swapped with an equal backlog', async () => {
  const srv = await recordingServer(true);
  const d = destination(srv.port, 1, 10);
  const replies = new Map<string, Reply>();
  const done = [...sendAll(d, Array.from({ length: 6 }, (_, i) => get(1, `a${i}`)), replies), ...sendAll(d, Array.from({ length: 5 }, (_, i) => get(2, `b${i}`)), replies)];
  expect([d.inflightCount(), d.pendingCount(), replies.size]).toEqual([1, 10, 0]);
  // A and B have 5 waiting each: B's sixth would only trade places with one of A's.
  done.push(...sendAll(d, [get(2, 'b5')], replies));
  expect(replies.get('b5')?.message).toBe(`Max pending requests (10) reached for destination 127.0.0.1:${srv.port}`);
  // C has none waiting: it gets in, at the expense of a backlog of 5.
  done.push(...sendAll(d, [get(3, 'c0')], replies));
  expect(replies.has('c0')).toBe(false);
  expect([...replies.keys()].filter((k) => k !== 'b5').map((k) => replies.get(k)?.message?.slice(0, 21))).toEqual(['Max pending requests ']);
  srv.release();
  await Promise.all(done);
  expect(replies.get('c0')?.result).toBe('notfound');
});
