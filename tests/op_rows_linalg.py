"""Op table rows: linear algebra (see tests/op_table.py).

Factorization inputs are drawn well conditioned: matrices with a dominant diagonal (inv, det,
solve, cholesky), or with a spread added to the diagonal so eigen- and singular values stay
apart (eigh, svd).  Eigen- and singular vectors are unique only up to sign, so those rows return
sign-free quantities (V∘V, sign-fixed Q and R)."""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_table import FLOATS, INTS, Case, add_row, array, elements, shapes

F = "linear algebra"
NUMERIC = FLOATS + INTS


def batch(draw, max_dims=2, min_side=0):
    return draw(shapes(0, max_dims, min_side, 2))


def matmul_case(draw, dtype):
    m, k, n = (draw(st.integers(0, 3)) for _ in range(3))
    b1, b2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2)).input_shapes
    kx, ky = draw(st.sampled_from(["vector", "matrix", "batch"])), draw(st.sampled_from(["vector", "matrix", "batch"]))
    sx = (k,) if kx == "vector" else (m, k) if kx == "matrix" else b1 + (m, k)
    sy = (k,) if ky == "vector" else (k, n) if ky == "matrix" else b2 + (k, n)
    return Case([array(draw, sx, dtype), array(draw, sy, dtype)])


def dot_case(draw, dtype):
    n = draw(st.integers(0, 4))
    return Case([array(draw, (n,), dtype), array(draw, (n,), dtype)])


def bmm_case(draw, dtype):
    b, m, k, n = (draw(st.integers(0, 3)) for _ in range(4))
    return Case([array(draw, (b, m, k), dtype), array(draw, (b, k, n), dtype)])


def mv_case(draw, dtype):
    m, k = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return Case([array(draw, (m, k), dtype), array(draw, (k,), dtype)])


def outer_case(draw, dtype):
    return Case([array(draw, (draw(st.integers(0, 4)),), dtype), array(draw, (draw(st.integers(0, 4)),), dtype)])


def kron_case(draw, dtype):
    return Case([array(draw, draw(shapes(0, 3, 0, 3)), dtype), array(draw, draw(shapes(0, 3, 0, 3)), dtype)])


#: (equation, operand shapes from sizes i, j, k, b)
EINSUM = [
    ("ij,jk->ik", lambda i, j, k, b: [(i, j), (j, k)]),
    ("bij,bjk->bik", lambda i, j, k, b: [(b, i, j), (b, j, k)]),
    ("i,i->", lambda i, j, k, b: [(i,), (i,)]),
    ("i,j", lambda i, j, k, b: [(i,), (j,)]),
    ("ii->i", lambda i, j, k, b: [(i, i)]),
    ("ii", lambda i, j, k, b: [(i, i)]),
    ("ij->", lambda i, j, k, b: [(i, j)]),
    ("ji", lambda i, j, k, b: [(i, j)]),
    ("...ij,...jk->...ik", lambda i, j, k, b: [(b, 1, i, j), (2, j, k)]),
    ("...i,...i", lambda i, j, k, b: [(b, i), (i,)]),
    ("bij,jk,bk->bi", lambda i, j, k, b: [(b, i, j), (j, k), (b, k)]),
    ("iij->j", lambda i, j, k, b: [(i, i, j)]),
    ("ij,ij->ij", lambda i, j, k, b: [(1, j), (i, j)]),
    ("i,ij->j", lambda i, j, k, b: [(i,), (i, j)]),
]


def einsum_case(draw, dtype):
    eq, make = draw(st.sampled_from(EINSUM))
    sizes = [draw(st.integers(0, 3)) for _ in range(4)]
    return Case([array(draw, s, dtype) for s in make(*sizes)], {"equation": eq})


def tensordot_case(draw, dtype):
    shared = tuple(draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2))))
    left = tuple(draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2))))
    right = tuple(draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2))))
    if draw(st.booleans()):
        return Case([array(draw, left + shared, dtype), array(draw, shared + right, dtype)], {"dims": len(shared)})
    # explicit dims: a's shared dims at the front (reversed), b's at the back
    a = array(draw, shared[::-1] + left, dtype)
    b = array(draw, right + shared, dtype)
    n = len(shared)
    dims_a = [n - 1 - i for i in range(n)]
    dims_b = [len(right) + i - b.ndim for i in range(n)]
    return Case([a, b], {"dims": (dims_a, dims_b)})


