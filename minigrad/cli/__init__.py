"""The ``minigrad`` command (also ``python -m minigrad``).

    minigrad train [options]         train an MLP or (--model cnn) a CNN (default: on the built-in
                                     8x8 digits) and report per-epoch metrics and the test
                                     accuracy; writes the curves PNG
    minigrad eval CHECKPOINT         test accuracy of a checkpoint written by ``train --save``
    minigrad graph [options]         draw the compute graph of the default model's loss
    minigrad info                    versions; is a GPU / CUDA Graphs / Graphviz available

Errors (bad flags, unknown datasets, missing data, mismatched checkpoints) print one line and
exit with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; a command-line error here is one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CommandError(Exception):
    """An error to report in one line."""


def _train_parser(sub: Any) -> argparse.ArgumentParser:
    from ..train import recipe as R

    t = sub.add_parser("train", help="train an MLP or a CNN and report test accuracy",
                       description="Train an MLP (or with --model cnn a small CNN); defaults depend on the "
                                   "dataset (digits: 64-256-10 ReLU, dropout 0.2, AdamW, cosine schedule, "
                                   "60 epochs).")
    a = t.add_argument
    a("--dataset", choices=tuple(R.DATASETS), help="default: digits (built in, no download)")
    a("--data-dir", help="folder holding mnist/ or fashion-mnist/ (default: $MINIGRAD_DATA or ~/.cache/minigrad)")
    a("--download", action="store_true", help="fetch missing MNIST / Fashion-MNIST files into the data folder "
                                              "(sha256-checked, resumable)")
    a("--model", choices=R.MODELS, help="mlp (default) or cnn: [Conv2d → activation → MaxPool2d(2)] per --channels "
                                        "width, then the --hidden layers (image datasets only)")
    a("--channels", help="cnn: convolution widths, comma-separated (default 32,64)")
    a("--kernel-size", type=int, help="cnn: odd convolution kernel size (default 5)")
    a("--conv-padding", choices=R.CONV_PADDINGS, help="cnn: 'same' keeps the image size through each conv "
                                                      "(default), 'valid' pads nothing")
    a("--hidden", help="hidden layer widths, comma-separated, e.g. 100,100 ('none': no hidden layer)")
    a("--activation", choices=tuple(R.ACTIVATIONS))
    a("--init", choices=R.INITS, help="weight initialization (network2: N(0,1/n_in) weights, N(0,1) biases)")
    a("--loss", choices=R.LOSSES)
    a("--optimizer", choices=R.OPTIMIZERS)
    a("--lr", type=float, help="learning rate")
    a("--momentum", type=float)
    a("--weight-decay", type=float, help="L2 weight decay on weight matrices (not biases)")
    a("--l1", type=float, help="L1 penalty coefficient on weight matrices")
    a("--dropout", type=float, help="dropout probability after each hidden layer")
    a("--batch-norm", action="store_true", default=None, help="batch normalization after each hidden Linear (and each conv)")
    a("--batch-size", type=int)
    a("--epochs", type=int)
    a("--early-stopping", type=int, metavar="N", help="stop after N epochs without validation improvement")
    a("--lr-schedule", choices=R.SCHEDULES)
    a("--augment", action="store_true", default=None, help="random shifts and small rotations of training images")
    a("--no-normalize", dest="normalize", action="store_false", default=None,
      help="do not standardize inputs (by default: mean/std of the training split)")
    a("--device", help="cpu, cuda or cuda:N")
    a("--dtype", choices=R.DTYPES, help="floating-point type of the model and the features (default float32)")
    a("--seed", type=int)
    a("--save", metavar="PATH", help="checkpoint file (last epoch; the best beside it as *.best.*)")
    a("--resume", metavar="PATH", help="continue training from a checkpoint (its config; flags given now that "
                                       "only change how training goes on, like --epochs or --lr, are applied)")
    a("--plot", metavar="PATH", default="training_curves.png", help="curves PNG (default training_curves.png; "
                                                                     "'none' to skip)")
    a("--graph", metavar="PATH", help="also draw the loss's compute graph on one batch (svg/png/pdf/dot)")
    a("--quiet", action="store_true", help="only the final line")
    a("--jit", action="store_true", help="capture each training step once and replay it (mg.jit, docs/jit.md); "
                                         f"--optimizer must be one of {', '.join(R.JIT_OPTIMIZERS)}")
    t.set_defaults(func=cmd_train)
    return t


def _check(cfg: dict) -> None:
    """Refuse, in one line naming the flag, any value that would fail later or train nonsense."""
    from ..train import recipe as R

    for key in ("lr", "batch_size", "epochs"):
        value = cfg[key]
        if value is None or not math.isfinite(value) or value <= 0:
            raise CommandError(f"--{key.replace('_', '-')} must be a finite number > 0, got {value}")
    for key in ("momentum", "weight_decay", "l1"):
        if not math.isfinite(cfg[key]) or cfg[key] < 0:
            raise CommandError(f"--{key.replace('_', '-')} must be a finite number >= 0, got {cfg[key]}")
    if not 0 <= cfg["dropout"] < 1:  # (also false for nan)
        raise CommandError(f"--dropout must be in [0, 1), got {cfg['dropout']}")
    if cfg["momentum"] and cfg["optimizer"] not in _MOMENTUM_OPTIMIZERS:
        raise CommandError(f"--momentum applies to {', '.join(_MOMENTUM_OPTIMIZERS)}, not --optimizer "
                           f"{cfg['optimizer']}")
    if cfg["early_stopping"] is not None and cfg["early_stopping"] < 1:
        raise CommandError(f"--early-stopping must be at least 1, got {cfg['early_stopping']}")
    if not 0 <= cfg["seed"] < 2 ** 63:
        raise CommandError(f"--seed must be an integer in [0, 2**63), got {cfg['seed']}")
    if cfg["batch_norm"] and cfg["batch_size"] < 2:
        raise CommandError("--batch-norm needs --batch-size of at least 2 (a batch of one sample has no spread)")
    try:
        R.hidden_sizes(cfg["hidden"])
        if cfg["model"] == "cnn":
            R.conv_sizes(cfg)  # an image dataset, and an image that survives every conv and pool
    except ValueError as e:
        raise CommandError(str(e)) from None
    _check_size(cfg)


_MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop")


def _check_size(cfg: dict) -> None:
    """Refuse a model whose parameters, gradients and optimizer state (about four copies) could
    not fit in this machine's memory, before allocating any of it."""
    from ..train import recipe as R

    needed = 4 * R.state_size(cfg) * (8 if cfg["dtype"] == "float64" else 4)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: rely on MemoryError
        return
    if needed > memory:
        flags = (f"--channels {cfg['channels']} --hidden {cfg['hidden']}" if cfg["model"] == "cnn"
                 else f"--hidden {cfg['hidden']}")
        raise CommandError(f"{flags} makes a model that needs about {needed / 2 ** 30:,.1f} GiB for "
                           f"its parameters, gradients and optimizer state; this machine has "
                           f"{memory / 2 ** 30:,.1f} GiB")


