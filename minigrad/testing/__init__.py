"""Hypothesis strategies for property-testing ops (yours too) the way minigrad tests its own.

>>> from hypothesis import given
>>> from minigrad.testing import tensors, broadcastable_shapes
>>> @given(tensors(shape=(2, 3)))
... def test_my_op(x): ...

Needs ``hypothesis`` (installed with the ``test`` extra).
"""
from .strategies import arrays, axes, broadcastable_shapes, floats, shapes, tensors

__all__ = ["arrays", "axes", "broadcastable_shapes", "floats", "shapes", "tensors"]
