"""Normalizations: BatchNormalization (every version, training outputs), InstanceNormalization,
LayerNormalization (Mean, InvStdDev), GroupNormalization, RMSNormalization
(https://onnx.ai/onnx/operators/onnx__BatchNormalization.html and the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim


def _stat_shape(ctx: Context) -> list[Dim] | None:
    """The shape of the running/saved statistics: input_mean's, else [C] (per-channel)."""
    mean = ctx.input_type(3)
    shape = getattr(mean, "shape", None)
    if shape is not None:
        return list(shape)
    if int(ctx.attr("spatial", 1)) == 0:
        return None
    xs = ctx.input_type(0)
    xshape = getattr(xs, "shape", None)
    return [xshape[1]] if xshape is not None and len(xshape) >= 2 else None


@register_rule("BatchNormalization")
def _batch_norm(ctx: Context) -> None:
    """Opsets 1-9: Y, then mean, var, saved_mean, saved_var (training), all of X's type."""
    x = ctx.tensor(0)
    ctx.set_output(0, x)
    if ctx.num_outputs > 1:
        stat = _stat_shape(ctx)
        for i in range(1, 5):
            ctx.set_tensor(i, x.dtype, stat)


@register_rule("BatchNormalization", since=14)
def _batch_norm_14(ctx: Context) -> None:
    """Opset 14+: Y, running_mean, running_var (training_mode=1), typed as input_mean (U / T2)."""
    x = ctx.tensor(0)
    ctx.set_output(0, x)
    if ctx.num_outputs > 1:
        mean = ctx.input_type(3)
        dtype = getattr(mean, "dtype", None)
        stat = _stat_shape(ctx)
        ctx.set_tensor(1, dtype, stat)
        var = ctx.input_type(4)
        ctx.set_tensor(2, getattr(var, "dtype", None) or dtype, stat)


@register_rule(["InstanceNormalization", "GroupNormalization"])
def _same_as_x(ctx: Context) -> None:
    ctx.set_output(0, ctx.tensor(0))


@register_rule("LayerNormalization", since=17)
def _layer_norm(ctx: Context) -> None:
    """Y like X; Mean and InvStdDev: [d0, ..., d(axis-1), 1, ..., 1] of type stash_type (float)."""
    x = ctx.tensor(0)
    ctx.set_output(0, x)
    if ctx.num_outputs == 1:
        return
    stash = DataType(int(ctx.attr("stash_type", 1)))
    xs = ctx.shape(0)
    axis = ctx.normalize_axis(int(ctx.attr("axis", -1)), len(xs))
    stat = [*xs[:axis], *[1] * (len(xs) - axis)]
    ctx.set_tensor(1, stash, stat)
    ctx.set_tensor(2, stash, stat)


@register_rule("RMSNormalization", since=23)
def _rms_norm(ctx: Context) -> None:
    """Y: X's shape, scale's element type (V)."""
    x = ctx.tensor(0)
    scale = ctx.input_type(1)
    ctx.set_tensor(0, getattr(scale, "dtype", None), x.shape)