def _check_writable(path: str, flag: str) -> None:
    """The file ``path`` can be created or replaced: its nearest existing folder takes a new file
    (tried for real, so read-only file systems are caught even for root)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CommandError(f"{flag} {path} is a folder; give a file name")
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise CommandError(f"{flag} {path}: {folder} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise CommandError(f"{flag} {path}: cannot write in {folder} ({e.strerror or e})") from None
    if target.exists() and not os.access(target, os.W_OK):
        raise CommandError(f"{flag} {path}: the file exists and is not writable")


def _plot_wanted(args: argparse.Namespace) -> bool:
    return bool(args.plot) and args.plot.lower() != "none"


def _check_outputs(args: argparse.Namespace) -> str | None:
    """Check every file the run will write (curves, checkpoints, graph) before any training, so
    that a bad path or format never throws a finished run away.  Returns a note to print when the
    curves cannot be drawn here (no matplotlib), else None."""
    note = None
    if _plot_wanted(args):
        try:
            from matplotlib.figure import Figure
        except ImportError:
            note = "(no plot: matplotlib is not installed; pip install matplotlib, or pass --plot none)"
        else:
            formats = Figure().canvas.get_supported_filetypes()
            suffix = Path(args.plot).suffix.lstrip(".").lower()
            if suffix and suffix not in formats:
                raise CommandError(f"--plot {args.plot}: matplotlib cannot write .{suffix} files; use one of "
                                   f"{', '.join(sorted(formats))}")
            _check_writable(args.plot, "--plot")
    if args.save:
        if importlib.util.find_spec("safetensors") is None:
            raise CommandError("--save needs the safetensors package: pip install safetensors")
        _check_writable(args.save, "--save")
    if args.graph:
        from .. import viz

        _check_writable(args.graph, "--graph")
        try:
            viz.check_picture_path(args.graph)
        except ValueError as e:
            raise CommandError(f"--graph {e}") from None  # (the message starts with the path)
    return note


def _load_splits(cfg: dict, download: bool) -> tuple:
    from .. import data
    from ..train import recipe as R

    try:
        return R.load_splits(cfg, download=download)
    except data.DataFilesNotFound as e:
        raise CommandError(f"{e.title} files not found in {e.folder} (missing {', '.join(e.missing)}): add "
                           f"--download to fetch them, or point --data-dir or MINIGRAD_DATA at a folder that "
                           f"holds {e.folder.name}/") from None
    except data.DownloadError as e:  # every mirror's failure, each on its own line: joined into one
        raise CommandError(" ".join(str(e).split())) from None


def _prepare(cfg: dict, normalizer_state: dict | None = None, training: bool = True,
             download: bool = False) -> tuple:
    """Model, data loaders (no training loader unless ``training``) and normalizer for a resolved
    config."""
    from .. import data
    from .. import random as _random
    from ..train import recipe as R

    _random.manual_seed(cfg["seed"])
    splits = R.cast_splits(_load_splits(cfg, download), cfg["dtype"])
    norm = None
    if cfg["normalize"]:
        norm = data.Normalize(per_feature=False)
        if normalizer_state is not None:
            norm.load_state_dict(normalizer_state)
        else:
            norm.fit(splits[0])  # statistics of the training split only
    model = R.build_model(cfg).to(cfg["device"]).to(dtype=cfg["dtype"])
    loaders = R.build_loaders(cfg, splits, norm, training)
    return model, loaders, norm


#: What a resumed run keeps from its checkpoint: the model's architecture, its data and
#: preprocessing, the optimizer whose state it saved, and its random stream.  A flag that would
#: change one of these is refused; every other flag is applied.
KEPT_ON_RESUME = ("dataset", "model", "channels", "kernel_size", "conv_padding", "hidden", "activation", "init", "dropout", "batch_norm", "normalize", "dtype",
                  "optimizer", "seed")
#: Schedules planned over the run's length: a resumed run with another --epochs re-plans them.
LENGTH_SCHEDULES = ("step", "cosine", "onecycle")


def _load_checkpoint(path: str, device: str) -> dict:
    from ..serialization import load

    state = load(path, map_location=device)
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CommandError(f"{path} is not a checkpoint written by 'minigrad train --save'")
    return state


def _changed_flags(saved: dict, given: dict) -> dict:
    """The flags given now whose value differs from the checkpoint's config: name -> (saved, given)."""
    from ..train import recipe as R

    resolved = R.resolve(saved)
    return {k: (resolved.get(k), v) for k, v in given.items() if resolved.get(k) != v}


