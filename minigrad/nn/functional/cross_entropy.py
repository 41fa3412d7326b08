"""Multi-class losses: ``cross_entropy`` (from logits) and ``nll_loss`` (from log-probabilities).

Shapes: input (N, C), (C,) or (N, C, d1, d2, ...); targets are class indices of shape
(N,), () or (N, d1, d2, ...), or class probabilities of the input's shape.

Read :func:`cross_entropy_reference` first: the loss written out from log-softmax, a one-hot
target distribution, a product and sums.  Class-probability targets run exactly that.  Class
indices run one fused node, :class:`CrossEntropyIndices` (on a GPU, two CUDA kernels in
``_cuda_cross_entropy.py``), whose backward is the closed form "softmax minus one-hot"; the
tests check that every form agrees with the reference: values, gradients, second derivatives.
"""
from __future__ import annotations

from typing import Any

from ...devices import HostArray, array_module, cached_ones, is_cuda_array
from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...errors import ShapeError
from ...ops.helpers import constant, typed_scalar
from ...ops.activation import log_softmax, softmax
from ...ops.elementwise import where
from ...ops.indexing import getitem
from ...ops.reduction import sum as _sum
from ...ops.shape import permute, reshape
from ...tensor import Tensor, make_tensor
from ._common import REDUCTIONS, check_input, check_reduction, same_device
from ._cuda_cross_entropy import CudaCrossEntropy
from .activation import one_hot


