"""Shape-manipulation ops (https://onnx.ai/onnx/operators/): Shape, Size, Reshape, Flatten,
Squeeze, Unsqueeze, Concat, Gather, Slice, Expand, Tile, ConstantOfShape, Range, Transpose.
Each carries known values through, so shapes computed at run time resolve."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import INT_TYPES, is_symbolic_int, known
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr, dim_max, dim_min, floordiv
from onnxlite.infer._types import MAX_KNOWN, Known, TensorType, elements

_BIG = 2**30  # a slice end at or past this is "to the end", whatever the dim


def _concrete(shape: Sequence[Dim]) -> tuple[int, ...] | None:
    if any(isinstance(d, Expr) for d in shape):
        return None
    return tuple(d for d in shape if isinstance(d, int))


def _strides(shape: Sequence[int]) -> list[int]:
    out = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        out[k] = out[k + 1] * shape[k + 1]
    return out


def _take(value: Known, index_lists: Sequence[Sequence[int]]) -> list[Any]:
    """Elements of ``value`` at the cartesian product of per-axis index lists."""
    strides = _strides(value.shape)
    return [value.data[sum(i * s for i, s in zip(idx, strides, strict=True))]
            for idx in itertools.product(*index_lists)]


@register_rule("Shape")
def _shape(ctx: Context) -> None:
    dims = ctx.shape(0)
    rank = len(dims)
    start, end = 0, rank
    if ctx.opset >= 15:
        start = ctx.attr("start", 0)
        end = ctx.attr("end", rank)
        start = min(max(start + rank if start < 0 else start, 0), rank)
        end = min(max(end + rank if end < 0 else end, 0), rank)
    picked = dims[start:end] if start < end else ()
    ctx.set_tensor(0, DataType.INT64, [len(picked)], Known((len(picked),), tuple(picked)))


@register_rule("Size")
def _size(ctx: Context) -> None:
    n = ctx.numel(ctx.shape(0))
    ctx.set_tensor(0, DataType.INT64, [], Known((), (n,)))


def _reshape_target(ctx: Context, x: TensorType, target: Sequence[Dim], allowzero: bool) -> list[Dim]:
    shape = x.shape
    out: list[Dim] = []
    infer_at = -1
    for i, t in enumerate(target):
        if isinstance(t, int) and t == -1:
            if infer_at >= 0:
                ctx.fail("shape has more than one -1")
            infer_at = i
            out.append(-1)
        elif isinstance(t, int) and t == 0 and not allowzero:
            if shape is None or i >= len(shape):
                if shape is None:
                    out.append(ctx.fresh())
                    continue
                ctx.fail(f"shape[{i}] is 0 (copy) but the input has rank {len(shape)}")
            out.append(shape[i])
        elif isinstance(t, int) and t < -1:
            ctx.fail(f"shape[{i}] is {t}")
        else:
            out.append(t)
    if infer_at >= 0:
        rest: Dim = 1
        for i, d in enumerate(out):
            if i != infer_at:
                rest = rest * d
        if shape is None or rest == 0:
            out[infer_at] = ctx.fresh()
        else:
            total = ctx.numel(shape)
            if isinstance(total, int) and isinstance(rest, int) and total % rest:
                ctx.fail(f"cannot reshape {total} elements into a multiple of {rest}")
            out[infer_at] = floordiv(total, rest)
    return out


@register_rule("Reshape")
def _reshape_v1(ctx: Context) -> None:
    x = ctx.tensor(0)
    target = ctx.attr("shape")
    if target is None:
        ctx.fail("no 'shape' attribute")
    _finish_reshape(ctx, x, _reshape_target(ctx, x, target, False))


@register_rule("Reshape", since=5)
def _reshape(ctx: Context) -> None:
    x = ctx.tensor(0)
    target = ctx.ints(1)
    if target is None:
        s = ctx.tensor(1).shape
        if s is not None and len(s) == 1 and isinstance(s[0], int):
            ctx.set_tensor(0, x.dtype, ctx.fresh_dims(s[0]))
        else:
            ctx.set_tensor(0, x.dtype, None)
        return
    allowzero = ctx.opset >= 14 and bool(ctx.attr("allowzero", 0))
    _finish_reshape(ctx, x, _reshape_target(ctx, x, target, allowzero))


def _finish_reshape(ctx: Context, x: TensorType, shape: list[Dim]) -> None:
    value = ctx.value(0)
    out = known(shape, value.data) if value is not None else None
    ctx.set_tensor(0, x.dtype, shape, out)


@register_rule("Flatten")
def _flatten(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    axis = ctx.attr("axis", 1)
    if not -len(dims) <= axis <= len(dims):
        ctx.fail(f"axis {axis} is out of range for rank {len(dims)}")
    axis = axis + len(dims) if axis < 0 else axis
    shape = [ctx.numel(dims[:axis]), ctx.numel(dims[axis:])]
    value = ctx.value(0)
    ctx.set_tensor(0, x.dtype, shape, known(shape, value.data) if value is not None else None)


def _axes(ctx: Context, attr_until: int, input_index: int) -> list[int] | None:
    """Axes from the attribute (opsets before ``attr_until``) or the input; None: not given.
    Raises unknown when they are given but not known."""
    if ctx.opset < attr_until:
        axes = ctx.attr("axes")
        return None if axes is None else list(axes)
    if not ctx.has_input(input_index):
        return None
    values = ctx.ints(input_index)
    axes = [a for a in values or () if isinstance(a, int)]
    if values is None or len(axes) != len(values):
        ctx.unknown("axes are not known")
    return axes


@register_rule("Squeeze")
def _squeeze(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    axes = _axes(ctx, 13, 1)
    if axes is None:
        if any(isinstance(d, Expr) for d in dims):
            ctx.set_tensor(0, x.dtype, None)
            return
        keep = [d for d in dims if d != 1]
    else:
        drop = {ctx.normalize_axis(a, len(dims)) for a in axes}
        for a in drop:
            if isinstance(dims[a], int) and dims[a] != 1:
                ctx.fail(f"cannot squeeze axis {a} of size {dims[a]}")
        keep = [d for i, d in enumerate(dims) if i not in drop]
    value = ctx.value(0)
    ctx.set_tensor(0, x.dtype, keep, known(keep, value.data) if value is not None else None)


@register_rule("Unsqueeze")
def _unsqueeze(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    axes = _axes(ctx, 13, 1)
    if axes is None:
        ctx.fail("no axes")
    rank = len(dims) + len(axes)
    places = {ctx.normalize_axis(a, rank) for a in axes}
    if len(places) != len(axes):
        ctx.fail("repeated axis")
    rest = iter(dims)
    shape = [1 if i in places else next(rest) for i in range(rank)]
    value = ctx.value(0)
    ctx.set_tensor(0, x.dtype, shape, known(shape, value.data) if value is not None else None)


@register_rule("Concat")
def _concat(ctx: Context) -> None:
    types = [ctx.tensor(i) for i in range(ctx.num_inputs) if ctx.has_input(i)]
    if not types:
        ctx.fail("no inputs")
    dtype = next((t.dtype for t in types if t.dtype is not None), None)
    shapes = [t.shape for t in types]
    ranked = [s for s in shapes if s is not None]
    if not ranked:
        ctx.set_tensor(0, dtype, None)
        return
    rank = len(ranked[0])
    if any(len(s) != rank for s in ranked):
        ctx.fail("inputs of different ranks")
    axis = ctx.normalize_axis(ctx.attr("axis", 1 if ctx.opset < 4 else 0), rank)
    if len(ranked) != len(shapes):  # an input of unknown rank: its size along axis is unknown
        out = list(ranked[0])
        out[axis] = ctx.fresh()
        ctx.set_tensor(0, dtype, out)
        return
    out = []
    for k in range(rank):
        if k == axis:
            out.append(sum_dims(s[k] for s in ranked))
            continue
        dim = ranked[0][k]
        for s in ranked[1:]:
            if s[k] != dim:
                if isinstance(s[k], int) and isinstance(dim, int):
                    ctx.fail(f"inputs differ in dim {k}: {dim} and {s[k]}")
                if isinstance(s[k], int):
                    dim = s[k]
        out.append(dim)
    ctx.set_tensor(0, dtype, out, _concat_values(ctx, ranked, axis, out))


def sum_dims(dims: Any) -> Dim:
    total: Dim = 0
    for d in dims:
        total = total + d
    return total


def _concat_values(ctx: Context, shapes: list[tuple[Dim, ...]], axis: int, out: list[Dim]) -> Known | None:
    values = [ctx.value(i) for i in range(ctx.num_inputs) if ctx.has_input(i)]
    concrete = _concrete(out)
    if any(v is None for v in values) or concrete is None:
        return None
    outer = math.prod(concrete[:axis])
    data: list[Any] = []
    for o in range(outer):
        for v in values:
            assert v is not None
            inner = math.prod(v.shape[axis:])
            data.extend(v.data[o * inner:(o + 1) * inner])
    return known(out, data)


@register_rule("Gather")
def _gather(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    ind = ctx.tensor(1)
    axis = ctx.normalize_axis(ctx.attr("axis", 0), len(dims))
    if ind.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    shape = list(dims[:axis]) + list(ind.shape) + list(dims[axis + 1:])
    value = ctx.value(0)
    indices = ctx.ints(1)
    out = None
    if value is not None and indices is not None and all(isinstance(i, int) for i in indices):
        n = value.shape[axis]
        picked = []
        for i in indices:
            assert isinstance(i, int)
            if not -n <= i < n:
                ctx.fail(f"index {i} is out of range for a dim of {n}")
            picked.append(i + n if i < 0 else i)
        lists: list[Sequence[int]] = [range(d) for d in value.shape]
        # gather = take along axis: iterate outer axes, then the indices, then inner axes
        data = []
        for before in itertools.product(*lists[:axis]):
            for i in picked:
                for after in itertools.product(*lists[axis + 1:]):
                    data.extend(_take(value, [[b] for b in before] + [[i]] + [[a] for a in after]))
        out = known(shape, data)
    ctx.set_tensor(0, x.dtype, shape, out)


def _slice_dim(ctx: Context, d: Dim, start: Dim, end: Dim, step: int) -> tuple[Dim, range | None]:
    """(length of the slice of a dim of size d, the indices when all are concrete)."""
    if step == 0:
        ctx.fail("slice step 0")
    if isinstance(d, int) and isinstance(start, int) and isinstance(end, int):
        r = range(*slice(start, end, step).indices(d))
        return len(r), r
    if step < 0:
        whole = isinstance(start, int) and (start == -1 or start >= _BIG) and isinstance(end, int) \
            and end <= -_BIG
        return (d if whole else ctx.fresh()), None
    if isinstance(start, int):
        if start < 0:
            start = d + start if start > -_BIG else 0
        elif start >= _BIG:
            return 0, None
    if isinstance(end, int):
        if end >= _BIG:
            end = d
        elif end < 0:
            end = d + end if end > -_BIG else 0
        else:
            end = dim_min(end, d)
    else:  # a symbolic bound (sizes are >= 0): clamped to the dim as the spec clamps every bound
        end = dim_min(end, d)
    if not isinstance(start, int):
        start = dim_min(start, d)
    if isinstance(start, int) and isinstance(end, int):  # d was symbolic but both ends resolved
        return max(0, -(-(end - start) // step)), None
    length = end - start
    return (length if step == 1 else floordiv(length + step - 1, step)), None


@register_rule("Slice")
def _slice_v1(ctx: Context) -> None:
    starts, ends, axes = ctx.attr("starts"), ctx.attr("ends"), ctx.attr("axes")
    if starts is None or ends is None:
        ctx.fail("no 'starts'/'ends'")
    _do_slice(ctx, list(starts), list(ends), None if axes is None else list(axes), None)


@register_rule("Slice", since=10)
def _slice(ctx: Context) -> None:
    x = ctx.tensor(0)
    starts, ends = ctx.ints(1), ctx.ints(2)
    axes = ctx.ints(3) if ctx.has_input(3) else None
    steps = ctx.ints(4) if ctx.has_input(4) else None
    if starts is None or ends is None or (ctx.has_input(3) and axes is None) or \
            (ctx.has_input(4) and steps is None):
        if x.shape is not None:
            # the rank stays; sliced axes (unknown which) get fresh sizes, unless axes are known
            dims = list(x.shape)
            known_axes = [a for a in axes or () if isinstance(a, int)]
            if axes is not None and len(known_axes) == len(axes):
                for a in known_axes:
                    dims[ctx.normalize_axis(a, len(dims))] = ctx.fresh()
            else:
                dims = ctx.fresh_dims(len(dims))
            ctx.set_tensor(0, x.dtype, dims)
            return
        ctx.set_tensor(0, x.dtype, None)
        return
    int_axes = None if axes is None else [a for a in axes if isinstance(a, int)]
    int_steps = None if steps is None else [s for s in steps if isinstance(s, int)]
    if axes is not None and len(int_axes or ()) != len(axes):
        ctx.unknown("axes are not known numbers")
    if steps is not None and len(int_steps or ()) != len(steps):
        ctx.unknown("steps are not known numbers")
    _do_slice(ctx, list(starts), list(ends), int_axes, int_steps)


def _do_slice(ctx: Context, starts: list[Dim], ends: list[Dim], axes: list[int] | None,
              steps: list[int] | None) -> None:
    x = ctx.tensor(0)
    dims = list(ctx.shape(0))
    if axes is None:
        axes = list(range(len(starts)))
    if steps is None:
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        ctx.fail("starts, ends, axes and steps differ in length")
    ranges: list[range | None] = [range(d) if isinstance(d, int) else None for d in dims]
    seen = set()
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        k = ctx.normalize_axis(a, len(dims))
        if k in seen:
            ctx.fail(f"axis {a} repeated")
        seen.add(k)
        dims[k], ranges[k] = _slice_dim(ctx, dims[k], s, e, st)
    value = ctx.value(0)
    out = None
    if value is not None and all(r is not None for r in ranges):
        out = known(dims, _take(value, ranges))  # type: ignore[arg-type]
    ctx.set_tensor(0, x.dtype, dims, out)


@register_rule("Expand", since=8)
def _expand(ctx: Context) -> None:
    x = ctx.tensor(0)
    target = ctx.ints(1)
    if target is None:
        s = ctx.tensor(1).shape
        if s is not None and len(s) == 1 and isinstance(s[0], int) and x.shape is not None:
            rank = max(s[0], len(x.shape))
            ctx.set_tensor(0, x.dtype, ctx.fresh_dims(rank))
        else:
            ctx.set_tensor(0, x.dtype, None)
        return
    if x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    shape = ctx.broadcast(x.shape, target)
    value = ctx.value(0)
    out = None
    concrete = _concrete(shape)
    if value is not None and concrete is not None:
        from onnxlite.infer._ops._util import broadcast_values

        data = broadcast_values(lambda v: v, [value], concrete)
        out = known(shape, data) if data is not None else None
    ctx.set_tensor(0, x.dtype, shape, out)


@register_rule("Tile")
def _tile(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    repeats = ctx.ints(1)
    if repeats is None:
        ctx.set_tensor(0, x.dtype, ctx.fresh_dims(len(dims)))
        return
    if len(repeats) != len(dims):
        ctx.fail(f"{len(repeats)} repeats for rank {len(dims)}")
    ctx.set_tensor(0, x.dtype, [d * r for d, r in zip(dims, repeats, strict=True)])


@register_rule("ConstantOfShape", since=9)
def _constant_of_shape(ctx: Context) -> None:
    shape = ctx.ints(0)
    value = ctx.attr("value")
    dtype = DataType.FLOAT
    fill: Any = 0.0
    if value is not None:
        dtype = value.dtype
        if value.size != 1:
            ctx.fail("'value' must hold one element")
        read = elements(value, 1)
        if read is None:
            ctx.fail("'value' cannot be read")
        fill = read[0]
    if shape is None:
        s = ctx.tensor(0).shape
        if s is not None and len(s) == 1 and isinstance(s[0], int):
            ctx.set_tensor(0, dtype, ctx.fresh_dims(s[0]))
        else:
            ctx.set_tensor(0, dtype, None)
        return
    for d in shape:
        if isinstance(d, int) and d < 0:
            ctx.fail(f"negative dim {d}")
    out = None
    concrete = _concrete(shape)
    if concrete is not None and (dtype in INT_TYPES or math.prod(concrete) == 1):
        n = math.prod(concrete)
        if n <= MAX_KNOWN:
            out = Known(concrete, (fill,) * n)
    ctx.set_tensor(0, dtype, shape, out)


@register_rule("Range", since=11)
def _range(ctx: Context) -> None:
    dtype = ctx.dtype(0)
    vals = [ctx.value(i) for i in range(3)]
    if any(v is None or len(v.data) != 1 for v in vals):
        ctx.set_tensor(0, dtype, [ctx.fresh()])
        return
    start, limit, delta = (v.data[0] for v in vals)  # type: ignore[union-attr]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, limit, delta)):
        if delta == 0:
            ctx.fail("delta is 0")
        n = max(math.ceil((limit - start) / delta), 0)
        out = None
        if dtype in INT_TYPES and n <= MAX_KNOWN:
            out = Known((n,), tuple(range(int(start), int(limit), int(delta))))
        ctx.set_tensor(0, dtype, [n], out)
        return
    if all(is_symbolic_int(v) for v in (start, limit, delta)) and isinstance(delta, int) and delta != 0:
        # max(ceil((limit - start) / delta), 0); counting down (XLNet's arange(klen, -qlen, -1)) is
        # counting up from limit to start by -delta
        span, step = (limit - start, delta) if delta > 0 else (start - limit, -delta)
        n = dim_max(floordiv(span + step - 1, step), 0)
        ctx.set_tensor(0, dtype, [n])
        return
    ctx.set_tensor(0, dtype, [ctx.fresh()])


@register_rule("Transpose")
def _transpose(ctx: Context) -> None:
    x = ctx.tensor(0)
    dims = ctx.shape(0)
    perm = ctx.attr("perm")
    if perm is None:
        perm = list(range(len(dims)))[::-1]
    if sorted(perm) != list(range(len(dims))):
        ctx.fail(f"perm {list(perm)} is not a permutation of {len(dims)} axes")
    shape = [dims[p] for p in perm]
    value = ctx.value(0)
    out = None
    if value is not None:
        strides = _strides(value.shape)
        data = []
        for idx in itertools.product(*[range(value.shape[p]) for p in perm]):
            pos = sum(idx[j] * strides[p] for j, p in enumerate(perm))
            data.append(value.data[pos])
        out = known(shape, data)
    ctx.set_tensor(0, x.dtype, shape, out)