def _refuse_kept_changes(changed: dict, path: str) -> None:
    for key in KEPT_ON_RESUME:
        if key in changed:
            saved, given = changed[key]
            raise CommandError(f"--{key.replace('_', '-')} {given} differs from the checkpoint's {saved}: resuming "
                               f"{path} keeps its model, data, optimizer and random state; start a new run without "
                               f"--resume to change it")


def _apply_resume_flags(state: dict, changed: dict, cfg: dict, optimizer: Any, scheduler: Any) -> list:
    """Make the checkpoint's optimizer and schedule state follow the flags given now; return what
    was changed, in words.

    ``optimizer`` and ``scheduler`` are fresh ones built from ``cfg`` (the checkpoint's config with
    those flags on top).  A new --lr or --lr-schedule, or a new --epochs for a schedule planned over
    the run's length, re-plans the schedule as if the run had used it from its first epoch: the
    fresh schedule is stepped once per finished epoch and its learning rates replace the saved
    ones.  A new --momentum or --weight-decay replaces the saved value in each parameter group."""
    notes = []
    done = int(state["epoch"])
    saved_groups = state["optimizer"]["param_groups"]
    replan = ("lr" in changed or "lr_schedule" in changed
              or ("epochs" in changed and cfg["lr_schedule"] in LENGTH_SCHEDULES))
    if replan:
        if scheduler is not None and not hasattr(scheduler, "reached_min_lr"):  # (plateau schedules start afresh)
            for _ in range(done):
                scheduler.step()
        for saved, fresh in zip(saved_groups, optimizer.param_groups):
            saved.update({k: v for k, v in fresh.items() if k != "params"})
        if scheduler is None:
            state.pop("scheduler", None)
        else:
            state["scheduler"] = scheduler.state_dict()
        notes.append(f"{cfg['lr_schedule']} schedule from lr {cfg['lr']:g} over {cfg['epochs']} epochs: "
                     f"lr {optimizer.param_groups[0]['lr']:.3g} at epoch {done + 1}")
    for key in ("momentum", "weight_decay"):
        if key in changed:
            for saved, fresh in zip(saved_groups, optimizer.param_groups):
                if key in fresh:
                    saved[key] = fresh[key]
            notes.append(f"{key.replace('_', ' ')} {changed[key][1]:g} (was {changed[key][0]:g})")
    return notes


