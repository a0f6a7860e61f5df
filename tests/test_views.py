"""Views: every op here returns a tensor sharing storage with its base (except where
noted: reshape of a non-viewable layout, contiguous() of a non-contiguous tensor).

Each view is checked against the equivalent NumPy view: values, shape, element strides
(for dims of size > 1, where NumPy and PyTorch agree), storage offset and that the
view's data pointer lies inside the base's storage.
"""
import numpy as np
import pytest

import ferrotorch as torch
from _helpers import ALL_DTYPES, assert_close, make, to_np


# ---------------------------------------------------------------- helpers

def np_elem_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


def c_strides(shape):
    """Row-major element strides, as PyTorch gives them (also for empty shapes; NumPy may give 0s)."""
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


def np_offset(view, base):
    """Element offset of `view`'s first element from `base`'s first element."""
    return (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize


def arange_pair(shape, dtype="float64"):
    n = int(np.prod(shape))
    a = np.arange(n, dtype=np.float64).reshape(shape)
    t = torch.arange(n, dtype=getattr(torch, dtype)).reshape(shape)
    return a, t


def shares(v, base):
    """v's data pointer is base's pointer + v.storage_offset() elements (same storage)."""
    return v.data_ptr() == base.data_ptr() + (v.storage_offset() - base.storage_offset()) * base.element_size()


def check_view(tv, av, t, a, check_strides=True):
    """tv = op(t) is a view; av = same op on NumPy base a (a holds t's values, t contiguous at offset 0)."""
    assert tuple(tv.shape) == av.shape
    assert tv.dim() == av.ndim
    assert tv.numel() == av.size
    assert_close(tv, av.astype(np.float64) if av.dtype != np.bool_ else av)
    if check_strides:
        got = [s for s, n in zip(tv.stride(), tv.shape) if n > 1]
        exp = [s for s, n in zip(np_elem_strides(av), av.shape) if n > 1]
        assert got == exp, f"strides {tv.stride()} vs numpy {np_elem_strides(av)}"
        if av.size > 0:
            assert tv.storage_offset() == np_offset(av, a)
    if tv.numel() > 0:
        assert shares(tv, t)


# ---------------------------------------------------------------- basic attributes

@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 0, 3), (2, 3, 4)])
def test_contiguous_strides_match_numpy(shape):
    a, t = arange_pair(shape)
    ref = c_strides(shape)
    assert t.stride() == ref
    for d in range(len(shape)):
        assert t.stride(d) == ref[d]
        assert t.stride(d - len(shape)) == ref[d]
    assert t.storage_offset() == 0
    assert t.is_contiguous()


def test_stride_dim_out_of_range():
    t = torch.zeros(2, 3)
    with pytest.raises(IndexError):
        t.stride(2)
    with pytest.raises(IndexError):
        t.stride(-3)


# ---------------------------------------------------------------- view / reshape

@pytest.mark.parametrize("src,dst", [
    ((2, 3, 4), (6, 4)), ((2, 3, 4), (24,)), ((2, 3, 4), (4, -1)), ((24,), (2, 3, 2, 2)),
    ((2, 3, 4), (2, 1, 3, 1, 4)), ((1,), ()), ((), (1, 1)), ((2, 0, 3), (0, 6)), ((2, 0, 3), (3, -1, 2)),
])
def test_view_contiguous(src, dst):
    a, t = arange_pair(src)
    v = t.view(dst)
    check_view(v, a.reshape(dst), t, a)
    v2 = t.view(*dst) if dst else t.view(())
    assert v2.shape == v.shape
    r = t.reshape(dst)
    check_view(r, a.reshape(dst), t, a)
    assert r.data_ptr() == t.data_ptr()


