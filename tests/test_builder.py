"""The model builder: every model built here passes onnx.checker.check_model(full_check=True) and,
where onnxruntime runs its ops, gives the outputs of a numpy reference."""

from __future__ import annotations

import doctest
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import onnxlite
import onnxlite.builder
import onnxlite.builder._builder
import onnxlite.builder._values
from onnxlite import DataType, EditError, Tensor
from onnxlite.builder import (
    DEFAULT_OPSET,
    AttrValue,
    FunctionBuilder,
    GraphBuilder,
    attr,
    make_node,
    map_type,
    optional_type,
    sequence_type,
    sparse_tensor,
    sparse_tensor_type,
    tensor_type,
)

try:  # the corpus needs the onnx package (an oracle only: CI also runs without it)
    import corpus
except ImportError:
    corpus = None

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _every_model_passes_the_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test builds, `GraphBuilder.model` output must pass onnx's full checker
    (except models built with validate=False: those are meant to be invalid)."""
    try:
        import onnx
    except ImportError:
        return
    build = GraphBuilder.model

    def checked(self: GraphBuilder, *args: Any, **kwargs: Any) -> onnxlite.Model:
        model = build(self, *args, **kwargs)
        if kwargs.get("validate") is False:
            return model
        proto = onnx.load_from_string(onnxlite.dumps(model))
        if proto.ir_version <= onnx.IR_VERSION:
            onnx.checker.check_model(proto, full_check=True)
        return model

    monkeypatch.setattr(GraphBuilder, "model", checked)


def _check(model: onnxlite.Model) -> Any:
    """The model as onnx parses it, after the full checker (strict shape inference included)."""
    onnx = pytest.importorskip("onnx")
    proto = onnx.load_from_string(onnxlite.dumps(model))
    if proto.ir_version > onnx.IR_VERSION:
        pytest.skip(f"onnx {onnx.__version__} predates IR version {proto.ir_version}")
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _run(model: onnxlite.Model, **feeds: Any) -> list[Any]:
    """Check the model, then run it in onnxruntime."""
    _check(model)
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(onnxlite.dumps(model), providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def _refused_by_both(g: GraphBuilder, *fragments: str, **model_args: Any) -> None:
    """``g.model()`` refuses the graph, and onnx's checker refuses what validate=False builds."""
    _one_line_error(lambda: g.model(**model_args), *fragments)
    onnx = pytest.importorskip("onnx")
    unchecked = onnx.load_from_string(onnxlite.dumps(g.model(validate=False, **model_args)))
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(unchecked, full_check=True)


