"""The SciPy-free reference functions the op tests fall back on agree with SciPy."""
import numpy as np
import pytest

import _special

scipy_special = pytest.importorskip("scipy.special")

A = np.concatenate([np.linspace(-40, 40, 81), [-1e4, -745.0, 0.0, 709.0, 1e4]]).reshape(-1, 1) * np.ones((1, 3))
A[:, 1] *= 0.5


@pytest.mark.parametrize("name", ["expit", "erf", "erfc"])
def test_elementwise_references_match_scipy(name):
    np.testing.assert_allclose(getattr(_special, "_" + name)(A), getattr(scipy_special, name)(A), rtol=1e-14,
                               atol=1e-300)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reductions_match_scipy(axis):
    np.testing.assert_allclose(_special._logsumexp(A, axis=axis), scipy_special.logsumexp(A, axis=axis), rtol=1e-14)
    np.testing.assert_allclose(_special._logsumexp(A, axis=axis, keepdims=True),
                               scipy_special.logsumexp(A, axis=axis, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(_special._softmax(A, axis=axis), scipy_special.softmax(A, axis=axis), rtol=1e-13,
                               atol=1e-300)
    np.testing.assert_allclose(_special._log_softmax(A, axis=axis), scipy_special.log_softmax(A, axis=axis),
                               rtol=1e-13)
