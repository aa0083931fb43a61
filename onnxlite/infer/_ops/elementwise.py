"""Elementwise ops (https://onnx.ai/onnx/operators/): unary math and activations, binary
arithmetic, logic and comparisons with numpy broadcasting, the variadic Sum/Max/Min/Mean, Where,
Clip, Dropout, the softmax family, Cast/CastLike. Integer arithmetic runs on known values, so
shape computations (Shape -> Mul -> Concat) stay exact; so does arithmetic on small known float
tensors, rounded to the element type (TorchScript's int(n ** 0.5) -> Pow, Cast)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import (
    FLOAT_TYPES,
    INT_TYPES,
    broadcast_values,
    is_symbolic_int,
    known,
    wrap_int,
)
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Expr, _nonneg, _nonpos, add, dim_max, dim_min, floordiv, mod, sub
from onnxlite.infer._types import MAX_FLOAT_KNOWN, Known

_SAME = [
    "Abs", "Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
    "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "Sign",
    "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "ThresholdedRelu",
    "Celu", "Mish", "Gelu", "Shrink", "BitwiseNot", "Not", "Softmax", "LogSoftmax", "Hardmax", "LRN",
    "Swish", "MeanVarianceNormalization", "Clip",
]


def _neg(x: Any) -> Any:
    return -x if is_symbolic_int(x) else None


def _abs(x: Any) -> Any:
    if isinstance(x, bool) or not isinstance(x, int):
        return None
    return abs(x)


_UNARY_VALUES: dict[str, Callable[[Any], Any]] = {"Neg": _neg, "Abs": _abs}


# --- known float values ---------------------------------------------------------------------------

_ROUNDING = {DataType.FLOAT: "f", DataType.FLOAT16: "e"}


def _rounded(x: float, dtype: DataType | None) -> float | None:
    """``x`` (a double) rounded to ``dtype``'s precision, None when it cannot be: float32 and
    float16 by packing (exact for + - * / and sqrt, whose double result rounds once more
    correctly), double as is, other float types not tracked."""
    if dtype == DataType.DOUBLE:
        return x
    fmt = _ROUNDING.get(dtype)  # type: ignore[arg-type]
    if fmt is None:
        return None
    try:
        return float(struct.unpack(fmt, struct.pack(fmt, x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def _float_op(op: Callable[..., Any], dtype: DataType | None) -> Callable[..., Any]:
    """``op`` on plain numbers (no symbols, no booleans) in double, rounded to ``dtype``; None
    otherwise (complex results of Pow, domain errors)."""
    def fn(*xs: Any) -> Any:
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
            return None
        try:
            r = op(*(float(x) for x in xs))
        except (ArithmeticError, ValueError):
            return None
        return _rounded(r, dtype) if isinstance(r, (int, float)) else None
    return fn


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


_FLOAT_UNARY: dict[str, Callable[[float], Any]] = {
    "Neg": lambda x: -x, "Abs": abs, "Sqrt": math.sqrt, "Reciprocal": lambda x: 1.0 / x, "Floor": _floor,
    "Ceil": _ceil,
}
_FLOAT_BINARY: dict[str, Callable[[float, float], Any]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b, "Pow": lambda a, b: a ** b,
}


@register_rule("Identity")
def _identity(ctx: Context) -> None:
    """Any type (tensors, sequences, optionals since opset 14/16), value included."""
    t = ctx.input_type(0)
    if t is None:
        ctx.unknown("input 0 has no known type")
    ctx.set_output(0, t, ctx.value(0))


@register_rule(_SAME)
def _same(ctx: Context) -> None:
    """Output 0 has input 0's type; Neg/Abs/Identity also carry known integer values."""
    x = ctx.tensor(0)
    value = ctx.value(0)
    fn = _UNARY_VALUES.get(ctx.op_type)
    out = None
    if value is not None and fn is not None and x.dtype in INT_TYPES:
        data = [fn(v) for v in value.data]
        if all(d is not None for d in data):
            out = Known(value.shape, tuple(data))
    elif value is not None and x.dtype in FLOAT_TYPES and ctx.op_type in _FLOAT_UNARY:
        op = _float_op(_FLOAT_UNARY[ctx.op_type], x.dtype)
        data = [op(v) for v in value.data]
        if all(d is not None for d in data):
            out = Known(value.shape, tuple(data))
    ctx.set_output(0, x, out)


