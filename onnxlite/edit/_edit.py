"""Editing values and nodes, each in one call that keeps the whole model consistent.

    from onnxlite import edit
    edit.rename(model, "input.1", "pixels")          # producers, uses, subgraphs, value_info...
    edit.replace_all_uses(model, "x", "x_scaled")     # every reader of x now reads x_scaled
    edit.remove_node(model, "dropout0", rewire=True)  # its readers read its input instead
    edit.insert_node(model, "Relu", after="conv_out")     # conv_out's readers now read the Relu
    edit.add_input(model, "mask", "bool", ["N", 128])

A name is resolved the way ONNX resolves it: a graph sees its own values and those of the
graphs enclosing it, and a subgraph that defines a name hides the outer value of that name
from everything inside it. Edits follow that rule, so a rename reaches the readers of a value
inside If/Loop/Scan bodies and never touches a different value that happens to share the name.

Every edit checks before it changes: when it refuses (an unknown name, a name already taken, an
edit that would create a cycle), it raises `EditError` and the model is exactly as it was.
Targets are a `Model` (its main graph), a `Graph` (including a subgraph view from
``node.subgraphs()``) or a `Function`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onnxlite import _proto, builder, transform
from onnxlite.edit._scope import (
    Target,
    _all_names,
    _annotation_sites,
    _apply,
    _defined,
    _free_sites,
    _label,
    _node_reads,
    _outer_defined,
    _producers,
    _reindex,
    _scope,
    _Site,
    _subgraphs,
    _training_graphs,
)
from onnxlite.edit._types import Inferred, complete, differ, inferred_type, type_text, value_type
from onnxlite.errors import EditError
from onnxlite.model import (
    Function,
    Graph,
    Node,
    Tensor,
    Type,
    domain_label,
    normalize_domain,
    opset_version,
    reorder,
)

# --- rename ------------------------------------------------------------------------------------

def rename(target: Target, old: str, new: str) -> None:
    """Rename the value ``old`` to ``new`` everywhere it appears in its scope: its producer
    (node output, graph input, initializer, sparse initializer), every reader (also inside
    subgraphs that read it from the outer scope, but not where a subgraph defines its own
    ``old``), graph outputs, value_info, quantization annotations, node sharding specs and, for
    the main graph, training bindings and training graphs. ::

        edit.rename(model, "input.1", "pixels")

    Refused (EditError, nothing changed) when ``old`` does not appear in the graph, when it is
    defined by an enclosing graph (rename it there), or when ``new`` is already used anywhere
    it could clash.
    """
    scope = _scope(target)
    is_fn = isinstance(scope, Function)
    p = scope.proto
    if not new:
        raise EditError(f"{_label(scope)}: cannot rename '{old}' to '' (it marks an omitted input)")
    if old == new:
        return
    if not is_fn and old not in _declared(p) and old in _outer_defined(scope):
        raise EditError(f"{_label(scope)}: '{old}' is defined in an enclosing graph; rename it there")
    sites, clash = _rename_sites(scope, old, new)
    if not clash:
        clash = new in _declared(p, is_fn) or new in _outer_defined(scope) or any(
            new in _all_names(extra) for extra in _training_graphs(scope))
    if clash:
        raise EditError(f"{_label(scope)}: cannot rename '{old}' to '{new}': '{new}' is already used "
                        "in this graph, a subgraph or an enclosing graph")
    if not sites:
        raise EditError(f"{_label(scope)}: no value named '{old}'")
    _apply(sites, new)
    _reindex(scope)


def _declared(p: Any, function: bool = False) -> set[str]:
    """Names in a body's signature and declarations (not its nodes)."""
    if function:
        names = {*p.input, *p.output}
    else:
        names = {v.name for v in p.input}
        names.update(t.name for t in p.initializer)
        names.update(s.values.name for s in p.sparse_initializer)
        names.update(v.name for v in p.output)
    names.update(v.name for v in p.value_info)
    return names


