"""Control flow (https://onnx.ai/onnx/operators/): If merges its branches, Loop carries values
(sizes that change across iterations become fresh symbols) and stacks scan outputs under the
trip count, Scan (opset 8 with a batch axis, 9+ with scan axes) adds the sequence dim."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr
from onnxlite.infer._types import (
    Known,
    MapType,
    OptionalType,
    SequenceType,
    SparseTensorType,
    TensorType,
    TypeLike,
)

#: The tracked value of a sequence known to hold no element (SequenceEmpty's). Its element type
#: says nothing about any element, so inserting into it, an If branch or a Loop iteration
#: that fills it takes the other side's element type instead of merging with it.
EMPTY_SEQUENCE = Known((0,), ())


def merge_outputs(ctx: Context, a: tuple[TypeLike | None, Known | None],
                  b: tuple[TypeLike | None, Known | None]) -> TypeLike | None:
    """`merge` of two (type, value) pairs where a sequence known to be empty gives way."""
    (ta, va), (tb, vb) = a, b
    if va == EMPTY_SEQUENCE and vb != EMPTY_SEQUENCE and _fills(ta, tb):
        return tb
    if vb == EMPTY_SEQUENCE and va != EMPTY_SEQUENCE and _fills(tb, ta):
        return ta
    return merge(ctx, ta, tb)


def _fills(empty: TypeLike | None, other: TypeLike | None) -> bool:
    """Whether ``other`` is a sequence that an empty sequence of type ``empty`` can stand for."""
    if not isinstance(empty, SequenceType) or not isinstance(other, SequenceType):
        return False
    if isinstance(empty.elem, TensorType) and isinstance(other.elem, TensorType):
        return None in (empty.elem.dtype, other.elem.dtype) or empty.elem.dtype == other.elem.dtype
    return empty.elem is None or other.elem is None or type(empty.elem) is type(other.elem)


def merge(ctx: Context, a: TypeLike | None, b: TypeLike | None) -> TypeLike | None:
    """The type both ``a`` and ``b`` fit: equal dims kept, differing dims a fresh symbol,
    differing ranks an unknown rank; None when either is unknown or the kinds differ."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    if isinstance(a, (TensorType, SparseTensorType)) and type(a) is type(b):
        assert isinstance(b, (TensorType, SparseTensorType))
        if a.dtype is not None and b.dtype is not None and a.dtype != b.dtype:
            ctx.fail(f"branches give {a} and {b}")
        dtype = a.dtype if a.dtype is not None else b.dtype
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            return type(a)(dtype, None)
        dims: list[Dim] = [x if x == y else ctx.fresh() for x, y in zip(a.shape, b.shape, strict=True)]
        return type(a)(dtype, tuple(dims))
    if isinstance(a, (SequenceType, OptionalType)) and type(a) is type(b):
        assert isinstance(b, (SequenceType, OptionalType))
        return type(a)(merge(ctx, a.elem, b.elem))
    if isinstance(a, MapType) and isinstance(b, MapType) and a.key == b.key:
        return MapType(a.key, merge(ctx, a.value, b.value))
    return None


@register_rule("If")
def _if(ctx: Context) -> None:
    then_out = ctx.infer_subgraph("then_branch", [])
    else_out = ctx.infer_subgraph("else_branch", [])
    if len(then_out) != len(else_out):
        ctx.fail(f"then_branch has {len(then_out)} outputs, else_branch {len(else_out)}")
    cond = ctx.value(0)
    taken = None
    if cond is not None and len(cond.data) == 1:
        taken = then_out if cond.data[0] else else_out
    for i in range(min(ctx.num_outputs, len(then_out))):
        if taken is not None:
            ctx.set_output(i, taken[i][0], taken[i][1])
        else:
            both_empty = then_out[i][1] == EMPTY_SEQUENCE and else_out[i][1] == EMPTY_SEQUENCE
            ctx.set_output(i, merge_outputs(ctx, then_out[i], else_out[i]),
                           EMPTY_SEQUENCE if both_empty else None)


