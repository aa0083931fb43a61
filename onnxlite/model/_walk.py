"""THE walker: every graph body of a model (main graph, If/Loop/Scan subgraphs at any depth, lists of
graphs, training graphs, model-local functions), the names each body defines and reads, and the one
naming rule for nodes and bodies in reports.

Every feature walks graphs through this module, so they agree on what a subgraph is, which outer
value a name resolves to (an inner body that defines a name hides the outer one), and how a node or
a body is named. It works on the protobuf messages (fast on 100k-node graphs) and never recurses in
Python: bodies nest arbitrarily deep.

Naming rule (DESIGN.md): a node's label is its name when that name is non-empty and unique in its
graph, else ``NAME#INDEX`` (``#INDEX`` for an unnamed node), INDEX being its position in its graph's
node list. A body's path is ``""`` for the main graph, else the owning node's label and the attribute
name joined by a dot, nested with ``/``, lists of graphs adding ``[k]``: ``If_0.then_branch/Loop_3.body``.
Functions are ``fn:DOMAIN:NAME`` (``fn:DOMAIN:NAME:OVERLOAD`` when overloaded); training graphs
``training[K].initialization`` / ``training[K].algorithm``.

    >>> from onnxlite import parse_model
    >>> m = parse_model('''<ir_version: 8, opset_import: ["" : 18]>
    ... g (bool c, float x) => (float y) {
    ...   y = If <then_branch = t () => (float a) { a = Relu(x) },
    ...           else_branch = e () => (float b) { b = Neg(x) }> (c)
    ... }''')
    >>> [(b.path, b.where) for b in walk(m)]  # doctest: +NORMALIZE_WHITESPACE
    [('', 'graph'), ('#0.then_branch', "graph.node[0].attribute 'then_branch'.g"),
     ('#0.else_branch', "graph.node[0].attribute 'else_branch'.g")]
    >>> sorted(free_reads(walk(m)[1].proto))
    ['x']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Body", "walk", "graph_attributes", "defined_names", "free_reads", "node_labels", "node_label",
    "iter_nodes", "function_path", "graph_path",
]


@dataclass(eq=False)
class Body:
    """One graph body in a walk: a GraphProto (main graph, subgraph, training graph) or a
    FunctionProto, with where it sits.

    ``path`` follows the naming rule (``""`` for the main graph); ``where`` is the protobuf path used
    in error messages (``graph.node[3] 'loop'.attribute 'body'.g``). ``owner``/``owner_index`` are the
    node holding a subgraph in ``parent`` (None/-1 for roots), ``attribute`` its attribute name and
    ``slot`` the position in a list-of-graphs attribute (None for a single graph).
    """

    proto: Any
    path: str
    where: str
    parent: Body | None = None
    owner: Any = None
    owner_index: int = -1
    attribute: str = ""
    slot: int | None = None
    is_function: bool = False
    depth: int = 0
    _defined: frozenset[str] | None = field(default=None, repr=False)
    _labels: list[str] | None = field(default=None, repr=False)

    @property
    def nodes(self) -> Any:
        """The body's NodeProtos (a repeated field: read, don't append)."""
        return self.proto.node

    @property
    def defined(self) -> frozenset[str]:
        """Names this body itself defines (inputs, initializers, node outputs), computed once."""
        if self._defined is None:
            self._defined = frozenset(defined_names(self.proto, self.is_function))
        return self._defined

    def resolve(self, name: str) -> Body | None:
        """The body whose definition of ``name`` is visible here (this one or an enclosing one:
        the innermost wins), or None when nothing in scope defines it."""
        body: Body | None = self
        while body is not None:
            if name in body.defined:
                return body
            body = body.parent
        return None

    def node_label(self, index: int) -> str:
        """The label of node ``index`` of this body (the naming rule)."""
        return self.labels[index]

    @property
    def labels(self) -> list[str]:
        """Every node's label, in node order (computed once per Body)."""
        if self._labels is None:
            self._labels = node_labels(self.proto)
        return self._labels


def graph_attributes(node: Any) -> Iterator[tuple[str, int | None, Any]]:
    """(attribute name, slot or None, GraphProto) for every graph a NodeProto's attributes hold:
    ``g`` of a GRAPH attribute, each element of a GRAPHS attribute. An attribute whose type is unset
    (old writers) counts by the field that is present."""
    for a in node.attribute:
        if a.HasField("g"):
            yield a.name, None, a.g
        graphs = a.graphs
        if len(graphs):
            for k, g in enumerate(graphs):
                yield a.name, k, g


def _is_function(proto: Any) -> bool:
    return proto.DESCRIPTOR.name == "FunctionProto"


def function_path(proto: Any) -> str:
    """The naming-rule path of a FunctionProto: ``fn:DOMAIN:NAME`` (``:OVERLOAD`` when set)."""
    path = f"fn:{proto.domain}:{proto.name}"
    return f"{path}:{proto.overload}" if proto.overload else path


