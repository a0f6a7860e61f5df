"""ferrotorch.utils.data (torch.utils.data): datasets, samplers, collation and the DataLoader.

Map-style datasets are read through a sampler of indices, grouped into batches by a
BatchSampler and merged by a collate function; ``num_workers > 0`` moves the reading into
worker processes and reassembles their batches in sampler order.
"""
from .dataset import (
    Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset, ChainDataset, Subset,
    random_split,
)
from .sampler import (
    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler,
)
from .distributed import DistributedSampler
# _DatasetKind: importable from torch.utils.data too (not in __all__, as there)
from .dataloader import DataLoader, _DatasetKind as _DatasetKind, get_worker_info, default_collate, default_convert

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
    "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",
    "get_worker_info", "random_split",
]