def _stack(ctx: Context, t: TypeLike | None, dim: Dim, axis: int = 0) -> TypeLike | None:
    """Tensor type ``t`` with ``dim`` inserted at ``axis`` (the scan/trip dim)."""
    if not isinstance(t, TensorType):
        return None
    if t.shape is None:
        return TensorType(t.dtype, None)
    rank = len(t.shape) + 1
    axis = ctx.normalize_axis(axis, rank)
    shape = list(t.shape)
    shape.insert(axis, dim)
    return TensorType(t.dtype, tuple(shape))


def _carry(ctx: Context, attr: str, prefix: list[TypeLike | None], carried: list[TypeLike | None],
           suffix: list[TypeLike | None], out_offset: int,
           prefix_values: list[Known | None] | None = None, carried_values: list[Known | None] | None = None
           ) -> tuple[list[TypeLike | None], list[Any]]:
    """Run a body once; where carried values change type across an iteration, generalize them
    and run it again. Returns (carried types after the loop, the body's outputs)."""
    values = (prefix_values or [None] * len(prefix)) + [None] * (len(carried) + len(suffix))
    n = len(carried)
    # a sequence carried in empty is empty in the first iteration only: that run shows what
    # the body puts in it, and a second run (values not tracked) covers the later iterations
    empty = [isinstance(t, SequenceType) and v == EMPTY_SEQUENCE
             for t, v in zip(carried, carried_values or [None] * n, strict=True)]
    first = list(values)
    for k in range(n):
        if empty[k]:
            first[len(prefix) + k] = EMPTY_SEQUENCE
    outs = ctx.infer_subgraph(attr, prefix + carried + suffix, first)
    if len(outs) < out_offset + n:
        ctx.fail(f"'{attr}' has {len(outs)} outputs, fewer than the {n} carried values need")
    after = [outs[out_offset + k][0] for k in range(n)]
    general = [merge_outputs(ctx, (a, EMPTY_SEQUENCE if e else None), (b, None)) if a != b else a
               for a, b, e in zip(carried, after, empty, strict=True)]
    if general != carried or any(empty):
        # the generalized dims stand for "the size at any iteration": what the second run
        # computes from them (2*unk_0 for a doubling) is covered by them
        widened = {d for t in general if isinstance(t, TensorType) and t.shape is not None
                   for d in t.shape if isinstance(d, Expr)}
        outs = ctx.infer_subgraph(attr, prefix + general + suffix, values)
        after = [outs[out_offset + k][0] for k in range(n)]
        general = [a if a == b else _widen(ctx, a, b, widened) for a, b in zip(general, after, strict=True)]
    return general, outs


def _widen(ctx: Context, a: TypeLike | None, b: TypeLike | None, widened: set[Expr]) -> TypeLike | None:
    if isinstance(a, TensorType) and isinstance(b, TensorType) and a.shape is not None \
            and b.shape is not None and len(a.shape) == len(b.shape) and a.dtype == b.dtype:
        dims: list[Dim] = [x if x == y or x in widened else ctx.fresh()
                           for x, y in zip(a.shape, b.shape, strict=True)]
        return TensorType(a.dtype, tuple(dims))
    return merge(ctx, a, b)


@register_rule("Loop")
def _loop(ctx: Context) -> None:
    n = ctx.num_inputs - 2
    if n < 0:
        ctx.fail("Loop needs its M and cond inputs (empty names allowed)")
    carried = [ctx.input_type(2 + k) for k in range(n)]
    prefix: list[TypeLike | None] = [TensorType(DataType.INT64, ()), TensorType(DataType.BOOL, ())]
    # the iteration number is a value the body may compute sizes from (x[i:i+1] has size 1)
    iteration = Known((), (ctx.fresh(),))
    final, outs = _carry(ctx, "body", prefix, carried, [], 1, [iteration, None],
                         [ctx.value(2 + k) for k in range(n)])
    for k in range(n):
        ctx.set_output(k, final[k])
    trip: Dim | None = None
    m = ctx.ints(0) if ctx.has_input(0) else None
    cond_in = ctx.value(1) if ctx.has_input(1) else None
    cond_out = outs[0][1] if outs else None
    never_stops = not ctx.has_input(1) or (
        cond_in is not None and cond_in.data == (True,) and getattr(cond_out, "data", None) == (True,))
    if m is not None and len(m) == 1 and isinstance(m[0], int) and never_stops:
        trip = m[0]
    for k in range(1 + n, len(outs)):
        i = k - 1
        if i < ctx.num_outputs:
            ctx.set_output(i, _stack(ctx, outs[k][0], trip if trip is not None else ctx.fresh()))


