"""Spatial rearrangements and sampling: Resize (every version), Upsample, DepthToSpace,
SpaceToDepth, Col2Im, GridSample, AffineGrid, CenterCropPad, ImageDecoder
(https://onnx.ai/onnx/operators/onnx__Resize.html and the others)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.infer._ops._util import is_symbolic_int
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, Expr, floordiv


def _scaled(ctx: Context, size: Dim, scale: Any) -> Dim:
    """floor(size * scale): exact for a number; for a symbol, exact when the (binary) scale is
    a fraction p/q with a small q, else a fresh symbol."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale) \
            or scale <= 0:
        ctx.fail(f"scale {scale!r} is not a positive number")
    if isinstance(size, int):
        return math.floor(size * float(scale))
    frac = Fraction(float(scale))
    if frac.denominator > 1 << 16:
        return ctx.fresh()
    return floordiv(size * frac.numerator, frac.denominator)


def _floats(ctx: Context, i: int) -> tuple[Any, ...] | None:
    v = ctx.value(i)
    return None if v is None else v.data


def _axes(ctx: Context, rank: int) -> list[int]:
    axes = ctx.attr("axes")
    if axes is None:
        return list(range(rank))
    out = [ctx.normalize_axis(int(a), rank) for a in axes]
    if len(set(out)) != len(out):
        ctx.fail(f"axes {list(axes)} repeat an axis")
    return out


