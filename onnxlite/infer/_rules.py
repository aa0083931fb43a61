"""The rule API: one rule per (domain, op_type, since-version), and the context a rule works in.

How to write a rule
-------------------
A rule is a function of one `Context`. It reads the node's input types, known values and
attributes, and calls `Context.set_output` for the outputs it can type::

    from onnxlite.infer import Context, TensorType, register_rule

    @register_rule("Relu", since=6)           # domain="" is ai.onnx; since: first opset it covers
    def _relu(ctx: Context) -> None:
        x = ctx.tensor(0)                     # TensorType of input 0 (stops the rule if unknown)
        ctx.set_output(0, x)

    @register_rule("MyOp", domain="com.example")
    def _my_op(ctx: Context) -> None:
        x = ctx.tensor(0)
        axis = ctx.normalize_axis(ctx.attr("axis", 0), ctx.rank(0))
        shape = list(ctx.shape(0))
        shape[axis] = shape[axis] * 2         # dims are int or symbolic Expr: + - * // % work
        ctx.set_tensor(0, x.dtype, shape)

- The engine picks, for a node, the rule with the largest ``since`` that is <= the opset the model
  (or function) imports for the node's domain. Register a new version where the op's semantics
  changed (inputs that were attributes, new attributes...). One function may serve several ops:
  ``register_rule(["Add", "Sub"], since=7)``.
- Reading inputs: `tensor(i)`, `dtype(i)`, `shape(i)`, `rank(i)` stop the rule with "input i has
  no known type/rank" when that is missing (outputs not set stay unknown, with that reason);
  `input_type(i)` returns None instead. `has_input(i)` says whether optional input i is given.
  `value(i)` is the tracked value (`Known`: shape + flat data) or None, `ints(i)` its elements
  when it is an integer tensor (int or Expr each): shapes computed at run time come this way.
- Attributes: `attr(name, default)` gives the typed value (int, float, str, list, Tensor, Graph),
  with references to function attributes resolved.
- Outputs: `set_output(i, type, value=None)`; `set_tensor(i, dtype, shape, value=None)` builds
  the TensorType. Dims that nothing can name: `fresh()` gives a new symbol (``unk_K``).
  Values are kept only for integer tensors of at most 1,024 elements and scalars of any type.
- Stopping: `unknown(reason)` when the answer depends on what cannot be known (data-dependent
  sizes); `fail(reason)` when the inputs break the operator's spec (the reason is reported).
- Helpers: `broadcast(*shapes)` (multidirectional, symbolic), `normalize_axis(axis, rank)`,
  `numel(shape)`; `onnxlite.infer` exports the symbolic helpers (`symbol`, `dim_max`...).
- Write every rule from the operator's spec (https://onnx.ai/onnx/operators/), and a test with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from onnxlite.dtypes import DataType
from onnxlite.infer._sym import Dim, Expr, capped, mul
from onnxlite.infer._types import MAX_DIM, MAX_KNOWN, MAX_RANK, Known, SequenceType, TensorType, TypeLike
from onnxlite.versions import normalize_domain

if TYPE_CHECKING:
    from onnxlite.model import Node

__all__ = [
    "Context", "Rule", "RuleFailed", "RuleUnknown", "find_rule", "register_rule", "registered_ops",
]

Rule = Callable[["Context"], None]

_REGISTRY: dict[tuple[str, str], list[tuple[int, Rule]]] = {}


class RuleUnknown(Exception):
    """Raised by `Context.unknown`: the outputs cannot be known (the reason says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RuleFailed(RuleUnknown):
    """Raised by `Context.fail`: the node's inputs or attributes break the operator's spec."""


def register_rule(op_type: str | Iterable[str], domain: str = "", since: int = 1) -> Callable[[Rule], Rule]:
    """Register a rule (decorator) for ``op_type`` (or several op types) of ``domain`` from
    opset version ``since`` on. A rule registered again for the same key replaces the old one,
    so a custom rule can override a built-in one.

    >>> @register_rule("Twice", domain="com.example")
    ... def _twice(ctx):
    ...     x = ctx.tensor(0)
    ...     ctx.set_tensor(0, x.dtype, [2 * d for d in ctx.shape(0)])
    """
    names = [op_type] if isinstance(op_type, str) else list(op_type)
    dom = normalize_domain(domain)

    def decorate(rule: Rule) -> Rule:
        for name in names:
            rows = [r for r in _REGISTRY.get((dom, name), []) if r[0] != since]
            rows.append((since, rule))
            rows.sort(key=lambda r: r[0])
            _REGISTRY[(dom, name)] = rows
        return rule

    return decorate


def find_rule(domain: str, op_type: str, opset: int) -> Rule | None:
    """The rule for ``op_type`` at opset version ``opset`` of ``domain`` (None when none covers it)."""
    found = None
    for since, rule in _REGISTRY.get((normalize_domain(domain), op_type), ()):
        if since > opset:
            break
        found = rule
    return found


def registered_ops() -> dict[tuple[str, str], tuple[int, ...]]:
    """(domain, op_type) -> the ``since`` versions that have rules."""
    return {key: tuple(r[0] for r in rows) for key, rows in sorted(_REGISTRY.items())}


class Context:
    """What a rule sees of one node: input types and values, attributes, the opset, and where
    to put output types. Built by the engine; see the module docstring for how to use it."""

    __slots__ = ("node", "op_type", "domain", "opset", "_inputs", "_values", "_names", "outputs",
                 "out_values", "_engine", "_attr_env", "_frame")

    def __init__(self, node: Node, opset: int, inputs: Sequence[TypeLike | None],
                 values: Sequence[Known | None], engine: Any, attr_env: Any, frame: Any,
                 op_type: str, domain: str, names: Sequence[str], n_outputs: int) -> None:
        self.node = node
        self.op_type = op_type
        self.domain = domain  # normalized: '' for ai.onnx
        self.opset = opset
        self._names = names
        self._inputs = inputs
        self._values = values
        self.outputs: list[TypeLike | None] = [None] * n_outputs
        self.out_values: list[Known | None] = [None] * n_outputs
        self._engine = engine
        self._attr_env = attr_env
        self._frame = frame

    # --- inputs ---------------------------------------------------------------------------------
    @property
    def num_inputs(self) -> int:
        """Number of input slots (omitted optional inputs included, trailing ones not)."""
        return len(self._names)

    @property
    def num_outputs(self) -> int:
        return len(self.outputs)

    def has_input(self, i: int) -> bool:
        """Whether input ``i`` is given (not omitted with '' and not past the end)."""
        return 0 <= i < len(self._names) and bool(self._names[i])

    def input_type(self, i: int) -> TypeLike | None:
        """The type of input ``i``; None when omitted or unknown."""
        return self._inputs[i] if 0 <= i < len(self._inputs) else None

    def tensor(self, i: int) -> TensorType:
        """Input ``i``'s tensor type; stops the rule when it is missing or not a tensor."""
        t = self.input_type(i)
        if isinstance(t, TensorType):
            return t
        if not self.has_input(i):
            raise RuleFailed(f"input {i} is missing")
        if t is None:
            raise RuleUnknown(f"input {i} '{self._names[i]}' has no known type")
        raise RuleFailed(f"input {i} '{self._names[i]}' is {t}, not a tensor")

    def dtype(self, i: int) -> DataType:
        """Input ``i``'s element type; stops the rule when unknown."""
        t = self.tensor(i)
        if t.dtype is None:
            raise RuleUnknown(f"input {i} '{self._names[i]}' has no known element type")
        return t.dtype

    def shape(self, i: int) -> tuple[Dim, ...]:
        """Input ``i``'s shape; stops the rule when the rank is unknown."""
        t = self.tensor(i)
        if t.shape is None:
            raise RuleUnknown(f"input {i} '{self._names[i]}' has no known rank")
        return t.shape

    def rank(self, i: int) -> int:
        return len(self.shape(i))

    def value(self, i: int) -> Known | None:
        """The tracked value of input ``i`` (None when unknown or omitted)."""
        return self._values[i] if 0 <= i < len(self._values) else None

    def ints(self, i: int) -> tuple[Dim, ...] | None:
        """The elements of input ``i`` when it is a tracked integer tensor, else None."""
        v = self.value(i)
        if v is None or not all(isinstance(x, (int, Expr)) and not isinstance(x, bool) for x in v.data):
            return None
        return v.data

    # --- attributes -----------------------------------------------------------------------------
    def attr(self, name: str, default: Any = None) -> Any:
        """The typed value of attribute ``name`` (function attribute references resolved), or
        ``default`` when absent."""
        return self._engine.attribute(self, name, default)

    def has_attr(self, name: str) -> bool:
        return self._engine.attribute(self, name, _MISSING) is not _MISSING

    # --- outputs --------------------------------------------------------------------------------
    def fresh(self) -> Expr:
        """A new symbol (``unk_K``) for a size nothing can name."""
        return self._engine.fresh()  # type: ignore[no-any-return]

    def fresh_dims(self, n: int) -> list[Dim]:
        """``n`` new symbols: the dims of an output whose rank is known but none of its sizes
        (a rank read from data, e.g. the length of a shape input, fails the node past MAX_RANK)."""
        if n > MAX_RANK:
            self.fail(f"rank {n} is over {MAX_RANK}")
        return [self.fresh() for _ in range(n)]

    def set_output(self, i: int, t: TypeLike | None, value: Known | None = None) -> None:
        """Set output ``i``'s type (and tracked value); outputs past the node's end are ignored."""
        if 0 <= i < len(self.outputs):
            self.outputs[i] = t
            if value is None:
                pass
            elif isinstance(t, SequenceType):  # of a sequence, only "it is empty" is tracked: shape (0,)
                if value.shape != (0,) or value.data:
                    value = None
            elif len(value.data) > MAX_KNOWN or not isinstance(t, TensorType) \
                    or (t.shape is not None and tuple(t.shape) != value.shape):
                value = None
            self.out_values[i] = value

    def set_tensor(self, i: int, dtype: DataType | None, shape: Iterable[Dim] | None,
                   value: Known | None = None) -> None:
        """`set_output` with a TensorType built from ``dtype`` and ``shape`` (None: unknown rank)."""
        dims = None if shape is None else tuple(shape)
        if dims is not None:
            for d in dims:
                if not isinstance(d, Expr) and not 0 <= d <= MAX_DIM:
                    raise RuleFailed(f"output {i} would have dim {d}")
        self.set_output(i, TensorType(dtype, dims), value)

    def unknown(self, reason: str) -> NoReturn:
        """Stop the rule: the outputs not set yet cannot be known."""
        raise RuleUnknown(reason)

    def fail(self, reason: str) -> NoReturn:
        """Stop the rule: the node breaks its operator's spec (reported with ``reason``)."""
        raise RuleFailed(reason)

    # --- helpers --------------------------------------------------------------------------------
    def broadcast(self, *shapes: Sequence[Dim]) -> tuple[Dim, ...]:
        """The multidirectional (numpy) broadcast of ``shapes``: a dim of 1 takes the other side,
        equal dims stay, a symbol against a number >1 is that number, ``min(x, k)`` (constants
        k >= 1) against ``x`` is ``x``, two unrelated symbols give a fresh symbol; two different
        numbers (neither 1) fail the rule."""
        if len(shapes) == 2 and shapes[0] == shapes[1]:
            return tuple(shapes[0])
        rank = max((len(s) for s in shapes), default=0)
        out: list[Dim] = []
        for k in range(rank):
            dim: Dim | None = None
            for s in shapes:
                j = len(s) - rank + k
                if j < 0:
                    continue
                d = s[j]
                if dim is None or dim == d or d == 1:
                    dim = d if dim is None else dim
                elif dim == 1:
                    dim = d
                elif isinstance(d, Expr) and isinstance(dim, Expr):
                    dim = dim if capped(d, dim) else d if capped(dim, d) else self.fresh()
                elif isinstance(d, Expr):
                    pass  # the number wins: the symbol is 1 or that number
                elif isinstance(dim, Expr):
                    dim = d
                else:
                    raise RuleFailed(f"shapes {_shapes_text(shapes)} do not broadcast")
            out.append(1 if dim is None else dim)
        return tuple(out)

    def normalize_axis(self, axis: int, rank: int) -> int:
        """``axis`` in [-rank, rank) as a non-negative axis; fails the rule outside that range."""
        if not -rank <= axis < rank:
            raise RuleFailed(f"axis {axis} is out of range for rank {rank}")
        return axis + rank if axis < 0 else axis

    @staticmethod
    def numel(shape: Iterable[Dim]) -> Dim:
        """The number of elements of ``shape``."""
        n: Dim = 1
        for d in shape:
            n = mul(n, d)
        return n

    def infer_subgraph(self, attr_name: str, inputs: Sequence[TypeLike | None],
                       values: Sequence[Known | None] | None = None
                       ) -> list[tuple[TypeLike | None, Known | None]]:
        """Infer the graph held by attribute ``attr_name`` given its input types (and known input
        values, if any); returns its outputs as (type or None, known value or None) pairs. The
        graph sees this node's scope (outer values) and is recorded under its graph path."""
        return self._engine.run_subgraph(self, attr_name, inputs, values)  # type: ignore[no-any-return]


_MISSING = object()


def _shapes_text(shapes: Iterable[Sequence[Dim]]) -> str:
    from onnxlite.infer._sym import format_dim

    return " and ".join("[" + ",".join(format_dim(d) for d in s) + "]" for s in shapes)
