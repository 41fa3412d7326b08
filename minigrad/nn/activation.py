"""Activation modules: thin wrappers over the functional forms, with their settings."""
from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..creation import full
from ..ops import activation as _A
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class ReLU(Module):
    """max(x, 0), element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.ReLU.apply(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return _A.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, α(eˣ - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return _A.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x·Φ(x) (Φ the standard normal CDF); ``approximate='tanh'`` uses the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return _A.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e⁻ˣ)."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.sigmoid(x)


class Tanh(Module):
    """tanh x."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.tanh(x)


class Softplus(Module):
    """log(1 + e^{βx}) / β, linear above ``threshold`` (in units of βx)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return _A.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """eˣ / Σ eˣ along ``dim`` (default: the last)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _A.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along ``dim`` (default: the last), computed stably."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _A.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"



class ReLU6(Module):
    """min(max(x, 0), 6), element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.relu6(x)


class SELU(Module):
    """Scaled ELU: λx for x > 0, λα(eˣ - 1) otherwise (λ ≈ 1.0507, α ≈ 1.6733)."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.selu(x)


class CELU(Module):
    """x for x > 0, α(e^{x/α} - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return _A.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: max_val must be greater than min_val, got min_val={min_val}, "
                             f"max_val={max_val}")
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, x: Tensor) -> Tensor:
        return _A.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Hardsigmoid(Module):
    """0 for x ≤ -3, 1 for x ≥ 3, (x + 3)/6 between."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.hardsigmoid(x)


class Hardswish(Module):
    """x · hardsigmoid(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.hardswish(x)


class SiLU(Module):
    """x · sigmoid(x) (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.silu(x)


class Mish(Module):
    """x · tanh(softplus(x))."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.mish(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.softsign(x)


class LogSigmoid(Module):
    """log sigmoid(x) = -softplus(-x), computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.logsigmoid(x)


class Tanhshrink(Module):
    """x - tanh x."""

    def forward(self, x: Tensor) -> Tensor:
        return _A.tanhshrink(x)


class Softshrink(Module):
    """x - λ for x > λ, x + λ for x < -λ, 0 between."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        return _A.softshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"


class Hardshrink(Module):
    """0 on [-λ, λ], x elsewhere."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        return _A.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        return _A.threshold(x, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class GLU(Module):
    """Gated linear unit along ``dim``: the first half times sigmoid of the second half."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _A.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(-x) along ``dim`` (default: the last)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _A.softmin(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x for x > 0, w·x otherwise, with learned slopes ``weight``: a Parameter of shape
    (num_parameters,), one slope for every element (1) or one per channel (dim 1 of the
    input), each initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=_dtypes.as_dtype(dtype), device=device))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        from ..autograd.grad_mode import no_grad

        with no_grad():
            self.weight.fill_(float(self.init))

    def forward(self, x: Tensor) -> Tensor:
        return _A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
