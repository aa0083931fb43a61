"""The self-contained HTML page: the main view's SVG inline (as first drawn it is exactly the
.svg's drawing), the inside of every cluster in a <template> (the page's script puts it in place of
the cluster box, or shows it alone), and one JSON block with the details of each box and a search
index over every node of every graph drawn, functions included."""

from __future__ import annotations

import json
from typing import Any

from onnxlite.draw._names import as_text
from onnxlite.draw._page import PAGE_CSS, PAGE_JS
from onnxlite.draw._scene import GraphInfo, Scene
from onnxlite.draw._svg import STYLE, esc, svg_document
from onnxlite.draw._types import tensor_type_text
from onnxlite.model import AttributeType, Type

LIST_ITEMS = 16
TEXT_CHARS = 200


def html_document(scene: Scene) -> str:
    views = scene.views
    parent: dict[int, int] = {}
    for view in views:
        for b in view.boxes:
            for body in b.bodies:
                parent[body] = view.id
            if b.kind == "cluster" and b.view >= 0:
                parent[b.view] = view.id
    for fn in scene.functions:
        parent[fn] = scene.root

    def host(v: int) -> int:  # bodies are drawn inside their owner's view, functions beside the root
        while views[v].kind in ("body", "function"):
            v = parent[v]
        return v

    meta = {
        v.id: {
            "title": v.title,
            "graph": v.graph,
            "parent": None if v.id == scene.root else host(parent[v.id]) if v.id in parent else None,
        }
        for v in views
        if v.kind not in ("body", "function")
    }
    details: dict[str, Any] = {}
    for view in views:
        info = scene.infos[view.graph]
        for b in view.boxes:
            key = f"{b.kind}\0{view.graph}\0{b.name}"
            if b.kind == "node":
                details[key] = _node_details(scene, info, b.node)
                if b.call:
                    details[key]["facts"].append(["calls", b.call])
            elif b.kind == "cluster":
                facts = [["scope", b.scope], ["nodes", str(b.count)]]
                if b.repeat > 1:
                    facts.append(
                        ["folded", f"x {b.repeat} blocks of the same structure; the inside shows the first"]
                    )
                details[key] = {"facts": facts, "view": b.view}
            else:
                details[key] = {"facts": [["role", b.role], ["type", b.lines[0] if b.lines else "?"]]}
    index = []
    for path, info in scene.infos.items():
        for i, label in enumerate(info.labels):
            spot = _resolve(scene, path, i)
            if spot is None:
                continue
            (vid, box), note = spot
            index.append([label, as_text(info.nodes[i].op_type), path, host(vid), f"{vid}b{box}", note])
    data = {"views": meta, "details": details, "index": index}
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(views[scene.root].title)} - onnxlite draw</title>",
        f"<style>{STYLE}{PAGE_CSS}</style></head><body>",
        '<div id="bar"><input id="search" type="search" placeholder="search name or op, Enter">'
        '<button id="go">Search</button><button id="fit">Fit</button>'
        '<button id="collapse">Collapse</button><span id="crumbs"></span></div>',
        '<div id="canvas">',
        svg_document(views, scene.root, ids=True, wrap=False, functions=scene.functions),
        "</div>",
        '<div id="side"><div id="results"></div><div id="details"></div></div>',
    ]
    for view in views:
        if view.kind == "cluster":
            parts.append(f'<template id="view-{view.id}">')
            parts.append(svg_document(views, view.id, ids=True, wrap=False))
            parts.append("</template>")
    parts.append(f'<script type="application/json" id="draw-data">{payload}</script>')
    parts.append(f"<script>{PAGE_JS}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _resolve(scene: Scene, path: str, i: int) -> tuple[tuple[int, int], str] | None:
    """Where node i of graph ``path`` is drawn: itself, or (folded blocks) its counterpart in the
    block that is drawn, with a note naming the instance."""
    note = ""
    key = (path, i)
    for _ in range(64):
        spot = scene.drawn.get(key)
        if spot is not None:
            return spot, note
        alias = scene.alias.get(key)
        if alias is None:
            return None
        if not note:
            note = f"in {alias[2]}, drawn as its first block"
        key = (alias[0], alias[1])
    return None


def _node_details(scene: Scene, info: GraphInfo, i: int) -> dict[str, Any]:
    n = info.nodes[i]
    types = scene.types
    facts = [["name", as_text(n.name) or "(unnamed)"], ["index", str(i)]]
    if n.domain:
        facts.append(["domain", as_text(n.domain)])
    if info.scopes[i]:
        facts.append(["scope", info.scopes[i]])
    attrs = [[as_text(a.name), _attr_text(a)] for a in n.attribute]
    inputs = [[as_text(v) or "(omitted)", types.get((info.path, v), "?") if v else ""] for v in n.input]
    outputs = [[as_text(v) or "(omitted)", types.get((info.path, v), "?") if v else ""] for v in n.output]
    return {"facts": facts, "attrs": attrs, "inputs": inputs, "outputs": outputs}


def _clip(items: Any, fmt: Any = str) -> str:
    shown = [fmt(x) for x in items[:LIST_ITEMS]]
    more = f", ... ({len(items)} items)" if len(items) > LIST_ITEMS else ""
    return "[" + ", ".join(shown) + more + "]"


def _text(raw: bytes) -> str:
    s = raw[: TEXT_CHARS * 4].decode("utf-8", "replace")
    return repr(s[:TEXT_CHARS] + ("..." if len(raw) > TEXT_CHARS else ""))


def _attr_text(a: Any) -> str:
    """A short text of an attribute's value; tensors by type only (their data is never read)."""
    if a.ref_attr_name:
        return f"@{as_text(a.ref_attr_name)}"
    kind = AttributeType.name_of(a.type, "")
    if kind == "FLOAT":
        return repr(a.f)
    if kind == "INT":
        return str(a.i)
    if kind == "STRING":
        return _text(a.s)
    if kind == "TENSOR":
        return "tensor " + tensor_type_text(a.t.data_type, a.t.dims)
    if kind == "SPARSE_TENSOR":
        return "sparse tensor " + tensor_type_text(a.sparse_tensor.values.data_type, a.sparse_tensor.dims)
    if kind == "GRAPH":
        return f"graph {as_text(a.g.name)!r} ({len(a.g.node)} nodes)"
    if kind == "TYPE_PROTO":
        return str(Type(a.tp))
    if kind == "FLOATS":
        return _clip(list(a.floats), repr)
    if kind == "INTS":
        return _clip(list(a.ints))
    if kind == "STRINGS":
        return _clip(list(a.strings), _text)
    if kind == "TENSORS":
        return _clip(list(a.tensors), lambda t: tensor_type_text(t.data_type, t.dims))
    if kind == "GRAPHS":
        return _clip(list(a.graphs), lambda g: f"graph ({len(g.node)} nodes)")
    if kind == "SPARSE_TENSORS":
        return f"{len(a.sparse_tensors)} sparse tensors"
    if kind == "TYPE_PROTOS":
        return _clip(list(a.type_protos), lambda t: str(Type(t)))
    return "(unset)"