def test_reshape_copies_only_when_it_must():
    a, t = arange_pair((4, 6))
    tt = t.t()                 # (6, 4), strides (1, 6)
    at = a.T
    # splitting a dim of a transposed tensor is viewable -> no copy
    v = tt.reshape(6, 2, 2)
    check_view(v, at.reshape(6, 2, 2), t, a)
    assert v.stride() == (1, 12, 6)
    assert np.shares_memory(at.reshape(6, 2, 2), a)
    # flattening a transposed tensor needs a copy
    c = tt.reshape(-1)
    assert tuple(c.shape) == (24,)
    assert_close(c, at.reshape(-1))
    assert c.is_contiguous()
    assert c.data_ptr() != t.data_ptr()
    c[0] = -1.0                # the copy is independent
    assert t[0, 0].item() == 0.0
    # view() on the same layout refuses
    with pytest.raises(RuntimeError, match="view"):
        tt.view(-1)
    # merging dims that are contiguous with each other inside a strided tensor is fine
    a3, t3 = arange_pair((4, 3, 5))
    s = t3[::2]                # (2, 3, 5) strides (30, 5, 1)
    m = s.reshape(2, 15)
    check_view(m, a3[::2].reshape(2, 15), t3, a3)
    with pytest.raises(RuntimeError):
        s.view(30)
    m2 = s.reshape(30)
    assert_close(m2, a3[::2].reshape(30))
    assert m2.data_ptr() != t3.data_ptr()
    m2[0] = -5.0
    assert t3[0, 0, 0].item() == 0.0


def test_view_errors():
    t = torch.zeros(2, 3)
    with pytest.raises(RuntimeError):
        t.view(4, 2)
    with pytest.raises(RuntimeError):
        t.view(-1, -1)
    with pytest.raises(RuntimeError):
        t.reshape(5)
    # incompatible strides
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.t().view(6)


def test_write_through_views_visible_in_base():
    a, t = arange_pair((3, 4))
    t.view(12)[5] = -1.0
    a.reshape(12)[5] = -1.0
    t.t()[2, 0] = -2.0
    a.T[2, 0] = -2.0
    t[1:, ::2][0, 1] = -3.0
    a[1:, ::2][0, 1] = -3.0
    row = t.select(0, 2)
    row += 100.0
    a[2] += 100.0
    t.narrow(1, 1, 2)[...] = 7.0
    a[:, 1:3] = 7.0
    d = t.diagonal()
    d.copy_(torch.tensor([-9.0, -8.0, -7.0], dtype=torch.float64))
    np.fill_diagonal(a, [-9.0, -8.0, -7.0])
    assert_close(t, a)
    # and base writes are seen by views
    v = t.unsqueeze(0).permute(2, 0, 1)
    t[0, 3] = 55.0
    assert v[3, 0, 0].item() == 55.0


# ---------------------------------------------------------------- flatten / unflatten

@pytest.mark.parametrize("shape,start,end", [
    ((2, 3, 4), 0, -1), ((2, 3, 4), 1, 2), ((2, 3, 4), 0, 1), ((2, 3, 4), -2, -1), ((2, 3, 4), 1, 1),
    ((), 0, -1), ((5,), 0, 0), ((2, 0, 3), 0, 1),
])
def test_flatten(shape, start, end):
    a, t = arange_pair(shape)
    f = t.flatten(start, end)
    if a.ndim == 0:
        exp = a.reshape(1)
    else:
        s, e = start % a.ndim, end % a.ndim
        exp = a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:]) if a.size else \
            a.reshape(a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:])
    check_view(f, exp, t, a)
    assert_close(torch.flatten(t, start_dim=start, end_dim=end), exp)


def test_flatten_noncontiguous_copies():
    a, t = arange_pair((3, 4))
    f = t.t().flatten()
    assert_close(f, a.T.flatten())
    assert f.is_contiguous()
    f[0] = 99.0
    assert t[0, 0].item() == 0.0


