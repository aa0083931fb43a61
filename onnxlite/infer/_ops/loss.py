"""Losses: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (with log_prob)
(https://onnx.ai/onnx/operators/onnx__NegativeLogLikelihoodLoss.html and the other)."""

from __future__ import annotations

from onnxlite.infer._rules import Context, register_rule


def _loss(ctx: Context) -> None:
    """reduction 'none': the target's shape [N, d1, ...]; 'mean' (default) or 'sum': a scalar."""
    dtype = ctx.dtype(0)
    reduction = ctx.attr("reduction", "mean")
    if reduction not in ("none", "mean", "sum"):
        ctx.fail(f"reduction {reduction!r} is not none, mean or sum")
    xs = ctx.shape(0)
    if len(xs) < 2:
        ctx.fail(f"input has rank {len(xs)}, at least 2 expected")
    if reduction == "none":
        target = ctx.input_type(1)
        tshape = getattr(target, "shape", None)
        ctx.set_tensor(0, dtype, tshape if tshape is not None else [xs[0], *xs[2:]])
    else:
        ctx.set_tensor(0, dtype, [])


@register_rule("NegativeLogLikelihoodLoss", since=12)
def _nll_loss(ctx: Context) -> None:
    _loss(ctx)


@register_rule("SoftmaxCrossEntropyLoss", since=12)
def _sce_loss(ctx: Context) -> None:
    """output as NegativeLogLikelihoodLoss; log_prob has the scores' type."""
    _loss(ctx)
    ctx.set_output(1, ctx.tensor(0))
