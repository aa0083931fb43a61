"""onnxlite draw, what goes into the picture beyond the main graph's nodes: model-local functions
(one cluster each, beside the main graph, linked from their callers), initializers (io boxes on small
graphs, one per initializer whatever the number of readers; summarized the same way in every reader
on big ones), and names that are not UTF-8. Geometry is read back from the SVG (tests/test_draw.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

import onnxlite
from onnxlite import draw
from onnxlite.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_draw import SVG, Drawing, proto_edges  # noqa: E402

OPSETS = [helper.make_opsetid("", 18), helper.make_opsetid("local", 1)]


def _vi(name: str, dims: list[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _function_model() -> onnxlite.Model:
    """main: relu -> call1(Gelu2) -> call2(Gelu2) -> wrap(Wrap); Wrap calls Gelu2 inside an If branch."""
    gelu = helper.make_function("local", "Gelu2", ["x"], ["y"], [
        helper.make_node("Mul", ["x", "x"], ["sq"], name="sq"),
        helper.make_node("Tanh", ["sq"], ["t"], name="tanh"),
        helper.make_node("Mul", ["x", "t"], ["y"], name="out"),
    ], OPSETS)
    then = helper.make_graph([helper.make_node("Gelu2", ["x"], ["r"], name="inner", domain="local")],
                             "then", [], [_vi("r", [2])])
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["r2"], name="neg")], "else", [],
                              [_vi("r2", [2])])
    wrap = helper.make_function("local", "Wrap", ["x", "c"], ["z"], [
        helper.make_node("If", ["c"], ["z"], name="branch", then_branch=then, else_branch=other),
    ], OPSETS)
    g = helper.make_graph([
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Gelu2", ["b"], ["c1"], name="call1", domain="local"),
        helper.make_node("Gelu2", ["c1"], ["d"], name="call2", domain="local"),
        helper.make_node("Wrap", ["d", "cond"], ["e"], name="wrap", domain="local"),
    ], "g", [_vi("a", [2]), helper.make_tensor_value_info("cond", TensorProto.BOOL, [])], [_vi("e", [2])])
    m = helper.make_model(g, opset_imports=OPSETS, functions=[gelu, wrap])
    return onnxlite.loads(m.SerializeToString())


def _links(d: Drawing) -> list[tuple[str, str, str]]:
    return sorted((p.get("data-graph", ""), p.get("data-from", ""), p.get("data-to", ""))
                  for p in d.root.iter(f"{SVG}path") if p.get("class") == "link call")


def test_functions_are_clusters_beside_the_main_graph_linked_from_their_calls() -> None:
    model = _function_model()
    d = Drawing(draw.to_svg(model))
    d.check_geometry()
    frames = {g.get("data-name"): g.find(f"{SVG}rect") for g in d.root.iter(f"{SVG}g")
              if g.get("class") == "subgraph function"}
    assert list(frames) == ["fn:local:Gelu2", "fn:local:Wrap"]  # the model's order, each drawn once
    main_right = max(x + w for (k, g, _), (x, _, w, _) in d.boxes.items() if g == "" and k == "node")
    for path, rect in frames.items():
        assert rect is not None and float(rect.get("x", "0")) > main_right
        fx, fy = float(rect.get("x", "0")), float(rect.get("y", "0"))
        fw, fh = float(rect.get("width", "0")), float(rect.get("height", "0"))
        inside = [v for (k, g, _), v in d.boxes.items() if g.startswith(path)]
        assert inside and all(fx <= x and x + w <= fx + fw and fy <= y and y + h <= fy + fh
                              for x, y, w, h in inside)
    assert sorted(k[2] for k in d.boxes if k[:2] == ("node", "fn:local:Gelu2")) == ["out", "sq", "tanh"]
    assert sorted(d.node_edges("fn:local:Gelu2")) == proto_edges(list(model.proto.functions[0].node))
    # a body inside a function: named by the rule under the function's path, beside its node
    bx, by, bw, _ = d.boxes[("node", "fn:local:Wrap", "branch")]
    x, y, _, _ = d.boxes[("node", "fn:local:Wrap/branch.then_branch", "inner")]
    assert x > bx + bw and y >= by
    assert _links(d) == [
        ("", "call1", "fn:local:Gelu2"), ("", "call2", "fn:local:Gelu2"), ("", "wrap", "fn:local:Wrap"),
        ("fn:local:Wrap/branch.then_branch", "inner", "fn:local:Gelu2"),
    ]
    text = draw.to_dot(model)
    assert text.count('subgraph "cluster_fn_') == 2 and text.count('color="#5a8a4a", constraint=false') == 4


def test_function_nodes_are_searchable_in_the_page() -> None:
    page = draw.to_html(_function_model())
    data = json.loads(re.search(r'id="draw-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    found = {(e[0], e[2]): e[3] for e in data["index"]}
    # every node of every function is in the index, shown in the main view (where functions are drawn)
    assert found[("tanh", "fn:local:Gelu2")] == 0
    assert found[("inner", "fn:local:Wrap/branch.then_branch")] == 0
    assert len(found) == 4 + 3 + 1 + 1 + 1
    facts = data["details"]["node\x00\x00call1"]["facts"]
    assert ["calls", "fn:local:Gelu2"] in facts
    assert set(data["views"]) == {"0"}  # function views are drawn inside the main one, not switched to


def _shared_weight_model(extra: int = 0) -> onnxlite.Model:
    """One initializer 'w' read by three nodes (and by a node of an If body), plus ``extra`` Relus."""
    body = helper.make_graph([helper.make_node("Mul", ["a1", "w"], ["m"], name="in_body")], "then", [],
                             [_vi("m", [2])])
    nodes = [
        helper.make_node("Add", ["x", "w"], ["a1"], name="first"),
        helper.make_node("Mul", ["a1", "w"], ["a2"], name="second"),
        helper.make_node("Sub", ["a2", "w"], ["a3"], name="third"),
        helper.make_node("If", ["c"], ["a4"], name="branch", then_branch=body, else_branch=body),
    ]
    last = "a4"
    for k in range(extra):
        nodes.append(helper.make_node("Relu", [last], [f"r{k}"], name=f"relu{k}"))
        last = f"r{k}"
    inputs = [_vi("x", [2]), helper.make_tensor_value_info("c", TensorProto.BOOL, [])]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    g = helper.make_graph(nodes, "g", inputs, [_vi(last, [2])], [weight])
    return onnxlite.loads(helper.make_model(g, opset_imports=OPSETS[:1]).SerializeToString())


def test_an_initializer_read_by_several_nodes_is_one_io_box_on_small_graphs() -> None:
    model = _shared_weight_model()
    svg = draw.to_svg(model)
    assert svg == draw.to_svg(_shared_weight_model())  # deterministic
    d = Drawing(svg)
    d.check_geometry()
    inits = [g for g in d.root.iter(f"{SVG}g") if "initializer" in (g.get("class") or "").split()]
    assert sorted((g.get("class"), g.get("data-graph", ""), g.get("data-name")) for g in inits) == [
        ("io initializer", "", "w"),
        ("io initializer", "branch.else_branch", "w"),  # the outer initializer, read inside a body
        ("io initializer", "branch.then_branch", "w"),
    ]
    assert all("".join(g.itertext()) == "wwfloat[2]" for g in inits)  # title, name, type
    reads = sorted((g, t) for fk, f, tk, t, v, g, _ in d.edges if fk == "io" and f == "w" and v == "w")
    assert reads == [("", "first"), ("", "second"), ("", "third"),
                     ("branch.else_branch", "in_body"), ("branch.then_branch", "in_body")]
    assert sorted(d.node_edges()) == [("first", "second", "a1"), ("second", "third", "a2")]
    assert not [t for t in d.root.iter(f"{SVG}text") if t.get("class") == "init"]  # not summarized too


def test_an_initializer_read_by_several_nodes_is_summarized_alike_on_big_graphs() -> None:
    small, big = _shared_weight_model(195), _shared_weight_model(196)  # 199 and 200 nodes
    assert sum(1 for n in small.graph.nodes) == 199
    assert 'class="io initializer"' in draw.to_svg(small)
    for svg in (draw.to_svg(big), draw.to_svg(small, initializers=False)):
        d = Drawing(svg)
        d.check_geometry()
        assert not [g for g in d.root.iter(f"{SVG}g") if "initializer" in (g.get("class") or "").split()]
        lines = {}
        for g in d.root.iter(f"{SVG}g"):
            if g.get("class") == "node" and g.get("data-op") in ("Add", "Mul", "Sub"):
                lines[(g.get("data-graph", ""), g.get("data-name"))] = [
                    t.text for t in g.iter(f"{SVG}text") if t.get("class") == "init"]
        assert lines == {k: ["w: float[2]"] for k in [("", "first"), ("", "second"), ("", "third"),
                                                        ("branch.then_branch", "in_body"),
                                                        ("branch.else_branch", "in_body")]}
        assert not [e for e in d.edges if e[4] == "w"]
    assert 'class="io initializer"' in draw.to_svg(big, initializers=True)


def test_names_that_are_not_utf8_follow_the_label_rule_with_escapes() -> None:
    g = helper.make_graph([
        helper.make_node("Relu", ["x"], ["v1"], name="QQ_a"),
        helper.make_node("Neg", ["v1"], ["v2"], name="QQ_b"),
        helper.make_node("Abs", ["v2"], ["v3"], name="QQ_b"),
    ], "g", [_vi("x", [2])], [_vi("v3", [2])])
    data = helper.make_model(g, opset_imports=OPSETS[:1]).SerializeToString().replace(b"QQ_", b"\xff\xfe_")
    model = onnxlite.loads(data)
    assert isinstance(model.graph.proto.node[0].name, bytes)
    d = Drawing(draw.to_svg(model))
    a, b1, b2 = "\\xff\\xfe_a", "\\xff\\xfe_b#1", "\\xff\\xfe_b#2"
    assert sorted(k[2] for k in d.boxes if k[0] == "node") == [a, b1, b2]
    assert sorted(d.node_edges()) == [(a, b1, "v1"), (b1, b2, "v2")]


@pytest.mark.parametrize(("flag", "boxes"), [([], True), (["--initializers", "summary"], False),
                                           (["--initializers", "boxes"], True)])
def test_cli_initializers_flag(tmp_path: Path, flag: list[str], boxes: bool) -> None:
    src, out = tmp_path / "m.onnx", tmp_path / "m.svg"
    onnxlite.save(_shared_weight_model(), src)
    assert main(["draw", str(src), "-o", str(out), *flag]) == 0
    assert ('class="io initializer"' in out.read_text()) is boxes
    assert ('class="init"' in out.read_text()) is not boxes
