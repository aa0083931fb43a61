"""onnxlite.text: exact output on small hand-built models, value formatting of every dtype,
filters, hostile tensors, and round trips through the upstream parser (onnx.parser) over the
conformance corpus."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import corpus
import ml_dtypes
import numpy as np
import onnx
import onnx.parser
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxlite
import onnxlite.text._printer
from onnxlite import _proto, text
from onnxlite.text import format_graph, format_model, format_tensor_value

# --- helpers ------------------------------------------------------------------------------------


def upstream_parse(printed: str) -> onnx.ModelProto:
    """onnx.parser.parse_model. Before 1.23 it could not read opaque types nor float literals
    outside float32's normal range (std::stof throws; subnormals included): a test that needs those
    skips there."""
    try:
        return onnx.parser.parse_model(printed)
    except (onnx.parser.ParseError, IndexError) as e:
        gap = ("opaque types" if "opaque(" in str(e) else
               "subnormal float literals" if str(e) == "stof" else None)
        if gap is not None and corpus.ONNX_VERSION < (1, 23):
            pytest.skip(f"needs onnx >= 1.23 (its parser reads {gap}); installed onnx {onnx.__version__}")
        raise


def lite(model: onnx.ModelProto) -> onnxlite.Model:
    return onnxlite.loads(model.SerializeToString())


def make_model(
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    *,
    initializer: Any = (),
    value_info: Any = (),
    name: str = "g",
    opsets: Any = (("", 21),),
    **fields: Any,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, name, inputs, outputs, initializer=list(initializer), value_info=list(value_info)
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets], **fields)
    model.ir_version = 10
    return model


def fmt(model: onnx.ModelProto, **options: Any) -> str:
    return format_model(lite(model), **options)


def vi(name: str, elem: int, shape: Any) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def tensor_value(array: np.ndarray, **options: Any) -> str:
    opts = {"full": False, "preview": 8, "stats": False} | options
    return format_tensor_value(onnxlite.Tensor.from_numpy(array), **opts)


# --- header, signature, declarations ------------------------------------------------------------


def test_header_signature_and_declarations() -> None:
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"], name="add")],
        [vi("x", TensorProto.FLOAT, ["batch", 3, None]), vi("flag", TensorProto.BOOL, [])],
        [vi("y", TensorProto.FLOAT, ["batch", 3, None])],
        initializer=[numpy_helper.from_array(np.array([1.0, 2.0, 3.0], np.float32), "w")],
        value_info=[vi("tmp", TensorProto.FLOAT16, None)],
        opsets=(("", 21), ("com.example", 2)),
        producer_name="unit",
        producer_version="0.1",
        domain="ai.example",
        model_version=7,
        doc_string='a "model"',
        name="main graph",
    )
    helper.set_model_props(model, {"license": "MIT", "k": "v"})
    assert (
        fmt(model)
        == """\
<
   ir_version: 10,
   opset_import: ["" : 21, "com.example" : 2],
   producer_name: "unit",
   producer_version: "0.1",
   domain: "ai.example",
   model_version: 7,
   doc_string: "a \\"model\\"",
   metadata_props: ["license": "MIT", "k": "v"]
>
"main graph" (float[batch,3,?] x, bool flag) => (float[batch,3,?] y)
<
   float[3] w = {1.0, 2.0, 3.0},
   float16[] tmp
>
{
   [add] y = Add (x, w)
}
"""
    )


def test_types_of_every_kind_and_quoted_names() -> None:
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, [2])
    mapping = helper.make_value_info(
        "m",
        helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.DOUBLE, [])),
    )
    opt = helper.make_value_info(
        "o",
        helper.make_optional_type_proto(
            helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.INT8, None))
        ),
    )
    sparse = helper.make_sparse_tensor_value_info("sp", TensorProto.FLOAT, [4, "n"])
    opaque = onnx.ValueInfoProto(name="h")
    opaque.type.opaque_type.domain = "my.domain"
    opaque.type.opaque_type.name = "Handle"
    odd = vi("a-b", TensorProto.UINT8, ["batch size"])
    keyword = vi("float", TensorProto.STRING, [1])
    model = make_model(
        [helper.make_node("Foo", ["s", "m", "o", "sp", "h", "a-b"], ["float"], domain="com.example")],
        [seq, mapping, opt, sparse, opaque, odd],
        [keyword],
        opsets=(("", 21), ("com.example", 1)),
    )
    assert (
        fmt(model)
        == """\
<
   ir_version: 10,
   opset_import: ["" : 21, "com.example" : 1]
>
g (
   seq(float[2]) s,
   map(int64, double) m,
   optional(seq(int8[])) o,
   sparse_tensor(float[4,n]) sp,
   opaque(my.domain,Handle) h,
   uint8["batch size"] "a-b"
) => (
   string[1] "float"
) {
   "float" = com.example.Foo (s, m, o, sp, h, "a-b")
}
"""
    )
    # the upstream parser reads every one of these back
    assert upstream_parse(fmt(model)).graph.input == model.graph.input


def test_node_forms() -> None:
    nodes = [
        helper.make_node("Split", ["x"], ["a", "", "c"], name="split"),
        helper.make_node("Foo", ["", "a"], [], domain="com.example"),
        helper.make_node("Bar", [], ["d"], domain="com.example", overload="v2"),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    nodes[-1].name = ""  # set, but empty
    model = make_model(
        nodes,
        [vi("x", TensorProto.FLOAT, [3])],
        [vi("y", TensorProto.FLOAT, [1])],
        opsets=(("", 21), ("com.example", 1)),
    )
    printed = fmt(model)
    assert (
        printed.split("{\n", 1)[1]
        == """\
   [split] a, "", c = Split (x)
    = com.example.Foo ("", a)
   d = com.example.Bar:v2 ()
   [""] y = Relu (c)
}
"""
    )
    assert nodes_diff(upstream_parse(printed).graph.node, model.graph.node, "graph") is None


# --- tensors: summary vs full -----------------------------------------------------------------------


def big_model() -> onnx.ModelProto:
    w = np.arange(40, dtype=np.float32).reshape(4, 10) / 4
    b = np.arange(16, dtype=np.int64)
    model = make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [vi("x", TensorProto.FLOAT, [1, 4])],
        [vi("y", TensorProto.FLOAT, [1, 10])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    typed = helper.make_tensor("t", TensorProto.FLOAT, [20], np.ones(20, np.float32).tolist())  # float_data
    model.graph.initializer.append(typed)
    return model


def test_large_tensors_are_summarized_small_ones_print_in_full() -> None:
    body = fmt(big_model()).split("\n<\n", 1)[1]
    assert (
        body
        == """\
   float[4,10] w = {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, ...},  # 40 values, 160 bytes, raw_data inline
   int64[16] b = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
   float[20] t = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, ...}  # 20 values, 80 bytes, float_data inline
