"""Pooling: AveragePool, MaxPool (Indices output), LpPool, the Global*Pool ops, MaxUnpool,
MaxRoiPool, RoiAlign (https://onnx.ai/onnx/operators/onnx__MaxPool.html and the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._window import read_window, window_out
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim


def _pooled(ctx: Context) -> list[Dim]:
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    n = len(xs) - 2
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        ctx.fail("kernel_shape is required")
    win = read_window(ctx, n, [int(k) for k in kernel])
    ceil_mode = bool(ctx.attr("ceil_mode", 0))
    return [xs[0], xs[1], *[window_out(ctx, win, i, xs[2 + i], ceil_mode) for i in range(n)]]


@register_rule(["AveragePool", "LpPool"])
def _average_pool(ctx: Context) -> None:
    """Attributes added over the versions (ceil_mode at 10, dilations at 19 / 18 for LpPool)
    default to the older behaviour, so one rule serves every version."""
    dtype = ctx.dtype(0)
    ctx.set_tensor(0, dtype, _pooled(ctx))


@register_rule("MaxPool")
def _max_pool(ctx: Context) -> None:
    """Y and (since 8) Indices, int64 of Y's shape."""
    dtype = ctx.dtype(0)
    shape = _pooled(ctx)
    ctx.set_tensor(0, dtype, shape)
    ctx.set_tensor(1, DataType.INT64, shape)


@register_rule(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"])
def _global_pool(ctx: Context) -> None:
    """[N, C, 1, ...]: every spatial axis pooled to 1."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) < 2:
        ctx.fail(f"input has rank {len(xs)}, at least 2 expected")
    ctx.set_tensor(0, dtype, [xs[0], xs[1], *[1] * (len(xs) - 2)])


@register_rule("MaxUnpool", since=9)
def _max_unpool(ctx: Context) -> None:
    """output_shape (input 2) when given, else (D - 1) * stride + kernel - pads per spatial axis."""
    dtype = ctx.dtype(0)
    if ctx.has_input(2):
        given = ctx.ints(2)
        if given is None:
            out = ctx.input_type(2)
            rank = getattr(out, "shape", None)
            if rank is not None and len(rank) == 1 and isinstance(rank[0], int):
                ctx.set_tensor(0, dtype, ctx.fresh_dims(rank[0]))
                return
            ctx.unknown("output_shape (input 2) is not known")
        ctx.set_tensor(0, dtype, given)
        return
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    n = len(xs) - 2
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        ctx.fail("kernel_shape is required")
    win = read_window(ctx, n, [int(k) for k in kernel])
    spatial = [(xs[2 + i] - 1) * win.strides[i] + (win.kernel[i] - win.pads_begin[i] - win.pads_end[i])
               for i in range(n)]
    ctx.set_tensor(0, dtype, [xs[0], xs[1], *spatial])


@register_rule("MaxRoiPool")
def _max_roi_pool(ctx: Context) -> None:
    """X [N, C, H, W], rois [num_rois, 5] -> [num_rois, C, pooled_h, pooled_w]."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    rois = ctx.shape(1)
    pooled = ctx.attr("pooled_shape")
    if pooled is None or len(pooled) != 2:
        ctx.fail("pooled_shape must hold 2 values")
    if len(xs) != 4 or len(rois) != 2:
        ctx.fail("X must be 4-D and rois 2-D")
    ctx.set_tensor(0, dtype, [rois[0], xs[1], int(pooled[0]), int(pooled[1])])


@register_rule("RoiAlign", since=10)
def _roi_align(ctx: Context) -> None:
    """X [N, C, H, W], rois [num_rois, 4], batch_indices [num_rois] ->
    [num_rois, C, output_height, output_width] (defaults 1)."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) != 4:
        ctx.fail(f"X has rank {len(xs)}, 4 expected")
    rois = ctx.input_type(1)
    rshape = getattr(rois, "shape", None)
    num: Dim
    if rshape is not None and len(rshape) == 2:
        num = rshape[0]
    else:
        bi = ctx.input_type(2)
        bshape = getattr(bi, "shape", None)
        num = bshape[0] if bshape is not None and len(bshape) == 1 else ctx.fresh()
    ctx.set_tensor(0, dtype, [num, xs[1], int(ctx.attr("output_height", 1)),
                              int(ctx.attr("output_width", 1))])
