"""Walking and rewriting the protobuf messages of graphs, subgraphs and functions: the shared
machinery of `onnxlite.transform` and `onnxlite._extract` (iterative, never Python recursion)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from onnxlite.model import Function, Graph, Model, changed, graph_attributes, iter_nodes

# --- walking protobuf graphs ------------------------------------------------------------------

def _node_desc(where: str, index: int, node: Any) -> str:
    name = node.name
    return f"{where}.node[{index}] '{name}'" if name else f"{where}.node[{index}]"


def _subgraphs(node: Any) -> Iterator[tuple[str, Any]]:
    """(path suffix, GraphProto) of every graph held by ``node``'s attributes."""
    for attr, slot, g in graph_attributes(node):
        yield f"attribute '{attr}'." + (f"graphs[{slot}]" if slot is not None else "g"), g


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
    return iter_nodes(container)


def _containers(target: Model | Graph | Function) -> tuple[list[tuple[Any, str]], Graph | None]:
    """The graphs/functions a whole-model transform starts from, and the Graph view to reindex."""
    if isinstance(target, Model):
        p = target.proto
        roots: list[tuple[Any, str]] = [(p.graph, "graph")] if p.HasField("graph") else []
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
    changed()  # every live view rebuilds its index on next use
