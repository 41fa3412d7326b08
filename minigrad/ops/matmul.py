"""Matrix product with NumPy's ``matmul`` rules (1-D, 2-D, batched with broadcasting)."""
from __future__ import annotations

from typing import Any

from ..devices import array_module
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .helpers import as_array, binary_arrays
from .shape import reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    """Z = X @ Y.   dX = dZ @ Yᵀ,  dY = Xᵀ @ dZ  (transposes of the last two dims).

    A 1-D operand is treated as a row (X) or column (Y) matrix, and broadcast
    batch dims are summed back to each operand's own shape.

    dX reads Y and dY reads X, so each operand is saved only when the other one needs a
    gradient (``x @ w`` with a constant x keeps only x).
    """

    def forward(self, x: Tensor, y: Tensor) -> Any:
        a, b = binary_arrays("matmul", x, y)
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
        self.shapes = (a.shape, b.shape)
        self.save_for_backward(x if self.needs_input_grad[1] else None, y if self.needs_input_grad[0] else None)
        try:
            return array_module(a).matmul(a, b)
        except ValueError:
            raise ShapeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} do not broadcast") from None

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved_tensors
        x_shape, y_shape = self.shapes
        # Treat a 1-D x as a row (1, k) and a 1-D y as a column (k, 1); g gets the dims matmul dropped.
        x_matrix, y_matrix = x_shape, y_shape
        if len(y_shape) == 1:
            y_matrix, g = y_shape + (1,), unsqueeze(g, -1)
        if len(x_shape) == 1:
            x_matrix, g = (1,) + x_shape, unsqueeze(g, -2)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = reshape(sum_to(g @ transpose(reshape(y, y_matrix), -1, -2), x_matrix), x_shape)
        if self.needs_input_grad[1]:
            gy = reshape(sum_to(transpose(reshape(x, x_matrix), -1, -2) @ g, y_matrix), y_shape)
        return gx, gy


def matmul(x: Tensor, y: Tensor) -> Tensor:
    return MatMul.apply(x, y)


def rmatmul(x: Tensor, y: Any) -> Tensor:
    from .helpers import as_tensor

    return MatMul.apply(as_tensor(y, x), x)


def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {x.shape} and {y.shape}")
    return MatMul.apply(x, y)