def cross_case(explicit_only):
    def draw_case(draw, dtype):
        s1, s2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2)).input_shapes
        nd = max(len(s1), len(s2))
        s1, s2 = (1,) * (nd - len(s1)) + s1, (1,) * (nd - len(s2)) + s2
        pos = draw(st.integers(0, nd))
        s1, s2 = s1[:pos] + (3,) + s1[pos:], s2[:pos] + (3,) + s2[pos:]
        options = {"dim": pos - nd - 1 if draw(st.booleans()) else pos}
        if not explicit_only and draw(st.booleans()):
            options = {}
        return Case([array(draw, s1, dtype), array(draw, s2, dtype)], options)
    return draw_case


def vector_norm_case(draw, dtype):
    s = draw(shapes(1, 3, 1, 3))
    ord_ = draw(st.sampled_from([2, 1, 3, 0.5, math.inf, -math.inf, -1, -2.5]))
    dim = draw(st.sampled_from([None, -1, (0, -1) if len(s) > 1 else 0]))
    values = elements(dtype, -3, 3, avoid=(0.0,), margin=0.1)
    return Case([array(draw, s, dtype, values, unique=True)], {"ord": ord_, "dim": dim, "keepdim": draw(st.booleans())})


def matrix_norm_case(draw, dtype):
    s = draw(shapes(0, 1, 1, 2)) + (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ord_ = draw(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]))
    values = elements(dtype, -3, 3, avoid=(0.0,), margin=0.1)
    a = array(draw, s, dtype, values, unique=True)
    if ord_ in ("nuc", 2, -2):  # distinct, non-zero singular values
        a = a + _spread(s, dtype)
    dim = draw(st.sampled_from([(-2, -1), (-1, -2)] + ([(0, -1)] if len(s) == 3 else [])))
    return Case([a], {"ord": ord_, "dim": dim, "keepdim": draw(st.booleans())})


def norm_case(draw, dtype):
    s = draw(shapes(1, 3, 1, 3))
    values = elements(dtype, -3, 3, avoid=(0.0,), margin=0.1)
    a = array(draw, s, dtype, values)
    choice = draw(st.sampled_from(["all", "vector", "matrix", "ord"]))
    if choice == "all":
        return Case([a], {"keepdim": draw(st.booleans())})
    if choice == "vector" or len(s) < 2:
        return Case([a], {"ord": draw(st.sampled_from([None, 1, 2, math.inf])), "dim": -1})
    if choice == "matrix":
        return Case([a], {"ord": draw(st.sampled_from([None, "fro", 1, math.inf])), "dim": (-2, -1)})
    return Case([a[(0,) * (len(s) - 2)]], {"ord": draw(st.sampled_from(["fro", 1, -math.inf]))})


def _spread(shape, dtype):
    """4, 8, 12... on the leading diagonal of the last two dims (eigen/singular values apart)."""
    m, n = shape[-2], shape[-1]
    d = np.zeros((m, n), dtype=dtype)
    for i in range(min(m, n)):
        d[i, i] = 4.0 * (i + 1)
    return d


def dominant(draw, dtype, n, batch_shape, signs=False):
    """Matrices with a dominant diagonal (well conditioned), entries in [-1, 1] off it."""
    a = array(draw, batch_shape + (n, n), dtype, elements(dtype, -1, 1))
    diag = np.full(n, n + 1.0)
    if signs:
        diag = diag * np.array([draw(st.sampled_from([-1.0, 1.0])) for _ in range(n)])
    return (a + np.diag(diag)).astype(dtype)


def square_case(signs=False, min_n=0):
    def draw_case(draw, dtype):
        n = draw(st.integers(min_n, 3))
        return Case([dominant(draw, dtype, n, batch(draw), signs)])
    return draw_case


def solve_case(draw, dtype):
    n = draw(st.integers(1, 3))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2)).input_shapes
    A = dominant(draw, dtype, n, ba)
    kind = draw(st.sampled_from(["matrix", "vector", "batched vector", "right"]))
    if kind == "vector":
        B = array(draw, (n,), dtype)
    elif kind == "batched vector":
        B = array(draw, ba + (n,), dtype)
    elif kind == "right":
        # (B with A's batch dims: a B that looks like a batch of vectors is refused with left=False)
        return Case([A, array(draw, ba + (draw(st.integers(0, 2)), n), dtype)], {"left": False})
    else:
        B = array(draw, bb + (n, draw(st.integers(0, 2))), dtype)
    return Case([A, B])


