/**
 * A per-turn clock for latency accounting on the request path.
 *
 * `performance.now()` showed up at ~3% of mcrelay's CPU in a pipelined benchmark because it was read
 * several times per request. Instead, the time is read once when a socket's bytes arrive (`tick()`), and
 * every request parsed from those bytes, and every reply parsed from an upstream chunk, uses that value.
 * Latencies then measure arrival-to-arrival, which is what a client sees minus its own network time.
 */
let nowMs = performance.now();

/** Read the clock (call once per socket 'data' event). */
export function tick(): number {
  nowMs = performance.now();
  return nowMs;
}

/** The time of the current turn's latest tick, in ms (performance.now() base). */
export function turnNow(): number {
  return nowMs;
}
