"""Random generators and EyeLike: RandomNormal/RandomUniform(+Like), Bernoulli, Multinomial,
EyeLike (https://onnx.ai/onnx/operators/onnx__RandomNormal.html and the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule


def _dtype_attr(ctx: Context, default: DataType | None) -> DataType | None:
    v = ctx.attr("dtype")
    if v is None:
        return default
    try:
        return DataType(int(v))
    except ValueError:
        ctx.fail(f"dtype {v} is not a data type")


@register_rule(["RandomNormal", "RandomUniform"])
def _random(ctx: Context) -> None:
    """shape attribute, dtype attribute (default float)."""
    shape = ctx.attr("shape")
    if shape is None:
        ctx.fail("shape is required")
    ctx.set_tensor(0, _dtype_attr(ctx, DataType.FLOAT), [int(d) for d in shape])


@register_rule(["RandomNormalLike", "RandomUniformLike", "Bernoulli", "EyeLike"])
def _like(ctx: Context) -> None:
    """The input's shape; dtype attribute, else the input's element type."""
    x = ctx.tensor(0)
    if ctx.op_type == "EyeLike" and x.shape is not None and len(x.shape) != 2:
        ctx.fail(f"input has rank {len(x.shape)}, 2 expected")
    ctx.set_tensor(0, _dtype_attr(ctx, x.dtype), x.shape)


@register_rule("Multinomial", since=7)
def _multinomial(ctx: Context) -> None:
    """[batch_size, sample_size] of dtype (default int32)."""
    xs = ctx.shape(0)
    if len(xs) != 2:
        ctx.fail(f"input has rank {len(xs)}, 2 expected")
    ctx.set_tensor(0, _dtype_attr(ctx, DataType.INT32), [xs[0], int(ctx.attr("sample_size", 1))])