def _rename_sites(scope: Graph | Function, old: str, new: str) -> tuple[list[_Site], bool]:
    """Where ``old`` appears in the scope, and whether ``new`` appears in a node of it (or of a
    subgraph). One pass over the nodes: this runs on graphs of 100,000s of nodes."""
    p = scope.proto
    sites: list[_Site] = []
    if isinstance(scope, Function):
        sites.extend((p.input, i) for i, x in enumerate(p.input) if x == old)
        sites.extend((p.output, i) for i, x in enumerate(p.output) if x == old)
        sites.extend((v, "name") for v in p.value_info if v.name == old)
    else:
        sites.extend((v, "name") for v in p.input if v.name == old)
        sites.extend((t, "name") for t in p.initializer if t.name == old)
        sites.extend((s.values, "name") for s in p.sparse_initializer if s.values.name == old)
        sites.extend((v, "name") for v in p.output if v.name == old)
        sites.extend((v, "name") for v in p.value_info if v.name == old)
        _annotation_sites(p, old, sites)
    clash = False
    for n in p.node:
        inputs = n.input
        outputs = n.output
        ins = inputs[:]
        outs = outputs[:]
        if new in ins or new in outs:
            clash = True
        if old in ins:
            sites.extend((inputs, i) for i, x in enumerate(ins) if x == old)
        if old in outs:
            sites.extend((outputs, i) for i, x in enumerate(outs) if x == old)
        if (old in ins or old in outs) and len(n.device_configurations):
            for config in n.device_configurations:  # sharding specs name the node's inputs/outputs
                specs = config.sharding_spec
                sites.extend((spec, "tensor_name") for spec in specs if spec.tensor_name == old)
        if len(n.attribute):
            for body in _subgraphs(n):
                clash = clash or new in _all_names(body)
                _free_sites(body, old, sites)
    for extra in _training_graphs(scope):
        _free_sites(extra, old, sites)
    model = scope.model
    if model is not None and isinstance(scope, Graph) and scope.parent is None and p is model.proto.graph:
        for t in model.proto.training_info:
            for binding in (t.initialization_binding, t.update_binding):
                sites.extend((e, "key") for e in binding if e.key == old)
    return sites, clash


# --- replace uses ------------------------------------------------------------------------------

def replace_all_uses(target: Target, old: str, new: str, *, include_outputs: bool = False,
                     exclude: Sequence[Node] = ()) -> int:
    """Make every reader of ``old`` read ``new`` instead (nodes of the graph and, through the
    outer scope, nodes of its subgraphs). Graph outputs named ``old`` change too only with
    ``include_outputs=True`` (that renames a model output). Nodes in ``exclude`` keep reading
    ``old``. Returns the number of inputs changed. ::

        edit.replace_all_uses(model, "x", "x_normalized", exclude=[norm_node])

    Refused when ``new`` is not visible from the graph, when a subgraph reading ``old`` defines
    its own ``new``, or when the change would create a cycle (``new`` computed from a reader of
    ``old``). Nodes are moved, keeping their order otherwise, when a reader of ``new`` would
    come before its producer.
    """
    scope = _scope(target)
    is_fn = isinstance(scope, Function)
    p = scope.proto
    if old == new:
        return 0
    here = _defined(p, is_fn)
    if not new or (new not in here and new not in _outer_defined(scope)):
        raise EditError(f"{_label(scope)}: cannot replace uses of '{old}' with '{new}': nothing defines "
                        f"'{new}' in this graph or an enclosing one")
    skip = {id(n.proto) for n in exclude}
    sites: list[_Site] = []
    readers: list[int] = []  # indexes of the top-level nodes whose reads change
    for i, n in enumerate(p.node):
        if id(n) in skip:
            continue
        before = len(sites)
        inputs = n.input
        if old in inputs[:]:
            sites.extend((inputs, k) for k, x in enumerate(inputs) if x == old)
        for body in _subgraphs(n):
            clash = _free_sites(body, old, sites, notes=False, avoid=new)
            if clash:
                raise EditError(f"{_label(scope)}.node[{i}] '{n.name}': its subgraph '{clash}' defines "
                                f"its own '{new}', which would hide the outer one from readers of '{old}'")
        if len(sites) > before:
            readers.append(i)
    if include_outputs and not is_fn:
        sites.extend((v, "name") for v in p.output if v.name == old)
    elif include_outputs:
        sites.extend((p.output, k) for k, x in enumerate(p.output) if x == old)
    if not sites:
        return 0
    if new in here:
        _refuse_cycle(scope, new, readers, old)
    _apply(sites, new)
    _restore_order(scope, new, readers)
    _reindex(scope)
    return len(sites)


