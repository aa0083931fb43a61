"""Whole-graph transforms: topological sort, dead-code removal and sub-model extraction.

Each transform is one call that leaves the model consistent, works on the protobuf messages
directly (so it scales to graphs of 100,000s of nodes), walks nested subgraphs and functions
without Python recursion, and checks everything before it changes anything: a refused call
leaves the model exactly as it was. ::

    from onnxlite import transform
    transform.toposort(model)                       # stable: a valid order is left alone
    removed = transform.remove_unused(model)        # what went, by kind
    part = transform.extract(model, ["x"], ["conv1_out"])   # a new model, weights shared

Nodes are identified by position, never by name (names may repeat or be empty). Views taken
before a transform (``graph.nodes``...) may be stale after it: take them again.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.internal import api_implementation
from google.protobuf.message import DecodeError

from onnxlite import _proto
from onnxlite._opschemas import LATEST_OPSET
from onnxlite.dtypes import DataType
from onnxlite.errors import CycleError, EditError
from onnxlite.model import Function, Graph, Model
from onnxlite.valuetypes import DimValue, Type

__all__ = ["STANDARD_DOMAINS", "Removed", "extract", "remove_unused", "toposort"]

#: Domains whose operators are the standard, side-effect free ONNX ones ('ai.onnx' is an alias of '').
STANDARD_DOMAINS = frozenset(LATEST_OPSET) | {"", "ai.onnx"}
#: The default domain is never dropped from opset imports: it fixes the meaning of the model.
_DEFAULT_DOMAINS = ("", "ai.onnx")

TypeSpec = Type | tuple[DataType | int | str, Sequence[DimValue] | None]

# upb and the pure-Python protobuf move elements when a repeated field is sorted, so references
# to them stay valid and nothing is copied; other implementations get copies.
_SORT_MOVES = api_implementation.Type() in ("upb", "python")


# --- walking protobuf graphs ------------------------------------------------------------------

def _node_desc(where: str, index: int, node: Any) -> str:
    name = node.name
    return f"{where}.node[{index}] '{name}'" if name else f"{where}.node[{index}]"


def _subgraphs(node: Any) -> Iterator[tuple[str, Any]]:
    """(path suffix, GraphProto) of every graph held by ``node``'s attributes."""
    for a in node.attribute:
        if a.HasField("g"):
            yield f"attribute '{a.name}'.g", a.g
        for k, g in enumerate(a.graphs):
            yield f"attribute '{a.name}'.graphs[{k}]", g


def _is_function(container: Any) -> bool:
    return container.DESCRIPTOR.name == "FunctionProto"


def _sources(container: Any) -> set[str]:
    """Names a graph (or function) defines without a node: inputs and initializers."""
    if _is_function(container):
        return set(container.input)
    out = {t.name for t in container.initializer}
    out.update(s.values.name for s in container.sparse_initializer)
    out.update(v.name for v in container.input)
    return out


def _output_names(container: Any) -> list[str]:
    if _is_function(container):
        return list(container.output)
    return [v.name for v in container.output]