def bmm(x: Tensor, y: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors of one batch size: (b, n, k) @ (b, k, m) -> (b, n, m)
    (no broadcasting, as ``torch.bmm``)."""
    if x.ndim != 3 or y.ndim != 3:
        raise ShapeError(f"bmm: expected two 3-D tensors, got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
        raise ShapeError(f"bmm: shapes {x.shape} and {y.shape} do not match (b, n, k) @ (b, k, m)")
    _same_dtype("bmm", x, y)
    return MatMul.apply(x, y)


def mv(x: Tensor, y: Tensor) -> Tensor:
    """Matrix-vector product: (n, k) @ (k,) -> (n,)."""
    if x.ndim != 2 or y.ndim != 1:
        raise ShapeError(f"mv: expected a 2-D and a 1-D tensor, got shapes {x.shape} and {y.shape}")
    _same_dtype("mv", x, y)
    return MatMul.apply(x, y)


def _same_dtype(op: str, x: Tensor, y: Tensor) -> None:
    if x.dtype != y.dtype:
        raise TypeError(f"{op}: expected both tensors to have the same dtype, got {x.dtype} and {y.dtype}")


def outer(x: Tensor, y: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: out[i, j] = x[i] · y[j], shape (n, m)."""
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(f"outer: expected two 1-D tensors, got shapes {x.shape} and {y.shape}")
    return unsqueeze(x, 1) * unsqueeze(y, 0)


def kron(x: Tensor, y: Tensor) -> Tensor:
    """Kronecker product: with both operands padded to d dims (leading 1s),
    out[i₁q₁ + k₁, ..., i_d q_d + k_d] = x[i₁, ..., i_d] · y[k₁, ..., k_d]; shape (p₁q₁, ..., p_d q_d)."""
    d = max(x.ndim, y.ndim)
    p = (1,) * (d - x.ndim) + x.shape
    q = (1,) * (d - y.ndim) + y.shape
    xs = reshape(x, tuple(s for pair in zip(p, (1,) * d) for s in pair))
    ys = reshape(y, tuple(s for pair in zip((1,) * d, q) for s in pair))
    return reshape(xs * ys, tuple(a * b for a, b in zip(p, q)))


# -- einsum ----------------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Einsum(Function):
    """out = einsum(subs -> out_sub, *operands), every subscript a string of letters (ellipses
    already spelled out as letters, sizes already broadcast).

    The gradient of operand k is again an einsum: of dZ (subscripts ``out_sub``) with the other
    operands, onto operand k's subscripts.  A letter repeated in operand k (a diagonal) takes a
    fresh letter per repeat, tied to the first one by an identity matrix; a letter only operand k
    has (summed away) is broadcast back."""

    def forward(self, subs: tuple, out_sub: str, *operands: Tensor) -> Any:
        arrays = [t._data for t in operands]
        self.subs, self.out_sub = subs, out_sub
        self.save_for_backward(*operands)
        xp = array_module(arrays[0])
        result = xp.einsum(",".join(subs) + "->" + out_sub, *arrays, optimize=len(arrays) > 1)
        result = as_array(xp, result)
        if len(arrays) == 1 and result.base is not None:  # a view of the input: give the output its own memory
            result = result.copy()
        return result

    def backward(self, g: Tensor) -> tuple:
        from .helpers import constant
        from .shape import broadcast_to

        operands = self.saved_tensors
        used = set("".join(self.subs) + self.out_sub)
        fresh = iter(c for c in _LETTERS if c not in used)
        grads = [None, None]
        for k, x in enumerate(operands):
            if not self.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            seen, target, ties = set(), [], []
            for axis, label in enumerate(self.subs[k]):
                if label in seen:
                    new = next(fresh)
                    ties.append((label + new, x.shape[axis]))
                    label = new
                seen.add(label)
                target.append(label)
            subs = [self.out_sub] + [s for j, s in enumerate(self.subs) if j != k] + [t for t, _ in ties]
            xp = array_module(g._data)
            tensors = [g] + [t for j, t in enumerate(operands) if j != k] + \
                [constant(xp.eye(n, dtype=g._data.dtype)) for _, n in ties]
            available = set("".join(subs))
            kept = "".join(c for c in target if c in available)
            grad = Einsum.apply(tuple(subs), kept, *tensors)
            if len(kept) != len(target):
                grad = reshape(grad, tuple(x.shape[i] if c in available else 1 for i, c in enumerate(target)))
                grad = broadcast_to(grad, x.shape)
            grads.append(grad)
        return tuple(grads)


def _einsum_subscripts(equation: str, ndims: list) -> tuple:
    """(operand subscripts, output subscript) with every ellipsis spelled out as letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    parts = lhs.split(",")
    if len(parts) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} names {len(parts)} operand(s), got {len(ndims)}")
    for p in parts + ([rhs] if arrow else []):
        rest = p.replace("...", "", 1)
        if any(c not in _LETTERS for c in rest):
            raise ValueError(f"einsum: invalid subscript {p!r} in {equation!r} (letters and one '...' only)")
    letters = set(eq) & set(_LETTERS)
    spare = [c for c in _LETTERS if c not in letters]
    ell_dims = []
    for p, nd in zip(parts, ndims):
        named = len(p.replace("...", ""))
        if ("..." in p and named > nd) or ("..." not in p and named != nd):
            raise ShapeError(f"einsum: subscript {p!r} does not fit an operand with {nd} dim(s) in {equation!r}")
        ell_dims.append(nd - named if "..." in p else 0)
    n_ell = max(ell_dims, default=0)
    if n_ell > len(spare):
        raise ValueError(f"einsum: too many dims for {equation!r}")
    ell = "".join(spare[:n_ell])
    subs = tuple(p.replace("...", ell[n_ell - e:]) for p, e in zip(parts, ell_dims))
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise ValueError(f"einsum: output subscript {rhs!r} repeats {c!r}")
            if c not in "".join(subs):
                raise ValueError(f"einsum: output subscript {c!r} does not appear in the operands of {equation!r}")
    else:
        joined = "".join(p.replace("...", "") for p in parts)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return subs, out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is a @ b.

    Each operand's dims are labelled by letters; labels in the output (after ``->``) are kept in
    that order, the others are summed over.  Without ``->`` the output is the ellipsis dims then
    the labels used once, sorted.  ``...`` stands for the remaining dims (aligned from the right,
    broadcast); a label repeated in one operand takes its diagonal ("ii->i", "ii->" the trace);
    size-1 dims broadcast against the same label's size elsewhere.  Operands may also be passed
    as one list."""
    from ..dtypes import int64, result_type
    from .conversion import cast
    from .shape import broadcast_to

    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum: expected tensors as operands")
    subs, out = _einsum_subscripts(equation, [t.ndim for t in operands])
    dtype = result_type(*[t._data for t in operands])
    if len(operands) == 1 and dtype.kind in "biu" and set(subs[0]) - set(out):
        dtype = int64  # a sum of integers, as sum() gives
    sizes: dict = {}
    for s, t in zip(subs, operands):
        for c, n in zip(s, t.shape):
            if n != 1 or c not in sizes:
                if c in sizes and sizes[c] != 1 and sizes[c] != n:
                    raise ShapeError(f"einsum: label {c!r} has sizes {sizes[c]} and {n} in {equation!r} "
                                     f"(shapes {[x.shape for x in operands]})")
                sizes[c] = n
    ready = []
    for s, t in zip(subs, operands):
        if len(set(s)) != len(s):
            for c in set(s):
                if len({n for l, n in zip(s, t.shape) if l == c}) > 1:
                    raise ShapeError(f"einsum: repeated label {c!r} has different sizes in one operand ({t.shape})")
        t = cast(t, dtype)
        shape = tuple(sizes[c] for c in s)
        ready.append(t if t.shape == shape else broadcast_to(t, shape))
    return Einsum.apply(subs, out, *ready)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract dims of ``a`` with dims of ``b``: ``dims=n`` pairs a's last n dims with b's first n;
    ``dims=(dims_a, dims_b)`` pairs them in order.  Shape: a's free dims then b's free dims."""
    if isinstance(dims, int):
        if dims < 0 or dims > a.ndim or dims > b.ndim:
            raise ValueError(f"tensordot: dims={dims} does not fit shapes {a.shape} and {b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        try:
            da, db = dims
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}") from None
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise ValueError(f"tensordot: dims lists {da} and {db} have different lengths")
        for d, t in ((da, a), (db, b)):
            for v in d:
                if not -max(t.ndim, 1) <= v < max(t.ndim, 1):
                    raise IndexError(f"tensordot: dim {v} is out of range for shape {t.shape}")
        da, db = [v % a.ndim for v in da], [v % b.ndim for v in db]
    if a.ndim + b.ndim > len(_LETTERS):
        raise ValueError("tensordot: too many dims")
    sa = _LETTERS[:a.ndim]
    sb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: contracted dims {i} of {a.shape} and {j} of {b.shape} differ in size")
        sb[j] = sa[i]
    out = "".join(c for i, c in enumerate(sa) if i not in da) + "".join(c for j, c in enumerate(sb) if j not in db)
    return einsum(f"{sa},{''.join(sb)}->{out}", a, b)
