# Sourced by run.sh / test.sh: create .venv and install Backhaul (editable) into it.
# Usage: . scripts/venv.sh [extras]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BACKHAUL_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
STAMP="$VENV/.backhaul-installed-${1:-base}"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ] || [ "$ROOT/setup.py" -nt "$STAMP" ]; then
  echo "==> installing backhaul${1:+[$1]}"
  "$VENV/bin/pip" install -q -e "$ROOT${1:+[$1]}" 2>&1 | grep -v -E "^(WARNING: Location|  )" || true
  "$VENV/bin/python" -c "import backhaul.core" && touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