def _run_config(args: argparse.Namespace) -> tuple:
    """(config, checkpoint or None, flags changed against the checkpoint's config or None) for
    ``minigrad train``: the defaults with the flags on top, or, with ``--resume``, the saved
    config with the flags on top (those a resumed run must keep refused), all checked."""
    from ..train import recipe as R

    given = {k: v for k in R.DEFAULTS if (v := getattr(args, k, None)) is not None}
    resumed = changed = None
    if args.resume:
        resumed = _load_checkpoint(args.resume, "cpu")
        changed = _changed_flags(dict(resumed["config"]), given)
        _refuse_kept_changes(changed, args.resume)
        given = {**dict(resumed["config"]), **given}
    cfg = R.resolve(given)
    if resumed is not None:
        try:
            R.check_state_shapes(cfg, resumed["model"])
        except ValueError as e:
            raise CommandError(f"{args.resume}: {e}") from None
    _check(cfg)
    return cfg, resumed, changed


def _prepare_resume(args: argparse.Namespace, resumed: dict, changed: dict, cfg: dict, opt: Any, sched: Any) -> None:
    """Apply the flags given with --resume to the checkpoint's state and say what goes on."""
    done = int(resumed["epoch"])
    if done >= cfg["epochs"]:
        if not args.quiet:
            print(f"(the checkpoint has finished epoch {done} of {cfg['epochs']}; pass a larger --epochs to train on)")
        return
    notes = _apply_resume_flags(resumed, changed, cfg, opt, sched)
    if not args.quiet:
        print(f"resuming {args.resume} after epoch {done}" + (f"; now {'; '.join(notes)}" if notes else ""),
              flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    from .. import train as T
    from ..train import recipe as R

    cfg, resumed, changed = _run_config(args)
    if args.jit and cfg["optimizer"] not in R.JIT_OPTIMIZERS:
        raise CommandError(f"--jit cannot capture --optimizer {cfg['optimizer']} (it counts its steps in a Python "
                           f"number, which a replay would not advance); use one of {', '.join(R.JIT_OPTIMIZERS)}")
    plot_note = _check_outputs(args)
    start = time.perf_counter()
    model, (train_loader, val_loader, test_loader), norm = _prepare(cfg, download=args.download)
    loss = R.build_loss(cfg["loss"])
    opt = R.build_optimizer(model, {**cfg, "jit": args.jit})
    sched = R.build_schedule(opt, cfg)
    early = T.EarlyStopping(cfg["early_stopping"], monitor="val_accuracy") if cfg["early_stopping"] else None
    checkpoint = None
    if args.save:  # the config and normalizer let 'minigrad eval' rebuild the model
        checkpoint = T.Checkpoint(args.save, monitor="val_accuracy",
                                  extra={"config": dict(cfg), "normalizer": norm.state_dict() if norm else None})
    if not args.quiet:
        print(R.describe(cfg), flush=True)
        if plot_note:
            print(plot_note)
    if resumed is not None:
        _prepare_resume(args, resumed, changed, cfg, opt, sched)
        for group in opt.param_groups:  # the saved groups say how that run stepped; this one may capture
            if "capturable" in group:
                group["capturable"] = bool(args.jit)
    if args.graph:
        _draw_graph(model, loss, train_loader, args.graph)
    history = T.fit(model, loss, opt, train_loader, val_loader, epochs=cfg["epochs"], scheduler=sched,
                    early_stopping=early, checkpoint=checkpoint, resume=resumed, regularizer=R.regularizer(cfg),
                    quiet=args.quiet, stop_at_min_lr=cfg["lr_schedule"] == "halving", jit=args.jit)
    result = T.evaluate(model, loss, test_loader)
    elapsed = time.perf_counter() - start
    if _plot_wanted(args) and plot_note is None and len(history):
        try:
            path = history.plot(args.plot, title=R.describe(cfg))
            if not args.quiet:
                print(f"curves: {path}")
        except Exception as e:  # a picture is never worth the result of a finished run
            print(f"(no plot: {_one_line(e)})")
    if checkpoint is not None and not args.quiet:
        print(f"checkpoint: {args.save}")
    diverged = [r for r in history.rows if not math.isfinite(r.get("train_loss", 0.0))]
    if diverged:
        print(f"minigrad train: error: the training loss became {diverged[0]['train_loss']} in epoch "
              f"{diverged[0]['epoch']}; training stopped there (try a lower --lr)", file=sys.stderr)
        return 1
    print(f"test accuracy {100 * result['accuracy']:.2f}%  (test loss {result['loss']:.4f}, {elapsed:.1f} s)")
    return 0


def _draw_graph(model: Any, loss: Any, loader: Any, path: str) -> None:
    from .. import viz

    xb, yb = next(iter(loader))
    with viz.trace(model):
        out = loss(model(xb[:16]), yb[:16])
    written = viz.draw_graph(out, params=model).render(path)
    print(f"compute graph: {written}")


def cmd_eval(args: argparse.Namespace) -> int:
    from .. import train as T
    from ..train import recipe as R

    state = _load_checkpoint(args.checkpoint, args.device or "cpu")
    cfg = R.resolve(dict(state["config"]))
    try:  # before the model is built: a config that does not fit its weights allocates nothing
        R.check_state_shapes(cfg, state["model"])
    except ValueError as e:
        raise CommandError(f"{args.checkpoint}: {e}") from None
    if args.dataset and args.dataset != cfg["dataset"]:
        n_in = R.DATASETS[args.dataset][0]
        if n_in != R.DATASETS[cfg["dataset"]][0]:
            raise CommandError(f"the checkpoint's model takes {cfg['dataset']} inputs "
                               f"({R.DATASETS[cfg['dataset']][0]} features), not {args.dataset} ({n_in})")
        cfg["dataset"] = args.dataset
    if args.data_dir:
        cfg["data_dir"] = args.data_dir
    cfg["device"] = args.device or "cpu"
    cfg["augment"] = False
    model, (_, _, test_loader), _ = _prepare(cfg, state.get("normalizer"), training=False, download=args.download)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as e:
        raise CommandError(f"{args.checkpoint} does not match the model it describes: {_one_line(e)}") from None
    result = T.evaluate(model, R.build_loss(cfg["loss"]), test_loader)
    print(f"test accuracy {100 * result['accuracy']:.2f}%  (test loss {result['loss']:.4f}, {cfg['dataset']})")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from .graph import main as graph_main

    return graph_main(args.rest)


def cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    import minigrad as mg

    from .. import viz

    print(f"minigrad {mg.__version__}")
    print(f"numpy {np.__version__}")
    try:
        import cupy

        print(f"cupy {cupy.__version__}")
    except Exception:
        print("cupy: not installed")
    if mg.cuda.is_available():
        print(f"CUDA GPU: found ({mg.cuda.device_count()} device(s))")
    else:
        print("CUDA GPU: not found")
    from ..jit import cuda_graphs_available
    print("CUDA Graphs (mg.jit on CUDA): " + ("available" if cuda_graphs_available() else
                                              "not available (needs CuPy with stream capture and a GPU)"))
    print(f"graphviz: {viz.renderer_description()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ..train import recipe as R

    parser = _OneLineParser(prog="minigrad", description="minigrad: train, evaluate and draw small nets")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    _train_parser(sub)
    e = sub.add_parser("eval", help="test accuracy of a saved checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--dataset", choices=tuple(R.DATASETS), help="evaluate on another dataset with the same input size")
    e.add_argument("--data-dir", help="folder holding mnist/ or fashion-mnist/")
    e.add_argument("--download", action="store_true", help="fetch missing MNIST / Fashion-MNIST files first")
    e.add_argument("--device")
    e.set_defaults(func=cmd_eval)
    g = sub.add_parser("graph", help="draw the compute graph of the default model's loss", add_help=False)
    g.add_argument("rest", nargs=argparse.REMAINDER)
    g.set_defaults(func=cmd_graph)
    sub.add_parser("info", help="versions, GPU and Graphviz").set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["graph"]:  # its own parser (minigrad.cli.graph)
        try:
            return cmd_graph(argparse.Namespace(rest=argv[1:]))
        except (FileNotFoundError, ValueError, RuntimeError, OSError) as e:
            print(f"minigrad graph: error: {str(e).strip().splitlines()[0]}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CommandError as e:
        print(f"minigrad {args.command}: error: {e}", file=sys.stderr)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError, TypeError, OSError) as e:
        print(f"minigrad {args.command}: error: {_one_line(e)}", file=sys.stderr)
    except MemoryError:
        print(f"minigrad {args.command}: error: out of memory (a smaller --hidden, --channels or --batch-size "
              "needs less)", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2


def _one_line(e: BaseException) -> str:
    """An exception's message on one line (at most 400 characters)."""
    msg = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, KeyError) and len(e.args) == 1:  # str(KeyError) is the bare quoted key
        msg = f"missing entry {e.args[0]!r}"
    return msg if len(msg) <= 400 else msg[:400] + " ..."


if __name__ == "__main__":
    sys.exit(main())
