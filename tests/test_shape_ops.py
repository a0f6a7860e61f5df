"""Joining, reordering and index-driven shape ops, against NumPy references
(or explicit loops where NumPy has no direct equivalent)."""
import itertools

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import ALL_DTYPES, assert_close, make, to_np


# ---------------------------------------------------------------- helpers

def unchanged(ts_and_copies):
    for t, before in ts_and_copies:
        assert np.array_equal(to_np(t), before)


def idx_tensor(x):
    return torch.tensor(np.asarray(x, dtype=np.int64))


# ---------------------------------------------------------------- cat / concat

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_cat_dtypes_dims(dtype, dim):
    a1, t1 = make((2, 3), dtype, seed=1)
    a2, t2 = make((2, 3), dtype, seed=2)
    a3, t3 = make((2, 3), dtype, seed=3)
    out = torch.cat([t1, t2, t3], dim)
    assert out.dtype == t1.dtype
    assert_close(out, np.concatenate([a1, a2, a3], axis=dim))
    assert_close(torch.cat((t1, t2), dim=dim), np.concatenate([a1, a2], axis=dim))
    assert_close(torch.concat([t1, t2], dim), np.concatenate([a1, a2], axis=dim))


def test_cat_uneven_and_empty():
    a1, t1 = make((2, 3, 4), seed=1)
    a2, t2 = make((2, 1, 4), seed=2)
    a3, t3 = make((2, 0, 4), seed=3)
    assert_close(torch.cat([t1, t3, t2], 1), np.concatenate([a1, a3, a2], 1))
    assert_close(torch.cat([t3, t3], 1), np.zeros((2, 0, 4)))
    assert_close(torch.cat([t1], 2), a1)
    # a single-tensor cat is a copy, not a view
    c = torch.cat([t1])
    c[0, 0, 0] = 100.0
    assert t1[0, 0, 0].item() == a1[0, 0, 0]


def test_cat_noncontiguous_inputs():
    a1, t1 = make((4, 6), seed=1)
    a2, t2 = make((6, 4), seed=2)
    out = torch.cat([t1[:, ::2], t2.t()[:, 1::2], t1.t()[:4, 1:4]], dim=1)
    exp = np.concatenate([a1[:, ::2], a2.T[:, 1::2], a1.T[:4, 1:4]], axis=1)
    assert_close(out, exp)
    ex = t1[:1].expand(3, 6)
    assert_close(torch.cat([ex, t1], 0), np.concatenate([np.broadcast_to(a1[:1], (3, 6)), a1]))


def test_cat_type_promotion():
    ti = torch.tensor([[1, 2]], dtype=torch.int64)
    tf = torch.tensor([[0.5, 1.5]], dtype=torch.float32)
    out = torch.cat([ti, tf])
    assert out.dtype == torch.float32
    assert_close(out, np.array([[1, 2], [0.5, 1.5]]))
    out = torch.cat([torch.tensor([1], dtype=torch.int32), torch.tensor([200], dtype=torch.uint8)])
    assert out.dtype == torch.int32
    assert out.tolist() == [1, 200]
    out = torch.cat([torch.tensor([True]), torch.tensor([3], dtype=torch.int8)])
    assert out.dtype == torch.int8
    assert out.tolist() == [1, 3]


