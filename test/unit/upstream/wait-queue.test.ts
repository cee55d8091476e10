/**
 * FairWaitQueue: a destination's waiting requests served round-robin across clients, and a full queue
 * that makes room for a newcomer from the longest backlog. Targeted cases, then random operations
 * checked against a plain model (arrays per client and a ring of client ids).
 */
import { describe, expect, test } from 'vitest';
import { Request } from '../../../src/protocol/types.js';
import { FairWaitQueue, Waiting } from '../../../src/upstream/wait-queue.js';
import { Rng } from '../../fuzz/fuzz-lib.js';

function waiting(client: number, name: string, deadline = 1e15): Waiting {
  const req = Request.synthesize('get', Buffer.from(name), 'get ', '', null, 0);
  req.client = client;
  return new Waiting(req, deadline, () => {}, undefined);
}

const nameOf = (w: Waiting | null): string => (w === null ? 'null' : w.req.key.toString());

function takeAll(q: FairWaitQueue): string[] {
  const out: string[] = [];
  for (let w = q.take(); w !== null; w = q.take()) out.push(nameOf(w));
  return out;
}

describe('FairWaitQueue: round robin', () => {
  test('client A queues 1,000, then client B 1: B is taken second, not after A\'s 1,000', () => {
    const q = new FairWaitQueue();
    for (let i = 0; i < 1000; i++) q.push(waiting(1, `a${i}`));
    q.push(waiting(2, 'b0'));
    expect(q.size).toBe(1001);
    const order = takeAll(q);
    expect(order.slice(0, 4)).toEqual(['a0', 'b0', 'a1', 'a2']);
    expect(order).toHaveLength(1001);
    expect(q.size).toBe(0);
    expect(q.laneCount).toBe(0);
  });

  test('three clients take turns, each in its own order; a client that comes back joins the back of the ring', () => {
    const q = new FairWaitQueue();
    for (let i = 0; i < 3; i++) q.push(waiting(1, `a${i}`));
    q.push(waiting(2, 'b0'));
    for (let i = 0; i < 2; i++) q.push(waiting(3, `c${i}`));
    expect([q.take(), q.take(), q.take(), q.take()].map(nameOf)).toEqual(['a0', 'b0', 'c0', 'a1']);
    q.push(waiting(2, 'b1')); // B's lane had emptied: it rejoins behind C and A
    expect(takeAll(q)).toEqual(['c1', 'a2', 'b1']);
  });

  test('lanes are reused: a burst that comes and goes leaves no lane behind', () => {
    const q = new FairWaitQueue();
    for (let round = 0; round < 100; round++) {
      for (let c = 1; c <= 20; c++) q.push(waiting(round * 100 + c, `k${c}`));
      expect(q.laneCount).toBe(20);
      expect(takeAll(q)).toHaveLength(20);
    }
    expect(q.laneCount).toBe(0);
    expect((q as unknown as { free: unknown[] }).free.length).toBeLessThanOrEqual(64);
  });
});

describe('FairWaitQueue: a full queue', () => {
  test('a newcomer pushes out the newest request of the longest backlog', () => {
    const q = new FairWaitQueue();
    for (let i = 0; i < 10; i++) q.push(waiting(1, `a${i}`));
    const out = q.pushOut(2);
    expect(nameOf(out)).toBe('a9');
    expect(q.size).toBe(9);
  });

  test('no push-out for the longest client itself, nor when the longest is not at least two longer', () => {
    const q = new FairWaitQueue();
    for (let i = 0; i < 5; i++) q.push(waiting(1, `a${i}`));
    for (let i = 0; i < 4; i++) q.push(waiting(2, `b${i}`));
    expect(q.pushOut(1)).toBeNull(); // A is the longest
    expect(q.pushOut(2)).toBeNull(); // 5 vs 4: pushing out would make B the longer one
    expect(nameOf(q.pushOut(3))).toBe('a4'); // C has none
    expect(q.size).toBe(8);
  });

  test('always from a longest backlog, also after it lost requests to turns and push-outs', () => {
    const q = new FairWaitQueue();
    for (let i = 0; i < 6; i++) q.push(waiting(1, `a${i}`));
    for (let i = 0; i < 4; i++) q.push(waiting(2, `b${i}`));
    expect(nameOf(q.pushOut(3))).toBe('a5'); // A 5, B 4
    expect(nameOf(q.pushOut(4))).toBe('a4'); // A 4, B 4
    expect(nameOf(q.take())).toBe('a0'); // A's turn: A 3, B 4
    expect(nameOf(q.pushOut(5))).toBe('b3'); // B is the longest now
    expect(q.size).toBe(6);
  });
});

