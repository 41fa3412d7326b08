"""``minigrad.utils``: PyTorch's ``torch.utils`` paths, so ``minigrad.utils.data`` is where a
PyTorch script looks for its datasets and loader."""
from . import data

__all__ = ["data"]