>
{
   y = MatMul (x, w)
}
"""
    )
    assert "float[20] t = {1.0, 1.0, 1.0, ...}  # 20 values" in fmt(big_model(), preview=3)
    assert "float[4,10] w = {...},  # 40 values" in fmt(big_model(), preview=0)
    # preview beyond the size prints everything
    assert "float[20] t = {" + ", ".join(["1.0"] * 20) + "}\n" in fmt(big_model(), preview=20)


def test_full_prints_every_value_and_parses_back() -> None:
    printed = fmt(big_model(), full=True)
    assert "float[4,10] w = {0.0, 0.25, 0.5," in printed and "9.75}," in printed
    parsed = upstream_parse(printed)
    for got, want in zip(parsed.graph.initializer, big_model().graph.initializer, strict=True):
        assert np.array_equal(numpy_helper.to_array(got), numpy_helper.to_array(want))


def test_stats_cover_whole_tensors() -> None:
    printed = fmt(big_model(), stats=True)
    assert (
        "float[4,10] w = {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, ...},  # 40 values, 160 bytes, "
        "raw_data inline; stats: min 0, max 9.75, mean 4.875, std 2.88585, zeros 1, nan 0, inf 0\n"
    ) in printed
    assert (
        "int64[16] b = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},  # stats: min 0, max 15, "
        "mean 7.5, std 4.60977, zeros 1\n"
    ) in printed
    values = np.array([1.0, np.nan, -np.inf, 0.0, 3.0], np.float32)
    assert tensor_value(values, stats=True) == (
        "{1.0, nan, -inf, 0.0, 3.0}  # stats: min 0, max 3, mean 1.33333, std 1.24722, zeros 1, nan 1, inf 1"
    )
    assert tensor_value(np.array([], np.float32), stats=True) == "{}  # stats: empty"
    assert (
        tensor_value(np.array([b"ab", b"c"], object), stats=True)
        == '{"ab", "c"}  # stats: 2 strings, 3 bytes'
    )


def test_data_in_the_model_file_and_in_external_files(tmp_path: Path) -> None:
    w = np.arange(100_000, dtype=np.float32)
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [vi("x", TensorProto.FLOAT, [100_000])],
        [vi("y", TensorProto.FLOAT, [100_000])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.ones(2, np.float32), "s")],
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    printed = format_model(onnxlite.load(path, lazy=True))
    offset = path.read_bytes().index(w.tobytes())
    assert (
        f"float[100000] w = {{0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, ...}},  # 100000 values, 400000 bytes, "
        f"raw_data in the model file at offset {offset}\n"
    ) in printed
    onnx.save(model, tmp_path / "e.onnx", save_as_external_data=True, location="e.bin", size_threshold=0)
    printed = format_model(onnxlite.load(tmp_path / "e.onnx"))
    assert (
        "float[100000] w = {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, ...},  # 100000 values, 400000 bytes, "
        'external "e.bin", offset 0, length 400000\n'
    ) in printed
    # small external tensors print their values, and say where they live
    assert 'float[2] s = {1.0, 1.0}  # external "e.bin", offset 400000, length 8\n' in printed
    full = format_model(onnxlite.load(tmp_path / "e.onnx"), full=True)
    assert "float[100000] w = {0.0, 1.0, 2.0, " in full and '99999.0},  # external "e.bin"' in full


def test_default_dump_reads_only_the_previewed_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [vi("x", TensorProto.FLOAT, [50_000])],
        [vi("y", TensorProto.FLOAT, [50_000])],
        initializer=[numpy_helper.from_array(np.full(50_000, 2.0, np.float32), "w")],
    )
    onnx.save(model, tmp_path / "e.onnx", save_as_external_data=True, location="e.bin", size_threshold=0)
    loaded = onnxlite.load(tmp_path / "e.onnx")
    whole = onnxlite.Tensor.numpy

    def guarded(self: onnxlite.Tensor) -> np.ndarray:
        assert self.size <= text.SMALL_TENSOR, "the default dump decoded a whole large tensor"
        return whole(self)

    monkeypatch.setattr(onnxlite.Tensor, "numpy", guarded)
    assert "float[50000] w = {2.0, 2.0, 2.0," in format_model(loaded)
    with pytest.raises(AssertionError, match="whole large tensor"):
        format_model(loaded, stats=True)


# --- attributes -------------------------------------------------------------------------------------


def test_every_attribute_type() -> None:
    body = helper.make_graph(
        [helper.make_node("Neg", ["a"], ["b"])],
        "body",
        [vi("a", TensorProto.FLOAT, [1])],
        [vi("b", TensorProto.FLOAT, [1])],
    )
    sparse = helper.make_sparse_tensor(
        helper.make_tensor("sv", TensorProto.FLOAT, [2], [1.5, 2.0]),
        helper.make_tensor("si", TensorProto.INT64, [2], [1, 3]),
        [4],
    )
    node = helper.make_node(
        "Every",
        ["x"],
        ["y"],
        domain="com.example",
        f=0.1,
        i=-3,
        s="text",
        t=helper.make_tensor("tt", TensorProto.INT32, [2], [1, 2]),
        g=body,
        sp=sparse,
        tp=helper.make_tensor_type_proto(TensorProto.FLOAT, ["n"]),
        floats=[1.5, -0.0],
        ints=[1, 2],
        strings=["a", "b"],
        tensors=[helper.make_tensor("", TensorProto.BOOL, [], [True])],
        graphs=[body, body],
        sps=[sparse],
        tps=[helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.INT64, []))],
    )
    empty = helper.make_node("Empty", [], ["z"], domain="com.example")
    empty.attribute.extend(
        [
            helper.make_attribute("e_ints", [], attr_type=onnx.AttributeProto.INTS),
            helper.make_attribute("e_graphs", [], attr_type=onnx.AttributeProto.GRAPHS),
        ]
    )
    model = make_model(
        [node, empty],
        [vi("x", TensorProto.FLOAT, [1])],
        [vi("y", TensorProto.FLOAT, [1])],
        opsets=(("", 21), ("com.example", 1)),
    )
    # (onnx.helper sorts the attributes by name)
    assert (
        fmt(model).split("{\n", 1)[1]
        == """\
   y = com.example.Every (x) <
      f: float = 0.1,
      floats: floats = [1.5, -0.0],
      g: graph = body (float[1] a) => (float[1] b) {
         b = Neg (a)
      },
      graphs: graphs = [body (float[1] a) => (float[1] b) {
         b = Neg (a)
      }, body (float[1] a) => (float[1] b) {
         b = Neg (a)
      }],
      i: int = -3,
      ints: ints = [1, 2],
      s: string = "text",
      sp: sparse_tensor = sparse_tensor(float[4]) {values = float[2] sv {1.5, 2.0}, indices = int64[2] si {1, 3}},
      sps: sparse_tensors = [sparse_tensor(float[4]) {values = float[2] sv {1.5, 2.0}, indices = int64[2] si {1, 3}}],
      strings: strings = ["a", "b"],
      t: tensor = int32[2] tt {1, 2},
      tensors: tensors = [bool {1}],
      tp: type_proto = float[n],
      tps: type_protos = [seq(int64)]
   >
   z = com.example.Empty <e_ints: ints = [], e_graphs: graphs = []> ()
}
"""  # noqa: E501
    )


def test_attribute_references_and_legacy_untyped_attributes() -> None:
    node = helper.make_node("Foo", ["x"], ["y"], domain="com.example")
    node.attribute.add(name="alpha", ref_attr_name="a", type=onnx.AttributeProto.FLOAT)
    node.attribute.add(name="legacy", i=5)  # IR v1 files leave `type` unset
    model = make_model([node], [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
    assert "y = com.example.Foo <alpha: float = @a, legacy: int = 5> (x)\n" in fmt(model)


def test_float_attributes_are_float32_shortest() -> None:
    node = helper.make_node(
        "Foo", ["x"], ["y"], domain="d", a=1e-5, b=float("nan"), c=-float("inf"), d=3.4028234663852886e38
    )
    model = make_model([node], [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
    printed = fmt(model)
    assert "<a: float = 1e-05, b: float = nan, c: float = -inf, d: float = 3.4028235e+38>" in printed
    back = upstream_parse(printed).graph.node[0].attribute
    assert [np.float32(a.f).tobytes() for a in back] == [np.float32(a.f).tobytes() for a in node.attribute]


# --- subgraphs and functions ----------------------------------------------------------------------


def if_model() -> onnx.ModelProto:
    then = helper.make_graph(
        [helper.make_node("Add", ["x", "k"], ["t"], name="then_add")],
        "then_g",
        [],
        [vi("t", TensorProto.FLOAT, [2])],
        initializer=[numpy_helper.from_array(np.array(0.5, np.float32), "k")],
    )
    loop_body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["co"]), helper.make_node("Mul", ["v", "v"], ["vo"])],
        "body",
        [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("v", TensorProto.FLOAT, [2])],
        [vi("co", TensorProto.BOOL, []), vi("vo", TensorProto.FLOAT, [2])],
    )
    other = helper.make_graph(
        [helper.make_node("Loop", ["n", "cond", "x"], ["e"], name="loop", body=loop_body)],
        "else_g",
        [],
        [vi("e", TensorProto.FLOAT, [2])],
    )
    node = helper.make_node("If", ["cond"], ["y"], name="if", then_branch=then, else_branch=other)
    return make_model(
        [node, helper.make_node("Relu", ["y"], ["z"], name="relu")],
        [vi("x", TensorProto.FLOAT, [2]), vi("cond", TensorProto.BOOL, []), vi("n", TensorProto.INT64, [])],
        [vi("z", TensorProto.FLOAT, [2])],
    )


def test_subgraphs() -> None:
    assert (
        fmt(if_model()).split("{\n", 1)[1]
        == """\
   [if] y = If (cond) <
      else_branch: graph = else_g () => (float[2] e) {
         [loop] e = Loop (n, cond, x) <
            body: graph = body (int64 i, bool c, float[2] v) => (bool co, float[2] vo) {
               co = Identity (c)
               vo = Mul (v, v)
            }
         >
      },
      then_branch: graph = then_g () => (float[2] t)
      <
         float k = {0.5}
      >
      {
         [then_add] t = Add (x, k)
      }
   >
   [relu] z = Relu (y)
}
"""
    )
    assert graph_diff(upstream_parse(fmt(if_model())).graph, if_model().graph) is None


def test_functions_with_attribute_defaults_overloads_and_value_info() -> None:
    fn = helper.make_function(
        "com.example",
        "Scale",
        ["X"],
        ["Y"],
        [
            helper.make_node("Constant", [], ["a"], value_float=0.0),
            helper.make_node("Mul", ["X", "a"], ["Y"]),
        ],
        [helper.make_opsetid("", 21)],
        attributes=["alpha"],
        doc_string="scales X",
    )
    fn.node[0].attribute[0].ref_attr_name = "alpha"
    fn.node[0].attribute[0].ClearField("f")
    fn.attribute_proto.append(helper.make_attribute("beta", 0.5))
    fn.value_info.append(vi("a", TensorProto.FLOAT, []))
    fn.overload = "v1"
    helper.set_metadata_props(fn, {"origin": "test"})
    call = helper.make_node("Scale", ["x"], ["y"], domain="com.example", overload="v1", alpha=2.0)
    model = make_model(
        [call],
        [vi("x", TensorProto.FLOAT, [2])],
        [vi("y", TensorProto.FLOAT, [2])],
        opsets=(("", 21), ("com.example", 1)),
    )
    model.functions.append(fn)
    printed = fmt(model)
    assert (
        printed.split("}\n\n", 1)[1]
        == """\
