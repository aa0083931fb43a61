"""Scopes for `onnxlite.edit`: which names a graph, subgraph or function defines and reads, and
where a name appears, resolved the way ONNX resolves names (an inner body that defines a name
hides the outer value). Iterative: bodies nest arbitrarily deep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from onnxlite.model import Function, Graph, Model, changed, defined_names, free_reads, graph_attributes

Target = Model | Graph | Function

# A place holding a value name: (repeated string container, index) or (message, field name).
_Site = tuple[Any, Any]


# --- scopes ------------------------------------------------------------------------------------

def _scope(target: Target) -> Graph | Function:
    if isinstance(target, Model):
        return target.graph
    if isinstance(target, (Graph, Function)):
        return target
    raise TypeError(f"expected a Model, Graph or Function, got {type(target).__name__}")


def _label(scope: Graph | Function) -> str:
    name = scope.proto.name
    return f"{scope.where} '{name}'" if name else scope.where


def _subgraphs(node: Any) -> Iterator[Any]:
    """GraphProtos held by a NodeProto's attributes."""
    return (g for _, _, g in graph_attributes(node))


def _defined(p: Any, function: bool = False) -> set[str]:
    """Names a graph (or function) body defines itself."""
    return defined_names(p, function)


def _all_names(p: Any, function: bool = False) -> set[str]:
    """Every name defined or read anywhere in a graph/function body, subgraphs included."""
    names: set[str] = set()
    stack: list[tuple[Any, bool]] = [(p, function)]
    while stack:
        g, is_fn = stack.pop()
        names |= _defined(g, is_fn)
        if is_fn:
            names.update(g.output)
        else:
            names.update(v.name for v in g.output)
            names.update(v.name for v in g.value_info)
        for n in g.node:
            names.update(n.input)
            stack.extend((s, False) for s in _subgraphs(n))
    names.discard("")
    return names


def _outer_defined(scope: Graph | Function) -> set[str]:
    """Names defined by the graphs enclosing ``scope`` (and, for a main graph, the training
    graphs, which ONNX combines with it)."""
    names: set[str] = set()
    if isinstance(scope, Graph):
        parent = scope.parent
        while parent is not None:
            names |= _defined(parent.proto)
            parent = parent.parent
    return names


def _training_graphs(scope: Graph | Function) -> list[Any]:
    """The training graphs that may read the main graph's values ([] for other scopes)."""
    model = scope.model
    if not isinstance(scope, Graph) or model is None or scope.parent is not None:
        return []
    if scope.proto is not model.proto.graph:
        return []
    out = []
    for t in model.proto.training_info:
        for field in ("initialization", "algorithm"):
            if t.HasField(field):
                out.append(getattr(t, field))
    return out


def _free_sites(body: Any, name: str, out: list[_Site], *, notes: bool = True,
               avoid: str = "") -> str:
    """Collect where ``body`` (a subgraph) and the graphs inside it read ``name`` from outside:
    node inputs, graph outputs and, with ``notes``, value_info and quantization annotations. A
    body that defines ``name`` hides the outer value: nothing below it is collected.

    Returns the name of a graph that would capture a reference renamed to ``avoid`` (a body
    defining ``avoid`` with sites at or below it), else ''."""
    clash = ""
    stack: list[tuple[Any, str]] = [(body, "")]
    while stack:
        g, hidden_by = stack.pop()
        defined = _defined(g)
        if name in defined:
            continue
        if avoid and not hidden_by and avoid in defined:
            hidden_by = g.name or "<unnamed graph>"
        before = len(out)
        _graph_sites(g, name, out, outputs=True, notes=notes)
        if hidden_by and len(out) > before:
            clash = clash or hidden_by
        for n in g.node:
            stack.extend((s, hidden_by) for s in _subgraphs(n))
    return clash


def _graph_sites(g: Any, name: str, out: list[_Site], *, outputs: bool, notes: bool) -> None:
    """Sites in one graph body (not its subgraphs) that read ``name`` (node inputs), and
    with ``outputs`` its graph outputs, with ``notes`` its value_info and annotations."""
    for n in g.node:
        inputs = n.input
        if name in inputs[:]:
            out.extend((inputs, i) for i, x in enumerate(inputs) if x == name)
    if outputs:
        out.extend((v, "name") for v in g.output if v.name == name)
    if notes:
        out.extend((v, "name") for v in g.value_info if v.name == name)
        _annotation_sites(g, name, out)


def _annotation_sites(g: Any, name: str, out: list[_Site]) -> None:
    for a in g.quantization_annotation:
        if a.tensor_name == name:
            out.append((a, "tensor_name"))
        out.extend((e, "value") for e in a.quant_parameter_tensor_names if e.value == name)


def _apply(sites: list[_Site], new: str) -> None:
    for holder, key in sites:
        if isinstance(key, int):
            holder[key] = new
        else:
            setattr(holder, key, new)


def _reindex(scope: Graph | Function) -> None:
    changed()  # every live view rebuilds its index on next use


def _free_names_of(body: Any) -> set[str]:
    """Names a body reads from outside (not defined anywhere inside it along the path)."""
    return free_reads(body)


def _producers(p: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, n in enumerate(p.node):
        for name in n.output:
            if name:
                out.setdefault(name, i)
    return out


def _node_reads(n: Any) -> set[str]:
    reads = {x for x in n.input if x}
    for body in _subgraphs(n):
        reads |= _free_names_of(body)
    return reads


