"""``minigrad.nn``: modules, layers, initializers, losses and regularizers (PyTorch's names)."""
from . import functional, init, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d
from .containers import ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module
from .parameter import Parameter
from .regularization import l1_penalty, l2_penalty, max_norm_, weight_parameters

__all__ = ["functional", "init", "utils", "ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax",
           "Softplus", "Tanh", "BatchNorm1d", "ModuleList", "Sequential", "Dropout", "Flatten", "Identity", "Linear",
           "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss",
           "NLLLoss", "SmoothL1Loss", "Module", "Parameter", "l1_penalty", "l2_penalty", "max_norm_",
           "weight_parameters"]
