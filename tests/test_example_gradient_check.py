"""examples/gradient_check.py: central differences catch each deliberate backprop bug, the fixed
backward agrees with them, and the minigrad model agrees with the hand-written gradient."""
from __future__ import annotations

import re

import pytest
from test_examples import _run, _value

BUGS = ["tanh-derivative", "derivative-at-z", "bias-mean", "loss-mean"]
PARAMETERS = ["hidden.weight", "hidden.bias", "output.weight", "output.bias", "all"]


def error_table(out: str) -> dict:
    """{column header: {parameter: relative error}} from the printed table."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("parameter "))
    headers = re.split(r"\s{2,}", lines[start].strip())[2:]  # after "parameter" and "shape"
    table = {h: {} for h in headers}
    for line in lines[start + 1:start + 1 + len(PARAMETERS)]:
        name = line.split()[0]
        numbers = re.findall(r"\d\.\d\de[-+]\d+", line)
        assert len(numbers) == len(headers), line
        for header, value in zip(headers, numbers):
            table[header][name] = float(value)
    assert all(set(column) == set(PARAMETERS) for column in table.values()), table
    return table


def check_minigrad_part(out: str) -> None:
    assert "mg.autograd.gradcheck passed: True" in out
    assert _value(out, "max |hand-written gradient - autograd gradient| =") < 1e-12
    assert abs(_value(out, "minigrad loss") - _value(out, "loss")) < 1e-9


@pytest.mark.parametrize("bug", BUGS)
def test_each_bug_is_caught_and_the_fix_passes(bug: str) -> None:
    out = _run(["examples/gradient_check.py", "--bug", bug, "--seed", "1"]).stdout
    table = error_table(out)
    buggy, fixed = table[f"buggy ({bug})"], table["fixed"]
    assert buggy["all"] > 1e-3
    assert max(fixed.values()) < 1e-7
    # the output layer's gradients do not pass through the hidden layer's backward
    if bug in ("tanh-derivative", "derivative-at-z", "bias-mean"):
        assert buggy["output.weight"] < 1e-7 and buggy["output.bias"] < 1e-7
        assert buggy["hidden.bias"] > 1e-3
    if bug == "loss-mean":  # every gradient is N = 10 times too large: (N − 1)/(N + 1)
        assert all(abs(v - 9 / 11) < 1e-3 for v in buggy.values())
    check_minigrad_part(out)


def test_no_bug_passes() -> None:
    out = _run(["examples/gradient_check.py", "--bug", "none"]).stdout
    table = error_table(out)
    assert max(table["as written (none)"].values()) < 1e-7
    assert max(table["fixed"].values()) < 1e-7
    check_minigrad_part(out)


def test_default_run_shows_every_bug_and_the_epsilon_tradeoff() -> None:
    out = _run(["examples/gradient_check.py", "--quick"]).stdout
    table = error_table(out)
    assert set(table) == {f"buggy ({b})" for b in BUGS} | {"fixed"}
    assert all(table[f"buggy ({b})"]["all"] > 1e-3 for b in BUGS)
    sweep = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"^1e-(\d+)\s+(\S+)$", out, re.M)}
    assert sorted(sweep) == list(range(1, 11))
    assert sweep[1] > 100 * sweep[4]    # truncation error dominates at large eps
    assert sweep[10] > 100 * sweep[5]   # round-off dominates at tiny eps
    check_minigrad_part(out)


def test_bad_bug_name_is_one_clear_error() -> None:
    import subprocess
    import sys
    from test_examples import ROOT, _env
    proc = subprocess.run([sys.executable, "examples/gradient_check.py", "--bug", "nope"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "invalid choice: 'nope'" in proc.stderr
