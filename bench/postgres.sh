#!/usr/bin/env bash
# The PostgreSQL benchmarks beside their libpq floors, on the server that
# ICP_TEST_POSTGRES names (scripts/with-postgres provides a throwaway one):
#   scripts/with-postgres bench/postgres.sh [google-benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ICP_TEST_POSTGRES:?run it under scripts/with-postgres, or set ICP_TEST_POSTGRES}"
ICP_BENCH_POSTGRES=$ICP_TEST_POSTGRES exec build/release/bench/icp_bench \
  --benchmark_filter='Postgres' --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
