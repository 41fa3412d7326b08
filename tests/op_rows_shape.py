"""Op table rows: shape ops and views (see tests/op_table.py).

These ops only move, copy or sum elements, so they accept every dtype and are linear: every
row is "smooth".  Inputs draw the options each op takes (dims incl. negative, tuples, None,
padding modes) for shapes with 0-d and empty dims.  Error messages and PyTorch edge cases are
tested in tests/test_ops_shape_more.py.
"""
import numpy as np
from hypothesis import strategies as st

from op_table import ALL_DTYPES, Case, add_row, array, shapes, unary

F = "shape"


def _dim(draw, ndim: int) -> int:
    """A dim of an ``ndim``-dim tensor, negative too (0 for a 0-d tensor)."""
    return draw(st.integers(-ndim, ndim - 1)) if ndim else 0


def _dim_subset(draw, ndim: int) -> tuple:
    """Distinct dims in any order, each drawn positive or negative."""
    chosen = draw(st.permutations(range(ndim)))[:draw(st.integers(0, ndim))]
    return tuple(d - ndim if draw(st.booleans()) else d for d in chosen)


def one(shape=None, options=None):
    """One array of any dtype (values -3..3)."""
    return unary(-3, 3, shape=shape, options=options)


def _add(name, call, inputs, **kw):
    kw.setdefault("dtypes", ALL_DTYPES)
    return add_row(name, F, call, inputs, **kw)


# -- reshapes and views --------------------------------------------------------------------------

def _reshape_target(draw, s: tuple) -> tuple:
    n = int(np.prod(s))
    targets = [(n,), tuple(reversed(s)), s + (1,), (1,) + s]
    if n:
        targets += [(-1,), (1, -1)]
    return draw(st.sampled_from(targets))


_add("reshape", lambda L, x, shape: L.reshape(x, shape), one(options=lambda d, s: {"shape": _reshape_target(d, s)}))
_add("view", lambda L, x, shape: x.view(shape), one(options=lambda d, s: {"shape": _reshape_target(d, s)}),
     noncontiguous=False, differs="view copies when the strides do not allow a view, where PyTorch raises")
_add("permute", lambda L, x, dims: L.permute(x, dims),
     one(options=lambda d, s: {"dims": tuple(p - len(s) if d(st.booleans()) else p
                                             for p in d(st.permutations(range(len(s)))))}))
_add("transpose", lambda L, x, d0, d1: L.transpose(x, d0, d1),
     one(options=lambda d, s: {"d0": _dim(d, len(s)), "d1": _dim(d, len(s))}))
_add("Tensor.swapaxes", lambda L, x, d0, d1: x.swapaxes(d0, d1),
     one(options=lambda d, s: {"d0": _dim(d, len(s)), "d1": _dim(d, len(s))}))
_add("Tensor.t", lambda L, x: x.t(), one(shape=shapes(0, 2)))
_add("squeeze", lambda L, x, dim: L.squeeze(x) if dim is None else L.squeeze(x, dim),
     one(shape=shapes(0, 4, 0, 2),
         options=lambda d, s: {"dim": d(st.sampled_from([None, _dim(d, len(s)), _dim_subset(d, len(s))]))}))
_add("unsqueeze", lambda L, x, dim: L.unsqueeze(x, dim),
     one(options=lambda d, s: {"dim": d(st.integers(-len(s) - 1, len(s)))}))