def _refuse_cycle(scope: Graph | Function, new: str, readers: list[int], old: str) -> None:
    """Refuse when ``new`` is computed (transitively) from one of ``readers``."""
    p = scope.proto
    producers = _producers(p)
    start = producers.get(new)
    if start is None:
        return
    targets = set(readers)
    seen = {start}
    stack = [start]
    while stack:
        i = stack.pop()
        if i in targets:
            n = p.node[i]
            label = f"'{n.name}'" if n.name else f"node[{i}] ({n.op_type})"
            raise EditError(f"{_label(scope)}: replacing uses of '{old}' with '{new}' would create a cycle: "
                            f"'{new}' is computed from {label}, which reads '{old}'")
        for name in _node_reads(p.node[i]):
            j = producers.get(name)
            if j is not None and j not in seen:
                seen.add(j)
                stack.append(j)


def _restore_order(scope: Graph | Function, new: str, readers: list[int]) -> None:
    """Move the producer of ``new`` (and what it needs) before its new readers, when it comes
    after them: a stable reordering of the affected slice only."""
    p = scope.proto
    producers = _producers(p)
    start = producers.get(new)
    if start is None or not readers or min(readers) > start:
        return
    first = min(readers)
    # the producer and the nodes it needs that sit between `first` and it move up, in order
    needed = {start}
    stack = [start]
    while stack:
        i = stack.pop()
        for name in _node_reads(p.node[i]):
            j = producers.get(name)
            if j is not None and first <= j and j not in needed:
                needed.add(j)
                stack.append(j)
    order = sorted(needed) + [i for i in range(first, start + 1) if i not in needed]
    nodes = [_proto.copy(p.node[i]) for i in order]
    for offset, node in enumerate(nodes):
        p.node[first + offset].CopyFrom(node)


# --- nodes -------------------------------------------------------------------------------------

def _find_node(scope: Graph | Function, node: Node | str | int) -> int:
    p = scope.proto
    if isinstance(node, Node):
        for i, n in enumerate(p.node):
            if n is node.proto:
                return i
        raise EditError(f"{_label(scope)}: node {node!r} is not in this graph")
    if isinstance(node, int) and not isinstance(node, bool):
        if not 0 <= node < len(p.node):
            raise EditError(f"{_label(scope)}: no node[{node}] (the graph has {len(p.node)} nodes)")
        return node
    if isinstance(node, str):
        found = [i for i, n in enumerate(p.node) if n.name == node]
        if not found:
            raise EditError(f"{_label(scope)}: no node named '{node}'")
        if len(found) > 1:
            raise EditError(f"{_label(scope)}: {len(found)} nodes are named '{node}' "
                            f"(node[{found[0]}], node[{found[1]}]...); pass the Node or its index")
        return found[0]
    raise TypeError(f"expected a Node, a node name or an index, got {type(node).__name__}")


def _node_label(p: Any, i: int) -> str:
    n = p.node[i]
    return f"node[{i}] '{n.name}'" if n.name else f"node[{i}] ({n.op_type})"


def _readers(scope: Graph | Function, name: str, skip: int = -1) -> list[str]:
    """Who reads ``name`` in the scope (nodes, through subgraphs too, and graph outputs)."""
    p = scope.proto
    who: list[str] = []
    for i, n in enumerate(p.node):
        if i == skip:
            continue
        sites: list[_Site] = []
        if name in n.input[:]:
            sites.append((None, 0))
        for body in _subgraphs(n):
            _free_sites(body, name, sites, notes=False)
        if sites:
            who.append(_node_label(p, i))
    outputs = list(p.output) if isinstance(scope, Function) else [v.name for v in p.output]
    if name in outputs:
        who.append("the graph outputs")
    return who


