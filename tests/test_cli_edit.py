"""The editing commands: rename, extract, remove-unused, toposort, set-version, remove-node.

Each writes OUT atomically and never touches IN; results are checked with onnxlite's own
checker and, where it matters, with onnx.checker and onnxruntime against the original model.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

import onnxlite
from onnxlite import check, cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tools" / "example" / "tiny_cnn.onnx"
EXTERNAL = REPO / "tests" / "fixtures" / "torch" / "external" / "embed_mlp.onnx"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _valid(path: Path) -> onnxlite.Model:
    model = onnxlite.load(path)
    problems = check.check_model(model)
    assert check.is_valid(problems), problems
    return model


def _outputs(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)  # type: ignore[no-any-return]


IMAGE = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)


def test_rename_writes_out_and_never_touches_in(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "in.onnx"
    shutil.copy(EXAMPLE, src)
    before = _digest(src)
    out = tmp_path / "out.onnx"
    code, text, err = run(capsys, "rename", str(src), str(out), "image=pixels", "probs=scores", "r=hidden")
    assert (code, err) == (0, "") and text == f"wrote {out}: 3 values renamed\n"
    assert _digest(src) == before
    model = _valid(out)
    assert [v.name for v in model.graph.inputs] == ["pixels"]
    assert [v.name for v in model.graph.outputs] == ["scores"]
    assert model.graph.nodes[2].inputs == ("hidden",)
    np.testing.assert_allclose(_outputs(out, {"pixels": IMAGE})[0], _outputs(src, {"image": IMAGE})[0])


def test_edit_commands_refuse_out_equal_to_in(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "in.onnx"
    shutil.copy(EXAMPLE, src)
    before = _digest(src)
    for argv in (["rename", str(src), str(src), "r=x"], ["toposort", str(src), str(src)],
                 ["remove-unused", str(src), str(tmp_path / "." / "in.onnx")]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and "OUT" in err and "is IN" in err and err.count("\n") == 1
    assert _digest(src) == before


def test_refused_edit_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    code, text, err = run(capsys, "rename", str(EXAMPLE), str(out), "r=hidden", "c=f")
    assert code == 1 and text == "" and "'f' is already used" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "rename", str(EXAMPLE), str(out), "nonsense")
    assert code == 2 and "expected OLD=NEW" in err


def test_extract_cuts_the_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "part.onnx"
    code, text, err = run(capsys, "extract", str(EXAMPLE), str(out), "--outputs", "logits")
    assert code == 0 and "4 of 5 nodes" in text, err  # logits has no declared type: inferred
    assert [(v.name, str(v.type)) for v in _valid(out).graph.outputs] == [("logits", "float[batch,10]")]
    custom = onnxlite.load(EXAMPLE)
    gemm = custom.proto.graph.node[3]
    gemm.op_type, gemm.domain = "MyGemm", "custom"  # inference cannot type what it computes
    custom.proto.opset_import.add(domain="custom", version=1)
    onnxlite.save(custom, tmp_path / "custom.onnx")
    code, _, err = run(capsys, "extract", str(tmp_path / "custom.onnx"), str(out), "--outputs", "logits")
    assert code == 1 and "--type 'logits=" in err and "inference cannot tell" in err
    code, text, err = run(capsys, "extract", str(EXAMPLE), str(out), "--outputs", "logits",
                          "--type", "logits=float[batch,10]")
    assert code == 0 and "4 of 5 nodes" in text, err
    model = _valid(out)
    assert [n.op_type for n in model.graph.nodes] == ["Conv", "Relu", "Flatten", "Gemm"]
    assert [(v.name, str(v.type)) for v in model.graph.outputs] == [("logits", "float[batch,10]")]
    mid = tmp_path / "mid.onnx"
    code, text, err = run(capsys, "extract", str(EXAMPLE), str(mid), "--inputs", "r", "--type",
                          "r=float[batch,8,6,6]")
    assert code == 0, err
    assert [n.op_type for n in _valid(mid).graph.nodes] == ["Flatten", "Gemm", "Softmax"]
    assert "expected a type, got 'flot'" in usage_error(capsys, "extract", str(EXAMPLE), str(mid),
                                                         "--type", "r=flot[2]")


def test_remove_unused_and_toposort(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = onnxlite.load(EXAMPLE)
    p = model.proto.graph
    dead = p.node.add()
    dead.op_type, dead.name = "Neg", "dead"
    dead.input.append("r")
    dead.output.append("unused_neg")
    reversed_nodes = [type(n)() for n in p.node]
    for copy, n in zip(reversed_nodes, reversed(list(p.node)), strict=True):
        copy.CopyFrom(n)
    del p.node[:]
    p.node.extend(reversed_nodes)
    messy = tmp_path / "messy.onnx"
    onnxlite.save(model, messy)
    assert "topological-order" in {p.code for p in check.check_model(onnxlite.load(messy))}

    sorted_path = tmp_path / "sorted.onnx"
    assert run(capsys, "toposort", str(messy), str(sorted_path))[:2] == (
        0, f"wrote {sorted_path}: 5 nodes moved\n")
    again = tmp_path / "again.onnx"
    assert run(capsys, "toposort", str(sorted_path), str(again))[:2] == (
        0, f"wrote {again}: the nodes were already in order; nothing moved\n")
    # stable: among ready nodes the earliest in the file goes first
    sorted_names = [n.name for n in _valid(sorted_path).graph.nodes]
    assert sorted_names == ["conv", "relu", "dead", "flatten", "fc", "softmax"]
    clean = tmp_path / "clean.onnx"
    code, text, _ = run(capsys, "remove-unused", str(sorted_path), str(clean))
    assert code == 0 and text == f"wrote {clean}: removed 1 node\n  nodes: graph.node[2] 'dead'\n"
    assert [n.name for n in _valid(clean).graph.nodes] == ["conv", "relu", "flatten", "fc", "softmax"]
    np.testing.assert_allclose(_outputs(clean, {"image": IMAGE})[0], _outputs(EXAMPLE, {"image": IMAGE})[0])


def test_set_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "v.onnx"
    code, _, err = run(capsys, "set-version", str(EXAMPLE), str(out), "--opset", "12")
    assert code == 1 and "Softmax changed in opset 13" in err and not out.exists()
    # 21 -> 13: Conv, Relu, Flatten, Gemm and Softmax only changed the types they allow since 13, and
    # the model's float tensors are allowed at 13
    code, text, err = run(capsys, "set-version", str(EXAMPLE), str(out), "--opset", "13")
    assert code == 0 and text == f"wrote {out}: opset ai.onnx 13\n", err
    assert onnxlite.load(out).opset_imports == {"": 13}
    np.testing.assert_allclose(_outputs(out, {"image": IMAGE})[0], _outputs(EXAMPLE, {"image": IMAGE})[0])
    onnx = pytest.importorskip("onnx")
    onnx.checker.check_model(str(out), full_check=True)
    code, text, _ = run(capsys, "set-version", str(EXAMPLE), str(out), "--ir", "11")
    assert code == 0 and "IR version 11" in text and onnxlite.load(out).ir_version == 11
    code, _, err = run(capsys, "set-version", str(EXAMPLE), str(out))
    assert code == 2 and "--opset and/or --ir" in err
    err = usage_error(capsys, "set-version", str(EXAMPLE), str(out), "--opset", "x:y")
    assert "expected [DOMAIN:]N" in err


def test_remove_node_with_rewire(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "norelu.onnx"
    code, _, err = run(capsys, "remove-node", str(EXAMPLE), str(out), "relu")
    assert code == 1 and "is read by" in err and "(--rewire)" in err and "=True" not in err
    code, text, _ = run(capsys, "remove-node", str(EXAMPLE), str(out), "relu", "--rewire")
    assert code == 0 and "1 node removed" in text
    model = _valid(out)
    assert [n.op_type for n in model.graph.nodes] == ["Conv", "Flatten", "Gemm", "Softmax"]
    assert model.graph.nodes[1].inputs == ("c",)


def test_edits_keep_external_data_external(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "renamed.onnx"
    out.parent.mkdir()
    model = onnxlite.load(EXTERNAL)
    old = model.graph.inputs[0].name
    code, _, err = run(capsys, "rename", str(EXTERNAL), str(out), f"{old}=features")
    assert code == 0, err
    renamed = _valid(out)
    assert any(t.is_external for t in renamed.graph.initializers.values())
    for name, tensor in model.graph.initializers.items():
        np.testing.assert_array_equal(renamed.graph.initializers[name].numpy(), tensor.numpy())
    assert sorted(p.name for p in out.parent.iterdir()) == ["embed_mlp.onnx.data", "renamed.onnx"]


def test_cli_errors_say_the_path_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """'bad/: bad: bad is a directory' was the path three times."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for argv in (["remove-node", str(bad), str(tmp_path / "o.onnx"), "relu"],
                 ["convert", str(bad), str(tmp_path / "o.onnx")]):
        code, out, err = run(capsys, *argv)
        assert (code, out, err) == (1, "", f"onnxlite: error: {bad} is a directory\n")
