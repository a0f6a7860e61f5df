"""`__getitem__` / `__setitem__` against NumPy, plus hypothesis property tests.

PyTorch follows NumPy's indexing rules with one documented difference that the engine
must reproduce: Python integers (and 0-d integer tensors) are applied first as basic
indexing (`select`), so they never take part in advanced indexing. In NumPy an integer
next to an array index counts as an advanced index, which changes where the broadcast
dims go (e.g. `t[0, :, [0, 1]]` is (4, 2) in PyTorch, (2, 4) in NumPy, for a (3, 4, 5)
input). The reference `np_index` below therefore applies integers first, then the rest.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from _helpers import assert_close, make


# ---------------------------------------------------------------- helpers

def _is_int(x):
    """Python/NumPy integers, and 0-d integer arrays (0-d integer tensors act as ints in PyTorch)."""
    if isinstance(x, np.ndarray):
        return x.ndim == 0 and x.dtype.kind in "iu"
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _consumes(x):
    """How many input dims an index item consumes (None/Ellipsis: 0)."""
    if x is None or x is Ellipsis:
        return 0
    if isinstance(x, np.ndarray) and x.dtype == np.bool_:
        return max(x.ndim, 1)
    return 1


def np_index(idx):
    """Split a NumPy-style index into (ints applied as basic indexing, the rest)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    step1, step2 = [], []
    for x in idx:
        if _is_int(x):
            step1.append(int(x))
        elif x is None:
            step1.append(None)
            step2.append(slice(None))
        elif x is Ellipsis:
            step1.append(Ellipsis)
            step2.append(Ellipsis)
        else:
            step1.extend([slice(None)] * _consumes(x))
            step2.append(x)
    return tuple(step1), tuple(step2)


def _expand_ellipsis(s2, ndim):
    """s2 with its Ellipsis written out as slices: NumPy treats advanced indices around an
    Ellipsis as separated even when it covers no dim, PyTorch (the spec) as adjacent."""
    ks = [i for i, x in enumerate(s2) if x is Ellipsis]  # identity: `in` would compare arrays
    if not ks:
        return s2
    used = sum(_consumes(x) for x in s2 if x is not Ellipsis)
    k = ks[0]
    return s2[:k] + (slice(None),) * (ndim - used) + s2[k + 1:]


def ref_get(a, idx):
    s1, s2 = np_index(idx)
    v = a[s1]
    return v[_expand_ellipsis(s2, np.ndim(v))]


def ref_set(a, idx, v):
    out = a.copy()
    s1, s2 = np_index(idx)
    view = out[s1]                 # basic indexing only: a view into `out`
    if view.ndim == 0:
        out[s1] = v
    else:
        view[_expand_ellipsis(s2, view.ndim)] = v
    return out


def to_torch_index(idx, kinds):
    """NumPy index -> PyTorch index; kinds[i] says how to pass array items ("list"/"tensor")."""
    out = []
    for x, k in zip(idx, kinds):
        if isinstance(x, np.ndarray):
            if k == "list":
                out.append(x.tolist())
            elif k == "int32":
                out.append(torch.tensor(x.astype(np.int32)))
            else:
                out.append(torch.tensor(x))
        else:
            out.append(x)
    return tuple(out)


def arange_pair(shape, dtype="float64"):
    n = int(np.prod(shape))
    a = np.arange(n, dtype=np.float64).reshape(shape)
    t = torch.arange(n, dtype=getattr(torch, dtype)).reshape(shape)
    return a, t


def is_view_of(v, base):
    lo = base.data_ptr()
    hi = lo + base.numel() * base.element_size()
    return lo <= v.data_ptr() < hi


# ---------------------------------------------------------------- basic indexing

