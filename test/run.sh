#!/usr/bin/env bash
# mcrelay's test command (the README's second command, and what CI runs).
# On a fresh machine it installs what the tests need: Debian's memcached, nutcracker,
# libmemcached-tools, dnsmasq-base, etcd-server, etcd-client and chromium (integration peers; chromium renders the status page), then the npm dependencies; then it builds and runs vitest.
# Its last line is "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
command -v nutcracker >/dev/null 2>&1 || missing+=(nutcracker)
command -v memccapable >/dev/null 2>&1 || missing+=(libmemcached-tools)
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || {
    echo "could not install ${missing[*]}: integration tests need them" >&2; exit 2; }
fi
if [ -L node_modules ]; then
  # A worktree sharing another checkout's node_modules: npm ci would empty that checkout's copy.
  echo "node_modules is a symlink: not running npm ci (run it where it points to if the lock changed)"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund || exit 2
fi
npm run -s build || exit 2

report=".vitest-report.json"
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  } catch (e) { console.log("tests: 0 passed, 1 failed"); }
' "$report"
exit $rc
