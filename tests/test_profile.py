"""onnxlite.profile: MACs/FLOPs against textbook formulas evaluated with the shapes onnxruntime
computes, hand counts for LSTM/GRU/RNN, layer-size counts for the torch fixtures, subgraphs,
functions, packed weights, and the JSON/CSV forms."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import onnxlite
from onnxlite import parse_model
from onnxlite.profile import CSV_COLUMNS, profile_model

# The test extras install PyTorch (tests export modules live); CI's protobuf-4.25 leg does not.
torch = pytest.importorskip("torch", reason="PyTorch exports the modules these tests profile")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TORCH = FIXTURES / "torch"


def _by_name(prof: Any) -> dict[tuple[str, str], Any]:
    return {(r.graph, r.name): r for r in prof.nodes}


def _export(module: torch.nn.Module, args: tuple[Any, ...], path: Path, **kw: Any) -> Path:
    torch.manual_seed(0)
    torch.onnx.export(module.eval(), args, str(path), dynamo=False, opset_version=17, **kw)
    return path


def _ort_shapes(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """Every node output's shape as onnxruntime computes it (all outputs added as graph outputs)."""
    m = onnx.load(str(path))
    known = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in known:
                m.graph.output.add().name = o
                known.add(o)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return {k: tuple(v.shape) for k, v in zip(names, sess.run(names, feeds), strict=True)}


