"""Build a model, loss, optimizer, schedule and data loaders from plain options.

This is what the ``minigrad train`` / ``minigrad eval`` commands run; it is also a compact
example of putting the pieces together.  Options are a dict (the command's flags), stored in
checkpoints as ``config`` so a saved model can be rebuilt exactly.
"""
from __future__ import annotations

import math
from typing import Any

from .. import data as _data
from .. import nn, optim
from ..nn import functional as F

#: dataset -> (features, classes, defaults that differ from the global ones)
DATASETS = {
    "digits": (64, 10, dict(hidden="256", dropout=0.2, optimizer="adamw", lr=2e-3, weight_decay=1e-2,
                            lr_schedule="cosine", epochs=60, batch_size=32)),
    "mnist": (784, 10, dict(hidden="100", epochs=10, batch_size=64, optimizer="adam", lr=1e-3)),
    "fashion-mnist": (784, 10, dict(hidden="256", epochs=10, batch_size=64, optimizer="adam", lr=1e-3)),
    "spirals": (2, 3, dict(hidden="64,64", epochs=100, batch_size=32, optimizer="adam", lr=1e-2)),
}

#: With ``--model cnn``, the dataset's defaults that differ from its MLP ones (image datasets only).
CNN_DATASETS = {
    "digits": dict(hidden="64"),
    "mnist": dict(hidden="256"),
    "fashion-mnist": dict(hidden="256"),
}

DEFAULTS = dict(dataset="digits", data_dir=None, model="mlp", channels="32,64", kernel_size=5, conv_padding="same",
                hidden="100", activation="relu", init="default",
                loss="cross_entropy", optimizer="sgd", lr=0.1, momentum=0.0, weight_decay=0.0, l1=0.0,
                dropout=0.0, batch_norm=False, batch_size=32, epochs=10, early_stopping=None,
                lr_schedule="none", augment=False, device="cpu", seed=0, normalize=True, dtype="float32")

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "gelu": nn.GELU, "softplus": nn.Softplus}
INITS = ("default", "kaiming", "xavier", "lecun", "large", "network2")
LOSSES = ("cross_entropy", "bce", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "adamax", "nadam")
JIT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")  # no step count on the host (Adam: capturable)
DTYPES = ("float32", "float64")
MODELS = ("mlp", "cnn")
CONV_PADDINGS = ("same", "valid")
SCHEDULES = ("none", "step", "exponential", "cosine", "plateau", "halving", "onecycle")


def resolve(options: dict) -> dict:
    """Fill in defaults: global ones, then the dataset's (and with ``model="cnn"`` its CNN ones from
    ``CNN_DATASETS``), then what the caller gave.  A config without ``model`` (older checkpoints)
    is an MLP."""
    dataset = options.get("dataset") or DEFAULTS["dataset"]
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    cfg = dict(DEFAULTS)
    cfg.update(DATASETS[dataset][2])
    if (options.get("model") or DEFAULTS["model"]) == "cnn":
        cfg.update(CNN_DATASETS.get(dataset, {}))
    cfg.update({k: v for k, v in options.items() if v is not None})
    cfg["dataset"] = dataset
    return cfg


def hidden_sizes(spec: Any) -> list:
    """Hidden layer widths from ``--hidden``: comma-separated positive integers ("100,100"), or
    "none" for no hidden layer (softmax regression)."""
    if isinstance(spec, (list, tuple)):
        sizes = [int(s) for s in spec]
    elif str(spec).strip().lower() == "none":
        sizes = []
    else:
        items = [s.strip() for s in str(spec).split(",")]
        if not all(item.isdigit() for item in items):
            raise ValueError(f"--hidden must be comma-separated layer widths like 100,100 (or 'none' for no hidden "
                             f"layer), got {spec!r}")
        sizes = [int(s) for s in items]
    if any(s <= 0 for s in sizes):
        raise ValueError(f"--hidden widths must be positive, got {spec!r}")
    return sizes


