"""Differentiable primitives, by family.  Importing this package also installs the
Tensor operators and methods (see :mod:`minigrad.ops.methods`)."""
from types import ModuleType as _ModuleType

from . import methods  # noqa: F401  (side effect: Tensor methods)
from .activation import (celu, elu, gelu, hardshrink, leaky_relu, log_softmax, prelu, relu, selu, sigmoid, softmax,
                         softplus, tanh, threshold)
from .arithmetic import add, div, floor_divide, fmod, mul, neg, pow, remainder, square, sub, true_divide
from .comparison import (allclose, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                         bitwise_xor, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le, logical_and, logical_not,
                         logical_or, logical_xor, lt, ne)
from .conversion import cast, clone, to_device
from .elementwise import (abs, acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh,
                          atan, atan2, atanh, ceil, clamp, clip, copysign, cos, cosh, exp, expm1, floor, frac, hypot,
                          lerp, log, log1p, log2, log10, logaddexp, maximum, minimum, nan_to_num, round, rsqrt, sign,
                          sin, sinh, sqrt, tan, trunc, where)
from .special import erf, erfc, erfinv
from .indexing import (gather, getitem, index_add, index_put, index_select, masked_fill, masked_select, scatter,
                       scatter_add, scatter_reduce, take_along_dim)
from .sorting import argsort, kthvalue, median, mode, nonzero, sort, topk, unique
from .linalg import cross
from .matmul import bmm, dot, einsum, kron, matmul, mv, outer, tensordot
from .norm import norm
from .reduction import (all, amax, amin, aminmax, any, argmax, argmin, count_nonzero, logsumexp, max, mean, min,
                        prod, std, std_mean, sum, var, var_mean)
from .scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from .shape import (broadcast_to, cat, chunk, concatenate, diag, diag_embed, diagonal, expand, flatten, flip, meshgrid,
                    pad, permute, repeat_interleave, reshape, roll, split, squeeze, stack, sum_to, transpose, tril, triu,
                    unflatten, unsqueeze, view)

# Every public name imported above (submodules and helpers excluded).
__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and not isinstance(value, _ModuleType))
