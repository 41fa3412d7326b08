"""The fast forms of every update rule compute what its plain form computes.

Each optimizer module holds its rule as one plain function (``adam_update``, written as the
paper writes it) and two fast forms of it: ``*_chunked`` (host arrays: ``out=`` into scratch
buffers, large parameters in cache-sized pieces) and ``*_cuda_fused`` (one CUDA kernel).  Over
random shapes and values, float32 and float64, and every option of the rule:

* the chunked form equals the plain one bitwise (it runs the same operations in the same
  order), whole or cut into pieces, contiguous or not; Adam's rearranged last line makes its
  parameter equal only to rounding;
* on CUDA (the ``device`` fixture; skipped without a GPU) the fused kernel equals the plain form
  to rounding.  The kernels are also run without a GPU in test_fused_kernels_on_host.py.

Then the optimizers: ``update_form = "plain"`` and the default fast forms give the same
trajectories, and ``Optimizer._update_form`` picks the form it documents.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim
from minigrad.optim import optimizer
from minigrad.optim.optimizer import Scratch, UpdateForms

from optim_rules import RULE_IDS, RULES, assert_within_rounding, draw_case, whole_bytes

# one scratch for every example: parameters of all shapes and dtypes take turns with its buffers,
# which grow (and drop their old views) as larger ones come
_SCRATCH = Scratch()


def _to_device(case, device):
    if device == "cpu":
        return case
    cupy = pytest.importorskip("cupy")
    case.param, case.grad = cupy.asarray(case.param), cupy.asarray(case.grad)
    case.args = [None if a is None else cupy.asarray(a) for a in case.args]
    case.kwargs = {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()}
    return case


def _to_host(named: dict) -> dict:
    return {k: v if isinstance(v, np.ndarray) else v.get() for k, v in named.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_form_matches_the_plain_form(rule, dtype, device, data):
    case = draw_case(data, rule, dtype, layout=data.draw(st.sampled_from("CF"), label="layout"))
    before = case.copy().arrays()
    plain = case.copy()
    plain_result = plain.run(rule.plain)
    fast = _to_device(case.copy(), device)
    if device == "cpu":
        with whole_bytes(data.draw(st.sampled_from([optimizer._WHOLE_BYTES, 0]), label="whole_bytes")):
            fast_result = fast.run(rule.chunked, scratch=_SCRATCH)
        rounds = rule.chunked_rounds
    else:
        fast_result = fast.run(rule.cuda_fused)
        rounds = tuple(before)
    assert fast_result == plain_result  # (NAdam's μ-product: the same Python arithmetic)
    expected, actual = plain.arrays(), _to_host(fast.arrays())
    np.testing.assert_array_equal(expected["grad"], before["grad"], err_msg="the plain form changed the gradient")
    for name, want in expected.items():
        got = actual[name]
        assert got.dtype == dtype and got.shape == want.shape, name
        if name in rounds:
            assert_within_rounding(got, want, before[name], f"{rule.name} {name}")
        else:
            np.testing.assert_array_equal(got, want, err_msg=f"{rule.name} {name}")


# -- the optimizers: plain and fast forms through step() -------------------------------------------------
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.7, rho=0.8, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.4, 0.9), amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
ROUNDS = {"Adam", "AdamW"}  # (the chunked Adam's last line is rearranged, see adam_update_chunked)


def _trajectory(name, kw, dtype, form):
    rng = np.random.default_rng(7)
    shapes = [(3, 700), (700,)]  # 2100 elements: three pieces when every parameter is cut
    params = [mg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    opt = getattr(optim, name)(params, **kw)
    opt.update_form = form
    for _ in range(6):
        for p in params:
            p.grad = mg.tensor(rng.standard_normal(p.shape).astype(dtype))
        with whole_bytes(0):
            opt.step()
    state = {k: v.numpy() for st_ in opt.state.values() for k, v in st_.items() if isinstance(v, mg.Tensor)}
    numbers = [v for st_ in opt.state.values() for v in st_.values() if not isinstance(v, mg.Tensor)]
    return [p.detach().numpy() for p in params], state, numbers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_plain_and_fast_forms_give_the_same_trajectory(name, kw, dtype):
    plain_params, plain_state, plain_numbers = _trajectory(name, kw, dtype, "plain")
    fast_params, fast_state, fast_numbers = _trajectory(name, kw, dtype, "fast")
    assert fast_numbers == plain_numbers and sorted(fast_state) == sorted(plain_state)
    for p, q in zip(fast_params, plain_params):
        assert p.dtype == dtype
        if name in ROUNDS:
            np.testing.assert_allclose(p, q, rtol=64 * np.finfo(dtype).eps, atol=64 * np.finfo(dtype).eps)
        else:
            np.testing.assert_array_equal(p, q)
    if name not in ROUNDS:
        for k in plain_state:
            np.testing.assert_array_equal(fast_state[k], plain_state[k], err_msg=k)


def test_update_form_picks_the_form_it_documents(monkeypatch):
    calls = []

    def form(label):
        def run(param, grad, *arrays, **hyper):
            calls.append((label, hyper))
        return run

    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adagrad([p], lr=0.5)
    opt.update_forms = UpdateForms(plain=form("plain"), chunked=form("chunked"), cuda_fused=form("cuda_fused"))
    p.grad = mg.tensor([0.1, 0.2])
    opt.step()  # a host array, update_form "fast" (the default): the chunked form
    opt.update_form = "plain"
    opt.step()
    opt.update_form = "fast"
    monkeypatch.setattr(optimizer, "is_cuda_array", lambda a: True)
    opt.step()
    assert [label for label, _ in calls] == ["chunked", "plain", "cuda_fused"]
    assert [hyper["step"] for _, hyper in calls] == [1, 2, 3]
    assert calls[0][1] == dict(step=1, lr=0.5, lr_decay=0, weight_decay=0, eps=1e-10, maximize=False)


def test_an_unknown_update_form_is_refused_by_name():
    p = mg.tensor([1.0], requires_grad=True)
    for opt in (optim.Adam([p]), optim.SGD([p], lr=0.1)):
        opt.update_form = "fused"
        p.grad = mg.tensor([1.0])
        with pytest.raises(ValueError, match=r"^(Adam|SGD)\.update_form must be 'fast' or 'plain', got 'fused'$"):
            opt.step()
        np.testing.assert_array_equal(p.detach().numpy(), [1.0])


def test_the_plain_forms_run_on_any_device_array_module(device):
    """The plain forms reach arrays only through ``xp``: update_form="plain" runs on CUDA too."""
    p = mg.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    opt.update_form = "plain"
    p.grad = mg.tensor([0.5, 0.5, -0.5], device=device)
    opt.step()
    assert p.device == device
    np.testing.assert_allclose(p.detach().cpu().numpy(), [0.9, -2.1, 3.1], rtol=1e-6)