def test_cat_errors():
    t1, t2 = torch.ones(2, 3), torch.zeros(2, 4)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        torch.cat([t1, t2], 0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        torch.cat([t1, torch.ones(2, 3, 1)], 0)
    with pytest.raises(IndexError):
        torch.cat([t1, t1], 2)
    with pytest.raises((RuntimeError, ValueError)):
        torch.cat([])
    unchanged([(t1, np.ones((2, 3))), (t2, np.zeros((2, 4)))])


# ---------------------------------------------------------------- stack / hstack / vstack

@pytest.mark.parametrize("shape,dim", [
    ((3,), 0), ((3,), 1), ((3,), -1), ((2, 3), 0), ((2, 3), 1), ((2, 3), 2), ((2, 3), -1), ((2, 3), -3),
    ((2, 0, 3), 1), ((2, 0, 3), -1), ((), 0), ((), -1),
])
def test_stack(shape, dim):
    pairs = [make(shape, seed=s) for s in range(3)]
    out = torch.stack([t for _, t in pairs], dim)
    assert_close(out, np.stack([a for a, _ in pairs], axis=dim))
    assert_close(torch.stack(tuple(t for _, t in pairs), dim=dim), np.stack([a for a, _ in pairs], axis=dim))


def test_out_argument_of_joining_and_creation_functions_is_written():
    # out= was accepted and silently ignored by cat/stack/arange/rand/randn
    a, b = np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for fn, ref in [(torch.cat, np.concatenate), (torch.concat, np.concatenate), (torch.stack, np.stack)]:
        o = torch.empty_like(torch.tensor(ref([a, b], axis=1)))
        r = fn([ta, tb], 1, out=o)
        assert r is o
        assert_close(o, ref([a, b], axis=1))
    o = torch.zeros(4, dtype=torch.int64)
    assert torch.arange(1, 9, 2, out=o) is o and o.tolist() == [1, 3, 5, 7]
    torch.manual_seed(5)
    expect = to_np(torch.rand(2, 3))
    o = torch.zeros(2, 3)
    torch.manual_seed(5)
    assert torch.rand(2, 3, out=o) is o
    assert_close(o, expect)
    torch.manual_seed(5)
    expect = to_np(torch.randn(4))
    o = torch.zeros(4)
    torch.manual_seed(5)
    torch.randn(4, out=o)
    assert_close(o, expect)


def test_stack_errors():
    t1 = torch.ones(2, 3)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        torch.stack([t1, torch.ones(3, 2)])
    with pytest.raises(IndexError):
        torch.stack([t1, t1], 3)
    unchanged([(t1, np.ones((2, 3)))])


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(2, 3, 4), (2, 1, 4)], [(), ()]])
def test_hstack(shapes):
    pairs = [make(s, seed=i) for i, s in enumerate(shapes)]
    assert_close(torch.hstack([t for _, t in pairs]), np.hstack([a for a, _ in pairs]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (1, 3)], [(3,), (2, 3)], [(2, 3, 4), (1, 3, 4)], [(), ()]])
def test_vstack(shapes):
    pairs = [make(s, seed=i) for i, s in enumerate(shapes)]
    assert_close(torch.vstack([t for _, t in pairs]), np.vstack([a for a, _ in pairs]))


def test_hstack_vstack_errors():
    with pytest.raises(RuntimeError):
        torch.hstack([torch.ones(2, 3), torch.ones(3, 3)])
    with pytest.raises(RuntimeError):
        torch.vstack([torch.ones(3), torch.ones(4)])


# ---------------------------------------------------------------- flip / roll

@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,), (0, 2), (2, 1, 0), ()])
def test_flip(dims):
    a, t = make((2, 3, 4))
    out = t.flip(dims)
    assert_close(out, np.flip(a, dims) if dims else a)
    assert_close(torch.flip(t, dims), np.flip(a, dims) if dims else a)


def test_flip_is_a_copy_and_strided_input():
    a, t = make((3, 4))
    f = t.flip(0)
    f[0, 0] = 99.0
    assert t[2, 0].item() == a[2, 0]
    assert_close(t.t()[:, ::2].flip(1), np.flip(a.T[:, ::2], 1))
    with pytest.raises(RuntimeError):
        t.flip(0, 0)
    with pytest.raises(IndexError):
        t.flip(2)


