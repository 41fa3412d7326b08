"""Exception classes shared by the whole library (imports nothing from it, so any module may
use them)."""
from __future__ import annotations


class ShapeError(ValueError, RuntimeError):
    """Shapes or sizes that do not fit together: operands that do not broadcast, a reshape to
    another number of elements, matrices whose inner sizes differ, a weight with the wrong
    number of channels...

    PyTorch raises ``RuntimeError`` for these and NumPy ``ValueError``; this class is both, so
    ``except RuntimeError`` and ``except ValueError`` each catch it."""
