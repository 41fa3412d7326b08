"""Op table rows: reductions and scans (see tests/op_table.py)."""
import math

import numpy as np
from hypothesis import strategies as st

from op_table import ALL_DTYPES, FLOATS, Case, add_row, array, dims, elements, shapes

F = "reductions and scans"


@st.composite
def dim_sets(draw, ndim: int):
    """None, one dim (negative too), a tuple of distinct dims, or () (every dim, as PyTorch)."""
    kind = draw(st.sampled_from(["none", "int", "tuple", "empty"] if ndim else ["none", "int", "empty"]))
    if kind == "none":
        return None
    if kind == "empty":
        return ()
    if kind == "int" or ndim == 0:
        return draw(dims(max(ndim, 1))) if ndim else draw(st.sampled_from([0, -1]))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in chosen)


def reduce_inputs(lo=-3.0, hi=3.0, dim=dim_sets, unique=False, keepdim=True, avoid=(), dtype_option=(),
                  nonempty=False):
    """One array (0-d and empty dims included) and {dim, keepdim}; ``dtype_option``: dtype
    names the op may be given as ``dtype=`` (or not)."""
    def draw_case(draw, dtype):
        # nonempty: the float64 draws (those of the gradient checks) have no empty or 0-d input,
        # which the op refuses (max of nothing) or where it has no derivative (var of one element)
        s = draw(shapes(min_dims=1, min_side=2) if nonempty and dtype == "float64" else shapes())
        values = elements(dtype, lo, hi, avoid)
        if unique and np.dtype(dtype).kind == "f":  # distinct values on a grid of 1/8: no near-ties
            values = st.integers(int(lo * 8), int(hi * 8)).filter(lambda k: k / 8 not in avoid).map(lambda k: k / 8)
        a = array(draw, s, dtype, values, unique=unique and np.dtype(dtype).kind == "f")
        options = {"dim": draw(dim(len(s)))}
        if keepdim:
            options["keepdim"] = draw(st.booleans())
        if dtype_option and draw(st.booleans()):  # (float64 inputs are the gradient checks': no float32 cast)
            options["dtype"] = draw(st.sampled_from([t for t in dtype_option if dtype != "float64" or t == "float64"]))
        return Case([a], options)
    return draw_case


@st.composite
def one_dim(draw, ndim: int):
    return draw(dims(ndim)) if ndim else draw(st.sampled_from([0, -1]))


@st.composite
def one_dim_or_none(draw, ndim: int):
    return None if draw(st.booleans()) else draw(one_dim(ndim))


def _reduce(op):
    """Call ``op(x, dim=..., keepdim=...)`` leaving dim out when it is None (PyTorch's sum(x, None)
    is fine, but several ops only take the argument as absent)."""
    def call(L, x, dim=None, keepdim=False, **kw):
        if "dtype" in kw:
            kw["dtype"] = getattr(L, kw["dtype"])
        if dim is None:  # (PyTorch takes keepdim only with a dim)
            return getattr(L, op)(x, **kw)
        return getattr(L, op)(x, dim=dim, keepdim=keepdim, **kw)
    return call


add_row("sum", F, _reduce("sum"), reduce_inputs(dtype_option=("float64", "float32", "int64")), dtypes=ALL_DTYPES)
add_row("mean", F, _reduce("mean"), reduce_inputs(dtype_option=("float64", "float32")), dtypes=ALL_DTYPES)


def _prod_call(L, x, dim=None, keepdim=False, dtype=None):
    kw = {} if dtype is None else {"dtype": getattr(L, dtype)}
    return L.prod(x, **kw) if dim is None else L.prod(x, dim, keepdim=keepdim, **kw)


add_row("prod", F, _prod_call, reduce_inputs(-2, 2, dim=one_dim_or_none, dtype_option=("float64",)),
        dtypes=ALL_DTYPES, differs="also takes a tuple of dims")


def dtype_inputs(targets, dim=dim_sets):
    def draw_case(draw, dtype):
        case = reduce_inputs(dim=dim)(draw, dtype)
        return Case(case.arrays, dict(case.options, dtype=draw(st.sampled_from(targets))))
    return draw_case


def _max_call(L, x, dim=None, keepdim=False):
    return L.max(x) if dim is None else L.max(x, dim, keepdim=keepdim)


def _min_call(L, x, dim=None, keepdim=False):
    return L.min(x) if dim is None else L.min(x, dim, keepdim=keepdim)


add_row("max", F, _max_call, reduce_inputs(dim=one_dim_or_none, unique=True, nonempty=True), dtypes=ALL_DTYPES, grad="first")
add_row("min", F, _min_call, reduce_inputs(dim=one_dim_or_none, unique=True, nonempty=True), dtypes=ALL_DTYPES, grad="first")
add_row("amax", F, _reduce("amax"), reduce_inputs(unique=True, nonempty=True), dtypes=ALL_DTYPES, grad="first")
add_row("amin", F, _reduce("amin"), reduce_inputs(unique=True, nonempty=True), dtypes=ALL_DTYPES, grad="first")
add_row("aminmax", F, lambda L, x, dim=None, keepdim=False: tuple(L.aminmax(x, dim=dim, keepdim=keepdim)),
        reduce_inputs(dim=one_dim_or_none, unique=True, nonempty=True), dtypes=ALL_DTYPES, grad="first")
add_row("argmax", F, lambda L, x, dim=None, keepdim=False: L.argmax(x, dim=dim, keepdim=keepdim),
        reduce_inputs(dim=one_dim_or_none, nonempty=True), dtypes=ALL_DTYPES, grad="none")
add_row("argmin", F, lambda L, x, dim=None, keepdim=False: L.argmin(x, dim=dim, keepdim=keepdim),
        reduce_inputs(dim=one_dim_or_none, nonempty=True), dtypes=ALL_DTYPES, grad="none")
