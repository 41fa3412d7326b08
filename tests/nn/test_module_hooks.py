"""Forward hooks on modules: order, return values, prepend, with_kwargs, always_call, removal,
global hooks, exceptions, nested modules.  Each scenario runs on minigrad against an expected
log written out by hand and, where PyTorch is installed, on the same module tree in PyTorch."""
import copy
import gc
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import module as mg_module

from nn_helpers import host, try_torch


def as_numpy(x):
    return x.detach().numpy() if hasattr(x, "detach") and not isinstance(x, mg.Tensor) else host(x)


class Lib:
    """What a scenario needs from a framework: its nn, a tensor maker, its global hooks."""

    def __init__(self, name):
        self.name = name
        if name == "minigrad":
            self.nn, self.tensor, self.globals = nn, mg.tensor, mg_module
        else:
            torch = pytest.importorskip("torch")
            from torch.nn.modules import module as torch_module
            self.nn, self.tensor, self.globals = torch.nn, lambda a: torch.tensor(a), torch_module

    def model(self):
        """Sequential(Linear(4, 3), ReLU(), Scaled(Linear(3, 2))) with fixed weights; Scaled's
        forward takes a keyword ``scale``."""
        lib_nn = self.nn

        class Scaled(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib_nn.Linear(3, 2)

            def forward(self, x, scale=1.0):
                return self.inner(x) * scale

        model = lib_nn.Sequential(lib_nn.Linear(4, 3), lib_nn.ReLU(), Scaled())
        rng = np.random.default_rng(0)
        weights = {k: self.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
                   for k, v in model.state_dict().items()}
        model.load_state_dict(weights)
        return model

    def x(self):
        return self.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4))


LIBS = ["minigrad", pytest.param("torch", marks=pytest.mark.skipif(try_torch() is None, reason="torch not installed"))]


def shapes(args):
    return tuple(tuple(a.shape) if hasattr(a, "shape") else a for a in args)


def nested_order_and_results(lib):
    """Hooks on the root and on sub-modules, global hooks, prepend, returned values."""
    model = lib.model()
    names = {id(m): name or "root" for name, m in model.named_modules()}
    log = []
    handles = []

    def pre(tag):
        def hook(m, args):
            log.append(("pre", tag, names.get(id(m)), shapes(args)))
        return hook

    def post(tag):
        def hook(m, args, out):
            log.append(("post", tag, names.get(id(m)), shapes(args), tuple(out.shape)))
        return hook

    handles.append(lib.globals.register_module_forward_pre_hook(pre("global")))
    handles.append(lib.globals.register_module_forward_hook(post("global")))
    try:
        model.register_forward_pre_hook(pre("a"))
        model.register_forward_pre_hook(pre("b"), prepend=True)
        model.register_forward_hook(post("c"))
        model.register_forward_hook(post("d"), prepend=True)
        model[0].register_forward_pre_hook(lambda m, args: args[0] * 2)  # a non-tuple: the only argument
        model[2].register_forward_pre_hook(lambda m, args, kwargs: (args, {"scale": 3.0}), with_kwargs=True)
        model[2].register_forward_hook(lambda m, args, kwargs, out: log.append(("kw", sorted(kwargs.items()))),
                                       with_kwargs=True)
        model[2].register_forward_hook(lambda m, args, out: out + 1)
        model[2].register_forward_hook(post("after+1"))
        out = model(lib.x())
    finally:
        for h in handles:
            h.remove()
    return log, as_numpy(out), model


def nested_expected():
    g = "global"
    return [
        ("pre", g, "root", ((2, 4),)), ("pre", "b", "root", ((2, 4),)), ("pre", "a", "root", ((2, 4),)),
        ("pre", g, "0", ((2, 4),)), ("post", g, "0", ((2, 4),), (2, 3)),
        ("pre", g, "1", ((2, 3),)), ("post", g, "1", ((2, 3),), (2, 3)),
        ("pre", g, "2", ((2, 3),)),
        ("pre", g, "2.inner", ((2, 3),)), ("post", g, "2.inner", ((2, 3),), (2, 2)),
        ("post", g, "2", ((2, 3),), (2, 2)), ("kw", [("scale", 3.0)]), ("post", "after+1", "2", ((2, 3),), (2, 2)),
        ("post", g, "root", ((2, 4),), (2, 2)), ("post", "d", "root", ((2, 4),), (2, 2)),
        ("post", "c", "root", ((2, 4),), (2, 2)),
    ]


