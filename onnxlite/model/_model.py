"""The object model: thin views over the protobuf messages, plus the producer/uses index.

Every view keeps a reference to its protobuf message (``.proto``, the escape hatch) and reads
through to it, so nothing is converted that the user doesn't touch and nothing is lost: fields
the views don't show, and fields of newer schemas (unknown fields), stay in the message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import IO, Any, Union

from onnxlite import _proto
from onnxlite._storage import io, writer
from onnxlite.errors import EditError, ModelFormatError
from onnxlite.model._fields import scalar, string_list, string_map
from onnxlite.model._tables import AttributeType
from onnxlite.model._tensors import SparseTensor, Tensor
from onnxlite.model._types import Type, ValueInfo
from onnxlite.model._walk import defined_names, graph_attributes, node_labels

#: Bumped by every edit (`changed`); a Graph's cached producer/uses index is valid only for the
#: generation it was built in, so every live view answers as a fresh one would after any edit.
_GENERATION = [0]


def changed() -> None:
    """Tell every view that a model was edited: cached producer/uses indexes are rebuilt on next
    use. The edit layer calls it after each change; call it after editing ``.proto`` directly."""
    _GENERATION[0] += 1

PathLike = Union[str, "os.PathLike[str]"]

def _decode_str(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


class Attribute:
    """A view over AttributeProto; ``value`` is the typed Python value: int, float, str (bytes
    when not UTF-8), Tensor, SparseTensor, Graph, Type, or a list of those."""

    __slots__ = ("proto", "_owner", "_where")

    FIELDS = {
        "name": "name", "ref_attr_name": "ref_attr_name", "doc_string": "doc_string", "type": "type",
        "f": "value", "i": "value", "s": "value", "t": "value", "g": "value", "sparse_tensor": "value",
        "tp": "value", "floats": "value", "ints": "value", "strings": "value", "tensors": "value",
        "graphs": "value", "sparse_tensors": "value", "type_protos": "value",
    }

    def __init__(self, proto: _proto.AttributeProto, owner: Graph | Function | None, where: str) -> None:
        self.proto = proto
        self._owner = owner
        self._where = where

    name = scalar("name")
    doc_string = scalar("doc_string")
    ref_attr_name = scalar("ref_attr_name", "Set inside functions: the attribute refers to the "
                           "function's attribute of this name.")

    @property
    def type(self) -> str:
        """The attribute type name ('INT', 'FLOATS', 'GRAPH'...), inferred for old files that
        leave the type field unset."""
        if self.proto.type:
            return AttributeType.name_of(self.proto.type)
        return AttributeType.of(self.proto).name

    @property
    def value(self) -> Any:
        code = int(self.proto.type or AttributeType.of(self.proto))
        try:
            kind: AttributeType | None = AttributeType(code)
        except ValueError:  # a type number from a newer schema
            kind = None
        if kind is None or kind.field is None:
            what = f"unknown type {code}" if code else "no value (type unset or unknown to this schema)"
            raise ModelFormatError(f"{self._where}: attribute '{self.proto.name}' has {what}")
        p = self.proto
        store = self._store()
        where = f"{self._where}.attribute '{p.name}'"
        A = AttributeType
        if kind == A.FLOAT:
            return float(p.f)
        if kind == A.INT:
            return int(p.i)
        if kind == A.STRING:
            return _decode_str(p.s)
        if kind == A.TENSOR:
            return Tensor(p.t, store, where)
        if kind == A.GRAPH:
            return Graph(p.g, self._parent_graph(), self._model(), where + ".g")
        if kind == A.SPARSE_TENSOR:
            return SparseTensor(p.sparse_tensor, store, where)
        if kind == A.TYPE_PROTO:
            return Type(p.tp)
        if kind == A.FLOATS:
            return [float(v) for v in p.floats]
        if kind == A.INTS:
            return [int(v) for v in p.ints]
        if kind == A.STRINGS:
            return [_decode_str(v) for v in p.strings]
        if kind == A.TENSORS:
            return [Tensor(t, store, f"{where}[{i}]") for i, t in enumerate(p.tensors)]
        if kind == A.GRAPHS:
            return [Graph(g, self._parent_graph(), self._model(), f"{where}.graphs[{i}]")
                    for i, g in enumerate(p.graphs)]
        if kind == A.SPARSE_TENSORS:
            return [SparseTensor(t, store, f"{where}[{i}]") for i, t in enumerate(p.sparse_tensors)]
        return [Type(t) for t in p.type_protos]

    def _store(self) -> io.DataStore:
        model = self._model()
        return model.store if model is not None else io.DataStore()

    def _model(self) -> Model | None:
        return self._owner.model if self._owner is not None else None

    def _parent_graph(self) -> Graph | None:
        return self._owner if isinstance(self._owner, Graph) else None

    def __repr__(self) -> str:
        return f"Attribute({self.proto.name!r}, {self.type})"


class Node:
    """A view over NodeProto. Inputs and outputs are tuples of value names ('' = omitted
    optional input). Example: ``node.op_type, node.inputs, node.attr('axis', 0)``."""

    __slots__ = ("proto", "graph", "_index")

    FIELDS = {
        "input": "inputs", "output": "outputs", "name": "name", "op_type": "op_type", "domain": "domain",
        "overload": "overload", "attribute": "attributes", "doc_string": "doc_string",
        "metadata_props": "metadata_props", "device_configurations": "device_configurations",
    }

    def __init__(self, proto: _proto.NodeProto, graph: Graph | Function, index: int = -1) -> None:
        self.proto = proto
        self.graph = graph
        self._index = index  # position in graph.node, for error paths; -1 when unknown

    # Plain properties, not the `scalar` factory: these are read for every node of huge graphs.
    @property
    def op_type(self) -> str:
        return self.proto.op_type  # type: ignore[no-any-return]

    @op_type.setter
    def op_type(self, value: str) -> None:
        self.proto.op_type = value

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input value names ('' marks an omitted optional input)."""
        return tuple(self.proto.input[:])  # slicing first is ~30% faster with upb

    @inputs.setter
    def inputs(self, value: Any) -> None:
        raise EditError(f"{self._describe()}: inputs are read-only here; rewire with "
                        "onnxlite.edit.replace_all_uses(...) or rename with onnxlite.edit.rename(...)")

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output value names."""
        return tuple(self.proto.output[:])

    @outputs.setter
    def outputs(self, value: Any) -> None:
        raise EditError(f"{self._describe()}: outputs are read-only here; rename them with "
                        "onnxlite.edit.rename(...)")

    @property
    def label(self) -> str:
        """The node's label in reports: its name when non-empty and unique in its graph, else
        ``NAME#INDEX`` (``#INDEX`` when unnamed)."""
        if self._index < 0:
            return self.proto.name or "#?"  # type: ignore[no-any-return]
        return node_labels(self.graph.proto)[self._index]

    @property
    def where(self) -> str:
        """The node's path in the model, e.g. ``graph.node[12]``."""
        suffix = f"node[{self._index}]" if self._index >= 0 else "node"
        return f"{self.graph.where}.{suffix}"

    name = scalar("name")
    domain = scalar("domain")
    overload = scalar("overload")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")
    @property
    def attributes(self) -> dict[str, Attribute]:
        """Attributes by name, in file order."""
        where = self._describe()
        out: dict[str, Attribute] = {}
        for a in self.proto.attribute:  # a duplicate name (invalid) keeps the first, like attr()
            if a.name not in out:
                out[a.name] = Attribute(a, self.graph, where)
        return out

    def attr(self, name: str, default: Any = None) -> Any:
        """The typed value of attribute ``name``, or ``default`` when absent."""
        for a in self.proto.attribute:
            if a.name == name:
                return Attribute(a, self.graph, self._describe()).value
        return default

    def subgraphs(self) -> list[Graph]:
        """Graphs held by this node's attributes (If branches, Loop/Scan bodies, lists of graphs)."""
        out: list[Graph] = []
        model = self.graph.model
        parent = self.graph if isinstance(self.graph, Graph) else None
        for attr, slot, g in graph_attributes(self.proto):
            field = f"graphs[{slot}]" if slot is not None else "g"
            where = f"{self._describe()}.attribute '{attr}'.{field}"
            out.append(Graph(g, parent, model, where))
        return out

    @property
    def device_configurations(self) -> list[NodeDeviceConfiguration]:
        return [NodeDeviceConfiguration(c) for c in self.proto.device_configurations]

    def _describe(self) -> str:
        where = self.where
        return f"{where} '{self.proto.name}'" if self.proto.name else where

    def __repr__(self) -> str:
        name = f" {self.proto.name!r}" if self.proto.name else ""
        domain = f"{self.proto.domain}." if self.proto.domain else ""
        io_names = f"{list(self.proto.input)} -> {list(self.proto.output)}"
        return f"Node({domain}{self.proto.op_type}{name}: {io_names})"


