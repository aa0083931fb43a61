"""onnxlite draw: geometry read back from the SVG (no overlapping node boxes; every data edge of the
graph after folding drawn once, from the producer's box to the consumer's), folding, --depth,
--expand, bodies beside their node, DOT, rsvg-convert, the CLI, determinism."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import onnxlite
from onnxlite import draw
from onnxlite.builder import GraphBuilder
from onnxlite.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "tools"))
from make_big_transformer import build as build_transformer  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
MODELS = sorted(p for p in FIXTURES.rglob("*.onnx") if "hostile" not in p.parts)
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _text(name: str | bytes) -> str:
    return name if isinstance(name, str) else name.decode("utf-8", "backslashreplace")


def _labels(graph: onnxlite.Graph) -> list[str]:
    names = [_text(n.name) for n in graph.nodes]
    return [n if n and names.count(n) == 1 else f"{n}#{i}" for i, n in enumerate(names)]


def proto_edges(nodes: list[object]) -> list[tuple[str, str, str]]:
    """Node-to-node data edges of a graph or function body given as NodeProtos (the naming rule
    written out here, independent of onnxlite's)."""
    names = [_text(n.name) for n in nodes]  # type: ignore[attr-defined]
    labels = [n if n and names.count(n) == 1 else f"{n}#{i}" for i, n in enumerate(names)]
    producer = {o: i for i, n in enumerate(nodes) for o in n.output if o}  # type: ignore[attr-defined]
    return sorted(
        {(labels[producer[v]], labels[c], _text(v)) for c, n in enumerate(nodes) for v in n.input  # type: ignore[attr-defined]
         if v in producer and producer[v] != c}
    )


def fn_path(f: object) -> str:
    path = f"fn:{f.domain}:{f.name}"  # type: ignore[attr-defined]
    return f"{path}:{f.overload}" if f.overload else path  # type: ignore[attr-defined]


class Drawing:
    """What an SVG says: boxes by (kind, graph, name) and edges with their end points."""

    def __init__(self, svg: str, panned: bool = False) -> None:
        self.root = ET.fromstring(svg)
        self.boxes: dict[tuple[str, str, str], tuple[float, float, float, float]] = {}
        self.kinds: dict[str, int] = {"node": 0, "cluster": 0, "io": 0}
        self.ops: dict[tuple[str, str], str] = {}
        self.clusters: dict[str, tuple[int, int]] = {}
        for g in self.root.iter(f"{SVG}g"):
            classes = (g.get("class") or "").split()
            kind = next((k for k in ("node", "cluster", "io") if k in classes), None)
            if kind is None:
                continue
            assert g.get("transform") is None
            rect = g.find(f"{SVG}rect")
            assert rect is not None and rect.get("transform") is None
            geo = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[arg-type]
            # a graph input that is also a graph output (a Loop body's pass-through) has two io boxes
            # of one name: the output's is keyed apart (edges only ever end on output io boxes)
            output = kind == "io" and g.get("data-role") == "output"
            key = ("io:output" if output else kind, g.get("data-graph", ""), g.get("data-name", ""))
            assert key not in self.boxes, f"box drawn twice: {key}"
            self.boxes[key] = geo  # type: ignore[assignment]
            self.kinds[kind] += 1
            if kind == "node":
                self.ops[key[1:]] = g.get("data-op", "")
            if kind == "cluster":
                self.clusters[key[2]] = (int(g.get("data-count", "0")), int(g.get("data-repeat", "1")))
        for g in self.root.iter():  # after pan/zoom, the root group may carry a transform
            if not (panned and g.get("class") == "viewport"):
                assert g.get("transform") is None, "no transforms anywhere in a drawing as first drawn"
        self.edges: list[tuple[str, str, str, str, str, str, list[float]]] = []
        for p in self.root.iter(f"{SVG}path"):
            if "edge" not in (p.get("class") or "").split():
                continue
            nums = [float(v) for v in _NUM.findall(p.get("d", ""))]
            assert p.get("d", "").startswith("M")
            self.edges.append(
                (
                    p.get("data-from-kind", ""),
                    p.get("data-from", ""),
                    p.get("data-to-kind", ""),
                    p.get("data-to", ""),
                    p.get("data-value", ""),
                    p.get("data-graph", ""),
                    nums,
                )
            )

    def check_geometry(self) -> None:
        nodes = sorted(v for k, v in self.boxes.items() if k[0] in ("node", "cluster"))
        for i, (x, y, w, h) in enumerate(nodes):  # sweep over x: boxes overlapping in x, then in y
            for x2, y2, w2, h2 in nodes[i + 1 :]:
                if x2 >= x + w:
                    break
                assert y2 >= y + h or y >= y2 + h2, f"boxes overlap: {(x, y, w, h)} {(x2, y2, w2, h2)}"
        for fk, fname, tk, tname, value, graph, nums in self.edges:
            x0, y0, x1, y1 = nums[0], nums[1], nums[-2], nums[-1]
            sx, sy, sw, sh = self.boxes[(fk, graph, fname)]
            tx, ty, tw, _ = self.boxes[("io:output" if tk == "io" else tk, graph, tname)]
            assert abs(y0 - (sy + sh)) < 0.11 and sx - 0.11 <= x0 <= sx + sw + 0.11, (fname, value)
            assert abs(y1 - ty) < 0.11 and tx - 0.11 <= x1 <= tx + tw + 0.11, (tname, value)

    def node_edges(self, graph: str = "") -> list[tuple[str, str, str]]:
        return [(f, t, v) for fk, f, tk, t, v, g, _ in self.edges if g == graph and fk == tk == "node"]


def expected_edges(graph: onnxlite.Graph, box_of: dict[int, str] | None = None) -> list[tuple[str, str, str]]:
    """Data edges between node boxes, computed from the model alone (box_of maps folded nodes)."""
    labels = _labels(graph)
    producer = {o: i for i, n in enumerate(graph.nodes) for o in n.outputs if o}
    want = set()
    for c, n in enumerate(graph.nodes):
        for v in n.inputs:
            if v in producer:
                a = (box_of or {}).get(producer[v], labels[producer[v]])
                b = (box_of or {}).get(c, labels[c])
                if a != b:
                    want.add((a, b, _text(v)))
    return sorted(want)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_drawings_are_exact(path: Path) -> None:
    model = onnxlite.load(path)
    d = Drawing(draw.to_svg(model, no_fold=True))
    d.check_geometry()
    assert sum(1 for k in d.boxes if k[:2] == ("node", "")) == len(model.graph.nodes)
    drawn = d.node_edges()
    assert len(drawn) == len(set(drawn)), "an edge drawn twice"
    assert sorted(drawn) == expected_edges(model.graph)
    assert d.kinds["cluster"] == 0
    # initializers: graphs under 200 nodes draw each one as one io box, linked to every reader
    inits = {t.name for t in model.graph.proto.initializer}
    made = {o for n in model.graph.nodes for o in n.outputs}
    readers = zip(model.graph.nodes, _labels(model.graph), strict=True)
    want = sorted({(_text(v), lab) for n, lab in readers for v in n.inputs if v in inits and v not in made})
    got = sorted((f, t) for fk, f, tk, t, v, g, _ in d.edges if g == "" and fk == "io" and tk == "node"
                 and f in inits)
    assert got == (want if len(model.graph.nodes) < 200 else [])
    # model-local functions: each drawn once beside the main graph, every edge inside it, calls linked
    main_right = max(x + w for (k, g, _), (x, _, w, _) in d.boxes.items() if g == "" and k == "node")
    callees = {(f.domain, f.name, f.overload): fn_path(f) for f in model.proto.functions}
    for f in model.proto.functions:
        path = fn_path(f)
        boxes = [v for k, v in d.boxes.items() if k[0] == "node" and k[1] == path]
        assert len(boxes) == len(f.node)
        assert all(x > main_right for x, _, _, _ in boxes)
        drawn = d.node_edges(path)
        assert len(drawn) == len(set(drawn)) and sorted(drawn) == proto_edges(list(f.node))
    links = sorted((p.get("data-graph", ""), p.get("data-from"), p.get("data-to"))
                   for p in d.root.iter(f"{SVG}path") if p.get("class") == "link call")
    want_links = []
    for graph, nodes in [("", list(model.graph.proto.node))] + [(fn_path(f), list(f.node))
                                                                  for f in model.proto.functions]:
        names = [_text(n.name) for n in nodes]
        for i, n in enumerate(nodes):
            key = (n.domain, n.op_type, n.overload)
            if key in callees:
                label = names[i] if names[i] and names.count(names[i]) == 1 else f"{names[i]}#{i}"
                want_links.append((graph, label, callees[key]))
    assert links == sorted(want_links)


def _body_model() -> onnxlite.Model:
    g = GraphBuilder("bodies", opset=18)
    x = g.input("x", "float32", [2, 3])
    cond = g.input("c", "bool", [])
    then = g.subgraph("then_g")
    then.output(then.op("Relu", then.op("Neg", x, name="neg"), name="relu"), "float32", [2, 3])
    other = g.subgraph("else_g")
    other.output(other.op("Sigmoid", x, name="sig"), "float32", [2, 3])
    y = g.op("If", cond, then_branch=then, else_branch=other, name="branch")
    g.output(g.op("Abs", y, name="abs"), "float32", [2, 3])
    return g.model()


def test_bodies_are_drawn_beside_their_node_and_linked() -> None:
    d = Drawing(draw.to_svg(_body_model()))
    d.check_geometry()
    ix, iy, iw, _ = d.boxes[("node", "", "branch")]
    for graph, label in (("branch.then_branch", "relu"), ("branch.else_branch", "sig")):
        x, y, _, _ = d.boxes[("node", graph, label)]
        assert x > ix + iw and y >= iy  # beside, to the right of its node
    assert (
        d.node_edges("branch.then_branch") == [("neg", "relu", "neg_output_0")]
        or len(d.node_edges("branch.then_branch")) == 1
    )
    links = [p for p in d.root.iter(f"{SVG}path") if p.get("class") == "link"]
    assert sorted(p.get("data-to") for p in links) == ["branch.else_branch", "branch.then_branch"]
    subgraphs = [g.get("data-name") for g in d.root.iter(f"{SVG}g") if g.get("class") == "subgraph"]
    assert subgraphs == ["branch.then_branch", "branch.else_branch"]


@pytest.fixture(scope="module")
def transformer() -> onnxlite.Model:
    return build_transformer(layers=6)


def test_repeated_blocks_fold_into_one_cluster(transformer: onnxlite.Model) -> None:
    graph = transformer.graph
    per = sum(1 for n in graph.nodes if n.name.startswith("/model/layers.0/"))
    d = Drawing(draw.to_svg(transformer, fold=True))
    d.check_geometry()
    assert d.clusters == {"/model/layers.0..5": (6 * per, 6)}
    box_of = {
        i: "/model/layers.0..5" for i, n in enumerate(graph.nodes) if n.name.startswith("/model/layers.")
    }
    drawn = [(f, t, v) for fk, f, tk, t, v, g, _ in d.edges if fk != "io" and tk != "io"]
    assert sorted(drawn) == expected_edges(graph, box_of)
    assert d.kinds["node"] == len(graph.nodes) - 6 * per


def test_fold_is_automatic_above_1000_nodes_only(transformer: onnxlite.Model) -> None:
    assert Drawing(draw.to_svg(transformer)).kinds["cluster"] == 0  # 666 nodes: drawn in full
    big = build_transformer(layers=10)
    assert len(big.graph.nodes) > 1000
    assert Drawing(draw.to_svg(big)).clusters == {"/model/layers.0..9": (len(big.graph.nodes) - 12, 10)}


def test_expand_splits_the_fold_and_depth_collapses(transformer: onnxlite.Model) -> None:
    d = Drawing(draw.to_svg(transformer, fold=True, expand=["/model/layers.3"]))
    d.check_geometry()
    assert set(d.clusters) == {"/model/layers.0..2", "/model/layers.4..5"}
    assert ("node", "", "/model/layers.3/self_attn/q_proj/MatMul") in d.boxes
    d = Drawing(draw.to_svg(transformer, depth=1))
    d.check_geometry()
    per = sum(1 for n in transformer.graph.nodes if n.name.startswith("/model/layers.0/"))
    assert {k: v for k, v in d.clusters.items() if "layers" in k} == {
        f"/model/layers.{i}": (per, 1) for i in range(6)
    }
    assert d.clusters["/model/norm"][0] == sum(
        1 for n in transformer.graph.nodes if n.name.startswith("/model/norm/")
    )
    d = Drawing(draw.to_svg(transformer, depth=1, no_fold=True))
    assert d.kinds["cluster"] == 0 and d.kinds["node"] == len(transformer.graph.nodes)


def test_dynamo_name_scopes_become_frames() -> None:
    d = Drawing(draw.to_svg(FIXTURES / "torch" / "attention_dynamo.onnx"))
    frames = {g.get("data-name") for g in d.root.iter(f"{SVG}g") if g.get("class") == "scope"}
    assert "/qkv" in frames


def test_output_is_deterministic_and_weights_are_summarized(transformer: onnxlite.Model) -> None:
    a = draw.to_svg(transformer)
    assert a == draw.to_svg(build_transformer(layers=6))
    assert "model.norm.weight: float[16]" in a
    assert "float[batch,sequence,16]" in a  # inferred types on edges


@pytest.mark.skipif(
    shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed"
)
def test_svg_converts_with_rsvg(tmp_path: Path) -> None:
    out = tmp_path / "m.svg"
    draw.draw(_body_model(), out)
    png = tmp_path / "m.png"
    subprocess.run(["rsvg-convert", str(out), "-o", str(png)], check=True, timeout=60)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_dot_lists_every_box_and_edge(transformer: onnxlite.Model) -> None:
    text = draw.to_dot(_body_model())
    assert text.startswith("digraph onnx {") and text.rstrip().endswith("}")
    assert text.count('subgraph "cluster_body_') == 2
    assert text.count(" -> ") == len(re.findall(r'class="edge" data-from="', draw.to_svg(_body_model()))) + 2


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.onnx"
    onnxlite.save(_body_model(), src)
    for suffix in (".svg", ".html", ".dot"):
        assert main(["draw", str(src), "-o", str(tmp_path / f"out{suffix}")]) == 0
        assert (tmp_path / f"out{suffix}").stat().st_size > 500
    with pytest.raises(SystemExit) as e:
        main(["draw", str(src), "-o", str(tmp_path / "out.png")])
    assert e.value.code == 2
    assert "must end in .svg, .html or .dot" in capsys.readouterr().err
    assert main(["draw", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "x.svg")]) == 1
    assert not (tmp_path / "x.svg").exists()


def test_bad_requests_raise_draw_error(tmp_path: Path) -> None:
    with pytest.raises(draw.DrawError, match="must end in .svg, .html or .dot"):
        draw.draw(_body_model(), tmp_path / "x.pdf")
    with pytest.raises(draw.DrawError, match="depth"):
        draw.to_svg(_body_model(), depth=-1)


def test_unnamed_and_duplicate_names_follow_the_label_rule() -> None:
    g = GraphBuilder("dups", opset=18)
    x = g.input("x", "float32", [2])
    a = g.op("Relu", x)
    b = g.op("Neg", a)
    g.output(g.op("Abs", b), "float32", [2])
    model = g.model()
    for n in model.graph.proto.node:
        n.name = "same" if n.op_type != "Abs" else ""
    d = Drawing(draw.to_svg(model))
    assert sorted(k[2] for k in d.boxes if k[0] == "node") == ["#2", "same#0", "same#1"]
    assert sorted(d.node_edges()) == expected_edges(model.graph)
    assert np.isfinite(sum(sum(v) for v in d.boxes.values()))
