#!/usr/bin/env bash
# The test command: install and start the real peers, install Backhaul with its test
# dependencies, then run the whole suite against PostgreSQL, Redis and Chromium.
# Extra arguments go to pytest (e.g. scripts/test.sh -k jobs). BACKHAUL_TEST_SQLITE=1 runs
# the suite on SQLite instead of PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/test-peers.sh
. scripts/venv.sh test
if [ "${BACKHAUL_TEST_SQLITE:-}" = 1 ]; then unset BACKHAUL_TEST_DATABASE_URL; fi
export BACKHAUL_TEST_REQUIRE_PEERS="${BACKHAUL_TEST_REQUIRE_PEERS:-1}"
echo "==> database: ${BACKHAUL_TEST_DATABASE_URL:-sqlite}"
exec python -m pytest "$@"
