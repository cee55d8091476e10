#!/usr/bin/env bash
# Where two mcrelay configurations differ in CPU, measured at the same moment: relays A and B (each with its
# own memcached) on CPU 0, a load generator for each on CPU 1, `perf record` over both relays while both
# serve. Prints each side's req/s, CPU samples per 100k requests by part (kernel, mcrelay's JS, Node's JS,
# builtins, V8, Node) and the symbols whose samples per request grew most from A to B.
#
#   bash bench/perf-pair.sh --a "<mcrelay flags>" --b "<mcrelay flags>" [--pipeline 8] [--seconds 6] [--loadgen "<loadgen.mjs flags>"]
#                           [--node-a "<node flags>"] [--node-b "<node flags>"]
#
# e.g. what observability costs at depth 8 (A = every feature off, B = the defaults):
#   bash bench/perf-pair.sh --a "--no-latency-histograms --no-destination-stats --no-prefix-stats --no-hot-keys --log-sample-rate 0" --b ""
# Running A against itself (the same flags twice) shows the method's noise. Needs a built tree, memcached,
# taskset and perf; nothing leaves 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tmp="$here/results/tmp/perf-pair"
mkdir -p "$tmp"

flagsA="" flagsB="" nodeA="" nodeB="" pipeline=8 seconds=6 lgflags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --a) flagsA=$2; shift 2 ;;
    --b) flagsB=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --loadgen) lgflags=$2; shift 2 ;;
    --node-a) nodeA=$2; shift 2 ;;
    --node-b) nodeB=$2; shift 2 ;;
    *) echo "perf-pair.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not up" >&2; return 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

relay() { # side flags node-flags -> sets PORT and PID
  local mp rp
  mp=$(free_port)
  taskset -c 0 memcached -u nobody -l 127.0.0.1 -p "$mp" -U 0 -m 256 -t 1 & pids+=($!)
  wait_port "$mp"
  rp=$(free_port)
  # shellcheck disable=SC2086 # the flags are a word list
  (cd "$tmp" && exec taskset -c 0 node --perf-basic-prof --initial-old-space-size=64 $3 "$root/dist/cli.js" \
    --config-str "{\"pools\":{\"A\":{\"servers\":[\"127.0.0.1:$mp\"]}},\"route\":\"PoolRoute|A\"}" \
    -p "$rp" --listen-addresses 127.0.0.1 $2 > "$tmp/relay-$1.log" 2>&1) & PID=$!
  pids+=("$PID")
  wait_port "$rp"
  PORT=$rp
}
relay A "$flagsA" "$nodeA"; portA=$PORT; pidA=$PID
relay B "$flagsB" "$nodeB"; portB=$PORT; pidB=$PID

total=$((seconds + 5))
for side in A B; do
  p=$portA; [ "$side" = B ] && p=$portB
  # shellcheck disable=SC2086 # the flags are a word list
  taskset -c 1 node "$here/loadgen.mjs" --port "$p" --conns 50 --pipeline "$pipeline" --duration "$total" --warmup 1 $lgflags > "$tmp/load-$side.json" &
  pids+=($!)
done
sleep 3
perf record -F 2999 -g -p "$pidA,$pidB" -o "$tmp/perf.data" -- sleep "$seconds" > /dev/null 2>&1
wait "${pids[-1]}" "${pids[-2]}"
perf report -i "$tmp/perf.data" --no-children --sort pid,sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > "$tmp/by-symbol.txt"

node - "$tmp" "$pidA" "$pidB" <<'EOF'
const fs = require('fs');
const [dir, pidA, pidB] = process.argv.slice(2);
const rate = (side) => JSON.parse(fs.readFileSync(`${dir}/load-${side}.json`, 'utf8').trim().split('\n').pop()).opsPerSec;
const r = { [pidA]: rate('A'), [pidB]: rate('B') };
const bySym = new Map();
const byPart = new Map();
const add = (m, k, pid, v) => { const e = m.get(k) ?? { [pidA]: 0, [pidB]: 0 }; e[pid] += v; m.set(k, e); };
for (const line of fs.readFileSync(`${dir}/by-symbol.txt`, 'utf8').split('\n')) {
  const m = /^\s*([\d.]+)%\s+(\d+):\S+\s+\[(.)\]\s+(.*)$/.exec(line);
  if (!m || !(m[2] in r)) continue;
  const [, share, pid, kind, raw] = m;
  const sym = raw.replace(/file:\/\/\/\S*\/dist\//, '').trim();
  // Samples per 100k requests (a sample's share of the window over the side's request rate).
  const v = (Number(share) / r[pid]) * 1e5;
  add(bySym, sym, pid, v);
  const part = kind === 'k' ? 'kernel' : sym.startsWith('JS:') ? (sym.includes('node:') ? 'JS node' : 'JS mcrelay')
    : sym.startsWith('Builtins_') ? 'builtins' : sym.startsWith('v8::') ? 'V8 C++' : sym.startsWith('node::') ? 'Node C++' : 'other';
  add(byPart, part, pid, v);
}
console.log(`req/s A ${Math.round(r[pidA])}, B ${Math.round(r[pidB])}: B is ${((1 - r[pidB] / r[pidA]) * 100).toFixed(1)} % slower`);
console.log('part          A/100k   B/100k   B - A');
let a = 0, b = 0;
for (const [k, v] of byPart) { a += v[pidA]; b += v[pidB]; console.log(`${k.padEnd(12)} ${v[pidA].toFixed(2).padStart(7)} ${v[pidB].toFixed(2).padStart(8)} ${(v[pidB] - v[pidA]).toFixed(2).padStart(7)}`); }
console.log(`${'total'.padEnd(12)} ${a.toFixed(2).padStart(7)} ${b.toFixed(2).padStart(8)}   B/A ${(b / a).toFixed(3)}`);
console.log('grew most (samples per 100k requests, B - A):');
[...bySym].map(([k, v]) => [k, v[pidB] - v[pidA]]).sort((x, y) => y[1] - x[1]).slice(0, 12)
  .forEach(([k, d]) => console.log(`${d.toFixed(3).padStart(8)}  ${k.slice(0, 100)}`));
EOF