BASIC_KEYS = [
    0, -1, -3, 2, (1, 2), (-1, -2, -3), (0, slice(None)), slice(None), slice(1, 3), slice(None, None, 2),
    slice(-2, None), slice(None, -1), slice(5, 1), slice(-100, 100), slice(1, None, 3),
    (slice(None), 1), (Ellipsis, 0), (0, Ellipsis), (Ellipsis,), Ellipsis, None, (None, 0), (0, None, 1),
    (None, Ellipsis, None), (slice(None), None, slice(None, None, 2), None), (1, Ellipsis, None),
    (Ellipsis, slice(1, None, 2), 3), (slice(None, None, 2), slice(None, None, 3), slice(None, None, 4)),
    (1, 2, 3), (-3, -4, -5), (slice(0, 0),), (slice(1, 2), 1, slice(3, 4)),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=[repr(k) for k in BASIC_KEYS])
def test_basic_getitem_is_view(key):
    a, t = arange_pair((3, 4, 5))
    r = t[key]
    e = a[key]
    assert tuple(r.shape) == np.shape(e)
    assert_close(r, e)
    if r.numel():
        assert is_view_of(r, t)
        strides = [s for s, n in zip(r.stride(), r.shape) if n > 1]
        estr = [s // 8 for s, n in zip(np.asarray(e).strides, np.shape(e)) if n > 1]
        assert strides == estr


def test_full_int_index_gives_0d_tensor():
    a, t = arange_pair((3, 4))
    r = t[1, -1]
    assert r.dim() == 0 and r.shape == ()
    assert r.item() == a[1, -1]
    assert isinstance(r.item(), float)


def test_0d_integer_tensor_index_acts_like_int():
    a, t = arange_pair((3, 4))
    v = t[torch.tensor(1)]
    assert_close(v, a[1])
    v[0] = 100.0                      # a view, like t[1]
    assert t[1, 0].item() == 100.0


def test_bool_scalar_index():
    a, t = arange_pair((3, 4))
    assert tuple(t[True].shape) == (1, 3, 4)
    assert tuple(t[False].shape) == (0, 3, 4)
    assert tuple(t[None, True].shape) == (1, 1, 3, 4)
    assert tuple(t[torch.tensor(True)].shape) == (1, 3, 4)
    assert_close(t[True], a[True])


def test_0d_tensor_indexing():
    t = torch.tensor(5.0)
    assert t[...].shape == ()
    assert t[()].shape == () and t[()].item() == 5.0
    assert tuple(t[None].shape) == (1,)
    assert tuple(t[..., None].shape) == (1,)
    with pytest.raises(IndexError):
        t[0]


def test_negative_step_raises_value_error():
    t = torch.arange(6)
    with pytest.raises(ValueError):
        t[::-1]
    with pytest.raises(ValueError):
        t[::0]


# ---------------------------------------------------------------- advanced indexing

ADV_CASES = [
    ([0, 2],),
    ([[0, 1], [2, 2]],),                      # 2-d index array (as tensor)
    ([0, 2], [1, 3]),
    ([0, 2], slice(None), [1, 4]),            # separated by a slice -> broadcast dims first
    (slice(None), [0, 2], [1, 3]),            # adjacent -> broadcast dims stay in place
    (slice(None), [[0], [2]], [1, 3]),        # broadcasting (2,1) with (2,) -> (2,2)
    ([-1, -3], slice(1, 3)),
    (Ellipsis, [0, 4, 4]),
    (None, [1, 2], None, slice(None, None, 2)),
    ([0, 1], None, [0, 1]),
    ([[0, 1]], slice(None), [[0], [3]]),
    (slice(None), [2, 0, 2], slice(None, None, 2)),
    ([2], [3], [4]),
    ([], slice(None)),
]


@pytest.mark.parametrize("key", ADV_CASES, ids=[repr(k) for k in ADV_CASES])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_advanced_getitem(key, as_tensor):
    a, t = arange_pair((3, 4, 5))
    np_key = tuple(np.asarray(k, dtype=np.int64) if isinstance(k, list) else k for k in key)
    tkey = tuple(torch.tensor(k, dtype=torch.int64) if isinstance(k, list) and (as_tensor or np.ndim(k) > 1)
                 else k for k in key)
    r = t[tkey]
    e = a[np_key]
    assert tuple(r.shape) == e.shape
    assert_close(r, e)
    # advanced indexing copies
    if r.numel():
        r.view(-1)[0] = -1.0
        assert_close(t, a)


def test_separated_advanced_dims_move_first():
    a, t = arange_pair((3, 4, 5, 6))
    assert tuple(t[[0, 1], :, [0, 1]].shape) == (2, 4, 6)
    assert tuple(t[:, [0, 1], [0, 1]].shape) == (3, 2, 6)
    assert tuple(t[:, [0, 1], :, [0, 1]].shape) == (2, 3, 5)
    assert_close(t[:, [0, 1], :, [2, 3]], a[:, [0, 1], :, [2, 3]])


def test_ints_are_basic_in_pytorch():
    # PyTorch applies integers before advanced indexing (differs from NumPy)
    a, t = arange_pair((3, 4, 5))
    r = t[0, :, [0, 1]]
    assert tuple(r.shape) == (4, 2)
    assert_close(r, a[0][:, [0, 1]])
    a4, t4 = arange_pair((3, 4, 5, 6))
    r = t4[:, [0, 1], :, 0]
    assert tuple(r.shape) == (3, 2, 5)
    assert_close(r, a4[:, :, :, 0][:, [0, 1], :])
    r = t[torch.tensor(2), :, [0, 1]]
    assert tuple(r.shape) == (4, 2)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_index_tensor_dtypes(dtype):
    a, t = arange_pair((5, 3))
    idx = torch.tensor([4, 0, -1], dtype=getattr(torch, dtype))
    assert_close(t[idx], a[[4, 0, -1]])
    assert_close(t[:, idx[:2] % 3], a[:, [1, 0]])


def test_bool_masks():
    a, t = arange_pair((3, 4, 5))
    rng = np.random.default_rng(0)
    m2 = rng.random((3, 4)) > 0.5
    m1 = np.array([True, False, True, True, False])
    assert_close(t[torch.tensor(m2)], a[m2])
    assert_close(t[:, :, torch.tensor(m1)], a[:, :, m1])
    assert_close(t[..., torch.tensor(m1)], a[..., m1])
    assert_close(t[1, torch.tensor(m2[0])], a[1, m2[0]])
    assert_close(t[[True, False, True]], a[[True, False, True]])
    m3 = rng.random((3, 4, 5)) > 0.5
    assert_close(t[torch.tensor(m3)], a[m3])
    assert_close(t[torch.tensor(np.zeros((3, 4), bool))], np.zeros((0, 5)))
    # mask together with an integer array (mask -> its nonzero indices)
    assert_close(t[torch.tensor([True, False, True]), :, [1, 2]], a[[0, 2], :, [1, 2]])
    # mask and comparison-built mask
    assert_close(t[t > 30], a[a > 30])


def test_uint8_index_is_a_deprecated_mask():
    # PyTorch's pre-bool convention: a uint8 index selects like the bool mask `!= 0`, with a warning
    a, t = arange_pair((3, 4))
    m = np.array([[1, 0, 2, 0], [0, 0, 1, 1], [5, 0, 0, 0]], dtype=np.uint8)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        assert_close(t[torch.tensor(m)], a[m != 0])
    with pytest.warns(UserWarning):
        assert_close(t[torch.tensor([1, 0, 1], dtype=torch.uint8)], a[[0, 2]])


def test_mask_shape_mismatch_raises():
    t = torch.zeros(3, 4)
    with pytest.raises(IndexError, match="mask"):
        t[torch.ones(4, dtype=torch.bool)]
    with pytest.raises(IndexError):
        t[torch.ones(3, 5, dtype=torch.bool)]


def test_index_errors():
    t = torch.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        t[3]
    with pytest.raises(IndexError):
        t[-4]
    with pytest.raises(IndexError):
        t[:, 4]
    with pytest.raises(IndexError):
        t[0, 0, 0]
    with pytest.raises(IndexError):
        t[[0, 3]]
    with pytest.raises(IndexError):
        t[torch.tensor([0, -4])]
    with pytest.raises(IndexError):
        t[:, torch.tensor([[4]])]
    with pytest.raises(IndexError):
        t[torch.tensor([0.0])]                       # float index tensor
    with pytest.raises(IndexError):
        t[[0, 1], [0, 1, 2]]                         # shapes cannot broadcast
    with pytest.raises(IndexError):
        t[torch.tensor([0], dtype=torch.int8)]
    with pytest.raises(IndexError):
        t[Ellipsis, 0, 0, 0]
    with pytest.raises(IndexError):
        torch.zeros(0)[0]
    # slices never raise: they clamp
    assert tuple(t[5:10].shape) == (0, 4)
    assert tuple(t[:, -10:2].shape) == (3, 2)


def test_index_with_range_and_int_sequences():
    # A range, a list/tuple of ints, a NumPy int array or a deque is one integer-array index
    # (PyTorch's sequenceToVariable), as NumPy reads the same lists.
    import collections
    a, t = arange_pair((6, 5))
    assert_close(t[range(3)], a[list(range(3))])
    assert_close(t[range(0, 6, 2), :], a[0:6:2, :])
    assert_close(t[:, range(2)], a[:, :2])
    assert_close(t[range(-2, 0)], a[[-2, -1]])
    assert_close(t[range(0)], a[[]].reshape(0, 5))
    assert_close(t[range(5, 0, -2)], a[[5, 3, 1]])
    assert_close(t[range(2), range(1, 3)], a[[0, 1], [1, 2]])
    assert_close(t[np.array([0, 2], dtype=np.int32)], a[[0, 2]])
    assert_close(t[collections.deque([4, 0])], a[[4, 0]])
    # index data other than bool is int64: floats truncate toward zero (PyTorch's rule)
    assert_close(t[[0.7, -1.5]], a[[0, -1]])
    assert_close(t[np.array([1.9, 0.0])], a[[1, 0]])
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 0 with size 6"):
        t[range(7)]
    with pytest.raises(IndexError, match="index 32 is out of bounds for dimension 0 with size 6"):
        t[range(32, 40)]


def test_index_short_sequence_of_sequences_is_a_tuple():
    # PyTorch's legacy rule (treatSequenceAsTuple): a non-tuple sequence of fewer than 32
    # items holding a sequence, slice, tensor, None or Ellipsis is read as a tuple, with
    # PyTorch's deprecation warning; NumPy arrays never are.
    a, t = arange_pair((4, 5))
    match = "Using a non-tuple sequence for multidimensional indexing is deprecated"
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[[0, 1], [1, 2]]], a[[0, 1], [1, 2]])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[(0, 1), (1, 2)]], a[[0, 1], [1, 2]])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[0, slice(None)]], a[0, :])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[None]], a[None])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[Ellipsis, 0]], a[..., 0])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[range(2), range(2)]], a[[0, 1], [0, 1]])
    with pytest.warns(UserWarning, match=match):
        assert_close(t[[torch.tensor(0), torch.tensor(1)]], a[0, 1])
    assert_close(t[np.array([[0, 1], [1, 2]])], a[np.array([[0, 1], [1, 2]])])   # (2, 2, 5), no warning
    # 32 items or more: one index (here a (40, 1) integer array)
    assert tuple(t[[[0]] * 40].shape) == (40, 1, 5)


