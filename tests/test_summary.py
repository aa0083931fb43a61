"""onnxlite.summary: the facts behind `onnxlite info`, checked against the onnx package over the
conformance corpus, plus notes, external data and the rendered output on a fixed console."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import corpus
import numpy as np
import onnx
import onnx.helper
import pytest
from rich.console import Console

import onnxlite
from onnxlite import _proto, summary
from onnxlite._storage import io
from onnxlite.cli import _main as cli
from onnxlite.model import Tensor

EXAMPLE = Path(__file__).resolve().parent.parent / "tools" / "example" / "tiny_cnn.onnx"

# --- the oracle: the same facts computed with the onnx package ------------------------------------

_SUB_BYTE_BITS = {
    onnx.TensorProto.INT4: 4, onnx.TensorProto.UINT4: 4, onnx.TensorProto.FLOAT4E2M1: 4,
    onnx.TensorProto.INT2: 2, onnx.TensorProto.UINT2: 2,
    27: 6, 28: 6,  # FLOAT6E2M3, FLOAT6E3M2 (onnx >= 1.23; literal so older onnx imports this)
}
_DEFAULT = ("", "ai.onnx")


def _bits(data_type: int) -> int:
    if data_type in _SUB_BYTE_BITS:
        return _SUB_BYTE_BITS[data_type]
    return int(onnx.helper.tensor_dtype_to_np_dtype(data_type).itemsize * 8)


def _tensor_numel_bytes(t: onnx.TensorProto) -> tuple[int, int]:
    numel = math.prod(t.dims)
    if t.data_type == onnx.TensorProto.STRING:
        return numel, sum(len(s) for s in t.string_data)
    return numel, -(-numel * _bits(t.data_type) // 8)


def _sparse_numel_bytes(s: onnx.SparseTensorProto) -> tuple[int, int]:
    numel, nbytes = _tensor_numel_bytes(s.values)
    if s.indices.data_type:
        nbytes += _tensor_numel_bytes(s.indices)[1]
    return numel, nbytes


def _dim(d: Any) -> Any:
    if d.HasField("dim_value"):
        return d.dim_value
    if d.HasField("dim_param"):
        return d.dim_param
    return None


def _value(v: onnx.ValueInfoProto) -> dict[str, Any]:
    kind = v.type.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        return {"name": v.name, "dtype": None, "shape": None}
    t = getattr(v.type, kind)
    dtype = onnx.TensorProto.DataType.Name(t.elem_type).lower() if t.HasField("elem_type") else None
    shape = [_dim(d) for d in t.shape.dim] if t.HasField("shape") else None
    return {"name": v.name, "dtype": dtype, "shape": shape}


def oracle(m: onnx.ModelProto) -> dict[str, Any]:
    """node_count, op_counts, parameters... as summary.py defines them, computed with onnx."""
    ops: Counter[str] = Counter()
    params = [0, 0]
    constants = 0
    subgraphs = 0

    def add(numel_bytes: tuple[int, int]) -> None:
        params[0] += numel_bytes[0]
        params[1] += numel_bytes[1]

    def nodes(node_list: Any) -> None:
        nonlocal constants, subgraphs
        for n in node_list:
            ops[n.op_type if n.domain in _DEFAULT else f"{n.domain}.{n.op_type}"] += 1
            for a in n.attribute:
                if n.op_type == "Constant" and n.domain in _DEFAULT and not a.ref_attr_name:
                    constants += 1
                    if a.name == "value":
                        add(_tensor_numel_bytes(a.t))
                    elif a.name == "sparse_value":
                        add(_sparse_numel_bytes(a.sparse_tensor))
                    elif a.name in ("value_float", "value_int"):
                        add((1, 4 if a.name == "value_float" else 8))
                    elif a.name in ("value_floats", "value_ints"):
                        values = a.floats if a.name == "value_floats" else a.ints
                        add((len(values), len(values) * (4 if a.name == "value_floats" else 8)))
                    elif a.name == "value_string":
                        add((1, len(a.s)))
                    elif a.name == "value_strings":
                        add((len(a.strings), sum(len(s) for s in a.strings)))
                    else:
                        constants -= 1
                if a.HasField("g"):  # not the type: a reference to a function attribute has none
                    subgraphs += 1
                    graph(a.g)
                for g in a.graphs:
                    subgraphs += 1
                    graph(g)

    def graph(g: onnx.GraphProto) -> None:
        for t in g.initializer:
            add(_tensor_numel_bytes(t))
        for s in g.sparse_initializer:
            add(_sparse_numel_bytes(s))
        nodes(g.node)

    graph(m.graph)
    for f in m.functions:
        nodes(f.node)
    return {
        "ir_version": m.ir_version,
        "opset_import": {o.domain: o.version for o in m.opset_import},
        "inputs": [_value(v) for v in m.graph.input],
        "outputs": [_value(v) for v in m.graph.output],
        "node_count": len(m.graph.node),
        "total_node_count": sum(ops.values()),
        "op_counts": dict(ops),
        "initializer_count": len(m.graph.initializer),
        "sparse_initializer_count": len(m.graph.sparse_initializer),
        "constant_count": constants,
        "subgraph_count": subgraphs,
        "parameter_count": params[0],
        "parameter_bytes": params[1],
    }


def _compared(facts: dict[str, Any]) -> dict[str, Any]:
    out = {key: facts[key] for key in (
        "ir_version", "opset_import", "node_count", "total_node_count", "initializer_count",
        "sparse_initializer_count", "constant_count", "subgraph_count", "parameter_count", "parameter_bytes")}
    out["inputs"] = [{k: v[k] for k in ("name", "dtype", "shape")} for v in facts["inputs"]]
    out["outputs"] = [{k: v[k] for k in ("name", "dtype", "shape")} for v in facts["outputs"]]
    out["op_counts"] = dict(facts["op_counts"])
    return out


_CASES = [c for c in corpus.node_cases()] + list(corpus.fixture_cases())


def _json_of(case: corpus.Case) -> dict[str, Any]:
    if case.path is not None:
        model = onnxlite.load(case.path)
    else:
        model = onnxlite.loads(case.read())
    facts = summary.summarize(model, case.path)
    data = facts.to_dict()
    assert json.loads(json.dumps(data)) == data  # JSON-ready: plain data only
    return data


def test_json_matches_onnx_over_the_corpus() -> None:
    """Every backend node test model and every fixture: the JSON facts equal what onnx says."""
    assert len(_CASES) > 1500
    failures = []
    for case in _CASES:
        expected = oracle(onnx.load_from_string(case.read()))
        got = _compared(_json_of(case))
        if got != expected:
            diff = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
            failures.append(f"{case.id}: {diff}")
    assert not failures, "\n".join(failures[:20])


def test_json_has_the_documented_keys_and_order() -> None:
    data = _json_of(corpus.Case("example", "fixture", path=EXAMPLE))
    for key in ("ir_version", "opset_import", "inputs", "outputs", "node_count", "op_counts",
                "initializer_count", "parameter_count", "parameter_bytes"):
        assert key in data
    assert data["opset_import"] == {"": 21}
    assert data["inputs"] == [{"name": "image", "dtype": "float", "shape": ["batch", 3, 8, 8],
                               "type": "float[batch,3,8,8]", "initializer": False}]
    assert data["op_counts"] == {"Conv": 1, "Flatten": 1, "Gemm": 1, "Relu": 1, "Softmax": 1}
    assert (data["parameter_count"], data["parameter_bytes"]) == (3114, 12456)
    assert data["file_size"] == EXAMPLE.stat().st_size


# --- a hand-built model: subgraphs, functions, external data (one file missing) -------------------

def _tensor(array: np.ndarray, name: str) -> Any:
    return onnxlite.Tensor.from_numpy(array, name).proto


def _vi(parent: Any, name: str, elem: int, dims: list[Any] | None) -> None:
    v = parent.add(name=name)
    t = v.type.tensor_type
    t.elem_type = elem
    if dims is not None:
        t.shape.SetInParent()
        for d in dims:
            if isinstance(d, str):
                t.shape.dim.add(dim_param=d)
            elif d is None:
                t.shape.dim.add()
            else:
                t.shape.dim.add(dim_value=d)


def _external(t: Any, location: str, offset: int, length: int) -> None:
    t.ClearField("raw_data")
    t.data_location = 1
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        t.external_data.add(key=key, value=value)


def build_rich_model(folder: Path) -> Path:
    """x -> If(cond){then: Loop(...){body: Add(x, w)}; else: Identity} -> local.Scale -> y, with
    weights in 'weights.bin' (present) and 'gone.bin' (missing), an unused initializer, a custom
    op, and ai.onnx opset 21 declared with IR version 8."""
    m = _proto.ModelProto(ir_version=8, producer_name="handmade", producer_version="2.0", model_version=3)
    m.doc_string = "A hand-built model.\nSecond line is not shown."
    m.opset_import.add(domain="", version=21)
    m.opset_import.add(domain="local", version=1)
    m.opset_import.add(domain="com.example", version=1)
    m.metadata_props.add(key="author", value="tests")
    g = m.graph
    g.name = "rich"
    _vi(g.input, "x", 1, ["N", 4])
    _vi(g.input, "cond", 9, [])
    _vi(g.input, "w", 1, [4])  # has an initializer: a default, not a real input
    _vi(g.output, "y", 1, ["N", 4])
    _vi(g.output, "z", 16, None)  # bfloat16, unranked
    w = _tensor(np.arange(4, dtype=np.float32), "w")
    big = _tensor(np.zeros((8, 8), np.float16), "big")
    lost = _tensor(np.zeros(3, np.int64), "lost")
    spare = _tensor(np.zeros(5, np.int8), "spare")  # unused
    (folder / "weights.bin").write_bytes(bytes(w.raw_data) + bytes(big.raw_data))
    _external(w, "weights.bin", 0, 16)
    _external(big, "weights.bin", 16, 128)
    _external(lost, "gone.bin", 0, 24)
    g.initializer.extend([w, big, lost, spare])
    const = g.node.add(op_type="Constant", name="k", output=["k"])
    const.attribute.add(name="value_floats", type=6, floats=[1.0, 2.0])
    if_node = g.node.add(op_type="If", name="if", input=["cond"], output=["h"])
    then = if_node.attribute.add(name="then_branch", type=5).g
    then.name = "then"
    loop = then.node.add(op_type="Loop", name="loop", input=["", "cond", "x"], output=["t"])
    body = loop.attribute.add(name="body", type=5).g
    body.name = "body"
    _vi(body.input, "i", 7, [])
    _vi(body.input, "c", 9, [])
    _vi(body.input, "xi", 1, None)
    body.node.add(op_type="Add", input=["xi", "w"], output=["xo"])
    body.node.add(op_type="Identity", input=["c"], output=["co"])
    _vi(body.output, "co", 9, [])
    _vi(body.output, "xo", 1, None)
    _vi(then.output, "t", 1, None)
    other = if_node.attribute.add(name="else_branch", type=5).g
    other.name = "else"
    other.node.add(op_type="Identity", input=["x"], output=["e"])
    _vi(other.output, "e", 1, None)
    g.node.add(op_type="Scale", domain="local", input=["h", "big"], output=["y"])
    g.node.add(op_type="Frob", domain="com.example", input=["y", "lost"], output=["z"])
    f = m.functions.add(name="Scale", domain="local")
    f.input.extend(["a", "b"])
    f.output.append("y")
    f.attribute.append("alpha")
    f.opset_import.add(domain="", version=20)  # differs from the model's 21
    f.node.add(op_type="Mul", input=["a", "a"], output=["y"])
    path = folder / "rich.onnx"
    path.write_bytes(m.SerializeToString())
    return path


RICH_EXPECTED = """\
rich.onnx  ?SIZE?
A hand-built model. ...

