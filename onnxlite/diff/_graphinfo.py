"""One graph (or function body) flattened for matching: nodes, values, producers, consumers.

Everything is read once from the protobuf messages into plain lists of ints, so the signature
and pairing passes over 100,000-node graphs stay cheap. Node labels follow DESIGN.md's naming
rule (onnxlite.model.node_labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onnxlite.diff._signature import forward, leaf_labels, value_sig
from onnxlite.diff._tensorbytes import TensorRef, digest
from onnxlite.dtypes import DataType
from onnxlite.model import AttributeType, node_labels
from onnxlite.versions import normalize_domain

#: ops whose result does not depend on the order of their inputs (default domain)
COMMUTATIVE = frozenset({
    "Add", "Mul", "Sum", "Max", "Min", "Mean", "And", "Or", "Xor", "Equal",
    "BitwiseAnd", "BitwiseOr", "BitwiseXor",
})



@dataclass
class Leaf:
    """How a value that no node of the graph produces is defined."""

    kind: str  # 'input', 'initializer', 'sparse', 'outer', 'undefined', 'none' (omitted input)
    position: int = -1  # graph input position
    tensor: Any = None  # TensorProto / SparseTensorProto of an initializer


@dataclass
class GraphInfo:
    """The flat form of one graph. Value ids index ``names``; -1 marks an omitted input."""

    path: str
    store: Any
    protos: Any
    is_function: bool = False
    labels: list[str] = field(default_factory=list)
    ops: list[tuple[str, str, str]] = field(default_factory=list)  # (domain, op_type, overload)
    local: list[int] = field(default_factory=list)  # hash of op, attributes, arity
    commutative: list[bool] = field(default_factory=list)
    ins: list[tuple[int, ...]] = field(default_factory=list)
    outs: list[tuple[int, ...]] = field(default_factory=list)
    implicit: list[tuple[int, ...]] = field(default_factory=list)  # outer names read by bodies
    attrs: list[dict[str, Any]] = field(default_factory=list)  # name -> canonical value
    names: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    producer: list[tuple[int, int]] = field(default_factory=list)  # (node, slot) or (-1, -1)
    leaf: dict[int, Leaf] = field(default_factory=dict)
    consumers: list[list[tuple[int, int]]] = field(default_factory=list)  # (node, slot); slot -1 implicit
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    declared: dict[str, Any] = field(default_factory=dict)  # value name -> (TypeProto bytes, TypeProto)
    order: list[int] = field(default_factory=list)  # a topological order of the nodes
    cyclic: bool = False
    #: output value of a Constant node -> (dtype, dims, node): labelled like an initializer
    constant: dict[int, tuple[int, tuple[int, ...], int]] = field(default_factory=dict)

    def value_id(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.names)
            self.names.append(name)
            self.producer.append((-1, -1))
            self.consumers.append([])
        return found


def build(graph_proto: Any, store: Any, path: str, *, function: Any = None) -> GraphInfo:
    """Flatten a GraphProto (or, with ``function``, a FunctionProto) for matching."""
    src = function if function is not None else graph_proto
    protos = src.node
    info = GraphInfo(path=path, store=store, protos=protos, is_function=function is not None)
    info.labels = node_labels(src)
    if function is not None:
        for pos, name in enumerate(src.input):
            info.leaf[info.value_id(name)] = Leaf("input", pos)
        info.inputs = [info.ids[n] for n in src.input]
    else:
        for t in src.initializer:
            vid = info.value_id(t.name)
            info.leaf.setdefault(vid, Leaf("initializer", tensor=t))
        for s in src.sparse_initializer:
            vid = info.value_id(s.values.name)
            info.leaf.setdefault(vid, Leaf("sparse", tensor=s))
        # an input with an initializer (IR < 4 style) is a weight with an overridable default:
        # it is compared as an initializer, not as part of the interface
        pos = 0
        for v in src.input:
            vid = info.value_id(v.name)
            info.declared[v.name] = (v.type.SerializeToString(deterministic=True), v.type)
            if vid in info.leaf:
                continue
            info.leaf[vid] = Leaf("input", pos)
            info.inputs.append(vid)
            pos += 1
        for v in list(src.value_info) + list(src.output):
            if v.HasField("type"):
                info.declared[v.name] = (v.type.SerializeToString(deterministic=True), v.type)
    _nodes(info, protos, store)
    leaf = info.leaf
    for vid, (node, _) in enumerate(info.producer):
        if node < 0 and vid not in leaf:
            leaf[vid] = Leaf("outer")
    known = len(info.names)
    if function is not None:
        info.outputs = [info.value_id(n) for n in src.output]
    else:
        info.outputs = [info.value_id(v.name) for v in src.output]
    for vid in range(known, len(info.names)):  # outputs may name values nothing defines
        leaf[vid] = Leaf("undefined")
    _toposort(info)
    return info


def _nodes(info: GraphInfo, protos: Any, store: Any) -> None:
    """One pass over the nodes: value ids, producers and consumers, ops, canonical attributes and
    local labels. Written for speed (100,000-node graphs): locals, no per-value method calls."""
    ids, names, producer, consumers, leaf = info.ids, info.names, info.producer, info.consumers, info.leaf
    all_ins, all_outs, ops = info.ins, info.outs, info.ops
    commutative, attrs_list, local, implicit_list = info.commutative, info.attrs, info.local, info.implicit
    domains: dict[str, str] = {}
    no_attrs: dict[str, Any] = {}
    plain: dict[tuple[str, str, str, int, int], int] = {}  # local labels of attribute-less nodes
    for i, n in enumerate(protos):
        raw_domain = n.domain
        domain = domains.get(raw_domain)
        if domain is None:
            domain = domains[raw_domain] = normalize_domain(raw_domain)
        op_type = n.op_type
        overload = n.overload
        ops.append((domain, op_type, overload))
        commutative.append(not domain and op_type in COMMUTATIVE)
        outs = []
        outputs = tuple(n.output)
        for slot, name in enumerate(outputs):
            if not name:
                outs.append(-1)
                continue
            vid = ids.get(name)
            if vid is None:
                vid = ids[name] = len(names)
                names.append(name)
                producer.append((i, slot))
                consumers.append([])
            else:
                producer[vid] = (i, slot)
                leaf.pop(vid, None)
            outs.append(vid)
        all_outs.append(tuple(outs))
        ins = []
        for slot, name in enumerate(tuple(n.input)):
            if not name:
                ins.append(-1)
                continue
            vid = ids.get(name)
            if vid is None:
                vid = ids[name] = len(names)
                names.append(name)
                producer.append((-1, -1))
                consumers.append([(i, slot)])
            else:
                consumers[vid].append((i, slot))
            ins.append(vid)
        all_ins.append(tuple(ins))
        if not len(n.attribute):
            attrs_list.append(no_attrs)
            implicit_list.append(())
            key = (domain, op_type, overload, len(ins), len(outputs))
            label = plain.get(key)
            if label is None:
                label = plain[key] = hash(key + ((),))
            local.append(label)
            continue
        attrs: dict[str, Any] = {}
        free: set[str] = set()
        for a in n.attribute:
            if a.name not in attrs:
                attrs[a.name] = canonical_attribute(a, store, free)
        attrs_list.append(attrs)
        local.append(hash((domain, op_type, overload, len(ins), len(outputs), tuple(sorted(attrs.items())))))
        if op_type == "Constant" and not domain and not ins and len(outputs) == 1 and outputs[0]:
            meta = constant_meta(n)
            if meta is not None:
                info.constant[outs[0]] = (meta[0], meta[1], i)
        if not free:
            implicit_list.append(())
            continue
        implicit = []
        for name in sorted(free):
            vid = info.value_id(name)
            consumers[vid].append((i, -1))
            implicit.append(vid)
        implicit_list.append(tuple(implicit))

def _toposort(info: GraphInfo) -> None:
    """Kahn's order (stable by node index); nodes on a cycle (an invalid model) go last."""
    n = len(info.protos)
    pending = [0] * n
    for i in range(n):
        for vid in info.ins[i] + info.implicit[i]:
            if vid >= 0 and info.producer[vid][0] >= 0:
                pending[i] += 1
    ready = [i for i in range(n) if pending[i] == 0]
    ready.reverse()
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for vid in info.outs[i]:
            if vid < 0:
                continue
            for c, _slot in info.consumers[vid]:
                pending[c] -= 1
                if pending[c] == 0:
                    ready.append(c)
    if len(order) < n:
        info.cyclic = True
        seen = set(order)
        order.extend(i for i in range(n) if i not in seen)
    info.order = order


