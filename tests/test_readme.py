"""The README's editing example runs as written (in a temporary folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_building_and_editing_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [b for b in _blocks() if "GraphBuilder(" in b]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    assert os.path.exists("tiny.onnx")
    import onnxlite

    model = onnxlite.load("tiny.onnx")
    assert [n.op_type for n in model.graph.nodes] == ["MatMul", "Sigmoid", "Relu"]
    assert [v.name for v in model.graph.inputs] == ["features"] and model.ir_version == 11
