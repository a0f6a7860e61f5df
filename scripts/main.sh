#!/usr/bin/env bash
# Set up (.venv + release wheel) and run the main job: a tour of ferrotorch's tensor API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/tensor_tour.py "$@"
