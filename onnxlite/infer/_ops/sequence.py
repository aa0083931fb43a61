"""Sequences and optionals (https://onnx.ai/onnx/operators/): SequenceEmpty, SequenceConstruct,
SequenceInsert, SequenceAt, SequenceErase, SequenceLength, SplitToSequence, ConcatFromSequence,
SequenceMap (its body inferred on the element types), Optional, OptionalHasElement,
OptionalGetElement.

A sequence's element type is one type for every element: where elements differ in a dim, that
dim is a fresh symbol; where they differ in rank, the rank is unknown."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops.control import EMPTY_SEQUENCE, merge
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr
from onnxlite.infer._types import Known, OptionalType, SequenceType, TensorType, TypeLike, from_type_proto


def _sequence(ctx: Context, i: int) -> SequenceType:
    t = ctx.input_type(i)
    if isinstance(t, SequenceType):
        return t
    if t is None:
        ctx.unknown(f"input {i} has no known type")
    ctx.fail(f"input {i} is {t}, not a sequence")


def _elem_tensor(ctx: Context, seq: SequenceType) -> TensorType:
    if isinstance(seq.elem, TensorType):
        return seq.elem
    if seq.elem is None:
        ctx.unknown("the sequence's element type is not known")
    ctx.fail(f"the sequence holds {seq.elem}, not tensors")


def _dtype_of(ctx: Context, name: str, default: DataType) -> DataType:
    code = ctx.attr(name)
    if code is None:
        return default
    try:
        return DataType(int(code))
    except ValueError:
        ctx.fail(f"'{name}' is {code!r}, not a data type")


@register_rule("SequenceEmpty", since=11)
def _sequence_empty(ctx: Context) -> None:
    """A sequence of tensors of ``dtype`` (default float); their shape is not known."""
    ctx.set_output(0, SequenceType(TensorType(_dtype_of(ctx, "dtype", DataType.FLOAT), None)), EMPTY_SEQUENCE)


@register_rule("SequenceConstruct", since=11)
def _sequence_construct(ctx: Context) -> None:
    types = [ctx.tensor(i) for i in range(ctx.num_inputs)]
    if not types:
        ctx.fail("needs at least one input")
    elem: TypeLike | None = types[0]
    for t in types[1:]:
        elem = merge(ctx, elem, t)
    ctx.set_output(0, SequenceType(elem))


@register_rule("SequenceInsert", since=11)
def _sequence_insert(ctx: Context) -> None:
    seq = _sequence(ctx, 0)
    t = ctx.tensor(1)
    if isinstance(seq.elem, TensorType) and seq.elem.dtype is not None and t.dtype is not None \
            and seq.elem.dtype != t.dtype:
        ctx.fail(f"inserting {t} into {seq}")
    if ctx.value(0) == EMPTY_SEQUENCE:  # the first element decides the element type
        ctx.set_output(0, SequenceType(t))
        return
    ctx.set_output(0, SequenceType(merge(ctx, seq.elem, t) if seq.elem is not None else None))


@register_rule("SequenceAt", since=11)
def _sequence_at(ctx: Context) -> None:
    ctx.set_output(0, _elem_tensor(ctx, _sequence(ctx, 0)))


@register_rule("SequenceErase", since=11)
def _sequence_erase(ctx: Context) -> None:
    ctx.set_output(0, _sequence(ctx, 0))


@register_rule("SequenceLength", since=11)
def _sequence_length(ctx: Context) -> None:
    _sequence(ctx, 0)
    ctx.set_tensor(0, DataType.INT64, [], Known((), (0,)) if ctx.value(0) == EMPTY_SEQUENCE else None)


@register_rule("SplitToSequence", since=11)
def _split_to_sequence(ctx: Context) -> None:
    """Without ``split``: slices of 1 along ``axis`` (removed when keepdims is 0); a scalar
    ``split``: chunks of that size (the last one may be smaller); 1-D: those sizes."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_output(0, SequenceType(TensorType(x.dtype, None)))
        return
    axis = ctx.normalize_axis(ctx.attr("axis", 0), len(x.shape))
    shape: list[Dim] = list(x.shape)
    if not ctx.has_input(1):
        if ctx.attr("keepdims", 1):
            shape[axis] = 1
        else:
            del shape[axis]
        ctx.set_output(0, SequenceType(TensorType(x.dtype, tuple(shape))))
        return
    d = x.shape[axis]
    split = ctx.value(1)
    size: Dim | None = None
    if split is not None and all(isinstance(s, (int, Expr)) and not isinstance(s, bool) for s in split.data):
        sizes: list[Any] = list(split.data)
        if split.is_scalar:
            k = sizes[0]
            if isinstance(k, int) and k <= 0:
                ctx.fail(f"split {k} is not positive")
            if isinstance(d, int) and isinstance(k, int) and d > 0 and d % k == 0 or d == k:
                size = k
        elif sizes and all(s == sizes[0] for s in sizes):
            size = sizes[0]
    shape[axis] = size if size is not None else ctx.fresh()
    ctx.set_output(0, SequenceType(TensorType(x.dtype, tuple(shape))))