@pytest.mark.parametrize("shape,dim,sizes", [
    ((2, 12), 1, (3, 4)), ((2, 12), -1, (3, -1)), ((12,), 0, (2, 2, 3)), ((2, 12, 5), 1, (-1, 6)),
    ((6, 2), 0, (6,)), ((4,), 0, (1, 4, 1)),
])
def test_unflatten(shape, dim, sizes):
    a, t = arange_pair(shape)
    u = t.unflatten(dim, sizes)
    d = dim % a.ndim
    exp = a.reshape(a.shape[:d] + tuple(sizes) + a.shape[d + 1:])
    check_view(u, exp, t, a)
    assert_close(torch.unflatten(t, dim, sizes), exp)


def test_unflatten_bad_sizes():
    t = torch.zeros(2, 12)
    with pytest.raises(RuntimeError):
        t.unflatten(1, (5, 3))


# ---------------------------------------------------------------- squeeze / unsqueeze

@pytest.mark.parametrize("shape,dim", [
    ((1, 3, 1, 4), None), ((1, 3, 1, 4), 0), ((1, 3, 1, 4), 2), ((1, 3, 1, 4), -2), ((1, 3, 1, 4), 1),
    ((1, 3, 1, 4), (0, 2)), ((1, 3, 1, 4), (0, 1)), ((1, 3, 1, 4), (-4, -2, 3)), ((1,), None), ((1,), 0),
    ((), None), ((), 0), ((1, 0, 1), None), ((1, 0, 1), (2,)),
])
def test_squeeze(shape, dim):
    a, t = arange_pair(shape)
    s = t.squeeze() if dim is None else t.squeeze(dim)
    if dim is None:
        exp = a.squeeze()
    else:
        dims = dim if isinstance(dim, tuple) else (dim,)
        nd = max(a.ndim, 1)
        dims = tuple(sorted({d % nd for d in dims if a.ndim and a.shape[d % nd] == 1}))
        exp = a.squeeze(dims) if a.ndim else a
    check_view(s, exp, t, a)
    s2 = torch.squeeze(t) if dim is None else torch.squeeze(t, dim)
    assert s2.shape == s.shape


def test_squeeze_out_of_range():
    t = torch.zeros(1, 3)
    with pytest.raises(IndexError):
        t.squeeze(2)
    with pytest.raises(IndexError):
        t.squeeze((0, 5))


@pytest.mark.parametrize("shape,dim", [
    ((3, 4), 0), ((3, 4), 1), ((3, 4), 2), ((3, 4), -1), ((3, 4), -3), ((), 0), ((), -1), ((0,), 0),
])
def test_unsqueeze(shape, dim):
    a, t = arange_pair(shape)
    u = t.unsqueeze(dim)
    exp = np.expand_dims(a, dim)
    check_view(u, exp, t, a)
    assert torch.unsqueeze(t, dim).shape == u.shape
    with pytest.raises(IndexError):
        t.unsqueeze(len(shape) + 2)


def test_unsqueeze_stride_pytorch_rule():
    # PyTorch (unlike NumPy's 0) gives the new size-1 dim the stride size*stride of the next dim
    t = torch.zeros(3, 4)
    assert t.unsqueeze(1).stride() == (4, 4, 1)
    assert t.unsqueeze(2).stride() == (4, 1, 1)
    assert t.unsqueeze(0).stride() == (12, 4, 1)


# ---------------------------------------------------------------- transpose / t / T / mT / permute

@pytest.mark.parametrize("shape,d0,d1", [
    ((3, 4), 0, 1), ((2, 3, 4), 0, 2), ((2, 3, 4), -1, -2), ((2, 3, 4), 1, 1), ((2, 0, 4), 0, 2), ((5,), 0, -1),
])
def test_transpose(shape, d0, d1):
    a, t = arange_pair(shape)
    v = t.transpose(d0, d1)
    exp = np.swapaxes(a, d0, d1)
    check_view(v, exp, t, a)
    check_view(torch.transpose(t, d0, d1), exp, t, a)
    assert v.is_contiguous() == exp.flags["C_CONTIGUOUS"]