class Value:
    """A value name in a graph scope with its producer and its uses.

    ``producer`` is a Node, a ValueInfo (graph input), a Tensor (initializer), or None when
    nothing defines it; ``kind`` says which ('node', 'input', 'initializer', 'outer', 'undefined').
    A value defined in an enclosing graph has kind 'outer' and ``outer`` is that Value.
    ``uses`` lists (node, input index) pairs, including nodes inside subgraphs that read the name
    from the outer scope.
    """

    __slots__ = ("name", "graph", "kind", "producer", "outer", "uses")

    def __init__(self, name: str, graph: Graph, kind: str, producer: Any, outer: Value | None) -> None:
        self.name = name
        self.graph = graph
        self.kind = kind
        self.producer = producer
        self.outer = outer
        self.uses: list[tuple[Node, int]] = []

    def __repr__(self) -> str:
        return f"Value({self.name!r}, {self.kind}, uses={len(self.uses)})"


class Initializers(Mapping[str, Tensor]):
    """The graph's initializers as an ordered, read-only mapping name -> Tensor."""

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._index: dict[str, int] | None = None

    def _names(self) -> dict[str, int]:
        if self._index is None:
            self._index = {}
            for i, t in enumerate(self._graph.proto.initializer):
                self._index.setdefault(t.name, i)
        return self._index

    def __getitem__(self, name: str) -> Tensor:
        i = self._names()[name]
        return self._tensor(i)

    def _tensor(self, i: int) -> Tensor:
        g = self._graph
        return Tensor(g.proto.initializer[i], g.store, f"{g.where}.initializer[{i}]")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def values(self) -> Any:  # file order, duplicates included, without building the name index
        return [self._tensor(i) for i in range(len(self._graph.proto.initializer))]

    def __repr__(self) -> str:
        return f"Initializers({list(self._names())})"


