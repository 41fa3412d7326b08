"""Op table rows: activations (see tests/op_table.py).

Each activation has one row for its function (top-level and/or ``F.``, with its Tensor method)
and one for its module (``nn.X``), which builds the module with the row's options in both
libraries and applies it.  Inputs stay a margin away from the kinks, where finite differences
cannot see a one-sided derivative.
"""
from hypothesis import strategies as st

from op_table import FLOATS, INTS, Case, add_row, array, dims, elements, shapes

A = "activations"


def one(lo: float = -4.0, hi: float = 4.0, avoid=(), options=None, shape=None):
    """One array in [lo, hi]; ``options(draw, shape)`` draws keyword options and ``avoid`` (a
    tuple, or a function of the options) lists kinks to keep away from."""
    def draw_case(draw, dtype):
        s = draw(shape if shape is not None else shapes())
        opts = options(draw, s) if options else {}
        kinks = avoid(opts) if callable(avoid) else avoid
        return Case([array(draw, s, dtype, elements(dtype, lo, hi, kinks, margin=0.05))], opts)
    return draw_case


def with_dim(draw, s):
    return {"dim": draw(dims(len(s))) if s else draw(st.sampled_from([0, -1]))}


def pick(**choices):
    """Options drawn from lists of values: ``pick(alpha=[0.5, 1.0])``."""
    def draw_options(draw, s):
        return {k: draw(st.sampled_from(v)) for k, v in choices.items()}
    return draw_options


def module(name: str, *arg_names: str):
    """A row's call that builds ``nn.<name>`` with the options named (positionally) and applies it."""
    def call(L, x, **options):
        return getattr(L.nn, name)(*(options[a] for a in arg_names))(x)
    return call


# -- options and kinks ---------------------------------------------------------------------------

SOFTPLUS = pick(beta=[0.5, 1.0, 2.0], threshold=[20.0, 1.0, 3.0])
CELU = pick(alpha=[0.5, 1.0, 2.0])
HARDTANH = st.sampled_from([(-1.0, 1.0), (-2.0, 0.5), (0.0, 6.0), (-0.5, -0.5)])
LAMBD = pick(lambd=[0.0, 0.5, 1.5])


def hardtanh_options(draw, s):
    lo, hi = draw(HARDTANH)
    return {"min_val": lo, "max_val": hi}


def hardtanh_module_options(draw, s):  # (nn.Hardtanh wants min_val < max_val)
    lo, hi = draw(HARDTANH.filter(lambda b: b[0] < b[1]))
    return {"min_val": lo, "max_val": hi}


def threshold_options(draw, s):
    return {"threshold": draw(st.sampled_from([0.0, 1.0, -1.5])), "value": draw(st.sampled_from([-2.0, 0.0, 20.0]))}


def glu_case(draw, dtype):
    s = list(draw(shapes(min_dims=1)))
    dim = draw(dims(len(s)))
    s[dim] = 2 * draw(st.integers(0, 2))
    return Case([array(draw, tuple(s), dtype, elements(dtype, -4, 4))], {"dim": dim})


def prelu_case(draw, dtype):
    """x of any shape and a slope per channel (dim 1), or one slope (1-d or 0-d)."""
    s = draw(shapes())
    channels = s[1] if len(s) >= 2 else 1
    kind = draw(st.sampled_from(["one", "scalar", "per channel"]))
    w_shape = () if kind == "scalar" else (channels,) if kind == "per channel" else (1,)
    x = array(draw, s, dtype, elements(dtype, -3, 3, (0.0,)))
    w = array(draw, w_shape, dtype, elements(dtype, -1, 1))
    return Case([x, w])


def prelu_module_case(draw, dtype):
    """x of 2 or more dims and its module's weights: one or one per channel."""
    s = draw(shapes(min_dims=2, min_side=1))
    count = draw(st.sampled_from([1, s[1]]))
    x = array(draw, s, dtype, elements(dtype, -3, 3, (0.0,)))
    w = array(draw, (count,), dtype, elements(dtype, -1, 1))
    return Case([x, w])


def prelu_module(L, x, w):
    m = getattr(L.nn, "PReLU")(w.shape[0]).to(x.dtype)
    with L.no_grad():
        m.weight.copy_(w)
    return m(x)


def logsumexp_options(draw, s):
    n = len(s)
    if n == 0:
        dim = 0
    elif draw(st.booleans()):
        dim = draw(dims(n))
    else:
        dim = tuple(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)))
    return {"dim": dim, "keepdim": draw(st.booleans())}


def logsumexp_call(L, x, dim, keepdim):
    fn = L.F.logsumexp if L.name == "minigrad" else L.logsumexp
    return fn(x, dim, keepdim=keepdim)


#: Integer inputs give float32 results, but the runner's tolerance follows the input dtype: one
#: float32 ulp (about 1.2e-7 relative) must pass for those rows.
INT_TO_FLOAT32 = {"rtol": 3e-7, "atol": 1e-9}

