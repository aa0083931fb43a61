"""Edits on the object model (onnxlite.edit): rename, replace uses, remove nodes, graph I/O.

Models are written in the ONNX textual syntax and parsed by onnxlite.parse_model; results are
checked with onnx.checker (full_check) and, where they compute something, run with onnx's
reference evaluator against the unedited model. Only the tests that consult that oracle
(marked ``oracle``) skip when onnx is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import onnxlite
from onnxlite import edit
from onnxlite.errors import EditError

try:  # the oracle: only the tests marked `oracle` need it; the others run without onnx
    import onnx
    from onnx import checker
    from onnx.reference import ReferenceEvaluator
except ImportError:
    onnx = None

oracle = pytest.mark.skipif(onnx is None, reason="needs the onnx package (checker, reference evaluator)")

MAIN = """
<ir_version: 10, opset_import: ["" : 21]>
main (float[2] x, bool c) => (float[2] y, float[2] z) {
    t = Relu(x)
    u = Neg(t)
    y = If(c) <
        then_branch = g1 () => (float[2] o1) { o1 = Add(t, u) },
        else_branch = g2 () => (float[2] o2) { o2 = Identity(t) }
    >
    z = Loop(two, c, t) <body = body (int64 i, bool cond, float[2] t) => (bool cond_out, float[2] t_out) {
        cond_out = Identity(cond)
        t_out = Add(t, t)
    }>
}
"""


def _load(text: str, extra: str = "") -> onnxlite.Model:
    model = onnxlite.parse_model(text)
    if not extra:
        return onnxlite.loads(onnxlite.dumps(model))
    # a few lines editing the message; those using onnx.helper get onnx's own message (and are
    # in tests marked oracle)
    proto = onnx.load_from_string(onnxlite.dumps(model)) if "onnx." in extra else model.proto
    exec(extra, {"proto": proto, "onnx": onnx, "np": np})
    return onnxlite.loads(proto.SerializeToString())


def _main() -> onnxlite.Model:
    text = MAIN.replace("t = Relu(x)", "two = Constant<value = int64 {2}>()\n    t = Relu(x)")
    return _load(text)


def _onnx(model: onnxlite.Model) -> object:
    return onnx.load_from_string(onnxlite.dumps(model))


def _run(model: onnxlite.Model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return ReferenceEvaluator(_onnx(model)).run(None, feeds)  # type: ignore[no-any-return]


def _unchanged(model: onnxlite.Model, call: object, match: str) -> None:
    before = onnxlite.dumps(model)
    with pytest.raises(EditError, match=match):
        call()  # type: ignore[operator]
    assert onnxlite.dumps(model) == before


# --- rename ------------------------------------------------------------------------------------

@oracle
def test_rename_reaches_outer_scope_readers_but_not_a_shadowing_body() -> None:
    model = _main()
    x = np.array([1.0, -2.0], np.float32)
    expected = _run(model, {"x": x, "c": np.array(True)})
    edit.rename(model, "t", "activation")
    proto = _onnx(model)
    checker.check_model(proto, full_check=True)
    assert [n.output[0] for n in proto.graph.node][:2] == ["two", "activation"]
    then_add = proto.graph.node[3].attribute[0].g.node[0]
    assert list(then_add.input) == ["activation", "u"]
    loop = proto.graph.node[4]
    assert list(loop.input) == ["two", "c", "activation"]
    body = loop.attribute[0].g
    assert body.input[2].name == "t"  # the body's own t is another value
    assert list(body.node[1].input) == ["t", "t"]
    np.testing.assert_array_equal(_run(model, {"x": x, "c": np.array(True)})[0], expected[0])
    assert model.graph.value("activation").producer.op_type == "Relu"
    with pytest.raises(KeyError, match="no value named 't'"):  # nothing defines or reads 't' any more
        model.graph.value("t")


@oracle
def test_rename_graph_input_output_initializer_and_notes() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y) <float[2] w = {1, 2}> { y = Add(x, w) }
    """, """
a = proto.graph.quantization_annotation.add(); a.tensor_name = "w"
e = a.quant_parameter_tensor_names.add(); e.key = "SCALE_TENSOR"; e.value = "x"
vi = proto.graph.value_info.add(); vi.name = "w"
""")
    edit.rename(model, "x", "pixels")
    edit.rename(model, "w", "weight")
    edit.rename(model, "y", "logits")
    g = _onnx(model).graph
    assert [v.name for v in g.input] == ["pixels"]
    assert [t.name for t in g.initializer] == ["weight"]
    assert [v.name for v in g.output] == ["logits"]
    assert list(g.node[0].input) == ["pixels", "weight"] and list(g.node[0].output) == ["logits"]
    assert g.quantization_annotation[0].tensor_name == "weight"
    assert g.quantization_annotation[0].quant_parameter_tensor_names[0].value == "pixels"
    assert g.value_info[0].name == "weight"


