"""Inference over the onnx backend node cases (the issue's table 1), and against onnx's own
inference as an oracle. `tools/bench_infer.py --coverage` prints the same numbers with the
op types still missing."""

from __future__ import annotations

import warnings

import onnx
import onnx.shape_inference
from corpus import ORACLE, needs_onnx, node_cases
from infer_scoring import judge, score_all, strip

import onnxlite
from onnxlite import infer

pytestmark = needs_onnx(ORACLE, "the node cases the floor was measured on")

#: Raised as coverage grows (measured: see tools/bench_infer.py --coverage).
RIGHT_FLOOR = 1987  # of 2321 outputs (85.6%), onnx 1.23.2 (test_loop11 res_scan: symbolic slice bounds are
#                    clamped to the dim, so x[i:i+1] with i the iteration symbol is min(5, i + 1) - min(5, i))


def test_node_cases_zero_wrong_and_right_floor() -> None:
    """Strip output types and value_info, infer, compare with the real output data: no output
    may be contradicted, and at least RIGHT_FLOOR are exactly right."""
    score = score_all(node_cases())
    assert score.wrong_cases == []
    assert score.right >= RIGHT_FLOOR, f"right {score.right} < floor {RIGHT_FLOOR}"


def _onnx_types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    g = model.graph
    return {v.name: v.type for v in (*g.value_info, *g.output) if v.HasField("type")}


def test_never_contradicts_onnx_where_it_knows_everything() -> None:
    """Wherever onnx's infer_shapes (data_prop=True) gives a tensor a fully known type (element
    type and every dim a number), ours must not contradict it (value_info and outputs)."""
    problems = []
    for case in node_cases():
        stripped = strip(case.data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = onnx.shape_inference.infer_shapes(onnx.ModelProto.FromString(stripped),
                                                           data_prop=True)
        except Exception:  # noqa: BLE001 - no oracle for this case
            continue
        try:
            ours = infer.infer_types(onnxlite.loads(stripped))
        except infer.InferError:
            continue
        types = ours.types.get("", {})
        for name, tp in _onnx_types(theirs).items():
            if tp.WhichOneof("value") != "tensor_type" or not tp.tensor_type.HasField("shape"):
                continue
            dims = tp.tensor_type.shape.dim
            if not tp.tensor_type.elem_type or any(d.WhichOneof("value") != "dim_value" for d in dims):
                continue
            truth = (onnxlite.DataType(tp.tensor_type.elem_type), tuple(d.dim_value for d in dims))
            if name in types and judge(types[name], truth) == "wrong":
                problems.append(f"{case.id}:{name}: ours {infer.format_type(types[name])}, onnx {truth}")
    assert problems == []
