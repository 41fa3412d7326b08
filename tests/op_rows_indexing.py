"""Op table rows: indexing and sorting (see tests/op_table.py).  Index tensors are drawn valid:
int64, in range; scatter-like rows send at most one element to each position where PyTorch
leaves the winner among repeated positions unspecified."""
import numpy as np
from hypothesis import strategies as st

from op_table import ALL_DTYPES, FLOATS, INTS, Case, add_row, array, dims, elements, shapes

F = "indexing and sorting"
NUMERIC = FLOATS + INTS
#: Floats an eighth apart: drawn unique, no two are within a finite-difference step of each other.
SPREAD = st.integers(-200, 200).map(lambda v: v / 8)


def _positions(draw, shape, n):
    """An int64 array of ``shape`` with values in [0, n) (n > 0, or shape empty)."""
    if n == 0 or 0 in shape:
        return np.zeros(shape, dtype="int64")
    return array(draw, shape, "int64", st.integers(0, n - 1))


def _x_dim(min_dims=1, unique=False, min_side=0, small_ints=False):
    """One array (unique values where ties could legitimately differ) and a dim."""
    def draw_case(draw, dtype):
        s = draw(shapes(min_dims=min_dims, max_dims=3, min_side=min_side))
        kind = np.dtype(dtype).kind
        uniq = unique and (kind == "f" or (kind in "iu" and not small_ints))
        values = elements(dtype, -50, 50) if uniq and kind in "iu" else (SPREAD if uniq else elements(dtype))
        x = array(draw, s, dtype, values, unique=uniq)
        return Case([x], {"dim": draw(dims(len(s))) if s else draw(st.sampled_from([0, -1]))})
    return draw_case


# -- getitem, gather, index_put, masked_fill --------------------------------------------------

def _getitem_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3, min_side=1))
    x = array(draw, s, dtype)
    kind = draw(st.sampled_from(["basic", "advanced", "mask"]))
    if kind == "mask":
        return Case([x, array(draw, s[:draw(st.integers(1, len(s)))], "bool")], {"kind": kind})
    if kind == "advanced":
        n_idx = draw(st.integers(1, len(s)))
        idx = [array(draw, draw(shapes(0, 2, 0, 3)), "int64", st.integers(-s[d], s[d] - 1)) for d in range(n_idx)]
        try:
            np.broadcast_shapes(*(i.shape for i in idx))
        except ValueError:
            idx = idx[:1]
        return Case([x] + idx, {"kind": kind})
    parts = []
    for d in range(len(s)):
        parts.append(draw(st.one_of(st.integers(-s[d], s[d] - 1),
                                    st.builds(slice, st.integers(-4, 4) | st.none(), st.integers(-4, 4) | st.none(),
                                              st.sampled_from([None, 1, 2])))))
        if draw(st.booleans()):
            parts.append(None)
    return Case([x], {"kind": kind, "basic": tuple(parts)})


def _getitem(L, x, *idx, kind, basic=None):
    if kind == "basic":
        return x[basic]
    return x[tuple(idx)] if kind == "advanced" else x[idx[0]]


add_row("getitem", F, _getitem, _getitem_case, torch="Tensor.__getitem__", dtypes=ALL_DTYPES, grad_inputs=(0,))


def _gather_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3))
    d = draw(dims(len(s)))
    x = array(draw, s, dtype)
    idx_shape = tuple(draw(st.integers(0, n)) if k != d % len(s) else draw(st.integers(0, 3))
                      for k, n in enumerate(s))
    return Case([x, _positions(draw, idx_shape if s[d] else tuple(0 for _ in s), s[d])], {"dim": d})


add_row("gather", F, lambda L, x, i, dim: L.gather(x, dim, i), _gather_case, dtypes=ALL_DTYPES, grad_inputs=(0,))


def _index_put_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3, min_side=1))
    x = array(draw, s, dtype)
    positions = np.array(draw(st.permutations(range(s[0]))))[:draw(st.integers(0, s[0]))].astype("int64")
    v = array(draw, draw(st.sampled_from([(), (len(positions),) + s[1:]] + ([s[-1:]] if len(s) > 1 else []))), dtype)
    return Case([x, positions, v])


add_row("index_put", F, lambda L, x, i, v: L.index_put(x, (i,), v), _index_put_case, dtypes=ALL_DTYPES,
        grad_inputs=(0, 2))