# --- Constant nodes as constant leaves ------------------------------------------------------------

#: Constant's scalar/list attributes: name -> (data type, is a list)
_CONSTANT_FIELDS = {
    "value_float": (DataType.FLOAT, False), "value_floats": (DataType.FLOAT, True),
    "value_int": (DataType.INT64, False), "value_ints": (DataType.INT64, True),
    "value_string": (DataType.STRING, False), "value_strings": (DataType.STRING, True),
}
_CONSTANT_LISTS = {"value_floats": "floats", "value_ints": "ints", "value_strings": "strings"}
_CONSTANT_ONE = {"value_float": "f", "value_int": "i", "value_string": "s"}


def constant_meta(node: Any) -> tuple[int, tuple[int, ...]] | None:
    """(dtype, dims) of the tensor a Constant node makes, or None when it is not a plain
    constant (a sparse value, a function attribute reference, a malformed node)."""
    if len(node.attribute) != 1:
        return None
    a = node.attribute[0]
    if a.ref_attr_name:
        return None
    if a.name == "value":
        return (int(a.t.data_type), tuple(a.t.dims)) if a.HasField("t") else None
    found = _CONSTANT_FIELDS.get(a.name)
    if found is None:
        return None
    dtype, is_list = found
    if is_list:
        return (int(dtype), (len(getattr(a, _CONSTANT_LISTS[a.name])),))
    return (int(dtype), ())