def test_rename_refusals_leave_the_model_unchanged() -> None:
    model = _main()
    _unchanged(model, lambda: edit.rename(model, "t", "u"), "already used")
    _unchanged(model, lambda: edit.rename(model, "t", "o1"), "already used")  # a subgraph's value
    _unchanged(model, lambda: edit.rename(model, "t", "cond_out"), "already used")
    _unchanged(model, lambda: edit.rename(model, "nope", "fresh"), "no value named 'nope'")
    _unchanged(model, lambda: edit.rename(model, "t", ""), "omitted input")
    then_branch = model.graph.nodes[3].subgraphs()[0]
    _unchanged(model, lambda: edit.rename(then_branch, "t", "fresh"), "enclosing graph")


@oracle
def test_rename_inside_a_subgraph_view() -> None:
    model = _main()
    body = model.graph.nodes[4].subgraphs()[0]
    edit.rename(body, "t", "acc")  # the Loop body's own t
    proto = _onnx(model)
    checker.check_model(proto, full_check=True)
    g = proto.graph.node[4].attribute[0].g
    assert g.input[2].name == "acc" and list(g.node[1].input) == ["acc", "acc"]
    assert proto.graph.node[1].output[0] == "t"  # the outer t is untouched


@oracle
def test_rename_training_bindings_and_function_scope() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21, "local" : 1]>
        g (float[2] x) => (float[2] y) <float[2] w = {1, 2}> { y = local.F(x, w) }
        <domain: "local", opset_import: ["" : 21]>
        F (a, b) => (c) { s = Add(a, b)  c = Relu(s) }
    """, """
t = proto.training_info.add()
e = t.update_binding.add(); e.key = "w"; e.value = "w_new"
t.algorithm.name = "algo"
n = t.algorithm.node.add(); n.op_type = "Identity"; n.input.append("w"); n.output.append("w_new")
o = t.algorithm.output.add(); o.name = "w_new"
""")
    edit.rename(model, "w", "weight")
    tinfo = model.proto.training_info[0]
    assert tinfo.update_binding[0].key == "weight"
    assert list(tinfo.algorithm.node[0].input) == ["weight"]
    fn = model.functions[0]
    edit.rename(fn, "s", "total")
    edit.rename(fn, "a", "lhs")
    assert list(fn.proto.input) == ["lhs", "b"]
    assert [list(n.input) for n in fn.proto.node] == [["lhs", "b"], ["total"]]
    checker.check_model(_onnx(model), full_check=True)
    _unchanged(model, lambda: edit.rename(model, "x", "w_new"), "already used")  # a training value


# --- replace uses ------------------------------------------------------------------------------

@oracle
def test_replace_all_uses_with_exclude_and_outputs() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y, float[2] x2) {
            x2 = Mul(x, x)
            y = Add(x, x)
        }
    """)
    mul = model.graph.nodes[0]
    count = edit.replace_all_uses(model, "x", "x2", exclude=[mul])
    assert count == 2
    g = _onnx(model).graph
    assert list(g.node[0].input) == ["x", "x"] and list(g.node[1].input) == ["x2", "x2"]
    checker.check_model(_onnx(model), full_check=True)