def _masked_fill_case(draw, dtype):
    s = draw(shapes())
    return Case([array(draw, s, dtype), array(draw, s[draw(st.integers(0, len(s))):], "bool")],
                {"value": draw(st.sampled_from([0, 1, -2]))})


add_row("masked_fill", F, lambda L, x, m, value: L.masked_fill(x, m, value), _masked_fill_case, dtypes=ALL_DTYPES,
        grad_inputs=(0,))


def _masked_select_case(draw, dtype):
    s = draw(shapes())
    return Case([array(draw, s, dtype), array(draw, s[draw(st.integers(0, len(s))):], "bool")])


add_row("masked_select", F, lambda L, x, m: L.masked_select(x, m), _masked_select_case, dtypes=ALL_DTYPES,
        grad_inputs=(0,))


# -- scatter family --------------------------------------------------------------------------

def _scatter_case(unique_targets, value=False, reduce=False):
    def draw_case(draw, dtype):
        s = draw(shapes(min_dims=1, max_dims=3))
        d = draw(dims(len(s))) % len(s)
        x = array(draw, s, dtype)
        idx_shape = [draw(st.integers(0, n)) for n in s]
        if unique_targets:  # a permutation's first elements along dim: no position twice
            idx_shape[d] = draw(st.integers(0, s[d]))
            idx = np.zeros(idx_shape, dtype="int64")
            for pos in np.ndindex(*(idx_shape[:d] + [1] + idx_shape[d + 1:])):
                where = pos[:d] + (slice(None),) + pos[d + 1:]
                idx[where] = np.array(draw(st.permutations(range(s[d]))))[:idx_shape[d]]
        else:
            idx_shape[d] = draw(st.integers(0, 4)) if s[d] else 0
            idx = _positions(draw, tuple(idx_shape), s[d])
        src_shape = tuple(idx_shape)  # (PyTorch's backward fails for a larger src: tests/test_ops_indexing_more.py)
        options = {"dim": d}
        if reduce:
            options["reduce"] = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
            options["include_self"] = draw(st.booleans())
        if value and draw(st.booleans()):
            return Case([x, idx], {**options, "value": draw(st.sampled_from([0, 1, -1]))})
        if reduce and np.dtype(dtype).kind == "f":  # no ties among x and src: amax/amin have kinks there
            both = array(draw, (x.size + int(np.prod(src_shape)),), dtype, SPREAD, unique=True)
            return Case([both[:x.size].reshape(x.shape), idx, both[x.size:].reshape(src_shape)], options)
        return Case([x, idx, array(draw, src_shape, dtype)], options)
    return draw_case


def _scatter(L, x, i, src=None, dim=0, value=None):
    return L.scatter(x, dim, i, src) if value is None else L.scatter(x, dim, i, value=value)


add_row("scatter", F, _scatter, _scatter_case(True, value=True), dtypes=ALL_DTYPES, grad_inputs=(0, 2))
add_row("scatter_add", F, lambda L, x, i, src, dim: L.scatter_add(x, dim, i, src), _scatter_case(False),
        dtypes=NUMERIC, grad_inputs=(0, 2))
add_row("scatter_reduce", F,
        lambda L, x, i, src, dim, reduce, include_self: L.scatter_reduce(x, dim, i, src, reduce,
                                                                         include_self=include_self),
        _scatter_case(True, reduce=True), dtypes=NUMERIC, grad_inputs=(0, 2), grad="first")


def _index_add_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3))
    d = draw(dims(len(s))) % len(s)
    n = draw(st.integers(0, 4)) if s[d] else 0
    idx = _positions(draw, (n,), s[d])
    src = array(draw, s[:d] + (n,) + s[d + 1:], dtype)
    return Case([array(draw, s, dtype), idx, src], {"dim": d, "alpha": draw(st.sampled_from([1, 2]))})


add_row("index_add", F, lambda L, x, i, src, dim, alpha: L.index_add(x, dim, i, src, alpha=alpha), _index_add_case,
        dtypes=NUMERIC, grad_inputs=(0, 2))


def _index_select_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3))
    d = draw(dims(len(s)))
    return Case([array(draw, s, dtype), _positions(draw, (draw(st.integers(0, 4)) if s[d] else 0,), s[d])],
                {"dim": d})


