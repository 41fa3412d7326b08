"""Bitwise ops (& | ^ ~, bitwise_and/or/xor/not) and the logical ops (logical_and/or/xor/not),
as PyTorch: bitwise on bool and integer tensors (logical on bools, two's complement on integers),
float operands refused in one line; logical on any dtype with nonzero as true, giving bool.
None of them is differentiable.  (Their promotion for every dtype pair is in test_promotion.py.)"""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as mst

from _helpers import host, with_device

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
BITWISE = {"bitwise_and": (operator.and_, np.bitwise_and), "bitwise_or": (operator.or_, np.bitwise_or),
           "bitwise_xor": (operator.xor, np.bitwise_xor)}
LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor}


def ints(dtype: str, shape) -> st.SearchStrategy:
    """Integer arrays over the dtype's whole range (its extremes included)."""
    info = np.iinfo(dtype)
    return mst.arrays(shape, np.dtype(dtype), st.integers(int(info.min), int(info.max)))


def bools_or_ints(dtype: str, shape) -> st.SearchStrategy:
    return mst.arrays(shape, bool, st.booleans()) if dtype == "bool" else ints(dtype, shape)


def test_invert_is_bitwise_not():
    t = mg.tensor([1, -8], dtype=mg.int32)
    np.testing.assert_array_equal(host(~t), [-2, 7])
    assert (~t).dtype == mg.int32
    np.testing.assert_array_equal(host(~mg.tensor([0, 255], dtype=mg.uint8)), [255, 0])
    np.testing.assert_array_equal(host(~mg.tensor([True, False])), [False, True])
    np.testing.assert_array_equal(host(mg.bitwise_not(t)), [-2, 7])
    np.testing.assert_array_equal(host(t.bitwise_not()), [-2, 7])


@pytest.mark.parametrize("make", [lambda t: ~t, mg.bitwise_not, lambda t: t & 1, lambda t: 1 | t,
                                  lambda t: t ^ mg.tensor([1, 2]), lambda t: mg.tensor([True, False]) & t,
                                  lambda t: mg.bitwise_and(mg.tensor([1, 2]), t)])
def test_bitwise_refuses_floats_in_one_line(make):
    with pytest.raises(TypeError) as info:
        make(mg.tensor([1.5, 2.0]))
    msg = str(info.value)
    assert "\n" not in msg and "float32" in msg, msg


def test_integer_bitwise_with_numbers_and_reflected_forms():
    t = mg.tensor([1, 2, 6], dtype=mg.int16)
    for out, want in [(t & 3, [1, 2, 2]), (3 & t, [1, 2, 2]), (t | 8, [9, 10, 14]), (8 | t, [9, 10, 14]),
                      (t ^ 3, [2, 1, 5]), (3 ^ t, [2, 1, 5]), (t & True, [1, 0, 0]),
                      (t.bitwise_and(3), [1, 2, 2]), (t.bitwise_or(8), [9, 10, 14]), (t.bitwise_xor(3), [2, 1, 5])]:
        assert out.dtype == mg.int16  # numbers do not widen the tensor's dtype
        np.testing.assert_array_equal(host(out), want)
    b = mg.tensor([True, False])
    assert (b & True).dtype == mg.bool and (b & 3).dtype == mg.int64  # an int number with bools: int64
    np.testing.assert_array_equal(host(b & 3), [1, 0])
    np.testing.assert_array_equal(host(3 | b), [3, 3])


@pytest.mark.parametrize("name", sorted(BITWISE))
@with_device
@given(data=st.data(), dtypes=st.tuples(st.sampled_from(INT_DTYPES + ["bool"]), st.sampled_from(INT_DTYPES + ["bool"])),
       shapes=mst.broadcastable_shapes(2, max_dims=3))
def test_bitwise_matches_numpy(device, name, data, dtypes, shapes):
    arrs = [data.draw(bools_or_ints(d, s)) for d, s in zip(dtypes, shapes)]
    x, y = (mg.tensor(a, device=device) for a in arrs)
    op, ref = BITWISE[name]
    dt = mg.result_type(x, y)
    want = ref(*(a.astype(dt) for a in arrs))
    for out in (op(x, y), getattr(mg, name)(x, y), getattr(x, name)(y)):
        assert out.dtype == dt and not out.requires_grad
        np.testing.assert_array_equal(host(out), want)


@with_device
@given(data=st.data(), dtype=st.sampled_from(INT_DTYPES), shape=mst.shapes(max_dims=3))
def test_bitwise_not_is_minus_x_minus_one(device, data, dtype, shape):
    a = data.draw(ints(dtype, shape))
    out = ~mg.tensor(a, device=device)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(host(out), (-a.astype(np.int64) - 1).astype(dtype))  # two's complement wrap


