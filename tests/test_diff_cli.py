"""`onnxlite diff`: exit status like diff(1), --json keys, --renames, --weights statistics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import onnxlite
from onnxlite.cli import main
from onnxlite.model import Tensor

FIXTURES = Path(__file__).parent / "fixtures"
CNN = FIXTURES / "torch" / "cnn_dynamo.onnx"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["diff", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _changed_weight(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, str]:
    """cnn_dynamo with one weight perturbed at three elements, and a node and value renamed."""
    model = onnxlite.load(CNN)
    name = next(t.name for t in model.graph.initializers.values() if t.size >= 16)
    t = model.graph.initializers[name]
    old = np.array(t.numpy(), dtype=np.float32)
    new = old.copy()
    flat = new.reshape(-1)
    flat[[0, 3, 7]] += np.array([0.5, -2.0, 1e-3], np.float32)
    t.proto.CopyFrom(Tensor.from_numpy(new, name).proto)
    model.graph.nodes[0].proto.name = "renamed_node"
    path = tmp_path / "b.onnx"
    onnxlite.save(model, path)
    return path, old, new, name


def test_same_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, str(CNN), str(CNN), "--no-color")
    assert (status, err) == (0, "")
    assert out == f"A: {CNN}\nB: {CNN}\nequal: same structure and weights\n"


def test_different_exits_1_with_exact_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b, _old, _new, name = _changed_weight(tmp_path)
    status, out, err = _run(capsys, str(CNN), str(b), "--no-color", "--renames")
    assert (status, err) == (1, "")
    first = onnxlite.load(CNN).graph.nodes[0].name
    shape = list(onnxlite.load(CNN).graph.initializers[name].shape)
    assert out.splitlines() == [
        f"A: {CNN}", f"B: {b}",
        "Initializers: 4 same, 1 changed, 0 added, 0 removed",
        f"  ~ {name} float{shape}",
        "Summary: nodes 5 -> 5, parameters 237 -> 237 (+0), bytes 956 -> 956 (+0)",
        "Renames: 1",
        f"  node {first} -> renamed_node",
    ]


def test_json_keys_and_renames(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b, _old, _new, name = _changed_weight(tmp_path)
    status, out, _ = _run(capsys, str(CNN), str(b), "--json")
    report = json.loads(out)
    assert status == 1
    assert set(report) == {"equal", "header", "signature", "nodes", "initializers", "summary"}
    assert report["equal"] is False
    assert set(report["nodes"]) == {"matched", "added", "removed", "changed", "constants"}
    assert set(report["initializers"]) == {"matched", "added", "removed", "changed"}
    assert [(c["a"], c["b"]) for c in report["initializers"]["changed"]] == [(name, name)]
    assert {"nodes", "ops", "parameters", "bytes", "scopes"} <= set(report["summary"])
    status, out, _ = _run(capsys, str(CNN), str(b), "--json", "--renames")
    renames = json.loads(out)["renames"]
    assert renames == [{"kind": "node", "a": onnxlite.load(CNN).graph.nodes[0].name, "b": "renamed_node",
                        "graph": ""}]


def test_weights_statistics_match_numpy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b, old, new, _name = _changed_weight(tmp_path)
    _, out, _ = _run(capsys, str(CNN), str(b), "--json", "--weights")
    (rec,) = json.loads(out)["initializers"]["changed"]
    delta = np.abs(new.astype(np.float64) - old.astype(np.float64))
    assert rec["differing"] == int(np.count_nonzero(new != old)) == 3
    assert rec["max_abs"] == pytest.approx(float(delta.max()))
    mask = new != old
    assert rec["max_rel"] == pytest.approx(float((delta[mask] / np.abs(old[mask].astype(np.float64))).max()))
    _, out, _ = _run(capsys, str(CNN), str(b), "--json")
    assert "differing" not in json.loads(out)["initializers"]["changed"][0]


def test_trouble_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = _run(capsys, str(tmp_path / "missing.onnx"), str(CNN))
    assert status == 2 and out == ""
    assert err.startswith("onnxlite: error: ") and "missing.onnx" in err and err.count("\n") == 1
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12\xff\xff")
    status, _, err = _run(capsys, str(CNN), str(bad))
    assert status == 2 and "bad.onnx" in err
    with pytest.raises(SystemExit) as e:
        main(["diff", str(CNN)])
    assert e.value.code == 2


def test_inferred_output_types_are_printed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from onnxlite.builder import GraphBuilder

    paths = []
    for perm in ([1, 0], [0, 1]):
        g = GraphBuilder("t", opset=18)
        x = g.input("x", "float32", [2, 8])
        g.output(g.op("Relu", g.op("Transpose", x, name="tr", perm=perm), name="relu"), "float32", None)
        paths.append(tmp_path / f"t{perm[0]}.onnx")
        onnxlite.save(g.model(), paths[-1])
    status, out, _ = _run(capsys, str(paths[0]), str(paths[1]), "--no-color")
    assert status == 1
    assert "  ~ Transpose tr: attributes, output_types\n      perm: [1, 0] -> [0, 1]\n" \
           "      output 0 type: float[8,2] -> float[2,8] (inferred)\n" in out
    status, out, _ = _run(capsys, str(paths[0]), str(paths[1]), "--no-color", "--no-infer")
    assert "  ~ Transpose tr: attributes\n      perm: [1, 0] -> [0, 1]\n" in out
