"""Shared fixtures: the ``device`` parameter (CUDA cases skip cleanly without a GPU) and
hypothesis profiles."""
import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad as mg

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CUDA_REASON = "CUDA not available (needs CuPy and a CUDA GPU)"
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not mg.cuda.is_available(), reason=CUDA_REASON))]


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test once per device; CUDA cases skip with a clear reason where no GPU exists."""
    return request.param


@pytest.fixture(autouse=True)
def _reset_grad_mode():
    yield
    mg.autograd.grad_mode.GradMode.enabled = True
