"""Indexing and selection (https://onnx.ai/onnx/operators/): GatherElements, GatherND, Scatter,
ScatterElements, ScatterND, TensorScatter, OneHot, TopK, and the ops whose output size depends on
the data (NonZero, Compress, Unique, NonMaxSuppression): those get a fresh symbol for the count
unless the deciding input is a known value."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr


@register_rule("GatherElements", since=11)
def _gather_elements(ctx: Context) -> None:
    """The output has the indices' shape and the data's element type."""
    data = ctx.tensor(0)
    ind = ctx.tensor(1)
    if data.shape is not None and ind.shape is not None:
        if len(data.shape) != len(ind.shape):
            ctx.fail(f"data has rank {len(data.shape)}, indices rank {len(ind.shape)}")
        ctx.normalize_axis(ctx.attr("axis", 0), len(data.shape))
    ctx.set_tensor(0, data.dtype, ind.shape)


@register_rule("GatherND", since=11)
def _gather_nd(ctx: Context) -> None:
    """indices [i_0..i_{q-2}, m] pick slices data[b+m:] (b = batch_dims, 12+): the output is
    indices.shape[:-1] + data.shape[b+m:]."""
    data = ctx.tensor(0)
    ind = ctx.tensor(1)
    b = ctx.attr("batch_dims", 0) if ctx.opset >= 12 else 0
    if data.shape is None or ind.shape is None:
        ctx.set_tensor(0, data.dtype, None)
        return
    if not ind.shape:
        ctx.fail("indices must have rank >= 1")
    m = ind.shape[-1]
    if not isinstance(m, int):
        ctx.set_tensor(0, data.dtype, None)
        ctx.unknown("the last dim of indices is not known")
    if not 0 <= b < min(len(data.shape), len(ind.shape)):
        ctx.fail(f"batch_dims {b} is out of range")
    if b + m > len(data.shape):
        ctx.fail(f"indices pick {m} axes after {b} batch dims of a rank-{len(data.shape)} tensor")
    ctx.set_tensor(0, data.dtype, list(ind.shape[:-1]) + list(data.shape[b + m:]))


@register_rule(["Scatter", "ScatterElements", "ScatterND"], since=9)
def _scatter(ctx: Context) -> None:
    """The output is the data with some elements replaced: its type."""
    data = ctx.tensor(0)
    ctx.set_output(0, data)


@register_rule("TensorScatter", since=24)
def _tensor_scatter(ctx: Context) -> None:
    """present_cache has past_cache's type (the update is written into it)."""
    ctx.set_output(0, ctx.tensor(0))


def _scalar(ctx: Context, i: int) -> Any:
    """The single element of input ``i`` when known (a scalar or a 1-element tensor), else None."""
    v = ctx.value(i)
    if v is None or len(v.data) != 1:
        return None
    return v.data[0]


@register_rule("OneHot", since=9)
def _one_hot(ctx: Context) -> None:
    """indices' shape with ``depth`` inserted at ``axis`` (default -1, over rank + 1); the
    element type of ``values``."""
    ind = ctx.tensor(0)
    values = ctx.tensor(2)
    if ind.shape is None:
        ctx.set_tensor(0, values.dtype, None)
        return
    rank = len(ind.shape) + 1
    axis = ctx.normalize_axis(ctx.attr("axis", -1), rank)
    depth = _scalar(ctx, 1)
    if isinstance(depth, float) and depth.is_integer():
        depth = int(depth)
    if isinstance(depth, bool) or not isinstance(depth, (int, Expr)):
        depth = ctx.fresh()
    elif isinstance(depth, int) and depth < 1:
        ctx.fail(f"depth {depth} is not positive")
    shape: list[Dim] = list(ind.shape)
    shape.insert(axis, depth)
    ctx.set_tensor(0, values.dtype, shape)


