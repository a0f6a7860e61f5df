"""Samplers (torch.utils.data.sampler).

Random samplers are checked by the properties their output must have (a permutation,
counts, reproducibility under a seeded generator) and, where they draw from a
distribution, by a chi-square statistic against the expected frequencies: the bounds
used are beyond the 1e-6 quantile of the chi-square law, so a correct sampler fails
them with negligible probability, while a wrong distribution fails them by a wide margin.
"""
import collections

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import (
    BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)


def _gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def _chi2(counts, probs, n):
    expected = np.asarray(probs, dtype=np.float64) * n
    counts = np.asarray(counts, dtype=np.float64)
    return float(((counts - expected) ** 2 / expected).sum())


# chi-square upper quantiles at p = 1e-6 by degrees of freedom (chi2.isf(1e-6, k))
_CHI2_1E6 = {1: 23.93, 2: 27.63, 3: 30.66, 4: 33.38, 5: 35.89, 9: 44.81}


def test_sampler_base():
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_sequential_sampler():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4]
    assert len(s) == 5
    assert list(SequentialSampler([])) == []


# ---- RandomSampler --------------------------------------------------------------------

def test_random_sampler_is_a_permutation():
    s = RandomSampler(range(50), generator=_gen(0))
    out = list(s)
    assert sorted(out) == list(range(50))
    assert len(s) == 50
    assert all(isinstance(i, int) for i in out)


def test_random_sampler_reproducible_and_advancing():
    a = list(RandomSampler(range(40), generator=_gen(7)))
    b = list(RandomSampler(range(40), generator=_gen(7)))
    assert a == b
    s = RandomSampler(range(40), generator=_gen(7))
    first, second = list(s), list(s)
    assert first == a
    assert second != first and sorted(second) == list(range(40))  # the generator moved on


def test_random_sampler_without_generator_follows_manual_seed():
    torch.manual_seed(5)
    a = list(RandomSampler(range(30)))
    torch.manual_seed(5)
    b = list(RandomSampler(range(30)))
    assert a == b and sorted(a) == list(range(30))


def test_random_sampler_num_samples_beyond_length_without_replacement():
    # 25 from 10: two full permutations, then 5 distinct indices
    s = RandomSampler(range(10), num_samples=25, generator=_gen(3))
    out = list(s)
    assert len(out) == len(s) == 25
    assert sorted(out[:10]) == list(range(10)) and sorted(out[10:20]) == list(range(10))
    assert len(set(out[20:])) == 5


def test_random_sampler_num_samples_below_length():
    out = list(RandomSampler(range(10), num_samples=4, generator=_gen(3)))
    assert len(out) == 4 and len(set(out)) == 4 and all(0 <= i < 10 for i in out)


def test_random_sampler_with_replacement_uniform():
    n, draws = 10, 20000
    s = RandomSampler(range(n), replacement=True, num_samples=draws, generator=_gen(11))
    out = list(s)
    assert len(out) == len(s) == draws
    counts = np.bincount(out, minlength=n)
    assert counts.size == n  # nothing outside [0, n)
    assert _chi2(counts, [1 / n] * n, draws) < _CHI2_1E6[9]


def test_random_sampler_with_replacement_odd_count_and_repeats():
    out = list(RandomSampler(range(3), replacement=True, num_samples=70, generator=_gen(2)))
    assert len(out) == 70  # 2 * 32 + 6
    assert set(out) <= {0, 1, 2}
    assert len(out) > len(set(out))


def test_random_sampler_length_follows_dataset():
    data = [1, 2, 3]
    s = RandomSampler(data, generator=_gen(0))
    data.append(4)  # num_samples defaults to the length at iteration time
    assert len(s) == 4 and sorted(s) == [0, 1, 2, 3]


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_random_sampler_bad_num_samples(bad):
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(5), num_samples=bad)


def test_random_sampler_empty_dataset():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler([])


def test_random_sampler_bad_replacement():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(5), replacement=1)


# ---- SubsetRandomSampler --------------------------------------------------------------

def test_subset_random_sampler():
    idx = [10, 20, 30, 40, 50]
    s = SubsetRandomSampler(idx, generator=_gen(0))
    out = list(s)
    assert sorted(out) == idx and len(s) == 5
    assert list(SubsetRandomSampler(idx, generator=_gen(0))) == out


def test_subset_random_sampler_each_position_uniform():
    # over many epochs, the first element is each index equally often
    s = SubsetRandomSampler([0, 1, 2, 3], generator=_gen(9))
    firsts = [next(iter(s)) for _ in range(4000)]
    counts = np.bincount(firsts, minlength=4)
    assert _chi2(counts, [0.25] * 4, 4000) < _CHI2_1E6[3]


# ---- WeightedRandomSampler ------------------------------------------------------------

def test_weighted_sampler_frequencies_with_replacement():
    w = [1.0, 2.0, 3.0, 4.0, 0.0]
    draws = 30000
    s = WeightedRandomSampler(w, draws, generator=_gen(1))
    out = list(s)
    assert len(out) == len(s) == draws
    counts = np.bincount(out, minlength=5)
    assert counts[4] == 0  # zero weight: never drawn
    assert _chi2(counts[:4], np.array(w[:4]) / 10, draws) < _CHI2_1E6[3]


