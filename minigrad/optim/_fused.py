"""Fused CUDA updates: each optimizer's whole per-parameter update as one CuPy
``ElementwiseKernel`` launch (read gradient, state and parameter once, write them once).

The CPU path spends one pass over memory per NumPy ufunc; on a GPU each pass would be a
kernel launch and a round trip through GPU memory, so there the update runs as a single
kernel.  Arithmetic is done in double precision and rounded once on store.  Options that
change the code path (maximize, momentum, nesterov, amsgrad, centered, decoupled weight
decay) are compiled in, one kernel per combination, built on first use and cached.
Scalars (learning rate, bias corrections) are computed on the host from Python numbers,
so a step never reads anything back from the device.
"""
from __future__ import annotations

from typing import Any

from ..ops._cuda_kernels import elementwise_kernel

# The gradient the update uses: sign flip for maximize, then the L2 penalty.
_EFFECTIVE_GRAD = """
double d = (double)g;
if ({maximize}) d = -d;
double pv = (double)p;
if (wd != 0.0) d += wd * pv;
"""


def _flag(x: bool) -> str:
    return "true" if x else "false"


def _adam_moments(maximize: bool, decoupled: bool) -> str:
    """Kernel text shared by Adam/AdamW and NAdam: weight decay, then the two running moments."""
    return f"""
double d = (double)g;
if ({_flag(maximize)}) d = -d;
double pv = (double)p;
if (wd != 0.0) {{
    if ({_flag(decoupled)}) pv *= 1.0 - lr * wd; else d += wd * pv;
}}
double m = (double)exp_avg + (1.0 - beta1) * (d - (double)exp_avg);
double v = beta2 * (double)exp_avg_sq + (1.0 - beta2) * d * d;
exp_avg = (T)m;
exp_avg_sq = (T)v;
"""


_kernel = elementwise_kernel


def sgd(p: Any, g: Any, buf: Any, lr: float, momentum: float, dampening: float, weight_decay: float,
        nesterov: bool, maximize: bool, first: bool) -> None:
    """p ← p − lr·d with d the (momentum / Nesterov) direction; ``buf`` is None without momentum."""
    head = _EFFECTIVE_GRAD.format(maximize=_flag(maximize))
    if buf is None:
        k = _kernel("sgd", "T g, float64 lr, float64 wd", "T p", head + "p = (T)(pv - lr * d);")
        k(g, lr, weight_decay, p)
        return
    body = head + f"""
double b = first ? d : momentum * (double)buf + (1.0 - dampening) * d;
buf = (T)b;
d = {_flag(nesterov)} ? d + momentum * b : b;
p = (T)(pv - lr * d);
"""
    k = _kernel("sgd_momentum", "T g, float64 lr, float64 wd, float64 momentum, float64 dampening, int32 first",
                "T p, T buf", body)
    k(g, lr, weight_decay, momentum, dampening, int(first), p, buf)


