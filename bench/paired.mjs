#!/usr/bin/env node
// Ratios to nutcracker paired by repetition: each rep runs every target back to back (shuffled), so a
// target's run and nutcracker's run of the same rep saw the same machine. On a VM whose speed drifts
// between runs (this one moves between two speeds ~1.5x apart, minutes at a time, with no steal time
// reported), the ratio of medians mixes the speeds; the median of per-rep ratios does not.
//
//   node bench/paired.mjs [bench/results/latest.json]     prints the table (markdown)
//   import { pairedTable } from './paired.mjs'            (runner.mjs appends it to latest.md)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function med(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function fmt(xs) {
  if (xs.length === 0) return '–';
  const m = med(xs);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return `${m.toFixed(2)}× (${lo.toFixed(2)}–${hi.toFixed(2)})`;
}

/** Markdown lines: per scenario and target, req/s and CPU per request as multiples of nutcracker's. */
export function pairedTable(res, base = 'nutcracker') {
  const L = [`Paired with ${base} (per rep: this target's run ÷ ${base}'s run of the same rep; median (min–max) over reps):`, ''];
  L.push(`| scenario | target | req/s ÷ ${base} | CPU per request ÷ ${base} | reps paired |`, '|---|---|---|---|---|');
  for (const sc of res.scenarios) {
    const b = sc.targets.find((t) => t.target === base);
    if (!b || b.runs.length === 0) continue;
    const byRep = new Map(b.runs.map((r) => [r.rep, r]));
    for (const t of sc.targets) {
      if (t.target === base || t.runs.length === 0) continue;
      const thr = [];
      const cpu = [];
      for (const r of t.runs) {
        const o = byRep.get(r.rep);
        if (!o) continue;
        thr.push(r.opsPerSec / o.opsPerSec);
        if (r.cpuPer100k?.proxy && o.cpuPer100k?.proxy) cpu.push(r.cpuPer100k.proxy / o.cpuPer100k.proxy);
      }
      if (thr.length) L.push(`| ${sc.name} | ${t.target} | ${fmt(thr)} | ${fmt(cpu)} | ${thr.length} |`);
    }
  }
  return L;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
  console.log(pairedTable(JSON.parse(fs.readFileSync(file, 'utf8'))).join('\n'));
}
