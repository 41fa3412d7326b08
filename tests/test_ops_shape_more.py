"""Shape behaviour the op table cannot express: padding modes and crops, errors, 0-d edge cases
and second derivatives of the diagonal ops on non-square matrices."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.errors import ShapeError

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (PyTorch is the oracle)")


def _x(*shape):
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1.0


# -- padding ----------------------------------------------------------------------------------------

def test_pad_crops_with_negative_widths_and_sends_no_gradient_to_the_cropped_part():
    x = mg.tensor(_x(2, 4), requires_grad=True)
    y = mg.pad(x, (-1, 2, 0, -1), 9.0)
    assert y.tolist() == [[2.0, 3.0, 4.0, 9.0, 9.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]


def test_pad_keeps_the_positional_value_argument():
    assert mg.pad(mg.tensor([1.0]), (1, 0), 5.0).tolist() == [5.0, 1.0]


def test_f_pad_third_argument_is_the_mode():
    x = mg.tensor(_x(1, 3))
    assert F.pad(x, (2, 1), "reflect").tolist() == [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    assert F.pad(x, (2, 1), "replicate").tolist() == [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(x, (2, 1), "circular").tolist() == [[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]
    assert F.pad(x, (1, 1), value=-1.0).tolist() == [[-1.0, 1.0, 2.0, 3.0, -1.0]]


@needs_torch
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_f_pad_matches_pytorch_on_images(mode):
    a = _x(2, 3, 4, 5)
    pads = (1, 2, 3, 0)
    ours = F.pad(mg.tensor(a), pads, mode)
    theirs = torch.nn.functional.pad(torch.tensor(a), pads, mode)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_f_pad_second_derivative(mode):
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 3)), requires_grad=True)
    f = lambda t: F.pad(t, (2, 1, 1, 2), mode) ** 2  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])


def test_f_pad_errors_name_the_problem():
    x = mg.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="mode"):
        F.pad(x, (1, 1), "mirror")
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="circular padding"):
        F.pad(x, (4, 0), "circular")
    with pytest.raises(ShapeError, match="last 1, 2 or 3 dims"):
        F.pad(mg.zeros(3), (1, 1), "reflect")
    with pytest.raises(ShapeError, match="even number"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ShapeError, match="below size 0"):
        F.pad(x, (-2, -2))


# -- triangles, flips, rolls, diagonals -----------------------------------------------------------

def test_shape_op_errors_are_one_clear_line():
    with pytest.raises(ShapeError, match="at least 2 dims"):
        mg.tril(mg.zeros(3))
    with pytest.raises(ShapeError, match="repeated dim"):
        mg.flip(mg.zeros(2, 2), (0, -2))
    with pytest.raises(ValueError, match="same length"):
        mg.roll(mg.zeros(2, 2), (1, 2), 0)
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        mg.diag(mg.zeros(2, 2, 2))
    with pytest.raises(ShapeError, match="different dims"):
        mg.diagonal(mg.zeros(2, 2), 0, 1, -1)
    with pytest.raises(ShapeError, match="0-d"):
        mg.diag_embed(mg.tensor(1.0))


@needs_torch
def test_roll_and_flip_on_a_0d_tensor_follow_pytorch():
    assert mg.roll(mg.tensor(3.0), 2).item() == torch.roll(torch.tensor(3.0), 2).item()
    with pytest.raises(IndexError, match="0-d"):
        mg.roll(mg.tensor(3.0), 2, 0)
    assert mg.flip(mg.tensor(3.0), (0,)).item() == 3.0


@pytest.mark.parametrize("offset", [-2, 0, 1, 3])
def test_diagonal_and_diag_embed_second_derivatives_on_non_square_matrices(offset):
    x = mg.tensor(np.random.default_rng(1).standard_normal((2, 3, 5)), requires_grad=True)
    f = lambda t: mg.diagonal(t, offset, -1, 1) ** 2  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])
    v = mg.tensor(np.random.default_rng(2).standard_normal((2, 3)), requires_grad=True)
    g = lambda t: mg.diag_embed(t, offset, 0, 2) ** 2  # noqa: E731
    assert gradcheck(g, [v]) and gradgradcheck(g, [v])


# -- repeats, windows, grids ----------------------------------------------------------------------

def test_repeat_and_repeat_interleave_errors():
    with pytest.raises(ShapeError, match="at least one per dim"):
        mg.zeros(2, 3).repeat(2)
    with pytest.raises(ShapeError, match="repeat counts"):
        mg.repeat_interleave(mg.zeros(3), mg.tensor([1, 2]))
    with pytest.raises(ValueError, match="integer"):
        mg.repeat_interleave(mg.zeros(3), mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="output_size"):
        mg.repeat_interleave(mg.zeros(3), 2, output_size=5)


@needs_torch
def test_repeat_interleave_counts_alone_follow_pytorch():
    counts = np.array([2, 0, 3])
    ours = mg.repeat_interleave(mg.tensor(counts))
    theirs = torch.repeat_interleave(torch.tensor(counts))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype) == "int64" and not ours.requires_grad


def test_unflatten_and_unfold_errors():
    with pytest.raises(ShapeError, match="multiply to"):
        mg.unflatten(mg.zeros(6), 0, (4, 2))
    with pytest.raises(ShapeError, match="at most one size may be -1"):
        mg.unflatten(mg.zeros(6), 0, (-1, -1))
    with pytest.raises(ShapeError, match="do not divide"):
        mg.unflatten(mg.zeros(6), 0, (4, -1))
    with pytest.raises(ShapeError, match="size 4"):
        mg.zeros(3).unfold(0, 4, 1)
    with pytest.raises(ValueError, match="step"):
        mg.zeros(3).unfold(0, 2, 0)


@needs_torch
def test_unfold_on_a_0d_tensor_and_its_windows_follow_pytorch():
    assert mg.tensor(5.0).unfold(0, 1, 1).tolist() == torch.tensor(5.0).unfold(0, 1, 1).tolist()
    a = _x(2, 7, 3)
    np.testing.assert_array_equal(mg.tensor(a).unfold(1, 3, 2).numpy(), torch.tensor(a).unfold(1, 3, 2).numpy())


def test_meshgrid_accepts_a_list_and_checks_its_arguments():
    xs, ys = mg.meshgrid([mg.tensor([1, 2, 3]), mg.tensor([4, 5])], indexing="xy")
    assert xs.shape == (2, 3) and xs.tolist() == [[1, 2, 3], [1, 2, 3]] and ys.tolist() == [[4, 4, 4], [5, 5, 5]]
    with pytest.raises(ValueError, match="indexing"):
        mg.meshgrid(mg.zeros(2), indexing="yx")
    with pytest.raises(ShapeError, match="0-D or 1-D"):
        mg.meshgrid(mg.zeros(2, 2))
