"""Convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv, DeformConv
(https://onnx.ai/onnx/operators/onnx__Conv.html and the pages of the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._window import read_window, window_out
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim


def _kernel(ctx: Context, w_index: int, n: int) -> list[int] | None:
    """kernel_shape, else the weight's spatial dims when they are numbers, else None."""
    ks = ctx.attr("kernel_shape")
    if ks is not None:
        return [int(k) for k in ks]
    w = ctx.input_type(w_index)
    shape = getattr(w, "shape", None)
    if shape is not None:
        if len(shape) != n + 2:
            ctx.fail(f"weight has rank {len(shape)}, {n + 2} expected")
        if all(isinstance(d, int) for d in shape[2:]):
            return [int(d) for d in shape[2:]]
    return None


def _weight_dim(ctx: Context, w_index: int, axis: int) -> Dim | None:
    w = ctx.input_type(w_index)
    shape = getattr(w, "shape", None)
    return shape[axis] if shape is not None and len(shape) > axis else None


def _conv_shape(ctx: Context, x_index: int, w_index: int) -> list[Dim]:
    """[N, M, out...] of a forward convolution: M = W.shape[0], spatial sizes per the window."""
    xs = ctx.shape(x_index)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    n = len(xs) - 2
    m = _weight_dim(ctx, w_index, 0)
    kernel = _kernel(ctx, w_index, n)
    if kernel is None:
        return [xs[0], m if m is not None else ctx.fresh(), *ctx.fresh_dims(n)]
    win = read_window(ctx, n, kernel)
    spatial = [window_out(ctx, win, i, xs[2 + i]) for i in range(n)]
    return [xs[0], m if m is not None else ctx.fresh(), *spatial]


@register_rule("Conv")
def _conv(ctx: Context) -> None:
    """Y: [N, M, floor((D + pads - ((k-1)*dilation + 1)) / stride) + 1 ...]; SAME_*: ceil(D / stride)."""
    dtype = ctx.dtype(0)
    ctx.set_tensor(0, dtype, _conv_shape(ctx, 0, 1))


@register_rule("ConvInteger", since=10)
def _conv_integer(ctx: Context) -> None:
    ctx.tensor(0)
    ctx.set_tensor(0, DataType.INT32, _conv_shape(ctx, 0, 1))


@register_rule("QLinearConv", since=10)
def _qlinear_conv(ctx: Context) -> None:
    """Inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point; y has
    y_zero_point's type (uint8 when it is omitted)."""
    dtype = ctx.dtype(7) if ctx.has_input(7) else DataType.UINT8
    ctx.set_tensor(0, dtype, _conv_shape(ctx, 0, 3))


@register_rule("DeformConv", since=19)
def _deform_conv(ctx: Context) -> None:
    """Inputs X, W, offset, B, mask: the output has the shape of a Conv of X by W."""
    dtype = ctx.dtype(0)
    ctx.set_tensor(0, dtype, _conv_shape(ctx, 0, 1))


@register_rule("ConvTranspose")
def _conv_transpose(ctx: Context) -> None:
    """Y: [N, W.shape[1] * group, out...], out = stride*(D-1) + output_padding + (k-1)*dilation + 1
    - pads, or output_shape when given, or D*stride with SAME_*."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    n = len(xs) - 2
    group = int(ctx.attr("group", 1))
    m = _weight_dim(ctx, 1, 1)
    channels: Dim = m * group if m is not None else ctx.fresh()
    output_shape = ctx.attr("output_shape")
    if output_shape is not None and len(output_shape) > 0:
        if len(output_shape) != n:
            ctx.fail(f"output_shape has {len(output_shape)} values, {n} expected")
        ctx.set_tensor(0, dtype, [xs[0], channels, *[int(v) for v in output_shape]])
        return
    kernel = _kernel(ctx, 1, n)
    if kernel is None:
        ctx.set_tensor(0, dtype, [xs[0], channels, *ctx.fresh_dims(n)])
        return
    win = read_window(ctx, n, kernel)
    out_pad = ctx.attr("output_padding")
    out_pad = [0] * n if out_pad is None or len(out_pad) == 0 else [int(v) for v in out_pad]
    if len(out_pad) != n:
        ctx.fail(f"output_padding has {len(out_pad)} values, {n} expected")
    spatial: list[Dim] = []
    for i in range(n):
        d = xs[2 + i]
        s = win.strides[i]
        if win.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            spatial.append(d * s)
            continue
        pads = 0 if win.auto_pad == "VALID" else win.pads_begin[i] + win.pads_end[i]
        eff = (win.kernel[i] - 1) * win.dilations[i] + 1
        spatial.append(s * (d - 1) + (out_pad[i] + eff - pads))
    ctx.set_tensor(0, dtype, [xs[0], channels, *spatial])
