"""Inference on real exports (tests/fixtures: PyTorch TorchScript and dynamo, onnxscript,
scikit-learn; the example CNN) against what onnxruntime computes: every node output of the main
graph is made a graph output, the model runs on random inputs (every symbolic input dim set to
a size), and each inferred type, its symbols evaluated with those sizes, must not contradict the
real array (the issue's table 2: right / wrong / missing, wrong must be 0)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from corpus import FIXTURES
from infer_scoring import judge

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType

ROOT = Path(__file__).resolve().parent.parent
# The "real_model" fixtures need sizes SIZE does not give (height/width multiples of 4, ...):
# tests/test_infer_real.py scores them, on two size sets they accept.
_REAL = {e["file"] for e in json.loads((FIXTURES / "MANIFEST.json").read_text(encoding="utf-8"))["fixtures"]
         if "real_model" in e["features"]}
MODELS = sorted([*(p for p in (FIXTURES / "torch").glob("*.onnx") if f"torch/{p.name}" not in _REAL),
                 *(FIXTURES / "onnxscript").glob("*.onnx"),
                 FIXTURES / "sklearn" / "scaler_logreg.onnx", ROOT / "tools" / "example" / "tiny_cnn.onnx"])
SIZE = 3  # every symbolic input dim


def _feeds(m: onnx.ModelProto, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    inits = {t.name for t in m.graph.initializer}
    feeds = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else sizes.setdefault(d.dim_param, SIZE)
                 for d in tt.shape.dim]
        dtype = DataType(tt.elem_type).np_dtype
        if dtype == np.bool_:
            feeds[vi.name] = np.asarray(rng.random(shape) < 0.5)
        elif dtype.kind in "iu":
            feeds[vi.name] = rng.integers(0, 2, shape).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_contradiction_with_onnxruntime(path: Path) -> None:
    m = onnx.load(str(path))
    names = [o for n in m.graph.node for o in n.output if o]
    declared_outputs = {o.name for o in m.graph.output}
    probe = onnx.ModelProto()
    probe.CopyFrom(m)
    del probe.graph.value_info[:]
    probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names
                              if n not in declared_outputs)
    sizes: dict[str, int] = {}
    feeds = _feeds(m, sizes)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    outs = [o.name for o in session.get_outputs()]
    real = dict(zip(outs, session.run(None, feeds), strict=True))

    stripped = onnx.ModelProto()
    stripped.CopyFrom(m)
    del stripped.graph.value_info[:]
    result = infer.infer_types(onnxlite.loads(stripped.SerializeToString()))
    types = result.types[""]
    verdicts = {"right": 0, "wrong": 0, "missing": 0}
    wrong = []
    for name, array in real.items():
        if not isinstance(array, np.ndarray) or name not in types:
            continue
        t = types[name]
        if isinstance(t, infer.TensorType) and t.shape is not None:
            t = infer.TensorType(t.dtype, tuple(infer.evaluate(d, sizes) for d in t.shape))
        dtype = DataType.STRING if array.dtype.kind in "OSU" else \
            DataType(onnx.helper.np_dtype_to_tensor_dtype(array.dtype))
        verdict = judge(t, (dtype, array.shape))
        verdicts[verdict] += 1
        if verdict == "wrong":
            real_text = f"{dtype.short_name}{list(array.shape)}"
            wrong.append(f"{name}: inferred {infer.format_type(types[name])}, real {real_text}")
    assert wrong == []
    assert result.contradictions == []
    print(path.name, verdicts)