class _Tree:
    """Every graph (or function body) under some roots, numbered so that a subgraph comes after
    the graph holding it, with the names each node reads through its subgraphs. Built in two
    passes without recursion: one down to list the graphs, one back up for the outer reads."""

    def __init__(self, roots: Sequence[tuple[Any, str]]) -> None:
        self.protos: list[Any] = []
        self.nodes: list[list[Any]] = []
        self.parent: list[int] = []
        self.owner: list[int] = []  # index of the node holding the graph in its parent; -1 at roots
        self.label: list[str] = []  # a root's path, else the attribute part of the path
        self.children: list[dict[int, list[int]]] = []
        self._where: dict[int, str] = {}
        for proto, where in roots:
            self._add(proto, -1, -1, where)
        k = 0
        while k < len(self.protos):  # the list grows as subgraphs are found
            for i, n in enumerate(self.nodes[k]):
                if n.attribute:
                    subs = [self._add(g, k, i, label) for label, g in _subgraphs(n)]
                    if subs:
                        self.children[k][i] = subs
            k += 1
        # names a subgraph reads from outside it; roots need none (nothing encloses them)
        free: list[frozenset[str]] = [frozenset()] * len(self.protos)
        self.through: list[dict[int, list[str]]] = [{} for _ in self.protos]
        for k in range(len(self.protos) - 1, -1, -1):
            kids = self.children[k]
            for i, subs in kids.items():
                self.through[k][i] = sorted(frozenset().union(*(free[c] for c in subs)))
            if self.parent[k] < 0:
                continue
            proto = self.protos[k]
            defs = _sources(proto)
            reads = set(_output_names(proto))
            for i, n in enumerate(self.nodes[k]):
                defs.update(n.output)
                reads.update(n.input)
                reads.update(self.through[k].get(i, ()))
            reads.discard("")
            free[k] = frozenset(reads - defs)

    def _add(self, proto: Any, parent: int, owner: int, label: str) -> int:
        self.protos.append(proto)
        self.nodes.append(list(proto.node))
        self.parent.append(parent)
        self.owner.append(owner)
        self.label.append(label)
        self.children.append({})
        return len(self.protos) - 1

    def reads(self, k: int) -> list[Any]:
        """For each node of graph ``k``: the names it depends on, its subgraphs' outer reads
        included ('' may appear: an omitted input)."""
        through = self.through[k]
        if not through:
            return [n.input for n in self.nodes[k]]
        return [list(n.input) + through[i] if i in through else n.input for i, n in enumerate(self.nodes[k])]

    def where(self, k: int) -> str:
        """The path of graph ``k`` in the model, e.g. ``graph.node[3] 'loop'.attribute 'body'.g``."""
        chain = []
        while k not in self._where and self.parent[k] >= 0:
            chain.append(k)
            k = self.parent[k]
        where = self._where.setdefault(k, self.label[k])
        for c in reversed(chain):
            p, i = self.parent[c], self.owner[c]
            where = self._where[c] = f"{_node_desc(where, i, self.nodes[p][i])}.{self.label[c]}"
        return where


def _walk_nodes(container: Any) -> Iterator[Any]:
    """Every node of a graph or function, including those in nested subgraphs."""
    stack = [container]
    while stack:
        g = stack.pop()
        for n in g.node:
            yield n
            if n.attribute:
                stack.extend(sg for _, sg in _subgraphs(n))


def _containers(target: Model | Graph | Function) -> tuple[list[tuple[Any, str]], Graph | None]:
    """The graphs/functions a whole-model transform starts from, and the Graph view to reindex."""
    if isinstance(target, Model):
        p = target.proto
        roots = [(p.graph, "graph")] if p.HasField("graph") else []
        for k, t in enumerate(p.training_info):
            for name in ("initialization", "algorithm"):
                if t.HasField(name):
                    roots.append((getattr(t, name), f"training_info[{k}].{name}"))
        roots.extend((f, f"functions[{k}]") for k, f in enumerate(p.functions))
        return roots, target.graph
    if isinstance(target, Graph):
        return [(target.proto, target.where)], target
    if isinstance(target, Function):
        return [(target.proto, target.where)], None
    raise TypeError(f"expected a Model, Graph or Function, got {type(target).__name__}")


def _reindex(graph: Graph | None) -> None:
    while graph is not None:  # an outer graph's index lists uses inside this one
        graph.reindex()
        graph = graph.parent


# --- reordering and trimming repeated fields --------------------------------------------------

def _clone(message: Any) -> Any:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


def _apply_order(repeated: Any, order: list[int]) -> None:
    """Rearrange a repeated message field so that position k holds the old element order[k]."""
    items = list(repeated)
    if _SORT_MOVES:
        rank = {id(items[j]): k for k, j in enumerate(order)}
        repeated.sort(key=lambda m: rank[id(m)])
        if all(a is items[j] for a, j in zip(repeated, order, strict=True)):
            return
        raise AssertionError("protobuf did not move the elements of a repeated field as expected")
    clones = [_clone(items[j]) for j in order]
    del repeated[:]
    repeated.extend(clones)


def _keep_only(repeated: Any, keep: Sequence[bool]) -> None:
    """Delete the elements of a repeated field whose ``keep`` flag is False, in one pass."""
    if all(keep):
        return
    kept = [i for i, k in enumerate(keep) if k]
    if kept and kept[-1] >= len(kept):  # something is deleted before a kept element: move first
        _apply_order(repeated, kept + [i for i, k in enumerate(keep) if not k])
    del repeated[len(kept):]


# --- toposort ---------------------------------------------------------------------------------

