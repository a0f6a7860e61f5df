"""DataLoader (torch.utils.data.DataLoader): batching, sampling, argument checks, and
worker processes (ordering, sharding, errors, dead workers, timeouts, seeding, reuse).

Expected batches come from NumPy slices of the data the dataset was built from, or from
the single-process loader where the point is that workers change nothing. Worker tests
use tiny datasets and at most two workers.
"""
import gc
import math
import os
import pickle
import random
import time

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import (
    BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset,
    default_collate, get_worker_info, random_split,
)


def _np(t):
    return t.detach().numpy()


def _gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def _assert_same_batches(a, b):
    """Two lists of batches (nested lists/tuples/dicts of tensors and numbers) are equal."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(_np(a), _np(b))
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same_batches(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same_batches(x, y)
    else:
        assert a == b


def _rows(n, cols=3):
    return np.arange(n * cols, dtype=np.float32).reshape(n, cols) * 0.5


# ---- datasets used by the tests (module level: picklable for the spawn context) ---------

class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"i": i, "sq": np.array([i * i], dtype=np.int64)}


class Counting(IterableDataset):
    """Yields 0..n-1; inside a worker, only the batches (chunks of `bs`) whose number is
    congruent to the worker id, so that round-robin collection restores the full order."""

    def __init__(self, n, bs):
        self.n, self.bs = n, bs

    def __iter__(self):
        info = get_worker_info()
        for i in range(self.n):
            if info is None or (i // self.bs) % info.num_workers == info.id:
                yield i


class WorkerProbe(Dataset):
    """Each item says who read it and what the worker's state was."""

    def __init__(self, n):
        self.n = n
        self.init_value = None

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "i": i, "pid": os.getpid(), "id": info.id, "num_workers": info.num_workers, "seed": info.seed,
            "torch_seed": torch.initial_seed(), "threads": torch.get_num_threads(),
            "same_dataset": info.dataset is self, "init_value": self.init_value,
        }


def _record_init(worker_id):
    info = get_worker_info()
    # first draws after seeding: torch and python RNGs, compared with the seed in the test
    info.dataset.init_value = (worker_id, random.random())


class Failing(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"bad index {i}")
        return i


