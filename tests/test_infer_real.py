"""Inference measured on real exported models (issue 11, measurement 2): every PyTorch (TorchScript
and dynamo), scikit-learn and onnxscript fixture, value_info stripped and the dynamic dims left
symbolic, against what onnxruntime computes on random inputs of two size sets (every main-graph
node output fetched). The rules of the score are in tests/infer_real_scoring.py: right = element
type and every dim equal once the symbols are evaluated (a symbol stands for one size across the
graph), wrong = a contradiction, missing = unknown. `tools/bench_infer.py --real` prints the table
with onnx's C++ inference scored the same way.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from corpus import FIXTURES
from infer_real_scoring import Prepared, RealScore, prepare, real_models, score

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType
from onnxlite.infer import TensorType, parse_dim

MODELS = real_models()

# What onnxlite leaves (partly) unknown, by model: a regression adds to this, a fix removes from it.
# tf2onnx numbers the names it makes from a counter that moves run to run ("Slice__2772"): compared
# as "Slice__N".
_COUNTER = re.compile(r"__\d+")
KNOWN_MISSING: dict[str, set[str]] = {
    # tf.math.unsorted_segment_sum: the number of segments is Unique's count of the ids (data)
    **dict.fromkeys(("tf/tf_tensor_ops_opset13.onnx", "tf/tf_tensor_ops_opset17.onnx"), {
        "UnsortedSegmentSum_Unique__N:0", "UnsortedSegmentSum_Unique__N:3", "ConstantOfShape__N:0",
        "ScatterND__N:0", "Gather__N:0"}),
    # tf.image.non_max_suppression: how many boxes are kept depends on the data
    **dict.fromkeys(("tf/tf_image_ops_opset13.onnx", "tf/tf_image_ops_opset17.onnx"), {
        "NonMaxSuppression__N:0", "Slice__N:0", "Squeeze__N:0", "nms"}),
    # Keras RNNs behind Masking become a tf.while Loop without a trip count (cond: time < steps):
    # its scan outputs get a fresh length; min(1, length) of the last-step Slice stays unknown.
    # Knowable by reading the loop condition (not done).
    "tf/keras_bilstm_opset15.onnx": {"Slice__N:0"},
}
# Graph outputs whose exporter declares a type the computation contradicts (onnxruntime computes the
# inferred one and warns "Expected shape from model of {...} does not match actual shape"): onnxlite
# must report them, and go on with what the model computes.
KNOWN_CONTRADICTIONS: dict[str, set[str]] = {
    "mltools/catboost_regressor.onnx": {"predictions"},  # declared [N], computed [N, 1]
    "mltools/lightgbm_binary.onnx": {"label"},           # declared [1], computed [N]
    "mltools/lightgbm_multiclass.onnx": {"label"},       # declared [1], computed [N]
}
RIGHT_FLOOR = 0.99  # share of all scored node outputs that must be right (issue 11's target)


def _id(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


@functools.cache
def _prepared(path: Path) -> Prepared:
    return prepare(path, _id(path))


def _score(path: Path) -> tuple[RealScore, infer.Inference]:
    p = _prepared(path)
    result = infer.infer_types(onnxlite.loads(p.data))
    reasons = {u.value: f"{u.op_type}: {u.reason}" for u in result.unknown if u.graph == ""}
    return score(p, result.types[""], lambda name: reasons.get(name, "")), result


def test_corpus_has_the_real_models() -> None:
    """The measurement covers every exporter and model family tools/make_fixtures.py writes."""
    names = {_id(p) for p in MODELS}
    for stem in ("resnet", "mobilenet", "unet", "yolo_head", "gpt_kv", "bert", "vit", "rnn", "slicing",
                 "windows"):
        assert {f"torch/{stem}_torchscript.onnx", f"torch/{stem}_dynamo.onnx"} <= names
    assert "torch/script_rnn_torchscript.onnx" in names
    assert {n for n in names if "_opset" in n and n.startswith("torch/")} == {
        "torch/bert_torchscript_opset11.onnx", "torch/mobilenet_torchscript_opset9.onnx",
        "torch/rnn_torchscript_opset9.onnx", "torch/unet_torchscript_opset11.onnx",
        "torch/yolo_head_torchscript_opset11.onnx"}
    assert len(MODELS) >= 39


@pytest.mark.parametrize("path", MODELS, ids=_id)
def test_real_model_inferred_as_onnxruntime_computes(path: Path) -> None:
    s, result = _score(path)
    assert s.wrong_cases == []
    assert {c.value for c in result.contradictions} == KNOWN_CONTRADICTIONS.get(_id(path), set())
    missing = {_COUNTER.sub("__N", c.split(":", 1)[1].split(" (", 1)[0]) for c in s.missing_cases}
    assert missing == KNOWN_MISSING.get(_id(path), set()), s.missing_cases
    assert s.total == len(_prepared(path).outputs) > 0


def test_right_share_over_all_real_models() -> None:
    total = RealScore()
    for path in MODELS:
        total.add(_score(path)[0])
    assert total.wrong == 0
    assert total.right / total.total >= RIGHT_FLOOR, (total.right, total.total)


# --- the scoring rules can fail ---------------------------------------------------------------------

def _fake(real: dict[str, object], sizes: dict[str, int] | None = None) -> Prepared:
    runs = [(sizes or {"N": 2}, real), ({k: v + 1 for k, v in (sizes or {"N": 2}).items()},
                                         {k: _grow(v) for k, v in real.items()})]
    return Prepared("fake", b"", [(name, "Op") for name in real], runs)


def _grow(v: object) -> object:
    # the second run: dim 0 one larger (as if N were one larger), other dims unchanged
    assert isinstance(v, np.ndarray)
    return np.zeros((v.shape[0] + 1, *v.shape[1:]), v.dtype)


def tt(dtype: str, *dims: int | str) -> TensorType:
    return TensorType(DataType[dtype.upper()], tuple(parse_dim(d) if isinstance(d, str) else d for d in dims))


def test_scoring_rules() -> None:
    real = {"a": np.zeros((2, 3), np.float32), "b": np.zeros((2, 3), np.float32)}
    assert score(_fake(real), {"a": tt("float", "N", 3), "b": tt("float", "N", 3)}).right == 2
    assert score(_fake(real), {"a": tt("float", "N", 4), "b": None}).wrong_cases == [
        "fake:a (Op): inferred float[N,4], real float[2, 3]"]
    assert score(_fake(real), {"a": tt("int64", "N", 3), "b": tt("float", "N")}).wrong == 2
    # a symbol the inputs do not define: right when it stands for one size everywhere...
    assert score(_fake(real), {"a": tt("float", "unk_0", 3), "b": tt("float", "unk_0", 3)}).right == 2
    # ...wrong when it stands for two sizes in one run
    clash = {"a": np.zeros((2, 3), np.float32), "b": np.zeros((3, 3), np.float32)}
    assert score(_fake(clash), {"a": tt("float", "unk_0", 3), "b": tt("float", "unk_0", 3)}).wrong == 2
    # ...and missing where the real size is the same number in both runs (3 was knowable)
    s = score(_fake(real), {"a": tt("float", "N", "unk_1"), "b": tt("float", "N", "unk_1 + 0")})
    assert (s.right, s.missing) == (0, 2)
    # an expression over input symbols is evaluated with each run's sizes
    double = {"a": np.zeros((4, 3), np.float32)}
    assert score(_fake(double, {"N": 2}), {"a": tt("float", "2*N", 3)}).wrong == 1  # 2nd run: 6 vs 5
    assert score(_fake(double, {"N": 2}), {"a": tt("float", "N + 2", 3)}).right == 1
    # a dim over a symbol nothing binds, and an unknown rank: missing
    s = score(_fake(real), {"a": tt("float", "N", "2*unk_9"), "b": TensorType(DataType.FLOAT, None)})
    assert s.missing == 2


# --- regressions found by the measurement ------------------------------------------------------------

EXPAND_MINUS_ONE = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[N, 4, 8] x, float[1, 1, 8] cls) => (y) {
  sh = Shape(x)
  zero = Constant<value = int64 {0}>()
  n = Gather<axis = 0>(sh, zero)
  axes = Constant<value = int64[1] {0}>()
  n1 = Unsqueeze(n, axes)
  minus1 = Constant<value = int64[1] {-1}>()
  target = Concat<axis = 0>(n1, minus1, minus1)
  tsh = Shape(target)
  ones = ConstantOfShape<value = int64[1] {1}>(tsh)
  m1 = Constant<value = int64 {-1}>()
  minus = Mul(ones, m1)
  is_minus = Equal(target, minus)
  fixed = Where(is_minus, ones, target)
  y = Expand(cls, fixed)
}"""


