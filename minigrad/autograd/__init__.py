"""Reverse-mode automatic differentiation: the tape (:mod:`.function`), the backward walk in its
plain form (:mod:`.reference`) and as the engine runs it (:mod:`.engine`), grad modes, and
gradient checking."""
from . import functional  # noqa: F401  (mg.autograd.functional: jacobian, hessian, hvp...)
from .engine import backward, grad
from .function import Function
from .reference import backward_reference
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "backward", "backward_reference", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled"]
