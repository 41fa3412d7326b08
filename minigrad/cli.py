"""The ``minigrad`` command (also ``python -m minigrad``).

    minigrad train [options]         train an MLP (default: on the built-in 8x8 digits) and report
                                     per-epoch metrics and the test accuracy; writes the curves PNG
    minigrad eval CHECKPOINT         test accuracy of a checkpoint written by ``train --save``
    minigrad graph [options]         draw the compute graph of the default model's loss
    minigrad info                    versions; is a GPU / Graphviz available

Errors (bad flags, unknown datasets, missing data, mismatched checkpoints) print one line and
exit with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; a command-line error here is one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CommandError(Exception):
    """An error to report in one line."""


def _train_parser(sub: Any) -> argparse.ArgumentParser:
    from .train import recipe as R

    t = sub.add_parser("train", help="train an MLP and report test accuracy",
                       description="Train an MLP; defaults depend on the dataset (digits: 64-256-10 ReLU, "
                                   "dropout 0.2, AdamW, cosine schedule, 60 epochs).")
    a = t.add_argument
    a("--dataset", choices=tuple(R.DATASETS), help="default: digits (built in, no download)")
    a("--data-dir", help="folder holding mnist/ or fashion-mnist/ (default: $MINIGRAD_DATA or ~/.cache/minigrad)")
    a("--hidden", help="hidden layer widths, comma-separated, e.g. 100,100")
    a("--activation", choices=tuple(R.ACTIVATIONS))
    a("--init", choices=R.INITS, help="weight initialization (network2: N(0,1/n_in) weights, N(0,1) biases)")
    a("--loss", choices=R.LOSSES)
    a("--optimizer", choices=R.OPTIMIZERS)
    a("--lr", type=float, help="learning rate")
    a("--momentum", type=float)
    a("--weight-decay", type=float, help="L2 weight decay on weight matrices (not biases)")
    a("--l1", type=float, help="L1 penalty coefficient on weight matrices")
    a("--dropout", type=float, help="dropout probability after each hidden layer")
    a("--batch-norm", action="store_true", default=None, help="batch normalization after each hidden Linear")
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
    a("--resume", metavar="PATH", help="continue training from a checkpoint")
    a("--plot", metavar="PATH", default="training_curves.png", help="curves PNG (default training_curves.png; "
                                                                     "'none' to skip)")
    a("--graph", metavar="PATH", help="also draw the loss's compute graph on one batch (svg/png/pdf/dot)")
    a("--quiet", action="store_true", help="only the final line")
    t.set_defaults(func=cmd_train)
    return t


def _check(cfg: dict) -> None:
    for key in ("lr", "batch_size", "epochs"):
        if cfg[key] is None or cfg[key] <= 0:
            raise CommandError(f"--{key.replace('_', '-')} must be positive, got {cfg[key]}")
    if not 0 <= cfg["dropout"] < 1:
        raise CommandError(f"--dropout must be in [0, 1), got {cfg['dropout']}")
    if cfg["early_stopping"] is not None and cfg["early_stopping"] < 1:
        raise CommandError(f"--early-stopping must be at least 1, got {cfg['early_stopping']}")


def _prepare(cfg: dict, normalizer_state: dict | None = None, training: bool = True) -> tuple:
    """Model, data loaders (no training loader unless ``training``) and normalizer for a resolved
    config."""
    from . import data
    from . import random as _random
    from .train import recipe as R

    _random.manual_seed(cfg["seed"])
    splits = R.cast_splits(R.load_splits(cfg), cfg["dtype"])
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


def cmd_train(args: argparse.Namespace) -> int:
    from . import train as T
    from .train import recipe as R

    options = {k: getattr(args, k, None) for k in R.DEFAULTS}
    if args.resume:  # continue the saved run: its config, with any flags given now on top
        saved = _saved_config(args.resume)
        options = {**saved, **{k: v for k, v in options.items() if v is not None}}
    cfg = R.resolve(options)
    _check(cfg)
    start = time.perf_counter()
    model, (train_loader, val_loader, test_loader), norm = _prepare(cfg)
    loss = R.build_loss(cfg["loss"])
    opt = R.build_optimizer(model, cfg)
    sched = R.build_schedule(opt, cfg)
    early = T.EarlyStopping(cfg["early_stopping"], monitor="val_accuracy") if cfg["early_stopping"] else None
    checkpoint = None
    if args.save:  # the config and normalizer let 'minigrad eval' rebuild the model
        checkpoint = T.Checkpoint(args.save, monitor="val_accuracy",
                                  extra={"config": dict(cfg), "normalizer": norm.state_dict() if norm else None})
    if not args.quiet:
        print(R.describe(cfg), flush=True)
    if args.graph:
        _draw_graph(model, loss, train_loader, args.graph)
    history = T.fit(model, loss, opt, train_loader, val_loader, epochs=cfg["epochs"], scheduler=sched,
                    early_stopping=early, checkpoint=checkpoint, resume=args.resume, regularizer=R.regularizer(cfg),
                    quiet=args.quiet, stop_at_min_lr=cfg["lr_schedule"] == "halving")
    result = T.evaluate(model, loss, test_loader)
    elapsed = time.perf_counter() - start
    if args.plot and args.plot.lower() != "none" and len(history):
        try:
            path = history.plot(args.plot, title=R.describe(cfg))
            if not args.quiet:
                print(f"curves: {path}")
        except RuntimeError as e:  # matplotlib missing: say so, keep the result
            print(f"(no plot: {e})")
    if checkpoint is not None and not args.quiet:
        print(f"checkpoint: {args.save}")
    print(f"test accuracy {100 * result['accuracy']:.2f}%  (test loss {result['loss']:.4f}, {elapsed:.1f} s)")
    return 0


def _saved_config(path: str) -> dict:
    from .serialization import load

    state = load(path, map_location="cpu")
    if not isinstance(state, dict) or "config" not in state:
        raise CommandError(f"{path} is not a checkpoint written by 'minigrad train --save'")
    return dict(state["config"])


def _draw_graph(model: Any, loss: Any, loader: Any, path: str) -> None:
    from . import viz

    xb, yb = next(iter(loader))
    with viz.trace(model):
        out = loss(model(xb[:16]), yb[:16])
    written = viz.draw_graph(out, params=model).render(path)
    print(f"compute graph: {written}")


def cmd_eval(args: argparse.Namespace) -> int:
    from . import train as T
    from .serialization import load
    from .train import recipe as R

    state = load(args.checkpoint, map_location=args.device or "cpu")
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CommandError(f"{args.checkpoint} is not a checkpoint written by 'minigrad train --save'")
    cfg = R.resolve(dict(state["config"]))
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
    model, (_, _, test_loader), _ = _prepare(cfg, state.get("normalizer"), training=False)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as e:
        raise CommandError(f"{args.checkpoint} does not match the model it describes: {e}") from None
    result = T.evaluate(model, R.build_loss(cfg["loss"]), test_loader)
    print(f"test accuracy {100 * result['accuracy']:.2f}%  (test loss {result['loss']:.4f}, {cfg['dataset']})")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from .viz.command import main as graph_main

    return graph_main(args.rest)


def cmd_info(args: argparse.Namespace) -> int:
    import shutil

    import numpy as np

    import minigrad as mg

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
    dot = shutil.which("dot")
    print(f"graphviz: {'found (' + dot + ')' if dot else 'not found (install the graphviz package for pictures)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="minigrad", description="minigrad: train, evaluate and draw small nets")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    _train_parser(sub)
    e = sub.add_parser("eval", help="test accuracy of a saved checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--dataset", help="evaluate on another dataset with the same input size")
    e.add_argument("--data-dir")
    e.add_argument("--device")
    e.set_defaults(func=cmd_eval)
    g = sub.add_parser("graph", help="draw the compute graph of the default model's loss", add_help=False)
    g.add_argument("rest", nargs=argparse.REMAINDER)
    g.set_defaults(func=cmd_graph)
    sub.add_parser("info", help="versions, GPU and Graphviz").set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["graph"]:  # its own parser (minigrad.viz.command)
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
        msg = " ".join(str(e).split()) or type(e).__name__  # one line, however long the message
        if len(msg) > 400:
            msg = msg[:400] + " ..."
        print(f"minigrad {args.command}: error: {msg}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
