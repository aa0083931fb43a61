"""Scoring inference against the onnx backend node cases (the issue's table 1).

Each case's model is stripped of every graph output type and all value_info (in every graph),
inferred, and each main-graph output is compared with the type of the case's real output data:
right = element type and every dim equal; wrong = a contradiction (element type, rank or a
known dim differs); missing = anything less (no type, no rank, a symbol where the data has a number).
Outputs whose data is a sequence or optional are compared with the model's declared type instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType


@dataclass
class Score:
    right: int = 0
    wrong: int = 0
    missing: int = 0
    wrong_cases: list[str] = field(default_factory=list)
    missing_ops: Counter[str] = field(default_factory=Counter)
    missing_cases: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.missing


def strip(data: bytes) -> bytes:
    """The model without graph output types and value_info, in every graph."""
    m = onnx.ModelProto.FromString(data)
    stack = [m.graph]
    while stack:
        g = stack.pop()
        for o in g.output:
            o.ClearField("type")
        del g.value_info[:]
        for n in g.node:
            for a in n.attribute:
                if a.HasField("g"):
                    stack.append(a.g)
                stack.extend(a.graphs)
    return m.SerializeToString()


def _truth(value: Any) -> tuple[DataType, tuple[int, ...]] | None:
    if isinstance(value, onnx.TensorProto):
        return DataType(value.data_type), tuple(value.dims)
    if isinstance(value, np.ndarray) or np.isscalar(value):
        arr = np.asarray(value)
        if arr.dtype.kind in "OSU":
            return DataType.STRING, arr.shape
        return DataType(onnx.helper.np_dtype_to_tensor_dtype(arr.dtype)), arr.shape
    return None


def judge(inferred: infer.TypeLike | None, truth: tuple[DataType, tuple[int, ...]]) -> str:
    """'right', 'wrong' or 'missing' for a tensor output."""
    dtype, shape = truth
    if not isinstance(inferred, infer.TensorType):
        return "wrong" if inferred is not None else "missing"
    if inferred.dtype is not None and inferred.dtype != dtype:
        return "wrong"
    if inferred.shape is not None:
        if len(inferred.shape) != len(shape):
            return "wrong"
        for d, t in zip(inferred.shape, shape, strict=True):
            if isinstance(d, int) and d != t:
                return "wrong"
    if inferred.dtype == dtype and inferred.shape is not None and tuple(inferred.shape) == shape:
        return "right"
    return "missing"


def judge_declared(inferred: infer.TypeLike | None, declared: Any) -> str:
    """For sequence/optional outputs: compare with the declared TypeProto."""
    if inferred is None:
        return "missing"
    want = infer.from_type_proto(declared, lambda: infer.symbol("?"))
    return _compare(inferred, want)


def _compare(ours: Any, want: Any) -> str:
    """right when ours says at least what the declaration says (a shape where it has none is
    more, not different), wrong when they disagree, missing when ours says less."""
    if want is None:
        return "right" if ours is not None else "missing"
    if ours is None:
        return "missing"
    if type(ours) is not type(want):
        return "wrong"
    if isinstance(want, (infer.SequenceType, infer.OptionalType)):
        return _compare(ours.elem, want.elem)
    if isinstance(want, infer.TensorType):
        if ours.dtype is not None and want.dtype is not None and ours.dtype != want.dtype:
            return "wrong"
        if want.shape is None:
            return "right" if ours.dtype == want.dtype else "missing"
        if ours.shape is not None and len(ours.shape) != len(want.shape):
            return "wrong"
        if ours.dtype == want.dtype and ours.shape is not None and all(
                not isinstance(w, int) or o == w for o, w in zip(ours.shape, want.shape, strict=True)):
            bad = any(isinstance(o, int) and isinstance(w, int) and o != w
                      for o, w in zip(ours.shape, want.shape, strict=True))
            return "wrong" if bad else "right"
        if ours.shape is not None and any(isinstance(o, int) and isinstance(w, int) and o != w
                                          for o, w in zip(ours.shape, want.shape, strict=True)):
            return "wrong"
        return "missing"
    return "right" if ours == want else "missing"


def score_case(case: Any, score: Score) -> None:
    original = onnx.ModelProto.FromString(case.data)
    model = onnxlite.loads(strip(case.data))
    try:
        result = infer.infer_types(model)
    except infer.InferError:
        result = None
    outputs = case.data_sets[0][1] if case.data_sets else []
    by_value = {u.value: u for u in result.unknown} if result is not None else {}
    for k, out in enumerate(original.graph.output):
        t = None
        if result is not None:
            t = result.types.get("", {}).get(out.name)
        truth = _truth(outputs[k]) if k < len(outputs) else None
        verdict = judge(t, truth) if truth is not None else judge_declared(t, out.type)
        if verdict == "right":
            score.right += 1
        elif verdict == "wrong":
            score.wrong += 1
            real = f"{truth[0].short_name}{list(truth[1])}" if truth else "?"
            score.wrong_cases.append(f"{case.id}:{out.name}: inferred {infer.format_type(t)}, real {real}")
        else:
            score.missing += 1
            u = by_value.get(out.name)
            op = u.op_type if u is not None else _producer(original, out.name)
            score.missing_ops[op] += 1
            score.missing_cases.append(f"{case.id}:{out.name}: {infer.format_type(t)}"
                                       f" ({u.reason if u is not None else 'partial'})")


def _producer(m: onnx.ModelProto, name: str) -> str:
    for n in m.graph.node:
        if name in n.output:
            return n.op_type
    return "?"


def score_all(cases: Any) -> Score:
    score = Score()
    for case in cases:
        score_case(case, score)
    return score
