/**
 * A destination's wait queue (requests waiting for an in-flight slot or for the address), fair across
 * clients. Each client session has a lane, its waiting requests oldest first; lanes with requests take
 * turns in a ring:
 *
 *     ring:   head ─► [A] ─► [B] ─► [C]      take(): A's oldest, then B's, then C's, then A's, ...
 *                      │      │      │
 *     lanes:           a1     b1     c1      a lane moves to the back of the ring after each turn,
 *                      a2            c2      and leaves it when empty
 *                      ...
 *                      a1000
 *
 * So one client's backlog of thousands of pipelined requests takes one slot in turn, like a client with
 * one request waiting, instead of queueing ahead of everyone.
 *
 * When the queue is full (the pending cap), pushOut() makes room for a newcomer by failing the newest
 * request of the longest lane, provided that lane is at least two longer than the newcomer's: one client
 * cannot hold the room other clients need, while a client alone may still use all of it.
 *
 * push, take and pushOut are O(1): lanes are also kept grouped by length in a list of lengths (as an LFU
 * cache keeps its frequencies), so a longest lane is always at hand. expire() walks everything (it runs
 * on the wait timer, as with the single FIFO before). Queueing
 * allocates nothing but the Waiting node: lanes and length groups go to free lists and are reused, and the
 * lane map is only consulted when a different client queues than the last one.
 */
import type { Request } from '../protocol/types.js';
import type { DestinationCallback } from './destination.js';

/** One waiting request: a node of its client's lane. */
export class Waiting {
  /** Older and newer neighbours in its lane. */
  prev: Waiting | null = null;
  next: Waiting | null = null;
  constructor(
    readonly req: Request,
    /** Date.now() deadline. */
    readonly deadline: number,
    readonly done: DestinationCallback,
    readonly wireKey: Buffer | undefined,
  ) {}
}

class Lane {
  client = 0;
  /** Oldest and newest waiting request. */
  head: Waiting | null = null;
  tail: Waiting | null = null;
  count = 0;
  /** Neighbours in the ring. */
  prev: Lane | null = null;
  next: Lane | null = null;
  /** The group of lanes of this length, and neighbours in it. */
  group: LengthGroup | null = null;
  groupPrev: Lane | null = null;
  groupNext: Lane | null = null;
}

/** The lanes of one length; groups are linked shortest to longest, only lengths some lane has. */
class LengthGroup {
  count = 0;
  first: Lane | null = null;
  shorter: LengthGroup | null = null;
  longer: LengthGroup | null = null;
}

/** Lanes (and length groups) kept for reuse: about as many as clients wait at once on a busy destination. */
const FREE_MAX = 64;

export class FairWaitQueue {
  /** Requests waiting, all lanes. */
  size = 0;
  private readonly lanes = new Map<number, Lane>();
  /** The lane whose turn is next, and the last one. */
  private ringHead: Lane | null = null;
  private ringTail: Lane | null = null;
  /** Length groups, shortest and longest. */
  private shortest: LengthGroup | null = null;
  private longest: LengthGroup | null = null;
  /** The lane of the last push: a burst from one client skips the map. */
  private last: Lane | null = null;
  private readonly free: Lane[] = [];
  private readonly freeGroups: LengthGroup[] = [];

  /** Lanes with requests waiting (clients waiting). */
  get laneCount(): number {
    return this.lanes.size;
  }

  /** Queue `w` at the back of its client's lane (`w.req.client`). */
  push(w: Waiting): void {
    const client = w.req.client;
    let lane = this.last;
    if (lane === null || lane.client !== client) {
      lane = this.lanes.get(client) ?? this.openLane(client);
      this.last = lane;
    }
    const tail = lane.tail;
    w.prev = tail;
    w.next = null;
    if (tail === null) lane.head = w;
    else tail.next = w;
    lane.tail = w;
    this.size++;
    this.grow(lane);
  }

  /** The next request in turn (see the module comment), unlinked; null when empty. */
  take(): Waiting | null {
    const lane = this.ringHead;
    if (lane === null) return null;
    const w = lane.head as Waiting;
    this.unlink(lane, w);
    if (lane.count > 0 && lane !== this.ringTail) {
      // Its turn is over: to the back of the ring.
      this.ringHead = lane.next;
      (lane.next as Lane).prev = null;
      lane.prev = this.ringTail;
      lane.next = null;
      (this.ringTail as Lane).next = lane;
      this.ringTail = lane;
    }
    return w;
  }

  /**
   * The queue is full and `client` wants to queue: unlink and return the newest request of a longest lane
   * if that lane is at least two longer than `client`'s (the caller fails it), else null (the caller
   * refuses the newcomer).
   */
  pushOut(client: number): Waiting | null {
    const g = this.longest;
    if (g === null) return null;
    const mine = this.lanes.get(client);
    if (g.count <= (mine === undefined ? 0 : mine.count) + 1) return null;
    const lane = g.first as Lane;
    const w = lane.tail as Waiting;
    this.unlink(lane, w);
    return w;
  }