def cross_entropy_reference(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                            reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy composed from differentiable ops: the plain form of :func:`cross_entropy`.

    With the class dim moved last and the other dims flattened, x holds M rows of C logits and
    the target is a distribution q (M, C) over the classes:

        class indices t (M,):        q_n = onehot(t_n)·v_n,   v_n = [t_n ≠ ignore_index]
        class probabilities (M, C):  q as given,              v_n = 1
        label smoothing ε:           q_n ← (1 - ε)·q_n + (ε/C)·v_n
        ℓ_n = -Σ_c w_c·q_{n,c}·log softmax(x_n)_c          (w: class weights, 1 by default)

    Reduction 'none': ℓ in the input's shape without its class dim; 'sum': Σ_n ℓ_n; 'mean':
    Σ_n ℓ_n / D, with D = Σ_n w_{t_n}·v_n for class indices (the kept rows' class weights; M
    without weights or ignored rows) and D = M for probabilities.  D = 0 gives NaN (0/0).
    The gradient, from log_softmax's backward, is w-weighted "softmax minus q".
    """
    op = "cross_entropy_reference"
    check_reduction(reduction, op)
    check_input(input, op)
    target, probs = _check_targets(input, target, op, allow_probs=True)
    x, t, c = _to_rows(input, target, probs)  # x (M, C); t: (M,) class indices or (M, C) probabilities
    m, xp = x.shape[0], array_module(x._data)
    w = constant(xp.ones(c, dtype=x.dtype) if weight is None else _class_weight(weight, input, c, op))
    if probs:
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index={ignore_index} needs class-index targets")
        q, v, denom = t, 1.0, m
    else:
        t = constant(t)
        kept = t != ignore_index
        v = reshape(kept.to(x.dtype), (-1, 1))                       # v_n, as an (M, 1) column
        q = one_hot(where(kept, t, 0), c).to(x.dtype) * v            # one-hot rows, 0 where ignored
        denom = _sum(q * w).item()                                   # Σ_n w_{t_n}·v_n
    if label_smoothing:
        q = q * (1 - label_smoothing) + v * (label_smoothing / c)
    loss = -_sum(w * q * log_softmax(x, 1), 1)                       # ℓ_n, shape (M,)
    if reduction == "none":
        return reshape(loss, _class_free_shape(input))
    total = _sum(loss)
    if reduction == "sum":
        return total
    return total / denom if denom != 0 else total * float("nan")


class _Prepared:
    """Class indices checked and flattened to M rows, with each row's weight.

    ``flat`` indexes the target entries of a C-contiguous (M, C) array seen as 1-D
    (n·C + t_n): a 1-D gather/scatter is much cheaper than indexing with (rows, t).
    """

    __slots__ = ("t", "flat", "valid", "w_rows", "wvec", "denom", "reduction", "eps")


_aranges: dict = {}  # (M, step, device) -> [0, step, 2·step, ...) of length M, shared by calls


def _arange(t: Any, m: int, step: int) -> Any:
    key = (m, step, -1 if t.__class__ is HostArray else t.device.id)
    r = _aranges.get(key)
    if r is None:
        if len(_aranges) > 64:
            _aranges.clear()
        r = _aranges[key] = array_module(t).arange(0, m * step, step, dtype="int64")
    return r


def _flat_index(t: Any, n_classes: int) -> Any:
    return _arange(t, t.shape[0], n_classes) + t


def _checked_flat_index(t: Any, n_classes: int) -> Any:
    """n·C + t_n for host class indices, or None if some index lies outside [0, C).

    ``ravel_multi_index`` checks the bounds while it computes the positions: one call
    instead of a max() over the targets plus an addition."""
    m = t.shape[0]
    try:
        return array_module(t).ravel_multi_index((_arange(t, m, 1), t), (m, n_classes))
    except ValueError:  # out of range: the caller's slower path names the offending target
        return None


def _unsigned(t: Any) -> Any:
    """The indices viewed as unsigned: a negative index becomes huge, so one max() checks both ends."""
    return t.view(f"u{t.dtype.itemsize}") if t.dtype.kind == "i" else t


def _prepare_indices(t: Any, n_classes: int, ignore_index: int, weight: Any, op: str, shape: tuple,
                     dtype: Any) -> _Prepared:
    """Check class indices, mask ``ignore_index`` and compute per-row weights.

    valid_n = (t_n != ignore_index);  w_n = weight[t_n]·valid_n (or valid_n);
    denom = Σ w_n, the divisor of reduction='mean' (PyTorch's rule).
    """
    out = _Prepared()
    valid = flat = None
    if t.dtype.kind == "u" and t.dtype.itemsize == 8:
        t = t.astype("int64")  # uint64 + int64 row offsets would promote to float
    if t.__class__ is HostArray and t.size and not 0 <= ignore_index < n_classes:
        flat = _checked_flat_index(t, n_classes)  # None: some target is out of range (or ignored)
    if flat is None:
        # (On a GPU this reads the check back to the host: cross_entropy's common case avoids it
        # with its fused kernels; class weights, label smoothing and nll_loss come here.)
        if t.size and (_unsigned(t).max() >= n_classes or 0 <= ignore_index < n_classes):
            xp = array_module(t)
            valid = t != ignore_index
            bad = valid & ((t < 0) | (t >= n_classes))
            if bool(bad.any()):
                raise IndexError(f"{op}: target {int(t[bad][0])} is out of bounds for {n_classes} classes "
                                 f"(input shape {shape}, ignore_index={ignore_index})")
            if bool(valid.all()):
                valid = None
            else:
                t = xp.where(valid, t, 0)
    out.t, out.valid, out.wvec = t, valid, weight
    out.flat = flat if flat is not None else _flat_index(t, n_classes)
    if weight is not None:
        w = weight[t]
        out.w_rows = w * valid if valid is not None else w
        out.denom = out.w_rows.sum()
    else:
        out.w_rows = valid.astype(dtype) if valid is not None else None
        out.denom = int(valid.sum()) if valid is not None else t.shape[0]
    return out


class CrossEntropyIndices(Function):
    """Fused log-softmax + negative log-likelihood for logits x (M, C) and class indices t (M,):
    what :func:`cross_entropy_reference` computes for class indices, as one node.

    ℓ_n = Σ_c A_{n,c}·(-log p_{n,c}),   p = softmax(x_n),
    A_{n,c} = (1-ε)·w_n·[c = t_n] + (ε/C)·valid_n·w_c,   w_n = w_{t_n}·valid_n,

    then mean (divided by Σ_n w_n), sum or none.  Since Σ_c A_{n,c}·(-log p_{n,c}) has the
    derivative S_n·p_n - A_n with S_n = Σ_c A_{n,c}, the gradient is "softmax minus one-hot",
    weighted:

        dℓ/dx_n = (S_n·p_n - A_n)·r_n,   r_n = dy_n ('none'), dy / Σ_n w_n ('mean'), dy ('sum').

    ``prep`` (the checked targets) also carries ``reduction`` and the label smoothing ε: x is
    the only input on the tape.
    """

    def forward(self, x: Tensor, prep: _Prepared) -> Any:
        self.save_for_backward(x)
        a = x._data
        xp = array_module(a)
        m, c = a.shape
        reduction, eps = prep.reduction, prep.eps
        self.prep, self.reduction, self.eps = prep, reduction, eps
        # log p = shifted - log Σ e^shifted, with shifted = x - max x (no overflow).
        shifted = a - a.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e @ cached_ones((c, 1), e)  # Σ_c e_{n,c}, as an (M, 1) column
        self.exp, self.norm = e, s  # p = e / s, formed in backward only
        log_s = xp.log(s)
        nll = log_s.reshape(m) - shifted.take(prep.flat)  # -log p_{n, t_n} (take reads the array as 1-D)
        if prep.w_rows is not None:
            nll = nll * prep.w_rows
        if eps > 0:
            neg_logp = log_s - shifted
            smooth = neg_logp @ prep.wvec if prep.wvec is not None else neg_logp.sum(axis=1)
            if prep.valid is not None:
                smooth = smooth * prep.valid
            nll = nll * (1 - eps) + smooth * (eps / c)
        if nll.dtype != a.dtype:
            nll = nll.astype(a.dtype)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if prep.w_rows is None and prep.valid is None and m:
            return nll.sum() * (1.0 / m)  # (ndarray.mean is a slower Python-level wrapper)
        denom = float(prep.denom)
        if denom == 0:  # every target ignored (or no rows): 0/0, as PyTorch
            return xp.full((), xp.nan, dtype=a.dtype)
        return (nll.sum() / denom).astype(a.dtype)

    def backward(self, g: Tensor) -> tuple:
        if not GradMode.enabled:  # no graph of the backward wanted: the same formula on arrays, no per-op tape work
            return _cross_entropy_backward_arrays(self, g), None
        (x,) = self.saved_tensors
        sums, a = self.coefficients()
        r = reshape(g, (-1, 1)) if self.reduction == "none" else g * self.factor()
        return (softmax(x, 1) * constant(sums) - constant(a)) * r, None

    def coefficients(self) -> tuple:
        """(S, A) of the gradient formula as arrays: A (M, C) and its row sums S (M, 1)."""
        prep, eps = self.prep, self.eps
        xp, dtype = array_module(self.exp), self.exp.dtype
        m, c = self.exp.shape
        w_rows = prep.w_rows if prep.w_rows is not None else xp.ones(m, dtype=dtype)
        a = xp.zeros((m, c), dtype=dtype)
        a.reshape(-1)[prep.flat] = (1 - eps) * w_rows
        if eps > 0:
            wvec = prep.wvec if prep.wvec is not None else xp.ones(c, dtype=dtype)
            valid = prep.valid if prep.valid is not None else xp.ones(m, dtype=bool)
            a += (eps / c) * valid[:, None] * wvec[None, :]
        return a.sum(axis=1, keepdims=True), a

    def factor(self) -> float:
        """The reduction's factor for 'mean' and 'sum': 1/Σ_n w_n or 1 (NaN when Σ_n w_n = 0)."""
        if self.reduction == "sum":
            return 1.0
        denom = float(self.prep.denom)
        return 1.0 / denom if denom != 0 else float("nan")


def _cross_entropy_backward_arrays(node: CrossEntropyIndices, g: Tensor) -> Tensor:
    """CrossEntropyIndices' gradient (S·p - A)·r on the arrays (not differentiable again; used
    when the backward is not recorded).  With no class weights, label smoothing or ignored
    targets, A is the one-hot of the targets and S = 1: then A·r is subtracted at the target
    entries alone instead of being formed as a dense (M, C) array."""
    prep, e, s = node.prep, node.exp, node.norm
    ga = g._data
    if node.reduction == "none":
        r = ga.reshape(-1, 1)
    elif ga.__class__ is HostArray:
        r = typed_scalar(float(ga) * node.factor(), e)  # (cached: the same every step)
    else:
        r = ga * node.factor()
    if node.eps == 0 and prep.wvec is None and prep.valid is None:
        grad = e * (r / s)                                          # p·r
        if not grad.flags.c_contiguous:  # e of a transposed input: the reshape below must be a view
            grad = grad.copy(order="C")
        grad.reshape(-1)[prep.flat] -= r.reshape(-1) if node.reduction == "none" else r  # - onehot·r
    else:
        sums, a = node.coefficients()
        grad = (e / s * sums - a) * r
    if grad.dtype != e.dtype:
        grad = grad.astype(e.dtype)
    return make_tensor(grad, False, None)


def _to_rows(input: Tensor, target: Tensor | None, probs: bool) -> tuple:
    """Move the class dim last and flatten: input -> (M, C); target -> (M,) or (M, C)."""
    nd = input.ndim
    c = input.shape[0] if nd == 1 else input.shape[1]
    if nd == 1:
        x2 = reshape(input, (1, c))
    elif nd == 2:
        x2 = input
    else:
        x2 = reshape(permute(input, 0, *range(2, nd), 1), (-1, c))
    t2 = None
    if target is not None:
        if probs:
            t2 = reshape(target, (1, c)) if nd == 1 else target if nd == 2 else \
                reshape(permute(target, 0, *range(2, nd), 1), (-1, c))
        else:
            t2 = target._data.reshape(-1)
    return x2, t2, c


def _check_targets(input: Tensor, target: Any, op: str, allow_probs: bool) -> tuple:
    """(target tensor, is_probabilities)."""
    if not isinstance(target, Tensor):
        from ...creation import tensor

        target = tensor(target, device=input.device)
    if not same_device(target, input):
        raise RuntimeError(f"{op}: target is on {target.device} but the input is on {input.device}")
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dim, got a 0-d tensor")
    class_free = tuple(input.shape[:1] + input.shape[2:]) if input.ndim >= 2 else ()
    if target.dtype.kind in "iu":
        if tuple(target.shape) != class_free:
            raise ShapeError(f"{op}: class-index target of shape {tuple(target.shape)} does not match input of shape "
                             f"{tuple(input.shape)} (expected target shape {class_free})")
        return target, False
    if target.dtype.kind == "f" and allow_probs:
        if tuple(target.shape) != tuple(input.shape):
            raise ShapeError(f"{op}: class-probability target of shape {tuple(target.shape)} must have the input's "
                             f"shape {tuple(input.shape)} (for class indices use an integer tensor of shape "
                             f"{class_free})")
        return (target if target.dtype == input.dtype else target.to(input.dtype)), True
    kind = "integer class indices" + (" or float class probabilities" if allow_probs else "")
    raise TypeError(f"{op}: target must hold {kind}, got dtype {target.dtype} (shape {tuple(target.shape)})")


def _class_weight(weight: Any, input: Tensor, c: int, op: str) -> Any:
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        from ...creation import tensor

        weight = tensor(weight, dtype=input.dtype, device=input.device)
    if tuple(weight.shape) != (c,):
        raise ShapeError(f"{op}: weight must have shape ({c},), one value per class, got {tuple(weight.shape)}")
    if not same_device(weight, input):
        raise RuntimeError(f"{op}: weight is on {weight.device} but the input is on {input.device}")
    w = weight._data
    return w if w.dtype == input.dtype else w.astype(input.dtype)


def _class_free_shape(input: Tensor) -> tuple:
    return tuple(input.shape[:1] + input.shape[2:]) if input.ndim >= 2 else ()


def _plain_indices(x: Any, t: Any) -> bool:
    """(N, C) floating logits and (N,) integer class indices on one device?"""
    if not (isinstance(x, Tensor) and isinstance(t, Tensor)):
        return False
    a, b = x._data, t._data
    return (a.ndim == 2 and b.ndim == 1 and a.dtype.kind == "f" and b.dtype.kind in "iu"
            and len(a) == len(b) and (a.__class__ is b.__class__ is HostArray or same_device(x, t)))


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between softmax(input) over the class dim (dim 1, or 0 for a (C,) input)
    and ``target``, computed from log-softmax (stable for any logits).

    * Class indices t: ℓ_n = -w_{t_n} log p_{n,t_n}; entries equal to ``ignore_index`` add 0, and
      'mean' divides by Σ_n w_{t_n} over the kept entries (N when there are no weights).
    * Class probabilities q (float, the input's shape): ℓ_n = -Σ_c w_c q_{n,c} log p_{n,c};
      'mean' divides by the number of rows N·d1·d2·...
    * ``label_smoothing`` ε mixes the target with the uniform distribution: q ← (1-ε)q + ε/C.

    Out-of-range class indices raise an IndexError on the CPU; on a GPU (plain case) they make
    that row's loss NaN instead, because raising would need a device-to-host copy every call.
    """
    op = "cross_entropy"
    if weight is None and label_smoothing == 0.0 and reduction in REDUCTIONS and _plain_indices(input, target):
        if is_cuda_array(input._data) and input.shape[1]:  # two fused kernels, no host round trip
            return CudaCrossEntropy.apply(input, target._data, int(ignore_index), reduction)
        # The common case, (N, C) logits and (N,) indices, without the general reshaping.
        a = input._data
        prep = _prepare_indices(target._data, a.shape[1], int(ignore_index), None, op, a.shape, a.dtype)
        prep.reduction, prep.eps = reduction, 0.0
        return CrossEntropyIndices.apply(input, prep)
    check_reduction(reduction, op)
    check_input(input, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must lie in [0, 1], got {label_smoothing}")
    target, probs = _check_targets(input, target, op, allow_probs=True)
    if probs:  # no fused node for class probabilities: the composed form is what runs
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index={ignore_index} needs class-index targets; with class-probability "
                             "targets give ignored rows zero probability instead")
        return cross_entropy_reference(input, target, weight, ignore_index, reduction, label_smoothing)
    x2, t2, c = _to_rows(input, target, False)
    w = _class_weight(weight, input, c, op)
    if w is None and label_smoothing == 0.0 and c and is_cuda_array(x2._data):
        out = CudaCrossEntropy.apply(x2, t2, int(ignore_index), reduction)
    else:
        prep = _prepare_indices(t2, c, int(ignore_index), w, op, tuple(input.shape), input.dtype)
        prep.reduction, prep.eps = reduction, float(label_smoothing)
        out = CrossEntropyIndices.apply(x2, prep)
    if reduction == "none":
        out = reshape(out, _class_free_shape(input))
    return out


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (e.g. log_softmax output):

        ℓ_n = -w_{t_n} · input[n, t_n],

    entries equal to ``ignore_index`` add 0; 'mean' divides by Σ_n w_{t_n} over kept entries.
    ``cross_entropy(x, t) == nll_loss(log_softmax(x, 1), t)``.
    """
    op = "nll_loss"
    check_reduction(reduction, op)
    check_input(input, op)
    target, _ = _check_targets(input, target, op, allow_probs=False)
    x2, t2, c = _to_rows(input, target, False)
    w = _class_weight(weight, input, c, op)
    prep = _prepare_indices(t2, c, int(ignore_index), w, op, tuple(input.shape), input.dtype)
    xp = array_module(x2._data)
    picked = getitem(x2, (xp.arange(x2.shape[0]), prep.t))
    coef = prep.w_rows
    per_row = -picked if coef is None else -picked * constant(coef.astype(input.dtype, copy=False))
    if reduction == "none":
        return reshape(per_row, _class_free_shape(input))
    total = _sum(per_row)
    if reduction == "sum":
        return total
    return total / float(prep.denom) if float(prep.denom) != 0 else total * float("nan")