def test_flip_dims_forms():
    # Every form PyTorch accepts: varargs ints, one int, a list or tuple, dims= (a sequence),
    # negative dims; torch.flip takes a sequence (positional or dims=) only.
    a, t = make((2, 3, 4))
    for got in (t.flip(0, 2), t.flip([0, 2]), t.flip((0, -1)), t.flip(dims=(0, 2)), t.flip(dims=[-3, 2]),
                torch.flip(t, [0, 2]), torch.flip(t, dims=(0, -1)), torch.flip(input=t, dims=[0, 2])):
        assert_close(got, np.flip(a, (0, 2)))
    assert_close(t.flip(-2), np.flip(a, 1))
    assert_close(t.flip(torch.tensor(1)), np.flip(a, 1))
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        t.flip(0, -3)
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times in the list of dims"):
        torch.flip(t, [1, 1])
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        t.flip(3)
    with pytest.raises(TypeError, match=r"flip\(\): argument 'dims' \(position 2\) must be tuple of ints, not int"):
        torch.flip(t, 1)
    with pytest.raises(TypeError, match=r"flip\(\): argument 'dims' must be tuple of ints, not int"):
        t.flip(dims=0)
    with pytest.raises(TypeError, match="flip\\(\\) got multiple values for argument 'dims'"):
        t.flip(0, dims=1)
    with pytest.raises(TypeError, match="flip\\(\\) missing 1 required positional arguments: \"dims\""):
        t.flip()
    for bad, name in ((0.5, "float"), (True, "bool"), ("a", "str")):
        with pytest.raises(TypeError, match=rf"flip\(\): argument 'dims' \(position 1\) must be tuple of ints, "
                                            rf"not {name}"):
            t.flip(bad)
    with pytest.raises(TypeError, match="must be tuple of ints, but found element of type list at pos 0"):
        t.flip([[0]])
    with pytest.raises(TypeError):
        torch.flip(t)
    # fliplr / flipud: dims 1 / 0, with PyTorch's dimension checks
    assert_close(torch.fliplr(t), np.fliplr(a))
    assert_close(t.flipud(), np.flipud(a))
    with pytest.raises(RuntimeError, match="Input must be >= 2-d."):
        torch.arange(3).fliplr()
    with pytest.raises(RuntimeError, match="Input must be >= 1-d."):
        torch.tensor(1).flipud()


def test_flip_0d_is_a_copy():
    # a scalar flips as one element along dim 0 or -1, as in PyTorch
    s = torch.tensor(2.5)
    for d in (0, -1):
        f = s.flip(d)
        assert f.shape == () and f.item() == 2.5
        f.fill_(1.0)
        assert s.item() == 2.5


@pytest.mark.parametrize("shifts,dims", [
    (1, 0), (-1, 1), (5, 1), (-7, -1), ((1, 2), (0, 1)), ((2, -1), (1, 0)), (3, None), (-14, None), (0, 0),
])
def test_roll(shifts, dims):
    a, t = make((3, 4))
    out = t.roll(shifts, dims) if dims is not None else t.roll(shifts)
    assert_close(out, np.roll(a, shifts, dims))
    out2 = torch.roll(t.t(), shifts, dims) if dims is not None else torch.roll(t.t(), shifts)
    assert_close(out2, np.roll(a.T, shifts, dims))


def test_roll_errors():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).roll((1, 2), 0)


# ---------------------------------------------------------------- repeat / repeat_interleave / tile

@pytest.mark.parametrize("shape,reps", [
    ((2, 3), (2, 2)), ((2, 3), (1, 1)), ((2, 3), (3, 1, 2)), ((3,), (2,)), ((3,), (2, 2)), ((), (3,)),
    ((2, 3), (0, 2)), ((2, 0), (2, 3)),
])
def test_repeat(shape, reps):
    a, t = make(shape)
    out = t.repeat(*reps)
    exp = np.tile(a, reps)
    assert_close(out, exp)
    assert_close(t.repeat(reps), exp)
    if out.numel():
        out[(0,) * out.dim()] = 1000.0   # repeat copies
    assert_close(t, a)


def test_repeat_strided_and_errors():
    a, t = make((3, 4))
    assert_close(t.t()[::2].repeat(2, 3), np.tile(a.T[::2], (2, 3)))
    with pytest.raises(RuntimeError, match="can not be smaller"):
        t.repeat(2)