def test_expand_with_minus_one_sizes_as_torchscript_writes_it() -> None:
    """TorchScript's cls.expand(x.shape[0], -1, -1): Equal(sizes, -1) then Where. A size is never
    -1, so Equal(N, -1) is False and the Expand target is [N, 1, 1] (found in vit_torchscript)."""
    model = onnxlite.parse_model(EXPAND_MINUS_ONE)
    r = infer.infer_types(model)
    assert r.value_of("is_minus") == infer.Known((3,), (False, True, True))
    assert r.type_of("y") == tt("float", "N", 1, 8)
    session = ort.InferenceSession(onnxlite.dumps(model), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": np.zeros((5, 4, 8), np.float32), "cls": np.ones((1, 1, 8), np.float32)})
    assert y.shape == (5, 1, 8)


COMPARE_SIZES = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[N, M] x) => (lt, ge, eq, gt, le) {
  sh = Shape(x)
  one = Constant<value = int64[2] {1, 1}>()
  plus = Add(sh, one)
  neg = Constant<value = int64[2] {-1, -2}>()
  lt = Less(sh, neg)
  ge = GreaterOrEqual(sh, neg)
  eq = Equal(plus, sh)
  gt = Greater(plus, sh)
  le = LessOrEqual(sh, plus)
}"""


@pytest.mark.parametrize(("name", "expected"), [
    ("lt", (False, False)), ("ge", (True, True)), ("eq", (False, False)), ("gt", (True, True)),
    ("le", (True, True)),
])
def test_comparisons_of_sizes_use_their_sign(name: str, expected: tuple[bool, ...]) -> None:
    r = infer.infer_types(onnxlite.parse_model(COMPARE_SIZES))
    assert r.value_of(name) == infer.Known((2,), expected)


def test_comparison_of_sizes_unknown_when_the_sign_is() -> None:
    """N < M, N == M: either can hold; nothing is claimed."""
    m = onnxlite.parse_model("""
<ir_version: 8, opset_import: ["" : 17]>
g (float[N, M] x) => (lt, eq, ge0) {
  sh = Shape(x)
  a = Constant<value = int64 {0}>()
  b = Constant<value = int64 {1}>()
  n = Gather(sh, a)
  m = Gather(sh, b)
  lt = Less(n, m)
  eq = Equal(n, m)
  zero = Constant<value = int64 {0}>()
  ge0 = Greater(n, zero)
}""")
    r = infer.infer_types(m)
    assert r.value_of("lt") is None and r.value_of("eq") is None
    assert r.value_of("ge0") is None  # N may be 0
