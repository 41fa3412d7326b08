"""examples/cliffs_and_clipping.py --quick: without clipping SGD takes huge steps off the cliff and
mostly ends on a flat plateau; with clip_grad_norm_ every step is at most lr·max_norm and every run
ends near the minimum.  The claims are counts over six starts, not one trajectory's digits."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from test_examples import ROOT, _env, _run, _value

N_STARTS = 6  # --quick runs seeds 0-5


def count(out: str, label: str) -> int:
    m = re.search(re.escape(label) + r":\s*(\d+) of (\d+)", out)
    assert m, f"{label!r} not found in the output:\n{out}"
    assert int(m.group(2)) == N_STARTS
    return int(m.group(1))


def per_start_rows(out: str) -> list:
    """(largest step SGD, largest step clipped, largest grad norm, final loss SGD, final loss clipped) per start."""
    rows = []
    for line in out.splitlines():
        if re.match(r"^\| \d+ \|", line):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append(tuple(float(c) for c in cells[2:]))
    return rows


@pytest.fixture(scope="module")
def quick_output() -> str:
    return _run(["examples/cliffs_and_clipping.py", "--quick"]).stdout


def test_clipping_bounds_every_step(quick_output: str) -> None:
    out = quick_output
    bound = _value(out, "bound lr*max_norm =")
    assert bound == pytest.approx(0.05 * 0.5)
    rows = per_start_rows(out)
    assert len(rows) == N_STARTS
    for plain_step, clipped_step, largest_gradient, _, _ in rows:
        assert clipped_step <= bound * (1 + 1e-6)
        assert largest_gradient > 100 * 0.5   # the cliff face: gradients far above max_norm
    assert count(out, "starts thrown with clipping") == 0


def test_without_clipping_most_starts_are_thrown_and_end_higher(quick_output: str) -> None:
    out = quick_output
    rows = per_start_rows(out)
    assert count(out, "starts thrown without clipping") >= N_STARTS - 2
    assert count(out, "starts where clipping ends lower") >= N_STARTS - 2
    # thrown at least once by more than 100 clipped steps
    assert max(r[0] for r in rows) > 100 * _value(out, "bound lr*max_norm =")
    assert _value(out, "final loss without clipping: median") > 0.05       # a plateau: ~0.09 or ~2.9
    assert all(r[4] < 0.01 for r in rows)                                   # clipped: every run near the minimum


def test_bad_flag_is_one_clear_error() -> None:
    proc = subprocess.run([sys.executable, "examples/cliffs_and_clipping.py", "--lr", "-1"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "expected a positive float, got '-1'" in proc.stderr