@pytest.mark.parametrize("dtype", ["int64", "float32", "bool"])
def test_repeat_interleave(dtype):
    a, t = make((2, 3), dtype)
    assert_close(t.repeat_interleave(2), np.repeat(a, 2))
    assert_close(t.repeat_interleave(3, dim=1), np.repeat(a, 3, axis=1))
    assert_close(t.repeat_interleave(2, dim=-2), np.repeat(a, 2, axis=0))
    assert_close(torch.repeat_interleave(t, 2, 0), np.repeat(a, 2, axis=0))
    r = [1, 0, 2]
    assert_close(t.repeat_interleave(idx_tensor(r), dim=1), np.repeat(a, r, axis=1))
    assert_close(t.repeat_interleave(idx_tensor([3, 1]), dim=0), np.repeat(a, [3, 1], axis=0))
    assert_close(t.repeat_interleave(0, dim=1), np.zeros((2, 0), dtype=a.dtype))


def test_repeat_interleave_tensor_only():
    # torch.repeat_interleave(repeats) -> indices repeated by their counts
    out = torch.repeat_interleave(idx_tensor([2, 0, 3]))
    assert out.tolist() == [0, 0, 2, 2, 2]


def test_repeat_interleave_errors():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).repeat_interleave(idx_tensor([1, 2]), dim=1)
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).repeat_interleave(idx_tensor([1, -1, 2]), dim=1)


@pytest.mark.parametrize("shape,reps", [
    ((2, 3), (2, 2)), ((2, 3), (2,)), ((2, 3), (3, 1, 2)), ((3,), (2,)), ((3,), (2, 2)), ((), (3,)),
    ((2, 3, 4), (2, 1)), ((2, 3), (0,)),
])
def test_tile(shape, reps):
    a, t = make(shape)
    assert_close(t.tile(reps), np.tile(a, reps))
    assert_close(torch.tile(t, reps), np.tile(a, reps))


# ---------------------------------------------------------------- nonzero / masked_select

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0,), (2, 0, 3), ()])
@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_nonzero(shape, dtype):
    rng = np.random.default_rng(7)
    a = (rng.random(shape) > 0.5) * rng.integers(1, 5, size=shape)
    a = np.asarray(a)
    t = torch.tensor(a.astype(np.float64)).to(getattr(torch, dtype))
    nz = t.nonzero()
    assert nz.dtype == torch.int64
    assert tuple(nz.shape) == np.argwhere(a).shape
    assert np.array_equal(to_np(nz), np.argwhere(a))
    assert np.array_equal(to_np(torch.nonzero(t)), np.argwhere(a))
    if a.ndim:
        tup = t.nonzero(as_tuple=True)
        assert isinstance(tup, tuple) and len(tup) == a.ndim
        for got, exp in zip(tup, np.nonzero(a)):
            assert got.dtype == torch.int64
            assert np.array_equal(to_np(got), exp)


def test_nonzero_0d():
    assert tuple(torch.tensor(5).nonzero().shape) == (1, 0)
    assert tuple(torch.tensor(0).nonzero().shape) == (0, 0)
    # as_tuple on a 0-d tensor behaves as if it were 1-d
    assert [x.tolist() for x in torch.tensor(5).nonzero(as_tuple=True)] == [[0]]
    assert [x.tolist() for x in torch.tensor(0).nonzero(as_tuple=True)] == [[]]


def test_nonzero_strided_and_nan():
    a, t = make((4, 6), "int64")
    assert np.array_equal(to_np(t.t()[:, ::2].nonzero()), np.argwhere(a.T[:, ::2]))
    f = torch.tensor([0.0, float("nan"), -0.0, 2.0])
    assert f.nonzero().tolist() == [[1], [3]]


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_masked_select(dtype):
    a, t = make((3, 4), dtype)
    m = np.random.default_rng(3).random((3, 4)) > 0.4
    out = t.masked_select(torch.tensor(m))
    assert_close(out, a[m])
    assert_close(torch.masked_select(t, torch.tensor(m)), a[m])
    # broadcasting mask
    mr = np.array([True, False, True, True])
    assert_close(t.masked_select(torch.tensor(mr)), a[np.broadcast_to(mr, (3, 4))])
    mc = np.array([[True], [False], [True]])
    assert_close(t.masked_select(torch.tensor(mc)), a[np.broadcast_to(mc, (3, 4))])
    # input broadcast against a bigger mask
    a1, t1 = make((4,), dtype)
    mb = np.random.default_rng(5).random((2, 4)) > 0.5
    assert_close(t1.masked_select(torch.tensor(mb)), np.broadcast_to(a1, (2, 4))[mb])
    # strided input
    assert_close(t.t().masked_select(torch.tensor(m.T)), a.T[m.T])


