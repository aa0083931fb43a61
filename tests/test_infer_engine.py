"""The inference engine: data propagation, declared types, contradictions, subgraphs, functions,
custom rules, bounds, and `apply`. Models are written in the ONNX textual syntax."""

from __future__ import annotations

from typing import Any

import pytest

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType
from onnxlite.infer import TensorType, parse_dim


def model(body: str, opset: int = 18, extra: str = "") -> onnxlite.Model:
    return onnxlite.parse_model(f'<ir_version: 8, opset_import: ["" : {opset}{extra}]>\n{body}')


def tt(dtype: str, *dims: int | str) -> TensorType:
    return TensorType(DataType[dtype.upper()], tuple(parse_dim(d) if isinstance(d, str) else d for d in dims))


SHAPE_CHAIN = """
g (float[N, 6] x) => (y) {
  zero = Constant<value = int64[1] {0}>()
  two = Constant<value_int = 2>()
  minus1 = Constant<value_ints = [-1]>()
  sh = Shape(x)
  a = Gather(sh, zero)
  b = Mul(a, two)
  c = Concat<axis=0>(b, minus1)
  y = Reshape(x, c)
}"""


def test_shape_computation_resolves_reshape() -> None:
    """Shape -> Gather -> Mul -> Concat -> Reshape: the target [2*N, -1] is known symbolically."""
    r = infer.infer_types(model(SHAPE_CHAIN))
    assert r.type_of("c") == tt("int64", 2)
    assert r.type_of("y") == tt("float", "2*N", 3)
    assert r.to_json() == {"values": 8, "inferred": 8, "unknown": [], "contradictions": []}


def test_dims_bind_symbols_and_input_shapes_override() -> None:
    r = infer.infer_types(model(SHAPE_CHAIN), dims={"N": 5})
    assert r.type_of("y") == tt("float", 10, 3)
    r = infer.infer_types(model(SHAPE_CHAIN), input_shapes={"x": ["B", 6]})
    assert r.type_of("y") == tt("float", "2*B", 3)
    with pytest.raises(infer.InferError, match="'nope'"):
        infer.infer_types(model(SHAPE_CHAIN), input_shapes={"nope": [1]})


def test_custom_rule_registration_and_lookup_by_opset() -> None:
    @infer.register_rule("Twice", domain="test.custom")
    def _v1(ctx: infer.Context) -> None:
        ctx.set_tensor(0, ctx.dtype(0), [2 * d for d in ctx.shape(0)])

    @infer.register_rule("Twice", domain="test.custom", since=3)
    def _v3(ctx: infer.Context) -> None:
        ctx.set_tensor(0, ctx.dtype(0), [3 * d for d in ctx.shape(0)])

    body = 'g (float[N] x) => (y) { y = test.custom.Twice(x) }'
    assert infer.infer_types(model(body, extra=', "test.custom" : 2')).type_of("y") == tt("float", "2*N")
    assert infer.infer_types(model(body, extra=', "test.custom" : 3')).type_of("y") == tt("float", "3*N")
    assert infer.find_rule("test.custom", "Twice", 1) is _v1


def test_unknown_op_is_reported() -> None:
    r = infer.infer_types(model('g (float[N] x) => (y) { y = test.none.Mystery(x) }',
                                extra=', "test.none" : 1'))
    assert r.type_of("y") is None
    assert [(u.value, u.node, u.op_type, u.graph) for u in r.unknown] == [("y", "#0", "Mystery", "")]
    assert "test.none.Mystery" in r.unknown[0].reason


# --- declared types: refinement and contradictions -------------------------------------------------

