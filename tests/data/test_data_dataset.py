"""Dataset, TensorDataset, Subset, random_split."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.data import Dataset, Subset, TensorDataset, random_split


def _ds(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y), x, y


def test_tensordataset_items_are_tensors():
    ds, x, y = _ds()
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, mg.Tensor) and isinstance(yi, mg.Tensor)
    np.testing.assert_array_equal(xi.numpy(), x[3])
    assert yi.item() == 3 and yi.dtype == np.int64
    xs, ys = ds[2:5]
    assert xs.shape == (3, 3)
    np.testing.assert_array_equal(ys.numpy(), [2, 3, 4])
    xs, _ = ds[np.array([9, 0])]
    np.testing.assert_array_equal(xs.numpy(), x[[9, 0]])
    assert ds[-1][1].item() == 9


def test_tensordataset_accepts_tensors_and_keeps_dtype():
    ds = TensorDataset(mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64), mg.tensor([0, 1]))
    assert ds.arrays[0].dtype == np.float64 and ds.arrays[1].dtype == np.int64
    assert all(isinstance(t, mg.Tensor) for t in ds.tensors)


def test_tensordataset_errors():
    with pytest.raises(ValueError, match=r"same first dimension.*\(3, 2\).*\(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    ds, _, _ = _ds(4)
    with pytest.raises(IndexError, match="out of range.*4 samples"):
        ds[4]


def test_base_dataset_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_subset_views_and_composes():
    ds, x, _ = _ds()
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[0][0].numpy(), x[7])
    sub2 = Subset(sub, [2, 0])
    np.testing.assert_array_equal(sub2[0][0].numpy(), x[5])
    arrays, idx = sub2._array_view()
    assert arrays[0] is x
    np.testing.assert_array_equal(idx, [5, 7])
    assert Subset(ds, [-1]).indices[0] == 9
    with pytest.raises(IndexError, match="10 samples"):
        Subset(ds, [10])
    with pytest.raises(TypeError, match="integers"):
        Subset(ds, [0.5])


def test_random_split_lengths_partition_the_data():
    ds, _, _ = _ds(10)
    a, b, c = random_split(ds, [5, 3, 2], seed=0)
    assert [len(a), len(b), len(c)] == [5, 3, 2]
    idx = np.concatenate([a.indices, b.indices, c.indices])
    np.testing.assert_array_equal(np.sort(idx), np.arange(10))


def test_random_split_fractions_and_remainder():
    ds, _, _ = _ds(10)
    parts = random_split(ds, [0.5, 0.25, 0.25], seed=1)
    # floor(5, 2.5, 2.5) = (5, 2, 2); the one left over goes to the first split.
    assert [len(p) for p in parts] == [6, 2, 2]


def test_random_split_seeded_and_global_generator_reproducible():
    ds, _, _ = _ds(50)
    s1 = random_split(ds, [25, 25], seed=3)
    s2 = random_split(ds, [25, 25], generator=np.random.default_rng(3))
    np.testing.assert_array_equal(s1[0].indices, s2[0].indices)
    assert not np.array_equal(s1[0].indices, random_split(ds, [25, 25], seed=4)[0].indices)
    mg.manual_seed(11)
    g1 = random_split(ds, [25, 25])[0].indices
    mg.manual_seed(11)
    g2 = random_split(ds, [25, 25])[0].indices
    np.testing.assert_array_equal(g1, g2)


def test_random_split_bad_lengths():
    ds, _, _ = _ds(10)
    with pytest.raises(ValueError, match="sum to the dataset size 10"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.6])
    with pytest.raises(ValueError, match="either generator= or seed="):
        random_split(ds, [5, 5], generator=np.random.default_rng(0), seed=1)


def test_tensordataset_of_minigrad_tensors_batches_like_pytorch():
    torch = pytest.importorskip("torch")
    from minigrad.utils.data import DataLoader

    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 3
    ours = mg.utils.data.TensorDataset(mg.tensor(x), mg.tensor(y))
    theirs = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 10
    for (a, b), (c, d) in zip(DataLoader(ours, batch_size=4), torch.utils.data.DataLoader(theirs, batch_size=4)):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert a.dtype == np.float32 and b.dtype == np.int64 and d.dtype == torch.int64
    xi, yi = ours[7]
    np.testing.assert_array_equal(xi.numpy(), theirs[7][0].numpy())
    assert yi.item() == theirs[7][1].item()


def test_random_split_sizes_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    for n, fractions in [(10, [0.5, 0.25, 0.25]), (7, [0.3, 0.3, 0.4]), (1797, [0.8, 0.2]), (5, [0.1, 0.9]),
                         (3, [1 / 3, 1 / 3, 1 / 3])]:
        ours = random_split(TensorDataset(np.zeros(n)), fractions, generator=0)
        theirs = torch.utils.data.random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))
        assert [len(p) for p in ours] == [len(p) for p in theirs], (n, fractions)


def test_random_split_of_a_python_dataset_with_a_generator():
    class Squares(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            return i * i

    train, test = random_split(Squares(), [0.75, 0.25], generator=np.random.default_rng(5))
    assert (len(train), len(test)) == (9, 3)
    values = sorted([train[i] for i in range(9)] + [test[i] for i in range(3)])
    assert values == [i * i for i in range(12)]
    again = random_split(Squares(), [0.75, 0.25], generator=np.random.default_rng(5))[0]
    np.testing.assert_array_equal(again.indices, train.indices)


def test_concat_dataset_and_plus():
    from minigrad.utils.data import ConcatDataset

    a, xa, _ = _ds(3)
    b, xb, _ = _ds(4)
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7 and both.cumulative_sizes == [3, 7]
    np.testing.assert_array_equal(both[3][0].numpy(), xb[0])
    np.testing.assert_array_equal(both[-1][0].numpy(), xb[3])
    np.testing.assert_array_equal(both[2][0].numpy(), xa[2])
    with pytest.raises(IndexError, match="index 7 is out of range for a dataset of 7 samples"):
        both[7]
    with pytest.raises(ValueError, match="at least one dataset"):
        ConcatDataset([])
    batches = list(mg.utils.data.DataLoader(both, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([x.numpy() for x, _ in batches]), np.concatenate([xa, xb]))