class Graph:
    """A view over GraphProto (the main graph or a subgraph). Example::

        g = model.graph
        [n.op_type for n in g.nodes]; g.initializers["w"].numpy()
        g.value("x").producer, g.value("x").uses
    """

    FIELDS = {
        "node": "nodes", "name": "name", "initializer": "initializers",
        "sparse_initializer": "sparse_initializers", "doc_string": "doc_string", "input": "inputs",
        "output": "outputs", "value_info": "value_info", "quantization_annotation": "quantization_annotation",
        "metadata_props": "metadata_props",
    }

    def __init__(self, proto: Any, parent: Graph | None, model: Model | None, where: str = "graph") -> None:
        # GraphProto (Any for mypy until edit/summary/transform narrow GraphProto | FunctionProto)
        self.proto = proto
        self.parent = parent
        self.model = model
        self.where = where
        self._values: dict[str, Value] | None = None
        self._generation = -1

    name = scalar("name")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")

    @property
    def store(self) -> io.DataStore:
        return self.model.store if self.model is not None else io.DataStore()

    @property
    def nodes(self) -> tuple[Node, ...]:
        """The nodes, in order (a tuple: add and remove nodes with onnxlite.edit)."""
        return tuple(Node(n, self, i) for i, n in enumerate(self.proto.node))

    def node(self, label: str) -> Node:
        """The node with this label: its name when unique in the graph, else ``NAME#INDEX``
        (``#INDEX`` for an unnamed node). KeyError when no node has it."""
        labels = node_labels(self.proto)
        try:
            index = labels.index(label)
        except ValueError:
            repeated = [lbl for lbl in labels if lbl.rsplit("#", 1)[0] == label and "#" in lbl]
            hint = f"; the name is repeated, use one of {', '.join(repeated[:5])}" if repeated else ""
            raise KeyError(f"{self.where}: no node labelled {label!r}{hint}") from None
        return Node(self.proto.node[index], self, index)

    @property
    def inputs(self) -> tuple[ValueInfo, ...]:
        return tuple(ValueInfo(v) for v in self.proto.input)

    @property
    def outputs(self) -> tuple[ValueInfo, ...]:
        return tuple(ValueInfo(v) for v in self.proto.output)

    @property
    def value_info(self) -> tuple[ValueInfo, ...]:
        return tuple(ValueInfo(v) for v in self.proto.value_info)

    @property
    def initializers(self) -> Initializers:
        return Initializers(self)

    @property
    def sparse_initializers(self) -> list[SparseTensor]:
        w = self.where
        return [SparseTensor(s, self.store, f"{w}.sparse_initializer[{i}]")
                for i, s in enumerate(self.proto.sparse_initializer)]

    @property
    def quantization_annotation(self) -> list[TensorAnnotation]:
        return [TensorAnnotation(a) for a in self.proto.quantization_annotation]

    # --- producer / uses index ----------------------------------------------------------------

    def value(self, name: str) -> Value:
        """The Value named ``name`` as seen from this graph: defined or read here, or defined in an
        enclosing graph. KeyError for a name nothing in scope defines or reads (``values`` lists
        what exists)."""
        values = self._index()
        found = values.get(name)
        if found is not None:
            return found
        outer = self.parent.value(name) if self.parent is not None else None  # KeyError goes up
        if outer is None:
            raise KeyError(f"{self.where}: no value named {name!r}")
        return Value(name, self, "outer" if outer.kind != "undefined" else "undefined", None, outer)

    @property
    def values(self) -> dict[str, Value]:
        """Every value name this graph defines or reads, with producer and uses."""
        return dict(self._index())

    def reindex(self) -> None:
        """Forget every cached producer/uses index (call after editing ``.proto`` directly)."""
        changed()

    def _index(self) -> dict[str, Value]:
        if self._values is not None and self._generation == _GENERATION[0]:
            return self._values
        values: dict[str, Value] = {}
        for i, t in enumerate(self.proto.initializer):
            values.setdefault(t.name, Value(t.name, self, "initializer",
                                            Tensor(t, self.store, f"{self.where}.initializer[{i}]"), None))
        for s in self.proto.sparse_initializer:
            name = s.values.name
            values.setdefault(name, Value(name, self, "initializer", SparseTensor(s, self.store), None))
        for v in self.proto.input:
            values[v.name] = Value(v.name, self, "input", ValueInfo(v), None)
        nodes = self.nodes
        for node in nodes:
            for out in node.proto.output:
                if out:
                    values[out] = Value(out, self, "node", node, None)
        for node in nodes:
            for i, name in enumerate(node.proto.input):
                if name:
                    self._use(values, name).uses.append((node, i))
            # nodes in subgraphs (at any depth) that read a name from this scope
            for name, user, idx in _free_uses(node):
                self._use(values, name).uses.append((user, idx))
        for v in self.proto.output:
            if v.name and v.name not in values:
                self._use(values, v.name)
        self._values = values
        self._generation = _GENERATION[0]
        return values

    def _use(self, values: dict[str, Value], name: str) -> Value:
        found = values.get(name)
        if found is None:
            outer = self.parent._lookup(name) if self.parent is not None else None
            kind = "outer" if outer is not None and outer.kind != "undefined" else "undefined"
            found = values[name] = Value(name, self, kind, None, outer)
        return found

    def _lookup(self, name: str) -> Value | None:
        """``value(name)`` without the KeyError: None when nothing in scope has the name."""
        found = self._index().get(name)
        if found is not None:
            return found
        return self.parent._lookup(name) if self.parent is not None else None

    def __repr__(self) -> str:
        return f"Graph({self.proto.name!r}, {len(self.proto.node)} nodes)"