def test_weighted_sampler_without_replacement_distinct_and_ordered_by_draw():
    # P(order) of a sequential draw without replacement, e.g. (2, 1, 0): 7/10 * 2/3 * 1
    w = [1.0, 2.0, 7.0]
    reps = 6000
    s = WeightedRandomSampler(w, 3, replacement=False, generator=_gen(4))
    orders = collections.Counter(tuple(s) for _ in range(reps))
    assert all(sorted(o) == [0, 1, 2] for o in orders)
    perms = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    p = []
    for a, b, _ in perms:
        pa = w[a] / 10
        p.append(pa * w[b] / (10 - w[a]))
    assert abs(sum(p) - 1) < 1e-12
    assert _chi2([orders[o] for o in perms], p, reps) < _CHI2_1E6[5]


def test_weighted_sampler_without_replacement_skips_zero_weights_while_it_can():
    s = WeightedRandomSampler([0.0, 1.0, 0.0, 1.0, 1.0], 3, replacement=False, generator=_gen(0))
    for _ in range(50):
        assert sorted(s) == [1, 3, 4]


def test_weighted_sampler_reproducible():
    a = list(WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 20, generator=_gen(5)))
    b = list(WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 20, generator=_gen(5)))
    assert a == b and all(0 <= i < 6 for i in a)


def test_weighted_sampler_weights_stored_as_double():
    s = WeightedRandomSampler(np.array([1, 2, 3], dtype=np.float32), 2)
    assert s.weights.dtype == torch.float64
    np.testing.assert_array_equal(s.weights.numpy(), [1.0, 2.0, 3.0])
    s = WeightedRandomSampler(torch.tensor([1.0, 2.0]), 2)
    assert s.weights.dtype == torch.float64


@pytest.mark.parametrize("bad", [0, -3, True, 2.0])
def test_weighted_sampler_bad_num_samples(bad):
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0, 2.0], bad)


def test_weighted_sampler_bad_arguments():
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=0"):
        WeightedRandomSampler([1.0, 2.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(2, 2\)"):
        WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 1)


@pytest.mark.parametrize("w, n, replacement, msg", [
    ([1.0, -2.0], 1, True, "probability tensor contains either `inf`, `nan` or element < 0"),
    ([1.0, -2.0], 2, False, "probability tensor contains either `inf`, `nan` or element < 0"),
    ([1.0, float("nan")], 1, False, "probability tensor contains either `inf`, `nan` or element < 0"),
    ([1.0, float("inf")], 1, True, "probability tensor contains either `inf`, `nan` or element < 0"),
    ([1.0, -2.0], 3, True, r"invalid multinomial distribution \(encountering probability entry < 0\)"),
    ([1.0, float("inf")], 3, True,
     r"invalid multinomial distribution \(encountering probability entry = infinity or NaN\)"),
    ([0.0, 0.0], 1, True, r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
    ([0.0, 0.0], 2, False, r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
    ([1.0, 2.0], 3, False, r"cannot sample n_sample > prob_dist.size\(-1\) samples without replacement"),
])
def test_weighted_sampler_invalid_distributions(w, n, replacement, msg):
    s = WeightedRandomSampler(w, n, replacement=replacement)  # checked when drawing, as PyTorch
    with pytest.raises(RuntimeError, match=msg):
        list(s)


# ---- BatchSampler ---------------------------------------------------------------------

def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(10)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(SequentialSampler(range(10)), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4
    assert len(BatchSampler(range(10), 3, True)) == 3
    assert len(BatchSampler(range(9), 3, True)) == 3
    assert list(BatchSampler([5, 1, 4], 2, False)) == [[5, 1], [4]]  # any iterable
    assert list(BatchSampler([], 2, False)) == []


def test_batch_sampler_over_random_sampler_keeps_its_order():
    order = list(RandomSampler(range(23), generator=_gen(8)))
    batches = list(BatchSampler(RandomSampler(range(23), generator=_gen(8)), 5, False))
    assert [i for b in batches for i in b] == order
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_batch_sampler_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), bad, False)


def test_batch_sampler_bad_drop_last():
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


# ---- DistributedSampler (explicit replicas) ---------------------------------------------

def test_distributed_sampler_shards_and_pads():
    parts = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded by wrapping to 12
    parts = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False, drop_last=True))
             for r in range(3)]
    assert parts == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_distributed_sampler_shuffle_epochs():
    s = [DistributedSampler(range(12), num_replicas=2, rank=r, seed=3) for r in range(2)]
    epoch0 = [list(x) for x in s]
    assert sorted(epoch0[0] + epoch0[1]) == list(range(12))
    assert [list(x) for x in s] == epoch0  # same epoch, same order
    for x in s:
        x.set_epoch(1)
    epoch1 = [list(x) for x in s]
    assert sorted(epoch1[0] + epoch1[1]) == list(range(12)) and epoch1 != epoch0


def test_distributed_sampler_bad_rank():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