@register_rule(["IsNaN", "IsInf"], since=9)
def _is_nan(ctx: Context) -> None:
    ctx.set_tensor(0, DataType.BOOL, ctx.tensor(0).shape)


@register_rule("PRelu")
def _prelu(ctx: Context) -> None:
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_output(0, x)
        return
    ctx.set_tensor(0, x.dtype, x.shape)


@register_rule("Dropout")
def _dropout(ctx: Context) -> None:
    x = ctx.tensor(0)
    ctx.set_output(0, x, ctx.value(0))
    if ctx.num_outputs > 1:
        ctx.set_tensor(1, DataType.BOOL if ctx.opset >= 10 else x.dtype, x.shape)


# --- binary ---------------------------------------------------------------------------------------

def _int_div(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if b == 0:
            return None
        q = abs(a) // abs(b)  # runtimes truncate toward zero
        return q if (a >= 0) == (b > 0) else -q
    if isinstance(b, int) and b <= 0:
        return None
    return floordiv(a, b)  # sizes: non-negative, so truncation is floor division


def _int_mod(a: Any, b: Any) -> Any:
    if isinstance(b, int) and b == 0:
        return None
    return mod(a, b)


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def fn(a: Any, b: Any) -> Any:
        if isinstance(a, Expr) or isinstance(b, Expr):
            # Symbols are sizes (>= 0), so the sign of a - b is often provable: batch == -1 is
            # False (TorchScript's expand(x.shape[0], -1, -1) tests each size against -1).
            d = sub(a, b)
            if not isinstance(d, Expr):
                return bool(op(d, 0))
            if _nonneg(sub(d, 1)):
                return bool(op(1, 0))
            if _nonpos(add(d, 1)):
                return bool(op(-1, 0))
            if _nonneg(d) and op(1, 0) == op(0, 0):
                return bool(op(0, 0))
            if _nonpos(d) and op(-1, 0) == op(0, 0):
                return bool(op(0, 0))
            return None
        return bool(op(a, b))
    return fn


_BINARY_INT: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b, "Div": _int_div,
    "Mod": _int_mod, "Max": dim_max, "Min": dim_min,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "Equal": _cmp(lambda a, b: a == b), "Less": _cmp(lambda a, b: a < b),
    "Greater": _cmp(lambda a, b: a > b), "LessOrEqual": _cmp(lambda a, b: a <= b),
    "GreaterOrEqual": _cmp(lambda a, b: a >= b),
}
_LOGIC = {"And": lambda a, b: bool(a) and bool(b), "Or": lambda a, b: bool(a) or bool(b),
          "Xor": lambda a, b: bool(a) != bool(b)}


def _values(ctx: Context, fn: Callable[..., Any] | None, shape: tuple[Any, ...], dtype: DataType | None,
            ints: bool) -> Known | None:
    if fn is None:
        return None
    dims = [d for d in shape if isinstance(d, int)]
    if len(dims) != len(shape):
        return None
    vals = [ctx.value(i) for i in range(ctx.num_inputs)]
    if any(v is None for v in vals):
        return None
    if ints and not all(is_symbolic_int(x) for v in vals for x in v.data):  # type: ignore[union-attr]
        return None
    try:
        data = broadcast_values(fn, vals, dims)  # type: ignore[arg-type]
    except (ArithmeticError, TypeError):
        return None
    if data is None or (dtype in FLOAT_TYPES and len(data) > MAX_FLOAT_KNOWN):
        return None
    if dtype in INT_TYPES:
        data = [wrap_int(d, dtype) if isinstance(d, int) and not isinstance(d, bool) else d for d in data]
    return known(shape, data)


def _binary(ctx: Context, out_dtype: DataType | None, fn: Callable[..., Any] | None, ints: bool) -> None:
    a, b = ctx.tensor(0), ctx.tensor(1)
    if a.shape is None or b.shape is None:
        ctx.set_tensor(0, out_dtype, None)
        return
    if ctx.opset < 7 and ctx.op_type not in ("Sum", "Max", "Min", "Mean"):
        shape = a.shape  # opset 1-6: B broadcasts to A (broadcast=1) or has A's shape
    else:
        shape = ctx.broadcast(a.shape, b.shape)
    ctx.set_tensor(0, out_dtype, shape, _values(ctx, fn, shape, out_dtype, ints))