def _roots(target: Any, functions: bool, training: bool) -> list[Body]:
    from onnxlite.model._model import Function, Graph, Model

    if isinstance(target, Model):
        p = target.proto
        roots = [Body(p.graph, "", "graph")] if p.HasField("graph") else []
        if training:
            for k, t in enumerate(p.training_info):
                for name in ("initialization", "algorithm"):
                    if t.HasField(name):
                        roots.append(Body(getattr(t, name), f"training[{k}].{name}",
                                          f"training_info[{k}].{name}"))
        if functions:
            roots.extend(Body(f, function_path(f), f"functions[{k}]", is_function=True)
                         for k, f in enumerate(p.functions))
        return roots
    if isinstance(target, Graph):
        return [Body(target.proto, graph_path(target), target.where)]
    if isinstance(target, Function):
        return [Body(target.proto, function_path(target.proto), target.where, is_function=True)]
    if hasattr(target, "DESCRIPTOR"):
        name = target.DESCRIPTOR.name
        if name == "ModelProto":
            from onnxlite.model._model import Model as M

            return _roots(M(target), functions, training)
        if name in ("GraphProto", "FunctionProto"):
            is_fn = name == "FunctionProto"
            return [Body(target, function_path(target) if is_fn else "", "function" if is_fn else "graph",
                         is_function=is_fn)]
    raise TypeError(f"expected a Model, Graph or Function, got {type(target).__name__}")


def graph_path(graph: Any) -> str:
    """The naming-rule path of a Graph view, worked out from its ``where`` chain of parents."""
    chain = []
    g = graph
    while g is not None and g.parent is not None:
        chain.append(g)
        g = g.parent
    if not chain:
        return ""
    # the view knows its parent graph but not the owning node: find it by identity of the proto
    path = ""
    for inner in reversed(chain):
        outer = inner.parent.proto
        found = ""
        for i, n in enumerate(outer.node):
            for attr, slot, sub in graph_attributes(n):
                if sub is inner.proto:
                    found = f"{node_labels(outer)[i]}.{attr}" + (f"[{slot}]" if slot is not None else "")
                    break
            if found:
                break
        found = found or "?"
        path = f"{path}/{found}" if path else found
    return path


def walk(target: Any, *, functions: bool = True, training: bool = True) -> list[Body]:
    """Every body under ``target`` (a Model, Graph, Function or their protos), each after the body
    holding it: the main graph and its subgraphs depth-first in node order, then the training graphs,
    then the model-local functions with theirs. Iterative; deterministic."""
    out: list[Body] = []
    stack = list(reversed(_roots(target, functions, training)))
    while stack:
        body = stack.pop()
        out.append(body)
        children: list[Body] = []
        nodes = body.proto.node
        for i, n in enumerate(nodes):
            if not n.attribute:
                continue
            for attr, slot, g in graph_attributes(n):
                labels = body.labels
                part = f"{labels[i]}.{attr}" + (f"[{slot}]" if slot is not None else "")
                path = f"{body.path}/{part}" if body.path else part
                desc = f"{body.where}.node[{i}]" + (f" '{n.name}'" if n.name else "")
                where = f"{desc}.attribute '{attr}'." + (f"graphs[{slot}]" if slot is not None else "g")
                children.append(Body(g, path, where, body, n, i, attr, slot, False, body.depth + 1))
        stack.extend(reversed(children))
    return out


def iter_nodes(target: Any) -> Iterator[Any]:
    """Every NodeProto of a graph/function (proto or view) including nested subgraphs, depth-first."""
    proto = target.proto if hasattr(target, "proto") and not hasattr(target, "DESCRIPTOR") else target
    stack = [proto]
    while stack:
        g = stack.pop()
        for n in g.node:
            yield n
            if n.attribute:
                stack.extend(sg for _, _, sg in graph_attributes(n))


def defined_names(proto: Any, is_function: bool | None = None) -> set[str]:
    """Names a graph (or function) body defines itself: inputs, initializers, sparse initializers
    and node outputs (not its subgraphs' names)."""
    if is_function is None:
        is_function = _is_function(proto)
    if is_function:
        names = set(proto.input)
    else:
        names = {v.name for v in proto.input}
        names.update(t.name for t in proto.initializer)
        names.update(s.values.name for s in proto.sparse_initializer)
    for n in proto.node:
        names.update(n.output)
    names.discard("")
    return names


def free_reads(proto: Any, *, outputs: bool = True) -> set[str]:
    """Names a body (and the bodies inside it) reads from outside itself: its implicit inputs.
    With ``outputs``, graph outputs not defined inside count as reads too."""
    free: set[str] = set()
    stack: list[tuple[Any, frozenset[str]]] = [(proto, frozenset())]
    while stack:
        g, outer = stack.pop()
        is_fn = _is_function(g)
        defined = outer | defined_names(g, is_fn)
        for n in g.node:
            free.update(x for x in n.input if x and x not in defined)
            if n.attribute:
                stack.extend((s, defined) for _, _, s in graph_attributes(n))
        if outputs:
            names: Iterable[str] = g.output if is_fn else (v.name for v in g.output)
            free.update(x for x in names if x and x not in defined)
    return free


def node_labels(proto: Any) -> list[str]:
    """The label of every node of a graph/function body, by the naming rule (one pass)."""
    raw = [_text(n.name) for n in proto.node]
    counts = Counter(raw)
    return [nm if nm and counts[nm] == 1 else f"{nm}#{i}" for i, nm in enumerate(raw)]


def _text(name: str | bytes) -> str:
    """A name as label text: a name that is not UTF-8 (bytes) with its bad bytes escaped."""
    return name if isinstance(name, str) else name.decode("utf-8", "backslashreplace")


def node_label(graph_proto: Any, index: int) -> str:
    """The label of node ``index`` of a body (see the naming rule). For many nodes of one body,
    call `node_labels` once instead."""
    name = graph_proto.node[index].name
    if name and sum(1 for n in graph_proto.node if n.name == name) == 1:
        return _text(name)
    return f"{_text(name)}#{index}"
