"""Build ONNX models in a few readable lines: graphs, subgraphs, model-local functions.

    import numpy as np
    import onnxlite
    from onnxlite.builder import GraphBuilder

    g = GraphBuilder("tiny")
    x = g.input("x", "float32", ["N", 3, 32, 32])
    w = g.initializer("w", np.ones((8, 3, 3, 3), np.float32))
    y = g.op("Relu", g.op("Conv", x, w, pads=[1, 1, 1, 1]))
    g.output(y, "float32", ["N", 8, 32, 32])
    onnxlite.save(g.model(opset=21), "tiny.onnx")

Values are `Var` objects (or names). Attributes are typed from Python values (int -> INT, float ->
FLOAT, list of ints -> INTS...), converted to the type a standard operator's schema declares where
that is lossless (``alpha=1`` for a FLOAT), and spelled out with `attr` where a Python value says
too little (``attr.ints([])``). Opset imports, the IR version, unique names and the model's
functions are worked out by `GraphBuilder.model`. Every call checks everything before it changes
anything, so a refused call leaves the builder as it was. `make_node` types a single node the same
way, for `onnxlite.edit.insert_node` to put into an existing graph.

Types, tensors and attribute values live in `onnxlite._buildvalues`; the public ones (`attr`,
`tensor_type`, `sparse_tensor`...) are imported from here. numpy and the operator table are
imported on first use: importing this module stays light.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

from onnxlite import _proto
from onnxlite._version import __version__
from onnxlite.builder._values import (
    CONVERT,
    TYPE_CODES,
    AttrRef,
    AttrValue,
    DTypeLike,
    ShapeLike,
    TypeLike,
    attr,
    attribute_types,
    check_node,
    copy_into,
    features_ir,
    fill_attribute,
    map_type,
    opset_versions,
    opsets_ir,
    optional_type,
    refuse_unknown,
    register_graph_class,
    schema_of,
    sequence_type,
    set_metadata,
    set_strings,
    sparse_tensor,
    sparse_tensor_type,
    standard_attributes,
    tensor_proto,
    tensor_type,
    tensor_type_of,
    type_proto,
    validate_nodes,
    value_names,
    walk,
)
from onnxlite.dtypes import DataType
from onnxlite.errors import EditError, OnnxliteError
from onnxlite.model import (
    AttributeType,
    Graph,
    Model,
    Node,
    SparseTensor,
    Tensor,
    Type,
    graph_attributes,
    is_default_domain,
    normalize_domain,
)

__all__ = [
    "DEFAULT_OPSET", "AttrRef", "AttrValue", "FunctionBuilder", "GraphBuilder", "Var", "attr", "make_node",
    "map_type", "optional_type", "sequence_type", "sparse_tensor", "sparse_tensor_type", "tensor_type",
]

#: Default-domain opset of built models: recent, and run by current runtimes (onnxruntime >= 1.18).
DEFAULT_OPSET = 21



class Var:
    """A value of a graph or function being built: its name, and its type where the builder knows
    it (inputs, initializers, constants, value_info). Pass it as an input of later ops."""

    __slots__ = ("_name", "_scope")

    def __init__(self, name: str, scope: _Builder) -> None:
        self._name = name
        self._scope = scope

    @property
    def name(self) -> str:
        """The value name ('' for an optional output left out)."""
        return self._name

    @property
    def type(self) -> Type | None:
        proto = self._scope._types.get(self._name)
        return None if proto is None else Type(proto)

    @property
    def dtype(self) -> DataType | None:
        return None if self.type is None else self.type.elem_type

    @property
    def shape(self) -> tuple[int | str | None, ...] | None:
        return None if self.type is None else self.type.shape

    def __repr__(self) -> str:
        return f"Var({self._name!r}, {self.type or '?'})"


# --- what graph and function builders share -------------------------------------------------------

class _Builder:
    """Scope, names and nodes. A scope tree (a graph or function and its subgraphs) keeps one name
    table at its root: generated names are unique in the tree, and an explicit name may neither
    shadow one of an enclosing graph nor clash with one of a graph nested in this one."""

    def __init__(self, name: str, parent: _Builder | None, where: str) -> None:
        if not isinstance(name, str):
            raise EditError(f"{where}: the name must be a str, got {name!r}")
        self._name, self._parent, self._where = name, parent, where
        self._root: _Builder = parent._root if parent is not None else self
        self._nodes: list[Any] = []
        self._value_info: list[Any] = []
        self._defined: set[str] = set()
        self._types: dict[str, Any] = {}
        self._node_names: set[str] = set()
        self._used_by: str | None = None  # the node holding this graph: no more changes
        self._functions: dict[tuple[str, str, str], FunctionBuilder] = {}
        self._defs: dict[str, list[_Builder]] = {}  # at the root: name -> the scopes defining it
        self._counter = 0  # at the root

    @property
    def name(self) -> str:
        return self._name

    def _check_open(self) -> None:
        if self._used_by is not None:
            raise EditError(f"{self._where}: already used by {self._used_by}; finish a graph before using it")

    def _scopes(self) -> list[_Builder]:
        out: list[_Builder] = []
        scope: _Builder | None = self
        while scope is not None:
            out.append(scope)
            scope = scope._parent
        return out

    def _check_free(self, name: Any, what: str, taken: Iterable[str] = ()) -> None:
        if not isinstance(name, str) or not name:
            raise EditError(f"{self._where}: {what} name must be a non-empty str, got {name!r}")
        if name in taken:
            raise EditError(f"{self._where}: {what} name '{name}' is given twice")
        mine = self._scopes()
        for other in self._root._defs.get(name, ()):
            if other in mine or self in other._scopes():
                raise EditError(f"{self._where}: {what} name '{name}' is already used in {other._where}")

    def _fresh(self, base: str, taken: Iterable[str] = ()) -> str:
        root = self._root
        while True:
            name = f"{base}_{root._counter}"
            root._counter += 1
            if name not in root._defs and name not in root._node_names and name not in taken:
                return name

    def _define(self, name: str, type_proto: Any = None) -> Var:
        self._root._defs.setdefault(name, []).append(self)
        self._defined.add(name)
        if type_proto is not None:
            self._types[name] = type_proto
        return Var(name, self)

    def _type_of(self, name: str) -> Any:
        return next((s._types[name] for s in self._scopes() if name in s._types), None)

    def _input_name(self, value: Any, where: str, consts: list[tuple[str, Any]]) -> str:
        if value is None or (isinstance(value, str) and not value):
            return ""
        if isinstance(value, Var):
            if value.name and (value._scope not in self._scopes() or value.name not in value._scope._defined):
                raise EditError(f"{where}: value '{value.name}' belongs to {value._scope._where}, "
                                f"which {self._where} cannot see")
            return value.name
        if isinstance(value, str):
            if not any(value in s._defined for s in self._scopes()):
                visible = [n for s in self._scopes() for n in sorted(s._defined)]
                close = difflib.get_close_matches(value, visible, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise EditError(f"{where}: no value named '{value}' in {self._where} or around it{hint}")
            return value
        import numpy as np

        if isinstance(value, (np.ndarray, np.generic, Tensor)):
            name = self._fresh("const", [n for n, _ in consts])
            consts.append((name, tensor_proto(value, None, where)))
            return name
        raise EditError(f"{where}: {type(value).__name__} {value!r} is not a value; pass a Var, a name or "
                        "a numpy array (a Python number has no ONNX dtype: np.float32(2.0))")

    @overload
    def op(self, op_type: str, *inputs: Any, outputs: str | None = None, name: str | None = None,
           domain: str = "", overload: str = "", doc_string: str = "",
           metadata: Mapping[str, str] | None = None, attrs: Mapping[str, Any] | None = None,
           **attributes: Any) -> Var: ...

    @overload
    def op(self, op_type: str, *inputs: Any, outputs: int | Sequence[str | None], name: str | None = None,
           domain: str = "", overload: str = "", doc_string: str = "",
           metadata: Mapping[str, str] | None = None, attrs: Mapping[str, Any] | None = None,
           **attributes: Any) -> tuple[Var, ...]: ...

    def op(self, op_type: str, *inputs: Any, outputs: Any = None, name: str | None = None,
           domain: str = "", overload: str = "", doc_string: str = "",
           metadata: Mapping[str, str] | None = None, attrs: Mapping[str, Any] | None = None,
           **attributes: Any) -> Var | tuple[Var, ...]:
        """Add a node; return its output `Var`, or a tuple of them for ``outputs=N`` or a list of
        names (None: generated, "": an optional output left out). ``outputs="y"`` names the one output.

        Inputs are Vars, value names, None (an optional input left out) or numpy arrays (made
        constants). Attributes are keywords, or ``attrs={"lambda": 0.5}`` for names Python cannot
        spell; None leaves an attribute out. Example::

            y = g.op("Conv", x, w, pads=[1, 1, 1, 1], name="conv0")
            values, indices = g.op("TopK", x, np.array([3]), outputs=2)
        """
        self._check_open()
        if not isinstance(op_type, str) or not op_type:
            raise EditError(f"{self._where}: op_type must be a non-empty str, got {op_type!r}")
        domain = normalize_domain(domain)
        label = f" '{name}'" if isinstance(name, str) and name else f"[{len(self._nodes)}]"
        where = f"{self._where}.node{label} ({op_type})"
        if name is not None and (not isinstance(name, str) or not name or name in self._node_names):
            raise EditError(f"{where}: node name {name!r} is empty or used already in this graph")
        counter = self._root._counter
        try:
            twice = set(attributes) & set(attrs or {})
            node, consts, graphs = self._node(op_type, inputs, outputs, name, domain, where,
                                              {**attributes, **(attrs or {})}, twice)
            set_strings(node, overload=overload, doc_string=doc_string)
            set_metadata(node, metadata, where)
        except OnnxliteError:
            self._root._counter = counter  # a refused call leaves the generated names as they were
            raise
        # Everything is checked: from here on the builder changes.
        for const_name, tensor in consts:
            self._lift(const_name, tensor)
        self._nodes.append(node)
        self._node_names.add(node.name)
        self._root._node_names.add(node.name)
        for sub in graphs:
            sub._used_by = where
        if isinstance(self._root, FunctionBuilder):  # an attribute declared untyped: typed by its use
            for a in node.attribute:
                if a.ref_attr_name:
                    self._root._attr_types[a.ref_attr_name] = AttributeType.name_of(a.type)
        made = tuple(self._define(n) if n else Var("", self) for n in node.output)
        return made[0] if outputs is None or isinstance(outputs, str) else made

    def _node(self, op_type: str, inputs: tuple[Any, ...], outputs: Any, name: str | None, domain: str,
              where: str, attributes: dict[str, Any], twice: set[str]) -> tuple[Any, list[Any], list[Any]]:
        consts: list[tuple[str, Any]] = []
        input_names = [self._input_name(v, f"{where} input {i}", consts) for i, v in enumerate(inputs)]
        if twice:
            raise EditError(f"{where}: attribute '{sorted(twice)[0]}' is given twice")
        known = self._known_attributes(op_type, domain, where)
        node = _proto.NodeProto()
        graphs = []
        for key, value in attributes.items():
            if value is None:
                continue
            if known is not None:
                refuse_unknown(op_type, key, known, where)
            graphs += self._attribute(node.attribute.add(), key, value, None if known is None else known[key],
                                      f"{where} attribute '{key}'")
        node.op_type, node.domain = op_type, domain
        node.name = name if name is not None else self._fresh(op_type, self._root._node_names)
        node.input.extend(input_names)
        node.output.extend(self._output_names(outputs, node.name, where))
        return node, consts, graphs

    def _output_names(self, outputs: Any, node_name: str, where: str) -> list[str]:
        if outputs is None or isinstance(outputs, str):
            spec: list[Any] = [outputs]
        elif isinstance(outputs, int) and not isinstance(outputs, bool) and outputs >= 0:
            spec = [None] * outputs
        elif isinstance(outputs, Sequence):
            spec = list(outputs)
        else:
            raise EditError(f"{where}: outputs must be a count, a name or a list of names, got {outputs!r}")
        names: list[str] = []
        root = self._root
        for i, out in enumerate(spec):
            if out is None:
                out = f"{node_name}_out" + ("" if len(spec) == 1 else str(i))
                if out in root._defs or out in names or out in root._node_names:
                    out = self._fresh(out, names)
            elif out != "":
                self._check_free(out, f"output {i}", [n for n in names if n])
            names.append(out)
        return names

    def _known_attributes(self, op_type: str, domain: str, where: str) -> dict[str, str | None] | None:
        """Attribute name -> type for standard ops (from the schema table) and added functions;
        None for an op nothing is known about. Refuses a standard-domain op that does not exist."""
        local = {(d, n): f for (d, n, _), f in self._root._functions.items()}.get((domain, op_type))
        if local is not None:
            return dict(local._attr_types)
        return standard_attributes(op_type, domain, where)

    def _attribute(self, proto: Any, key: str, value: Any, expected: str | None, where: str) -> list[Any]:
        """Fill AttributeProto ``proto``; returns the GraphBuilders it holds (frozen once the node is in)."""
        if isinstance(value, AttrRef):
            root = self._root
            if not isinstance(root, FunctionBuilder):
                raise EditError(f"{where}: attr.ref only works inside a FunctionBuilder")
            if value.name not in root._attr_types:
                raise EditError(f"{where}: function '{root.name}' declares no attribute '{value.name}'; "
                                f"add it with attribute('{value.name}', ...)")
            _set_ref(proto, key, value, root._attr_types[value.name], expected, where)
            return []
        return fill_attribute(proto, key, value, expected, where, self._subgraph_proto)

    def _subgraph_proto(self, graph: GraphBuilder | Graph, where: str) -> Any:
        if isinstance(graph, GraphBuilder) and graph in self._scopes():
            raise EditError(f"{where}: a graph cannot hold itself")
        return _graph_proto_of(graph, where, self)

    def _add_constant(self, name: str, tensor: Any) -> None:
        node = _proto.NodeProto()
        node.op_type, node.name = "Constant", self._fresh("Constant")
        node.output.append(name)
        a = node.attribute.add()
        a.name, a.type = "value", TYPE_CODES["TENSOR"]
        a.t.CopyFrom(tensor)
        self._nodes.append(node)
        self._node_names.add(node.name)
        self._root._node_names.add(node.name)
        self._define(name, tensor_type_of(tensor))

    def _lift(self, name: str, tensor: Any) -> None:
        """Where a numpy array given as an op input goes: a Constant node (graphs override)."""
        self._add_constant(name, tensor)

    def constant(self, value: Any, dtype: DTypeLike | None = None, *, name: str | None = None) -> Var:
        """A ``Constant`` node holding ``value`` (an array, a Tensor or Python values; Python ints
        are int64 and floats float32 unless ``dtype`` says): ``shape = g.constant([1, -1])``."""
        self._check_open()
        if name is not None:
            self._check_free(name, "constant")
        tensor = tensor_proto(value, dtype, f"{self._where}.constant '{name or '?'}'")
        out = name or self._fresh("const")
        self._add_constant(out, tensor)
        return Var(out, self)

    def value_info(self, value: Var | str, dtype: TypeLike, shape: ShapeLike = None) -> None:
        """Record the type of an intermediate value: ``g.value_info(y, "float32", ["N", 8])``."""
        self._check_open()
        where = f"{self._where}.value_info"
        info = _proto.ValueInfoProto()
        info.name = self._input_name(value, where, [])
        info.type.CopyFrom(type_proto(dtype, shape, f"{where} '{info.name}'"))
        self._value_info.append(info)
        self._types.setdefault(info.name, info.type)

    def subgraph(self, name: str | None = None, *, doc_string: str = "") -> GraphBuilder:
        """A graph nested in this one (If branch, Loop or Scan body) that sees this graph's values
        by Var or name. A node of this graph takes it: ``g.op("If", c, then_branch=t, else_branch=e)``."""
        self._check_open()
        name = name or self._fresh(f"{self.name}_sub")
        sub = GraphBuilder.__new__(GraphBuilder)
        _Builder.__init__(sub, name, self, f"{self._where}.subgraph '{name}'")
        sub._setup(doc_string, None, None, None)
        return sub

    def add_function(self, function: FunctionBuilder) -> FunctionBuilder:
        """Make ``function`` callable here as ``op(function.name, ..., domain=function.domain)``;
        the model will carry it. Returns it."""
        if not isinstance(function, FunctionBuilder):
            raise EditError(f"{self._where}: add_function takes a FunctionBuilder, not {type(function)}")
        registry = self._root._functions
        key = (function.domain, function.name, function.overload)
        if registry.get(key, function) is not function:
            raise EditError(f"{self._where}: another {function.domain}.{function.name} was added already")
        registry[key] = function
        return function

    def function(self, name: str, domain: str = "local", **kwargs: Any) -> FunctionBuilder:
        """A new `FunctionBuilder`, added here: ``f = g.function("Swish", "my.ops")``."""
        return self.add_function(FunctionBuilder(name, domain, **kwargs))

    def call(self, function: FunctionBuilder, *inputs: Any, **kwargs: Any) -> Any:
        """`op` calling ``function``, added first if needed: ``y = g.call(f, x, alpha=0.5)``."""
        self.add_function(function)
        return self.op(function.name, *inputs, domain=function.domain, overload=function.overload, **kwargs)

    def _add_output(self, value: Any, name: str | None, taken: list[str], where: str) -> tuple[str, str]:
        """Check, then add an Identity where needed; returns (output name, source value name)."""
        source = self._input_name(value, where, [])
        if not source:
            raise EditError(f"{where}: an output needs a value")
        out = source if name is None else name
        if out in taken:
            raise EditError(f"{where}: '{out}' is an output already")
        if out != source:
            self._check_free(out, "output")
        elif source not in self._defined or isinstance(self, FunctionBuilder) and source in self._inputs:
            # from an enclosing graph, or a function input (onnxruntime refuses those as outputs)
            out = self._fresh(source)
        if out != source:
            self.op("Identity", source, outputs=out)
        return out, source


# --- graphs ----------------------------------------------------------------------------------------

class GraphBuilder(_Builder):
    """Builds a graph; ``model()`` assembles the `Model`. Example::

        g = GraphBuilder("mlp")
        x = g.input("x", "float32", ["N", 4])
        h = g.op("Relu", g.op("Gemm", x, g.initializer("w", w), transB=1))
        g.output(h, "float32", ["N", 8])
        model = g.model(opset=21, producer_name="me", metadata={"k": "v"})

    ``opset``/``opsets`` given here are defaults for ``model()``.
    """

    def __init__(self, name: str = "main", *, opset: int | None = None,
                 opsets: Mapping[str, int] | None = None, doc_string: str = "",
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(name, None, f"graph '{name}'")
        self._setup(doc_string, metadata, opset, opsets)

    def _setup(self, doc_string: str, metadata: Mapping[str, str] | None, opset: int | None,
               opsets: Mapping[str, int] | None) -> None:
        self._inputs: list[Any] = []
        self._outputs: list[Any] = []
        self._initializers: list[Any] = []
        self._sparse: list[Any] = []
        self._opset, self._opsets = opset, dict(opsets or {})
        self._head = _proto.GraphProto()  # name, doc string, metadata
        self._head.name = self.name
        set_strings(self._head, doc_string=doc_string)
        set_metadata(self._head, metadata, self._where)

    def input(self, name: str, dtype: TypeLike | None = None, shape: ShapeLike = None, *,
              doc_string: str = "", metadata: Mapping[str, str] | None = None) -> Var:
        """A graph input: ``x = g.input("x", "float32", ["N", 3])``; ``dtype`` may be a Type
        (``sequence_type("float32")``). The main graph needs a type on every input."""
        self._check_open()
        self._check_free(name, "input")
        where = f"{self._where}.input '{name}'"
        info = self._value_info_proto(name, dtype, shape, doc_string, metadata, where)
        self._inputs.append(info)
        return self._define(name, info.type if info.HasField("type") else None)

    def _value_info_proto(self, name: str, dtype: TypeLike | None, shape: ShapeLike, doc_string: str,
                          metadata: Mapping[str, str] | None, where: str) -> Any:
        info = _proto.ValueInfoProto()
        info.name = name
        if dtype is not None:
            info.type.CopyFrom(type_proto(dtype, shape, where))
        elif shape is not None:
            raise EditError(f"{where}: a shape needs a dtype")
        set_strings(info, doc_string=doc_string)
        set_metadata(info, metadata, where)
        return info

    def initializer(self, name: str, value: Any, *, dtype: DTypeLike | None = None,
                    doc_string: str = "") -> Var:
        """A constant tensor stored with the graph, from a numpy array (any dtype, ml_dtypes ones
        too), a Tensor, or Python values (ints -> int64, floats -> float32 unless ``dtype`` says).
        Copied, in raw_data: ``w = g.initializer("w", np.ones((8, 3), np.float32))``."""
        self._check_open()
        self._check_free(name, "initializer")
        tensor = tensor_proto(value, dtype, f"{self._where}.initializer '{name}'")
        set_strings(tensor, doc_string=doc_string)
        self._lift(name, tensor)
        return Var(name, self)

    def _lift(self, name: str, tensor: Any) -> None:
        tensor.name = name
        self._initializers.append(tensor)
        self._define(name, tensor_type_of(tensor))

    def sparse_initializer(self, name: str, value: SparseTensor) -> Var:
        """A sparse constant (see `sparse_tensor`). ONNX types it as a sparse tensor, which standard
        ops do not take (onnxruntime densifies it anyway); ``op("Constant", sparse_value=s)`` is dense."""
        self._check_open()
        self._check_free(name, "sparse initializer")
        proto = _proto.SparseTensorProto()
        proto.CopyFrom(CONVERT["SPARSE_TENSOR"](value, f"{self._where}.sparse_initializer '{name}'"))
        proto.values.name = name
        self._sparse.append(proto)
        sparse_dims = _proto.TensorProto(data_type=proto.values.data_type, dims=proto.dims)
        return self._define(name, tensor_type_of(sparse_dims, "sparse_tensor_type"))

    def output(self, value: Var | str, dtype: TypeLike | None = None, shape: ShapeLike = None, *,
               name: str | None = None, doc_string: str = "",
               metadata: Mapping[str, str] | None = None) -> Var:
        """Make ``value`` a graph output (renamed to ``name`` through an Identity if given). The type
        defaults to the one the builder knows; the main graph needs one on every output."""
        self._check_open()
        where = f"{self._where}.output '{name or getattr(value, 'name', value)}'"
        info = self._value_info_proto("", dtype, shape, doc_string, metadata, where)
        info.name, source = self._add_output(value, name, [o.name for o in self._outputs], where)
        known = self._type_of(source)
        if dtype is None and known is not None:
            info.type.CopyFrom(known)
        if info.HasField("type"):
            self._types.setdefault(info.name, info.type)
        self._outputs.append(info)
        return Var(info.name, self)

    def _graph_proto(self) -> Any:
        g = _proto.GraphProto()
        g.CopyFrom(self._head)
        for field, items in (("node", self._nodes), ("initializer", self._initializers),
                             ("sparse_initializer", self._sparse), ("input", self._inputs),
                             ("output", self._outputs), ("value_info", self._value_info)):
            copy_into(getattr(g, field), items)
        return g

    def graph(self) -> Graph:
        """The graph built so far, as a standalone `Graph` view (a copy)."""
        return Graph(self._graph_proto(), None, None, "graph")

    def model(self, opset: int | None = None, *, opsets: Mapping[str, int] | None = None,
              ir_version: int | None = None, producer_name: str = "onnxlite",
              producer_version: str = __version__, domain: str = "", model_version: int | None = None,
              doc_string: str = "", metadata: Mapping[str, str] | None = None,
              functions: Iterable[FunctionBuilder] = (), validate: bool = True) -> Model:
        """Assemble the `Model`; the builder stays usable. Opset imports cover every domain the nodes
        use: ``opset`` (default `DEFAULT_OPSET`) for ONNX, ``opsets`` for the others (ai.onnx.ml
        defaults to the release of ``opset``, function and custom domains to 1). The IR version is
        the smallest the opsets and the contents (float8, int4, functions...) need. ``validate``
        checks each standard op against its schema at the imported version. Example::

            onnxlite.save(g.model(opset=21, metadata={"author": "me"}), "m.onnx")
        """
        if self._parent is not None:
            raise EditError(f"{self._where}: model() is for the main graph; a subgraph goes into a node")
        for kind, infos in (("input", self._inputs), ("output", self._outputs)):
            for info in infos:
                if not info.HasField("type"):
                    raise EditError(f"{self._where}: {kind} '{info.name}' has no type; the main graph needs "
                                    f"one, e.g. g.{kind}({info.name!r}, 'float32', [...])")
        head = _proto.ModelProto(model_version=model_version)
        set_strings(head, producer_name=producer_name, producer_version=producer_version, domain=domain,
                     doc_string=doc_string)
        set_metadata(head, metadata, self._where)
        return _assemble(self, head, opset, {**self._opsets, **(opsets or {})}, ir_version, list(functions),
                         validate)


register_graph_class(GraphBuilder)


# --- functions -------------------------------------------------------------------------------------

class FunctionBuilder(_Builder):
    """Builds a model-local function. Example::

        f = FunctionBuilder("Swish", "my.ops")
        x = f.input("x")
        beta = f.attribute("beta", 1.0)           # declared with a default; an AttrRef
        f.output(f.op("Mul", x, f.op("Sigmoid", f.op("Mul", x, f.op("Constant", value_float=beta)))))
        y = g.call(f, x_of_g, beta=2.0)           # or g.add_function(f); g.op("Swish", x, domain="my.ops")
    """

    def __init__(self, name: str, domain: str = "local", *, opset: int | None = None,
                 opsets: Mapping[str, int] | None = None, doc_string: str = "", overload: str = "",
                 metadata: Mapping[str, str] | None = None) -> None:
        where = f"function '{domain}.{name}'"
        super().__init__(name, None, where)
        if not name or not isinstance(domain, str) or is_default_domain(domain):
            raise EditError(f"{where}: a function needs a name and its own domain (not the ONNX domain)")
        self._domain, self._overload = domain, overload
        self._opset, self._opsets = opset, dict(opsets or {})
        self._inputs: list[str] = []
        self._outputs: list[str] = []
        self._attr_types: dict[str, str | None] = {}
        self._head = _proto.FunctionProto(name=name, domain=domain)  # and doc string, overload, metadata
        set_strings(self._head, overload=overload, doc_string=doc_string)
        set_metadata(self._head, metadata, where)

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def overload(self) -> str:
        return self._overload

    def input(self, name: str) -> Var:
        """A function input (functions are untyped: they take the types of each call)."""
        self._check_open()
        self._check_free(name, "input")
        self._inputs.append(name)
        return self._define(name)

    def output(self, value: Var | str, name: str | None = None) -> Var:
        """Make ``value`` a function output, renamed to ``name`` through an Identity if given."""
        self._check_open()
        where = f"{self._where}.output '{name or getattr(value, 'name', value)}'"
        out, _ = self._add_output(value, name, self._outputs, where)
        self._outputs.append(out)
        return Var(out, self)

    def attribute(self, name: str, default: Any = None, *, type: str | None = None) -> AttrRef:
        """Declare an attribute, with a default or not; returns the `AttrRef` that ops inside take
        (``alpha=f.attribute("alpha", 0.2)``). Its ``type`` ('FLOAT', 'INTS'...) comes from the
        default, or from the first op using it when neither is given."""
        self._check_open()
        where = f"{self._where}.attribute '{name}'"
        if not isinstance(name, str) or not name or name in self._attr_types:
            raise EditError(f"{where}: the name is empty or declared already")
        kind = None if type is None else type.upper()
        if kind is not None and kind not in TYPE_CODES:
            raise EditError(f"{where}: unknown attribute type '{type}'; e.g. 'INT', 'FLOATS'")
        if default is not None:
            proto = _proto.AttributeProto()
            self._attribute(proto, name, default, kind, where)
            self._head.attribute_proto.append(proto)
            kind = AttributeType(proto.type).name
        else:
            self._head.attribute.append(name)
        self._attr_types[name] = kind
        return AttrRef(name, kind)

    def _function_proto(self, opsets: dict[str, int]) -> Any:
        f = _proto.FunctionProto()
        f.CopyFrom(self._head)
        f.input.extend(self._inputs)
        f.output.extend(self._outputs)
        copy_into(f.node, self._nodes)
        copy_into(f.value_info, self._value_info)
        for d, v in opsets.items():
            f.opset_import.add(domain=d, version=v)
        return f


# --- a node on its own -----------------------------------------------------------------------------

def make_node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], *, domain: str = "",
              name: str = "", opset: int | None = None, doc_string: str = "", **attributes: Any) -> Node:
    """A new node outside any graph, for `onnxlite.edit.insert_node` to put into one.

    Attributes are typed as `GraphBuilder.op` types them: a standard op's from its schema at
    ``opset`` (the opset of the node's domain; default: the newest this onnxlite knows),
    converted where lossless (``alpha=1`` is a FLOAT), others from the Python value; `attr`
    spells out the rest (``attr.ints([])``), and ``attr.ref("alpha", "FLOAT")`` refers to an
    attribute of the function the node goes into. A standard op must exist at ``opset`` and fit
    its schema there (input and output counts, attribute names, required attributes), and so
    must the standard ops of its subgraphs. GRAPH attributes take `Graph` views and
    `GraphBuilder`s, copied as they are now (the builder stays open). Names Python cannot spell
    go in ``**{"lambda": 0.5}``; None leaves an attribute out; '' is an omitted optional input
    or output. Value names are not checked against any graph: inserting the node does that.

    The node sits alone in a detached `Graph` (``node.graph``, no model); ``node.proto`` is its
    NodeProto, a new message sharing nothing with the arguments. Set what is rarely needed on
    it: ``node.metadata_props = {...}``, ``node.overload = "..."``.

    >>> node = make_node("Gemm", ["a", "b"], ["y"], alpha=1, transB=1, name="fc")
    >>> node.attr("alpha"), node.attributes["transB"].type
    (1.0, 'INT')
    """
    where = f"make_node{f' {name!r}' if isinstance(name, str) and name else ''} ({op_type})"
    for what, text in (("op_type", op_type), ("domain", domain), ("name", name), ("doc_string", doc_string)):
        if not isinstance(text, str) or (what == "op_type" and not text):
            raise EditError(f"{where}: {what} must be a{' non-empty' if what == 'op_type' else ''} str, "
                            f"got {text!r}")
    domain = normalize_domain(domain)
    input_names, output_names = value_names(inputs, "inputs", where), value_names(outputs, "outputs", where)
    version, schema = schema_of(op_type, domain, opset, where)
    known = None if schema is None else attribute_types(schema)
    graph = _proto.GraphProto()  # the detached graph holding the node
    node = graph.node.add()
    for key, value in attributes.items():
        at = f"{where} attribute '{key}'"
        if value is None:
            continue
        if not key:
            raise EditError(f"{where}: an attribute name is empty")
        if known is not None:
            refuse_unknown(f"{op_type}-{schema[0]}", key, known, where)
        expected = None if known is None else known[key]
        if isinstance(value, AttrRef):
            _set_ref(node.attribute.add(), key, value, None, expected, at)
        else:
            fill_attribute(node.attribute.add(), key, value, expected, at, _graph_proto_of)
    node.op_type = op_type
    set_strings(node, name=name, domain=domain, doc_string=doc_string)  # as onnx.helper: no empty fields
    node.input.extend(input_names)
    node.output.extend(output_names)
    if schema is not None:
        check_node(node, where, schema)
        for attr, _slot, g in graph_attributes(node):  # its subgraphs' nodes, at the same opset
            validate_nodes(g.node, f"{where}.{attr}", {domain: version}, set(), {domain: version})
    return Node(node, Graph(graph, None, None, "detached"), 0)


def _set_ref(proto: Any, key: str, ref: AttrRef, declared: str | None, expected: str | None,
             where: str) -> None:
    """Make ``proto`` refer to an attribute of the enclosing function, typed by the ref, the
    function's declaration or the op's schema, in that order."""
    kind = ref.type or declared or expected
    if kind is None:
        raise EditError(f"{where}: the type of attr.ref('{ref.name}') is unknown; "
                        f"write attr.ref('{ref.name}', 'FLOAT') (or the right type)")
    if expected is not None and kind != expected:
        raise EditError(f"{where}: expects {expected}, attr.ref('{ref.name}') is {kind}")
    proto.name, proto.ref_attr_name, proto.type = key, ref.name, TYPE_CODES[kind]


def _graph_proto_of(graph: GraphBuilder | Graph, where: str, holder: _Builder | None = None) -> Any:
    """The GraphProto of a GRAPH value: a Graph view's message, or what a GraphBuilder holds now.
    A builder's subgraph goes only into a node of the graph that made it (``holder``)."""
    if isinstance(graph, Graph):
        return graph.proto
    if graph._parent is not None and graph._parent is not holder:
        raise EditError(f"{where}: {graph._where} was made by {graph._parent._where}.subgraph(); "
                        "use it in a node of that graph")
    return graph._graph_proto()


# --- model assembly --------------------------------------------------------------------------------

def _collect_functions(root: GraphBuilder, extra: list[FunctionBuilder]) -> list[FunctionBuilder]:
    found: dict[tuple[str, str, str], FunctionBuilder] = {}
    queue = [*root._functions.values(), *extra]
    while queue:
        f = queue.pop(0)
        key = (f.domain, f.name, f.overload)
        if found.setdefault(key, f) is not f:
            raise EditError(f"{f._where}: two different functions have this name")
        queue.extend(g for g in f._functions.values() if found.get((g.domain, g.name, g.overload)) is not g)
    return list(found.values())


def _assemble(root: GraphBuilder, model: Any, opset: int | None, explicit: dict[str, int],
              ir_version: int | None, extra: list[FunctionBuilder], validate: bool) -> Model:
    opset = explicit.pop("", None) or opset or root._opset or DEFAULT_OPSET
    for d, v in [("", opset), *explicit.items()]:
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise EditError(f"{root._where}: opset versions are ints >= 1; domain '{d}' has {v!r}")
    graph = root._graph_proto()
    functions = _collect_functions(root, extra)
    local = {(f.domain, f.name) for f in functions}
    used = {n.domain for n, _ in walk(graph.node, root._where)}
    for f in functions:
        used |= {f.domain} | {n.domain for n, _ in walk(f._nodes, f._where)}
    versions = opset_versions(sorted(used | set(explicit)), opset, explicit)
    for f in functions:
        mine = {n.domain for n, _ in walk(f._nodes, f._where)} | {""}
        f_versions = opset_versions(sorted(mine), f._opset or opset, {**versions, **f._opsets})
        if validate:
            validate_nodes(f._nodes, f._where, f_versions, local, versions)
        model.functions.append(f._function_proto(f_versions))
    if validate:
        validate_nodes(graph.node, root._where, versions, local, versions)
    need, why = opsets_ir(versions, root._where, ir_version is None)
    model.graph.CopyFrom(graph)
    feature_ir, feature = features_ir(model)
    need, why = max((need, why), (feature_ir, feature), key=lambda p: p[0])
    if ir_version is not None and ir_version < need:
        raise EditError(f"{root._where}: ir_version {ir_version} is too old for {why} (needs {need})")
    model.ir_version = need if ir_version is None else ir_version
    for d, v in versions.items():
        model.opset_import.add(domain=d, version=v)
    return Model(model)