<
   domain: "com.example",
   overload: "v1",
   doc_string: "scales X",
   opset_import: ["" : 21]
>
Scale <alpha, beta: float = 0.5> (X) => (Y)
   <float a>
{
   # function metadata_props: ["origin": "test"]
   a = Constant <value_float: float = @alpha> ()
   Y = Mul (X, a)
}
"""
    )
    parsed = upstream_parse(printed)
    assert function_diff(parsed.functions[0], fn, "functions[0]") is None
    assert parsed.functions[0].doc_string == "scales X"
    assert parsed.graph.node[0].overload == "v1"


def test_deep_nesting_uses_no_python_recursion() -> None:
    depth = 400
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    graph = m.graph
    graph.name = "g0"
    graph.output.add(name="y0")
    for level in range(depth):
        node = graph.node.add(op_type="If", input=["c"], output=[f"y{level}"])
        graph = node.attribute.add(name="then_branch", type=5).g
        graph.name = f"g{level + 1}"
        graph.output.add(name=f"y{level + 1}")
    graph.node.add(op_type="Identity", input=["x"], output=[f"y{depth}"])
    printed: list[str] = []

    def run() -> None:
        printed.append(format_model(onnxlite.Model(m)))
        printed.append(format_model(onnxlite.Model(m), max_depth=3, op_types={"Identity"}))

    # a thread with a small stack: recursion per nesting level would overflow it
    threading.stack_size(256 * 1024)
    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(0)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        assert format_model(onnxlite.Model(m)) == printed[0]
    finally:
        sys.setrecursionlimit(old)
    assert printed[0].count("If (c) <") == depth and f"y{depth} = Identity (x)" in printed[0]
    assert "# ... 397 nodes\n" in printed[1]


# --- what onnx.printer drops ---------------------------------------------------------------------------


def extras_model() -> onnx.ModelProto:
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu", doc_string="node\ndoc")],
        [vi("x", TensorProto.FLOAT, ["n"])],
        [vi("y", TensorProto.FLOAT, ["n"])],
        initializer=[numpy_helper.from_array(np.array([1.0], np.float32), "w")],
        doc_string="model doc",
    )
    g = model.graph
    g.doc_string = "graph doc"
    helper.set_metadata_props(g, {"gk": "gv"})
    helper.set_metadata_props(g.node[0], {"nk": "nv"})
    g.node[0].attribute.append(helper.make_attribute("alpha", 1.0, doc_string="attr doc"))
    g.input[0].doc_string = "input doc"
    helper.set_metadata_props(g.output[0], {"unit": "m"})
    g.input[0].type.denotation = "TENSOR"
    g.input[0].type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    g.initializer[0].doc_string = "tensor doc"
    g.sparse_initializer.append(
        helper.make_sparse_tensor(
            helper.make_tensor("sp", TensorProto.FLOAT, [1], [5.0]),
            helper.make_tensor("", TensorProto.INT64, [1], [2]),
            [3],
        )
    )
    ann = g.quantization_annotation.add(tensor_name="y")
    ann.quant_parameter_tensor_names.add(key="SCALE_TENSOR", value="w")
    conf = model.configuration.add(name="mesh", num_devices=2)
    conf.device.extend(["gpu0", "gpu1"])
    dev = g.node[0].device_configurations.add(configuration_id="mesh", pipeline_stage=1)
    spec = dev.sharding_spec.add(tensor_name="x", device=[0, 1])
    spec.sharded_dim.add(axis=0).simple_sharding.add(dim_param="n", num_shards=2)
    info = model.training_info.add()
    info.algorithm.CopyFrom(
        helper.make_graph(
            [helper.make_node("Neg", ["w"], ["w2"])], "step", [], [vi("w2", TensorProto.FLOAT, [1])]
        )
    )
    info.update_binding.add(key="w", value="w2")
    return model


def test_comments_show_what_onnx_printer_drops() -> None:
    assert (
        fmt(extras_model())
        == """\
<
   ir_version: 10,
   opset_import: ["" : 21],
   doc_string: "model doc"
>
# configuration[0]: name "mesh", num_devices 2, device ["gpu0", "gpu1"]
g (float[n] x) => (float[n] y)
<
   float[1] w = {1.0}  # doc_string: "tensor doc"
