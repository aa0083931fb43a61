"""com.microsoft quantized operators: QuantizeLinear/DequantizeLinear, the QLinear* family
(8-bit data with per-tensor scales and zero points), QGemm, the QOrdered* family (int8 in
cublasLt layouts), and what onnxruntime's quantizer and session optimizer emit for quantized
transformers and CNNs (QAttention, QEmbedLayerNormalization, MatMulIntegerToFloat,
NhwcMaxPool). Written from onnxruntime's ContribOperators.md; all are version 1."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import matmul_shape
from onnxlite.infer._ops.contrib import conv_spatial, exact_div, pool_spatial, shape_or_none
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim

MS = "com.microsoft"


@register_rule("QuantizeLinear", domain=MS)
def _quantize(ctx: Context) -> None:
    """y: x's shape, y_zero_point's type (uint8 when it is omitted)."""
    x = ctx.tensor(0)
    ctx.set_tensor(0, ctx.dtype(2) if ctx.has_input(2) else DataType.UINT8, x.shape)


@register_rule("DequantizeLinear", domain=MS)
def _dequantize(ctx: Context) -> None:
    """y: x's shape, x_scale's type."""
    x = ctx.tensor(0)
    ctx.set_tensor(0, ctx.dtype(1), x.shape)


@register_rule(["QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"], domain=MS)
def _qlinear_unary(ctx: Context) -> None:
    """Y: X's type and shape."""
    ctx.set_output(0, ctx.tensor(0))


@register_rule(["QLinearAdd", "QLinearMul"], domain=MS)
def _qlinear_binary(ctx: Context) -> None:
    """Inputs A, A_scale, A_zero_point, B, ...: C is A's type, A and B broadcast."""
    a, b = ctx.tensor(0), ctx.tensor(3)
    shape = None if a.shape is None or b.shape is None else ctx.broadcast(a.shape, b.shape)
    ctx.set_tensor(0, a.dtype, shape)


@register_rule("QLinearWhere", domain=MS)
def _qlinear_where(ctx: Context) -> None:
    """Inputs condition, X, x_scale, x_zp, Y, y_scale, y_zp, z_scale, z_zp: Z has z_zero_point's
    type and the broadcast shape of condition, X and Y."""
    shapes = [shape_or_none(ctx, i) for i in (0, 1, 4)]
    known = [s for s in shapes if s is not None]
    shape = ctx.broadcast(*known) if len(known) == 3 else None
    ctx.set_tensor(0, ctx.dtype(8), shape)


