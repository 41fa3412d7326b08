"""Indexing and sorting behaviour the op table cannot express: errors, named results, edge cases."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import ShapeError

torch = pytest.importorskip("torch")


def test_sort_returns_a_named_pair_and_is_stable_descending():
    x = mg.tensor([2.0, 1.0, 2.0, 3.0])
    out = mg.sort(x, descending=True)
    values, indices = out
    assert type(out).__name__ == "sort" and out.values is values
    np.testing.assert_array_equal(indices.numpy(), [3, 0, 2, 1])
    assert not indices.requires_grad


def test_sort_values_send_the_gradient_to_the_selected_index():
    x = mg.tensor([1.0, 1.0, 0.0], requires_grad=True)
    mg.topk(x, 1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0])


def test_median_nan_and_empty_follow_pytorch():
    a = np.array([1.0, np.nan, 2.0, np.nan])
    v, i = mg.median(mg.tensor(a), 0)
    tv, ti = torch.median(torch.tensor(a), 0)
    assert np.isnan(v.item()) and i.item() == ti.item()
    assert np.isnan(mg.median(mg.tensor(np.zeros(0))).item())


def test_mode_picks_the_smallest_most_frequent_value_and_its_last_position():
    a = np.array([[1, 2, 2, 3, 3, 0], [5, 5, 4, 4, 4, 5]])
    v, i = mg.mode(mg.tensor(a), 1)
    tv, ti = torch.mode(torch.tensor(a), 1)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_scatter_with_a_larger_src_reads_its_leading_block():
    x = np.zeros((3, 3))
    idx = np.array([[0, 1], [2, 0]])
    src = np.arange(12.0).reshape(3, 4)
    ours = mg.scatter(mg.tensor(x), 0, mg.tensor(idx), mg.tensor(src))
    theirs = torch.scatter(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(src))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    s = mg.tensor(src, requires_grad=True)
    mg.scatter_add(mg.tensor(x), 0, mg.tensor(idx), s).sum().backward()
    assert s.grad.shape == (3, 4) and s.grad.numpy().sum() == 4


def test_scatter_reduce_integer_mean_rounds_down():
    x, idx, src = torch.tensor([1, -2]), torch.tensor([0, 0, 1]), torch.tensor([3, 4, -5])
    ours = mg.scatter_reduce(mg.tensor(x.numpy()), 0, mg.tensor(idx.numpy()), mg.tensor(src.numpy()), "mean")
    np.testing.assert_array_equal(ours.numpy(), torch.scatter_reduce(x, 0, idx, src, "mean").numpy())


@pytest.mark.parametrize("call, error", [
    (lambda x, i: mg.gather(x, 0, i + 5), IndexError),
    (lambda x, i: mg.gather(x, 0, i - 1), IndexError),
    (lambda x, i: mg.scatter(x, 0, i.float(), x), TypeError),
    (lambda x, i: mg.scatter_reduce(x, 0, i, x, "max"), ValueError),
    (lambda x, i: mg.index_add(x, 0, i, mg.ones(5, 2, dtype=x.dtype)), ShapeError),
    (lambda x, i: mg.index_select(x, 2, i[:, 0]), IndexError),
    (lambda x, i: mg.topk(x, 4), IndexError),
    (lambda x, i: mg.kthvalue(x, 0), IndexError),
    (lambda x, i: mg.masked_select(x, x), TypeError),
    (lambda x, i: mg.unique(x, dim=0), NotImplementedError),
])
def test_bad_arguments_raise_one_clear_error(call, error):
    x = mg.tensor(np.arange(6.0).reshape(3, 2))
    i = mg.tensor(np.array([[0, 1], [1, 2]]))
    with pytest.raises(error):
        call(x, i)


def test_nonzero_of_a_0d_tensor_and_as_tuple():
    assert mg.nonzero(mg.tensor(1.0)).shape == (1, 0)
    assert mg.nonzero(mg.tensor(0.0)).shape == (0, 0)
    rows, cols = mg.nonzero(mg.tensor([[0, 1], [1, 0]]), as_tuple=True)
    np.testing.assert_array_equal(rows.numpy(), [0, 1])
    np.testing.assert_array_equal(cols.numpy(), [1, 0])


def test_methods_match_functions():
    x = mg.tensor([[3.0, 1.0], [2.0, 4.0]])
    np.testing.assert_array_equal(x.sort(1).values.numpy(), mg.sort(x, 1).values.numpy())
    np.testing.assert_array_equal(x.argsort(0).numpy(), mg.argsort(x, 0).numpy())
    np.testing.assert_array_equal(x.unique().numpy(), [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("name", ["scatter_", "scatter_add_", "index_add_"])
def test_in_place_variants_match_the_op_and_bump_the_version(name):
    x = np.arange(6.0).reshape(3, 2)
    idx = np.array([[2, 0]]) if name != "index_add_" else np.array([2, 0])
    src = np.array([[10.0, 20.0]]) if name != "index_add_" else np.ones((2, 2))
    t = mg.tensor(x.copy())
    before = t._version
    out = getattr(t, name)(0, mg.tensor(idx), mg.tensor(src))
    assert out is t and t._version == before + 1
    expected = getattr(torch.tensor(x), name)(0, torch.tensor(idx), torch.tensor(src))
    np.testing.assert_array_equal(t.numpy(), expected.numpy())


def test_in_place_scatter_is_recorded_and_a_saved_input_changed_in_place_is_an_error():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 1.0
    y.scatter_(0, mg.tensor([0]), value=5.0)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 1.0, 1.0])
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    c = b * b  # saves b
    b.index_add_(0, mg.tensor([0]), mg.tensor([1.0]))
    with pytest.raises(RuntimeError):
        c.sum().backward()
