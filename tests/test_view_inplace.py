"""In-place view ops (squeeze_/unsqueeze_/t_/transpose_/swapaxes_/swapdims_/as_strided_,
resize_/resize_as_): the tensor itself becomes the view, sharing storage, with the view's
autograd history. References: NumPy's reshape/transpose/as_strided on the same data."""

import numpy as np
import pytest
import ferrotorch as torch

from _helpers import make, to_np


def _same_storage(a, b):
    return a.data_ptr() - a.storage_offset() * a.element_size() == b.data_ptr() - b.storage_offset() * b.element_size()


CASES = [
    ("unsqueeze_", (0,), lambda a: a[None]),
    ("unsqueeze_", (-1,), lambda a: a[..., None]),
    ("squeeze_", (), lambda a: a.squeeze()),
    ("squeeze_", (1,), lambda a: a.squeeze(1)),
    ("t_", (), lambda a: a.T),
    ("transpose_", (0, 2), lambda a: np.swapaxes(a, 0, 2)),
    ("swapaxes_", (0, 1), lambda a: np.swapaxes(a, 0, 1)),
    ("swapdims_", (2, 0), lambda a: np.swapaxes(a, 2, 0)),
]


@pytest.mark.parametrize("name,args,ref", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_becomes_the_view(name, args, ref):
    shape = (3, 4) if name == "t_" else (2, 1, 3)
    a, x = make(shape, "float32", seed=1)
    base = x
    x = x.view(x.shape)  # a view, so writes through x must reach `base`
    v0 = x._version
    out = getattr(x, name)(*args)
    assert out is x
    expect = ref(a)
    assert tuple(x.shape) == expect.shape
    np.testing.assert_array_equal(to_np(x), expect)
    assert _same_storage(x, base)
    assert x._version > v0
    # Writes through the reshaped tensor land in the original storage.
    x.mul_(2)
    np.testing.assert_array_equal(to_np(base), a * 2)


def test_as_strided_():
    a = np.arange(10.0)
    x = torch.tensor(a)
    x.as_strided_((3, 2), (2, 3), 1)
    np.testing.assert_array_equal(to_np(x), np.lib.stride_tricks.as_strided(a[1:], (3, 2), (16, 24)))
    assert x.stride() == (2, 3) and x.storage_offset() == 1


def test_nonleaf_gradient_flows_through():
    a, w = make((2, 3), "float64", seed=2)
    w.requires_grad_(True)
    y = w * 3
    y.unsqueeze_(0)
    assert tuple(y.shape) == (1, 2, 3) and y.grad_fn is not None
    y.t_() if y.dim() == 2 else y.transpose_(0, 2)  # (3, 2, 1)
    (y * torch.tensor(np.arange(6.0).reshape(3, 2, 1))).sum().backward()
    # d/dw of sum(3 w^T-ish * c): c rearranged back to w's layout, times 3.
    c = np.arange(6.0).reshape(3, 2, 1).transpose(2, 1, 0)[0]
    np.testing.assert_allclose(to_np(w.grad), 3 * c)


def test_leaf_requiring_grad_raises():
    w = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.unsqueeze_(0)
    assert tuple(w.shape) == (2, 3)


def test_bad_dim_leaves_tensor_intact():
    a, x = make((2, 3), "float32")
    with pytest.raises(IndexError):
        x.unsqueeze_(5)
    with pytest.raises(IndexError):
        x.transpose_(0, 3)
    assert tuple(x.shape) == (2, 3)
    np.testing.assert_array_equal(to_np(x), a)


# ---- resize_ ----------------------------------------------------------------------------------
def test_resize_shrink_keeps_storage_and_memory_order():
    a = np.arange(12.0, dtype=np.float32)
    x = torch.tensor(a)
    p = x.data_ptr()
    x.resize_(2, 3)
    assert x.data_ptr() == p and x.is_contiguous()
    np.testing.assert_array_equal(to_np(x), a[:6].reshape(2, 3))
    x.resize_((3, 4))  # back within the same storage: the old elements reappear
    np.testing.assert_array_equal(to_np(x), a.reshape(3, 4))


def test_resize_grow_preserves_old_elements():
    a = np.arange(4, dtype=np.int64)
    x = torch.tensor(a)
    x.resize_(3, 3)
    assert tuple(x.shape) == (3, 3) and x.dtype == torch.int64
    np.testing.assert_array_equal(to_np(x).reshape(-1)[:4], a)


def test_resize_keeps_offset_and_resize_as():
    base = torch.arange(6.0)
    x = base[1:3]
    x.resize_(2, 2)
    assert x.storage_offset() == 1
    np.testing.assert_array_equal(to_np(x), np.arange(1.0, 5.0).reshape(2, 2))
    y = torch.zeros(5)
    y.resize_as_(torch.empty(2, 2))
    assert tuple(y.shape) == (2, 2)


def test_resize_errors():
    x = torch.ones(3)
    with pytest.raises(RuntimeError):
        x.resize_(-1, 2)
    with pytest.raises(TypeError):
        x.resize_(2.0)
    assert tuple(x.shape) == (3,)
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        w.resize_(3)


def test_resize_grow_detaches_from_old_base():
    # Once resize_ moved the tensor to a larger storage it is no longer a view of `base`:
    # writes (and autograd through them) stay on the new storage.
    base = torch.arange(4.0)
    x = base[1:3]
    x.resize_(5)
    np.testing.assert_array_equal(to_np(x)[:2], [1.0, 2.0])
    w = torch.ones(5, requires_grad=True)
    x.add_(w)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(to_np(w.grad), np.full(5, 3.0))
    np.testing.assert_array_equal(to_np(base), np.arange(4.0))