@register_rule("QLinearConcat", domain=MS)
def _qlinear_concat(ctx: Context) -> None:
    """Inputs Y_scale, Y_zero_point, then (tensor, scale, zero point) per input: the tensors
    concatenated along axis, of Y_zero_point's type."""
    dtype = ctx.dtype(1)
    n = ctx.num_inputs - 2
    if n <= 0 or n % 3:
        ctx.fail(f"{n} inputs after Y_scale and Y_zero_point, a multiple of 3 expected")
    shapes = [shape_or_none(ctx, 2 + 3 * k) for k in range(n // 3)]
    if any(s is None for s in shapes):
        ctx.set_tensor(0, dtype, None)
        return
    first = shapes[0]
    assert first is not None
    axis = ctx.normalize_axis(int(ctx.attr("axis", 0)), len(first))
    out = list(first)
    total: Dim = 0
    for s in shapes:
        assert s is not None
        if len(s) != len(first):
            ctx.fail("inputs differ in rank")
        total = total + s[axis]
        for k, d in enumerate(s):
            if k != axis and isinstance(d, int) and isinstance(out[k], int) and d != out[k]:
                ctx.fail(f"inputs differ at axis {k}: {out[k]} and {d}")
            if k != axis and isinstance(d, int):
                out[k] = d
    out[axis] = total
    ctx.set_tensor(0, dtype, out)


def _layout(ctx: Context, xs: tuple[Dim, ...]) -> tuple[Dim, Dim, list[Dim], bool]:
    """(N, C, spatial dims, channels_last) of a pooling or convolution input."""
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    last = bool(ctx.attr("channels_last", 0))
    if last:
        return xs[0], xs[-1], list(xs[1:-1]), True
    return xs[0], xs[1], list(xs[2:]), False


def _assemble(n: Dim, c: Dim, spatial: list[Dim], last: bool) -> list[Dim]:
    return [n, *spatial, c] if last else [n, c, *spatial]


@register_rule("QLinearGlobalAveragePool", domain=MS)
def _qlinear_global_average_pool(ctx: Context) -> None:
    """Y: N and C kept, every spatial dim 1 (channels first or last)."""
    x = ctx.tensor(0)
    n, c, spatial, last = _layout(ctx, ctx.shape(0))
    ctx.set_tensor(0, x.dtype, _assemble(n, c, [1] * len(spatial), last))


@register_rule("QLinearAveragePool", domain=MS)
def _qlinear_average_pool(ctx: Context) -> None:
    """Y: N and C kept, spatial dims per the window (ceil_mode, pads, auto_pad)."""
    x = ctx.tensor(0)
    n, c, spatial, last = _layout(ctx, ctx.shape(0))
    ctx.set_tensor(0, x.dtype, _assemble(n, c, pool_spatial(ctx, list(spatial)), last))


@register_rule("QLinearConv", domain=MS)
def _qlinear_conv(ctx: Context) -> None:
    """Inputs x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B: y has y_zero_point's type,
    a convolution's shape (channels first, or last with channels_last)."""
    dtype = ctx.dtype(7)
    n, _c, spatial, last = _layout(ctx, ctx.shape(0))
    w = shape_or_none(ctx, 3)
    m: Dim = w[0] if w else ctx.fresh()
    ctx.set_tensor(0, dtype, _assemble(n, m, conv_spatial(ctx, spatial, w), last))


@register_rule("QLinearReduceMean", domain=MS)
def _qlinear_reduce_mean(ctx: Context) -> None:
    """reduced: data's type; the axes removed, or kept as 1 with keepdims."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    axes = ctx.attr("axes")
    keep = int(ctx.attr("keepdims", 1))
    chosen = set(range(len(xs))) if not axes else {ctx.normalize_axis(int(a), len(xs)) for a in axes}
    out: list[Dim] = []
    for k, d in enumerate(xs):
        if k not in chosen:
            out.append(d)
        elif keep:
            out.append(1)
    ctx.set_tensor(0, x.dtype, out)


@register_rule("QGemm", domain=MS)
def _qgemm(ctx: Context) -> None:
    """Y [M, N]: y_zero_point's type when given (quantized output), else float."""
    a, b = ctx.tensor(0), ctx.tensor(3)
    dtype = ctx.dtype(8) if ctx.has_input(8) else DataType.FLOAT
    if a.shape is None or b.shape is None:
        ctx.set_tensor(0, dtype, None)
        return
    if len(a.shape) != 2 or len(b.shape) != 2:
        ctx.fail("A and B must be 2-D")
    m = a.shape[1] if ctx.attr("transA", 0) else a.shape[0]
    n = b.shape[0] if ctx.attr("transB", 0) else b.shape[1]
    ctx.set_tensor(0, dtype, [m, n])


# --- QOrdered* (int8, cublasLt layouts; onnxruntime runs them on CUDA only) --------------------


@register_rule(["QOrderedGelu", "QOrderedLayerNormalization", "QOrderedLongformerAttention"], domain=MS)
def _qordered_like_x(ctx: Context) -> None:
    """Y: int8 of X's shape (the layout order does not change the logical shape)."""
    ctx.set_tensor(0, DataType.INT8, ctx.tensor(0).shape)


@register_rule("QOrderedMatMul", domain=MS)
def _qordered_matmul(ctx: Context) -> None:
    """Y: int8, A's dims but the last, then B's column count. Which of B's dims that is depends
    on how order_B lays B out (the spec leaves it open), so it is a fresh symbol."""
    a = ctx.tensor(0)
    if a.shape is None:
        ctx.set_tensor(0, DataType.INT8, None)
        return
    ctx.set_tensor(0, DataType.INT8, [*a.shape[:-1], ctx.fresh()])


@register_rule("QOrderedAttention", domain=MS)
def _qordered_attention(ctx: Context) -> None:
    """output: int8 [B, S, hidden], hidden = V_weight's dim 1."""
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"input has rank {len(xs)}, 3 expected")
    v = shape_or_none(ctx, 7)
    hidden: Dim = v[1] if v is not None and len(v) == 2 else ctx.fresh()
    ctx.set_tensor(0, DataType.INT8, [xs[0], xs[1], hidden])



# --- what onnxruntime's quantizer and session optimizer emit for transformers -------------------


def _float_of(ctx: Context, *indices: int) -> DataType | None:
    """The element type of the first of ``indices`` (scales, biases: the op's float type T) that
    is known."""
    for i in indices:
        t = ctx.input_type(i) if ctx.has_input(i) else None
        dtype = getattr(t, "dtype", None)
        if dtype is not None:
            return dtype  # type: ignore[no-any-return]
    return None


@register_rule("QAttention", domain=MS)
def _qattention(ctx: Context) -> None:
    """Inputs input, weight, bias, input_scale, weight_scale, mask_index, input_zero_point,
    weight_zero_point, past: output [B, S, hidden] and present [2, B, heads, past + S, head]
    of the scales' float type (T3); hidden is a third of weight's dim 1 (bias's dim 0)."""
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"input has rank {len(xs)}, 3 expected")
    heads = int(ctx.attr("num_heads", 0))
    if heads <= 0:
        ctx.fail("attribute num_heads must be positive")
    dtype = _float_of(ctx, 3, 2)
    w, bias = shape_or_none(ctx, 1), shape_or_none(ctx, 2)
    hidden: Dim | None = None
    if w is not None and len(w) == 2:
        hidden = exact_div(ctx, w[1], 3)
    elif bias is not None and len(bias) == 1:
        hidden = exact_div(ctx, bias[0], 3)
    ctx.set_tensor(0, dtype, [xs[0], xs[1], hidden if hidden is not None else ctx.fresh()])
    if ctx.num_outputs < 2:
        return
    total: Dim = xs[1]
    if ctx.has_input(8):
        past = shape_or_none(ctx, 8)
        if past is None or len(past) != 5:
            return
        total = past[3] + xs[1]
    head: Dim = exact_div(ctx, hidden, heads) if hidden is not None else ctx.fresh()
    ctx.set_tensor(1, dtype, [2, xs[0], heads, total, head])


