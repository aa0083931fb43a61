"""Signal processing: DFT (17: axis attribute; 20: axis input), STFT, MelWeightMatrix,
HannWindow / HammingWindow / BlackmanWindow (https://onnx.ai/onnx/operators/onnx__DFT.html and
the others)."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim, floordiv


def _scalar(ctx: Context, i: int) -> Dim | None:
    """The value of scalar (or one-element) integer input ``i``, None when not known."""
    v = ctx.ints(i) if ctx.has_input(i) else None
    if v is None or len(v) != 1:
        return None
    return v[0]


def _dft(ctx: Context, axis: int | None) -> None:
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    r = len(xs)
    if r < 2:
        ctx.fail(f"input has rank {r}, at least 2 expected")
    if axis is None:
        ctx.set_tensor(0, dtype, ctx.fresh_dims(r))
        return
    if not (-r <= axis <= -2 or 0 <= axis <= r - 2):
        ctx.fail(f"axis {axis} is out of range for rank {r}")
    axis = axis + r if axis < 0 else axis
    inverse = bool(ctx.attr("inverse", 0))
    onesided = bool(ctx.attr("onesided", 0))
    out: list[Dim] = list(xs)
    irfft = onesided and inverse
    if ctx.has_input(1):
        length = _scalar(ctx, 1)
        if length is None:
            length = ctx.fresh()
    else:
        length = 2 * (xs[axis] - 1) if irfft else xs[axis]
    if irfft:
        if ctx.opset < 20:
            ctx.unknown("an inverse one-sided DFT before opset 20 has no specified output shape")
        out[axis] = length
        out[-1] = 1
    elif onesided:
        out[axis] = floordiv(length, 2) + 1
        out[-1] = 2
    else:
        out[axis] = length
        out[-1] = 2
    ctx.set_tensor(0, dtype, out)


@register_rule("DFT", since=17)
def _dft_17(ctx: Context) -> None:
    """axis attribute (default 1); the last dim (1 real, 2 complex) becomes 2, the DFT axis
    dft_length, or floor(dft_length/2) + 1 when onesided."""
    _dft(ctx, int(ctx.attr("axis", 1)))


@register_rule("DFT", since=20)
def _dft_20(ctx: Context) -> None:
    """axis as input 2 (default -2); the inverse one-sided DFT (IRFFT) gives a real output
    of dft_length (default 2 * (n - 1))."""
    if ctx.has_input(2):
        a = _scalar(ctx, 2)
        _dft(ctx, None if a is None or not isinstance(a, int) else a)
    else:
        _dft(ctx, -2)


@register_rule("STFT", since=17)
def _stft(ctx: Context) -> None:
    """[batch, frames, bins, 2]: frames = floor((signal_length - frame_length) / frame_step) + 1,
    bins = frame_length // 2 + 1 when onesided (default 1), else frame_length."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"signal has rank {len(xs)}, 3 expected")
    step = _scalar(ctx, 1)
    frame: Dim | None = None
    if ctx.has_input(3):
        frame = _scalar(ctx, 3)
    elif ctx.has_input(2):
        w = ctx.input_type(2)
        wshape = getattr(w, "shape", None)
        if wshape is not None and len(wshape) == 1:
            frame = wshape[0]
    else:
        frame = xs[1]
    frames: Dim
    if step is None or frame is None or not isinstance(step, int) or step <= 0:
        frames = ctx.fresh()
    else:
        frames = floordiv(xs[1] - frame, step) + 1
    bins: Dim
    if frame is None:
        bins = ctx.fresh()
    else:
        bins = floordiv(frame, 2) + 1 if int(ctx.attr("onesided", 1)) else frame
    ctx.set_tensor(0, dtype, [xs[0], frames, bins, 2])


def _datatype(ctx: Context) -> DataType:
    v = int(ctx.attr("output_datatype", 1))
    try:
        return DataType(v)
    except ValueError:
        ctx.fail(f"output_datatype {v} is not a data type")


@register_rule("MelWeightMatrix", since=17)
def _mel_weight_matrix(ctx: Context) -> None:
    """[floor(dft_length/2) + 1, num_mel_bins] of output_datatype (float)."""
    bins = _scalar(ctx, 0)
    length = _scalar(ctx, 1)
    ctx.set_tensor(0, _datatype(ctx), [ctx.fresh() if length is None else floordiv(length, 2) + 1,
                                       ctx.fresh() if bins is None else bins])


@register_rule(["HannWindow", "HammingWindow", "BlackmanWindow"], since=17)
def _window(ctx: Context) -> None:
    """[size] of output_datatype (float)."""
    size = _scalar(ctx, 0)
    ctx.set_tensor(0, _datatype(ctx), [ctx.fresh() if size is None else size])
