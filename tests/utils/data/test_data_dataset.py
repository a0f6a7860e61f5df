"""Dataset classes and random_split (torch.utils.data.dataset).

References are hand-computed or NumPy: every sample read from a dataset is compared with
the row of the NumPy array it was built from.
"""
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset, random_split,
)


def _np(t):
    return t.detach().numpy()


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Stream(IterableDataset):
    def __init__(self, values):
        self.values = list(values)

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


# ---- TensorDataset --------------------------------------------------------------------

def test_tensor_dataset_rows_match_numpy():
    xn = np.arange(30, dtype=np.float32).reshape(10, 3)
    yn = np.arange(10, dtype=np.int64) * 7
    ds = TensorDataset(torch.from_numpy(xn.copy()), torch.from_numpy(yn.copy()))
    assert len(ds) == 10
    for i in (0, 4, 9, -1, -10):
        x, y = ds[i]
        np.testing.assert_array_equal(_np(x), xn[i])
        assert y.item() == yn[i]
        assert y.dim() == 0 and x.shape == (3,)
    xs, ys = ds[2:5]  # slices index every tensor alike
    np.testing.assert_array_equal(_np(xs), xn[2:5])
    np.testing.assert_array_equal(_np(ys), yn[2:5])


def test_tensor_dataset_single_tensor_gives_1_tuple():
    ds = TensorDataset(torch.arange(4))
    item = ds[2]
    assert isinstance(item, tuple) and len(item) == 1 and item[0].item() == 2


def test_tensor_dataset_rows_are_views_of_the_data():
    x = torch.zeros(4, 2)
    ds = TensorDataset(x)
    x[1] = 5.0  # the dataset holds the tensor itself, not a copy
    np.testing.assert_array_equal(_np(ds[1][0]), [5.0, 5.0])
    assert ds.tensors[0] is x


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(torch.zeros(3, 2), torch.zeros(4))


def test_tensor_dataset_out_of_range():
    ds = TensorDataset(torch.zeros(3, 2))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        ds[3]


# ---- Dataset / IterableDataset base classes ------------------------------------------

def test_dataset_base_getitem_not_implemented():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_dataset_add_gives_concat():
    c = Squares(3) + Squares(2)
    assert isinstance(c, ConcatDataset)
    assert [c[i] for i in range(len(c))] == [0, 1, 4, 0, 1]


def test_iterable_dataset_add_gives_chain():
    c = Stream([1, 2]) + Stream([3])
    assert isinstance(c, ChainDataset)
    assert list(c) == [1, 2, 3]
    assert len(c) == 3


def test_chain_dataset_rejects_map_style():
    c = ChainDataset([Stream([1]), Squares(2)])
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(c)
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(c)


# ---- ConcatDataset --------------------------------------------------------------------

def test_concat_dataset_indexing():
    a = TensorDataset(torch.arange(3))
    b = TensorDataset(torch.arange(10, 14))
    c = ConcatDataset([a, b, Squares(2)])
    assert len(c) == 9
    assert c.cumulative_sizes == [3, 7, 9]
    got = [c[i] for i in range(9)]
    assert [g[0].item() for g in got[:7]] == [0, 1, 2, 10, 11, 12, 13]
    assert got[7:] == [0, 1]
    assert c[-1] == 1 and c[-3][0].item() == 13 and c[-9][0].item() == 0


def test_concat_dataset_errors():
    c = ConcatDataset([Squares(2), Squares(3)])
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        c[-6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Squares(2), Stream([1])])


def test_concat_dataset_skips_empty_parts():
    c = ConcatDataset([Squares(0), Squares(2), Squares(0), Squares(1)])
    assert [c[i] for i in range(len(c))] == [0, 1, 0]


# ---- StackDataset ---------------------------------------------------------------------

def test_stack_dataset_tuple_and_dict():
    s = StackDataset(Squares(4), TensorDataset(torch.arange(4) * 2))
    item = s[3]
    assert item[0] == 9 and item[1][0].item() == 6
    d = StackDataset(a=Squares(3), b=Squares(3))
    assert d[2] == {"a": 4, "b": 4}
    assert len(s) == 4 and len(d) == 3
    items = s.__getitems__([1, 2])
    assert [x[0] for x in items] == [1, 4]
    assert [x[1][0].item() for x in items] == [2, 4]
    assert d.__getitems__([0, 2]) == [{"a": 0, "b": 0}, {"a": 4, "b": 4}]


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a=Squares(2), b=Squares(3))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Squares(2), b=Squares(2))


# ---- Subset ---------------------------------------------------------------------------

def test_subset_indexing():
    s = Subset(Squares(10), [7, 2, 5])
    assert len(s) == 3
    assert [s[i] for i in range(3)] == [49, 4, 25]
    assert s[-1] == 25
    assert s.__getitems__([2, 0]) == [25, 49]


def test_subset_list_index_goes_to_the_dataset():
    xn = np.arange(12, dtype=np.float32).reshape(6, 2)
    s = Subset(TensorDataset(torch.from_numpy(xn.copy())), [5, 0, 3])
    (rows,) = s[[0, 2]]  # a list index is mapped and handed to the dataset in one call
    np.testing.assert_array_equal(_np(rows), xn[[5, 3]])


def test_subset_subclass_must_override_getitems():
    class Doubled(Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Doubled(Squares(3), [0, 1])


# ---- random_split ---------------------------------------------------------------------

def _check_partition(parts, n):
    seen = sorted(i for p in parts for i in p.indices)
    assert seen == list(range(n))


def test_random_split_lengths():
    parts = random_split(Squares(10), [3, 7], generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
    _check_partition(parts, 10)
    assert all(isinstance(p, Subset) for p in parts)
    # each subset reads the dataset at its own indices
    assert [parts[1][i] for i in range(7)] == [i * i for i in parts[1].indices]


@pytest.mark.parametrize("n, fracs, expected", [
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),     # 3 + 3 + 3 = 9: the remainder 1 goes to the first
    (7, [0.5, 0.5], [4, 3]),
    (11, [0.25, 0.25, 0.25, 0.25], [3, 3, 3, 2]),  # 2 * 4 = 8: 3 more dealt round-robin
    (10, [0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4]),
])
def test_random_split_fractions(n, fracs, expected):
    parts = random_split(range(n), fracs, generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == expected
    _check_partition(parts, n)


def test_random_split_fraction_zero_length_warns():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        parts = random_split(range(2), [0.1, 0.1, 0.8], generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [1, 0, 1]


def test_random_split_reproducible_with_generator():
    a = random_split(range(100), [0.5, 0.5], generator=torch.Generator().manual_seed(42))
    b = random_split(range(100), [0.5, 0.5], generator=torch.Generator().manual_seed(42))
    c = random_split(range(100), [0.5, 0.5], generator=torch.Generator().manual_seed(43))
    assert [p.indices for p in a] == [p.indices for p in b]
    assert [p.indices for p in a] != [p.indices for p in c]


def test_random_split_default_generator_follows_manual_seed():
    torch.manual_seed(123)
    a = random_split(range(50), [20, 30])
    torch.manual_seed(123)
    b = random_split(range(50), [20, 30])
    assert [p.indices for p in a] == [p.indices for p in b]
    _check_partition(a, 50)


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(10), [3, 6])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(10), [0.3, 0.3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


def test_random_split_no_warning_for_nonzero_parts():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        random_split(range(10), [0.5, 0.5], generator=torch.Generator().manual_seed(0))
