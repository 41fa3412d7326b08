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

    (batch,) = next(iter(DataLoader(Numbers(), batch_size=5)))
    assert batch.dtype == np.float32
    np.testing.assert_allclose(batch.numpy(), [0, 0.5, 1, 1.5, 2])


def test_bad_arguments():
    ds, _, _ = _ds(5)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(object())
    with pytest.raises(ValueError, match="unknown device"):
        DataLoader(ds, device="tpu")


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
