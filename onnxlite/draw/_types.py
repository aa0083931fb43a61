"""The type text drawn on edges: from onnxlite.infer when it is there, else the declared types."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import data_type_of
from onnxlite.model import Body, Model, Type


def tensor_type_text(data_type: int, dims: Any) -> str:
    """'float[16,16]' from a TensorProto's metadata (never its data)."""
    try:
        name = data_type_of(data_type).short_name
    except (ValueError, KeyError):
        name = f"type{data_type}"
    return f"{name}[{','.join(str(d) for d in dims)}]"


def _declared(bodies: list[Body]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for body in bodies:
        g, path = body.proto, body.path
        if body.is_function:  # a function declares types in value_info only (IR 10)
            for vi in g.value_info:
                if vi.HasField("type"):
                    out[(path, vi.name)] = str(Type(vi.type))
            continue
        for t in g.initializer:
            out[(path, t.name)] = tensor_type_text(t.data_type, t.dims)
        for s in g.sparse_initializer:
            out[(path, s.values.name)] = "sparse_" + tensor_type_text(s.values.data_type, s.dims)
        for group in (g.value_info, g.input, g.output):  # later groups win: declared I/O first
            for vi in group:
                if vi.HasField("type"):
                    out[(path, vi.name)] = str(Type(vi.type))
    return out


def _value_types(model: Model, bodies: list[Body]) -> dict[tuple[str, str], str]:
    """{(graph path, value name): type text} for every value of ``bodies`` (the model's walk) whose
    type is known: declared types first, then what onnxlite.infer finds for the rest."""
    out = _declared(bodies)
    try:
        from onnxlite import infer
    except ImportError:  # the inference package is not there: declared types only
        return out
    try:
        result = infer.infer_types(model)
    except infer.InferError:  # an absurd declared input type: draw with what is declared
        return out
    for path, values in result.types.items():
        for name, t in values.items():
            if t is not None and (path, name) not in out:
                out[(path, name)] = infer.format_type(t)
    return out
