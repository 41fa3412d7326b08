"""Differentiable primitives, by family.  Importing this package also installs the
Tensor operators and methods (see :mod:`minigrad.ops.methods`)."""
from types import ModuleType as _ModuleType

from . import methods  # noqa: F401  (side effect: Tensor methods)
from .activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .arithmetic import add, div, mul, neg, pow, square, sub
from .comparison import (allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge, gt, isfinite,
                         isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, ne)
from .conversion import cast, clone, to_device
from .elementwise import abs, clamp, clip, cos, exp, log, log1p, maximum, minimum, sign, sin, sqrt, where
from .indexing import gather, getitem, index_put, masked_fill
from .matmul import dot, matmul
from .norm import norm
from .reduction import amax, amin, argmax, argmin, logsumexp, max, mean, min, prod, std, sum, var
from .scan import cumsum
from .shape import (broadcast_to, cat, chunk, concatenate, expand, flatten, pad, permute, reshape, split, squeeze,
                    stack, sum_to, transpose, unsqueeze, view)

# Every public name imported above (submodules and helpers excluded).
__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and not isinstance(value, _ModuleType))