def channel_sizes(spec: Any) -> list:
    """Convolution widths from ``--channels``: comma-separated positive integers ("32,64")."""
    if isinstance(spec, (list, tuple)):
        sizes = [int(s) for s in spec]
    else:
        items = [s.strip() for s in str(spec).split(",")]
        if not all(item.isdigit() for item in items):
            raise ValueError(f"--channels must be comma-separated channel counts like 32,64, got {spec!r}")
        sizes = [int(s) for s in items]
    if not sizes or any(s <= 0 for s in sizes):
        raise ValueError(f"--channels must be positive channel counts like 32,64, got {spec!r}")
    return sizes


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def conv_sizes(cfg: dict) -> list:
    """The CNN's image side S after each [conv, pool] block, starting with the input's, e.g.
    ``[28, 14, 7]`` for two blocks on MNIST.  A conv of kernel k with padding p maps S to
    S + 2p - k + 1 (``same``, p = k//2 for odd k: S stays), a 2x2 max pool maps S to ⌊S/2⌋.
    Raises ValueError (one line naming the flags) for a non-image dataset, a bad ``--channels``
    or ``--kernel-size``, or a stack that shrinks the image to nothing."""
    shape = image_shape(cfg)
    if shape is None:
        raise ValueError(f"--model cnn needs an image dataset ({', '.join(CNN_DATASETS)}), not {cfg['dataset']!r}")
    k, padding = cfg["kernel_size"], cfg["conv_padding"]
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0:
        raise ValueError(f"--kernel-size must be an odd integer >= 1, got {k}")
    if padding not in CONV_PADDINGS:
        raise ValueError(f"unknown --conv-padding {padding!r}; choose one of {', '.join(CONV_PADDINGS)}")
    channels = channel_sizes(cfg["channels"])
    pad = k // 2 if padding == "same" else 0

    def vanished(i: int, step: str) -> ValueError:
        return ValueError(f"--channels {cfg['channels']} with --kernel-size {k} --conv-padding {padding} shrinks "
                          f"{shape[0]}x{shape[1]} {cfg['dataset']} to nothing after the {_ordinal(i)} {step}")

    sizes = [shape[0]]
    for i in range(1, len(channels) + 1):
        side = sizes[-1] + 2 * pad - k + 1
        if side < 1:
            raise vanished(i, "conv")
        side //= 2
        if side < 1:
            raise vanished(i, "pool")
        sizes.append(side)
    return sizes


def _layers(cfg: dict) -> list:
    """The model as a list of (kind, argument) pairs, in order.  MLP: ``("linear", (n_in, n_out))``,
    ``("batch_norm", width)``, ``("activation", name)``, ``("dropout", p)``.  A CNN starts with
    ``("unflatten", (1, S, S))``, then per ``--channels`` width ``("conv", (c_in, c_out, k,
    padding))``, ``("batch_norm_2d", c_out)``, ``("activation", name)``, ``("max_pool", 2)``, then
    ``("flatten", None)`` and the MLP part.  The model and the shapes its checkpoint must hold
    both come from this list."""
    n_in, n_out, _ = DATASETS[cfg["dataset"]]
    if cfg.get("model", "mlp") not in MODELS:
        raise ValueError(f"unknown model {cfg['model']!r}; choose one of {', '.join(MODELS)}")
    layers: list = []
    width = n_in
    if cfg.get("model") == "cnn":
        sides = conv_sizes(cfg)
        k = cfg["kernel_size"]
        padding = k // 2 if cfg["conv_padding"] == "same" else 0
        layers.append(("unflatten", (1, sides[0], sides[0])))
        depth = 1
        for c in channel_sizes(cfg["channels"]):
            layers.append(("conv", (depth, c, k, padding)))
            if cfg["batch_norm"]:
                layers.append(("batch_norm_2d", c))
            layers.append(("activation", cfg["activation"]))
            layers.append(("max_pool", 2))
            depth = c
        layers.append(("flatten", None))
        width = depth * sides[-1] ** 2
    for h in hidden_sizes(cfg["hidden"]):
        layers.append(("linear", (width, h)))
        if cfg["batch_norm"]:
            layers.append(("batch_norm", h))
        layers.append(("activation", cfg["activation"]))
        if cfg["dropout"]:
            layers.append(("dropout", cfg["dropout"]))
        width = h
    layers.append(("linear", (width, n_out)))
    return layers


