"""`onnxlite infer IN OUT`: the report, --json, --input-shape/--dim/--prefer, exit codes, and
external data beside IN staying referenced."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnxlite.cli import main


def _write(path: Path, external: bool = False) -> Path:
    w = numpy_helper.from_array(np.arange(64 * 8, dtype=np.float32).reshape(64, 8), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             helper.make_node("Relu", ["h"], ["y"], name="relu"),
             helper.make_node("Mystery", ["y"], ["z"], name="odd", domain="x.custom")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 9]),
                           helper.make_empty_tensor_value_info("z")], initializer=[w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("x.custom", 1)])
    if external:
        onnx.save(m, str(path), save_as_external_data=True, location="w.bin", size_threshold=0)
    else:
        onnx.save(m, str(path))
    return path


def test_report_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "m.onnx")
    out = tmp_path / "typed.onnx"
    assert main(["infer", str(src), str(out)]) == 0
    text = capsys.readouterr().out
    assert text == (
        "unknown:\n"
        "  Mystery x1: no rule for x.custom.Mystery (opset 1) (first: 'z' of node odd)\n"
        "contradictions:\n"
        "  'y' (node relu): declared float[N,9], inferred float[N,8]\n"
        f"{src}: 2 of 3 values typed (66.7%), 1 unknown, 1 contradiction; wrote {out}\n")
    typed = onnx.load(str(out))
    assert {v.name: v.type.tensor_type.shape.dim[1].dim_value for v in typed.graph.value_info} == {"h": 8}
    assert typed.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 9   # declared is kept
    assert main(["infer", str(src), str(out), "--prefer", "inferred"]) == 0
    assert onnx.load(str(out)).graph.output[0].type.tensor_type.shape.dim[1].dim_value == 8


def test_json_and_bindings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "m.onnx")
    out = tmp_path / "typed.onnx"
    assert main(["infer", str(src), str(out), "--dim", "N=3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("values", "inferred")} == {"values": 3, "inferred": 2}
    assert report["unknown"] == [{"value": "z", "node": "odd", "op_type": "Mystery", "graph": "",
                                  "reason": "no rule for x.custom.Mystery (opset 1)"}]
    assert report["contradictions"] == [{"value": "y", "node": "relu", "graph": "",
                                         "declared": "float[N,9]", "inferred": "float[3,8]"}]  # as written
    typed = onnx.load(str(out))
    assert typed.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"   # inputs stay declared
    assert typed.graph.value_info[0].type.tensor_type.shape.dim[0].dim_value == 3
    assert main(["infer", str(src), str(out), "--input-shape", "x=B,64", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["contradictions"][0]["inferred"] == "float[B,8]"


def test_usage_and_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "m.onnx")
    out = tmp_path / "typed.onnx"
    assert main(["infer", str(src), str(out), "--input-shape", "nope=1,2"]) == 2
    assert "--input-shape names 'nope', which is not a graph input" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["infer", str(src), str(out), "--dim", "N=x"])
    assert e.value.code == 2
    assert "--dim: expected SYMBOL=N" in capsys.readouterr().err
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12")
    assert main(["infer", str(bad), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("onnxlite: error: ") and err.count("\n") == 1
    assert not out.exists()


def test_external_data_beside_in_stays_referenced(tmp_path: Path) -> None:
    src = _write(tmp_path / "m.onnx", external=True)
    before = (tmp_path / "w.bin").read_bytes()
    out = tmp_path / "typed.onnx"
    assert main(["infer", str(src), str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "typed.onnx", "w.bin"]
    assert (tmp_path / "w.bin").read_bytes() == before
    typed = onnx.load(str(out), load_external_data=False)
    assert typed.graph.initializer[0].external_data[0].value == "w.bin"
    assert [v.name for v in typed.graph.value_info] == ["h"]


def test_readme_inference_example_runs(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    blocks = re.findall(r"```python\n(.*?)```", (root / "README.md").read_text(), flags=re.S)
    (block,) = [b for b in blocks if "infer.infer_types(" in b]
    monkeypatch.chdir(root)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out == "float[batch,10]\n[]\n"
