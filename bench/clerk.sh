#!/usr/bin/env bash
# Clerk session-token verifications per second (RS256, 2048-bit key, a whole
# verify: decode, algorithm, signature, claims) beside OpenSSL's own figure
# for the RSA verify alone, `openssl speed rsa2048` (the floor), measured on
# this machine in the same run: the floor before and after, averaged.
#   bench/clerk.sh [SECONDS]        (needs build/release: cmake --preset release && cmake --build --preset release)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
openssl_verify_per_second() {
  openssl speed -seconds "$seconds" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}'
}
before=$(openssl_verify_per_second)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/release/bench/icp_bench --benchmark_filter='^BM_ClerkVerify_RS256$' \
  --benchmark_min_time="$seconds" --benchmark_out="$out" --benchmark_out_format=json >/dev/null 2>&1
ours=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["benchmarks"][0]["items_per_second"])' "$out")
after=$(openssl_verify_per_second)
python3 - "$before" "$after" "$ours" <<'PY'
import sys
before, after, ours = map(float, sys.argv[1:])
floor = (before + after) / 2
print(f"openssl speed rsa2048 verify/s: {before:,.0f} before, {after:,.0f} after, {floor:,.0f} mean")
print(f"ClerkAuthenticator::verify/s:   {ours:,.0f}")
print(f"ratio: {ours / floor:.0%} of the floor (target: at least 80%)")
PY
