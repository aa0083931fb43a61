"""Graphviz DOT of the main view: scopes, bodies and model-local functions as clusters, io boxes
rounded, types on edges, dashed lines from a node to its bodies and to the function it calls."""

from __future__ import annotations

from onnxlite.draw._scene import Scene, View


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_document(scene: Scene) -> str:
    out = [
        "digraph onnx {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, fillcolor="#eef3fb"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#6d7a8c"];',
    ]
    calls = {scene.views[f].graph: f for f in scene.functions}
    _view(out, scene.views, scene.root, "  ", calls)
    for f in scene.functions:
        out.append(f"  subgraph {_q(f'cluster_fn_{f}')} {{")
        out.append(f'    label={_q(scene.views[f].graph)}; style="dashed"; color="#5a8a4a";')
        _view(out, scene.views, f, "    ", calls)
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def _view(out: list[str], views: list[View], vid: int, indent: str, calls: dict[str, int]) -> None:
    view = views[vid]
    tree: dict[tuple[str, ...], list[int]] = {}
    for i, b in enumerate(view.boxes):
        tree.setdefault(b.group, []).append(i)
    groups = sorted(tree, key=lambda g: (len(g), g))
    emitted: set[tuple[str, ...]] = set()

    def emit(g: tuple[str, ...], ind: str) -> None:
        emitted.add(g)
        for i in tree.get(g, []):
            b = view.boxes[i]
            attrs = [f"label={_q(chr(10).join([b.label, *b.lines]))}", f"tooltip={_q(b.title)}"]
            if b.kind == "io":
                attrs.append('fillcolor="#e9f6ea"' if b.role != "output" else 'fillcolor="#f6ecf6"')
            elif b.kind == "cluster":
                attrs.append('fillcolor="#fdf3e1", style="dashed,filled"')
            out.append(f"{ind}{_q(f'v{vid}_{i}')} [{', '.join(attrs)}];")
        for child in groups:
            if len(child) == len(g) + 1 and child[: len(g)] == g and child not in emitted:
                out.append(f"{ind}subgraph {_q(f'cluster_v{vid}_' + '/'.join(child))} {{")
                out.append(f'{ind}  label={_q(child[-1])}; style="rounded"; color="#b9c6d8";')
                emit(child, ind + "  ")
                out.append(f"{ind}}}")

    for g in groups:  # groups whose parents hold no box directly
        for k in range(len(g)):
            tree.setdefault(g[:k], [])
    groups = sorted(tree, key=lambda g: (len(g), g))
    emit((), indent)
    for e in view.edges:
        label = f", label={_q(e.type)}" if e.type else ""
        out.append(
            f"{indent}{_q(f'v{vid}_{e.src}')} -> {_q(f'v{vid}_{e.dst}')} [tooltip={_q(e.value)}{label}];"
        )
    for i, b in enumerate(view.boxes):
        for body in b.bodies:
            out.append(f"{indent}subgraph {_q(f'cluster_body_{body}')} {{")
            out.append(f'{indent}  label={_q(views[body].graph)}; style="dashed"; color="#9a9a5a";')
            _view(out, views, body, indent + "  ", calls)
            out.append(f"{indent}}}")
            if views[body].boxes:
                out.append(
                    f"{indent}{_q(f'v{vid}_{i}')} -> {_q(f'v{body}_0')} [style=dashed, arrowhead=none];"
                )
        fn = calls.get(b.call) if b.call else None
        if fn is not None and views[fn].boxes:
            out.append(
                f'{indent}{_q(f"v{vid}_{i}")} -> {_q(f"v{fn}_0")} [style=dashed, color="#5a8a4a", '
                "constraint=false];"
            )
