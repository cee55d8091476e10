#!/usr/bin/env bash
# Micro-benchmarks: the placement library (hash-bench), the request parser (parser-bench) and route
# trees (route-bench). Node 20 cannot run TypeScript directly, so this compiles bench/micro/*.ts and the
# src they import into dist/bench, then runs each. Arguments are passed to every benchmark (iterations).
#
#   bash bench/micro/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
npx tsc bench/micro/hash-bench.ts bench/micro/parser-bench.ts bench/micro/route-bench.ts --ignoreConfig \
  --outDir dist/bench --rootDir . --module nodenext --moduleResolution nodenext --target es2022 --types node \
  --skipLibCheck --esModuleInterop
for b in hash-bench parser-bench route-bench; do
  echo "== $b"
  node "dist/bench/bench/micro/$b.js" "$@"
done
