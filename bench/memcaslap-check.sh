#!/usr/bin/env bash
# Cross-check of bench/loadgen.mjs against memcaslap (libmemcached-tools) on the
# getset-p1 shape: 50 connections, get:set 9:1, 100 B values, 1 request in flight
# per connection. Target (memcached direct, or nutcracker + 1 memcached) on CPU 0,
# load generator on CPU 1. Prints req/s and the target's CPU utilisation for both
# generators. mcrelay (dist/cli.js, one-server pool) is the third target.
# Usage: bash bench/memcaslap-check.sh [seconds] [value-bytes] [rounds]   (100 = getset-p1, 102400 = value-100k)
# With rounds > 1: memcaslap only, nutcracker and mcrelay back to back in alternating order, rounds times,
# printing each round's mcrelay ÷ nutcracker (req/s and target CPU per request) and the medians: on a VM
# whose speed drifts between runs, only ratios of neighbouring runs mean anything.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
secs="${1:-5}"
tmp="$here/results/tmp"; mkdir -p "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not up" >&2; return 1; }

mport=$(port)
taskset -c 0 memcached -u root -l 127.0.0.1 -p "$mport" -t 1 -U 0 -m 1024 -c 4096 & mc=$!; pids+=("$mc")
wait_port "$mport"
nport=$(port); sport=$(port)
printf 'bench:\n  listen: 127.0.0.1:%s\n  hash: fnv1a_64\n  distribution: ketama\n  timeout: 1000\n  server_connections: 1\n  servers:\n    - 127.0.0.1:%s:1\n' "$nport" "$mport" > "$tmp/check-nutcracker.yml"
taskset -c 0 nutcracker -c "$tmp/check-nutcracker.yml" -s "$sport" -a 127.0.0.1 & nc=$!; pids+=("$nc")
wait_port "$nport"
vsize=${2:-100}
rport=$(port)
taskset -c 0 node --initial-old-space-size=64 "$here/../dist/cli.js" --config-str "{\"pools\":{\"A\":{\"servers\":[\"127.0.0.1:$mport\"]}},\"route\":\"PoolRoute|A\"}" -p "$rport" --listen-addresses 127.0.0.1 --log-level warn & rl=$!; pids+=("$rl")
wait_port "$rport"

run() { # name port targetpid cmd...
  local name=$1 p=$2 tp=$3; shift 3
  local a b out start end
  a=$(ticks "$tp"); start=$(date +%s.%N)
  out=$(timeout $((secs + 30)) taskset -c 1 "$@" 2>&1 | tail -40)
  b=$(ticks "$tp"); end=$(date +%s.%N)
  local rate
  if [[ "$name" == memcaslap* ]]; then rate=$(grep -oP 'TPS: \K[0-9]+' <<<"$out" | tail -1)
  else rate=$(grep '^{' <<<"$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(Math.round(r.opsPerSec)+" p50="+r.latencyUs.p50+"us p99="+r.latencyUs.p99+"us")})'); fi
  echo "$name: req/s=$rate target-cpu=$(awk -v t=$((b - a)) -v hz="$hz" -v s="$start" -v e="$end" 'BEGIN{printf "%.0f%%", 100*t/hz/(e-s)}') (of whole command incl. prefill/warm-up)"
}
rounds="${3:-1}"
if [ "$rounds" -gt 1 ]; then
  # One memcaslap run against port $2 (target pid $3): sets RATE (req/s) and CPUUS (target CPU µs per request).
  measure() {
    local a b out start end
    a=$(ticks "$2"); start=$(date +%s.%N)
    out=$(timeout $((secs + 30)) taskset -c 1 memcaslap -s "127.0.0.1:$1" -T 1 -c 50 -t "${secs}s" -X "$vsize" 2>&1 | tail -40)
    b=$(ticks "$2"); end=$(date +%s.%N)
    RATE=$(grep -oP 'TPS: \K[0-9]+' <<<"$out" | tail -1)
    CPUUS=$(awk -v t=$((b - a)) -v hz="$hz" -v r="$RATE" -v s="$start" -v e="$end" 'BEGIN{printf "%.2f", 1e6*t/hz/(r*(e-s))}')
  }
  thr=(); cpu=()
  for r in $(seq 1 "$rounds"); do
    order="nutcracker mcrelay"; [ $((r % 2)) -eq 0 ] && order="mcrelay nutcracker"
    for tgt in $order; do
      if [ "$tgt" = nutcracker ]; then measure "$nport" "$nc"; nr=$RATE; ncu=$CPUUS; else measure "$rport" "$rl"; mr=$RATE; mcu=$CPUUS; fi
    done
    t=$(awk -v a="$mr" -v b="$nr" 'BEGIN{printf "%.2f", a/b}'); c=$(awk -v a="$mcu" -v b="$ncu" 'BEGIN{printf "%.2f", a/b}')
    echo "round $r: nutcracker $nr req/s ${ncu} us/req, mcrelay $mr req/s ${mcu} us/req: mcrelay/nutcracker ${t}x req/s, ${c}x CPU per request"
    thr+=("$t"); cpu+=("$c")
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  echo "median over $rounds rounds (memcaslap, value $vsize B): mcrelay/nutcracker $(med "${thr[@]}")x req/s, $(med "${cpu[@]}")x CPU per request"
  exit 0
fi
for tgt in memcached nutcracker mcrelay; do
  case $tgt in memcached) p=$mport; tp=$mc ;; nutcracker) p=$nport; tp=$nc ;; *) p=$rport; tp=$rl ;; esac
  run "memcaslap  -> $tgt" "$p" "$tp" memcaslap -s "127.0.0.1:$p" -T 1 -c 50 -t "${secs}s" -X "$vsize"
  run "loadgen.mjs -> $tgt" "$p" "$tp" node "$here/loadgen.mjs" --port "$p" --conns 50 --duration "$secs" --warmup 0.5 --value-size "$vsize" --keys 10000
done