@oracle
def test_replace_all_uses_moves_the_producer_before_new_readers() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y, float[2] z) {
            y = Relu(x)
            a = Neg(x)
            z = Abs(a)
        }
    """)
    x = np.array([1.0, -2.0], np.float32)
    edit.replace_all_uses(model, "x", "z", exclude=[model.graph.nodes[1]])
    g = _onnx(model).graph
    assert [n.op_type for n in g.node] == ["Neg", "Abs", "Relu"]
    checker.check_model(_onnx(model), full_check=True)
    y, z = _run(model, {"x": x})
    np.testing.assert_array_equal(y, np.maximum(np.abs(-x), 0))


def test_replace_all_uses_refusals() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x, bool c) => (float[2] y) {
            a = Neg(x)
            y = If(c) <
                then_branch = g1 () => (float[2] o1) { b = Identity(x)  o1 = Add(b, x) },
                else_branch = g2 () => (float[2] o2) { o2 = Identity(x) }
            >
        }
    """)
    _unchanged(model, lambda: edit.replace_all_uses(model, "x", "a"), "cycle")
    _unchanged(model, lambda: edit.replace_all_uses(model, "x", "nothing"), "nothing defines")
    _unchanged(model, lambda: edit.replace_all_uses(model, "x", "b"), "nothing defines")  # a body's own b
    shadowed = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x, bool c) => (float[2] y) {
            b = Neg(x)
            y = If(c) <
                then_branch = g1 () => (float[2] o1) { b = Identity(x)  o1 = Add(b, x) },
                else_branch = g2 () => (float[2] o2) { o2 = Identity(x) }
            >
        }
    """)
    neg = shadowed.graph.nodes[0]
    # the then branch reads x and defines its own b: the replacement would read the wrong b
    _unchanged(shadowed, lambda: edit.replace_all_uses(shadowed, "x", "b", exclude=[neg]), "its own 'b'")


# --- nodes -------------------------------------------------------------------------------------

@oracle
def test_remove_node_with_and_without_rewire() -> None:
    text = """
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y) {
            a = Relu(x)
            b = Identity(a)
            y = Neg(b)
        }
    """
    model = _load(text)
    _unchanged(model, lambda: edit.remove_node(model, 1), "is read by node\\[2\\]")
    edit.remove_node(model, 1, rewire=True)
    g = _onnx(model).graph
    assert [n.op_type for n in g.node] == ["Relu", "Neg"] and list(g.node[1].input) == ["a"]
    checker.check_model(_onnx(model), full_check=True)


@oracle
def test_remove_node_rewire_keeps_the_output_name() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y, float[2] z) {
            a = Relu(x)
            z = Abs(a)
            y = Identity(a)
        }
    """)
    x = np.array([1.0, -2.0], np.float32)
    before = _run(model, {"x": x})
    edit.remove_node(model, 2, rewire=True)
    g = _onnx(model).graph
    assert [list(n.output) for n in g.node] == [["y"], ["z"]]
    assert list(g.node[1].input) == ["y"]
    checker.check_model(_onnx(model), full_check=True)
    for got, want in zip(_run(model, {"x": x}), before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_remove_node_rewire_refused_when_it_would_rename_the_interface() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y) { y = Identity(x) }
    """)
    _unchanged(model, lambda: edit.remove_node(model, 0, rewire=True), "graph input")
    _unchanged(model, lambda: edit.remove_node(model, "nope"), "no node named")
    _unchanged(model, lambda: edit.remove_node(model, 5), "no node\\[5\\]")


SILERO_LIKE = """
    <ir_version: 10, opset_import: ["" : 21]>
    g (float[2] x, int64 sr) => (float[2] y) {
        rate = Constant<value = int64 {16000}>()
        cond = Equal(sr, rate)
        y = If(cond) <
            then_branch = t () => (float[2] a) { a = Relu(x) },
            else_branch = e () => (float[2] b) { b = Neg(x) }
        >
    }
"""


@oracle
def test_remove_node_rewire_refuses_a_type_change() -> None:
    """silero_vad: removing Equal_0 with rewire made the If read the int64 'sr' as its bool
    condition. 'cond' has no declared type here: inference gives bool."""
    model = _load(SILERO_LIKE)
    _unchanged(model, lambda: edit.remove_node(model, 1, rewire=True),
               r"its readers read 'cond' as bool\[\], and 'sr' is int64\[\]")
    # what the refused edit would have made: both consumers refuse it
    bad = _onnx(model)
    bad.graph.node[2].input[0] = "sr"
    with pytest.raises(onnx.shape_inference.InferenceError, match="unsupported type: tensor\\(int64\\)"):
        checker.check_model(bad, full_check=True)
    ort = pytest.importorskip("onnxruntime")
    with pytest.raises(Exception, match=r"tensor\(int64\)"):
        ort.InferenceSession(bad.SerializeToString(), providers=["CPUExecutionProvider"])


def test_remove_node_rewire_refuses_a_declared_type_change() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float16[2] y) {
            h = Cast<to = 10>(x)
            y = Neg(h)
        }
    """)
    _unchanged(model, lambda: edit.remove_node(model, 0, rewire=True),
               r"as float16\[2\], and 'x' is float\[2\]")
    shape = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2, 3] x) => (float[6] y) {
            s = Constant<value = int64[1] {6}>()
            f = Reshape(x, s)
            y = Neg(f)
        }
    """)
    _unchanged(shape, lambda: edit.remove_node(shape, 1, rewire=True),
               r"as float\[6\], and 'x' is float\[2,3\]")


# --- graph inputs, outputs, initializers ---------------------------------------------------------

@oracle
def test_add_output_takes_the_inferred_type() -> None:
    """Nothing declares 'h': inference types it (onnx.checker wants a type on every output); what
    inference cannot type is refused with how to give it."""
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21, "custom" : 1]>
        g (float[N, 4] x) => (float[N, 8] y) {
            s = Constant<value = int64[2] {0, 8}>()
            c = Concat<axis = 1>(x, x)
            h = Reshape(c, s)
            y = Relu(h)
            z = custom.Foo(y)
        }
    """)
    edit.add_output(model, "h")
    assert str(model.graph.outputs[-1].type) == "float[N,8]"
    checker.check_model(_onnx(model), full_check=True)
    _unchanged(model, lambda: edit.add_output(model, "z"),
               r"the type of 'z' is unknown: nothing declares it and inference cannot tell; give it "
               r"\(type=onnxlite.parser.parse_type")
    edit.add_output(model, "z", onnxlite.parser.parse_type("float[N,8]"))
    assert str(model.graph.outputs[-1].type) == "float[N,8]"