def test_logical_ops_treat_nonzero_as_true():
    x, y = mg.tensor([1, 2, 0]), mg.tensor([2, 1, 3])
    np.testing.assert_array_equal(host(mg.logical_and(x, y)), [True, True, False])
    np.testing.assert_array_equal(host(mg.logical_or(x, y)), [True, True, True])
    np.testing.assert_array_equal(host(mg.logical_xor(x, y)), [False, False, True])
    f = mg.tensor([0.0, -0.0, 0.5, float("nan")])  # NaN is nonzero: true
    np.testing.assert_array_equal(host(mg.logical_or(f, 0)), [False, False, True, True])
    np.testing.assert_array_equal(host(f.logical_and(mg.tensor(2))), [False, False, True, True])
    np.testing.assert_array_equal(host(x.logical_xor(f[:3])), [True, True, True])
    np.testing.assert_array_equal(host(x.logical_not()), [False, False, True])
    for out in (mg.logical_and(x, y), mg.logical_or(f, 1.5), mg.logical_xor(2, x)):
        assert out.dtype == mg.bool


@pytest.mark.parametrize("name", sorted(LOGICAL))
@with_device
@given(data=st.data(), dtypes=st.tuples(st.sampled_from(INT_DTYPES + ["float32", "float64"]),
                                        st.sampled_from(INT_DTYPES + ["float32", "bool"])),
       shapes=mst.broadcastable_shapes(2, max_dims=3))
def test_logical_matches_numpy(device, name, data, dtypes, shapes):
    arrs = [data.draw(mst.arrays(s, np.dtype(d), st.sampled_from([0, 1, 2]).map(np.dtype(d).type)))
            for d, s in zip(dtypes, shapes)]
    x, y = (mg.tensor(a, device=device) for a in arrs)
    for out in (getattr(mg, name)(x, y), getattr(x, name)(y)):
        assert out.dtype == mg.bool and not out.requires_grad
        np.testing.assert_array_equal(host(out), LOGICAL[name](*arrs))


def test_logical_and_bitwise_results_are_off_the_graph():
    x = mg.tensor([0.0, 1.0, 2.0], requires_grad=True)
    for out in (mg.logical_and(x, 1.0), mg.logical_not(x), x > 0, (x > 0) & (x < 2), ~(x > 1)):
        assert out.dtype == mg.bool and not out.requires_grad and out.grad_fn is None


def test_bool_masks_combine_as_before():
    a = mg.tensor([1.0, -2.0, 3.0, float("nan")])
    mask = (a > 0) & ~(a > 2) | (a != a)
    np.testing.assert_array_equal(host(mask), [True, False, False, True])
    np.testing.assert_array_equal(host((a > 0) ^ (a > 2)), [True, False, False, False])


# -- against torch ---------------------------------------------------------------------------------


@given(data=st.data(), dtypes=st.tuples(st.sampled_from(INT_DTYPES + ["bool"]), st.sampled_from(INT_DTYPES + ["bool"])),
       shapes=mst.broadcastable_shapes(2, max_dims=3), number=st.sampled_from([3, -1, True, np.int8(5)]))
def test_bitwise_and_logical_match_torch(data, dtypes, shapes, number):
    torch = pytest.importorskip("torch")
    arrs = [data.draw(bools_or_ints(d, s)) for d, s in zip(dtypes, shapes)]
    x, y = (mg.tensor(a) for a in arrs)
    tx, ty = (torch.from_numpy(a.copy()) for a in arrs)
    pairs = [(x & y, tx & ty), (x | y, tx | ty), (x ^ y, tx ^ ty), (~x, ~tx),
             (mg.logical_and(x, y), torch.logical_and(tx, ty)), (mg.logical_or(x, y), torch.logical_or(tx, ty)),
             (mg.logical_xor(x, y), torch.logical_xor(tx, ty)), (mg.logical_not(y), torch.logical_not(ty))]
    if not (number == -1 and dtypes[0] == "uint8"):  # (torch wraps -1 into uint8; NumPy refuses it)
        tn = int(number) if isinstance(number, np.integer) else number
        pairs += [(x & number, tx & tn), (number | x, tn | tx), (x ^ number, tx ^ tn)]
    for got, want in pairs:
        assert got.dtype == np.dtype(str(want.dtype).replace("torch.", "")), (got.dtype, want.dtype)
        np.testing.assert_array_equal(host(got), want.numpy())


def test_equality_with_non_operands_is_identity():
    t = mg.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711  (as PyTorch)
    assert (t == "a") is False
    with pytest.raises(TypeError):
        mg.eq(t, None)
