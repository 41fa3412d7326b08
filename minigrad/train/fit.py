"""``fit``: the training loop.  ``evaluate``: loss and accuracy over a loader, without gradients.

Per epoch: train on every batch (running loss/accuracy kept on the device, so no host
round-trip per batch), evaluate on the validation loader (eval mode, ``no_grad``), step the
learning-rate schedule, log a row into the :class:`History`, and let early stopping and
checkpoints act.  ``resume=path`` restores everything a checkpoint holds and continues as
if training had never stopped.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import random as _random
from ..devices import HostArray, array_module
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .callbacks import Checkpoint, EarlyStopping
from .history import History

LossFn = Callable[[Tensor, Tensor], Tensor]


def _correct(output: Tensor, target: Tensor) -> Any:
    """Number of correct predictions in a batch: a Python int on the host, a 0-d array on the
    device (no host sync)."""
    out, t = output._data, target._data
    nd = out.ndim
    pred = out.argmax(axis=-1) if nd > 1 else (out > 0)
    if t.ndim == nd and nd > 1:  # one-hot or probability targets
        t = t.argmax(axis=-1)
    return array_module(pred).count_nonzero(pred == t)  # (a Python int on the host)


def _times(loss: Any, n: int) -> Any:
    """A batch's mean loss times its size, to add up: a Python number for a host array (cheaper
    than 0-d array arithmetic, and summed in double precision), on the device an array (no sync)."""
    return float(loss) * n if loss.__class__ is HostArray else loss * n


def evaluate(model: Any, loss_fn: LossFn, loader: Iterable, metrics: Sequence[str] = ("loss", "accuracy")) -> dict:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients)."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total_loss = total_correct = None
    count = 0
    try:
        with no_grad():
            for xb, yb in loader:
                out = model(xb)
                n = len(xb)
                if "loss" in metrics:
                    lv = _times(loss_fn(out, yb)._data, n)
                    total_loss = lv if total_loss is None else total_loss + lv
                if "accuracy" in metrics:
                    c = _correct(out, yb)
                    total_correct = c if total_correct is None else total_correct + c
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    result = {}
    if count == 0:
        return {m: float("nan") for m in metrics}
    if total_loss is not None:
        result["loss"] = float(total_loss) / count
    if total_correct is not None:
        result["accuracy"] = float(total_correct) / count
    return result


def _lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _is_plateau(scheduler: Any) -> bool:
    return scheduler is not None and hasattr(scheduler, "reached_min_lr")


class _Progress:
    """tqdm bar on a terminal; otherwise nothing per batch (one line per epoch is logged)."""

    def __init__(self, total: int, epoch: int, epochs: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=False, dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def update(self, n: int, loss: Any) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if loss is not None:
                self.bar.set_postfix(loss=f"{loss:.4f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _format(epoch: int, epochs: int, row: dict) -> str:
    parts = [f"epoch {epoch:>{len(str(epochs))}}/{epochs}"]
    for key, label in (("train_loss", "loss"), ("train_accuracy", "acc"), ("val_loss", "val_loss"),
                       ("val_accuracy", "val_acc")):
        v = row.get(key)
        if v is not None:
            parts.append(f"{label} {100 * v:.2f}%" if "acc" in key else f"{label} {v:.4f}")
    parts.append(f"lr {row['lr']:.3g}")
    parts.append(f"{row['time']:.2f}s")
    return "  ".join(parts)


def _checkpoint_state(model: Any, optimizer: Any, scheduler: Any, epoch: int, history: History,
                      loader: Any, early: EarlyStopping | None) -> dict:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
             "history": history.state_dict(), "rng": _random.get_rng_state()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if hasattr(loader, "state_dict"):
        state["loader"] = loader.state_dict()
    if early is not None:
        state["early_stopping"] = early.state_dict()
    return state


def fit(model: Any, loss: LossFn, optimizer: Any, train_loader: Iterable, val_loader: Iterable | None = None,
        epochs: int = 1, scheduler: Any = None, metrics: Sequence[str] = ("loss", "accuracy"),
        early_stopping: EarlyStopping | int | None = None, callbacks: Sequence[Callable] = (),
        checkpoint: Checkpoint | str | Path | None = None, resume: str | Path | Mapping | None = None,
        regularizer: Callable[[Any], Tensor] | None = None, quiet: bool = False, progress: bool | None = None,
        log: Callable[[str], None] | None = None, stop_at_min_lr: bool = False, jit: bool = False) -> History:
    """Train ``model`` and return its :class:`History`.

    ``loss(output, target)`` gives the mean batch loss; ``regularizer(model)`` (optional) is
    added to it (e.g. an L2 penalty).  ``early_stopping`` is an :class:`EarlyStopping` or a
    patience.  ``scheduler`` steps once per epoch (``ReduceLROnPlateau`` gets the monitored
    validation metric).  ``callbacks`` are called as ``cb(epoch, row)``; one returning True
    stops training.  ``stop_at_min_lr`` ends training once a plateau schedule reached its
    ``min_lr`` (network2's "stop at 1/1024 of the start").  ``jit=True`` runs each batch's step
    (forward, loss, backward, optimizer step) through :func:`minigrad.jit.jit`: captured once per
    batch shape, then replayed (the optimizer must be capturable: SGD, or Adam/AdamW with
    ``capturable=True``).

    ``resume`` is a checkpoint's path, or the checkpoint already read with :func:`minigrad.load`;
    with ``checkpoint`` too, the best value so far comes back from it, so the ``.best`` file is
    only replaced by a better epoch.  An epoch whose ``train_loader`` gives no batch raises
    ValueError (an empty loader, or a generator, which can be iterated only once).
    """
    log = log or (lambda s: print(s, flush=True))
    if isinstance(early_stopping, int):
        early_stopping = EarlyStopping(patience=early_stopping,
                                       monitor="val_accuracy" if val_loader is not None else "train_loss")
    if isinstance(checkpoint, (str, Path)):
        checkpoint = Checkpoint(checkpoint, monitor="val_accuracy" if val_loader is not None else "train_loss")
    if progress is None:
        progress = not quiet and sys.stderr.isatty()
    history = History()
    start_epoch = 1
    if resume is not None:
        start_epoch, history = _resume(resume, model, optimizer, scheduler, train_loader, early_stopping,
                                       checkpoint)

    def train_step(xb: Tensor, yb: Tensor) -> tuple:
        out = model(xb)
        batch_loss = loss(out, yb)
        total = batch_loss if regularizer is None else batch_loss + regularizer(model)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        return batch_loss, out

    if jit:
        from ..jit import jit as capture
        train_step = capture(train_step)

    for epoch in range(start_epoch, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        bar = _Progress(len(train_loader) if hasattr(train_loader, "__len__") else 0, epoch, epochs, progress)
        loss_sum = correct = None
        seen = 0
        track_accuracy = "accuracy" in metrics
        show = bar.bar is not None
        i = -1
        for i, (xb, yb) in enumerate(train_loader):
            batch_loss, out = train_step(xb, yb)
            n = len(xb)
            lv = _times(batch_loss._data, n)
            loss_sum = lv if loss_sum is None else loss_sum + lv
            if track_accuracy:
                c = _correct(out, yb)
                correct = c if correct is None else correct + c
            seen += n
            if show and i % 20 == 0:
                bar.update(20 if i else 1, float(loss_sum) / seen)  # a host sync only every 20 batches
        bar.close()
        if i < 0:
            raise ValueError(_no_batches(epoch, epoch == start_epoch))
        row: dict = {"epoch": epoch}
        if seen:
            row["train_loss"] = float(loss_sum) / seen
            if math.isnan(row["train_loss"]) or math.isinf(row["train_loss"]):
                log(f"epoch {epoch}: the training loss is {row['train_loss']}; stopping (lower the learning rate?)")
                history.append(row | {"lr": _lr(optimizer), "time": time.perf_counter() - t0})
                break
            if correct is not None:
                row["train_accuracy"] = float(correct) / seen
        if val_loader is not None:
            for k, v in evaluate(model, loss, val_loader, metrics).items():
                row[f"val_{k}"] = v
        row["lr"] = _lr(optimizer)
        if scheduler is not None:
            if _is_plateau(scheduler):
                monitor = getattr(scheduler, "mode", "min")
                key = ("val_accuracy" if monitor == "max" else "val_loss") if val_loader is not None else "train_loss"
                scheduler.step(row[key])
            else:
                scheduler.step()
        row["time"] = time.perf_counter() - t0
        history.append(row)
        if not quiet:
            log(_format(epoch, epochs, row))

        stop = False
        if early_stopping is not None and early_stopping.update(epoch, row, model):
            stop = True
            if not quiet:
                log(f"early stopping: no improvement of {early_stopping.monitor} in {early_stopping.patience} "
                    f"epochs (best {early_stopping.best:.4f} at epoch {early_stopping.best_epoch})")
        if stop_at_min_lr and _is_plateau(scheduler) and scheduler.reached_min_lr:
            stop = True
            if not quiet:
                log(f"the learning rate reached its minimum ({_lr(optimizer):.3g}); stopping")
        for cb in callbacks:
            if cb(epoch, row):
                stop = True
        if checkpoint is not None:
            _save_checkpoint(checkpoint, model, optimizer, scheduler, epoch, history, train_loader,
                             early_stopping, row)
        if stop:
            break
    if early_stopping is not None:
        early_stopping.restore(model)
    return history


def _no_batches(epoch: int, first: bool) -> str:
    if first:
        return (f"fit: the training loader gave no batches in epoch {epoch}: it is empty (a dataset smaller "
                "than batch_size with drop_last=True?) or an iterator already used up; a generator can be "
                "iterated only once: pass a DataLoader or a list of batches")
    return (f"fit: the training loader gave no batches in epoch {epoch} after giving some in earlier epochs: "
            "it is a one-shot iterator (a generator?), which can be iterated only once; pass a DataLoader or "
            "a list of batches")


def _save_checkpoint(ck: Checkpoint, model: Any, optimizer: Any, scheduler: Any, epoch: int, history: History,
                     loader: Any, early: EarlyStopping | None, row: dict) -> None:
    from ..serialization import save

    best = ck.save_best and ck.tracker.monitor in row and ck.tracker.improved(row[ck.tracker.monitor])
    if best:
        ck.tracker.update(epoch, row, model)
    state = _checkpoint_state(model, optimizer, scheduler, epoch, history, loader, early)
    state["best_checkpoint"] = ck.state_dict()  # (after the update: it counts this epoch)
    state.update(ck.extra)
    ck.path.parent.mkdir(parents=True, exist_ok=True)
    if ck.save_last:
        save(state, ck.path)
    if best:
        save(state, ck.best_path)


def _resume(path: Any, model: Any, optimizer: Any, scheduler: Any, loader: Any,
            early: EarlyStopping | None, checkpoint: Checkpoint | None) -> tuple:
    from ..serialization import load

    if isinstance(path, Mapping):  # read already (tensors are moved to the model's device as they load)
        state = path
    else:
        state = load(path, map_location=str(next(iter(model.parameters())).device))
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    if "loader" in state and hasattr(loader, "load_state_dict"):
        loader.load_state_dict(state["loader"])
    if early is not None and "early_stopping" in state:
        early.load_state_dict(state["early_stopping"])
    history = History.from_state_dict(state["history"])
    if checkpoint is not None:
        checkpoint.load_state_dict(state.get("best_checkpoint"), history.rows)
    _random.set_rng_state(state["rng"])
    return int(state["epoch"]) + 1, history
