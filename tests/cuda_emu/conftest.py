"""Shared fixture of the CUDA CPU-emulation tests: the emulation library (built once, cached)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcuda_emu as E  # noqa: E402


@pytest.fixture(scope="module")
def emu():
    gxx = E.find_gxx()
    if gxx is None:
        pytest.skip("g++ not found: the CUDA CPU-emulation tests need g++ (C++20)")
    return E.build(gxx)
