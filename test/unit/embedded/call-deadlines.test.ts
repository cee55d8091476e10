/**
 * CallDeadlines: every call is answered exactly once, by its reply or, once its budget has run out, by the
 * expired reply; the sweep stops when nothing is outstanding. Fake timers drive both the interval and
 * performance.now(), which the deadlines are measured on.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tick } from '../../../src/clock.js';
import { CallDeadlines } from '../../../src/embedded/call-deadlines.js';
import { Reply, errorReply } from '../../../src/protocol/types.js';

const EXPIRED = errorReply('timeout', 'no reply within the server timeout');
const OK = new Reply('found');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Start a call at the current (fake) time; returns the replies it got. */
function startCall(d: CallDeadlines): { replies: Reply[]; settle: (r: Reply) => void } {
  const replies: Reply[] = [];
  tick();
  const call = d.start((r) => replies.push(r));
  return { replies, settle: (r) => call.onReply(r) };
}

describe('CallDeadlines', () => {
  it('answers a call with no reply once its budget has passed, and not before', () => {
    const d = new CallDeadlines(100, EXPIRED);
    const c = startCall(d);
    expect(d.outstanding).toBe(1);
    vi.advanceTimersByTime(95);
    expect(c.replies).toEqual([]);
    vi.advanceTimersByTime(15);
    expect(c.replies).toEqual([EXPIRED]);
    expect(d.outstanding).toBe(0);
  });

  it('a reply before the deadline is the only answer; a late reply after expiry is dropped', () => {
    const d = new CallDeadlines(50, EXPIRED);
    const early = startCall(d);
    const late = startCall(d);
    early.settle(OK);
    early.settle(EXPIRED);
    expect(early.replies).toEqual([OK]);
    vi.advanceTimersByTime(100);
    expect(early.replies).toEqual([OK]);
    expect(late.replies).toEqual([EXPIRED]);
    late.settle(OK);
    expect(late.replies).toEqual([EXPIRED]);
  });

  it('calls started later expire later (each budget counts from its own start)', () => {
    const d = new CallDeadlines(100, EXPIRED);
    const first = startCall(d);
    vi.advanceTimersByTime(60);
    const second = startCall(d);
    vi.advanceTimersByTime(50); // first at 110, second at 50
    expect(first.replies).toEqual([EXPIRED]);
    expect(second.replies).toEqual([]);
    expect(d.outstanding).toBe(1);
    vi.advanceTimersByTime(60);
    expect(second.replies).toEqual([EXPIRED]);
  });

  it('thousands of calls, most answered: each answered exactly once, the rest expire', () => {
    const d = new CallDeadlines(20, EXPIRED);
    const calls = Array.from({ length: 5000 }, () => startCall(d));
    calls.forEach((c, i) => {
      if (i % 5 !== 4) c.settle(OK);
    });
    expect(d.outstanding).toBe(1000);
    vi.advanceTimersByTime(10);
    // More calls while the old ones are swept (the queue is compacted meanwhile).
    const more = Array.from({ length: 3000 }, () => startCall(d));
    vi.advanceTimersByTime(15);
    calls.forEach((c, i) => expect(c.replies, `call ${i}`).toEqual([i % 5 === 4 ? EXPIRED : OK]));
    expect(more.every((c) => c.replies.length === 0)).toBe(true);
    vi.advanceTimersByTime(20);
    expect(more.every((c) => c.replies.length === 1 && c.replies[0] === EXPIRED)).toBe(true);
    expect(d.outstanding).toBe(0);
  });

  it('the sweep runs only while calls are outstanding', () => {
    const d = new CallDeadlines(30, EXPIRED);
    expect(vi.getTimerCount()).toBe(0);
    const c = startCall(d);
    expect(vi.getTimerCount()).toBe(1);
    c.settle(OK);
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
    startCall(d);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(40);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('failAll answers every outstanding call with the given reply, once', () => {
    const d = new CallDeadlines(1000, EXPIRED);
    const closed = errorReply('shutdown', 'router closed');
    const a = startCall(d);
    const b = startCall(d);
    b.settle(OK);
    const c = startCall(d);
    d.failAll(closed);
    expect(a.replies).toEqual([closed]);
    expect(b.replies).toEqual([OK]);
    expect(c.replies).toEqual([closed]);
    expect(d.outstanding).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(a.replies).toEqual([closed]);
  });
});
