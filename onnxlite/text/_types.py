"""Node output types for the dump: the ``  # float[N,8,30,30]`` comment at the end of a node.

Two sources: ``declared`` (value_info and graph outputs only: what the file states) and
``inferred`` (`onnxlite.infer`, which keeps declared types where they agree and reports where
they contradict: the comment then shows both). The comment starts with a type (or ``?``), never
with a note keyword, so both parsers skip it. `onnxlite.infer` is imported only when a dump asks
for inferred types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from onnxlite.model import Model

__all__ = ["TypeNotes", "declared_types", "inferred_types"]

#: For one graph body: the text of each value's type (absent: unknown)
GraphTypes = dict[str, str]


class TypeNotes:
    """Per graph path (the naming rule's, "" for the main graph): value name -> type text."""

    def __init__(self, lookup: Callable[[Any, str], GraphTypes | None]) -> None:
        self._lookup = lookup

    def for_graph(self, proto: Any, path: str) -> GraphTypes | None:
        """The types of one body's values, or None when this source knows nothing of it."""
        return self._lookup(proto, path)


def note(types: GraphTypes, outputs: Sequence[str]) -> str:
    """``  # T`` (one output) or ``  # T1, T2`` for a node's outputs; ``?`` where unknown, ``_``
    for an absent optional output."""
    return "  # " + ", ".join(types.get(o, "?") if o else "_" for o in outputs)


def declared_types(type_text: Callable[[Any], str]) -> TypeNotes:
    """Types as the file declares them (value_info, graph outputs), printed by ``type_text``."""

    def lookup(proto: Any, path: str) -> GraphTypes | None:
        found: GraphTypes = {}
        if proto.DESCRIPTOR.name == "FunctionProto":
            for vi in proto.value_info:
                if vi.HasField("type") and vi.type.WhichOneof("value"):
                    found[vi.name] = type_text(vi.type)
            return found
        for vi in (*proto.value_info, *proto.output):
            if vi.HasField("type") and vi.type.WhichOneof("value"):
                found[vi.name] = type_text(vi.type)
        return found

    return TypeNotes(lookup)


def syntax_type(t: Any) -> str:
    """An inferred type as the textual syntax writes types (as the printer does for declared
    ones): ``float`` a scalar, ``float[]`` a tensor of unknown rank, ``float[N,3]``, ``?`` an
    unknown element type or an unknown type."""
    from onnxlite.infer import MapType, OptionalType, SequenceType, SparseTensorType, TensorType, format_dim

    if t is None:
        return "?"
    if isinstance(t, (TensorType, SparseTensorType)):
        dtype = t.dtype.short_name if t.dtype is not None else "?"
        shape = "[]" if t.shape is None else "[" + ",".join(map(format_dim, t.shape)) + "]" if t.shape else ""
        return f"sparse_tensor({dtype}{shape})" if isinstance(t, SparseTensorType) else dtype + shape
    if isinstance(t, SequenceType):
        return f"seq({syntax_type(t.elem)})"
    if isinstance(t, OptionalType):
        return f"optional({syntax_type(t.elem)})"
    if isinstance(t, MapType):
        return f"map({t.key.short_name if t.key is not None else '?'}, {syntax_type(t.value)})"
    return "?"


def inferred_types(model: Model, type_text: Callable[[Any], str]) -> TypeNotes:
    """Types from `onnxlite.infer` (declared ones where they agree; where the computation
    contradicts a declaration, both: ``float[N,3] (declared float[N,4])``, the declared one
    printed by ``type_text``). A model inference refuses (absurd declared types) gives no
    notes rather than an error: the dump still prints."""
    from onnxlite import infer

    try:
        result = infer.infer_types(model)
    except infer.InferError:
        return TypeNotes(lambda proto, path: None)
    conflicts: dict[str, set[str]] = {}
    for c in result.contradictions:
        conflicts.setdefault(c.graph, set()).add(c.value)
    declared = declared_types(type_text)
    cache: dict[int, tuple[Any, str]] = {}  # id(type) -> (type, text): rules share type objects
    by_path: dict[str, GraphTypes] = {}

    def lookup(proto: Any, path: str) -> GraphTypes | None:
        done = by_path.get(path)
        if done is not None:
            return done
        types = result.types.get(path)
        if types is None:
            return None
        texts = _LazyTexts(types, cache)
        if path in conflicts:
            stated = declared.for_graph(proto, path) or {}
            for value in conflicts[path]:
                if value in stated and types.get(value) is not None:
                    texts[value] = f"{texts[value]} (declared {stated[value]})"
        by_path[path] = texts
        return texts

    return TypeNotes(lookup)


class _LazyTexts(dict):  # type: ignore[type-arg]
    """value name -> type text, formatted on first use (a dump filtered down to a few nodes of a
    100k-node graph formats a few types)."""

    def __init__(self, types: dict[str, Any], cache: dict[int, tuple[Any, str]]) -> None:
        super().__init__()
        self._types = types
        self._cache = cache

    def __missing__(self, name: str) -> str:
        t = self._types.get(name)
        if t is None:
            raise KeyError(name)
        hit = self._cache.get(id(t))
        if hit is None or hit[0] is not t:
            hit = self._cache[id(t)] = (t, syntax_type(t))
        self[name] = hit[1]
        return hit[1]

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default
