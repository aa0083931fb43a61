"""Ops that carry a recurrent state between calls (opset 27, https://onnx.ai/onnx/operators/):
CausalConvWithState and LinearAttention, each returning its output and the present state."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, floordiv
from onnxlite.infer._types import TensorType


@register_rule("CausalConvWithState", since=27)
def _causal_conv_with_state(ctx: Context) -> None:
    """output: the input's type (batch, channels, length); present_state: (batch, channels,
    k - 1), k the kernel size, weight being (channels, 1, k)."""
    x = ctx.tensor(0)
    ctx.set_output(0, x)
    w = ctx.tensor(1)
    if x.shape is not None and len(x.shape) != 3:
        ctx.fail(f"input has rank {len(x.shape)}, needs 3")
    if w.shape is not None and len(w.shape) != 3:
        ctx.fail(f"weight has rank {len(w.shape)}, needs 3")
    if x.shape is None or w.shape is None:
        ctx.set_tensor(1, x.dtype, None)
        return
    k = w.shape[2]
    if isinstance(k, int) and k < 1:
        ctx.fail(f"kernel size {k}")
    ctx.set_tensor(1, x.dtype, [x.shape[0], x.shape[1], k - 1])


def _heads(ctx: Context, t: TensorType, heads: int, what: str) -> Dim:
    """The per-head size of a packed (B, T, heads * d) input."""
    assert t.shape is not None
    packed = t.shape[2]
    if isinstance(packed, int) and packed % heads:
        ctx.fail(f"{what}'s last dim {packed} does not split into {heads} heads")
    return floordiv(packed, heads)


@register_rule("LinearAttention", since=27)
def _linear_attention(ctx: Context) -> None:
    """output (B, T, q_num_heads * d_v), present_state (B, kv_num_heads, d_k, d_v), with d_k and
    d_v the per-head sizes of key and value. The state's element type is past_state's; without
    one, the inputs' (what the operator's definition infers, and its reference computes)."""
    q, k, v = ctx.tensor(0), ctx.tensor(1), ctx.tensor(2)
    hq, hkv = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    if not isinstance(hq, int) or not isinstance(hkv, int) or hq < 1 or hkv < 1:
        ctx.fail("q_num_heads and kv_num_heads must be positive")
    if hq % hkv:
        ctx.fail(f"q_num_heads {hq} is not a multiple of kv_num_heads {hkv}")
    for t, what in ((q, "query"), (k, "key"), (v, "value")):
        if t.shape is not None and len(t.shape) != 3:
            ctx.fail(f"{what} has rank {len(t.shape)}, needs 3")
    past = ctx.input_type(3) if ctx.has_input(3) else None
    state_dtype: DataType | None = None
    if isinstance(past, TensorType):
        state_dtype = past.dtype
    elif not ctx.has_input(3):
        state_dtype = q.dtype
    if q.shape is None or v.shape is None:
        ctx.set_tensor(0, q.dtype, None)
    else:
        ctx.set_tensor(0, q.dtype, [q.shape[0], q.shape[1], hq * _heads(ctx, v, hkv, "value")])
    if q.shape is None or k.shape is None or v.shape is None:
        ctx.set_tensor(1, state_dtype, None)
        return
    d_k, d_v = _heads(ctx, k, hkv, "key"), _heads(ctx, v, hkv, "value")
    ctx.set_tensor(1, state_dtype, [q.shape[0], hkv, d_k, d_v])
