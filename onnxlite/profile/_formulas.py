"""The cost-formula registry: one formula per (domain, op type), and the view of a node it reads.

A formula gets an `OpView` (input/output types, attributes, the tensors it reads) and returns a
`Cost` (MACs and FLOPs as dims: ints or symbolic `Expr`). It raises `NotCounted` with a reason when
the shapes it needs are unknown. The convention (docs/profile.md): MACs count multiply-accumulates;
FLOPs are 2 x MACs for multiply-add ops plus the elementwise work of the op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from onnxlite.infer import Dim, TensorType, TypeLike, format_type
from onnxlite.versions import normalize_domain

__all__ = ["Cost", "Formula", "NotCounted", "OpView", "add", "find_formula", "mul", "numel", "prod",
           "register_formula", "sub"]


class NotCounted(Exception):
    """A formula cannot count this node (the reason is reported in ``not_counted``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cost:
    macs: Dim = 0
    flops: Dim = 0


class OpView:
    """What a formula sees of one node."""

    __slots__ = ("proto", "op_type", "domain", "inputs", "outputs", "_attrs", "input_names")

    def __init__(self, proto: Any, inputs: Sequence[TypeLike | None], outputs: Sequence[TypeLike | None],
                 attrs: dict[str, Any]) -> None:
        self.proto = proto
        self.op_type: str = proto.op_type
        self.domain: str = normalize_domain(proto.domain)
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.input_names = list(proto.input)
        self._attrs = attrs

    def has_input(self, i: int) -> bool:
        return 0 <= i < len(self.input_names) and bool(self.input_names[i])

    def shape(self, i: int) -> tuple[Dim, ...]:
        """Input ``i``'s shape; NotCounted when it is missing or unknown."""
        if not self.has_input(i):
            raise NotCounted(f"input {i} is missing")
        return _shape(self.inputs[i] if i < len(self.inputs) else None, f"input {i} '{self.input_names[i]}'")

    def out_shape(self, i: int = 0) -> tuple[Dim, ...]:
        name = self.proto.output[i] if i < len(self.proto.output) else ""
        if not name:
            raise NotCounted(f"output {i} is missing")
        return _shape(self.outputs[i] if i < len(self.outputs) else None, f"output {i} '{name}'")

    def out_numel(self, i: int = 0) -> Dim:
        return numel(self.out_shape(i))

    def attr(self, name: str, default: Any = None) -> Any:
        return self._attrs.get(name, default)


def _shape(t: TypeLike | None, what: str) -> tuple[Dim, ...]:
    if not isinstance(t, TensorType) or t.shape is None:
        raise NotCounted(f"{what} has no known shape ({format_type(t)})")
    return t.shape


def add(a: Dim, b: Dim) -> Dim:
    """Exact sum of two dims (ints or symbolic Exprs)."""
    return a + b


def sub(a: Dim, b: Dim) -> Dim:
    return a - b


def mul(a: Dim, b: Dim) -> Dim:
    """Exact product of two dims (ints or symbolic Exprs)."""
    return a * b


def prod(dims: Iterable[Dim]) -> Dim:
    out: Dim = 1
    for d in dims:
        out = mul(out, d)
    return out


numel = prod


def total(*parts: Dim) -> Dim:
    out: Dim = 0
    for p in parts:
        out = add(out, p)
    return out


Formula = Callable[[OpView], Cost]
_REGISTRY: dict[tuple[str, str], Formula] = {}


def register_formula(op_types: str | Iterable[str], domain: str = "") -> Callable[[Formula], Formula]:
    """Register a cost formula (decorator) for one or several op types of ``domain``."""
    names = [op_types] if isinstance(op_types, str) else list(op_types)
    dom = normalize_domain(domain)

    def decorate(fn: Formula) -> Formula:
        for name in names:
            _REGISTRY[(dom, name)] = fn
        return fn

    return decorate


def find_formula(domain: str, op_type: str) -> Formula | None:
    return _REGISTRY.get((normalize_domain(domain), op_type))


def registered_formulas() -> list[tuple[str, str]]:
    return sorted(_REGISTRY)
