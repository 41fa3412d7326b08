"""Linear algebra beyond the op table: errors, options and edge cases (mg.linalg, einsum,
tensordot, cross...)."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops.linalg import LinAlgError

try:
    import torch
except ImportError:  # the bare environment: PyTorch comparisons skip
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

rng = np.random.default_rng(0)


def leaf(a):
    return mg.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def test_linalg_is_the_namespace_module():
    import minigrad.linalg

    assert mg.linalg is minigrad.linalg
    assert mg.linalg.matmul is mg.matmul
    assert callable(mg.linalg.inv) and callable(mg.linalg.cross)


@pytest.mark.parametrize("equation, shapes, error", [
    ("ij,jk->ik", [(2, 3), (4, 5)], mg.ShapeError),
    ("ij->ii", [(2, 2)], ValueError),
    ("ij->k", [(2, 2)], ValueError),
    ("ij", [(2, 2, 2)], mg.ShapeError),
    ("i,j", [(2,)], ValueError),
    ("i1->i", [(2, 2)], ValueError),
    ("ii->i", [(2, 3)], mg.ShapeError),
])
def test_einsum_refuses_bad_equations(equation, shapes, error):
    with pytest.raises(error):
        mg.einsum(equation, *[mg.ones(*s) for s in shapes])


def test_einsum_takes_a_list_and_gives_second_derivatives():
    a, b = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal((3, 3)))
    out = mg.einsum("ij,jj->i", [a, b])
    assert np.allclose(out.detach().numpy(), a.detach().numpy() @ np.diag(b.detach().numpy()))
    assert gradcheck(lambda x, y: mg.einsum("ij,jj->i", x, y), [a, b])
    assert gradgradcheck(lambda x, y: mg.einsum("ij,jj->i", x, y), [a, b])


def test_einsum_output_owns_its_memory():
    x = mg.tensor(np.eye(3))
    y = mg.einsum("ij->ji", x)
    y._data[0, 1] = 5.0
    assert x._data[1, 0] == 0.0


def test_tensordot_refuses_mismatched_dims():
    with pytest.raises(mg.ShapeError):
        mg.tensordot(mg.ones(2, 3), mg.ones(4, 5), dims=1)
    with pytest.raises(ValueError):
        mg.tensordot(mg.ones(2, 3), mg.ones(3, 5), dims=([1], [0, 1]))


def test_bmm_mv_dot_refuse_wrong_shapes_and_dtypes():
    with pytest.raises(mg.ShapeError):
        mg.bmm(mg.ones(2, 2, 3), mg.ones(1, 3, 2))
    with pytest.raises(mg.ShapeError):
        mg.mv(mg.ones(2, 3), mg.ones(2))
    with pytest.raises(TypeError):
        mg.mv(mg.ones(2, 3), mg.ones(3, dtype=mg.float64))
    with pytest.raises(mg.ShapeError):
        mg.outer(mg.ones(2, 2), mg.ones(2))


def test_cross_needs_a_size_3_dim():
    with pytest.raises(mg.ShapeError):
        mg.cross(mg.ones(2, 4), mg.ones(2, 4))
    with pytest.raises(mg.ShapeError):
        mg.linalg.cross(mg.ones(3, 2), mg.ones(3, 2))
    x = mg.tensor([[1, 0, 0]])
    assert mg.cross(x, mg.tensor([[0, 1, 0]]), dim=1).tolist() == [[0, 0, 1]]
    assert mg.tensor([1.0, 0, 0]).cross(mg.tensor([0.0, 1, 0])).tolist() == [0, 0, 1]


def test_singular_and_indefinite_matrices_raise_one_clear_error():
    with pytest.raises(LinAlgError, match="linalg.inv"):
        mg.linalg.inv(mg.zeros(2, 2))
    with pytest.raises(LinAlgError, match="linalg.solve"):
        mg.linalg.solve(mg.zeros(2, 2), mg.ones(2))
    with pytest.raises(LinAlgError, match="linalg.cholesky"):
        mg.linalg.cholesky(-mg.eye(2))
    assert isinstance(LinAlgError("x"), RuntimeError)


@pytest.mark.parametrize("fn", [mg.linalg.inv, mg.linalg.det, mg.linalg.cholesky, mg.linalg.svdvals])
def test_integer_and_vector_inputs_are_refused(fn):
    with pytest.raises(TypeError):
        fn(mg.tensor([[1, 0], [0, 1]]))
    with pytest.raises(mg.ShapeError):
        fn(mg.ones(3))


def test_non_square_input_is_refused():
    with pytest.raises(mg.ShapeError):
        mg.linalg.inv(mg.ones(2, 3))


def test_det_of_empty_and_slogdet_of_negative():
    assert mg.linalg.det(mg.zeros(0, 0)).item() == 1.0
    sign, logabsdet = mg.linalg.slogdet(mg.tensor([[-2.0, 0.0], [0.0, 3.0]], dtype=mg.float64))
    assert sign.item() == -1.0 and math.isclose(logabsdet.item(), math.log(6.0))


def test_det_and_inv_second_derivatives():
    a = leaf(rng.standard_normal((2, 3, 3)) + 4 * np.eye(3))
    assert gradgradcheck(mg.linalg.det, [a])
    assert gradgradcheck(mg.linalg.inv, [a])


def test_svd_shapes_with_and_without_full_matrices():
    a = mg.tensor(rng.standard_normal((2, 4, 3)))
    U, S, Vh = mg.linalg.svd(a)
    assert (U.shape, S.shape, Vh.shape) == ((2, 4, 4), (2, 3), (2, 3, 3))
    U, S, Vh = mg.linalg.svd(a, full_matrices=False)
    assert (U.shape, S.shape, Vh.shape) == ((2, 4, 3), (2, 3), (2, 3, 3))
    full = mg.linalg.svd(a).U.numpy()
    assert np.allclose(np.swapaxes(full, -1, -2) @ full, np.eye(4), atol=1e-5)


def test_qr_only_reduced_and_eigh_checks_uplo():
    with pytest.raises(ValueError):
        mg.linalg.qr(mg.ones(3, 2), mode="complete")
    with pytest.raises(ValueError):
        mg.linalg.eigh(mg.eye(2), UPLO="X")


def test_eigh_reads_one_triangle():
    a = np.array([[2.0, 100.0], [1.0, 3.0]])
    lower = mg.linalg.eigvalsh(mg.tensor(a)).numpy()
    upper = mg.linalg.eigvalsh(mg.tensor(a), UPLO="U").numpy()
    assert np.allclose(lower, np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 3.0]])))
    assert np.allclose(upper, np.linalg.eigvalsh(np.array([[2.0, 100.0], [100.0, 3.0]])))


def test_norm_options():
    x = mg.tensor([[3.0, -4.0], [0.0, 0.0]])
    assert mg.linalg.vector_norm(x, ord=0).item() == 2.0
    assert mg.linalg.norm(x).item() == 5.0
    with pytest.raises(mg.ShapeError):
        mg.linalg.norm(mg.ones(2, 2, 2), ord=2)
    with pytest.raises(ValueError):
        mg.linalg.norm(mg.ones(3), ord="fro")
    with pytest.raises(RuntimeError):
        mg.linalg.vector_norm(mg.zeros(0), ord=math.inf)
    with pytest.raises(TypeError):
        mg.linalg.vector_norm(mg.tensor([1, 2]))
    with pytest.raises(ValueError):
        mg.linalg.matrix_norm(mg.ones(2, 2), ord=3)
    assert mg.linalg.matrix_norm(mg.zeros(0, 3)).item() == 0.0


def test_vector_norm_ord_0_has_a_zero_gradient():
    x = mg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    out = mg.linalg.vector_norm(x, ord=0)
    if out.requires_grad:
        out.backward()
    assert x.grad is None or not x.grad.numpy().any()


@needs_torch
def test_wide_qr_and_full_svd_gradients_match_pytorch():
    a = rng.standard_normal((2, 4)) + np.array([[4.0, 0, 0, 0], [0, 8.0, 0, 0]])
    ours, theirs = leaf(a), torch.tensor(a, requires_grad=True)
    for L, x in ((mg, ours), (torch, theirs)):
        Q, R = L.linalg.qr(x)
        U, S, Vh = L.linalg.svd(x)
        (Q.sum() * 0 + (Q @ R).sum() + (R * R).sum() + S.sum() + (U[:, :2] ** 2 * 1.5).sum() + (Vh[:2] ** 2).sum() * 2
         ).backward()
    assert np.allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-9), (ours.grad, theirs.grad)


@needs_torch
def test_einsum_and_tensordot_match_pytorch():
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    ta, tb = torch.tensor(a), torch.tensor(b)
    assert np.allclose(mg.tensordot(mg.tensor(a), mg.tensor(b), dims=([1, 2], [1, 0])).numpy(),
                       torch.tensordot(ta, tb, dims=([1, 2], [1, 0])).numpy())
    assert np.allclose(mg.einsum("bij,jik", mg.tensor(a), mg.tensor(b)).numpy(),
                       torch.einsum("bij,jik", ta, tb).numpy())
