"""`transform.extract`: a new model computing some values of a model from others (the nodes
between them, the initializers and functions they need; weights stay shared and lazy)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf.message import DecodeError

from onnxlite import _proto
from onnxlite.dtypes import DataType
from onnxlite.errors import EditError
from onnxlite.model import DimValue, Model, Type
from onnxlite.transform._walk import _node_desc, _Tree, _walk_nodes

TypeSpec = Type | tuple[DataType | int | str, Sequence[DimValue] | None]


# --- extract ----------------------------------------------------------------------------------

def extract(
    model: Model,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    types: Mapping[str, TypeSpec] | None = None,
) -> Model:
    """A new model computing ``outputs`` from ``inputs``: the nodes between them, the
    initializers those nodes read, the functions they call. The source model is not changed.

    Types of the new graph inputs and outputs come from ``types``, else the model's inputs,
    outputs, value_info and initializers, else `onnxlite.infer` (run only when needed);
    onnx.checker requires one on each, so a value whose type is still unknown raises EditError
    naming ``types``: a `Type` or ``(dtype, shape)`` (shape: ints, symbolic names, None for
    unknown dims; shape None for unknown rank).

    A value the outputs need that is not among ``inputs``, not an initializer and not computed
    by a node raises EditError naming it and the node needing it. The new model keeps the ir
    version, opset imports, producer and metadata, and shares the source's weights: lazy and
    external tensors are not read (save the new model to write them). ::

        part = transform.extract(model, ["input"], ["/layer1/Relu_output_0"],
                                 types={"/layer1/Relu_output_0": ("float", ["N", 64, 56, 56])})
    """
    inputs, outputs = _names(inputs, "inputs"), _names(outputs, "outputs")
    src = model.proto
    g = src.graph
    tree = _Tree([(g, "graph")])
    nodes = tree.nodes[0]
    reads = tree.reads(0)
    producers: dict[str, list[int]] = {}
    for i, n in enumerate(nodes):
        for out in n.output:
            if out:
                producers.setdefault(out, []).append(i)
    inits = _first_index(t.name for t in g.initializer)  # a repeated name (invalid): the first wins
    sparse = _first_index(s.values.name for s in g.sparse_initializer)
    graph_inputs = {v.name for v in g.input}
    _check_known(inputs, producers, inits, sparse, graph_inputs, reads)
    given = set(inputs)
    keep = [False] * len(nodes)
    kept_inits: set[str] = set()
    kept_sparse: set[str] = set()
    stack: list[tuple[str, str | None]] = [(name, None) for name in reversed(outputs)]
    seen: set[str] = set()
    while stack:
        name, needer = stack.pop()
        if name in given or name in seen:
            continue
        seen.add(name)
        if name in producers:
            for i in producers[name]:
                if not keep[i]:
                    keep[i] = True
                    desc = _node_desc("graph", i, nodes[i])
                    stack.extend((x, desc) for x in reversed(reads[i]) if x)
        elif name in inits:
            kept_inits.add(name)
        elif name in sparse:
            kept_sparse.add(name)
        else:
            what = f"value '{name}' needed by {needer}" if needer else f"output '{name}'"
            why = ("is a graph input not among the inputs" if name in graph_inputs
                   else "is not computed by any node, initializer or input of the graph")
            raise EditError(f"extract: {what} {why}: add it to inputs")
    for i, k in enumerate(keep):  # a kept node must not redefine a name that became an input
        clash = next((out for out in nodes[i].output if out in given), None)
        if k and clash is not None:
            why = next(out for out in nodes[i].output if out in seen and out not in given)
            raise EditError(
                f"extract: input '{clash}' is also computed by {_node_desc('graph', i, nodes[i])}, which the "
                f"outputs need for '{why}': add '{why}' to the inputs too, or do not list '{clash}'")
    new_values = set(given) | seen
    for i, k in enumerate(keep):
        if k:
            new_values.update(reads[i])
            new_values.update(nodes[i].output)
    annotations = []
    for a in g.quantization_annotation:
        params = [e.value for e in a.quant_parameter_tensor_names]
        if a.tensor_name in new_values and all(q in new_values or q in inits for q in params):
            annotations.append(a)
            kept_inits.update(q for q in params if q in inits and q not in given)
    infos = _type_sources(g, inits, sparse)
    inferred = _Inferred(model)
    in_infos = [_value_info(name, infos, types, "input", inferred) for name in inputs]
    out_infos = [_value_info(name, infos, types, "output", inferred) for name in outputs]
    unknown = sorted(set(types or ()) - given - set(outputs))
    if unknown:
        raise EditError(f"extract: types names '{unknown[0]}', which is neither an input nor an output")

    new = _proto.ModelProto()
    _copy_fields(src, new, skip=("graph", "functions", "training_info"))
    ng = new.graph
    _copy_fields(g, ng, skip=("node", "initializer", "sparse_initializer", "input", "output", "value_info",
                              "quantization_annotation"))
    ng.input.extend(in_infos)
    try:
        ng.node.extend(n for n, k in zip(nodes, keep, strict=True) if k)
    except DecodeError as e:  # protobuf copies through its parser, which stops at 100 levels
        raise EditError("extract: the graph nests subgraphs too deeply for protobuf to copy") from e
    ng.initializer.extend(g.initializer[inits[name]] for name in inits if name in kept_inits)
    ng.sparse_initializer.extend(g.sparse_initializer[i] for name, i in sparse.items() if name in kept_sparse)
    if src.ir_version < 4:  # IR 3 requires every initializer to be a graph input as well
        for t in ng.initializer:
            if t.name not in given:
                ng.input.append(_value_info(t.name, infos, None, "input"))
    ng.output.extend(out_infos)
    io_names = given | set(outputs)
    done: set[str] = set()
    for v in g.value_info:
        if v.name in new_values and v.name not in io_names and v.name not in done:
            done.add(v.name)
            ng.value_info.append(v)
    ng.quantization_annotation.extend(annotations)
    new.functions.extend(src.functions[k] for k in _called_functions(src, ng))
    return Model(new, model.store)


def _first_index(names: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, name in enumerate(names):
        out.setdefault(name, i)
    return out


def _names(names: Sequence[str], what: str) -> list[str]:
    if isinstance(names, str):
        raise EditError(f"extract: {what} must be a list of value names, got the string {names!r}")
    out = list(names)
    for name in out:
        if not isinstance(name, str) or not name:
            raise EditError(f"extract: {what} holds {name!r}, which is not a value name")
    dupes = sorted({name for name in out if out.count(name) > 1})
    if dupes:
        raise EditError(f"extract: {what} lists '{dupes[0]}' more than once")
    return out


def _check_known(
    inputs: list[str], producers: Mapping[str, Any], inits: Mapping[str, Any], sparse: Mapping[str, Any],
    graph_inputs: set[str], reads: list[Any],
) -> None:
    missing = [x for x in inputs if x not in producers and x not in inits and x not in sparse
               and x not in graph_inputs]
    if not missing:
        return
    read: set[str] = set()
    for names in reads:  # a name read but defined nowhere can be fed as an input too
        read.update(names)
    for name in missing:
        if name not in read:
            raise EditError(f"extract: input '{name}' is not in the graph: nothing defines or reads it")


def _type_sources(g: Any, inits: Mapping[str, int], sparse: Mapping[str, int]) -> dict[str, Any]:
    """name -> ValueInfoProto carrying what the model says about its type (first source wins:
    graph inputs, outputs, value_info, then initializers)."""
    infos: dict[str, Any] = {}
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.HasField("type") and v.name not in infos:
            infos[v.name] = v
    tensors = [(name, g.initializer[i].data_type, g.initializer[i].dims) for name, i in inits.items()]
    tensors += [(name, g.sparse_initializer[i].values.data_type, g.sparse_initializer[i].dims)
                for name, i in sparse.items()]
    for name, data_type, dims in tensors:
        if name not in infos:
            v = _proto.ValueInfoProto(name=name)
            v.type.tensor_type.elem_type = data_type
            v.type.tensor_type.shape.SetInParent()  # a rank-0 initializer is a scalar, not unranked
            for d in dims:
                v.type.tensor_type.shape.dim.add().dim_value = d
            infos[name] = v
    return infos


class _Inferred:
    """The main graph's inferred types, computed on first use (only for a value the model does
    not declare)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._types: dict[str, Any] | None = None

    def type_proto(self, name: str) -> Any:
        from onnxlite.infer import InferError, MapType, OptionalType, SequenceType, infer_types, to_type_proto

        if self._types is None:
            try:
                self._types = infer_types(self.model).types.get("", {})
            except InferError:
                self._types = {}
        t = self._types.get(name)
        inner = t
        while isinstance(inner, (SequenceType, OptionalType)):
            inner = inner.elem
        if isinstance(inner, MapType):
            inner = inner.value if inner.key is not None else None
        if t is None or inner is None or getattr(inner, "dtype", None) is None:
            return None
        return to_type_proto(t)


