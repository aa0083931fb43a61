"""Closed sets shared by every layer above storage: attribute types and operator domains.

One table per fact (STYLE 4b): ``AttributeType`` says which AttributeProto field holds a value
and how list and element types relate; ``normalize_domain`` is the one place that knows
'ai.onnx' and '' name the same domain.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

__all__ = ["DEFAULT_DOMAINS", "AttributeType", "domain_label", "is_default_domain", "normalize_domain",
           "opset_version"]


class AttributeType(enum.IntEnum):
    """``AttributeProto.AttributeType``: the number stored in ``AttributeProto.type``.

    >>> AttributeType.INTS.field, AttributeType.INTS.element, AttributeType.GRAPH.list_type
    ('ints', <AttributeType.INT: 2>, <AttributeType.GRAPHS: 10>)
    >>> print(AttributeType(5)), AttributeType.GRAPHS.holds_graphs, AttributeType.FLOATS.is_list
    GRAPH
    (None, True, True)
    """

    UNDEFINED = 0
    FLOAT = 1
    INT = 2
    STRING = 3
    TENSOR = 4
    GRAPH = 5
    FLOATS = 6
    INTS = 7
    STRINGS = 8
    TENSORS = 9
    GRAPHS = 10
    SPARSE_TENSOR = 11
    SPARSE_TENSORS = 12
    TYPE_PROTO = 13
    TYPE_PROTOS = 14

    def __str__(self) -> str:
        return self.name

    @property
    def field(self) -> str | None:
        """The AttributeProto field holding a value of this type (None for UNDEFINED)."""
        return _FIELDS[self]

    @property
    def is_list(self) -> bool:
        """Whether the value is a repeated field (FLOATS, INTS, ..., TYPE_PROTOS)."""
        return self in _ELEMENT

    @property
    def element(self) -> AttributeType:
        """The type of one element: INT for INTS; a scalar type is its own element."""
        return _ELEMENT.get(self, self)

    @property
    def list_type(self) -> AttributeType | None:
        """The list type of this element type: INTS for INT (None for lists and UNDEFINED)."""
        return _LIST.get(self)

    @property
    def holds_graphs(self) -> bool:
        """GRAPH or GRAPHS: the attribute carries subgraphs."""
        return self in (AttributeType.GRAPH, AttributeType.GRAPHS)

    @classmethod
    def is_known(cls, code: int) -> bool:
        """Whether ``code`` is a type number this schema knows."""
        return code in _KNOWN

    @classmethod
    def name_of(cls, code: int, default: str | None = None) -> str:
        """The name of a type number, ``default`` (or ``UNKNOWN(code)``) for a number this
        schema does not know (files from newer schemas may carry one)."""
        try:
            return cls(code).name
        except ValueError:
            return default if default is not None else f"UNKNOWN({code})"

    @classmethod
    def of(cls, attribute: object) -> AttributeType:
        """The type of an AttributeProto: its ``type`` field, or for old files that leave it
        unset, the field that holds a value (UNDEFINED when none does)."""
        code = getattr(attribute, "type", 0)
        if code:
            try:
                return cls(code)
            except ValueError:
                return cls.UNDEFINED
        for kind, name in _FIELDS.items():
            if name is None:
                continue
            if kind.is_list:
                if len(getattr(attribute, name)):
                    return kind
            elif attribute.HasField(name):  # type: ignore[attr-defined]
                return kind
        return cls.UNDEFINED


_A = AttributeType
_FIELDS: dict[AttributeType, str | None] = {
    _A.UNDEFINED: None, _A.FLOAT: "f", _A.INT: "i", _A.STRING: "s", _A.TENSOR: "t", _A.GRAPH: "g",
    _A.SPARSE_TENSOR: "sparse_tensor", _A.TYPE_PROTO: "tp",
    _A.FLOATS: "floats", _A.INTS: "ints", _A.STRINGS: "strings", _A.TENSORS: "tensors", _A.GRAPHS: "graphs",
    _A.SPARSE_TENSORS: "sparse_tensors", _A.TYPE_PROTOS: "type_protos",
}
_ELEMENT: dict[AttributeType, AttributeType] = {
    _A.FLOATS: _A.FLOAT, _A.INTS: _A.INT, _A.STRINGS: _A.STRING, _A.TENSORS: _A.TENSOR, _A.GRAPHS: _A.GRAPH,
    _A.SPARSE_TENSORS: _A.SPARSE_TENSOR, _A.TYPE_PROTOS: _A.TYPE_PROTO,
}
_LIST: dict[AttributeType, AttributeType] = {element: kind for kind, element in _ELEMENT.items()}
del _A
_KNOWN = frozenset(int(kind) for kind in AttributeType)


#: The names of the default ONNX operator domain: '' as files write it, and its alias.
DEFAULT_DOMAINS = ("", "ai.onnx")
_ALIASES = {"ai.onnx": ""}


def normalize_domain(domain: str) -> str:
    """The canonical name of an operator domain ('ai.onnx' and '' are the same domain).

    >>> normalize_domain("ai.onnx"), normalize_domain("com.microsoft")
    ('', 'com.microsoft')
    """
    return _ALIASES.get(domain, domain)


def is_default_domain(domain: str) -> bool:
    """Whether ``domain`` names the default ONNX domain ('' or 'ai.onnx')."""
    return domain in DEFAULT_DOMAINS


def domain_label(domain: str) -> str:
    """How reports name a domain: 'ai.onnx' for the default one (which files write as '')."""
    return "ai.onnx" if domain in DEFAULT_DOMAINS else domain


def opset_version(imports: Mapping[str, int], domain: str) -> int | None:
    """The version ``imports`` (domain -> version, as opset_import lists it) gives ``domain``,
    whichever of the default domain's two spellings either side uses; None when not imported.

    >>> opset_version({"ai.onnx": 17}, ""), opset_version({"": 17}, "ai.onnx"), opset_version({}, "x")
    (17, 17, None)
    """
    key = normalize_domain(domain)
    version = imports.get(key)
    if version is None and key == "":
        version = imports.get("ai.onnx")
    return version