@register_rule("TopK")
def _topk(ctx: Context) -> None:
    """Values (the input's type) and int64 Indices, with the ``axis`` dim (default -1) replaced
    by k: the ``k`` attribute (1-9), the one element of input K (10+)."""
    x = ctx.tensor(0)
    k: Any
    if ctx.opset < 10:
        k = ctx.attr("k")
        if k is None:
            ctx.fail("no 'k' attribute")
    else:
        k = _scalar(ctx, 1)
        if k is None or isinstance(k, bool) or not isinstance(k, (int, Expr)):
            k = None
    if x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        ctx.set_tensor(1, DataType.INT64, None)
        return
    axis = ctx.normalize_axis(ctx.attr("axis", -1), len(x.shape))
    if k is None:
        k = ctx.fresh()
    else:
        d = x.shape[axis]
        if isinstance(k, int) and (k < 0 or isinstance(d, int) and k > d):
            ctx.fail(f"k {k} is out of range for a dim of {d}")
    shape = list(x.shape)
    shape[axis] = k
    ctx.set_tensor(0, x.dtype, shape)
    ctx.set_tensor(1, DataType.INT64, shape)


@register_rule("NonZero", since=9)
def _non_zero(ctx: Context) -> None:
    """int64 [rank, count]: the count is known only when the input's value is."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_tensor(0, DataType.INT64, None)
        return
    value = ctx.value(0)
    count: Dim
    if value is not None and not any(isinstance(v, Expr) for v in value.data):
        count = sum(1 for v in value.data if v)
    else:
        count = ctx.fresh()
    ctx.set_tensor(0, DataType.INT64, [len(x.shape), count])


@register_rule("Compress", since=9)
def _compress(ctx: Context) -> None:
    """Slices along ``axis`` (the flattened input when absent) where the 1-D condition is true;
    how many is known only when the condition's value is (and the dim, past which it is cut)."""
    x = ctx.tensor(0)
    axis = ctx.attr("axis")
    if axis is None:
        n: Dim | None = ctx.numel(x.shape) if x.shape is not None else None
    else:
        if x.shape is None:
            ctx.set_tensor(0, x.dtype, None)
            return
        axis = ctx.normalize_axis(axis, len(x.shape))
        n = x.shape[axis]
    cond = ctx.value(1)
    count: Dim
    if cond is not None and isinstance(n, int) and all(isinstance(c, (bool, int)) for c in cond.data):
        count = sum(1 for c in cond.data[:n] if c)
    else:
        count = ctx.fresh()
    if axis is None:
        ctx.set_tensor(0, x.dtype, [count])
        return
    assert x.shape is not None
    shape = list(x.shape)
    shape[axis] = count
    ctx.set_tensor(0, x.dtype, shape)


@register_rule("Unique", since=11)
def _unique(ctx: Context) -> None:
    """U unique elements (or slices along ``axis``), U a fresh symbol: Y is [U] (or the input with
    the axis dim U), indices and counts int64 [U], inverse_indices int64 [number of elements (or
    of slices)]."""
    x = ctx.tensor(0)
    axis = ctx.attr("axis")
    n: Dim | None = None
    k = 0
    if axis is None:
        n = ctx.numel(x.shape) if x.shape is not None else None
    elif x.shape is not None:
        k = ctx.normalize_axis(axis, len(x.shape))
        n = x.shape[k]
    # none or one element (slice) is unique by itself
    u: Dim = n if isinstance(n, int) and n <= 1 else ctx.fresh()
    if axis is None:
        ctx.set_tensor(0, x.dtype, [u])
    elif x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
    else:
        shape = list(x.shape)
        shape[k] = u
        ctx.set_tensor(0, x.dtype, shape)
    ctx.set_tensor(1, DataType.INT64, [u])
    ctx.set_tensor(2, DataType.INT64, None if n is None else [n])
    ctx.set_tensor(3, DataType.INT64, [u])


@register_rule("NonMaxSuppression", since=10)
def _nms(ctx: Context) -> None:
    """int64 [number selected, 3] (batch index, class index, box index); the number depends on
    the data."""
    ctx.set_tensor(0, DataType.INT64, [ctx.fresh(), 3])