>
{
   # graph doc_string: "graph doc"
   # graph metadata_props: ["gk": "gv"]
   # input x: doc_string: "input doc"
   # input x: denotation "TENSOR"
   # input x: dim 0 denotation "DATA_BATCH"
   # output y: metadata_props: ["unit": "m"]
   # sparse_initializer: sparse_tensor(float[3]) {values = float[1] sp {5.0}, indices = int64[1] {2}}
   # quantization_annotation y: ["SCALE_TENSOR": "w"]
   # doc_string: "node\\ndoc"
   # metadata_props: ["nk": "nv"]
   # device_configuration "mesh": pipeline_stage 1; sharding "x" device [0, 1] sharded {axis 0: ["n" / 2]}
   # attribute alpha doc_string: "attr doc"
   [relu] y = Relu <alpha: float = 1.0> (x)
}

# training_info[0]:
#    algorithm: step () => (float[1] w2) {
#       w2 = Neg (w)
#    }
#    update_binding: ["w": "w2"]
"""
    )


def test_upstream_parser_skips_every_comment() -> None:
    model = extras_model()
    parsed = upstream_parse(fmt(model, full=True))
    assert parsed.graph.node[0].op_type == "Relu" and parsed.graph.node[0].attribute[0].f == 1.0
    assert parsed.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "n"
    assert parsed.doc_string == "model doc" and len(parsed.graph.initializer) == 1
    assert not len(parsed.training_info) and not len(parsed.graph.sparse_initializer)
    # comments between the entries of lists, after a comma, before a closing bracket
    attr_note = make_model(
        [
            helper.make_node(
                "Foo",
                ["x"],
                ["y"],
                domain="d",
                t=helper.make_tensor("", TensorProto.FLOAT, [1], [1.0]),
                g=helper.make_graph([], "b", [], []),
            )
        ],
        [vi("x", TensorProto.FLOAT, [1])],
        [vi("y", TensorProto.FLOAT, [1])],
    )
    attr_note.graph.node[0].attribute[1].doc_string = "doc of t"
    printed = fmt(attr_note)
    assert 't: tensor = float[1] {1.0}  # attribute t doc_string: "doc of t"\n   >' in printed
    attr_note.graph.node[0].attribute[0].doc_string = "doc of g"
    assert "g: graph = b () => () {\n      },\n      t: tensor" in fmt(attr_note)
    assert upstream_parse(printed).graph.node[0].attribute[1].t.float_data == [1.0]


# --- value formatting, every dtype ------------------------------------------------------------------------

VALUES: list[tuple[np.ndarray, str]] = [
    (
        np.array([0.1, -0.0, 1e-45, 3.4028235e38, np.inf, -np.inf, 1e7, 123456789], np.float32),
        "{0.1, -0.0, 1e-45, 3.4028235e+38, inf, -inf, 1e+07, 1.2345679e+08}",
    ),
    (np.array([0.1, -0.0, 5e-324, 1e300, -np.inf], np.float64), "{0.1, -0.0, 5e-324, 1e+300, -inf}"),
    (np.array([0.1, 65504, 6e-8, -2.5], np.float16), "{0.1, 65500.0, 6e-08, -2.5}"),
    (np.array([0.1, 3.0, 1e30, -np.inf], ml_dtypes.bfloat16), "{0.1, 3.0, 1e+30, -inf}"),
    (np.array([0.1, 448, -0.001953125, np.nan], ml_dtypes.float8_e4m3fn), "{0.1, 450.0, -0.002, nan}"),
    (np.array([0.1, 240, np.nan], ml_dtypes.float8_e4m3fnuz), "{0.1, 240.0, nan}"),
    # 0.1 is 0.09375 in float8e5m2: "0.09" is as short as "0.1" and nearer
    (np.array([0.1, 57344, -np.inf, 1.5e-5], ml_dtypes.float8_e5m2), "{0.09, 60000.0, -inf, 2e-05}"),
    (np.array([0.1, 57344, np.nan], ml_dtypes.float8_e5m2fnuz), "{0.09, 60000.0, nan}"),
    (
        np.array([1.0, 2.0**-127, 2.0**127, np.nan]).astype(ml_dtypes.float8_e8m0fnu),
        "{1.0, 6e-39, 2e+38, nan}",
    ),
    (np.array([0.5, -6, 1.5, -0.0], ml_dtypes.float4_e2m1fn), "{0.5, -6.0, 1.5, -0.0}"),
    (np.array([0.125, -7.5, 0.375], ml_dtypes.float6_e2m3fn), "{0.1, -8.0, 0.4}"),
    (np.array([0.0625, -28, 0.25], ml_dtypes.float6_e3m2fn), "{0.06, -30.0, 0.25}"),
    (np.array([-8, 7, 0], ml_dtypes.int4), "{-8, 7, 0}"),
    (np.array([15, 0, 9], ml_dtypes.uint4), "{15, 0, 9}"),
    (np.array([-2, 1, 0], ml_dtypes.int2), "{-2, 1, 0}"),
    (np.array([3, 0, 2], ml_dtypes.uint2), "{3, 0, 2}"),
    (np.array([True, False]), "{1, 0}"),
    (np.array([-128, 127], np.int8), "{-128, 127}"),
    (np.array([255], np.uint8), "{255}"),
    (np.array([-32768], np.int16), "{-32768}"),
    (np.array([65535], np.uint16), "{65535}"),
    (np.array([-(2**31)], np.int32), "{-2147483648}"),
    (np.array([2**32 - 1], np.uint32), "{4294967295}"),
    (np.array([-(2**63)], np.int64), "{-9223372036854775808}"),
    (np.array([2**64 - 1], np.uint64), "{18446744073709551615}"),
    (np.array([1 + 2j, complex(-0.5, -0.0)], np.complex64), "{1.0, 2.0, -0.5, -0.0}"),
    (np.array([0.1 + 1e300j], np.complex128), "{0.1, 1e+300}"),
    (
        np.array(
            [
                b"plain",
                b'quote " and \\ back',
                b"\xff\xfe",
                b"tab\tnl\ncr\r",
                "日本\u202e".encode(),
            ],
            object,
        ),
        '{"plain", "quote \\" and \\\\ back", "\\xff\\xfe", "tab\tnl\ncr\\r", "日本\\u202e"}',
    ),
]


@pytest.mark.parametrize("array,expected", VALUES, ids=[str(a.dtype) for a, _ in VALUES])
def test_value_formatting(array: np.ndarray, expected: str) -> None:
    assert tensor_value(array) == expected


def test_nan_signs_and_payloads() -> None:
    bits = np.array([0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FC00001], np.uint32)
    assert tensor_value(bits.view(np.float32)) == "{nan, -nan, nan, nan}  # 2 NaN payload(s) print as nan"
    parsed = upstream_parse(
        fmt(
            make_model(
                [],
                [],
                [vi("w", TensorProto.FLOAT, [2])],
                initializer=[numpy_helper.from_array(bits[:2].view(np.float32), "w")],
            ),
            full=True,
        )
    )
    assert numpy_helper.to_array(parsed.graph.initializer[0]).view(np.uint32).tolist() == [
        0x7FC00000,
        0xFFC00000,
    ]


def test_strings_non_utf8_and_comment_escapes() -> None:
    node = helper.make_node(
        "Foo", ["x"], ["y"], domain="d", s=b"\xff ok", doc_string="line1\nline2\t\x1b[31m"
    )
    model = make_model([node], [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
    model.doc_string = "multi\nline"
    printed = fmt(model)
    assert '   doc_string: "multi\nline"\n' in printed  # a literal: upstream reads a raw newline back
    assert '   # doc_string: "line1\\nline2\\t\\u001b[31m"\n' in printed  # a comment: stays on one line
    assert '<s: string = "\\xff ok">' in printed
    assert "\x1b" not in printed


# --- filters ------------------------------------------------------------------------------------------------


def chain_model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], name="block0.conv"),
        helper.make_node("Relu", ["c0"], ["r0"], name="block0.relu"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="block1.conv"),
        helper.make_node("Relu", ["c1"], ["r1"], name="block1.relu"),
        helper.make_node(
            "If",
            ["cond"],
            ["y"],
            name="head",
            then_branch=helper.make_graph(
                [
                    helper.make_node("Relu", ["r1"], ["t"], name="inner.relu"),
                    helper.make_node("Sigmoid", ["t"], ["u"], name="inner.sig"),
                ],
                "then",
                [],
                [vi("u", TensorProto.FLOAT, [1])],
            ),
            else_branch=helper.make_graph(
                [helper.make_node("Identity", ["r1"], ["v"])], "else", [], [vi("v", TensorProto.FLOAT, [1])]
            ),
        ),
    ]
    inits = [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), f"w{i}") for i in range(2)]
    return make_model(
        nodes,
        [vi("x", TensorProto.FLOAT, [1, 1, 1, 1]), vi("cond", TensorProto.BOOL, [])],
        [vi("y", TensorProto.FLOAT, [1])],
        initializer=inits,
    )


def test_op_type_filter() -> None:
    assert (
        fmt(chain_model(), op_types={"Conv"}).split("\n<\n", 1)[1]
        == """\
   float[1,1,1,1] w0 = {1.0},
   float[1,1,1,1] w1 = {1.0}
