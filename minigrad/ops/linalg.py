"""Linear algebra (``mg.linalg``, as ``torch.linalg``): cross products, norms, inverses,
determinants, solves and the factorizations (Cholesky, QR, symmetric eigendecomposition, SVD).

Every function works on a batch: the matrices are the last two dims, the leading dims are a
batch (broadcast where two operands meet).  The factorizations run ``xp.linalg`` (NumPy or
CuPy); their gradients are the standard matrix-calculus results written with Tensor ops, so
they can be differentiated again.  A factorization with several results computes them in one
node whose output packs them side by side (see :class:`Packed`), unpacked with slicing.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..autograd.function import Function
from ..devices import array_module
from ..errors import ShapeError
from ..tensor import Tensor
from .elementwise import abs
from .helpers import constant
from .reduction import amax, amin, sum
from .shape import reshape, squeeze, stack, sum_to, transpose, unsqueeze


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular (inv, solve) or not positive-definite (cholesky)."""


# -- helpers ---------------------------------------------------------------------------------------

def _float_matrix(A: Tensor, op: str, square: bool = True) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {A.dtype} (shape {A.shape})")
    if A.ndim < 2:
        raise ShapeError(f"{op}: expected a matrix or a batch of matrices, got shape {A.shape}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: expected square matrices, got shape {A.shape}")


def _run(op: str, fn: Any, *arrays: Any) -> Any:
    """``fn(*arrays)``, with the library's linear-algebra error turned into one clear line."""
    try:
        return fn(*arrays)
    except Exception as e:  # numpy.linalg.LinAlgError / cupy's
        if type(e).__name__ == "LinAlgError":
            raise LinAlgError(f"{op}: {e} (shapes {[a.shape for a in arrays]})") from None
        raise


def _mT(x: Tensor) -> Tensor:
    return transpose(x, -1, -2)


def _diag_embed(v: Tensor) -> Tensor:
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = v.shape[-1]
    eye = constant(array_module(v._data).eye(n, dtype=v._data.dtype))
    return unsqueeze(v, -1) * eye


def _tril_mask(n: int, like: Tensor, k: int = 0) -> Tensor:
    xp = array_module(like._data)
    return constant(xp.tril(xp.ones((n, n), dtype=like._data.dtype), k))


def _broadcast_shapes(s1: tuple, s2: tuple, op: str) -> tuple:
    """The broadcast of two shapes (NumPy's rule), or a ShapeError naming both."""
    n = max(len(s1), len(s2))
    a, b = (1,) * (n - len(s1)) + tuple(s1), (1,) * (n - len(s2)) + tuple(s2)
    out = []
    for p, q in zip(a, b):
        if p != q and p != 1 and q != 1:
            raise ShapeError(f"{op}: shapes {tuple(s1)} and {tuple(s2)} do not broadcast")
        out.append(q if p == 1 else p)
    return tuple(out)


def _batch_solve(A: Any, B: Any) -> Any:
    """X with A X = B for arrays of shapes (*, n, n) and (*, n, k) (batch dims broadcast)."""
    xp = array_module(A)
    batch = _broadcast_shapes(A.shape[:-2], B.shape[:-2], "linalg.solve")
    A = xp.broadcast_to(A, batch + A.shape[-2:])
    B = xp.broadcast_to(B, batch + B.shape[-2:])
    if A.size == 0 or B.size == 0:
        return xp.zeros(batch + B.shape[-2:], dtype=B.dtype)
    return _run("linalg.solve", xp.linalg.solve, A, B)


