"""The autograd engine: the backward walk, gradient accumulation, grad modes, retain_graph,
hooks, ``mg.grad`` (higher order included), long chains and the version-counter rule.

Buffer release and memory growth live in ``test_memory.py``; in-place op semantics in
``test_inplace.py``.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import minigrad as mg


def leaf(values, dtype=np.float64) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=dtype), dtype=dtype, requires_grad=True)


def host(t: mg.Tensor) -> np.ndarray:
    return t.detach().numpy()


# -- the walk ------------------------------------------------------------------------------


def test_diamond_sums_both_paths():
    # c = a*b + a with a = 2x, b = 3x  ->  c = 6x² + 2x,  dc/dx = 12x + 2
    x = leaf([0.5, -1.0, 2.0])
    a = x * 2
    b = x * 3
    c = (a * b + a).sum()
    c.backward()
    np.testing.assert_allclose(host(x.grad), 12 * host(x) + 2)


def test_tensor_used_many_times_in_one_op_chain():
    x = leaf([1.5, -0.5])
    (x + x + x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [3.0, 3.0])


def test_shared_intermediate_receives_summed_gradient():
    # y = h*h + h with h = exp(x):  dy/dx = (2h + 1) * h
    x = leaf([0.1, 0.7, -0.3])
    h = x.exp()
    (h * h + h).sum().backward()
    e = np.exp(host(x))
    np.testing.assert_allclose(host(x.grad), (2 * e + 1) * e)


def test_deep_diamond_lattice():
    # Each level doubles the number of paths: y = x * 2**depth (as a sum of 2**depth paths of weight 1).
    x = leaf([1.0, 2.0])
    h = x
    depth = 12
    for _ in range(depth):
        h = h + h
    h.sum().backward()
    np.testing.assert_allclose(host(x.grad), [2.0**depth] * 2)


def test_leaf_gradients_accumulate_until_zeroed():
    x = leaf([1.0, 2.0, 3.0])
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_allclose(host(x.grad), k * 2 * host(x))
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0, 5.0])
    x.grad.zero_()
    (x * 5).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0, 5.0])


def test_grads_of_different_leaves_do_not_alias():
    # y = x + z hands the same incoming gradient to both leaves; their .grad must be separate memory.
    x = leaf([1.0, 2.0])
    z = leaf([3.0, 4.0])
    (x + z).sum().backward()
    x.grad.add_(100.0)
    np.testing.assert_allclose(host(z.grad), [1.0, 1.0])
    assert not np.shares_memory(x.grad.numpy(), z.grad.numpy())


def test_grad_has_leaf_shape_and_dtype_after_broadcasting():
    x = leaf(np.ones((3, 1)))
    y = leaf(np.ones((1, 4)), dtype=np.float64)
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (1, 4)
    np.testing.assert_allclose(host(x.grad), np.full((3, 1), 4.0))
    np.testing.assert_allclose(host(y.grad), np.full((1, 4), 3.0))
    assert x.grad.dtype == np.float64


def test_float32_leaf_gets_float32_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    assert x.grad.dtype == np.float32


def test_backward_with_explicit_gradient_for_non_scalar():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(mg.tensor([1.0, 0.5, -1.0], dtype=mg.float64))
    np.testing.assert_allclose(host(x.grad), 2 * host(x) * [1.0, 0.5, -1.0])


def test_backward_on_leaf_itself():
    x = leaf([2.0])
    x.backward()
    np.testing.assert_allclose(host(x.grad), [1.0])


def test_non_scalar_backward_without_gradient_names_the_shape():
    x = leaf(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()
    assert x.grad is None


def test_wrong_gradient_shape_names_both_shapes():
    x = leaf(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(RuntimeError) as info:
        y.backward(mg.ones(3, 2, dtype=mg.float64))
    assert "(3, 2)" in str(info.value) and "(2, 3)" in str(info.value)


def test_100k_op_chain_does_not_recurse():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, 3000))  # the point: a recursive walk would blow through this
    try:
        x0 = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
        x = x0
        for _ in range(100_000):
            x = x + 1.0
        assert x.item() == 100_000.0
        x.backward()
        assert x0.grad.item() == 1.0
        del x  # tearing the 100k-node chain down must not recurse either
    finally:
        sys.setrecursionlimit(limit)


def test_long_chain_mul_value_and_grad():
    # d/dx (x * c**n) = c**n; 5000 multiplications keep the check numeric and cheap.
    c, n = 1.0001, 5000
    x0 = leaf([2.0])
    x = x0
    for _ in range(n):
        x = x * c
    x.backward()
    np.testing.assert_allclose(host(x0.grad), [c**n], rtol=1e-10)


# -- grad modes -------------------------------------------------------------------------------


def test_no_grad_context_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert mg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_decorator():
    x = leaf([1.0])

    @mg.no_grad()
    def f(t):
        assert not mg.is_grad_enabled()
        return t * 3

    y = f(x)
    assert y.grad_fn is None and not y.requires_grad
    assert mg.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_inside_no_grad_context_and_decorator():
    x = leaf([1.0])

    @mg.enable_grad()
    def f(t):
        return t * 3

    with mg.no_grad():
        with mg.enable_grad():
            y = x * 2
        z = f(x)
        w = x * 4
    assert y.grad_fn is not None and y.requires_grad
    assert z.grad_fn is not None
    assert w.grad_fn is None
    (y + z).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0])


def test_set_grad_enabled_context_call_and_decorator():
    x = leaf([1.0])
    with mg.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(True):
        assert (x * 2).grad_fn is not None

    @mg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert mg.is_grad_enabled()  # decorating must not switch the mode
    assert f(x).grad_fn is None
    assert mg.is_grad_enabled()

    mg.set_grad_enabled(False)  # a plain call switches it and leaves it switched
    try:
        assert not mg.is_grad_enabled()
        assert (x * 2).grad_fn is None
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def boom():
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert mg.is_grad_enabled()


def test_same_no_grad_object_reentrant():
    ng = mg.no_grad()
    with ng:
        with ng:
            assert not mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_nothing_requires_grad_records_nothing():
    x = mg.tensor([1.0, 2.0])
    y = x * 2 + 1
    assert y.grad_fn is None and not y.requires_grad


# -- retain_graph -------------------------------------------------------------------------------


def test_second_backward_through_freed_graph_raises_clearly():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_second_backward_on_shared_subgraph_raises():
    x = leaf([1.0, 2.0])
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


def test_retain_graph_allows_repeat_and_accumulates():
    x = leaf([1.0, 2.0])
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(x.grad), 3 * 3 * host(x) ** 2)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# -- hooks and retain_grad ---------------------------------------------------------------------


def test_leaf_hook_sees_and_can_replace_gradient():
    x = leaf([1.0, 2.0])
    seen = []

    def hook(g):
        seen.append(host(g).copy())
        return g * 10

    x.register_hook(hook)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(host(x.grad), [30.0, 30.0])


def test_non_leaf_hook_modifies_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(host(g).copy()) or g * 3)
    (h * h).sum().backward()
    # dL/dh = 2h, hooked to 6h; dL/dx = 6h * 2 = 24x
    np.testing.assert_allclose(seen[0], 2 * host(h))
    np.testing.assert_allclose(host(x.grad), 24 * host(x))


def test_hook_returning_none_keeps_gradient():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 4).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(host(x.grad), [4.0, 4.0])


def test_non_leaf_hook_called_once_with_total_gradient():
    x = leaf([1.0])
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(host(g).copy()))
    (h * 2 + h * 5).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [7.0])


def test_hooks_compose_in_registration_order():
    x = leaf([1.0])
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(host(x.grad), [30.0])  # (2 + 1) * 10, not 2 * 10 + 1


def test_hook_handle_remove():
    x = leaf([1.0, 2.0])
    h = x * 1
    calls = []
    handle_leaf = x.register_hook(lambda g: calls.append("leaf") or g * 2)
    handle_mid = h.register_hook(lambda g: calls.append("mid") or g * 3)
    (h * 1).sum().backward(retain_graph=True)
    assert sorted(calls) == ["leaf", "mid"]
    np.testing.assert_allclose(host(x.grad), [6.0, 6.0])
    handle_leaf.remove()
    handle_mid.remove()
    handle_mid.remove()  # removing twice is harmless
    calls.clear()
    x.grad = None
    (h * 1).sum().backward()
    assert calls == []
    np.testing.assert_allclose(host(x.grad), [1.0, 1.0])


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="require"):
        mg.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, -2.0])
    h = x * 3
    k = x * 4
    h.retain_grad()
    assert h.retains_grad and not k.retains_grad
    (h * h + k).sum().backward()
    np.testing.assert_allclose(host(h.grad), 2 * host(h))
    assert k.grad is None  # not retained: non-leaf grads are not kept by default
    np.testing.assert_allclose(host(x.grad), 18 * host(x) + 4)


def test_retain_grad_accumulates_with_retain_graph():
    x = leaf([1.0])
    h = x * 3
    h.retain_grad()
    y = (h * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(h.grad), [4.0])


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError):
        mg.tensor([1.0]).retain_grad()


# -- higher order ------------------------------------------------------------------------------


def rosenbrock(x: mg.Tensor, a: float = 1.0, b: float = 100.0) -> mg.Tensor:
    """sum_i b (x_{i+1} - x_i²)² + (a - x_i)²  over i = 0..n-2."""
    head, tail = x[:-1], x[1:]
    return (b * (tail - head * head) ** 2 + (a - head) ** 2).sum()


def rosenbrock_hessian(x: np.ndarray, b: float = 100.0) -> np.ndarray:
    """Closed form: tridiagonal.
    H_ii = 2 + 12 b x_i² - 4 b x_{i+1}  (i < n-1)   + 2b (i > 0);   H_{i,i+1} = -4 b x_i."""
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n):
        if i < n - 1:
            H[i, i] += 2 + 12 * b * x[i] ** 2 - 4 * b * x[i + 1]
            H[i, i + 1] = H[i + 1, i] = -4 * b * x[i]
        if i > 0:
            H[i, i] += 2 * b
    return H


def test_rosenbrock_hessian_exact():
    point = np.array([-1.2, 1.0, 0.5, 2.0])
    x = leaf(point)
    (g,) = mg.grad(rosenbrock(x), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    rows = [mg.grad(g[i], x, retain_graph=True)[0] for i in range(len(point))]
    H = np.stack([host(r) for r in rows])
    np.testing.assert_allclose(H, rosenbrock_hessian(point), rtol=1e-12, atol=1e-10)
    # the 2-D classic at its minimum (1, 1): [[802, -400], [-400, 200]]
    y = leaf([1.0, 1.0])
    (gy,) = mg.grad(rosenbrock(y), y, create_graph=True)
    H2 = np.stack([host(mg.grad(gy[i], y, retain_graph=True)[0]) for i in range(2)])
    np.testing.assert_allclose(H2, [[802.0, -400.0], [-400.0, 200.0]], rtol=1e-12)


def test_rosenbrock_hessian_via_backward_create_graph():
    point = np.array([0.3, -0.7])
    x = leaf(point)
    rosenbrock(x).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g[0].backward()
    np.testing.assert_allclose(host(x.grad), rosenbrock_hessian(point)[0], rtol=1e-12)


def test_hessian_vector_product_matches_explicit_hessian():
    rng = np.random.default_rng(0)
    n = 5
    A = rng.standard_normal((n, n))
    x = leaf(rng.standard_normal(n))
    v = mg.tensor(rng.standard_normal(n), dtype=mg.float64)
    At = mg.tensor(A, dtype=mg.float64)

    def f(x):  # f = ½ xᵀAx + Σ sin x   ->   H = ½(A + Aᵀ) - diag(sin x)
        return 0.5 * (x @ (At @ x)) + x.sin().sum()

    (g,) = mg.grad(f(x), x, create_graph=True)
    (hv,) = mg.grad(g, x, grad_outputs=v)
    H_closed = 0.5 * (A + A.T) - np.diag(np.sin(host(x)))
    np.testing.assert_allclose(host(hv), H_closed @ host(v), rtol=1e-12, atol=1e-12)
    # the same through an explicit Hessian assembled row by row
    (g2,) = mg.grad(f(x), x, create_graph=True)
    H_rows = np.stack([host(mg.grad(g2[i], x, retain_graph=True)[0]) for i in range(n)])
    np.testing.assert_allclose(H_rows, H_closed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(hv), H_rows @ host(v), rtol=1e-12, atol=1e-12)


def test_third_derivative():
    x = leaf([0.7])
    y = x**4
    (g1,) = mg.grad(y, x, create_graph=True)
    (g2,) = mg.grad(g1, x, create_graph=True)
    (g3,) = mg.grad(g2, x)
    np.testing.assert_allclose(host(g1), 4 * 0.7**3)
    np.testing.assert_allclose(host(g2), 12 * 0.7**2)
    np.testing.assert_allclose(host(g3), 24 * 0.7)


# -- mg.grad -----------------------------------------------------------------------------------


def test_grad_returns_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    z = leaf([3.0, 4.0])
    gx, gz = mg.grad((x * z).sum(), [x, z])
    np.testing.assert_allclose(host(gx), host(z))
    np.testing.assert_allclose(host(gz), host(x))
    assert x.grad is None and z.grad is None


def test_grad_single_input_returns_tuple():
    x = leaf([1.0, 2.0])
    out = mg.grad((x * x).sum(), x)
    assert isinstance(out, tuple) and len(out) == 1


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    v = mg.tensor([1.0, -1.0, 0.5], dtype=mg.float64)
    (g,) = mg.grad(y, x, grad_outputs=v)
    np.testing.assert_allclose(host(g), 2 * host(x) * host(v))
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        mg.grad(x * x, x)  # non-scalar without grad_outputs


def test_grad_multiple_outputs_sum():
    x = leaf([1.0, 2.0])
    (g,) = mg.grad([(x * x).sum(), (x * 3).sum()], x)
    np.testing.assert_allclose(host(g), 2 * host(x) + 3)


def test_grad_allow_unused():
    x = leaf([1.0])
    unused = leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad(y, [x, unused], retain_graph=True)
    gx, gu = mg.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(host(gx), [2.0])
    assert gu is None


def test_grad_non_leaf_inputs():
    x = leaf([1.0, -2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = mg.grad(y, [h, x])
    np.testing.assert_allclose(host(gh), 2 * host(h))
    np.testing.assert_allclose(host(gx), 18 * host(x))
    assert h.grad is None and x.grad is None


def test_grad_input_must_require_grad():
    x = leaf([1.0])
    c = mg.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * c).sum(), c)


def test_grad_frees_graph_unless_retained():
    x = leaf([1.0])
    y = (x * x).sum()
    mg.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg.grad(y, x)
    y2 = (x * x).sum()
    mg.grad(y2, x, retain_graph=True)
    (g,) = mg.grad(y2, x)
    np.testing.assert_allclose(host(g), [2.0])


def test_grad_create_graph_result_is_differentiable():
    x = leaf([2.0])
    (g,) = mg.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(host(x.grad), [12.0])


def test_backward_inputs_restricts_accumulation():
    x = leaf([1.0, 2.0])
    z = leaf([3.0, 4.0])
    y = (x * z).sum()
    y.backward(inputs=[x])
    np.testing.assert_allclose(host(x.grad), host(z))
    assert z.grad is None


def test_backward_inputs_accumulate_and_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h * h).sum()
    y.backward(inputs=[h], retain_graph=True)
    np.testing.assert_allclose(host(h.grad), 2 * host(h))
    assert x.grad is None
    y.backward(inputs=x)
    y2 = (x * 1).sum()
    y2.backward(inputs=[x])
    np.testing.assert_allclose(host(x.grad), 8 * host(x) + 1)


# -- version counter ---------------------------------------------------------------------------


def _assert_version_error(fn, op: str) -> None:
    with pytest.raises(RuntimeError) as info:
        fn()
    msg = str(info.value)
    assert op in msg and "in-place" in msg, msg


def test_version_error_add_():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = b * b
    b.add_(1.0)
    _assert_version_error(lambda: c.sum().backward(), "add_")


def test_version_error_mul_():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = (b * a).sum()
    b.mul_(2.0)
    _assert_version_error(c.backward, "mul_")


def test_version_error_setitem():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = (b * b).sum()
    b[0] = 5.0
    _assert_version_error(c.backward, "setitem")


def test_version_error_through_a_view():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 2
    c = (b * b).sum()
    v = b[1:]
    with mg.no_grad():
        v.mul_(3.0)  # writes through to b, which c's graph saved
    _assert_version_error(c.backward, "mul_")


def test_version_error_on_view_saved_then_base_modified():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 2
    v = b[:2]
    c = (v * v).sum()
    with mg.no_grad():
        b.mul_(0.5)  # v sees it: same memory, same version counter
    _assert_version_error(c.backward, "mul_")


def test_version_error_names_sub_():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = (b * b).sum()
    b.sub_(1.0)
    _assert_version_error(c.backward, "sub_")


def test_version_error_saved_output_modified_in_place():
    # exp saves its output; changing that memory under no_grad must be caught.
    a = leaf([0.5, 1.0])
    e = (a * 1).exp()
    y = e.sum()
    with mg.no_grad():
        e.mul_(2.0)
    _assert_version_error(y.backward, "mul_")


def test_saved_output_modified_while_recording_is_never_silently_wrong():
    # While recording, an in-place op on exp's output either errors (PyTorch) or keeps the old value
    # for exp's backward; either way the gradient must not be wrong.
    a = leaf([0.5, 1.0])
    e = (a * 1).exp()
    e.mul_(2.0)
    try:
        e.sum().backward()
    except RuntimeError as err:
        assert "mul_" in str(err)
    else:
        np.testing.assert_allclose(host(a.grad), 2 * np.exp(host(a)), rtol=1e-12)


def test_version_error_leaf_updated_by_optimizer_step():
    w = leaf([1.0, 2.0])
    x = mg.tensor([3.0, 4.0], dtype=mg.float64)
    loss = (w * x * w).sum()
    with mg.no_grad():
        w.add_(mg.ones_like(w), alpha=-0.1)  # an SGD-style update
    _assert_version_error(loss.backward, "add_")


def test_version_error_via_detached_alias():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = (b * b).sum()
    d = b.detach()
    d.add_(1.0)
    _assert_version_error(c.backward, "add_")


def test_version_error_names_the_op_that_saved():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = (b * b).sum()
    b.div_(2.0)
    with pytest.raises(RuntimeError, match="MulBackward"):
        c.backward()


def test_in_place_before_use_is_fine():
    a = leaf([1.0, 2.0])
    b = a * 2
    b.add_(1.0)
    (b * b).sum().backward()
    np.testing.assert_allclose(host(a.grad), 4 * (2 * host(a) + 1))


def test_in_place_on_unsaved_tensor_is_fine():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = b + 1  # add saves nothing
    b.mul_(5.0)
    c.sum().backward()
    np.testing.assert_allclose(host(a.grad), [2.0, 2.0])


def test_version_counter_bumps():
    t = mg.zeros(3)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    t[0] = 4.0
    assert t._version == 3
    v = t[1:]
    v.zero_()
    assert t._version == 4 and v._version == 4


def test_view_of_leaf_saved_then_leaf_updated():
    w = leaf([1.0, 2.0, 3.0])
    v = w[1:]
    y = (v * v).sum()
    with mg.no_grad():
        w.mul_(0.5)
    _assert_version_error(y.backward, "mul_")


# -- gradient dtypes ---------------------------------------------------------------------------------


def test_grad_dtype_matches_leaf_after_mixed_precision_op():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0], dtype=mg.float64)
    (x * c).sum().backward()
    assert x.grad.dtype == x.dtype


def test_root_gradient_cast_to_output_dtype():
    x = leaf([1.0, 2.0])
    (x * 2).backward(mg.ones(2))  # float32 seed for a float64 output
    assert x.grad.dtype == np.float64


def test_grad_wrt_hooked_non_leaf_applies_hook():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.register_hook(lambda g: g * 10)
    (g,) = mg.grad((h * 3).sum(), h)
    np.testing.assert_allclose(host(g), [30.0, 30.0])


def test_grad_wrt_leaf_applies_hooks_of_the_path():
    x = leaf([1.0, 2.0])
    h = x * 1
    h.register_hook(lambda g: g * 10)
    (g,) = mg.grad((h * 3).sum(), x)
    np.testing.assert_allclose(host(g), [30.0, 30.0])


# -- scalar expression graphs, as in the smallest autograd engines ---------------------------------
# Each graph is one function run twice: on minigrad tensors and on PyTorch's (when installed);
# without PyTorch the expected numbers are the ones worked out by hand in the comments.


def _sanity_graph(x):
    u = 3 * x - 1 + x              # 4x - 1                        = -13 at x = -3
    v = u.relu() + u * x           # 0 + (4x - 1)x   (u < 0)       = 39
    w = (u * u).relu()             # (4x - 1)²                     = 169
    return w + v + v * x           # w + v(1 + x)                  = 169 + 39·(-2) = 91


def _accumulating_graph(a, b):
    c = a - b
    d = a * b + b ** 2
    c += c * 2 + 1                 # c = 3(a - b) + 1
    c += 2 + c - b                 # c = 2c + 2 - b = 6a - 7b + 4            = -29 at (a, b) = (-2, 3)
    d += d * 3 + (a - b).relu()    # d = 4(ab + b²)   (a - b < 0)
    d += 0.5 * d + (b - a).relu()  # d = 6(ab + b²) + b - a                  = 23
    e = c * d - d                  # e = d(c - 1)                            = -690
    f = e ** 2
    g = f / 4.0
    g += 8.0 / f                   # g = e²/4 + 8/e²
    return g


def _scalar(lib, value):
    return lib.tensor(value, dtype=lib.float64, requires_grad=True)


def test_scalar_graph_values_and_gradient():
    x = _scalar(mg, -3.0)
    y = _sanity_graph(x)
    y.backward()
    # dy/dx = w' + v'(1 + x) + v with u' = 4, v' = u + 4x = -25, w' = 8u = -104:  -104 + 50 + 39
    want_y, want_grad = 91.0, -15.0
    torch = _import_torch()
    if torch is not None:
        xt = _scalar(torch, -3.0)
        yt = _sanity_graph(xt)
        yt.backward()
        want_y, want_grad = yt.item(), xt.grad.item()
    assert y.item() == pytest.approx(want_y, rel=1e-12)
    assert x.grad.item() == pytest.approx(want_grad, rel=1e-12)


def test_scalar_graph_with_in_place_accumulation():
    """``d += d * 3``: the product saved nothing of d (only the constant's gradient would read
    d), so changing d in place afterwards is valid, as in PyTorch."""
    a, b = _scalar(mg, -2.0), _scalar(mg, 3.0)
    g = _accumulating_graph(a, b)
    g.backward()
    # By hand: c = 6a - 7b + 4, d = 6ab + 6b² + b - a, e = d(c - 1), g = e²/4 + 8/e²;
    # de/da = (6b - 1)(c - 1) + 6d = 17·(-30) + 138 = -372, de/db = (6a + 12b + 1)(c - 1) - 7d = -911,
    # dg/de = e/2 - 16/e³.
    e = -690.0
    dg_de = e / 2 - 16 / e ** 3
    want = (e ** 2 / 4 + 8 / e ** 2, dg_de * -372, dg_de * -911)
    torch = _import_torch()
    if torch is not None:
        at, bt = _scalar(torch, -2.0), _scalar(torch, 3.0)
        gt = _accumulating_graph(at, bt)
        gt.backward()
        want = (gt.item(), at.grad.item(), bt.grad.item())
    got = (g.item(), a.grad.item(), b.grad.item())
    assert got == pytest.approx(want, rel=1e-12)


def test_product_then_in_place_sum_of_itself():
    a, b = _scalar(mg, -4.0), _scalar(mg, 2.0)
    d = a * b
    d += d * 2  # d = 3ab
    d.backward()
    assert (a.grad.item(), b.grad.item()) == (6.0, -12.0)  # (3b, 3a)


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch
