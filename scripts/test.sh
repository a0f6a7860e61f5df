#!/usr/bin/env bash
# Whole test suite: Rust engine tests, pytest against the installed release wheel, and an
# NVRTC compile of every CUDA kernel. Runs every step; exits non-zero if any step failed.
# Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "[test] setup failed" >&2; exit 1; }

failed=()
step() {
    local name=$1; shift
    echo "[test] == $name: $*"
    local t0=$(date +%s) rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        failed+=("$name (exit $rc)")
        echo "[test] FAILED $name (exit $rc, $(( $(date +%s) - t0 ))s)"
    else
        echo "[test] ok $name ($(( $(date +%s) - t0 ))s)"
    fi
}

# Lints: clippy over every Rust target, ruff over the package and the tests (pyproject.toml).
step "clippy" cargo clippy -q --workspace --all-targets -- -D warnings
step "ruff" .venv/bin/ruff check python tests scripts benches
# The engine's Rust tests, in the release profile and with the Python crate selected too, so
# that the dependency graph (features included) is the one the wheel was just built with and
# cargo reuses its artifacts instead of compiling everything a second time. This also builds
# the examples.
step "cargo test" cargo test --release -q -p ferrotorch -p ferrotorch-python
# The engine used from Rust alone: fit a small MLP with autograd + Adam (exits non-zero unless it converges).
step "rust example" target/release/examples/fit_mlp
# A state dict written by PyTorch (tests/fixtures/checkpoints) run from Rust: exits non-zero unless it
# reproduces PyTorch's outputs.
step "rust checkpoint example" target/release/examples/load_state_dict
# From the repo root (not tests/), so `import ferrotorch` finds the installed wheel, not python/.
# tests/cuda_mock loads the mock driver into its process: it runs in the CUDA-runtime step.
step "pytest" .venv/bin/python -m pytest tests -q -p no:cacheprovider --ignore=tests/cuda_mock "$@"
step "cuda kernels (NVRTC)" .venv/bin/python scripts/check_cuda_kernels.py
# The CUDA runtime end to end on the mock driver (tests/device with its cuda half running).
step "cuda runtime (mock driver)" bash scripts/test_cuda_mock.sh

if [ "${#failed[@]}" -ne 0 ]; then
    echo "[test] failed steps: ${failed[*]}"
    exit 1
fi
echo "[test] all steps passed"