def test_declared_types_refine_and_contradictions_are_reported() -> None:
    m = model("""
g (float[N, 3] x) => (float[N, 3] y)
  <float[?, 3] a, float[2, ?] b, int64[N, 3] c, float[N] d, float[N, K] e> {
  a = Relu(x)
  b = Relu(a)
  c = Neg(x)
  d = Neg(x)
  e = Neg(x)
  y = Relu(x)
}""")
    r = infer.infer_types(m)
    assert r.type_of("a") == tt("float", "N", 3)          # an unknown declared dim is filled in
    assert r.type_of("e") == tt("float", "N", 3)          # declared symbol K vs inferred 3: the number
    assert r.type_of("b") == tt("float", 2, 3)            # symbol N vs declared 2: a refinement
    got = {(c.value, c.node, c.graph, c.declared, c.inferred) for c in r.contradictions}
    assert got == {
        ("c", "#2", "", "int64[N,3]", "float[N,3]"),        # element type
        ("d", "#3", "", "float[N]", "float[N,3]"),          # rank
    }
    assert r.type_of("c") == tt("float", "N", 3)          # what flows on is what the model computes


def test_graph_output_declaring_a_number_for_an_input_size_is_a_contradiction() -> None:
    """onnxmltools' LightGBM classifier declares its label output int64[1] while it has one label
    per input row: a graph output's number against a size that follows the graph inputs alone is
    the traced example's size, reported and not taken (onnxruntime computes [N] and only warns).
    An intermediate value's declared number still refines a symbol (test above), and so does an
    output's number against a size the computation does not tie to the inputs."""
    import numpy as np
    import onnxruntime as ort

    m = model("""
g (float[N, 4] x, float[?, 2] z) => (int64[1] label, float[1, 4] y, int64[2, 10] w) {
  ax = Constant<value = int64[1] {1}>()
  s = ReduceSum<keepdims = 0>(x, ax)
  label = Cast<to = 7>(s)
  y = Relu(x)
  w = NonZero(z)
}""")
    r = infer.infer_types(m)
    got = {(c.value, c.declared, c.inferred) for c in r.contradictions}
    assert got == {("label", "int64[1]", "int64[N]"), ("y", "float[1,4]", "float[N,4]")}
    assert r.type_of("label") == tt("int64", "N")
    assert r.type_of("w") == tt("int64", 2, 10)             # NonZero's count: data-dependent
    sess = ort.InferenceSession(onnxlite.dumps(m), providers=["CPUExecutionProvider"])
    label, y, _ = sess.run(None, {"x": np.ones((3, 4), np.float32), "z": np.ones((5, 2), np.float32)})
    assert label.shape == (3,) and y.shape == (3, 4)


def test_contradicting_numbers_and_prefer() -> None:
    m = model("""
g (float[2, 3] x) => (float[2, 4] y) <float[5, 3] a> {
  a = Relu(x)
  y = Relu(a)
}""")
    r = infer.infer_types(m)
    assert [(c.value, c.declared, c.inferred) for c in r.contradictions] == [
        ("a", "float[5,3]", "float[2,3]"), ("y", "float[2,4]", "float[2,3]")]
    kept = infer.apply(m, r)                              # prefer="declared": the model's statements stay
    assert [str(v.type) for v in kept.graph.value_info] == ["float[5,3]"]
    assert str(kept.graph.outputs[0].type) == "float[2,4]"
    fixed = infer.apply(m, r, prefer="inferred")
    assert [str(v.type) for v in fixed.graph.value_info] == ["float[2,3]"]
    assert str(fixed.graph.outputs[0].type) == "float[2,3]"
    assert str(m.graph.outputs[0].type) == "float[2,4]"   # the caller's model is unchanged
    with pytest.raises(ValueError, match="prefer"):
        infer.apply(m, r, prefer="mine")


# --- subgraphs ---------------------------------------------------------------------------------------

