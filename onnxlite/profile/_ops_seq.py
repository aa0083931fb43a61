"""Formulas of the sequence ops: LSTM/GRU/RNN (per time step x sequence length x directions) and
attention (Attention, MultiHeadAttention, GroupQueryAttention: QK^T and AV)."""

from __future__ import annotations

from onnxlite.infer import Dim, floordiv
from onnxlite.profile._formulas import Cost, NotCounted, OpView, add, mul, numel, register_formula

# gates per cell, and elementwise FLOPs per hidden unit per step without / with bias adds
_RNN = {"LSTM": (4, 9, 8), "GRU": (3, 7, 6), "RNN": (1, 1, 2)}


@register_formula(["LSTM", "GRU", "RNN"])
def _rnn(op: OpView) -> Cost:
    """Per time step and direction: batch x gates*H x (I + H) MACs (the input and the recurrent
    matmuls); x seq_length x num_directions. FLOPs: 2 x MACs + batch x H x E per step and
    direction, E the cell's elementwise work (LSTM 9, GRU 7, RNN 1; + 2 per gate with bias B)."""
    gates, base, with_bias = _RNN[op.op_type]
    xs, ws = op.shape(0), op.shape(1)
    if len(xs) != 3 or len(ws) != 3:
        raise NotCounted("X and W must have rank 3")
    seq, batch = (xs[1], xs[0]) if op.attr("layout", 0) else (xs[0], xs[1])
    dirs, gh, i_size = ws
    hidden = op.attr("hidden_size")
    h: Dim = hidden if isinstance(hidden, int) else floordiv(gh, gates)
    steps = mul(seq, dirs)
    macs = mul(mul(steps, batch), mul(mul(gates, h), add(i_size, h)))
    e = base + (with_bias if op.has_input(3) else 0)
    flops = add(mul(2, macs), mul(mul(steps, batch), mul(h, e)))
    return Cost(macs, flops)


def _attention_cost(q_rows: Dim, qk_width: Dim, v_width: Dim, kv_len: Dim, scores: Dim) -> Cost:
    """QK^T: q_rows x kv_len x qk_width; AV: q_rows x kv_len x v_width (rows count batch x
    sequence; widths are per-head sizes x heads). FLOPs: 2 x MACs + 5 per score (scale, and the
    softmax's max-subtract, exp, sum, divide)."""
    macs = add(mul(mul(q_rows, kv_len), qk_width), mul(mul(q_rows, kv_len), v_width))
    return Cost(macs, add(mul(2, macs), mul(5, scores)))


def _kv_len(op: OpView, key: int, past: int, present_out: int, seq_axis_4d: int = 2) -> Dim:
    if present_out < len(op.proto.output) and op.proto.output[present_out]:
        try:
            ps = op.out_shape(present_out)
            if len(ps) == 4:
                return ps[2]
        except NotCounted:
            pass
    ks = op.shape(key)
    length = ks[seq_axis_4d] if len(ks) == 4 else ks[1]
    if op.has_input(past):
        pk = op.shape(past)
        if len(pk) == 4:
            length = add(length, pk[2])
    return length


@register_formula("Attention")
def _attention(op: OpView) -> Cost:
    """ai.onnx Attention (opset 23): Q [B,Hq,S,E] or [B,S,Hq*E], K/V [B,Hkv,L,E]/[B,L,Hkv*E]."""
    qs, ys = op.shape(0), op.out_shape(0)
    length = _kv_len(op, 1, 4, 1)
    rows = floordiv(numel(qs), qs[-1])
    if len(qs) == 4:
        return _attention_cost(rows, qs[-1], ys[-1], length, mul(rows, length))
    heads = op.attr("q_num_heads")
    if not isinstance(heads, int):
        raise NotCounted("3-D Attention without q_num_heads")
    return _attention_cost(rows, qs[-1], ys[-1], length, mul(mul(rows, heads), length))


@register_formula("MultiHeadAttention", domain="com.microsoft")
def _mha(op: OpView) -> Cost:
    qs, ys = op.shape(0), op.out_shape(0)
    heads = op.attr("num_heads")
    if not isinstance(heads, int) or len(qs) != 3 or not op.has_input(1):
        raise NotCounted("only the unpacked form (query [B,S,D], key, value, num_heads) is counted")
    length = _kv_len(op, 1, 6, 1)
    rows = floordiv(numel(qs), qs[-1])
    return _attention_cost(rows, qs[-1], ys[-1], length, mul(mul(rows, heads), length))


@register_formula("GroupQueryAttention", domain="com.microsoft")
def _gqa(op: OpView) -> Cost:
    qs, ys = op.shape(0), op.out_shape(0)
    heads = op.attr("num_heads")
    if not isinstance(heads, int) or len(qs) != 3 or not op.has_input(1):
        raise NotCounted("only the unpacked form (query [B,S,D], key, value, num_heads) is counted")
    length = _kv_len(op, 1, 3, 1)
    rows = floordiv(numel(qs), qs[-1])
    return _attention_cost(rows, ys[-1], ys[-1], length, mul(mul(rows, heads), length))


@register_formula("Attention", domain="com.microsoft")
def _ms_attention(op: OpView) -> Cost:
    """com.microsoft Attention: the QKV projection input [B,S,Din] x weights [Din, Dq+Dk+Dv]
    plus the attention itself over S (+ past) positions."""
    xs, ws, ys = op.shape(0), op.shape(1), op.out_shape(0)
    heads = op.attr("num_heads")
    if len(xs) != 3 or len(ws) != 2 or not isinstance(heads, int):
        raise NotCounted("needs input [B,S,D], weights [D, 3D] and num_heads")
    rows = mul(xs[0], xs[1])
    proj = mul(mul(rows, ws[0]), ws[1])
    sizes = op.attr("qkv_hidden_sizes")
    dq: Dim = sizes[0] if sizes else floordiv(ws[1], 3)
    length: Dim = xs[1]
    if op.has_input(4):
        past = op.shape(4)
        if len(past) == 5:
            length = add(length, past[3])
    attn = _attention_cost(rows, dq, ys[-1], length, mul(mul(rows, heads), length))
    flops = add(attn.flops, mul(2, proj))
    if op.has_input(2):
        flops = add(flops, mul(rows, ws[1]))
    return Cost(add(attn.macs, proj), flops)