>
{
   ["block0.conv"] c0 = Conv (x, w0)
   # ... 1 nodes not shown
   ["block1.conv"] c1 = Conv (r0, w1)
   # ... 2 nodes not shown
}
"""
    )
    # a node holding subgraphs stays when something inside matches
    assert (
        fmt(chain_model(), op_types={"Sigmoid"}).split("\n<\n", 1)[1]
        == """\
   # ... 2 initializers/value_info not shown
>
{
   # ... 4 nodes not shown
   [head] y = If (cond) <
      else_branch: graph = else () => (float[1] v) {
         # ... 1 nodes not shown
      },
      then_branch: graph = then () => (float[1] u) {
         # ... 1 nodes not shown
         ["inner.sig"] u = Sigmoid (t)
      }
   >
}
"""
    )


def test_op_types_may_be_one_string() -> None:
    assert fmt(chain_model(), op_types="Conv") == fmt(chain_model(), op_types=["Conv"])


def test_name_pattern_is_a_glob_on_node_and_output_names() -> None:
    printed = fmt(chain_model(), name_pattern="block1.*")
    assert (
        '["block1.conv"] c1 = Conv (r0, w1)\n   ["block1.relu"] r1 = Relu (c1)\n   # ... 1 nodes not shown\n'
        in printed
    )
    assert "block0" not in printed and "float[1,1,1,1] w0" not in printed
    assert '["block0.relu"] r0 = Relu (c0)' in fmt(chain_model(), name_pattern="r?")  # output name r0
    both = fmt(chain_model(), name_pattern="*relu", op_types={"Relu"})
    assert both.count(" = Relu (") == 3 and "Sigmoid" not in both


def test_max_depth_and_header_only() -> None:
    assert (
        fmt(if_model(), max_depth=0).split("{\n", 1)[1]
        == """\
   [if] y = If (cond) <
      else_branch: graph = else_g () => (float[2] e) {
         # ... 3 nodes
      },
      then_branch: graph = then_g () => (float[2] t) {
         # ... 1 nodes
      }
   >
   [relu] z = Relu (y)
}
"""
    )
    assert (
        "body: graph = body (int64 i, bool c, float[2] v) => (bool co, float[2] vo) {\n"
        "               # ... 2 nodes\n" in fmt(if_model(), max_depth=1)
    )
    model = big_model()
    model.functions.append(
        helper.make_function(
            "d", "F", ["a"], ["b"], [helper.make_node("Neg", ["a"], ["b"])], [helper.make_opsetid("", 21)]
        )
    )
    assert (
        fmt(model, header_only=True)
        == """\
<
   ir_version: 10,
   opset_import: ["" : 21]
>
g (float[1,4] x) => (float[1,10] y) {
   # ... 1 nodes, 3 initializers not shown
}
# ... 1 functions, 0 training_info not shown
"""
    )
    assert format_graph(lite(if_model()).graph, header_only=True) == (
        "g (float[2] x, bool cond, int64 n) => (float[2] z) {\n"
        "   # ... 2 nodes, 0 initializers not shown\n}\n"
    )


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="preview"):
        fmt(big_model(), preview=-1)
    with pytest.raises(ValueError, match="max_depth"):
        fmt(big_model(), max_depth=-2)


# --- hostile tensors and attributes ----------------------------------------------------------------------


def test_undecodable_tensors_print_error_comments(tmp_path: Path) -> None:
    short = TensorProto(name="short", data_type=TensorProto.FLOAT, dims=[4], raw_data=b"\0" * 7)
    unknown = TensorProto(name="unknown", data_type=99, dims=[1], raw_data=b"\0")
    negative = TensorProto(name="neg", data_type=TensorProto.FLOAT, dims=[-1])
    missing = TensorProto(
        name="missing", data_type=TensorProto.FLOAT, dims=[2], data_location=TensorProto.EXTERNAL
    )
    missing.external_data.add(key="location", value="nowhere.bin")
    escape = TensorProto(
        name="escape", data_type=TensorProto.FLOAT, dims=[2], data_location=TensorProto.EXTERNAL
    )
    escape.external_data.add(key="location", value="../../etc/passwd")
    node = helper.make_node(
        "Constant",
        [],
        ["c"],
        value=TensorProto(name="bad", data_type=TensorProto.INT64, dims=[3], int64_data=[1]),
    )
    model = make_model(
        [node], [], [vi("c", TensorProto.INT64, [3])], initializer=[short, unknown, negative, missing, escape]
    )
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    printed = format_model(onnxlite.load(tmp_path / "m.onnx"))
    assert (
        """\
<
   float[4] short = {...},  # error: graph.initializer[0] 'short': raw_data has 7 bytes, but float [4] needs 16
   undefined99[1] unknown = {...},  # error: graph.initializer[1] 'unknown': unknown data type 99
   float[-1] neg = {...},  # error: graph.initializer[2] 'neg': negative dimension -1 in shape [-1]
   float[2] missing = {...},  # error: graph.initializer[3] 'missing': external data 'nowhere.bin': cannot open """  # noqa: E501
        in printed
    )
    assert (
        "float[2] escape = {...}  # error: graph.initializer[4] 'escape': external data location " in printed
    )
    assert (
        "   # value: error: graph.node[0].attribute 'value' 'bad': "
        "int64_data has 1 values, but int64 [3] needs 3\n"
        "   c = Constant <value: tensor = int64[3] bad {...}> ()\n"
    ) in printed
    assert format_model(onnxlite.load(tmp_path / "m.onnx"), full=True, stats=True).count("# error:") == 5
    with pytest.raises(onnx.parser.ParseError):  # the elided values fail loudly, not silently
        onnx.parser.parse_model(printed)


