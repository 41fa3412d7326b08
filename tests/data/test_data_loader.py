"""DataLoader: batching, shuffling determinism, fast path vs per-sample path, devices."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, Subset, TensorDataset


def _ds(n=23, d=4):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = (np.arange(n) % 5).astype(np.int64)
    return TensorDataset(x, y), x, y


class PlainDataset(Dataset):
    """A map-style dataset without whole arrays: forces the per-sample path."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def _collect(loader):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in loader])
    return xs, ys


def test_batches_shapes_dtypes_and_len():
    ds, x, y = _ds(23)
    loader = DataLoader(ds, batch_size=5)
    assert len(loader) == 5
    batches = list(loader)
    assert len(batches) == 5
    assert [b[0].shape for b in batches] == [(5, 4)] * 4 + [(3, 4)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert all(isinstance(t, mg.Tensor) and not t.requires_grad for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)  # in order
    dl = DataLoader(ds, batch_size=5, drop_last=True)
    assert len(dl) == 4 and len(list(dl)) == 4 and all(b[0].shape[0] == 5 for b in dl)


def test_shuffle_covers_every_sample_once_per_epoch_and_epochs_differ():
    ds, x, _ = _ds(40)
    loader = DataLoader(ds, batch_size=7, shuffle=True, seed=0)
    e1 = np.concatenate(_collect(loader)[0])
    e2 = np.concatenate(_collect(loader)[0])
    for e in (e1, e2):
        np.testing.assert_array_equal(np.sort(e[:, 0]), x[:, 0])
    assert not np.array_equal(e1, e2)
    assert not np.array_equal(e1, x)


def test_shuffle_deterministic_with_seed_and_with_manual_seed():
    ds, _, _ = _ds(40)
    a = np.concatenate(_collect(DataLoader(ds, batch_size=6, shuffle=True, seed=5))[1])
    b = np.concatenate(_collect(DataLoader(ds, batch_size=6, shuffle=True, generator=np.random.default_rng(5)))[1])
    np.testing.assert_array_equal(a, b)
    mg.manual_seed(123)
    g1 = np.concatenate(_collect(DataLoader(ds, batch_size=6, shuffle=True))[0])
    mg.manual_seed(123)
    g2 = np.concatenate(_collect(DataLoader(ds, batch_size=6, shuffle=True))[0])
    np.testing.assert_array_equal(g1, g2)


def test_fast_path_matches_per_sample_path():
    ds, x, y = _ds(31)
    fast = DataLoader(ds, batch_size=4, shuffle=True, seed=9)
    slow = DataLoader(PlainDataset(x, y), batch_size=4, shuffle=True, seed=9)
    assert fast._view is not None and slow._view is None
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
        assert sx.dtype == np.float32 and sy.dtype == np.int64
    assert len(fast) == len(slow) == 8


def test_subset_uses_fast_path_with_right_rows():
    ds, x, _ = _ds(30)
    sub = Subset(ds, np.arange(29, -1, -3))
    loader = DataLoader(sub, batch_size=4)
    assert loader._view is not None
    got = np.concatenate([b[0].numpy() for b in loader])
    np.testing.assert_array_equal(got, x[np.arange(29, -1, -3)])
    shuffled = np.concatenate([b[0].numpy() for b in DataLoader(sub, batch_size=4, shuffle=True, seed=0)])
    np.testing.assert_array_equal(np.sort(shuffled[:, 0]), np.sort(x[np.arange(29, -1, -3), 0]))


def test_batches_are_copies():
    ds, x, _ = _ds(10)
    before = x.copy()
    for loader in (DataLoader(ds, batch_size=4), DataLoader(ds, batch_size=4, shuffle=True, seed=0)):
        for xb, _ in loader:
            xb.numpy()[:] = -1.0
    np.testing.assert_array_equal(x, before)


def test_transform_applies_to_features_only():
    ds, x, y = _ds(10)
    loader = DataLoader(ds, batch_size=5, transform=lambda t: t * 2.0)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.numpy(), 2 * x[:5])
    np.testing.assert_array_equal(yb.numpy(), y[:5])


def test_state_dict_resumes_the_shuffle_sequence():
    ds, _, _ = _ds(20)
    a = DataLoader(ds, batch_size=20, shuffle=True, seed=1)
    list(a)
    state = a.state_dict()
    want = next(iter(a))[0].numpy()
    b = DataLoader(ds, batch_size=20, shuffle=True, seed=99)
    b.load_state_dict(state)
    np.testing.assert_array_equal(next(iter(b))[0].numpy(), want)
    with pytest.raises(ValueError, match="global generator"):
        DataLoader(ds, shuffle=True).load_state_dict(state)


