"""The object model: producer/uses index across subgraphs, attribute values, CLI basics."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto
from onnxlite.cli import main


def _loop_model() -> onnxlite.Model:
    """x -> If(cond){then: Add(x, w) ; else: Loop body reading x and w from the outer scope}."""
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    g = m.graph
    g.input.add(name="x")
    g.input.add(name="cond")
    g.output.add(name="y")
    g.initializer.append(onnxlite.Tensor.from_numpy(np.ones(3, np.float32), "w").proto)
    node = g.node.add(op_type="If", name="if", input=["cond"], output=["y"])
    then = node.attribute.add(name="then_branch", type=5).g
    then.node.add(op_type="Add", name="then_add", input=["x", "w"], output=["t"])
    then.output.add(name="t")
    other = node.attribute.add(name="else_branch", type=5).g
    loop = other.node.add(op_type="Loop", name="loop", input=["", "cond", "x"], output=["e"])
    body = loop.attribute.add(name="body", type=5).g
    body.input.add(name="i")
    body.input.add(name="c")
    body.input.add(name="x")  # shadows the outer x inside the body
    body.node.add(op_type="Mul", name="body_mul", input=["x", "w"], output=["xo"])
    body.node.add(op_type="Identity", name="body_id", input=["c"], output=["co"])
    body.output.add(name="co")
    body.output.add(name="xo")
    other.output.add(name="e")
    return onnxlite.Model(m)


def test_uses_cross_subgraphs_and_respect_shadowing() -> None:
    model = _loop_model()
    g = model.graph
    w = g.value("w")
    assert w.kind == "initializer" and isinstance(w.producer, onnxlite.Tensor)
    assert sorted(n.name for n, _ in w.uses) == ["body_mul", "then_add"]
    x = g.value("x")
    assert x.kind == "input"
    # then_add reads the outer x; the Loop reads it as an explicit input; body_mul reads the
    # body's own x (a body input of the same name), which is not a use of the outer one
    assert sorted((n.name, i) for n, i in x.uses) == [("loop", 2), ("then_add", 0)]
    assert g.value("y").producer.name == "if"
    with pytest.raises(KeyError, match="no value named 'nothing'"):  # one rule, as initializers[...]
        g.value("nothing")
    with pytest.raises(KeyError):
        g.initializers["nothing"]
    assert "nothing" not in g.values


def test_subgraph_values_see_the_outer_scope() -> None:
    g = _loop_model().graph
    if_node = g.nodes[0]
    then_graph = if_node.subgraphs()[0]
    w_inside = then_graph.value("w")
    assert w_inside.kind == "outer" and w_inside.outer is not None
    assert w_inside.outer.kind == "initializer"
    body = if_node.attr("else_branch").nodes[0].attr("body")
    assert body.value("x").kind == "input"
    assert body.value("w").kind == "outer" and body.value("w").outer.outer.kind == "initializer"


def test_attribute_values_are_typed() -> None:
    n = _proto.NodeProto(op_type="X")
    n.attribute.add(name="f", type=1, f=0.5)
    n.attribute.add(name="i", type=2, i=-3)
    n.attribute.add(name="s", type=3, s="héllo".encode())
    n.attribute.add(name="b", type=3, s=b"\xff\xfe")
    n.attribute.add(name="ints", type=7, ints=[1, 2])
    n.attribute.add(name="empty", type=6)
    n.attribute.add(name="strs", type=8, strings=[b"a", b"\x80"])
    n.attribute.add(name="old", i=4)  # type field unset, as in old files
    t = n.attribute.add(name="t", type=4).t
    t.CopyFrom(onnxlite.Tensor.from_numpy(np.arange(4, dtype=np.int64), "c").proto)
    m = _proto.ModelProto(ir_version=10)
    m.graph.node.append(n)
    node = onnxlite.Model(m).graph.nodes[0]
    values = {name: a.value for name, a in node.attributes.items()}
    assert values["f"] == 0.5 and values["i"] == -3 and values["s"] == "héllo" and values["b"] == b"\xff\xfe"
    assert values["ints"] == [1, 2] and values["empty"] == [] and values["strs"] == ["a", b"\x80"]
    assert values["old"] == 4 and node.attributes["old"].type == "INT"
    assert values["t"].numpy().tolist() == [0, 1, 2, 3]
    assert node.attr("missing", 7) == 7


def test_model_tensors_walks_every_graph() -> None:
    model = _loop_model()
    paths = [p for p, _ in model.tensors()]
    assert paths == ["model.graph.initializer[0]"]
    const = model.proto.graph.node.add(op_type="Constant", output=["k"])
    value = onnxlite.Tensor.from_numpy(np.zeros(2, np.float32)).proto
    const.attribute.add(name="value", type=4).t.CopyFrom(value)
    # file order: protobuf writes fields by number, and GraphProto.node (1) precedes initializer (5)
    assert [p for p, _ in model.tensors()] == ["model.graph.node[1].attribute[0].t",
                                               "model.graph.initializer[0]"]


def test_cli_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"onnxlite {onnxlite.__version__}"
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and "usage: onnxlite" in capsys.readouterr().out
    assert main([]) == 2


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "onnxlite", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"onnxlite {onnxlite.__version__}"