def test_masked_select_errors():
    t = torch.ones(3, 4)
    with pytest.raises(RuntimeError):
        t.masked_select(torch.ones(4, dtype=torch.bool).repeat(2).view(2, 4))
    with pytest.raises(RuntimeError):
        t.masked_select(torch.ones(3, 4))     # float mask
    unchanged([(t, np.ones((3, 4)))])


# ---------------------------------------------------------------- gather / scatter / scatter_add

def ref_gather(a, dim, idx):
    out = np.empty(idx.shape, dtype=a.dtype)
    for pos in itertools.product(*[range(n) for n in idx.shape]):
        src = list(pos)
        src[dim] = idx[pos]
        out[pos] = a[tuple(src)]
    return out


def ref_scatter(a, dim, idx, src, add=False):
    out = a.copy()
    for pos in itertools.product(*[range(n) for n in idx.shape]):
        dst = list(pos)
        dst[dim] = idx[pos]
        v = src[pos] if isinstance(src, np.ndarray) else src
        if add:
            out[tuple(dst)] += v
        else:
            out[tuple(dst)] = v
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dtype, dim):
    a, t = make((3, 4, 5), dtype)
    d = dim % 3
    rng = np.random.default_rng(11)
    ishape = (2, 3, 4)             # index may be smaller than input in every dim
    idx = rng.integers(-0, a.shape[d], size=ishape)
    out = t.gather(dim, idx_tensor(idx))
    assert out.dtype == t.dtype
    assert_close(out, ref_gather(a, d, idx))
    assert_close(torch.gather(t, dim, idx_tensor(idx)), ref_gather(a, d, idx))
    # same-shape index matches take_along_axis
    full = rng.integers(0, a.shape[d], size=a.shape)
    assert_close(t.gather(dim, idx_tensor(full)), np.take_along_axis(a, full, axis=d))


def test_gather_strided_and_errors():
    a, t = make((4, 6))
    idx = np.array([[0, 3, 3], [1, 1, 0]])
    assert_close(t.t().gather(1, idx_tensor(idx)), ref_gather(a.T, 1, idx))
    with pytest.raises(RuntimeError, match="out of bounds"):
        t.gather(1, idx_tensor([[6]]))
    with pytest.raises(RuntimeError):
        t.gather(1, idx_tensor([[0]]).view(1, 1, 1))     # index with different ndim
    with pytest.raises(RuntimeError):
        t.gather(1, idx_tensor(np.zeros((5, 1))))        # index larger than input in dim 0
    with pytest.raises(RuntimeError):
        t.gather(1, torch.zeros(2, 2))                   # float index
    assert_close(t, a)


