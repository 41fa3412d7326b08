"""spirals() and moons()."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset, moons, spirals


def test_spirals_shapes_balance_and_determinism():
    ds = spirals(301, classes=3, noise=0.1, seed=0)
    assert isinstance(ds, TensorDataset)
    x, y = ds.arrays
    assert x.shape == (301, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [101, 100, 100])
    np.testing.assert_array_equal(spirals(301, 3, 0.1, seed=0).arrays[0], x)
    assert not np.array_equal(spirals(301, 3, 0.1, seed=1).arrays[0], x)


def test_spirals_without_noise_follow_the_formula():
    x, y = spirals(40, classes=4, noise=0.0, seed=0).arrays
    r = np.hypot(x[:, 0], x[:, 1])
    for k in range(4):
        rk = r[y == k]
        np.testing.assert_allclose(rk, np.linspace(0, 1, 10), atol=1e-6)  # radius grows from 0 to 1
        end = x[y == k][-1]  # r = 1, angle = 2*pi*(1 + k/4)
        np.testing.assert_allclose(end, [np.cos(2 * np.pi * k / 4), np.sin(2 * np.pi * k / 4)], atol=1e-6)


def test_moons_geometry_and_determinism():
    x, y = moons(100, noise=0.0, seed=0).arrays
    np.testing.assert_array_equal(np.bincount(y), [50, 50])
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, atol=1e-6)  # unit upper half circle
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1.0, x[y == 1, 1] - 0.5), 1.0, atol=1e-6)
    assert (x[y == 0, 1] >= -1e-6).all() and (x[y == 1, 1] <= 0.5 + 1e-6).all()
    a = moons(50, noise=0.2, seed=3).arrays[0]
    np.testing.assert_array_equal(a, moons(50, noise=0.2, seed=3).arrays[0])
    assert a.std() > 0


def test_global_generator_makes_them_reproducible():
    mg.manual_seed(5)
    a = spirals(30, seed=None).arrays[0]
    mg.manual_seed(5)
    np.testing.assert_array_equal(spirals(30).arrays[0], a)


def test_they_feed_a_loader():
    xb, yb = next(iter(DataLoader(moons(64, seed=0), batch_size=16, shuffle=True, seed=0)))
    assert xb.shape == (16, 2) and yb.dtype == np.int64


def test_bad_arguments():
    with pytest.raises(ValueError, match="n >= classes"):
        spirals(2, classes=3)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        moons(10, noise=-1)