def _one_line_error(call: Any, *fragments: str) -> str:
    with pytest.raises(EditError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("module", [onnxlite.builder._builder, onnxlite.builder._values],
                         ids=lambda m: m.__name__)
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert result.attempted >= 2 and result.failed == 0


def test_value_helpers_are_public_from_the_builder() -> None:
    moved = ["attr", "AttrValue", "AttrRef", "tensor_type", "sparse_tensor_type", "sequence_type",
             "optional_type", "map_type", "sparse_tensor"]
    for name in moved:  # they live in _buildvalues; `from onnxlite.builder import ...` is their home
        assert getattr(onnxlite.builder, name) is getattr(onnxlite.builder._values, name)
    builders = {"GraphBuilder", "FunctionBuilder", "Var", "make_node"}
    assert set(moved) | builders <= set(onnxlite.builder.__all__)


def test_importing_the_builder_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, onnxlite.builder; "
            "print(sorted({'numpy', 'onnxlite._proto.opschemas', 'onnxlite._storage.codec'} "
            "& set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- models that run ------------------------------------------------------------------------------

def test_readme_example_conv_relu() -> None:
    g = GraphBuilder("tiny")
    x = g.input("x", "float32", ["N", 3, 8, 8])
    w = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)
    y = g.op("Conv", x, g.initializer("w", w), pads=[1, 1, 1, 1], name="conv0")
    g.output(g.op("Relu", y), "float32", ["N", 8, 8, 8])
    model = g.model(opset=21, producer_name="me", metadata={"k": "v"})
    assert model.opset_imports == {"": 21} and model.ir_version == 10
    assert model.producer_name == "me" and model.metadata_props == {"k": "v"}
    xv = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    padded = np.pad(xv, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # N,C,H,W,3,3
    expected = np.maximum(np.einsum("nchwij,ocij->nohw", windows, w), 0)
    (got,) = _run(model, x=xv)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_mlp_against_numpy() -> None:
    w1, b1 = RNG.standard_normal((4, 16)).astype(np.float32), RNG.standard_normal(16).astype(np.float32)
    w2, b2 = RNG.standard_normal((8, 16)).astype(np.float32), RNG.standard_normal(8).astype(np.float32)
    g = GraphBuilder("mlp", opset=18)
    x = g.input("x", np.float32, ["batch", 4])
    h = g.op("Relu", g.op("Add", g.op("MatMul", x, g.initializer("w1", w1)), g.initializer("b1", b1)))
    y = g.op("Gemm", h, g.initializer("w2", w2), g.initializer("b2", b2), transB=1, alpha=1)
    g.output(g.op("Softmax", y, axis=-1), DataType.FLOAT, ["batch", 8], name="probs")
    model = g.model()
    assert model.opset_imports == {"": 18} and model.ir_version == 8
    assert [o.name for o in model.graph.outputs] == ["probs"]
    xv = RNG.standard_normal((5, 4)).astype(np.float32)
    logits = np.maximum(xv @ w1 + b1, 0) @ w2.T + b2
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    (got,) = _run(model, x=xv)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_if_branches_read_outer_values() -> None:
    g = GraphBuilder("branch")
    cond = g.input("cond", "bool", [])
    x = g.input("x", "float32", [3])
    a = g.initializer("a", np.array([1, 2, 3], np.float32))
    then = g.subgraph("then")
    then.output(then.op("Add", x, a), "float32", [3])
    other = g.subgraph("else")
    other.output(other.op("Sub", "x", "a"), "float32", [3])  # outer values by name too
    g.output(g.op("If", cond, then_branch=then, else_branch=other), "float32", [3])
    model = g.model()
    xv = np.array([10, 20, 30], np.float32)
    assert _run(model, cond=np.array(True), x=xv)[0].tolist() == [11, 22, 33]
    assert _run(model, cond=np.array(False), x=xv)[0].tolist() == [9, 18, 27]
    node = model.graph.nodes[0]
    assert {v.name for v in [model.graph.value("x"), model.graph.value("a")]} == {"x", "a"}
    assert sorted(n.op_type for sub in node.subgraphs() for n in sub.nodes) == ["Add", "Sub"]


def test_loop_with_carried_state_and_scan_output() -> None:
    g = GraphBuilder("loop")
    trips = g.input("trips", "int64", [])
    step = g.input("step", "float32", [2])
    body = g.subgraph("body")
    body.input("i", "int64", [])
    keep_going = body.input("cond", "bool", [])
    total = body.input("total", "float32", [2])
    total = body.op("Add", total, step)  # `step` comes from the outer graph
    body.output(keep_going, "bool", [])
    body.output(total, "float32", [2])
    body.output(body.op("Identity", total), "float32", [2])
    final, history = g.op("Loop", trips, None, np.zeros(2, np.float32), body=body,
                          outputs=["final", "history"])
    g.output(final, "float32", [2])
    g.output(history, "float32", ["T", 2])
    got = _run(g.model(), trips=np.array(4, np.int64), step=np.array([1, 0.5], np.float32))
    np.testing.assert_array_equal(got[0], [4, 2])
    np.testing.assert_array_equal(got[1], np.cumsum(np.tile([1, 0.5], (4, 1)), axis=0))


def test_scan_cumulative_sum() -> None:
    g = GraphBuilder("scan")
    rows = g.input("rows", "float32", ["T", 3])
    body = g.subgraph("body")
    running = body.input("running", "float32", [3])
    row = body.input("row", "float32", [3])
    running = body.op("Add", running, row)
    body.output(running, "float32", [3])
    body.output(body.op("Identity", running), "float32", [3])
    total, sums = g.op("Scan", np.zeros(3, np.float32), rows, body=body, num_scan_inputs=1,
                       scan_input_directions=[0], outputs=2)
    g.output(total, "float32", [3])
    g.output(sums, "float32", ["T", 3])
    rv = RNG.standard_normal((5, 3)).astype(np.float32)
    got = _run(g.model(), rows=rv)
    np.testing.assert_allclose(got[1], np.cumsum(rv, axis=0), rtol=1e-6)
    np.testing.assert_allclose(got[0], rv.sum(0), rtol=1e-6)


def test_function_with_attribute_defaults_and_references() -> None:
    g = GraphBuilder("fn")
    x = g.input("x", "float32", [4])
    f = g.function("ScaledLeaky", "my.ops", doc_string="leaky relu, then times scale")
    fx = f.input("x")
    alpha = f.attribute("alpha", 0.5)       # FLOAT, with a default
    scale = f.attribute("scale")            # required; its type comes from the op using it
    leaky = f.op("LeakyRelu", fx, alpha=alpha)
    factor = f.op("Constant", value_float=scale)
    f.output(f.op("Mul", leaky, factor), "y")
    y1 = g.op("ScaledLeaky", x, domain="my.ops", scale=3)  # int 3 -> FLOAT, as the function declares
    y2 = g.call(f, x, alpha=2, scale=1.0)
    g.output(y1, "float32", [4])
    g.output(y2, "float32", [4])
    model = g.model()
    assert model.opset_imports == {"": DEFAULT_OPSET, "my.ops": 1}
    (fn,) = model.functions
    assert fn.attributes == ("scale",) and list(fn.attribute_defaults) == ["alpha"]
    assert fn.opset_imports == {"": DEFAULT_OPSET}
    xv = np.array([-2, -1, 0, 3], np.float32)
    got = _run(model, x=xv)
    np.testing.assert_allclose(got[0], np.where(xv < 0, 0.5 * xv, xv) * 3)
    np.testing.assert_allclose(got[1], np.where(xv < 0, 2 * xv, xv))


def test_function_calling_function_and_subgraph_inside_function() -> None:
    inner = FunctionBuilder("Double", "my.ops")
    inner.output(inner.op("Add", inner.input("a"), "a"), "b")
    outer = FunctionBuilder("AbsDoubleIfPositive", "my.ops", opset=19)
    v = outer.input("v")
    outer.add_function(inner)
    positive = outer.op("ReduceMin", v, keepdims=0)
    then = outer.subgraph("then")
    then.output(then.op("Double", v, domain="my.ops"))
    other = outer.subgraph("else")
    other.output(other.op("Abs", v))
    pos = outer.op("Greater", positive, np.array(0, np.float32))
    outer.output(outer.op("If", pos, then_branch=then, else_branch=other), "w")
    g = GraphBuilder("calls", opset=19)
    x = g.input("x", "float32", [3])
    g.output(g.call(outer, x), "float32", [3])
    model = g.model()
    assert [f.name for f in model.functions] == ["AbsDoubleIfPositive", "Double"]
    assert model.functions[0].opset_imports == {"": 19, "my.ops": 1}
    assert _run(model, x=np.array([1, 2, 3], np.float32))[0].tolist() == [2, 4, 6]
    assert _run(model, x=np.array([-1, 2, 3], np.float32))[0].tolist() == [1, 2, 3]


def test_function_opsets_must_agree_with_the_model() -> None:
    g = GraphBuilder("fo")
    x = g.input("x", "float32", [2])
    f = g.function("F", "my", opset=18)
    a = f.input("a")
    f.output(f.op("Relu", a, outputs="r"))
    f.output(a)  # a function input as output: passed through an Identity (onnxruntime needs that)
    r, same = g.op("F", x, domain="my", outputs=2)
    g.output(r, "float32", [2])
    g.output(same, "float32", [2])
    _refused_by_both(g, "function 'my.F'.node", "Identity differs (16 vs 21)", opset=21)
    model = g.model(opset=18)
    assert model.functions[0].opset_imports == {"": 18}
    assert [n.op_type for n in model.functions[0].nodes] == ["Relu", "Identity"]
    assert [v.tolist() for v in _run(model, x=np.array([-1, 1], np.float32))] == [[0, 1], [-1, 1]]


def test_ml_domain_linear_classifier_and_zipmap() -> None:
    g = GraphBuilder("classifier")
    x = g.input("x", "float32", ["N", 2])
    label, scores = g.op("LinearClassifier", x, domain="ai.onnx.ml", coefficients=[1, -1, -1, 1],
                         intercepts=[0, 0.5], classlabels_ints=[7, 9], outputs=2)
    zipped = g.op("ZipMap", scores, domain="ai.onnx.ml", classlabels_int64s=[7, 9])
    g.output(label, "int64", ["N"])
    g.output(zipped, sequence_type(map_type("int64", "float32")))
    model = g.model()
    assert model.opset_imports == {"": 21, "ai.onnx.ml": 5}
    assert model.graph.nodes[0].attributes["coefficients"].type == "FLOATS"  # ints made floats
    xv = np.array([[3, 1], [0, 2]], np.float32)
    expected = xv @ np.array([[1, -1], [-1, 1]], np.float32).T + [0, 0.5]
    labels, maps = _run(model, x=xv)
    assert labels.tolist() == [[7, 9][i] for i in expected.argmax(1)]
    assert [sorted(m.items()) for m in maps] == [[(7, pytest.approx(a)), (9, pytest.approx(b))]
                                                 for a, b in expected]


def test_sequence_and_optional_inputs() -> None:
    g = GraphBuilder("containers", opset=18)
    seq = g.input("seq", sequence_type(tensor_type("float32", [None])))
    maybe = g.input("maybe", optional_type(tensor_type("int64", [2])))
    g.output(g.op("SequenceLength", seq), "int64", [])
    g.output(g.op("OptionalHasElement", maybe), "bool", [])
    model = g.model()
    assert str(model.graph.inputs[0].type) == "sequence(float[?])"
    assert model.ir_version == 8  # optional types need IR 8
    count, present = _run(model, seq=[np.ones(2, np.float32), np.ones(3, np.float32)],
                          maybe=np.array([1, 2], np.int64))
    assert count == 2 and present


def test_multi_output_and_omitted_optional_output() -> None:
    g = GraphBuilder("multi")
    x = g.input("x", "float32", [2, 4])
    top, idx = g.op("TopK", x, np.array([2], np.int64), outputs=2)
    halves = g.op("Split", x, axis=1, num_outputs=2, outputs=["left", None])
    assert halves[0].name == "left" and halves[1].name.startswith("Split_")
    pooled, skipped = g.op("MaxPool", g.op("Unsqueeze", x, np.array([0], np.int64)), kernel_shape=[2],
                           outputs=[None, ""])
    assert skipped.name == ""
    g.output(top, "float32", [2, 2])
    g.output(idx, "int64", [2, 2])
    g.output(halves[1], "float32", [2, 2])
    g.output(pooled, "float32", [1, 2, 3])
    assert list(g.graph().nodes[-1].outputs) == [pooled.name, ""]
    xv = np.array([[1, 4, 2, 3], [8, 5, 7, 6]], np.float32)
    got = _run(g.model(), x=xv)
    assert got[0].tolist() == [[4, 3], [8, 7]] and got[1].tolist() == [[1, 3], [0, 2]]
    assert got[2].tolist() == [[2, 3], [7, 6]]
    np.testing.assert_array_equal(got[3][0], np.maximum(xv[:, :-1], xv[:, 1:]))


def test_constants_value_info_and_sparse_initializer() -> None:
    g = GraphBuilder("consts")
    x = g.input("x", "float32", [2, 3])
    shape = g.constant([3, 2], name="shape")  # Python ints -> int64
    assert shape.type is not None and str(shape.type) == "int64[2]"
    y = g.op("Reshape", x, shape)
    g.value_info(y, "float32", [3, 2])
    assert str(y.type) == "float[3,2]"
    diagonal = sparse_tensor(np.array([2, 3], np.float32), [0, 3], [2, 2])
    z = g.op("MatMul", y, g.op("Constant", sparse_value=diagonal))
    half = g.op("Constant", value=[0.5, 0.5])  # the schema says TENSOR: Python floats -> float32
    g.output(g.op("Mul", z, half), "float32", [3, 2])
    model = g.model()
    assert model.ir_version == 10
    assert [v.name for v in model.graph.value_info] == [y.name]
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    (got,) = _run(model, x=xv)
    np.testing.assert_array_equal(got, xv.reshape(3, 2) @ np.diag([2, 3]).astype(np.float32) * 0.5)


def test_sparse_initializer() -> None:
    g = GraphBuilder("sparse")
    w = g.sparse_initializer("w", sparse_tensor([1.5, 2.5], [[0, 1], [2, 0]], [3, 2], dtype="float16"))
    assert str(w.type) == "sparse_tensor(float16[3,2])"
    g.output(w)
    model = g.model()
    assert model.ir_version == 10
    assert model.graph.sparse_initializers[0].numpy().tolist() == [[0, 1.5], [0, 0], [2.5, 0]]
    proto = _check(model)
    assert proto.graph.output[0].type.HasField("sparse_tensor_type")


def test_numpy_input_becomes_initializer_and_outer_output_gets_identity() -> None:
    g = GraphBuilder("lift")
    x = g.input("x", "float32", [2])
    y = g.op("Mul", x, np.array([2, 3], np.float32))
    sub_then, sub_else = g.subgraph(), g.subgraph()
    sub_then.output(y)  # a value of the enclosing graph: passed out through an Identity
    sub_else.output(x)
    g.output(g.op("If", g.constant(True), then_branch=sub_then, else_branch=sub_else), "float32", [2])
    model = g.model()
    assert len(model.graph.initializers) == 1
    branch = model.graph.nodes[-1].subgraphs()[0]
    assert [n.op_type for n in branch.nodes] == ["Identity"] and branch.outputs[0].name != y.name
    assert _run(model, x=np.array([1, 1], np.float32))[0].tolist() == [2, 3]


def _nested_ifs(depth: int) -> GraphBuilder:
    """``depth`` If nodes, each in the then-branch of the one before; the innermost negates x."""
    g = GraphBuilder("deep")
    cond, x = g.input("c", "bool", []), g.input("x", "float32", [1])
    chain = [g]
    for level in range(depth):
        chain.append(chain[-1].subgraph(f"then{level}"))
    chain[-1].output(chain[-1].op("Neg", x))
    for level in range(depth, 0, -1):  # iterative, innermost first
        parent = chain[level - 1]
        other = parent.subgraph(f"else{level}")
        other.output(other.op("Identity", x))
        y = parent.op("If", cond, then_branch=chain[level], else_branch=other)
        if level > 1:
            parent.output(y)
    g.output(y, "float32", [1])
    return g


def test_deeply_nested_subgraphs() -> None:
    model = _nested_ifs(25).model()
    assert _run(model, c=np.array(True), x=np.array([2], np.float32))[0].tolist() == [-2]
    assert _run(model, c=np.array(False), x=np.array([2], np.float32))[0].tolist() == [2]
    _one_line_error(_nested_ifs(40).model, "nests messages more than 100 deep")


# --- initializers of every dtype -------------------------------------------------------------------

_ORT_CAST = {  # dtypes onnxruntime's CPU Cast (opset 21) reads
    DataType.FLOAT, DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32,
    DataType.INT64, DataType.STRING, DataType.BOOL, DataType.FLOAT16, DataType.DOUBLE, DataType.UINT32,
    DataType.UINT64, DataType.BFLOAT16, DataType.FLOAT8E4M3FN, DataType.FLOAT8E4M3FNUZ, DataType.FLOAT8E5M2,
    DataType.FLOAT8E5M2FNUZ, DataType.UINT4, DataType.INT4,
}
_IR_OF_DTYPE = {  # onnx.proto, enum Version: the IR version that added each type
    DataType.BFLOAT16: 4, DataType.FLOAT8E4M3FN: 9, DataType.FLOAT8E4M3FNUZ: 9, DataType.FLOAT8E5M2: 9,
    DataType.FLOAT8E5M2FNUZ: 9, DataType.UINT4: 10, DataType.INT4: 10, DataType.FLOAT4E2M1: 11,
    DataType.FLOAT8E8M0: 12, DataType.UINT2: 13, DataType.INT2: 13, DataType.FLOAT6E2M3: 14,
    DataType.FLOAT6E3M2: 14,
}


def _sample(dt: DataType) -> np.ndarray:
    if dt == DataType.STRING:
        return np.array([["a", "bc"], ["", "déf"]], dtype=object)
    if dt == DataType.BOOL:
        return np.array([[True, False], [False, True]])
    if dt.np_dtype.kind in "iu" or "int" in dt.np_dtype.name:
        return np.array([[0, 1], [1, 0]]).astype(dt.np_dtype)
    if dt == DataType.FLOAT8E8M0:  # powers of two only, no sign
        return np.array([[0.5, 1], [2, 4]]).astype(dt.np_dtype)
    if dt.np_dtype.kind == "c":
        return np.array([[1 + 2j, -1j], [0, 3]]).astype(dt.np_dtype)
    return np.array([[0.5, -1], [2, 0]]).astype(dt.np_dtype)


@pytest.mark.parametrize("dt", [d for d in DataType if d != DataType.UNDEFINED], ids=lambda d: d.name)
def test_initializer_of_every_dtype(dt: DataType) -> None:
    value = _sample(dt)
    before = value.copy()
    g = GraphBuilder(f"dtype_{dt.name.lower()}")
    w = g.initializer("w", value)
    assert w.dtype == dt and w.shape == (2, 2)
    g.output(w)  # the initializer itself: no operator limits the dtype; its type is known
    model = g.model()
    np.testing.assert_array_equal(value, before)  # the caller's array is untouched
    assert model.ir_version == max(10, _IR_OF_DTYPE.get(dt, 0))
    assert model.graph.initializers["w"].location == ("typed" if dt == DataType.STRING else "raw")
    assert str(model.graph.outputs[0].type) == f"{dt.short_name}[2,2]"
    # opset 7 alone needs IR 3, initializers that are not inputs IR 4
    assert g.model(opset=7).ir_version == max(4, _IR_OF_DTYPE.get(dt, 0))
    proto = _check(model)
    from onnx import numpy_helper

    oracle = numpy_helper.to_array(proto.graph.initializer[0])
    if dt == DataType.STRING:
        assert [[str(v) for v in row] for row in oracle.tolist()] == value.tolist()
    else:
        assert oracle.tobytes() == value.tobytes() or np.array_equal(
            oracle.astype(np.float64), value.astype(np.float64))
    if dt in _ORT_CAST:  # run it: the values come back through a Cast onnxruntime can hand back
        g = GraphBuilder("run")
        target = dt if dt in (DataType.STRING, DataType.BOOL) else DataType.DOUBLE
        g.output(g.op("Cast", g.initializer("w", value), to=int(target)), target, [2, 2])
        (got,) = _run(g.model())
        assert got.tolist() == (value if dt in (DataType.STRING, DataType.BOOL)
                                else value.astype(np.float64)).tolist()


@pytest.mark.parametrize("dt", list(_IR_OF_DTYPE), ids=lambda d: d.name)
def test_value_types_set_the_ir_version(dt: DataType) -> None:
    g = GraphBuilder("plain", opset=7)  # opset 7 alone needs IR 3
    g.output(g.input("x", dt, [2]))
    assert g.model().ir_version == max(3, _IR_OF_DTYPE[dt])
    g = GraphBuilder("nested", opset=11)  # IR 6
    g.output(g.input("s", sequence_type(tensor_type(dt, [2]))))
    assert g.model().ir_version == max(6, _IR_OF_DTYPE[dt])


def test_initializer_values_and_dtypes() -> None:
    g = GraphBuilder()
    assert g.initializer("a", 3).dtype == DataType.INT64
    assert g.initializer("b", [0.5, 1]).dtype == DataType.FLOAT
    assert g.initializer("c", True).dtype == DataType.BOOL
    assert g.initializer("d", ["x", "y"]).dtype == DataType.STRING
    assert g.initializer("e", [1, 2], dtype="bfloat16").dtype == DataType.BFLOAT16
    assert g.initializer("f", np.float16(1.5)).shape == ()
    assert g.initializer("g", [[1, 2]], dtype=ml_dtypes.int4).shape == (1, 2)
    assert g.initializer("h", [], dtype="float32").shape == (0,)
    tensors = {t.name: t for t in g.graph().initializers.values()}
    assert tensors["e"].numpy().astype(np.float32).tolist() == [1, 2]
    assert tensors["d"].numpy().tolist() == [b"x", b"y"]
    _one_line_error(lambda: g.initializer("i", []), "cannot tell the dtype", "dtype=")
    _one_line_error(lambda: g.initializer("j", 2**70), "initializer 'j'", "dtype=")
    _one_line_error(lambda: g.initializer("j", [1, 2**70], dtype="int64"), "initializer 'j'", "cannot make")
    _one_line_error(lambda: g.initializer("k", [1, 2], dtype="flaot32"), "unknown dtype 'flaot32'", "float32")


def test_large_array_is_raw_data_and_tensor_from_loaded_model(tmp_path: Any) -> None:
    big = RNG.standard_normal((512, 1024)).astype(np.float32)
    big.setflags(write=False)
    g = GraphBuilder("big")
    x = g.input("x", "float32", [1, 512])
    g.output(g.op("MatMul", x, g.initializer("w", big)), "float32", [1, 1024])
    path = tmp_path / "big.onnx"
    onnxlite.save(g.model(), path)
    loaded = onnxlite.load(path, lazy=True)
    w = loaded.graph.initializers["w"]
    assert w.proto.HasField("raw_data") and w.location == "file"
    # A Tensor of a loaded (lazy) model is decoded into the new model, which owns its bytes.
    g2 = GraphBuilder("copy")
    w2 = g2.initializer("w", w)
    g2.output(g2.op("Identity", w2), "float32", [512, 1024])
    copied = g2.model().graph.initializers["w"]
    assert copied.location == "raw"
    np.testing.assert_array_equal(copied.numpy(), big)


def test_building_twice_gives_identical_bytes() -> None:
    def build() -> bytes:
        g = GraphBuilder("det", doc_string="graph doc", metadata={"b": "2", "a": "1"})
        x = g.input("x", "float32", ["N", 2], doc_string="input doc")
        f = g.function("Twice", "z.ops")
        f.output(f.op("Add", f.input("t"), "t"))
        y = g.op("Twice", x, domain="z.ops")
        y = g.op("Mul", y, np.array([1, 2], np.float32), metadata={"source": "line 1"}, doc_string="scale")
        g.output(y, "float32", ["N", 2])
        return onnxlite.dumps(g.model(opsets={"com.example": 2}, doc_string="model doc"))

    first = build()
    assert first == build()
    model = onnxlite.loads(first)
    assert model.opset_imports == {"": 21, "com.example": 2, "z.ops": 1}
    assert model.graph.metadata_props == {"b": "2", "a": "1"}
    assert model.graph.nodes[-1].metadata_props == {"source": "line 1"}
    _check(model)


# --- attributes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    3, True, np.int64(4), 0.25, np.float32(1.5), "same", b"\xff\x00", [1, 2], [1.5, 2], [1, 0.5], ["a", "b"],
    (3, 4), onnxlite.Tensor.from_numpy(np.arange(3, dtype=np.int32)),
], ids=repr)
def test_attribute_typing_matches_onnx_helper(value: Any) -> None:
    onnx = pytest.importorskip("onnx")
    g = GraphBuilder()
    g.op("Custom", domain="test", value=value)
    ours = g.graph().nodes[0].proto.attribute[0]
    as_onnx = value
    if isinstance(value, Tensor):
        as_onnx = onnx.TensorProto.FromString(value.proto.SerializeToString())
    theirs = onnx.helper.make_attribute("value", as_onnx)
    assert ours.type == theirs.type
    assert onnx.AttributeProto.FromString(ours.SerializeToString()) == theirs