def test_index_bad_sequences_and_objects():
    t = torch.zeros(3, 4)
    for bad, name in ((1.5, "float"), ({}, "dict"), ({1}, "set"), (object(), "object")):
        with pytest.raises(IndexError, match=r"only integers, slices \(`:`\), ellipsis \(`...`\), None and long or "
                                             rf"byte Variables are valid indices \(got {name}\)"):
            t[bad]
        with pytest.raises(IndexError, match=rf"valid indices \(got {name}\)"):
            t[0, bad]
        with pytest.raises(IndexError, match=rf"valid indices \(got {name}\)"):
            t[bad] = 1.0
    with pytest.raises(TypeError, match="new\\(\\): invalid data type 'str'"), \
            pytest.warns(UserWarning, match="non-tuple sequence"):
        t[[0, "a"]]                                  # a str is a sequence (tuple rule), not index data
    with pytest.raises(TypeError, match="new\\(\\): invalid data type 'bytes'"):
        t[b"ab"]
    with pytest.raises((TypeError, RuntimeError)):
        t[[0, object()]]


def test_setitem_with_range_and_sequences():
    a, t = arange_pair((4, 5))
    t[:, range(2)] = 1.0
    a[:, :2] = 1.0
    t[range(0, 4, 2)] = -1.0
    a[[0, 2]] = -1.0
    t[range(3), range(1, 4)] = torch.tensor([7.0, 8.0, 9.0], dtype=torch.float64)
    a[[0, 1, 2], [1, 2, 3]] = [7.0, 8.0, 9.0]
    t[[0.5]] = 5.0                                  # float data truncates: row 0
    a[[0]] = 5.0
    assert_close(t, a)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        t[range(5)] = 1.0
    assert_close(t, a)


