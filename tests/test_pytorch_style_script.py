"""A training script written for PyTorch runs on minigrad with only its import lines changed.

tests/scripts/pytorch_style_mlp.py is plain PyTorch code (a Dataset subclass with augmentation,
DataLoader with shuffle and worker processes, an nn.Module, CrossEntropyLoss, Adam, StepLR, the
usual loop, no_grad evaluation, save/load of the state dict).  It runs here twice, each in its
own interpreter: with its import block rewritten to minigrad, and, where torch is installed,
exactly as written.  Both must train an MLP on the 8x8 digits well above chance (10%).
"""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad.data.digits import digits_arrays

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).parent / "scripts" / "pytorch_style_mlp.py"
BEGIN, END = "# --- framework imports: begin ---", "# --- framework imports: end ---"


def split_script(text: str) -> tuple:
    """(before, import block lines, after) of the script; exactly one marked block."""
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    head, rest = text.split(BEGIN + "\n")
    block, tail = rest.split(END + "\n")
    return head, block.splitlines(), tail


def to_minigrad(line: str) -> str:
    """One PyTorch import line with the framework's name changed: ``import torch`` keeps the
    name ``torch`` bound (to minigrad); ``torch.x`` module paths become ``minigrad.x``."""
    if line.strip() == "import torch":
        return "import minigrad as torch"
    changed = re.sub(r"^(\s*(?:import|from)\s+)torch\.", r"\1minigrad.", line)
    assert changed != line, f"not an import of a torch module: {line!r}"
    return changed


def minigrad_version(text: str) -> str:
    head, block, tail = split_script(text)
    return head + BEGIN + "\n" + "\n".join(to_minigrad(line) for line in block) + "\n" + END + "\n" + tail


def test_the_script_is_pytorch_code_outside_its_import_block():
    text = SCRIPT.read_text()
    head, block, tail = split_script(text)
    assert block and all(line.startswith(("import torch", "from torch.")) for line in block)
    imported, names = set(), set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Name):
            names.add(node.id)
    assert imported == {"torch", "json", "os", "numpy"} and "minigrad" not in names
    converted = minigrad_version(SCRIPT.read_text())
    assert converted.replace("minigrad as torch", "torch").replace("minigrad.", "torch.") == SCRIPT.read_text()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start both runs at once (they are independent), then collect (returncode, stdout, stderr)."""
    try:
        import torch  # noqa: F401

        with_torch = True
    except ImportError:
        with_torch = False
    procs = {}
    for name in ("minigrad", "torch") if with_torch else ("minigrad",):
        folder = tmp_path_factory.mktemp(f"{name}_run")
        images, labels = digits_arrays("all")
        np.savez(folder / "digits.npz", images=images, labels=labels)
        script = folder / "train_mlp.py"
        text = SCRIPT.read_text()
        script.write_text(minigrad_version(text) if name == "minigrad" else text)
        # Two runs at once, each with worker processes: one BLAS thread apiece keeps a small machine
        # from being oversubscribed (the matrices here are tiny).
        env = {**os.environ, "PYTHONPATH": str(REPO), "EPOCHS": "5", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        procs[name] = subprocess.Popen([sys.executable, str(script)], cwd=folder, env=env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        results[name] = (proc.returncode, out, err)
    return results


def check_trained(result: tuple) -> dict:
    code, out, err = result
    assert code == 0, f"the script failed:\n{out}\n{err}"
    assert "DataLoader worker" not in err
    lines = out.strip().splitlines()
    assert lines[-1].startswith("RESULT "), out
    report = json.loads(lines[-1][len("RESULT "):])
    losses = [float(m) for m in re.findall(r"train loss ([0-9.]+)", out)]
    assert len(losses) == report["epochs"] == 5
    assert losses[-1] < 0.5 * losses[0]
    assert report["test_accuracy"] > 0.85  # chance is 0.1
    assert report["reloaded_same_predictions"] is True
    return report


def test_the_script_trains_on_minigrad(request):
    pytest.importorskip("safetensors", reason="the script saves its state dict, and mg.save needs safetensors")
    check_trained(request.getfixturevalue("runs")["minigrad"])


def test_the_same_script_trains_on_pytorch(runs):
    if "torch" not in runs:
        pytest.skip("torch is not installed")
    check_trained(runs["torch"])