@oracle
def test_graph_io_edits() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x, float[2] unused) => (float[2] y) <float[2] w = {1, 2}> {
            a = Add(x, w)
            y = Relu(a)
        }
    """, 'vi = proto.graph.value_info.add(); vi.CopyFrom(onnx.helper.make_tensor_value_info("a", 1, [2]))')
    edit.add_output(model, "a")
    assert model.graph.outputs[-1].name == "a" and str(model.graph.outputs[-1].type) == "float[2]"
    _unchanged(model, lambda: edit.add_output(model, "a"), "already a graph output")
    _unchanged(model, lambda: edit.add_output(model, "missing"), "no value named")
    edit.remove_output(model, "a")
    _unchanged(model, lambda: edit.remove_input(model, "x"), "read by node\\[0\\]")
    edit.remove_input(model, "unused")
    _unchanged(model, lambda: edit.remove_initializer(model, "w"), "read by node\\[0\\]")
    edit.add_initializer(model, "bias", np.array([3, 4], np.float32))
    _unchanged(model, lambda: edit.add_initializer(model, "bias", np.zeros(2, np.float32)), "already defined")
    edit.replace_all_uses(model, "w", "bias")
    edit.remove_initializer(model, "w")
    proto = _onnx(model)
    checker.check_model(proto, full_check=True)
    assert [v.name for v in proto.graph.input] == ["x"]
    y = _run(model, {"x": np.array([1.0, -9.0], np.float32)})[0]
    np.testing.assert_array_equal(y, [4.0, 0.0])


# --- over the corpus -----------------------------------------------------------------------------

def _sample(step: int) -> list[Any]:
    if onnx is None:  # the corpus is onnx's backend node cases
        return []
    from tests import corpus

    return [c for i, c in enumerate(corpus.node_cases()) if i % step == 0]


@oracle
@pytest.mark.parametrize("case", _sample(7), ids=lambda c: c.id)
def test_renaming_every_value_and_back_is_lossless(case: Any) -> None:
    """Rename every value of the main graph to a fresh name: the checker still accepts the model;
    renaming back restores the original bytes."""
    data = case.read()
    model = onnxlite.loads(data)
    names = list(dict.fromkeys(
        [v.name for v in model.proto.graph.input] + [t.name for t in model.proto.graph.initializer]
        + [o for n in model.proto.graph.node for o in n.output if o]))
    mapping = {name: f"renamed_{i}" for i, name in enumerate(names)}
    for old, new in mapping.items():
        edit.rename(model, old, new)
    renamed = _onnx(model)
    checker.check_model(renamed, full_check=True)
    for old, new in mapping.items():
        edit.rename(model, new, old)
    assert onnxlite.dumps(model) == data


def test_rename_updates_sharding_specs_of_the_nodes_that_touch_the_value() -> None:
    model = _load("""
        <ir_version: 11, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y) { a = Relu(x)  y = Neg(a) }
    """, """
for n in proto.graph.node:
    c = n.device_configurations.add(); c.configuration_id = "mesh"
    s = c.sharding_spec.add(); s.tensor_name = n.input[0]
    s = c.sharding_spec.add(); s.tensor_name = n.output[0]
""")
    edit.rename(model, "a", "hidden")
    nodes = model.proto.graph.node
    specs = [[s.tensor_name for s in n.device_configurations[0].sharding_spec] for n in nodes]
    assert specs == [["x", "hidden"], ["hidden", "y"]]


# --- insert_node, add_input ----------------------------------------------------------------------

CHAIN = """
    <ir_version: 10, opset_import: ["" : 21]>
    g (float[2] x) => (float[2] y, float[2] a) {
        a = Relu(x)
        y = Neg(a)
    }
