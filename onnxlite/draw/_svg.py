"""SVG text of a laid-out view, in absolute user units (no transforms), as the issue specifies:
g.node[data-name][data-op] > rect, path.edge[data-from][data-to][data-value], g.cluster, g.io."""

from __future__ import annotations

from onnxlite.draw._layout import MARGIN
from onnxlite.draw._names import as_text
from onnxlite.draw._scene import BODY_GAP, BODY_TITLE, LINE_H, Box, View, body_places

Places = dict[str, tuple[float, float]]  # function path -> top-left of its drawing

STYLE = """
.onnxlite-draw { font-family: Helvetica, Arial, sans-serif; font-size: 12px; background: #fff; }
.onnxlite-draw .node rect { fill: #eef3fb; stroke: #5b7db1; stroke-width: 1; }
.onnxlite-draw .node text.op { font-weight: bold; fill: #1c2b45; }
.onnxlite-draw .cluster rect { fill: #fdf3e1; stroke: #c58a21; stroke-width: 1.5; stroke-dasharray: 5 2; }
.onnxlite-draw .io rect { fill: #e9f6ea; stroke: #3f8f4a; }
.onnxlite-draw .io.output rect { fill: #f6ecf6; stroke: #8f3f8a; }
.onnxlite-draw .io.outer rect { fill: #f1f1f1; stroke: #888; stroke-dasharray: 3 2; }
.onnxlite-draw text.sub { font-size: 10px; fill: #555; }
.onnxlite-draw text.init { font-size: 10px; fill: #7a5300; }
.onnxlite-draw .edge { fill: none; stroke: #6d7a8c; stroke-width: 1.1; }
.onnxlite-draw text.elabel { font-size: 9px; fill: #4a6a8a; }
.onnxlite-draw .scope > rect { fill: #f7f9fc; fill-opacity: 0.5; stroke: #b9c6d8; stroke-width: 1; }
.onnxlite-draw .scope > text, .onnxlite-draw .subgraph > text { font-size: 10px; fill: #63748c; }
.onnxlite-draw .subgraph > rect.frame { fill: #fbfbf4; stroke: #9a9a5a; stroke-dasharray: 6 3; }
.onnxlite-draw .link { fill: none; stroke: #9a9a5a; stroke-dasharray: 4 3; }
.onnxlite-draw .function > rect.frame { fill: #f5f8f2; stroke: #5a8a4a; stroke-dasharray: 6 3; }
.onnxlite-draw .function > text { font-size: 10px; fill: #3c6a2e; }
.onnxlite-draw .link.call { stroke: #5a8a4a; }
.onnxlite-draw .io.initializer rect { fill: #fbf3dc; stroke: #b08a2e; }
"""

_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def esc(text: str | bytes) -> str:
    return as_text(text).translate(_ESC)


def f(v: float) -> str:
    return f"{v:.1f}"


def _path(points: list[tuple[float, float]]) -> str:
    x0, y0 = points[0]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        if ax == bx:
            parts.append(f"L{bx:.1f},{by:.1f}")
        else:
            my = (ay + by) / 2
            parts.append(f"C{ax:.1f},{my:.1f} {bx:.1f},{my:.1f} {bx:.1f},{by:.1f}")
    return " ".join(parts)


def svg_document(views: list[View], root: int, *, ids: bool = False, wrap: bool = True,
                 functions: list[int] | tuple[int, ...] = ()) -> str:
    """A whole SVG document for view ``root`` (with its bodies), and the views of model-local
    ``functions`` stacked in a column to its right."""
    view = views[root]
    width, height = view.width, view.height
    places: Places = {}
    x = view.width + BODY_GAP
    y = MARGIN + BODY_TITLE
    for fid in functions:
        fn = views[fid]
        places[fn.graph] = (x, y)
        width = max(width, x + fn.width + MARGIN)
        height = max(height, y + fn.height + MARGIN)
        y += fn.height + BODY_TITLE + BODY_GAP
    out: list[str] = []
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="onnxlite-draw" width="{f(width)}" '
        f'height="{f(height)}" viewBox="0 0 {f(width)} {f(height)}" data-view="{root}">'
    )
    if wrap:
        out.append(f"<style>{STYLE}</style>")
    out.append('<rect class="background" x="0" y="0" width="100%" height="100%" fill="#fff"/>')
    out.append('<g class="viewport">')
    write_view(out, views, root, 0.0, 0.0, ids, places)
    for fid in functions:
        fn = views[fid]
        fx, fy = places[fn.graph]
        out.append(f'<g class="subgraph function" data-name="{esc(fn.graph)}">')
        _frame(out, fn, fx, fy)
        write_view(out, views, fid, fx, fy, ids, places)
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)


