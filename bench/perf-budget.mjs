#!/usr/bin/env node
// Groups `perf report --sort dso,sym` output (on stdin) of an mcrelay process into the parts of a request:
// kernel (syscalls, TCP, scheduling), parse, route, client session, upstream, bookkeeping, Node's own
// stream code, V8 (GC, inline caches, builtins) and libc. Prints each part's share of the samples.
import fs from 'node:fs';

const parts = new Map();
for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
  const m = /^\s*([\d.]+)%\s+(.+?)\s+\[(.)\]\s+(.*)$/.exec(line);
  if (m === null) continue;
  const pct = Number(m[1]);
  const [dso, kind, sym] = [m[2], m[3], m[4]];
  let part;
  if (kind === 'k') part = 'kernel: syscalls, TCP, scheduling';
  else if (sym.includes('/protocol/')) part = 'parse (protocol/)';
  else if (sym.includes('/routes/')) part = 'route (routes/)';
  else if (sym.includes('/server/') || sym.includes('write-batch')) part = 'client session: order, render, write (server/)';
  else if (sym.includes('/upstream/')) part = 'upstream: queue, write, reply parse (upstream/)';
  else if (sym.includes('/router/') || sym.includes('/observe/') || sym.includes('/metrics/') || sym.includes('clock.js')) part = 'bookkeeping: stats, histograms, observers';
  else if (sym.startsWith('JS:') && sym.includes('node:')) part = "Node's net/stream JS";
  else if (/libc|ld-linux/.test(dso)) part = 'libc: malloc, memcpy';
  else if (sym.startsWith('JS:')) part = 'other JS';
  else part = 'V8: GC, inline caches, builtins, runtime';
  parts.set(part, (parts.get(part) ?? 0) + pct);
}
const total = [...parts.values()].reduce((a, b) => a + b, 0);
for (const [part, pct] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${((pct / total) * 100).toFixed(1).padStart(5)} %  ${part}`);
