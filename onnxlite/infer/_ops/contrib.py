"""com.microsoft float operators that transformer exports carry (onnxruntime's transformer
optimizer and the GenAI model builder): attention, fused normalizations, Gelu variants, fused
and block-quantized matmuls, fused convolutions, and the embedding layer. Written from
onnxruntime's ContribOperators.md (each op's schema), one rule per op (all are version 1).

Where a size depends on data (a tensor's values, not its shape) it gets a fresh symbol."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import matmul_shape
from onnxlite.infer._ops._window import read_window, window_out
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, floordiv

MS = "com.microsoft"


def shape_or_none(ctx: Context, i: int) -> tuple[Dim, ...] | None:
    t = ctx.input_type(i)
    return getattr(t, "shape", None)


def exact_div(ctx: Context, a: Dim, b: int) -> Dim:
    """a / b where the spec says b divides a."""
    if b <= 0:
        ctx.fail(f"division of a size by {b}")
    if isinstance(a, int) and a % b:
        ctx.fail(f"size {a} is not a multiple of {b}")
    return floordiv(a, b)


# --- element-wise ------------------------------------------------------------------------------


@register_rule(["Gelu", "FastGelu", "QuickGelu", "RotaryEmbedding", "BiasAdd"], domain=MS)
def _like_x(ctx: Context) -> None:
    """Y: X's type and shape (FastGelu's bias and BiasAdd's bias/skip are per-channel)."""
    ctx.set_output(0, ctx.tensor(0))


@register_rule("BiasGelu", domain=MS)
def _bias_gelu(ctx: Context) -> None:
    """C: A + B broadcast (B is 1-D over the last dim)."""
    a, b = ctx.tensor(0), ctx.input_type(1)
    bshape = getattr(b, "shape", None)
    shape = None if a.shape is None or bshape is None else ctx.broadcast(a.shape, bshape)
    ctx.set_tensor(0, a.dtype, shape)


@register_rule("BiasSplitGelu", domain=MS)
def _bias_split_gelu(ctx: Context) -> None:
    """Y: [N, S, D/2]: the input, bias added, split in two halves along D."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    if len(x.shape) != 3:
        ctx.fail(f"input has rank {len(x.shape)}, 3 expected")
    ctx.set_tensor(0, x.dtype, [*x.shape[:2], exact_div(ctx, x.shape[2], 2)])


# --- normalizations ----------------------------------------------------------------------------


def _stat_shape(ctx: Context, xs: tuple[Dim, ...] | None, axis: int) -> list[Dim] | None:
    if xs is None:
        return None
    axis = ctx.normalize_axis(axis, len(xs))
    return [*xs[:axis], *[1] * (len(xs) - axis)]


@register_rule(["SkipLayerNormalization", "SkipSimplifiedLayerNormalization"], domain=MS)
def _skip_layer_norm(ctx: Context) -> None:
    """output and input_skip_bias_sum: input's type; mean and inv_std_var: float, the input's
    shape with the hidden (last) dim 1."""
    x = ctx.tensor(0)
    ctx.set_output(0, x)
    stat = _stat_shape(ctx, x.shape, -1)
    ctx.set_tensor(1, DataType.FLOAT, stat)
    ctx.set_tensor(2, DataType.FLOAT, stat)
    ctx.set_output(3, x)


@register_rule("SimplifiedLayerNormalization", since=1)
@register_rule("SimplifiedLayerNormalization", domain=MS)
def _simplified_layer_norm(ctx: Context) -> None:
    """Y: X's shape, scale's element type (V); inv_std_var: stash_type (float by default) with
    the normalized dims (axis..) set to 1. onnxruntime registers it in the default domain."""
    x = ctx.tensor(0)
    scale = ctx.input_type(1)
    ctx.set_tensor(0, getattr(scale, "dtype", None), x.shape)
    if ctx.num_outputs > 1:
        stash = DataType(int(ctx.attr("stash_type", 1)))
        ctx.set_tensor(1, stash, _stat_shape(ctx, x.shape, int(ctx.attr("axis", -1))))


@register_rule("EmbedLayerNormalization", domain=MS)
def _embed_layer_norm(ctx: Context) -> None:
    """output and embedding_sum: [B, S, hidden] of the embeddings' type (hidden =
    word_embedding's dim 1); mask_index: int32 [B]."""
    ids = ctx.shape(0)
    if len(ids) != 2:
        ctx.fail(f"input_ids has rank {len(ids)}, 2 expected")
    word = ctx.tensor(2)
    hidden: Dim = word.shape[1] if word.shape is not None and len(word.shape) == 2 else ctx.fresh()
    out = [ids[0], ids[1], hidden]
    ctx.set_tensor(0, word.dtype, out)
    ctx.set_tensor(1, DataType.INT32, [ids[0]])
    ctx.set_tensor(2, word.dtype, out)