class FailingKey(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return {}["missing-key"]


class Dying(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 2:
            os._exit(1)
        return i


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(1.0)
        return i


class BigOp(Dataset):
    """Items computed with tensors big enough that the engine would go multi-threaded."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return (torch.ones(300_000, dtype=torch.float64) * (i + 1)).sum().item()


class BigReductionsAndRandom(Dataset):
    """Large float32 reductions and random draws, as data augmentation does."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        if i == 0:
            return torch.ones(1_000_000).sum().item()
        if i == 1:
            u = torch.rand(400_000, dtype=torch.float64)
            return bool((u >= 0).all() and (u < 1).all()) and abs(u.mean().item() - 0.5) < 0.01
        z = torch.randn(400_000, dtype=torch.float64)
        return abs(z.mean().item()) < 0.01 and abs(z.std().item() - 1) < 0.01


class Mixed(Dataset):
    """Tensors of several dtypes and layouts, to cross the process boundary by pickling."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        base = torch.arange(12, dtype=torch.float64).reshape(3, 4) + 100 * i
        leaf = torch.tensor([1.5, -2.0]) * (i + 1)
        leaf.requires_grad_(True)
        return {
            "transposed": base.t(),
            "strided": base[:, ::2],
            "int": torch.arange(5, dtype=torch.int32) * (i + 1),
            "bool": torch.tensor([True, False, i == 1]),
            "half": torch.tensor([0.5, 1.5], dtype=torch.float16),
            "scalar": torch.tensor(7 + i),
            "empty": torch.zeros(0, 3),
            "leaf": leaf,
        }


class DoubledRows(TensorDataset):
    def __getitem__(self, index):
        return tuple(2 * t[index] for t in self.tensors)


# ---- single-process loading ---------------------------------------------------------------

def test_batches_in_order():
    xn = _rows(10)
    yn = np.arange(10) * 3
    ds = TensorDataset(torch.from_numpy(xn.copy()), torch.from_numpy(yn.copy()))
    batches = list(DataLoader(ds, batch_size=4))
    assert len(batches) == 3
    for k, (xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(_np(xb), xn[4 * k: 4 * k + 4])
        np.testing.assert_array_equal(_np(yb), yn[4 * k: 4 * k + 4])
        assert xb.dtype == torch.float32 and yb.dtype == torch.int64
    assert batches[-1][0].shape == (2, 3)


def test_default_batch_size_is_one():
    out = list(DataLoader(Squares(3)))
    assert [b["i"].tolist() for b in out] == [[0], [1], [2]]
    assert [b["sq"].tolist() for b in out] == [[[0]], [[1]], [[4]]]


def test_collation_of_dict_samples():
    (b0, b1) = list(DataLoader(Squares(5), batch_size=3))
    assert b0["i"].dtype == torch.int64 and b0["i"].tolist() == [0, 1, 2]
    assert b1["sq"].shape == (2, 1) and b1["sq"].tolist() == [[9], [16]]


@pytest.mark.parametrize("n, bs, drop_last, expected_len", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (9, 3, False, 3), (2, 5, True, 0), (2, 5, False, 1),
])
def test_len_and_drop_last(n, bs, drop_last, expected_len):
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=bs, drop_last=drop_last)
    assert len(loader) == expected_len
    batches = [b[0].tolist() for b in loader]
    assert len(batches) == expected_len
    flat = [i for b in batches for i in b]
    assert flat == list(range(expected_len * bs if drop_last else n))


def test_batch_size_none_disables_batching():
    loader = DataLoader(Squares(3), batch_size=None)
    assert len(loader) == 3
    out = list(loader)
    # default_convert: numpy arrays become tensors, ints stay ints, no batch dimension
    assert [o["i"] for o in out] == [0, 1, 2] and all(type(o["i"]) is int for o in out)
    assert all(isinstance(o["sq"], torch.Tensor) and o["sq"].shape == (1,) for o in out)
    assert out[2]["sq"].tolist() == [4]


def test_custom_collate_fn():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s["i"] for s in b])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_sampler_and_batch_sampler_arguments():
    ds = TensorDataset(torch.arange(6))
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=[5, 3, 1, 0])]
    assert out == [[5, 3], [1, 0]]
    out = [b[0].tolist() for b in DataLoader(ds, batch_sampler=[[4, 0], [2], [1, 5, 3]])]
    assert out == [[4, 0], [2], [1, 5, 3]]
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=True)
    assert [b[0].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2, 3]]


def test_shuffle_is_a_permutation_and_reproducible():
    ds = TensorDataset(torch.arange(37))
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=_gen(0))]
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=_gen(0))]
    assert a == b
    assert sorted(i for batch in a for i in batch) == list(range(37))
    assert [len(x) for x in a] == [5] * 7 + [2]
    assert a != [list(range(5 * k, min(5 * k + 5, 37))) for k in range(8)]


def test_shuffle_changes_between_epochs():
    loader = DataLoader(TensorDataset(torch.arange(30)), batch_size=30, shuffle=True, generator=_gen(1))
    (e1,), (e2,) = [b[0].tolist() for b in loader], [b[0].tolist() for b in loader]
    assert sorted(e1) == sorted(e2) == list(range(30)) and e1 != e2


def test_shuffle_without_generator_follows_manual_seed():
    ds = TensorDataset(torch.arange(25))
    torch.manual_seed(3)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=7, shuffle=True)]
    torch.manual_seed(3)
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=7, shuffle=True)]
    assert a == b


def test_batches_do_not_alias_the_dataset():
    x = torch.zeros(6, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=3)))
    xb += 1.0
    np.testing.assert_array_equal(_np(x), np.zeros((6, 2)))


# ---- TensorDataset batches equal per-item default collation ------------------------------

def _per_item(batch):
    # the same function, but not `default_collate` itself: reads every item separately
    return default_collate(batch)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8,
                                   torch.bool, torch.float16])
def test_tensor_dataset_batches_match_per_item_collation(dtype):
    rng = np.random.default_rng(0)
    a = torch.from_numpy((rng.standard_normal((23, 2, 3)) * 4).astype(np.float64)).to(dtype)
    b = torch.arange(23)
    ds = TensorDataset(a, b)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=_gen(2)))
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, generator=_gen(2), collate_fn=_per_item))
    _assert_same_batches(fast, slow)
    order = [i for batch in slow for i in batch[1].tolist()]
    np.testing.assert_array_equal(_np(torch.cat([x[0] for x in fast])), _np(a)[order])


def test_tensor_dataset_batches_of_non_contiguous_and_grad_tensors():
    a = torch.arange(40, dtype=torch.float32).reshape(4, 10).t()  # (10, 4), transposed strides
    w = torch.linspace(0, 1, 10)
    w.requires_grad_(True)
    ds = TensorDataset(a, w)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=_per_item))
    _assert_same_batches(fast, slow)
    assert fast[0][1].requires_grad
    sum(b[1].sum() for b in fast).backward()  # gradients flow back to the dataset tensor
    np.testing.assert_array_equal(_np(w.grad), np.ones(10))


def test_subset_of_tensor_dataset():
    xn = _rows(20)
    ds = TensorDataset(torch.from_numpy(xn.copy()))
    train, _ = random_split(ds, [12, 8], generator=_gen(4))
    batches = list(DataLoader(train, batch_size=5))
    got = np.concatenate([_np(b[0]) for b in batches])
    np.testing.assert_array_equal(got, xn[train.indices])
    _assert_same_batches(batches, list(DataLoader(train, batch_size=5, collate_fn=_per_item)))


def test_tensor_dataset_subclass_getitem_is_used():
    ds = DoubledRows(torch.arange(6))
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=4)] == [[0, 2, 4, 6], [8, 10]]


def test_tensor_dataset_unusual_indices():
    ds = TensorDataset(torch.arange(10) * 10)
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=3, sampler=[np.int64(2), -1, 4])]
    assert out == [[20, 90, 40]]
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=[torch.tensor(3), torch.tensor(1)])]
    assert out == [[30, 10]]


def test_tensor_dataset_index_out_of_range():
    ds = TensorDataset(torch.arange(10))
    with pytest.raises(IndexError, match="index 10 is out of bounds for dimension 0 with size 10"):
        list(DataLoader(ds, batch_size=4, sampler=[1, 10, 2]))


# ---- iterable datasets ---------------------------------------------------------------------

def test_iterable_dataset_batches():
    loader = DataLoader(Counting(10, 4), batch_size=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    loader = DataLoader(Counting(10, 4), batch_size=4, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert list(DataLoader(Counting(3, 1), batch_size=None)) == [0, 1, 2]


class _Sized(IterableDataset):
    def __init__(self, values, n):
        self.values, self.n = values, n

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return self.n


def test_iterable_dataset_len():
    assert len(DataLoader(_Sized(range(10), 10), batch_size=4)) == 3
    assert len(DataLoader(_Sized(range(10), 10), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(_Sized(range(10), 10), batch_size=None)) == 10


def test_iterable_dataset_longer_than_its_len_warns():
    loader = DataLoader(_Sized(range(4), 2), batch_size=1)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        out = [b.tolist() for b in loader]
    assert out == [[0], [1], [2], [3]]


# ---- argument checks -------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], shuffle=True), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError,
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(multiprocessing_context="fork"), ValueError, "multiprocessing_context can only be used with multi-process"),
    (dict(num_workers=1, multiprocessing_context="no-such-method"), ValueError,
     "multiprocessing_context option should specify a valid start method"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError,
     "multiprocessing_context option should be a valid context object or a string"),
])
def test_argument_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
        DataLoader(Squares(4), **kwargs)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(shuffle=True), "expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), "expected unspecified sampler option"),
    (dict(batch_sampler=[[0]]), "expected unspecified batch_sampler option"),
])
def test_iterable_dataset_argument_errors(kwargs, msg):
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: " + msg):
        DataLoader(Counting(3, 1), **kwargs)


def test_iterable_dataset_accepts_shuffle_false():
    assert [b.tolist() for b in DataLoader(Counting(2, 1), shuffle=False)] == [[0], [1]]


def test_timeout_needs_workers():
    loader = DataLoader(Squares(2), timeout=1)  # accepted here, refused when iterating
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(loader)


def test_plain_sequence_as_dataset():
    assert [b.tolist() for b in DataLoader(range(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader([1.5, 2.5], batch_size=2)] == [[1.5, 2.5]]


def test_attributes_are_frozen_after_init():
    loader = DataLoader(Squares(4), batch_size=2)
    for attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(loader, attr, None)
    loader.num_workers = 0  # others stay settable


def test_loader_attributes():
    ds = Squares(4)
    loader = DataLoader(ds, batch_size=2, shuffle=True)
    assert loader.dataset is ds and loader.batch_size == 2 and loader.drop_last is False
    assert loader.num_workers == 0 and loader.prefetch_factor is None and loader.timeout == 0
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.batch_sampler.sampler is loader.sampler
    assert DataLoader(ds, num_workers=1).prefetch_factor == 2
    assert loader.collate_fn is default_collate


def test_pin_memory_without_accelerator_warns():
    if torch.cuda.is_available():
        pytest.skip("an accelerator is present")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        out = [b[0].tolist() for b in DataLoader(TensorDataset(torch.arange(3)), batch_size=2, pin_memory=True)]
    assert out == [[0, 1], [2]]


# ---- pickling (how tensors reach the main process from workers) ---------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool])
def test_tensor_pickle_round_trip(dtype):
    ref = (np.arange(24).reshape(2, 3, 4) % 7 - 3).astype(np.float64)
    t = torch.from_numpy(ref.copy()).to(dtype)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype == dtype and u.shape == (2, 3, 4) and not u.requires_grad
    np.testing.assert_array_equal(_np(u.to(torch.float64)), _np(t.to(torch.float64)))


def test_tensor_pickle_views_and_grad():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    for view in (base.t(), base[:, 1::2], base[2], base[1:1], torch.tensor(3.5)):
        u = pickle.loads(pickle.dumps(view))
        assert u.shape == view.shape and u.dtype == view.dtype
        np.testing.assert_array_equal(_np(u), _np(view))
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    u = pickle.loads(pickle.dumps(leaf))
    assert u.requires_grad and u.is_leaf
    np.testing.assert_array_equal(_np(u), [1.0, 2.0])
    (u * 3).sum().backward()  # a fresh leaf of its own
    np.testing.assert_array_equal(_np(u.grad), [3.0, 3.0])
    assert leaf.grad is None


# ---- worker processes -----------------------------------------------------------------------

def test_workers_give_the_single_process_batches():
    xn = _rows(21)
    ds = TensorDataset(torch.from_numpy(xn.copy()), torch.arange(21))
    single = list(DataLoader(ds, batch_size=4, shuffle=True, generator=_gen(9)))
    multi = list(DataLoader(ds, batch_size=4, shuffle=True, generator=_gen(9), num_workers=2))
    _assert_same_batches(multi, single)
    assert sorted(i for b in multi for i in b[1].tolist()) == list(range(21))


def test_workers_give_the_single_process_batches_dict_samples():
    single = list(DataLoader(Squares(11), batch_size=3))
    multi = list(DataLoader(Squares(11), batch_size=3, num_workers=2, prefetch_factor=1))
    _assert_same_batches(multi, single)


def test_workers_with_sharded_iterable_dataset():
    single = [b.tolist() for b in DataLoader(Counting(18, 4), batch_size=4)]
    multi = [b.tolist() for b in DataLoader(Counting(18, 4), batch_size=4, num_workers=2)]
    assert single == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17]]
    assert multi == single


def test_workers_without_sharding_duplicate_iterable_data():
    # each worker iterates its own full copy, interleaved batch by batch
    out = [b.tolist() for b in DataLoader(_Sized([1, 2, 3], 3), batch_size=2, num_workers=2)]
    assert out == [[1, 2], [1, 2], [3], [3]]


def test_workers_batch_size_none():
    out = list(DataLoader(Squares(5), batch_size=None, num_workers=2))
    assert [o["i"] for o in out] == [0, 1, 2, 3, 4]
    assert [o["sq"].tolist() for o in out] == [[0], [1], [4], [9], [16]]


def test_worker_info_seeding_and_threads():
    assert get_worker_info() is None  # main process
    loader = DataLoader(WorkerProbe(6), batch_size=None, num_workers=2, worker_init_fn=_record_init,
                        generator=_gen(0))
    items = list(loader)
    assert [it["i"] for it in items] == list(range(6))
    # task k goes to worker k % num_workers
    assert [it["id"] for it in items] == [0, 1, 0, 1, 0, 1]
    seeds = {}
    for it in items:
        assert it["num_workers"] == 2 and it["same_dataset"] and it["threads"] == 1
        assert it["torch_seed"] == it["seed"]  # ferrotorch.manual_seed(seed) in the worker
        wid, first_random = it["init_value"]
        assert wid == it["id"]
        assert first_random == random.Random(it["seed"]).random()  # random.seed(seed) before init_fn
        seeds[it["id"]] = it["seed"]
    assert seeds[1] - seeds[0] == 1  # base_seed + worker_id
    assert len({it["pid"] for it in items}) == 2 and os.getpid() not in {it["pid"] for it in items}


def test_worker_seeds_follow_the_loader_generator():
    def seeds(g):
        return [it["seed"] for it in DataLoader(WorkerProbe(2), batch_size=None, num_workers=2, generator=g)]

    a, b, c = seeds(_gen(5)), seeds(_gen(5)), seeds(_gen(6))
    assert a == b and a != c


def test_worker_exception_is_reraised_with_traceback():
    loader = DataLoader(Failing(), batch_size=1, num_workers=2)
    it = iter(loader)
    assert [next(it).tolist() for _ in range(3)] == [[0], [1], [2]]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in msg  # task 3 went to worker 1
    assert "Original Traceback (most recent call last):" in msg
    assert "in __getitem__" in msg and 'raise ValueError(f"bad index {i}")' in msg
    assert "ValueError: bad index 3" in msg
    del it


def test_worker_key_error_message_is_readable():
    with pytest.raises(KeyError) as info:
        list(DataLoader(FailingKey(), num_workers=1))
    text = str(info.value)
    assert "Caught KeyError in DataLoader worker process 0." in text
    assert "KeyError: 'missing-key'" in text
    assert "\\n" not in text  # the traceback is shown as lines, not as a repr'd string


def _failing_init(worker_id):
    raise RuntimeError(f"init failed in {worker_id}")


def test_worker_init_fn_exception_is_reraised():
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0") as info:
        list(DataLoader(Squares(4), num_workers=1, worker_init_fn=_failing_init))
    assert "init failed in 0" in str(info.value)


def test_dead_worker_is_reported():
    loader = DataLoader(Dying(), batch_size=1, num_workers=2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) [\d, ]+\) exited unexpectedly"):
        list(loader)


def test_timeout():
    loader = DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.2 seconds"):
        list(loader)


def test_workers_run_large_tensor_ops():
    # the parent has used the engine's thread pool: a forked worker must not wait on it
    assert (torch.ones(1_000_000) * 2).sum().item() == 2_000_000
    out = list(DataLoader(BigOp(), batch_size=None, num_workers=1, timeout=10))
    assert out == [300_000.0, 600_000.0]


def test_workers_run_large_reductions_and_random_ops():
    assert (torch.ones(1_000_000) * 2).sum().item() == 2_000_000
    torch.rand(1_000_000)
    # the bounds hold with overwhelming probability: mean of 4e5 uniforms has sd 4.6e-4
    out = list(DataLoader(BigReductionsAndRandom(), batch_size=None, num_workers=1, timeout=5))
    assert out == [1_000_000.0, True, True]


def test_tensors_cross_the_process_boundary():
    single = list(DataLoader(Mixed(), batch_size=None))
    multi = list(DataLoader(Mixed(), batch_size=None, num_workers=1))
    _assert_same_batches(multi, single)
    t = multi[1]["transposed"]
    assert t.shape == (4, 3)
    np.testing.assert_array_equal(_np(t), (np.arange(12).reshape(3, 4) + 100).T)
    assert multi[0]["leaf"].requires_grad and multi[0]["leaf"].is_leaf
    assert multi[0]["half"].dtype == torch.float16 and multi[0]["empty"].shape == (0, 3)


def _pids(loader):
    return [it["pid"] for it in loader]


def test_persistent_workers_are_reused_across_epochs():
    loader = DataLoader(WorkerProbe(4), batch_size=None, num_workers=2, persistent_workers=True)
    e1, e2 = list(loader), list(loader)
    assert [it["i"] for it in e1] == [it["i"] for it in e2] == [0, 1, 2, 3]
    assert [it["pid"] for it in e1] == [it["pid"] for it in e2]
    # without persistence, every epoch starts new processes
    loader = DataLoader(WorkerProbe(2), batch_size=None, num_workers=1)
    assert set(_pids(loader)).isdisjoint(_pids(loader))


def test_persistent_workers_with_shuffle_and_partial_epoch():
    ds = TensorDataset(torch.arange(12))
    loader = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2, persistent_workers=True,
                        generator=_gen(3))
    it = iter(loader)
    next(it)  # abandon the first epoch early
    e2 = [b[0].tolist() for b in loader]
    e3 = [b[0].tolist() for b in loader]
    for e in (e2, e3):
        assert sorted(i for b in e for i in b) == list(range(12)) and [len(b) for b in e] == [3] * 4
    assert e2 != e3


def test_workers_exit_when_iterator_is_exhausted():
    pids = set(_pids(DataLoader(WorkerProbe(4), batch_size=None, num_workers=2)))
    assert len(pids) == 2
    for pid in pids:  # joined and reaped: the processes no longer exist
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_exit_when_iterator_is_collected():
    it = iter(DataLoader(WorkerProbe(8), batch_size=None, num_workers=2))
    pids = {next(it)["pid"], next(it)["pid"]}
    del it
    gc.collect()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_spawn_context():
    single = list(DataLoader(Squares(5), batch_size=2))
    multi = list(DataLoader(Squares(5), batch_size=2, num_workers=1, multiprocessing_context="spawn"))
    _assert_same_batches(multi, single)


def test_len_with_workers():
    loader = DataLoader(Squares(7), batch_size=2, num_workers=2)
    assert len(loader) == math.ceil(7 / 2)
    it = iter(loader)
    assert len(it) == 4
    assert len(list(it)) == 4