add_row("index_select", F, lambda L, x, i, dim: L.index_select(x, dim, i), _index_select_case, dtypes=ALL_DTYPES,
        grad_inputs=(0,))


def _take_case(draw, dtype):
    s = draw(shapes(min_dims=1, max_dims=3))
    d = draw(st.none() | dims(len(s)))
    x = array(draw, s, dtype)
    if d is None:
        n = int(np.prod(s))
        return Case([x, _positions(draw, draw(shapes(1, 2)) if n else (0,), n)], {"dim": None})
    idx_shape = tuple((draw(st.integers(0, 3)) if s[d] else 0) if k == d % len(s) else draw(st.sampled_from([1, n]))
                      for k, n in enumerate(s))
    return Case([x, _positions(draw, idx_shape, s[d])], {"dim": d})


add_row("take_along_dim", F, lambda L, x, i, dim: L.take_along_dim(x, i, dim), _take_case, dtypes=ALL_DTYPES,
        grad_inputs=(0,))


# -- sorting ---------------------------------------------------------------------------------

def _with(case_fn, **draw_options):
    def draw_case(draw, dtype):
        case = case_fn(draw, dtype)
        x = case.arrays[0]
        d = case.options["dim"]
        n = x.shape[d] if x.ndim else 1
        extra = {k: f(draw, n) for k, f in draw_options.items()}
        return Case(case.arrays, {**case.options, **extra})
    return draw_case


add_row("sort", F, lambda L, x, dim, descending: L.sort(x, dim=dim, descending=descending, stable=True),
        _with(_x_dim(0, unique=True), descending=lambda draw, n: draw(st.booleans())), dtypes=NUMERIC + ("bool",),
        grad_inputs=(0,))
add_row("argsort", F, lambda L, x, dim, descending: L.argsort(x, dim=dim, descending=descending, stable=True),
        _with(_x_dim(0), descending=lambda draw, n: draw(st.booleans())), dtypes=NUMERIC + ("bool",), grad="none")
add_row("topk", F, lambda L, x, dim, k, largest: L.topk(x, k, dim=dim, largest=largest),
        _with(_x_dim(0, unique=True), k=lambda draw, n: draw(st.integers(0, n)),
              largest=lambda draw, n: draw(st.booleans())),
        dtypes=NUMERIC, grad_inputs=(0,), differs="always sorted; among ties the index may differ (minigrad: the first positions)")
add_row("kthvalue", F, lambda L, x, dim, k, keepdim: L.kthvalue(x, k, dim, keepdim),
        _with(_x_dim(0, unique=True, min_side=1), k=lambda draw, n: draw(st.integers(1, n)),
              keepdim=lambda draw, n: draw(st.booleans())),
        dtypes=NUMERIC, grad_inputs=(0,), differs="among ties the index may differ (minigrad: the first in stable order)")
add_row("median", F, lambda L, x, dim, keepdim, whole: L.median(x) if whole else L.median(x, dim, keepdim),
        _with(_x_dim(0, unique=True, min_side=1), keepdim=lambda draw, n: draw(st.booleans()),
              whole=lambda draw, n: draw(st.booleans())),
        dtypes=NUMERIC, grad_inputs=(0,), differs="among ties the index may differ (minigrad: the first in stable order)")
add_row("mode", F, lambda L, x, dim, keepdim: L.mode(x, dim, keepdim),
        _with(_x_dim(0, unique=True, small_ints=True, min_side=1), keepdim=lambda draw, n: draw(st.booleans())),
        dtypes=NUMERIC, grad_inputs=(0,), grad="first")
add_row("nonzero", F, lambda L, x, as_tuple: L.nonzero(x, as_tuple=as_tuple),
        lambda draw, dtype: Case([array(draw, draw(shapes()), dtype, elements(dtype, -1, 1))],
                                 {"as_tuple": draw(st.booleans())}), dtypes=ALL_DTYPES, grad="none")
add_row("unique", F, lambda L, x, inverse, counts: L.unique(x, sorted=True, return_inverse=inverse,
                                                            return_counts=counts),
        lambda draw, dtype: Case([array(draw, draw(shapes()), dtype, elements(dtype, -2, 2))],
                                 {"inverse": draw(st.booleans()), "counts": draw(st.booleans())}),
        dtypes=ALL_DTYPES, grad="none", differs="dim= is not supported; NaNs count as one value")
