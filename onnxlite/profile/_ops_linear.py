"""Formulas of the multiply-add ops: Conv/ConvTranspose (and their quantized forms), MatMul, Gemm,
Einsum, MatMulNBits. MACs = multiply-accumulates; FLOPs = 2 x MACs plus bias adds."""

from __future__ import annotations

from onnxlite.infer import Dim, floordiv
from onnxlite.profile._formulas import Cost, NotCounted, OpView, add, mul, numel, prod, register_formula


def _conv(op: OpView, x: int, w: int, bias: int | None) -> Cost:
    """Per output element: (C_in / group) x prod(kernel) multiply-adds, which is W.shape[1] x
    prod(W.shape[2:]) whatever the strides, pads and dilations (they set the output size)."""
    ws = op.shape(w)
    if len(ws) < 2:
        raise NotCounted(f"weight rank {len(ws)} is not a convolution weight")
    macs = mul(op.out_numel(0), prod(ws[1:]))
    flops = mul(2, macs)
    if bias is not None and op.has_input(bias):
        flops = add(flops, op.out_numel(0))
    return Cost(macs, flops)


@register_formula("Conv")
def _conv_f(op: OpView) -> Cost:
    return _conv(op, 0, 1, 2)


@register_formula("ConvInteger")
def _conv_integer(op: OpView) -> Cost:
    return _conv(op, 0, 1, None)


@register_formula("QLinearConv")
def _qlinear_conv(op: OpView) -> Cost:
    return _conv(op, 0, 3, 8)


@register_formula("FusedConv", domain="com.microsoft")
def _fused_conv(op: OpView) -> Cost:
    return _conv(op, 0, 1, 2)


@register_formula("ConvTranspose")
def _conv_transpose(op: OpView) -> Cost:
    """Each input element is multiplied by (C_out / group) x prod(kernel) weights and scattered:
    MACs = numel(X) x W.shape[1] x prod(W.shape[2:]) (W is [C_in, C_out/group, k...])."""
    xs, ws = op.shape(0), op.shape(1)
    if len(ws) < 2:
        raise NotCounted(f"weight rank {len(ws)} is not a convolution weight")
    macs = mul(numel(xs), prod(ws[1:]))
    flops = mul(2, macs)
    if op.has_input(2):
        flops = add(flops, op.out_numel(0))
    return Cost(macs, flops)


def _matmul(op: OpView, a: int, b: int) -> Cost:
    """numel(Y) x K (K: A's last dim); 1-D operands follow numpy.matmul."""
    sa = op.shape(a)
    op.shape(b)
    if not sa:
        raise NotCounted("MatMul of a scalar")
    macs = mul(op.out_numel(0), sa[-1])
    return Cost(macs, mul(2, macs))


@register_formula(["MatMul", "MatMulInteger"])
def _matmul_f(op: OpView) -> Cost:
    return _matmul(op, 0, 1)


@register_formula("QLinearMatMul")
def _qlinear_matmul(op: OpView) -> Cost:
    return _matmul(op, 0, 3)


@register_formula("FusedMatMul", domain="com.microsoft")
def _fused_matmul(op: OpView) -> Cost:
    sa = op.shape(0)
    k = sa[-2] if op.attr("transA", 0) and len(sa) >= 2 else sa[-1]
    macs = mul(op.out_numel(0), k)
    return Cost(macs, mul(2, macs))


@register_formula("Gemm")
def _gemm(op: OpView) -> Cost:
    """Y = alpha A'B' + beta C: M x N x K MACs; FLOPs 2MNK, + MN for the C add."""
    sa = op.shape(0)
    if len(sa) != 2:
        raise NotCounted(f"A has rank {len(sa)}, not 2")
    k = sa[0] if op.attr("transA", 0) else sa[1]
    mn = op.out_numel(0)
    macs = mul(mn, k)
    flops = mul(2, macs)
    if op.has_input(2):
        flops = add(flops, mn)
    return Cost(macs, flops)


@register_formula("Einsum")
def _einsum(op: OpView) -> Cost:
    """The product of the sizes of every distinct index letter (each output element sums over the
    contracted letters); no contracted letter: one multiply per output element per extra operand."""
    eq = str(op.attr("equation", "")).replace(" ", "")
    if "." in eq:
        raise NotCounted("Einsum with an ellipsis ('...') is not counted")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    sizes: dict[str, Dim] = {}
    for i, term in enumerate(terms):
        shape = op.shape(i)
        if len(shape) != len(term):
            raise NotCounted(f"Einsum term '{term}' does not match input {i}'s rank {len(shape)}")
        for letter, d in zip(term, shape, strict=True):
            if letter not in sizes or sizes[letter] == 1:
                sizes[letter] = d
    if not arrow:
        counts: dict[str, int] = {}
        for term in terms:
            for letter in term:
                counts[letter] = counts.get(letter, 0) + 1
        rhs = "".join(sorted(c for c, n in counts.items() if n == 1))
    contracted = set(sizes) - set(rhs)
    space = prod(sizes.values())
    if not contracted:
        per = max(len(terms) - 1, 0)
        return Cost(0, mul(per, space))
    macs = mul(space, max(len(terms) - 1, 1)) if len(terms) > 2 else space
    return Cost(macs, mul(2, macs))


@register_formula("MatMulNBits", domain="com.microsoft")
def _matmul_nbits(op: OpView) -> Cost:
    """A [..., K] x dequantized B [K, N]: rows(A) x N x K MACs; FLOPs add the dequantization of B,
    2 per weight (subtract the zero point, multiply by the block scale), once per call."""
    sa = op.shape(0)
    k, n = op.attr("K"), op.attr("N")
    if not isinstance(k, int) or not isinstance(n, int):
        raise NotCounted("attributes K and N are missing")
    rows = floordiv(numel(sa), sa[-1]) if sa else 1
    macs = mul(mul(rows, n), k)
    return Cost(macs, add(mul(2, macs), 2 * n * k))