def toposort(target: Model | Graph | Function) -> None:
    """Sort nodes topologically, in place: in the graph, every subgraph, and (for a Model) every
    function and training graph.

    Stable: among the nodes ready to run, the earliest in the current order goes first, so a
    valid order is left exactly as it is (and the file saves byte-identical). A node depends on
    the producers of its inputs and of the values its subgraphs read from outer scopes; omitted
    inputs ('') and names nothing produces are not dependencies. A cycle raises CycleError
    naming the nodes of one cycle, in order, and changes nothing. ::

        transform.toposort(model)
    """
    roots, view = _containers(target)
    tree = _Tree(roots)
    plans = [(k, order) for k in range(len(tree.protos)) if (order := _topo_order(tree, k)) is not None]
    for k, order in plans:  # all planned first: a cycle anywhere must leave the model untouched
        _apply_order(tree.protos[k].node, order)
    if plans:
        _reindex(view)


def _topo_order(tree: _Tree, k: int) -> list[int] | None:
    """The stable topological order of graph ``k``'s nodes, or None when it already is one."""
    nodes = tree.nodes[k]
    reads = tree.reads(k)
    outs = [n.output for n in nodes]
    producer: dict[str, int] = {}
    early: list[str] = []  # names read before any node produced them: inputs, or produced later
    for i, (names, produced) in enumerate(zip(reads, outs, strict=True)):
        for x in names:
            if x not in producer:
                early.append(x)
        for out in produced:
            if out not in producer:  # a name produced twice (invalid): the first counts
                producer[out] = i
    producer.pop("", None)
    if not any(x in producer for x in early if x):
        return None
    get = producer.get
    preds: list[list[int]] = []  # a producer read twice is listed twice, and counted down twice
    succ: list[list[int]] = [[] for _ in nodes]
    indeg = [0] * len(nodes)
    for i, names in enumerate(reads):
        ps = [p for p in map(get, names) if p is not None]
        preds.append(ps)
        indeg[i] = len(ps)
        for p in ps:
            succ[p].append(i)
    ready = [i for i, d in enumerate(indeg) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for s in succ[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, s)
    if len(order) < len(nodes):
        _raise_cycle(tree, k, reads, preds, set(range(len(nodes))) - set(order), producer)
    return order


def _raise_cycle(
    tree: _Tree, k: int, reads: list[Any], preds: list[list[int]], left: set[int], producer: dict[str, int]
) -> None:
    """Every node Kahn's algorithm left has a predecessor that was left too: walking back along
    predecessors from any of them must come round to a node already on the path."""
    cur = min(left)
    path = [cur]
    seen = {cur: 0}
    while True:
        cur = min(p for p in preds[cur] if p in left)
        if cur in seen:
            break
        seen[cur] = len(path)
        path.append(cur)
    cycle = path[seen[cur]:][::-1]  # the walk went against the data flow
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start]
    where = tree.where(k)
    descs = [_node_desc(where, i, tree.nodes[k][i]) for i in cycle]
    steps = []
    for j, i in enumerate(cycle):
        nxt = cycle[(j + 1) % len(cycle)]
        via = next(x for x in reads[nxt] if producer.get(x) == i)
        steps.append(f"{descs[j]} -({via})->")
    raise CycleError(
        f"{where}: nodes form a cycle: {' '.join(steps)} {descs[0]}; toposort cannot order them "
        "until a node on it stops depending on its own result", descs)


# --- remove_unused ----------------------------------------------------------------------------