def _drop_axis(ctx: Context, t: TypeLike | None, axis: int) -> TypeLike | None:
    if not isinstance(t, TensorType) or t.shape is None:
        return t if not isinstance(t, TensorType) else TensorType(t.dtype, None)
    k = ctx.normalize_axis(axis, len(t.shape))
    return TensorType(t.dtype, t.shape[:k] + t.shape[k + 1:])


@register_rule("Scan", since=9)
def _scan(ctx: Context) -> None:
    m = ctx.attr("num_scan_inputs")
    if m is None or not 0 < m <= ctx.num_inputs:
        ctx.fail("num_scan_inputs is missing or out of range")
    n = ctx.num_inputs - m
    in_axes = list(ctx.attr("scan_input_axes") or [0] * m)
    states = [ctx.input_type(k) for k in range(n)]
    scans = [ctx.input_type(n + k) for k in range(m)]
    seq: Dim | None = None
    slices: list[TypeLike | None] = []
    for t, axis in zip(scans, in_axes, strict=False):
        if isinstance(t, TensorType) and t.shape is not None:
            k = ctx.normalize_axis(axis, len(t.shape))
            if seq is None:
                seq = t.shape[k]
        slices.append(_drop_axis(ctx, t, axis))
    final, outs = _carry(ctx, "body", [], states, slices, 0)
    for k in range(n):
        ctx.set_output(k, final[k])
    out_axes = list(ctx.attr("scan_output_axes") or [])
    dim = seq if seq is not None else ctx.fresh()
    for j, k in enumerate(range(n, len(outs))):
        if k < ctx.num_outputs:
            ctx.set_output(k, _stack(ctx, outs[k][0], dim, out_axes[j] if j < len(out_axes) else 0))


@register_rule("Scan", since=8)
def _scan8(ctx: Context) -> None:
    """Opset 8: input 0 is the optional sequence_lens; every other input has a batch axis 0, scan
    inputs have the sequence on axis 1; outputs likewise."""
    m = ctx.attr("num_scan_inputs")
    if m is None or not 0 < m < ctx.num_inputs:
        ctx.fail("num_scan_inputs is missing or out of range")
    n = ctx.num_inputs - 1 - m
    states = [ctx.input_type(1 + k) for k in range(n)]
    scans = [ctx.input_type(1 + n + k) for k in range(m)]
    batch: Dim | None = None
    seq: Dim | None = None
    for t in states + scans:
        if isinstance(t, TensorType) and t.shape:
            batch = t.shape[0] if batch is None else batch
    for t in scans:
        if isinstance(t, TensorType) and t.shape is not None and len(t.shape) >= 2 and seq is None:
            seq = t.shape[1]
    body_states = [_drop_axis(ctx, t, 0) for t in states]
    body_scans = [_drop_axis(ctx, _drop_axis(ctx, t, 0), 0) for t in scans]
    final, outs = _carry(ctx, "body", [], body_states, body_scans, 0)
    b = batch if batch is not None else ctx.fresh()
    for k in range(n):
        ctx.set_output(k, _stack(ctx, final[k], b))
    s = seq if seq is not None else ctx.fresh()
    for k in range(n, len(outs)):
        if k < ctx.num_outputs:
            ctx.set_output(k, _stack(ctx, _stack(ctx, outs[k][0], s), b))
