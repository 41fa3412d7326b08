"""Normalize, one_hot, Compose and the image warps (shift, rotation, elastic distortion)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.data as D
from minigrad.data.warp import gaussian_matrix


def _host(t):
    a = t._data if isinstance(t, mg.Tensor) else t
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _images(n=4, side=8, seed=0):
    return np.random.default_rng(seed).random((n, side, side)).astype(np.float32)


# -- shifts ------------------------------------------------------------------------------------------------
def test_shift_by_one_pixel_moves_a_known_image_exactly(device):
    img = np.zeros((1, 5, 5), dtype=np.float32)
    img[0, 2, 3] = 1.0
    img[0, 4, 0] = 0.5  # on the bottom edge: shifted down, it falls off
    out = _host(D.shift(mg.tensor(img, device=device), 1, 0))
    want = np.zeros_like(img)
    want[0, 3, 3] = 1.0
    np.testing.assert_array_equal(out, want)
    right = _host(D.shift(mg.tensor(img, device=device), 0, -1))  # one to the left
    want = np.zeros_like(img)
    want[0, 2, 2] = 1.0
    np.testing.assert_array_equal(right, want)


def test_shift_layouts_and_types():
    x = _images(3, 6)
    flat = D.shift(x.reshape(3, 36), 2, 1)
    assert isinstance(flat, np.ndarray) and flat.shape == (3, 36)
    np.testing.assert_array_equal(flat.reshape(3, 6, 6)[:, 2:, 1:], x[:, :-2, :-1])
    chw = D.shift(mg.tensor(np.stack([x, 2 * x], axis=1)), -1, 0)
    assert isinstance(chw, mg.Tensor) and chw.shape == (3, 2, 6, 6)
    np.testing.assert_array_equal(chw.numpy()[:, 1, :-1], 2 * x[:, 1:])
    rect = D.shift(np.ones((2, 12), dtype=np.float32), 0, 1, image_shape=(3, 4))
    np.testing.assert_array_equal(rect.reshape(2, 3, 4)[:, :, 0], 0)
    with pytest.raises(ValueError, match="pass image_shape"):
        D.shift(np.ones((2, 12)), 1, 1)
    with pytest.raises(ValueError, match="does not match 12 features"):
        D.shift(np.ones((2, 12)), 1, 1, image_shape=(3, 3))
    with pytest.raises(ValueError, match="batch of images"):
        D.shift(np.ones(5), 1, 1)


def test_random_shift_stays_in_range_and_is_seeded():
    x = _images(20, 7)
    out = D.random_shift(x, max_shift=2, generator=0)
    seen = set()
    for i in range(20):  # each output equals the input shifted by some (dy, dx) with |dy|, |dx| <= 2
        match = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(out[i], D.shift(x[i:i + 1], dy, dx)[0])]
        assert len(match) == 1
        seen.add(match[0])
    assert len(seen) > 5  # really random
    np.testing.assert_array_equal(out, D.random_shift(x, max_shift=2, generator=0))
    assert not np.array_equal(out, D.random_shift(x, max_shift=2, generator=1))
    np.testing.assert_array_equal(D.random_shift(x, 0, generator=0), x)


# -- rotations -----------------------------------------------------------------------------------------------
def test_rotation_by_zero_is_identity(device):
    x = mg.tensor(_images(5, 9), device=device)
    np.testing.assert_array_equal(_host(D.rotate(x, 0.0)), _host(x))
    np.testing.assert_array_equal(_host(D.random_rotation(x, max_degrees=0.0, generator=0)), _host(x))


def test_rotation_by_90_is_rot90_and_360_is_identity(device):
    x = _images(2, 8)
    got = _host(D.rotate(mg.tensor(x, device=device), 90.0))
    np.testing.assert_allclose(got, np.rot90(x, k=1, axes=(1, 2)), atol=1e-5)  # counter-clockwise as displayed
    np.testing.assert_allclose(_host(D.rotate(x, 360.0)), x, atol=1e-5)


def test_small_rotation_interpolates_and_keeps_the_centre():
    img = np.zeros((1, 9, 9), dtype=np.float32)
    img[0, 4, 4] = 1.0  # the centre pixel is the rotation's fixed point
    out = D.rotate(img, 10.0)
    assert out[0, 4, 4] == pytest.approx(1.0, abs=1e-6)
    stripe = np.zeros((1, 9, 9), dtype=np.float32)
    stripe[0, :, 4] = 1.0
    turned = D.rotate(stripe, 10.0)
    assert 0 < turned.max() <= 1.0 and not np.array_equal(turned, stripe)
    assert abs(turned.sum() - stripe.sum()) < 1.5  # bilinear resampling roughly keeps the mass


def test_random_rotation_is_seeded_and_bounded():
    x = _images(6, 8)
    a = D.random_rotation(x, 15.0, generator=3)
    np.testing.assert_array_equal(a, D.random_rotation(x, 15.0, generator=3))
    assert not np.array_equal(a, D.random_rotation(x, 15.0, generator=4))
    assert a.dtype == np.float32 and a.shape == x.shape
    assert a.min() >= 0.0 and a.max() <= x.max() + 1e-6  # convex combinations of pixels and 0


# -- elastic distortion ------------------------------------------------------------------------------------------
def test_elastic_alpha_zero_is_identity(device):
    x = mg.tensor(_images(3, 10), device=device)
    np.testing.assert_array_equal(_host(D.elastic_distortion(x, alpha=0.0, sigma=2.0, generator=0)), _host(x))


def test_elastic_is_seeded_bounded_and_smooth():
    x = D.digits("train", layout="hw").arrays[0][:8]
    a = D.elastic_distortion(x, alpha=4.0, sigma=1.5, generator=7)
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, D.elastic_distortion(x, alpha=4.0, sigma=1.5, generator=7))
    assert not np.array_equal(a, D.elastic_distortion(x, alpha=4.0, sigma=1.5, generator=8))
    assert not np.array_equal(a, x) and a.min() >= 0.0 and a.max() <= 1.0 + 1e-6
    # a smaller alpha distorts less
    small = D.elastic_distortion(x, alpha=0.5, sigma=1.5, generator=7)
    assert np.abs(small - x).mean() < np.abs(a - x).mean()


def test_gaussian_matrix_is_a_normalised_blur():
    g = gaussian_matrix(np, 30, 2.0)
    np.testing.assert_allclose(g.sum(1)[10:20], 1.0, atol=1e-12)  # interior rows: a full kernel
    assert (g.sum(1) <= 1.0 + 1e-12).all() and g[0].sum() < 1.0  # zeros beyond the edges
    np.testing.assert_allclose(g, g.T)
    assert g[10, 10] > g[10, 11] > g[10, 12] > 0 and g[10, 20] == 0.0  # truncated at 4 sigma = 8
    np.testing.assert_array_equal(gaussian_matrix(np, 5, 0.0), np.eye(5))


def test_warp_objects_for_the_loader():
    ds = D.digits("val")
    aug = D.Compose([D.RandomShift(1, seed=0), D.RandomRotation(8, seed=1), D.ElasticDistortion(2.0, 1.0, seed=2)])
    xb, yb = next(iter(D.DataLoader(ds, batch_size=16, transform=aug)))
    assert xb.shape == (16, 64) and xb.dtype == np.float32 and isinstance(xb, mg.Tensor)
    assert not np.array_equal(xb.numpy(), ds.arrays[0][:16])
    aug2 = D.Compose([D.RandomShift(1, seed=0), D.RandomRotation(8, seed=1), D.ElasticDistortion(2.0, 1.0, seed=2)])
    np.testing.assert_array_equal(aug2(mg.tensor(ds.arrays[0][:16])).numpy(), xb.numpy())
    assert "RandomShift(max_shift=1)" in repr(aug)


def test_random_warps_on_device_are_seeded(device):
    x = mg.tensor(_images(4, 8), device=device)
    for fn in (lambda t, g: D.random_shift(t, 2, generator=g), lambda t, g: D.random_rotation(t, 10, generator=g),
               lambda t, g: D.elastic_distortion(t, 3.0, 1.0, generator=g)):
        a, b = fn(x, 5), fn(x, 5)
        assert a.device == x.device
        np.testing.assert_array_equal(_host(a), _host(b))


# -- Normalize -------------------------------------------------------------------------------------------------
def test_normalize_gives_zero_mean_unit_variance_on_the_training_split():
    train, test = D.digits("train"), D.digits("test")
    norm = D.Normalize().fit(train)
    xtr = norm.apply(train).arrays[0].astype(np.float64)
    varying = train.arrays[0].std(0) > 0
    np.testing.assert_allclose(xtr.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(xtr.std(0)[varying], 1.0, atol=1e-4)
    np.testing.assert_array_equal(xtr[:, ~varying], 0.0)  # constant pixels: centred, not divided by 0
    # The test split is transformed with the *training* statistics, so it is not exactly standardised.
    xte = norm.apply(test).arrays[0]
    tr64 = train.arrays[0].astype(np.float64)
    want = (test.arrays[0] - tr64.mean(0)) / np.where(varying, tr64.std(0), 1.0)
    np.testing.assert_allclose(xte, want, rtol=1e-5, atol=1e-5)
    assert np.abs(xte.mean(0)).max() > 1e-3
    np.testing.assert_array_equal(norm.apply(test).arrays[1], test.arrays[1])


def test_normalize_global_option_and_types():
    x = np.random.default_rng(0).normal(3.0, 2.0, (200, 5)).astype(np.float32)
    norm = D.Normalize(per_feature=False).fit(x)
    assert norm.mean.shape == () and norm.std.shape == ()
    out = norm(mg.tensor(x))
    assert isinstance(out, mg.Tensor) and out.dtype == np.float32
    assert abs(float(out.numpy().mean())) < 1e-5 and abs(float(out.numpy().std()) - 1.0) < 1e-4
    fixed = D.Normalize(mean=0.5, std=0.25, per_feature=False)
    np.testing.assert_allclose(fixed(np.array([[0.5, 1.0]], dtype=np.float32)), [[0.0, 2.0]])


def test_normalize_fits_a_subset_and_roundtrips_its_state():
    ds = D.digits("all")
    sub = D.random_split(ds, [0.8, 0.2], seed=0)[0]
    norm = D.Normalize().fit(sub)
    np.testing.assert_allclose(norm.mean, ds.arrays[0][sub.indices].mean(0), atol=1e-6)
    other = D.Normalize()
    other.load_state_dict(norm.state_dict())
    np.testing.assert_array_equal(other(ds.arrays[0][:3]), norm(ds.arrays[0][:3]))
    assert len(norm.apply(sub)) == len(sub)


def test_normalize_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        D.Normalize()(np.ones((2, 3)))
    norm = D.Normalize().fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"fitted on features of shape \(3,\) but got a batch of shape \(2, 5\)"):
        norm(np.ones((2, 5)))
    with pytest.raises(ValueError, match="both mean and std"):
        D.Normalize(mean=1.0)


def test_normalize_on_device(device):
    x = np.random.default_rng(1).random((10, 4)).astype(np.float32)
    norm = D.Normalize().fit(x)
    out = norm(mg.tensor(x, device=device))
    assert out.device == device
    np.testing.assert_allclose(_host(out), norm(x), atol=1e-6)


# -- one_hot ----------------------------------------------------------------------------------------------------
def test_one_hot():
    out = D.one_hot(mg.tensor([2, 0, 1]))
    assert isinstance(out, mg.Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.float32)[[2, 0, 1]])
    arr = D.one_hot(np.array([1, 1]), num_classes=4, dtype=np.int64)
    assert isinstance(arr, np.ndarray) and arr.shape == (2, 4) and arr.dtype == np.int64
    with pytest.raises(ValueError, match="outside 0..2"):
        D.one_hot(np.array([3]), num_classes=3)
    with pytest.raises(TypeError, match="integer labels"):
        D.one_hot(np.array([0.5]))