def _value_info(name: str, infos: Mapping[str, Any], types: Mapping[str, TypeSpec] | None, role: str,
                inferred: _Inferred | None = None) -> Any:
    if types is not None and name in types:
        v = _proto.ValueInfoProto(name=name)
        v.type.CopyFrom(_type_proto(types[name], name))
        return v
    found = infos.get(name)
    if found is None and inferred is not None:
        tp = inferred.type_proto(name)
        if tp is not None:
            found = _proto.ValueInfoProto(name=name)
            found.type.CopyFrom(tp)
    if found is None:
        raise EditError(
            f"extract: the type of {role} '{name}' is unknown (nothing declares it and inference cannot "
            f"tell) and onnx.checker requires one: give it (types={{'{name}': "
            f"(dtype, shape)}} in Python, --type '{name}=float[N,10]' on the command line)")
    return found


def _type_proto(spec: TypeSpec, name: str) -> Any:
    if isinstance(spec, Type):
        return spec.proto
    try:
        dtype, shape = spec
    except (TypeError, ValueError):
        raise EditError(f"extract: types['{name}'] must be a Type or (dtype, shape), got {spec!r}") from None
    t = _proto.TypeProto()
    tensor = t.tensor_type
    tensor.elem_type = _data_type(dtype, name)
    if shape is not None:
        tensor.shape.SetInParent()
        for d in shape:
            dim = tensor.shape.dim.add()
            if isinstance(d, bool) or not isinstance(d, (int, str, type(None))) or (
                    isinstance(d, int) and d < 0):
                raise EditError(
                    f"extract: types['{name}'] has dimension {d!r}: use an int >= 0, a name or None")
            if isinstance(d, int):
                dim.dim_value = d
            elif isinstance(d, str):
                dim.dim_param = d
    return t


