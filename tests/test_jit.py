"""mg.jit: replayed steps equal eager steps bit for bit; guards re-trace; what cannot be captured
is refused in one line; buffer sharing follows liveness, and a wrong sharing is caught."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.jit import CaptureError, JitFunction, jit
from minigrad.jit import program as jit_program

F = nn.functional


def make_step(opt: str = "sgd", dropout: bool = False, batchnorm: bool = False, seed: int = 0,
              zero_grad_at_end: bool = False) -> tuple:
    mg.manual_seed(seed)
    layers = [nn.Linear(12, 16)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(16))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(0.3))
    layers.append(nn.Linear(16, 4))
    model = nn.Sequential(*layers)
    if opt == "sgd":
        optimizer = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif opt == "nesterov":
        optimizer = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    elif opt == "adamw":
        optimizer = mg.optim.AdamW(model.parameters(), lr=1e-2, capturable=True)
    else:
        optimizer = mg.optim.Adam(model.parameters(), lr=1e-2, capturable=True)

    def step(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        if not zero_grad_at_end:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if zero_grad_at_end:
            optimizer.zero_grad()
        return loss

    return model, optimizer, step


def batches(n: int, batch: int = 8, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    return [(mg.tensor(rng.standard_normal((batch, 12)).astype(np.float32)), mg.tensor(rng.integers(0, 4, batch)))
            for _ in range(n)]


def params_of(model: nn.Module) -> list:
    return [p.detach().numpy().copy() for p in model.parameters()] + [b.numpy().copy() for b in model.buffers()]


def run(step, data) -> list:
    return [step(x, y).detach().numpy().copy() for x, y in data]


@pytest.mark.parametrize("opt", ["sgd", "nesterov", "adam", "adamw"])
@pytest.mark.parametrize("dropout,batchnorm", [(False, False), (True, False), (False, True), (True, True)])
def test_hundred_replayed_steps_equal_eager_bitwise(opt, dropout, batchnorm):
    data = batches(100)
    model_e, _, step_e = make_step(opt, dropout, batchnorm)
    eager = run(step_e, data)
    model_j, _, step_j = make_step(opt, dropout, batchnorm)
    jitted = jit(step_j)
    replayed = run(jitted, data)
    assert jitted.traces == 1 and next(iter(jitted.entries.values())).replays == 98
    assert all(np.array_equal(a, b) for a, b in zip(eager, replayed))
    assert all(np.array_equal(a, b) for a, b in zip(params_of(model_e), params_of(model_j)))


def test_gradients_after_a_replay_are_this_steps():
    data = batches(5)
    model_e, _, step_e = make_step()
    model_j, _, step_j = make_step()
    jitted = jit(step_j)
    for x, y in data:
        step_e(x, y)
        jitted(x, y)
        for p, q in zip(model_e.parameters(), model_j.parameters()):
            assert np.array_equal(p.grad.numpy(), q.grad.numpy())


def test_zero_grad_at_the_end_leaves_no_gradients_and_same_numbers():
    data = batches(6)
    model_e, _, step_e = make_step(zero_grad_at_end=True)
    model_j, _, step_j = make_step(zero_grad_at_end=True)
    assert [float(v) for v in run(step_e, data)] == [float(v) for v in run(jit(step_j), data)]
    assert all(np.array_equal(a, b) for a, b in zip(params_of(model_e), params_of(model_j)))


def test_returned_tensors_are_copies():
    _, _, step = make_step()
    jitted = jit(step)
    data = batches(6)
    kept = [jitted(x, y) for x, y in data]
    values = [float(k) for k in kept]
    jitted(*data[0])
    assert [float(k) for k in kept] == values
    assert len({id(k._data) for k in kept}) == len(kept)


def test_dropout_masks_are_fresh_on_every_replay():
    mg.manual_seed(0)
    x = mg.ones(4, 50)

    @jit
    def masked(x: mg.Tensor) -> mg.Tensor:
        return F.dropout(x, 0.5) * 1.0

    masks = [masked(x).numpy() for _ in range(5)]
    assert all(not np.array_equal(masks[i], masks[i + 1]) for i in range(4))
    mg.manual_seed(0)
    again = jit(lambda x: F.dropout(x, 0.5) * 1.0)
    assert all(np.array_equal(m, again(x).numpy()) for m in masks)  # seeded: the same masks


# -- guards -------------------------------------------------------------------------------------------------
def test_a_partial_last_batch_gets_its_own_program_and_eager_numbers():
    full, part = batches(4, batch=8), batches(3, batch=5, seed=2)
    data = [full[0], full[1], full[2], part[0], full[3], part[1], part[2]]
    model_e, _, step_e = make_step()
    model_j, _, step_j = make_step()
    jitted = jit(step_j)
    assert [float(v) for v in run(step_e, data)] == [float(v) for v in run(jitted, data)]
    assert len(jitted.entries) == 2


def test_eval_mode_and_training_mode_are_told_apart():
    model_e, _, _ = make_step(dropout=True, batchnorm=True)
    model_j, _, _ = make_step(dropout=True, batchnorm=True)

    def forward(model):
        return lambda x: model(x) * 1.0

    eager, jitted = forward(model_e), jit(forward(model_j))
    xs = [x for x, _ in batches(8)]
    mg.manual_seed(5)
    outs_e = []
    for i, x in enumerate(xs):
        model_e.train(i % 3 != 2)
        outs_e.append(eager(x).detach().numpy())
    mg.manual_seed(5)
    for i, x in enumerate(xs):
        model_j.train(i % 3 != 2)
        assert np.array_equal(jitted(x).numpy(), outs_e[i]), i
    assert all(np.array_equal(a, b) for a, b in zip(params_of(model_e), params_of(model_j)))


def test_a_scheduler_changing_lr_re_traces_and_keeps_eager_numbers():
    data = batches(12)
    results = []
    for use_jit in (False, True):
        model, optimizer, step = make_step("sgd")
        scheduler = mg.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
        fn = jit(step) if use_jit else step
        losses = []
        for x, y in data:
            losses.append(float(fn(x, y)))
            scheduler.step()
        results.append((losses, params_of(model)))
        if use_jit:
            assert fn.traces >= 3
    assert results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))


def test_a_parameter_group_added_or_data_replaced_re_traces():
    model, optimizer, step = make_step()
    extra = nn.Parameter(mg.ones(3))
    jitted = jit(step)
    data = batches(8)
    for x, y in data[:4]:
        jitted(x, y)
    traces = jitted.traces
    optimizer.add_param_group({"params": [extra]})
    jitted(*data[4])
    jitted(*data[5])
    assert jitted.traces == traces + 1
    with mg.no_grad():
        model[0].weight.data = model[0].weight.data.clone()  # a new array: the program's is stale
    jitted(*data[6])
    jitted(*data[7])
    assert jitted.traces == traces + 2


# -- what cannot be captured ------------------------------------------------------------------------------
def test_a_host_read_inside_the_step_names_the_line():
    model, optimizer, _ = make_step()

    def logs(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        print_me = float(loss)  # the line the error must name
        loss.backward()
        optimizer.step()
        return loss

    jitted = jit(logs)
    data = batches(2)
    jitted(*data[0])
    with pytest.raises(CaptureError, match=r"test_jit\.py:\d+: print_me = float\(loss\)"):
        jitted(*data[1])


def test_value_dependent_branch_is_refused():
    jitted = jit(lambda x: x * 2 if bool((x > 0).all()) else x)
    x = mg.ones(3)
    jitted(x)
    with pytest.raises(CaptureError, match="reads a value back to Python"):
        jitted(x)


def test_adam_without_capturable_is_refused_by_name():
    mg.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = mg.optim.Adam(model.parameters())

    def step(x):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()

    jitted = jit(step)
    jitted(mg.ones(2, 3))
    with pytest.raises(CaptureError, match="capturable=True"):
        jitted(mg.ones(2, 3))


def test_changes_the_trace_cannot_see_are_caught_by_the_check():
    hidden = np.ones(3, dtype=np.float32)  # not a parameter, buffer or optimizer state: untraced

    def step(x):
        np.multiply(x._data, 2.0, out=hidden)  # traced (x is), recorded
        hidden[...] *= 3.0                      # plain NumPy on an untraced array: runs once, at trace time
        return x + mg.from_numpy(hidden)

    jitted = jit(step)
    jitted(mg.ones(3))
    with pytest.raises(CaptureError, match="does not reproduce the step"):
        jitted(mg.ones(3))


def test_arguments_must_be_tensors():
    with pytest.raises(TypeError, match="must be tensors"):
        jit(lambda x: x)(np.ones(3))
    with pytest.raises(ValueError, match="warmup"):
        jit(lambda x: x, warmup=0)


def test_the_cache_is_bounded():
    jitted = JitFunction(lambda x: x * 2.0, max_programs=2)
    for n in range(1, 6):
        for _ in range(3):
            assert np.array_equal(jitted(mg.ones(n)).numpy(), np.full(n, 2.0, dtype=np.float32))
    assert len(jitted.entries) == 2


# -- buffers --------------------------------------------------------------------------------------------
def _chain(x: mg.Tensor) -> mg.Tensor:
    a = x * 2.0
    b = a + 1.0
    c = b * 3.0
    d = c - 1.0
    return a + d  # a lives until here: its buffer must not go to b, c or d


def test_buffers_are_shared_only_between_lives_that_do_not_overlap():
    jitted = jit(_chain)
    x = mg.tensor(np.arange(5.0, dtype=np.float32))
    jitted(x)
    jitted(x)
    program = next(iter(jitted.entries.values())).program
    plan = program.plan
    shared = [s for s, donor in plan.shared_with.items() if donor is not None]
    assert shared  # some buffer was handed on
    for s in shared:  # ... and only after its previous holder's life ended
        donor = plan.shared_with[s]
        assert plan.live[donor][1] < plan.live[s][0] or s not in plan.live
    for _ in range(3):
        assert np.array_equal(jitted(x).numpy(), _chain(x).numpy())


def test_a_wrong_sharing_is_caught(monkeypatch):
    real = jit_program.liveness

    def too_short(recorder, keep):  # every temporary "dies" where it is made
        live = real(recorder, keep)
        return {s: (first, first if s not in keep else last) for s, (first, last) in live.items()}

    monkeypatch.setattr(jit_program, "liveness", too_short)
    jitted = jit(_chain)
    x = mg.tensor(np.arange(5.0, dtype=np.float32))
    jitted(x)
    with pytest.raises(CaptureError, match="does not reproduce the step"):
        jitted(x)


# -- per device (the CUDA cases: a CUDA Graph of the eager step; they skip without a GPU) -------------------
def _device_step(device: str, opt: str, dropout: bool) -> tuple:
    model, optimizer, step = make_step(opt, dropout, batchnorm=True)
    model.to(device)
    if device != "cpu":  # the optimizer's parameters moved in place with the model
        optimizer.state.clear()
    return model, step


def _host(a) -> np.ndarray:
    a = getattr(a, "_data", a)
    return a.get() if hasattr(a, "get") else np.asarray(a)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_replays_equal_eager_on_each_device(device, opt):
    data = [(x.to(device), y.to(device)) for x, y in batches(30)]
    model_e, step_e = _device_step(device, opt, dropout=False)
    eager = [_host(step_e(x, y).detach()) for x, y in data]
    model_j, step_j = _device_step(device, opt, dropout=False)
    jitted = jit(step_j)
    replayed = [_host(jitted(x, y)) for x, y in data]
    if device == "cpu":
        assert all(np.array_equal(a, b) for a, b in zip(eager, replayed))
    else:  # to float32 rounding: a graph launches the same kernels, but reductions may differ in order
        np.testing.assert_allclose(np.array(replayed), np.array(eager), rtol=1e-5, atol=1e-6)
    for p, q in zip(model_e.parameters(), model_j.parameters()):
        np.testing.assert_allclose(_host(q.detach()), _host(p.detach()), rtol=1e-4, atol=1e-6)


def test_dropout_draws_afresh_on_each_device(device):
    mg.manual_seed(0)
    x = mg.ones(4, 64, device=device)
    jitted = jit(lambda x: F.dropout(x, 0.5) * 1.0)
    masks = [_host(jitted(x)) for _ in range(6)]
    assert all(not np.array_equal(masks[i], masks[i + 1]) for i in range(5))
    assert all(set(np.unique(m)) <= {0.0, 2.0} for m in masks)


def test_a_host_read_is_refused_on_each_device(device):
    def reads(x):
        y = x * 2.0
        return y if float(y.sum()) > 0 else -y

    jitted = jit(reads)
    x = mg.ones(3, device=device)
    jitted(x)
    with pytest.raises(CaptureError, match=r"test_jit\.py:\d+"):
        for _ in range(3):  # (CUDA: one more eager step warms the graph's memory pool first)
            jitted(x)


# -- fit, the command, pictures, capturable Adam ------------------------------------------------------------
def _fit(use_jit: bool) -> tuple:
    mg.manual_seed(0)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((100, 12)).astype(np.float32), rng.integers(0, 4, 100)
    loader = mg.data.DataLoader(mg.data.TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)  # last batch: 4
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4))
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = mg.train.fit(model, F.cross_entropy, opt, loader, loader, epochs=5, scheduler=sched, quiet=True,
                           regularizer=lambda m: 1e-3 * (m[0].weight ** 2).sum(), jit=use_jit)
    return [(r["train_loss"], r["train_accuracy"], r["val_loss"]) for r in history.rows], params_of(model)


def test_fit_with_jit_equals_fit_without():
    rows, params = _fit(False)
    rows_jit, params_jit = _fit(True)
    assert rows == rows_jit
    assert all(np.array_equal(a, b) for a, b in zip(params, params_jit))


def test_minigrad_train_jit_prints_the_eager_result(capsys):
    from minigrad.cli import main
    flags = ["train", "--epochs", "3", "--optimizer", "momentum", "--lr", "0.05", "--plot", "none", "--quiet"]
    assert main(flags) == 0
    eager = capsys.readouterr().out.split("(")[0]
    assert main(flags + ["--jit"]) == 0
    assert capsys.readouterr().out.split("(")[0] == eager
    assert main(["train", "--jit", "--optimizer", "nadam", "--epochs", "1", "--plot", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--jit cannot capture --optimizer nadam" in err[0]


def test_the_program_picture(tmp_path):
    _, _, step = make_step("sgd", dropout=True)
    jitted = jit(step)
    with pytest.raises(RuntimeError, match="nothing captured"):
        jitted.draw(tmp_path / "none.dot")
    for x, y in batches(3):
        jitted(x, y)
    text = jitted.draw(tmp_path / "step.dot").read_text()
    for name in ("matmul", "view: transpose", "draw: Generator.random", "returned", "loss.backward()", "optimizer.step()"):
        assert name in text, name


def test_capturable_adam_state_saves_and_continues():
    data = batches(8)
    model_a, opt_a, step_a = make_step("adam")
    for x, y in data:
        step_a(x, y)
    model_b, opt_b, step_b = make_step("adam")
    for x, y in data[:4]:
        step_b(x, y)
    model_c, opt_c, step_c = make_step("adam")
    model_c.load_state_dict(model_b.state_dict())
    opt_c.load_state_dict(opt_b.state_dict())
    jitted = jit(step_c)
    for x, y in data[4:]:
        jitted(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(params_of(model_a), params_of(model_c)))
    state = next(iter(opt_c.state.values()))
    assert isinstance(state["step"], mg.Tensor) and float(state["step"]) == 8.0
