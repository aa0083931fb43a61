"""Attention (ai.onnx, opset 23+): Y, present_key, present_value and qk_matmul_output, with 3-D
or 4-D Q/K/V and an optional KV cache (https://onnx.ai/onnx/operators/onnx__Attention.html)."""

from __future__ import annotations

from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, floordiv


def _heads(ctx: Context, name: str) -> int:
    v = ctx.attr(name)
    if v is None or int(v) <= 0:
        ctx.fail(f"3-D inputs need a positive '{name}'")
    return int(v)


def _split(ctx: Context, hidden: Dim, heads: int, what: str) -> Dim:
    if isinstance(hidden, int) and hidden % heads:
        ctx.fail(f"{what} hidden size {hidden} is not a multiple of {heads} heads")
    return floordiv(hidden, heads)


@register_rule("Attention", since=23)
def _attention(ctx: Context) -> None:
    """4-D: Q [B, Hq, S, D], K [B, Hkv, L, D], V [B, Hkv, L, Dv] -> Y [B, Hq, S, Dv];
    3-D: Q [B, S, Hq*D], K [B, L, Hkv*D], V [B, L, Hkv*Dv] -> Y [B, S, Hq*Dv].
    present_key [B, Hkv, P+L, D], present_value [B, Hkv, P+L, Dv] (P: past length),
    qk_matmul_output [B, Hq, S, P+L]."""
    q, k, v = ctx.tensor(0), ctx.tensor(1), ctx.tensor(2)
    qs, ks, vs = ctx.shape(0), ctx.shape(1), ctx.shape(2)
    if len(qs) != len(ks) or len(qs) != len(vs) or len(qs) not in (3, 4):
        ctx.fail(f"Q, K and V have ranks {len(qs)}, {len(ks)}, {len(vs)}: all 3 or all 4 expected")
    batch = qs[0]
    if len(qs) == 4:
        q_heads, q_len, kv_heads, kv_len = qs[1], qs[2], ks[1], ks[2]
        head, v_head = ks[3], vs[3]
        if isinstance(qs[3], int):
            head = qs[3]
        y = [batch, q_heads, q_len, v_head]
    else:
        hq, hkv = _heads(ctx, "q_num_heads"), _heads(ctx, "kv_num_heads")
        q_heads, kv_heads, q_len, kv_len = hq, hkv, qs[1], ks[1]
        head = _split(ctx, qs[2], hq, "Q")
        v_head = _split(ctx, vs[2], hkv, "V")
        y = [batch, q_len, hq * v_head]
    ctx.set_tensor(0, q.dtype, y)
    total: Dim | None = kv_len
    if ctx.has_input(4):
        past = ctx.input_type(4)
        pshape = getattr(past, "shape", None)
        total = None if pshape is None or len(pshape) != 4 else pshape[2] + kv_len
    if total is None:
        total = ctx.fresh()
    if ctx.num_outputs > 1:
        ctx.set_tensor(1, k.dtype, [batch, kv_heads, total, head])
        ctx.set_tensor(2, v.dtype, [batch, kv_heads, total, v_head])
    ctx.set_tensor(3, q.dtype, [batch, q_heads, q_len, total])
