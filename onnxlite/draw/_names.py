"""What drawing adds to the shared naming rule (onnxlite.model's ``node_labels`` and ``walk``):
names as display text, and the scope a node belongs to."""

from __future__ import annotations

import ast
from typing import Any

_SCOPES_KEY = "pkg.torch.onnx.name_scopes"


def as_text(name: str | bytes) -> str:
    """A name as text: names that are not UTF-8 (protobuf hands them out as bytes) with escapes."""
    return name if isinstance(name, str) else bytes(name).decode("utf-8", "backslashreplace")


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
