"""The engine: walks a model's graphs in order, runs each node's rule, refines with declared
types, and records what it could not type and where declarations contradict the computation."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.errors import OnnxliteError
from onnxlite.infer._rules import Context, RuleFailed, RuleUnknown, find_rule
from onnxlite.infer._sym import Dim, Expr, ExprTooLarge, evaluate, free_symbols, parse_dim, symbol
from onnxlite.infer._types import (
    MAX_DIM,
    MAX_FLOAT_KNOWN,
    MAX_KNOWN,
    Known,
    MapType,
    OptionalType,
    SequenceType,
    SparseTensorType,
    TensorType,
    TypeLike,
    TypeReadError,
    elements,
    format_type,
    from_type_proto,
)
from onnxlite.model import (
    Attribute,
    AttributeType,
    Function,
    Graph,
    Model,
    Node,
    function_path,
    node_labels,
    walk,
)
from onnxlite.versions import normalize_domain, op_schema

__all__ = ["Contradiction", "InferError", "UnknownValue", "run"]

#: Subgraph and function-call nesting past this is not followed (outputs unknown).
MAX_DEPTH = 48
#: Node visits per inference (subgraph reruns and function calls included), at least.
MIN_BUDGET = 1_000_000

_INT_TYPES = frozenset({DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.UINT8,
                        DataType.UINT16, DataType.UINT32, DataType.UINT64})
_FLOAT_SCALARS = frozenset({DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16})


class InferError(OnnxliteError, ValueError):
    """The model cannot be inferred at all (an absurd declared type on a graph input, a bad
    --input-shape); the message names the place."""


@dataclass(frozen=True)
class UnknownValue:
    """A node output left without a complete type: which value, its node (label), op type,
    graph path, and why."""

    value: str
    node: str
    op_type: str
    graph: str
    reason: str


@dataclass(frozen=True)
class Contradiction:
    """A declared type the computation contradicts (types as text)."""

    value: str
    node: str
    graph: str
    declared: str
    inferred: str


class _Frame:
    """One graph (or function body) being inferred: its scope, opsets and declarations."""

    __slots__ = ("types", "values", "parent", "path", "opsets", "owner", "attr_env", "labels", "proto",
                 "declared", "fn_key", "reasons")

    def __init__(self, parent: _Frame | None, path: str, opsets: Mapping[str, int], owner: Any,
                 proto: Any, attr_env: Mapping[str, Any] | None = None) -> None:
        self.types: dict[str, TypeLike | None] = {}
        self.values: dict[str, Known] = {}
        self.parent = parent
        self.path = path
        self.opsets = opsets
        self.owner = owner  # Graph or Function view (for Node views)
        self.proto = proto
        self.attr_env = attr_env
        self.labels: list[str] | None = None
        self.declared: dict[str, Any] = {}
        self.fn_key: tuple[str, str, str] | None = None
        self.reasons: dict[str, str] = {}  # why a value is (partly) unknown

    def lookup(self, name: str) -> tuple[TypeLike | None, Known | None]:
        f: _Frame | None = self
        while f is not None:
            if name in f.types:
                return f.types[name], f.values.get(name)
            f = f.parent
        return None, None

    def label(self, index: int) -> str:
        if self.labels is None:
            self.labels = node_labels(self.proto)
        return self.labels[index] if 0 <= index < len(self.labels) else f"#{index}"


_UNK = re.compile(r"unk_(\d+)\Z")
_NO_RULE = object()
_MEMO_SIZE = 100_000  # distinct (op, input types, values, attributes) answers kept


class Engine:
    def __init__(self, model: Model, input_shapes: Mapping[str, Sequence[int | str | None]] | None,
                 dims: Mapping[str, int] | None) -> None:
        self.model = model
        self.bindings: dict[str, Dim] = {}
        for name, value in (dims or {}).items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIM:
                raise InferError(f"dims: {name}={value!r} is not a size (a non-negative int)")
            self.bindings[name] = value
        self.input_shapes = dict(input_shapes or {})
        self._fresh = 0
        self._taken: set[str] | None = None  # unk_K dim_params the model declares: read on first use
        self.fresh_names: set[str] = set()
        self.input_symbols: set[str] = set()  # the sizes the caller picks: main-graph input dims
        self._output_names: set[str] | None = None  # the main graph's outputs: read on first use
        self.functions = {(f.domain, f.name, f.overload): f for f in model.proto.functions}
        self.fn_stack: list[tuple[str, str, str]] = []
        self.depth = 0
        self.budget = max(MIN_BUDGET, 8 * len(model.proto.graph.node))
        # results: graph path -> name -> type; records keyed so subgraph reruns overwrite
        self.types: dict[str, dict[str, TypeLike | None]] = {}
        self.node_outputs: dict[str, list[list[str]]] = {}  # graph path -> each node's outputs
        self.unknown: dict[tuple[str, str], UnknownValue] = {}
        self.known: dict[str, dict[str, Known]] = {}  # tracked values by graph path (recorded graphs)
        self.contradictions: dict[tuple[str, str], Contradiction] = {}
        # model-local function bodies, by function path: what the calls agree on
        self.fn_types: dict[str, dict[str, TypeLike | None]] = {}
        self.fn_outputs: dict[str, list[list[str]]] = {}
        self.recording = True
        self._rules: dict[tuple[str, str, int], Any] = {}
        self._memo: dict[Any, tuple[list[TypeLike | None], list[Known | None], str]] = {}
        self._calls: dict[Any, tuple[list[tuple[TypeLike | None, Known | None]], str]] = {}

    # --- symbols --------------------------------------------------------------------------------
    def fresh(self) -> Expr:
        while True:
            name = f"unk_{self._fresh}"
            self._fresh += 1
            if self._taken is None:
                self._taken = _taken_fresh_names(self.model.proto)
            if name not in self._taken:
                self.fresh_names.add(name)
                return symbol(name)

    def _is_fresh(self, d: Dim) -> bool:
        return isinstance(d, Expr) and bool(free_symbols(d) & self.fresh_names)

    def read_type(self, tp: Any) -> TypeLike | None:
        t = from_type_proto(tp, self.fresh)
        return self.bind(t) if self.bindings else t

    def bind(self, t: TypeLike | None) -> TypeLike | None:
        if isinstance(t, (TensorType, SparseTensorType)) and t.shape is not None:
            return type(t)(t.dtype, tuple(evaluate(d, self.bindings) for d in t.shape))
        if isinstance(t, (SequenceType, OptionalType)):
            return type(t)(self.bind(t.elem))
        return t

    # --- the model ------------------------------------------------------------------------------
    def run_model(self) -> None:
        model = self.model
        opsets = {normalize_domain(d): v for d, v in model.opset_imports.items()}
        if "" not in opsets and model.proto.ir_version < 3:
            opsets[""] = 1
        g = model.graph
        frame = _Frame(None, "", opsets, g, g.proto)
        unknown_inputs = set(self.input_shapes) - {v.name for v in g.proto.input}
        if unknown_inputs:
            raise InferError(f"input_shapes names '{sorted(unknown_inputs)[0]}', which is not a graph input")
        for i, vi in enumerate(g.proto.input):
            try:
                declared = self.read_type(vi.type) if vi.HasField("type") else None
            except TypeReadError as e:
                raise InferError(f"graph.input[{i}] '{vi.name}': {e}") from None
            if vi.name in self.input_shapes:
                declared = self._override(vi.name, declared)
            frame.types[vi.name] = declared
            if isinstance(declared, TensorType) and declared.shape is not None:
                for d in declared.shape:
                    if isinstance(d, Expr):
                        self.input_symbols |= free_symbols(d)
        self.run_graph(frame, inputs_set=True)

    def _override(self, name: str, declared: TypeLike | None) -> TypeLike:
        dims: list[Dim] = []
        for d in self.input_shapes[name]:
            if d is None:
                dims.append(self.fresh())
            elif isinstance(d, str):
                dims.append(evaluate(parse_dim(d), self.bindings))
            elif isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_DIM:
                raise InferError(f"input_shapes: '{name}' has dim {d!r}, not a size or a symbol")
            else:
                dims.append(d)
        dtype = declared.dtype if isinstance(declared, TensorType) else None
        return TensorType(dtype, tuple(dims))

    def run_graph(self, frame: _Frame, inputs_set: bool = False
                  ) -> list[tuple[TypeLike | None, Known | None]]:
        """Infer the graph of ``frame`` (inputs already in frame.types); returns its outputs'
        (type, known value) pairs."""
        g = frame.proto
        path = frame.path
        for i, t in enumerate(g.initializer):
            if t.name in frame.types and not inputs_set:
                continue
            overridable = t.name in frame.types  # also a graph input: a default the caller may replace
            try:
                frame.types[t.name] = self._tensor_type(t, f"{_where(path)}.initializer[{i}]")
                if not overridable:
                    value = self._tensor_value(t, frame.owner)
                    if value is not None:
                        frame.values[t.name] = value
            except (TypeReadError, OnnxliteError) as e:
                raise InferError(f"{_where(path)}.initializer[{i}] '{t.name}': {e}") from None
        for s in g.sparse_initializer:
            try:
                dims = tuple(int(d) for d in s.dims)
                if any(d < 0 or d > MAX_DIM for d in dims) or len(dims) > 256:
                    raise TypeReadError(f"bad dims {list(dims)[:8]}")
                frame.types[s.values.name] = SparseTensorType(_dtype(s.values.data_type), dims)
            except TypeReadError as e:
                raise InferError(f"{_where(path)}: sparse initializer '{s.values.name}': {e}") from None
        declared = frame.declared
        for v in g.value_info:
            if v.HasField("type"):
                declared.setdefault(v.name, v.type)
        for v in g.output:
            if v.HasField("type"):
                declared[v.name] = v.type
        owner = frame.owner
        recording = self.recording
        nodes = g.node
        outs_of = [n.output[:] for n in nodes]  # read once: the engine and the dump both need them
        if recording:
            self.node_outputs[path] = outs_of
        self.budget -= len(outs_of)
        if self.budget < 0:
            raise InferError("inference budget exhausted (nested function calls or loops too large)")
        run_node = self.run_node
        for index, proto in enumerate(nodes):
            run_node(frame, proto, owner, index, recording, outs_of[index])
        if recording:
            self.types[path] = frame.types
            self.known[path] = frame.values
        return [frame.lookup(v.name) if v.name else (None, None) for v in g.output]

    def _tensor_type(self, t: Any, where: str) -> TensorType:
        dims = tuple(int(d) for d in t.dims)
        if len(dims) > 256 or any(d < 0 or d > MAX_DIM for d in dims):
            raise TypeReadError(f"tensor dims {list(dims)[:8]} are not a valid shape")
        return TensorType(_dtype(t.data_type), dims)

    def _tensor_value(self, t: Any, owner: Any) -> Known | None:
        """The value of a small integer tensor or of a float tensor of at most MAX_FLOAT_KNOWN elements."""
        dtype = _dtype(t.data_type)
        n = 1
        for d in t.dims:
            n *= int(d)
        if dtype is None or n > MAX_KNOWN or t.HasField("segment"):
            return None
        small_float = n <= MAX_FLOAT_KNOWN and dtype in _FLOAT_SCALARS
        if dtype not in _INT_TYPES and dtype != DataType.BOOL and not small_float:
            return None
        flat = elements(t, n)
        if flat is None:
            from onnxlite.model import Tensor

            flat = elements(Tensor(t, owner.store, "tensor"), n)
        if flat is None:
            return None
        return Known(tuple(int(d) for d in t.dims), tuple(flat))

    # --- nodes ----------------------------------------------------------------------------------
    def run_node(self, frame: _Frame, proto: Any, owner: Any, index: int, recording: bool,
                 outs: list[str] | None = None) -> None:
        if outs is None:
            outs = proto.output[:]
        names = proto.input[:]
        op_type = proto.op_type
        raw_domain = proto.domain
        # the frame's own values inline (most reads), outer scopes through lookup
        ftypes = frame.types
        fvalues = frame.values
        nested = frame.parent is not None
        inputs: list[TypeLike | None] = []
        values: list[Known | None] = []
        for name in names:
            if not name:
                inputs.append(None)
                values.append(None)
            elif name in ftypes:
                inputs.append(ftypes[name])
                values.append(fvalues.get(name))
            elif nested:
                t, v = frame.lookup(name)
                inputs.append(t)
                values.append(v)
            else:
                inputs.append(None)
                values.append(None)
        domain = normalize_domain(raw_domain) if raw_domain else ""
        opset = frame.opsets.get(domain)
        n_out = len(outs)
        fn = self.functions.get((raw_domain, op_type, proto.overload)) if self.functions else None
        memo = None
        if fn is None and opset is not None:
            memo = self._memo_key(proto, domain, op_type, opset, inputs, values, names, n_out)
            if memo is not None:
                hit = self._memo.get(memo)
                if hit is not None:
                    self._finish(frame, outs, index, recording, op_type, hit[0], hit[1], hit[2])
                    return
        ctx = Context(Node(proto, owner, index), opset or 0, inputs, values, self, frame.attr_env, frame,
                      op_type, domain, names, n_out)
        reason = ""
        fresh_before = self._fresh
        try:
            if fn is not None:
                self.call_function(ctx, fn, frame)
            elif opset is None:
                raise RuleUnknown(f"the model imports no opset for domain '{raw_domain}'")
            else:
                key = (domain, op_type, opset)
                rule = self._rules.get(key, _NO_RULE)
                if rule is _NO_RULE:
                    rule = self._rules[key] = find_rule(domain, op_type, opset)
                if rule is not None:
                    rule(ctx)
                else:
                    from onnxlite.infer._generic import generic_rule

                    generic_rule(ctx)
        except RuleUnknown as e:
            reason = e.reason
        except ExprTooLarge:
            reason = "symbolic expression too large"
        except RecursionError:
            reason = "nested too deeply"
        except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError,
                OnnxliteError) as e:
            if isinstance(e, InferError):
                raise
            reason = f"rule for {op_type} failed: {type(e).__name__}: {e}"
        if memo is not None and self._fresh == fresh_before and len(self._memo) < _MEMO_SIZE:
            self._memo[memo] = (ctx.outputs, ctx.out_values, reason)  # no fresh symbol: safe to share
        self._finish(frame, outs, index, recording, op_type, ctx.outputs, ctx.out_values, reason)

    def _memo_key(self, proto: Any, domain: str, op_type: str, opset: int, inputs: list[TypeLike | None],
                  values: list[Known | None], names: list[str], n_out: int) -> tuple[Any, ...] | None:
        """What a rule's answer depends on, when it can be shared between nodes: the op, its
        input types and values, its attributes (not graphs, not function attribute references)."""
        attrs = proto.attribute
        akey: tuple[bytes, ...] = ()
        if len(attrs):
            keys = []
            for a in attrs:
                if AttributeType.of(a).holds_graphs or a.ref_attr_name or a.HasField("g") or len(a.graphs):
                    return None
                keys.append(a.SerializeToString())
            akey = tuple(keys)
        given = tuple(map(bool, names))  # an omitted optional input vs an unknown one
        return (domain, op_type, opset, tuple(inputs), tuple(values), given, akey, n_out)

    def _finish(self, frame: _Frame, outs: list[str], index: int, recording: bool, op_type: str,
                outputs: list[TypeLike | None], out_values: list[Known | None], reason: str) -> None:
        declared = frame.declared
        types = frame.types
        known_values = frame.values
        for i, out in enumerate(outs):
            if not out:
                continue
            t = outputs[i]
            value = out_values[i]
            if declared:
                decl = declared.get(out)
                if decl is not None:
                    t, value = self._refine(frame, index, out, decl, t, value)
            types[out] = t
            if value is not None:
                known_values[out] = value
            elif known_values:
                known_values.pop(out, None)
            if t.__class__ is TensorType and t.dtype is not None and t.shape is not None:  # type: ignore[union-attr]
                if recording and self.unknown:
                    self.unknown.pop((frame.path, out), None)
            elif not _complete(t):
                why = reason or ("no type" if t is None else "unknown rank" if _rank_unknown(t)
                                 else "unknown element type")
                frame.reasons[out] = why
                if recording:
                    self.unknown[(frame.path, out)] = UnknownValue(
                        out, frame.label(index), op_type, frame.path, why)
            elif recording and self.unknown:
                self.unknown.pop((frame.path, out), None)

    def _refine(self, frame: _Frame, index: int, name: str, decl_proto: Any, t: TypeLike | None,
                value: Known | None) -> tuple[TypeLike | None, Known | None]:
        try:
            declared = self.read_type(decl_proto)
        except TypeReadError:
            return t, value
        if declared is None:
            return t, value
        if t is None:
            return declared, None
        merged, conflict = self.merge_declared(declared, t)
        if not conflict and frame.parent is None and frame.proto is self.model.proto.graph:
            conflict = self._pins_input_size(name, declared, t)
        if conflict:
            if self.recording:
                self.contradictions[(frame.path, name)] = Contradiction(
                    name, frame.label(index), frame.path, _declared_text(decl_proto), format_type(t))
            return t, value
        # a declaration refining a sequence's element type does not change that it is empty
        return merged, value if merged == t or isinstance(merged, SequenceType) else None

    def _pins_input_size(self, name: str, declared: TypeLike, inferred: TypeLike) -> bool:
        """A main-graph output declared with a number where the computation gives a size that
        follows the graph inputs' free sizes alone (the caller picks those): the exporter wrote the
        size of its traced example (onnxmltools' LightGBM label: [1] for [N]). Such a declaration
        refines nothing; it contradicts every other input size."""
        if not self.input_symbols or not isinstance(declared, TensorType) or \
                not isinstance(inferred, TensorType) or declared.shape is None or inferred.shape is None:
            return False
        if self._output_names is None:
            self._output_names = {o.name for o in self.model.proto.graph.output}
        if name not in self._output_names:
            return False
        for d, i in zip(declared.shape, inferred.shape, strict=False):
            if isinstance(d, int) and isinstance(i, Expr):
                syms = free_symbols(i)
                if syms and syms <= self.input_symbols:
                    return True
        return False

    def merge_declared(self, declared: TypeLike, inferred: TypeLike) -> tuple[TypeLike, bool]:
        """(the refined type, whether they contradict)."""
        if isinstance(declared, (TensorType, SparseTensorType)):
            if type(inferred) is not type(declared):
                return inferred, True
            assert isinstance(inferred, (TensorType, SparseTensorType))
            dtype = inferred.dtype if inferred.dtype is not None else declared.dtype
            if declared.dtype is not None and inferred.dtype is not None and declared.dtype != inferred.dtype:
                return inferred, True
            if declared.shape is None:
                shape = inferred.shape
            elif inferred.shape is None:
                shape = declared.shape
            elif len(declared.shape) != len(inferred.shape):
                return inferred, True
            else:
                dims: list[Dim] = []
                for d, i in zip(declared.shape, inferred.shape, strict=True):
                    if isinstance(i, int):
                        if isinstance(d, int) and d != i:
                            return inferred, True
                        dims.append(i)
                    elif isinstance(d, int) or self._is_fresh(i) and not self._is_fresh(d):
                        dims.append(d)
                    else:
                        dims.append(i)
                shape = tuple(dims)
            return type(declared)(dtype, shape), False
        if isinstance(declared, (SequenceType, OptionalType)):
            if type(inferred) is not type(declared):
                return inferred, True
            assert isinstance(inferred, (SequenceType, OptionalType))
            if declared.elem is None or inferred.elem is None:
                return type(declared)(inferred.elem or declared.elem), False
            elem, conflict = self.merge_declared(declared.elem, inferred.elem)
            return type(declared)(elem), conflict
        return (inferred, type(inferred) is not type(declared))

    # --- attributes -----------------------------------------------------------------------------
    def attribute(self, ctx: Context, name: str, default: Any) -> Any:
        node = ctx.node
        for a in node.proto.attribute:
            if a.name != name:
                continue
            if a.ref_attr_name:
                env = ctx._attr_env
                if env is None or a.ref_attr_name not in env:
                    return default
                a = env[a.ref_attr_name]
            view = Attribute(a, node.graph, node.where)
            want = _declared_attribute_type(ctx.domain, ctx.op_type, ctx.opset, name)
            if want is not None and view.type != want:  # a hostile or broken file: never trust it
                raise RuleFailed(f"attribute '{name}' is {view.type}, the operator declares {want}")
            return view.value
        return default

    # --- subgraphs ------------------------------------------------------------------------------
    def run_subgraph(self, ctx: Context, attr_name: str, inputs: Sequence[TypeLike | None],
                     values: Sequence[Known | None] | None) -> list[tuple[TypeLike | None, Known | None]]:
        frame: _Frame = ctx._frame
        node = ctx.node
        graph_proto = None
        for a in node.proto.attribute:
            if a.name == attr_name and a.HasField("g"):
                graph_proto = a.g
        if graph_proto is None:
            raise RuleFailed(f"attribute '{attr_name}' holds no graph")
        if self.depth >= MAX_DEPTH:
            raise RuleUnknown(f"subgraphs nested more than {MAX_DEPTH} deep")
        label = frame.label(node._index)
        path = f"{frame.path}/{label}.{attr_name}" if frame.path else f"{label}.{attr_name}"
        parent_graph = frame.owner if isinstance(frame.owner, Graph) else None
        view = Graph(graph_proto, parent_graph, self.model, f"{node.where}.attribute '{attr_name}'.g")
        sub = _Frame(frame, path, frame.opsets, view, graph_proto, frame.attr_env)
        sub.fn_key = frame.fn_key
        if len(inputs) != len(graph_proto.input):
            raise RuleFailed(f"'{attr_name}' has {len(graph_proto.input)} inputs, the op gives {len(inputs)}")
        for k, (vi, t) in enumerate(zip(graph_proto.input, inputs, strict=True)):
            declared = None
            if vi.HasField("type"):
                try:
                    declared = self.read_type(vi.type)
                except TypeReadError as e:
                    raise RuleFailed(f"'{attr_name}' input '{vi.name}': {e}") from None
            if declared is not None and t is not None:
                merged, conflict = self.merge_declared(declared, t)
                t = t if conflict else merged
            elif t is None:
                t = declared
            sub.types[vi.name] = t
            if values is not None and k < len(values) and values[k] is not None:
                sub.values[vi.name] = values[k]  # type: ignore[assignment]
        self.depth += 1
        try:
            return self.run_graph(sub)
        finally:
            self.depth -= 1

    # --- functions ------------------------------------------------------------------------------
    def call_function(self, ctx: Context, fn: Any, frame: _Frame) -> None:
        key = (fn.domain, fn.name, fn.overload)
        if key in self.fn_stack:
            raise RuleUnknown(f"function {fn.domain}:{fn.name} calls itself (recursion)")
        if len(self.fn_stack) >= MAX_DEPTH or self.depth >= MAX_DEPTH:
            raise RuleUnknown(f"function calls nested more than {MAX_DEPTH} deep")
        env: dict[str, Any] = {a.name: a for a in fn.attribute_proto}
        caller_env = frame.attr_env
        for a in ctx.node.proto.attribute:
            if a.ref_attr_name:
                if caller_env is not None and a.ref_attr_name in caller_env:
                    env[a.name] = caller_env[a.ref_attr_name]
            else:
                env[a.name] = a
        memo_key = (key, tuple(ctx._inputs), tuple(ctx._values),
                    tuple(sorted((k, v.SerializeToString()) for k, v in env.items())))
        cached = self._calls.get(memo_key)
        if cached is not None:  # the same call again (types, values, attributes): same answer
            for i, (t, v) in enumerate(cached[0]):
                ctx.set_output(i, t, v)
            if cached[1]:
                raise RuleUnknown(cached[1])
            return
        opsets = {normalize_domain(o.domain): int(o.version) for o in fn.opset_import} or dict(frame.opsets)
        view = Function(fn, self.model, f"fn:{fn.domain}:{fn.name}")
        sub = _Frame(None, f"fn:{fn.domain}:{fn.name}", opsets, view, fn, env)
        sub.fn_key = key
        for k, name in enumerate(fn.input):
            if name:
                sub.types[name] = ctx.input_type(k)
                v = ctx.value(k)
                if v is not None:
                    sub.values[name] = v
        self.fn_stack.append(key)
        self.depth += 1
        was = self.recording
        self.recording = False  # a body's types depend on the call: not recorded as the model's
        try:
            g_nodes = fn.node
            for index, proto in enumerate(g_nodes):
                self.budget -= 1
                if self.budget < 0:
                    raise InferError("inference budget exhausted (nested function calls or loops too large)")
                self.run_node(sub, proto, view, index, False)
        finally:
            self.recording = was
            self.depth -= 1
            self.fn_stack.pop()
        self._record_call(fn, sub.types)
        why = ""
        results: list[tuple[TypeLike | None, Known | None]] = []
        for i, name in enumerate(fn.output):
            if i < ctx.num_outputs:
                t, v = sub.lookup(name)
                ctx.set_output(i, t, v)
                results.append((t, v))
                if not _complete(t) and not why:
                    why = sub.reasons.get(name, "no type")
        why = f"in function {fn.domain}:{fn.name}: {why}" if why else ""
        self._calls[memo_key] = (results, why)
        if why:
            raise RuleUnknown(why)


    def _record_call(self, fn: Any, types: dict[str, TypeLike | None]) -> None:
        """Keep a function body's types over its calls: where calls agree, their type; a dim they
        disagree on becomes a fresh symbol, a rank or element type they disagree on unknown."""
        path = function_path(fn)
        seen = self.fn_types.get(path)
        if seen is None:
            self.fn_types[path] = dict(types)
            self.fn_outputs[path] = [n.output[:] for n in fn.node]
            return
        for name, t in types.items():
            if name not in seen:
                seen[name] = t
            elif seen[name] != t:
                seen[name] = self._agree(seen[name], t)

    def _agree(self, a: TypeLike | None, b: TypeLike | None) -> TypeLike | None:
        if a is None or b is None or type(a) is not type(b):
            return None
        if isinstance(a, (TensorType, SparseTensorType)):
            assert isinstance(b, (TensorType, SparseTensorType))
            dtype = a.dtype if a.dtype == b.dtype else None
            if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
                return type(a)(dtype, None)
            return type(a)(dtype, tuple(x if x == y or self._is_fresh(x) else self.fresh()
                                        for x, y in zip(a.shape, b.shape, strict=True)))
        if isinstance(a, (SequenceType, OptionalType)):
            assert isinstance(b, (SequenceType, OptionalType))
            return type(a)(self._agree(a.elem, b.elem))
        if isinstance(a, MapType) and isinstance(b, MapType):
            return MapType(a.key if a.key == b.key else None, self._agree(a.value, b.value))
        return None


def _taken_fresh_names(model_proto: Any) -> set[str]:
    """dim_params of the form unk_K anywhere in the model's declared types (fresh symbols skip them)."""
    taken: set[str] = set()
    for body in walk(model_proto, training=False):
        p = body.proto
        infos = p.value_info if body.is_function else (*p.input, *p.output, *p.value_info)
        for vi in infos:
            _collect_unk(vi.type, taken)
    return taken


def _collect_unk(tp: Any, taken: set[str], depth: int = 0) -> None:
    if depth > 64:
        return
    which = tp.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        for d in getattr(tp, which).shape.dim:
            param = d.dim_param  # bytes when the file's string is not UTF-8
            if isinstance(param, str) and param.startswith("unk_") and _UNK.match(param):
                taken.add(d.dim_param)
    elif which in ("sequence_type", "optional_type"):
        _collect_unk(getattr(tp, which).elem_type, taken, depth + 1)
    elif which == "map_type":
        _collect_unk(tp.map_type.value_type, taken, depth + 1)


def _declared_text(tp: Any) -> str:
    """A declared type as written in the file (unknown dims as '?', no bindings applied)."""
    unknown = symbol("?")
    return format_type(from_type_proto(tp, lambda: unknown))


def _dtype(code: int) -> DataType | None:
    try:
        return DataType(code) if code else None
    except ValueError:
        return None


def _where(path: str) -> str:
    return "graph" if not path else path


def _rank_unknown(t: TypeLike) -> bool:
    return isinstance(t, (TensorType, SparseTensorType)) and t.shape is None


def _complete(t: TypeLike | None) -> bool:
    if t is None:
        return False
    if isinstance(t, (TensorType, SparseTensorType)):
        return t.dtype is not None and t.shape is not None
    if isinstance(t, (SequenceType, OptionalType)):
        return _complete(t.elem)
    return t.key is not None and _complete(t.value)


def run(model: Model, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
        dims: Mapping[str, int] | None = None) -> Engine:
    engine = Engine(model, input_shapes, dims)
    engine.run_model()
    return engine


@functools.lru_cache(maxsize=8192)
def _declared_attribute_type(domain: str, op_type: str, opset: int, name: str) -> str | None:
    """The attribute type a standard operator's schema declares ('TENSOR', 'INTS'...), or None
    (a custom op, or an attribute the schema does not know)."""
    schema = op_schema(domain, op_type, opset)
    if schema is None or name not in schema.attributes:
        return None
    return AttributeType.name_of(schema.attributes[name][0])