# ---------------------------------------------------------------- setitem

def test_setitem_basic():
    a, t = arange_pair((3, 4, 5))
    t[0] = -1.0
    a[0] = -1.0
    t[1, -1] = torch.tensor([10.0, 11.0, 12.0, 13.0, 14.0], dtype=torch.float64)
    a[1, -1] = [10.0, 11.0, 12.0, 13.0, 14.0]
    t[:, 1:3, ::2] = torch.tensor([7.0, 8.0, 9.0], dtype=torch.float64)       # broadcast (3,) -> (3,2,3)
    a[:, 1:3, ::2] = [7.0, 8.0, 9.0]
    t[..., 4] = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)     # (3,1) -> (3,4)
    a[..., 4] = [[1.0], [2.0], [3.0]]
    t[2, 3, 4] = 99
    a[2, 3, 4] = 99
    t[None, 1, 0] = 5.5
    a[None, 1, 0] = 5.5
    t[2:, None, 0] = torch.tensor(-7.0, dtype=torch.float64)
    a[2:, None, 0] = -7.0
    assert_close(t, a)


def test_setitem_advanced():
    a, t = arange_pair((3, 4, 5))
    t[[0, 2]] = 0.0
    a[[0, 2]] = 0.0
    t[torch.tensor([1, 1]), torch.tensor([0, 3])] = torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]],
                                                                  dtype=torch.float64).t()
    a[[1, 1], [0, 3]] = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    t[:, [1, 2], [3, 4]] = torch.tensor([-1.0, -2.0], dtype=torch.float64)
    a[:, [1, 2], [3, 4]] = [-1.0, -2.0]
    t[[0, 1], :, [0, 1]] = torch.arange(8, dtype=torch.float64).reshape(2, 4) * 10
    a[[0, 1], :, [0, 1]] = np.arange(8).reshape(2, 4) * 10
    m = a > 50
    t[torch.tensor(m)] = -3.0
    a[m] = -3.0
    m1 = np.array([True, False, True, False, False])
    t[:, :, torch.tensor(m1)] = torch.tensor([100.0, 200.0], dtype=torch.float64)
    a[:, :, m1] = [100.0, 200.0]
    assert_close(t, a)


