#!/usr/bin/env bash
# Where icp-server's CPU goes under compare.py's load: the release server on
# CPU 1, wrk on CPU 0 with the peer's load script, `perf record -g` on the
# server for the run, then a flame graph and the top symbols.
#   bench/http/profile.sh [SECONDS] [OUT_DIR] [-- EXTRA SERVER FLAGS...]
# Needs what compare.py needs (run it once first: it seeds /tmp/icp-http-bench)
# and linux-perf. Writes OUT_DIR/perf.data, OUT_DIR/flame.svg, OUT_DIR/top.txt.
set -euo pipefail
seconds=${1:-10}
out=${2:-/tmp/icp-profile}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/icp-http-bench
server=$root/build/release/apps/icp-server/icp-server
[ -x "$server" ] || { echo "profile.sh: build the release preset first" >&2; exit 1; }
[ -f "$work/icp-server.db" ] || { echo "profile.sh: run bench/http/compare.py once first" >&2; exit 1; }
mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
taskset -c 1 "$server" --db "$work/icp-server.db" --tokens "$work/peers/node-fastify/tokens.json" \
  --threads 1 --listen "127.0.0.1:$port" "$@" >/dev/null 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
WRK_IDS_DIR=$work/data WRK_CPU=0 "$work/peers/load/run-wrk.sh" 127.0.0.1 "$port" 2s 32 >/dev/null  # warm
perf record -F 999 --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "$seconds" 2>/dev/null &
perf_pid=$!
WRK_IDS_DIR=$work/data WRK_CPU=0 "$work/peers/load/run-wrk.sh" 127.0.0.1 "$port" "${seconds}s" 32 |
  grep -E "Requests/sec|RESULT_JSON" || true
wait $perf_pid
perf script -i "$out/perf.data" 2>/dev/null |
  "$root/bench/flamegraph.py" --title "icp-server under GET load ($*)" --folded "$out/folded.txt" \
    >"$out/flame.svg"
perf report -i "$out/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
  grep -E "^ +[0-9]" | head -40 >"$out/top.txt"
echo "profile.sh: $out/flame.svg, $out/top.txt"
