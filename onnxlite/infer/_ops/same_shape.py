"""Ops whose output keeps an input's shape (https://onnx.ai/onnx/operators/): CumSum, CumProd,
Trilu, ReverseSequence, LpNormalization, RotaryEmbedding, SwiGLU (same type as input 0) and
BitCast (same shape, the ``to`` element type)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule


@register_rule(["CumSum", "CumProd", "LpNormalization"])
def _same(ctx: Context) -> None:
    ctx.set_output(0, ctx.tensor(0))


@register_rule("Trilu", since=14)
def _trilu(ctx: Context) -> None:
    """Input of rank >= 2, same type out."""
    x = ctx.tensor(0)
    if x.shape is not None and len(x.shape) < 2:
        ctx.fail(f"input has rank {len(x.shape)}, needs 2 or more")
    ctx.set_output(0, x)


@register_rule("ReverseSequence", since=10)
def _reverse_sequence(ctx: Context) -> None:
    """Input of rank >= 2, same type out; batch_axis and time_axis are 0 and 1 in some order."""
    x = ctx.tensor(0)
    batch, time = ctx.attr("batch_axis", 1), ctx.attr("time_axis", 0)
    if {batch, time} != {0, 1}:
        ctx.fail(f"batch_axis {batch} and time_axis {time} must be 0 and 1")
    if x.shape is not None and len(x.shape) < 2:
        ctx.fail(f"input has rank {len(x.shape)}, needs 2 or more")
    ctx.set_output(0, x)


@register_rule("RotaryEmbedding", since=23)
def _rotary_embedding(ctx: Context) -> None:
    """Y has X's shape (3-D [batch, sequence, hidden] or 4-D [batch, heads, sequence, head])."""
    x = ctx.tensor(0)
    if x.shape is not None and len(x.shape) not in (3, 4):
        ctx.fail(f"X has rank {len(x.shape)}, needs 3 or 4")
    ctx.set_output(0, x)


@register_rule("SwiGLU", since=28)
def _swiglu(ctx: Context) -> None:
    """Swish(A) * B for A and B of the same shape (no broadcasting)."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    if a.shape is None:
        ctx.set_tensor(0, a.dtype if a.dtype is not None else b.dtype, b.shape)
        return
    if b.shape is not None:
        if len(a.shape) != len(b.shape) or any(isinstance(x, int) and isinstance(y, int) and x != y
                                               for x, y in zip(a.shape, b.shape, strict=False)):
            ctx.fail(f"A {a} and B {b} differ in shape")
        # a number on either side names the dim
        shape = [y if isinstance(y, int) else x for x, y in zip(a.shape, b.shape, strict=True)]
        ctx.set_tensor(0, a.dtype if a.dtype is not None else b.dtype, shape)
        return
    ctx.set_tensor(0, a.dtype if a.dtype is not None else b.dtype, a.shape)


@register_rule("BitCast", since=26)
def _bitcast(ctx: Context) -> None:
    """The same bits read as ``to`` (same bit width): the input's shape, element type ``to``."""
    x = ctx.tensor(0)
    to = ctx.attr("to")
    try:
        dtype = DataType(int(to))
    except (TypeError, ValueError):
        ctx.fail(f"'to' is {to!r}, not a data type")
    if dtype in (DataType.UNDEFINED, DataType.STRING) or x.dtype == DataType.STRING:
        ctx.fail("BitCast does not take strings")
    if x.dtype is not None and x.dtype.bitwidth != dtype.bitwidth:
        ctx.fail(f"{x.dtype.short_name} and {dtype.short_name} differ in bit width")
    ctx.set_tensor(0, dtype, x.shape)
