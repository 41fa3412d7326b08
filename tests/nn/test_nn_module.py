"""Module semantics: registration, traversal, modes, devices, state dicts, containers, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

from nn_helpers import host


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.drop(self.bn(self.fc1(x).relu()))) * self.scale


def test_parameter_is_a_leaf_tensor_sharing_memory():
    a = np.arange(6.0).reshape(2, 3)
    p = nn.Parameter(a)
    assert isinstance(p, mg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    a[0, 0] = 42.0
    assert p[0, 0].item() == 42.0  # wraps the array, no copy
    t = mg.ones(3)
    q = nn.Parameter(t, requires_grad=False)
    assert not q.requires_grad and q._data is t._data
    assert type(p * 2) is mg.Tensor  # ops give plain tensors
    assert repr(p).startswith("Parameter containing:")
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mg.tensor([1, 2]))


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight"]
    assert len(list(net.parameters())) == 6
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "drop", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "drop", "fc2"]
    assert list(net.children())[1] is net.bn
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch", "bn.running_mean", "bn.running_var",
                                                    "bn.num_batches_tracked"]
    assert net.fc2.bias is None and "bias" in net.fc2._parameters
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_appear_once_but_state_dict_lists_each_path():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassignment_rules():
    net = Net()
    with pytest.raises(TypeError, match="Parameter or None"):
        net.scale = mg.ones(1)
    net.scale = None
    assert "scale" not in [n for n, _ in net.named_parameters()]
    net.scale = nn.Parameter(mg.ones(1))
    with pytest.raises(TypeError, match="Module or None"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="Tensor or None"):
        net.steps = [1]
    net.steps = mg.ones(1)
    assert net.state_dict()["steps"].item() == 1.0
    net.fc1 = nn.Parameter(mg.zeros(2))  # a parameter replaces the sub-module
    assert "fc1" not in dict(net.named_children()) and "fc1" in dict(net.named_parameters())
    del net.fc1
    assert "fc1" not in dict(net.named_parameters()) and not hasattr(net, "fc1")
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        net.missing


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_register_checks_names():
    m = nn.Module()
    with pytest.raises(KeyError, match="'.'"):
        m.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(KeyError, match="method or class attribute"):
        m.register_parameter("forward", None)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", mg.zeros(1))


def test_train_eval_recursive():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError):
        net.train("no")


def test_call_runs_forward_and_base_forward_raises():
    net = Net().eval()
    x = mg.randn(5, 4)
    assert net(x).shape == (5, 2)
    with pytest.raises(NotImplementedError):
        nn.Module()(x)


def test_call_runs_forward_and_respects_custom_call_and_instance_forward():
    lin = nn.Linear(3, 2)
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(host(lin(x)), host(lin.forward(x)))

    class Custom(nn.Module):
        def __call__(self, x):
            return "custom"

        def forward(self, x):
            return "forward"

    class Sub(Custom):  # inherits a hand-written __call__: keeps it
        def forward(self, x):
            return "sub"

    assert Custom()(x) == "custom" and Sub()(x) == "custom"

    # A forward assigned on an instance is what calling it runs, as in PyTorch; the
    # instance keeps its class.
    lin.forward = lambda x: x * 2
    assert type(lin) is nn.Linear
    np.testing.assert_array_equal(host(lin(x)), host(x) * 2)
    del lin.forward  # back to the class's forward
    assert lin(x).shape == (4, 2)
    other = nn.Linear(3, 2)
    assert other(x).shape == (4, 2)  # other instances are unaffected
    assert set(lin.state_dict()) == {"weight", "bias"}


def test_zero_grad_both_ways():
    net = Net()
    net(mg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not host(p.grad).any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "BatchNorm1d", "Dropout", "Linear", "Net"]


def test_to_dtype_in_place_keeps_objects_and_int_buffers():
    net = Net()
    w = net.fc1.weight
    assert net.to(mg.float64) is net
    assert net.fc1.weight is w and w.dtype == np.float64
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64
    assert net.double()(mg.randn(3, 4, dtype=mg.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(mg.int32)


def test_to_device(device):
    net = Net()
    net(mg.randn(3, 4)).sum().backward()
    w = net.fc1.weight
    assert net.to(device) is net and net.fc1.weight is w
    assert all(t.device == device for t in net.state_dict().values())
    assert net.fc1.weight.grad.device == device
    out = net(mg.randn(3, 4, device=device))
    assert out.device == device
    net.cpu()
    assert net.fc1.weight.device == "cpu"


def test_state_dict_keys_layouts_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
                        "bn.running_var", "bn.num_batches_tracked", "fc2.weight"]
    assert sd["fc1.weight"].shape == (3, 4) and sd["fc1.bias"].shape == (3,)
    assert sd["bn.num_batches_tracked"].dtype == np.int64 and sd["bn.num_batches_tracked"].shape == ()
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"]._data is net.fc1.weight._data  # detached, same memory
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight
    assert list(net.state_dict(prefix="model."))[0] == "model.scale"


def test_load_state_dict_round_trip_and_in_place():
    a, b = Net(), Net()
    w = b.fc1.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is w  # copied into the existing parameter
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(host(b.state_dict()[k]), host(v))
    x = mg.randn(4, 4)
    a.eval(), b.eval()
    np.testing.assert_array_equal(host(a(x)), host(b(x)))
    # numpy arrays and other dtypes are accepted and cast to the destination
    b.load_state_dict({k: host(v).astype(np.float64) if host(v).dtype.kind == "f" else host(v)
                       for k, v in a.state_dict().items()})
    assert b.fc1.weight.dtype == np.float32


def test_load_state_dict_strict_errors_list_everything_and_change_nothing():
    net = Net()
    sd = Net().state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = mg.zeros(1)
    sd["fc2.weight"] = mg.zeros(5, 5)
    before = host(net.fc1.weight).copy()
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "missing keys: 'fc1.bias'" in msg
    assert "unexpected keys: 'extra.weight'" in msg
    assert "fc2.weight: checkpoint has shape (5, 5), the module has (2, 3)" in msg
    np.testing.assert_array_equal(host(net.fc1.weight), before)
    # strict=False reports the keys; shape mismatches are still errors
    with pytest.raises(RuntimeError, match="shape mismatches"):
        net.load_state_dict(sd, strict=False)
    del sd["fc2.weight"]
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias", "fc2.weight"] and res.unexpected_keys == ["extra.weight"]
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([1, 2])


def test_load_state_dict_errors_are_one_line():
    net = Net()
    sd = net.state_dict()
    sd["fc2.weight"] = mg.zeros(5, 5)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == ("error loading state dict into Net: shape mismatches: fc2.weight: checkpoint has shape (5, 5), "
                   "the module has (2, 3)")
    del sd["fc1.bias"]
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "\n" not in msg and "missing keys: 'fc1.bias'" in msg and "(5, 5)" in msg and "(2, 3)" in msg


def test_repr_is_nested_and_readable():
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Sequential(nn.Dropout(0.2), nn.Linear(100, 10)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=100, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2)\n"
        "    (1): Linear(in_features=100, out_features=10, bias=True)\n"
        "  )\n"
        ")")
    assert repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_sequential_behaves_like_a_list():
    l1, act, l2 = nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)
    seq = nn.Sequential(l1, act)
    seq.append(l2)
    assert len(seq) == 3 and seq[0] is l1 and seq[-1] is l2 and list(seq) == [l1, act, l2]
    x = mg.randn(5, 3)
    np.testing.assert_allclose(host(seq(x)), host(l2(act(l1(x)))))
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [l1, act]
    seq[1] = nn.ReLU()
    assert isinstance(seq[1], nn.ReLU)
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(l1, "relu")
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named[1] is named.act


def test_module_list_registers_items():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    layers += [nn.ReLU()]
    assert len(layers) == 5 and len(list(layers.parameters())) == 8
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and list(layers.state_dict())[0] == "1.weight"
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = layers

    assert len(list(Holder().parameters())) == 8


def test_identity_and_flatten():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Identity(7, key="ignored")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)


def test_deepcopy_gives_independent_module():
    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.fc1.weight, nn.Parameter) and twin.fc1.weight.requires_grad
    with mg.no_grad():
        twin.fc1.weight.fill_(0.0)
    assert host(net.fc1.weight).any()


def test_requires_grad_toggle():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_structure_changes_deep_in_the_tree_are_seen():
    net = Net()
    before = len(list(net.parameters()))
    assert len(list(net.modules())) == 5
    net.fc1.inner = nn.Linear(2, 2)  # a grandchild added after the tree was walked
    assert len(list(net.parameters())) == before + 2
    assert len(list(net.modules())) == 6
    net.fc1.inner = None
    assert len(list(net.parameters())) == before
    net.bn.weight = None
    assert len(list(net.parameters())) == before - 1
    net.zero_grad()
