"""Named results of the ops that return several tensors, as ``torch.return_types``.

``x.max(dim=1)`` returns ``minigrad.return_types.max(values, indices)``: a tuple, so
``v, i = x.max(1)`` and ``x.max(1)[0]`` work, with the fields also reachable by name
(``.values``, ``.indices``).  Every (values, indices) op has its own class of the same
layout, named after the op, so the name shows what made the pair.
"""
from __future__ import annotations

from typing import Any, NamedTuple


class ValuesIndices(NamedTuple):
    """``(values, indices)``: the selected values (differentiable) and their int64 positions
    along the reduced dim.  The base of every named pair below."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return f"minigrad.return_types.{type(self).__name__}(\nvalues={self.values!r},\nindices={self.indices!r})"


class max(ValuesIndices):  # noqa: A001  (named after the op, as torch.return_types.max)
    """Result of ``max(x, dim)``: the largest value of each slice and its index."""

    __slots__ = ()


class min(ValuesIndices):  # noqa: A001
    """Result of ``min(x, dim)``: the smallest value of each slice and its index."""

    __slots__ = ()


class sort(ValuesIndices):
    """Result of ``sort(x, dim)``: the sorted values and their positions in x."""

    __slots__ = ()


class topk(ValuesIndices):
    """Result of ``topk(x, k, dim)``: the k largest (or smallest) values and their positions."""

    __slots__ = ()


class kthvalue(ValuesIndices):
    """Result of ``kthvalue(x, k, dim)``: the k-th smallest value of each slice and its position."""

    __slots__ = ()


class median(ValuesIndices):
    """Result of ``median(x, dim)``: the lower median of each slice and its position."""

    __slots__ = ()


class mode(ValuesIndices):
    """Result of ``mode(x, dim)``: the most frequent value of each slice and its position."""

    __slots__ = ()


class cummax(ValuesIndices):
    """Result of ``cummax(x, dim)``: the running maximum along dim and the position of each."""

    __slots__ = ()


class cummin(ValuesIndices):
    """Result of ``cummin(x, dim)``: the running minimum along dim and the position of each."""

    __slots__ = ()


__all__ = ["ValuesIndices", "max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin"]
