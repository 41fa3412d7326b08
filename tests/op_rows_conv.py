"""Op table rows: convolutions, unfold / fold and their modules (see tests/op_table.py)."""

from hypothesis import strategies as st

from op_table import Case, add_row, array, elements

CONV = "convolution and pooling"


def _floats(draw, shape, dtype):
    return array(draw, tuple(shape), dtype, elements(dtype, -2.0, 2.0))


def _geometry(draw, dims, transposed=False):
    """Kernel, stride, padding, dilation, groups and an input size the kernel fits, for ``dims``
    spatial dims (batch 0-2; 1x1 kernels and kernels as large as the padded input included)."""
    groups = draw(st.sampled_from((1, 1, 2)))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2))
                 for k, p, d in zip(kernel, padding, dilation))
    if transposed:  # the output must not be empty
        size = tuple(max(n, 1 + -(-max(0, 2 * p - d * (k - 1)) // s))
                     for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))
    return dict(groups=groups, kernel=kernel, stride=stride, padding=padding, dilation=dilation, size=size,
                batch=draw(st.sampled_from((0, 1, 2))))


def _conv_case(dims, transposed=False):
    def case(draw, dtype):
        g = _geometry(draw, dims, transposed)
        groups = g["groups"]
        c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        lead = (g["batch"], c_in) if draw(st.integers(0, 3)) else (c_in,)  # sometimes unbatched
        w_shape = ((c_in, c_out // groups) if transposed else (c_out, c_in // groups)) + g["kernel"]
        arrays = [_floats(draw, lead + g["size"], dtype), _floats(draw, w_shape, dtype)]
        if draw(st.booleans()):
            arrays.append(_floats(draw, (c_out,), dtype))
        one = (lambda t: t[0]) if dims == 1 else (lambda t: t)
        options = dict(stride=one(g["stride"]), padding=one(g["padding"]), dilation=one(g["dilation"]), groups=groups)
        if not transposed and draw(st.integers(0, 4)) == 0:
            # "valid" is padding 0, which this input may be too small for
            options.update(stride=1, padding="same" if any(g["padding"]) else draw(st.sampled_from(("same", "valid"))))
        return Case(arrays, options)
    return case


def _conv2d(L, x, w, b=None, **kw):
    return L.F.conv2d(x, w, b, **kw)


def _conv1d(L, x, w, b=None, **kw):
    return L.F.conv1d(x, w, b, **kw)


def _conv_transpose2d(L, x, w, b=None, **kw):
    return L.F.conv_transpose2d(x, w, b, **kw)


def _conv_transpose1d(L, x, w, b=None, **kw):
    return L.F.conv_transpose1d(x, w, b, **kw)


add_row("F.conv2d", CONV, _conv2d, _conv_case(2))
add_row("F.conv1d", CONV, _conv1d, _conv_case(1))
add_row("F.conv_transpose2d", CONV, _conv_transpose2d, _conv_case(2, transposed=True))
add_row("F.conv_transpose1d", CONV, _conv_transpose1d, _conv_case(1, transposed=True))


def _module(cls, transposed=False, dims=2):
    def call(L, x, w, b=None, **kw):
        c_in = w.shape[0] if transposed else w.shape[1] * kw["groups"]
        c_out = w.shape[1] * kw["groups"] if transposed else w.shape[0]
        m = getattr(L.nn, cls)(c_in, c_out, tuple(w.shape[2:]), bias=b is not None, **kw).to(x.dtype)
        with L.no_grad():
            m.weight.copy_(w)
            if b is not None:
                m.bias.copy_(b)
        return m(x)
    return call


add_row("nn.Conv2d", CONV, _module("Conv2d"), _conv_case(2), grad_inputs=(0,))
add_row("nn.Conv1d", CONV, _module("Conv1d", dims=1), _conv_case(1), grad_inputs=(0,))
add_row("nn.ConvTranspose2d", CONV, _module("ConvTranspose2d", True), _conv_case(2, transposed=True),
        grad_inputs=(0,))
add_row("nn.ConvTranspose1d", CONV, _module("ConvTranspose1d", True, 1), _conv_case(1, transposed=True),
        grad_inputs=(0,))


def _unfold_case(draw, dtype):
    g = _geometry(draw, 2)
    lead = (g["batch"], draw(st.integers(1, 2))) if draw(st.integers(0, 3)) else (draw(st.integers(1, 2)),)
    return Case([_floats(draw, lead + g["size"], dtype)],
                dict(kernel_size=g["kernel"], dilation=g["dilation"], padding=g["padding"], stride=g["stride"]))


def _fold_case(draw, dtype):
    g = _geometry(draw, 2)
    blocks = 1
    for n, k, s, p, d in zip(g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"]):
        blocks *= (n + 2 * p - d * (k - 1) - 1) // s + 1
    rows = draw(st.integers(1, 2)) * g["kernel"][0] * g["kernel"][1]
    lead = (g["batch"], rows) if draw(st.integers(0, 3)) else (rows,)
    return Case([_floats(draw, lead + (blocks,), dtype)],
                dict(output_size=g["size"], kernel_size=g["kernel"], dilation=g["dilation"], padding=g["padding"],
                     stride=g["stride"]))


add_row("F.unfold", CONV, lambda L, x, **kw: L.F.unfold(x, **kw), _unfold_case)
add_row("F.fold", CONV, lambda L, x, **kw: L.F.fold(x, **kw), _fold_case)
add_row("nn.Unfold", CONV, lambda L, x, **kw: L.nn.Unfold(**kw)(x), _unfold_case)
add_row("nn.Fold", CONV, lambda L, x, **kw: L.nn.Fold(**kw)(x), _fold_case)


