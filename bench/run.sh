#!/usr/bin/env bash
# mcrelay benchmark (issue 4): memcached direct vs nutcracker vs mcrelay.
# Usage: bash bench/run.sh [--quick] [--targets memcached,nutcracker,mcrelay]
#          [--mcrelay-args "--num-proxies 2"] [--reps N] [--duration S] [--warmup S]
#          [--scenarios a,b] [--loadgen-threads N] [--with-meta]
# Targets (and their backing memcached) run on CPU 0, the load generator on CPU 1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$here/results/tmp"
mkdir -p "$tmp"

for bin in taskset memcached nutcracker node getconf; do
  command -v "$bin" >/dev/null || { echo "run.sh: $bin not found" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then echo "run.sh: needs >= 2 CPUs (targets on CPU 0, loadgen on CPU 1)" >&2; exit 1; fi
# idle-1000 needs ~2k descriptors in the loadgen and the proxy
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

runner=""
cleanup() {
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$runner" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$runner" 2>/dev/null || true
  fi
  # anything the runner spawned and did not reap (it records every pid it starts)
  if [ -f "$tmp/pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done < "$tmp/pids"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node "$here/runner.mjs" "$@" &
runner=$!
wait "$runner"