def build_model(cfg: dict) -> nn.Module:
    """An MLP: [Linear → (BatchNorm) → activation → (Dropout)] × hidden layers → Linear; or a CNN:
    Unflatten → [Conv2d → (BatchNorm2d) → activation → MaxPool2d(2)] × channels → Flatten → the
    MLP part (see ``_layers``)."""
    if cfg["activation"] not in ACTIVATIONS:
        raise ValueError(f"unknown activation {cfg['activation']!r}; choose one of {', '.join(ACTIVATIONS)}")
    make = {"linear": lambda shape: nn.Linear(*shape), "batch_norm": nn.BatchNorm1d,
            "activation": lambda name: ACTIVATIONS[name](), "dropout": nn.Dropout,
            "unflatten": lambda shape: nn.Unflatten(1, shape), "flatten": lambda _: nn.Flatten(),
            "conv": lambda arg: nn.Conv2d(arg[0], arg[1], arg[2], padding=arg[3]),
            "batch_norm_2d": lambda width: nn.BatchNorm2d(width), "max_pool": lambda size: nn.MaxPool2d(size)}
    model = nn.Sequential(*(make[kind](arg) for kind, arg in _layers(cfg)))
    _initialize(model, cfg["init"], cfg["activation"])
    return model


def state_shapes(cfg: dict) -> dict:
    """The shape of every entry of ``build_model(cfg).state_dict()``, without building the model
    (a checkpoint's tensors are compared with these before any memory is allocated)."""
    shapes: dict = {}
    for i, (kind, arg) in enumerate(_layers(cfg)):
        if kind == "linear":
            n_in, n_out = arg
            shapes[f"{i}.weight"], shapes[f"{i}.bias"] = (n_out, n_in), (n_out,)
        elif kind == "conv":
            c_in, c_out, k, _ = arg
            shapes[f"{i}.weight"], shapes[f"{i}.bias"] = (c_out, c_in, k, k), (c_out,)
        elif kind in ("batch_norm", "batch_norm_2d"):
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{i}.{name}"] = (arg,)
            shapes[f"{i}.num_batches_tracked"] = ()
    return shapes


def state_size(cfg: dict) -> int:
    """How many numbers the model's state holds (parameters and batch-norm statistics)."""
    return sum(math.prod(shape) for shape in state_shapes(cfg).values())


def check_state_shapes(cfg: dict, state: dict) -> None:
    """Raise ValueError (one line) unless ``state``, a model state dict, holds exactly the tensors
    of the model ``cfg`` describes, with their shapes."""
    expected = state_shapes(cfg)
    problem = ""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        problem = "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                            + ([f"unexpected {', '.join(unexpected)}"] if unexpected else []))
    else:
        for key, shape in expected.items():
            if tuple(state[key].shape) != shape:
                problem = f"{key} has shape {tuple(state[key].shape)}, the config needs {shape}"
                break
    if problem:
        raise ValueError(f"the stored weights do not fit the model its config describes ({describe_model(cfg)}): "
                         f"{problem}")


def _initialize(model: nn.Module, scheme: str, activation: str) -> None:
    if scheme not in INITS:
        raise ValueError(f"unknown init {scheme!r}; choose one of {', '.join(INITS)}")
    if scheme == "default":
        return  # PyTorch's default: U(±1/√fan_in)
    init = nn.init
    for m in model.modules():
        if not isinstance(m, (nn.Linear, nn.Conv2d)):  # (conv kernels: fan_in = in_channels·k·k)
            continue
        if scheme == "kaiming":
            init.kaiming_normal_(m.weight, nonlinearity="relu" if activation in ("relu", "gelu") else "leaky_relu")
        elif scheme == "xavier":
            init.xavier_uniform_(m.weight, gain=init.calculate_gain(activation if activation in
                                                                    ("relu", "tanh", "sigmoid") else "linear"))
        elif scheme == "lecun":
            init.lecun_normal_(m.weight)
        elif scheme == "large":
            init.large_normal_(m.weight)
        if scheme == "network2":  # Nielsen's network2: w ~ N(0, 1/n_in), b ~ N(0, 1)
            init.lecun_normal_(m.weight)
            init.normal_(m.bias)
        elif m.bias is not None:
            init.zeros_(m.bias)