# --- matmuls -----------------------------------------------------------------------------------


@register_rule("FusedMatMul", domain=MS)
def _fused_matmul(ctx: Context) -> None:
    """alpha * op(A) x op(B), op transposing the last two dims when transA/transB is set."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    dtype = a.dtype if a.dtype is not None else b.dtype
    if a.shape is None or b.shape is None or ctx.attr("transBatchA", 0) or ctx.attr("transBatchB", 0):
        ctx.set_tensor(0, dtype, None)
        return
    sa, sb = list(a.shape), list(b.shape)
    if ctx.attr("transA", 0) and len(sa) >= 2:
        sa[-2], sa[-1] = sa[-1], sa[-2]
    if ctx.attr("transB", 0) and len(sb) >= 2:
        sb[-2], sb[-1] = sb[-1], sb[-2]
    ctx.set_tensor(0, dtype, matmul_shape(ctx, sa, sb))


@register_rule("MatMulNBits", domain=MS)
def _matmul_nbits(ctx: Context) -> None:
    """Y: A's dims but the last, then N; A's type."""
    a = ctx.tensor(0)
    n = int(ctx.attr("N", 0))
    if n <= 0:
        ctx.fail("attribute N must be positive")
    ctx.set_tensor(0, a.dtype, None if a.shape is None else [*a.shape[:-1], n])


@register_rule("MatMulInteger16", domain=MS)
def _matmul_integer16(ctx: Context) -> None:
    """int16 x int16 -> int32 (the type onnxruntime implements); other pairings: type unknown."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    dtype = DataType.INT32 if a.dtype == b.dtype == DataType.INT16 else None
    shape = None if a.shape is None or b.shape is None else matmul_shape(ctx, list(a.shape), list(b.shape))
    ctx.set_tensor(0, dtype, shape)


@register_rule("DynamicQuantizeMatMul", domain=MS)
def _dynamic_quantize_matmul(ctx: Context) -> None:
    """Y: float, matmul(A, B)'s shape."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    shape = None if a.shape is None or b.shape is None else matmul_shape(ctx, list(a.shape), list(b.shape))
    ctx.set_tensor(0, DataType.FLOAT, shape)


# --- convolutions ------------------------------------------------------------------------------


def conv_spatial(ctx: Context, spatial_in: list[Dim], w_shape: tuple[Dim, ...] | None) -> list[Dim]:
    """The output spatial sizes of a convolution with weight [M, C/group, k...]."""
    n = len(spatial_in)
    ks = ctx.attr("kernel_shape")
    kernel: list[int] | None = [int(k) for k in ks] if ks else None
    if kernel is None and w_shape is not None and len(w_shape) == n + 2:
        dims = [d for d in w_shape[2:] if isinstance(d, int)]
        kernel = dims if len(dims) == n else None
    if kernel is None:
        return ctx.fresh_dims(n)
    win = read_window(ctx, n, kernel)
    return [window_out(ctx, win, i, spatial_in[i]) for i in range(n)]


def _out_channels(ctx: Context, w_index: int) -> Dim:
    w = shape_or_none(ctx, w_index)
    return w[0] if w else ctx.fresh()


@register_rule("FusedConv", domain=MS)
def _fused_conv(ctx: Context) -> None:
    """Conv (NCHW) followed by an activation: [N, M, out...]."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    spatial = conv_spatial(ctx, list(xs[2:]), shape_or_none(ctx, 1))
    ctx.set_tensor(0, x.dtype, [xs[0], _out_channels(ctx, 1), *spatial])