@register_rule("ConcatFromSequence", since=11)
def _concat_from_sequence(ctx: Context) -> None:
    """The elements joined along ``axis`` (a new axis there when ``new_axis`` is 1); the
    sequence's length is not known, so neither is that dim."""
    elem = _elem_tensor(ctx, _sequence(ctx, 0))
    axis = ctx.attr("axis")
    if axis is None:
        ctx.fail("no 'axis' attribute")
    if elem.shape is None:
        ctx.set_tensor(0, elem.dtype, None)
        return
    shape: list[Dim] = list(elem.shape)
    if ctx.attr("new_axis", 0):
        shape.insert(ctx.normalize_axis(axis, len(shape) + 1), ctx.fresh())
    else:
        shape[ctx.normalize_axis(axis, len(shape))] = ctx.fresh()
    ctx.set_tensor(0, elem.dtype, shape)


@register_rule("SequenceMap", since=17)
def _sequence_map(ctx: Context) -> None:
    """The body runs on one element of each sequence input (tensor inputs as they are); each
    body output becomes a sequence."""
    inputs: list[TypeLike | None] = []
    for i in range(ctx.num_inputs):
        t = ctx.input_type(i)
        if i == 0 and not isinstance(t, SequenceType):
            _sequence(ctx, 0)
        inputs.append(t.elem if isinstance(t, SequenceType) else t)
    outs = ctx.infer_subgraph("body", inputs)
    if len(outs) != ctx.num_outputs:
        ctx.fail(f"the body has {len(outs)} outputs, the node {ctx.num_outputs}")
    for k, (t, _value) in enumerate(outs):
        ctx.set_output(k, SequenceType(t))


@register_rule("Optional", since=15)
def _optional(ctx: Context) -> None:
    """optional(input's type), or optional(the ``type`` attribute) when the input is omitted."""
    if ctx.has_input(0):
        t = ctx.input_type(0)
        if t is None:
            ctx.unknown("input 0 has no known type")
        ctx.set_output(0, OptionalType(t))
        return
    declared = ctx.attr("type")
    if declared is None:
        ctx.fail("no input and no 'type' attribute")
    ctx.set_output(0, OptionalType(from_type_proto(getattr(declared, "proto", declared), ctx.fresh)))


@register_rule("OptionalHasElement", since=15)
def _optional_has_element(ctx: Context) -> None:
    """A bool scalar: False for an omitted input (18+), True for a plain tensor or sequence."""
    value = None
    if not ctx.has_input(0):
        value = Known((), (False,))
    elif isinstance(ctx.input_type(0), (TensorType, SequenceType)):
        value = Known((), (True,))
    ctx.set_tensor(0, DataType.BOOL, [], value)


@register_rule("OptionalGetElement", since=15)
def _optional_get_element(ctx: Context) -> None:
    """The optional's element type (a tensor or sequence input, 18+, passes as it is)."""
    t = ctx.input_type(0)
    if t is None:
        ctx.unknown("input 0 has no known type")
    if isinstance(t, OptionalType):
        if t.elem is None:
            ctx.unknown("the optional's element type is not known")
        ctx.set_output(0, t.elem)
    else:
        ctx.set_output(0, t, ctx.value(0))