def remove_node(target: Target, node: Node | str | int, *, rewire: bool = False) -> None:
    """Remove a node (a Node, its name, or its index).

    Refused while anything reads its outputs, unless ``rewire=True``: then the readers of its
    first output read its first input instead (removing an Identity or Dropout). When that
    output is a graph output, the value feeding the node takes the output's name instead, so
    the model's interface keeps its names. A rewire that would change the type its readers see
    (removing a Cast, an Equal, a Reshape...) is refused: the types come from the model's
    declarations, else from `onnxlite.infer`. ::

        edit.remove_node(model, "dropout0", rewire=True)
    """
    scope = _scope(target)
    p = scope.proto
    index = _find_node(scope, node)
    n = p.node[index]
    label = f"{_label(scope)}.{_node_label(p, index)}"
    outputs = [x for x in n.output if x]
    used = {x: _readers(scope, x, skip=index) for x in outputs}
    if not rewire:
        busy = {x: who for x, who in used.items() if who}
        if busy:
            x, who = next(iter(busy.items()))
            raise EditError(f"{label}: its output '{x}' is read by {', '.join(who[:3])}"
                            f"{'...' if len(who) > 3 else ''}; remove the readers first, or rewire them to "
                            "the node's first input (--rewire)")
        _delete_node(scope, index, outputs)
        return
    source = next((x for x in n.input if x), "")
    first = n.output[0] if len(n.output) else ""
    others = {x: who for x, who in used.items() if x != first and who}
    if others:
        x, who = next(iter(others.items()))
        raise EditError(f"{label}: rewire connects the first output only, but output '{x}' is read by "
                        f"{', '.join(who[:3])}")
    if not used.get(first):
        _delete_node(scope, index, outputs)
        return
    if not source:
        raise EditError(f"{label}: cannot rewire: the node has no input to connect its readers to")
    inferred = Inferred(scope)
    was, now = value_type(scope, first, inferred), value_type(scope, source, inferred)
    if differ(was, now):
        raise EditError(f"{label}: cannot rewire: its readers read '{first}' as {type_text(was)}, and "
                        f"'{source}' is {type_text(now)}; insert a node converting it (e.g. Cast) instead")
    is_output = "the graph outputs" in used[first]
    if not is_output:
        replace_all_uses(scope, first, source, exclude=[Node(n, scope, index)])
        _delete_node(scope, index, outputs)
        return
    # keep the output's name: the producer of `source` takes it over
    producers = _producers(p)
    j = producers.get(source)
    if j is None or j == index:
        raise EditError(f"{label}: cannot rewire: output '{first}' is a graph output and '{source}' is not "
                        "computed by a node of this graph (a graph input, initializer or outer value); "
                        "keeping the output would rename the model interface. Rename it explicitly first")
    out_names = list(p.output) if isinstance(scope, Function) else [v.name for v in p.output]
    if source in out_names:
        raise EditError(f"{label}: cannot rewire: both '{source}' and '{first}' are graph outputs")
    sites, _ = _rename_sites(scope, source, first)  # `first` is still named by the graph output
    del p.node[index]
    _apply(sites, first)
    if isinstance(scope, Graph):  # one value_info per name: the output's own entry wins
        seen: set[str] = set()
        kept = []
        for v in p.value_info:
            if v.name not in seen:
                seen.add(v.name)
                kept.append(_proto.copy(v))
        if len(kept) != len(p.value_info):
            del p.value_info[:]
            p.value_info.extend(kept)
    _reindex(scope)


def _delete_node(scope: Graph | Function, index: int, outputs: list[str], keep_notes: bool = False) -> None:
    p = scope.proto
    del p.node[index]
    if not keep_notes and isinstance(scope, Graph):
        gone = set(outputs)
        kept = [_proto.copy(v) for v in p.value_info if v.name not in gone]
        if len(kept) != len(p.value_info):
            del p.value_info[:]
            p.value_info.extend(kept)
    _reindex(scope)


# --- graph inputs, outputs and initializers ------------------------------------------------------

def _graph_only(target: Target, what: str) -> Graph:
    scope = _scope(target)
    if not isinstance(scope, Graph):
        raise EditError(f"{_label(scope)}: {what} applies to graphs; a function's inputs and outputs "
                        "are its signature")
    return scope


def _known_type(graph: Graph, name: str) -> Any:
    """A TypeProto for ``name`` from the graph's (or an enclosing graph's) declarations, or None."""
    scope: Graph | None = graph
    while scope is not None:
        p = scope.proto
        for v in (*p.input, *p.output, *p.value_info):
            if v.name == name and v.HasField("type"):
                return v.type
        for t in p.initializer:
            if t.name == name:
                tp = _proto.TypeProto()
                tp.tensor_type.elem_type = t.data_type
                tp.tensor_type.shape.SetInParent()
                for d in t.dims:
                    tp.tensor_type.shape.dim.add().dim_value = d
                return tp
        scope = scope.parent
    return None


