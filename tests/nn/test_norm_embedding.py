"""Normalisation layers and Embedding: forward against NumPy float64 references, gradients
(gradcheck), running statistics, eval mode, parameters/buffers, reprs and PyTorch's errors."""
import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def np_(t):
    return t.detach().to(torch.float64).numpy()


def t_(a, dtype=torch.float64, requires_grad=False):
    return torch.tensor(np.asarray(a), dtype=dtype, requires_grad=requires_grad)


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ref_norm(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def chan(a, ndim):
    return np.asarray(a).reshape((1, -1) + (1,) * (ndim - 2))


def close(t, ref, dtype):
    np.testing.assert_allclose(np_(t), ref, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


# ---- layer_norm / rms_norm -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_forward(dtype):
    x, w, b = rand((4, 3, 5)), rand((3, 5), 1), rand((3, 5), 2)
    out = F.layer_norm(t_(x, dtype), (3, 5), t_(w, dtype), t_(b, dtype), eps=1e-3)
    assert out.dtype == dtype and out.shape == (4, 3, 5)
    close(out, ref_norm(x, (1, 2), 1e-3) * w + b, dtype)
    close(F.layer_norm(t_(x, dtype), [5]), ref_norm(x, (2,), 1e-5), dtype)


def test_layer_norm_non_contiguous():
    x = rand((5, 4, 6))
    xt = t_(x).transpose(0, 2)
    assert not xt.is_contiguous()
    close(F.layer_norm(xt, (5,)), ref_norm(x.transpose(2, 1, 0), (2,), 1e-5), torch.float64)


def test_layer_norm_module():
    m = nn.LayerNorm(5)
    assert repr(m) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert m.normalized_shape == (5,)
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    np.testing.assert_array_equal(np_(m.weight), np.ones(5))
    np.testing.assert_array_equal(np_(m.bias), np.zeros(5))
    x = rand((2, 5))
    np.testing.assert_allclose(np_(m(t_(x, torch.float32))), ref_norm(x, (1,), 1e-5), atol=1e-5)
    assert repr(nn.LayerNorm([2, 3], elementwise_affine=False)) == \
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"
    nb = nn.LayerNorm(4, bias=False)
    assert nb.bias is None and list(nb.state_dict().keys()) == ["weight"]
    assert nn.LayerNorm(3, dtype=torch.float64).weight.dtype == torch.float64


def test_layer_norm_gradcheck():
    x = t_(rand((3, 4)), requires_grad=True)
    w = t_(rand(4, 1), requires_grad=True)
    b = t_(rand(4, 2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))


def test_layer_norm_errors():
    x = torch.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        F.layer_norm(x, (5,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        F.layer_norm(x, (4,), weight=torch.ones(3))
    with pytest.raises(TypeError, match="must be tuple of ints"):
        F.layer_norm(x, 4)
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        F.layer_norm(x, ())


@pytest.mark.parametrize("dtype", DTYPES)
def test_rms_norm(dtype):
    x, w = rand((3, 2, 4)), rand((2, 4), 1)
    ref = x / np.sqrt((x ** 2).mean(axis=(1, 2), keepdims=True) + 1e-4) * w
    close(F.rms_norm(t_(x, dtype), (2, 4), t_(w, dtype), eps=1e-4), ref, dtype)
    # eps=None is the dtype's machine epsilon
    eps = np.finfo(np.float32 if dtype == torch.float32 else np.float64).eps
    close(nn.RMSNorm(4, dtype=dtype)(t_(x, dtype)), x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps), dtype)


def test_rms_norm_module_and_grad():
    m = nn.RMSNorm([2, 3], eps=1e-3)
    assert repr(m) == "RMSNorm((2, 3), eps=0.001, elementwise_affine=True)"
    assert repr(nn.RMSNorm(3)) == "RMSNorm((3,), eps=None, elementwise_affine=True)"
    assert list(m.state_dict().keys()) == ["weight"] and tuple(m.weight.shape) == (2, 3)
    x = t_(rand((2, 3)), requires_grad=True)
    w = t_(rand(3, 1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: F.rms_norm(x, (3,), w, 1e-5), (x, w))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*5\]"):
        F.rms_norm(torch.randn(2, 4), (5,))


# ---- group_norm ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_forward(dtype):
    x, w, b = rand((2, 6, 3, 2)), rand(6, 1), rand(6, 2)
    xg = x.reshape(2, 3, -1)
    ref = ref_norm(xg, (2,), 1e-5).reshape(x.shape) * chan(w, 4) + chan(b, 4)
    close(F.group_norm(t_(x, dtype), 3, t_(w, dtype), t_(b, dtype)), ref, dtype)
    m = nn.GroupNorm(3, 6, dtype=dtype)
    close(m(t_(x, dtype)), ref_norm(xg, (2,), 1e-5).reshape(x.shape), dtype)


def test_group_norm_module_grad_errors():
    m = nn.GroupNorm(2, 4)
    assert repr(m) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    assert nn.GroupNorm(2, 4, affine=False).weight is None
    x = t_(rand((2, 4, 3)), requires_grad=True)
    w = t_(rand(4, 1), requires_grad=True)
    b = t_(rand(4, 2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups, but got input of shape"):
        F.group_norm(torch.randn(2, 6, 4), 4)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        F.group_norm(torch.randn(6), 3)


# ---- batch_norm ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_train_forward(dtype):
    x, w, b = rand((4, 3, 5)), rand(3, 1), rand(3, 2)
    out = F.batch_norm(t_(x, dtype), None, None, t_(w, dtype), t_(b, dtype), training=True)
    close(out, ref_norm(x, (0, 2), 1e-5) * chan(w, 3) + chan(b, 3), dtype)


def test_batch_norm_running_stats_sequence():
    m = nn.BatchNorm2d(3, momentum=0.2).double()
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(4):
        x = rand((2, 3, 4, 4), step) * (step + 1) + step
        out = m(t_(x))
        close(out, ref_norm(x, (0, 2, 3), 1e-5), torch.float64)
        n = x.size / 3
        rm = 0.8 * rm + 0.2 * x.mean(axis=(0, 2, 3))
        rv = 0.8 * rv + 0.2 * x.var(axis=(0, 2, 3)) * n / (n - 1)
    np.testing.assert_allclose(np_(m.running_mean), rm, rtol=1e-12)
    np.testing.assert_allclose(np_(m.running_var), rv, rtol=1e-12)
    assert m.num_batches_tracked.dtype == torch.int64 and m.num_batches_tracked.item() == 4
    m.eval()
    x = rand((2, 3, 4, 4), 9)
    close(m(t_(x)), (x - chan(rm, 4)) / np.sqrt(chan(rv, 4) + 1e-5), torch.float64)
    assert m.num_batches_tracked.item() == 4


def test_batch_norm_cumulative_momentum():
    m = nn.BatchNorm1d(2, momentum=None).double()
    xs = [rand((5, 2), s) + s for s in range(3)]
    for x in xs:
        m(t_(x))
    np.testing.assert_allclose(np_(m.running_mean), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-12)
    np.testing.assert_allclose(np_(m.running_var), np.mean([x.var(0, ddof=1) for x in xs], axis=0), rtol=1e-12)


def test_batch_norm_no_tracking_and_eval_batch_stats():
    m = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert m.running_mean is None and list(m.state_dict().keys()) == []
    m.eval()
    x = rand((6, 3), 3)
    np.testing.assert_allclose(np_(m(t_(x, torch.float32))), ref_norm(x, (0,), 1e-5), atol=1e-5)


def test_batch_norm_module_state_and_repr():
    m = nn.BatchNorm1d(3)
    assert repr(m) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert list(m.state_dict().keys()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [k for k, _ in m.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(np_(m.running_var), np.ones(3))
    np.testing.assert_array_equal(np_(m.weight), np.ones(3))
    assert m.state_dict()["num_batches_tracked"].shape == ()
    assert repr(nn.BatchNorm3d(2, momentum=None, affine=False)) == \
        "BatchNorm3d(2, eps=1e-05, momentum=None, affine=False, bias=False, track_running_stats=True)"


def test_batch_norm_gradcheck():
    x = t_(rand((4, 2, 3)), requires_grad=True)
    w = t_(rand(2, 1), requires_grad=True)
    b = t_(rand(2, 2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    rm, rv = t_(rand(2, 3)), t_(np.abs(rand(2, 4)) + 0.5)
    assert torch.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (x, w, b))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 3D input\)"):
        nn.BatchNorm3d(3)(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        nn.BatchNorm2d(3)(torch.randn(2, 4, 4, 4))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(torch.randn(2, 3), None, None, training=False)


# ---- instance_norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_forward(dtype):
    x, w, b = rand((2, 3, 4, 5)), rand(3, 1), rand(3, 2)
    ref = ref_norm(x, (2, 3), 1e-5)
    close(F.instance_norm(t_(x, dtype), weight=t_(w, dtype), bias=t_(b, dtype)), ref * chan(w, 4) + chan(b, 4), dtype)
    close(nn.InstanceNorm2d(3, dtype=dtype)(t_(x, dtype)), ref, dtype)
    # unbatched (C, H, W)
    close(nn.InstanceNorm2d(3, dtype=dtype)(t_(x[0], dtype)), ref[0], dtype)


def test_instance_norm_running_stats():
    m = nn.InstanceNorm1d(2, affine=True, track_running_stats=True).double()
    assert repr(m) == "InstanceNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    rm, rv = np.zeros(2), np.ones(2)
    for s in range(3):
        x = rand((3, 2, 5), s) + s
        m(t_(x))
        rm = 0.9 * rm + 0.1 * x.mean(axis=2).mean(0)
        rv = 0.9 * rv + 0.1 * x.var(axis=2, ddof=1).mean(0)
    np.testing.assert_allclose(np_(m.running_mean), rm, rtol=1e-12)
    np.testing.assert_allclose(np_(m.running_var), rv, rtol=1e-12)
    m.eval()
    x = rand((3, 2, 5), 7)
    close(m(t_(x)), (x - chan(rm, 3)) / np.sqrt(chan(rv, 3) + 1e-5), torch.float64)


def test_instance_norm_module_grad_errors():
    m = nn.InstanceNorm1d(3)
    assert repr(m) == "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    assert list(m.state_dict().keys()) == []
    x = t_(rand((2, 2, 4)), requires_grad=True)
    w = t_(rand(2, 1), requires_grad=True)
    b = t_(rand(2, 2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        m(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(torch.randn(2, 3, 1))


# ---- local_response_norm ---------------------------------------------------------------------
def ref_lrn(x, size, alpha, beta, k):
    c = x.shape[1]
    sq = x ** 2
    div = np.zeros_like(x)
    for i in range(c):  # window [i - size//2, i + (size-1)//2], zero-padded, divided by size
        lo, hi = max(i - size // 2, 0), min(i + (size - 1) // 2, c - 1)
        div[:, i] = sq[:, lo:hi + 1].sum(axis=1)
    return x / (k + alpha * div / size) ** beta


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 6, 3, 2), 2), ((1, 4, 2, 2, 2), 5), ((2, 3, 4), 10)])
def test_local_response_norm(dtype, shape, size):
    x = rand(shape)
    close(F.local_response_norm(t_(x, dtype), size, alpha=0.5, beta=0.6, k=2.0), ref_lrn(x, size, 0.5, 0.6, 2.0),
          dtype)


def test_local_response_norm_module_grad_errors():
    m = nn.LocalResponseNorm(2)
    assert repr(m) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    x = rand((2, 4, 3))
    close(m(t_(x)), ref_lrn(x, 2, 1e-4, 0.75, 1.0), torch.float64)
    xt = t_(rand((2, 4, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), (xt,))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        F.local_response_norm(torch.randn(3), 2)


# ---- embedding -------------------------------------------------------------------------------
def test_embedding_forward_and_grad():
    w = rand((5, 3))
    idx = np.array([[0, 2, 2], [4, 1, 0]])
    wt = t_(w, requires_grad=True)
    out = F.embedding(torch.tensor(idx), wt)
    np.testing.assert_array_equal(np_(out), w[idx])
    out.sum().backward()
    np.testing.assert_array_equal(np_(wt.grad), np.bincount(idx.ravel(), minlength=5)[:, None] * np.ones((1, 3)))
    idx_t = torch.tensor([[1, 3], [0, 1]])
    assert torch.autograd.gradcheck(lambda w: F.embedding(idx_t, w), (t_(w, requires_grad=True),))


def test_embedding_padding_idx():
    w = rand((4, 2))
    wt = t_(w, requires_grad=True)
    idx = torch.tensor([1, 2, 1, 3])
    out = F.embedding(idx, wt, padding_idx=1)
    np.testing.assert_array_equal(np_(out), w[[1, 2, 1, 3]])   # the padding row's value is still read
    (out * t_(rand((4, 2), 1))).sum().backward()
    g = np_(wt.grad)
    np.testing.assert_array_equal(g[1], 0.0)
    np.testing.assert_array_equal(g[0], 0.0)
    assert np.all(g[2] != 0) and np.all(g[3] != 0)
    out2 = F.embedding(idx, t_(w, requires_grad=True), padding_idx=-3)  # -3 is row 1
    np.testing.assert_array_equal(np_(out2), w[[1, 2, 1, 3]])


def test_embedding_max_norm_renormalises_in_place():
    w = rand((5, 3)) * 2
    wt = t_(w)
    idx = np.array([[0, 1, 1], [3, 1, 0]])
    out = F.embedding(torch.tensor(idx), wt, max_norm=1.0)
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    expect = w.copy()
    for r in (0, 1, 3):
        if norms[r] > 1.0:
            expect[r] = w[r] * (1.0 / (norms[r] + 1e-7))
    np.testing.assert_allclose(np_(wt), expect, rtol=1e-12)
    np.testing.assert_allclose(np_(out), expect[idx], rtol=1e-12)


def test_embedding_scale_grad_by_freq():
    wt = t_(rand((4, 2)), requires_grad=True)
    idx = torch.tensor([0, 0, 0, 2, 3, 3])
    F.embedding(idx, wt, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(np_(wt.grad), np.array([[1, 1], [0, 0], [1, 1], [1, 1]], dtype=float))


def test_embedding_module():
    m = nn.Embedding(10, 4, padding_idx=2)
    assert repr(m) == "Embedding(10, 4, padding_idx=2)"
    assert list(m.state_dict().keys()) == ["weight"] and tuple(m.weight.shape) == (10, 4)
    np.testing.assert_array_equal(np_(m.weight)[2], 0.0)
    assert np.all(np_(m.weight)[[0, 1, 3]] != 0)
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert repr(nn.Embedding(3, 2, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True)) == \
        "Embedding(3, 2, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True)"
    out = m(torch.tensor([[2, 5]]))
    assert out.shape == (1, 2, 4)
    np.testing.assert_array_equal(np_(out)[0, 1], np_(m.weight)[5])


def test_embedding_from_pretrained():
    w = rand((3, 2))
    m = nn.Embedding.from_pretrained(t_(w))
    assert not m.weight.requires_grad and (m.num_embeddings, m.embedding_dim) == (3, 2)
    np.testing.assert_array_equal(np_(m(torch.tensor([2, 0]))), w[[2, 0]])
    m2 = nn.Embedding.from_pretrained(t_(w), freeze=False, padding_idx=1)
    assert m2.weight.requires_grad and m2.padding_idx == 1
    np.testing.assert_array_equal(np_(m2.weight), w)   # the given padding row is kept, not zeroed
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(torch.randn(3))


def test_embedding_errors():
    w = torch.randn(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(torch.tensor([3]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(torch.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        F.embedding(torch.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(torch.tensor([1]), torch.randn(3))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(torch.tensor([1]), w, padding_idx=-4)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(3, 2, _weight=torch.randn(2, 2))


# ---- embedding_bag ---------------------------------------------------------------------------
def ref_bags(w, idx, offsets, mode, psw=None, pad=None):
    bounds = list(offsets) + [len(idx)]
    out = np.zeros((len(offsets), w.shape[1]))
    for b in range(len(offsets)):
        sel = [p for p in range(bounds[b], bounds[b + 1]) if idx[p] != pad]
        if not sel:
            continue
        rows = w[idx[sel]] * (1.0 if psw is None else psw[sel][:, None])
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 1])
def test_embedding_bag_modes(mode, pad):
    w = rand((5, 3))
    idx = np.array([0, 1, 2, 1, 4, 3, 1])
    offsets = np.array([0, 2, 2, 5, 6])      # one empty bag, one holding only the padding index
    out = F.embedding_bag(torch.tensor(idx), t_(w), torch.tensor(offsets), mode=mode, padding_idx=pad)
    close(out, ref_bags(w, idx, offsets, mode, pad=pad), torch.float64)
    last = F.embedding_bag(torch.tensor(idx), t_(w), torch.tensor(list(offsets) + [7]), mode=mode,
                           include_last_offset=True, padding_idx=pad)
    close(last, ref_bags(w, idx, offsets, mode, pad=pad), torch.float64)


def test_embedding_bag_2d_and_per_sample_weights():
    w, psw = rand((4, 2)), rand((2, 3), 5)
    idx = np.array([[0, 3, 3], [2, 1, 0]])
    close(F.embedding_bag(torch.tensor(idx), t_(w)), w[idx].mean(1), torch.float64)
    out = F.embedding_bag(torch.tensor(idx), t_(w), mode="sum", per_sample_weights=t_(psw))
    close(out, (w[idx] * psw[..., None]).sum(1), torch.float64)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    idx, offs = torch.tensor([0, 2, 1, 2, 3]), torch.tensor([0, 2, 2])
    w = t_(rand((4, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: F.embedding_bag(idx, w, offs, mode=mode, padding_idx=3), (w,))
    psw = t_(rand(5, 1), requires_grad=True)
    if mode == "sum":
        assert torch.autograd.gradcheck(lambda w, p: F.embedding_bag(idx, w, offs, mode="sum",
                                                                     per_sample_weights=p), (w, psw))


def test_embedding_bag_module():
    m = nn.EmbeddingBag(6, 3, mode="max", padding_idx=-1)
    assert repr(m) == "EmbeddingBag(6, 3, mode='max', padding_idx=5)"
    assert repr(nn.EmbeddingBag(3, 2)) == "EmbeddingBag(3, 2, mode='mean')"
    assert list(m.state_dict().keys()) == ["weight"]
    np.testing.assert_array_equal(np_(m.weight)[5], 0.0)
    w = rand((3, 2))
    b = nn.EmbeddingBag.from_pretrained(t_(w), mode="sum")
    assert not b.weight.requires_grad
    close(b(torch.tensor([0, 2, 2, 1]), torch.tensor([0, 3])), np.stack([w[[0, 2, 2]].sum(0), w[1]]), torch.float64)


def test_embedding_bag_errors():
    w = torch.randn(3, 2)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(torch.tensor([[1, 2]]), w, offsets=torch.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(torch.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0]), mode="bad")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0]), mode="max", per_sample_weights=torch.ones(2))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([1]))
    with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater than input's length 2"):
        F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0, 3]))
    with pytest.raises(RuntimeError, match=r"Index 1 of input takes value 7 which is not in the valid range \[0, 3\)"):
        F.embedding_bag(torch.tensor([0, 7]), w, torch.tensor([0]))
    with pytest.raises(ValueError, match="weight has to be a 2D Tensor"):
        F.embedding_bag(torch.tensor([0]), torch.randn(3), torch.tensor([0]))
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        nn.EmbeddingBag(3, 2, padding_idx=3)