def _data_type(dtype: DataType | int | str, name: str) -> int:
    try:
        if isinstance(dtype, str):
            return int(DataType[dtype.upper()])
        if isinstance(dtype, int) and not isinstance(dtype, bool):
            return int(DataType(dtype))
    except (KeyError, ValueError):
        pass
    raise EditError(f"extract: types['{name}'] has data type {dtype!r}: use a DataType, its number or name")


def _copy_fields(src: Any, dst: Any, skip: tuple[str, ...]) -> None:
    """Copy every set field of ``src`` to ``dst`` except ``skip`` (unknown fields are not copied)."""
    for fd, value in src.ListFields():
        if fd.name in skip:
            continue
        if _proto.is_repeated(fd):
            getattr(dst, fd.name).extend(value)
        elif fd.message_type is not None:
            getattr(dst, fd.name).CopyFrom(value)
        else:
            setattr(dst, fd.name, value)


def _called_functions(model: Any, graph: Any) -> list[int]:
    """Indices of the model functions ``graph`` calls, directly or through other functions."""
    index: dict[tuple[str, str, str], int] = {}
    for k, f in enumerate(model.functions):
        index.setdefault((f.domain, f.name, f.overload), k)
    found: set[int] = set()
    stack = [graph]
    while stack:
        for n in _walk_nodes(stack.pop()):
            called = index.get((n.domain, n.op_type, n.overload))
            if called is not None and called not in found:
                found.add(called)
                stack.append(model.functions[called])
    return sorted(found)