def test_if_branches_merge_and_are_recorded_under_their_paths() -> None:
    m = model("""
g (float[N, 3] x, bool c) => (y) {
  k = Constant<value = int64[1] {5}>()
  y = If <then_branch = g1 () => (o1) { o1 = Relu(x) },
          else_branch = g2 () => (o2) { k = Constant<value = int64[1] {1}>()
                                        o2 = Concat<axis = 1>(x, x) }> (c)
}""")
    r = infer.infer_types(m)
    assert r.type_of("y") == tt("float", "N", "unk_0")     # 3 vs 6: a fresh symbol
    assert r.type_of("o1", "#1.then_branch") == tt("float", "N", 3)
    assert r.type_of("o2", "#1.else_branch") == tt("float", "N", 6)
    assert r.type_of("k", "#1.else_branch") == tt("int64", 1)   # shadowing: its own k
    typed = infer.apply(m, r)
    then_branch = typed.graph.nodes[1].attr("then_branch")
    assert [str(v.type) for v in then_branch.outputs] == ["float[N,3]"]


def test_if_rank_mismatch_gives_unknown_rank() -> None:
    m = model("""
g (float[N, 3] x, bool c) => (y) {
  y = If <then_branch = g1 () => (o1) { o1 = Relu(x) },
          else_branch = g2 () => (o2) { s = Shape(x)
                                        o2 = Cast<to = 1>(s) }> (c)
}""")
    r = infer.infer_types(m)
    assert r.type_of("y") == TensorType(DataType.FLOAT, None)
    assert [(u.value, u.node, u.op_type, u.reason) for u in r.unknown] == [("y", "#0", "If", "unknown rank")]


def test_loop_carried_dims_that_grow_become_fresh_symbols() -> None:
    """A carried value that grows each iteration: its dim generalizes to a fresh symbol, the body
    is re-run with it, and the scan output gets the trip count (unknown here: cond is given)."""
    m = model("""
g (float[1, 4] x, int64 m, bool c) => (acc, ys) {
  acc, ys = Loop <body = body (int64 i, bool cond, a) => (co, a2, y) {
      co = Identity(cond)
      a2 = Concat<axis = 0>(a, a)
      y = Relu(a)
  }> (m, c, x)
}""")
    r = infer.infer_types(m)
    # unk_0 is the iteration number (a value the body can compute sizes from), unk_1 the carried
    # size, unk_2 the trip count
    assert r.type_of("acc") == tt("float", "unk_1", 4)
    assert r.type_of("a2", "#0.body") == tt("float", "2*unk_1", 4)
    assert r.type_of("ys") == tt("float", "unk_2", "unk_1", 4)


def test_outer_scope_reads_from_nested_subgraphs() -> None:
    m = model("""
g (float[N] x, bool c) => (y) {
  t = Relu(x)
  y = If <then_branch = g1 () => (o1) {
            o1 = If <then_branch = g2 () => (p) { p = Neg(t) },
                     else_branch = g3 () => (q) { q = Abs(t) }> (c)
          },
          else_branch = g4 () => (o2) { o2 = Identity(t) }> (c)
}""")
    r = infer.infer_types(m)
    assert r.type_of("p", "#1.then_branch/#0.then_branch") == tt("float", "N")
    assert r.type_of("y") == tt("float", "N")


# --- functions ---------------------------------------------------------------------------------------

FUNCS = """
<ir_version: 8, opset_import: ["" : 18, "local" : 1]>
g (float[N, 4] x) => (y, z) {
  y = local.Repeat<times = [3]>(x)
  z = local.Repeat<times = [2]>(y)
}
<domain: "local", opset_import: ["" : 18]>
Repeat <times> (a) => (b) {
  r = Constant<value_ints: ints = @times>()
  one = Constant<value = int64[1] {1}>()
  reps = Concat<axis = 0>(one, r)
  b = Tile(a, reps)
}
"""


def test_functions_are_inferred_per_call_with_their_attributes() -> None:
    r = infer.infer_types(onnxlite.parse_model(FUNCS))
    assert r.type_of("y") == tt("float", "N", 12)
    assert r.type_of("z") == tt("float", "N", 24)