@register_rule("NhwcConv", domain=MS)
def _nhwc_conv(ctx: Context) -> None:
    """Conv on channels-last data: X [N, D..., C], W [M, C/group, k...] -> [N, out..., M]."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    spatial = conv_spatial(ctx, list(xs[1:-1]), shape_or_none(ctx, 1))
    ctx.set_tensor(0, x.dtype, [xs[0], *spatial, _out_channels(ctx, 1)])


# --- attention ---------------------------------------------------------------------------------


def _heads(ctx: Context, name: str = "num_heads") -> int:
    n = int(ctx.attr(name, 0))
    if n <= 0:
        ctx.fail(f"attribute {name} must be positive")
    return n


@register_rule("Attention", domain=MS)
def _attention(ctx: Context) -> None:
    """output [B, S, v_hidden]; present [2, B, heads, past + S, head_size] (with
    past_present_share_buffer: past's shape). v_hidden is qkv_hidden_sizes[2], else a third of
    the weights' dim 1."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"input has rank {len(xs)}, 3 expected")
    heads = _heads(ctx)
    sizes = ctx.attr("qkv_hidden_sizes")
    w = shape_or_none(ctx, 1)
    v_hidden: Dim | None = None
    qk_hidden: Dim | None = None
    if sizes:
        if len(sizes) != 3:
            ctx.fail(f"qkv_hidden_sizes has {len(sizes)} values, 3 expected")
        qk_hidden, v_hidden = int(sizes[0]), int(sizes[2])
    elif w is not None and len(w) == 2:
        qk_hidden = v_hidden = exact_div(ctx, w[1], 3)
    ctx.set_tensor(0, x.dtype, [xs[0], xs[1], v_hidden if v_hidden is not None else ctx.fresh()])
    if ctx.num_outputs < 2:
        return
    past = shape_or_none(ctx, 4)
    if ctx.attr("past_present_share_buffer", 0):
        ctx.set_tensor(1, x.dtype, past)
        return
    head: Dim = exact_div(ctx, qk_hidden, heads) if qk_hidden is not None else ctx.fresh()
    if ctx.has_input(4):
        if past is None:
            return
        if len(past) != 5:
            ctx.fail(f"past has rank {len(past)}, 5 expected")
        total: Dim = past[3] + xs[1]
    else:
        total = xs[1]
    ctx.set_tensor(1, x.dtype, [2, xs[0], heads, total, head])


@register_rule("MultiHeadAttention", domain=MS)
def _multi_head_attention(ctx: Context) -> None:
    """output [B, S, v_hidden]; present_key/value [B, heads, past + kv_len, head_size]; qk
    [B, heads, S, total]. Query is [B, S, hidden] or packed QKV [B, S, heads, 3, head]; key
    [B, L, hidden], packed KV [B, L, heads, 2, head] or already [B, heads, L, head]."""
    q = ctx.tensor(0)
    qs = ctx.shape(0)
    heads = _heads(ctx)
    ks, vs = shape_or_none(ctx, 1), shape_or_none(ctx, 2)
    kv_len: Dim | None = None
    head_k: Dim | None = None
    v_hidden: Dim | None = None
    if len(qs) == 5:  # packed QKV
        b, s = qs[0], qs[1]
        head_k = qs[4]
        v_hidden = heads * qs[4]
        kv_len = s
    elif len(qs) == 3:
        b, s = qs[0], qs[1]
        if ctx.has_input(1) and ks is not None:
            if len(ks) == 5:  # packed KV
                kv_len, head_k, v_hidden = ks[1], ks[4], heads * ks[4]
            elif len(ks) == 3:
                kv_len, head_k = ks[1], exact_div(ctx, ks[2], heads)
            elif len(ks) == 4:
                kv_len, head_k = ks[2], ks[3]
        elif not ctx.has_input(1):
            kv_len, head_k = s, exact_div(ctx, qs[2], heads)
        if v_hidden is None and ctx.has_input(2) and vs is not None:
            if len(vs) == 3:
                v_hidden = vs[2]
            elif len(vs) == 4:
                v_hidden = heads * vs[3]
    else:
        ctx.fail(f"query has rank {len(qs)}, 3 or 5 expected")
    ctx.set_tensor(0, q.dtype, [b, s, v_hidden if v_hidden is not None else ctx.fresh()])
    if ctx.num_outputs < 2:
        return
    past_k = shape_or_none(ctx, 6)
    total: Dim | None = kv_len
    if ctx.has_input(6):
        total = past_k[2] + kv_len if past_k is not None and len(past_k) == 4 and kv_len is not None else None
    head_v = floordiv(v_hidden, heads) if v_hidden is not None else None
    if ctx.has_input(8):  # buffer sharing: present keeps past's (max) length
        total = past_k[2] if past_k is not None and len(past_k) == 4 else None
    if total is not None and head_k is not None:
        ctx.set_tensor(1, q.dtype, [b, heads, total, head_k])
    if total is not None and head_v is not None:
        ctx.set_tensor(2, q.dtype, [b, heads, total, head_v])
    if ctx.num_outputs > 3 and total is not None:
        ctx.set_tensor(3, q.dtype, [b, heads, s, total])


@register_rule("GroupQueryAttention", domain=MS)
def _group_query_attention(ctx: Context) -> None:
    """output [B, S, heads * head_size]; present_key/value [B, kv_heads, P, head_size] of the
    past's type, P depending on total_sequence_length's value and the cache layout (a fresh
    symbol unless past's length equals it by buffer sharing: we never claim it)."""
    q = ctx.tensor(0)
    qs = ctx.shape(0)
    if len(qs) != 3:
        ctx.fail(f"query has rank {len(qs)}, 3 expected")
    heads, kv_heads = _heads(ctx), _heads(ctx, "kv_num_heads")
    if ctx.has_input(1):
        head = exact_div(ctx, qs[2], heads)
        hidden = qs[2]
    else:  # packed QKV: d = (heads + 2 * kv_heads) * head_size
        head = exact_div(ctx, qs[2], heads + 2 * kv_heads)
        hidden = heads * head
    ctx.set_tensor(0, q.dtype, [qs[0], qs[1], hidden])
    if ctx.num_outputs < 2:
        return
    for k, past_i in ((1, 3), (2, 4)):
        past = ctx.input_type(past_i)
        dtype = getattr(past, "dtype", None) if ctx.has_input(past_i) else q.dtype
        ps = getattr(past, "shape", None)
        last = ps[3] if ps is not None and len(ps) == 4 else head  # 4-bit caches pack two per byte
        ctx.set_tensor(k, dtype, [qs[0], kv_heads, ctx.fresh(), last])


@register_rule("DynamicQuantizeLSTM", domain=MS)
def _dynamic_quantize_lstm(ctx: Context) -> None:
    """Y [seq, dirs, batch, hidden], Y_h and Y_c [dirs, batch, hidden] (float); hidden from the
    attribute or R's dim 1, dirs 2 when bidirectional."""
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"X has rank {len(xs)}, 3 expected")
    direction = ctx.attr("direction", "forward")
    dirs = 2 if direction == "bidirectional" else 1
    hidden = ctx.attr("hidden_size")
    r = shape_or_none(ctx, 2)
    h: Dim = int(hidden) if hidden is not None else (r[1] if r is not None and len(r) == 3 else ctx.fresh())
    ctx.set_tensor(0, DataType.FLOAT, [xs[0], dirs, xs[1], h])
    ctx.set_tensor(1, DataType.FLOAT, [dirs, xs[1], h])
    ctx.set_tensor(2, DataType.FLOAT, [dirs, xs[1], h])


