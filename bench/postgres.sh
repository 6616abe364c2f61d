#!/usr/bin/env bash
# The PostgreSQL benchmarks beside their libpq floors, on the server that
# ICP_TEST_POSTGRES names, direct and (when ICP_TEST_PGBOUNCER_TRANSACTION
# names one) behind PgBouncer in transaction mode (scripts/with-postgres
# --pgbouncer provides both, throwaway):
#   scripts/with-postgres --pgbouncer bench/postgres.sh [google-benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ICP_TEST_POSTGRES:?run it under scripts/with-postgres, or set ICP_TEST_POSTGRES}"
ICP_BENCH_POSTGRES=$ICP_TEST_POSTGRES ICP_BENCH_PGBOUNCER=${ICP_TEST_PGBOUNCER_TRANSACTION:-} exec build/release/bench/icp_bench \
  --benchmark_filter='Postgres|PgBouncer' --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