def constant_tensor(node: Any) -> Any:
    """The TensorProto a plain Constant node makes (see constant_meta): its ``value`` attribute,
    or a tensor built from ``value_float(s)``/``value_int(s)``/``value_string(s)``."""
    a = node.attribute[0]
    if a.name == "value":
        return a.t
    import numpy as np

    from onnxlite.model import Tensor

    dtype, is_list = _CONSTANT_FIELDS[a.name]
    if dtype == DataType.STRING:
        items = list(a.strings) if is_list else [a.s]
        array = np.array([bytes(x) for x in items], dtype=object).reshape(-1 if is_list else ())
    else:
        np_dtype = np.float32 if dtype == DataType.FLOAT else np.int64
        field_ = _CONSTANT_LISTS[a.name] if is_list else _CONSTANT_ONE[a.name]
        array = np.asarray(list(getattr(a, field_)) if is_list else getattr(a, field_), np_dtype)
    return Tensor.from_numpy(array, node.output[0]).proto


def constant_value(info: GraphInfo, vid: int) -> Any:
    """The TensorProto behind value ``vid`` when it is an initializer or a Constant's output."""
    leaf = info.leaf.get(vid)
    if leaf is not None:
        return leaf.tensor if leaf.kind == "initializer" else None
    found = info.constant.get(vid)
    return constant_tensor(info.protos[found[2]]) if found is not None else None


# --- canonical attribute values ----------------------------------------------------------------

def canonical_attribute(a: Any, store: Any, free: set[str]) -> Any:
    """A hashable value of an attribute that ignores value names: tensors by dtype, shape and
    content digest, graphs by structure. ``free`` collects outer names the graphs read."""
    if a.ref_attr_name:
        return ("ref", a.ref_attr_name)
    code = a.type or AttributeType.of(a)
    if code == AttributeType.FLOAT:
        return ("f", repr(float(a.f)))
    if code == AttributeType.INT:
        return ("i", int(a.i))
    if code == AttributeType.STRING:
        return ("s", bytes(a.s))
    if code == AttributeType.FLOATS:
        return ("floats", tuple(repr(float(v)) for v in a.floats))
    if code == AttributeType.INTS:
        return ("ints", tuple(int(v) for v in a.ints))
    if code == AttributeType.STRINGS:
        return ("strings", tuple(bytes(v) for v in a.strings))
    if code == AttributeType.TENSOR:
        return ("t",) + tensor_key(a.t, store)
    if code == AttributeType.TENSORS:
        return ("tensors",) + tuple(tensor_key(t, store) for t in a.tensors)
    if code == AttributeType.SPARSE_TENSOR:
        return ("sparse",) + sparse_key(a.sparse_tensor, store)
    if code == AttributeType.SPARSE_TENSORS:
        return ("sparses",) + tuple(sparse_key(s, store) for s in a.sparse_tensors)
    if code == AttributeType.GRAPH:
        return ("g", graph_shape(a.g, store, free))
    if code == AttributeType.GRAPHS:
        return ("graphs",) + tuple(graph_shape(g, store, free) for g in a.graphs)
    if code == AttributeType.TYPE_PROTO:
        return ("tp", a.tp.SerializeToString(deterministic=True))
    if code == AttributeType.TYPE_PROTOS:
        return ("tps",) + tuple(t.SerializeToString(deterministic=True) for t in a.type_protos)
    return ("?", AttributeType.name_of(code, str(code)), a.SerializeToString(deterministic=True))


def tensor_key(t: Any, store: Any) -> tuple[Any, ...]:
    """(dtype, dims, content digest) of a tensor held by an attribute (Constant values...)."""
    return (int(t.data_type), tuple(t.dims), digest(TensorRef(t, store, "attribute tensor")))


def sparse_key(s: Any, store: Any) -> tuple[Any, ...]:
    return (tuple(s.dims), tensor_key(s.values, store), tensor_key(s.indices, store))


def graph_shape(g: Any, store: Any, free: set[str]) -> int:
    """A structural hash of a subgraph (names ignored; inputs by position), and the names it
    reads from enclosing scopes (added to ``free``)."""
    info = build(g, store, "")
    for vid, leaf in info.leaf.items():
        if leaf.kind in ("outer", "undefined"):
            free.add(info.names[vid])
    leaves = leaf_labels(info, {}, outer_label=lambda name: hash(("outer",)))
    sf = forward(info, leaves)
    vs = [value_sig(info, sf, leaves, v) for v in info.outputs]
    return hash((len(info.inputs), tuple(sorted(sf)), tuple(vs)))
