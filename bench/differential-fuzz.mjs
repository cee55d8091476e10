#!/usr/bin/env node
// The differential fuzzer's long run (issue 13): memcached 1.6.18 direct vs mcrelay on a one-server pool.
// Usage: node bench/differential-fuzz.mjs [inputs=1000000] [seed] [findings.md]
// It runs the CI test (test/integration/differential-fuzz.test.ts) with DIFF_FUZZ_INPUTS/DIFF_FUZZ_SEED set,
// and prints its figures as one `[diff-fuzz]` line: inputs, differences by class, canary requests and errors,
// wall time. With a third argument the classified findings (minimal reproducer per class) go to that file.
import { spawnSync } from 'node:child_process';

const [inputs = '1000000', seed = String(Date.now() % 1e9), findings] = process.argv.slice(2);
console.log(`differential fuzz: inputs=${inputs} seed=${seed}${findings ? ` findings=${findings}` : ''}`);
const t0 = Date.now();
const r = spawnSync('npx', ['vitest', 'run', '--project', 'integration', 'test/integration/differential-fuzz.test.ts', '-t', 'random and mutated'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
  env: { ...process.env, DIFF_FUZZ_INPUTS: inputs, DIFF_FUZZ_SEED: seed, ...(findings ? { DIFF_FUZZ_FINDINGS: findings } : {}) },
});
process.stdout.write(r.stdout ?? '');
// The test prints "[diff-fuzz] canaryRequests=... canaryErrors=... inputs=... byClass=[...]" once; repeat it
// last with the wall time of the whole run (vitest start-up and the servers included).
const line = (r.stdout ?? '').split('\n').find((l) => l.includes('[diff-fuzz] canaryRequests='));
console.log(`${line ? line.slice(line.indexOf('[diff-fuzz]')) : '[diff-fuzz] no figures (the test did not get to the end)'} wallMs=${Date.now() - t0} seed=${seed} exit=${r.status}`);
process.exit(r.status ?? 1);
