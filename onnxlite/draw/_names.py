"""Node labels, graph paths and scopes, by DESIGN.md's naming rule.

No shared helper for labels exists in onnxlite.model yet, so this is the small private one the
rule allows; it works on the protobuf messages because drawing reads every node of huge graphs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

_SCOPES_KEY = "pkg.torch.onnx.name_scopes"


def as_text(name: str | bytes) -> str:
    """A name as text: names that are not UTF-8 (kept as bytes by the model) with escapes."""
    return name if isinstance(name, str) else bytes(name).decode("utf-8", "backslashreplace")


def node_labels(graph_proto: Any) -> list[str]:
    """A label per node: its name when non-empty and unique in the graph, else NAME#INDEX / #INDEX."""
    names = [as_text(n.name) for n in graph_proto.node]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [name if name and seen[name] == 1 else f"{name}#{i}" for i, name in enumerate(names)]


def subgraphs(node_proto: Any, label: str, path: str) -> Iterator[tuple[str, Any]]:
    """(graph path, GraphProto) of each graph held by a node's attributes, in attribute order."""
    prefix = f"{path}/" if path else ""
    for a in node_proto.attribute:
        if a.HasField("g"):
            yield f"{prefix}{label}.{a.name}", a.g
        for k, g in enumerate(a.graphs):
            yield f"{prefix}{label}.{a.name}[{k}]", g


def walk_graphs(graph_proto: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """The graph and every subgraph below it, depth first, with their paths."""
    stack = [(path, graph_proto)]
    while stack:
        gpath, g = stack.pop()
        yield gpath, g
        labels = node_labels(g)
        found = [sub for i, n in enumerate(g.node) if n.attribute for sub in subgraphs(n, labels[i], gpath)]
        stack.extend(reversed(found))


def node_scope(node_proto: Any) -> str:
    """The scope a node belongs to, as '/a/b' ('' for the top): from the exporter's name scopes
    (torch dynamo's metadata) or else from a '/'-separated node name."""
    if node_proto.metadata_props:
        for p in node_proto.metadata_props:
            if p.key == _SCOPES_KEY:
                scope = _dynamo_scope(p.value)
                if scope is not None:
                    return scope
    name = as_text(node_proto.name)
    if "/" not in name:
        return ""
    head = name.rsplit("/", 1)[0].strip("/")
    return "/" + "/".join(part for part in head.split("/") if part) if head else ""


def _dynamo_scope(text: str) -> str | None:
    """['', 'model', 'model.layers.0', 'model.layers.0.mlp', 'linear'] -> '/model/layers.0/mlp'."""
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if (
        not isinstance(items, list)
        or not items
        or items[0] != ""
        or not all(isinstance(s, str) for s in items)
    ):
        return None
    parts: list[str] = []
    previous = ""
    for item in items[1:-1]:
        part = item[len(previous) + 1 :] if previous and item.startswith(previous + ".") else item
        previous = item
        if part:
            parts.append(part.replace("/", "_"))
    return "/" + "/".join(parts) if parts else ""


def scope_parts(scope: str) -> list[str]:
    return scope.split("/")[1:] if scope else []