describe('FairWaitQueue: expiry and draining', () => {
  test('expire unlinks what is due and gives the earliest deadline left', () => {
    const q = new FairWaitQueue();
    q.push(waiting(1, 'a0', 10));
    q.push(waiting(1, 'a1', 30));
    q.push(waiting(2, 'b0', 20));
    q.push(waiting(3, 'c0', 5));
    const out: Waiting[] = [];
    expect(q.expire(20, out)).toBe(30);
    expect(out.map(nameOf).sort()).toEqual(['a0', 'b0', 'c0']);
    expect(q.laneCount).toBe(1);
    expect(takeAll(q)).toEqual(['a1']);
    expect(q.expire(100, [])).toBe(Infinity);
  });

  test('drainAll empties every lane', () => {
    const q = new FairWaitQueue();
    for (let c = 1; c <= 3; c++) for (let i = 0; i < 3; i++) q.push(waiting(c, `${c}:${i}`));
    const out: Waiting[] = [];
    q.drainAll(out);
    expect(out).toHaveLength(9);
    expect(q.size).toBe(0);
    expect(q.laneCount).toBe(0);
    expect(q.take()).toBeNull();
    q.push(waiting(1, 'again'));
    expect(takeAll(q)).toEqual(['again']);
  });
});

/** The same queue as plain arrays: what FairWaitQueue must do, written the obvious way. */
class Model {
  readonly lanes = new Map<number, string[]>();
  readonly ring: number[] = [];
  push(client: number, name: string): void {
    let l = this.lanes.get(client);
    if (l === undefined) {
      l = [];
      this.lanes.set(client, l);
      this.ring.push(client);
    }
    l.push(name);
  }
  take(): string | null {
    const c = this.ring.shift();
    if (c === undefined) return null;
    const l = this.lanes.get(c) as string[];
    const w = l.shift() as string;
    if (l.length > 0) this.ring.push(c);
    else this.lanes.delete(c);
    return w;
  }
  /** The lengths a push-out may take from: the longest lanes, if at least two longer than `client`'s. */
  pushOutCandidates(client: number): Set<number> {
    const have = this.lanes.get(client)?.length ?? 0;
    let max = 0;
    for (const l of this.lanes.values()) max = Math.max(max, l.length);
    const out = new Set<number>();
    if (max < have + 2) return out;
    for (const [c, l] of this.lanes) if (l.length === max) out.add(c);
    return out;
  }
  remove(client: number, name: string): void {
    const l = this.lanes.get(client) as string[];
    l.splice(l.indexOf(name), 1);
    if (l.length === 0) {
      this.lanes.delete(client);
      this.ring.splice(this.ring.indexOf(client), 1);
    }
  }
  get size(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.length;
    return n;
  }
}

describe('FairWaitQueue against a model', () => {
  test.each([1, 2, 3, 4, 5])('seed %i: 20,000 random pushes, takes, push-outs and expiries', (seed) => {
    const rng = new Rng(seed);
    const q = new FairWaitQueue();
    const m = new Model();
    let id = 0;
    let now = 0;
    const deadlines = new Map<string, number>();
    for (let step = 0; step < 20_000; step++) {
      const op = rng.int(10);
      if (op < 5) {
        // Skewed clients: client 1 sends most.
        const client = rng.chance(0.5) ? 1 : 2 + rng.int(6);
        const name = `w${id++}`;
        const deadline = now + 1 + rng.int(200);
        deadlines.set(name, deadline);
        q.push(waiting(client, name, deadline));
        m.push(client, name);
      } else if (op < 8) {
        expect(nameOf(q.take())).toBe(m.take() ?? 'null');
      } else if (op < 9) {
        const client = 1 + rng.int(7);
        const allowed = m.pushOutCandidates(client);
        const w = q.pushOut(client);
        if (allowed.size === 0) {
          expect(w).toBeNull();
        } else {
          expect(w).not.toBeNull();
          const c = (w as Waiting).req.client;
          expect(allowed.has(c)).toBe(true);
          // The newest of that lane.
          const lane = m.lanes.get(c) as string[];
          expect(nameOf(w)).toBe(lane[lane.length - 1]);
          m.remove(c, nameOf(w));
        }
      } else {
        now += rng.int(50);
        const out: Waiting[] = [];
        q.expire(now, out);
        for (const w of out) {
          expect(w.deadline).toBeLessThanOrEqual(now);
          m.remove(w.req.client, nameOf(w));
        }
        // Nothing due is left behind.
        for (const lane of m.lanes.values()) for (const n of lane) expect(deadlines.get(n) as number).toBeGreaterThan(now);
      }
      expect(q.size).toBe(m.size);
      expect(q.laneCount).toBe(m.lanes.size);
    }
    // What is left comes out in the model's order.
    const rest: string[] = [];
    for (let n = m.take(); n !== null; n = m.take()) rest.push(n);
    expect(takeAll(q)).toEqual(rest);
  });
});
