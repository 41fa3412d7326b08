"""The benchmarks' own correctness: their hand-written NumPy floors compute what minigrad computes.

A benchmark that times a wrong floor would report meaningless ratios, so the floors are checked
here at small sizes (no timing: tests never assert wall-clock times).
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

bench_mlp = pytest.importorskip("bench_mlp")


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_mlp_floor_and_minigrad_agree_step_by_step(batch):
    bench_mlp.check_agreement(batch, None, with_jit=True)  # raises SystemExit on a disagreement


def test_mlp_floor_gradients_match_minigrad_autograd():
    import minigrad as mg

    x, t = bench_mlp.make_data(5)
    ws = bench_mlp.make_weights()
    before = [w.copy() for w in ws]
    bench_mlp.numpy_sgd_step(x, t, ws, lr=1.0)
    numpy_grads = [b - w for b, w in zip(before, ws)]  # lr 1: the update is the gradient

    params = [mg.tensor(w, requires_grad=True) for w in before]
    w1, b1, w2, b2 = params
    z = mg.nn.functional.linear(mg.nn.functional.relu(mg.nn.functional.linear(mg.tensor(x), w1, b1)), w2, b2)
    mg.nn.functional.cross_entropy(z, mg.tensor(t)).backward()
    for p, g in zip(params, numpy_grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4, atol=1e-6)


def test_monitored_floor_reports_the_loss_and_correct_count():
    x, t = bench_mlp.make_data(16)
    ws = bench_mlp.make_weights()
    loss_sum, correct = bench_mlp.numpy_sgd_step(x, t, [w.copy() for w in ws], 0.0, monitor=True)
    mean_loss = bench_mlp.numpy_sgd_step(x, t, [w.copy() for w in ws], 0.0)
    assert float(loss_sum) / 16 == pytest.approx(mean_loss, rel=1e-5)
    w1, b1, w2, b2 = ws
    logits = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    assert int(correct) == int((logits.argmax(1) == t).sum())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gpu_benchmark_floor_agrees_with_minigrad_on_the_cpu(optimizer):
    """bench_gpu's hand-written floor, run with NumPy, follows minigrad step by step (two layers,
    so the backward's hidden-layer branch is exercised), as it must on the GPU."""
    bench_gpu = pytest.importorskip("bench_gpu")
    steps = {"floor": bench_gpu.floor_step(np, (16, 8), 12, optimizer),
             "minigrad": bench_gpu.minigrad_step("cpu", (16, 8), 12, optimizer)}
    bench_gpu.check_agreement(steps, optimizer)  # raises SystemExit on a disagreement


@pytest.mark.parametrize("batch", [1, 9, 64])
def test_step_anatomy_contenders_agree_with_the_floor(batch):
    """step_anatomy's bare-array step and stripped-down tape compute the floor's losses, step by step."""
    step_anatomy = pytest.importorskip("step_anatomy")
    step_anatomy.check_agreement(batch)  # raises SystemExit on a disagreement


def test_step_anatomy_counts_bytecodes_by_function():
    step_anatomy = pytest.importorskip("step_anatomy")
    counts = step_anatomy.count_bytecodes(step_anatomy.make_tape(4), steps=2)
    assert counts[("step_anatomy.py", "_backward")] > 0 and sum(counts.values()) > 100


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_floor_follows_the_commands_training(optimizer):
    """bench_train's NumPy floor and the command's model, optimizer and loader (Adam is the command's
    MNIST default) give the same losses and weights over the first steps, on standardized inputs."""
    bench_train = pytest.importorskip("bench_train")
    rng = np.random.default_rng(3)
    x = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    bench_train.check_agreement(x, y, steps=4, optimizer=optimizer, lr=0.1 if optimizer == "sgd" else 1e-3)


def test_training_floor_check_catches_a_different_update(monkeypatch):
    bench_train = pytest.importorskip("bench_train")
    rng = np.random.default_rng(3)
    x = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    adam = bench_train.numpy_adam
    monkeypatch.setattr(bench_train, "numpy_adam", lambda ws, lr: adam(ws, lr=lr, b2=0.99))
    with pytest.raises(SystemExit, match="differ|disagrees"):
        bench_train.check_agreement(x, y, steps=2)
    with pytest.raises(SystemExit, match="no weight decay"):
        bench_train.check_agreement(x, y, weight_decay=1e-2)


def test_adam_benchmark_whole_and_chunked_contenders_compute_the_same():
    """bench_adam's --whole-bytes contender only changes how the update is cut, not what it computes."""
    bench_adam = pytest.importorskip("bench_adam")
    shapes = bench_adam.parse_shapes("30x70,30")
    assert shapes == [(30, 70), (30,)]
    from minigrad.optim import optimizer
    default = optimizer._WHOLE_BYTES
    runs = [bench_adam.make_minigrad({}, shapes, whole_bytes=w) for w in (None, 0)]
    for step, _ in runs:
        for _ in range(3):
            step()
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert optimizer._WHOLE_BYTES == default  # restored after each chunked step


def test_step_anatomy_loop_runs_one_contender_and_reports_its_steps(monkeypatch, capsys):
    step_anatomy = pytest.importorskip("step_anatomy")
    monkeypatch.setattr(sys, "argv", ["step_anatomy.py", "--batch", "8", "--loop", "minigrad", "--seconds", "0.05",
                                      "--warmup", "0.01"])
    step_anatomy.main()
    out = capsys.readouterr().out
    assert out.startswith("minigrad: ") and int(out.split()[1]) > 0 and "us/step" in out


@pytest.mark.parametrize("batch", [1, 5])
def test_conv_floor_and_minigrad_agree(batch):
    """bench_conv's NumPy LeNet and minigrad's give the same loss and gradients (and PyTorch's
    where installed)."""
    bench_conv = pytest.importorskip("bench_conv")
    try:
        import torch
    except ImportError:
        torch = None
    bench_conv.check_agreement(batch, torch)  # raises AssertionError on a disagreement


def test_conv_tape_memory_report_runs(capsys):
    bench_conv = pytest.importorskip("bench_conv")
    bench_conv.tape_memory(batch=4)
    out = capsys.readouterr().out
    assert "the tape holds" in out and "MiB" in out


def test_gpu_benchmark_cnn_epoch_runs_on_the_cpu(capsys):
    """bench_gpu --cnn builds the recipe's CNN and PyTorch's twin from the same weights and times
    their epochs (here on the CPU, a few images)."""
    bench_gpu = pytest.importorskip("bench_gpu")
    try:
        import torch
    except ImportError:
        torch = None
    bench_gpu.cnn_epochs("cpu", lambda: None, torch, 8, 1, 32)
    assert "s/epoch" in capsys.readouterr().out
