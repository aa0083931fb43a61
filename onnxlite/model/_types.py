"""Views over TypeProto and ValueInfoProto: tensor, sparse tensor, sequence, map, optional and
opaque types, with symbolic (``"batch"``) and unknown (``None``) dimensions."""

from __future__ import annotations

from typing import Any

from onnxlite import _proto
from onnxlite.dtypes import DataType, data_type_of
from onnxlite.model._fields import scalar, string_map, value_name

DimValue = int | str | None


class Dim:
    """One dimension of a shape: a number, a symbolic name, or unknown, plus its denotation."""

    __slots__ = ("proto",)

    FIELDS = {"dim_value": "value", "dim_param": "value", "denotation": "denotation"}

    def __init__(self, proto: _proto.TensorShapeProto.Dimension) -> None:
        self.proto = proto

    @property
    def value(self) -> DimValue:
        which = self.proto.WhichOneof("value")
        if which == "dim_value":
            return int(self.proto.dim_value)
        if which == "dim_param":
            return str(self.proto.dim_param)
        return None

    denotation = scalar("denotation")

    def __repr__(self) -> str:
        return f"Dim({self.value!r})"


class Type:
    """A view over TypeProto. ``kind`` says which variant is set; the other properties answer
    for that variant (None elsewhere). Example::

        t = graph.inputs[0].type
        t.kind, t.elem_type, t.shape        # 'tensor', DataType.FLOAT, ('batch', 3, 224, 224)
    """

    __slots__ = ("proto",)

    FIELDS = {
        "tensor_type": "kind", "sequence_type": "elem", "map_type": "value_type",
        "optional_type": "elem", "sparse_tensor_type": "kind", "opaque_type": "opaque",
        "denotation": "denotation",
    }
    SUBFIELDS = {  # nested messages of TypeProto and the properties that expose their fields
        "Tensor": {"elem_type": "elem_type", "shape": "shape"},
        "Sequence": {"elem_type": "elem"},
        "Map": {"key_type": "key_type", "value_type": "value_type"},
        "Optional": {"elem_type": "elem"},
        "SparseTensor": {"elem_type": "elem_type", "shape": "shape"},
        "Opaque": {"domain": "opaque", "name": "opaque"},
    }

    def __init__(self, proto: _proto.TypeProto) -> None:
        self.proto = proto

    denotation = scalar("denotation")

    @property
    def kind(self) -> str | None:
        """'tensor', 'sparse_tensor', 'sequence', 'map', 'optional', 'opaque' or None (unset)."""
        which = self.proto.WhichOneof("value")
        return None if which is None else str(which)[: -len("_type")]

    @property
    def elem_type(self) -> DataType | None:
        """Element type of a tensor or sparse tensor (None for other kinds or when unset)."""
        inner = self._tensorish()
        if inner is None or not inner.HasField("elem_type"):
            return None
        return data_type_of(inner.elem_type)

    @property
    def shape(self) -> tuple[DimValue, ...] | None:
        """Dims of a tensor/sparse tensor type: int, symbolic str, or None; None when unranked."""
        dims = self.dims
        return None if dims is None else tuple(d.value for d in dims)

    @property
    def dims(self) -> list[Dim] | None:
        inner = self._tensorish()
        if inner is None or not inner.HasField("shape"):
            return None
        return [Dim(d) for d in inner.shape.dim]

    @property
    def elem(self) -> Type | None:
        """Element type of a sequence or optional type."""
        kind = self.kind
        if kind == "sequence" and self.proto.sequence_type.HasField("elem_type"):
            return Type(self.proto.sequence_type.elem_type)
        if kind == "optional" and self.proto.optional_type.HasField("elem_type"):
            return Type(self.proto.optional_type.elem_type)
        return None

    @property
    def key_type(self) -> DataType | None:
        if self.kind != "map" or not self.proto.map_type.HasField("key_type"):
            return None
        return data_type_of(self.proto.map_type.key_type)

    @property
    def value_type(self) -> Type | None:
        if self.kind != "map" or not self.proto.map_type.HasField("value_type"):
            return None
        return Type(self.proto.map_type.value_type)

    @property
    def opaque(self) -> tuple[str, str] | None:
        """(domain, name) of an opaque type."""
        if self.kind != "opaque":
            return None
        return (self.proto.opaque_type.domain, self.proto.opaque_type.name)

    def _tensorish(self) -> Any:
        kind = self.kind
        if kind == "tensor":
            return self.proto.tensor_type
        if kind == "sparse_tensor":
            return self.proto.sparse_tensor_type
        return None

    def __str__(self) -> str:
        kind = self.kind
        if kind in ("tensor", "sparse_tensor"):
            elem = self.elem_type
            name = elem.short_name if elem is not None else "?"
            shape = self.shape
            dims = "" if shape is None else "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
            return f"{name}{dims}" if kind == "tensor" else f"sparse_tensor({name}{dims})"
        if kind in ("sequence", "optional"):
            return f"{kind}({self.elem or '?'})"
        if kind == "map":
            key = self.key_type
            return f"map({key.short_name if key is not None else '?'}, {self.value_type or '?'})"
        if kind == "opaque":
            domain, name = self.opaque or ("", "")
            return f"opaque({domain}, {name})"
        return "?"

    def __repr__(self) -> str:
        return f"Type({self})"


class ValueInfo:
    """A view over ValueInfoProto: a graph input/output or a value_info entry."""

    __slots__ = ("proto",)

    FIELDS = {"name": "name", "type": "type", "doc_string": "doc_string", "metadata_props": "metadata_props"}

    def __init__(self, proto: _proto.ValueInfoProto) -> None:
        self.proto = proto

    name = value_name("name")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")

    @property
    def type(self) -> Type | None:
        return Type(self.proto.type) if self.proto.HasField("type") else None

    @property
    def dtype(self) -> DataType | None:
        """Shortcut for ``type.elem_type`` of a tensor value."""
        t = self.type
        return None if t is None else t.elem_type

    @property
    def shape(self) -> tuple[DimValue, ...] | None:
        """Shortcut for ``type.shape``."""
        t = self.type
        return None if t is None else t.shape

    def __repr__(self) -> str:
        return f"ValueInfo({self.proto.name!r}, {self.type or '?'})"
