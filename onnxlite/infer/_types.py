"""Inferred types (frozen, hashable) and known values, with conversions to and from TypeProto.

A tensor type has a dtype (or None when unknown) and a shape: a tuple of dims (`int` or symbolic
`Expr`) or None for an unknown rank. Sequence, optional, map and sparse tensor types nest. A
`Known` value is what data propagation tracks: the elements of a small integer tensor (or of a
scalar of any type), flat in row-major order, with its (concrete) shape.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onnxlite import _proto
from onnxlite.dtypes import DataType
from onnxlite.infer._sym import Dim, Expr, format_dim, parse_dim

__all__ = [
    "MAX_DIM", "MAX_FLOAT_KNOWN", "MAX_KNOWN", "MAX_RANK", "Known", "MapType", "OptionalType", "SequenceType",
    "SparseTensorType", "TensorType", "TypeLike", "elements", "format_type", "from_type_proto",
    "to_type_proto", "write_type_proto",
]

#: The most elements a value is tracked with (and an initializer read for).
MAX_KNOWN = 1024
#: Float tensors are tracked as values only up to this many elements: Resize/Upsample scales,
#: Clip bounds, small constants; never weights.
MAX_FLOAT_KNOWN = 16
#: Larger declared ranks are refused (onnx's own inference exhausts memory on them).
MAX_RANK = 256
#: Larger declared dims are refused: no tensor can have them.
MAX_DIM = 2**62


@dataclass(frozen=True, slots=True)
class TensorType:
    """``dtype`` (None: unknown) and ``shape`` (None: unknown rank; dims are int or Expr)."""

    dtype: DataType | None
    shape: tuple[Dim, ...] | None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def __str__(self) -> str:
        return format_type(self)


@dataclass(frozen=True, slots=True)
class SparseTensorType:
    dtype: DataType | None
    shape: tuple[Dim, ...] | None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def __str__(self) -> str:
        return format_type(self)


@dataclass(frozen=True, slots=True)
class SequenceType:
    elem: TypeLike | None

    def __str__(self) -> str:
        return format_type(self)


@dataclass(frozen=True, slots=True)
class OptionalType:
    elem: TypeLike | None

    def __str__(self) -> str:
        return format_type(self)


@dataclass(frozen=True, slots=True)
class MapType:
    key: DataType | None
    value: TypeLike | None

    def __str__(self) -> str:
        return format_type(self)


TypeLike = TensorType | SparseTensorType | SequenceType | OptionalType | MapType


@dataclass(frozen=True, slots=True)
class Known:
    """A tracked value: ``shape`` (concrete) and ``data``, the elements in row-major order
    (int or Expr for integer tensors, float/bool/int for scalars of other types)."""

    shape: tuple[int, ...]
    data: tuple[Any, ...]

    @property
    def is_scalar(self) -> bool:
        return not self.shape


#: The types ``elements`` reads without numpy: (array typecode, its item size, typed field)
_INLINE = {DataType.INT64: ("q", 8, "int64_data"), DataType.INT32: ("i", 4, "int32_data"),
           DataType.FLOAT: ("f", 4, "float_data"), DataType.DOUBLE: ("d", 8, "double_data")}


def elements(tensor: Any, count: int) -> list[Any] | None:
    """The ``count`` elements of a small tensor (a TensorProto or a Tensor view) as Python
    numbers, flat. An int64/int32/float/double tensor held in the file itself is read without
    numpy (importing it costs a small model's dump ~50 ms); any other (another type, external
    data, a size that does not match) goes through the Tensor view, as the weights are read.
    None when it cannot be read."""
    view = tensor if hasattr(tensor, "numpy") else None
    proto = view.proto if view is not None else tensor
    kind = _INLINE.get(proto.data_type)
    if kind is not None and proto.data_location != 1 and not len(proto.external_data):
        code, size, field = kind
        raw = proto.raw_data
        if raw:
            if len(raw) == size * count and array(code).itemsize == size:
                values = array(code)
                values.frombytes(raw)
                if sys.byteorder == "big":
                    values.byteswap()
                return values.tolist()
        else:
            typed = getattr(proto, field)
            if len(typed) == count:
                return list(typed)
    if view is None:
        return None
    from onnxlite.errors import OnnxliteError

    try:
        flat = view.numpy().reshape(-1).tolist()
    except (OnnxliteError, ValueError, TypeError, OSError):
        return None
    return flat if len(flat) == count else None


def _dims_text(shape: tuple[Dim, ...] | None) -> str:
    if shape is None:
        return ""
    return "[" + ",".join(format_dim(d) for d in shape) + "]"


def format_type(t: TypeLike | None) -> str:
    """Text of a type as onnxlite prints types: ``float[N,3]``, ``seq(int64[2])``, ``?`` unknown."""
    if t is None:
        return "?"
    if isinstance(t, TensorType):
        return (t.dtype.short_name if t.dtype is not None else "?") + _dims_text(t.shape)
    if isinstance(t, SparseTensorType):
        return f"sparse_tensor({t.dtype.short_name if t.dtype is not None else '?'}{_dims_text(t.shape)})"
    if isinstance(t, SequenceType):
        return f"seq({format_type(t.elem)})"
    if isinstance(t, OptionalType):
        return f"optional({format_type(t.elem)})"
    key = t.key.short_name if t.key is not None else "?"
    return f"map({key}, {format_type(t.value)})"


class TypeReadError(ValueError):
    """A declared type onnxlite refuses to reason about (absurd rank or dim)."""


def _read_shape(tensorish: Any, fresh: Callable[[], Expr]) -> tuple[Dim, ...] | None:
    if not tensorish.HasField("shape"):
        return None
    dims = tensorish.shape.dim
    if len(dims) > MAX_RANK:
        raise TypeReadError(f"declared rank {len(dims)} is over {MAX_RANK}")
    out: list[Dim] = []
    for d in dims:
        which = d.WhichOneof("value")
        if which == "dim_value":
            v = int(d.dim_value)
            if v < 0:
                out.append(fresh())  # -1 and friends: exporters' way of saying "unknown"
                continue
            if v > MAX_DIM:
                raise TypeReadError(f"declared dim {v} is over 2**62")
            out.append(v)
        elif which == "dim_param" and d.dim_param:
            out.append(parse_dim(d.dim_param))
        else:
            out.append(fresh())
    return tuple(out)


def _read_dtype(code: int) -> DataType | None:
    if not code:
        return None
    try:
        return DataType(code)
    except ValueError:
        return None


def from_type_proto(tp: Any, fresh: Callable[[], Expr], depth: int = 0) -> TypeLike | None:
    """The inferred type a TypeProto declares (None when unset or opaque). Unknown dims get fresh
    symbols; raises TypeReadError for an absurd rank or dim, or nesting past 64 levels."""
    if depth > 64:
        raise TypeReadError("type nested more than 64 levels deep")
    which = tp.WhichOneof("value")
    if which == "tensor_type":
        tt = tp.tensor_type
        return TensorType(_read_dtype(tt.elem_type), _read_shape(tt, fresh))
    if which == "sparse_tensor_type":
        st = tp.sparse_tensor_type
        return SparseTensorType(_read_dtype(st.elem_type), _read_shape(st, fresh))
    if which == "sequence_type":
        inner = tp.sequence_type
        return SequenceType(from_type_proto(inner.elem_type, fresh, depth + 1) if inner.HasField("elem_type")
                            else None)
    if which == "optional_type":
        inner = tp.optional_type
        return OptionalType(from_type_proto(inner.elem_type, fresh, depth + 1) if inner.HasField("elem_type")
                            else None)
    if which == "map_type":
        m = tp.map_type
        value = from_type_proto(m.value_type, fresh, depth + 1) if m.HasField("value_type") else None
        return MapType(_read_dtype(m.key_type), value)
    return None


def _write_shape(shape: tuple[Dim, ...], target: Any) -> None:
    dims = target.shape.dim
    target.shape.SetInParent()
    for d in shape:
        entry = dims.add()
        if isinstance(d, Expr):
            entry.dim_param = format_dim(d)
        else:
            entry.dim_value = int(d)


def write_type_proto(t: TypeLike, tp: Any) -> None:
    """Write ``t`` into the (empty) TypeProto ``tp``; unknown parts stay unset."""
    if isinstance(t, (TensorType, SparseTensorType)):
        target = tp.tensor_type if isinstance(t, TensorType) else tp.sparse_tensor_type
        target.SetInParent()
        if t.dtype is not None:
            target.elem_type = int(t.dtype)
        if t.shape is not None:
            _write_shape(t.shape, target)
    elif isinstance(t, (SequenceType, OptionalType)):
        target = tp.sequence_type if isinstance(t, SequenceType) else tp.optional_type
        target.SetInParent()
        if t.elem is not None:
            write_type_proto(t.elem, target.elem_type)
    else:
        tp.map_type.SetInParent()
        if t.key is not None:
            tp.map_type.key_type = int(t.key)
        if t.value is not None:
            write_type_proto(t.value, tp.map_type.value_type)


def to_type_proto(t: TypeLike) -> Any:
    """A new TypeProto (onnxlite's private pool) holding ``t``."""
    tp = _proto.TypeProto()
    write_type_proto(t, tp)
    return tp
