"""Constant, MatMul and Gemm (https://onnx.ai/onnx/operators/)."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import FLOAT_TYPES, INT_TYPES, matmul_shape
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._types import MAX_FLOAT_KNOWN, MAX_KNOWN, Known, SparseTensorType, elements


def _tensor_value(tensor: Any) -> Known | None:
    dtype = tensor.dtype
    n = tensor.size
    small = dtype in INT_TYPES or dtype == DataType.BOOL or (n <= MAX_FLOAT_KNOWN and dtype in FLOAT_TYPES)
    if n > MAX_KNOWN or not small:
        return None
    flat = elements(tensor, n)
    return None if flat is None else Known(tuple(tensor.shape), tuple(flat))


_LITERALS = (("value_float", DataType.FLOAT, True), ("value_int", DataType.INT64, True),
             ("value_string", DataType.STRING, True), ("value_floats", DataType.FLOAT, False),
             ("value_ints", DataType.INT64, False), ("value_strings", DataType.STRING, False))


@register_rule("Constant")
def _constant(ctx: Context) -> None:
    """value (a tensor) since 1, sparse_value since 11, value_float(s)/int(s)/string(s) since 12."""
    t = ctx.attr("value")
    if t is not None:
        ctx.set_tensor(0, t.dtype, t.shape, _tensor_value(t))
        return
    sparse = ctx.attr("sparse_value")
    if sparse is not None:
        ctx.set_output(0, SparseTensorType(sparse.values.dtype, tuple(sparse.shape)))
        return
    for name, dtype, scalar in _LITERALS:
        v = ctx.attr(name)
        if v is None:
            continue
        if scalar:
            value = Known((), (v,)) if dtype != DataType.STRING else None
            ctx.set_tensor(0, dtype, [], value)
        else:
            items = list(v)
            small = len(items) <= (MAX_KNOWN if dtype == DataType.INT64 else
                                   MAX_FLOAT_KNOWN if dtype == DataType.FLOAT else -1)
            ctx.set_tensor(0, dtype, [len(items)], Known((len(items),), tuple(items)) if small else None)
        return
    ctx.fail("no value attribute")


@register_rule("MatMul")
def _matmul(ctx: Context) -> None:
    """numpy matmul: 1-D operands get a dim prepended (A) or appended (B) and removed after;
    the batch dims broadcast."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    dtype = a.dtype if a.dtype is not None else b.dtype
    if a.shape is None or b.shape is None:
        ctx.set_tensor(0, dtype, None)
        return
    out = matmul_shape(ctx, a.shape, b.shape)
    ctx.set_tensor(0, dtype, out)


@register_rule("Gemm")
def _gemm(ctx: Context) -> None:
    a, b = ctx.tensor(0), ctx.tensor(1)
    dtype = a.dtype if a.dtype is not None else b.dtype
    if a.shape is None or b.shape is None:
        ctx.set_tensor(0, dtype, None)
        return
    if len(a.shape) != 2 or len(b.shape) != 2:
        ctx.fail("A and B must be 2-D")
    m = a.shape[1] if ctx.attr("transA", 0) else a.shape[0]
    n = b.shape[0] if ctx.attr("transB", 0) else b.shape[1]
    ctx.set_tensor(0, dtype, [m, n])
