"""Sliding-window sizes shared by the convolution and pooling rules (Conv*, *Pool, MaxUnpool):
the spatial attributes read once, and the output size of one spatial axis, per the specs'
formulas (https://onnx.ai/onnx/operators/onnx__Conv.html, onnx__MaxPool.html)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onnxlite.infer._rules import Context
from onnxlite.infer._sym import Dim, Expr, floordiv

__all__ = ["Window", "ceil_div", "read_window", "window_out"]


@dataclass(frozen=True)
class Window:
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]
    auto_pad: str


def ceil_div(a: Dim, b: int) -> Dim:
    """ceil(a / b) for a positive int ``b``."""
    return floordiv(a + (b - 1), b)


def _ints(ctx: Context, name: str, n: int, default: int) -> tuple[int, ...]:
    value = ctx.attr(name)
    if value is None or (name == "pads" and len(value) == 0):
        return (default,) * (2 * n if name == "pads" else n)
    want = 2 * n if name == "pads" else n
    if len(value) != want:
        ctx.fail(f"'{name}' has {len(value)} values, {want} expected for {n} spatial axes")
    return tuple(int(v) for v in value)


def read_window(ctx: Context, n: int, kernel: Sequence[int]) -> Window:
    """The window of ``n`` spatial axes: strides, dilations (default 1), pads (default 0),
    auto_pad (NOTSET). ``kernel`` comes from kernel_shape or the weight's shape."""
    if len(kernel) != n:
        ctx.fail(f"kernel has {len(kernel)} dims, the input {n} spatial axes")
    strides = _ints(ctx, "strides", n, 1)
    dilations = _ints(ctx, "dilations", n, 1)
    pads = _ints(ctx, "pads", n, 0)
    if any(s <= 0 for s in strides) or any(d <= 0 for d in dilations) or any(p < 0 for p in pads):
        ctx.fail("strides and dilations must be positive and pads non-negative")
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode("utf-8", "replace")
    if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        ctx.fail(f"auto_pad {auto_pad!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    return Window(tuple(kernel), strides, dilations, pads[:n], pads[n:], auto_pad)


def window_out(ctx: Context, w: Window, axis: int, size: Dim, ceil_mode: bool = False) -> Dim:
    """The output size of spatial ``axis`` (input size ``size``) of a convolution or pooling.

    Explicit pads: floor((size + pads - eff_kernel) / stride) + 1, or ceil(...) with
    ``ceil_mode``, where a last window that would start in the right padding is dropped.
    SAME_*: ceil(size / stride). VALID: floor((size - eff_kernel) / stride) + 1."""
    k, s, d = w.kernel[axis], w.strides[axis], w.dilations[axis]
    pb, pe = w.pads_begin[axis], w.pads_end[axis]
    eff = (k - 1) * d + 1
    if w.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return ceil_div(size, s)
    if w.auto_pad == "VALID":
        pb = pe = 0
    span = size + (pb + pe - eff)
    if not ceil_mode or w.auto_pad == "VALID":
        out = floordiv(span, s) + 1
    else:
        out = ceil_div(span, s) + 1
        if isinstance(out, int) and isinstance(size, int):
            if (out - 1) * s >= size + pb:
                out -= 1
        elif pe + s > eff:
            # the last window may or may not start in the right padding: depends on the size
            return ctx.fresh()
    if isinstance(out, int) and not isinstance(size, Expr) and out <= 0:
        ctx.fail(f"spatial axis {axis} of size {size} is smaller than the window ({eff})")
    return out
