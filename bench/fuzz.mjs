#!/usr/bin/env node
// The long fuzz run (issue 5): 10^7 client inputs and >10^6 upstream replies, in-process, no sockets.
// Usage: node bench/fuzz.mjs [clientInputs] [upstreamBatches] [seed]
// It runs the same test as CI (test/unit/upstream/fuzz.test.ts) with bigger sizes; figures are the [fuzz] lines.
import { spawnSync } from 'node:child_process';

const [clientInputs = '10000000', upstreamBatches = '300000', seed = String(Date.now() % 1e9)] = process.argv.slice(2);
console.log(`fuzz: clientInputs=${clientInputs} upstreamBatches=${upstreamBatches} seed=${seed}`);
const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', 'test/unit/upstream/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_CLIENT_INPUTS: clientInputs, FUZZ_UPSTREAM_BATCHES: upstreamBatches, FUZZ_SEED: seed },
});
process.exit(r.status ?? 1);