def test_setitem_int_tensor_truncates_float_scalar():
    t = torch.arange(6).reshape(2, 3)
    t[0] = 2.7
    t[torch.tensor([1]), 0] = -1.9
    assert t.tolist() == [[2, 2, 2], [-1, 4, 5]]
    b = torch.zeros(3, dtype=torch.bool)
    b[1] = True
    assert b.tolist() == [False, True, False]


def test_setitem_through_views_reaches_base():
    a, t = arange_pair((4, 6))
    v = t[1:, ::2]
    v[0] = -1.0
    a[1:, ::2][0] = -1.0
    v[[1, 2], [0, 2]] = -2.0
    a[1:, ::2][[1, 2], [0, 2]] = -2.0
    tt = t.t()
    tt[torch.tensor([True, False, False, False, False, True])] = -4.0
    a.T[[True, False, False, False, False, True]] = -4.0
    assert_close(t, a)


def test_setitem_errors_leave_tensor_unchanged():
    a, t = arange_pair((3, 4))
    with pytest.raises(RuntimeError):
        t[0:2] = torch.ones(3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[torch.tensor([0, 1])] = torch.ones(3, dtype=torch.float64)
    with pytest.raises(IndexError):
        t[3] = 1.0
    with pytest.raises(IndexError):
        t[0, 0, 0] = 1.0
    assert_close(t, a)
    # PyTorch's CPU index_put_ checks bounds while writing, so it may leave earlier rows
    # written; only the exception is specified here (an engine that validates first is fine)
    c = t.clone()
    with pytest.raises(IndexError):
        c[[0, 5]] = 1.0


# ---------------------------------------------------------------- hypothesis property tests

SETTINGS = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def index_cases(draw):
    """(shape, NumPy index tuple, how each array item is passed to PyTorch)."""
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    mode = draw(st.sampled_from(["basic", "int_adv", "int_adv", "mask"]))
    k = draw(st.integers(0 if mode == "basic" else 1, ndim))   # dims consumed by explicit items
    use_ellipsis = draw(st.booleans())
    split = draw(st.integers(0, k)) if use_ellipsis else k
    dims = list(range(split)) + list(range(ndim - (k - split), ndim))
    forced = draw(st.integers(0, max(k - 1, 0)))       # this item is an array / mask in adv modes
    bshape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    pairs = []                                         # (item, kind)
    if use_ellipsis and split == 0:
        pairs.append((Ellipsis, None))
    i = 0
    mask_used = False
    while i < len(dims):
        d = dims[i]
        n = shape[d]
        choices = ["int", "slice"]
        if mode == "int_adv":
            choices += ["adv", "adv", "adv"]
        if mode == "mask" and not mask_used:
            choices += ["mask"]
        kind = draw(st.sampled_from(choices))
        if i == forced and mode != "basic":
            kind = "adv" if mode == "int_adv" else "mask"
        if kind == "mask" and mask_used:
            kind = "slice"
        if kind == "int":
            pairs.append((draw(st.integers(-n, n - 1)), None))
            i += 1
        elif kind == "slice":
            lo = st.one_of(st.none(), st.integers(-n - 2, n + 2))
            pairs.append((slice(draw(lo), draw(lo), draw(st.sampled_from([None, 1, 2, 3]))), None))
            i += 1
        elif kind == "adv":
            # a shape that broadcasts to bshape: a suffix of it with some dims set to 1
            nd = 0 if draw(st.integers(0, 7)) == 0 else draw(st.integers(1, len(bshape)))  # 0-d: acts as an int
            sub = bshape[len(bshape) - nd:]
            sub = tuple(1 if draw(st.booleans()) else s for s in sub)
            size = int(np.prod(sub))
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size))
            arr = np.array(vals, dtype=np.int64).reshape(sub)
            pairs.append((arr, draw(st.sampled_from(["tensor", "int32"] + (["list"] if arr.ndim == 1 else [])))))
            i += 1
        else:
            # a bool mask over 1 or 2 consecutive dims (on the same side of the Ellipsis)
            m = 1
            if (i + 1 < len(dims) and dims[i + 1] == d + 1 and not (use_ellipsis and i + 1 == split)
                    and draw(st.booleans())):
                m = 2
            mshape = tuple(shape[d:d + m])
            size = int(np.prod(mshape))
            bits = draw(st.lists(st.booleans(), min_size=size, max_size=size))
            pairs.append((np.array(bits, dtype=bool).reshape(mshape),
                          draw(st.sampled_from(["tensor"] + (["list"] if m == 1 else [])))))
            mask_used = True
            i += m
        if use_ellipsis and split > 0 and i == split:
            pairs.append((Ellipsis, None))
    for _ in range(draw(st.integers(0, 2))):           # sprinkle Nones
        pairs.insert(draw(st.integers(0, len(pairs))), (None, None))
    return shape, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