def spread_case(min_side=1, square=False):
    def draw_case(draw, dtype):
        m = draw(st.integers(min_side, 4))
        n = m if square else draw(st.integers(min_side, 4))
        s = batch(draw, 2, 1) + (m, n)
        return Case([array(draw, s, dtype, elements(dtype, -1, 1)) + _spread(s, dtype)])
    return draw_case


def svd_case(draw, dtype):
    case = spread_case()(draw, dtype)
    return Case(case.arrays, {"full_matrices": draw(st.booleans())})


def cholesky_case(draw, dtype):
    n = draw(st.integers(0, 3))
    return Case([dominant(draw, dtype, n, batch(draw))], {"upper": draw(st.booleans())})


def qr_call(L, a):
    Q, R = L.linalg.qr(a)
    d = L.sign(L.einsum("...ii->...i", R[..., :, :R.shape[-2]]))  # make R's diagonal positive: Q and R are then unique
    return Q * d.unsqueeze(-2), R * d.unsqueeze(-1)


def eigh_call(L, a, UPLO="L"):
    w, V = L.linalg.eigh((a + a.mT) / 2, UPLO=UPLO)
    return w, V * V


def svd_call(L, a, full_matrices=True):
    U, S, Vh = L.linalg.svd(a, full_matrices=full_matrices)
    k = S.shape[-1]
    Uk, Vhk = U[..., :, :k], Vh[..., :k, :]
    return S, Uk * Uk, Vhk * Vhk, (Uk * S.unsqueeze(-2)) @ Vhk


add_row("matmul", F, lambda L, x, y: L.matmul(x, y), matmul_case, dtypes=NUMERIC, aliases=("linalg.matmul",))
add_row("dot", F, lambda L, x, y: L.dot(x, y), dot_case, dtypes=NUMERIC)
add_row("bmm", F, lambda L, x, y: L.bmm(x, y), bmm_case, dtypes=NUMERIC)
add_row("mv", F, lambda L, x, y: L.mv(x, y), mv_case, dtypes=NUMERIC)
add_row("outer", F, lambda L, x, y: L.outer(x, y), outer_case, dtypes=NUMERIC)
add_row("kron", F, lambda L, x, y: L.kron(x, y), kron_case, dtypes=NUMERIC)
add_row("einsum", F, lambda L, *xs, equation: L.einsum(equation, *xs), einsum_case, dtypes=NUMERIC)
add_row("tensordot", F, lambda L, x, y, dims: L.tensordot(x, y, dims=dims), tensordot_case, dtypes=NUMERIC)
add_row("cross", F, lambda L, x, y, **o: L.cross(x, y, **o), cross_case(False), dtypes=NUMERIC)
add_row("linalg.cross", F, lambda L, x, y, dim: L.linalg.cross(x, y, dim=dim), cross_case(True), dtypes=NUMERIC)
add_row("linalg.vector_norm", F, lambda L, x, **o: L.linalg.vector_norm(x, **o), vector_norm_case, grad="first")
add_row("linalg.matrix_norm", F, lambda L, x, **o: L.linalg.matrix_norm(x, **o), matrix_norm_case, grad="first")
add_row("linalg.norm", F, lambda L, x, **o: L.linalg.norm(x, **o), norm_case, grad="first")
add_row("linalg.inv", F, lambda L, a: L.linalg.inv(a), square_case(), aliases=("Tensor.inverse",))
add_row("linalg.det", F, lambda L, a: L.linalg.det(a), square_case(signs=True), aliases=("Tensor.det",))
add_row("linalg.slogdet", F, lambda L, a: tuple(L.linalg.slogdet(a)), square_case(signs=True))
add_row("linalg.solve", F, lambda L, a, b, **o: L.linalg.solve(a, b, **o), solve_case)
add_row("linalg.cholesky", F, lambda L, a, upper: L.linalg.cholesky(a @ a.mT, upper=upper), cholesky_case)
add_row("linalg.qr", F, qr_call, spread_case())
add_row("linalg.eigh", F, eigh_call, spread_case(square=True))
add_row("linalg.eigvalsh", F, lambda L, a: L.linalg.eigvalsh((a + a.mT) / 2), spread_case(square=True))
add_row("linalg.svd", F, svd_call, svd_case)
add_row("linalg.svdvals", F, lambda L, a: L.linalg.svdvals(a), spread_case())
