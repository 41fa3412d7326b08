"""In-place ops (``add_ sub_ mul_ div_ zero_ fill_ copy_ clamp_``, ``t[idx] = v``, ``+=`` ...):
values, identity of the result, version bumps, gradients through them while recording,
and the leaf rule.  The version-counter *errors* are in ``test_engine.py``.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def leaf(values) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def host(t: mg.Tensor) -> np.ndarray:
    return t.detach().numpy()


BASE = np.array([-2.0, 0.5, 3.0])
OTHER = np.array([1.0, 2.0, 4.0])

#: (name, call, numpy result)
CASES = [
    ("add_", lambda t, o: t.add_(o), BASE + OTHER),
    ("add_alpha", lambda t, o: t.add_(o, alpha=2.0), BASE + 2 * OTHER),
    ("sub_", lambda t, o: t.sub_(o), BASE - OTHER),
    ("sub_alpha", lambda t, o: t.sub_(o, alpha=0.5), BASE - 0.5 * OTHER),
    ("mul_", lambda t, o: t.mul_(o), BASE * OTHER),
    ("div_", lambda t, o: t.div_(o), BASE / OTHER),
    ("zero_", lambda t, o: t.zero_(), np.zeros(3)),
    ("fill_", lambda t, o: t.fill_(1.25), np.full(3, 1.25)),
    ("copy_", lambda t, o: t.copy_(o), OTHER),
    ("clamp_", lambda t, o: t.clamp_(-1.0, 1.0), np.clip(BASE, -1.0, 1.0)),
    ("clamp_min", lambda t, o: t.clamp_(min=0.0), np.clip(BASE, 0.0, None)),
    ("clamp_max", lambda t, o: t.clamp_(max=0.0), np.clip(BASE, None, 0.0)),
]


@pytest.mark.parametrize("name, call, expected", CASES, ids=[c[0] for c in CASES])
def test_values_identity_version_and_memory(name, call, expected):
    arr = BASE.copy()
    t = mg.from_numpy(arr)
    out = call(t, mg.tensor(OTHER))
    assert out is t
    np.testing.assert_allclose(host(t), expected)
    np.testing.assert_allclose(arr, expected)  # really in place: the shared array changed
    assert t._version == 1


@pytest.mark.parametrize("name, call, expected", CASES, ids=[c[0] for c in CASES])
def test_with_python_scalar_or_tensor_operand(name, call, expected):
    t = mg.tensor(BASE)
    call(t, mg.tensor(OTHER, dtype=mg.float64))
    np.testing.assert_allclose(host(t), expected)


def test_scalar_operands():
    t = mg.tensor([1.0, 2.0])
    t.add_(1).mul_(3).sub_(0.5).div_(2)
    np.testing.assert_allclose(host(t), ((np.array([1.0, 2.0]) + 1) * 3 - 0.5) / 2)
    assert t._version == 4


def test_augmented_assignment_is_in_place():
    t = mg.tensor([1.0, 2.0])
    alias = t
    t += 1
    t -= 0.5
    t *= 4
    t /= 2
    assert t is alias
    np.testing.assert_allclose(host(t), (np.array([1.0, 2.0]) + 0.5) * 2)
    assert t._version == 4


def test_broadcast_operand():
    t = mg.zeros(2, 3)
    t.add_(mg.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(host(t), [[1, 2, 3], [1, 2, 3]])


def test_shape_that_would_grow_the_tensor_is_refused():
    t = mg.zeros(3)
    with pytest.raises(RuntimeError) as info:
        t.add_(mg.ones(2, 3))
    assert "(2, 3)" in str(info.value) and "(3,)" in str(info.value)
    assert t._version == 0


def test_copy_casts_and_broadcasts():
    t = mg.zeros(2, 3, dtype=mg.float64)
    t.copy_(mg.tensor([1, 2, 3]))
    assert t.dtype == np.float64
    np.testing.assert_array_equal(host(t), [[1, 2, 3], [1, 2, 3]])
    i = mg.zeros(2, dtype=mg.int64)
    i.copy_(mg.tensor([1.9, -2.9]))
    assert i.dtype == np.int64 and i.tolist() == [1, -2]


def test_in_place_on_view_changes_base_without_grad():
    base = mg.zeros(4)
    v = base[1:3]
    v.add_(1.0)
    assert base.tolist() == [0.0, 1.0, 1.0, 0.0]
    base[0] = 5.0
    assert base.tolist() == [5.0, 1.0, 1.0, 0.0]
    r = base.reshape(2, 2)
    r.mul_(2.0)
    assert base.tolist() == [10.0, 2.0, 2.0, 0.0]


def test_read_only_broadcast_view_refused():
    t = mg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        t.add_(1.0)


# -- setitem ---------------------------------------------------------------------------------------


def test_setitem_forms():
    t = mg.zeros(3, 4)
    t[0] = 1.0
    t[1, 2] = 5.0
    t[:, -1] = mg.tensor([7.0, 8.0, 9.0])
    t[2, :2] = mg.tensor([3.0, 4.0])
    t[t == 0] = -1.0
    expected = np.array([[1, 1, 1, 7], [-1, -1, 5, 8], [3, 4, -1, 9]], dtype=np.float32)
    np.testing.assert_array_equal(host(t), expected)
    idx = mg.tensor([0, 2])
    t[idx, 0] = 0.0
    assert t[:, 0].tolist() == [0.0, -1.0, 0.0]
    assert t._version == 6


def test_setitem_shape_mismatch_names_shapes():
    t = mg.zeros(3, 4)
    with pytest.raises(ValueError) as info:
        t[0] = mg.ones(3)
    msg = str(info.value)
    assert "(3,)" in msg and "(3, 4)" in msg


# -- while recording: gradients through in-place ops ------------------------------------------------


def test_mul_on_non_leaf_gradient():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 2
    b.mul_(3.0)
    assert b.grad_fn is not None and b.requires_grad
    b.sum().backward()
    np.testing.assert_allclose(host(a.grad), [6.0, 6.0, 6.0])


def test_add_tensor_requiring_grad_into_plain_tensor():
    a = leaf([1.0, 2.0])
    t = mg.zeros(2, dtype=mg.float64)
    t.add_(a, alpha=3.0)
    assert t.requires_grad and t.grad_fn is not None
    (t * t).sum().backward()
    np.testing.assert_allclose(host(a.grad), 2 * 3 * 3 * host(a))


def test_copy_into_plain_tensor_carries_gradient():
    a = leaf([1.0, 2.0, 3.0])
    b = mg.zeros(3, dtype=mg.float64)
    b.copy_(a)
    (b * b).sum().backward()
    np.testing.assert_allclose(host(a.grad), 2 * host(a))


def test_clamp_gradient():
    a = leaf([0.0, 2.0, 4.0])
    b = a * 1
    b.clamp_(1.0, 3.0)
    np.testing.assert_allclose(host(b), [1.0, 2.0, 3.0])
    b.sum().backward()
    np.testing.assert_allclose(host(a.grad), [0.0, 1.0, 0.0])


def test_zero_and_fill_cut_gradient():
    for op in ("zero_", "fill_"):
        a = leaf([1.0, 2.0])
        b = a * 3
        getattr(b, op)(*(() if op == "zero_" else (2.0,)))
        (b * a).sum().backward()
        np.testing.assert_allclose(host(a.grad), host(b), err_msg=op)  # only the direct factor remains


def test_setitem_gradient_to_base_and_value():
    a = leaf([1.0, 2.0, 3.0])
    v = leaf(7.0)
    b = a * 1
    b[1] = v * 2
    np.testing.assert_allclose(host(b), [1.0, 14.0, 3.0])
    (b * b).sum().backward()
    np.testing.assert_allclose(host(a.grad), [2.0, 0.0, 6.0])  # the overwritten slot gets nothing
    np.testing.assert_allclose(host(v.grad), 2 * 14.0 * 2)


def test_setitem_with_repeated_index_gradient_is_consistent_with_value():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 1
    b[mg.tensor([0, 2])] = 0.0
    b.sum().backward()
    np.testing.assert_allclose(host(a.grad), [0.0, 1.0, 0.0])


def test_chained_in_place_ops_gradient():
    a = leaf([1.0, 2.0])
    b = a * 1
    k = mg.tensor([2.0, 3.0], dtype=mg.float64)
    b.add_(1.0).mul_(k).div_(2.0)  # b = (a + 1) * k / 2
    np.testing.assert_allclose(host(b), (host(a) + 1) * [2.0, 3.0] / 2)
    (b * b).sum().backward()
    np.testing.assert_allclose(host(a.grad), 2 * host(b) * [1.0, 1.5])


def test_mul_by_own_detached_alias_is_refused():
    # The operand shares b's memory: changing b in place while recording is refused up front.
    a = leaf([1.0, 2.0])
    b = a * 1
    with pytest.raises(RuntimeError, match="mul_.*shares memory"):
        b.mul_(b.detach())


def test_leaf_requiring_grad_in_place_refused_outside_no_grad():
    w = leaf([1.0, 2.0])
    for name, call in [("add_", lambda: w.add_(1.0)), ("mul_", lambda: w.mul_(2.0)),
                       ("setitem", lambda: w.__setitem__(0, 3.0)), ("zero_", lambda: w.zero_())]:
        with pytest.raises(RuntimeError, match="leaf") as info:
            call()
        assert "(2,)" in str(info.value), name
    np.testing.assert_allclose(host(w), [1.0, 2.0])
    assert w._version == 0


def test_leaf_in_place_allowed_under_no_grad():
    w = leaf([1.0, 2.0])
    with mg.no_grad():
        w.sub_(mg.tensor([0.5, 0.5], dtype=mg.float64))
        w[1] = 10.0
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(host(w), [0.5, 10.0])
    (w * 2).sum().backward()
    np.testing.assert_allclose(host(w.grad), [2.0, 2.0])


def test_grad_in_place_update_like_an_optimizer():
    w = leaf([1.0, -1.0])
    (w * w).sum().backward()
    g = w.grad
    with mg.no_grad():
        w.add_(g, alpha=-0.25)
    np.testing.assert_allclose(host(w), [0.5, -0.5])
    w.grad.zero_()
    assert w.grad is g and host(g).tolist() == [0.0, 0.0]


# -- views while recording (PyTorch semantics: a view and its base are the same memory) -------------


# minigrad does not re-derive a view's (or its base's) history after an in-place change, so
# while recording it refuses in-place ops on memory shared by several tensors, with an error
# saying so (never silently stale values or gradients). Outside recording they write through.


@pytest.mark.parametrize("case", ["view", "chained-setitem", "base-with-view"])
def test_in_place_on_shared_memory_while_recording_is_refused(case):
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = a * 2
    v = b[0]
    with pytest.raises(RuntimeError, match="shares memory"):
        if case == "view":
            v.mul_(3.0)
        elif case == "chained-setitem":
            b[0][1] = 0.0
        else:
            b.mul_(3.0)
    np.testing.assert_allclose(host(b), [[2.0, 4.0], [6.0, 8.0]])  # nothing half-done


def test_in_place_on_view_without_recording_writes_through():
    a = leaf([1.0, 2.0])
    with mg.no_grad():
        b = a * 2
        v = b[0:1]
        v.mul_(3.0)
        np.testing.assert_allclose(host(b), [6.0, 4.0])
        b.mul_(0.5)
        np.testing.assert_allclose(host(v), [3.0])
