"""The ai.onnx.preview domain (https://onnx.ai/onnx/operators/): FlexAttention, whose optional
score_mod and prob_mod bodies are inferred on the (B, Hq, L, S) scores in the softmax precision."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim
from onnxlite.infer._types import TensorType


@register_rule("FlexAttention", domain="ai.onnx.preview")
def _flex_attention(ctx: Context) -> None:
    """Q (B, Hq, L, E), K (B, Hkv, S, E), V (B, Hkv, S, Ev) -> Y (B, Hq, L, Ev) of Q's type."""
    q, k, v = ctx.tensor(0), ctx.tensor(1), ctx.tensor(2)
    for t, what in ((q, "Q"), (k, "K"), (v, "V")):
        if t.shape is not None and len(t.shape) != 4:
            ctx.fail(f"{what} has rank {len(t.shape)}, needs 4")
    dtype = q.dtype if q.dtype is not None else k.dtype if k.dtype is not None else v.dtype
    y: list[Dim] | None = None
    if q.shape is not None and v.shape is not None:
        y = [q.shape[0], q.shape[1], q.shape[2], v.shape[3]]
    ctx.set_tensor(0, dtype, y)
    # the modifier bodies see the scores: (B, Hq, L, S) in the softmax precision
    precision = ctx.attr("softmax_precision")
    soft: DataType | None
    if precision is not None:
        try:
            soft = DataType(int(precision))
        except ValueError:
            ctx.fail(f"softmax_precision {precision!r} is not a data type")
    elif dtype is None:
        soft = None
    else:
        soft = DataType.DOUBLE if dtype == DataType.DOUBLE else DataType.FLOAT
    scores = TensorType(soft, None if q.shape is None or k.shape is None
                        else (q.shape[0], q.shape[1], q.shape[2], k.shape[2]))
    for name in ("score_mod", "prob_mod"):
        if ctx.attr(name) is not None:
            ctx.infer_subgraph(name, [scores])
