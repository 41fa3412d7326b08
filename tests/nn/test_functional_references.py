"""Every fused function of ``nn.functional`` against its plain form, ``<fn>_reference``, built
from differentiable ops: values, first derivatives by both backwards (arrays when the backward
is not recorded, recorded ops under ``create_graph``) and second derivatives, in float64 over
random shapes (batch 1 and empty batches included) and values (extreme logits included)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.nn.functional.binary import binary_cross_entropy_reference, binary_cross_entropy_with_logits_reference
from minigrad.nn.functional.cross_entropy import cross_entropy_reference
from minigrad.nn.functional.dropout import dropout_reference
from minigrad.nn.functional.linear import linear_reference
from minigrad.testing import strategies as mst

from nn_helpers import host, leaf, with_device

EXAMPLES = settings(with_device, max_examples=25, deadline=None)  # (with_device: ok with the device fixture)

#: logits: ordinary values, and ones whose exponentials overflow or underflow
LOGITS = st.one_of(mst.floats(-20, 20), st.sampled_from([1e4, -1e4, 1e3, -1e3, 88.0, -104.0, 710.0, -745.0]))


def derivatives(f, inputs, seed=0):
    """For L = Σ c ⊙ f(inputs)² (c fixed random weights): f's value, dL/d inputs by the plain
    backward, the same with ``create_graph`` (the recorded formulas), and d/d inputs of
    Σ_i <dL/d input_i, u_i> (u_i fixed random directions), all as NumPy arrays (None: zeros).
    f is called afresh for each, so a function that draws (dropout) must seed itself."""
    rng = np.random.default_rng(seed)
    device = inputs[0].device
    value = f(*inputs)
    c = mg.tensor(rng.uniform(0.5, 1.5, value.shape), device=device)

    def loss():
        y = f(*inputs)
        return (c * y * y).sum()

    def arrays(grads):
        return [np.zeros(t.shape) if g is None else host(g) for g, t in zip(grads, inputs)]

    first = mg.grad(loss(), inputs, allow_unused=True)
    recorded = mg.grad(loss(), inputs, create_graph=True, allow_unused=True)
    us = [mg.tensor(rng.standard_normal(t.shape), device=device) for t in inputs]
    terms = [(g * u).sum() for g, u in zip(recorded, us) if g is not None and g.requires_grad]
    second = mg.grad(sum(terms[1:], terms[0]), inputs, allow_unused=True) if terms else [None] * len(inputs)
    return [host(value)], arrays(first), arrays(recorded), arrays(second)


def assert_agree(fused, reference, rtol=1e-9, atol=1e-12):
    """Fused and reference agree in value, both first derivatives and the second; the fused
    function's two backwards agree with each other too."""
    names = ("value", "first derivative", "recorded first derivative", "second derivative")
    for name, got, want in zip(names, fused, reference):
        for i, (a, b) in enumerate(zip(got, want)):
            assert a.shape == b.shape, (name, i, a.shape, b.shape)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{name} of input {i}")
    for a, b in zip(fused[1], fused[2]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg="the two backwards differ")


def draw_array(data, shape, elements):
    return data.draw(mst.arrays(tuple(shape), np.float64, elements))


# -- linear ---------------------------------------------------------------------------------
@EXAMPLES
@given(data=st.data(), lead=st.lists(st.integers(0, 3), max_size=2), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), bias=st.booleans())
def test_linear_matches_its_reference(device, data, lead, n_in, n_out, bias):
    values = mst.floats(-3, 3)
    inputs = [leaf(draw_array(data, tuple(lead) + (n_in,), values), device),
              leaf(draw_array(data, (n_out, n_in), values), device)]
    if bias:
        inputs.append(leaf(draw_array(data, (n_out,), values), device))
    assert_agree(derivatives(F.linear, inputs), derivatives(linear_reference, inputs))


def test_linear_reference_is_composed():
    """The reference is made of recorded ops (matmul, transpose, add), not LinearFunction."""
    x, w, b = leaf(np.ones((2, 3))), leaf(np.ones((4, 3))), leaf(np.ones(4))
    assert type(linear_reference(x, w, b).grad_fn).__name__ != type(F.linear(x, w, b).grad_fn).__name__


