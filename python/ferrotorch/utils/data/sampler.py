"""Samplers (torch.utils.data.sampler): iterables of dataset indices, or of lists of them."""
import itertools

import numpy as np

from ... import _C

__all__ = [
    "BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]

_INT64_MAX = 2**63 - 1


def _fresh_seed(generator=None):
    """A 63-bit seed drawn from ``generator`` (the default generator when None), standing in for
    PyTorch's ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``."""
    if generator is None:
        return int(_C.randint(0, _INT64_MAX, ()).item())
    return int(_C.randint(0, _INT64_MAX, (), generator=generator).item())


class Sampler:
    """Base class: subclasses implement ``__iter__`` (and ``__len__`` where the length is known)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def __class_getitem__(cls, item):  # Sampler[int] in type hints
        return cls


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (repeated to reach ``num_samples``), or, with
    ``replacement=True``, ``num_samples`` independent uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self):
        # the dataset may change size between construction and iteration
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:
            # a fresh stream per epoch, seeded from the default generator (as PyTorch)
            generator = _C.Generator()
            generator.manual_seed(_fresh_seed())
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from _C.randint(0, n, (32,), dtype=_C.int64, generator=generator).tolist()
            yield from _C.randint(0, n, (self.num_samples % 32,), dtype=_C.int64, generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from _C.randperm(n, generator=generator).tolist()
            yield from _C.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _C.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


def _multinomial(weights, num_samples, replacement, generator):
    """``torch.multinomial`` for a 1-d float64 weight tensor: indices drawn with probability
    proportional to ``weights``. Errors and their messages are PyTorch's."""
    n = weights.numel()
    if n == 0:
        raise RuntimeError("cannot sample from an empty distribution (weights have no entries)")
    w = weights.numpy()
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        # PyTorch's wording depends on the kernel it picks
        if not replacement or num_samples == 1:
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.isinf(w).any() and not (np.isnan(w) | (w < 0)).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    if w.sum() <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    u = _C.rand(num_samples if replacement else n, dtype=_C.float64, generator=generator).numpy()
    if replacement:
        # inverse CDF: the first category whose cumulative weight exceeds u * total. Categories of
        # weight 0 add no width, so they are never chosen; the clamp guards u * total rounding up.
        cdf = np.cumsum(w)
        idx = np.searchsorted(cdf, u * cdf[-1], side="right")
        idx = np.minimum(idx, np.flatnonzero(w)[-1])
    else:
        # Efraimidis-Spirakis: the k largest keys log(u) / w are a weighted draw without
        # replacement, in draw order (weight-0 categories get -inf and come last).
        with np.errstate(divide="ignore"):
            keys = np.log(u) / w
        idx = np.argsort(-keys, kind="stable")[:num_samples]
    return idx.tolist()


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn from ``[0, len(weights))`` with probability proportional to
    ``weights`` (with or without replacement)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = _C.as_tensor(weights, dtype=_C.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError(
                "weights should be a 1d sequence but given "
                f"weights have shape {tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        yield from _multinomial(self.weights, self.num_samples, self.replacement, self.generator)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter,
    or dropped with ``drop_last=True``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip of one iterator repeated batch_size times stops at the first short batch
            for batch in zip(*([sampler_iter] * self.batch_size)):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