def _resize_from(ctx: Context, xs: Sequence[Dim], scales_i: int | None, sizes_i: int | None) -> None:
    dtype = ctx.dtype(0)
    rank = len(xs)
    axes = _axes(ctx, rank) if ctx.opset >= 18 else list(range(rank))
    out: list[Dim] = list(xs)
    if sizes_i is not None and ctx.has_input(sizes_i):
        sizes = ctx.ints(sizes_i)
        if sizes is None:
            for a in axes:
                out[a] = ctx.fresh()
            ctx.set_tensor(0, dtype, out)
            return
        if len(sizes) != len(axes):
            ctx.fail(f"sizes has {len(sizes)} values for {len(axes)} axes")
        policy = ctx.attr("keep_aspect_ratio_policy", "stretch") if ctx.opset >= 18 else "stretch"
        if policy == "stretch":
            for a, s in zip(axes, sizes, strict=True):
                out[a] = s
        elif policy in ("not_larger", "not_smaller"):
            ins = [xs[a] for a in axes]
            if not all(isinstance(d, int) and d > 0 for d in ins) or \
                    not all(isinstance(s, int) for s in sizes):
                for a in axes:
                    out[a] = ctx.fresh()
            else:
                ratios = [Fraction(s, d) for d, s in zip(ins, sizes, strict=True)
                          if isinstance(s, int) and isinstance(d, int)]
                scale = min(ratios) if policy == "not_larger" else max(ratios)
                for a, d in zip(axes, ins, strict=True):
                    out[a] = math.floor(scale * d + Fraction(1, 2)) if isinstance(d, int) else ctx.fresh()
        else:
            ctx.fail(f"keep_aspect_ratio_policy {policy!r} is not stretch, not_larger or not_smaller")
        ctx.set_tensor(0, dtype, out)
        return
    if scales_i is None or not ctx.has_input(scales_i):
        ctx.fail("neither scales nor sizes is given")
    scales = _floats(ctx, scales_i)
    if scales is None:
        st = ctx.input_type(scales_i)
        sshape = getattr(st, "shape", None)
        if sshape == (0,) and sizes_i is not None:
            ctx.fail("scales is empty and sizes is not given")
        for a in axes:
            out[a] = ctx.fresh()
        ctx.set_tensor(0, dtype, out)
        return
    if len(scales) != len(axes):
        ctx.fail(f"scales has {len(scales)} values for {len(axes)} axes")
    if ctx.attr("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize":
        roi = _floats(ctx, 1)
        if roi is None or len(roi) != 2 * len(axes):
            for a in axes:
                out[a] = ctx.fresh()
            ctx.set_tensor(0, dtype, out)
            return
        n = len(axes)
        for k, a in enumerate(axes):
            size = xs[a]
            if not isinstance(size, int):
                out[a] = ctx.fresh()
                continue
            out[a] = math.floor(size * (float(roi[n + k]) - float(roi[k])) * float(scales[k]))
        ctx.set_tensor(0, dtype, out)
        return
    for a, s in zip(axes, scales, strict=True):
        out[a] = _scaled(ctx, xs[a], s)
    ctx.set_tensor(0, dtype, out)


@register_rule("Resize", since=10)
def _resize_10(ctx: Context) -> None:
    """Inputs X, scales: Y = floor(X.shape * scales)."""
    _resize_from(ctx, ctx.shape(0), 1, None)


@register_rule("Resize", since=11)
def _resize_11(ctx: Context) -> None:
    """Inputs X, roi, scales, sizes (only one of scales and sizes); axes and
    keep_aspect_ratio_policy since 18."""
    _resize_from(ctx, ctx.shape(0), 2, 3)


@register_rule("Upsample")
def _upsample_1(ctx: Context) -> None:
    """Opset 1: height_scale and width_scale on a 4-D input."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if ctx.opset >= 7:
        scales = ctx.attr("scales")
        if scales is None or len(scales) != len(xs):
            ctx.fail("scales must hold one value per input axis")
        ctx.set_tensor(0, dtype, [_scaled(ctx, d, s) for d, s in zip(xs, scales, strict=True)])
        return
    if len(xs) != 4:
        ctx.fail(f"input has rank {len(xs)}, 4 expected")
    h, w = ctx.attr("height_scale"), ctx.attr("width_scale")
    if h is None or w is None:
        ctx.fail("height_scale and width_scale are required")
    ctx.set_tensor(0, dtype, [xs[0], xs[1], _scaled(ctx, xs[2], h), _scaled(ctx, xs[3], w)])


register_rule("Upsample", since=7)(_upsample_1)


@register_rule("Upsample", since=9)
def _upsample_9(ctx: Context) -> None:
    """scales became input 1."""
    _resize_from(ctx, ctx.shape(0), 1, None)


def _rank4(ctx: Context) -> tuple[DataType, tuple[Dim, ...], int]:
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) != 4:
        ctx.fail(f"input has rank {len(xs)}, 4 expected")
    bs = ctx.attr("blocksize")
    if bs is None or int(bs) <= 0:
        ctx.fail("blocksize must be positive")
    return dtype, xs, int(bs)


@register_rule("DepthToSpace")
def _depth_to_space(ctx: Context) -> None:
    """[N, C, H, W] -> [N, C / bs^2, H * bs, W * bs]."""
    dtype, (n, c, h, w), bs = _rank4(ctx)
    if isinstance(c, int) and c % (bs * bs):
        ctx.fail(f"channels {c} are not a multiple of blocksize^2 = {bs * bs}")
    ctx.set_tensor(0, dtype, [n, floordiv(c, bs * bs), h * bs, w * bs])


@register_rule("SpaceToDepth")
def _space_to_depth(ctx: Context) -> None:
    """[N, C, H, W] -> [N, C * bs^2, H / bs, W / bs]."""
    dtype, (n, c, h, w), bs = _rank4(ctx)
    for d in (h, w):
        if isinstance(d, int) and d % bs:
            ctx.fail(f"spatial size {d} is not a multiple of blocksize {bs}")
    ctx.set_tensor(0, dtype, [n, c * (bs * bs), floordiv(h, bs), floordiv(w, bs)])


@register_rule("Col2Im", since=18)
def _col2im(ctx: Context) -> None:
    """[N, C * prod(block_shape), L] -> [N, C, *image_shape]."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"input has rank {len(xs)}, 3 expected")
    image = ctx.ints(1)
    block = ctx.ints(2)
    channels: Dim
    blocks = [b for b in block or () if isinstance(b, int) and b > 0]
    if block is not None and len(blocks) == len(block):
        prod = math.prod(blocks)
        if isinstance(xs[1], int) and xs[1] % prod:
            ctx.fail(f"dim 1 ({xs[1]}) is not a multiple of prod(block_shape) = {prod}")
        channels = floordiv(xs[1], prod)
    else:
        channels = ctx.fresh()
    if image is None:
        it = ctx.input_type(1)
        ishape = getattr(it, "shape", None)
        if ishape is None or len(ishape) != 1 or not isinstance(ishape[0], int):
            ctx.unknown("image_shape (input 1) is not known")
        ctx.set_tensor(0, dtype, [xs[0], channels, *ctx.fresh_dims(ishape[0])])
        return
    ctx.set_tensor(0, dtype, [xs[0], channels, *image])


@register_rule("GridSample", since=16)
def _grid_sample(ctx: Context) -> None:
    """X [N, C, D1..Dr], grid [N, D1_out..Dr_out, r] -> [N, C, D1_out..Dr_out]."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    gs = ctx.shape(1)
    if len(xs) < 3 or len(gs) != len(xs):
        ctx.fail(f"X (rank {len(xs)}) and grid (rank {len(gs)}) must have the same rank >= 3")
    if ctx.opset < 20 and len(xs) != 4:
        ctx.fail("GridSample before opset 20 takes 4-D inputs")
    batch = gs[0] if isinstance(gs[0], int) or isinstance(xs[0], Expr) else xs[0]
    ctx.set_tensor(0, dtype, [batch, xs[1], *gs[1:-1]])


@register_rule("AffineGrid", since=20)
def _affine_grid(ctx: Context) -> None:
    """theta [N, 2, 3] and size (N, C, H, W) -> [N, H, W, 2]; 3-D: [N, D, H, W, 3]."""
    dtype = ctx.dtype(0)
    size = ctx.ints(1)
    if size is None:
        st = ctx.input_type(1)
        sshape = getattr(st, "shape", None)
        if sshape is None or len(sshape) != 1 or sshape[0] not in (4, 5):
            ctx.unknown("size (input 1) is not known")
        r = int(sshape[0]) - 2
        ctx.set_tensor(0, dtype, [*ctx.fresh_dims(r + 1), r])
        return
    if len(size) not in (4, 5):
        ctx.fail(f"size has {len(size)} values, 4 or 5 expected")
    ctx.set_tensor(0, dtype, [size[0], *size[2:], len(size) - 2])


@register_rule("CenterCropPad", since=18)
def _center_crop_pad(ctx: Context) -> None:
    """The input with the dims at ``axes`` (default all) replaced by ``shape``."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    axes = _axes(ctx, len(xs))
    shape = ctx.ints(1)
    out: list[Dim] = list(xs)
    if shape is None:
        for a in axes:
            out[a] = ctx.fresh()
    else:
        if len(shape) != len(axes):
            ctx.fail(f"shape has {len(shape)} values for {len(axes)} axes")
        for a, s in zip(axes, shape, strict=True):
            if not is_symbolic_int(s):
                ctx.fail("shape must hold integers")
            out[a] = s
    ctx.set_tensor(0, dtype, out)


@register_rule("ImageDecoder", since=20)
def _image_decoder(ctx: Context) -> None:
    """uint8 [H, W, 3] (RGB, BGR) or [H, W, 1] (Grayscale); H and W come from the data."""
    fmt = ctx.attr("pixel_format", "RGB")
    channels = {"RGB": 3, "BGR": 3, "Grayscale": 1}.get(fmt)
    if channels is None:
        ctx.fail(f"pixel_format {fmt!r} is not RGB, BGR or Grayscale")
    ctx.set_tensor(0, DataType.UINT8, [ctx.fresh(), ctx.fresh(), channels])