@register_rule(["Add", "Sub", "Mul", "Div", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"])
def _arith(ctx: Context) -> None:
    dtype = ctx.tensor(0).dtype
    if dtype in FLOAT_TYPES and ctx.op_type in _FLOAT_BINARY:
        _binary(ctx, dtype, _float_op(_FLOAT_BINARY[ctx.op_type], dtype), False)
        return
    fn = _BINARY_INT.get(ctx.op_type) if dtype in INT_TYPES else None
    if ctx.op_type == "Mod" and ctx.attr("fmod", 0):
        fn = None
    _binary(ctx, dtype, fn, True)


def _int_pow(a: Any, b: Any) -> Any:
    """An integer base to a known non-negative integer exponent (the output has the base's type)."""
    if isinstance(a, int) and not isinstance(a, bool) and isinstance(b, int) and not isinstance(b, bool) \
            and 0 <= b <= 64:
        return a ** b
    return None


@register_rule("Pow")
def _pow(ctx: Context) -> None:
    dtype = ctx.tensor(0).dtype
    fn = _float_op(_FLOAT_BINARY["Pow"], dtype) if dtype in FLOAT_TYPES else _int_pow if dtype in INT_TYPES \
        else None
    _binary(ctx, dtype, fn, False)


@register_rule(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def _compare(ctx: Context) -> None:
    _binary(ctx, DataType.BOOL, _COMPARE[ctx.op_type], False)


@register_rule(["And", "Or", "Xor"])
def _logic(ctx: Context) -> None:
    _binary(ctx, DataType.BOOL, _LOGIC[ctx.op_type], False)


@register_rule(["Sum", "Max", "Min", "Mean"])
def _variadic(ctx: Context) -> None:
    types = [ctx.tensor(i) for i in range(ctx.num_inputs)]
    if not types:
        ctx.fail("needs at least one input")
    dtype = next((t.dtype for t in types if t.dtype is not None), None)
    if any(t.shape is None for t in types):
        ctx.set_tensor(0, dtype, None)
        return
    shape = ctx.broadcast(*[t.shape for t in types if t.shape is not None])
    fn: Callable[..., Any] | None = None
    if dtype in INT_TYPES:
        if ctx.op_type == "Max":
            fn = dim_max
        elif ctx.op_type == "Min":
            fn = dim_min
        elif ctx.op_type == "Sum":
            fn = _sum
    ctx.set_tensor(0, dtype, shape, _values(ctx, fn, shape, dtype, True))


def _sum(*xs: Any) -> Any:
    total: Any = 0
    for x in xs:
        total = total + x
    return total


@register_rule("Where", since=9)
def _where(ctx: Context) -> None:
    c, x, y = ctx.tensor(0), ctx.tensor(1), ctx.tensor(2)
    dtype = x.dtype if x.dtype is not None else y.dtype
    if c.shape is None or x.shape is None or y.shape is None:
        ctx.set_tensor(0, dtype, None)
        return
    shape = ctx.broadcast(c.shape, x.shape, y.shape)
    ctx.set_tensor(0, dtype, shape, _values(ctx, lambda k, a, b: a if k else b, shape, dtype, False))


# --- casts ----------------------------------------------------------------------------------------

def _cast_value(value: Known | None, to: DataType) -> Known | None:
    if value is None:
        return None
    out: list[Any] = []
    for v in value.data:
        if to in INT_TYPES:
            if isinstance(v, Expr):
                out.append(v)
            elif isinstance(v, (bool, int)):
                out.append(wrap_int(int(v), to))
            elif isinstance(v, float) and v == v and abs(v) < 2**63:
                out.append(wrap_int(int(v), to))  # truncation toward zero
            else:
                return None
        elif to == DataType.BOOL and not any(isinstance(x, Expr) for x in value.data):
            out.append(bool(v))
        elif to in FLOAT_TYPES and len(value.data) == 1 and not isinstance(v, Expr):
            out.append(float(v))
        else:
            return None
    return Known(value.shape, tuple(out))


@register_rule("Cast")
def _cast(ctx: Context) -> None:
    x = ctx.tensor(0)
    to = ctx.attr("to")
    try:
        dtype = DataType(int(to)) if not isinstance(to, str) else DataType[to.upper()]
    except (ValueError, KeyError):
        ctx.fail(f"'to' is {to!r}, not a data type")
    ctx.set_tensor(0, dtype, x.shape, _cast_value(ctx.value(0), dtype))


@register_rule("CastLike", since=15)
def _cast_like(ctx: Context) -> None:
    x = ctx.tensor(0)
    dtype = ctx.dtype(1)
    ctx.set_tensor(0, dtype, x.shape, _cast_value(ctx.value(0), dtype))