def adagrad(p: Any, g: Any, acc: Any, clr: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """acc ← acc + d²;  p ← p − clr·d / (√acc + eps)."""
    body = _EFFECTIVE_GRAD.format(maximize=_flag(maximize)) + """
double s = (double)acc + d * d;
acc = (T)s;
p = (T)(pv - clr * (d / (sqrt(s) + eps)));
"""
    _kernel("adagrad", "T g, float64 clr, float64 eps, float64 wd", "T p, T acc", body)(
        g, clr, eps, weight_decay, p, acc)


def adadelta(p: Any, g: Any, square_avg: Any, acc_delta: Any, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> None:
    """Zeiler's rule with two running averages (see adadelta.py)."""
    body = _EFFECTIVE_GRAD.format(maximize=_flag(maximize)) + """
double sq = rho * (double)square_avg + (1.0 - rho) * d * d;
square_avg = (T)sq;
double delta = sqrt((double)acc_delta + eps) / sqrt(sq + eps) * d;
acc_delta = (T)(rho * (double)acc_delta + (1.0 - rho) * delta * delta);
p = (T)(pv - lr * delta);
"""
    _kernel("adadelta", "T g, float64 lr, float64 rho, float64 eps, float64 wd", "T p, T square_avg, T acc_delta",
            body)(g, lr, rho, eps, weight_decay, p, square_avg, acc_delta)


def rmsprop(p: Any, g: Any, square_avg: Any, grad_avg: Any, buf: Any, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, maximize: bool) -> None:
    """RMSprop, optionally centered (``grad_avg`` not None) and with momentum (``buf`` not None)."""
    centered, with_momentum = grad_avg is not None, buf is not None
    body = _EFFECTIVE_GRAD.format(maximize=_flag(maximize)) + """
double sq = alpha * (double)square_avg + (1.0 - alpha) * d * d;
square_avg = (T)sq;
double avg;
"""
    outs = ["T p", "T square_avg"]
    args = [p, square_avg]
    if centered:
        body += """
double ga = (double)grad_avg + (1.0 - alpha) * (d - (double)grad_avg);
grad_avg = (T)ga;
avg = sqrt(sq - ga * ga) + eps;
"""
        outs.append("T grad_avg")
        args.append(grad_avg)
    else:
        body += "avg = sqrt(sq) + eps;\n"
    if with_momentum:
        body += """
double b = momentum * (double)buf + d / avg;
buf = (T)b;
p = (T)(pv - lr * b);
"""
        outs.append("T buf")
        args.append(buf)
    else:
        body += "p = (T)(pv - lr * (d / avg));\n"
    k = _kernel("rmsprop", "T g, float64 lr, float64 alpha, float64 eps, float64 wd, float64 momentum",
                ", ".join(outs), body)
    k(g, lr, alpha, eps, weight_decay, momentum, *args)


def adam(p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any, lr: float, beta1: float,
         beta2: float, eps: float, weight_decay: float, step_size: float, bias_correction2_sqrt: float,
         decoupled: bool, maximize: bool) -> None:
    """Adam / AdamW (``decoupled``), AMSGrad when ``max_exp_avg_sq`` is not None."""
    amsgrad = max_exp_avg_sq is not None
    body = _adam_moments(maximize, decoupled)
    outs, args = ["T p", "T exp_avg", "T exp_avg_sq"], [p, exp_avg, exp_avg_sq]
    if amsgrad:
        # NaN-propagating maximum, as torch.maximum / numpy.maximum
        body += "double mx = (double)max_exp_avg_sq;\nv = (mx > v || mx != mx) ? mx : v;\nmax_exp_avg_sq = (T)v;\n"
        outs.append("T max_exp_avg_sq")
        args.append(max_exp_avg_sq)
    body += "p = (T)(pv - step_size * (m / (sqrt(v) / bc2_sqrt + eps)));\n"
    k = _kernel("adam", "T g, float64 lr, float64 beta1, float64 beta2, float64 eps, float64 wd, "
                "float64 step_size, float64 bc2_sqrt", ", ".join(outs), body)
    k(g, lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt, *args)


def adamax(p: Any, g: Any, exp_avg: Any, exp_inf: Any, clr: float, beta1: float, beta2: float, eps: float,
           weight_decay: float, maximize: bool) -> None:
    """Adam with the infinity norm: u ← max(β₂·u, |d| + eps);  p ← p − clr·m / u."""
    body = _EFFECTIVE_GRAD.format(maximize=_flag(maximize)) + """
double m = (double)exp_avg + (1.0 - beta1) * (d - (double)exp_avg);
double u0 = beta2 * (double)exp_inf, u1 = fabs(d) + eps;
double u = (u0 > u1 || u0 != u0) ? u0 : u1;
exp_avg = (T)m;
exp_inf = (T)u;
p = (T)(pv - clr * (m / u));
"""
    _kernel("adamax", "T g, float64 clr, float64 beta1, float64 beta2, float64 eps, float64 wd",
            "T p, T exp_avg, T exp_inf", body)(g, clr, beta1, beta2, eps, weight_decay, p, exp_avg, exp_inf)


def nadam(p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any, lr: float, beta1: float, beta2: float, eps: float,
          weight_decay: float, bias_correction2: float, coef_grad: float, coef_avg: float, decoupled: bool,
          maximize: bool) -> None:
    """NAdam: p ← p + coef_grad·d/denom + coef_avg·m/denom,  denom = √(v / bc₂) + eps."""
    body = _adam_moments(maximize, decoupled) + """double denom = sqrt(v / bc2) + eps;
pv += coef_grad * (d / denom);
p = (T)(pv + coef_avg * (m / denom));
"""
    k = _kernel("nadam", "T g, float64 lr, float64 beta1, float64 beta2, float64 eps, float64 wd, float64 bc2, "
                "float64 coef_grad, float64 coef_avg", "T p, T exp_avg, T exp_avg_sq", body)
    k(g, lr, beta1, beta2, eps, weight_decay, bias_correction2, coef_grad, coef_avg, p, exp_avg, exp_avg_sq)