@register_rule("MatMulBnb4", domain=MS)
def _matmul_bnb4(ctx: Context) -> None:
    """Y: A's type, A's dims but the last, then N (transB, the default) or K."""
    a = ctx.tensor(0)
    size = int(ctx.attr("N", 0) if ctx.attr("transB", 1) else ctx.attr("K", 0))
    if size <= 0:
        ctx.fail("attributes K and N must be positive")
    ctx.set_tensor(0, a.dtype, None if a.shape is None else [*a.shape[:-1], size])


# --- com.microsoft.nchwc: the CPU session's blocked layout (ORT_ENABLE_ALL) --------------------
# Written from the schemas in onnxruntime's nchwc_schema_defs.cc. A blocked tensor is
# [N, C_padded, spatial...]: channels rounded up to the CPU's block size (8 or 16, found at run
# time: not in the model).

NCHWC = "com.microsoft.nchwc"
_MAX_BLOCK = 16  # the widest block MLAS uses; a multiple of it is a multiple of every block


@register_rule("ReorderInput", domain=NCHWC)
def _reorder_input(ctx: Context) -> None:
    """[N, C, D...] (or [N, D..., C] with channels_last) -> [N, C rounded up to the block, D...]."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 2:
        ctx.fail(f"input has rank {len(xs)}, at least 2 expected")
    last = bool(ctx.attr("channels_last", 0))
    c = xs[-1] if last else xs[1]
    spatial = list(xs[1:-1]) if last else list(xs[2:])
    blocked: Dim = c if isinstance(c, int) and c % _MAX_BLOCK == 0 else ctx.fresh()
    ctx.set_tensor(0, x.dtype, [xs[0], blocked, *spatial])


@register_rule("ReorderOutput", domain=NCHWC)
def _reorder_output(ctx: Context) -> None:
    """[N, C_padded, D...] -> [N, channels, D...] (or [N, D..., channels] with channels_last)."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 2:
        ctx.fail(f"input has rank {len(xs)}, at least 2 expected")
    channels = int(ctx.attr("channels", 0))
    if channels <= 0:
        ctx.fail("attribute channels must be positive")
    if ctx.attr("channels_last", 0):
        ctx.set_tensor(0, x.dtype, [xs[0], *xs[2:], channels])
    else:
        ctx.set_tensor(0, x.dtype, [xs[0], channels, *xs[2:]])


