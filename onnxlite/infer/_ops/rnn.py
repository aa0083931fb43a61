"""Recurrent layers: RNN, GRU, LSTM, every version (layout attribute since 14)
(https://onnx.ai/onnx/operators/onnx__LSTM.html and the others)."""

from __future__ import annotations

from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _hidden(ctx: Context) -> Dim:
    """hidden_size, else R's last dim ([num_directions, gates*hidden, hidden])."""
    h = ctx.attr("hidden_size")
    if h is not None:
        return int(h)
    r = ctx.input_type(2)
    shape = getattr(r, "shape", None)
    if shape is not None and len(shape) == 3:
        return shape[2]
    return ctx.fresh()


@register_rule(["RNN", "GRU", "LSTM"])
def _recurrent(ctx: Context) -> None:
    """X [seq, batch, input] (layout 1: [batch, seq, input]) ->
    Y [seq, dirs, batch, hidden] ([batch, seq, dirs, hidden]), Y_h (and LSTM's Y_c)
    [dirs, batch, hidden] ([batch, dirs, hidden])."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) != 3:
        ctx.fail(f"X has rank {len(xs)}, 3 expected")
    direction = ctx.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        ctx.fail(f"direction {direction!r} is not forward, reverse or bidirectional")
    dirs = 2 if direction == "bidirectional" else 1
    hidden = _hidden(ctx)
    layout = int(ctx.attr("layout", 0))
    if layout not in (0, 1):
        ctx.fail(f"layout {layout} is not 0 or 1")
    if layout == 0:
        seq, batch = xs[0], xs[1]
        ctx.set_tensor(0, dtype, [seq, dirs, batch, hidden])
        state = [dirs, batch, hidden]
    else:
        batch, seq = xs[0], xs[1]
        ctx.set_tensor(0, dtype, [batch, seq, dirs, hidden])
        state = [batch, dirs, hidden]
    ctx.set_tensor(1, dtype, state)
    if ctx.op_type == "LSTM":
        ctx.set_tensor(2, dtype, state)