def test_attribute_of_unknown_type_is_left_out_with_a_comment() -> None:
    node = helper.make_node("Foo", ["x"], ["y"], domain="d", keep=1)
    node.attribute.add(name="mystery")  # no value, no type
    model = make_model([node], [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
    printed = fmt(model)
    assert (
        "   # error: attribute mystery has no value of a known type; left out\n"
        "   y = d.Foo <keep: int = 1> (x)\n" in printed
    )
    upstream_parse(printed)


def test_output_is_deterministic() -> None:
    model = lite(extras_model())
    first = format_model(model, full=True, stats=True)
    assert format_model(model, full=True, stats=True) == first
    assert format_model(onnxlite.loads(onnxlite.dumps(model)), full=True, stats=True) == first


def test_format_graph_of_a_subgraph() -> None:
    model = lite(if_model())
    then = model.graph.nodes[0].subgraphs()[1]
    assert (
        format_graph(then)
        == "then_g () => (float[2] t)\n<\n   float k = {0.5}\n>\n{\n   [then_add] t = Add (x, k)\n}\n"
    )


def test_example_model() -> None:
    example = Path(__file__).resolve().parents[1] / "tools" / "example" / "tiny_cnn.onnx"
    printed = format_model(onnxlite.load(example))
    assert printed.startswith("""\
<
   ir_version: 10,
   opset_import: ["" : 21],
   producer_name: "onnxlite-example",
""")
    assert (
        '   float[8,3,3,3] "conv.weight" = {0.12573022, -0.13210486, 0.64042264, 0.104900114, -0.5356694, '
        "0.36159506, 1.304, 0.94708097, ...},  # 216 values, 864 bytes, raw_data inline\n" in printed
    )
    assert '   [fc] logits = Gemm <transB: int = 1> (f, "fc.weight", "fc.bias")\n' in printed


# --- round trips through the upstream parser ---------------------------------------------------------------
#
# format_model(full=True) must parse with onnx.parser.parse_model into the same graph: nodes
# (op_type, domain, overload, name, inputs, outputs, attributes by value), initializers (values
# bit-exact), graph inputs/outputs/value_info types, opset imports and functions. Fields the
# syntax has no place for (doc strings, metadata, sparse initializers...) are comments, so they
# are not compared.


def tensor_diff(a: Any, b: Any, where: str) -> str | None:
    if a.name != b.name or a.data_type != b.data_type or list(a.dims) != list(b.dims):
        return f"{where}: {a.name!r} {a.data_type} {list(a.dims)} != {b.name!r} {b.data_type} {list(b.dims)}"
    if a.data_type == TensorProto.STRING:  # compared as bytes: to_array decodes UTF-8
        same = list(a.string_data) == list(b.string_data)
        return None if same else f"{where}: strings {list(a.string_data)[:4]} != {list(b.string_data)[:4]}"
    x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
    if x.dtype != y.dtype or x.shape != y.shape:
        return f"{where}: array {x.dtype}{x.shape} != {y.dtype}{y.shape}"
    return (
        None
        if x.tobytes() == y.tobytes()
        else f"{where}: values differ: {x.reshape(-1)[:8]} != {y.reshape(-1)[:8]}"
    )


def type_key(value: Any) -> bytes | None:
    """A value's type without denotations (they are comments) and unknown fields; an empty
    TypeProto counts as no type (the syntax cannot tell them apart)."""
    if not value.HasField("type") or value.type.WhichOneof("value") is None:
        return None
    t = onnx.TypeProto()
    t.CopyFrom(value.type)
    t.DiscardUnknownFields()
    stack = [t]
    while stack:
        x = stack.pop()
        x.ClearField("denotation")
        kind = x.WhichOneof("value")
        if kind in ("tensor_type", "sparse_tensor_type"):
            for d in getattr(x, kind).shape.dim:
                d.ClearField("denotation")
        elif kind in ("sequence_type", "optional_type"):
            stack.append(getattr(x, kind).elem_type)
        elif kind == "map_type":
            stack.append(x.map_type.value_type)
    return t.SerializeToString(deterministic=True)


def values_diff(a: Any, b: Any, where: str) -> str | None:
    if [v.name for v in a] != [v.name for v in b]:
        return f"{where}: {[v.name for v in a]} != {[v.name for v in b]}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if type_key(x) != type_key(y):
            return f"{where}[{i}] {x.name}: {x.type} != {y.type}"
    return None


def attribute_diff(a: Any, b: Any, where: str) -> str | None:
    if (a.name, a.type, a.ref_attr_name, a.i, a.s) != (b.name, b.type, b.ref_attr_name, b.i, b.s):
        return f"{where}: {a} != {b}"
    if list(a.ints) != list(b.ints) or list(a.strings) != list(b.strings):
        return f"{where}: ints/strings differ"
    if np.array([a.f, *a.floats], np.float32).tobytes() != np.array([b.f, *b.floats], np.float32).tobytes():
        return f"{where}: floats differ: {a.f} {list(a.floats)} != {b.f} {list(b.floats)}"
    if (
        a.HasField("t") != b.HasField("t")
        or len(a.tensors) != len(b.tensors)
        or len(a.graphs) != len(b.graphs)
    ):
        return f"{where}: tensor/graph presence differs"
    pairs = [(a.t, b.t)] if a.HasField("t") else []
    for i, (x, y) in enumerate(pairs + list(zip(a.tensors, b.tensors, strict=True))):
        d = tensor_diff(x, y, f"{where}.tensor[{i}]")
        if d:
            return d
    if a.HasField("g") != b.HasField("g"):
        return f"{where}: graph presence differs"
    graphs = [(a.g, b.g)] if a.HasField("g") else []
    for i, (x, y) in enumerate(graphs + list(zip(a.graphs, b.graphs, strict=True))):
        d = graph_diff(x, y, f"{where}.graph[{i}]")
        if d:
            return d
    if a.tp != b.tp or list(a.type_protos) != list(b.type_protos):
        return f"{where}: type protos differ"
    if a.sparse_tensor != b.sparse_tensor or list(a.sparse_tensors) != list(b.sparse_tensors):
        return f"{where}: sparse tensors differ"
    return None


def nodes_diff(a: Any, b: Any, where: str) -> str | None:
    if len(a) != len(b):
        return f"{where}: {len(a)} nodes != {len(b)}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        w = f"{where}.node[{i}]"
        if (x.op_type, x.domain, x.overload, x.name, x.HasField("name")) != (
            y.op_type,
            y.domain,
            y.overload,
            y.name,
            y.HasField("name"),
        ):
            return f"{w}: {x.domain}.{x.op_type}:{x.overload} [{x.name}] != " \
                   f"{y.domain}.{y.op_type}:{y.overload} [{y.name}]"
        if list(x.input) != list(y.input) or list(x.output) != list(y.output):
            return f"{w}: {list(x.input)} -> {list(x.output)} != {list(y.input)} -> {list(y.output)}"
        if len(x.attribute) != len(y.attribute):
            return f"{w}: {len(x.attribute)} attributes != {len(y.attribute)}"
        for j, (p, q) in enumerate(zip(x.attribute, y.attribute, strict=True)):
            d = attribute_diff(p, q, f"{w}.attribute[{j}]")
            if d:
                return d
    return None


def graph_diff(a: Any, b: Any, where: str = "graph") -> str | None:
    if a.name != b.name:
        return f"{where}: name {a.name!r} != {b.name!r}"
    for field in ("input", "output", "value_info"):
        d = values_diff(getattr(a, field), getattr(b, field), f"{where}.{field}")
        if d:
            return d
    if len(a.initializer) != len(b.initializer):
        return f"{where}: {len(a.initializer)} initializers != {len(b.initializer)}"
    for i, (x, y) in enumerate(zip(a.initializer, b.initializer, strict=True)):
        d = tensor_diff(x, y, f"{where}.initializer[{i}]")
        if d:
            return d
    return nodes_diff(a.node, b.node, where)


def function_diff(a: Any, b: Any, where: str) -> str | None:
    for field in ("name", "domain", "overload", "input", "output", "attribute"):
        x, y = getattr(a, field), getattr(b, field)
        if (x if isinstance(x, str) else list(x)) != (y if isinstance(y, str) else list(y)):
            return f"{where}.{field}: {x} != {y}"
    if [(o.domain, o.version) for o in a.opset_import] != [(o.domain, o.version) for o in b.opset_import]:
        return f"{where}.opset_import differs"
    if len(a.attribute_proto) != len(b.attribute_proto):
        return f"{where}.attribute_proto: {len(a.attribute_proto)} != {len(b.attribute_proto)}"
    for j, (p, q) in enumerate(zip(a.attribute_proto, b.attribute_proto, strict=True)):
        d = attribute_diff(p, q, f"{where}.attribute_proto[{j}]")
        if d:
            return d
    return values_diff(a.value_info, b.value_info, f"{where}.value_info") or nodes_diff(a.node, b.node, where)


def model_diff(a: onnx.ModelProto, b: onnx.ModelProto) -> str | None:
    for field in ("ir_version", "producer_name", "producer_version", "domain", "model_version", "doc_string"):
        if getattr(a, field) != getattr(b, field):
            return f"{field}: {getattr(a, field)!r} != {getattr(b, field)!r}"
    if [(o.domain, o.version) for o in a.opset_import] != [(o.domain, o.version) for o in b.opset_import]:
        return f"opset_import: {a.opset_import} != {b.opset_import}"
    if [(e.key, e.value) for e in a.metadata_props] != [(e.key, e.value) for e in b.metadata_props]:
        return "metadata_props differ"
    d = graph_diff(a.graph, b.graph)
    if d:
        return d
    if len(a.functions) != len(b.functions):
        return f"{len(a.functions)} functions != {len(b.functions)}"
    for i, (x, y) in enumerate(zip(a.functions, b.functions, strict=True)):
        d = function_diff(x, y, f"functions[{i}]")
        if d:
            return d
    return None


def upstream_round_trip(model: onnxlite.Model, original: onnx.ModelProto) -> str | None:
    """None when format_model(full=True) parses upstream into the same model, else why not."""
    printed = format_model(model, full=True)
    try:
        parsed = upstream_parse(printed)
    except onnx.parser.ParseError as e:
        return f"parse error: {str(e).splitlines()[-1]}"
    return model_diff(parsed, original)


@corpus.needs_onnx("1.23", "its parser and helpers know the float6 types")
def test_full_prints_bit_patterns_the_upstream_parser_reads() -> None:
    """float16/bfloat16/float8/float4/float6 and 4/2-bit integers: onnx.parser reads their literals
    as bit patterns (packed bytes for float4 and 4/2-bit integers), so --full prints that form (the
    decoded values in a comment), and onnxlite's parser reads it as well as the decoded form."""
    arrays = [
        np.array([0.1, -0.0, np.inf, np.nan], np.float16),
        np.array([1, -8, 7], ml_dtypes.int4),
        np.array([-1], ml_dtypes.int4),
        np.array([0.5, 6, -1], ml_dtypes.float4_e2m1fn),
        np.array([3, 0, 1, 2, 1], ml_dtypes.uint2),
        np.array(1.5, ml_dtypes.bfloat16),
        np.array([0.125, -7.5, 0.375, 1, 2], ml_dtypes.float6_e2m3fn),
        np.array([448, -0.5], ml_dtypes.float8_e4m3fn),
        np.array([], ml_dtypes.float8_e4m3fn),
    ]
    inits = [numpy_helper.from_array(a, f"t{i}") for i, a in enumerate(arrays)]
    model = make_model(
        [helper.make_node("Identity", ["t0"], ["y"])],
        [],
        [vi("y", TensorProto.FLOAT16, [4])],
        initializer=inits,
    )
    printed = format_model(lite(model), full=True)
    assert ("   float16[4] t0 = {11878, 32768, 31744, 32256},  # bit patterns of 0.1, -0.0, inf, nan\n"
            in printed)
    assert "   int4[3] t1 = {129, 7},  # bit patterns of 1, -8, 7\n" in printed
    assert upstream_round_trip(lite(model), model) is None
    for text_form in (printed, fmt(model)):  # bits (--full) and decoded values (default dump)
        back = onnxlite.parse_model(text_form)
        for i, a in enumerate(arrays):
            assert back.graph.initializers[f"t{i}"].numpy().tobytes() == a.tobytes(), (i, text_form)


NODE_CASES = corpus.node_cases()
OTHER_CASES = corpus.model_cases() + corpus.wheel_cases()

NON_UTF8 = (
    "strings that are not UTF-8 or hold control characters: parse_model takes text (str), and the "
    "escapes (\\xNN, \\uNNNN, \\r) are onnxlite-only"
)
# Models whose full dump the upstream parser cannot read back into the same model, and why.
# test_fixtures_dump_and_round_trip checks that each still fails, so the list stays honest.
UPSTREAM_EXCEPTIONS = {
    "fixture/structure/attributes.onnx": "sparse_tensor attributes: the upstream syntax has no such literal",
    "fixture/wire/scrambled_attributes.onnx": "sparse_tensor attributes (as structure/attributes.onnx)",
    "fixture/structure/sparse.onnx": "a sparse_tensor attribute; sparse initializers exist only as comments",
    "fixture/structure/tensor_segment.onnx": "a segmented tensor: onnxlite cannot decode it, prints an error",
    "fixture/wire/non_utf8_strings.onnx": NON_UTF8,
    "fixture/dtypes/all_dtypes_raw.onnx": NON_UTF8 + " (test_dtype_fixtures_round_trip covers the rest)",
    "fixture/dtypes/all_dtypes_typed.onnx": NON_UTF8 + " (test_dtype_fixtures_round_trip covers the rest)",
    "fixture/wire/unknown_enum_values.onnx": "an attribute of unknown type is left out (a comment says so)",
}


def case_model(case: corpus.Case) -> tuple[onnxlite.Model, onnx.ModelProto]:
    if case.path is not None:
        return onnxlite.load(case.path), onnx.load(str(case.path))
    return onnxlite.loads(case.read()), onnx.load_from_string(case.read())


@pytest.mark.parametrize("case", NODE_CASES, ids=[c.id for c in NODE_CASES])
def test_node_cases_round_trip_through_the_upstream_parser(case: corpus.Case) -> None:
    model, original = case_model(case)
    assert upstream_round_trip(model, original) is None


@pytest.mark.parametrize("case", OTHER_CASES, ids=[c.id for c in OTHER_CASES])
def test_model_and_wheel_cases_round_trip(case: corpus.Case) -> None:
    model, original = case_model(case)
    assert upstream_round_trip(model, original) is None


def fixture_cases() -> list[corpus.Case]:
    return list(corpus.fixture_cases())


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda c: c.id)
def test_fixtures_dump_and_round_trip(case: corpus.Case) -> None:
    model, original = case_model(case)
    for options in (
        {},
        {"stats": True},
        {"preview": 0},
        {"max_depth": 0, "op_types": {"Add"}},
        {"header_only": True},
    ):
        assert format_model(model, **options)  # never raises
    if case.id in UPSTREAM_EXCEPTIONS:
        assert upstream_round_trip(model, original) is not None, (
            f"{case.id} round-trips now: drop the exception"
        )
    else:
        assert upstream_round_trip(model, original) is None


def test_upstream_exceptions_name_existing_fixtures() -> None:
    ids = {c.id for c in fixture_cases()}
    assert set(UPSTREAM_EXCEPTIONS) <= ids


@pytest.mark.parametrize("name", ["all_dtypes_raw.onnx", "all_dtypes_typed.onnx"])
def test_dtype_fixtures_round_trip(name: str) -> None:
    """Every dtype's edge values, with the strings the upstream parser cannot take replaced: not
    UTF-8, or holding control characters other than newline and tab (printed as escapes, so a
    dump cannot drive the terminal showing it)."""
    path = corpus.FIXTURES / "dtypes" / name
    if not path.is_file():
        pytest.skip(f"{path} is not generated")
    original = onnx.load(str(path))
    replaced = 0
    for tensor in original.graph.initializer:
        for i, s in enumerate(tensor.string_data):
            try:
                printable = all(c.isprintable() or c in "\n\t" for c in s.decode("utf-8"))
            except UnicodeDecodeError:
                printable = False
            if not printable:
                tensor.string_data[i] = b"replaced"
                replaced += 1
    assert replaced
    assert upstream_round_trip(lite(original), original) is None


def _chain_with_subgraphs(n: int) -> onnxlite.Model:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    g = m.graph
    g.name = "chain"
    g.input.add(name="x0").type.tensor_type.elem_type = 1
    for i in range(n):
        node = g.node.add(op_type="LeakyRelu", name=f"/layers.{i}/act", input=[f"x{i}"], output=[f"x{i + 1}"])
        node.attribute.add(name="alpha", type=1, f=0.01 * (i % 7))
        if i % 50 == 0:
            branch = g.node.add(op_type="If", name=f"if{i}", input=["cond"], output=[f"y{i}"])
            body = branch.attribute.add(name="then_branch", type=5).g
            body.name = f"then{i}"
            body.node.add(op_type="Identity", input=[f"x{i}"], output=[f"t{i}"])
            body.output.add(name=f"t{i}")
    g.output.add(name=f"x{n}").type.tensor_type.elem_type = 1
    return onnxlite.Model(m)


def test_two_process_dump_prints_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 100)
    model = _chain_with_subgraphs(1000)
    started: list[object] = []
    real_start = text._printer._Child.start

    def start(work: object) -> object:
        child = real_start(work)  # type: ignore[arg-type]
        started.append(child)
        return child

    monkeypatch.setattr(text._printer._Child, "start", start)
    assert format_model(model, jobs=2) == format_model(model)
    assert started and started[0] is not None  # a child really printed half of the nodes