def _textbook(m: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """MACs of every Conv/ConvTranspose/MatMul/Gemm from the shapes onnxruntime computed."""
    inits = {t.name: tuple(t.dims) for t in m.graph.initializer}
    out = {}
    for n in m.graph.node:
        def s(name: str) -> tuple[int, ...]:
            return inits.get(name) or shapes[name]
        y = shapes[n.output[0]]
        if n.op_type == "Conv":   # N x Cout x Hout x Wout x (Cin/groups) x kh x kw
            w = s(n.input[1])
            out[n.name] = math.prod(y) * w[1] * math.prod(w[2:])
        elif n.op_type == "ConvTranspose":  # N x Cin x Hin x Win x (Cout/groups) x kh x kw
            w = s(n.input[1])
            out[n.name] = math.prod(s(n.input[0])) * w[1] * math.prod(w[2:])
        elif n.op_type == "MatMul":
            out[n.name] = math.prod(y) * s(n.input[0])[-1]
        elif n.op_type == "Gemm":
            a = s(n.input[0])
            trans = any(at.name == "transA" and at.i for at in n.attribute)
            out[n.name] = y[0] * y[1] * (a[0] if trans else a[1])
    return out


class _Convs(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.b = torch.nn.Conv2d(8, 8, (3, 5), groups=4, dilation=(2, 1), padding=(2, 1))
        self.c = torch.nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1, groups=2)
        self.d = torch.nn.Conv1d(6, 6, 3, groups=6)
        self.fc = torch.nn.Linear(6 * 10, 5)

    def forward(self, x: Any) -> Any:
        y = self.c(self.b(self.a(x)))           # [N, 6, 16, 10]
        z = self.d(y.mean(2))                   # [N, 6, 8]
        return self.fc(torch.nn.functional.pad(z, (1, 1)).flatten(1)) @ torch.ones(5, 7)


@pytest.mark.parametrize("case", ["convs", "cnn_torchscript", "cnn_dynamo", "attention_torchscript",
                                  "attention_dynamo"])
def test_macs_equal_textbook_formulas_on_onnxruntime_shapes(case: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    if case == "convs":
        path = _export(_Convs(), (torch.randn(2, 4, 16, 14),), tmp_path / "convs.onnx",
                       input_names=["x"], dynamic_axes={"x": {0: "N"}})
        feeds = {"x": rng.standard_normal((3, 4, 16, 14), dtype=np.float32)}
        bind = {"N": 3}
    elif case.startswith("cnn"):
        path = TORCH / f"{case}.onnx"
        feeds = {"x": rng.standard_normal((3, 1, 8, 8), dtype=np.float32)}
        bind = {"batch": 3}
    else:
        path = TORCH / f"{case}.onnx"
        feeds = {"x": rng.standard_normal((3, 7, 8), dtype=np.float32)}
        bind = {"batch": 3, "seq": 7}
    m = onnx.load(str(path))
    expected = _textbook(m, _ort_shapes(path, feeds))
    assert expected, "the model has Conv/ConvTranspose/MatMul/Gemm nodes"
    prof = profile_model(onnxlite.load(path), dims=bind)
    got = {r.name: r.macs for r in prof.nodes if r.graph == "" and r.name in expected}
    assert got == expected
    if case == "convs":
        assert {n.op_type for n in m.graph.node} >= {"Conv", "ConvTranspose", "Gemm", "MatMul"}


@pytest.mark.parametrize("cell,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_macs_are_steps_times_directions_times_cell(cell: str, gates: int, bidirectional: bool,
                                                         tmp_path: Path) -> None:
    seq, batch, inp, hidden, layers = 6, 3, 5, 7, 2
    module = getattr(torch.nn, cell)(inp, hidden, num_layers=layers, bidirectional=bidirectional)
    path = _export(module, (torch.randn(seq, batch, inp),), tmp_path / "rnn.onnx", input_names=["x"])
    prof = profile_model(onnxlite.load(path))
    dirs = 2 if bidirectional else 1
    rows = [r for r in prof.nodes if r.op_type == cell]
    assert len(rows) == layers
    # hand count: per step and direction, batch x gates*H x (I + H); layer 2 reads dirs*H features
    expected = [seq * dirs * batch * gates * hidden * (i + hidden) for i in (inp, dirs * hidden)]
    assert [r.macs for r in rows] == expected
    assert prof.totals.macs == sum(expected)


def test_rnn_macs_symbolic_in_sequence_length(tmp_path: Path) -> None:
    path = _export(torch.nn.LSTM(4, 3), (torch.randn(5, 2, 4),), tmp_path / "lstm.onnx",
                   input_names=["x"], dynamic_axes={"x": {0: "T", 1: "B"}})
    prof = profile_model(onnxlite.load(path))
    assert prof.to_json()["totals"]["macs"] == "84*B*T"   # 4 gates x 3 x (4 + 3)
    assert profile_model(onnxlite.load(path), dims={"T": 10, "B": 2}).totals.macs == 84 * 20


def test_torch_cnn_totals_equal_the_layer_count() -> None:
    # conv: 4 out channels x 8x8 positions x (1 in channel x 3x3); fc: 64 -> 3
    per_image = 4 * 8 * 8 * 1 * 3 * 3 + 64 * 3
    for name in ("cnn_torchscript", "cnn_dynamo"):
        prof = profile_model(onnxlite.load(TORCH / f"{name}.onnx"))
        assert prof.to_json()["totals"]["macs"] == f"{per_image}*batch", name
        bound = profile_model(onnxlite.load(TORCH / f"{name}.onnx"), input_shapes={"x": [5, 1, 8, 8]})
        assert bound.totals.macs == 5 * per_image
    # conv (BatchNorm folded in) and fc weights and biases, and the Reshape's int64[2] shape
    assert profile_model(onnxlite.load(TORCH / "cnn_dynamo.onnx")).totals.params == 4 * 9 + 4 + 64 * 3 + 3 + 2


def test_torch_attention_totals_equal_the_layer_count() -> None:
    dim, heads = 8, 2
    hd = dim // heads
    # per token: qkv dim -> 3*dim, proj dim -> dim; per (query, key) pair and head: QK^T and AV
    for name in ("attention_torchscript", "attention_dynamo"):
        prof = profile_model(onnxlite.load(TORCH / f"{name}.onnx"), dims={"batch": 2, "seq": 5})
        tokens, pairs = 2 * 5, 2 * heads * 5 * 5
        assert prof.totals.macs == tokens * (dim * 3 * dim + dim * dim) + pairs * 2 * hd, name
        sym = profile_model(onnxlite.load(TORCH / f"{name}.onnx")).to_json()["totals"]["macs"]
        assert sym == "16*batch*seq*seq + 256*batch*seq"


def test_functions_are_profiled_per_call() -> None:
    prof = profile_model(onnxlite.load(TORCH / "attention_torchscript.onnx"), dims={"batch": 2, "seq": 5})
    inner = [r for r in prof.nodes if r.graph == "fn:torch.nn.modules.normalization:LayerNorm"]
    assert [(r.op_type, r.flops, r.count) for r in inner] == [("LayerNormalization", 7 * 2 * 5 * 8, 1)]
    call = next(r for r in prof.nodes if r.graph == "" and r.op_type == "LayerNorm")
    assert (call.kind, call.flops, call.params) == ("call", 7 * 2 * 5 * 8, 16)
    assert prof.not_counted == []


LOOP = """<ir_version: 8, opset_import: ["" : 17]>
g (float[N, 4] x, bool c) => (float[N, 4] y, float[N, 4] z) {
  w = Constant <value = float[4, 4] {1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1}> ()
  m = Constant <value = int64 {5}> ()
  y = Loop (m, , x) <body = b (int64 i, bool cin, float[N, 4] h) => (bool cout, float[N, 4] h2) {
      cout = Identity (cin)
      h2 = MatMul (h, w)
  }>
  z = If (c) <then_branch = t () => (float[N, 4] a) { a = MatMul (x, w) },
              else_branch = e () => (float[N, 4] b) { b = Relu (x) }>
}"""


def test_loop_counts_trip_times_body_and_if_takes_the_larger_branch() -> None:
    prof = profile_model(parse_model(LOOP), dims={"N": 3})
    rows = _by_name(prof)
    body = rows[("#2.body", "h2")] if ("#2.body", "h2") in rows else rows[("#2.body", "#1")]
    assert (body.macs, body.count) == (3 * 4 * 4, 5)
    loop = rows[("", "#2")]
    assert (loop.kind, loop.macs) == ("loop", 5 * 48)
    assert rows[("", "#3")].kind == "if" and rows[("", "#3")].macs == 48
    assert prof.totals.macs == 6 * 48
    ops = {d["op_type"]: d for d in prof.to_json()["by_op_type"]}
    assert ops["MatMul"]["macs"] == 6 * 48 and "Relu" not in ops  # the else branch is not in totals
    assert prof.totals.params == 16 + 1  # w counted once though three nodes read it


def test_unknown_trip_count_is_a_symbol_bound_with_dims() -> None:
    text = LOOP.replace("m = Constant <value = int64 {5}> ()", "m = Cast <to = 7> (n)").replace(
        "bool c)", "bool c, int32 n)")
    prof = profile_model(parse_model(text))
    loop = next(r for r in prof.nodes if r.kind == "loop")
    assert prof.to_json()["totals"]["macs"] == "16*N*trips_2 + 16*N"
    assert loop.factor is not None
    assert profile_model(parse_model(text), dims={"N": 1, "trips_2": 4}).totals.macs == 5 * 16


def test_trip_count_computed_from_shapes_is_the_dim() -> None:
    """A Loop over the rows of x (trip count = Shape(x)[0], as exporters write it) runs N times."""
    text = LOOP.replace("m = Constant <value = int64 {5}> ()",
                        "sh = Shape (x)\n  zero = Constant <value = int64 {0}> ()\n  m = Gather (sh, zero)")
    prof = profile_model(parse_model(text))
    assert prof.to_json()["totals"]["macs"] == "16*N*N + 16*N"
    assert profile_model(parse_model(text), dims={"N": 3}).totals.macs == 3 * 48 + 48


def test_if_with_incomparable_symbolic_branches_gives_max() -> None:
    text = """<ir_version: 8, opset_import: ["" : 17]>
g (float[A, K] x, float[K, B] w, float[K, C] v, bool c) => (float[A, D] z) {
  z = If (c) <then_branch = t () => (float[A, B] a) { a = MatMul (x, w) },
              else_branch = e () => (float[A, C] b) { b = MatMul (x, v) }>
}"""
    totals = profile_model(parse_model(text)).to_json()["totals"]
    assert totals["macs"] == "max(A*B*K, A*C*K)"


def test_scan_multiplies_by_the_sequence_length() -> None:
    text = """<ir_version: 8, opset_import: ["" : 17]>
g (float[4] s0, float[T, 4] xs) => (float[4] s, float[T, 4] ys) {
  s, ys = Scan <num_scan_inputs = 1, body = b (float[4] h, float[4] e) => (float[4] h2, float[4] o) {
      h2 = Add (h, e)
      o = Mul (h2, e)
  }> (s0, xs)
}"""
    prof = profile_model(parse_model(text), dims={"T": 9})
    assert prof.totals.flops == 9 * 8
    assert [r.count for r in prof.nodes if r.graph] == [9, 9]


def test_custom_ops_are_listed_not_counted_never_fatal() -> None:
    text = """<ir_version: 8, opset_import: ["" : 17, "com.example" : 1]>
g (float[2, 3] x) => (float[2, 3] y) {
  t = com.example.Mystery (x)
  y = Relu (t)
}"""
    j = profile_model(parse_model(text)).to_json()
    assert j["not_counted"] == [{"name": "#0", "op_type": "Mystery", "domain": "com.example", "graph": "",
                                 "reason": "no cost formula for com.example:Mystery"}]
    assert j["nodes"][0]["macs"] is None and j["totals"]["flops"] == 6


def test_weight_bytes_as_stored_packed_types_and_matmulnbits() -> None:
    h = onnx.helper
    g = h.make_graph(
        [h.make_node("Identity", ["q"], ["y"]),
         h.make_node("MatMulNBits", ["a", "b", "scales"], ["z"], domain="com.microsoft", K=64, N=16,
                     bits=4, block_size=32)],
        "g", [h.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [2, 64])],
        [h.make_tensor_value_info("y", onnx.TensorProto.INT4, [3, 5]),
         h.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [2, 16])],
        [h.make_tensor("q", onnx.TensorProto.INT4, [3, 5], [1] * 15),
         h.make_tensor("b", onnx.TensorProto.UINT8, [16, 2, 16], [17] * 512),
         h.make_tensor("scales", onnx.TensorProto.FLOAT, [32], [1.0] * 32)])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 21), h.make_opsetid("com.microsoft", 1)])
    prof = profile_model(onnxlite.loads(m.SerializeToString()))
    rows = {r.op_type: r for r in prof.nodes}
    assert (rows["Identity"].params, rows["Identity"].weight_bytes) == (15, 8)  # 4 bits each, rounded up
    nbits = rows["MatMulNBits"]
    assert nbits.macs == 2 * 16 * 64
    assert nbits.weight_bytes == 512 + 32 * 4
    assert nbits.flops == 2 * nbits.macs + 2 * 16 * 64