@pytest.mark.parametrize("lib", LIBS)
def test_order_prepend_global_and_returned_values(lib):
    lib = Lib(lib)
    log, out, model = nested_order_and_results(lib)
    assert log == nested_expected()
    # The same arithmetic by hand: the input doubled, the last layer scaled by 3, plus 1.
    sd = {k: as_numpy(v) for k, v in model.state_dict().items()}
    h = np.maximum(as_numpy(lib.x()) * 2 @ sd["0.weight"].T + sd["0.bias"], 0)
    expected = (h @ sd["2.inner.weight"].T + sd["2.inner.bias"]) * 3 + 1
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(try_torch() is None, reason="torch not installed")
def test_same_log_and_output_as_torch():
    log_mg, out_mg, _ = nested_order_and_results(Lib("minigrad"))
    log_t, out_t, _ = nested_order_and_results(Lib("torch"))
    assert log_mg == log_t
    np.testing.assert_allclose(out_mg, out_t, rtol=1e-5, atol=1e-6)


def exceptions(lib):
    """forward raises; a forward hook raises; a pre-hook raises; an always_call hook raises meanwhile."""
    lib_nn = lib.nn

    class Boom(lib_nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    log = []

    def bad(m, args, out):
        log.append("bad")
        raise KeyError("second")

    boom = Boom()
    boom.register_forward_hook(lambda m, a, o: log.append(("plain", o)))
    boom.register_forward_hook(lambda m, a, o: log.append(("always", o)), always_call=True)
    boom.register_forward_hook(bad, always_call=True)
    boom.register_forward_hook(lambda m, a, k, o: log.append(("kw", k, o)), always_call=True, with_kwargs=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="boom"):
            boom(lib.x())
    log.append(("warnings", len(caught)))

    ident = lib_nn.Identity()

    def raising(m, a, o):
        log.append("raising")
        raise KeyError("hook")

    ident.register_forward_hook(lambda m, a, o: log.append("a1"), always_call=True)
    ident.register_forward_hook(raising)
    ident.register_forward_hook(lambda m, a, o: log.append(("a2", tuple(o.shape))), always_call=True)
    with pytest.raises(KeyError, match="hook"):
        ident(lib.x())

    pre_fail = lib_nn.Identity()
    pre_fail.register_forward_pre_hook(lambda m, a: (_ for _ in ()).throw(TypeError("pre")))
    pre_fail.register_forward_hook(lambda m, a, o: log.append(("after pre", o)), always_call=True)
    with pytest.raises(TypeError, match="pre"):
        pre_fail(lib.x())

    bad_return = lib_nn.Identity()
    bad_return.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook"):
        bad_return(lib.x())
    return log


@pytest.mark.parametrize("lib", LIBS)
def test_exceptions_propagate_and_always_call_hooks_run(lib):
    log = exceptions(Lib(lib))
    assert log == [("always", None), "bad", ("kw", {}, None), ("warnings", 1),
                   "a1", "raising", ("a2", (2, 4)), ("after pre", None)]


@pytest.mark.parametrize("lib", LIBS)
def test_removal_during_a_call_and_hooks_added_during_a_call(lib):
    lib = Lib(lib)
    m = lib.nn.Identity()
    log = []
    handles = []

    def once(mod, args):
        log.append("once")
        handles[0].remove()

    def adder(mod, args):
        log.append("adder")
        if len(log) < 3:
            mod.register_forward_pre_hook(lambda mod, args: log.append("new"))

    handles.append(m.register_forward_pre_hook(once))
    m.register_forward_pre_hook(adder)
    m(1)  # the hooks of a call are the ones registered when it starts
    m(1)
    assert log == ["once", "adder", "adder", "new"]


def test_handles_remove_once_and_as_context_managers():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_hook(lambda m, a, o: calls.append(1))
    h2 = lin.register_forward_pre_hook(lambda m, a: calls.append(2))
    assert h1.id != h2.id
    lin(mg.randn(1, 2))
    assert calls == [2, 1]
    h1.remove()
    h1.remove()  # again: harmless
    lin(mg.randn(1, 2))
    assert calls == [2, 1, 2]
    with h2:
        pass
    lin(mg.randn(1, 2))
    assert calls == [2, 1, 2] and not lin._forward_hooks and not lin._forward_pre_hooks
    with mg_module.register_module_forward_hook(lambda m, a, o: calls.append("g")):
        lin(mg.randn(1, 2))
    lin(mg.randn(1, 2))
    assert calls == [2, 1, 2, "g"]


def test_a_handle_does_not_keep_its_module_alive():
    import weakref

    lin = nn.Linear(2, 2)
    handle = lin.register_forward_hook(lambda m, a, o: None)
    ref = weakref.ref(lin)
    del lin
    gc.collect()
    assert ref() is None
    handle.remove()  # the module is gone: nothing to do


def test_hooks_leave_state_dict_alone_and_are_not_saved(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    keys = list(model.state_dict())
    model.register_forward_hook(lambda m, a, o: o * 0)
    model[0].register_forward_pre_hook(lambda m, a: a)
    assert list(model.state_dict()) == keys == ["0.weight", "0.bias"]
    pytest.importorskip("safetensors")
    path = tmp_path / "m.npz"
    mg.save(model.state_dict(), str(path))
    fresh = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    fresh.load_state_dict(mg.load(str(path)))
    assert not fresh._forward_hooks and not fresh[0]._forward_pre_hooks
    x = mg.randn(4, 3)
    assert not host(model(x)).any()  # the hook zeroes the output
    np.testing.assert_allclose(host(fresh(x)), np.maximum(host(model[0](x)), 0), rtol=1e-6)


def test_a_copy_keeps_its_hooks_and_removal_affects_the_original_only():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_forward_hook(lambda m, a, o: calls.append(m))
    twin = copy.deepcopy(lin)
    handle.remove()
    lin(mg.randn(1, 2))
    twin(mg.randn(1, 2))
    assert calls == [twin]


def test_instance_forward_runs_between_the_hooks():
    lin = nn.Linear(2, 2)
    log = []
    lin.forward = lambda x: log.append("forward") or x * 5
    lin.register_forward_pre_hook(lambda m, args: log.append("pre"))
    lin.register_forward_hook(lambda m, args, out: log.append("post") or out + 1)
    out = lin(mg.ones(1, 2))
    assert log == ["pre", "forward", "post"] and type(lin) is nn.Linear
    np.testing.assert_array_equal(host(out), [[6.0, 6.0]])


def test_keyword_arguments_reach_forward_and_with_kwargs_hooks():
    class Affine(nn.Module):
        def forward(self, x, *, shift=0.0):
            return x + shift

    m = Affine()
    seen = []
    m.register_forward_pre_hook(lambda mod, args: seen.append(("plain pre", len(args))))  # no kwargs given
    m.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(("pre", dict(kwargs))), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(("post", dict(kwargs))), with_kwargs=True)
    out = m(mg.zeros(2), shift=4.0)
    assert seen == [("plain pre", 1), ("pre", {"shift": 4.0}), ("post", {"shift": 4.0})]
    np.testing.assert_array_equal(host(out), [4.0, 4.0])


def test_hooks_see_the_graph_and_gradients_flow_through_replaced_values():
    lin = nn.Linear(3, 1)
    lin.register_forward_hook(lambda m, args, out: out * 2)
    x = mg.randn(5, 3)
    lin(x).sum().backward()
    np.testing.assert_allclose(host(lin.weight.grad), 2 * host(x).sum(axis=0, keepdims=True), rtol=1e-5)


def test_bad_hooks_are_refused_in_one_line():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be callable, got int"):
        lin.register_forward_hook(3)
    with pytest.raises(TypeError, match="register_forward_pre_hook: the hook must be callable, got str"):
        lin.register_forward_pre_hook("f")
    with pytest.raises(TypeError, match="register_module_forward_hook: the hook must be callable"):
        mg_module.register_module_forward_hook(None)
    assert not lin._forward_hooks and not mg_module._global_forward_hooks


def test_a_module_that_skipped_module_init_is_callable_but_takes_no_hooks():
    class Forgetful(nn.Module):
        def __init__(self):  # no super().__init__()
            self.k = 2.0

        def forward(self, x):
            return x * self.k

    m = Forgetful()
    np.testing.assert_array_equal(host(m(mg.ones(2))), [2.0, 2.0])
    with pytest.raises(AttributeError, match=r"register_forward_hook: Forgetful has no hook tables .*super\(\).__init__\(\)"):
        m.register_forward_hook(lambda mod, a, o: None)
    with pytest.raises(AttributeError, match="register_forward_pre_hook: Forgetful has no hook tables"):
        m.register_forward_pre_hook(lambda mod, a: None)
    assert not nn.Module._forward_hooks and not nn.Module._forward_pre_hooks
