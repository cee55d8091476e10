/**
 * One setImmediate per event-loop turn for all pending socket writes, upstream and client side.
 *
 * Flushing per read chunk or per nextTick measured ~0.6× the throughput of flushing once per turn with
 * setImmediate, because every extra write is a syscall. Anything that has bytes to send
 * registers itself here; at the end of the turn each registered writer gets one `flush()` call.
 */
export interface Flushable {
  /** Set by the scheduler while the writer is queued, so it is queued at most once per turn. */
  flushQueued: boolean;
  flush(): void;
}

let queue: Flushable[] = [];
let scheduled = false;

function runFlushes(): void {
  scheduled = false;
  // Flushing a client may complete nothing new, but flushing upstreams never enqueues more upstream work
  // in the same turn; still, loop until quiet so nothing registered during the pass waits a whole turn.
  while (queue.length > 0) {
    const q = queue;
    queue = [];
    for (let i = 0; i < q.length; i++) {
      const w = q[i] as Flushable;
      w.flushQueued = false;
      w.flush();
    }
  }
}

export function scheduleFlush(w: Flushable): void {
  if (w.flushQueued) return;
  w.flushQueued = true;
  queue.push(w);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runFlushes);
  }
}
