"""The gradient-scaling kernels of cuda/optim.cu run on the CPU through tests/cuda_emu/cuda_emu.h.

* ft_amp_unscale_<f32|f64>: unscaled values against NumPy (x 1/8 is exact), the found_inf
  flag set by inf and NaN anywhere in the buffer (never reset), grid-stride coverage with
  fewer threads than elements, inv_scale == 1 leaving values untouched.
* ft_amp_update_scale: PyTorch's _amp_update_scale_ rule (backoff, growth after the
  interval, growth to inf refused) against a Python transcription of it.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcuda_emu as E  # noqa: E402,F401


@pytest.mark.parametrize("dt,T", [("f32", np.float32), ("f64", np.float64)])
def test_unscale(emu, dt, T):
    rng = np.random.default_rng(5)
    g = rng.standard_normal(1000).astype(T)
    want = g.astype(np.float64) / 8
    inv, found = np.array([0.125], np.float32), np.zeros(1, np.float32)
    emu.launch(f"ft_amp_unscale_{dt}", "pqpp", [g, g.size, inv, found], grid=2, block=32)
    np.testing.assert_array_equal(g.astype(np.float64), want)
    assert found[0] == 0.0
    for bad in (np.inf, -np.inf, np.nan):
        h = np.ones(300, T)
        h[297] = bad
        f = np.zeros(1, np.float32)
        one = np.array([1.0], np.float32)
        emu.launch(f"ft_amp_unscale_{dt}", "pqpp", [h, h.size, one, f], grid=1, block=32)
        assert f[0] == 1.0
        np.testing.assert_array_equal(h[:297], np.ones(297, T))
    # The flag is only ever set: a clean buffer after a bad one leaves it at 1.
    f = np.ones(1, np.float32)
    emu.launch(f"ft_amp_unscale_{dt}", "pqpp", [np.ones(4, T), 4, np.array([1.0], np.float32), f], grid=1, block=32)
    assert f[0] == 1.0


def ref_update(scale, tracker, found, growth, backoff, interval):
    """PyTorch's _amp_update_scale_ (aten/src/ATen/native/cuda/AmpKernels.cu), in float32."""
    scale = np.float32(scale)
    if found:
        return np.float32(scale * np.float32(backoff)), 0
    ok = tracker + 1
    if ok == interval:
        with np.errstate(over="ignore"):  # growth to inf is the case under test
            grown = np.float32(scale * np.float32(growth))
        return (grown if np.isfinite(grown) else scale), 0
    return scale, ok


@pytest.mark.parametrize("scale,tracker,found,interval", [
    (65536.0, 0, 0.0, 2000), (65536.0, 1999, 0.0, 2000), (65536.0, 5, 1.0, 2000),
    (3e38, 0, 0.0, 1), (1.0, 0, 0.0, 1), (0.5, 2, 1.0, 3)])
def test_update_scale(emu, scale, tracker, found, interval):
    s, t, f = np.array([scale], np.float32), np.array([tracker], np.int32), np.array([found], np.float32)
    emu.launch("ft_amp_update_scale", "pppddi", [s, t, f, 2.0, 0.5, interval], grid=2, block=32)
    ws, wt = ref_update(scale, tracker, found, 2.0, 0.5, interval)
    assert s[0] == ws and t[0] == wt