Model
  IR version  8
  Opsets      ai.onnx 21, local 1, com.example 1
  Producer    handmade 2.0
  Version     3
  Graph       rich: 4 nodes, 3 subgraphs (nesting depth 2)
  Metadata    author: tests
  Types       6 of 8 node outputs declared, 7 inferred

Inputs (2, and 1 with an initializer as default)
  x     float  [N, 4]
  cond  bool   []

Outputs (2)
  y  float     [N, 4]
  z  bfloat16  (unranked)

Operators: 9 nodes (main graph, subgraphs and functions), 8 op types
  ai.onnx: 7 nodes
  Identity  2    Add       1    Constant  1    If        1    Loop      1    Mul       1
  com.example: 1 node
  Frob  1
  local: 1 node
  Scale  1

Parameters: 78 in 5 tensors, 181 B
  dtype    tensors  elements  bytes
  float16        1        64  128 B
  float          2         6   24 B
  int64          1         3   24 B
  int8           1         5    5 B
  From    4 initializers in the main graph; 1 Constant node; totals include subgraphs and functions
  Stored  13 B in the model file, 168 B in external data

External data (2 files)
  location     tensors  referenced  on disk  status
  weights.bin        2       144 B    144 B  ok
  gone.bin           1        24 B        -  MISSING

