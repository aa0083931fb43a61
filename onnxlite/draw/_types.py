"""The type text drawn on edges: from onnxlite.infer when it is there, else the declared types."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import data_type_of
from onnxlite.model import Model, Type

from onnxlite.draw._names import walk_graphs


def tensor_type_text(data_type: int, dims: Any) -> str:
    """'float[16,16]' from a TensorProto's metadata (never its data)."""
    try:
        name = data_type_of(data_type).short_name
    except (ValueError, KeyError):
        name = f"type{data_type}"
    return f"{name}[{','.join(str(d) for d in dims)}]"


def _declared(model: Model) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for path, g in walk_graphs(model.graph.proto):
        for t in g.initializer:
            out[(path, t.name)] = tensor_type_text(t.data_type, t.dims)
        for s in g.sparse_initializer:
            out[(path, s.values.name)] = "sparse_" + tensor_type_text(s.values.data_type, s.dims)
        for group in (g.value_info, g.input, g.output):  # later groups win: declared I/O first
            for vi in group:
                if vi.HasField("type"):
                    out[(path, vi.name)] = str(Type(vi.type))
    return out


def _value_types(model: Model) -> dict[tuple[str, str], str]:
    """{(graph path, value name): type text} for every value whose type is known."""
    out = _declared(model)
    try:
        from onnxlite import infer
    except ImportError:  # the inference package is not there yet: declared types only
        return out
    run = getattr(infer, "infer_types", None)
    if run is None:
        return out
    inferred = run(model)
    for key, value in inferred.items():
        out.setdefault(key, str(value))
    return out
