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
from dataclasses import dataclass, field
from typing import Any

from onnxlite._proto.opschemas import LATEST_OPSET
from onnxlite.errors import CycleError
from onnxlite.model import DEFAULT_DOMAINS, Function, Graph, Model, keep_only, reorder
from onnxlite.transform._extract import TypeSpec, extract
from onnxlite.transform._walk import (
    _containers,
    _is_function,
    _node_desc,
    _output_names,
    _reindex,
    _sources,
    _Tree,
    _walk_nodes,
)

__all__ = ["STANDARD_DOMAINS", "Removed", "TypeSpec", "extract", "remove_unused", "toposort"]

#: Domains whose operators are the standard, side-effect free ONNX ones ('ai.onnx' is an alias of '').
STANDARD_DOMAINS = frozenset(LATEST_OPSET) | set(DEFAULT_DOMAINS)
#: The default domain is never dropped from opset imports: it fixes the meaning of the model.

# --- toposort ---------------------------------------------------------------------------------

def toposort(target: Model | Graph | Function) -> int:
    """Sort nodes topologically, in place: in the graph, every subgraph, and (for a Model) every
    function and training graph. Returns how many nodes changed position (0: nothing moved).

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
    moved = 0
    for k, order in plans:  # all planned first: a cycle anywhere must leave the model untouched
        moved += sum(1 for i, j in enumerate(order) if i != j)
        reorder(tree.protos[k].node, order)
    if plans:
        _reindex(view)
    return moved


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
        parts = []
        for f in self.__dataclass_fields__:
            n = len(getattr(self, f))
            if n:
                kind = f.replace("_", " ")
                parts.append(f"{n} {kind[:-1] if n == 1 and kind.endswith('s') else kind}")
        return "removed " + ", ".join(parts) if parts else "nothing to remove"

    def details(self, limit: int = 10) -> list[str]:
        """One line per kind: ``"nodes: graph.node[3] 'relu', ..."`` (at most ``limit`` names each)."""
        lines = []
        for f in self.__dataclass_fields__:
            items = getattr(self, f)
            if items:
                more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
                lines.append(f"{f.replace('_', ' ')}: {', '.join(items[:limit])}{more}")
        return lines


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
        keep_only(repeated, keep)
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
    keep = [o.domain in used or o.domain in DEFAULT_DOMAINS for o in repeated]
    removed.opset_imports.extend(prefix + o.domain for o, k in zip(repeated, keep, strict=True) if not k)
    edits.append((repeated, keep))
