"""Reductions (https://onnx.ai/onnx/operators/): ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/
SumSquare and ArgMax/ArgMin.

The reduced axes come from the ``axes`` attribute until ReduceSum-13 and the others' version 18,
from the optional ``axes`` input after (with ``noop_with_empty_axes``). ReduceSum/Prod/Max/Min
carry known integer values through (``ReduceProd(Shape(x))`` is the element count)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import INT_TYPES, is_symbolic_int, known, wrap_int
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, dim_max, dim_min, mul
from onnxlite.infer._types import Known

_REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
#: The opset in which ``axes`` became an input.
_AXES_INPUT_SINCE = {op: 13 if op == "ReduceSum" else 18 for op in _REDUCE}


def _fold_add(xs: Sequence[Any]) -> Any:
    total: Any = 0
    for x in xs:
        total = total + x
    return total


def _fold_mul(xs: Sequence[Any]) -> Any:
    total: Any = 1
    for x in xs:
        total = mul(total, x)
    return total


def _fold_max(xs: Sequence[Any]) -> Any:
    return dim_max(*xs) if xs else None  # an empty max has no integer answer


def _fold_min(xs: Sequence[Any]) -> Any:
    return dim_min(*xs) if xs else None


_FOLDS: dict[str, Callable[[Sequence[Any]], Any]] = {
    "ReduceSum": _fold_add, "ReduceProd": _fold_mul, "ReduceMax": _fold_max, "ReduceMin": _fold_min,
}


def _reduced_value(ctx: Context, value: Known, axes: set[int], keepdims: bool,
                   dtype: DataType) -> Known | None:
    fold = _FOLDS.get(ctx.op_type)
    if fold is None or dtype not in INT_TYPES or not all(is_symbolic_int(x) for x in value.data):
        return None
    shape = value.shape
    out_shape = [1 if k in axes else d for k, d in enumerate(shape) if keepdims or k not in axes]
    kept = [k for k in range(len(shape)) if k not in axes]
    groups: dict[tuple[int, ...], list[Any]] = {}
    for flat, index in enumerate(itertools.product(*[range(d) for d in shape])):
        groups.setdefault(tuple(index[k] for k in kept), []).append(value.data[flat])
    data = []
    for index in itertools.product(*[range(shape[k]) for k in kept]):
        r = fold(groups.get(index, []))
        if r is None:
            return None
        data.append(wrap_int(r, dtype) if isinstance(r, int) else r)
    return known(out_shape, data)


def _finish(ctx: Context, axes: Sequence[int] | None, keepdims: bool) -> None:
    """Output 0 for reducing ``axes`` (None or empty: every axis) of input 0."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    rank = len(x.shape)
    picked = set(range(rank)) if not axes else {ctx.normalize_axis(a, rank) for a in axes}
    shape: list[Dim] = [1 if k in picked else d for k, d in enumerate(x.shape) if keepdims or k not in picked]
    value = ctx.value(0)
    out = None
    if value is not None and x.dtype is not None:
        out = _reduced_value(ctx, value, picked, keepdims, x.dtype)
    ctx.set_tensor(0, x.dtype, shape, out)


@register_rule(_REDUCE)
def _reduce_attr(ctx: Context) -> None:
    """Opsets before the axes input: ``axes`` attribute (default: all), ``keepdims`` (default 1)."""
    axes = ctx.attr("axes")
    _finish(ctx, None if axes is None else list(axes), bool(ctx.attr("keepdims", 1)))


def _reduce_input(ctx: Context) -> None:
    """``axes`` input (absent or empty: all axes, or none when ``noop_with_empty_axes``)."""
    x = ctx.tensor(0)
    keepdims = bool(ctx.attr("keepdims", 1))
    noop = bool(ctx.attr("noop_with_empty_axes", 0))
    if not ctx.has_input(1):
        axes: list[int] = []
    else:
        values = ctx.ints(1)
        ints = [a for a in values or () if isinstance(a, int)]
        if values is None or len(ints) != len(values):
            axes_shape = ctx.tensor(1).shape
            if axes_shape is not None and axes_shape == (0,):
                ints = []
            else:
                # which axes is unknown: with keepdims the rank stays and a dim of 1 stays 1
                if keepdims and x.shape is not None:
                    ctx.set_tensor(0, x.dtype, [1 if d == 1 else ctx.fresh() for d in x.shape])
                else:
                    ctx.set_tensor(0, x.dtype, None)
                ctx.unknown("axes are not known")
        axes = ints
    if not axes and noop:
        ctx.set_output(0, x, ctx.value(0))
        return
    _finish(ctx, axes, keepdims)


for _op, _since in _AXES_INPUT_SINCE.items():
    register_rule(_op, since=_since)(_reduce_input)


@register_rule(["ArgMax", "ArgMin"])
def _arg(ctx: Context) -> None:
    """int64 indices along ``axis`` (default 0), kept as a dim of 1 unless ``keepdims`` is 0;
    ``select_last_index`` (12) changes no type."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_tensor(0, DataType.INT64, None)
        return
    rank = len(x.shape)
    axis = ctx.normalize_axis(ctx.attr("axis", 0), rank)
    keepdims = bool(ctx.attr("keepdims", 1))
    shape = [1 if k == axis else d for k, d in enumerate(x.shape) if keepdims or k != axis]
    ctx.set_tensor(0, DataType.INT64, shape)
