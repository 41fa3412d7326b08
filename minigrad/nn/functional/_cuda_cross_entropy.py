"""Cross-entropy from logits and class indices on a CUDA GPU as two fused kernels.

The CPU path (cross_entropy.py) spends about twenty array calls per forward + backward (max,
shift, exp, sum, log, gather, reductions, the one-hot subtraction).  On a GPU each is a kernel
launch, and for the small batches of a training step the launches, not the arithmetic, are the
cost.  Here:

* ``forward``: one kernel, one thread per row n, computes
  lse_n = max_c x_{n,c} + log Σ_c exp(x_{n,c} - max_c x_{n,c})   (log-sum-exp, no overflow)
  ℓ_n = lse_n - x_{n,t_n}, 0 where t_n = ignore_index, NaN where t_n is out of range,
  and writes ℓ and the row's "counts" flag side by side; one ``sum`` then gives the total and
  the number of counted rows ('mean' divides them on the device: 0/0 = NaN when all are ignored).
* ``backward``: one kernel over the (M, C) gradient,
  ∂ℓ/∂x_{n,c} = r_n · (exp(x_{n,c} - lse_n) - [c = t_n]),
  r_n = dy (or dy_n for 'none'), divided by the count for 'mean'; 0 on ignored rows.

Nothing is read back to the host, so a training step never waits for the GPU.  Arithmetic is in
double precision, rounded once on store.  With ``create_graph`` the backward is the same formula
built from recorded ops, so higher derivatives stay exact.  The plain form of the whole loss is
``cross_entropy_reference`` (cross_entropy.py); the tests compare both kernels with it.
"""
from __future__ import annotations

from typing import Any

from ... import devices
from ...autograd.function import Function
from ...autograd.grad_mode import GradMode
from ...ops.cuda_kernels import elementwise_kernel
from ...ops.helpers import constant
from ...ops.activation import softmax
from ...ops.shape import reshape
from ...tensor import Tensor, make_tensor

_NAN = "__longlong_as_double(0x7ff8000000000000ULL)"
_MODES = {"mean": 0, "sum": 1, "none": 2}

_ROWS = f"""
const long long base = i * C;
double mx = (double)x[base];
for (long long c = 1; c < C; ++c) {{
    double v = (double)x[base + c];
    if (v > mx || v != v) mx = v;  // NaN propagates, as max() does
}}
double s = 0.0;
for (long long c = 0; c < C; ++c) s += exp((double)x[base + c] - mx);
double l = mx + log(s);
long long tn = (long long)t[i];
bool counts = tn != ignore;
bool bad = counts && (tn < 0 || tn >= C);
lse = l;
rows_out[i] = (T)(bad ? {_NAN} : (counts ? l - (double)x[base + tn] : 0.0));
rows_out[i + M] = (T)(counts ? 1.0 : 0.0);
"""

_GRAD = f"""
long long n = i / C, c = i - n * C;
long long tn = (long long)t[n];
bool counts = tn != ignore;
bool bad = counts && (tn < 0 || tn >= C);
double r = (double)dy[mode == 2 ? n : 0];
if (mode == 0) r /= (double)sums[1];
double p = exp((double)x[i] - lse[n]);
grad = (T)(bad ? {_NAN} : (counts ? r * (p - (c == tn ? 1.0 : 0.0)) : 0.0 * r));
"""


def _kernel(name: str, in_params: str, out_params: str, body: str) -> Any:
    return elementwise_kernel("ce_" + name, in_params, out_params, body)


class CudaCrossEntropy(Function):
    """ℓ = cross_entropy(x, t) for CUDA logits x (M, C) and class indices t (M,), no class
    weights or label smoothing; ``ignore_index`` and the three reductions as in PyTorch.

    Backward:  dℓ/dx_n = (softmax(x_n) - onehot(t_n))·r_n,  r_n = dy_n ('none'), dy / K
    ('mean', K the number of rows that count) or dy ('sum'); r_n = 0 on ignored rows and NaN
    on rows whose target is out of range."""

    def forward(self, x: Tensor, t: Any, ignore_index: int, reduction: str) -> Any:
        self.save_for_backward(x)
        cp = devices.cupy_module()
        a = cp.ascontiguousarray(x._data)
        m, c = a.shape
        if t.dtype.kind == "u" and t.dtype.itemsize == 8:
            t = t.astype("int64")
        t = cp.ascontiguousarray(t)
        lse = cp.empty(m, dtype="float64")
        out = cp.empty(2 * m, dtype=a.dtype)  # [ℓ_0 .. ℓ_{M-1}, counts_0 .. counts_{M-1}]
        _kernel("rows", "raw T x, raw I t, int64 ignore, int64 C, int64 M", "float64 lse, raw T rows_out", _ROWS)(
            a, t, ignore_index, c, m, lse, out)
        self.a, self.t, self.lse, self.ignore, self.mode = a, t, lse, ignore_index, _MODES[reduction]
        self.sums = None
        if reduction == "none":
            return out[:m]
        sums = out.reshape(2, m).sum(axis=1)  # [Σ ℓ, number of rows that count]
        self.sums = sums
        return sums[0] if reduction == "sum" else sums[0] / sums[1]

    def backward(self, g: Tensor) -> tuple:
        if not GradMode.enabled:  # no graph of the backward wanted: one kernel writes the whole gradient
            return _cross_entropy_backward_kernel(self, g), None, None, None
        (x,) = self.saved_tensors
        cp, dtype = devices.cupy_module(), self.a.dtype
        c = self.a.shape[1]
        t = self.t.astype("int64")
        counts = t != self.ignore
        bad = counts & ((t < 0) | (t >= c))
        onehot = (cp.arange(c)[None, :] == t[:, None]).astype(dtype)
        per_row = cp.where(bad, cp.nan, counts.astype(dtype))[:, None]  # r_n / dy: 1, 0 ignored, NaN out of range
        if self.mode == 0:
            per_row = per_row / self.sums[1]  # 'mean': divided by K
        dy = reshape(g, (-1, 1)) if self.mode == 2 else g
        return (softmax(x, 1) - constant(onehot)) * constant(per_row.astype(dtype)) * dy, None, None, None


def _cross_entropy_backward_kernel(node: CudaCrossEntropy, g: Tensor) -> Tensor:
    """CudaCrossEntropy's gradient (softmax(x) - onehot(t))·r as one kernel launch (``_GRAD``;
    not differentiable again: used when the backward is not recorded)."""
    a, dy = node.a, g._data
    if dy.dtype != a.dtype:
        dy = dy.astype(a.dtype)
    sums = node.sums if node.sums is not None else dy  # (unused for 'none')
    grad = devices.cupy_module().empty_like(a)
    _kernel("grad", "raw T x, raw float64 lse, raw I t, raw T dy, raw T sums, int64 ignore, int64 C, int32 mode",
            "T grad", _GRAD)(a, node.lse, node.t, dy.reshape(-1), sums, node.ignore, a.shape[1], node.mode, grad)
    return make_tensor(grad, False, None)
