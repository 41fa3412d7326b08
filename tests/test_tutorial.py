"""The build-it-yourself autodiff tutorial (examples/tutorial, docs/tutorial.md).

* every stage runs as a script and its own checks pass;
* the last stage computes what minigrad computes: values, gradients and gradients of
  gradients on random expression graphs, and the same in-place refusals;
* the earlier stages agree with central differences;
* the code and the output shown in docs/tutorial.md are the stage files' code and output.
"""
from __future__ import annotations

import functools
import heapq
import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"
STAGES = sorted(TUTORIAL.glob("stage*.py"))


def load(number: int):
    """Import stage `number` as a module of its own."""
    (path,) = [p for p in STAGES if p.name.startswith(f"stage{number}_")]
    spec = importlib.util.spec_from_file_location(f"tutorial_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


LAST = load(len(STAGES))


def test_seven_stages_in_order() -> None:
    assert [p.name.split("_")[0] for p in STAGES] == [f"stage{i}" for i in range(1, 8)]


@functools.lru_cache(maxsize=None)
def run_stage(name: str) -> str:
    """Run examples/tutorial/`name` as a reader would (cwd the repository root); its stdout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, str((TUTORIAL / name).relative_to(ROOT))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} exited with {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("path", STAGES, ids=lambda p: p.stem)
def test_stage_runs_as_a_script(path: Path) -> None:
    assert run_stage(path.name).strip()


# -- the last stage against minigrad, on random expression graphs ---------------------------
SHAPES = [(2, 3), (3,), (1, 3), (2, 1), ()]
UNARY = ["neg", "exp", "tanh", "sigmoid", "sum"]
BINARY = ["add", "sub", "mul"]


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@st.composite
def programs(draw):
    """Leaves (values and shapes), then steps that each make one new value from earlier
    ones (any of them, so values are reused), and a direction v per leaf."""
    elements = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)
    leaves = [draw(arrays(np.float64, draw(st.sampled_from(SHAPES)), elements=elements))
              for _ in range(draw(st.integers(1, 3)))]
    shapes = [a.shape for a in leaves]
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(shapes) - 1))
        op = draw(st.sampled_from(UNARY + BINARY))
        if op in BINARY:
            j = draw(st.sampled_from([j for j, s in enumerate(shapes) if _broadcasts(shapes[i], s)]))
            steps.append((op, i, j))
            shapes.append(np.broadcast_shapes(shapes[i], shapes[j]))
        elif op == "sum":
            ndim = len(shapes[i])
            choices = [None] + list(range(-ndim, ndim)) + ([(0, 1)] if ndim == 2 else [])
            axis = draw(st.sampled_from(choices))
            keepdims = draw(st.booleans())
            steps.append((op, i, (axis, keepdims)))
            shapes.append(np.zeros(shapes[i]).sum(axis=axis, keepdims=keepdims).shape)
        else:
            steps.append((op, i, None))
            shapes.append(shapes[i])
    directions = [draw(arrays(np.float64, a.shape, elements=elements)) for a in leaves]
    return leaves, steps, directions


def evaluate(steps: list, leaves: list) -> list:
    """Every value of the program; the ops are spelled the same way for both libraries."""
    values = list(leaves)
    for op, i, arg in steps:
        a = values[i]
        if op == "add":
            values.append(a + values[arg])
        elif op == "sub":
            values.append(a - values[arg])
        elif op == "mul":
            values.append(a * values[arg])
        elif op == "neg":
            values.append(-a)
        elif op == "sum":
            values.append(a.sum(axis=arg[0], keepdims=arg[1]))
        else:
            values.append(getattr(a, op)())
    return values


class Stage:
    """The last stage behind the calls the comparison makes."""

    @staticmethod
    def leaf(a):
        return LAST.Tensor(a.copy(), requires_grad=True)

    @staticmethod
    def const(a):
        return LAST.Tensor(a.copy())

    @staticmethod
    def array(t):
        return None if t is None else t.data

    @staticmethod
    def grad(out, inputs, create_graph=False):
        return LAST.grad(out, inputs, create_graph=create_graph)


class Minigrad:
    @staticmethod
    def leaf(a):
        return mg.tensor(a.copy(), dtype=mg.float64, requires_grad=True)

    @staticmethod
    def const(a):
        return mg.tensor(a.copy(), dtype=mg.float64)

    @staticmethod
    def array(t):
        return None if t is None else t.detach().numpy()

    @staticmethod
    def grad(out, inputs, create_graph=False):
        return mg.grad(out, inputs, create_graph=create_graph, allow_unused=True)


def first_and_second_order(lib, leaves_np, steps, directions):
    """Values, ∂f/∂leaf by backward(), ∂f/∂leaf by grad(create_graph=True), and
    ∂(Σᵢ ∂f/∂leafᵢ · vᵢ)/∂leaf (Hessian-vector products), for f = Σ of the last value."""
    leaves = [lib.leaf(a) for a in leaves_np]
    values = evaluate(steps, leaves)
    values[-1].sum().backward()
    result = {"values": [lib.array(v) for v in values], "backward": [lib.array(x.grad) for x in leaves]}

    leaves = [lib.leaf(a) for a in leaves_np]
    f = evaluate(steps, leaves)[-1].sum()
    grads = lib.grad(f, leaves, create_graph=True)
    result["grad"] = [lib.array(g) for g in grads]
    terms = [(g * lib.const(v)).sum() for g, v in zip(grads, directions) if g is not None]
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    result["second order recorded"] = s.requires_grad
    result["hvp"] = [lib.array(h) for h in lib.grad(s, leaves)] if s.requires_grad else []
    return result


def assert_close(ours, theirs, what: str) -> None:
    assert (ours is None) == (theirs is None), f"{what}: {ours} vs {theirs}"
    if ours is None:
        return
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs {theirs.shape}"
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * scale, err_msg=what)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_last_stage_matches_minigrad(program) -> None:
    leaves, steps, directions = program
    with np.errstate(over="ignore", invalid="ignore"):
        theirs = first_and_second_order(Minigrad, leaves, steps, directions)
        everything = theirs["values"] + theirs["backward"] + theirs["grad"] + theirs["hvp"]
        assume(all(a is None or np.isfinite(a).all() for a in everything))  # exp of exp of ... overflows
        ours = first_and_second_order(Stage, leaves, steps, directions)
    for key in ("values", "backward", "grad", "hvp"):
        assert len(ours[key]) == len(theirs[key]), key
        for n, (a, b) in enumerate(zip(ours[key], theirs[key])):
            assert_close(a, b, f"{key}[{n}] of {steps}")
    assert ours["second order recorded"] == theirs["second order recorded"]


def test_the_random_graphs_reach_second_order() -> None:
    """A fixed program of the kind generated above: second-order gradients exist and agree."""
    rng = np.random.default_rng(1)
    leaves = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3,))]
    steps = [("mul", 0, 1), ("tanh", 2, None), ("sum", 3, (0, True)), ("sub", 4, 1), ("sigmoid", 5, None),
             ("mul", 6, 2), ("exp", 1, None), ("add", 7, 8)]
    directions = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3,))]
    ours = first_and_second_order(Stage, leaves, steps, directions)
    theirs = first_and_second_order(Minigrad, leaves, steps, directions)
    assert ours["second order recorded"] and theirs["second order recorded"]
    for key in ("values", "backward", "grad", "hvp"):
        for a, b in zip(ours[key], theirs[key]):
            assert_close(a, b, key)
    assert np.abs(ours["hvp"][0]).max() > 1e-3


# -- the last stage's version checks against minigrad's ---------------------------------------
class StageLib:
    no_grad = staticmethod(LAST.no_grad)

    @staticmethod
    def tensor(values, requires_grad=False):
        return LAST.Tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)

    @staticmethod
    def array(t):
        return t.data


class MinigradLib:
    no_grad = staticmethod(mg.no_grad)

    @staticmethod
    def tensor(values, requires_grad=False):
        return mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)

    @staticmethod
    def array(t):
        return t.detach().numpy()


def _exp_output_written_under_no_grad(lib, x):
    y = x.exp()
    with lib.no_grad():
        y += 1
    return y


def _exp_output_changed_while_recording(lib, x):
    y = x.exp()
    y.add_(1)
    return y


def _mul_input_changed_while_recording(lib, x):
    h = x * 2
    y = h * h
    h += 1
    return y


def _add_input_changed(lib, x):
    h = x * 2
    y = h + 1  # Add saves nothing
    h.mul_(3)
    return y


def _changed_before_use(lib, x):
    h = x * 1
    h.mul_(2)
    return h.exp()


def _leaf_updated_between_forward_and_backward(lib, x):
    y = x * x
    with lib.no_grad():
        x.sub_(0.1)
    return y


def _leaf_updated_after_backward(lib, x):
    (x * x).sum().backward()
    with lib.no_grad():
        x.sub_(x.grad * 0.1)
    x.grad = None
    return x * x


def _leaf_changed_while_recording(lib, x):
    x.add_(1)
    return x


def _constant_saved_then_changed(lib, x):
    c = lib.tensor([2.0, 3.0])
    y = x * c
    c.add_(1)  # nothing requires grad: a true in-place write
    return y


def _sigmoid_output_saved_by_mul_then_changed(lib, x):
    y = x.sigmoid()
    z = y * lib.tensor([3.0, 3.0], requires_grad=True)  # saves y: d/dw reads it
    y.mul_(2)
    return z + y


def _tanh_output_written_under_no_grad(lib, x):
    y = x.tanh()
    with lib.no_grad():
        y.mul_(0)
    return y * 2


def _input_of_exp_written_under_no_grad(lib, x):
    h = x * 1
    s = h.exp()  # exp keeps its output, not its input
    with lib.no_grad():
        h.add_(1)
    return s


def _twice_in_place_while_recording(lib, x):
    h = x * lib.tensor([2.0, 3.0], requires_grad=True)
    h *= 2
    h += x.sigmoid()
    return h.tanh()


def _broadcast_operand_in_place(lib, x):
    h = (x * 1).reshape((2, 1))
    h = h * lib.tensor([[1.0, 2.0, 3.0]])  # (2, 3)
    h.add_(x.sum())
    return h.exp()


SCENARIOS = [
    (_exp_output_written_under_no_grad, "raises"),
    (_exp_output_changed_while_recording, "allows"),
    (_mul_input_changed_while_recording, "raises"),
    (_add_input_changed, "allows"),
    (_changed_before_use, "allows"),
    (_leaf_updated_between_forward_and_backward, "raises"),
    (_leaf_updated_after_backward, "allows"),
    (_leaf_changed_while_recording, "raises"),
    (_constant_saved_then_changed, "raises"),
    (_sigmoid_output_saved_by_mul_then_changed, "raises"),
    (_tanh_output_written_under_no_grad, "raises"),
    (_input_of_exp_written_under_no_grad, "allows"),
    (_twice_in_place_while_recording, "allows"),
    (_broadcast_operand_in_place, "allows"),
]


def outcome(lib, scenario):
    """("raises", message) or ("allows", ∂Σf/∂x)."""
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    try:
        scenario(lib, x).sum().backward()
    except RuntimeError as err:
        return "raises", str(err)
    return "allows", lib.array(x.grad)


@pytest.mark.parametrize("scenario, expected", SCENARIOS, ids=[s.__name__.strip("_") for s, _ in SCENARIOS])
def test_version_check_refuses_and_allows_where_minigrad_does(scenario, expected) -> None:
    ours, theirs = outcome(StageLib, scenario), outcome(MinigradLib, scenario)
    assert theirs[0] == expected, f"minigrad: {theirs}"
    assert ours[0] == expected, f"the stage: {ours}"
    if expected == "raises":
        assert "in-place" in ours[1] or "leaf tensor that requires grad" in ours[1], ours[1]
    else:
        assert_close(ours[1], theirs[1], scenario.__name__)


def test_in_place_shape_errors_are_one_line() -> None:
    t = LAST.Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match=r"add_: a value of shape \(2, 3\) can't be applied in place to shape \(3,\)"):
        t.add_(LAST.Tensor(np.zeros((2, 3))))


# -- earlier stages: spot checks against central differences ---------------------------------
def central(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, f taking and returning plain floats/arrays."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


@pytest.mark.parametrize("number", [1, 2])
def test_scalar_stages_against_central_differences(number: int) -> None:
    stage = load(number)

    def f(x, y):
        return x * y * x + 3 * y + x * 0.5  # x used three times

    stage.TAPE.clear()
    x, y = stage.Value(1.3), stage.Value(-0.7)
    f(x, y).backward()
    assert math.isclose(x.grad, central(lambda a: f(a[0], -0.7), np.array([1.3]))[0], rel_tol=1e-7)
    assert math.isclose(y.grad, central(lambda a: f(1.3, a[0]), np.array([-0.7]))[0], rel_tol=1e-7)
    assert math.isclose(x.grad, 2 * 1.3 * -0.7 + 0.5, rel_tol=1e-14)


def test_stage2_composites_against_central_differences() -> None:
    stage = load(2)
    cases = [
        (lambda v: v.tanh(), math.tanh, 0.4),
        (lambda v: v.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), -0.9),
        (lambda v: 1 / v - v ** 1.5, lambda a: 1 / a - a ** 1.5, 1.7),
        (lambda v: (v.exp() + 1).log() - v / 3, lambda a: math.log(math.exp(a) + 1) - a / 3, 0.2),
    ]
    for with_values, plain, at in cases:
        stage.TAPE.clear()
        v = stage.Value(at)
        with_values(v).backward()
        numeric = central(lambda a: plain(a[0]), np.array([at]))[0]
        assert math.isclose(v.grad, numeric, rel_tol=1e-7, abs_tol=1e-9)


def _array_expression(x, w):
    return ((x * w).tanh().sum(axis=1, keepdims=True) * w).sigmoid().sum(axis=0).exp().sum() - (w - x).sum()


def _numpy_expression(x, w):
    t = np.tanh(x * w).sum(axis=1, keepdims=True) * w
    return np.exp((1 / (1 + np.exp(-t))).sum(axis=0)).sum() - (w - x).sum()


@pytest.mark.parametrize("number", [3, 4, 5, 6])
def test_array_stages_against_central_differences(number: int) -> None:
    stage = load(number)
    rng = np.random.default_rng(number)
    x_np, w_np = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    kwargs = {"requires_grad": True} if number >= 5 else {}
    x, w = stage.Tensor(x_np.copy(), **kwargs), stage.Tensor(w_np.copy(), **kwargs)
    if number == 3:
        stage.TAPE.clear()
    out = _array_expression(x, w)
    assert math.isclose(float(out.data), _numpy_expression(x_np, w_np), rel_tol=1e-13)
    out.backward()
    grad_x = x.grad if number < 6 else x.grad.data
    grad_w = w.grad if number < 6 else w.grad.data
    np.testing.assert_allclose(grad_x, central(lambda a: _numpy_expression(a, w_np), x_np), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_w, central(lambda a: _numpy_expression(x_np, a), w_np), rtol=1e-6, atol=1e-8)


def test_stage4_walk_needs_no_recursion_and_sums_reused_values() -> None:
    stage = load(4)
    x = stage.Tensor(0.3)
    y = x
    for _ in range(5 * sys.getrecursionlimit()):
        y = y * 1.0 + y * 0.0  # every value used twice
    y.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("number", [4, 5, 6, 7])
def test_each_node_runs_once_latest_first(number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value with consumers at several depths: its node waits for all of them."""
    stage = load(number)
    popped = []

    class RecordingHeap:
        heappush = staticmethod(heapq.heappush)

        @staticmethod
        def heappop(heap):
            item = heapq.heappop(heap)
            popped.append(item[1])
            return item

    monkeypatch.setattr(stage, "heapq", RecordingHeap)
    kwargs = {"requires_grad": True} if number >= 5 else {}
    x = stage.Tensor([0.3, -0.2], **kwargs)
    h = x * 2
    a = h.exp()
    b = (a * h).tanh()
    out = (b + h + a * b).sum()
    out.backward()
    seqs = [node.seq for node in popped]
    assert len(popped) == 8 and len(set(map(id, popped))) == 8 and seqs == sorted(seqs, reverse=True)
    u = 2 * x.data
    e, t = np.exp(u), np.tanh(np.exp(u) * u)
    dt = (1 - t * t) * (e * u + e)  # d tanh(e^u·u)/du
    exact = 2 * (dt + 1 + e * t + e * dt)
    grad = x.grad if number < 6 else x.grad.data
    np.testing.assert_allclose(grad, exact, rtol=1e-13)


def test_stage5_no_grad_records_nothing() -> None:
    stage = load(5)
    w = stage.Tensor([1.0, 2.0], requires_grad=True)
    with stage.no_grad():
        y = (w * w).exp().sum()
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    c = stage.Tensor([3.0, 4.0])
    (w * c).sum().backward()
    assert c.grad is None and np.array_equal(w.grad, [3.0, 4.0])


def test_stage6_second_derivatives_against_central_differences() -> None:
    stage = load(6)
    x = stage.Tensor(1.7, requires_grad=True)
    (d1,) = stage.grad(x * x * x, [x], create_graph=True)
    (d2,) = stage.grad(d1, [x])
    assert math.isclose(float(d2.data), 6 * 1.7, rel_tol=1e-14)

    rng = np.random.default_rng(6)
    x_np, w_np, v = rng.normal(size=(4, 3)), rng.normal(size=(3,)), rng.normal(size=(3,))

    def gradient_w(w_values):
        w = stage.Tensor(w_values, requires_grad=True)
        return stage.grad(_array_expression(stage.Tensor(x_np), w), [w])[0].data

    w = stage.Tensor(w_np.copy(), requires_grad=True)
    (g,) = stage.grad(_array_expression(stage.Tensor(x_np), w), [w], create_graph=True)
    (hv,) = stage.grad((g * stage.Tensor(v)).sum(), [w])
    eps = 1e-6
    numeric = (gradient_w(w_np + eps * v) - gradient_w(w_np - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.data, numeric, rtol=1e-6, atol=1e-7)


# -- the docs page shows code and output from the stage files ------------------------------
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _same_line(ours: str, shown: str) -> bool:
    """Equal text, and numbers equal to 7 significant digits (another libm may round the last)."""
    if _NUMBER.split(ours) != _NUMBER.split(shown):
        return False
    a, b = _NUMBER.findall(ours), _NUMBER.findall(shown)
    return len(a) == len(b) and all(math.isclose(float(x), float(y), rel_tol=1e-7, abs_tol=1e-12)
                                    for x, y in zip(a, b))


def _contains(lines: list, run: list, same=lambda a, b: a == b) -> bool:
    return any(all(same(lines[k + n], r) for n, r in enumerate(run)) for k in range(len(lines) - len(run) + 1))


def _blocks_with_their_stage(language: str) -> list:
    """(stage file name, block text) for each fenced block in `language`: the stage file is the
    one linked last before the block."""
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    result = []
    for m in re.finditer(r"^```" + language + r"\n(.*?)^```$", text, flags=re.S | re.M):
        linked = re.findall(r"\(\.\./examples/tutorial/(stage\d_\w+\.py)\)", text[:m.start()])
        assert linked, f"no stage file is linked before this block of docs/tutorial.md:\n{m.group(1)}"
        result.append((linked[-1], m.group(1)))
    return result


def test_tutorial_page_code_is_stage_code() -> None:
    """Every python block is a run of lines (indentation aside) of its stage's file."""
    blocks = _blocks_with_their_stage("python")
    assert len(blocks) >= 7
    for name, block in blocks:
        source = [line.strip() for line in (TUTORIAL / name).read_text(encoding="utf-8").splitlines()]
        assert _contains(source, [line.strip() for line in block.splitlines()]), \
            f"this block of docs/tutorial.md is not in {name}:\n{block}"


def test_tutorial_page_output_is_stage_output() -> None:
    """Every text block is a run of lines of what its stage prints."""
    blocks = _blocks_with_their_stage("text")
    assert len(blocks) >= 7
    for name, block in blocks:
        printed = [line.rstrip() for line in run_stage(name).splitlines()]
        assert _contains(printed, [line.rstrip() for line in block.splitlines()], _same_line), \
            f"{name} does not print this block of docs/tutorial.md:\n{block}"


def test_output_comparison_is_strict() -> None:
    assert _same_line("x = 2.64872127", "x = 2.64872127")
    assert not _same_line("x = 2.64872127", "x = 2.64882127")
    assert not _same_line("y = 2.64872127", "x = 2.64872127")
    assert _contains(["a", "b 1", "c"], ["b 1.0", "c"], _same_line)
    assert not _contains(["a", "b 1", "c"], ["a", "c"], _same_line)
