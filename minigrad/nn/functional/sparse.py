"""Embedding lookup (functional form)."""
from __future__ import annotations


from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...ops.comparison import ne
from ...ops.elementwise import where
from ...ops.norm import norm
from ...ops.shape import unsqueeze
from ...tensor import Tensor


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look rows of ``weight`` (V, D) up by the integer indices ``input`` (any shape): out[..., :] =
    weight[input[...], :], of shape (*input.shape, D).

    ``padding_idx``: that row is still returned but receives no gradient.  ``max_norm``: before
    the lookup, each looked-up row whose ``norm_type``-norm exceeds ``max_norm`` is rescaled in
    place (without gradient) to norm ``max_norm``.
    """
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        what = type(input).__name__ if not isinstance(input, Tensor) else f"a {input.dtype} tensor"
        raise TypeError(f"embedding: expected an integer tensor of indices, got {what}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be a 2-d tensor (num_embeddings, embedding_dim), got "
                         f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    v = weight.shape[0]
    if input.numel():
        lo, hi = int(input._data.min()), int(input._data.max())
        if lo < 0 or hi >= v:
            raise IndexError(f"embedding: index {lo if lo < 0 else hi} is out of range for {v} embeddings")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({v})")
        padding_idx = padding_idx % v
    if max_norm is not None:
        _renorm_rows(input, weight, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None:
        keep = unsqueeze(ne(input, padding_idx), -1)
        out = where(keep, out, out.detach())
    return out


def _renorm_rows(input: Tensor, weight: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and without gradient, the looked-up rows of ``weight`` whose norm exceeds max_norm."""
    with no_grad():
        rows = weight._data[input._data.reshape(-1)]
        xp_rows = Tensor(rows)
        norms = norm(xp_rows, norm_type, -1, keepdim=True)._data
        scale = (norms > max_norm) * (max_norm / (norms + 1e-7)) + (norms <= max_norm)
        weight._data[input._data.reshape(-1)] = (rows * scale).astype(weight._data.dtype)