add_row("all", F, _reduce("all"), reduce_inputs(-1, 1), dtypes=ALL_DTYPES, grad="none")
add_row("any", F, _reduce("any"), reduce_inputs(-1, 1), dtypes=ALL_DTYPES, grad="none")
add_row("count_nonzero", F, lambda L, x, dim=None: L.count_nonzero(x, dim=dim),
        reduce_inputs(-1, 1, keepdim=False), dtypes=ALL_DTYPES, grad="none")


def var_inputs(draw, dtype):
    case = reduce_inputs(nonempty=True, unique=True)(draw, dtype)
    if dtype == "float64" and case.options["dim"] == ():
        case.options["dim"] = None  # PyTorch's backward takes dim=() as no dims (see differs)
    how = draw(st.sampled_from(["default", "unbiased", "correction"]))
    if how == "unbiased":
        case.options["unbiased"] = draw(st.booleans())
    elif how == "correction":
        case.options["correction"] = draw(st.sampled_from([0, 1] if dtype == "float64" else [0, 1, 2]))
    return case


def _var_like(op):
    def call(L, x, dim=None, keepdim=False, **kw):
        fn = getattr(L, op)
        if "unbiased" in kw:  # PyTorch takes unbiased positionally after dim
            return fn(x, dim, kw["unbiased"], keepdim) if dim is not None else fn(x, kw["unbiased"])
        return fn(x, dim=dim, keepdim=keepdim, **kw)
    return call


add_row("var", F, _var_like("var"), var_inputs, dtypes=ALL_DTYPES,
        differs="dim=(): the gradient is that of the reduction over every dim (PyTorch's backward takes () as no dims)")
add_row("std", F, _var_like("std"), var_inputs, dtypes=ALL_DTYPES, grad="first",
        differs="dim=(): the gradient is that of the reduction over every dim (PyTorch's backward takes () as no dims)")
add_row("var_mean", F, _var_like("var_mean"), var_inputs, dtypes=ALL_DTYPES,
        differs="dim=(): the gradient is that of the reduction over every dim (PyTorch's backward takes () as no dims)")
add_row("std_mean", F, _var_like("std_mean"), var_inputs, dtypes=ALL_DTYPES, grad="first",
        differs="dim=(): the gradient is that of the reduction over every dim (PyTorch's backward takes () as no dims)")


def norm_inputs(draw, dtype):
    case = reduce_inputs(0.125, 3, unique=True, nonempty=True)(draw, dtype)  # distinct |x| (p = inf), away from the kink at 0
    a = case.arrays[0]
    case.arrays[0] = np.where(draw(array_of_bools(a.shape)), -a, a).astype(a.dtype) if a.dtype.kind == "f" else a
    case.options["p"] = draw(st.sampled_from([2, 1, math.inf, "fro", 3]))
    dim = case.options["dim"]
    if case.options["p"] == "fro" and (isinstance(dim, int) or (isinstance(dim, tuple) and len(dim) != 2)):
        case.options["dim"] = None  # 'fro' takes None or a pair of dims in PyTorch
    return case


add_row("norm", F, lambda L, x, p=2, dim=None, keepdim=False: L.norm(x, p, dim, keepdim),
        norm_inputs, dtypes=ALL_DTYPES, grad="first")
add_row("logsumexp", F, lambda L, x, dim=0, keepdim=False: L.logsumexp(x, dim, keepdim),
        reduce_inputs(dim=lambda n: st.one_of(one_dim(n), dim_sets(n).filter(lambda d: d not in (None, ())))),
        dtypes=ALL_DTYPES, aliases=("F.logsumexp",))


def scan_inputs(lo=-3.0, hi=3.0, avoid=(), unique=False):
    def draw_case(draw, dtype):
        s = draw(shapes())
        values = elements(dtype, lo, hi, avoid)
        if unique and np.dtype(dtype).kind == "f":  # distinct values on a grid of 1/8: no near-ties
            values = st.integers(int(lo * 8), int(hi * 8)).map(lambda k: k / 8)
        a = array(draw, s, dtype, values, unique=unique and np.dtype(dtype).kind == "f")
        return Case([a], {"dim": draw(one_dim(len(s)))})
    return draw_case


@st.composite
def with_zeros(draw, dtype):
    """cumprod's inputs: values in [-2, 2] where some entries are exactly 0."""
    case = scan_inputs(-2, 2, avoid=(0.0,))(draw, dtype)  # exact zeros only (no tiny values)
    a = case.arrays[0]
    if a.size and np.dtype(dtype).kind == "f":
        mask = draw(array_of_bools(a.shape))
        a = np.where(mask, 0, a).astype(dtype)
    return Case([a], case.options)


def array_of_bools(shape):
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(np.bool_, shape, elements=st.booleans())


add_row("cumsum", F, lambda L, x, dim: L.cumsum(x, dim), scan_inputs(), dtypes=ALL_DTYPES)
add_row("cumprod", F, lambda L, x, dim: L.cumprod(x, dim), lambda draw, dtype: draw(with_zeros(dtype)),
        dtypes=ALL_DTYPES)
add_row("cummax", F, lambda L, x, dim: tuple(L.cummax(x, dim)), scan_inputs(unique=True), dtypes=ALL_DTYPES,
        grad="first")
add_row("cummin", F, lambda L, x, dim: tuple(L.cummin(x, dim)), scan_inputs(unique=True), dtypes=ALL_DTYPES,
        grad="first")
add_row("logcumsumexp", F, lambda L, x, dim: L.logcumsumexp(x, dim), scan_inputs(-30, 30), dtypes=FLOATS)