def test_function_bodies_get_the_types_their_calls_agree_on() -> None:
    """FUNCS calls Repeat twice: a/b differ in one dim between the calls (a fresh symbol there),
    the rest agree. The dump shows them, and apply writes them as the function's value_info
    when the IR version has that field (10), which onnx's checker and inference accept."""
    import onnx
    import onnx.shape_inference

    from onnxlite.text import format_model

    r = infer.infer_types(onnxlite.parse_model(FUNCS))
    body = r.types["fn:local:Repeat"]
    assert body["reps"] == tt("int64", 2) and body["r"] == tt("int64", 1) and body["one"] == tt("int64", 1)
    b = body["b"]
    assert isinstance(b, infer.TensorType) and b.shape is not None and b.shape[0] == infer.symbol("N")
    assert b.shape[1] not in (12, 24) and str(b.shape[1]).startswith("unk_")
    assert r.node_outputs["fn:local:Repeat"] == [["r"], ["one"], ["reps"], ["b"]]
    assert (r.values, r.inferred) == (2, 2)  # the main graph's values only
    text = format_model(onnxlite.parse_model(FUNCS), types="inferred")
    assert "reps = Concat <axis: int = 0> (one, r)  # int64[2]" in text
    assert f"b = Tile (a, reps)  # float[N,{b.shape[1]}]" in text

    ir8 = onnxlite.parse_model(FUNCS)
    assert not len(infer.apply(ir8, infer.infer_types(ir8)).proto.functions[0].value_info)
    ir10 = onnxlite.parse_model(FUNCS.replace("ir_version: 8", "ir_version: 10"))
    out = infer.apply(ir10, infer.infer_types(ir10)).proto
    written = {v.name: v.type for v in out.functions[0].value_info}
    assert sorted(written) == ["b", "one", "r", "reps"]
    assert written["reps"].tensor_type.shape.dim[0].dim_value == 2
    proto = onnx.ModelProto.FromString(out.SerializeToString())
    onnx.checker.check_model(proto, full_check=True)
    onnx.shape_inference.infer_shapes(proto, strict_mode=True)


def test_recursive_function_is_unknown_with_a_reason() -> None:
    m = onnxlite.parse_model("""
<ir_version: 8, opset_import: ["" : 18, "local" : 1]>
g (float[N] x) => (y) { y = local.F(x) }
<domain: "local", opset_import: ["" : 18, "local" : 1]>
F (a) => (b) { b = local.F(a) }
""")
    r = infer.infer_types(m)
    assert r.type_of("y") is None
    assert "recursion" in r.unknown[0].reason


# --- hostile input: bounded, clear ---------------------------------------------------------------------

def _onnx_model(graph: object, opset: int = 18, functions: tuple = ()) -> onnxlite.Model:
    from onnx import helper

    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("local", 1)]
    m = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    m.ir_version = 8
    return onnxlite.loads(m.SerializeToString())


def test_absurd_declared_input_types_are_a_clear_error() -> None:
    from onnx import TensorProto, helper

    rank = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 300)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [rank], [])
    with pytest.raises(infer.InferError, match=r"graph.input\[0\] 'x': declared rank 300 is over 256"):
        infer.infer_types(_onnx_model(g))
    huge = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2**63 - 1])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [huge], [])
    with pytest.raises(infer.InferError, match=r"graph.input\[0\] 'x': declared dim 9223372036854775807"):
        infer.infer_types(_onnx_model(g))