def _free_uses(node: Node) -> Iterator[tuple[str, Node, int]]:
    """Names read inside ``node``'s subgraphs (at any depth) that none of the enclosing
    subgraphs defines: the node's implicit inputs from the outer scope. Iterative, so a deeply
    nested model cannot exhaust the Python stack."""
    stack: list[tuple[Graph, frozenset[str]]] = [(g, frozenset()) for g in node.subgraphs()]
    while stack:
        graph, outer_defs = stack.pop()
        frozen = outer_defs | defined_names(graph.proto, False)
        for inner in graph.nodes:
            for i, name in enumerate(inner.proto.input):
                if name and name not in frozen:
                    yield name, inner, i
            if inner.proto.attribute:
                stack.extend((g, frozen) for g in inner.subgraphs())


class Function:
    """A view over FunctionProto (a model-local function)."""

    FIELDS = {
        "name": "name", "input": "inputs", "output": "outputs", "attribute": "attributes",
        "attribute_proto": "attribute_defaults", "node": "nodes", "doc_string": "doc_string",
        "opset_import": "opset_imports", "domain": "domain", "overload": "overload",
        "value_info": "value_info", "metadata_props": "metadata_props",
    }

    def __init__(self, proto: Any, model: Model | None, where: str = "function") -> None:
        self.proto = proto  # FunctionProto (Any for mypy: see Graph)
        self.model = model
        self.where = where

    name = scalar("name")
    domain = scalar("domain")
    overload = scalar("overload")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")
    inputs = string_list("input")
    outputs = string_list("output")
    attributes = string_list("attribute", "Names of attributes without a default value.")

    @property
    def attribute_defaults(self) -> dict[str, Attribute]:
        """Attributes declared with a default value (``attribute_proto``)."""
        where = f"{self.where}.attribute_proto"
        return {a.name: Attribute(a, self, where) for a in self.proto.attribute_proto}

    @property
    def nodes(self) -> tuple[Node, ...]:
        """The nodes, in order (a tuple: add and remove nodes with onnxlite.edit)."""
        return tuple(Node(n, self, i) for i, n in enumerate(self.proto.node))

    @property
    def opset_imports(self) -> dict[str, int]:
        return {o.domain: int(o.version) for o in self.proto.opset_import}

    @property
    def value_info(self) -> tuple[ValueInfo, ...]:
        return tuple(ValueInfo(v) for v in self.proto.value_info)

    @property
    def store(self) -> io.DataStore:
        return self.model.store if self.model is not None else io.DataStore()

    def __repr__(self) -> str:
        return f"Function({self.proto.domain}.{self.proto.name}, {len(self.proto.node)} nodes)"