def test_peak_activation_bytes_follow_liveness() -> None:
    text = """<ir_version: 8, opset_import: ["" : 17]>
g (float[100] x) => (float[100] y) {
  a = Relu (x)
  b = Relu (a)
  c = Relu (b)
  y = Add (c, x)
}"""
    # x lives to the end; at any step at most two intermediates are alive next to it
    assert profile_model(parse_model(text)).peak_activation_bytes == 3 * 400


def test_json_keys_and_csv_columns() -> None:
    prof = profile_model(onnxlite.load(TORCH / "cnn_dynamo.onnx"), dims={"batch": 1})
    j = prof.to_json()
    assert list(j) == ["nodes", "totals", "by_op_type", "by_scope", "peak_activation_bytes", "not_counted"]
    need = {"name", "op_type", "domain", "graph", "macs", "flops", "params", "weight_bytes", "output_bytes"}
    assert all(need <= set(n) for n in j["nodes"])
    assert set(j["totals"]) == need - {"name", "op_type", "domain", "graph"}
    assert all({"op_type", "macs", "flops"} <= set(d) for d in j["by_op_type"])
    rows = list(__import__("csv").reader(io.StringIO(prof.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + len(j["nodes"])
    json.dumps(j)


def test_scopes_from_node_names_and_dynamo_metadata() -> None:
    ts = profile_model(onnxlite.load(TORCH / "cnn_torchscript.onnx"), dims={"batch": 1}).to_json()
    assert {d["scope"]: d["macs"] for d in ts["by_scope"]}["conv"] == 2304
    dyn = profile_model(onnxlite.load(TORCH / "attention_dynamo.onnx"), dims={"batch": 1, "seq": 2})
    scopes = {d["scope"]: d["macs"] for d in dyn.to_json()["by_scope"]}
    assert scopes["qkv"] == 2 * 8 * 24 and scopes["proj"] == 2 * 8 * 8


def test_profile_never_reads_weights(tmp_path: Path) -> None:
    text = """<ir_version: 8, opset_import: ["" : 17]>
g (float[1, 256] x) => (float[1, 256] y) { y = MatMul (x, w) }"""
    m = onnx.parser.parse_model(text)
    w = m.graph.initializer.add(name="w", data_type=1, dims=[256, 256], data_location=1)
    for k, v in {"location": "w.bin", "offset": "0", "length": str(256 * 256 * 4)}.items():
        w.external_data.add(key=k, value=v)
    (tmp_path / "m.onnx").write_bytes(m.SerializeToString())   # w.bin does not even exist
    prof = profile_model(onnxlite.load(tmp_path / "m.onnx"))
    assert (prof.totals.macs, prof.totals.weight_bytes) == (256 * 256, 256 * 256 * 4)