def test_numpy_arrays_are_tensor_attributes() -> None:
    # onnx.helper reads a numpy array as an iterable (INTS); here it is what it looks like, a tensor
    g = GraphBuilder()
    g.op("Custom", domain="test", one=np.arange(3), many=[np.zeros(2, np.float32), np.ones(1, np.int64)])
    one, many = g.graph().nodes[0].attributes.values()
    assert one.type == "TENSOR" and one.value.numpy().tolist() == [0, 1, 2]
    assert many.type == "TENSORS" and [t.dtype for t in many.value] == [DataType.FLOAT, DataType.INT64]


def test_explicit_attribute_forms() -> None:
    g = GraphBuilder()
    sub = g.subgraph("s")
    sub.output(sub.constant(1.0), "float32", [])
    g.op("Custom", domain="test", a=attr.ints([]), b=attr.floats([1, 2]), c=attr.strings([]),
         d=attr.tensor(7, "int8"), e=attr.type("float16", [2]), f=attr.types([sequence_type("int64")]),
         g=attr.float(2), h=attr.int(True), i=attr.string("s"), j=attr.graphs([sub]),
         k=sparse_tensor(np.array([1], np.int32), [0], [3]), m=tensor_type("bool", []), n=None,
         attrs={"lambda": 0.5})
    node = g.graph().nodes[0]
    got = {name: a.type for name, a in node.attributes.items()}
    assert got == {"a": "INTS", "b": "FLOATS", "c": "STRINGS", "d": "TENSOR", "e": "TYPE_PROTO",
                   "f": "TYPE_PROTOS", "g": "FLOAT", "h": "INT", "i": "STRING", "j": "GRAPHS",
                   "k": "SPARSE_TENSOR", "m": "TYPE_PROTO", "lambda": "FLOAT"}
    assert node.attr("b") == [1.0, 2.0] and node.attr("d").numpy().dtype == np.int8
    assert str(node.attr("e")) == "float16[2]" and node.attr("lambda") == 0.5
    _one_line_error(lambda: g.op("LeakyRelu", "?"), "no value named")


