"""Every first-order update rule in its three forms, with hypothesis strategies for its arguments,
for the tests that check the fast forms against the plain one (test_update_forms.py,
test_fused_kernels_on_host.py)."""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
from hypothesis import strategies as st

from minigrad.optim import adadelta, adagrad, adam, adamax, nadam, optimizer, rmsprop, sgd


@dataclass(frozen=True)
class Rule:
    name: str
    plain: Callable
    chunked: Callable
    cuda_fused: Callable
    #: draw(data, rng, shape, dtype) -> (positional arrays after param and grad, keyword arguments)
    draw: Callable
    #: the chunked form runs the plain form's operations in the same order (bitwise equal);
    #: otherwise the names of the arrays it is allowed to differ in by rounding
    chunked_rounds: tuple = ()


def _unit(lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _maybe_zero(s: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(0.0), s)


_LR = _unit(1e-4, 1.0)
_EPS = st.sampled_from([1e-10, 1e-8, 1e-6, 1e-3])
_WD = _maybe_zero(_unit(1e-4, 0.5))
_BETA = _unit(0.0, 0.999)
_STEP = st.integers(1, 2000)


def _normal(rng, shape, dtype):
    return np.array(rng.standard_normal(shape), dtype=dtype)  # (an array also for shape ())


def _positive(rng, shape, dtype):
    a = _normal(rng, shape, dtype)
    return np.abs(a, out=a)


def _draw_sgd(data, rng, shape, dtype):
    momentum = data.draw(_maybe_zero(_unit(0.01, 0.99)), label="momentum")
    nesterov = momentum > 0 and data.draw(st.booleans(), label="nesterov")
    dampening = 0.0 if nesterov else data.draw(_maybe_zero(_unit(0.0, 1.0)), label="dampening")
    kw = dict(lr=data.draw(_LR, label="lr"), momentum=momentum, dampening=dampening,
              weight_decay=data.draw(_WD, label="weight_decay"), nesterov=nesterov,
              maximize=data.draw(st.booleans(), label="maximize"),
              first_step=data.draw(st.booleans(), label="first_step"))
    buf = _normal(rng, shape, dtype) if momentum != 0 else None
    return [buf], kw


def _draw_adagrad(data, rng, shape, dtype):
    kw = dict(step=data.draw(_STEP, label="step"), lr=data.draw(_LR, label="lr"),
              lr_decay=data.draw(_maybe_zero(_unit(1e-4, 0.5)), label="lr_decay"),
              weight_decay=data.draw(_WD, label="weight_decay"), eps=data.draw(_EPS, label="eps"),
              maximize=data.draw(st.booleans(), label="maximize"))
    return [_positive(rng, shape, dtype)], kw


def _draw_adadelta(data, rng, shape, dtype):
    kw = dict(lr=data.draw(st.one_of(st.just(1.0), _LR), label="lr"), rho=data.draw(_unit(0.0, 0.99), label="rho"),
              eps=data.draw(_EPS, label="eps"), weight_decay=data.draw(_WD, label="weight_decay"),
              maximize=data.draw(st.booleans(), label="maximize"))
    return [_positive(rng, shape, dtype), _positive(rng, shape, dtype)], kw


def _draw_rmsprop(data, rng, shape, dtype):
    centered = data.draw(st.booleans(), label="centered")
    momentum = data.draw(_maybe_zero(_unit(0.01, 0.99)), label="momentum")
    grad_avg = _normal(rng, shape, dtype) if centered else None
    # v ≥ ḡ² (as the running averages keep it), with a margin so that √(v − ḡ²) is well conditioned
    square_avg = _positive(rng, shape, dtype)
    square_avg += 0.1
    if centered:
        square_avg += grad_avg * grad_avg
    kw = dict(lr=data.draw(_LR, label="lr"), alpha=data.draw(_unit(0.5, 0.999), label="alpha"),
              eps=data.draw(_EPS, label="eps"), weight_decay=data.draw(_WD, label="weight_decay"),
              momentum=momentum, centered=centered, grad_avg=grad_avg,
              momentum_buffer=_normal(rng, shape, dtype) if momentum > 0 else None,
              maximize=data.draw(st.booleans(), label="maximize"))
    return [square_avg], kw


def _draw_adam(data, rng, shape, dtype):
    amsgrad = data.draw(st.booleans(), label="amsgrad")
    kw = dict(step=data.draw(_STEP, label="step"), lr=data.draw(_LR, label="lr"),
              beta1=data.draw(_BETA, label="beta1"), beta2=data.draw(_BETA, label="beta2"),
              eps=data.draw(_EPS, label="eps"), weight_decay=data.draw(_WD, label="weight_decay"), amsgrad=amsgrad,
              max_exp_avg_sq=_positive(rng, shape, dtype) if amsgrad else None,
              maximize=data.draw(st.booleans(), label="maximize"),
              decoupled_weight_decay=data.draw(st.booleans(), label="decoupled_weight_decay"))
    return [_normal(rng, shape, dtype), _positive(rng, shape, dtype)], kw


def _draw_adamax(data, rng, shape, dtype):
    kw = dict(step=data.draw(_STEP, label="step"), lr=data.draw(_LR, label="lr"),
              beta1=data.draw(_BETA, label="beta1"), beta2=data.draw(_BETA, label="beta2"),
              eps=data.draw(_EPS, label="eps"), weight_decay=data.draw(_WD, label="weight_decay"),
              maximize=data.draw(st.booleans(), label="maximize"))
    return [_normal(rng, shape, dtype), _positive(rng, shape, dtype)], kw


def _draw_nadam(data, rng, shape, dtype):
    kw = dict(step=data.draw(_STEP, label="step"), mu_product=data.draw(_unit(1e-3, 1.0), label="mu_product"),
              lr=data.draw(_LR, label="lr"), beta1=data.draw(_BETA, label="beta1"),
              beta2=data.draw(_BETA, label="beta2"), eps=data.draw(_EPS, label="eps"),
              weight_decay=data.draw(_WD, label="weight_decay"),
              momentum_decay=data.draw(_unit(1e-4, 0.1), label="momentum_decay"),
              decoupled_weight_decay=data.draw(st.booleans(), label="decoupled_weight_decay"),
              maximize=data.draw(st.booleans(), label="maximize"))
    return [_normal(rng, shape, dtype), _positive(rng, shape, dtype)], kw


RULES = [
    Rule("sgd", sgd.sgd_update, sgd.sgd_update_chunked, sgd.sgd_update_cuda_fused, _draw_sgd),
    Rule("adagrad", adagrad.adagrad_update, adagrad.adagrad_update_chunked, adagrad.adagrad_update_cuda_fused,
         _draw_adagrad),
    Rule("adadelta", adadelta.adadelta_update, adadelta.adadelta_update_chunked, adadelta.adadelta_update_cuda_fused,
         _draw_adadelta),
    Rule("rmsprop", rmsprop.rmsprop_update, rmsprop.rmsprop_update_chunked, rmsprop.rmsprop_update_cuda_fused,
         _draw_rmsprop),
    # the chunked Adam moves ε under the root's bias correction (one rearranged line): θ differs by rounding
    Rule("adam", adam.adam_update, adam.adam_update_chunked, adam.adam_update_cuda_fused, _draw_adam,
         chunked_rounds=("param",)),
    Rule("adamax", adamax.adamax_update, adamax.adamax_update_chunked, adamax.adamax_update_cuda_fused, _draw_adamax),
    Rule("nadam", nadam.nadam_update, nadam.nadam_update_chunked, nadam.nadam_update_cuda_fused, _draw_nadam),
]
RULE_IDS = [r.name for r in RULES]

SHAPES = st.one_of(
    st.lists(st.integers(0, 6), max_size=3).map(tuple),  # small, empty and 0-d parameters
    st.tuples(st.integers(1, 4), st.integers(300, 900)),  # several pieces of 1024 elements when cut
)


@dataclass
class Case:
    """One call: ``param``, ``grad``, the positional state arrays and the keyword arguments."""
    param: np.ndarray
    grad: np.ndarray
    args: list
    kwargs: dict

    def copy(self) -> "Case":
        return copy.deepcopy(self)

    def arrays(self) -> dict:
        """Every array the update may change (and the gradient, which it must not), by name."""
        named = {"param": self.param, "grad": self.grad}
        named.update({f"state{i}": a for i, a in enumerate(self.args) if a is not None})
        named.update({k: v for k, v in self.kwargs.items() if isinstance(v, np.ndarray)})
        return named

    def run(self, form: Callable, **extra) -> object:
        return form(self.param, self.grad, *self.args, **self.kwargs, **extra)


def draw_case(data, rule: Rule, dtype, layout: str = "C") -> Case:
    """Random arguments for ``rule``: shape, values (seeded by hypothesis) and every option."""
    shape = data.draw(SHAPES, label="shape")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    param, grad = _normal(rng, shape, dtype), _normal(rng, shape, dtype)
    args, kwargs = rule.draw(data, rng, shape, dtype)
    case = Case(param, grad, args, kwargs)
    if layout == "F" and len(shape) >= 2:  # not C-contiguous: the chunked forms must take it whole
        case.param = np.asfortranarray(case.param)
        case.args = [None if a is None else np.asfortranarray(a) for a in case.args]
    return case


@contextlib.contextmanager
def whole_bytes(limit: int) -> Iterator[None]:
    """Parameters above ``limit`` bytes are cut into pieces by the chunked forms (0: all of them)."""
    saved = optimizer._WHOLE_BYTES
    optimizer._WHOLE_BYTES = limit
    try:
        yield
    finally:
        optimizer._WHOLE_BYTES = saved


def assert_within_rounding(actual: np.ndarray, expected: np.ndarray, before: np.ndarray, what: str) -> None:
    """``actual`` equals ``expected`` up to the rounding of a few operations: some units in the
    last place of the old and the new value (the terms an update adds up are of their size) and a
    few dozen of the change ``expected − before`` (where the rounding errors of the step land)."""
    eps = np.finfo(expected.dtype).eps
    exp64, act64, bef64 = (np.asarray(x, dtype=np.float64) for x in (expected, actual, before))
    bound = eps * (16 * (np.abs(exp64) + np.abs(bef64)) + 64 * np.abs(exp64 - bef64))
    bad = ~(np.abs(act64 - exp64) <= bound)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise AssertionError(f"{what}: element {i} is {act64.ravel()[i]!r}, the plain form gives "
                             f"{exp64.ravel()[i]!r} (from {bef64.ravel()[i]!r}; allowed ±{bound.ravel()[i]:.3g}); "
                             f"{int(bad.sum())} of {bad.size} elements differ by more")