# -- cross_entropy --------------------------------------------------------------------------
@st.composite
def cross_entropy_cases(draw):
    """(logits, class indices, keyword arguments) over every layout and option."""
    c = draw(st.integers(1, 5))
    n = draw(st.integers(0, 4))  # 0: an empty batch
    layout = draw(st.sampled_from(["rows", "unbatched", "spatial"]))
    shape = {"rows": (n, c), "unbatched": (c,), "spatial": (n, c, draw(st.integers(1, 2)))}[layout]
    ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
    target_shape = shape[:1] + shape[2:] if layout != "unbatched" else ()
    t = np.asarray(draw(mst.arrays(target_shape, np.int64, st.sampled_from(list(range(c)) + [ignore_index]))))
    kw = dict(ignore_index=ignore_index, reduction=draw(st.sampled_from(["mean", "sum", "none"])),
              label_smoothing=draw(st.sampled_from([0.0, 0.1, 1.0]) | mst.floats(0.0, 1.0)))
    if draw(st.booleans()):
        kw["weight"] = draw(mst.arrays((c,), np.float64, mst.floats(0.1, 3.0)))
    return draw(mst.arrays(shape, np.float64, LOGITS)), t, kw


@EXAMPLES
@given(case=cross_entropy_cases())
def test_cross_entropy_matches_its_reference(device, case):
    x, t, kw = case
    if "weight" in kw:
        kw = dict(kw, weight=mg.tensor(kw["weight"], device=device))
    target = mg.tensor(t, device=device)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty or all-ignored 'mean' is 0/0
        fused = derivatives(lambda a: F.cross_entropy(a, target, **kw), [leaf(x, device)])
        reference = derivatives(lambda a: cross_entropy_reference(a, target, **kw), [leaf(x, device)])
    assert_agree(fused, reference, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_case_matches_its_reference(device, reduction):
    """The training step's case, (N, C) logits and (N,) indices with no options, on the fused
    node (two CUDA kernels on a GPU), at extreme logits and with batch 1."""
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal((7, 5)) * 3, np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]),
              rng.standard_normal((1, 4))):
        target = mg.tensor(rng.integers(0, x.shape[1], len(x)), device=device)
        fused = derivatives(lambda a: F.cross_entropy(a, target, reduction=reduction), [leaf(x, device)])
        reference = derivatives(lambda a: cross_entropy_reference(a, target, reduction=reduction), [leaf(x, device)])
        assert_agree(fused, reference)


def test_cross_entropy_reference_propagates_nan_like_the_fused_node():
    x = np.array([[0.0, np.nan, 1.0], [0.5, 0.2, -0.3]])
    t = mg.tensor([0, 2])
    for f in (F.cross_entropy, cross_entropy_reference):
        a = leaf(x)
        loss = f(a, t, reduction="none")
        v = host(loss)
        assert np.isnan(v[0]) and np.isfinite(v[1])
        loss.sum().backward()
        g = host(a.grad)
        assert np.isnan(g[0]).all() and np.isfinite(g[1]).all()


def test_cross_entropy_probability_targets_run_the_reference():
    """Class probabilities have no fused node: cross_entropy gives the reference's numbers exactly."""
    rng = np.random.default_rng(1)
    x, q, w = rng.standard_normal((4, 3, 2)), rng.dirichlet(np.ones(3), size=(4, 2)), rng.uniform(0.5, 2, 3)
    q = mg.tensor(np.moveaxis(q, -1, 1))
    for reduction in ("mean", "sum", "none"):
        kw = dict(weight=mg.tensor(w), reduction=reduction, label_smoothing=0.2)
        np.testing.assert_array_equal(host(F.cross_entropy(mg.tensor(x), q, **kw)),
                                      host(cross_entropy_reference(mg.tensor(x), q, **kw)))


def test_cross_entropy_reference_refuses_what_cross_entropy_refuses():
    x = mg.randn(3, 4)
    with pytest.raises(ValueError, match="one_hot: class indices must lie in"):
        cross_entropy_reference(x, mg.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy_reference(x, mg.tensor([0, 1, 1]), reduction="batchmean")
    with pytest.raises(ValueError, match="ignore_index=1 needs class-index targets"):
        cross_entropy_reference(x, mg.rand(3, 4), ignore_index=1)


# -- dropout --------------------------------------------------------------------------------
@EXAMPLES
@given(data=st.data(), shape=mst.shapes(min_dims=0, max_dims=3, min_side=0),
       p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]) | mst.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_dropout_matches_its_reference(device, data, shape, p, seed):
    x = leaf(draw_array(data, shape, mst.floats(-3, 3)), device)

    def seeded(fn):
        return lambda a: (mg.manual_seed(seed), fn(a, p))[1]  # the same draws every call

    assert_agree(derivatives(seeded(F.dropout), [x]), derivatives(seeded(dropout_reference), [x]), rtol=1e-14)