@register_rule("Conv", domain=NCHWC)
def _nchwc_conv(ctx: Context) -> None:
    """Conv on blocked data (optionally fused with an activation and a Sum input):
    [N, M, out...], M = the (padded) weight's dim 0."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    spatial = conv_spatial(ctx, list(xs[2:]), shape_or_none(ctx, 1))
    ctx.set_tensor(0, x.dtype, [xs[0], _out_channels(ctx, 1), *spatial])


@register_rule(["MaxPool", "AveragePool"], domain=NCHWC)
def _nchwc_pool(ctx: Context) -> None:
    """[N, C, out...] per kernel_shape (required), strides, pads, dilations, ceil_mode."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    ctx.set_tensor(0, x.dtype, [xs[0], xs[1], *pool_spatial(ctx, list(xs[2:]))])


def pool_spatial(ctx: Context, spatial: list[Dim]) -> list[Dim]:
    """The output sizes of a pooling window (kernel_shape required; strides, pads, dilations,
    ceil_mode) over ``spatial``: the nchwc pools and NhwcMaxPool."""
    kernel = ctx.attr("kernel_shape")
    if not kernel:
        ctx.fail("kernel_shape is required")
    win = read_window(ctx, len(spatial), [int(k) for k in kernel])
    ceil_mode = bool(ctx.attr("ceil_mode", 0))
    return [window_out(ctx, win, i, d, ceil_mode) for i, d in enumerate(spatial)]


@register_rule(["GlobalMaxPool", "GlobalAveragePool"], domain=NCHWC)
def _nchwc_global_pool(ctx: Context) -> None:
    """[N, C, 1...]."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    ctx.set_tensor(0, x.dtype, [xs[0], xs[1], *[1] * (len(xs) - 2)])


@register_rule("Upsample", domain=NCHWC)
def _nchwc_upsample(ctx: Context) -> None:
    """Each dim times its (integer) scale; without scales the shape is unknown."""
    x = ctx.tensor(0)
    scales = ctx.attr("scales")
    if x.shape is None or not scales:
        ctx.set_tensor(0, x.dtype, None if x.shape is None else ctx.fresh_dims(len(x.shape)))
        return
    if len(scales) != len(x.shape) or any(int(s) <= 0 for s in scales):
        ctx.fail(f"scales {list(scales)} do not fit rank {len(x.shape)}")
    ctx.set_tensor(0, x.dtype, [d * int(s) for d, s in zip(x.shape, scales, strict=True)])