"""


@oracle
def test_insert_after_rewires_readers_and_keeps_graph_outputs() -> None:
    model = _load(CHAIN)
    x = np.array([1.5, -2.0], np.float32)
    node = edit.insert_node(model, "Mul", after="a", inputs=["x"], name="scale")
    assert node.op_type == "Mul" and node.inputs == ("a", "x") and node.outputs == ("a_mul",)
    g = _onnx(model).graph
    assert [n.op_type for n in g.node] == ["Relu", "Mul", "Neg"]
    assert list(g.node[2].input) == ["a_mul"] and [v.name for v in g.output] == ["y", "a"]
    checker.check_model(_onnx(model), full_check=True)
    y, a = _run(model, {"x": x})
    np.testing.assert_array_equal(y, -(np.maximum(x, 0) * x))
    np.testing.assert_array_equal(a, np.maximum(x, 0))


@oracle
def test_insert_before_takes_over_the_name() -> None:
    model = _load(CHAIN, 'vi = proto.graph.value_info.add(); vi.name = "a"')
    x = np.array([1.5, -2.0], np.float32)
    edit.insert_node(model, "Cast", before="a", to=1, output="a_raw")
    g = _onnx(model).graph
    assert [(n.op_type, list(n.input), list(n.output)) for n in g.node] == [
        ("Relu", ["x"], ["a_raw"]), ("Cast", ["a_raw"], ["a"]), ("Neg", ["a"], ["y"])]
    assert g.node[1].attribute[0].i == 1
    assert [v.name for v in g.value_info] == ["a_raw"]  # it described the value as produced
    checker.check_model(_onnx(model), full_check=True)
    np.testing.assert_array_equal(_run(model, {"x": x})[1], np.maximum(x, 0))


@oracle
def test_insert_node_reaches_subgraph_readers_and_sorts_when_needed() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x, bool c) => (float[2] y) {
            a = Relu(x)
            y = If(c) <
                then_branch = g1 () => (float[2] o1) { o1 = Neg(a) },
                else_branch = g2 () => (float[2] o2) { o2 = Identity(a) }
            >
            late = Abs(x)
        }
    """)
    edit.insert_node(model, "Add", after="a", inputs=["late"])
    g = _onnx(model).graph
    assert [n.op_type for n in g.node] == ["Relu", "Abs", "Add", "If"]
    branches = [list(a.g.node[0].input) for a in g.node[3].attribute]
    assert branches == [["a_add"], ["a_add"]]
    checker.check_model(_onnx(model), full_check=True)
    x = np.array([1.0, -3.0], np.float32)
    got = _run(model, {"x": x, "c": np.array(False)})[0]
    np.testing.assert_array_equal(got, np.maximum(x, 0) + np.abs(x))


def test_insert_node_refusals() -> None:
    model = _load(CHAIN)
    _unchanged(model, lambda: edit.insert_node(model, "Relu"), "exactly one of")
    _unchanged(model, lambda: edit.insert_node(model, "Relu", after="nope"), "no value named 'nope'")
    _unchanged(model, lambda: edit.insert_node(model, "Relu", after="a", output="y"), "already used")
    _unchanged(model, lambda: edit.insert_node(model, "Relu", before="x"), "graph input")
    _unchanged(model, lambda: edit.insert_node(model, "Conv", after="a", pad=[1]), "did you mean")
    _unchanged(model, lambda: edit.insert_node(model, "LinearClassifier", after="a", domain="ai.onnx.ml",
                                               coefficients=[1.0], classlabels_ints=[0]), "does not import")


def test_insert_custom_domain_node_imports_the_domain() -> None:
    model = _load(CHAIN)
    edit.insert_node(model, "MyOp", after="a", domain="my.ops", alpha=0.5)
    assert model.opset_imports == {"": 21, "my.ops": 1}
    assert model.graph.nodes[1].attr("alpha") == 0.5


@oracle
def test_add_input() -> None:
    model = _load("""
        <ir_version: 10, opset_import: ["" : 21]>
        g (float[2] x) => (float[2] y) { y = Add(x, bias) }
    """)
    edit.add_input(model, "bias", "float32", [2])
    edit.add_input(model, "mask", "bool", ["N", None], index=0)
    assert [str(v.type) for v in model.graph.inputs] == ["bool[N,?]", "float[2]", "float[2]"]
    checker.check_model(_onnx(model), full_check=True)
    _unchanged(model, lambda: edit.add_input(model, "x", "float32", [2]), "already defined")
    _unchanged(model, lambda: edit.add_input(model, "z", "no-such-type", [2]), "no-such-type")
