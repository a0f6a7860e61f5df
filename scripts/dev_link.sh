#!/usr/bin/env bash
# Developer convenience (not part of the two commands): put the installed wheel's compiled
# `_C` extension next to the live Python sources, so
#   PYTHONPATH=python .venv/bin/python -m pytest tests/nn
# tests edits to python/ferrotorch without rebuilding the wheel. The copy is gitignored and
# setup.sh removes it before building, so it never leaks into a wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
# A copy placed while maturin packs the wheel could end up inside it: wait for the build.
while pgrep -f "maturin build" >/dev/null; do sleep 5; done
so=$(ls .venv/lib/python3*/site-packages/ferrotorch/_C*.so)
cp -f "$so" python/ferrotorch/
echo "linked $(basename "$so") into python/ferrotorch/"
