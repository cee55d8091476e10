#!/usr/bin/env bash
# Profile mcrelay under one bench load: N memcacheds and mcrelay on CPU 0, bench/loadgen.mjs on CPU 1.
#
#   bash bench/profile.sh [--servers 4] [--mget 100] [--pipeline 1] [--get-ratio 1] [--value-size 100]
#                         [--duration 6] [--cpu-prof | --perf | --strace]
#
# Prints the load generator's req/s and p99 and mcrelay's CPU microseconds per request over a 3 s window
# (utime+stime from /proc; with --perf that includes perf's sampling overhead). --cpu-prof writes a V8
# profile to bench/results/tmp/ (open it in Chrome DevTools); --perf records `perf record -g` with
# node --perf-basic-prof and prints the top symbols.
# On a core shared with the backends, --cpu-prof (a wall-clock sampler) charges time the process spent
# preempted to whatever function was running; perf counts CPU time only, so its shares are the ones to
# trust here. Needs a built tree (npm run build), memcached, taskset, and perf for --perf.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tmp="$here/results/tmp"
mkdir -p "$tmp"

servers=4 mget=100 pipeline=1 ratio=1 vsize=100 duration=6 mode=plain
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) servers=$2; shift 2 ;;
    --mget) mget=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --get-ratio) ratio=$2; shift 2 ;;
    --value-size) vsize=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --cpu-prof) mode=cpu-prof; shift ;;
    --perf) mode=perf; shift ;;
    --strace) mode=strace; shift ;;
    *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$duration" -ge 5 ] || { echo "profile.sh: --duration must be >= 5 (3 s window after 2 s)" >&2; exit 2; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM PIPE

list=""
for _ in $(seq 1 "$servers"); do
  p=$(free_port)
  taskset -c 0 memcached -u root -l 127.0.0.1 -p "$p" -t 1 -U 0 -m 1024 -c 4096 &
  pids+=($!)
  list="$list\"127.0.0.1:$p\","
done
echo "{\"pools\":{\"A\":{\"servers\":[${list%,}]}},\"route\":\"PoolRoute|A\"}" > "$tmp/profile-config.json"

port=$(free_port)
flags=()
case "$mode" in
  cpu-prof) flags=(--cpu-prof "--cpu-prof-dir=$tmp") ;;
  perf) flags=(--perf-basic-prof) ;;
  *) flags=(--no-warnings) ;;
esac
flags+=(--initial-old-space-size=64) # as every launcher ships it (see src/cli.ts)
# From results/tmp: --perf-basic-prof also writes V8 log files into the working directory.
(cd "$tmp" && exec taskset -c 0 node "${flags[@]}" "$root/dist/cli.js" --config "file:$tmp/profile-config.json" \
  -p "$port" --listen-addresses 127.0.0.1 > "$tmp/profile-mcrelay.log" 2>&1) &
relay=$!
pids+=("$relay")
for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$relay/stat"; }
# Requests mcrelay has sent so far (its own `stats` counter), for per-request syscall counts.
sent() { node -e 'const s=require("net").connect(+process.argv[1],"127.0.0.1",()=>s.write("stats count\r\n"));let b="";s.on("data",(d)=>{b+=d;if(b.includes("END\r\n")){const m=/STAT request_sent_count (\d+)/.exec(b);console.log(m?m[1]:0);s.destroy();}});' "$port"; }
(
  sleep 2
  a=$(ticks); t0=$(date +%s.%N)
  if [ "$mode" = perf ]; then perf record -F 2000 -g -p "$relay" -o "$tmp/perf.data" -- sleep 3 > /dev/null 2>&1
  elif [ "$mode" = strace ]; then
    s0=$(sent); timeout -s INT 3 strace -c -f -p "$relay" -o "$tmp/strace.txt" > /dev/null 2>&1 || true; s1=$(sent)
    echo "$((s1 - s0))" > "$tmp/profile-sent"
  else sleep 3; fi
  b=$(ticks); t1=$(date +%s.%N)
  echo "$((b - a)) $t0 $t1" > "$tmp/profile-ticks"
) &
sampler=$!

out=$(taskset -c 1 node "$here/loadgen.mjs" --port "$port" --conns 50 --mget "$mget" --pipeline "$pipeline" \
  --get-ratio "$ratio" --value-size "$vsize" --duration "$duration" --warmup 1 | grep opsPerSec)
wait "$sampler"
hz=$(getconf CLK_TCK)
node -e '
  const r = JSON.parse(process.argv[1]); const [ticks, t0, t1] = process.argv[2].split(" ").map(Number);
  const cpuS = ticks / Number(process.argv[3]); const wall = t1 - t0;
  console.log(`req/s ${Math.round(r.opsPerSec)}  p99 ${r.latencyUs.p99} us  mcrelay CPU ${(cpuS / wall * 100).toFixed(0)}%  ` +
    `${(cpuS * 1e6 / (r.opsPerSec * wall)).toFixed(1)} us/request`);
' "$out" "$(cat "$tmp/profile-ticks")" "$hz"

kill -INT "$relay" 2>/dev/null || true
sleep 1.5
if [ "$mode" = perf ]; then
  perf report -i "$tmp/perf.data" --no-children --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
  echo "CPU by part (perf samples of mcrelay, grouped by bench/perf-budget.mjs):"
  perf report -i "$tmp/perf.data" --no-children --sort dso,sym -g none 2>/dev/null | node "$here/perf-budget.mjs"
fi
if [ "$mode" = strace ]; then
  # Syscalls per request over the 3 s window (strace slows the process; counts, not times, are the point).
  node -e '
    const lines = require("fs").readFileSync(process.argv[2], "utf8").split("\n");
    const reqs = Number(process.argv[3]); console.log(`${reqs} requests in the traced window`);
    for (const l of lines) { const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(l); if (m && m[2] !== "total") console.log(`${m[2].padEnd(16)} ${(Number(m[1]) / reqs).toFixed(3)} per request`); }
  ' "$out" "$tmp/strace.txt" "$(cat "$tmp/profile-sent")"
fi
if [ "$mode" = cpu-prof ]; then
  prof=$(ls -1t "$tmp"/*.cpuprofile | head -1)
  echo "$prof"
  # Self time per function (samples whose leaf it is), top 20; (idle) is time waiting in epoll.
  node -e '
    const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < p.samples.length; i++) {
      const n = byId.get(p.samples[i]); const f = n.callFrame;
      const name = `${f.functionName || "(anonymous)"} ${f.url ? f.url.replace(/^.*\/(dist|node:)/, "$1") + ":" + (f.lineNumber + 1) : ""}`.trim();
      self.set(name, (self.get(name) ?? 0) + 1);
    }
    const total = p.samples.length;
    [...self].sort((a, b) => b[1] - a[1]).slice(0, 20).forEach(([k, v]) => console.log(`${(100 * v / total).toFixed(1).padStart(6)} %  ${k}`));
  ' "$prof"
fi