@SETTINGS
@given(case=index_cases(), dtype=st.sampled_from(["float32", "int64"]))
# arrays around an Ellipsis that covers no dim: adjacent for PyTorch, separated for NumPy
@example(case=((2, 1, 1, 1), (slice(None), np.array([0]), Ellipsis, np.array([0]), slice(None)),
               (None, "tensor", None, "tensor", None)), dtype="float32")
def test_hypothesis_getitem(case, dtype):
    shape, idx, kinds = case
    a, t = make(shape, dtype, seed=1)
    tidx = to_torch_index(idx, kinds)
    got = t[tidx]
    exp = ref_get(a, idx)
    assert tuple(got.shape) == np.shape(exp)
    assert_close(got, exp)
    # without integers mixed with arrays, PyTorch and plain NumPy agree exactly (once an
    # Ellipsis covering no dim is written out: NumPy would call the arrays around it separated)
    has_arr = any(isinstance(x, np.ndarray) for x in idx)
    has_int = any(_is_int(x) for x in idx)
    if not (has_arr and has_int):
        assert np.array_equal(np.asarray(a[_expand_ellipsis(tuple(idx), a.ndim)]), np.asarray(exp))


@SETTINGS
@given(case=index_cases(), dtype=st.sampled_from(["float32", "int64"]), data=st.data())
def test_hypothesis_setitem(case, dtype, data):
    shape, idx, kinds = case
    a, t = make(shape, dtype, seed=2)
    tidx = to_torch_index(idx, kinds)
    rshape = np.shape(ref_get(a, idx))
    # which input positions the index writes: duplicates make tensor values nondeterministic
    pos = np.asarray(ref_get(np.arange(a.size).reshape(shape), idx)).reshape(-1)
    dup = len(np.unique(pos)) < len(pos)
    how = data.draw(st.sampled_from(["scalar", "tensor0d"] if dup else ["scalar", "tensor0d", "full", "bcast"]))
    if how == "scalar":
        v_np = data.draw(st.integers(-50, 50))
        v_t = v_np
    else:
        if how == "tensor0d":
            vshape = ()
        elif how == "full":
            vshape = rshape
        else:
            nd = data.draw(st.integers(0, len(rshape)))
            vshape = tuple(1 if data.draw(st.booleans()) else s for s in rshape[len(rshape) - nd:])
        v_np, v_t = make(vshape, dtype, seed=3)
    exp = ref_set(a, idx, v_np)
    t[tidx] = v_t
    assert_close(t, exp)


@SETTINGS
@given(case=index_cases())
def test_hypothesis_basic_index_is_view(case):
    shape, idx, kinds = case
    basic = []
    for x in idx:                                   # arrays -> full slices over the dims they consume
        if isinstance(x, np.ndarray):
            basic.extend([slice(None)] * _consumes(x))
        else:
            basic.append(x)
    idx = tuple(basic)
    a, t = arange_pair(shape)
    exp = a[idx]
    got = t[idx]
    assert_close(got, exp)
    if got.numel():
        assert is_view_of(got, t)
        got[...] = -1.0                       # write through the view
        a[idx] = -1.0
        assert_close(t, a)