def test_single_field_samples_and_python_numbers():
    class Numbers(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return float(i) / 2

    batch = next(iter(DataLoader(Numbers(), batch_size=5)))  # a bare sample gives a bare batch, as in PyTorch
    assert isinstance(batch, mg.Tensor) and batch.dtype == np.float32
    np.testing.assert_allclose(batch.numpy(), [0, 0.5, 1, 1.5, 2])


def test_bad_arguments():
    ds, _, _ = _ds(5)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(object())
    with pytest.raises(ValueError, match="unknown device"):
        DataLoader(ds, device="tpu")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(ds, batch_size=2.5)


def test_device_cpu_keeps_batches_on_cpu(device):
    ds, x, _ = _ds(12)
    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=2, device=device)
    batches = list(loader)
    assert all(b[0].device == device and b[1].device == device for b in batches)
    ref = [b[0].numpy() for b in DataLoader(ds, batch_size=5, shuffle=True, seed=2)]
    for (xb, _), r in zip(batches, ref):
        np.testing.assert_array_equal(xb.cpu().numpy(), r)  # same order on every device
    if device == "cuda":
        assert "cuda:0" in ds._on_device  # moved once, then sliced on the GPU
        moved = ds._on_device["cuda:0"][0]
        list(loader)
        assert ds._on_device["cuda:0"][0] is moved


# -- PyTorch's keywords, samplers and collation ----------------------------------------------------

def test_pytorch_keywords_are_accepted_in_pytorchs_positional_order():
    ds, x, _ = _ds(10)
    # DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory, drop_last)
    loader = DataLoader(ds, 4, False, None, None, 0, None, True, True)
    assert len(loader) == 2 and loader.drop_last and loader.pin_memory
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=0, pin_memory=True, drop_last=False, timeout=0,
                        worker_init_fn=None, multiprocessing_context=None, generator=np.random.default_rng(0),
                        prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True)
    got = np.concatenate([b[0].numpy() for b in loader])
    np.testing.assert_array_equal(np.sort(got[:, 0]), x[:, 0])
    assert isinstance(loader.sampler, mg.utils.data.RandomSampler) and len(loader.sampler) == 10
    assert loader.batch_sampler.batch_size == 4 and len(loader.batch_sampler) == 3


def test_keyword_combinations_pytorch_refuses():
    ds, _, _ = _ds(6)
    cases = [
        (dict(sampler=[0, 1], shuffle=True), "sampler and shuffle=True exclude each other"),
        (dict(batch_sampler=[[0, 1]], batch_size=2), "batch_sampler excludes batch_size"),
        (dict(batch_sampler=[[0, 1]], drop_last=True), "batch_sampler excludes"),
        (dict(batch_size=None, drop_last=True), "batch_size=None turns batching off"),
        (dict(persistent_workers=True), "persistent_workers needs worker processes"),
        (dict(prefetch_factor=2), "prefetch_factor needs worker processes"),
        (dict(multiprocessing_context="fork"), "multiprocessing_context needs worker processes"),
        (dict(num_workers=-1), "num_workers must be a non-negative integer"),
        (dict(num_workers=2, prefetch_factor=0), "prefetch_factor must be a positive integer"),
        (dict(timeout=-1), "timeout must be a non-negative number"),
        (dict(num_workers=1, multiprocessing_context="teleport"), "unknown multiprocessing_context 'teleport'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        DataLoader(ds, num_workers=1, worker_init_fn=3)


@pytest.mark.parametrize("plain", [False, True])
def test_sampler_and_batch_sampler_choose_the_rows(plain):
    from minigrad.utils.data import BatchSampler, SequentialSampler, SubsetRandomSampler

    ds, x, y = _ds(20)
    if plain:  # the per-sample path must agree with the whole-array path
        ds = PlainDataset(x, y)
    picked = [3, 5, 7, 11, 13]
    loader = DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler(picked, generator=0))
    assert len(loader) == 3 and (loader._view is None) == plain
    got = np.concatenate([b[0].numpy()[:, 0] for b in loader])
    np.testing.assert_array_equal(np.sort(got), x[picked, 0])
    loader = DataLoader(ds, batch_size=3, sampler=[19, -1, 0, 4])  # any iterable of indices; negatives count back
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in loader]), x[[19, 19, 0, 4]])
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(range(7)), 3, drop_last=False))
    assert len(loader) == 3
    assert [b[0].shape[0] for b in loader] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in loader]), x[:7])
    loader = DataLoader(ds, batch_sampler=[[2, 9], [4]])
    assert [b[1].numpy().tolist() for b in loader] == [[y[2], y[9]], [y[4]]]
    with pytest.raises(IndexError, match="gave index 20, but the dataset has 20 samples"):
        list(DataLoader(ds, batch_size=2, sampler=[0, 20]))
    if not plain:  # the per-sample path leaves the index to the dataset's own __getitem__
        with pytest.raises(IndexError, match="batch_sampler gave index -21, but the dataset has 20 samples"):
            list(DataLoader(ds, batch_sampler=[[0, -21]]))