def test_t_T_mT():
    a, t = arange_pair((3, 4))
    check_view(t.t(), a.T, t, a)
    check_view(torch.t(t), a.T, t, a)
    check_view(t.T, a.T, t, a)
    check_view(t.mT, a.T, t, a)
    a1, t1 = arange_pair((5,))
    check_view(t1.t(), a1, t1, a1)
    a0, t0 = arange_pair(())
    check_view(t0.t(), a0, t0, a0)
    a3, t3 = arange_pair((2, 3, 4))
    check_view(t3.mT, np.swapaxes(a3, -1, -2), t3, a3)
    with pytest.raises(RuntimeError):
        t3.t()
    with pytest.raises(RuntimeError):
        t1.mT


@pytest.mark.parametrize("shape,perm", [
    ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (0, 1, 2)), ((2, 3, 4), (-1, -3, -2)), ((2, 3, 4, 5), (3, 1, 0, 2)),
    ((3,), (0,)), ((), ()), ((2, 0, 3), (1, 2, 0)),
])
def test_permute(shape, perm):
    a, t = arange_pair(shape)
    p = t.permute(*perm) if perm else t.permute(())
    exp = np.transpose(a, [d % max(a.ndim, 1) for d in perm]) if perm else a
    check_view(p, exp, t, a)
    check_view(t.permute(perm), exp, t, a)
    check_view(torch.permute(t, perm), exp, t, a)


def test_permute_errors():
    t = torch.zeros(2, 3, 4)
    with pytest.raises(RuntimeError):
        t.permute(0, 1)          # wrong number of dims
    with pytest.raises(RuntimeError):
        t.permute(0, 1, 1)       # repeated dim
    with pytest.raises(IndexError):
        t.permute(0, 1, 3)


# ---------------------------------------------------------------- expand

@pytest.mark.parametrize("shape,target", [
    ((3, 1), (3, 4)), ((3, 1), (2, 3, 4)), ((3, 1), (-1, 4)), ((1,), (5,)), ((), (2, 3)), ((1, 1), (0, 2)),
    ((2, 3), (2, 3)), ((2, 1, 3), (4, 2, 5, 3)), ((3, 1), (2, -1, 0)),
])
def test_expand(shape, target):
    a, t = arange_pair(shape)
    e = t.expand(*target)
    nd = len(target)
    full = (1,) * (nd - a.ndim) + a.shape
    real = tuple(full[i] if s == -1 else s for i, s in enumerate(target))
    exp = np.broadcast_to(a, real)
    assert tuple(e.shape) == real
    assert_close(e, exp)
    for s, n, en in zip(e.stride(), e.shape, np_elem_strides(exp)):
        if n > 1:
            assert s == en
    if e.numel():
        assert shares(e, t)
    e2 = t.expand(target)
    assert e2.shape == e.shape and e2.stride() == e.stride()
    o = torch.zeros(real)
    e3 = t.expand_as(o)
    assert e3.shape == o.shape and e3.stride() == e.stride()


def test_expand_strides_are_zero():
    t = torch.zeros(3, 1)
    assert t.expand(2, 3, 4).stride() == (0, 1, 0)
    assert not t.expand(3, 4).is_contiguous()
    # materialising gives a contiguous copy
    c = t.expand(3, 4).contiguous()
    assert c.stride() == (4, 1)


def test_expand_errors():
    t = torch.zeros(3, 1)
    with pytest.raises(RuntimeError):
        t.expand(4, 4)            # non-singleton dim 0
    with pytest.raises(RuntimeError):
        t.expand(4)               # fewer dims than the tensor
    with pytest.raises(RuntimeError):
        t.expand(-1, 4, 2)        # -1 in a new leading dim


# ---------------------------------------------------------------- narrow / select / slicing

