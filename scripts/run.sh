#!/usr/bin/env bash
# The run command: virtualenv, install, migrate the embedded SQLite database, demo data,
# a first staff login, then serve on 127.0.0.1. Safe to run again: nothing is duplicated.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
export BACKHAUL_INSTANCE_PATH="${BACKHAUL_INSTANCE_PATH:-$PWD/instance}"
backhaul db upgrade
backhaul demo load
backhaul users ensure-admin
exec backhaul run --host "${BACKHAUL_HOST:-127.0.0.1}" --port "${BACKHAUL_PORT:-5000}"
