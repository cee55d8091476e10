/**
 * Micro-benchmark for the placement library: ns/op of `select()` on 20-40 byte keys, n = 100,
 * plus own-md5 vs node:crypto md5 for the per-request `md5` key hash and one ketama ring build.
 *
 * Node 20 cannot run TypeScript directly, so compile this file (and the src it imports) and run it:
 *   bash bench/micro/run.sh   (or compile by hand:
 *   npx tsc bench/micro/hash-bench.ts --ignoreConfig --outDir dist/bench --rootDir . --module nodenext ...)
 *   node dist/bench/bench/micro/hash-bench.js [iterations]
 * `runHashBench()` / `formatBench()` are exported so a test or another script can reuse them.
 */
import { createHash } from 'node:crypto';
import { createSelector, type HashSpec } from '../../src/routes/hash/selector.js';
import { md5Word0 } from '../../src/routes/hash/md5.js';

export interface BenchRow {
  name: string;
  nsPerOp: number;
}

function makeKeys(count: number): Buffer[] {
  const keys: Buffer[] = [];
  let x = 42;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const len = 20 + (x % 21);
    let s = `user:${i}:`;
    while (s.length < len) s += String.fromCharCode(0x61 + ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) % 26));
    keys.push(Buffer.from(s.slice(0, len)));
  }
  return keys;
}

function time(fn: (k: Buffer) => number, keys: Buffer[], iterations: number): number {
  let sink = 0;
  for (let i = 0; i < 20000; i++) sink += fn(keys[i % keys.length]!); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn(keys[i % keys.length]!);
  const t1 = process.hrtime.bigint();
  if (sink === -1) console.log(sink);
  return Number(t1 - t0) / iterations;
}

export function runHashBench(iterations = 500_000): BenchRow[] {
  const n = 100;
  const servers = Array.from({ length: n }, (_, i) => ({ host: `10.0.${i >> 8}.${i & 255}`, port: 11211 }));
  const keys = makeKeys(4096);
  const specs: Array<[string, HashSpec]> = [
    ['Ch3', { hashFunc: 'Ch3' }],
    ['WeightedCh3 (all 0.5)', { hashFunc: 'WeightedCh3', weights: new Array<number>(n).fill(0.5) }],
    ['WeightedCh3 (all 1.0)', { hashFunc: 'WeightedCh3', weights: new Array<number>(n).fill(1) }],
    ['Crc32', { hashFunc: 'Crc32' }],
    ['Ketama md5', { hashFunc: 'Ketama', keyHash: 'md5' }],
    ['Ketama fnv1a_64', { hashFunc: 'Ketama', keyHash: 'fnv1a_64' }],
    ['Jump (farmhash fingerprint64)', { hashFunc: 'Jump' }],
    ['Rendezvous', { hashFunc: 'Rendezvous', tags: servers.map((s, i) => `${s.host}:${i}`) }],
    ['Ch3 + salt', { hashFunc: 'Ch3', salt: 'salty' }],
  ];
  const rows: BenchRow[] = [];
  for (const [name, spec] of specs) {
    const sel = createSelector(spec, servers);
    rows.push({ name, nsPerOp: time((k) => sel.select(k), keys, iterations) });
  }
  rows.push({ name: 'md5 key hash: own md5Word0', nsPerOp: time((k) => md5Word0(k), keys, iterations) });
  rows.push({
    name: 'md5 key hash: node:crypto createHash',
    nsPerOp: time((k) => createHash('md5').update(k).digest().readUInt32LE(0), keys, iterations),
  });
  const t0 = process.hrtime.bigint();
  createSelector({ hashFunc: 'Ketama', keyHash: 'md5' }, servers);
  rows.push({ name: 'Ketama ring build (n=100, 16000 points), per build', nsPerOp: Number(process.hrtime.bigint() - t0) });
  return rows;
}

export function formatBench(rows: readonly BenchRow[]): string {
  return rows.map((r) => `${r.name.padEnd(52)} ${r.nsPerOp.toFixed(1).padStart(12)} ns/op`).join('\n');
}

const invokedDirectly = typeof process.argv[1] === 'string' && /hash-bench\.[cm]?js$/.test(process.argv[1]);
if (invokedDirectly) {
  const iterations = Number(process.argv[2] ?? '1000000');
  console.log(`node ${process.version}, ${iterations} iterations per row, n = 100, keys 20-40 bytes`);
  console.log(formatBench(runHashBench(iterations)));
}
