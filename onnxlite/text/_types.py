"""Node output types for the dump: the ``  # float[N,8,30,30]`` comment at the end of a node.

Two sources: ``declared`` (value_info and graph outputs only: what the file states) and
``inferred`` (`onnxlite.infer`, which keeps declared types where they agree and reports where
they contradict: the comment then shows both). The comment starts with a type (or ``?``), never
with a note keyword, so both parsers skip it. `onnxlite.infer` is imported only when a dump asks
for inferred types.
"""

from __future__ import annotations

import functools
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

    def note_for(self, proto: Any, path: str) -> Callable[[Sequence[str]], str] | None:
        """The function giving a node's type comment from its output names, for the nodes of
        one body, or None when this source knows nothing of it (no comments)."""
        types = self._lookup(proto, path)
        if types is None:
            return None
        return functools.partial(note, types)

    def body_notes(self, path: str, proto_of: Callable[[str], Any]) -> list[str] | None:
        """The type comment of every node of one body, in node order (None: no comments);
        ``proto_of(path)`` gives the body's proto."""
        proto = proto_of(path)
        types = self._lookup(proto, path)
        if types is None:
            return None
        return [note(types, n.output[:]) for n in proto.node]


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
    source = _Inferred(lambda proto, path: lookup(proto, path))
    source.fast = lambda path: None if path in conflicts else _fast_notes(result.types.get(path),
                                                                           result.node_outputs.get(path))

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

    return source


class _Inferred(TypeNotes):
    """Inferred types; the comments of a whole body come from the inference's own record of
    each node's outputs (the dump of a 100k-node graph reads no node twice)."""

    fast: Callable[[str], list[str] | None]

    def body_notes(self, path: str, proto_of: Callable[[str], Any]) -> list[str] | None:
        found = self.fast(path)
        return found if found is not None else super().body_notes(path, proto_of)


def _fast_notes(types: dict[str, Any] | None, outputs: list[list[str]] | None) -> list[str] | None:
    """The comments of a body's nodes from the types and the output names recorded by the
    inference, each distinct type formatted once; None when either is missing."""
    if types is None or outputs is None:
        return None
    get = types.get
    texts: dict[int, str] = {}  # id(type) -> comment; ``types`` keeps the objects alive
    notes = []
    for outs in outputs:
        if len(outs) == 1 and outs[0]:
            t = get(outs[0])
            text = texts.get(id(t))
            if text is None:
                text = texts[id(t)] = "  # " + syntax_type(t)
            notes.append(text)
        else:
            notes.append("  # " + ", ".join(syntax_type(get(o)) if o else "_" for o in outs))
    return notes


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
