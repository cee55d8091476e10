/**
 * The embedded router's promise that no call waits longer than its budget (the server timeout plus a few
 * milliseconds), whatever the route tree does: a failover chain of timeouts, or servers that accept and
 * never answer. Calls are kept in start order, so with one budget for all of them their deadlines are in
 * order too and a sweep only looks at the oldest ones. The sweep runs every few milliseconds while a call
 * is outstanding, and not at all otherwise.
 */
import { turnNow } from '../clock.js';
import type { Reply } from '../protocol/types.js';

/** How often the sweep looks, ms: a late call is answered at most this long after its deadline. */
const SWEEP_MS = 5;

/** One outstanding call: answered once, by its reply or by the sweep. */
export abstract class PendingCall {
  done = false;
  deadline = 0;

  /** The call's answer (exactly once). */
  protected abstract answer(reply: Reply): void;

  /** Route tree reply, or the sweep's: the first one answers the call. */
  onReply(reply: Reply): void {
    if (this.done) return;
    this.done = true;
    this.answer(reply);
  }
}

/** A PendingCall that hands its reply to a function (tests, and callers without a class of their own). */
export class CallbackCall extends PendingCall {
  constructor(private readonly cb: (reply: Reply) => void) {
    super();
  }

  protected answer(reply: Reply): void {
    this.cb(reply);
  }
}

export class CallDeadlines {
  private calls: PendingCall[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Each call's budget, ms. */
    readonly budgetMs: number,
    /** The reply a call gets when its budget runs out. */
    private readonly expired: Reply,
  ) {}

  /** Track a new call (the caller has just ticked the clock). */
  track<T extends PendingCall>(call: T): T {
    call.deadline = turnNow() + this.budgetMs;
    this.calls.push(call);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
    return call;
  }

  /** Track a call answered through `onReply` (exactly once). */
  start(onReply: (reply: Reply) => void): PendingCall {
    return this.track(new CallbackCall(onReply));
  }

  /** Calls not yet answered. */
  get outstanding(): number {
    let n = 0;
    for (let i = this.head; i < this.calls.length; i++) if (!(this.calls[i] as PendingCall).done) n++;
    return n;
  }

  private sweep(): void {
    const calls = this.calls;
    const now = performance.now();
    let h = this.head;
    while (h < calls.length) {
      const c = calls[h] as PendingCall;
      if (!c.done) {
        if (c.deadline > now) break;
        c.onReply(this.expired);
      }
      h++;
    }
    if (h === calls.length) {
      this.calls = [];
      this.head = 0;
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    if (h > 1024 && h * 2 > calls.length) {
      this.calls = calls.slice(h);
      h = 0;
    }
    this.head = h;
  }

  /** Answer every outstanding call with `reply` (close). */
  failAll(reply: Reply): void {
    for (let i = this.head; i < this.calls.length; i++) (this.calls[i] as PendingCall).onReply(reply);
    this.calls = [];
    this.head = 0;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
