"""``minigrad train --model cnn``: the CNN recipe, its checkpoints (eval, resume), its pictures
(--graph, ``minigrad graph --model cnn``) and its one-line refusals; old MLP checkpoints still load."""
from __future__ import annotations

import math

import pytest

from minigrad.cli import main
from minigrad.train import recipe as R

# tiny widths: each run takes about a second on the 8x8 digits
TINY = ["--model", "cnn", "--channels", "2,4", "--kernel-size", "3", "--hidden", "8", "--plot", "none"]


def _run(capsys, *argv) -> tuple:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _accuracy(out: str) -> str:
    return out.strip().splitlines()[-1].split()[2]


def test_layers_and_checkpoint_shapes_come_from_one_list():
    cfg = R.resolve(dict(model="cnn", channels="3,5", kernel_size=3, batch_norm=True, hidden="7"))
    assert R.conv_sizes(cfg) == [8, 4, 2]  # "same" convs keep the side, each pool halves it
    assert R.conv_sizes(dict(cfg, channels="3", conv_padding="valid")) == [8, 3]  # 8 -conv3-> 6 -pool-> 3
    model = R.build_model(cfg)
    names = [type(m).__name__ for m in model]
    assert names == ["Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU",
                     "MaxPool2d", "Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    shapes = R.state_shapes(cfg)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == shapes
    assert shapes["1.weight"] == (3, 1, 3, 3) and shapes["5.weight"] == (5, 3, 3, 3)
    assert shapes["10.weight"] == (7, 5 * 2 * 2) and shapes["6.running_var"] == (5,)
    assert R.state_size(cfg) == sum(math.prod(p.shape) for p in model.state_dict().values())


def test_per_dataset_cnn_defaults_and_description():
    mnist = R.resolve(dict(model="cnn", dataset="mnist", dropout=0.5))
    assert mnist["hidden"] == R.CNN_DATASETS["mnist"]["hidden"] == "256"
    assert R.describe_model(mnist) == "CNN 1x28x28: conv5 32-64 (same) + pool2, FC 256-10 (relu, dropout 0.5)"
    assert R.resolve(dict(model="cnn"))["hidden"] == "64"  # digits
    assert R.resolve(dict(model="cnn", hidden="12"))["hidden"] == "12"  # a flag beats the table
    assert R.resolve({})["hidden"] == "256" and R.resolve({})["model"] == "mlp"  # the MLP's defaults stay


def test_init_schemes_and_weight_decay_reach_the_conv_kernels():
    cfg = R.resolve(dict(model="cnn", channels="64", kernel_size=5, hidden="none", init="lecun"))
    model = R.build_model(cfg)
    kernel = model[1].weight.detach().numpy()
    assert abs(kernel.std() * math.sqrt(1 * 5 * 5) - 1.0) < 0.1  # N(0, 1/fan_in), fan_in = 1·5·5
    assert not model[1].bias.detach().numpy().any()
    groups = R.build_optimizer(model, dict(cfg, weight_decay=0.1)).param_groups
    assert any(p is model[1].weight for p in groups[0]["params"]) and groups[0]["weight_decay"] == 0.1
    assert any(p is model[1].bias for p in groups[1]["params"])


def test_train_save_eval_and_resume(tmp_path, capsys):
    pytest.importorskip("safetensors")
    from minigrad.serialization import load

    ck = tmp_path / "cnn.safetensors"
    code, out, err = _run(capsys, "train", *TINY, "--epochs", "1", "--batch-norm", "--save", str(ck))
    assert code == 0, err
    assert out.startswith("CNN 1x8x8: conv3 2-4 (same) + pool2, FC 8-10 (relu, batch norm, dropout 0.2) on digits")
    config = load(ck)["config"]
    assert {k: config[k] for k in ("model", "channels", "kernel_size", "conv_padding")} == \
        {"model": "cnn", "channels": "2,4", "kernel_size": 3, "conv_padding": "same"}
    code, eval_out, err = _run(capsys, "eval", str(ck))
    assert code == 0, err
    assert _accuracy(eval_out) == _accuracy(out)  # the same net, rebuilt from the config
    code, out, err = _run(capsys, "train", "--resume", str(ck), "--epochs", "2", "--plot", "none")
    assert code == 0, err
    assert "epoch 2/2" in out and "epoch 1/2" not in out and out.startswith("CNN 1x8x8")


@pytest.mark.parametrize("flag, value, saved", [("--channels", "2,5", "2,4"), ("--kernel-size", "5", "3"),
                                                ("--conv-padding", "valid", "same"), ("--model", "mlp", "cnn")])
def test_resume_refuses_another_architecture(tmp_path, capsys, flag, value, saved):
    pytest.importorskip("safetensors")
    ck = tmp_path / "cnn.safetensors"
    assert _run(capsys, "train", *TINY, "--epochs", "1", "--save", str(ck), "--quiet")[0] == 0
    code, out, err = _run(capsys, "train", "--resume", str(ck), "--epochs", "2", flag, value, "--plot", "none")
    assert code == 2 and "epoch 2/2" not in out
    assert f"{flag} {value} differs from the checkpoint's {saved}" in err and len(err.strip().splitlines()) == 1


def test_augment_and_float64(capsys):
    code, out, err = _run(capsys, "train", *TINY, "--epochs", "1", "--augment", "--dtype", "float64")
    assert code == 0, err
    assert "augmented" in out and "float64" in out and out.strip().splitlines()[-1].startswith("test accuracy")


def test_train_draws_the_cnn_graph(tmp_path, capsys):
    picture = tmp_path / "cnn.dot"
    code, out, err = _run(capsys, "train", *TINY, "--epochs", "1", "--graph", str(picture), "--quiet")
    assert code == 0, err
    text = picture.read_text()
    assert text.startswith("digraph") and "Conv2d" in text and "MaxPool2d" in text


def test_graph_command_draws_the_cnn_with_module_clusters(tmp_path, capsys):
    picture = tmp_path / "g.dot"
    code, out, err = _run(capsys, "graph", "--model", "cnn", "--channels", "3,5", "--hidden", "6", "--batch", "4",
                          "--out", str(picture))
    assert code == 0, err
    assert "graph of the loss of a CNN 1x8x8: conv3 3-5 (same) + pool2, FC 6-10 (relu) on 4 8x8 digits" in out
    text = picture.read_text()
    for label in ('label="1.weight\\n(3, 1, 3, 3)"', 'label="4.weight\\n(5, 3, 3, 3)"', 'label="8.weight\\n(6, 20)"',
                  "cluster_"):
        assert label in text, label
    code, out, err = _run(capsys, "graph", "--model", "cnn", "--collapse", "--batch", "2", "--out", str(picture))
    assert code == 0, err
    text = picture.read_text()
    assert "1: Conv2d" in text and "3: MaxPool2d" in text and "4: Conv2d" in text


@pytest.mark.parametrize("argv, message", [
    (["--model", "cnn", "--dataset", "spirals"],
     "--model cnn needs an image dataset (digits, mnist, fashion-mnist), not 'spirals'"),
    (["--model", "cnn", "--channels", "8,16,32", "--kernel-size", "5", "--conv-padding", "valid"],
     "--channels 8,16,32 with --kernel-size 5 --conv-padding valid shrinks 8x8 digits to nothing after the 2nd conv"),
    (["--model", "cnn", "--channels", "1,1,1,1"],
     "--channels 1,1,1,1 with --kernel-size 5 --conv-padding same shrinks 8x8 digits to nothing after the 4th pool"),
    (["--model", "cnn", "--kernel-size", "4"], "--kernel-size must be an odd integer >= 1, got 4"),
    (["--model", "cnn", "--kernel-size", "-1"], "--kernel-size must be an odd integer >= 1, got -1"),
    (["--model", "cnn", "--channels", "8,x"], "--channels must be comma-separated channel counts like 32,64"),
    (["--model", "cnn", "--channels", "0"], "--channels must be positive channel counts like 32,64, got '0'"),
    (["--model", "cnn", "--channels", "8,99999999"],
     "--channels 8,99999999 --hidden 64 makes a model that needs about"),  # conv kernels are counted
    (["--model", "rnn"], "invalid choice: 'rnn'"),
    (["--model", "cnn", "--conv-padding", "full"], "invalid choice: 'full'"),
])
def test_refusals_are_one_line_before_training(capsys, argv, message):
    code, out, err = _run(capsys, "train", *argv, "--plot", "none")
    assert code == 2, (out, err)
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "epoch 1/" not in out


def test_graph_command_refusals(capsys):
    for argv, message in ((["--channels", "1,1,1,1"], "shrinks 8x8 digits to nothing after the 4th pool"),
                          (["--kernel-size", "2"], "--kernel-size must be an odd integer >= 1, got 2"),
                          (["--channels", "a"], "--channels must be comma-separated positive integers")):
        code, _, err = _run(capsys, "graph", "--model", "cnn", *argv, "--out", "unused.dot")
        assert code == 2 and message in err, err


def test_a_checkpoint_without_model_in_its_config_loads_as_an_mlp(tmp_path, capsys):
    pytest.importorskip("safetensors")
    from minigrad.serialization import load, save

    ck = tmp_path / "old.safetensors"
    code, out, err = _run(capsys, "train", "--hidden", "8", "--epochs", "1", "--plot", "none", "--save", str(ck))
    assert code == 0, err
    state = load(ck)
    for key in ("model", "channels", "kernel_size", "conv_padding"):  # as written before --model existed
        del state["config"][key]
    save(state, ck)
    code, eval_out, err = _run(capsys, "eval", str(ck))
    assert code == 0, err
    assert _accuracy(eval_out) == _accuracy(out)
    code, out, err = _run(capsys, "train", "--resume", str(ck), "--epochs", "2", "--plot", "none")
    assert code == 0, err
    assert out.startswith("MLP 64-8-10") and "epoch 2/2" in out
    code, out, err = _run(capsys, "train", "--resume", str(ck), "--epochs", "3", "--model", "cnn", "--plot", "none")
    assert code == 2 and "--model cnn differs from the checkpoint's mlp" in err
