"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters,
checked against NumPy float64."""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                                 vector_to_parameters)


def np_(t):
    return t.detach().numpy().copy()


def params_with_grads(grads, dtype=torch.float64):
    """Parameters whose .grad are exactly the given NumPy arrays."""
    out = []
    for g in grads:
        p = nn.Parameter(torch.zeros(*g.shape, dtype=dtype))
        p.grad = torch.tensor(g, dtype=dtype)
        out.append(p)
    return out


def np_total_norm(grads, norm_type):
    flat = np.concatenate([g.ravel() for g in grads])
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1.0 / norm_type)


GRADS = [np.array([[3.0, -4.0], [1.0, 2.0]]), np.array([0.5, -6.0, 2.5])]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clip_grad_norm_clips_against_numpy(norm_type):
    params = params_with_grads(GRADS)
    total_ref = np_total_norm(GRADS, norm_type)
    max_norm = 1.5
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert isinstance(total, torch.Tensor) and total.dim() == 0 and total.dtype == torch.float64
    np.testing.assert_allclose(float(total), total_ref, rtol=1e-12)
    coef = max_norm / (total_ref + 1e-6)
    for p, g in zip(params, GRADS):
        np.testing.assert_allclose(np_(p.grad), g * coef, rtol=1e-12)
    # after clipping the gradients' norm is max_norm (up to the 1e-6 guard)
    new = [np_(p.grad) for p in params]
    np.testing.assert_allclose(np_total_norm(new, norm_type), max_norm, rtol=1e-5)


def test_clip_grad_norm_below_threshold_unchanged():
    params = params_with_grads(GRADS)
    total = clip_grad_norm_(params, max_norm=100.0)
    np.testing.assert_allclose(float(total), np_total_norm(GRADS, 2.0), rtol=1e-12)
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(np_(p.grad), g)


def test_clip_grad_norm_single_tensor_generator_and_missing_grads():
    g = np.array([6.0, 8.0])
    (p,) = params_with_grads([g])
    total = clip_grad_norm_(p, 5.0)  # a single tensor is accepted
    np.testing.assert_allclose(float(total), 10.0, rtol=1e-12)
    np.testing.assert_allclose(np_(p.grad), g * 5.0 / (10.0 + 1e-6), rtol=1e-12)
    no_grad = nn.Parameter(torch.ones(3))
    params = params_with_grads(GRADS) + [no_grad]
    total = clip_grad_norm_((q for q in params), 1.0)  # a generator works, grads of None are skipped
    np.testing.assert_allclose(float(total), np_total_norm(GRADS, 2.0), rtol=1e-12)
    assert no_grad.grad is None
    zero = clip_grad_norm_([nn.Parameter(torch.ones(2))], 1.0)
    assert float(zero) == 0.0


def test_clip_grad_norm_float32_and_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    model(torch.randn(5, 4)).pow(2).sum().backward()
    grads = [np_(p.grad).astype(np.float64) for p in model.parameters()]
    total = clip_grad_norm_(model.parameters(), 0.1)
    assert total.dtype == torch.float32
    ref = np_total_norm(grads, 2.0)
    np.testing.assert_allclose(float(total), ref, rtol=1e-5)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(np_(p.grad), g * 0.1 / (ref + 1e-6), rtol=1e-5, atol=1e-8)


def test_clip_grad_norm_nonfinite():
    params = params_with_grads([np.array([1.0, math.nan]), np.array([2.0])])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(np_(params[1].grad), [2.0])  # untouched on error
    params = params_with_grads([np.array([1.0, math.inf])])
    total = clip_grad_norm_(params, 1.0)  # default: no error, norm is inf
    assert math.isinf(float(total))


def test_clip_grad_value():
    g = [np.array([[-3.0, 0.2], [0.9, 5.0]]), np.array([-0.4, 1.2])]
    params = params_with_grads(g)
    assert clip_grad_value_(params, 1.0) is None
    for p, ref in zip(params, g):
        np.testing.assert_array_equal(np_(p.grad), np.clip(ref, -1.0, 1.0))
    (p,) = params_with_grads([np.array([2.0, -2.0])])
    clip_grad_value_(p, 0.5)
    np.testing.assert_array_equal(np_(p.grad), [0.5, -0.5])


def test_parameters_to_vector_and_back():
    torch.manual_seed(1)
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    ref = np.concatenate([np_(lin.weight).ravel(), np_(lin.bias)])
    assert vec.shape == (8,)
    np.testing.assert_array_equal(np_(vec), ref)
    # the vector is differentiable with respect to the parameters
    vec.sum().backward()
    np.testing.assert_array_equal(np_(lin.weight.grad), np.ones((2, 3)))

    new = torch.arange(8, dtype=torch.float32)
    weight = lin.weight
    vector_to_parameters(new, lin.parameters())
    assert lin.weight is weight  # same Parameter object, new data
    np.testing.assert_array_equal(np_(lin.weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(np_(lin.bias), [6.0, 7.0])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], lin.parameters())


def test_clip_grad_norm_mixed_dtypes():
    p32 = nn.Parameter(torch.zeros(2))
    p32.grad = torch.tensor([3.0, 0.0])
    p64 = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    p64.grad = torch.tensor([4.0], dtype=torch.float64)
    total = clip_grad_norm_([p32, p64], 1.0)
    np.testing.assert_allclose(float(total), 5.0, rtol=1e-6)
    assert p32.grad.dtype == torch.float32 and p64.grad.dtype == torch.float64  # dtypes kept
    np.testing.assert_allclose(np_(p32.grad), [3.0 / (5.0 + 1e-6), 0.0], rtol=1e-6)
    np.testing.assert_allclose(np_(p64.grad), [4.0 / (5.0 + 1e-6)], rtol=1e-6)
