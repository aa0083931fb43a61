"""The one walker (onnxlite.model.walk), the naming rule, and views that cannot be misused silently."""

from __future__ import annotations

import doctest

import pytest

import onnxlite
import onnxlite.model._walk
from onnxlite import EditError, edit, parse_model
from onnxlite.model import free_reads, node_labels, walk

NESTED = """
<ir_version: 8, opset_import: ["" : 18]>
outer (bool c, bool d, float x) => (float y) {
  y = If <then_branch = mid () => (float m_out) {
        m = Relu(x)
        m_out = If <then_branch = inner () => (float i_out) { i_out = Neg(x) },
                    else_branch = inner_else () => (float e_out) { e_out = Abs(x) }> (d)
      },
      else_branch = other () => (float o_out) { o_out = Sigmoid(x) }> (c)
}
"""


def test_doctests() -> None:
    assert doctest.testmod(onnxlite.model._walk).failed == 0


def test_walk_paths_follow_the_naming_rule() -> None:
    model = parse_model(NESTED)
    assert [b.path for b in walk(model)] == [
        "", "#0.then_branch", "#0.then_branch/#1.then_branch", "#0.then_branch/#1.else_branch",
        "#0.else_branch"]
    bodies = walk(model)
    assert bodies[2].parent is bodies[1] and bodies[1].parent is bodies[0]
    assert bodies[2].depth == 2 and bodies[2].attribute == "then_branch" and bodies[2].owner_index == 1
    # scopes: x is defined by the main graph and visible (resolved) from the innermost body
    assert bodies[2].resolve("x") is bodies[0]
    assert bodies[2].resolve("m") is bodies[1]
    assert bodies[2].resolve("nowhere") is None
    assert free_reads(bodies[1].proto) == {"x", "d"}


def test_labels_use_index_for_repeated_and_missing_names() -> None:
    model = parse_model("""
    <ir_version: 8, opset_import: ["" : 18]>
    g (float x) => (float z) {
      a = Relu(x)
      b = Relu(a)
      z = Neg(b)
    }""")
    proto = model.proto.graph
    proto.node[0].name = "dup"
    proto.node[1].name = "dup"
    proto.node[2].name = "neg"
    assert node_labels(proto) == ["dup#0", "dup#1", "neg"]
    graph = model.graph
    assert graph.node("neg").op_type == "Neg"
    assert graph.node("dup#1").outputs == ("b",)
    assert [n.label for n in graph.nodes] == ["dup#0", "dup#1", "neg"]
    with pytest.raises(KeyError, match="dup#0, dup#1"):
        graph.node("dup")
    with pytest.raises(KeyError, match="no node labelled 'zzz'"):
        graph.node("zzz")


def test_functions_and_lists_of_graphs_have_paths() -> None:
    model = parse_model("""
    <ir_version: 8, opset_import: ["" : 18, "local" : 1]>
    g (float x) => (float y) {
      y = local.Twice(x)
    }
    <domain: "local", opset_import: ["" : 18]>
    Twice (a) => (b) {
      b = Add(a, a)
    }""")
    assert [b.path for b in walk(model)] == ["", "fn:local:Twice"]
    assert [b.path for b in walk(model, functions=False)] == [""]


def test_a_live_view_of_a_middle_graph_sees_an_edit_in_a_nested_body() -> None:
    """Regression: a held view of the then-branch kept its old index after a node was inserted in
    the If nested inside it; every live view must answer as a fresh one would."""
    model = parse_model(NESTED)
    mid = model.graph.nodes[0].subgraphs()[0]
    assert [n.op_type for n, _ in mid.value("m").uses] == []
    inner = mid.nodes[1].subgraphs()[0]
    edit.insert_node(inner, "Add", after="i_out", inputs=["m"])
    fresh = model.graph.nodes[0].subgraphs()[0]
    assert [n.op_type for n, _ in fresh.value("m").uses] == ["Add"]
    assert [n.op_type for n, _ in mid.value("m").uses] == ["Add"]  # the held view agrees
    assert sorted(n.op_type for n, _ in model.graph.value("x").uses) == ["Abs", "Neg", "Relu", "Sigmoid"]


def test_insert_node_after_a_node() -> None:
    model = parse_model(NESTED)
    mid = model.graph.nodes[0].subgraphs()[0]
    relu = mid.nodes[0]
    added = edit.insert_node(mid, "Neg", after=relu)
    assert added.inputs == ("m",)
    with pytest.raises(EditError, match="has 0 outputs|has no output"):
        edit.insert_node(mid, "Neg", after=onnxlite.Node(onnxlite._proto.NodeProto(), mid))


def test_views_cannot_be_misused_silently() -> None:
    model = parse_model("""
    <ir_version: 8, opset_import: ["" : 18]>
    g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}> {
      y = Add(x, w)
    }""")
    graph = model.graph
    before = onnxlite.dumps(model)
    assert isinstance(graph.nodes, tuple)
    with pytest.raises(AttributeError):
        graph.nodes.append(graph.nodes[0])  # type: ignore[attr-defined]
    assert isinstance(graph.inputs, tuple) and isinstance(graph.outputs, tuple)
    with pytest.raises(EditError, match=r"onnxlite\.edit\.rename"):
        graph.initializers["w"].name = "w2"
    with pytest.raises(EditError, match=r"onnxlite\.edit\.rename"):
        graph.inputs[0].name = "x2"
    with pytest.raises(EditError, match=r"onnxlite\.edit\.replace_all_uses"):
        graph.nodes[0].inputs = ("w", "x")  # type: ignore[misc]
    with pytest.raises(EditError, match=r"onnxlite\.edit\.rename"):
        graph.nodes[0].outputs = ("z",)  # type: ignore[misc]
    assert onnxlite.dumps(model) == before


def test_labels_of_names_that_are_not_utf8_are_text() -> None:
    model = parse_model("""
    <ir_version: 8, opset_import: ["" : 18]>
    g (float x) => (float z) {
      a = Relu(x)
      b = Relu(a)
      z = Neg(b)
    }""")
    p = model.proto.graph
    p.node[0].name, p.node[1].name, p.node[2].name = "QQ", "QQ", "QR"
    data = onnxlite.dumps(model).replace(b"QQ", b"\xffQ").replace(b"QR", b"\xfeR")
    loaded = onnxlite.loads(data)
    assert node_labels(loaded.proto.graph) == ["\\xffQ#0", "\\xffQ#1", "\\xfeR"]
    assert loaded.graph.node("\\xfeR").op_type == "Neg"
