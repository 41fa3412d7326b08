"""``Embedding``: a lookup table of learned vectors."""
from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..tensor import Tensor
from .functional.sparse import embedding
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Map integer indices (any shape) to rows of ``weight`` (num_embeddings, embedding_dim),
    drawn from N(0, 1); output shape (*input.shape, embedding_dim).

    ``padding_idx``: that row starts at zero and never receives a gradient.  ``max_norm``:
    looked-up rows are rescaled in place to at most that ``norm_type``-norm.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(randn(num_embeddings, embedding_dim, dtype=_dtypes.as_dtype(dtype), device=device),
                                    requires_grad=not _freeze)
            self._zero_padding_row()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def _zero_padding_row(self) -> None:
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def reset_parameters(self) -> None:
        with no_grad():
            self.weight.normal_()
        self._zero_padding_row()

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (2-d); ``freeze``: the weight does not train."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("Embedding.from_pretrained: embeddings must be a 2-d tensor")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings, _freeze=freeze)

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
