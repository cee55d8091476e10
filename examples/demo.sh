#!/usr/bin/env bash
# Start mcrelay on a working demo topology: three local memcached servers behind mcrelay on
# 127.0.0.1:11211 (override with PORT=...), with the admin listener and its status page on a free port
# (ADMIN_PORT=... to choose it). Installs what is missing on a fresh Debian machine.
# Stop with Ctrl-C; everything it started is stopped with it.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-11211}"
CONFIG_TEMPLATE="${CONFIG:-examples/demo.yaml}"

if ! command -v memcached >/dev/null 2>&1; then
  echo "installing memcached (apt-get)"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq memcached >/dev/null
fi
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
npm run -s build

workdir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

config="$workdir/$(basename "$CONFIG_TEMPLATE")"
cp "$CONFIG_TEMPLATE" "$config"
user_flag=(); [ "$(id -u)" = 0 ] && user_flag=(-u root)
for placeholder in 11311 11312 11313; do
  p="$(free_port)"
  memcached "${user_flag[@]}" -l 127.0.0.1 -p "$p" -U 0 -m 64 &
  pids+=($!)
  sed -i "s/127\.0\.0\.1:$placeholder\b/127.0.0.1:$p/g" "$config"
  echo "memcached on 127.0.0.1:$p"
done
sleep 0.3
ADMIN_PORT="${ADMIN_PORT:-$(free_port)}"
echo "mcrelay on 127.0.0.1:$PORT with $CONFIG_TEMPLATE (try: printf 'set k 0 0 2\\r\\nhi\\r\\nget k\\r\\n' | nc -q1 127.0.0.1 $PORT)"
echo "status page: http://127.0.0.1:$ADMIN_PORT/  (metrics: /metrics, health: /healthz)"
node --initial-old-space-size=64 dist/cli.js --config "file:$config" -p "$PORT" --admin-port "$ADMIN_PORT" "$@" &
pids+=($!)
wait "${pids[-1]}"
