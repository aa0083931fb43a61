"""Types of values for edits that must not change them: what the model declares, else what
`onnxlite.infer` finds. Inference runs only when a declaration is missing (and once per edit)."""

from __future__ import annotations

import itertools
from typing import Any

from onnxlite.model import Function, Graph, graph_path

__all__ = ["complete", "differ", "inferred_type", "type_text", "value_type"]


def _fresh() -> Any:
    from onnxlite.infer import symbol

    counter = itertools.count()
    return lambda: symbol(f"unk_{next(counter)}")


def declared_type(scope: Graph | Function, name: str) -> Any:
    """The inferred-style type (`onnxlite.infer.TypeLike`) the graph, or an enclosing one,
    declares for ``name`` (input, output, value_info, initializer), or None."""
    from onnxlite.edit._edit import _known_type
    from onnxlite.infer import from_type_proto

    if not isinstance(scope, Graph):
        return None
    tp = _known_type(scope, name)
    if tp is None:
        return None
    try:
        return from_type_proto(tp, _fresh())
    except ValueError:  # an absurd declaration: as good as none
        return None


class Inferred:
    """Inference of a scope's model, run on first use."""

    def __init__(self, scope: Graph | Function) -> None:
        self.scope = scope
        self._result: Any = None
        self._ran = False

    def type_of(self, name: str) -> Any:
        if not isinstance(self.scope, Graph) or self.scope.model is None:
            return None  # functions are inferred per call: no single type
        if not self._ran:
            self._ran = True
            from onnxlite.infer import InferError, infer_types

            try:
                self._result = infer_types(self.scope.model)
            except InferError:
                self._result = None
        if self._result is None:
            return None
        graph: Graph | None = self.scope
        while graph is not None:  # the innermost graph defining the name
            types = self._result.types.get(graph_path(graph))
            if types is not None and name in types:
                return types[name]
            graph = graph.parent
        return None


def inferred_type(scope: Graph | Function, name: str) -> Any:
    """What `onnxlite.infer` finds for ``name`` as ``scope`` sees it (None when unknown)."""
    return Inferred(scope).type_of(name)


def value_type(scope: Graph | Function, name: str, inferred: Inferred | None = None) -> Any:
    """The declared type of ``name``, else the inferred one (None when neither is known)."""
    t = declared_type(scope, name)
    if complete(t):
        return t
    found = (inferred or Inferred(scope)).type_of(name)
    return found if found is not None else t


def complete(t: Any) -> bool:
    """Whether a type can be written as a graph output's: its element types are known (dims may
    be unknown)."""
    from onnxlite.infer import MapType, OptionalType, SequenceType

    if t is None:
        return False
    if isinstance(t, (SequenceType, OptionalType)):
        return complete(t.elem)
    if isinstance(t, MapType):
        return t.key is not None and complete(t.value)
    return getattr(t, "dtype", None) is not None


def differ(a: Any, b: Any) -> bool:
    """True when two types are known to differ: kind, element type, rank or a dim both give as a
    number. Unknown parts (None, symbols) never differ."""
    from onnxlite.infer import MapType, OptionalType, SequenceType, SparseTensorType, TensorType

    if a is None or b is None:
        return False
    if type(a) is not type(b):
        return True
    if isinstance(a, (TensorType, SparseTensorType)):
        if a.dtype is not None and b.dtype is not None and a.dtype != b.dtype:
            return True
        if a.shape is None or b.shape is None:
            return False
        if len(a.shape) != len(b.shape):
            return True
        return any(isinstance(x, int) and isinstance(y, int) and x != y
                   for x, y in zip(a.shape, b.shape, strict=True))
    if isinstance(a, (SequenceType, OptionalType)):
        return differ(a.elem, b.elem)
    if isinstance(a, MapType):
        return (a.key is not None and b.key is not None and a.key != b.key) or differ(a.value, b.value)
    return False


def type_text(t: Any) -> str:
    from onnxlite.infer import format_type

    return format_type(t)
