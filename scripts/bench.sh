#!/usr/bin/env bash
# The benchmark command (`make bench`): start the real peers as the test command does, then
# run the benchmarks in bench/ and rewrite each one's section of bench/RESULTS.md.
# BENCH_SCALE=small (the default: a minute or two) or full (larger sizes: about ten minutes).
# Arguments go to `python -m bench`, e.g. `scripts/bench.sh graphql_list --no-write`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/test-peers.sh
. scripts/venv.sh test
export BENCH_SCALE="${BENCH_SCALE:-small}"
# each benchmark creates (and drops) its own database there, and uses private Redis queues
export BACKHAUL_BENCH_DATABASE_URL="${BACKHAUL_BENCH_DATABASE_URL:-${BACKHAUL_TEST_DATABASE_URL:-}}"
export BACKHAUL_BENCH_REDIS_URL="${BACKHAUL_BENCH_REDIS_URL:-${BACKHAUL_TEST_REDIS_URL:-}}"
echo "==> benchmarks, BENCH_SCALE=$BENCH_SCALE"
exec python -m bench "$@"