class Packed(Function):
    """Several results of one factorization as one array: each result, its matrix dims flattened,
    side by side along a last dim.  ``forward`` gets the results' arrays from ``compute`` and
    ``backward`` hands :meth:`grad` the unpacked results and gradients (as tensors)."""

    saves_output = True

    def forward(self, A: Tensor, *args: Any) -> Any:
        results = self.compute(A._data, *args)
        self.save_for_backward(A)
        self.args = args
        batch = A.shape[:-2]
        self.parts = [r.shape[len(batch):] for r in results]
        xp = array_module(A._data)
        flat = [r.reshape(batch + (math.prod(p),)) for r, p in zip(results, self.parts)]
        return xp.concatenate(flat, axis=-1)

    @staticmethod
    def unpack(packed: Tensor, parts: list) -> list:
        out, start = [], 0
        for p in parts:
            size = math.prod(p)
            piece = packed[..., start:start + size]
            out.append(reshape(piece, packed.shape[:-1] + tuple(p)))
            start += size
        return out

    def backward(self, g: Tensor) -> tuple:
        (A,) = self.saved_tensors
        results = self.unpack(self.output, self.parts)
        grads = self.unpack(g, self.parts)
        return (self.grad(A, results, grads),) + (None,) * len(self.args)

    def compute(self, A: Any, *args: Any) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def grad(self, A: Tensor, results: list, grads: list) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


# -- cross products -------------------------------------------------------------------------------

def _cross(x: Tensor, y: Tensor, dim: int, op: str) -> Tensor:
    from .shape import broadcast_to
    from ..dtypes import result_type
    from .conversion import cast

    if x.ndim != y.ndim:
        raise ShapeError(f"{op}: the inputs must have the same number of dims, got shapes {x.shape} and {y.shape}")
    nd = x.ndim
    shape = _broadcast_shapes(x.shape, y.shape, op)
    if not -nd <= dim < nd or nd == 0:
        raise IndexError(f"{op}: dim {dim} is out of range for shapes {x.shape} and {y.shape}")
    dim %= nd
    if any(t.ndim >= nd - dim and t.shape[dim - nd] != 3 for t in (x, y)) or shape[dim] != 3:
        raise ShapeError(f"{op}: dim {dim} must have size 3 in both inputs, got shapes {x.shape} and {y.shape}")
    dtype = result_type(x._data, y._data)
    x, y = broadcast_to(cast(x, dtype), shape), broadcast_to(cast(y, dtype), shape)

    def part(t: Tensor, i: int) -> Tensor:
        return t[(slice(None),) * dim + (i,)]

    x0, x1, x2 = (part(x, i) for i in range(3))
    y0, y1, y2 = (part(y, i) for i in range(3))
    return stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], dim=dim)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (``torch.cross``): without ``dim``, the first dim
    of size 3.  Inputs broadcast.  (x × y) = (x₁y₂ − x₂y₁, x₂y₀ − x₀y₂, x₀y₁ − x₁y₀)."""
    if dim is None:
        if input.ndim != other.ndim:
            raise ShapeError(f"cross: without dim the inputs must have the same number of dims, got shapes "
                             f"{input.shape} and {other.shape}")
        shape = _broadcast_shapes(input.shape, other.shape, "cross")
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in shapes {input.shape} and {other.shape}")
        dim -= len(shape)
    return _cross(input, other, dim, "cross")


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default the last), as ``torch.linalg.cross``."""
    return _cross(input, other, dim, "linalg.cross")


# -- norms ----------------------------------------------------------------------------------------