def test_two_process_dump_falls_back_when_the_child_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 100)
    def failed(self: text._printer._Child) -> None:  # reap the child, then report it as failed
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    monkeypatch.setattr(text._printer._Child, "result", failed)
    model = _chain_with_subgraphs(400)
    assert format_model(model, jobs=2) == format_model(model)


def _typed_chain(n: int, clash: bool = False) -> onnxlite.Model:
    """A chain with If subgraphs, a multi-output node, a declared type the computation
    contradicts and a model-local function: every kind of type comment. ``clash``: hostile node
    names give two subgraphs the same path."""
    model = _chain_with_subgraphs(n)
    m = model.proto
    g = m.graph
    g.input[0].type.tensor_type.shape.dim.add().dim_param = "N"
    g.input[0].type.tensor_type.shape.dim.add().dim_value = 8
    g.input.add(name="cond").type.tensor_type.elem_type = TensorProto.BOOL
    g.node.add(op_type="Split", input=[f"x{n}"], output=["s0", "s1"]).attribute.add(
        name="num_outputs", type=2, i=2)
    g.node.add(op_type="Dropout", input=["s1"], output=["d", ""])
    wrong = g.value_info.add(name="x3")  # declared [N,9]: contradicts the computed [N,8]
    wrong.type.tensor_type.elem_type = TensorProto.FLOAT
    wrong.type.tensor_type.shape.dim.add().dim_param = "N"
    wrong.type.tensor_type.shape.dim.add().dim_value = 9
    g.node.add(op_type="Twice", domain="local", input=["s0"], output=["f"])
    m.opset_import.add(domain="local", version=1)
    fn = m.functions.add(name="Twice", domain="local", input=["a"], output=["b"])
    fn.opset_import.add(domain="", version=21)
    fn.node.add(op_type="Add", input=["a", "a"], output=["b"])
    if clash:  # labels: node 1 "dup" -> "dup#1", and a node named "dup#1" -> "dup#1"
        assert g.node[1].op_type == "If"
        g.node[1].name = "dup"
        g.node[-2].name = "dup"
        g.node.add(op_type="If", name="dup#1", input=["cond"], output=["z"]).CopyFrom(g.node[1])
        g.node[-1].name = "dup#1"
        g.node[-1].output[0] = "z"
    return onnxlite.Model(m)


