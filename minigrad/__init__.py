"""minigrad: a small deep-learning framework with tape-based reverse-mode autodiff over
NumPy (CPU) or CuPy (CUDA) arrays.  Names follow PyTorch."""
from . import cuda, dtypes, errors, return_types
from .devices import Device, get_array_module
from .devices import device as device
from .autograd import enable_grad, grad, no_grad, set_grad_enabled, is_grad_enabled
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled
from .creation import (arange, as_tensor, empty, eye, from_dlpack, from_numpy, full, full_like, linspace, ones,
                       ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .dtypes import (bool_, double, float16, float32, float64, get_default_dtype, half, int8, int16, int32, int64,
                     long, promote_types, result_type, set_default_dtype, uint8)
from .ops import *  # noqa: F401,F403
from .ops import abs, max, min, pow, sum  # noqa: F401  (explicit: they shadow builtins on purpose)
from . import linalg  # noqa: E402  (mg.linalg, as torch.linalg)
from .errors import ShapeError
from .random import Generator, default_generator, initial_seed, manual_seed
from .tensor import Tensor


def is_tensor(obj: object) -> bool:
    """True when ``obj`` is a minigrad :class:`Tensor` (a ``Parameter`` included)."""
    return isinstance(obj, Tensor)


bool = bool_  # noqa: A001  (mg.bool, as torch.bool)
__version__ = "0.1.0"
from . import nn  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import optim  # noqa: E402
from . import data  # noqa: E402
from . import accelerator, backends, utils  # noqa: E402  (mg.accelerator, mg.backends, mg.utils.data as torch's)
from . import viz  # noqa: E402
from . import train  # noqa: E402
from .jit import jit  # noqa: E402  (mg.jit(step); the package stays importable as minigrad.jit)