  /**
   * Unlink every request whose deadline is at or before `now` into `out`; returns the earliest deadline
   * left (Infinity when none).
   */
  expire(now: number, out: Waiting[]): number {
    let next = Infinity;
    for (let lane = this.ringHead; lane !== null; ) {
      const after = lane.next;
      for (let w = lane.head; w !== null; ) {
        const newer = w.next;
        if (w.deadline <= now) {
          out.push(w);
          this.unlink(lane, w);
        } else if (w.deadline < next) {
          next = w.deadline;
        }
        w = newer;
      }
      lane = after;
    }
    return next;
  }

  /** Unlink everything into `out` (oldest first per lane) and start empty. */
  drainAll(out: Waiting[]): void {
    for (let lane = this.ringHead; lane !== null; ) {
      const after = lane.next;
      for (let w = lane.head; w !== null; ) {
        const newer = w.next;
        out.push(w);
        this.unlink(lane, w);
        w = newer;
      }
      lane = after;
    }
  }

  private openLane(client: number): Lane {
    const lane = this.free.pop() ?? new Lane();
    lane.client = client;
    this.lanes.set(client, lane);
    lane.prev = this.ringTail;
    lane.next = null;
    if (this.ringTail === null) this.ringHead = lane;
    else this.ringTail.next = lane;
    this.ringTail = lane;
    return lane;
  }

  private unlink(lane: Lane, w: Waiting): void {
    const { prev, next } = w;
    if (prev === null) lane.head = next;
    else prev.next = next;
    if (next === null) lane.tail = prev;
    else next.prev = prev;
    w.prev = w.next = null;
    this.size--;
    this.shrink(lane);
    if (lane.count === 0) this.closeLane(lane);
  }

  private closeLane(lane: Lane): void {
    const { prev, next } = lane;
    if (prev === null) this.ringHead = next;
    else prev.next = next;
    if (next === null) this.ringTail = prev;
    else next.prev = prev;
    lane.prev = lane.next = null;
    lane.head = lane.tail = null;
    this.lanes.delete(lane.client);
    if (this.last === lane) this.last = null;
    if (this.free.length < FREE_MAX) this.free.push(lane);
  }

  // ---------------------------------------------------------------- length groups

  /** `lane` got one longer: into the group of its new length. */
  private grow(lane: Lane): void {
    const from = lane.group;
    const c = ++lane.count;
    let to = from === null ? this.shortest : from.longer;
    // Join before leaving: leaving may free `from`, which the new group is linked next to.
    if (to === null || to.count !== c) to = this.insertGroup(c, from, to);
    if (from !== null) this.leaveGroup(lane, from);
    this.joinGroup(lane, to);
  }

  /** `lane` got one shorter: into the group of its new length (none at 0). */
  private shrink(lane: Lane): void {
    const from = lane.group as LengthGroup;
    const c = --lane.count;
    if (c === 0) {
      this.leaveGroup(lane, from);
      return;
    }
    let to = from.shorter;
    if (to === null || to.count !== c) to = this.insertGroup(c, to, from);
    this.leaveGroup(lane, from);
    this.joinGroup(lane, to);
  }

  /** A new group of length `count` between `shorter` and `longer` (either may be null: an end). */
  private insertGroup(count: number, shorter: LengthGroup | null, longer: LengthGroup | null): LengthGroup {
    const g = this.freeGroups.pop() ?? new LengthGroup();
    g.count = count;
    g.shorter = shorter;
    g.longer = longer;
    if (shorter === null) this.shortest = g;
    else shorter.longer = g;
    if (longer === null) this.longest = g;
    else longer.shorter = g;
    return g;
  }

  private joinGroup(lane: Lane, g: LengthGroup): void {
    const first = g.first;
    lane.groupPrev = null;
    lane.groupNext = first;
    if (first !== null) first.groupPrev = lane;
    g.first = lane;
    lane.group = g;
  }

  private leaveGroup(lane: Lane, g: LengthGroup): void {
    const { groupPrev, groupNext } = lane;
    if (groupPrev === null) g.first = groupNext;
    else groupPrev.groupNext = groupNext;
    if (groupNext !== null) groupNext.groupPrev = groupPrev;
    lane.groupPrev = lane.groupNext = null;
    lane.group = null;
    if (g.first !== null) return;
    // Empty: out of the list of lengths.
    const { shorter, longer } = g;
    if (shorter === null) this.shortest = longer;
    else shorter.longer = longer;
    if (longer === null) this.longest = shorter;
    else longer.shorter = shorter;
    g.shorter = g.longer = null;
    if (this.freeGroups.length < FREE_MAX) this.freeGroups.push(g);
  }
}