def _inferred_proto(graph: Graph, name: str) -> Any:
    from onnxlite.infer import format_type, to_type_proto

    t = inferred_type(graph, name)
    if t is None or not complete(t):
        got = f" (inference found only {format_type(t)})" if t is not None else ""
        raise EditError(f"{_label(graph)}: the type of '{name}' is unknown: nothing declares it and "
                        f"inference cannot tell{got}; give it (type=onnxlite.parser.parse_type("
                        "'float[N,10]') in Python, --type 'NAME=float[N,10]' on the command line)")
    return to_type_proto(t)


def add_output(target: Target, name: str, type: Type | None = None) -> None:
    """Make the value ``name`` a graph output. Its type comes from ``type`` or, when omitted,
    from what the graph declares about it (inputs, value_info, initializers), else from
    `onnxlite.infer`. A value neither declares nor infers (at least its element type) is refused:
    onnx.checker requires a type on every graph output. ::

        edit.add_output(model, "conv1_out")        # expose an intermediate value
        edit.add_output(model, "h", onnxlite.parser.parse_type("float[N,64]"))
    """
    graph = _graph_only(target, "add_output")
    p = graph.proto
    if any(v.name == name for v in p.output):
        raise EditError(f"{_label(graph)}: '{name}' is already a graph output")
    if name not in _defined(p) and name not in _outer_defined(graph):
        raise EditError(f"{_label(graph)}: no value named '{name}' to output")
    tp = type.proto if type is not None else _known_type(graph, name)
    if tp is None:
        tp = _inferred_proto(graph, name)
    entry = p.output.add()
    entry.name = name
    if tp is not None:
        entry.type.CopyFrom(tp)
    _reindex(graph)


def remove_output(target: Target, name: str) -> None:
    """Stop exporting ``name`` from the graph (the nodes computing it stay; `transform.remove_unused`
    drops them)."""
    graph = _graph_only(target, "remove_output")
    p = graph.proto
    index = next((i for i, v in enumerate(p.output) if v.name == name), None)
    if index is None:
        raise EditError(f"{_label(graph)}: '{name}' is not a graph output")
    del p.output[index]
    _reindex(graph)


def remove_input(target: Target, name: str) -> None:
    """Remove the graph input ``name``; refused while a node reads it (unless an initializer of
    the same name keeps providing the value)."""
    graph = _graph_only(target, "remove_input")
    p = graph.proto
    index = next((i for i, v in enumerate(p.input) if v.name == name), None)
    if index is None:
        raise EditError(f"{_label(graph)}: '{name}' is not a graph input")
    if not any(t.name == name for t in p.initializer):
        who = _readers(graph, name)
        if who:
            raise EditError(f"{_label(graph)}: input '{name}' is read by {', '.join(who[:3])}"
                            f"{'...' if len(who) > 3 else ''}; remove or rewire the readers first")
    del p.input[index]
    _reindex(graph)


def add_initializer(target: Target, name: str, value: Any) -> Tensor:
    """Add an initializer from a numpy array (any ONNX dtype, ml_dtypes included) or a Tensor
    (copied). Refused when ``name`` is already defined, except as a graph input without a value
    (the initializer becomes its default). ::

        edit.add_initializer(model, "scale", np.float32(0.5))
    """
    graph = _graph_only(target, "add_initializer")
    p = graph.proto
    inputs = {v.name for v in p.input}
    if name in _defined(p) and name not in inputs or any(t.name == name for t in p.initializer):
        raise EditError(f"{_label(graph)}: '{name}' is already defined")
    if name in _outer_defined(graph):
        raise EditError(f"{_label(graph)}: '{name}' is defined in an enclosing graph")
    if not name:
        raise EditError(f"{_label(graph)}: an initializer needs a name")
    tensor = value if isinstance(value, Tensor) else Tensor.from_numpy(value)
    entry = p.initializer.add()
    entry.CopyFrom(tensor.proto)
    entry.name = name
    _reindex(graph)
    return Tensor(entry, graph.store, f"{graph.where}.initializer[{len(p.initializer) - 1}]")