class TrainingInfo:
    """A view over TrainingInfoProto."""

    FIELDS = {
        "initialization": "initialization", "algorithm": "algorithm",
        "initialization_binding": "initialization_binding", "update_binding": "update_binding",
    }

    def __init__(self, proto: _proto.TrainingInfoProto, model: Model, where: str) -> None:
        self.proto = proto
        self.model = model
        self.where = where

    initialization_binding = string_map("initialization_binding")
    update_binding = string_map("update_binding")

    @property
    def initialization(self) -> Graph | None:
        if not self.proto.HasField("initialization"):
            return None
        return Graph(self.proto.initialization, None, self.model, f"{self.where}.initialization")

    @property
    def algorithm(self) -> Graph | None:
        if not self.proto.HasField("algorithm"):
            return None
        return Graph(self.proto.algorithm, None, self.model, f"{self.where}.algorithm")


class TensorAnnotation:
    """A view over TensorAnnotation (quantization parameters of one tensor)."""

    __slots__ = ("proto",)

    FIELDS = {"tensor_name": "tensor_name", "quant_parameter_tensor_names": "quant_parameter_tensor_names"}

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    tensor_name = scalar("tensor_name")
    quant_parameter_tensor_names = string_map("quant_parameter_tensor_names")


class DeviceConfiguration:
    """A view over DeviceConfigurationProto (ModelProto.configuration)."""

    __slots__ = ("proto",)

    FIELDS = {"name": "name", "num_devices": "num_devices", "device": "device"}

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    name = scalar("name")
    num_devices = scalar("num_devices")
    device = string_list("device")


