"""Memory: saved buffers are released by backward (plain reference counting, no cycles), and a
training loop does not grow memory over 10,000 iterations.

Reference-counting checks run with the cyclic garbage collector disabled: an object that is
only freed by ``gc.collect()`` sits in a reference cycle, and such cycles keep large arrays
alive until the collector happens to run.
"""
from __future__ import annotations

import gc
import tracemalloc
import weakref
from contextlib import contextmanager

import numpy as np
import pytest

import minigrad as mg


@contextmanager
def gc_disabled():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def leaf(values) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- saved buffers -------------------------------------------------------------------------------


def test_saved_intermediate_freed_after_backward():
    with gc_disabled():
        x = leaf(np.arange(6.0))
        h = x * 2  # saved twice by the product below
        y = (h * h).sum()
        ref_t, ref_a = weakref.ref(h), weakref.ref(h._data)
        del h
        assert ref_t() is not None and ref_a() is not None  # the graph still needs it
        y.backward()
        assert ref_t() is None, "the intermediate tensor outlived backward (still referenced or in a cycle)"
        assert ref_a() is None, "the intermediate's array outlived backward"
        assert y.grad_fn is not None  # the graph itself may live on; only its buffers went


def test_saved_output_freed_after_backward():
    # exp and tanh save their *output*; it must be released as well.
    for op in ("exp", "tanh"):
        with gc_disabled():
            x = leaf([0.1, 0.2, 0.3])
            e = getattr(x * 1, op)()
            y = (e * 3).sum()
            ref_t, ref_a = weakref.ref(e), weakref.ref(e._data)
            del e
            y.backward()
            assert ref_t() is None and ref_a() is None, op


def test_retain_graph_keeps_saved_buffers():
    # The control for the two tests above: with retain_graph the buffer must stay.
    with gc_disabled():
        x = leaf([1.0, 2.0])
        h = x * 2
        y = (h * h).sum()
        ref = weakref.ref(h)
        del h
        y.backward(retain_graph=True)
        assert ref() is not None
        y.backward()
        assert ref() is None


def test_whole_graph_freed_when_output_dropped_after_backward():
    with gc_disabled():
        x = leaf([1.0, 2.0, 3.0])
        y = ((x * 2).exp() * x).sum()
        node_ref = weakref.ref(y.grad_fn)
        y.backward()
        del y
        assert node_ref() is None


def test_graph_freed_when_output_dropped_without_backward_plain_ops():
    with gc_disabled():
        x = leaf([1.0, 2.0, 3.0])
        h = x * 2
        y = (h * h + 1).sum()
        refs = [weakref.ref(h), weakref.ref(y.grad_fn)]
        del h, y
        assert all(r() is None for r in refs)


def test_graph_freed_when_output_dropped_without_backward_saves_output_op():
    with gc_disabled():
        x = leaf([1.0, 2.0, 3.0])
        e = (x * 2).exp()
        ref_t, ref_a = weakref.ref(e), weakref.ref(e._data)
        del e
        assert ref_t() is None and ref_a() is None


def test_grad_frees_buffers_too():
    with gc_disabled():
        x = leaf([1.0, 2.0])
        h = x * 3
        y = (h * h).sum()
        ref = weakref.ref(h)
        del h
        mg.grad(y, x)
        assert ref() is None


# -- no growth over a training loop -----------------------------------------------------------------


def _make_step(keep: list | None = None):
    """One iteration of fitting y = 3x - 1 with a two-parameter linear model: forward, backward,
    SGD update under no_grad (the optimizer path), gradients cleared."""
    mg.manual_seed(0)
    x = mg.randn(8, dtype=mg.float64)
    y = 3 * x - 1
    w = mg.zeros(1, dtype=mg.float64, requires_grad=True)
    b = mg.zeros(1, dtype=mg.float64, requires_grad=True)

    def step() -> None:
        d = x * w + b - y
        loss = (d * d).sum()
        loss.backward()
        with mg.no_grad():
            w.sub_(w.grad * 0.02)
            b.sub_(b.grad * 0.02)
        w.grad = None
        b.grad = None
        if keep is not None:
            keep.append(loss)  # the leak the control test plants

    return step, (w, b)


def _traced_growth(step, first: int, last: int, trace_from: int) -> int:
    """Traced bytes alive after iteration ``last`` minus after iteration ``first``.

    Tracing starts at iteration ``trace_from`` (< ``first``), well before the first measurement:
    blocks that go back to Python's free lists stay "traced" (the 1-tuple free list alone holds
    2000 shape tuples, ~96 KiB), so after tracing starts the traced total first rises until those
    lists are full of traced blocks. That bounded rise must happen before ``first``.
    """
    assert 1 <= trace_from < first < last
    for _ in range(trace_from - 1):
        step()
    tracemalloc.start()
    try:
        for _ in range(first - trace_from + 1):
            step()
        at_first = tracemalloc.get_traced_memory()[0]
        for _ in range(last - first):
            step()
        at_last = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return at_last - at_first


GROWTH_BOUND = 64 * 1024  # bytes; one leaked node or array per iteration would be far above (>= 9000 of them)


def test_no_memory_growth_over_10000_iterations():
    step, (w, b) = _make_step()
    growth = _traced_growth(step, 1000, 10_000, trace_from=1)
    assert growth < GROWTH_BOUND, f"traced memory grew by {growth} bytes between iterations 1000 and 10000"
    np.testing.assert_allclose([w.item(), b.item()], [3.0, -1.0], atol=1e-8)  # it really trained


def test_growth_measurement_catches_a_leak():
    # Control: keeping every loss (and so its graph) alive must exceed the bound quickly.
    kept: list = []
    step, _ = _make_step(kept)
    growth = _traced_growth(step, 300, 500, trace_from=1)
    assert growth > GROWTH_BOUND
