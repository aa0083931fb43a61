"""The ai.onnx.preview.training ops: the optimizers Adagrad, Momentum, Adam, and Gradient
(https://onnx.ai/onnx/operators/onnx_aionnxpreviewtraining_Adam.html and the others).

Inputs are R (learning rate), T (update count), then n tensors to optimize followed by their
gradients and their accumulated states; outputs are the n new tensors, then the n new states
of each kind. Every output has the type of the input it replaces."""

from __future__ import annotations

from onnxlite.dtypes import DataType
from onnxlite.infer._rules import Context, register_rule

TRAINING = "ai.onnx.preview.training"
#: Gradient's output types (T2)
FLOAT_GRADIENTS = frozenset([DataType.FLOAT16, DataType.FLOAT, DataType.DOUBLE])


def _optimizer(ctx: Context, groups: int, state_groups: tuple[int, ...]) -> None:
    """``groups`` lists of n inputs after R and T (X, G, then states); the outputs are X_new then
    one list per state, in ``state_groups`` order (their input group numbers)."""
    rest = ctx.num_inputs - 2
    if rest <= 0 or rest % groups:
        ctx.fail(f"{rest} inputs after R and T, a multiple of {groups} expected")
    n = rest // groups
    if ctx.num_outputs > n * (1 + len(state_groups)):
        ctx.fail(f"{ctx.num_outputs} outputs for {n} optimized tensors")
    for k, group in enumerate((0, *state_groups)):
        for j in range(n):
            t = ctx.input_type(2 + group * n + j)
            if t is not None:
                ctx.set_output(k * n + j, t)


@register_rule("Adagrad", domain=TRAINING)
def _adagrad(ctx: Context) -> None:
    """Inputs X.., G.., H..; outputs X_new.., H_new.."""
    _optimizer(ctx, 3, (2,))


@register_rule("Momentum", domain=TRAINING)
def _momentum(ctx: Context) -> None:
    """Inputs X.., G.., V..; outputs X_new.., V_new.."""
    _optimizer(ctx, 3, (2,))


@register_rule("Adam", domain=TRAINING)
def _adam(ctx: Context) -> None:
    """Inputs X.., G.., V.., H..; outputs X_new.., V_new.., H_new.."""
    _optimizer(ctx, 4, (2, 3))


@register_rule("Gradient", domain=TRAINING)
def _gradient(ctx: Context) -> None:
    """Inputs: the tensors named by ``xs`` then those named by ``zs``; output i is the gradient
    of ``y`` with respect to xs[i]: the shape of input i, a float type (T2) like it."""
    xs = list(ctx.attr("xs") or [])
    zs = list(ctx.attr("zs") or [])
    if ctx.attr("y") is None:
        ctx.fail("the 'y' attribute is missing")
    if ctx.num_inputs != len(xs) + len(zs):
        ctx.fail(f"{ctx.num_inputs} inputs for {len(xs)} xs and {len(zs)} zs")
    if ctx.num_outputs > len(xs):
        ctx.fail(f"{ctx.num_outputs} outputs for {len(xs)} xs")
    for i in range(ctx.num_outputs):
        x = ctx.tensor(i)
        dtype = x.dtype if x.dtype in FLOAT_GRADIENTS else None
        ctx.set_tensor(i, dtype, x.shape)