def test_schema_types_attributes() -> None:
    g = GraphBuilder()
    x = g.input("x", "float32", [2])
    g.op("LeakyRelu", x, alpha=1)                  # int for a FLOAT
    g.op("Resize", x, None, np.array([2], np.float32), mode="nearest", axes=np.array([0]))
    g.op("Constant", value_floats=[1, 2])           # ints for FLOATS
    nodes = g.graph().nodes
    assert nodes[0].attributes["alpha"].type == "FLOAT"
    assert nodes[1].attributes["axes"].type == "INTS"
    assert nodes[2].attributes["value_floats"].value == [1.0, 2.0]
    _one_line_error(lambda: g.op("Concat", x, x, axis=1.5), "attribute 'axis'", "expected an int")
    _one_line_error(lambda: g.op("Concat", x, x, axis=attr.ints([1])), "expects INT, got INTS")
    _one_line_error(lambda: g.op("Conv", x, x, pad=[1]), "Conv has no attribute 'pad'", "'pads'")
    _one_line_error(lambda: g.op("Conv", x, x, pads=[]), "an empty list", "attr.ints([])")


@pytest.mark.parametrize("value, fragments", [
    ([], ("attribute 'sizes'", "empty list", "attr.ints([])")),
    ([1, "a"], ("a list of INT and STRING values", "attr")),
    ([{}], ("a list of other values",)),
    ({"a": 1}, ("dict is not an attribute value",)),
    (attr.ref("alpha", "FLOAT"), ("only works inside a FunctionBuilder",)),
    (None, ()),
])
def test_attribute_errors(value: Any, fragments: tuple[str, ...]) -> None:
    g = GraphBuilder()
    before = onnxlite.dumps(g.model())
    if not fragments:
        g.op("Custom", domain="test", sizes=value)
        assert len(g.graph().nodes[0].attributes) == 0
        return
    _one_line_error(lambda: g.op("Custom", domain="test", sizes=value), *fragments)
    assert onnxlite.dumps(g.model()) == before