@dataclass
class Removed:
    """What `remove_unused` removed. Items of the main graph are plain names; items of subgraphs
    and functions are prefixed with their path (``"graph.node[2] 'loop'.attribute 'body'.g: w"``).
    Nodes are described by their path before removal (``"graph.node[3] 'relu'"``)."""

    nodes: list[str] = field(default_factory=list)
    initializers: list[str] = field(default_factory=list)
    sparse_initializers: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    value_info: list[str] = field(default_factory=list)
    quantization_annotations: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    opset_imports: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many things were removed in all."""
        return sum(len(getattr(self, f)) for f in self.__dataclass_fields__)

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        parts = [f"{len(getattr(self, f))} {f.replace('_', ' ')}"
                 for f in self.__dataclass_fields__ if getattr(self, f)]
        return "removed " + ", ".join(parts) if parts else "nothing to remove"


class _Scope:
    """Liveness bookkeeping for one graph or function body (graph ``k`` of the tree)."""

    def __init__(self, tree: _Tree, k: int, parent: _Scope | None, root: int, frozen: bool) -> None:
        self.tree = tree
        self.k = k
        self.proto = proto = tree.protos[k]
        self.parent = parent
        self.root = root  # which function body (its index) or -1 for the model's graphs
        self.frozen = frozen  # training graphs: read, never cleaned
        self.is_function = _is_function(proto)
        self.nodes = tree.nodes[k]
        self.live = [False] * len(self.nodes)
        self.sources = _sources(proto)
        self.producers: dict[str, list[int]] = {}
        for i, n in enumerate(self.nodes):
            for out in n.output:
                if out:
                    self.producers.setdefault(out, []).append(i)
        self.needed: set[str] = set()
        self.reads: set[str] = set()  # names resolved from this scope, own or outer
        self.params: dict[str, list[str]] = {}  # quantization annotation: tensor -> parameter names
        if not self.is_function:
            for a in proto.quantization_annotation:
                params = self.params.setdefault(a.tensor_name, [])
                params.extend(e.value for e in a.quant_parameter_tensor_names)

    @property
    def where(self) -> str:
        return self.tree.where(self.k)

    def prefix(self, name: str) -> str:
        return name if self.k == 0 and self.root < 0 else f"{self.where}: {name}"


_NEED, _ACTIVATE = 0, 1


class _Liveness:
    """Marks what a model needs, from its outputs backwards, through every scope at once."""

    def __init__(
        self, model: Any, *, remove_custom: bool, remove_functions: bool, remove_inputs: bool
    ) -> None:
        self.model = model
        self.functions: dict[tuple[str, str, str], int] = {}
        for k, f in enumerate(model.functions):
            self.functions.setdefault((f.domain, f.name, f.overload), k)
        roots: list[tuple[Any, str]] = [(model.graph, "graph")] if model.HasField("graph") else []
        training: list[tuple[Any, str]] = []
        for k, t in enumerate(model.training_info):
            for name in ("initialization", "algorithm"):
                if t.HasField(name):
                    training.append((getattr(t, name), f"training_info[{k}].{name}"))
        roots += training
        self.function_roots = [len(roots) + k for k in range(len(model.functions))]
        roots += [(f, f"functions[{k}] '{_function_id(f)}'") for k, f in enumerate(model.functions)]
        self.tree = _Tree(roots)
        self.effectful = self._effectful_nodes(remove_custom)
        self.scopes: list[_Scope] = []
        self.function_scopes: dict[int, _Scope] = {}
        self.work: list[tuple[int, _Scope, Any]] = []
        self.main = _Scope(self.tree, 0, None, -1, False) if model.HasField("graph") else None
        if self.main is not None:
            self._enter(self.main, keep_inputs=not remove_inputs)
            for j in range(len(training)):
                self._enter(_Scope(self.tree, 1 + j, self.main, -1, True))
            for t in model.training_info:
                for entry in list(t.initialization_binding) + list(t.update_binding):
                    self.work.append((_NEED, self.main, entry.key))
        if self.main is None or not remove_functions:
            for k in range(len(model.functions)):
                self._reach(k)
        self._run()

    def _effectful_nodes(self, remove_custom: bool) -> list[set[int]]:
        """For each graph of the tree, the nodes that may have side effects: a node of a
        non-standard domain that is not a call to a pure model function, or a node holding a
        subgraph with such a node at any depth."""
        tree = self.tree
        out: list[set[int]] = [set() for _ in tree.protos]
        if remove_custom:
            return out
        model = self.model
        direct: set[int] = set()  # functions running a custom node themselves
        callers: dict[int, set[int]] = {}
        for k, f in enumerate(model.functions):
            for n in _walk_nodes(f):
                j = self.functions.get((n.domain, n.op_type, n.overload))
                if j is not None:
                    callers.setdefault(j, set()).add(k)
                elif n.domain not in STANDARD_DOMAINS:
                    direct.add(k)
        noisy = set(direct)
        stack = list(direct)
        while stack:
            for k in callers.get(stack.pop(), ()):
                if k not in noisy:
                    noisy.add(k)
                    stack.append(k)
        for k in range(len(tree.protos) - 1, -1, -1):  # subgraphs before the graphs holding them
            kids = tree.children[k]
            for i, n in enumerate(tree.nodes[k]):
                if n.domain not in STANDARD_DOMAINS:
                    j = self.functions.get((n.domain, n.op_type, n.overload))
                    if j is None or j in noisy:
                        out[k].add(i)
                        continue
                if i in kids and any(out[c] for c in kids[i]):
                    out[k].add(i)
        return out

    def _enter(self, scope: _Scope, keep_inputs: bool = True) -> None:
        """Register a scope whose owner is live: its outputs and side effects are roots."""
        self.scopes.append(scope)
        work = self.work
        for name in _output_names(scope.proto):
            if name:
                work.append((_NEED, scope, name))
        if scope.frozen:
            work.extend((_ACTIVATE, scope, i) for i in range(len(scope.nodes)))
            return
        work.extend((_ACTIVATE, scope, i) for i in sorted(self.effectful[scope.k]))
        if keep_inputs and not scope.is_function:
            for v in scope.proto.input:
                work.extend((_NEED, scope, q) for q in scope.params.get(v.name, ()))

    def _reach(self, k: int) -> None:
        if k not in self.function_scopes:
            scope = _Scope(self.tree, self.function_roots[k], None, k, False)
            self.function_scopes[k] = scope
            self._enter(scope)

    def _run(self) -> None:
        work = self.work
        push = work.append
        children = self.tree.children
        functions = self.functions
        while work:
            op, scope, item = work.pop()
            if op == _NEED:  # resolve the name from this scope outwards; the first definer needs it
                s: _Scope | None = scope
                while s is not None and item not in s.reads:
                    s.reads.add(item)
                    producers = s.producers.get(item)
                    if producers is not None or item in s.sources:
                        s.needed.add(item)
                        for i in producers or ():
                            if not s.live[i]:
                                push((_ACTIVATE, s, i))
                        for q in s.params.get(item, ()) if s.params else ():
                            push((_NEED, s, q))
                        break
                    s = s.parent
                continue
            if scope.live[item]:
                continue
            scope.live[item] = True
            node = scope.nodes[item]
            for x in node.input:
                if x:
                    push((_NEED, scope, x))
            if scope.params:
                for out in node.output:
                    work.extend((_NEED, scope, q) for q in scope.params.get(out, ()))
            if functions:
                k = functions.get((node.domain, node.op_type, node.overload))
                if k is not None:
                    self._reach(k)
            kids = children[scope.k]
            if kids:
                for c in kids.get(item, ()):
                    self._enter(_Scope(self.tree, c, scope, scope.root, scope.frozen))


def remove_unused(
    model: Model,
    *,
    remove_inputs: bool = False,
    remove_custom: bool = False,
    functions: bool = True,
    opset_imports: bool = True,
) -> Removed:
    """Remove what the model's outputs do not need, in place, and say what went.

    A node stays when a graph output or a kept node (also from inside its subgraphs, at any
    depth) reads one of its outputs. Subgraphs and function bodies are cleaned the same way
    against their own outputs. Also removed: initializers and sparse initializers nothing reads
    (those that are graph inputs stay with their input), value_info entries and quantization
    annotations of values that no longer exist, functions no kept node calls (transitively), and
    opset imports no kept node uses (the default domain always stays).

    - Graph inputs are the model's interface and stay; ``remove_inputs=True`` drops unused ones.
    - Nodes of non-standard domains may have side effects the graph cannot show (printing,
      writing state), so they stay, together with what they read, even when nothing reads their
      outputs; a call to a model function counts as one when its body runs such a node.
      ``remove_custom=True`` treats them like standard operators (as onnx_ir and
      onnx-graphsurgeon do).
    - ``functions=False`` keeps every function, ``opset_imports=False`` every opset import.

    Training graphs (``training_info``) are kept whole, with every initializer they bind or read. ::

        removed = transform.remove_unused(model)
        print(removed)          # removed 3 nodes, 2 initializers
    """
    p = model.proto
    live = _Liveness(p, remove_custom=remove_custom, remove_functions=functions, remove_inputs=remove_inputs)
    removed = Removed()
    edits: list[tuple[Any, list[bool]]] = []  # everything is decided before anything changes
    for scope in live.scopes:
        if not scope.frozen:
            _plan_scope(scope, remove_inputs and scope is live.main, removed, edits)
    fkeep = [k in live.function_scopes for k in range(len(p.functions))]
    removed.functions = [_function_id(f) for f, k in zip(p.functions, fkeep, strict=True) if not k]
    edits.append((p.functions, fkeep))
    if opset_imports:
        model_domains: set[str] = set()
        function_domains: dict[int, set[str]] = {k: set() for k in live.function_scopes}
        for scope in live.scopes:
            used = model_domains if scope.root < 0 else function_domains[scope.root]
            used.update(n.domain for n, alive in zip(scope.nodes, scope.live, strict=True) if alive)
        for k, used in function_domains.items():
            model_domains |= used | {p.functions[k].domain}
        _plan_opsets(p.opset_import, model_domains, "", removed, edits)
        for k, used in function_domains.items():
            f = p.functions[k]
            _plan_opsets(f.opset_import, used, live.function_scopes[k].where + ": ", removed, edits)
    for repeated, keep in edits:
        _keep_only(repeated, keep)
    model.graph.reindex()
    return removed


def _function_id(f: Any) -> str:
    name = f"{f.domain}.{f.name}" if f.domain else f.name
    return f"{name}:{f.overload}" if f.overload else name


_Edits = list[tuple[Any, list[bool]]]


def _plan_scope(scope: _Scope, remove_inputs: bool, removed: Removed, edits: _Edits) -> None:
    g = scope.proto
    if not all(scope.live):
        where = scope.where
        removed.nodes.extend(_node_desc(where, i, n) for i, n in enumerate(scope.nodes) if not scope.live[i])
    edits.append((g.node, scope.live))
    exists = set(scope.reads)
    for n, alive in zip(scope.nodes, scope.live, strict=True):
        if alive:
            exists.update(n.output)
    exists.update(_output_names(g))

    def plan(repeated: Any, names: list[str], keep: list[bool], bucket: list[str]) -> set[str]:
        bucket.extend(scope.prefix(name) for name, k in zip(names, keep, strict=True) if not k)
        edits.append((repeated, keep))
        return {name for name, k in zip(names, keep, strict=True) if k}

    if scope.is_function:
        exists.update(g.input)
    else:
        names = [v.name for v in g.input]
        inputs = plan(g.input, names, [not remove_inputs or x in scope.needed for x in names], removed.inputs)
        exists |= inputs
        for repeated, bucket in ((g.initializer, removed.initializers),
                                 (g.sparse_initializer, removed.sparse_initializers)):
            names = [t.name for t in repeated] if repeated is g.initializer else [
                t.values.name for t in repeated]
            exists |= plan(repeated, names, [x in scope.needed or x in inputs for x in names], bucket)
        names = [a.tensor_name for a in g.quantization_annotation]
        plan(g.quantization_annotation, names, [x in exists for x in names], removed.quantization_annotations)
    names = [v.name for v in g.value_info]
    plan(g.value_info, names, [x in exists for x in names], removed.value_info)


def _plan_opsets(repeated: Any, used: set[str], prefix: str, removed: Removed, edits: _Edits) -> None:
    keep = [o.domain in used or o.domain in _DEFAULT_DOMAINS for o in repeated]
    removed.opset_imports.extend(prefix + o.domain for o, k in zip(repeated, keep, strict=True) if not k)
    edits.append((repeated, keep))


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

    Types of the new graph inputs and outputs come from the model's inputs, outputs, value_info
    and initializers; onnx.checker requires one on each, so a value whose type is unknown raises
    EditError unless ``types`` gives it, as a `Type` or ``(dtype, shape)`` (shape: ints, symbolic
    names, None for unknown dims; shape None for unknown rank). There is no shape inference.

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
    in_infos = [_value_info(name, infos, types, "input") for name in inputs]
    out_infos = [_value_info(name, infos, types, "output") for name in outputs]
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


def _value_info(name: str, infos: Mapping[str, Any], types: Mapping[str, TypeSpec] | None, role: str) -> Any:
    if types is not None and name in types:
        v = _proto.ValueInfoProto(name=name)
        v.type.CopyFrom(_type_proto(types[name], name))
        return v
    found = infos.get(name)
    if found is None:
        raise EditError(
            f"extract: the type of {role} '{name}' is unknown (no graph input, output, value_info or "
            f"initializer gives it) and onnx.checker requires one: pass types={{'{name}': (dtype, shape)}}")
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