@pytest.mark.parametrize("dim,start,length", [(0, 1, 2), (1, 0, 4), (1, 2, 0), (-1, 1, 3), (2, -3, 2), (1, -1, 1)])
def test_narrow(dim, start, length):
    a, t = arange_pair((3, 4, 5))
    n = t.narrow(dim, start, length)
    d = dim % 3
    s = start % a.shape[d]
    idx = [slice(None)] * 3
    idx[d] = slice(s, s + length)
    exp = a[tuple(idx)]
    check_view(n, exp, t, a)
    check_view(torch.narrow(t, dim, start, length), exp, t, a)


def test_narrow_errors():
    t = torch.zeros(3, 4)
    with pytest.raises(RuntimeError):
        t.narrow(1, 2, 3)
    with pytest.raises((IndexError, RuntimeError)):
        t.narrow(0, 5, 1)


@pytest.mark.parametrize("dim,index", [(0, 0), (0, 2), (1, -1), (-1, 3), (2, 4), (-3, -3)])
def test_select(dim, index):
    a, t = arange_pair((3, 4, 5))
    s = t.select(dim, index)
    exp = np.take(a, index, axis=dim)
    # np.take copies; compute the view form for offset/stride checks
    idx = [slice(None)] * 3
    idx[dim % 3] = index
    expv = a[tuple(idx)]
    assert np.array_equal(exp, expv)
    check_view(s, expv, t, a)
    check_view(torch.select(t, dim, index), expv, t, a)


def test_select_errors():
    t = torch.zeros(3, 4)
    with pytest.raises(IndexError):
        t.select(0, 3)
    with pytest.raises(IndexError):
        t.select(1, -5)
    with pytest.raises(IndexError):
        t.select(2, 0)
    with pytest.raises(IndexError):
        torch.tensor(1.0).select(0, 0)


@pytest.mark.parametrize("key", [
    (slice(1, None, 2),), (slice(None, None, 3), slice(1, 4)), (slice(None), slice(None), slice(None, None, 2)),
    (slice(-2, None), slice(None, -1, 2), slice(4, 0)), (1, slice(None, None, 2)), (slice(1, 100, 5),),
    (slice(None, None, 2), 2, slice(1, None, 3)), (Ellipsis, slice(None, None, 4)),
])
def test_slicing_with_steps_is_a_view(key):
    a, t = arange_pair((5, 6, 7))
    v = t[key]
    check_view(v, a[key], t, a)


def test_chained_slices_offsets():
    a, t = arange_pair((6, 8))
    v = t[1:, 2:][::2, 1::3][1:]
    av = a[1:, 2:][::2, 1::3][1:]
    check_view(v, av, t, a)
    assert v.storage_offset() == 3 * 8 + 3


# ---------------------------------------------------------------- unbind / chunk / split

@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_unbind(dim):
    a, t = arange_pair((2, 3, 4))
    parts = t.unbind(dim)
    assert isinstance(parts, tuple)
    assert len(parts) == a.shape[dim]
    for i, p in enumerate(parts):
        idx = [slice(None)] * 3
        idx[dim] = i
        check_view(p, a[tuple(idx)], t, a)
    parts2 = torch.unbind(t, dim)
    assert len(parts2) == len(parts)