def test_random_and_weighted_samplers():
    from minigrad.utils.data import RandomSampler, WeightedRandomSampler

    ds, _, _ = _ds(10)
    first = list(RandomSampler(ds, generator=1))
    assert sorted(first) == list(range(10))
    sampler = RandomSampler(ds, generator=1)
    assert list(sampler) == first and list(sampler) != first  # seeded once, then a new order each epoch
    assert len(list(RandomSampler(ds, num_samples=25))) == 25
    drawn = list(RandomSampler(ds, replacement=True, num_samples=200, generator=0))
    assert len(drawn) == 200 and set(drawn) <= set(range(10)) and len(set(drawn)) < 200 and len(set(drawn)) > 5
    weights = [0.0, 1.0, 0.0, 3.0]
    drawn = list(WeightedRandomSampler(weights, 400, generator=0))
    assert set(drawn) == {1, 3} and 200 < drawn.count(3) < 400
    assert sorted(WeightedRandomSampler(weights, 2, replacement=False, generator=0)) == [1, 3]
    with pytest.raises(ValueError, match="only 2 weights are positive"):
        WeightedRandomSampler(weights, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative finite"):
        WeightedRandomSampler([1.0, -1.0], 2)
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(np.ones(10), 9, generator=0))
    assert len(loader) == 3 and sum(b[0].shape[0] for b in loader) == 9


def test_generator_seed_makes_the_order_reproducible():
    ds, _, _ = _ds(30)
    a = np.concatenate(_collect(DataLoader(ds, batch_size=7, shuffle=True, generator=12))[1])
    b = np.concatenate(_collect(DataLoader(ds, batch_size=7, shuffle=True, generator=12))[1])
    np.testing.assert_array_equal(a, b)


def test_collate_fn_output_is_kept_in_shape_and_made_tensors():
    ds, x, y = _ds(8)

    def as_dict(samples):
        return {"x": np.stack([s[0].numpy() for s in samples]), "n": len(samples)}

    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=as_dict)))
    assert set(batch) == {"x", "n"} and batch["n"] == 3  # numbers stay numbers, arrays become Tensors
    assert isinstance(batch["x"], mg.Tensor)
    np.testing.assert_array_equal(batch["x"].numpy(), x[:3])
    only_x = next(iter(DataLoader(ds, batch_size=3, collate_fn=lambda s: np.stack([t[0].numpy() for t in s]))))
    assert isinstance(only_x, mg.Tensor) and only_x.shape == (3, 4)  # a bare array batch is one Tensor


def test_dict_namedtuple_nested_and_string_samples():
    from collections import namedtuple

    Pair = namedtuple("Pair", "image label")

    class Structured(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"pair": Pair(mg.full((2, 2), float(i)), i), "meta": (f"name{i}", [i * 0.5, bool(i % 2)])}

    batch = next(iter(DataLoader(Structured(), batch_size=3, transform=None)))
    pair = batch["pair"]
    assert isinstance(pair, Pair) and pair.image.shape == (3, 2, 2) and pair.label.dtype == np.int64
    name, (half, odd) = batch["meta"]
    assert name == ["name0", "name1", "name2"]
    assert half.dtype == np.float32 and odd.dtype == np.bool_ and odd.numpy().tolist() == [False, True, False]
    with pytest.raises(TypeError, match="applies to the first field of tuple batches or to a tensor batch"):
        next(iter(DataLoader(Structured(), batch_size=2, transform=lambda t: t)))


def test_default_collate_errors_are_one_line():
    from minigrad.utils.data import default_collate

    with pytest.raises(ValueError, match=r"different shapes: \(2,\) \(sample 0\) and \(3,\) \(sample 1\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="sample 0 has 2 fields but sample 1 is tuple of 3"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="found NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="sample 1 has a str where sample 0 has a int"):
        default_collate([1, "a"])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_collate_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    from minigrad.utils.data import default_collate

    rng = np.random.default_rng(0)
    samples = [(rng.standard_normal(3).astype(np.float32), int(k), np.float64(k / 3), bool(k % 2),
                {"a": rng.integers(0, 9, size=(2, 2)), "b": [k, k + 1]}) for k in range(4)]

    def leaves(batch):
        if isinstance(batch, dict):
            return [v for key in sorted(batch) for v in leaves(batch[key])]
        if isinstance(batch, (tuple, list)):
            return [v for item in batch for v in leaves(item)]
        return [batch]

    ours, theirs = leaves(default_collate(samples)), leaves(torch_collate(samples))
    assert len(ours) == len(theirs) == 7
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The one deliberate difference: Python floats become the default float dtype, not float64.
    assert default_collate([0.5, 1.5]).dtype == np.float32 and torch_collate([0.5, 1.5]).dtype == torch.float64