SOFTMAX_DIFFERS = ("dim=None means the last dim (PyTorch's deprecated implicit dim is 0 for 0-, 1- and 3-d "
                   "inputs, else 1); integer inputs give float64 where PyTorch refuses them")

# -- the activations that were there first -------------------------------------------------------

add_row("relu", A, lambda L, x: L.relu(x), one(avoid=(0.0,)), dtypes=FLOATS + INTS, aliases=("F.relu",))
add_row("nn.ReLU", A, module("ReLU"), one(avoid=(0.0,)), torch="nn.ReLU", dtypes=FLOATS + INTS)
add_row("leaky_relu", A, lambda L, x, negative_slope: L.F.leaky_relu(x, negative_slope),
        one(avoid=(0.0,), options=pick(negative_slope=[0.01, 0.2, -0.5, 1.5])), torch="nn.functional.leaky_relu",
        aliases=("F.leaky_relu",))
add_row("nn.LeakyReLU", A, module("LeakyReLU", "negative_slope"),
        one(avoid=(0.0,), options=pick(negative_slope=[0.01, 0.2])), torch="nn.LeakyReLU")
add_row("elu", A, lambda L, x, alpha: L.F.elu(x, alpha), one(avoid=(0.0,), options=pick(alpha=[1.0, 0.5, 2.0])),
        torch="nn.functional.elu", aliases=("F.elu",))
add_row("nn.ELU", A, module("ELU", "alpha"), one(avoid=(0.0,), options=pick(alpha=[1.0, 0.5])), torch="nn.ELU")
add_row("gelu", A, lambda L, x, approximate: L.F.gelu(x, approximate=approximate),
        one(options=pick(approximate=["none", "tanh"])), torch="nn.functional.gelu",
        aliases=("F.gelu",))
add_row("nn.GELU", A, module("GELU", "approximate"), one(options=pick(approximate=["none", "tanh"])),
        torch="nn.GELU")
add_row("sigmoid", A, lambda L, x: L.sigmoid(x), one(-8, 8), dtypes=FLOATS + INTS, aliases=("F.sigmoid",),
        **INT_TO_FLOAT32)
add_row("nn.Sigmoid", A, module("Sigmoid"), one(-8, 8), torch="nn.Sigmoid")
add_row("tanh", A, lambda L, x: L.tanh(x), one(-4, 4), aliases=("F.tanh",),
        differs="integer inputs give float64 (PyTorch: the default float dtype)")
add_row("nn.Tanh", A, module("Tanh"), one(-4, 4), torch="nn.Tanh")
add_row("softplus", A, lambda L, x, beta, threshold: L.F.softplus(x, beta, threshold),
        one(-6, 6, avoid=lambda o: (o["threshold"] / o["beta"],), options=SOFTPLUS),
        torch="nn.functional.softplus", aliases=("F.softplus",))
add_row("nn.Softplus", A, module("Softplus", "beta", "threshold"),
        one(-6, 6, avoid=lambda o: (o["threshold"] / o["beta"],), options=SOFTPLUS), torch="nn.Softplus")
add_row("softmax", A, lambda L, x, dim: L.softmax(x, dim), one(-5, 5, options=with_dim), aliases=("F.softmax",),
        differs=SOFTMAX_DIFFERS)
add_row("nn.Softmax", A, module("Softmax", "dim"), one(-5, 5, options=with_dim), torch="nn.Softmax")
add_row("log_softmax", A, lambda L, x, dim: L.log_softmax(x, dim), one(-5, 5, options=with_dim),
        aliases=("F.log_softmax",), differs=SOFTMAX_DIFFERS)
add_row("nn.LogSoftmax", A, module("LogSoftmax", "dim"), one(-5, 5, options=with_dim), torch="nn.LogSoftmax")
add_row("F.logsumexp", A, logsumexp_call, one(-5, 5, options=logsumexp_options), torch="logsumexp")

# -- the rest of PyTorch's activations -----------------------------------------------------------

add_row("selu", A, lambda L, x: L.selu(x), one(avoid=(0.0,)), aliases=("F.selu",))
add_row("nn.SELU", A, module("SELU"), one(avoid=(0.0,)), torch="nn.SELU")
add_row("celu", A, lambda L, x, alpha: L.celu(x, alpha), one(avoid=(0.0,), options=CELU),
        aliases=("F.celu",))
add_row("nn.CELU", A, module("CELU", "alpha"), one(avoid=(0.0,), options=CELU), torch="nn.CELU")
add_row("F.hardtanh", A, lambda L, x, min_val, max_val: L.F.hardtanh(x, min_val, max_val),
        one(avoid=lambda o: (o["min_val"], o["max_val"]), options=hardtanh_options),
        torch="nn.functional.hardtanh", dtypes=FLOATS + INTS)
