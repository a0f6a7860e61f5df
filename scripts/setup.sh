#!/usr/bin/env bash
# Idempotent setup: .venv with the build/test tools, then a release wheel of ferrotorch
# built with maturin and installed into .venv.
#   bash scripts/setup.sh            # venv + tools + build + install
#   FT_SKIP_BUILD=1 bash scripts/setup.sh   # venv + tools only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '[setup] %s\n' "$*"; }

# 1. virtual environment -------------------------------------------------------------------
if [ ! -x "$PY" ]; then
    say "creating .venv ($(python3 --version 2>&1))"
    python3 -m venv "$VENV"
fi

# 2. tools (skipped when every pinned requirement is already installed) ---------------------
# Pillow: examples/neural_style.py and its test (tests/examples/test_neural_style.py).
REQS=(maturin==1.16.0 numpy pytest==9.2.0 hypothesis==6.170.15 tqdm==4.70.1 ruff==0.14.0 pillow==13.0.0)
if "$PY" - "${REQS[@]}" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for req in sys.argv[1:]:
    name, _, want = req.partition("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if want and have != want:
        sys.exit(1)
PYEOF
then
    say "tools already installed"
else
    say "installing ${REQS[*]}"
    "$PY" -m pip install -q --disable-pip-version-check "${REQS[@]}"
fi

if [ "${FT_SKIP_BUILD:-0}" = "1" ]; then
    say "FT_SKIP_BUILD=1: not building the wheel"
    exit 0
fi

# 3. release wheel -----------------------------------------------------------------------------
WHEELS="$ROOT/target/wheels"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/ferrotorch-*.whl
# A dev copy of the extension (scripts/dev_link.sh) must not end up in the wheel.
rm -f "$ROOT"/python/ferrotorch/_C*.so
say "building release wheel (maturin build --release)"
t0=$(date +%s)
"$VENV/bin/maturin" build --release -i "$PY" -o "$WHEELS" --quiet
shopt -s nullglob
whl=("$WHEELS"/ferrotorch-*.whl)
if [ "${#whl[@]}" -ne 1 ]; then
    say "error: expected one wheel in target/wheels, found ${#whl[@]}" >&2
    exit 1
fi
say "built $(basename "${whl[0]}") in $(( $(date +%s) - t0 ))s"

# 4. install -----------------------------------------------------------------------------------
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "${whl[0]}"
say "installed: $(cd /tmp && "$PY" -c 'import ferrotorch, os; print(os.path.dirname(ferrotorch.__file__))')"
