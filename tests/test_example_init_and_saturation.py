"""examples/init_and_saturation.py --quick: the tables it prints show vanishing and exploding
back-propagated gradients, saturated tanh units, flat weight gradients, and unbroken symmetry.

The thresholds hold with wide margins for seeds 0-9 (width 256, 256 standard-normal inputs):
the measured values are in the comments.  The script needs neither MNIST nor matplotlib.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "examples/init_and_saturation.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    # One BLAS thread: the quick run's 256x256 products gain nothing from more, and on a busy
    # machine OpenBLAS's spinning threads made it 8x slower (48 s instead of 6 s).
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _number(text: str) -> float:
    return math.nan if text == "-" else float(text)


def table_rows(out: str, header: str, names: tuple) -> dict:
    """(activation, scheme) -> {column: value} from the printed table whose header starts with ``header``."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    rows = {}
    for line in lines[start:]:
        fields = line.split()
        if len(fields) != 2 + len(names):
            break
        rows[fields[0], fields[1]] = dict(zip(names, map(_number, fields[2:])))
    return rows


def ratio_rows(out: str) -> dict:
    """The first-/last-layer ratio table."""
    return table_rows(out, "act   scheme      dz ratio",
                      ("dz", "dz_sd", "linear", "layerwise", "dw", "dw_sd", "dw1", "std10", "sat10"))


def symmetry_rows(out: str) -> dict:
    """The symmetry table."""
    return table_rows(out, "act   scheme    steps", ("steps", "loss_before", "loss_after", "moved", "row_spread"))


@pytest.fixture(scope="module")
def quick_output() -> str:
    proc = _run("--quick")
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc.stdout


def test_every_scheme_and_activation_is_in_the_tables(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    schemes = ("zero", "small", "large", "standard", "xavier", "he")
    assert set(rows) == {(a, s) for a in ("tanh", "relu") for s in schemes}
    assert set(symmetry_rows(quick_output)) == {("tanh", "zero"), ("tanh", "constant"), ("tanh", "xavier"),
                                                ("relu", "zero"), ("relu", "constant"), ("relu", "he")}


def test_small_and_standard_weights_make_back_propagated_gradients_vanish(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    assert rows["tanh", "small"]["dz"] < 1e-3      # measured 3e-8 .. 1e-7 over seeds 0-9
    assert rows["relu", "small"]["dz"] < 1e-3      # 1e-9 .. 1e-8
    assert rows["tanh", "standard"]["dz"] < 0.1    # ~0.005
    assert rows["relu", "standard"]["dz"] < 0.1    # ~3e-4
    # and the forward signal with them: layer 10 is (nearly) silent
    assert rows["tanh", "small"]["std10"] < 1e-4
    assert rows["relu", "small"]["std10"] < 1e-4


def test_large_weights_make_back_propagated_gradients_explode(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    assert rows["relu", "large"]["dz"] > 1e3       # ~3e9
    assert rows["relu", "large"]["std10"] > 1e3    # ~3e10
    # tanh: saturated units pass little back, but W ~ N(0, 1) amplifies by √width: it still explodes
    assert rows["tanh", "large"]["dz"] > 10        # ~2e4


def test_large_weights_saturate_tanh(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    assert rows["tanh", "large"]["sat10"] > 0.75   # ~0.87 at width 256 (~0.90 at width 500)
    for scheme in ("small", "standard", "xavier"):
        assert rows["tanh", scheme]["sat10"] < 0.05


def test_xavier_for_tanh_and_he_for_relu_keep_gradients_near_one(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    assert 0.05 < rows["tanh", "xavier"]["dz"] < 5   # ~0.28: tanh' < 1 shrinks it a little per layer
    assert 0.2 < rows["relu", "he"]["dz"] < 5        # ~1
    assert 0.2 < rows["relu", "he"]["std10"] < 5     # activations keep their scale
    assert rows["tanh", "xavier"]["std10"] > 0.05


def test_the_variance_recursion_predicts_the_ratios(quick_output: str) -> None:
    # ‖∂L/∂z_l‖² ≈ fan_out·Var[W_{l+1}]·E[φ'(z_l)²]·‖∂L/∂z_{l+1}‖², layer by layer
    rows = ratio_rows(quick_output)
    for (activation, scheme), row in rows.items():
        if scheme == "zero":
            continue
        assert 0.5 < row["dz"] / row["layerwise"] < 2, (activation, scheme, row)   # 0.95 .. 1.06
        # the linear regime (E[φ'²] = 1 for tanh, 1/2 for ReLU) holds where nothing saturates
        if activation == "relu" or scheme in ("small", "standard"):
            assert 0.5 < row["dz"] / row["linear"] < 2, (activation, scheme, row)
    # saturated tanh units pass almost nothing back: the linear prediction is off by > 3 decades
    assert rows["tanh", "large"]["linear"] > 1e3 * rows["tanh", "large"]["dz"]


def test_weight_gradients_are_flat_across_layers_unless_units_saturate(quick_output: str) -> None:
    # Glorot & Bengio: with equal widths, Var[dL/dW] is the same in every layer in the linear
    # regime, whatever the scale of the weights; saturation (tanh, large) breaks it.
    rows = ratio_rows(quick_output)
    for (activation, scheme), row in rows.items():
        if scheme == "zero" or (activation, scheme) == ("tanh", "large"):
            continue
        assert 0.2 < row["dw"] < 5, (activation, scheme, row)   # 0.87 .. 1.9
    assert rows["tanh", "large"]["dw"] > 10


def test_zero_weights_have_no_gradient(quick_output: str) -> None:
    rows = ratio_rows(quick_output)
    for activation in ("tanh", "relu"):
        row = rows[activation, "zero"]
        assert row["dw1"] == 0 and row["std10"] == 0
        assert math.isnan(row["dw"])   # 0 / 0: every activation is 0, so is every weight gradient
    assert rows["tanh", "zero"]["dz"] == 0           # tanh'(0) = 1 lets G into z_10; W_10 = 0 stops it there
    assert math.isnan(rows["relu", "zero"]["dz"])    # relu'(0) = 0: not even z_10 gets a gradient


def test_equal_weights_stay_equal_after_training(quick_output: str) -> None:
    rows = symmetry_rows(quick_output)
    for activation, random_scheme in (("tanh", "xavier"), ("relu", "he")):
        zero, constant, random = (rows[activation, s] for s in ("zero", "constant", random_scheme))
        assert zero["row_spread"] == 0 and zero["moved"] == 0          # nothing reaches a zero net's weights
        assert constant["moved"] > 0                                  # the weights train ...
        assert constant["row_spread"] <= 1e-9 * constant["moved"]     # ... but every row the same way
        assert random["row_spread"] > 1e-3
    # the tanh net with random weights learns in those steps (the ReLU one at lr 0.1 not for every seed)
    assert rows["tanh", "xavier"]["loss_after"] < rows["tanh", "xavier"]["loss_before"] - 0.2


def test_bad_flags_get_one_clear_line() -> None:
    for args in (["--seeds", "a,b"], ["--width", "0"], ["--inputs", "mnist"]):
        proc = _run(*args)
        assert proc.returncode == 2
        assert "error:" in proc.stderr.strip().splitlines()[-1]


def test_help_names_the_sources() -> None:
    proc = _run("--help")
    assert proc.returncode == 0
    assert "Glorot" in proc.stdout and "He et al." in proc.stdout