add_row("nn.Hardtanh", A, module("Hardtanh", "min_val", "max_val"),
        one(avoid=lambda o: (o["min_val"], o["max_val"]), options=hardtanh_module_options), torch="nn.Hardtanh",
        dtypes=FLOATS + INTS)
add_row("F.relu6", A, lambda L, x: L.F.relu6(x), one(-2, 8, avoid=(0.0, 6.0)), torch="nn.functional.relu6",
        dtypes=FLOATS + INTS)
add_row("nn.ReLU6", A, module("ReLU6"), one(-2, 8, avoid=(0.0, 6.0)), torch="nn.ReLU6")
add_row("F.hardsigmoid", A, lambda L, x: L.F.hardsigmoid(x), one(-5, 5, avoid=(-3.0, 3.0)),
        torch="nn.functional.hardsigmoid")
add_row("nn.Hardsigmoid", A, module("Hardsigmoid"), one(-5, 5, avoid=(-3.0, 3.0)), torch="nn.Hardsigmoid")
add_row("F.hardswish", A, lambda L, x: L.F.hardswish(x), one(-5, 5, avoid=(-3.0, 3.0)),
        torch="nn.functional.hardswish")
add_row("nn.Hardswish", A, module("Hardswish"), one(-5, 5, avoid=(-3.0, 3.0)), torch="nn.Hardswish")
add_row("F.silu", A, lambda L, x: L.F.silu(x), one(-8, 8), torch="nn.functional.silu")
add_row("nn.SiLU", A, module("SiLU"), one(-8, 8), torch="nn.SiLU")
add_row("F.mish", A, lambda L, x: L.F.mish(x), one(-8, 8), torch="nn.functional.mish")
add_row("nn.Mish", A, module("Mish"), one(-8, 8), torch="nn.Mish")
add_row("F.softsign", A, lambda L, x: L.F.softsign(x), one(avoid=(0.0,)), torch="nn.functional.softsign",
        dtypes=FLOATS + INTS, **INT_TO_FLOAT32)
add_row("nn.Softsign", A, module("Softsign"), one(avoid=(0.0,)), torch="nn.Softsign")
add_row("F.logsigmoid", A, lambda L, x: L.F.logsigmoid(x), one(-30, 30), torch="nn.functional.logsigmoid",
        )
add_row("nn.LogSigmoid", A, module("LogSigmoid"), one(-30, 30), torch="nn.LogSigmoid")
add_row("F.tanhshrink", A, lambda L, x: L.F.tanhshrink(x), one(), torch="nn.functional.tanhshrink",
        dtypes=FLOATS + INTS, rtol=3e-7, atol=1e-7)  # x - tanh x cancels: a float32 ulp of tanh x
add_row("nn.Tanhshrink", A, module("Tanhshrink"), one(), torch="nn.Tanhshrink")
add_row("F.softshrink", A, lambda L, x, lambd: L.F.softshrink(x, lambd),
        one(avoid=lambda o: (-o["lambd"], o["lambd"]), options=LAMBD), torch="nn.functional.softshrink",
        )
add_row("nn.Softshrink", A, module("Softshrink", "lambd"),
        one(avoid=lambda o: (-o["lambd"], o["lambd"]), options=LAMBD), torch="nn.Softshrink")
add_row("hardshrink", A, lambda L, x, lambd: L.hardshrink(x, lambd),
        one(avoid=lambda o: (-o["lambd"], o["lambd"]), options=pick(lambd=[0.0, 0.5, 1.5, -1.0])),
        aliases=("F.hardshrink",))
add_row("nn.Hardshrink", A, module("Hardshrink", "lambd"),
        one(avoid=lambda o: (-o["lambd"], o["lambd"]), options=LAMBD), torch="nn.Hardshrink")
add_row("threshold", A, lambda L, x, threshold, value: L.threshold(x, threshold, value),
        one(avoid=lambda o: (o["threshold"],), options=threshold_options), dtypes=FLOATS + INTS,
        aliases=("F.threshold",))
add_row("nn.Threshold", A, module("Threshold", "threshold", "value"),
        one(avoid=lambda o: (o["threshold"],), options=threshold_options), torch="nn.Threshold",
        dtypes=FLOATS + INTS)
add_row("F.glu", A, lambda L, x, dim: L.F.glu(x, dim), glu_case, torch="nn.functional.glu")
add_row("nn.GLU", A, module("GLU", "dim"), glu_case, torch="nn.GLU")
add_row("prelu", A, lambda L, x, w: L.prelu(x, w), prelu_case, aliases=("F.prelu",))
add_row("nn.PReLU", A, prelu_module, prelu_module_case, torch="nn.PReLU", grad_inputs=(0,))
add_row("F.softmin", A, lambda L, x, dim: L.F.softmin(x, dim), one(-5, 5, options=with_dim),
        torch="nn.functional.softmin")
add_row("nn.Softmin", A, module("Softmin", "dim"), one(-5, 5, options=with_dim), torch="nn.Softmin")