def remove_initializer(target: Target, name: str) -> None:
    """Remove the initializer ``name``; refused while a node reads it (unless it is also a graph
    input, which then has no default any more)."""
    graph = _graph_only(target, "remove_initializer")
    p = graph.proto
    indexes = [i for i, t in enumerate(p.initializer) if t.name == name]
    if not indexes:
        raise EditError(f"{_label(graph)}: no initializer named '{name}'")
    if not any(v.name == name for v in p.input):
        who = _readers(graph, name)
        if who:
            raise EditError(f"{_label(graph)}: initializer '{name}' is read by {', '.join(who[:3])}"
                            f"{'...' if len(who) > 3 else ''}; remove or rewire the readers first")
    for i in reversed(indexes):
        del p.initializer[i]
    _reindex(graph)


def add_input(target: Target, name: str, dtype: Any, shape: Sequence[int | str | None] | None = None,
              *, index: int | None = None) -> None:
    """Add a graph input of ``dtype`` (``"float32"``, a numpy dtype, a DataType, or a `Type` with
    ``shape`` omitted) and ``shape`` (ints, symbolic names, None for unknown; None for unknown
    rank), at the end or at ``index``. A name nodes read but nothing defined becomes defined. ::

        edit.add_input(model, "attention_mask", "int64", ["batch", "seq"])
    """
    graph = _graph_only(target, "add_input")
    p = graph.proto
    if not name:
        raise EditError(f"{_label(graph)}: an input needs a name")
    if name in _defined(p) or name in _outer_defined(graph):
        raise EditError(f"{_label(graph)}: '{name}' is already defined")
    tp = dtype.proto if isinstance(dtype, Type) and shape is None else builder.tensor_type(dtype, shape).proto
    entries = [_proto.copy(v) for v in p.input]
    entry = _proto.ValueInfoProto()
    entry.name = name
    entry.type.CopyFrom(tp)
    at = len(entries) if index is None else index
    if not -len(entries) - 1 < at <= len(entries):
        raise EditError(f"{_label(graph)}: input index {index} out of range (0..{len(entries)})")
    if at == len(entries):
        p.input.add().CopyFrom(entry)
    else:
        entries.insert(at, entry)
        del p.input[:]
        for v in entries:
            p.input.add().CopyFrom(v)
    _reindex(graph)


def _value_of(where: str | Node | None, scope: Graph | Function) -> str:
    """The value name an ``after=``/``before=`` argument stands for (a Node: its one output)."""
    if isinstance(where, Node):
        outputs = [o for o in where.outputs if o]
        if len(outputs) != 1:
            raise EditError(f"{_label(scope)}: node {where.label!r} has {len(outputs)} outputs; "
                            "name the value to insert at instead")
        return outputs[0]
    assert where is not None
    return where