def test_dropout_reference_keeps_the_same_elements_and_is_identity_in_eval():
    x = leaf(np.linspace(1.0, 2.0, 200))
    mg.manual_seed(5)
    y = host(F.dropout(x, 0.4))
    mg.manual_seed(5)
    z = host(dropout_reference(x, 0.4))
    assert ((y == 0) == (z == 0)).all() and (y == 0).any() and (y != 0).any()
    assert dropout_reference(x, 0.4, training=False) is x and dropout_reference(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout_reference(x, 1.5)


# -- binary cross-entropy -------------------------------------------------------------------
@st.composite
def binary_cases(draw, x_values, weights):
    """(x, y, keyword arguments) with a class weight or per-element weight, and pos_weight."""
    shape = draw(mst.shapes(min_dims=0, max_dims=3, min_side=0))
    x = draw(mst.arrays(shape, np.float64, x_values))
    y = draw(mst.arrays(shape, np.float64, st.sampled_from([0.0, 1.0]) | mst.floats(0.0, 1.0)))
    kw = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    for name in weights:
        wshape = draw(st.sampled_from([None, shape, shape[-1:]]))
        if wshape is not None:
            kw[name] = draw(mst.arrays(wshape, np.float64, mst.floats(0.1, 3.0)))
    return x, y, kw


def _with_tensors(kw, device):
    return {k: mg.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


#: probabilities where the function's clamps are inactive: log x > -100 and x(1 - x) ≥ 1e-12
PROBABILITIES = st.sampled_from([1e-6, 1 - 1e-6, 0.5]) | mst.floats(1e-6, 1 - 1e-6)


@EXAMPLES
@given(case=binary_cases(PROBABILITIES, ["weight"]))
def test_binary_cross_entropy_matches_its_reference(device, case):
    x, y, kw = case
    kw = _with_tensors(kw, device)
    inputs = [leaf(x, device), leaf(y, device)]
    with np.errstate(invalid="ignore"):  # the mean of an empty tensor is 0/0
        fused = derivatives(lambda a, b: F.binary_cross_entropy(a, b, **kw), inputs)
        reference = derivatives(lambda a, b: binary_cross_entropy_reference(a, b, **kw), inputs)
    assert_agree(fused, reference, rtol=1e-8, atol=1e-9)


def test_binary_cross_entropy_clamps_where_the_reference_is_infinite():
    """At x = 0 or 1 the plain form gives an infinite loss; the function's clamped logs give
    100 and a finite gradient (PyTorch's rule)."""
    x, y = leaf(np.array([0.0, 1.0])), mg.tensor([1.0, 0.0])
    with np.errstate(divide="ignore"):  # log 0
        assert np.isinf(host(binary_cross_entropy_reference(x, y, reduction="none"))).all()
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(host(loss), [100.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(host(x.grad)).all()


@EXAMPLES
@given(case=binary_cases(mst.floats(-10, 10), ["weight", "pos_weight"]))
def test_binary_cross_entropy_with_logits_matches_its_reference(device, case):
    x, y, kw = case
    kw = _with_tensors(kw, device)
    inputs = [leaf(x, device), leaf(y, device)]
    with np.errstate(invalid="ignore"):
        fused = derivatives(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kw), inputs)
        reference = derivatives(lambda a, b: binary_cross_entropy_with_logits_reference(a, b, **kw), inputs)
    assert_agree(fused, reference, rtol=1e-8, atol=1e-9)


def test_binary_cross_entropy_with_logits_stays_finite_where_the_reference_is_not():
    x, y = leaf(np.array([1e4, -1e4, 40.0])), mg.tensor([0.0, 1.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0, 0·log 0
        plain = host(binary_cross_entropy_with_logits_reference(x, y, reduction="none"))
    assert not np.isfinite(plain).any()
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(host(loss), [1e4, 1e4, 40.0], rtol=1e-15)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0, -1.0, 1.0], rtol=1e-15)
