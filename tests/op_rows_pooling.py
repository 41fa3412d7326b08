"""Op table rows: pooling, channel dropout and BatchNorm2d (see tests/op_table.py)."""
import numpy as np
from hypothesis import strategies as st

from op_table import FLOATS, Case, add_row, array, elements

from minigrad.nn.functional.pooling import pooled_size

POOLING = "convolution and pooling"


def _f32(v):
    """``v`` rounded to a float32 value (hypothesis wants bounds that float32 represents)."""
    return float(np.float32(v))


def _values(draw, shape, dtype):
    return array(draw, tuple(shape), dtype, elements(dtype, _f32(-3.0), _f32(3.0)))


def _distinct(draw, shape, dtype):
    """Values that are all different (max pooling without ties: no kinks for gradcheck), in a
    random order."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size))) if size else []
    return (np.asarray(order, dtype=np.float64) * (4.0 / max(size, 1)) - 2.0).reshape(shape).astype(dtype)


def _windows_see_input(n, k, s, p, d, ceil_mode):
    """At least one window, and each covers an input element (a dilated window that falls
    entirely into the padding gets -inf and an index past the plane in PyTorch: left out)."""
    out = pooled_size(n, k, s, p, d, ceil_mode)
    return out > 0 and all(any(0 <= t * s - p + i * d < n for i in range(k)) for t in range(out))


def _window_options(draw, nd, dilation):
    """Kernel, stride, padding (at most half the kernel), dilation and ceil_mode for ``nd``
    spatial dims, and spatial sizes with at least one window (a kernel as large as the padded
    input included)."""
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = draw(st.sampled_from((None, tuple(draw(st.integers(1, 3)) for _ in range(nd)))))
    s = k if stride is None else stride
    p = tuple(draw(st.integers(0, kv // 2)) for kv in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    ceil = draw(st.booleans())
    spatial = tuple(max(1, dv * (kv - 1) + 1 - 2 * pv) + draw(st.integers(0, 3)) for kv, pv, dv in zip(k, p, d))
    while not all(_windows_see_input(n, kv, sv, pv, dv, ceil) for n, kv, sv, pv, dv in zip(spatial, k, s, p, d)):
        spatial = tuple(n + 1 for n in spatial)
    options = {"kernel_size": k[0] if nd == 1 and draw(st.booleans()) else k, "stride": stride, "padding": p,
               "ceil_mode": ceil}
    if dilation:
        options["dilation"] = d
    return spatial, options


def _lead(draw):
    """Batch and channel dims: an empty batch, batch 1, or no batch dim (unbatched input)."""
    return draw(st.sampled_from(((0, 2), (1, 1), (2, 3), (2,))))


def _pool_case(nd, dilation=True, distinct=True, extra=None):
    def draw_case(draw, dtype):
        spatial, options = _window_options(draw, nd, dilation)
        shape = _lead(draw) + spatial
        values = _distinct(draw, shape, dtype) if distinct and dtype.startswith("float") else _values(draw, shape, dtype)
        if extra:
            options.update(extra(draw))
        return Case([values], options)
    return draw_case


def _max_extra(draw):
    return {"return_indices": draw(st.booleans())}


def _avg_extra(draw):
    return {"count_include_pad": draw(st.booleans())}


def _avg2d_extra(draw):
    return dict(_avg_extra(draw), divisor_override=draw(st.sampled_from((None, None, 3, -2))))


add_row("F.max_pool2d", POOLING, lambda L, x, **o: L.F.max_pool2d(x, **o), _pool_case(2, extra=_max_extra),
        dtypes=FLOATS + ("int64", "int32"))
add_row("F.max_pool1d", POOLING, lambda L, x, **o: L.F.max_pool1d(x, **o), _pool_case(1, extra=_max_extra))
add_row("F.avg_pool2d", POOLING, lambda L, x, **o: L.F.avg_pool2d(x, **o),
        _pool_case(2, dilation=False, distinct=False, extra=_avg2d_extra), dtypes=FLOATS + ("int64",))
add_row("F.avg_pool1d", POOLING, lambda L, x, **o: L.F.avg_pool1d(x, **o),
        _pool_case(1, dilation=False, distinct=False, extra=_avg_extra), dtypes=FLOATS + ("int64",))


def _module_args(options, names):
    return {k: v for k, v in options.items() if k in names}


_MAX_ARGS = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVG_ARGS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

add_row("nn.MaxPool2d", POOLING, lambda L, x, **o: L.nn.MaxPool2d(**_module_args(o, _MAX_ARGS))(x),
        _pool_case(2, extra=_max_extra))
add_row("nn.MaxPool1d", POOLING, lambda L, x, **o: L.nn.MaxPool1d(**_module_args(o, _MAX_ARGS))(x),
        _pool_case(1, extra=_max_extra))
add_row("nn.AvgPool2d", POOLING, lambda L, x, **o: L.nn.AvgPool2d(**_module_args(o, _AVG_ARGS))(x),
        _pool_case(2, dilation=False, distinct=False, extra=_avg2d_extra))
add_row("nn.AvgPool1d", POOLING, lambda L, x, **o: L.nn.AvgPool1d(**_module_args(o, _AVG_ARGS))(x),
        _pool_case(1, dilation=False, distinct=False, extra=_avg_extra))


def _adaptive_case(nd, max_pool):
    """An input of 1 to 6 per spatial dim and an output size (None entries keep the input's size,
    2-D only); the max pools get distinct values and sometimes return indices.  (No output size
    0: PyTorch's backward refuses it; tests/nn/test_pooling.py checks minigrad's zero gradient.)"""
    def draw_case(draw, dtype):
        spatial = tuple(draw(st.integers(1, 6)) for _ in range(nd))
        shape = _lead(draw) + spatial
        sizes = tuple(draw(st.one_of(st.none(), st.integers(1, 4)) if nd == 2 else st.integers(1, 4))
                      for _ in range(nd))
        size = sizes[0] if nd == 1 or (draw(st.booleans()) and sizes[0] is not None) else sizes
        if max_pool:
            return Case([_distinct(draw, shape, dtype)], {"output_size": size, "return_indices": draw(st.booleans())})
        return Case([_values(draw, shape, dtype)], {"output_size": size})
    return draw_case


_EMPTY = "output size 0: the gradient is zero (PyTorch's backward refuses an empty output)"
add_row("F.adaptive_avg_pool2d", POOLING, lambda L, x, **o: L.F.adaptive_avg_pool2d(x, **o), _adaptive_case(2, False),
        differs=_EMPTY)
add_row("F.adaptive_avg_pool1d", POOLING, lambda L, x, **o: L.F.adaptive_avg_pool1d(x, **o), _adaptive_case(1, False),
        differs=_EMPTY)
add_row("F.adaptive_max_pool2d", POOLING, lambda L, x, **o: L.F.adaptive_max_pool2d(x, **o), _adaptive_case(2, True),
        differs=_EMPTY)
add_row("F.adaptive_max_pool1d", POOLING, lambda L, x, **o: L.F.adaptive_max_pool1d(x, **o), _adaptive_case(1, True),
        differs=_EMPTY)
add_row("nn.AdaptiveAvgPool2d", POOLING, lambda L, x, **o: L.nn.AdaptiveAvgPool2d(**o)(x), _adaptive_case(2, False))
add_row("nn.AdaptiveAvgPool1d", POOLING, lambda L, x, **o: L.nn.AdaptiveAvgPool1d(**o)(x), _adaptive_case(1, False))
add_row("nn.AdaptiveMaxPool2d", POOLING, lambda L, x, **o: L.nn.AdaptiveMaxPool2d(**o)(x), _adaptive_case(2, True))
add_row("nn.AdaptiveMaxPool1d", POOLING, lambda L, x, **o: L.nn.AdaptiveMaxPool1d(**o)(x), _adaptive_case(1, True))


# -- channel dropout -----------------------------------------------------------------------------

def _channel_dropout_case(min_dims, max_dims):
    def draw_case(draw, dtype):
        ndim = draw(st.integers(min_dims, max_dims))
        shape = tuple(draw(st.integers(0 if i == 0 else 1, 3)) for i in range(ndim))
        if draw(st.booleans()):
            options = {"p": 0.0, "training": True}
        else:
            options = {"p": draw(st.sampled_from((0.0, 0.3, 0.5))), "training": False}
        return Case([_values(draw, shape, dtype)], options)
    return draw_case


def _dropout_module(name):
    def call(L, x, p=0.5, training=True):
        m = getattr(L.nn, name)(p)
        m.train(training)
        return m(x)
    return call


_RANDOM = "random masks differ from PyTorch's: compared only where nothing is dropped (p=0 or training=False)"
add_row("F.dropout2d", POOLING, lambda L, x, p=0.5, training=True: L.F.dropout2d(x, p=p, training=training),
        _channel_dropout_case(2, 5), differs=_RANDOM)
add_row("F.dropout1d", POOLING, lambda L, x, p=0.5, training=True: L.F.dropout1d(x, p=p, training=training),
        _channel_dropout_case(2, 3), differs=_RANDOM)
add_row("nn.Dropout2d", POOLING, _dropout_module("Dropout2d"), _channel_dropout_case(3, 4), differs=_RANDOM)
add_row("nn.Dropout1d", POOLING, _dropout_module("Dropout1d"), _channel_dropout_case(2, 3), differs=_RANDOM)


# -- BatchNorm2d ---------------------------------------------------------------------------------

def _batch_norm2d_case(draw, dtype):
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(0, 3)), c, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    arrays = [_values(draw, shape, dtype), _values(draw, (c,), dtype), _values(draw, (c,), dtype),
              _values(draw, (c,), dtype), array(draw, (c,), dtype, elements(dtype, 0.5, 2.0))]
    training = draw(st.booleans()) and shape[0] * shape[2] * shape[3] != 1  # one value per channel: both refuse
    return Case(arrays, {"training": training, "affine": draw(st.booleans()),
                         "momentum": draw(st.sampled_from((0.1, 0.5))), "eps": draw(st.sampled_from((1e-5, 0.1)))})


def _batch_norm2d(L, x, w, b, rm, rv, training=False, affine=True, momentum=0.1, eps=1e-5):
    m = L.nn.BatchNorm2d(x.shape[1], eps=eps, momentum=momentum, affine=affine).to(x.dtype)
    with L.no_grad():
        m.running_mean.copy_(rm)
        m.running_var.copy_(rv)
        if affine:
            m.weight.copy_(w)
            m.bias.copy_(b)
    m.train(training)
    return m(x)


# (Normalization divides by √(σ² + ε): float32 roundings of the batch mean show as ~1e-4.)
add_row("nn.BatchNorm2d", POOLING, _batch_norm2d, _batch_norm2d_case, grad_inputs=(0,), rtol=1e-4, atol=1e-5)