def write_view(out: list[str], views: list[View], vid: int, dx: float, dy: float, ids: bool,
               places: Places | None = None) -> None:
    view = views[vid]
    boxes = view.boxes
    gattr = f' data-graph="{esc(view.graph)}"' if view.graph else ""
    for name, x0, y0, x1, y1 in view.frames:
        out.append(
            f'<g class="scope" data-name="{esc(name)}"><rect x="{f(x0 + dx)}" y="{f(y0 + dy)}" '
            f'width="{f(x1 - x0)}" height="{f(y1 - y0)}" rx="6"/>'
            f'<text x="{f(x0 + dx + 5)}" y="{f(y0 + dy + 11)}">{esc(name.rsplit("/", 1)[-1])}</text></g>'
        )
    labelled: set[tuple[int, str]] = set()
    for e in view.edges:
        pts = view.routes[(e.src, e.dst)]
        if dx or dy:
            pts = [(x + dx, y + dy) for x, y in pts]
        a, b = boxes[e.src], boxes[e.dst]
        title = f"{e.value}: {e.type}" if e.type else e.value
        out.append(
            f'<path class="edge" data-from="{esc(a.name)}" data-to="{esc(b.name)}" '
            f'data-value="{esc(e.value)}"'
            f' data-from-kind="{a.kind}" data-to-kind="{b.kind}"{gattr} d="{_path(pts)}"><title>{esc(title)}'
            "</title></path>"
        )
        if e.type and (e.src, e.value) not in labelled:
            labelled.add((e.src, e.value))
            x, y = pts[0]
            out.append(f'<text class="elabel" x="{f(x + 3)}" y="{f(y + 11)}">{esc(e.type)}</text>')
    for i, b in enumerate(boxes):
        _box(out, view, i, b, dx, dy, gattr, ids)
        if b.bodies:
            for body, bx, by in body_places(view, b, views):
                _body(out, views, b, body, bx + dx, by + dy, b.x + dx, b.y + dy, ids, places)
        if b.call and places and b.call in places:
            fx, fy = places[b.call]
            out.append(
                f'<path class="link call" data-from="{esc(b.name)}" data-to="{esc(b.call)}"{gattr} '
                f'd="M{f(b.x + dx + b.w)},{f(b.y + dy + b.h / 2)} L{f(fx)},{f(fy - BODY_TITLE + 8)}"/>'
            )


def _box(out: list[str], view: View, i: int, b: Box, dx: float, dy: float, gattr: str, ids: bool) -> None:
    x, y = b.x + dx, b.y + dy
    ident = f' id="v{view.id}b{i}"' if ids else ""
    if b.kind == "node":
        head = f'<g class="node" data-name="{esc(b.name)}" data-op="{esc(b.op)}"{gattr}{ident}>'
    elif b.kind == "cluster":
        head = (
            f'<g class="cluster" data-name="{esc(b.name)}" data-count="{b.count}" data-repeat="{b.repeat}"'
            f"{gattr}{ident}>"
        )
    else:
        head = f'<g class="io {b.role}" data-name="{esc(b.name)}" data-role="{b.role}"{gattr}{ident}>'
    rx = "11" if b.kind == "io" else "4"
    parts = [
        head,
        f"<title>{esc(b.title)}</title>",
        f'<rect x="{f(x)}" y="{f(y)}" width="{f(b.w)}" height="{f(b.h)}" rx="{rx}"/>',
        f'<text class="op" x="{f(x + 8)}" y="{f(y + 15)}">{esc(b.label)}</text>',
    ]
    cls = "init" if b.kind == "node" else "sub"
    for k, line in enumerate(b.lines):
        parts.append(
            f'<text class="{cls}" x="{f(x + 8)}" y="{f(y + 15 + LINE_H * (k + 1))}">{esc(line)}</text>'
        )
    parts.append("</g>")
    out.append("".join(parts))


def _body(
    out: list[str],
    views: list[View],
    owner: Box,
    body: View,
    x: float,
    y: float,
    ox: float,
    oy: float,
    ids: bool,
    places: Places | None,
) -> None:
    """A body beside its node (owner's top-left at ox, oy), framed and linked to it."""
    out.append(f'<g class="subgraph" data-name="{esc(body.graph)}">')
    _frame(out, body, x, y)
    out.append(
        f'<path class="link" data-from="{esc(owner.name)}" data-to="{esc(body.graph)}" '
        f'd="M{f(ox + owner.w)},{f(oy + owner.h / 2)} L{f(x)},{f(y - BODY_TITLE + 8)}"/>'
    )
    write_view(out, views, body.id, x, y, ids, places)
    out.append("</g>")


def _frame(out: list[str], body: View, x: float, y: float) -> None:
    out.append(
        f'<rect class="frame" x="{f(x)}" y="{f(y - BODY_TITLE)}" width="{f(body.width)}" '
        f'height="{f(body.height + BODY_TITLE)}" rx="6"/>'
        f'<text x="{f(x + 6)}" y="{f(y - BODY_TITLE + 12)}">{esc(body.graph)}</text>'
    )