def _flatten_options(draw, s):
    n = len(s)
    if n == 0:
        return {"start_dim": 0, "end_dim": -1}
    a, b = sorted((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return {"start_dim": a - n if draw(st.booleans()) else a, "end_dim": b - n if draw(st.booleans()) else b}


_add("flatten", lambda L, x, start_dim, end_dim: L.flatten(x, start_dim, end_dim), one(options=_flatten_options))


def _expanded(draw, s: tuple, minus_one: bool) -> tuple:
    """A shape that ``s`` broadcasts to: leading dims added, size-1 sides grown (-1 keeps a side)."""
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    body = tuple(draw(st.integers(0, 3)) if side == 1 and draw(st.booleans())
                 else (-1 if minus_one and draw(st.booleans()) else side) for side in s)
    return lead + body


_add("expand", lambda L, x, sizes: x.expand(sizes),
     one(options=lambda d, s: {"sizes": _expanded(d, s, True)}))
_add("broadcast_to", lambda L, x, shape: L.broadcast_to(x, shape),
     one(options=lambda d, s: {"shape": _expanded(d, s, False)}))


def _with_like(target):
    """x and a second array whose shape is ``target(draw, x_shape)`` (its values are unused)."""
    def draw_case(draw, dtype):
        s = draw(shapes())
        return Case([array(draw, s, dtype), np.zeros(target(draw, s), dtype=dtype)])
    return draw_case


_add("Tensor.expand_as", lambda L, x, other: x.expand_as(other),
     _with_like(lambda d, s: _expanded(d, s, False)), grad_inputs=(0,))
_add("Tensor.view_as", lambda L, x, other: x.view_as(other),
     _with_like(lambda d, s: tuple(abs(v) if v != -1 else int(np.prod(s)) for v in _reshape_target(d, s))),
     grad_inputs=(0,), noncontiguous=False,
     differs="view_as copies when the strides do not allow a view, where PyTorch raises")


def _sum_to_case(draw, dtype):
    s = draw(shapes(0, 3))
    lead = draw(st.integers(0, len(s)))
    target = tuple(1 if draw(st.booleans()) else side for side in s[lead:])
    return Case([array(draw, s, dtype)], {"shape": target})


_add("sum_to", lambda L, x, shape: x.sum_to_size(shape) if L.name == "torch" else L.sum_to(x, shape),
     _sum_to_case, torch="Tensor.sum_to_size", dtypes=("float32", "float64", "int64"),
     differs="a function (PyTorch: the method Tensor.sum_to_size); int32 stays int32 (PyTorch gives int64)")


# -- joining and splitting -----------------------------------------------------------------------

def _joined(same_shape: bool):
    def draw_case(draw, dtype):
        s = draw(shapes(0 if same_shape else 1, 3))
        nd = len(s)
        dim = draw(st.integers(-nd - 1, nd)) if same_shape else _dim(draw, nd)
        arrays = []
        for _ in range(draw(st.integers(1, 3))):
            t = list(s)
            if not same_shape:
                t[dim] = draw(st.integers(0, 3))
            arrays.append(array(draw, tuple(t), dtype))
        return Case(arrays, {"dim": dim})
    return draw_case


_add("cat", lambda L, *xs, dim: L.cat(list(xs), dim=dim), _joined(False), aliases=("concatenate",))
_add("stack", lambda L, *xs, dim: L.stack(list(xs), dim=dim), _joined(True))


def _split_options(draw, s):
    dim = _dim(draw, len(s))
    n = s[dim % len(s)]
    if draw(st.booleans()):
        return {"sizes": draw(st.integers(1, 4)), "dim": dim}
    parts, left = [], n
    while left:
        parts.append(draw(st.integers(0, left)))
        left -= parts[-1]
    return {"sizes": parts + [0] * draw(st.integers(0, 1)), "dim": dim}


_add("split", lambda L, x, sizes, dim: L.split(x, sizes, dim), one(shape=shapes(1, 3, 0, 5), options=_split_options))
_add("chunk", lambda L, x, chunks, dim: L.chunk(x, chunks, dim),
     one(shape=shapes(1, 3, 0, 5), options=lambda d, s: {"chunks": d(st.integers(1, 4)), "dim": _dim(d, len(s))}))


# -- triangles, flips, rolls, diagonals ----------------------------------------------------------

_add("tril", lambda L, x, diagonal: L.tril(x, diagonal),
     one(shape=shapes(2, 4), options=lambda d, s: {"diagonal": d(st.integers(-3, 3))}))
_add("triu", lambda L, x, diagonal: L.triu(x, diagonal),
     one(shape=shapes(2, 4), options=lambda d, s: {"diagonal": d(st.integers(-3, 3))}))
_add("flip", lambda L, x, dims: L.flip(x, dims), one(options=lambda d, s: {"dims": _dim_subset(d, len(s))}))


def _roll_options(draw, s):
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if s else "none"
    if kind == "none":
        return {"shifts": draw(st.integers(-5, 5)), "dims": None}
    if kind == "int":
        return {"shifts": draw(st.integers(-5, 5)), "dims": _dim(draw, len(s))}
    dims = _dim_subset(draw, len(s)) or (0,)
    return {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": dims}


_add("roll", lambda L, x, shifts, dims: L.roll(x, shifts, dims), one(options=_roll_options))
_add("diag", lambda L, x, diagonal: L.diag(x, diagonal),
     one(shape=shapes(1, 2), options=lambda d, s: {"diagonal": d(st.integers(-3, 3))}))


def _two_dims(draw, ndim):
    a = draw(st.integers(0, ndim - 1))
    b = draw(st.integers(0, ndim - 1).filter(lambda v: v != a))
    return tuple(v - ndim if draw(st.booleans()) else v for v in (a, b))


_add("diagonal", lambda L, x, offset, dim1, dim2: L.diagonal(x, offset, dim1, dim2),
     one(shape=shapes(2, 4),
         options=lambda d, s: dict(zip(("dim1", "dim2"), _two_dims(d, len(s))), offset=d(st.integers(-3, 3)))))
_add("diag_embed", lambda L, x, offset, dim1, dim2: L.diag_embed(x, offset, dim1, dim2),
     one(shape=shapes(1, 3),
         options=lambda d, s: dict(zip(("dim1", "dim2"), _two_dims(d, len(s) + 1)), offset=d(st.integers(-2, 2)))))


# -- repeats, windows, grids ---------------------------------------------------------------------

_add("Tensor.repeat", lambda L, x, sizes: x.repeat(*sizes),
     one(options=lambda d, s: {"sizes": tuple(d(st.lists(st.integers(0, 3), min_size=max(1, len(s)),
                                                          max_size=len(s) + 2)))}))


def _repeat_interleave_case(draw, dtype):
    s = draw(shapes(0, 3))
    x = array(draw, s, dtype)
    dim = draw(st.sampled_from([None, _dim(draw, len(s))])) if s else None
    if draw(st.booleans()):
        return Case([x], {"repeats": draw(st.integers(0, 3)), "dim": dim})
    n = int(np.prod(s)) if dim is None else (s[dim % len(s)] if s else 1)
    counts = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)) if n != 1 or draw(st.booleans())
                      else [draw(st.integers(0, 3))], dtype=np.int64)
    return Case([x, counts], {"dim": dim})


