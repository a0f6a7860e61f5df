#!/usr/bin/env bash
# The CUDA runtime end to end without a GPU: build the mock driver + cuBLAS of tests/cuda_mock
# (the real kernels of cuda/ run by the CPU emulation), check the mock itself, then run the
# device-parametrised suite tests/device with the mock as `libcuda.so`, so its cuda half runs
# (FT_REQUIRE_CUDA=1 makes it fail rather than skip if the runtime finds no device).
# Uses .venv from scripts/setup.sh; NVRTC comes from PyPI's nvidia-cuda-nvrtc (installed
# when missing, as scripts/check_cuda_kernels.py does).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
"$PY" -c "import sys; sys.path.insert(0, 'scripts'); import check_cuda_kernels as c; c.load_nvrtc()"
# The mock's self-test loads it into its own process: keep it out of the runtime run below.
"$PY" -m pytest tests/cuda_mock -q -p no:cacheprovider
dir=$("$PY" tests/cuda_mock/build_mock.py | tail -1)
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
LD_LIBRARY_PATH="$dir" FT_REQUIRE_CUDA=1 FERROTORCH_KERNEL_CACHE="$cache" \
    "$PY" -m pytest tests/device -q -p no:cacheprovider "$@"
# A driver older than NVRTC (pip's newest NVRTC on an older driver): the PTX is refused and the
# runtime must fall back to CUBINs for the device's sm_XY.
LD_LIBRARY_PATH="$dir" FT_REQUIRE_CUDA=1 FT_MOCK_CUDA_OLD_DRIVER=1 FERROTORCH_KERNEL_CACHE="$cache" \
    "$PY" -m pytest tests/device -q -p no:cacheprovider -k "cuda and (mlp_gradients or sort_gradient or required)" "$@"