def unique_index(rng, shape, dim_size, dim):
    """Index of `shape` whose entries are distinct along `dim` (deterministic scatter)."""
    idx = np.empty(shape, dtype=np.int64)
    for pos in itertools.product(*[range(n) for i, n in enumerate(shape) if i != dim]):
        perm = rng.permutation(dim_size)[:shape[dim]]
        sl = list(pos)
        sl.insert(dim, slice(None))
        idx[tuple(sl)] = perm
    return idx


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter(dtype, dim):
    a, t = make((4, 5), dtype)
    d = dim % 2
    rng = np.random.default_rng(2)
    ishape = (3, 4)
    idx = unique_index(rng, ishape, a.shape[d], d)
    s_a, s_t = make((4, 5), dtype, seed=9)                # src may be bigger than index
    out = t.scatter(dim, idx_tensor(idx), s_t)
    assert_close(out, ref_scatter(a, d, idx, s_a))
    assert_close(t, a)                                   # out-of-place leaves input alone
    out = torch.scatter(t, dim, idx_tensor(idx), 7)
    assert_close(out, ref_scatter(a, d, idx, 7))
    c = t.clone()
    r = c.scatter_(dim, idx_tensor(idx), s_t)
    assert_close(c, ref_scatter(a, d, idx, s_a))
    assert r.data_ptr() == c.data_ptr()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add(dtype, dim):
    a, t = make((4, 5), dtype)
    rng = np.random.default_rng(4)
    idx = rng.integers(0, a.shape[dim], size=(6, 3)) if dim == 0 else rng.integers(0, 5, size=(3, 8))
    s_a, s_t = make(idx.shape, dtype, seed=5)           # duplicates accumulate
    exp = ref_scatter(a, dim, idx, s_a, add=True)
    assert_close(t.scatter_add(dim, idx_tensor(idx), s_t), exp)
    assert_close(torch.scatter_add(t, dim, idx_tensor(idx), s_t), exp)
    c = t.clone()
    c.scatter_add_(dim, idx_tensor(idx), s_t)
    assert_close(c, exp)
    assert_close(t, a)


def test_scatter_errors():
    t = torch.zeros(3, 4)
    with pytest.raises(RuntimeError, match="out of bounds"):
        t.scatter(1, idx_tensor([[4]]), 1.0)
    with pytest.raises(RuntimeError):
        t.scatter(1, torch.zeros(1, 1), 1.0)               # float index
    with pytest.raises(RuntimeError):
        t.scatter_add(1, idx_tensor([[0, 1, 2]]), torch.ones(1, 2))   # src smaller than index
    assert_close(t, np.zeros((3, 4)))


# ---------------------------------------------------------------- index_select / masked_fill / index_add_

@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dtype, dim):
    a, t = make((3, 4, 5), dtype)
    idx = [2, 0, 2, 1]
    out = t.index_select(dim, idx_tensor(idx))
    assert_close(out, np.take(a, idx, axis=dim))
    assert_close(torch.index_select(t, dim, idx_tensor(idx)), np.take(a, idx, axis=dim))
    assert_close(t.index_select(dim, idx_tensor(np.zeros(0, dtype=np.int64))), np.take(a, [], axis=dim).astype(a.dtype))
    assert_close(t.index_select(dim, torch.tensor([1, 0], dtype=torch.int32)), np.take(a, [1, 0], axis=dim))
    assert_close(t.transpose(0, 2).index_select(dim, idx_tensor([1])),
                 np.take(np.swapaxes(a, 0, 2), [1], axis=dim))