Functions (1)
  function     signature              nodes  calls
  local.Scale  <alpha> (a, b) -> (y)      1      1

Notes
  warning opset ai.onnx 21 needs IR version 10 or newer, but the model declares 8
  warning function local.Scale imports opset ai.onnx 20, but the model imports 21
  warning 1 unused initializer (5 bytes): 'spare'
  warning external data 'gone.bin': missing
  note    custom domain 'com.example': 1 node of 1 op type ('Frob'), needing a runtime that
          implements them
"""


def _render(facts: summary.Summary) -> str:
    console = Console(width=100, color_system=None, force_terminal=False)
    return cli.info_text(facts, console)


def test_rendered_info_of_a_model_with_subgraphs_functions_and_external_data(tmp_path: Path) -> None:
    path = build_rich_model(tmp_path)
    facts = summary.summarize(onnxlite.load(path), path, types=True)
    assert facts.types == summary.TypeCoverage(values=8, declared=6, inferred=7)
    size = path.stat().st_size
    on_disk = size + 144
    expected = RICH_EXPECTED.replace("?SIZE?", f"{cli._size(size)}, {cli._size(on_disk)} with external data")
    assert _render(facts) == expected


def test_facts_of_the_hand_built_model(tmp_path: Path) -> None:
    path = build_rich_model(tmp_path)
    facts = summary.summarize(onnxlite.load(path), path)
    assert facts.node_count == 4 and facts.total_node_count == 9
    assert facts.subgraph_count == 3 and facts.max_subgraph_depth == 2
    assert facts.op_counts == {"Identity": 2, "Add": 1, "Constant": 1, "If": 1, "Loop": 1, "Mul": 1,
                               "com.example.Frob": 1, "local.Scale": 1}
    assert [(f.location, f.tensors, f.bytes, f.size, f.status) for f in facts.external_files] == [
        ("weights.bin", 2, 144, 144, "ok"), ("gone.bin", 1, 24, None, "missing")]
    assert facts.external_bytes == 168 and facts.embedded_bytes == 5 + 8
    assert facts.parameters_by_dtype["float"] == summary.DtypeParameters(2, 6, 24)
    assert [f.calls for f in facts.functions] == [1]
    assert [v.name for v in facts.inputs if v.initializer] == ["w"]
    levels = Counter(n.level for n in facts.notes)
    assert levels == {"warning": 4, "info": 1}
    assert facts == summary.summarize(onnxlite.load(path), path)  # deterministic


def test_summarize_reads_no_tensor_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build_rich_model(tmp_path)
    model = onnxlite.load(path, lazy=True)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("summary read tensor data")

    for name in ("numpy", "head", "raw_bytes"):
        monkeypatch.setattr(Tensor, name, refuse)
    monkeypatch.setattr(io, "external_view", refuse)
    monkeypatch.setattr(io, "lazy_view", refuse)
    monkeypatch.setattr(io.DataStore, "external", refuse)
    facts = summary.summarize(model, path)
    assert facts.parameter_bytes == 181


def test_summary_of_a_model_loaded_from_bytes(tmp_path: Path) -> None:
    data = build_rich_model(tmp_path).read_bytes()
    facts = summary.summarize(onnxlite.loads(data))
    assert facts.path is None and facts.file_size is None
    assert [f.location for f in facts.external_files] == ["weights.bin", "gone.bin"]
    for f in facts.external_files:
        assert (f.size, f.status, f.problem) == (None, "unknown", "the model was not loaded from a file")


def test_unsafe_and_short_external_files_are_flagged(tmp_path: Path) -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    a = _tensor(np.zeros(4, np.float32), "a")
    b = _tensor(np.zeros(4, np.float32), "b")
    _external(a, "../outside.bin", 0, 16)
    _external(b, "short.bin", 8, 16)
    (tmp_path / "short.bin").write_bytes(b"\0" * 12)
    m.graph.initializer.extend([a, b])
    m.graph.output.add(name="a")
    m.graph.output.add(name="b")
    path = tmp_path / "m.onnx"
    path.write_bytes(m.SerializeToString())
    facts = summary.summarize(onnxlite.load(path), path)
    found = {f.location: (f.status, f.problem) for f in facts.external_files}
    assert found["../outside.bin"] == ("unsafe", "the location is absolute or climbs out with '..'; "
                                                  "locations must be relative paths inside the model folder")
    assert found["short.bin"] == ("short", "the file has 12 bytes, but a tensor needs bytes up to 24")
    assert [n.message for n in facts.notes] == [
        f"external data '{loc}': {problem}" for loc, (_, problem) in found.items()]
    assert not any("unused" in n.message for n in facts.notes)  # graph outputs count as uses


# --- notes --------------------------------------------------------------------------------------

def _model(ir: int | None, opsets: dict[str, int], ops: list[tuple[str, str]]) -> onnxlite.Model:
    m = _proto.ModelProto()
    if ir is not None:
        m.ir_version = ir
    for domain, version in opsets.items():
        m.opset_import.add(domain=domain, version=version)
    for domain, op in ops:
        m.graph.node.add(op_type=op, domain=domain, output=[op])
    return onnxlite.Model(m)


@pytest.mark.parametrize(("ir", "opsets", "ops", "expected"), [
    (7, {"": 13}, [("", "Relu")], []),
    (6, {"": 13}, [("", "Relu")], ["opset ai.onnx 13 needs IR version 7 or newer, but the model declares 6"]),
    (7, {"ai.onnx.ml": 3}, [("ai.onnx.ml", "Scaler")],
     ["opset 'ai.onnx.ml' 3 needs IR version 8 or newer, but the model declares 7"]),
    (10, {"": 99}, [("", "Relu")], ["opset ai.onnx 99 is newer than the newest known (28)"]),
    (10, {}, [("", "Relu")], ["no opset_import: the model does not say which operator versions it uses"]),
    (None, {"": 21}, [], ["no IR version: consumers may refuse the model"]),
    (10, {"": 21}, [("com.x", "Op"), ("com.x", "Op")],
     ["2 nodes use domain 'com.x', which opset_import does not list",
      "custom domain 'com.x': 2 nodes of 1 op type ('Op'), needing a runtime that implements them"]),
    (10, {"ai.onnx": 21}, [("", "Relu"), ("ai.onnx", "Relu")], []),
    (10, {"": 21, "ai.onnx": 21}, [], ["opset_import lists both '' and its alias 'ai.onnx'"]),
    (99, {"": 21}, [], ["IR version 99 is newer than the newest this onnxlite knows (14)"]),
])
def test_notes(
    ir: int | None, opsets: dict[str, int], ops: list[tuple[str, str]], expected: list[str]
) -> None:
    facts = summary.summarize(_model(ir, opsets, ops))
    assert [n.message for n in facts.notes] == expected


def test_ai_onnx_counts_as_the_default_domain() -> None:
    facts = summary.summarize(_model(10, {"": 21}, [("", "Relu"), ("ai.onnx", "Relu"), ("com.x", "Relu")]))
    assert facts.op_counts == {"Relu": 2, "com.x.Relu": 1}
    assert facts.op_counts_by_domain == {"": {"Relu": 2}, "com.x": {"Relu": 1}}


def test_unused_initializers_see_uses_in_nested_subgraphs() -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    m.graph.initializer.extend([_tensor(np.zeros(2, np.float32), n) for n in ("deep", "unused")])
    node = m.graph.node.add(op_type="If", input=["c"], output=["o"])
    then = node.attribute.add(name="then_branch", type=5).g
    loop = then.node.add(op_type="Loop", input=["", "c"], output=["t"])
    body = loop.attribute.add(name="body", type=5).g
    body.initializer.append(_tensor(np.zeros(1, np.int8), "inner_unused"))
    body.node.add(op_type="Identity", input=["deep"], output=["d"])
    facts = summary.summarize(onnxlite.Model(m))
    messages = [n.message for n in facts.notes]
    assert "1 unused initializer (8 bytes): 'unused'" in messages
    assert any(msg.startswith("1 unused initializer in graph.node[0]") and "'inner_unused'" in msg
               for msg in messages)


def test_bad_tensors_become_notes_not_errors() -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    bad = m.graph.initializer.add(name="bad", data_type=99)
    bad.dims.append(2)
    m.graph.initializer.add(name="neg", data_type=1, dims=[-3])
    facts = summary.summarize(onnxlite.Model(m))
    assert facts.parameter_count == 0
    messages = " | ".join(n.message for n in facts.notes)
    assert "unknown data type 99" in messages and "negative dimension -3" in messages


def test_a_constant_without_a_value_is_noted() -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    m.graph.node.add(op_type="Constant", output=["k"]).attribute.add(name="value")  # no type, no value
    facts = summary.summarize(onnxlite.Model(m))
    assert facts.op_counts == {"Constant": 1} and facts.parameter_count == 0
    assert [n.level for n in facts.notes] == ["warning"]
    assert facts.notes[0].message.startswith("cannot size a Constant: graph.node[0]: attribute 'value'")


def test_deep_nesting_is_walked_without_recursion() -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    graph = m.graph
    for _ in range(3000):
        node = graph.node.add(op_type="If", input=["c"], output=["o"])
        graph = node.attribute.add(name="then_branch", type=5).g
    graph.name = "leaf"
    facts = summary.summarize(onnxlite.Model(m))
    assert facts.op_counts == {"If": 3000} and facts.max_subgraph_depth == 3000


_OPSET_COLUMNS = {"": 2, "ai.onnx.ml": 3, "ai.onnx.training": 4}


def test_opset_table_matches_onnx_release_history() -> None:
    """An opset needs the IR version of the first ONNX release that shipped it (or a later one);
    checked for every opset the installed onnx's release table knows."""
    for domain, column in _OPSET_COLUMNS.items():
        rows = [row for row in onnx.helper.VERSION_TABLE if len(row) > column]
        for version in range(1, max(row[column] for row in rows) + 1):
            expected = next(row[1] for row in rows if row[column] >= version)
            assert summary.min_ir_version(domain, version) == expected, (domain, version)
    latest_ir = _proto.POOL.FindEnumTypeByName("onnx.Version").values_by_name["IR_VERSION"].number
    assert summary.LATEST_IR == latest_ir, "onnx.proto was updated: extend summary.OPSET_MIN_IR"


@corpus.needs_onnx(corpus.ORACLE, "its release table is the one onnxlite's opset table is up to date with")
def test_opset_table_ends_at_the_oracle_release() -> None:
    for domain, column in _OPSET_COLUMNS.items():
        latest = max(row[column] for row in onnx.helper.VERSION_TABLE if len(row) > column)
        assert summary.LATEST_OPSET[domain] == latest
        assert summary.min_ir_version(domain, latest + 1) is None
