/**
 * The bounded fuzz sample CI runs (see test/fuzz/fuzz-lib.ts; the long run is `node bench/fuzz.mjs`).
 * Sizes come from FUZZ_CLIENT_INPUTS / FUZZ_UPSTREAM_BATCHES / FUZZ_SEED when set.
 */
import { describe, expect, test } from 'vitest';
import { fuzzClient, fuzzUpstream } from '../../fuzz/fuzz-lib.js';

const clientInputs = Number(process.env['FUZZ_CLIENT_INPUTS'] ?? 50_000);
const upstreamBatches = Number(process.env['FUZZ_UPSTREAM_BATCHES'] ?? 20_000);
const seed = Number(process.env['FUZZ_SEED'] ?? 0x5eed);
const long = clientInputs > 1_000_000 || upstreamBatches > 200_000;

describe('fuzz', () => {
  test(`client bytes: ${clientInputs} inputs, whole vs split framing identical, no throw`, () => {
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    const st = fuzzClient(clientInputs, seed);
    const ms = performance.now() - t0;
    console.log(`[fuzz] client inputs=${st.inputs} bytes=${st.bytes} events=${st.events} ms=${Math.round(ms)} heapDeltaMb=${Math.round((process.memoryUsage().heapUsed - heap0) / 1e6)} failures=${st.failures.length}`);
    expect(st.failures.slice(0, 3)).toEqual([]);
  }, long ? 3_600_000 : 60_000);

  test(`upstream replies: ${upstreamBatches} batches (valid, damaged, late), exactly one callback each`, () => {
    const t0 = performance.now();
    const st = fuzzUpstream(upstreamBatches, seed);
    const ms = performance.now() - t0;
    console.log(`[fuzz] upstream batches=${st.batches} replies=${st.replies} damaged=${st.damaged} late=${st.late} ms=${Math.round(ms)} failures=${st.failures.length}`);
    expect(st.failures.slice(0, 3)).toEqual([]);
  }, long ? 3_600_000 : 60_000);

  test(`upstream replies via onread buffers: ${Math.ceil(upstreamBatches / 4)} batches incl. values > 4 KB, hit bytes intact`, () => {
    const t0 = performance.now();
    const st = fuzzUpstream(Math.ceil(upstreamBatches / 4), seed + 1, true);
    const ms = performance.now() - t0;
    console.log(`[fuzz] upstream(onread) batches=${st.batches} replies=${st.replies} damaged=${st.damaged} late=${st.late} ms=${Math.round(ms)} failures=${st.failures.length}`);
    expect(st.failures.slice(0, 3)).toEqual([]);
  }, long ? 3_600_000 : 60_000);
});
