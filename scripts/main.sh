#!/usr/bin/env bash
# Set up (.venv + release wheel) and run the main job: train a digit classifier on the
# UCI 8x8 digits shipped in data/ (examples/train_digits.py; arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/train_digits.py "$@"