@pytest.mark.parametrize("clash", [False, True])
def test_typed_two_process_dump_prints_the_same_text(monkeypatch: pytest.MonkeyPatch, clash: bool) -> None:
    """The typed dump of a big model: a child prints with markers while the parent infers.
    The text is the sequential one, also when two subgraphs share a path (the parent then
    prints the ordinary way)."""
    monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 100)
    model = _typed_chain(600, clash)
    taken: list[object] = []
    real = text._printer.typed_in_parallel

    def spy(*args: Any) -> Any:
        taken.append(real(*args))
        return taken[-1]

    monkeypatch.setattr(text._printer, "typed_in_parallel", spy)
    sequential = format_model(model, types="inferred")
    assert not taken
    parallel = format_model(model, types="inferred", jobs=2)
    assert parallel == sequential
    assert len(taken) == 1 and (taken[0] is None) == clash
    assert "# float[N,8] (declared float[N,9])" in parallel  # the contradiction comment
    assert "(x600)  # float[(N + 1)//2,8], float[N - (N + 1)//2,8]\n" in parallel
    assert "(s1)  # float[N - (N + 1)//2,8], _\n" in parallel
    assert "f = local.Twice (s0)  # float[(N + 1)//2,8]\n" in parallel
    assert sequential.count("  # float[N,8]\n") > 500


def test_typed_two_process_dump_matches_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every 8th corpus model (all exporters, nesting, functions, odd names) dumped typed both
    ways: the markers path must give the sequential text byte for byte."""
    real = text._printer.typed_in_parallel
    taken = 0

    def spy(*args: Any) -> Any:
        nonlocal taken
        found = real(*args)
        taken += found is not None
        return found

    monkeypatch.setattr(text._printer, "typed_in_parallel", spy)
    tried = 0
    for case in corpus.model_corpus()[::8]:
        try:
            model = onnxlite.load(case.path) if case.path is not None else onnxlite.loads(case.read())
        except onnxlite.OnnxliteError:
            continue
        tried += 1
        monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 1 << 60)
        sequential = format_model(model, types="inferred", jobs=2)
        monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 0)
        assert format_model(model, types="inferred", jobs=2) == sequential, case
    assert tried > 200 and taken == tried


def test_typed_two_process_dump_falls_back_when_the_child_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text._printer, "_PARALLEL_NODES", 100)

    def failed(self: text._printer._Child) -> None:
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    monkeypatch.setattr(text._printer._Child, "result", failed)
    model = _typed_chain(300)
    assert format_model(model, types="inferred", jobs=2) == format_model(model, types="inferred")


def test_long_doc_strings_and_metadata_are_clipped_unless_full() -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    node = m.graph.node.add(op_type="Relu", input=["x"], output=["y"])
    trace = "File \"model.py\", line 12, in forward\n" * 40
    node.doc_string = trace
    node.metadata_props.add(key="pkg.torch.onnx.stack_trace", value=trace)
    model = onnxlite.Model(m)
    short = format_model(model)
    assert f'..." ({len(trace)} chars)' in short and trace[:200].replace("\n", "\\n") not in short
    assert max(len(line) for line in short.splitlines()) < 300
    full = format_model(model, full=True)
    assert trace.replace("\n", "\\n").replace('"', '\\"') in full