def test_index_select_errors():
    t = torch.zeros(3, 4)
    with pytest.raises((IndexError, RuntimeError)):
        t.index_select(1, idx_tensor([4]))
    with pytest.raises((IndexError, RuntimeError)):
        t.index_select(1, idx_tensor([[0]]))              # index must be 0-d or 1-d
    with pytest.raises((IndexError, RuntimeError)):
        t.index_select(1, torch.tensor([0.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool"])
def test_masked_fill(dtype):
    a, t = make((3, 4), dtype)
    m = np.random.default_rng(1).random((3, 4)) > 0.5
    val = True if dtype == "bool" else 2
    exp = np.where(m, val, a)
    assert_close(t.masked_fill(torch.tensor(m), val), exp)
    assert_close(t, a)
    mr = np.array([True, False, False, True])
    assert_close(t.masked_fill(torch.tensor(mr), val), np.where(mr, val, a))
    assert_close(t.masked_fill(torch.tensor(mr), torch.tensor(val)), np.where(mr, val, a))
    c = t.clone()
    c.masked_fill_(torch.tensor(m), val)
    assert_close(c, exp)
    # in-place through a strided view writes into the base
    c2 = t.clone()
    c2.t().masked_fill_(torch.tensor(m.T), val)
    assert_close(c2, exp)


def test_masked_fill_float_value_and_errors():
    a, t = make((2, 3))
    assert_close(t.masked_fill(torch.tensor([True, False, True]), float("-inf")),
                 np.where([True, False, True], -np.inf, a))
    with pytest.raises(RuntimeError, match="boolean"):
        t.masked_fill(torch.ones(2, 3), 0.0)
    with pytest.raises(RuntimeError):
        t.masked_fill(torch.ones(4, dtype=torch.bool), 0.0)
    with pytest.raises(RuntimeError):
        t.masked_fill_(torch.ones(2, 2, 3, dtype=torch.bool), 0.0)   # in-place cannot grow self
    with pytest.raises(RuntimeError):
        t.masked_fill(torch.tensor([True, False, True]), torch.tensor([1.0, 2.0]))  # value must be 0-d
    assert_close(t, a)
    # out of place, self broadcasts against the mask (PyTorch)
    m = np.array([[True], [False]])
    assert_close(t.masked_fill(torch.tensor(m), 7.0), np.where(m, 7.0, a))
    one = torch.tensor([[5.0]])
    r = one.masked_fill(torch.tensor([True, False, True]), 1.0)
    assert_close(r, np.array([[1.0, 5.0, 1.0]]))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        one.masked_fill_(torch.tensor([True, False, True]), 1.0)
    assert one.tolist() == [[5.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_(dtype, dim):
    a, t = make((4, 5), dtype)
    idx = [3, 0, 3, 1, 3] if dim == 1 else [4, 4, 0]
    idx = [i % a.shape[dim] for i in idx]
    sshape = list(a.shape)
    sshape[dim] = len(idx)
    s_a, s_t = make(tuple(sshape), dtype, seed=8)
    exp = a.copy()
    for k, i in enumerate(idx):
        if dim == 0:
            exp[i] += s_a[k]
        else:
            exp[:, i] += s_a[:, k]
    c = t.clone()
    r = c.index_add_(dim, idx_tensor(idx), s_t)
    assert_close(c, exp)
    assert r.data_ptr() == c.data_ptr()
    alpha = 3 if dtype == "int64" else 0.5
    exp2 = a.copy()
    for k, i in enumerate(idx):
        if dim == 0:
            exp2[i] += alpha * s_a[k]
        else:
            exp2[:, i] += alpha * s_a[:, k]
    c = t.clone()
    c.index_add_(dim, idx_tensor(idx), s_t, alpha=alpha)
    assert_close(c, exp2)


def test_index_add_errors():
    t = torch.zeros(3)
    with pytest.raises((IndexError, RuntimeError)):
        t.index_add_(0, idx_tensor([0, 0]), torch.ones(3))
    with pytest.raises((IndexError, RuntimeError)):
        t.index_add_(0, idx_tensor([3]), torch.ones(1))
    assert_close(t, np.zeros(3))


# ---------------------------------------------------------------- tril / triu

@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 3, 4), (0, 3), (2, 0, 2)])
@pytest.mark.parametrize("k", [0, 1, -1, 3, -5])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_tril_triu(shape, k, dtype):
    a, t = make(shape, dtype)
    assert_close(t.tril(k), np.tril(a, k))
    assert_close(t.triu(k), np.triu(a, k))
    assert_close(torch.tril(t, k), np.tril(a, k))
    assert_close(torch.triu(t, diagonal=k), np.triu(a, k))
    assert_close(torch.tril(t, diagonal=k), np.tril(a, k))
    c = t.clone()
    c.tril_(k)
    assert_close(c, np.tril(a, k))


def test_tril_triu_strided_and_errors():
    a, t = make((4, 6))
    assert_close(t.t().tril(), np.tril(a.T))
    assert_close(t[:, ::2].triu(1), np.triu(a[:, ::2], 1))
    with pytest.raises(RuntimeError):
        torch.tril(torch.ones(3))
    with pytest.raises(RuntimeError):
        torch.triu(torch.tensor(1.0))