def build_loss(name: str) -> Any:
    """cross_entropy: softmax + NLL on logits.  bce: per-class sigmoid cross-entropy summed over
    classes (network2's CrossEntropyCost).  mse: ½Σ(σ(z) - y)² over classes (its QuadraticCost)."""
    if name == "cross_entropy":
        return F.cross_entropy
    if name == "bce":
        def bce(z: Any, y: Any) -> Any:
            return F.binary_cross_entropy_with_logits(z, F.one_hot(y, z.shape[-1]).to(z.dtype),
                                                      reduction="sum") / z.shape[0]
        return bce
    if name == "mse":
        def mse(z: Any, y: Any) -> Any:
            return F.mse_loss(z.sigmoid(), F.one_hot(y, z.shape[-1]).to(z.dtype), reduction="sum") / (2 * z.shape[0])
        return mse
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def build_optimizer(model: nn.Module, cfg: dict) -> optim.Optimizer:
    """Weight decay applies to weight matrices, not biases or batch-norm parameters."""
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in model.named_parameters() if p.ndim < 2]
    wd = cfg["weight_decay"]
    groups = [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]
    name, lr, mom = cfg["optimizer"], cfg["lr"], cfg["momentum"]
    if name == "sgd":
        return optim.SGD(groups, lr=lr, momentum=mom)
    if name == "momentum":
        return optim.SGD(groups, lr=lr, momentum=mom or 0.9)
    if name == "nesterov":
        return optim.SGD(groups, lr=lr, momentum=mom or 0.9, nesterov=True)
    classes = {"adagrad": optim.Adagrad, "adadelta": optim.Adadelta, "rmsprop": optim.RMSprop,
               "adam": optim.Adam, "adamw": optim.AdamW, "adamax": optim.Adamax, "nadam": optim.NAdam}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if name == "rmsprop":
        return optim.RMSprop(groups, lr=lr, momentum=mom)
    if name in ("adam", "adamw") and cfg.get("jit"):  # the step count in an array: mg.jit can capture it
        return classes[name](groups, lr=lr, capturable=True)
    return classes[name](groups, lr=lr)


def build_schedule(opt: optim.Optimizer, cfg: dict) -> Any:
    """none | step (×0.1 every third of training) | exponential (γ=0.95) | cosine | plateau (×0.5 when
    validation accuracy stalls 3 epochs) | halving (network2's rule: halve when validation accuracy
    has not improved for 10 epochs; training stops at 1/1024 of the start) | onecycle."""
    name, epochs = cfg["lr_schedule"], cfg["epochs"]
    S = optim.lr_scheduler
    if name == "none":
        return None
    if name == "step":
        return S.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "exponential":
        return S.ExponentialLR(opt, gamma=0.95)
    if name == "cosine":
        return S.CosineAnnealingLR(opt, T_max=epochs)
    if name == "plateau":
        return S.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)
    if name == "halving":
        return S.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=10, min_lr=cfg["lr"] / 1024)
    if name == "onecycle":
        return _EpochOneCycle(opt, cfg["lr"], epochs)
    raise ValueError(f"unknown lr schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


class _EpochOneCycle:
    """OneCycleLR stepped once per epoch (``fit`` steps schedules per epoch)."""

    def __init__(self, opt: optim.Optimizer, max_lr: float, epochs: int) -> None:
        self.inner = optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=epochs + 1)

    def step(self) -> None:
        self.inner.step()

    def state_dict(self) -> dict:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state)