def insert_node(target: Target, op_type: str, *, after: str | Node | None = None,
                before: str | Node | None = None,
                inputs: Sequence[str] = (), output: str | None = None, name: str = "", domain: str = "",
                **attributes: Any) -> Node:
    """Insert a node on a value, keeping the graph consistent. Attributes are typed as the
    builder types them (`onnxlite.builder.make_node`), at the graph's opset for ``domain``.

    - ``after=v``: the node reads ``v`` (then ``inputs``) and every node that read ``v`` now reads
      the node's output (named ``output``, default a fresh name); graph outputs keep ``v``. ``v``
      may be a Node with one output: that output.
    - ``before=v``: the node becomes the producer of ``v``: what produced ``v`` now produces a
      fresh name (or ``output``) that the node reads, so every reader of ``v``, graph outputs
      included, sees the node's result under the same name.

    The node goes right after the last producer of its inputs; nodes move (stable topological
    order) only when an extra input is computed after a reader. Returns the inserted Node. ::

        edit.insert_node(model, "Relu", after="conv1_out")
        edit.insert_node(model, "Mul", before="logits", inputs=["temperature"], name="scale")
    """
    scope = _scope(target)
    p = scope.proto
    if (after is None) == (before is None):
        raise EditError(f"{_label(scope)}: insert_node needs exactly one of after= and before=")
    value = _value_of(after if after is not None else before, scope)
    here = _defined(p, isinstance(scope, Function))
    visible = here | _outer_defined(scope)
    for x in (value, *inputs):
        if x and x not in visible:
            raise EditError(f"{_label(scope)}: no value named '{x}' to insert a node on")
    taken = _all_names(p, isinstance(scope, Function)) | _outer_defined(scope)
    for extra in _training_graphs(scope):
        taken |= _all_names(extra)
    fresh = output if output else _fresh_name(f"{value}_{op_type.lower()}", taken)
    if fresh in taken:
        raise EditError(f"{_label(scope)}: cannot name the new output '{fresh}': it is already used")
    if before is not None:
        if isinstance(scope, Graph) and any(v.name == before for v in p.input):
            raise EditError(f"{_label(scope)}: '{before}' is a graph input: insert after it "
                            "(before= would rename the model's input)")
        if before not in here:
            raise EditError(f"{_label(scope)}: '{before}' is defined in an enclosing graph; insert there")
    node = builder.make_node(op_type, [fresh if before is not None else value, *inputs],
                             [before if before is not None else fresh], domain=domain, name=name,
                             opset=_opset_for(scope, domain), **attributes)
    if name and any(n.name == name for n in p.node):
        raise EditError(f"{_label(scope)}: a node is already named '{name}'")
    # everything is checked: change the graph
    new_output = before if before is not None else fresh
    if before is not None:
        _apply(_producer_sites(p, before), fresh)
    else:
        sites: list[_Site] = []
        for n in p.node:
            if value in n.input[:]:
                sites.extend((n.input, k) for k, x in enumerate(n.input) if x == value)
            for body in _subgraphs(n):
                _free_sites(body, value, sites, notes=False)
        _apply(sites, fresh)
    _add_domain(scope, domain)
    producers = _producers(p)
    position = max((producers[x] + 1 for x in node.proto.input if x in producers), default=0)
    inserted = _insert_at(p, position, node.proto)
    first_reader = next((i for i, n in enumerate(p.node)
                         if n is not inserted and new_output in _node_reads(n)), None)
    if first_reader is not None and first_reader < position:
        transform.toposort(scope)
        position = next(i for i, n in enumerate(p.node) if n is inserted)
    _reindex(scope)
    return Node(p.node[position], scope, position)


def _producer_sites(p: Any, name: str) -> list[_Site]:
    """Where a body defines ``name`` (node outputs with their sharding specs, initializers),
    and its value_info, which describes the value as produced."""
    sites: list[_Site] = []
    for n in p.node:
        outputs = n.output
        if name in outputs[:]:
            sites.extend((outputs, i) for i, x in enumerate(outputs) if x == name)
            for config in n.device_configurations:
                specs = config.sharding_spec
                sites.extend((spec, "tensor_name") for spec in specs if spec.tensor_name == name)
    if hasattr(p, "initializer"):
        sites.extend((t, "name") for t in p.initializer if t.name == name)
        sites.extend((sp.values, "name") for sp in p.sparse_initializer if sp.values.name == name)
    sites.extend((v, "name") for v in p.value_info if v.name == name)
    return sites


def _fresh_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"


def _opset_for(scope: Graph | Function, domain: str) -> int | None:
    imports = scope.opset_imports if isinstance(scope, Function) else (
        scope.model.opset_imports if scope.model is not None else {})
    key = normalize_domain(domain)
    version = opset_version(imports, key)
    if version is None and key in transform.STANDARD_DOMAINS:
        raise EditError(f"{_label(scope)}: the model does not import the domain '{domain_label(key)}': "
                        "add it to opset_imports first")
    return version


def _add_domain(scope: Graph | Function, domain: str) -> None:
    """A custom domain the model does not import yet gets version 1."""
    key = normalize_domain(domain)
    model = scope.model
    owner = scope.proto if isinstance(scope, Function) else (model.proto if model is not None else None)
    if owner is None or any(o.domain == key for o in owner.opset_import):
        return
    entry = owner.opset_import.add()
    entry.domain = key
    entry.version = 1


def _insert_at(p: Any, position: int, node: Any) -> Any:
    """Insert a copy of ``node`` at ``position`` in ``p.node``; returns the message in place."""
    added = p.node.add()
    added.CopyFrom(node)
    last = len(p.node) - 1
    if position < last:
        order = list(range(position)) + [last] + list(range(position, last))
        reorder(p.node, order)
    return p.node[position] if position < last else added
