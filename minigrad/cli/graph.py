"""``minigrad graph``: draw the default model's loss graph on one batch.

    minigrad graph [--dataset digits|mnist|random] [--model mlp|cnn] [--hidden 32] [--batch 16]
                   [--channels 4,8] [--kernel-size 3] [--conv-padding same|valid] [--out graph.svg]
                   [--format svg|png|pdf|dot] [--show-saved] [--collapse] [--viewer backprop.html]

The model is an MLP (Linear, ReLU, ..., Linear) with cross-entropy loss, recorded under
:func:`minigrad.viz.trace` so the picture has every shape and one cluster per layer.
``--model cnn`` draws the CNN of ``minigrad train --model cnn`` instead (built by
:mod:`minigrad.train.recipe`, without dropout or batch norm): Unflatten, then Conv2d, ReLU,
MaxPool2d(2) per ``--channels`` width, Flatten and the ``--hidden`` layers.
Data: ``digits`` (default) is the 8x8 digits shipped with minigrad (64 features),
``mnist`` the MNIST test images from ``$MINIGRAD_DATA`` (784 features), ``random``
Gaussian features of the digits' size.  Everything runs on the CPU in a second or so.

The picture's path and format are checked first (:func:`minigrad.viz.check_picture_path`):
PNG and PDF need Graphviz's ``dot`` program, SVG needs ``dot`` or
``pip install "minigrad[viz]"``, ``.dot`` needs nothing.  A request that cannot be met
ends with one line saying what to install, before any data is loaded.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy

__all__ = ["main", "build_parser", "default_loss"]

_N_CLASSES = 10


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minigrad graph", description="Draw the compute graph of the default "
                                "model's loss on one batch (and optionally the step-by-step backward viewer).")
    p.add_argument("--dataset", choices=("digits", "mnist", "random"), default="digits",
                   help="digits: the built-in 8x8 digits (default); mnist: MNIST test images from "
                        "$MINIGRAD_DATA; random: Gaussian data of the digits' shape")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                   help="mlp (default) or cnn (convolutions before the hidden layers)")
    p.add_argument("--hidden", default="32", help="hidden layer widths, comma-separated (default 32)")
    p.add_argument("--channels", default="4,8", help="cnn: convolution widths, comma-separated (default 4,8)")
    p.add_argument("--kernel-size", type=int, default=3, help="cnn: odd kernel size (default 3)")
    p.add_argument("--conv-padding", choices=("same", "valid"), default="same",
                   help="cnn: 'same' (default) keeps the image size through each conv, 'valid' pads nothing")
    p.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    p.add_argument("--out", default="graph.svg", help="picture to write: .svg, .png, .pdf or .dot "
                                                      "(default graph.svg)")
    p.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default=None,
                   help="output format (default: from --out's suffix)")
    p.add_argument("--show-saved", action="store_true", help="list what each op saved for backward")
    p.add_argument("--collapse", action="store_true", help="draw each layer as one node")
    p.add_argument("--viewer", default=None, metavar="HTML", help="also write the backward-pass viewer here")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return p


def _batch(dataset: str, n: int, seed: int) -> tuple:
    """(x float32 (n, features), y int64 (n,), description) of the first ``n`` samples."""
    from .. import data

    if dataset == "digits":
        x, y = data.digits("test").arrays
        about = "8x8 digits (test split)"
    elif dataset == "mnist":
        x, y = data.MNIST(split="test").arrays
        about = "MNIST test digits"
    else:
        rng = numpy.random.default_rng(seed)
        x = rng.standard_normal((n, 64)).astype(numpy.float32)
        y = rng.integers(0, _N_CLASSES, size=n).astype(numpy.int64)
        about = "random samples"
    if n > x.shape[0]:
        raise ValueError(f"--batch {n} is larger than the dataset ({x.shape[0]} samples)")
    return numpy.ascontiguousarray(x[:n]), numpy.asarray(y[:n], dtype=numpy.int64), f"{n} {about}"


def cnn_config(dataset: str = "digits", hidden: Sequence[int] = (32,), channels: Sequence[int] = (4, 8),
               kernel_size: int = 3, conv_padding: str = "same") -> dict:
    """The ``minigrad train`` config of the CNN drawn for ``--model cnn`` (ReLU, no dropout, no
    batch norm); ``random`` data has the digits' 8x8 shape.  Raises ValueError (one line) for a
    kernel size or a stack the image does not survive."""
    from ..train import recipe

    cfg = recipe.resolve(dict(dataset="mnist" if dataset == "mnist" else "digits", model="cnn",
                              channels=",".join(map(str, channels)), kernel_size=kernel_size,
                              conv_padding=conv_padding, hidden=",".join(map(str, hidden)) or "none",
                              activation="relu", dropout=0.0, batch_norm=False, init="default"))
    recipe.conv_sizes(cfg)
    return cfg


def default_loss(dataset: str = "digits", hidden: Sequence[int] = (32,), batch: int = 16, seed: int = 0,
                 cnn: dict | None = None) -> tuple:
    """(model, its loss on one batch recorded under ``trace``, widths, description of the data).

    The model is an MLP ``features-hidden...-10``, or, given ``cnn`` (a :func:`cnn_config`),
    that CNN; ``widths`` are then its conv and hidden widths and the 10 classes."""
    import minigrad as mg
    from minigrad import nn

    from ..viz import trace

    x, y, about = _batch(dataset, batch, seed)
    mg.manual_seed(seed)
    if cnn is not None:
        from ..train import recipe

        model = recipe.build_model(cnn)
        widths = [*recipe.channel_sizes(cnn["channels"]), *hidden, _N_CLASSES]
    else:
        widths = [x.shape[1], *hidden, _N_CLASSES]
        layers: list = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
    with trace(model):
        loss = nn.functional.cross_entropy(model(mg.tensor(x)), mg.tensor(y))
    return model, loss, widths, about


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``minigrad graph``; returns the exit status."""
    from ..viz import backward_viewer, check_picture_path, draw_graph

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    except ValueError:
        parser.error(f"--hidden must be comma-separated integers, got {args.hidden!r}")
    if any(h <= 0 for h in hidden) or args.batch <= 0:
        parser.error("--hidden widths and --batch must be positive")
    cnn = None
    if args.model == "cnn":
        items = [c.strip() for c in args.channels.split(",")]
        if not all(item.isdigit() and int(item) > 0 for item in items):
            parser.error(f"--channels must be comma-separated positive integers, got {args.channels!r}")
        try:
            cnn = cnn_config(args.dataset, hidden, [int(c) for c in items], args.kernel_size, args.conv_padding)
        except ValueError as e:  # a kernel size or a stack the image does not survive
            parser.error(str(e))
    try:
        check_picture_path(args.out, args.format)  # before any work: e.g. PNG without Graphviz
        model, loss, widths, about = default_loss(args.dataset, hidden, args.batch, args.seed, cnn=cnn)
    except (OSError, ValueError) as e:  # e.g. MNIST files not found: say so, no traceback
        print(f"minigrad graph: {e}", file=sys.stderr)
        return 1
    drawing = draw_graph(loss, params=model, show_saved=args.show_saved, collapse=args.collapse)
    try:
        written = drawing.render(args.out, args.format)
    except (OSError, ValueError, RuntimeError) as e:  # the renderer failed, or the disk
        print(f"minigrad graph: {e}", file=sys.stderr)
        return 1
    if cnn is not None:
        from ..train import recipe

        print(f"graph of the loss of a {recipe.describe_model(cnn)} on {about}: {written}")
    else:
        print(f"graph of the loss of an MLP {'-'.join(map(str, widths))} on {about}: {written}")
    if args.viewer:
        page = backward_viewer(loss, args.viewer, params=model)
        print(f"backward viewer: {page}")
    return 0


if __name__ == "__main__":  # python -m minigrad.cli.graph
    sys.exit(main())