def load_splits(cfg: dict, download: bool = False) -> tuple:
    """(train, val, test) TensorDatasets for ``cfg['dataset']``; ``download`` fetches missing
    MNIST / Fashion-MNIST files (sha256-checked, resumable) into the data folder first."""
    name, root = cfg["dataset"], cfg.get("data_dir")
    if name == "digits":
        return _data.digits("train"), _data.digits("val"), _data.digits("test")
    if name in ("mnist", "fashion-mnist"):
        cls = _data.MNIST if name == "mnist" else _data.FashionMNIST
        return tuple(cls(root, split=split, download=download) for split in ("train", "val", "test"))
    if name == "spirals":
        full = _data.spirals(n=1500, classes=3, noise=0.1, seed=cfg["seed"] + 1000)
        return tuple(_data.random_split(full, [0.7, 0.15, 0.15], seed=cfg["seed"] + 1000))
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def cast_splits(splits: tuple, dtype: str) -> tuple:
    """The splits with their floating-point features in ``dtype`` (each array converted once, here,
    not per batch; splits sharing one dataset keep sharing its converted copy).  float32, the
    dtype the built-in datasets have, returns them as they are."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if dtype == "float32":
        return tuple(splits)
    converted: dict = {}

    def cast(ds: Any) -> Any:
        if isinstance(ds, _data.Subset):
            return _data.Subset(cast(ds.dataset), ds.indices)
        if id(ds) not in converted:
            converted[id(ds)] = _data.TensorDataset(*(a.astype(dtype) if a.dtype.kind == "f" else a
                                                      for a in ds.arrays))
        return converted[id(ds)]

    return tuple(cast(ds) for ds in splits)


def image_shape(cfg: dict) -> tuple | None:
    return {"digits": (8, 8), "mnist": (28, 28), "fashion-mnist": (28, 28)}.get(cfg["dataset"])


def build_loaders(cfg: dict, splits: tuple, normalizer: Any, training: bool = True) -> tuple:
    """(train, val, test) loaders; the training one shuffles (seeded) and, with ``augment``,
    shifts and rotates images a little on the fly.

    ``normalizer`` standardizes the training split once, here: its batches are read every step,
    so a per-batch transform would cost two passes per batch and epoch.  Augmented training
    images are instead normalized per batch, after the shifts and rotations (which fill with raw
    background); validation and test batches too (1024 rows each, read once per epoch, not worth
    a copy of the split).  ``training=False`` (evaluation only) skips the training loader (None).
    """
    train, val, test = splits
    train_tf = None
    if cfg["augment"]:
        shape = image_shape(cfg)
        if shape is None:
            raise ValueError(f"--augment needs an image dataset, not {cfg['dataset']!r}")
        steps = [_data.RandomShift(1 if shape == (8, 8) else 2, image_shape=shape, seed=cfg["seed"] + 1),
                 _data.RandomRotation(10.0, image_shape=shape, seed=cfg["seed"] + 2)]
        train_tf = _data.Compose(steps + ([normalizer] if normalizer is not None else []))
    elif normalizer is not None and training:
        train = normalizer.apply(train)  # one pass now instead of one per batch and epoch
    dev = cfg["device"]
    loader = _data.DataLoader
    # batch norm cannot normalize a batch of one sample in training mode: drop such a last batch
    drop_last = bool(cfg["batch_norm"]) and len(train) % cfg["batch_size"] == 1
    return (loader(train, batch_size=cfg["batch_size"], shuffle=True, seed=cfg["seed"], device=dev,
                   transform=train_tf, drop_last=drop_last) if training else None,
            loader(val, batch_size=1024, device=dev, transform=normalizer),
            loader(test, batch_size=1024, device=dev, transform=normalizer))


def regularizer(cfg: dict) -> Any:
    """L1 penalty λ₁·Σ|w| over weight matrices, when ``l1`` > 0."""
    if not cfg["l1"]:
        return None
    coef = float(cfg["l1"])

    def penalty(model: nn.Module) -> Any:
        return nn.l1_penalty(nn.weight_parameters(model)) * coef

    return penalty


def describe_model(cfg: dict) -> str:
    """The model in words, e.g. ``MLP 64-256-10 (relu, dropout 0.2)`` or
    ``CNN 1x28x28: conv5 32-64 (same) + pool2, FC 256-10 (relu, dropout 0.5)``."""
    n_in, n_out, _ = DATASETS[cfg["dataset"]]
    extras = [cfg["activation"]]
    if cfg["batch_norm"]:
        extras.append("batch norm")
    if cfg["dropout"]:
        extras.append(f"dropout {cfg['dropout']}")
    if cfg.get("model") == "cnn":
        h, w = image_shape(cfg) or ("?", "?")
        convs = "-".join(map(str, channel_sizes(cfg["channels"])))
        fc = "-".join(map(str, hidden_sizes(cfg["hidden"]) + [n_out]))
        return (f"CNN 1x{h}x{w}: conv{cfg['kernel_size']} {convs} ({cfg['conv_padding']}) + pool2, "
                f"FC {fc} ({', '.join(extras)})")
    sizes = [n_in] + hidden_sizes(cfg["hidden"]) + [n_out]
    return f"MLP {'-'.join(map(str, sizes))} ({', '.join(extras)})"


def describe(cfg: dict) -> str:
    """The whole run in one line: model, data, loss, optimizer, schedule, device."""
    reg = []
    if cfg["weight_decay"]:
        reg.append(f"weight decay {cfg['weight_decay']:g}")
    if cfg["l1"]:
        reg.append(f"L1 {cfg['l1']:g}")
    return (f"{describe_model(cfg)} on {cfg['dataset']}; "
            f"{cfg['loss']} loss, {cfg['optimizer']} lr {cfg['lr']:g}"
            + (f", {', '.join(reg)}" if reg else "") + f", batch {cfg['batch_size']}, {cfg['epochs']} epochs"
            + (f", {cfg['lr_schedule']} schedule" if cfg["lr_schedule"] != "none" else "")
            + (", augmented" if cfg["augment"] else "") + f", device {cfg['device']}"
            + (f", {cfg['dtype']}" if cfg["dtype"] != "float32" else ""))
