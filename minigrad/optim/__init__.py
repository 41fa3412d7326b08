"""``mg.optim``: optimizers with PyTorch's names, arguments and update rules, second-order
methods, and (in :mod:`.lr_scheduler`) learning-rate schedules.  See docs/optimizers.md.

First order:  SGD (momentum, Nesterov), Adagrad, Adadelta, RMSprop, Adam (AMSGrad), AdamW,
Adamax, NAdam.   Second order:  Newton (exact, Levenberg–Marquardt damped), NewtonCG
(Hessian-free), LBFGS.
(Gradient clipping is ``mg.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``, as in PyTorch.)
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .newton import Newton, NewtonCG
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "Newton",
           "NewtonCG", "LBFGS", "lr_scheduler"]