class NodeDeviceConfiguration:
    """A view over NodeDeviceConfigurationProto (how a node is sharded over devices)."""

    __slots__ = ("proto",)

    FIELDS = {"configuration_id": "configuration_id", "sharding_spec": "sharding_spec",
              "pipeline_stage": "pipeline_stage"}

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    configuration_id = scalar("configuration_id")
    pipeline_stage = scalar("pipeline_stage")

    @property
    def sharding_spec(self) -> list[ShardingSpec]:
        return [ShardingSpec(s) for s in self.proto.sharding_spec]


class ShardingSpec:
    """A view over ShardingSpecProto."""

    __slots__ = ("proto",)

    FIELDS = {"tensor_name": "tensor_name", "device": "device",
              "index_to_device_group_map": "index_to_device_group_map", "sharded_dim": "sharded_dim"}

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    tensor_name = scalar("tensor_name")

    @property
    def device(self) -> tuple[int, ...]:
        return tuple(self.proto.device)

    @property
    def index_to_device_group_map(self) -> dict[int, tuple[int, ...]]:
        return {e.key: tuple(e.value) for e in self.proto.index_to_device_group_map}

    @property
    def sharded_dim(self) -> list[ShardedDim]:
        return [ShardedDim(d) for d in self.proto.sharded_dim]


class ShardedDim:
    """A view over ShardedDimProto: the axis and how it is split."""

    __slots__ = ("proto",)

    FIELDS = {"axis": "axis", "simple_sharding": "simple_sharding"}

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    axis = scalar("axis")

    @property
    def simple_sharding(self) -> list[tuple[int | str | None, int]]:
        """(dim value or symbolic name, num_shards) pairs."""
        out: list[tuple[int | str | None, int]] = []
        for s in self.proto.simple_sharding:
            which = s.WhichOneof("dim")
            dim = s.dim_value if which == "dim_value" else s.dim_param if which == "dim_param" else None
            out.append((dim, int(s.num_shards)))
        return out


