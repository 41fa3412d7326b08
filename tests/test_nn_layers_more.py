"""Containers (ModuleDict, ParameterList, ParameterDict), Embedding's padding and max_norm,
running statistics of batch_norm, dtype conversions (type, view(dtype)) and error messages:
what the op table cannot express."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

try:
    import torch
except ImportError:  # the bare environment: the PyTorch comparisons skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# -- containers ------------------------------------------------------------------------------------

def test_module_dict_registers_indexes_and_iterates():
    d = nn.ModuleDict({"fc": nn.Linear(2, 3), "act": nn.ReLU()})
    d["out"] = nn.Linear(3, 1)
    assert list(d) == ["fc", "act", "out"] and len(d) == 3 and "fc" in d
    assert list(d.keys()) == ["fc", "act", "out"]
    assert isinstance(d["out"], nn.Linear)
    assert list(d.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert len(list(d.parameters())) == 4
    popped = d.pop("act")
    assert isinstance(popped, nn.ReLU) and "act" not in d
    del d["out"]
    assert list(d) == ["fc"]
    d.update([("a", nn.Tanh())])
    assert list(d) == ["fc", "a"]
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_module_dict_errors_like_pytorch():
    d = nn.ModuleDict()
    with pytest.raises(KeyError):
        d["missing"]
    with pytest.raises(TypeError, match="Module"):
        d["x"] = 3
    with pytest.raises(KeyError):
        d["a.b"] = nn.ReLU()
    with pytest.raises(ValueError, match="pair"):
        d.update([nn.ReLU()])


def test_module_dict_state_dict_round_trip_and_to():
    a = nn.ModuleDict(OrderedDict([("l1", nn.Linear(2, 2)), ("l2", nn.Linear(2, 1))]))
    b = nn.ModuleDict(OrderedDict([("l1", nn.Linear(2, 2)), ("l2", nn.Linear(2, 1))]))
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    a.to(mg.float64)
    assert all(p.dtype == mg.float64 for p in a.parameters())


def test_parameter_list_registers_wraps_and_indexes():
    pl = nn.ParameterList([mg.zeros(2), nn.Parameter(mg.ones(3))])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad
    pl.append(mg.ones(1))
    pl += [mg.ones(4)]
    assert len(pl) == 4 and [tuple(p.shape) for p in pl] == [(2,), (3,), (1,), (4,)]
    assert list(pl.state_dict()) == ["0", "1", "2", "3"]
    assert len(list(pl.parameters())) == 4
    assert tuple(pl[-1].shape) == (4,) and len(pl[1:3]) == 2
    pl[0] = mg.full((5,), 2.0)
    assert tuple(pl[0].shape) == (5,) and tuple(pl.state_dict()["0"].shape) == (5,)
    with pytest.raises(IndexError):
        pl[4]
    with pytest.raises(TypeError):
        pl.append("not a tensor")
    pl.to(mg.float64)
    assert all(p.dtype == mg.float64 for p in pl)


def test_parameter_dict_registers_and_round_trips():
    pd = nn.ParameterDict({"a": mg.zeros(2), "b": nn.Parameter(mg.ones(3))})
    pd["c"] = mg.ones(1)
    assert list(pd) == ["a", "b", "c"] and isinstance(pd["a"], nn.Parameter)
    assert list(pd.state_dict()) == ["a", "b", "c"]
    other = nn.ParameterDict({"a": mg.ones(2), "b": mg.zeros(3), "c": mg.zeros(1)})
    other.load_state_dict(pd.state_dict())
    assert np.array_equal(other["b"].detach().numpy(), np.ones(3))
    assert pd.pop("c").shape == (1,) and "c" not in pd
    with pytest.raises(KeyError):
        pd["zzz"]
    with pytest.raises(TypeError):
        pd["x"] = 1.5


def test_containers_inside_a_module_are_found():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleDict({"a": nn.Linear(2, 2)})
            self.extra = nn.ParameterList([mg.zeros(2)])

    keys = list(Net().state_dict())
    assert keys == ["blocks.a.weight", "blocks.a.bias", "extra.0"]


# -- layers ------------------------------------------------------------------------------------------

@needs_torch
def test_embedding_padding_row_gets_zero_gradient_like_pytorch():
    w = np.random.default_rng(0).standard_normal((4, 3))
    idx = np.array([[0, 2, 2], [1, 0, 3]])
    grads = []
    for L in (torch, mg):
        wt = L.tensor(w, requires_grad=True)
        out = L.nn.functional.embedding(L.tensor(idx), wt, padding_idx=2)
        (out * L.tensor(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
        grads.append(np.array(wt.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0])
    assert not grads[1][2].any()


def test_embedding_module_padding_max_norm_and_from_pretrained():
    e = nn.Embedding(5, 3, padding_idx=-1)
    assert e.padding_idx == 4 and not e.weight.detach().numpy()[4].any()
    pre = mg.tensor(np.arange(12.0).reshape(4, 3))
    frozen = nn.Embedding.from_pretrained(pre)
    assert not frozen.weight.requires_grad
    assert np.array_equal(frozen(mg.tensor(np.array([3]))).numpy(), [[9.0, 10.0, 11.0]])
    limited = nn.Embedding.from_pretrained(mg.tensor(np.arange(12.0).reshape(4, 3)), max_norm=1.0)
    out = limited(mg.tensor(np.array([1, 3])))
    np.testing.assert_allclose(np.linalg.norm(out.detach().numpy(), axis=-1), 1.0, rtol=1e-5)
    assert np.array_equal(limited.weight.detach().numpy()[0], [0.0, 1.0, 2.0])  # rows not looked up are left alone
    with pytest.raises(TypeError, match="integer"):
        e(mg.tensor([0.5]))
    with pytest.raises(IndexError):
        e(mg.tensor(np.array([5])))


@needs_torch
def test_embedding_max_norm_matches_pytorch():
    w = np.random.default_rng(1).standard_normal((4, 3)) * 3
    idx = np.array([0, 2, 2])
    results = []
    for L in (torch, mg):
        wt = L.tensor(w.copy())
        out = L.nn.functional.embedding(L.tensor(idx), wt, max_norm=1.5)
        results.append((np.array(out.tolist()), np.array(wt.tolist())))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4), (0, 2)])
def test_batch_norm_running_statistics_match_pytorch(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    c = shape[1]
    stats = []
    for L in (torch, mg):
        rm, rv = L.tensor(rng.standard_normal(c) * 0 + 0.5), L.tensor(np.full(c, 2.0))
        L.nn.functional.batch_norm(L.tensor(x), rm, rv, training=True, momentum=0.3)
        stats.append((np.array(rm.tolist()), np.array(rv.tolist())))
    np.testing.assert_allclose(stats[1][0], stats[0][0])
    np.testing.assert_allclose(stats[1][1], stats[0][1])


def test_layer_and_group_norm_errors_name_the_shapes():
    with pytest.raises(mg.ShapeError, match="normalized_shape"):
        F.layer_norm(mg.zeros((2, 3)), (4,))
    with pytest.raises(ValueError, match="num_groups"):
        F.group_norm(mg.zeros((2, 3, 4)), 2)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(2, 3)
    ln = nn.LayerNorm((2, 3), elementwise_affine=False)
    assert list(ln.parameters()) == []
    assert nn.LayerNorm(3, bias=False).bias is None


def test_unflatten():
    x = mg.zeros((2, 12, 5))
    assert nn.Unflatten(1, (3, 4))(x).shape == (2, 3, 4, 5)
    assert nn.Unflatten(-2, (2, -1))(x).shape == (2, 2, 6, 5)
    with pytest.raises(ValueError):
        nn.Unflatten(1, (5, 3))(x)


@needs_torch
def test_cosine_similarity_of_a_zero_vector_is_zero_like_pytorch():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    ours = F.cosine_similarity(mg.tensor(a), mg.tensor(b)).numpy()
    theirs = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(ours, theirs)


# -- conversions -------------------------------------------------------------------------------------

def test_type_names_and_conversions():
    x = mg.zeros(3)
    assert x.type() == "minigrad.FloatTensor"
    assert x.long().type() == "minigrad.LongTensor"
    assert x.type(mg.float64).dtype == mg.float64
    assert x.type("minigrad.IntTensor").dtype == mg.int32
    assert x.type("torch.DoubleTensor").dtype == mg.float64
    with pytest.raises(ValueError):
        x.type("minigrad.NoSuchTensor")


@needs_torch
@pytest.mark.parametrize("method", ["float", "half", "double"])
def test_cast_gradients_match_pytorch(method):
    x = np.array([0.5, -1.25, 2.0])
    grads = []
    for L in (torch, mg):
        t = L.tensor(x, requires_grad=True)
        out = getattr(t, method)()
        (out * L.tensor(np.array([1.0, 2.0, 3.0])).to(out.dtype)).sum().backward()
        grads.append((np.array(t.grad.tolist()), str(t.grad.dtype).replace("torch.", "")))
    np.testing.assert_allclose(grads[1][0], grads[0][0])
    assert grads[1][1] == grads[0][1]


@needs_torch
@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("float32", "int16"), ("float64", "int32"),
                                     ("int32", "float32"), ("float32", "float64")])
def test_view_dtype_reinterprets_bytes_like_pytorch(src, dst):
    a = np.arange(8).reshape(2, 4).astype(src)
    ours = mg.tensor(a).view(getattr(mg, dst))
    theirs = torch.from_numpy(a).view(getattr(torch, dst))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert np.array_equal(ours.numpy(), theirs.numpy())
    assert not mg.tensor(a.astype("float64"), requires_grad=True).view(mg.int64).requires_grad


def test_view_dtype_refuses_what_cannot_be_reinterpreted():
    with pytest.raises(RuntimeError, match="view"):
        mg.zeros(()).view(mg.float64)
    with pytest.raises(RuntimeError, match="view"):
        mg.zeros((3,)).view(mg.float64)
    assert mg.zeros((2, 3)).view(6).shape == (6,)
    assert mg.zeros((2, 3)).view(3, -1).shape == (3, 2)


def test_one_hot_of_an_empty_tensor_needs_num_classes():
    empty = mg.tensor(np.zeros((0,), dtype=np.int64))
    with pytest.raises(ValueError, match="num_classes"):
        mg.nn.functional.one_hot(empty)
    assert mg.nn.functional.one_hot(empty, num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("x_shape, w_shape", [((3, 0), (2, 0)), ((3, 4), (0, 4)), ((2, 0, 4), (5, 4)),
                                              ((2, 3, 0), (5, 0))])
def test_linear_with_empty_features_or_rows_has_gradients(x_shape, w_shape):
    """Zero input or output features, or an empty batch: the gradients have the inputs' shapes,
    recorded (create_graph) or not; db sums the incoming gradient over the rows."""
    x = mg.tensor(np.ones(x_shape), requires_grad=True)
    w = mg.tensor(np.ones(w_shape), requires_grad=True)
    b = mg.tensor(np.ones(w_shape[0]), requires_grad=True)
    F.linear(x, w, b).sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape
    rows = int(np.prod(x_shape[:-1]))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(w_shape[0], float(rows)))
    gx, gw, gb = mg.grad(F.linear(x, w, b).sum(), [x, w, b], create_graph=True)
    assert gx.shape == x_shape and gw.shape == w_shape and gb.shape == (w_shape[0],)