def _dims(dim: Any, ndim: int, op: str) -> tuple | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
    return dims


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """‖x‖_ord over ``dim`` (all elements by default): (Σ|x|^ord)^(1/ord); ord = inf: max|x|,
    −inf: min|x|, 0: the number of non-zeros (zero gradient)."""
    from .conversion import cast
    from .norm import norm as p_norm
    from ..dtypes import as_dtype

    if x.dtype.kind != "f":
        raise TypeError(f"linalg.vector_norm: expected a floating point tensor, got dtype {x.dtype} (shape {x.shape})")
    if dtype is not None:
        x = cast(x, as_dtype(dtype))
    if isinstance(ord, str) or isinstance(ord, bool):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    if dims == ():
        dims = None
    if ord in (math.inf, -math.inf):
        if x._data.size == 0:
            raise RuntimeError(f"linalg.vector_norm: the {ord} norm of an empty tensor (shape {x.shape}) is undefined")
        return (amax if ord > 0 else amin)(abs(x), dim=dims, keepdim=keepdim)
    if ord == 0:
        return sum(constant((x._data != 0).astype(x._data.dtype)), dim=dims, keepdim=keepdim)
    if ord > 0:
        return p_norm(x, ord, dims, keepdim)
    return sum(abs(x) ** float(ord), dim=dims, keepdim=keepdim) ** (1.0 / ord)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro' √Σa², 'nuc' Σσ, 2 / −2 the largest /
    smallest singular value, 1 / −1 the max / min column sum of |a|, inf / −inf the max / min
    row sum of |a|."""
    from .conversion import cast
    from ..dtypes import as_dtype
    from .shape import permute

    if A.dtype.kind != "f":
        raise TypeError(f"linalg.matrix_norm: expected a floating point tensor, got dtype {A.dtype} (shape {A.shape})")
    if A.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: expected a matrix or a batch of matrices, got shape {A.shape}")
    if dtype is not None:
        A = cast(A, as_dtype(dtype))
    dims = _dims(dim, A.ndim, "linalg.matrix_norm")
    if len(dims) != 2 or dims[0] % A.ndim == dims[1] % A.ndim:
        raise ValueError(f"linalg.matrix_norm: dim must be two different dims, got {dim!r}")
    d0, d1 = dims[0] % A.ndim, dims[1] % A.ndim
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(permute(A, *rest, d0, d1))
        out = sum(s, dim=-1) if ord == "nuc" else (amax if ord == 2 else amin)(s, dim=-1)
    elif ord in (1, -1, math.inf, -math.inf):
        inner, outer_ = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = sum(abs(A), dim=inner, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, dim=outer_, keepdim=True)
        return out if keepdim else squeeze(out, (d0, d1))
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, got {ord!r}")
    if keepdim:
        for d in sorted((d0, d1)):
            out = unsqueeze(out, d)
    return out


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one dim, a matrix norm over two.  Without ``ord``
    and ``dim``, the 2-norm of all elements; with ``ord`` but no ``dim``, the input must be 1-D
    (vector norm) or 2-D (matrix norm)."""
    dims = _dims(dim, A.ndim, "linalg.norm")
    if ord is None:
        if dims is None or len(dims) == 1:
            return vector_norm(A, 2, dims, keepdim, dtype=dtype)
        return matrix_norm(A, "fro", dims, keepdim, dtype=dtype)
    if dims is None:
        if A.ndim not in (1, 2):
            raise ShapeError(f"linalg.norm: with ord and no dim the input must be 1-D or 2-D, got shape {A.shape}")
        dims = tuple(range(A.ndim))
    if len(dims) == 1:
        if isinstance(ord, str):
            raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm, but one dim was given")
        return vector_norm(A, ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(A, ord, dims, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: dim must have one or two entries, got {dim!r}")


# -- inverse, determinant, solve ------------------------------------------------------------------

class Inv(Function):
    """Y = A⁻¹.   dA = −Yᵀ dY Yᵀ."""

    saves_output = True

    def forward(self, A: Tensor) -> Any:
        a = A._data
        if a.size == 0:
            return a.copy()
        return _run("linalg.inv", array_module(a).linalg.inv, a)

    def backward(self, g: Tensor) -> Tensor:
        Yt = _mT(self.output)
        return -(Yt @ g @ Yt)


def inv(A: Tensor) -> Tensor:
    """The inverse A⁻¹ of each square matrix; shape (*, n, n).  A singular matrix raises LinAlgError."""
    _float_matrix(A, "linalg.inv")
    return Inv.apply(A)


class Det(Function):
    """d = det A.   dA = dd · d · A⁻ᵀ (A must be invertible for the gradient)."""

    saves_output = True

    def forward(self, A: Tensor) -> Any:
        self.save_for_backward(A)
        a = A._data
        xp = array_module(a)
        if a.shape[-1] == 0:
            return xp.ones(a.shape[:-2], dtype=a.dtype)
        return xp.asarray(xp.linalg.det(a), dtype=a.dtype)

    def backward(self, g: Tensor) -> Tensor:
        (A,) = self.saved_tensors
        scale = unsqueeze(unsqueeze(g * self.output, -1), -1)
        return scale * _mT(inv(A))


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix; shape (*,).  Its gradient d·A⁻ᵀ needs A invertible."""
    _float_matrix(A, "linalg.det")
    return Det.apply(A)


class LogAbsDet(Function):
    """l = log|det A|.   dA = dl · A⁻ᵀ."""

    def forward(self, A: Tensor) -> Any:
        self.save_for_backward(A)
        a = A._data
        xp = array_module(a)
        if a.shape[-1] == 0:
            return xp.zeros(a.shape[:-2], dtype=a.dtype)
        return xp.asarray(xp.linalg.slogdet(a)[1], dtype=a.dtype)

    def backward(self, g: Tensor) -> Tensor:
        (A,) = self.saved_tensors
        return unsqueeze(unsqueeze(g, -1), -1) * _mT(inv(A))


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` of :func:`slogdet`: det A = sign · exp(logabsdet)."""

    sign: Any
    logabsdet: Any


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, log|det A|) of each square matrix, shapes (*,) and (*,): det = sign · e^logabsdet,
    without the overflow of det itself.  The sign has no gradient."""
    _float_matrix(A, "linalg.slogdet")
    return SlogdetResult(SignOfDet.apply(A), LogAbsDet.apply(A))


class SignOfDet(Function):
    """s = sign(det A) ∈ {−1, 0, 1}: piecewise constant, so no gradient flows (as PyTorch, the
    result still takes part in the graph)."""

    def forward(self, A: Tensor) -> Any:
        a = A._data
        xp = array_module(a)
        if a.shape[-1] == 0:
            return xp.ones(a.shape[:-2], dtype=a.dtype)
        return xp.asarray(xp.linalg.slogdet(a)[0], dtype=a.dtype)

    def backward(self, g: Tensor) -> Any:
        return None


class Solve(Function):
    """X = A⁻¹ B (A: (*, n, n), B: (*, n, k), batch dims broadcast).
    dB = A⁻ᵀ dX,  dA = −dB Xᵀ  (summed back over broadcast batch dims)."""

    saves_output = True

    def forward(self, A: Tensor, B: Tensor) -> Any:
        self.save_for_backward(A)
        self.shapes = (A.shape, B.shape)
        return _batch_solve(A._data, B._data)

    def backward(self, g: Tensor) -> tuple:
        (A,) = self.saved_tensors
        gB = Solve.apply(_mT(A), g)
        gA = -(gB @ _mT(self.output)) if self.needs_input_grad[0] else None
        return (sum_to(gA, self.shapes[0]) if gA is not None else None,
                sum_to(gB, self.shapes[1]) if self.needs_input_grad[1] else None)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B), A square (*, n, n); B (*, n, k), or a vector
    (n,) / (*, n) with A's batch (then X has B's shape).  Batch dims broadcast."""
    from ..dtypes import result_type
    from .conversion import cast

    _float_matrix(A, "linalg.solve")
    if not isinstance(B, Tensor) or B.ndim < 1:
        raise ShapeError(f"linalg.solve: B must be a tensor with at least 1 dim, got {getattr(B, 'shape', B)}")
    dtype = result_type(A._data, B._data)
    if dtype.kind != "f":
        raise TypeError(f"linalg.solve: expected floating point tensors, got {A.dtype} and {B.dtype}")
    A, B = cast(A, dtype), cast(B, dtype)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if not left:
        if vector:
            raise ShapeError("linalg.solve: left=False needs B as a matrix")
        return _mT(solve(_mT(A), _mT(B)))
    if vector:
        B = unsqueeze(B, -1)
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ShapeError(f"linalg.solve: A of shape {A.shape} and B of shape {B.shape} do not match")
    X = Solve.apply(A, B)
    return squeeze(X, -1) if vector else X


# -- factorizations --------------------------------------------------------------------------------

class Cholesky(Function):
    """L with A = L Lᵀ, lower triangular (reads A's lower triangle).
    dA = sym(L⁻ᵀ Φ(Lᵀ dL) L⁻¹), Φ = the lower triangle with the diagonal halved, sym(X) = (X + Xᵀ)/2."""

    saves_output = True

    def forward(self, A: Tensor) -> Any:
        a = A._data
        if a.size == 0:
            return a.copy()
        return _run("linalg.cholesky", array_module(a).linalg.cholesky, a)

    def backward(self, g: Tensor) -> Tensor:
        L = self.output
        n = L.shape[-1]
        half_diag = _tril_mask(n, L) - constant(array_module(L._data).eye(n, dtype=L._data.dtype) * 0.5)
        phi = (_mT(L) @ g) * half_diag
        S = solve(_mT(L), _mT(solve(_mT(L), phi)))  # L⁻ᵀ (L⁻ᵀ Φᵀ)... = L⁻ᵀ Φ L⁻¹ transposed
        S = _mT(S)
        return (S + _mT(S)) * 0.5


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: A = L Lᵀ with L lower
    triangular (``upper=True``: U = Lᵀ, A = Uᵀ U).  Only the lower triangle of A is read."""
    _float_matrix(A, "linalg.cholesky")
    L = Cholesky.apply(A)
    return _mT(L) if upper else L


class QRResult(NamedTuple):
    Q: Any
    R: Any


class QR(Packed):
    """A = Q R, reduced: Q (m, k) with orthonormal columns, R (k, n) upper triangular, k = min(m, n).

    For m ≥ n: M = R dRᵀ − dQᵀ Q,  dA = (dQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) the symmetric matrix
    with M's lower triangle.  For m < n, A = [X | Y] with X square: X = Q R_X is the square case
    with dQ + Y dR_Yᵀ, and dY = Q dR_Y."""

    def compute(self, a: Any) -> list:
        xp = array_module(a)
        q, r = xp.linalg.qr(a, mode="reduced")
        return [q, r]

    def grad(self, A: Tensor, results: list, grads: list) -> Tensor:
        Q, R = results
        gQ, gR = grads
        m, n = A.shape[-2], A.shape[-1]
        if m >= n:
            return _qr_tall_grad(Q, R, gQ, gR)
        from .shape import cat

        Y = A[..., :, m:]
        gX = _qr_tall_grad(Q, R[..., :, :m], gQ + Y @ _mT(gR[..., :, m:]), gR[..., :, :m])
        return cat([gX, Q @ gR[..., :, m:]], dim=-1)


def _qr_tall_grad(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    n = R.shape[-1]
    M = R @ _mT(gR) - _mT(gQ) @ Q
    lower = M * _tril_mask(n, M, -1)
    sym = lower + _mT(lower) + M * constant(array_module(M._data).eye(n, dtype=M._data.dtype))
    # (dQ + Q sym) R⁻ᵀ, i.e. the solution of Z Rᵀ = dQ + Q sym
    return _mT(solve(R, _mT(gQ + Q @ sym)))


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """The reduced QR factorization A = Q R of each matrix: Q (*, m, k) with orthonormal columns,
    R (*, k, n) upper triangular, k = min(m, n).  (Signs as LAPACK gives them: R's diagonal may
    be negative.)"""
    _float_matrix(A, "linalg.qr", square=False)
    if mode != "reduced":
        raise ValueError(f"linalg.qr: only mode='reduced' is supported, got {mode!r}")
    if A._data.size == 0:
        raise ShapeError(f"linalg.qr: empty matrices are not supported (shape {A.shape})")
    Q, R = QR.unpack(QR.apply(A), [(A.shape[-2], min(A.shape[-2:])), (min(A.shape[-2:]), A.shape[-1])])
    return QRResult(Q, R)


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class Eigh(Packed):
    """A = V diag(λ) Vᵀ for a symmetric A (λ ascending).
    dA = V (diag(dλ) + F ∘ skew(Vᵀ dV)) Vᵀ with F_ij = 1/(λ_j − λ_i) (0 on the diagonal) and
    skew(X) = (X − Xᵀ)/2: a symmetric result; eigenvalues must be distinct."""

    def compute(self, a: Any, uplo: str) -> list:
        w, v = array_module(a).linalg.eigh(a, UPLO=uplo)
        return [w, v]

    def grad(self, A: Tensor, results: list, grads: list) -> Tensor:
        w, V = results
        gw, gV = grads
        gaps = unsqueeze(w, -2) - unsqueeze(w, -1)  # λ_j − λ_i
        n = w.shape[-1]
        eye = constant(array_module(w._data).eye(n, dtype=w._data.dtype))
        F = (1 - eye) / (gaps + eye)
        X = _mT(V) @ gV
        inner = F * ((X - _mT(X)) * 0.5) + _diag_embed(gw)
        return V @ inner @ _mT(V)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending, (*, n)) and orthonormal eigenvectors (the columns of (*, n, n)) of
    each symmetric matrix, read from its lower (``UPLO='L'``) or upper triangle.  The gradient
    assumes distinct eigenvalues; eigenvectors are unique only up to sign."""
    _float_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    n = A.shape[-1]
    w, V = Eigh.unpack(Eigh.apply(A, UPLO), [(n,), (n, n)])
    return EighResult(w, V)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each symmetric matrix, ascending (see :func:`eigh`)."""
    return eigh(A, UPLO).eigenvalues


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


class SVD(Packed):
    """A = U diag(S) Vh (reduced: U (m, k), S (k), Vh (k, n), k = min(m, n)).  With V = Vhᵀ,
    F_ij = 1/(s_j² − s_i²) (0 on the diagonal):
    dA = U [diag(dS) + (F ∘ (UᵀdU − dUᵀU)) S + S (F ∘ (VᵀdV − dVᵀV))] Vᵀ
         + (I − UUᵀ) dU S⁻¹ Vᵀ + U S⁻¹ dVᵀ (I − VVᵀ);
    singular values must be distinct (and non-zero where m ≠ n)."""

    def compute(self, a: Any) -> list:
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=False)
        return [u, s, vh]

    def grad(self, A: Tensor, results: list, grads: list) -> Tensor:
        U, S, Vh = results
        gU, gS, gVh = grads
        m, n = A.shape[-2], A.shape[-1]
        k = S.shape[-1]
        V, gV = _mT(Vh), _mT(gVh)
        eye = constant(array_module(S._data).eye(k, dtype=S._data.dtype))
        s2 = S * S
        F = (1 - eye) / (unsqueeze(s2, -2) - unsqueeze(s2, -1) + eye)
        Sm = unsqueeze(S, -2)  # X * Sm scales columns: X diag(S)
        J = _mT(U) @ gU
        K = Vh @ gV
        inner = (F * (J - _mT(J))) * Sm + _diag_embed(gS) + unsqueeze(S, -1) * (F * (K - _mT(K)))
        gA = U @ inner @ Vh
        if m > k:
            gA = gA + ((gU - U @ J) / Sm) @ Vh
        if n > k:
            gA = gA + (U / Sm) @ (_mT(gV) - _mT(K) @ Vh)
        return gA


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition A = U diag(S) Vh of each matrix: S (*, k) descending,
    k = min(m, n); U (*, m, m) and Vh (*, n, n) with ``full_matrices``, else (*, m, k) and (*, k, n).
    The gradient assumes distinct singular values; it ignores the extra columns of a full U / Vh
    (they are not unique).  Singular vectors are unique only up to sign."""
    _float_matrix(A, "linalg.svd", square=False)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    if A._data.size == 0:
        raise ShapeError(f"linalg.svd: empty matrices are not supported (shape {A.shape})")
    U, S, Vh = SVD.unpack(SVD.apply(A), [(m, k), (k,), (k, n)])
    if full_matrices and m != n:
        from .shape import cat

        u, _, vh = array_module(A._data).linalg.svd(A._data, full_matrices=True)
        if m > k:
            U = cat([U, constant(u[..., :, k:])], dim=-1)
        if n > k:
            Vh = cat([Vh, constant(vh[..., k:, :])], dim=-2)
    return SVDResult(U, S, Vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix, descending; shape (*, min(m, n))."""
    return svd(A, full_matrices=False).S