@register_rule("QEmbedLayerNormalization", domain=MS)
def _qembed_layer_norm(ctx: Context) -> None:
    """layernorm_out: float [B, S, hidden] (hidden = word_embedding_quant's dim 1);
    mask_index_out: int32 [B]."""
    ids = ctx.shape(0)
    if len(ids) != 2:
        ctx.fail(f"input_ids has rank {len(ids)}, 2 expected")
    word = shape_or_none(ctx, 2)
    hidden: Dim = word[1] if word is not None and len(word) == 2 else ctx.fresh()
    ctx.set_tensor(0, DataType.FLOAT, [ids[0], ids[1], hidden])
    ctx.set_tensor(1, DataType.INT32, [ids[0]])


@register_rule("MatMulIntegerToFloat", domain=MS)
def _matmul_integer_to_float(ctx: Context) -> None:
    """Inputs A, B, a_scale, b_scale, ...: Y has a_scale's float type (T3) and matmul(A, B)'s
    shape."""
    a, b = ctx.tensor(0), ctx.tensor(1)
    dtype = _float_of(ctx, 2, 3)
    shape = None if a.shape is None or b.shape is None else matmul_shape(ctx, list(a.shape), list(b.shape))
    ctx.set_tensor(0, dtype, shape)


@register_rule("NhwcMaxPool", domain=MS)
def _nhwc_max_pool(ctx: Context) -> None:
    """MaxPool on channels-last 8-bit data: x [N, D..., C] -> [N, out..., C]."""
    x = ctx.tensor(0)
    xs = ctx.shape(0)
    if len(xs) < 3:
        ctx.fail(f"input has rank {len(xs)}, at least 3 expected")
    ctx.set_tensor(0, x.dtype, [xs[0], *pool_spatial(ctx, list(xs[1:-1])), xs[-1]])


@register_rule("GatherBlockQuantized", domain=MS)
def _gather_block_quantized(ctx: Context) -> None:
    """output: scales' float type; data's dims with the gather axis replaced by indices' dims.
    uint8 data with bits < 8 holds 8 / bits values per byte along its last dim: the output has
    them unpacked (int4 / uint4 / float8 data is not packed)."""
    data = ctx.tensor(0)
    dtype = _float_of(ctx, 2)
    indices = shape_or_none(ctx, 1)
    if data.shape is None or indices is None:
        ctx.set_tensor(0, dtype, None)
        return
    dims = list(data.shape)
    if not dims:
        ctx.fail("data must have rank 1 or more")
    if data.dtype == DataType.UINT8:
        bits = int(ctx.attr("bits", 4))
        if bits not in (2, 4, 8):
            ctx.fail(f"bits is {bits}: 2, 4 or 8 expected")
        dims[-1] = dims[-1] * (8 // bits)
    axis = ctx.normalize_axis(int(ctx.attr("gather_axis", 0)), len(dims))
    ctx.set_tensor(0, dtype, [*dims[:axis], *indices, *dims[axis + 1:]])