@pytest.mark.parametrize("op", ["ConstantOfShape", "Reshape", "Expand", "MaxUnpool"])
def test_a_rank_read_from_a_huge_shape_input_fails_the_node_at_once(op: str) -> None:
    """A shape input declared int64[10**12] (a fuzzed file; the check stage once built 10**12
    fresh symbols): the output's rank is over MAX_RANK, the node fails, nothing is allocated."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])
    shape = helper.make_tensor_value_info("s", TensorProto.INT64, [10**12])
    args = {"ConstantOfShape": ["s"], "MaxUnpool": ["x", "i", "s"]}.get(op, ["x", "s"])
    node = helper.make_node(op, args, ["y"], **({"kernel_shape": [2, 2]} if op == "MaxUnpool" else {}))
    inputs = [x, shape, helper.make_tensor_value_info("i", TensorProto.INT64, [1, 1, 2, 2])]
    g = helper.make_graph([node], "g", inputs, [helper.make_empty_tensor_value_info("y")])
    r = infer.infer_types(_onnx_model(g))
    assert r.type_of("y") is None or r.type_of("y").shape is None  # type: ignore[union-attr]
    assert any("rank 1000000000000 is over 256" in u.reason for u in r.unknown), r.unknown


def test_absurd_value_info_is_ignored_not_trusted() -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])
    bad = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1] * 100_000)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [], value_info=[bad])
    assert infer.infer_types(_onnx_model(g)).type_of("y") == tt("float", "N")


def test_deep_nesting_is_unknown_not_a_crash() -> None:
    from onnx import TensorProto, helper

    def leaf(k: int) -> object:
        return helper.make_graph([helper.make_node("Relu", ["x"], [f"l{k}"])], f"leaf{k}", [],
                                 [helper.make_empty_tensor_value_info(f"l{k}")])

    body = leaf(0)
    for k in range(30):
        node = helper.make_node("If", ["c"], [f"o{k}"], then_branch=body, else_branch=leaf(k + 1))
        body = helper.make_graph([node], f"b{k}", [], [helper.make_empty_tensor_value_info(f"o{k}")])
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"]),
              helper.make_tensor_value_info("c", TensorProto.BOOL, [])]
    main = helper.make_graph(list(body.node), "g", inputs, [helper.make_empty_tensor_value_info("o29")])
    r = infer.infer_types(_onnx_model(main))
    assert r.type_of("o29") == tt("float", "N")   # 30 levels: within bounds, fully inferred


def test_exponential_function_calls_stay_bounded() -> None:
    """f_k calls f_(k-1) twice, 40 levels (2**40 calls if each were inferred): identical calls
    are answered once, so this takes milliseconds."""
    from onnx import TensorProto, helper

    fns = [helper.make_function("local", "f0", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                                [helper.make_opsetid("", 18)])]
    for k in range(1, 40):
        nodes = [helper.make_node(f"f{k - 1}", ["a"], ["t"], domain="local"),
                 helper.make_node(f"f{k - 1}", ["t"], ["b"], domain="local")]
        fns.append(helper.make_function("local", f"f{k}", ["a"], ["b"], nodes,
                                        [helper.make_opsetid("", 18), helper.make_opsetid("local", 1)]))
    g = helper.make_graph([helper.make_node("f39", ["x"], ["y"], domain="local")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])], [])
    r = infer.infer_types(_onnx_model(g, functions=tuple(fns)))
    assert r.type_of("y") == tt("float", "N")


def test_function_nesting_past_the_bound_is_unknown() -> None:
    from onnx import TensorProto, helper

    fns = [helper.make_function("local", "f0", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                                [helper.make_opsetid("", 18)])]
    for k in range(1, 80):
        fns.append(helper.make_function("local", f"f{k}", ["a"], ["b"],
                                        [helper.make_node(f"f{k - 1}", ["a"], ["b"], domain="local")],
                                        [helper.make_opsetid("", 18), helper.make_opsetid("local", 1)]))
    g = helper.make_graph([helper.make_node("f79", ["x"], ["y"], domain="local")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])], [])
    r = infer.infer_types(_onnx_model(g, functions=tuple(fns)))
    assert r.type_of("y") is None
    assert "nested more than 48 deep" in r.unknown[0].reason


# --- apply: a new model, weights untouched ------------------------------------------------------------

def test_apply_writes_value_info_and_keeps_weights_lazy(tmp_path: object) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4096, 64), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4096])],
                          [helper.make_empty_tensor_value_info("y")], initializer=[w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    path = f"{tmp_path}/m.onnx"
    onnx.save(m, path)
    model = onnxlite.load(path, lazy=True)
    typed = infer.apply(model, infer.infer_types(model))
    assert model.graph.initializers["w"].location == "file"       # not read
    assert typed.graph.initializers["w"].location == "file"
    assert [(v.name, str(v.type)) for v in typed.graph.value_info] == [("h", "float[N,64]")]
    assert str(typed.graph.outputs[0].type) == "float[N,64]"
    assert not model.graph.value_info                                # the source is unchanged
    onnxlite.save(typed, f"{tmp_path}/typed.onnx")
    saved = onnx.load(f"{tmp_path}/typed.onnx")
    onnx.checker.check_model(saved, full_check=True)
    assert np.array_equal(numpy_helper.to_array(saved.graph.initializer[0]), np.ones((4096, 64), np.float32))


def test_standard_op_without_a_rule_gets_its_element_type_from_the_schema() -> None:
    """The generic fallback: an output bound to an input's type constraint gets that input's
    element type, a constraint allowing one type gives that type; the shape stays unknown."""
    from onnxlite.infer._generic import generic_rule, parse_type_str

    assert parse_type_str("seq(tensor(int64))") == infer.SequenceType(TensorType(DataType.INT64, None))
    assert parse_type_str("tensor(nope)") is None
    m = model('g (double[N, 3] x, int64 k) => (v, i) { v, i = TopK(x, k) }')
    node = m.graph.nodes[0]
    ctx = infer.Context(node, 18, [tt("double", "N", 3), tt("int64")], [None, None], None, None, None,
                        "TopK", "", ("x", "k"), 2)
    with pytest.raises(infer.RuleUnknown, match="no shape rule for TopK"):
        generic_rule(ctx)
    assert ctx.outputs == [TensorType(DataType.DOUBLE, None), TensorType(DataType.INT64, None)]


def test_names_and_dim_params_that_are_not_utf8() -> None:
    """Found by tools/fuzz.py: a dim_param or value name whose bytes are not UTF-8 reaches the engine
    as bytes; it is one symbol (escaped), and apply writes value_info for such names."""
    model = onnxlite.parse_model("""
    <ir_version: 8, opset_import: ["" : 18]>
    g (float[N, 3] x) => (y) {
      t = Relu(x)
      y = Neg(t)
    }""")
    p = model.proto.graph
    p.input[0].type.tensor_type.shape.dim[0].dim_param = "QQN"
    for field in (p.node[0].output, p.node[1].input):
        field[0] = "tQQ"
    # same lengths, so the wire stays valid: the strings become invalid UTF-8
    data = onnxlite.dumps(model).replace(b"QQN", b"\xffQN").replace(b"tQQ", b"t\xfeQ")
    assert data.count(b"\xff") == 1 and data.count(b"t\xfeQ") == 2
    loaded = onnxlite.loads(data)
    result = infer.infer_types(loaded)
    out = result.type_of("y")
    assert infer.format_type(out) == "float[\\xffQN,3]"
    applied = infer.apply(loaded, result, prefer="inferred")
    reread = onnxlite.loads(onnxlite.dumps(applied))
    assert [v.name for v in reread.graph.value_info] == [b"t\xfeQ"]


def test_attribute_of_the_wrong_type_is_reported_not_a_crash() -> None:
    """Found by tools/fuzz.py: a Constant whose 'value' holds a list, not a tensor. The schema's
    attribute type is checked before a rule sees the value."""
    model = onnxlite.parse_model("""
    <ir_version: 8, opset_import: ["" : 18]>
    g (float[2] x) => (y) {
      c = Constant <value = [1, 2]> ()
      y = Add(x, c)
    }""")
    result = infer.infer_types(model)
    assert result.type_of("c") is None
    reasons = {u.value: u.reason for u in result.unknown}
    assert "attribute 'value' is INTS, the operator declares TENSOR" in reasons["c"]


# --- small tensors read without numpy --------------------------------------------------------


@pytest.mark.parametrize("dtype, values", [
    (DataType.INT64, [3, -1, 2**40]), (DataType.INT32, [7, -7]), (DataType.FLOAT, [0.5, 1e-3, -2.0]),
    (DataType.DOUBLE, [0.1, -1e300]),
])
@pytest.mark.parametrize("raw", [True, False])
def test_small_tensors_read_without_numpy_match_the_tensor_view(dtype: DataType, values: list[float],
                                                                raw: bool) -> None:
    import numpy as np

    from onnxlite.infer._types import elements

    array = np.array(values, dtype=dtype.np_dtype)
    t = onnxlite.Tensor.from_numpy(array, "t")
    if not raw:  # the same values in the typed field (int64_data, float_data...)
        t.proto.ClearField("raw_data")
        getattr(t.proto, dtype.typed_field).extend(array.tolist())
    assert elements(t.proto, len(values)) == array.tolist() == elements(t, len(values))
    # a size the payload does not hold: not read from the proto; the view decides
    assert elements(t.proto, len(values) + 1) is None
    assert elements(t, len(values) + 1) is None


def test_a_typed_dump_of_a_small_model_does_not_import_numpy(tmp_path: Any) -> None:
    """Reading shape initializers, Constants and a ConstantOfShape fill must not cost the numpy
    import (~50 ms of a ~0.1 s dump)."""
    import subprocess
    import sys

    import numpy as np

    from onnxlite import _proto

    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    g = m.graph
    x = g.input.add(name="x")
    x.type.tensor_type.elem_type = 1
    for d in (2, 3, 4):
        x.type.tensor_type.shape.dim.add().dim_value = d
    g.initializer.append(onnxlite.Tensor.from_numpy(np.array([6, -1], np.int64), "shape").proto)
    g.initializer.append(onnxlite.Tensor.from_numpy(np.array([0.5], np.float32), "scale").proto)
    g.node.add(op_type="Reshape", input=["x", "shape"], output=["r"])
    c = g.node.add(op_type="Constant", output=["dims"]).attribute.add(name="value", type=4)
    c.t.CopyFrom(onnxlite.Tensor.from_numpy(np.array([2, 5], np.int32)).proto)
    g.node.add(op_type="Cast", input=["dims"], output=["dims64"]).attribute.add(name="to", type=2, i=7)
    fill = g.node.add(op_type="ConstantOfShape", input=["dims64"], output=["z"]).attribute.add(
        name="value", type=4)
    fill.t.CopyFrom(onnxlite.Tensor.from_numpy(np.array([1.5], np.float32)).proto)
    g.node.add(op_type="Mul", input=["r", "scale"], output=["y"])
    g.output.add(name="y")
    g.output.add(name="z")
    path = tmp_path / "small.onnx"
    path.write_bytes(m.SerializeToString())
    code = ("import sys, onnxlite, onnxlite.text as t\n"
            "out = t.format_model(onnxlite.load(sys.argv[1]), types='inferred')\n"
            "assert 'y = Mul (r, scale)  # float[6,4]' in out, out\n"
            "assert '<value: tensor = float[1] {1.5}> (dims64)  # float[2,5]' in out, out\n"
            "print('numpy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_fresh_symbols_skip_the_unk_names_the_model_declares() -> None:
    """A model that already names a dim unk_0 (a previous `onnxlite infer` run, or another tool's)
    must not see that name reused for a different size."""
    m = onnxlite.parse_model("""
<ir_version: 8, opset_import: ["" : 18]>
g (float[unk_0, 3] x, bool c) => (y) {
  y = If <then_branch = g1 () => (o1) { o1 = Relu(x) },
          else_branch = g2 () => (o2) { o2 = Concat<axis = 1>(x, x) }> (c)
}""")
    r = infer.infer_types(m)
    assert r.type_of("y") == tt("float", "unk_0", "unk_1")
