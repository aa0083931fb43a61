"""The values of `onnxlite.builder`: data and value types, tensors, attributes typed from Python
values, and what the standard operator schemas and the IR versions say about built messages.

Split from builder.py along the seam between the builders (scopes, names, nodes, model assembly)
and the values they carry. This module knows nothing of the builders: GRAPH attribute values are
`Graph` views and whatever classes `register_graph_class` adds (builder.py adds GraphBuilder),
and `fill_attribute` takes the function that turns such a value into a GraphProto.

numpy and the operator table are imported on first use: importing this module stays light.
"""

from __future__ import annotations

import builtins
import difflib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from onnxlite import _proto
from onnxlite._storage.wire import MAX_DEPTH
from onnxlite.dtypes import DataType
from onnxlite.errors import EditError
from onnxlite.model import AttributeType, Graph, SparseTensor, Tensor, Type, graph_attributes

if TYPE_CHECKING:
    import numpy as np

DTypeLike: TypeAlias = "DataType | str | int | np.dtype[Any] | type"
TypeLike: TypeAlias = "DTypeLike | Type"
ShapeLike: TypeAlias = "Sequence[int | str | None] | None"
TYPE_CODES = {kind.name: int(kind) for kind in AttributeType if kind}
_FIELDS = {kind.name: str(kind.field) for kind in AttributeType if kind}
STANDARD_DOMAINS = ("", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training", "ai.onnx.training")
# The IR version that introduced each data type (onnx.proto, enum Version).
_DTYPE_IR = {dt: dt.ir_version for dt in DataType if dt.ir_version > 3}


# --- data types and value types ------------------------------------------------------------------

@functools.cache
def _dtype_names() -> dict[str, DataType]:
    names = {"str": DataType.STRING, "half": DataType.FLOAT16}
    names.update((dt.np_dtype.name, dt) for dt in DataType if dt not in (DataType.UNDEFINED, DataType.STRING))
    # ONNX spelling wins over numpy's: 'float' is float32, as in ONNX
    names.update((dt.name.lower(), dt) for dt in DataType if dt != DataType.UNDEFINED)
    return names


def data_type(dtype: Any, where: str) -> DataType:
    """A DataType from an ONNX or numpy name, a numpy dtype or scalar type, a number or a DataType."""
    if isinstance(dtype, DataType):
        return dtype
    if isinstance(dtype, str):
        found = _dtype_names().get(dtype.strip().lower())
        if found is None:
            close = difflib.get_close_matches(dtype.lower(), list(_dtype_names()), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "e.g. 'float32', 'int64', 'bfloat16'"
            raise EditError(f"{where}: unknown dtype '{dtype}'; {hint}")
        return found
    if isinstance(dtype, int) and not isinstance(dtype, bool):
        if dtype in DataType._value2member_map_ and dtype != 0:
            return DataType(dtype)
        raise EditError(f"{where}: unknown data type number {dtype}")
    if dtype is builtins.int or dtype is builtins.float:
        raise EditError(f"{where}: Python {dtype.__name__} has no ONNX width; write "
                        f"'{'int64' if dtype is builtins.int else 'float32'}' or a numpy dtype")
    import numpy as np

    from onnxlite._storage.codec import from_np_dtype

    try:
        return from_np_dtype(np.dtype(dtype))
    except (TypeError, ValueError):
        raise EditError(f"{where}: {dtype!r} is not a data type") from None


def type_proto(t: TypeLike, shape: ShapeLike, where: str, kind: str = "tensor_type") -> Any:
    """A TypeProto: a copy of a Type, or a tensor (``kind``: or sparse tensor) type."""
    proto = _proto.TypeProto()
    if isinstance(t, Type):
        if shape is not None:
            raise EditError(f"{where}: a shape goes inside the Type (tensor_type(dtype, shape)), not after")
        proto.CopyFrom(t.proto)
        return proto
    inner = getattr(proto, kind)
    inner.elem_type = data_type(t, where)
    if shape is None:
        return proto
    if isinstance(shape, (str, bytes, int)):
        raise EditError(f"{where}: shape must be a list of dims, got {shape!r}")
    inner.shape.SetInParent()  # [] is a scalar, not an unknown rank
    for d in shape:
        dim = inner.shape.dim.add()
        if isinstance(d, str) and d:
            dim.dim_param = d
        elif isinstance(d, int) and not isinstance(d, bool) and d >= 0:
            dim.dim_value = d
        elif d is not None:
            raise EditError(f"{where}: dim {d!r} in shape {list(shape)}: use an int >= 0, a name or None")
    return proto


def tensor_type(dtype: DTypeLike, shape: ShapeLike = None) -> Type:
    """A tensor type; dims are ints, symbolic names or None (unknown); ``shape=None`` is unranked.

    >>> str(tensor_type("float32", ["N", 3, None]))
    'float[N,3,?]'
    """
    return Type(type_proto(dtype, shape, "tensor_type"))


def sparse_tensor_type(dtype: DTypeLike, shape: ShapeLike = None) -> Type:
    """A sparse tensor type: ``str(sparse_tensor_type("int8", [4]))`` is ``'sparse_tensor(int8[4])'``."""
    return Type(type_proto(dtype, shape, "sparse_tensor_type", "sparse_tensor_type"))


def sequence_type(elem: TypeLike) -> Type:
    """A sequence of ``elem`` (a Type, or a dtype meaning tensors of that dtype).

    >>> str(sequence_type("int64"))
    'sequence(int64)'
    """
    proto = _proto.TypeProto()
    proto.sequence_type.elem_type.CopyFrom(type_proto(elem, None, "sequence_type"))
    return Type(proto)


def optional_type(elem: TypeLike) -> Type:
    """An optional ``elem``: ``str(optional_type("bool"))`` is ``'optional(bool)'``."""
    proto = _proto.TypeProto()
    proto.optional_type.elem_type.CopyFrom(type_proto(elem, None, "optional_type"))
    return Type(proto)


def map_type(key: DTypeLike, value: TypeLike) -> Type:
    """A map from ``key`` (an integer or string dtype) to ``value``.

    >>> str(map_type("int64", "float32"))
    'map(int64, float)'
    """
    proto = _proto.TypeProto()
    proto.map_type.key_type = data_type(key, "map_type key")
    proto.map_type.value_type.CopyFrom(type_proto(value, None, "map_type value"))
    return Type(proto)


def tensor_type_of(tensor: Any, kind: str = "tensor_type") -> Any:
    return type_proto(DataType(tensor.data_type), list(tensor.dims), "tensor", kind)


# --- tensors ---------------------------------------------------------------------------------------

def tensor_proto(value: Any, dtype: DTypeLike | None, where: str) -> Any:
    """A new TensorProto holding ``value``: a numpy array or scalar, an onnxlite Tensor, or Python
    numbers / strings / nested lists (ints are int64 and floats float32 unless ``dtype`` says)."""
    import numpy as np

    target = None if dtype is None else data_type(dtype, where)
    if isinstance(value, Tensor):
        if target is not None and target != value.dtype:
            raise EditError(f"{where}: the tensor is {value.dtype.short_name}, not {target.short_name}")
        if value.location in ("raw", "typed"):
            proto = _proto.TensorProto()
            proto.CopyFrom(value.proto)
            return proto
        value = value.numpy()  # in a file: decoded, so that the new model owns its bytes
    try:
        if isinstance(value, (np.ndarray, np.generic)):
            arr = value if target is None else value.astype(target.np_dtype)
        elif target is not None:
            arr = np.asarray(value, dtype=target.np_dtype)
        else:
            arr = np.asarray(value)
            if arr.dtype.kind in "US":
                arr = arr.astype(object)
            elif arr.size == 0 or arr.dtype.kind == "O":
                raise EditError(f"{where}: cannot tell the dtype of {value!r}; pass dtype=")
            else:
                wide = {"i": np.int64, "f": np.float32, "c": np.complex64}  # numpy's defaults are 64-bit
                arr = arr.astype(wide.get(arr.dtype.kind, arr.dtype))
        return Tensor.from_numpy(arr).proto
    except (TypeError, ValueError, OverflowError) as e:
        if isinstance(e, EditError):
            raise
        raise EditError(f"{where}: cannot make a tensor of {type(value).__name__}: {e}") from None


def sparse_tensor(values: Any, indices: Any, dims: Sequence[int], *, dtype: DTypeLike | None = None,
                  name: str = "") -> SparseTensor:
    """A sparse tensor: ``values`` at ``indices`` ([NNZ] linear or [NNZ, rank]) in the shape ``dims``.

    >>> sparse_tensor([5.0], [3], [2, 2]).numpy().tolist()
    [[0.0, 0.0], [0.0, 5.0]]
    """
    proto = _proto.SparseTensorProto()
    proto.values.CopyFrom(tensor_proto(values, dtype, "sparse_tensor values"))
    proto.values.name = name
    proto.indices.CopyFrom(tensor_proto(indices, "int64", "sparse_tensor indices"))
    proto.dims.extend(int(d) for d in dims)
    return SparseTensor(proto)


# --- attributes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttrValue:
    """An attribute value with its ONNX type spelled out (made by `attr`)."""

    type: str   # 'INT', 'FLOATS', 'GRAPH'...
    value: Any  # the checked payload: int, float, bytes, TensorProto, TypeProto, a graph, or a list


@dataclass(frozen=True)
class AttrRef:
    """Inside a function: "the function's attribute ``name``" (from `attr.ref` or
    `FunctionBuilder.attribute`). ``type`` may be None where the op's schema tells it."""

    name: str
    type: str | None = None


def _int(v: Any, where: str) -> int:
    if isinstance(v, float) or not hasattr(v, "__index__"):
        raise EditError(f"{where}: expected an int, got {type(v).__name__} {v!r}")
    return int(v.__index__())


def _float(v: Any, where: str) -> float:
    if isinstance(v, (str, bytes)) or not hasattr(v, "__float__"):
        raise EditError(f"{where}: expected a float, got {type(v).__name__} {v!r}")
    return float(v)


def _string(v: Any, where: str) -> bytes:
    if not isinstance(v, (str, bytes)):
        raise EditError(f"{where}: expected str or bytes, got {type(v).__name__}")
    return v.encode("utf-8") if isinstance(v, str) else v


def _instance(classes: Sequence[type]) -> Callable[[Any, str], Any]:
    """A check that a value is of one of ``classes`` (read at each call: see `register_graph_class`)."""
    def check(v: Any, where: str) -> Any:
        if not isinstance(v, tuple(classes)):
            wanted = " or ".join(c.__name__ for c in classes)
            raise EditError(f"{where}: expected {wanted}, got {type(v).__name__}")
        return v.proto if isinstance(v, SparseTensor) else v
    return check


# The classes of GRAPH values: Graph views, and those `register_graph_class` adds.
_GRAPH_CLASSES: list[type] = [Graph]


def register_graph_class(cls: type) -> None:
    """Accept ``cls`` objects as GRAPH attribute values (after the ones registered before).
    `onnxlite.builder` registers GraphBuilder, which this module cannot import (the builder
    imports it); `fill_attribute` is given the function that makes their GraphProto."""
    if cls not in _GRAPH_CLASSES:
        _GRAPH_CLASSES.append(cls)


#: Attribute type -> check and convert one value: ``CONVERT["INT"](value, where)``.
CONVERT: dict[str, Callable[[Any, str], Any]] = {
    "INT": _int, "FLOAT": _float, "STRING": _string, "SPARSE_TENSOR": _instance([SparseTensor]),
    "TENSOR": lambda v, where: tensor_proto(v, None, where),
    "TYPE_PROTO": lambda v, where: type_proto(v, None, where), "GRAPH": _instance(_GRAPH_CLASSES),
}


class _AttrFactory:
    """Explicit attribute forms, for empty lists and values whose Python type says too little::

        g.op("Foo", x, domain="my", sizes=attr.ints([]), scale=attr.floats([1, 2]))
        f.op("LeakyRelu", x, alpha=attr.ref("alpha", "FLOAT"))      # inside a FunctionBuilder
    """

    def _one(self, kind: str, value: Any) -> AttrValue:
        return AttrValue(kind, CONVERT[kind](value, f"attr.{kind.lower()}"))

    def _many(self, kind: str, values: Iterable[Any]) -> AttrValue:
        where = f"attr.{kind.lower()}s"
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise EditError(f"{where}: expected a list, got {type(values).__name__}")
        return AttrValue(kind + "S", [CONVERT[kind](v, f"{where}[{i}]") for i, v in enumerate(values)])

    def int(self, value: builtins.int) -> AttrValue:
        return self._one("INT", value)

    def float(self, value: builtins.float) -> AttrValue:
        return self._one("FLOAT", value)

    def string(self, value: str | bytes) -> AttrValue:
        return self._one("STRING", value)

    def tensor(self, value: Any, dtype: DTypeLike | None = None) -> AttrValue:
        """A TENSOR from an array, a Tensor or Python values: ``attr.tensor(1, "int8")``."""
        return AttrValue("TENSOR", tensor_proto(value, dtype, "attr.tensor"))

    def graph(self, value: Any) -> AttrValue:
        """A GRAPH: a `Graph` view or a `onnxlite.builder.GraphBuilder`."""
        return self._one("GRAPH", value)

    def sparse_tensor(self, value: SparseTensor) -> AttrValue:
        return self._one("SPARSE_TENSOR", value)

    def type(self, value: TypeLike, shape: ShapeLike = None) -> AttrValue:
        """A TYPE_PROTO: ``attr.type("float16", [2])`` or ``attr.type(sequence_type("int64"))``."""
        return AttrValue("TYPE_PROTO", type_proto(value, shape, "attr.type"))

    def ints(self, values: Iterable[builtins.int]) -> AttrValue:
        return self._many("INT", values)

    def floats(self, values: Iterable[builtins.float]) -> AttrValue:
        return self._many("FLOAT", values)

    def strings(self, values: Iterable[str | bytes]) -> AttrValue:
        return self._many("STRING", values)

    def tensors(self, values: Iterable[Any]) -> AttrValue:
        return self._many("TENSOR", values)

    def graphs(self, values: Iterable[Any]) -> AttrValue:
        return self._many("GRAPH", values)

    def sparse_tensors(self, values: Iterable[SparseTensor]) -> AttrValue:
        return self._many("SPARSE_TENSOR", values)

    def types(self, values: Iterable[TypeLike]) -> AttrValue:
        return self._many("TYPE_PROTO", values)

    def ref(self, name: str, type: str | None = None) -> AttrRef:
        """The enclosing function's attribute ``name``; ``type`` ('FLOAT', 'INTS'...) may be left
        out where the function's declaration or the operator's schema tells it."""
        if type is not None and type.upper() not in TYPE_CODES:
            raise EditError(f"attr.ref '{name}': unknown attribute type '{type}'; e.g. 'INT', 'FLOATS'")
        return AttrRef(name, None if type is None else type.upper())


#: Explicit attribute forms: ``attr.ints([])``, ``attr.floats([1, 2])``, ``attr.ref("alpha", "FLOAT")``...
attr = _AttrFactory()


def _python_kind(value: Any) -> str | None:
    """The attribute type a plain Python value stands for, or None."""
    import numpy as np

    kinds: list[tuple[Any, str]] = [
        ((bool, int, np.integer, np.bool_), "INT"), ((float, np.floating), "FLOAT"), ((str, bytes), "STRING"),
        ((np.ndarray, Tensor), "TENSOR"), (tuple(_GRAPH_CLASSES), "GRAPH"), (SparseTensor, "SPARSE_TENSOR"),
        (Type, "TYPE_PROTO")]
    return next((kind for classes, kind in kinds if isinstance(value, classes)), None)


def attr_value(value: Any, expected: str | None, where: str) -> AttrValue:
    """Type a Python value as an attribute: as ``expected`` (the schema's type) says when known,
    converting losslessly (1 -> 1.0 for a FLOAT), else from the Python type."""
    if isinstance(value, AttrValue):
        if expected is not None and value.type != expected:
            raise EditError(f"{where}: expects {expected}, got {value.type}")
        return value
    if isinstance(value, (list, tuple)) and not value:
        form = f"attr.{expected.lower()}([])" if expected else "attr.ints([]) (or attr.floats([])...)"
        raise EditError(f"{where}: an empty list has no attribute type; write {form}")
    if expected is not None and expected.endswith("S"):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise EditError(f"{where}: expects {expected}, a list, got {type(value).__name__} {value!r}")
        items = [CONVERT[expected[:-1]](v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not items:  # an empty array
            raise EditError(f"{where}: an empty list has no attribute type; use attr.{expected.lower()}([])")
        return AttrValue(expected, items)
    if expected is not None:
        return AttrValue(expected, CONVERT[expected](value, where))
    if isinstance(value, (list, tuple)):
        kinds = {_python_kind(v) for v in value}
        kinds = {"FLOAT"} if kinds == {"INT", "FLOAT"} else kinds  # [1, 0.5] is a list of floats
        if len(kinds) != 1 or None in kinds:
            found = " and ".join(sorted(k or "other" for k in kinds))
            raise EditError(f"{where}: a list of {found} values has no attribute type; spell it with attr")
        item = str(kinds.pop())
        return AttrValue(f"{item}S", [CONVERT[item](v, f"{where}[{i}]") for i, v in enumerate(value)])
    kind = _python_kind(value)
    if kind is None:
        raise EditError(f"{where}: {type(value).__name__} is not an attribute value; see builder.attr")
    return AttrValue(kind, CONVERT[kind](value, where))


def fill_attribute(proto: Any, key: str, value: Any, expected: str | None, where: str,
                   graph_proto: Callable[[Any, str], Any]) -> list[Any]:
    """Fill AttributeProto ``proto`` with ``value`` typed by `attr_value`; ``graph_proto(item, where)``
    gives the GraphProto of each GRAPH item. Returns the GRAPH items that are not `Graph` views."""
    proto.name = key
    av = attr_value(value, expected, where)
    proto.type = TYPE_CODES[av.type]
    items = list(av.value) if av.type.endswith("S") else [av.value]
    others = []
    if av.type in ("GRAPH", "GRAPHS"):
        others = [g for g in items if not isinstance(g, Graph)]
        items = [graph_proto(g, where) for g in items]
    field = _FIELDS[av.type]
    if av.type in ("INTS", "FLOATS", "STRINGS"):
        getattr(proto, field).extend(items)
    elif av.type.endswith("S"):
        copy_into(getattr(proto, field), items)
    elif av.type in ("INT", "FLOAT", "STRING"):
        setattr(proto, field, items[0])
    else:
        getattr(proto, field).CopyFrom(items[0])
    return others


def refuse_unknown(op_label: str, key: str, known: Mapping[str, Any], where: str) -> None:
    """Raise unless ``known`` (the op's attributes) has ``key``; says which name was meant."""
    if key not in known:
        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"it has {sorted(known) or 'none'}"
        raise EditError(f"{where}: {op_label} has no attribute '{key}'; {hint}")


# --- operator schemas ------------------------------------------------------------------------------

@functools.cache
def schema_table() -> dict[tuple[str, str], list[Any]]:
    """(domain, op) -> every version's `onnxlite.versions.Schema`, oldest first: the one reader of
    the generated table (imported on first use: it takes ~80 ms)."""
    from onnxlite import versions

    return {key: list(versions.schema_history(*key)) for key in versions.operators()}


def latest_opset(domain: str) -> int | None:
    """The newest opset of a standard ``domain`` this onnxlite knows (None for other domains)."""
    from onnxlite._proto.opschemas import LATEST_OPSET

    return LATEST_OPSET.get(domain)


def attribute_types(schema: Any) -> dict[str, str | None]:
    """Attribute name -> type name ('INT', 'FLOATS'...) of a schema entry (see `schema_at`)."""
    return {name: AttributeType.name_of(code) if code else None for name, (code, _) in schema[6].items()}


@functools.cache
def schema_attributes() -> dict[tuple[str, str], dict[str, str | None]]:
    """(domain, op) -> attribute name -> type name, over all versions of the op."""
    return {key: {name: kind for schema in schemas for name, kind in attribute_types(schema).items()}
            for key, schemas in schema_table().items()}


def schema_at(domain: str, op_type: str, version: int) -> Any:
    """The schema entry of ``op_type`` in force at opset ``version``; None where the op is newer
    (or no standard op). Entries are (since_version, deprecated, min_inputs, max_inputs,
    min_outputs, max_outputs, {attribute: (type code, required)})."""
    return max((e for e in schema_table().get((domain, op_type), ()) if e[0] <= version),
               key=lambda e: e[0], default=None)


def schema_of(op_type: str, domain: str, opset: Any, where: str) -> tuple[int, Any]:
    """(version, schema entry) of a node at ``opset`` of its domain (None: the newest known);
    (0, None) outside the standard domains. Refuses an opset or op this onnxlite does not know."""
    if opset is not None and (not isinstance(opset, int) or isinstance(opset, bool) or opset < 1):
        raise EditError(f"{where}: opset must be an int >= 1, got {opset!r}")
    if domain not in STANDARD_DOMAINS:
        return 0, None
    latest = latest_opset(domain) or 1
    version = latest if opset is None else opset
    if version > latest:
        raise EditError(f"{where}: opset {version} of domain '{domain or 'ai.onnx'}' is newer than this "
                        f"onnxlite knows ({latest}); pass an older opset=")
    standard_attributes(op_type, domain, where, version)  # refuses an op missing at this version
    return version, schema_at(domain, op_type, version)


def standard_attributes(op_type: str, domain: str, where: str,
                        version: int | None = None) -> dict[str, str | None] | None:
    """Attribute name -> type name of a standard op, at opset ``version`` (None: any version);
    None for a domain that is not a standard one. Refuses an op the domain does not have (at
    ``version``)."""
    if domain not in STANDARD_DOMAINS:
        return None
    table = schema_attributes()
    if (domain, op_type) not in table:
        close = difflib.get_close_matches(op_type, [op for d, op in table if d == domain], n=1)
        hint = f"did you mean '{close[0]}'?" if close else "pass domain= for a custom operator"
        raise EditError(f"{where}: '{op_type}' is no operator of the {domain or 'ONNX'} domain; {hint}")
    if version is None:
        return table[(domain, op_type)]
    schema = schema_at(domain, op_type, version)
    if schema is None:
        first = schema_table()[(domain, op_type)][0][0]
        raise EditError(f"{where}: {op_type} needs opset {first} or newer of domain "
                        f"'{domain or 'ai.onnx'}', not {version}")
    return attribute_types(schema)


def opset_versions(domains: Iterable[str], opset: int, explicit: Mapping[str, int]) -> dict[str, int]:
    """Opset versions by domain: explicit ones, else ai.onnx.ml of the release of ``opset``, else 1."""
    from onnxlite._proto.opschemas import OPSET_IR

    ir = OPSET_IR[""].get(opset, max(OPSET_IR[""].values()))
    ml = max(v for v, need in OPSET_IR["ai.onnx.ml"].items() if need <= ir)
    versions = {"": opset}
    for d in domains:
        versions.setdefault(d, explicit.get(d, ml if d == "ai.onnx.ml" else 1))
    return versions


def opsets_ir(versions: Mapping[str, int], where: str, known_only: bool) -> tuple[int, str]:
    """The IR version opset imports need, and why; ``known_only`` refuses an opset of a standard
    domain newer than this onnxlite knows (whose IR version it cannot tell)."""
    from onnxlite._proto.opschemas import LATEST_OPSET, OPSET_IR

    need, why = 3, "opset imports"
    for d, v in versions.items():
        table = OPSET_IR.get(d, {})
        if table and v not in table and known_only:
            raise EditError(f"{where}: opset {v} of domain '{d or 'ai.onnx'}' is newer than this "
                            f"onnxlite knows ({LATEST_OPSET.get(d)}); pass ir_version=")
        if table.get(v, 0) > need:
            need, why = table[v], f"opset {v} of domain '{d or 'ai.onnx'}'"
    return need, why


# --- built messages ----------------------------------------------------------------------------------

def value_names(values: Any, what: str, where: str) -> list[str]:
    """A node's ``what`` ('inputs', 'outputs'): a list of str ('' for an omitted optional one);
    an output name may not be given twice."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise EditError(f"{where}: {what} must be a list of value names, got {values!r}")
    names = list(values)
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise EditError(f"{where}: {what}[{i}] must be a value name (str), got {n!r}")
        if what == "outputs" and n and n in names[:i]:
            raise EditError(f"{where}: output '{n}' is given twice")
    return names


def copy_into(field: Any, messages: Iterable[Any]) -> None:
    # Not field.extend(): that goes through the parser, which refuses subgraphs nested ~30 deep.
    for message in messages:
        field.add().CopyFrom(message)


def set_strings(proto: Any, **fields: str) -> None:
    for key, value in fields.items():  # only what is given: an empty string field is still written
        if value:
            setattr(proto, key, value)


def set_metadata(proto: Any, metadata: Mapping[str, str] | None, where: str) -> None:
    items = list((metadata or {}).items())
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, str):
            raise EditError(f"{where}: metadata keys and values must be str, got {key!r}: {value!r}")
    for key, value in items:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


def walk(nodes: Iterable[Any], where: str) -> Iterator[tuple[Any, str]]:
    """Every node (with its path) of ``nodes`` and of the graphs their attributes hold; iterative."""
    stack = [(n, where) for n in reversed(list(nodes))]
    while stack:
        node, at = stack.pop()
        here = f"{at}.node '{node.name}' ({node.op_type})"
        yield node, here
        for name, _, g in reversed(list(graph_attributes(node))):
            stack.extend((n, f"{here}.{name}") for n in reversed(g.node))


def check_node(node: Any, at: str, schema: Any) -> None:
    """A NodeProto against the ``schema`` entry (from `schema_at`) of its op: not deprecated, as
    many inputs and outputs as it takes, known attributes, the required ones present."""
    since, deprecated, min_in, max_in, min_out, max_out, attributes = schema[:7]
    label = f"{node.op_type}-{since}"
    if deprecated:
        raise EditError(f"{at}: {node.op_type} is deprecated since opset {since}")
    for what, count, low, high in (("inputs", len(node.input), min_in, max_in),
                                   ("outputs", len(node.output), min_out, max_out)):
        if not low <= count <= high:
            span = low if low == high else f"{low} or more" if high >= 2**31 - 1 else f"{low} to {high}"
            raise EditError(f"{at}: {label} takes {span} {what}, got {count}")
    for a in node.attribute:
        if a.name not in attributes:
            raise EditError(f"{at}: {label} has no attribute '{a.name}' (it has {sorted(attributes)})")
    given = {a.name for a in node.attribute}
    missing = sorted(n for n, (_, required) in attributes.items() if required and n not in given)
    if missing:
        raise EditError(f"{at}: {label} needs attribute '{missing[0]}'")


def validate_nodes(nodes: Iterable[Any], where: str, versions: Mapping[str, int],
                   local: set[tuple[str, str]], model: Mapping[str, int]) -> None:
    """Each standard op of ``nodes`` and their subgraphs against its schema at the imported
    version (and, in a function, the same schema as at the model's version, as onnx requires)."""
    schemas = schema_table()
    for node, at in walk(nodes, where):
        key, version = (node.domain, node.op_type), versions.get(node.domain)
        if key not in schemas or version is None or key in local:
            continue
        schema = schema_at(*key, version)
        if schema is None:
            raise EditError(f"{at}: {node.op_type} needs opset {schemas[key][0][0]} or newer of domain "
                            f"'{node.domain or 'ai.onnx'}'; the model imports {version}")
        theirs = schema_at(*key, model[node.domain])
        if theirs is not schema:
            raise EditError(f"{at}: the function imports opset {version} and the model {model[node.domain]}, "
                            f"where {node.op_type} differs ({schema[0]} vs {theirs and theirs[0]}); "
                            "give both the same opset")
        check_node(node, at, schema)


# Messages whose presence needs an IR version, and the field that marks them (onnx.proto, enum Version).
_MESSAGE_IR = {"SparseTensorProto": (6, "sparse tensors"), "FunctionProto": (8, "model-local functions"),
               "Optional": (8, "optional types"), "SparseTensor": (8, "sparse tensor types")}
_FIELD_IR = {"initializer": (4, "initializers that are not graph inputs"),
             "attribute_proto": (9, "function attribute defaults"), "overload": (10, "overloads"),
             "metadata_props": (10, "metadata on graphs, nodes and values")}


def features_ir(model: Any) -> tuple[int, str]:
    """The IR version the model's contents need (data types, functions, metadata...), and why.
    Refuses a model nested deeper than protobuf readers accept."""
    need, why = 0, ""
    stack = [(f, "FunctionProto", 1) for f in model.functions] + [(model.graph, "GraphProto", 1)]
    while stack:
        message, kind, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EditError(f"the model nests messages more than {MAX_DEPTH} deep (subgraphs in "
                            "subgraphs...); protobuf readers refuse it")
        found = [_MESSAGE_IR.get(kind, (0, ""))]
        if kind in ("TensorProto", "Tensor", "SparseTensor"):  # TypeProto.Tensor: elem_type
            code = message.data_type if kind == "TensorProto" else message.elem_type
            if code in _DTYPE_IR:
                found.append((_DTYPE_IR[code], f"{DataType(code).name} values"))
        for field, value in message.ListFields():
            found.append(_FIELD_IR.get(field.name, (0, "")))
            if field.message_type is not None:
                items = value if not hasattr(value, "ListFields") else [value]
                stack.extend((item, field.message_type.name, depth + 1) for item in items)
        for version, reason in found:
            if version > need:
                need, why = version, reason
    return need, why