class Model:
    """A loaded ONNX model. Example::

        model = onnxlite.load("model.onnx")
        model.ir_version, model.opset_imports, model.producer_name
        for node in model.graph.nodes: ...
        onnxlite.save(model, "out.onnx", external_data=True)
    """

    FIELDS = {
        "ir_version": "ir_version", "opset_import": "opset_imports", "producer_name": "producer_name",
        "producer_version": "producer_version", "domain": "domain", "model_version": "model_version",
        "doc_string": "doc_string", "graph": "graph", "metadata_props": "metadata_props",
        "training_info": "training_info", "functions": "functions", "configuration": "configuration",
    }

    def __init__(self, proto: _proto.ModelProto | None = None, store: io.DataStore | None = None) -> None:
        self.proto = proto if proto is not None else _proto.ModelProto()
        self.store = store if store is not None else io.DataStore()
        self._graph: Graph | None = None

    ir_version = scalar("ir_version")
    producer_name = scalar("producer_name")
    producer_version = scalar("producer_version")
    domain = scalar("domain")
    model_version = scalar("model_version")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")

    @property
    def opset_imports(self) -> dict[str, int]:
        """Opset versions by domain ('' is the default ONNX domain). A copy: assign to change."""
        return {o.domain: int(o.version) for o in self.proto.opset_import}

    @opset_imports.setter
    def opset_imports(self, value: dict[str, int]) -> None:
        del self.proto.opset_import[:]
        for domain, version in value.items():
            entry = self.proto.opset_import.add()
            entry.domain = domain
            entry.version = version

    @property
    def graph(self) -> Graph:
        if self._graph is None or self._graph.proto is not self.proto.graph:
            self._graph = Graph(self.proto.graph, None, self, "graph")
        return self._graph

    @property
    def functions(self) -> list[Function]:
        return [Function(f, self, f"functions[{i}]") for i, f in enumerate(self.proto.functions)]

    @property
    def training_info(self) -> list[TrainingInfo]:
        return [TrainingInfo(t, self, f"training_info[{i}]") for i, t in enumerate(self.proto.training_info)]

    @property
    def configuration(self) -> list[DeviceConfiguration]:
        return [DeviceConfiguration(c) for c in self.proto.configuration]

    def tensors(self) -> Iterator[tuple[str, Tensor]]:
        """Every tensor in the model (initializers, Constant values, tensor attributes, sparse
        values/indices, in all graphs and functions) with its path."""
        for where, proto in io.iter_tensors(self.proto):
            yield where, Tensor(proto, self.store, where)

    def close(self) -> None:
        """Release the model's memory map and external data files now rather than when the
        Model is garbage collected. Reading (or saving) tensor data that stayed in those files
        afterwards raises ModelClosedError; everything else still works. Closing twice is fine.
        A Model is a context manager that closes on exit::

            with onnxlite.load("model.onnx") as model:
                print(model.graph.initializers["w"].numpy().sum())
        """
        self.store.close()

    @property
    def closed(self) -> bool:
        return self.store.closed

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Model(ir_version={self.proto.ir_version}, opsets={self.opset_imports}, "
                f"producer={self.proto.producer_name!r}, {len(self.proto.graph.node)} nodes)")


# --- load and save ----------------------------------------------------------------------------

def load(f: PathLike | IO[bytes], *, base_dir: PathLike | None = None, lazy: bool | None = None) -> Model:
    """Load an ONNX model from a path or binary file object.

    Large weights are not read: embedded payloads stay in the memory-mapped file and external
    data files are opened on first use. ``lazy=None`` does that for files of 1 MiB or more
    and parses smaller files whole (faster, and their payloads are small); True/False force
    either way. ``base_dir`` says where external data lives (default: the file's folder). ::

        model = onnxlite.load("model.onnx")
        model.graph.initializers["w"].numpy()
    """
    proto, store = io.read_model(f, base_dir=base_dir, lazy=lazy)
    return Model(proto, store)


def loads(
    data: bytes | bytearray | memoryview, *, base_dir: PathLike | None = None, lazy: bool | None = None
) -> Model:
    """Load a model from serialized bytes (``base_dir`` locates external data, if any;
    ``lazy`` as for `load`)."""
    proto, store = io.read_bytes(data, base_dir=base_dir, lazy=lazy)
    return Model(proto, store)


def save(
    model: Model,
    path: PathLike,
    *,
    external_data: bool | None = None,
    location: str | None = None,
    size_threshold: int = 1024,
    per_tensor: bool = False,
) -> None:
    """Save ``model`` to ``path`` atomically (a temporary file renamed into place).

    - ``external_data=None`` keeps every tensor where it is; external data saved into another
      folder is written beside the new file, so the result is self-contained.
    - ``True`` moves every tensor of at least ``size_threshold`` bytes into ``location``
      (default ``<file name>.data``), or one file per tensor with ``per_tensor=True``.
    - ``False`` embeds everything (refused when the file would pass protobuf's 2 GiB limit).

    The caller's model is never changed. Example:
    ``onnxlite.save(model, "out.onnx", external_data=True, location="weights.bin")``
    """
    writer.write_model(model.proto, model.store, path, external_data=external_data, location=location,
                   size_threshold=size_threshold, per_tensor=per_tensor)


def dumps(model: Model) -> bytes:
    """The serialized model (lazy payloads included; external data stays external)."""
    return writer.serialize(model.proto)