def test_function_attribute_errors() -> None:
    f = FunctionBuilder("F", "my")
    x = f.input("x")
    _one_line_error(lambda: f.op("LeakyRelu", x, alpha=attr.ref("beta")), "declares no attribute 'beta'")
    f.attribute("gamma")
    _one_line_error(lambda: f.op("Custom", x, domain="c", v=attr.ref("gamma")), "type of attr.ref('gamma')")
    f.op("Custom", x, domain="c", v=attr.ref("gamma", "ints"))
    _one_line_error(lambda: f.attribute("gamma"), "declared already")
    _one_line_error(lambda: f.attribute("delta", [], type="flots"), "unknown attribute type 'flots'")
    _one_line_error(lambda: FunctionBuilder("G", ""), "its own domain")


# --- names, scopes and refusals --------------------------------------------------------------------

def test_name_collisions() -> None:
    g = GraphBuilder("names")
    x = g.input("x", "float32", [1])
    _one_line_error(lambda: g.input("x", "float32", [1]), "input name 'x' is already used in graph 'names'")
    _one_line_error(lambda: g.initializer("x", [1.0]), "'x' is already used")
    g.op("Relu", x, outputs="r", name="relu")
    _one_line_error(lambda: g.op("Relu", x, outputs="r"), "name 'r' is already used")
    _one_line_error(lambda: g.op("Relu", x, name="relu"), "node name 'relu'")
    _one_line_error(lambda: g.op("Split", x, outputs=["a", "a"]), "'a' is given twice")
    then, other = g.subgraph("then"), g.subgraph("else")
    _one_line_error(lambda: then.op("Neg", x, outputs="x"), "'x' is already used in graph 'names'")
    then.op("Neg", x, outputs="inner")
    other.op("Neg", x, outputs="inner")  # siblings may reuse a name
    _one_line_error(lambda: g.op("Neg", x, outputs="inner"), "already used in graph 'names'.subgraph 'then'")
    _one_line_error(lambda: GraphBuilder().op("Neg", x), "belongs to graph 'names'")
    _one_line_error(lambda: then.op("Neg", other.input("e", "float32", [1])), "belongs to", "cannot see")


