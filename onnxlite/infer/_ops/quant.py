"""Quantization: QuantizeLinear / DequantizeLinear (every version: axis, block_size,
output_dtype), DynamicQuantizeLinear, MatMulInteger, QLinearMatMul
(https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html and the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import matmul_shape
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim


def _output_dtype(ctx: Context) -> DataType | None:
    """The output_dtype attribute (since 21 / 23), None when absent or 0."""
    v = int(ctx.attr("output_dtype", 0))
    if v == 0:
        return None
    try:
        return DataType(v)
    except ValueError:
        ctx.fail(f"output_dtype {v} is not a data type")


@register_rule("QuantizeLinear", since=10)
def _quantize(ctx: Context) -> None:
    """y: x's shape; y_zero_point's type, else output_dtype (21+), else uint8."""
    x = ctx.tensor(0)
    out = _output_dtype(ctx) if ctx.opset >= 21 else None
    if ctx.has_input(2):
        zp = ctx.dtype(2)
        if out is not None and out != zp:
            ctx.fail(f"output_dtype {out.short_name} differs from y_zero_point's {zp.short_name}")
        out = zp
    ctx.set_tensor(0, out if out is not None else DataType.UINT8, x.shape)


@register_rule("DequantizeLinear", since=10)
def _dequantize(ctx: Context) -> None:
    """y: x's shape; float before 19, x_scale's type from 19, output_dtype when given (23+)."""
    x = ctx.tensor(0)
    if ctx.opset < 19:
        ctx.set_tensor(0, DataType.FLOAT, x.shape)
        return
    out = _output_dtype(ctx) if ctx.opset >= 23 else None
    ctx.set_tensor(0, out if out is not None else ctx.dtype(1), x.shape)


@register_rule("DynamicQuantizeLinear", since=11)
def _dynamic_quantize(ctx: Context) -> None:
    """y uint8 of x's shape, y_scale float scalar, y_zero_point uint8 scalar."""
    x = ctx.tensor(0)
    ctx.set_tensor(0, DataType.UINT8, x.shape)
    ctx.set_tensor(1, DataType.FLOAT, [])
    ctx.set_tensor(2, DataType.UINT8, [])


def _matmul_of(ctx: Context, a_index: int, b_index: int) -> list[Dim] | None:
    """numpy matmul's result shape of two inputs (None when a rank is unknown)."""
    a, b = ctx.tensor(a_index), ctx.tensor(b_index)
    if a.shape is None or b.shape is None:
        return None
    return matmul_shape(ctx, a.shape, b.shape)


@register_rule("MatMulInteger", since=10)
def _matmul_integer(ctx: Context) -> None:
    ctx.set_tensor(0, DataType.INT32, _matmul_of(ctx, 0, 1))


@register_rule("QLinearMatMul", since=10)
def _qlinear_matmul(ctx: Context) -> None:
    """Inputs a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point:
    y_zero_point's type."""
    ctx.set_tensor(0, ctx.dtype(7), _matmul_of(ctx, 0, 3))