_add("repeat_interleave", lambda L, x, repeats=None, dim=None: L.repeat_interleave(x, repeats, dim),
     _repeat_interleave_case, grad_inputs=(0,))


def _unflatten_options(draw, s):
    dim = _dim(draw, len(s))
    n = s[dim]
    sizes = [(n,), (1, n), (n, 1, 1)]
    if n:
        sizes += [(-1,), (-1, 1)] + ([(2, -1), (2, n // 2)] if n % 2 == 0 else [])
    return {"dim": dim, "sizes": draw(st.sampled_from(sizes))}


_add("unflatten", lambda L, x, dim, sizes: L.unflatten(x, dim, sizes), one(shape=shapes(1, 3, 0, 4),
                                                                            options=_unflatten_options))


def _unfold_options(draw, s):
    dim = _dim(draw, len(s))
    n = s[dim]
    return {"dimension": dim, "size": draw(st.integers(0, n)), "step": draw(st.integers(1, 3))}


_add("Tensor.unfold", lambda L, x, dimension, size, step: x.unfold(dimension, size, step),
     one(shape=shapes(1, 3, 0, 5), options=_unfold_options))


def _meshgrid_case(draw, dtype):
    arrays = [array(draw, draw(shapes(0, 1, 0, 3)), dtype) for _ in range(draw(st.integers(1, 3)))]
    return Case(arrays, {"indexing": draw(st.sampled_from(["ij", "xy"]))})


_add("meshgrid", lambda L, *xs, indexing: L.meshgrid(*xs, indexing=indexing), _meshgrid_case)


# -- padding -------------------------------------------------------------------------------------

def _pad_value(draw, dtype):
    if np.dtype(dtype).kind == "b":
        return draw(st.sampled_from([0, 1]))
    if np.dtype(dtype).kind in "iu":
        return draw(st.sampled_from([0, -1, 2]))
    return draw(st.sampled_from([0.0, -1.5, 2.0]))


def _constant_widths(draw, s):
    """(left, right, top, bottom, ...) for the last k dims, cropping at most each side's size."""
    widths = []
    for side in reversed(s[len(s) - draw(st.integers(0, len(s))):]):
        lo = draw(st.integers(-min(side, 1), 2))
        hi = draw(st.integers(-min(side - max(-lo, 0), 1), 2))
        widths += [lo, hi]
    return tuple(widths)


def _f_pad_case(draw, dtype):
    modes = ["constant"] if dtype == "bool" else ["constant", "reflect", "replicate", "circular"]
    mode = draw(st.sampled_from(modes))
    if mode == "constant":
        s = draw(shapes(0, 4))
        value = _pad_value(draw, dtype) if draw(st.booleans()) else None
        return Case([array(draw, s, dtype)], {"pad": _constant_widths(draw, s), "mode": mode, "value": value})
    k = draw(st.integers(1, 3))
    s = draw(shapes(k + 1, k + 2, 1 if mode != "reflect" else 2, 4 if k < 3 else 3))
    widths = []
    for side in reversed(s[-k:]):
        top = {"reflect": side - 1, "circular": side, "replicate": 3}[mode]
        widths += [draw(st.integers(0, top)), draw(st.integers(0, top))]
    return Case([array(draw, s, dtype)], {"pad": tuple(widths), "mode": mode})


_add("F.pad", lambda L, x, pad, mode, value=None: L.F.pad(x, pad, mode, value), _f_pad_case,
     differs="bool tensors pad in every mode (PyTorch: in constant mode only)")


def _constant_pad_case(draw, dtype):
    s = draw(shapes(0, 4))
    return Case([array(draw, s, dtype)], {"pad": _constant_widths(draw, s), "value": _pad_value(draw, dtype)})


_add("pad", lambda L, x, pad, value: L.constant_pad_nd(x, pad, value) if L.name == "torch" else L.pad(x, pad, value),
     _constant_pad_case, torch="constant_pad_nd",
     differs="PyTorch has no top-level pad: this is torch.constant_pad_nd (= F.pad in constant mode)")