def chunk_sizes(n, chunks):
    # PyTorch: each chunk has ceil(n / chunks) elements, the last fewer; may give fewer chunks
    size = -(-n // chunks)
    out, s = [], 0
    while s < n:
        out.append(min(size, n - s))
        s += size
    return out


@pytest.mark.parametrize("n,chunks", [(6, 3), (6, 4), (5, 3), (7, 2), (3, 5), (1, 1), (10, 3), (13, 6)])
def test_chunk(n, chunks):
    a, t = arange_pair((2, n))
    parts = t.chunk(chunks, 1)
    sizes = chunk_sizes(n, chunks)
    assert [p.shape[1] for p in parts] == sizes
    assert len(parts) <= chunks
    s = 0
    for p, k in zip(parts, sizes):
        check_view(p, a[:, s:s + k], t, a)
        s += k
    assert len(torch.chunk(t, chunks, dim=1)) == len(parts)


def test_chunk_hand_computed():
    # 6 elements in 4 chunks -> 3 chunks of 2 (not NumPy's array_split 2,2,1,1)
    parts = torch.chunk(torch.arange(6), 4)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4, 5]]
    parts = torch.chunk(torch.arange(5), 3)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4]]
    with pytest.raises(RuntimeError):
        torch.arange(5).chunk(0)
    # an empty dim gives `chunks` empty pieces (PyTorch), each a view of shape (4, 0)
    parts = torch.zeros(4, 0).chunk(3, 1)
    assert len(parts) == 3 and all(tuple(p.shape) == (4, 0) for p in parts)
    with pytest.raises(RuntimeError, match="allocate memory"):
        torch.zeros(4, 0).chunk(2 ** 40, 1)


@pytest.mark.parametrize("n,size", [(6, 2), (7, 3), (5, 5), (5, 10), (4, 1)])
def test_split_int(n, size):
    a, t = arange_pair((n, 3))
    parts = t.split(size)
    s = 0
    assert len(parts) == -(-n // size)
    for p in parts:
        k = min(size, n - s)
        check_view(p, a[s:s + k], t, a)
        s += k
    parts2 = torch.split(t, size, dim=0)
    assert [tuple(p.shape) for p in parts2] == [tuple(p.shape) for p in parts]


@pytest.mark.parametrize("sizes,dim", [([1, 2, 3], 1), ([6], 1), ([0, 4, 2], -1), ([2, 2], 0), ([1, 0, 3], 0)])
def test_split_list(sizes, dim):
    shape = (4, 6)
    sizes = list(sizes)
    if dim == 0:
        shape = (sum(sizes), 6)
    a, t = arange_pair(shape)
    parts = t.split(sizes, dim)
    assert len(parts) == len(sizes)
    s = 0
    for p, k in zip(parts, sizes):
        idx = [slice(None)] * 2
        idx[dim] = slice(s, s + k)
        check_view(p, a[tuple(idx)], t, a)
        s += k
    parts2 = torch.split(t, sizes, dim)
    assert [tuple(p.shape) for p in parts2] == [tuple(p.shape) for p in parts]


def test_split_list_bad_sum():
    with pytest.raises(RuntimeError):
        torch.zeros(4, 6).split([1, 2], 1)


# ---------------------------------------------------------------- diagonal

@pytest.mark.parametrize("shape,offset,d1,d2", [
    ((4, 4), 0, 0, 1), ((4, 5), 1, 0, 1), ((4, 5), -2, 0, 1), ((4, 5), 5, 0, 1), ((4, 5), 0, 1, 0),
    ((3, 4, 5), 0, 0, 1), ((3, 4, 5), 1, 0, 2), ((3, 4, 5), -1, -1, -2), ((3, 4, 5), 2, 1, 2), ((2, 0, 3), 0, 0, 2),
])
def test_diagonal(shape, offset, d1, d2):
    a, t = arange_pair(shape)
    d = t.diagonal(offset, d1, d2)
    exp = np.diagonal(a, offset, d1, d2)
    check_view(d, exp, t, a)
    check_view(torch.diagonal(t, offset=offset, dim1=d1, dim2=d2), exp, t, a)


def test_diagonal_same_dims_error():
    with pytest.raises(RuntimeError):
        torch.zeros(3, 3).diagonal(0, 1, 1)


# ---------------------------------------------------------------- unfold

@pytest.mark.parametrize("shape,dim,size,step", [
    ((10,), 0, 3, 1), ((10,), 0, 3, 2), ((10,), 0, 4, 3), ((3, 8), 1, 2, 2), ((3, 8), 0, 3, 1),
    ((2, 7, 3), 1, 7, 1), ((2, 7, 3), -2, 1, 4), ((6,), 0, 0, 1),
])
def test_unfold(shape, dim, size, step):
    a, t = arange_pair(shape)
    u = t.unfold(dim, size, step)
    w = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim)
    idx = [slice(None)] * w.ndim
    idx[dim % a.ndim] = slice(None, None, step)
    exp = w[tuple(idx)]
    check_view(u, exp, t, a)


