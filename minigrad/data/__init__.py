"""``minigrad.data``: datasets, mini-batch loading, transforms and downloads.

* :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :class:`ConcatDataset`, :func:`random_split`
* :class:`DataLoader` — batches as Tensors; whole-array fast path; ``device='cuda'`` keeps the
  data on the GPU; worker processes (``num_workers``) for datasets computed per sample;
  PyTorch's samplers, :func:`default_collate`, :func:`get_worker_info`
* datasets: :func:`digits` (embedded 8x8 digits), :class:`MNIST`, :class:`FashionMNIST`,
  :func:`spirals`, :func:`moons`
* transforms: :class:`Normalize`, :func:`one_hot`, :class:`Compose`, :class:`RandomShift`,
  :class:`RandomRotation`, :class:`ElasticDistortion` (and the functions in :mod:`.warp`)
* files: :func:`read_idx`, :func:`write_idx`, :func:`load_mnist_pkl`, :func:`download_file`,
  :func:`default_root`
"""
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .digits import digits
from .download import DownloadError, default_root, download_file
from .idx import IDXError, read_idx, write_idx
from .loader import (BatchSampler, DataLoader, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                     WeightedRandomSampler, WorkerInfo, default_collate, default_convert, get_worker_info)
from .mnist import MNIST, DataFilesNotFound, FashionMNIST
from .mnist_pkl import load_mnist_pkl
from .synthetic import moons, spirals
from .transforms import Compose, Normalize, one_hot
from .warp import (ElasticDistortion, RandomRotation, RandomShift, elastic_distortion, random_rotation, random_shift,
                   rotate, shift)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
    "default_convert", "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler",
    "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
    "digits", "MNIST", "FashionMNIST", "spirals", "moons",
    "Normalize", "one_hot", "Compose", "RandomShift", "RandomRotation", "ElasticDistortion",
    "shift", "random_shift", "rotate", "random_rotation", "elastic_distortion",
    "read_idx", "write_idx", "IDXError", "load_mnist_pkl", "download_file", "DownloadError", "DataFilesNotFound",
    "default_root",
]
