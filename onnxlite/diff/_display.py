"""Short JSON-ready texts of attribute values, types and tensors for the report."""

from __future__ import annotations

from typing import Any

from onnxlite.dtypes import data_type_of
from onnxlite.errors import ModelFormatError
from onnxlite.model import AttributeType, Tensor, Type

_SMALL = 16  # tensors of at most this many elements are shown by value


def type_text(declared: tuple[bytes, Any] | None) -> str | None:
    if declared is None:
        return None
    return str(Type(declared[1]))


def _dtype_name(code: int) -> str:
    try:
        return data_type_of(code).short_name
    except ModelFormatError:
        return f"dtype{code}"


def tensor_text(t: Any, store: Any) -> Any:
    """Small tensors by value, others as ``dtype[shape]``."""
    numel = 1
    for d in t.dims:
        numel *= int(d)
    desc = f"{_dtype_name(t.data_type)}{list(t.dims)}"
    if numel <= _SMALL:
        try:
            values = Tensor(t, store).numpy().reshape(-1).tolist()
        except (ModelFormatError, ValueError, TypeError):
            return desc
        return f"{desc} {[_plain(v) for v in values]}"
    return desc


def _plain(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return float(v) if hasattr(v, "__float__") else str(v)


def attribute(a: Any, store: Any) -> Any:
    """The value of an AttributeProto for the report (None when absent)."""
    if a is None:
        return None
    if a.ref_attr_name:
        return f"@{a.ref_attr_name}"
    code = a.type
    if code == AttributeType.FLOAT:
        return float(a.f)
    if code == AttributeType.INT:
        return int(a.i)
    if code == AttributeType.STRING:
        return bytes(a.s).decode("utf-8", "replace")
    if code == AttributeType.FLOATS:
        return [float(v) for v in a.floats]
    if code == AttributeType.INTS:
        return [int(v) for v in a.ints]
    if code == AttributeType.STRINGS:
        return [bytes(v).decode("utf-8", "replace") for v in a.strings]
    if code == AttributeType.TENSOR:
        return tensor_text(a.t, store)
    if code == AttributeType.TENSORS:
        return [tensor_text(t, store) for t in a.tensors]
    if code == AttributeType.GRAPH:
        return f"graph ({len(a.g.node)} nodes)"
    if code == AttributeType.GRAPHS:
        return [f"graph ({len(g.node)} nodes)" for g in a.graphs]
    if code == AttributeType.TYPE_PROTO:
        return str(Type(a.tp))
    if code == AttributeType.TYPE_PROTOS:
        return [str(Type(t)) for t in a.type_protos]
    if code == AttributeType.SPARSE_TENSOR:
        return f"sparse {_dtype_name(a.sparse_tensor.values.data_type)}{list(a.sparse_tensor.dims)}"
    return AttributeType.name_of(code, f"type {code}")


def tensor_record(name: str, t: Any, graph: str) -> dict[str, Any]:
    if hasattr(t, "values"):  # sparse initializer
        return {"name": name, "dtype": _dtype_name(t.values.data_type), "shape": [int(d) for d in t.dims],
                "graph": graph}
    return {"name": name, "dtype": _dtype_name(t.data_type), "shape": [int(d) for d in t.dims],
            "graph": graph}
