"""``Linear`` (y = x Wᵀ + b) and ``Identity``."""
from __future__ import annotations

import math
from typing import Any, Callable

from .. import dtypes as _dtypes
from ..creation import empty
from ..tensor import Tensor
from . import init as _init
from .functional.linear import linear
from .module import Module
from .parameter import Parameter


def _initializer(spec: Any, what: str) -> Callable | None:
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, str):
        return _init.by_name(spec)
    raise TypeError(f"Linear: {what} must be None, an initializer name or a function, got {type(spec).__name__}")


class Linear(Module):
    """Affine map y = x Wᵀ + b.

    Shapes: input (*, in_features) -> output (*, out_features); ``weight`` is
    (out_features, in_features) and ``bias`` (out_features,), PyTorch's layout.

    Default initialization (PyTorch's): W and b ~ U(-1/√in_features, 1/√in_features)
    (that is ``kaiming_uniform_(W, a=√5)``).  ``init=`` picks another weight initializer —
    a function of the weight tensor (``mg.nn.init.xavier_uniform_``, a lambda) or the name
    of one in :mod:`minigrad.nn.init` (``"kaiming_normal"``, ``"lecun_normal"``, ``"large_normal"``);
    ``bias_init=`` does the same for the bias.  Re-initializing later works too:
    ``mg.nn.init.xavier_normal_(layer.weight)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, init: Any = None, bias_init: Any = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features = in_features
        self.out_features = out_features
        dt = _dtypes.as_dtype(dtype)
        self.weight = Parameter(empty(out_features, in_features, dtype=dt, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dt, device=device))
        else:
            self.register_parameter("bias", None)
        self._weight_init = _initializer(init, "init")
        self._bias_init = _initializer(bias_init, "bias_init")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh values with the layer's initializers."""
        if self._weight_init is None:
            _init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        else:
            self._weight_init(self.weight)
        if self.bias is not None:
            if self._bias_init is None:
                bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
                _init.uniform_(self.bias, -bound, bound)
            else:
                self._bias_init(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x
