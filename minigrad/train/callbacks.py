"""Early stopping and checkpoints for :func:`minigrad.train.fit`."""
from __future__ import annotations

import math
from typing import Any, Sequence


def _copy_state(state: dict) -> dict:
    return {k: (v.detach().clone() if hasattr(v, "clone") else v) for k, v in state.items()}


class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    ("no improvement in N epochs"); optionally put the best weights back at the end.

    ``mode`` is 'min' or 'max' ('auto': max for accuracies, min otherwise).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss", mode: str = "auto",
                 restore_best_weights: bool = True) -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be at least 1, got {patience}")
        self.patience, self.min_delta, self.monitor = int(patience), float(min_delta), monitor
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        if self.mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.best_state: dict | None = None
        self.stopped_epoch: int | None = None

    def improved(self, value: float) -> bool:
        if value is None or math.isnan(value):
            return False
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def update(self, epoch: int, logs: dict, model: Any) -> bool:
        """Record this epoch; True means stop now."""
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, but the epoch logged only {sorted(logs)}"
                           " (pass a validation loader for val_* metrics)")
        if self.improved(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = _copy_state(model.state_dict())
            return False
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def restore(self, model: Any) -> None:
        if self.restore_best_weights and self.best_state is not None:
            model.load_state_dict(self.best_state)

    def state_dict(self) -> dict:
        state = {k: getattr(self, k) for k in ("best", "best_epoch", "bad_epochs", "stopped_epoch")}
        if self.best_state is not None:
            state["best_state"] = self.best_state
        return state

    def load_state_dict(self, state: dict) -> None:
        for k in ("best", "best_epoch", "bad_epochs", "stopped_epoch"):
            setattr(self, k, state.get(k))
        self.best_state = state.get("best_state")


class Checkpoint:
    """Save ``last`` (every epoch) and/or ``best`` (when ``monitor`` improves) checkpoints:
    model, optimizer, scheduler, epoch, history and RNG state (plus ``extra``), with :func:`minigrad.save`.

    ``path`` is a file (the last checkpoint; the best goes beside it with ``.best`` before
    the suffix).  Every checkpoint also stores the best value so far (:meth:`state_dict`, under
    ``"best_checkpoint"``), so a resumed run replaces the best file only with a better epoch.
    """

    def __init__(self, path: Any, save_last: bool = True, save_best: bool = True, monitor: str = "val_loss",
                 mode: str = "auto", extra: dict | None = None) -> None:
        from pathlib import Path

        self.path = Path(path)
        self.extra = dict(extra or {})  # more entries to store in every checkpoint (e.g. a run's config)
        self.save_last, self.save_best = save_last, save_best
        self.tracker = EarlyStopping(patience=1, monitor=monitor, mode=mode, restore_best_weights=False)

    @property
    def best_path(self) -> Any:
        return self.path.with_name(self.path.stem + ".best" + (self.path.suffix or ".safetensors"))

    def state_dict(self) -> dict:
        """The best-so-far tracker: ``monitor``, ``mode``, ``best`` (value) and ``best_epoch``."""
        t = self.tracker
        return {"monitor": t.monitor, "mode": t.mode, "best": t.best, "best_epoch": t.best_epoch}

    def load_state_dict(self, state: dict | None, history_rows: Sequence[dict] = ()) -> None:
        """Restore the tracker on resume.  ``state`` is what :meth:`state_dict` gave; when it is
        None (a checkpoint written without it) or watched another ``monitor``/``mode``, the
        tracker is rebuilt from the saved history's rows instead, with the same rule that
        chose the best epochs while training."""
        t = self.tracker
        t.best = t.best_epoch = None
        if state is not None and state.get("monitor") == t.monitor and state.get("mode") == t.mode:
            t.best, t.best_epoch = state.get("best"), state.get("best_epoch")
            return
        for row in history_rows:
            value = row.get(t.monitor)
            if value is not None and t.improved(value):
                t.best, t.best_epoch = value, row.get("epoch")