def test_generated_names_are_unique_and_refusals_change_nothing() -> None:
    g = GraphBuilder("gen")
    x = g.input("x", "float32", [2])
    g.op("Relu", x, outputs="Relu_1_out")  # an explicit name a generated one would take
    a = g.op("Relu", x)
    b = g.op("Relu", x)
    before = onnxlite.dumps(g.model())
    _one_line_error(lambda: g.op("Relu", x, np.zeros(1), bogus=1), "Relu has no attribute 'bogus'")
    _one_line_error(lambda: g.op("Relux", x), "'Relux' is no operator of the ONNX domain", "'Relu'")
    _one_line_error(lambda: g.op("Relu", x, outputs=["ok", 3]), "output 1 name")
    _one_line_error(lambda: g.output(a, "float32", [2], metadata={"k": 1}), "metadata")
    assert onnxlite.dumps(g.model()) == before
    c = g.op("Relu", x)
    names = [a.name, b.name, c.name, "Relu_1_out"]
    assert len(set(names)) == 4
    node_names = [n.name for n in g.graph().nodes]
    assert len(set(node_names)) == len(node_names)


def test_used_subgraph_is_frozen_and_must_belong_to_the_node_graph() -> None:
    g = GraphBuilder("outer")
    c = g.input("c", "bool", [])
    t, e = g.subgraph("t"), g.subgraph("e")
    t.output(t.constant(1.0))
    e.output(e.constant(2.0))
    g.op("If", c, then_branch=t, else_branch=e)
    _one_line_error(lambda: t.op("Relu", "c"), "already used by graph 'outer'.node[0] (If)")
    stranger = g.subgraph("s").subgraph("deeper")
    _one_line_error(lambda: g.op("If", c, then_branch=stranger, else_branch=e),
                    "use it in a node of that graph")


def test_bad_dtypes_and_shapes() -> None:
    g = GraphBuilder()
    _one_line_error(lambda: g.input("a", "flaot32", [1]), "unknown dtype 'flaot32'; did you mean 'float32'?")
    _one_line_error(lambda: g.input("a", int, [1]), "Python int has no ONNX width")
    _one_line_error(lambda: g.input("a", 99, [1]), "unknown data type number 99")
    _one_line_error(lambda: g.input("a", "float32", [-1]), "dim -1")
    _one_line_error(lambda: g.input("a", "float32", 3), "shape must be a list")
    _one_line_error(lambda: g.input("a", tensor_type("float32"), [2]), "a shape goes inside the Type")
    assert str(g.input("a", "FLOAT16", [None, "n"]).type) == "float16[?,n]"
    assert str(g.input("b", np.dtype("<f8")).type) == "double"
    assert str(g.input("c", ml_dtypes.float8_e5m2, []).type) == "float8e5m2[]"
    assert str(g.input("d", sparse_tensor_type("float", [4]))).startswith("Var('d', sparse_tensor(float[4])")
    assert g.input("e").type is None


def test_model_level_checks() -> None:
    g = GraphBuilder("m")
    x = g.input("x", "float32", [2])
    g.output(g.op("Relu", x))
    _one_line_error(g.model, "output 'Relu_0_out' has no type", "g.output(")
    g = GraphBuilder("m")
    g.output(g.op("Gelu", g.input("x", "float32", [2])), "float32", [2])
    _refused_by_both(g, "Gelu needs opset 20 or newer", "imports 18", opset=18)
    assert g.model(opset=20).ir_version == 9
    g = GraphBuilder("m")
    g.output(g.op("Add", g.input("x", "float32", [2])), "float32", [2])
    _refused_by_both(g, "Add-14 takes 2 inputs, got 1")
    g = GraphBuilder("m")
    g.output(g.op("Upsample", g.input("x", "float32", [1, 2]), np.array([1, 2], np.float32)), "float32",
             [1, 4])
    _refused_by_both(g, "Upsample is deprecated since opset 10")
    g = GraphBuilder("m")
    g.output(g.op("Flatten", g.input("x", "float32", [1, 2]), outputs=2)[0], "float32", [1, 2])
    _refused_by_both(g, "Flatten-21 takes 1 outputs, got 2")
    g = GraphBuilder("m")
    g.output(g.op("Cast", g.input("x", "float32", [1])), "float32", [1])
    _refused_by_both(g, "Cast-21 needs attribute 'to'")
    g = GraphBuilder("m")
    halves = g.op("Split", g.input("x", "float32", [4]), num_outputs=2, outputs=2)
    for half in halves:
        g.output(half, "float32", [2])
    _refused_by_both(g, "Split-13 has no attribute 'num_outputs'", opset=13)
    g = GraphBuilder("m")
    g.output(g.initializer("w", np.zeros(2, ml_dtypes.float8_e4m3fn)))
    assert g.model(opset=13).ir_version == 9
    _one_line_error(lambda: g.model(opset=13, ir_version=8), "ir_version 8 is too old", "FLOAT8E4M3FN")
    _one_line_error(lambda: g.model(opset=99), "newer than this onnxlite knows")
    _one_line_error(lambda: g.subgraph().model(), "model() is for the main graph")
    g = GraphBuilder("m")
    g.output(g.op("LinearRegressor", g.input("x", "float32", [1, 2]), domain="ai.onnx.ml",
                  coefficients=[1, 1]), "float32", [1, 1])
    assert g.model(opset=17).opset_imports == {"": 17, "ai.onnx.ml": 3}
    assert g.model(opset=17, opsets={"ai.onnx.ml": 1}).opset_imports["ai.onnx.ml"] == 1
    np.testing.assert_allclose(_run(g.model(), x=np.array([[1, 2]], np.float32))[0], [[3]])


# --- make_node -------------------------------------------------------------------------------------

def _onnx_attribute(onnx: Any, name: str, value: Any) -> Any:
    """onnx.helper's attribute for one of our attribute values (as onnx would be given it)."""
    if isinstance(value, AttrValue):
        kind = getattr(onnx.AttributeProto, value.type)
        return onnx.helper.make_attribute(name, value.value, attr_type=kind)
    if isinstance(value, np.ndarray):
        value = onnx.numpy_helper.from_array(value)  # no name: unset, as Tensor.from_numpy leaves it
    return onnx.helper.make_attribute(name, value)


