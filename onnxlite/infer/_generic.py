"""The fallback for standard ops without a rule: element types from the schema's type
constraints (an output bound to the same constraint as an input gets that input's type; a
constraint allowing one type gives that type), shape unknown."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, RuleUnknown
from onnxlite.infer._types import OptionalType, SequenceType, TensorType, TypeLike
from onnxlite.versions import op_schema

__all__ = ["generic_rule", "parse_type_str"]

_DTYPES = {dt.short_name: dt for dt in DataType if dt != DataType.UNDEFINED}


def parse_type_str(text: str) -> TypeLike | None:
    """The type a schema's type string names, shapes unknown: 'tensor(float)' -> float tensor of
    unknown rank, 'seq(tensor(int64))', 'optional(...)'; None for what it cannot express."""
    if text.startswith("tensor(") and text.endswith(")"):
        dt = _DTYPES.get(text[7:-1])
        return None if dt is None else TensorType(dt, None)
    if text.startswith("seq(") and text.endswith(")"):
        inner = parse_type_str(text[4:-1])
        return None if inner is None else SequenceType(inner)
    if text.startswith("optional(") and text.endswith(")"):
        inner = parse_type_str(text[9:-1])
        return None if inner is None else OptionalType(inner)
    return None


def _element_only(t: TypeLike | None) -> TypeLike | None:
    """``t`` with its shapes forgotten (the generic rule knows the element type only)."""
    if isinstance(t, TensorType):
        return TensorType(t.dtype, None)
    if isinstance(t, SequenceType):
        return SequenceType(_element_only(t.elem))
    if isinstance(t, OptionalType):
        return OptionalType(_element_only(t.elem))
    return None


def generic_rule(ctx: Context) -> None:
    schema = op_schema(ctx.domain, ctx.op_type, ctx.opset)
    if schema is None:
        raise RuleUnknown(f"no rule for {ctx.domain + '.' if ctx.domain else ''}{ctx.op_type}"
                          f" (opset {ctx.opset})")
    formals_in = schema.inputs
    bound: dict[str, TypeLike] = {}
    for i in range(ctx.num_inputs):
        if not formals_in:
            break
        formal = formals_in[min(i, len(formals_in) - 1)]
        if i >= len(formals_in) and formal[2] != "variadic":
            break
        t = ctx.input_type(i)
        heterogeneous = formal[2] == "variadic" and not formal[3]
        if t is not None and formal[1] not in bound and not heterogeneous:
            bound[formal[1]] = t
    formals_out = schema.outputs
    for i in range(ctx.num_outputs):
        if not formals_out:
            break
        formal = formals_out[min(i, len(formals_out) - 1)]
        if i >= len(formals_out) and formal[2] != "variadic":
            break
        type_str = formal[1]
        if formal[2] == "variadic" and not formal[3]:
            continue  # each output of a heterogeneous variadic list has a type of its own
        allowed = schema.type_constraints.get(type_str)
        out: TypeLike | None = None
        if allowed is None:
            out = parse_type_str(type_str)
        elif len(allowed) == 1:
            out = parse_type_str(allowed[0])
        elif type_str in bound:
            out = _element_only(bound[type_str])
        if out is not None:
            ctx.set_output(i, out)
    raise RuleUnknown(f"no shape rule for {ctx.op_type}")
