"""Small helpers shared by the rule modules: known values and integer element types."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._sym import Dim, Expr
from onnxlite.infer._types import MAX_KNOWN, Known

INT_TYPES = frozenset({DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.UINT8,
                       DataType.UINT16, DataType.UINT32, DataType.UINT64})
FLOAT_TYPES = frozenset({DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16})


def known(shape: Sequence[Dim], data: Sequence[Any]) -> Known | None:
    """A Known for ``data`` when ``shape`` is concrete and small enough, else None."""
    if any(isinstance(d, Expr) for d in shape):
        return None
    dims = tuple(d for d in shape if isinstance(d, int))
    if math.prod(dims) != len(data) or len(data) > MAX_KNOWN:
        return None
    return Known(dims, tuple(data))


def is_symbolic_int(x: Any) -> bool:
    return isinstance(x, (int, Expr)) and not isinstance(x, bool)


def broadcast_values(fn: Callable[..., Any], values: Sequence[Known],
                     shape: Sequence[int]) -> list[Any] | None:
    """Apply ``fn`` elementwise over ``values`` broadcast (numpy rules) to ``shape``; None when
    ``fn`` returns None for some element (not computable)."""
    rank = len(shape)
    total = math.prod(shape)
    if total > MAX_KNOWN:
        return None
    strides_all = []
    for v in values:
        vs = (1,) * (rank - len(v.shape)) + v.shape
        strides = [0] * rank
        step = 1
        for k in range(rank - 1, -1, -1):
            strides[k] = 0 if vs[k] == 1 else step
            step *= vs[k]
        strides_all.append(strides)
    out = []
    index = [0] * rank
    for _ in range(total):
        args = []
        for v, strides in zip(values, strides_all, strict=True):
            args.append(v.data[sum(i * s for i, s in zip(index, strides, strict=True))])
        r = fn(*args)
        if r is None:
            return None
        out.append(r)
        for k in range(rank - 1, -1, -1):
            index[k] += 1
            if index[k] < shape[k]:
                break
            index[k] = 0
    return out


def wrap_int(value: int, dtype: DataType) -> int:
    """``value`` wrapped to ``dtype``'s range, as the integer arithmetic of a runtime does."""
    bits = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64,
            DataType.UINT8: 8, DataType.UINT16: 16, DataType.UINT32: 32, DataType.UINT64: 64}.get(dtype)
    if bits is None:
        return value
    value &= (1 << bits) - 1
    if dtype in (DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64) and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def matmul_shape(ctx: Any, sa: Sequence[Dim], sb: Sequence[Dim]) -> list[Dim]:
    """numpy matmul's result shape: a 1-D A gets a dim prepended, a 1-D B one appended (both
    removed after); the batch dims broadcast. ``ctx`` is the rule's Context (fails on a scalar or
    inner dims that differ)."""
    a, b = list(sa), list(sb)
    if not a or not b:
        ctx.fail("matmul of a scalar")
    a1, b1 = len(a) == 1, len(b) == 1
    if a1:
        a = [1, *a]
    if b1:
        b = [*b, 1]
    if isinstance(a[-1], int) and isinstance(b[-2], int) and a[-1] != b[-2]:
        ctx.fail(f"inner dims differ: {a[-1]} and {b[-2]}")
    batch = ctx.broadcast(a[:-2], b[:-2])
    return list(batch) + ([] if a1 else [a[-2]]) + ([] if b1 else [b[-1]])