# (op, inputs, outputs, our keywords, what onnx.helper needs where a schema converts, node keywords)
_NODE_CASES = [
    ("Relu", ["x"], ["y"], {}, {}, {}),
    ("Conv", ["x", "w", "b"], ["y"], dict(pads=[1, 1, 1, 1], strides=(2, 2), kernel_shape=[3, 3], group=1,
                                          auto_pad="NOTSET"), {}, {}),
    ("Gemm", ["a", "b", "c"], ["y"], dict(alpha=1, beta=0.5, transB=True), dict(alpha=1.0), {}),
    ("Cast", ["x"], ["y"], dict(to=DataType.FLOAT16), dict(to=10), dict(opset=19)),
    ("LeakyRelu", ["x"], ["y"], dict(alpha=1), dict(alpha=1.0), {}),
    ("Constant", [], ["c"], dict(value_floats=[1, 2]), dict(value_floats=[1.0, 2.0]), {}),
    ("Constant", [], ["c"], dict(value=np.array([[1, 2]], np.int64)), {}, dict(opset=13)),
    ("Resize", ["x", "", "scales"], ["y"], dict(mode="nearest", axes=[2, 3], antialias=0), {},
     dict(opset=18)),
    ("Split", ["x"], ["a", "b"], dict(axis=0, num_outputs=2), {}, dict(opset=18)),
    ("TopK", ["x", "k"], ["v", "i"], dict(largest=1, sorted=np.int64(1), axis=-1), dict(sorted=1), {}),
    ("ReduceSum", ["x", "axes"], ["y"], dict(keepdims=0, noop_with_empty_axes=None), {}, {}),
    ("LinearClassifier", ["x"], ["label", "scores"],
     dict(coefficients=[1, -1, -1, 1], intercepts=[0, 0.5], classlabels_ints=[7, 9]),
     dict(coefficients=[1.0, -1.0, -1.0, 1.0]), dict(domain="ai.onnx.ml", opset=3)),
    ("Custom", ["a", ""], ["b", ""], dict(i=3, f=0.25, s="text", ints=(1, 2), floats=[1, 0.5],
                                          strings=["a", b"b"], lam=attr.floats([])), {},
     dict(domain="my.ops")),
]


def _sorted_attributes(onnx: Any, proto: Any) -> Any:
    """``proto`` as an onnx NodeProto with its attributes by name (onnx.helper sorts them)."""
    node = onnx.NodeProto.FromString(proto.SerializeToString())
    attributes = sorted((a for a in node.attribute), key=lambda a: a.name)
    copies = [onnx.AttributeProto.FromString(a.SerializeToString()) for a in attributes]
    del node.attribute[:]
    node.attribute.extend(copies)
    return node


@pytest.mark.parametrize("case", _NODE_CASES, ids=lambda c: f"{c[0]}-{len(c[3])}")
def test_make_node_matches_onnx_helper(case: Any) -> None:
    onnx = pytest.importorskip("onnx")
    op, inputs, outputs, ours, differences, extra = case
    node = make_node(op, inputs, outputs, name="n", doc_string="d", **extra, **ours)
    domain = extra.get("domain", "")
    expected = onnx.helper.make_node(op, inputs, outputs, name="n", doc_string="d", domain=domain or None)
    expected.attribute.extend(_onnx_attribute(onnx, k, v) for k, v in {**ours, **differences}.items()
                              if v is not None)
    assert _sorted_attributes(onnx, node.proto) == _sorted_attributes(onnx, expected)
    if domain != "my.ops":  # onnx's checker agrees the node fits the schema of its opset
        ctx = onnx.checker.C.CheckerContext()
        ctx.ir_version = onnx.IR_VERSION
        ctx.opset_imports = {domain: extra.get("opset", onnx.defs.onnx_opset_version() if not domain else 5)}
        onnx.checker.check_node(expected, ctx)


@pytest.mark.parametrize("case", _NODE_CASES, ids=lambda c: f"{c[0]}-{len(c[3])}")
def test_make_node_types_attributes_like_graph_builder_op(case: Any) -> None:
    op, inputs, outputs, ours, _, extra = case
    g = GraphBuilder()
    for name in inputs:
        if name:
            g.input(name)
    g.op(op, *inputs, outputs=outputs, domain=extra.get("domain", ""), **ours)
    built = g.graph().nodes[-1].proto
    made = make_node(op, inputs, outputs, **extra, **ours).proto
    assert [a.SerializeToString() for a in made.attribute] == [a.SerializeToString() for a in built.attribute]
    assert list(made.input) == list(built.input) and list(made.output) == list(built.output)


def test_make_node_view_and_fields() -> None:
    node = make_node("Relu", ["x"], ["y"], domain="ai.onnx", name="r", doc_string="why")
    assert isinstance(node, onnxlite.Node) and isinstance(node.graph, onnxlite.Graph)
    assert node.graph.model is None and node.graph.nodes[0].proto is node.proto
    assert node.where == "detached.node[0]" and node.domain == "" and not node.proto.HasField("domain")
    assert (node.op_type, node.inputs, node.outputs) == ("Relu", ("x",), ("y",))
    assert (node.name, node.doc_string) == ("r", "why")
    bare = make_node("Custom", [], [], domain="my", opset=7)  # opset: of the node's domain, none here
    assert bare.attributes == {} and not bare.proto.HasField("name") and not bare.proto.HasField("doc_string")
    assert make_node("Relu", ["x"], ["y"]).proto.SerializeToString() == b"\n\x01x\x12\x01y\"\x04Relu"


def test_make_node_graph_attributes_run_in_a_model() -> None:
    then = GraphBuilder("then")
    then.output(then.constant(np.array([1.0], np.float32), name="one"), "float32", [1])
    other = GraphBuilder("else")
    other.output(other.constant(np.array([2.0], np.float32), name="two"), "float32", [1])
    view = other.graph()  # a Graph view: as from a loaded model
    view_bytes, then_bytes = view.proto.SerializeToString(), then.graph().proto.SerializeToString()
    node = make_node("If", ["c"], ["r"], then_branch=then, else_branch=view, name="choose")
    assert view.proto.SerializeToString() == view_bytes  # copied, not taken
    then.constant(3)  # the builder stays open; the node holds the graph as it was
    assert [g.name for g in node.subgraphs()] == ["then", "else"]
    assert node.proto.attribute[0].g.SerializeToString() == then_bytes
    onnx = pytest.importorskip("onnx")
    expected = onnx.helper.make_node("If", ["c"], ["r"], name="choose",
                                     then_branch=onnx.GraphProto.FromString(then_bytes),
                                     else_branch=onnx.GraphProto.FromString(view_bytes))
    assert _sorted_attributes(onnx, node.proto) == expected  # onnx.helper sorts attributes by name
    # into a model, as edit.insert_node would: onnx's checker passes it and onnxruntime runs it
    g = GraphBuilder("host")
    g.output(g.op("Not", g.input("c", "bool", [])), "bool", [])
    model = g.model()
    model.graph.proto.node.add().CopyFrom(node.proto)
    out = model.graph.proto.output.add()
    out.name = "r"
    out.type.CopyFrom(tensor_type("float32", [1]).proto)
    assert _run(model, c=np.array(True))[1].tolist() == [1.0]
    assert _run(model, c=np.array(False))[1].tolist() == [2.0]


