"""Mixed indices follow PyTorch's placement rule, not NumPy's.

PyTorch applies ints first (each removes its dim); the dims of the advanced indices (index
tensors, lists, bool masks) then stay where those stand if they are adjacent, else go first.
NumPy counts ints as advanced indices, so ``a[0, :, [1, 2]]`` differs: (3, 2) in PyTorch,
(2, 3) in NumPy.  Random index tuples of every kind are checked against torch (values, shapes,
errors, gradients, setitem) and, without torch, against a two-step NumPy reference of the rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import arrays, assert_close, check_grads, grad_settings, host, leaf, with_device

# -- random index tuples ----------------------------------------------------------------------------


@dataclass
class Part:
    """One part of an index tuple: its kind, its value in plain NumPy/Python terms, how it is
    written (``form``), and the dim of the indexed array where it starts (None for None/bool0)."""

    kind: str  # int, slice, none, ellipsis, bool0, array, mask
    value: Any = None
    form: str = ""
    dim: Any = None


def _draw_int(draw, n: int, errors: bool) -> int:
    """An int for a dim of size ``n``; with ``errors``, now and then one out of range."""
    if errors and (n == 0 or draw(st.integers(0, 29)) == 0):
        return draw(st.sampled_from([n, -n - 1, n + 2]))  # out of range
    return draw(st.integers(-n, n - 1)) if n else 0


def _draw_parts(draw, shape: tuple, lo: int, hi: int, ishape: tuple, errors: bool) -> list:
    """Parts that together index dims [lo, hi) of ``shape``, with Nones and 0-d masks among them."""
    parts, d = [], lo
    while True:
        if d == hi:
            if draw(st.integers(0, 4)) < 4:  # (the simplest draw, 0, ends the parts)
                break
            kind = draw(st.sampled_from(["none", "bool0"]))
        else:
            kind = draw(st.sampled_from(["slice", "int", "array", "int", "slice", "array", "mask", "int", "array",
                                         "none", "bool0"]))
        if kind == "none":
            parts.append(Part("none"))
        elif kind == "bool0":
            parts.append(Part("bool0", draw(st.booleans()), draw(st.sampled_from(["py", "tensor"]))))
        elif kind == "int":
            if shape[d] == 0 and (not errors or draw(st.booleans())):
                continue
            parts.append(Part("int", _draw_int(draw, shape[d], errors), draw(st.sampled_from(["int", "np", "tensor"])),
                              d))
            d += 1
        elif kind == "slice":
            n = shape[d]
            bound = st.none() | st.integers(-n - 2, n + 2)
            s = slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3, -1, -2])))
            parts.append(Part("slice", s, "", d))
            d += 1
        elif kind == "array":
            n = shape[d]
            # A suffix of the case's index shape with some sides set to 1: mostly broadcastable.
            own = list(ishape[draw(st.integers(0, len(ishape))):])
            own = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else s for s in own)
            if n == 0 and (not errors or draw(st.integers(0, 3))):  # (else out of range)
                own = own[:-1] + (0,) if own else (0,)
            values = st.integers(-n, n - 1) if n else st.just(0)
            arr = draw(hnp.arrays(np.int64, own, elements=values))
            if errors and n and arr.size and draw(st.integers(0, 29)) == 0:
                arr.flat[0] = n  # out of range
            forms = ["int64", "int32", "numpy"] + (["list"] if arr.ndim else [])
            parts.append(Part("array", arr, draw(st.sampled_from(forms)), d))
            d += 1
        else:
            k = draw(st.integers(1, min(2, hi - d)))
            mshape = list(shape[d:d + k])
            if errors and draw(st.integers(0, 19)) == 0:
                mshape[-1] += 1  # does not match the indexed dims
            mask = draw(hnp.arrays(bool, tuple(mshape), elements=st.booleans()))
            # (A nested list mask is left out: torch counts it as one dim when it places an Ellipsis.)
            forms = ["tensor", "numpy"] + (["list"] if mask.size and k == 1 else [])
            parts.append(Part("mask", mask, draw(st.sampled_from(forms)), d))
            d += k
    return parts


@st.composite
def index_cases(draw, min_side: int = 0, max_side: int = 4, max_dims: int = 4, errors: bool = True) -> tuple:
    """(shape, parts): a random index tuple over a random shape (size-1 and empty dims too).

    Parts cover a prefix of the dims and, after an optional Ellipsis, a suffix; index arrays of
    one case mostly share a broadcast shape so that most cases are valid.  ``errors`` adds, now
    and then, out-of-range ints and mask shapes that do not match."""
    nd = draw(st.sampled_from([d for d in (2, 3, 4, 0, 1) if d <= max_dims]))  # mostly 2 dims and more
    side = st.integers(max(min_side, 1), max_side) | st.integers(min_side, max_side)  # empty dims now and then
    shape = tuple(draw(side) for _ in range(nd))
    ishape = draw(mst.shapes(min_dims=0, max_dims=2, min_side=min_side, max_side=3))
    p = draw(st.integers(0, nd)) if draw(st.booleans()) else nd
    parts = _draw_parts(draw, shape, 0, p, ishape, errors)
    if draw(st.booleans()):
        q = draw(st.integers(p, nd)) if draw(st.booleans()) else p
        parts += [Part("ellipsis")] + _draw_parts(draw, shape, q, nd, ishape, errors)
    return shape, parts


def minigrad_index(parts: list) -> Any:
    """The index as a minigrad user writes it."""
    out = []
    for p in parts:
        v = p.value
        if p.kind in ("slice", "none", "ellipsis"):
            out.append({"slice": v, "none": None, "ellipsis": Ellipsis}[p.kind])
        elif p.kind == "int":
            out.append({"int": v, "np": np.int64(v), "tensor": mg.tensor(v)}[p.form])
        elif p.kind == "bool0":
            out.append(v if p.form == "py" else mg.tensor(v))
        elif p.form == "list":
            out.append(v.tolist())
        elif p.form == "numpy":
            out.append(v)
        else:
            out.append(mg.tensor(v, dtype=np.int32 if p.form == "int32" else None))
    return tuple(out)


def numpy_parts(parts: list) -> list:
    """The parts as NumPy reads them: ints as ints, lists and tensors as arrays."""
    out = []
    for p in parts:
        if p.kind == "int":
            out.append(p.value)
        elif p.kind in ("array", "mask") and p.form == "list":
            a = np.asarray(p.value.tolist())
            out.append(a if a.size or a.dtype == bool else a.astype(np.int64))
        else:
            out.append({"slice": p.value, "none": None, "ellipsis": Ellipsis}.get(p.kind, p.value))
    return [int(v) if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype != bool else v for v in out]


def reference(a: np.ndarray, index: Any) -> np.ndarray:
    """PyTorch's rule written out on NumPy, for ``index`` as :func:`numpy_parts` gives it: the
    ints first, as basic indexing (every other part keeps its dims with full slices), then the
    rest, where ints no longer exist."""
    parts = [np.asarray(p) if isinstance(p, (list, bool)) else p for p in index]
    ellipsis = [k for k, p in enumerate(parts) if p is Ellipsis]
    if ellipsis:  # spelled out: NumPy counts an Ellipsis of no dims between 0-d masks as a gap
        k = ellipsis[0]
        used = sum(1 if isinstance(p, (int, slice)) else 0 if p is None else p.ndim if p.dtype == bool else 1
                   for p in parts[:k] + parts[k + 1:])
        parts[k:k + 1] = [slice(None)] * (a.ndim - used)
    ints_only = []
    for p in parts:
        if isinstance(p, int):
            ints_only.append(p)
        elif isinstance(p, slice):
            ints_only.append(slice(None))
        elif p is not None:
            ints_only += [slice(None)] * (p.ndim if p.dtype == bool else 1)
    rest = tuple(p for p in parts if not isinstance(p, int))
    return a[tuple(ints_only)][rest]


def torch_index(torch: Any, parts: list, shape: tuple) -> tuple:
    """(dims to flip, index) for torch, which has no negative steps: such a slice becomes the
    positive-step slice that picks the same elements, in the same order, of the flipped dim."""
    flips, out = [], []
    for p in parts:
        v = p.value
        if p.kind == "slice" and v.step is not None and v.step < 0:
            n = shape[p.dim]
            picked = range(n)[v]
            flips.append(p.dim)
            out.append(slice(n - 1 - picked[0], n - picked[-1], -v.step) if len(picked) else slice(0, 0))
        elif p.kind in ("slice", "none", "ellipsis"):
            out.append({"slice": v, "none": None, "ellipsis": Ellipsis}[p.kind])
        elif p.kind == "int":
            out.append({"int": v, "np": np.int64(v), "tensor": torch.tensor(v)}[p.form])
        elif p.kind == "bool0":
            out.append(v if p.form == "py" else torch.tensor(v))
        elif p.form == "list":
            out.append(v.tolist())
        else:
            out.append(torch.tensor(v, dtype=torch.int32 if p.form == "int32" else None))
    return flips, tuple(out)


def torch_getitem(torch: Any, x: Any, parts: list) -> Any:
    flips, index = torch_index(torch, parts, tuple(x.shape))
    return (x.flip(flips) if flips else x)[index]


# -- the bug's example, by hand ---------------------------------------------------------------------


def test_int_and_index_array_separated_by_a_slice():
    """a[0, :, [1, 2]]: the int removes dim 0, the (2,) index dim stays last: (3, 2), not (2, 3)."""
    a = np.arange(24.0).reshape(2, 3, 4)
    x = leaf(a)
    y = x[0, :, mg.tensor([1, 2])]
    assert_close(y, [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]])
    assert_close(y, a[0, :, [1, 2]].T)  # NumPy puts the index dim first
    (y * mg.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])).sum().backward()
    want = np.zeros((2, 3, 4))
    want[0, :, 1], want[0, :, 2] = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    assert_close(x.grad, want)


def test_square_case_is_not_silently_transposed():
    a = np.arange(27.0).reshape(3, 3, 3)
    assert_close(mg.tensor(a)[1, :, [0, 2, 1]], [[9.0, 11.0, 10.0], [12.0, 14.0, 13.0], [15.0, 17.0, 16.0]])


@pytest.mark.parametrize("shape, index, want", [
    ((2, 3, 4), (0, slice(None), [1, 2]), (3, 2)),      # int, then the index array after a slice: in place
    ((2, 3, 4), (0, None, [1, 2]), (1, 2, 4)),          # None separates as a slice does
    ((2, 3, 4), (slice(None), 1, [0, 1]), (2, 2)),      # int next to the array: the same in both libraries
    ((2, 3, 4), ([0, 1], slice(None), [0, 1]), (2, 3)),  # arrays separated: their dims go first
    ((2, 3, 4), ([0, 1], 0, [0, 1]), (2,)),             # the int is gone; the arrays are adjacent
    ((2, 3, 4), (0, slice(None), True), (3, 1, 4)),     # a 0-d mask is an advanced index
    ((2, 3, 4), (0, slice(None), False), (3, 0, 4)),
    ((2, 3, 4), (0, Ellipsis, [1, 2]), (3, 2)),
    ((2, 3, 4), (Ellipsis, 0, slice(None), [1, 2]), (3, 2)),
    ((2, 3, 4), (0, [[True, False, True, True], [False] * 4, [True] * 4]), (7,)),
    ((2, 3, 4, 5), (0, slice(None), slice(None, None, -1), [1, 2]), (3, 4, 2)),
    ((2, 3, 4, 5), (1, slice(None), 2, [[0], [4]]), (3, 2, 1)),
    ((2, 3, 4, 5), ([1, 0], 1, slice(None), [0, 4]), (2, 4)),
])
def test_placement_examples(shape, index, want):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    got = mg.tensor(a)[index]
    assert got.shape == want
    assert_close(got, reference(a, index))


# -- against torch ----------------------------------------------------------------------------------


@pytest.mark.torch
@settings(max_examples=300, deadline=None)
@given(case=index_cases(), data=st.data())
def test_getitem_matches_torch(case, data):
    """Values, shape, errors and the gradient of a random weighted sum, for every kind of index."""
    torch = pytest.importorskip("torch")
    shape, parts = case
    a = data.draw(arrays(shape))
    xt = torch.tensor(a, requires_grad=True)
    x = leaf(a)
    try:
        yt = torch_getitem(torch, xt, parts)
    except IndexError:
        with pytest.raises(IndexError):
            x[minigrad_index(parts)]
        return
    try:
        y = x[minigrad_index(parts)]
    except IndexError as e:
        if yt.numel() == 0 and "out of bounds" in str(e):
            return  # an out-of-range index value, which torch does not check when the result is empty
        raise
    assert y.shape == tuple(yt.shape)
    assert_close(y, yt.detach().numpy(), rtol=0, atol=0)
    w = data.draw(arrays(y.shape))
    (yt * torch.tensor(w)).sum().backward()
    (y * mg.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)  # repeated indices add up


@pytest.mark.torch
@settings(max_examples=200, deadline=None)
@given(case=index_cases(), data=st.data())
def test_setitem_matches_torch(case, data):
    """``t[idx] = v``: the values written, in place and while recording, and the gradients to
    the base and to the value.  Where an index repeats a position, the order of the writes is
    not defined; those positions need only hold one of the values written there."""
    torch = pytest.importorskip("torch")
    shape, parts = case
    a = data.draw(arrays(shape))
    try:
        picked = torch_getitem(torch, torch.arange(a.size).reshape(shape), parts).numpy()
    except IndexError:
        with pytest.raises(IndexError):
            mg.tensor(a)[minigrad_index(parts)] = 1.0
        return
    if picked.size == 0:  # nothing is written; torch does not check the index values then
        t = mg.tensor(a.copy())
        try:
            t[minigrad_index(parts)] = 1.0
        except IndexError as e:
            assert "out of bounds" in str(e)
        assert_close(t, a, rtol=0, atol=0)
        return
    tail = data.draw(st.integers(0, picked.ndim))
    v = data.draw(st.just(2.5) | arrays(picked.shape[tail:]))
    vt = torch.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) else v

    xt = torch.tensor(a, requires_grad=True)
    flips, index = torch_index(torch, parts, shape)
    yt = xt.flip(flips) if flips else xt * 1.0  # (torch's flip copies: write into the flipped copy,
    yt[index] = vt                              # then flip it back)
    yt = yt.flip(flips) if flips else yt
    t = mg.tensor(a.copy())
    t[minigrad_index(parts)] = mg.tensor(v) if isinstance(v, np.ndarray) else v

    counts = np.bincount(picked.ravel(), minlength=a.size).reshape(shape)
    once = counts <= 1
    assert_close(host(t)[once], yt.detach().numpy()[once], rtol=0, atol=0)
    targets = np.broadcast_to(v, picked.shape)
    for pos in np.flatnonzero(counts > 1):
        assert host(t).flat[pos] in targets[picked == pos]

    # While recording: y = x * 1; y[idx] = v.  dy/dx is 0 at the written positions, dy/dv gathers.
    x = leaf(a)
    y = x * 1.0
    vm = leaf(v) if isinstance(v, np.ndarray) else v
    y[minigrad_index(parts)] = vm
    assert_close(host(y)[once], yt.detach().numpy()[once], rtol=0, atol=0)
    w = data.draw(arrays(shape))
    (yt * torch.tensor(w)).sum().backward()
    (y * mg.tensor(w)).sum().backward()
    assert_close(x.grad, np.where(counts > 0, 0.0, w), rtol=0, atol=0)
    assert_close(x.grad, xt.grad.numpy(), rtol=0, atol=0)
    if isinstance(v, np.ndarray):  # (torch leaves no gradient where nothing is written)
        assert_close(vm.grad, np.zeros(v.shape) if vt.grad is None else vt.grad.numpy(), rtol=1e-12, atol=1e-12)


# -- without torch: the NumPy reference of the rule -------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(case=index_cases(), data=st.data())
def test_getitem_matches_numpy_reference(case, data):
    """Values, shape and errors against :func:`reference`; the gradient against a bincount of the
    positions picked (each pick adds its weight, so repeats accumulate)."""
    shape, parts = case
    a = data.draw(arrays(shape))
    x = leaf(a)
    try:
        want = reference(a, numpy_parts(parts))
    except IndexError:
        with pytest.raises(IndexError):
            x[minigrad_index(parts)]
        return
    y = x[minigrad_index(parts)]
    assert_close(y, want, rtol=0, atol=0)
    picked = reference(np.arange(a.size).reshape(shape), numpy_parts(parts))
    w = data.draw(arrays(y.shape))
    (y * mg.tensor(w)).sum().backward()
    want_grad = np.bincount(picked.ravel(), weights=w.ravel(), minlength=a.size).reshape(shape)
    assert_close(x.grad, want_grad, rtol=1e-12, atol=1e-12)


@grad_settings
@given(case=index_cases(min_side=1, max_side=3, max_dims=3, errors=False), data=st.data())
def test_gradcheck_mixed_indices(case, data):
    """First and second derivatives of t[idx] ** 2 by finite differences (float64)."""
    shape, parts = case
    a = data.draw(arrays(shape))
    try:
        reference(a, numpy_parts(parts))
    except IndexError:
        assume(False)  # index arrays that do not broadcast
    index = minigrad_index(parts)
    check_grads(lambda t: t[index] ** 2, leaf(a))


@with_device
@given(case=index_cases(), data=st.data())
def test_device_matches_cpu(device, case, data):
    """The same index (its tensors on the CPU or on the device) reads, writes and back-propagates
    on the device as on the CPU."""
    shape, parts = case
    a = data.draw(arrays(shape))
    on_device = data.draw(st.booleans())
    index = tuple(mg.tensor(host(i), device=device) if isinstance(i, mg.Tensor) and on_device else i
                  for i in minigrad_index(parts))
    x = leaf(a)
    try:
        want = x[minigrad_index(parts)]
    except IndexError:
        with pytest.raises(IndexError):
            leaf(a, device)[index]
        return
    xd = leaf(a, device)
    try:
        got = xd[index]
    except IndexError as e:  # (on the CPU, NumPy checks no index value where the broadcast indices are empty)
        assert host(want).size == 0 and "out of bounds" in str(e)
        return
    assert_close(got, host(want), rtol=0, atol=0)
    w = data.draw(arrays(want.shape))
    (want * mg.tensor(w)).sum().backward()
    (got * mg.tensor(w, device=device)).sum().backward()
    assert_close(xd.grad, host(x.grad), rtol=1e-12, atol=1e-12)
    if not a.size:
        return
    t, td = mg.tensor(a.copy()), mg.tensor(a.copy(), device=device)
    t[minigrad_index(parts)] = 2.5
    td[index] = 2.5
    assert_close(td, host(t), rtol=0, atol=0)


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("index, words", [
    ((0, slice(None), [1, 5]), "out of bounds"),
    ((5, slice(None), [1, 2]), "out of bounds"),
    ((0, 0, 0, 0), "too many indices"),
    ((0, slice(None), [0, 1], 0), "too many indices"),
    ((0, np.array([True, False])), "mask|boolean index"),
    ((0, slice(None), [True, False]), "mask|boolean index"),
    (([0, 1], slice(None), [0, 1, 2]), "broadcast"),
    ((0, slice(None), False, [0, 1]), "broadcast"),
    ((0, Ellipsis, Ellipsis, [0]), "ellipsis"),
    ((mg.tensor([1], dtype=mg.uint8),), "uint8"),
    (([0, [1, 2]],), "rectangular"),
])
def test_index_errors_are_one_line_index_errors(index, words):
    """As in PyTorch, bad indices raise IndexError; the message is one line naming the shape."""
    x = mg.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(IndexError) as e:
        x[index]
    assert re.search(words, str(e.value)) and "(2, 3, 4)" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(IndexError):
        x[index] = 1.0
