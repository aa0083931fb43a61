"""Formulas of the ops without multiply-accumulates: pooling, normalizations, Softmax, Resize,
reductions, elementwise ops, and data movement (zero FLOPs). MACs are 0 for all of them."""

from __future__ import annotations

from onnxlite.profile._formulas import Cost, NotCounted, OpView, add, mul, numel, prod, register_formula

_UNARY = [
    "Abs", "Neg", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "ThresholdedRelu", "Sigmoid",
    "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Gelu", "Softplus",
    "Softsign", "Mish", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
    "Atanh", "Ceil", "Floor", "Round", "Sign", "Clip", "Not", "IsNaN", "IsInf", "Shrink", "BitwiseNot",
]
_BINARY = [
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "And", "Or", "Xor", "Equal", "Greater", "Less",
    "GreaterOrEqual", "LessOrEqual", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Where",
]
_VARIADIC = ["Sum", "Max", "Min", "Mean"]
_ELEMENTWISE_MS = ["Gelu", "FastGelu", "BiasGelu", "QuickGelu", "BiasAdd"]
_MOVEMENT = [
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Concat", "Split", "Slice",
    "Gather", "GatherElements", "GatherND", "Scatter", "ScatterElements", "ScatterND", "Expand", "Tile",
    "Pad", "Shape", "Size", "Cast", "CastLike", "Constant", "ConstantOfShape", "Range", "Dropout",
    "DepthToSpace", "SpaceToDepth", "NonZero", "OneHot", "EyeLike", "Trilu", "ReverseSequence",
    "SplitToSequence", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceInsert",
    "SequenceErase", "SequenceLength", "ConcatFromSequence", "Compress", "Optional", "OptionalGetElement",
    "OptionalHasElement", "Col2Im", "CenterCropPad",
]


@register_formula(_UNARY + _BINARY)
def _elementwise(op: OpView) -> Cost:
    """1 FLOP per output element (a transcendental counts as one)."""
    return Cost(0, op.out_numel(0))


@register_formula(_ELEMENTWISE_MS, domain="com.microsoft")
def _elementwise_ms(op: OpView) -> Cost:
    return Cost(0, op.out_numel(0))


@register_formula(_VARIADIC)
def _variadic(op: OpView) -> Cost:
    """(inputs - 1) per output element (Mean: + 1 for the division)."""
    n = sum(1 for x in op.input_names if x)
    per = max(n - 1, 1) + (1 if op.op_type == "Mean" else 0)
    return Cost(0, mul(per, op.out_numel(0)))


@register_formula(_MOVEMENT)
def _movement(op: OpView) -> Cost:
    """Data movement: no arithmetic."""
    return Cost(0, 0)


@register_formula(["MaxPool", "AveragePool", "LpPool"])
def _pool(op: OpView) -> Cost:
    """prod(kernel_shape) per output element (compares or adds)."""
    kernel = op.attr("kernel_shape")
    if not kernel:
        raise NotCounted("kernel_shape is missing")
    return Cost(0, mul(op.out_numel(0), prod(kernel)))


@register_formula(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"])
def _global_pool(op: OpView) -> Cost:
    """1 per input element."""
    return Cost(0, numel(op.shape(0)))


@register_formula(["Softmax", "LogSoftmax"])
def _softmax(op: OpView) -> Cost:
    """4 per element: subtract the max, exp, sum, divide (log-softmax: log instead of divide)."""
    return Cost(0, mul(4, op.out_numel(0)))


@register_formula("BatchNormalization")
def _batchnorm(op: OpView) -> Cost:
    """Inference form: 2 per element (x * a + b, with a and b folded from scale, mean, var)."""
    return Cost(0, mul(2, op.out_numel(0)))


@register_formula(["LayerNormalization", "InstanceNormalization", "GroupNormalization",
                   "MeanVarianceNormalization"])
def _layernorm(op: OpView) -> Cost:
    """7 per element: mean (add), subtract, square, variance (add), normalize, scale, bias."""
    return Cost(0, mul(7, op.out_numel(0)))


@register_formula(["LayerNormalization", "SkipLayerNormalization"], domain="com.microsoft")
def _ms_layernorm(op: OpView) -> Cost:
    extra = 1 if op.op_type.startswith("Skip") else 0
    return Cost(0, mul(7 + extra, op.out_numel(0)))


@register_formula("RMSNormalization")
def _rmsnorm(op: OpView) -> Cost:
    """4 per element: square, sum, normalize, scale."""
    return Cost(0, mul(4, op.out_numel(0)))


@register_formula(["SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization"],
                  domain="com.microsoft")
def _ms_rmsnorm(op: OpView) -> Cost:
    extra = 1 if op.op_type.startswith("Skip") else 0
    return Cost(0, mul(4 + extra, op.out_numel(0)))


@register_formula("LpNormalization")
def _lpnorm(op: OpView) -> Cost:
    """3 per element: power, sum, divide."""
    return Cost(0, mul(3, op.out_numel(0)))


@register_formula("LRN")
def _lrn(op: OpView) -> Cost:
    """size + 3 per element (square-sum over the window, scale, power, divide)."""
    size = op.attr("size", 1)
    return Cost(0, mul(int(size) + 3, op.out_numel(0)))


@register_formula("RotaryEmbedding")
def _rotary(op: OpView) -> Cost:
    """3 per output element (two multiplies and an add)."""
    return Cost(0, mul(3, op.out_numel(0)))


@register_formula("RotaryEmbedding", domain="com.microsoft")
def _ms_rotary(op: OpView) -> Cost:
    return Cost(0, mul(3, op.out_numel(0)))


_REDUCE_2 = {"ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"}


@register_formula(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin",
                   *sorted(_REDUCE_2)])
def _reduce(op: OpView) -> Cost:
    """1 per input element (2 for the ones that square, take abs/exp/log first); Mean adds 1 per
    output element."""
    flops = mul(2 if op.op_type in _REDUCE_2 else 1, numel(op.shape(0)))
    if op.op_type == "ReduceMean":
        flops = add(flops, op.out_numel(0))
    return Cost(0, flops)


@register_formula(["Resize", "Upsample"])
def _resize(op: OpView) -> Cost:
    """Per output element, with k the number of resized axes: nearest 0; linear 3 x (2^k - 1)
    (one lerp = 3 FLOPs, 2^k - 1 lerps); cubic 2 x 4^k (a weighted sum of 4^k neighbours)."""
    xs, ys = op.shape(0), op.out_shape(0)
    k = sum(1 for a, b in zip(xs, ys, strict=False) if a != b)
    mode = op.attr("mode", "nearest")
    if mode == "nearest":
        return Cost(0, 0)
    per = 3 * (2**k - 1) if mode in ("linear", "bilinear", "trilinear") else 2 * 4**k
    return Cost(0, mul(per, op.out_numel(0)))


@register_formula(["QuantizeLinear", "DequantizeLinear"])
def _quant(op: OpView) -> Cost:
    """2 per element (scale and zero point)."""
    return Cost(0, mul(2, op.out_numel(0)))


@register_formula(["CumSum", "Hardmax", "TopK"])
def _scan_like(op: OpView) -> Cost:
    """1 per input element (an add or a compare)."""
    return Cost(0, numel(op.shape(0)))