def test_make_node_attribute_reference_runs_in_a_function() -> None:
    g = GraphBuilder("fn")
    f = g.function("Leaky", "my.ops")
    f.attribute("slope", 0.1)
    f.output(f.op("Identity", f.input("x"), outputs="y"))
    g.output(g.call(f, g.input("x", "float32", [3]), slope=0.5), "float32", [3])
    model = g.model()
    node = make_node("LeakyRelu", ["x"], ["y"], alpha=attr.ref("slope"))  # FLOAT, as the schema says
    ref = node.proto.attribute[0]
    assert (ref.name, ref.ref_attr_name, ref.type) == ("alpha", "slope", 1) and not ref.HasField("f")
    model.functions[0].proto.node[0].CopyFrom(node.proto)
    got = _run(model, x=np.array([-2, 0, 4], np.float32))[0]
    assert got.tolist() == [-1, 0, 4]


def _stranger() -> Any:
    return GraphBuilder("g").subgraph("s")


def _gelu_branch() -> GraphBuilder:
    b = GraphBuilder("b")
    b.output(b.op("Gelu", b.constant(np.array([1.0], np.float32))))
    return b


@pytest.mark.parametrize("call, fragments", [
    (lambda: make_node("Conv", ["x", "w"], ["y"], pad=[1]),
     ("make_node (Conv): Conv-22 has no attribute 'pad'; did you mean 'pads'?",)),
    (lambda: make_node("Split", ["x"], ["a", "b"], num_outputs=2, opset=13, name="s"),
     ("make_node 's' (Split): Split-13 has no attribute 'num_outputs'",)),
    (lambda: make_node("Gelu", ["x"], ["y"], opset=18), ("Gelu needs opset 20 or newer", "not 18")),
    (lambda: make_node("Relux", ["x"], ["y"]),
     ("'Relux' is no operator of the ONNX domain; did you mean 'Relu'?",)),
    (lambda: make_node("Upsample", ["x", "s"], ["y"], opset=10), ("Upsample is deprecated since opset 10",)),
    (lambda: make_node("Add", ["a"], ["c"], opset=21), ("Add-14 takes 2 inputs, got 1",)),
    (lambda: make_node("Cast", ["x"], ["y"], opset=21), ("Cast-21 needs attribute 'to'",)),
    (lambda: make_node("Relu", "x", ["y"]), ("inputs must be a list of value names, got 'x'",)),
    (lambda: make_node("Relu", ["x"], [3]), ("outputs[0] must be a value name",)),
    (lambda: make_node("Split", ["x"], ["a", "a"], axis=0), ("output 'a' is given twice",)),
    (lambda: make_node("Relu", ["x"], ["y"], opset=99), ("opset 99 of domain 'ai.onnx' is newer", "(28)")),
    (lambda: make_node("Relu", ["x"], ["y"], opset=0), ("opset must be an int >= 1",)),
    (lambda: make_node("", ["x"], ["y"]), ("op_type must be a non-empty str",)),
    (lambda: make_node("Relu", ["x"], ["y"], name=3), ("name must be a str",)),
    (lambda: make_node("Concat", ["a", "b"], ["c"], axis=1.5), ("attribute 'axis'", "expected an int")),
    (lambda: make_node("Concat", ["a", "b"], ["c"], axis=attr.ints([1])), ("expects INT, got INTS",)),
    (lambda: make_node("Custom", [], [], domain="my", sizes=[]), ("empty list", "attr.ints([])")),
    (lambda: make_node("Custom", [], [], domain="my", v={"a": 1}), ("dict is not an attribute value",)),
    (lambda: make_node("Custom", [], [], domain="my", **{"": 1}), ("an attribute name is empty",)),
    (lambda: make_node("Custom", [], [], domain="my", v=attr.ref("g")),
     ("type of attr.ref('g') is unknown",)),
    (lambda: make_node("LeakyRelu", ["x"], ["y"], alpha=attr.ref("a", "INT")),
     ("expects FLOAT, attr.ref('a') is INT",)),
    (lambda: make_node("If", ["c"], ["y"], then_branch=_stranger(), else_branch=_stranger()),
     ("graph 'g'.subgraph 's' was made by graph 'g'.subgraph()", "use it in a node of that graph")),
    (lambda: make_node("If", ["c"], ["y"], then_branch=FunctionBuilder("F", "my"),
                       else_branch=GraphBuilder()),
     ("attribute 'then_branch'", "expected Graph or GraphBuilder, got FunctionBuilder")),
    (lambda: make_node("If", ["c"], ["y"], then_branch=_gelu_branch(), else_branch=GraphBuilder(), opset=18),
     ("make_node (If).then_branch.node 'Gelu_", "(Gelu): Gelu needs opset 20 or newer")),
])
def test_make_node_refusals(call: Any, fragments: tuple[str, ...]) -> None:
    _one_line_error(call, *fragments)


def _python_attributes(node: onnxlite.Node) -> dict[str, Any]:
    """A node's attributes as a user would pass them: typed Python values, `attr` where Python
    cannot say (an empty list, a reference to a function attribute)."""
    out: dict[str, Any] = {}
    for name, a in node.attributes.items():
        form = {"TYPE_PROTOS": "types"}.get(a.type, a.type.lower())
        if a.ref_attr_name:
            out[name] = attr.ref(a.ref_attr_name, a.type)
        elif isinstance(a.value, list) and not a.value:
            out[name] = getattr(attr, form)([])
        else:
            out[name] = a.value
    return out


def _without_empty_fields(proto: Any) -> bytes:
    """NodeProto bytes, dropping string fields set to '' (present or not, they say the same)."""
    copy = type(proto)()
    copy.CopyFrom(proto)
    for field in ("name", "domain", "doc_string", "overload"):
        if copy.HasField(field) and not getattr(copy, field):
            copy.ClearField(field)
    return copy.SerializeToString()  # type: ignore[no-any-return]


def test_make_node_rebuilds_every_node_of_the_onnx_corpus() -> None:
    """Each node of onnx's backend node and model tests and of the models its wheel ships (in the
    graph and in functions), made again from its attribute values as Python sees them at the opset
    its model imports, is byte for byte the node onnx wrote: the schema types every value alike."""
    if corpus is None:
        pytest.skip("the corpus needs the onnx package")
    made, wrong = 0, []
    for case in corpus.node_cases() + corpus.model_cases() + corpus.wheel_cases():
        model = onnxlite.loads(case.read())
        scopes = [(model.graph.nodes, model.opset_imports)]
        scopes += [(f.nodes, f.opset_imports) for f in model.functions]
        for nodes, opsets in scopes:
            for node in nodes:
                again = make_node(node.op_type, node.inputs, node.outputs, domain=node.domain, name=node.name,
                                  doc_string=node.doc_string, opset=opsets.get(node.domain),
                                  **_python_attributes(node))
                made += 1
                if _without_empty_fields(again.proto) != _without_empty_fields(node.proto):
                    wrong.append(f"{case.id}: {node.where} ({node.op_type})")
    assert made > 10000
    assert not wrong, f"{len(wrong)} nodes differ, e.g. {wrong[:5]}"
