"""Training: :func:`fit`, :func:`evaluate`, :class:`History`, early stopping and checkpoints."""
from .callbacks import Checkpoint, EarlyStopping
from .fit import evaluate, fit
from .history import History

__all__ = ["Checkpoint", "EarlyStopping", "History", "evaluate", "fit"]
