"""``minigrad.utils.data``: PyTorch's ``torch.utils.data`` names, so a PyTorch script's
``from torch.utils.data import DataLoader, Dataset`` works with ``torch`` spelled ``minigrad``.

The objects are those of :mod:`minigrad.data` (this module only re-exports them): map-style
datasets, :func:`random_split`, the :class:`DataLoader` with PyTorch's keywords, the samplers,
:func:`default_collate` and :func:`get_worker_info`.  A ``generator=`` is a
``numpy.random.Generator`` or an int seed (minigrad has no ``torch.Generator``).
"""
from ...data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from ...data.loader import (BatchSampler, DataLoader, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                            WeightedRandomSampler, default_collate, default_convert, get_worker_info)

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
           "default_convert", "get_worker_info", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]
