"""Cutting and growing along axes (https://onnx.ai/onnx/operators/): Split (sizes from the
attribute, the input, ``num_outputs`` at 18, or an equal split) and Pad (``paddings``/``pads``
attributes, the ``pads`` input from 11, the ``axes`` input from 18)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr, floordiv
from onnxlite.infer._types import Known, TensorType


def _set_split(ctx: Context, x: TensorType, axis: int, sizes: Sequence[Dim] | None) -> None:
    """Output k gets the input's shape with the ``axis`` dim sizes[k] (when ``sizes`` is None,
    not known: a fresh symbol, unless the dim is 0 or there is one output)."""
    assert x.shape is not None
    d = x.shape[axis]
    v = ctx.value(0)  # a tracked vector (tf2onnx splits pads and shapes) splits into tracked parts
    parts: list[Known | None] = [None] * ctx.num_outputs
    counts = [s for s in sizes or () if isinstance(s, int)]
    if v is not None and len(v.shape) == 1 and sizes is not None and len(counts) == len(sizes):
        ends = list(itertools.accumulate(counts, initial=0))
        parts = [Known((b - a,), v.data[a:b]) for a, b in itertools.pairwise(ends)]
    for k in range(ctx.num_outputs):
        shape = list(x.shape)
        value = parts[k] if k < len(parts) else None
        if sizes is not None:
            shape[axis] = sizes[k]
        elif d == 0 or ctx.num_outputs == 1:
            shape[axis] = d  # sizes are >= 0 and add up to the dim
            value = v
        else:
            shape[axis] = ctx.fresh()
        ctx.set_tensor(k, x.dtype, shape, value)


def _check_sizes(ctx: Context, d: Dim, sizes: Sequence[Dim]) -> None:
    if len(sizes) != ctx.num_outputs:
        ctx.fail(f"{len(sizes)} split sizes for {ctx.num_outputs} outputs")
    if any(isinstance(s, int) and s < 0 for s in sizes):
        ctx.fail(f"negative split size in {list(sizes)}")
    if isinstance(d, int) and all(isinstance(s, int) for s in sizes) and sum(sizes) != d:  # type: ignore[arg-type]
        ctx.fail(f"split sizes {list(sizes)} do not add up to the dim {d}")


def _equal_sizes(ctx: Context, d: Dim, n: int) -> list[Dim]:
    """An equal split of a dim of ``d`` into ``n`` parts (the spec requires it to divide)."""
    if n < 1:
        ctx.fail("Split has no outputs")
    if isinstance(d, int) and d % n:
        ctx.fail(f"the dim {d} does not split into {n} equal parts")
    return [floordiv(d, n)] * n


def _split(ctx: Context, sizes: Sequence[Dim] | None, sizes_known: bool) -> None:
    """``sizes``: given sizes (None: an equal split); ``sizes_known``: False when sizes are
    given but not known."""
    x = ctx.tensor(0)
    if x.shape is None:
        for k in range(ctx.num_outputs):
            ctx.set_tensor(k, x.dtype, None)
        return
    axis = ctx.normalize_axis(ctx.attr("axis", 0), len(x.shape))
    d = x.shape[axis]
    if not sizes_known:
        _set_split(ctx, x, axis, None)
        return
    if sizes is None:
        sizes = _equal_sizes(ctx, d, ctx.num_outputs)
    _check_sizes(ctx, d, sizes)
    _set_split(ctx, x, axis, sizes)


def _input_sizes(ctx: Context, i: int) -> tuple[Sequence[Dim] | None, bool]:
    if not ctx.has_input(i):
        return None, True
    values = ctx.ints(i)
    return values, values is not None


@register_rule("Split")
def _split_v1(ctx: Context) -> None:
    """Opset 1: sizes from the optional second input or the ``split`` attribute."""
    if ctx.has_input(1):
        _split(ctx, *_input_sizes(ctx, 1))
        return
    attr = ctx.attr("split")
    _split(ctx, None if not attr else list(attr), True)


@register_rule("Split", since=2)
def _split_v2(ctx: Context) -> None:
    """Opsets 2-12: sizes from the ``split`` attribute, else an equal split."""
    attr = ctx.attr("split")
    _split(ctx, None if not attr else list(attr), True)


@register_rule("Split", since=13)
def _split_v13(ctx: Context) -> None:
    """Opsets 13-17: sizes from the optional ``split`` input, else an equal split."""
    _split(ctx, *_input_sizes(ctx, 1))


@register_rule("Split", since=18)
def _split_v18(ctx: Context) -> None:
    """Opset 18: the ``split`` input, or (exactly one of them) ``num_outputs`` chunks of
    ceil(dim / num_outputs) with a smaller last one."""
    n = ctx.attr("num_outputs")
    if ctx.has_input(1) == (n is not None):
        ctx.fail("give either the split input or num_outputs (not both)")
    if ctx.has_input(1):
        _split(ctx, *_input_sizes(ctx, 1))
        return
    if n != ctx.num_outputs:
        ctx.fail(f"num_outputs is {n} but the node has {ctx.num_outputs} outputs")
    x = ctx.tensor(0)
    if x.shape is None:
        _split(ctx, None, True)
        return
    axis = ctx.normalize_axis(ctx.attr("axis", 0), len(x.shape))
    d = x.shape[axis]
    if n < 1:
        ctx.fail("num_outputs must be positive")
    chunk = floordiv(d + n - 1, n)
    last = d - (n - 1) * chunk
    if isinstance(last, int) and last < 0:
        ctx.fail(f"the dim {d} does not split into {n} chunks of {chunk}")
    sizes: list[Dim] = [chunk] * (n - 1) + [last]
    _set_split(ctx, x, axis, sizes)


# --- Pad ------------------------------------------------------------------------------------------

def _pad(ctx: Context, pads: Sequence[Dim] | None, axes: Sequence[int] | None) -> None:
    """Output dims: d + pads[begin] + pads[end] on ``axes`` (None: every axis, in order); pads
    None: not known, the padded axes get fresh sizes."""
    x = ctx.tensor(0)
    if x.shape is None:
        ctx.set_tensor(0, x.dtype, None)
        return
    rank = len(x.shape)
    picked = list(range(rank)) if axes is None else [ctx.normalize_axis(a, rank) for a in axes]
    if len(set(picked)) != len(picked):
        ctx.fail(f"repeated axis in {list(axes or ())}")
    shape = list(x.shape)
    if pads is None:
        for a in picked:
            shape[a] = ctx.fresh()
        ctx.set_tensor(0, x.dtype, shape)
        return
    n = len(picked)
    if len(pads) != 2 * n:
        ctx.fail(f"{len(pads)} pads for {n} axes (needs {2 * n})")
    for j, a in enumerate(picked):
        d = shape[a] + pads[j] + pads[j + n]
        if isinstance(d, int) and d < 0:
            ctx.fail(f"padding makes axis {a} negative ({d})")
        shape[a] = d
    ctx.set_tensor(0, x.dtype, shape)


@register_rule("Pad")
def _pad_v1(ctx: Context) -> None:
    """Opset 1: the ``paddings`` attribute [x1_begin, x2_begin, ..., x1_end, x2_end, ...]."""
    pads = ctx.attr("paddings")
    if pads is None:
        ctx.fail("no 'paddings' attribute")
    _pad(ctx, list(pads), None)


@register_rule("Pad", since=2)
def _pad_v2(ctx: Context) -> None:
    """Opsets 2-10: the ``pads`` attribute."""
    pads = ctx.attr("pads")
    if pads is None:
        ctx.fail("no 'pads' attribute")
    _pad(ctx, list(pads), None)


@register_rule("Pad", since=11)
def _pad_v11(ctx: Context) -> None:
    """Opsets 11+: the ``pads`` input; from 18 the optional ``axes`` input picks the padded
    axes (pads then has 2 * len(axes) elements)."""
    axes: list[int] | None = None
    if ctx.opset >= 18 and ctx.has_input(3):
        values = ctx.ints(3)
        ints = [a for a in values or () if isinstance(a, int) and not isinstance(a, Expr)]
        if values is None or len(ints) != len(values):
            x = ctx.tensor(0)
            if x.shape is not None:
                ctx.set_tensor(0, x.dtype, ctx.fresh_dims(len(x.shape)))
                return
            ctx.set_tensor(0, x.dtype, None)
            ctx.unknown("axes are not known")
        axes = ints
    _pad(ctx, ctx.ints(1), axes)