def test_unfold_errors():
    t = torch.zeros(5)
    with pytest.raises(RuntimeError):
        t.unfold(0, 6, 1)
    with pytest.raises(RuntimeError):
        t.unfold(0, 2, 0)


# ---------------------------------------------------------------- contiguous / is_contiguous

def _swap(x, d0, d1):
    return np.swapaxes(x, d0, d1) if isinstance(x, np.ndarray) else x.transpose(d0, d1)


def _expand(x, *shape):
    return np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else x.expand(*shape)


CONTIG_CASES = [
    ("plain", lambda x: x, True),
    ("t", lambda x: _swap(x, 0, 1), False),
    ("row_slice", lambda x: x[1:3], True),
    ("col_slice", lambda x: x[:, 1:3], False),
    ("step", lambda x: x[::2], False),
    ("select_row", lambda x: x[1], True),
    ("select_col", lambda x: x[:, :, 1], False),
    ("size1_transpose", lambda x: _swap(x[:2, :1], 0, 2), False),
    ("unit_dims", lambda x: _swap(x[0:1, 2:3, :], 0, 1), True),   # size-1 dims do not count
    ("empty", lambda x: _swap(x[:, 0:0], 0, 2), True),           # empty tensors are contiguous
    ("expanded", lambda x: _expand(x[:, :1], 4, 3, 5), False),
    ("diag", lambda x: x[0].diagonal(), False),
]


@pytest.mark.parametrize("name,fn,expected", CONTIG_CASES, ids=[c[0] for c in CONTIG_CASES])
def test_is_contiguous_and_contiguous(name, fn, expected):
    a, t = arange_pair((4, 3, 5))
    v = fn(t)
    av = fn(a)
    assert v.is_contiguous() == expected
    assert bool(av.flags["C_CONTIGUOUS"]) == expected
    c = v.contiguous()
    assert c.is_contiguous()
    assert_close(c, av)
    if expected:
        # contiguous() of a contiguous tensor is a no-op: same storage, same offset, same strides
        # (strides of size-1 dims are kept as they were, not recomputed)
        assert c.data_ptr() == v.data_ptr()
        assert c.stride() == v.stride()
    else:
        assert c.stride() == c_strides(av.shape)
    if not expected and v.numel():
        assert c.data_ptr() != v.data_ptr()
        before = to_np(t)
        c.view(-1)[0] = -123.0
        assert np.array_equal(to_np(t), before)


def test_data_ptr_relation_and_element_size():
    for name, size in [("float64", 8), ("float32", 4), ("float16", 2), ("bfloat16", 2), ("int64", 8),
                       ("int32", 4), ("int16", 2), ("int8", 1), ("uint8", 1), ("bool", 1)]:
        t = torch.zeros(4, 6, dtype=getattr(torch, name))
        assert t.element_size() == size
        v = t[1:, 2:]
        assert v.storage_offset() == 8
        assert v.data_ptr() == t.data_ptr() + 8 * size
        assert t[2, 3].data_ptr() == t.data_ptr() + 15 * size


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_views_over_dtypes(dtype):
    a, t = make((3, 4), dtype)
    v = t.t()[1:, ::2]
    assert_close(v, a.T[1:, ::2])
    assert v.dtype == t.dtype
    assert v.stride() == (1, 8)
    assert v.storage_offset() == 1
    assert shares(v, t)
