"""Einsum (full equation: implicit and explicit output, ellipsis, broadcasting) and Det
(https://onnx.ai/onnx/operators/onnx__Einsum.html, onnx__Det.html)."""

from __future__ import annotations

from onnxlite.infer._rules import Context, register_rule
from onnxlite.infer._sym import Dim

_ELLIPSIS = "."  # "..." is read as one marker


def _term(ctx: Context, text: str) -> list[str]:
    """The labels of one term: letters, and "." for an ellipsis (at most one)."""
    out: list[str] = []
    k = 0
    while k < len(text):
        ch = text[k]
        if ch == ".":
            if text[k:k + 3] != "..." or _ELLIPSIS in out:
                ctx.fail(f"bad ellipsis in einsum term {text!r}")
            out.append(_ELLIPSIS)
            k += 3
            continue
        if not ("a" <= ch <= "z" or "A" <= ch <= "Z"):
            ctx.fail(f"einsum term {text!r} holds {ch!r}")
        out.append(ch)
        k += 1
    return out


def _letter_dim(ctx: Context, dims: list[Dim]) -> Dim:
    """One size for a letter seen with ``dims``: all equal, or the one number among symbols;
    a 1 against another size (broadcast or error, per runtime) gives a fresh symbol."""
    first = dims[0]
    if all(d == first for d in dims):
        return first
    ints = {d for d in dims if isinstance(d, int)}
    if len(ints) > 1:
        if 1 in ints and len(ints) == 2:
            return ctx.fresh()
        ctx.fail(f"einsum label has sizes {sorted(ints)}")
    if len(ints) == 1:
        (v,) = ints
        return ctx.fresh() if v == 1 else v
    return ctx.fresh()


@register_rule("Einsum", since=12)
def _einsum(ctx: Context) -> None:
    equation = ctx.attr("equation")
    if not isinstance(equation, str):
        ctx.fail("equation is required")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = [_term(ctx, t) for t in lhs.split(",")]
    if len(terms) != ctx.num_inputs:
        ctx.fail(f"equation has {len(terms)} terms for {ctx.num_inputs} inputs")
    dtype = None
    seen: dict[str, list[Dim]] = {}
    counts: dict[str, int] = {}
    ellipses: list[tuple[Dim, ...]] = []
    for i, labels in enumerate(terms):
        t = ctx.tensor(i)
        dtype = dtype or t.dtype
        if t.shape is None:
            ctx.unknown(f"input {i} has no known rank")
        shape = t.shape
        letters = [c for c in labels if c != _ELLIPSIS]
        if _ELLIPSIS in labels:
            n_ell = len(shape) - len(letters)
            if n_ell < 0:
                ctx.fail(f"term {i} has {len(letters)} labels for rank {len(shape)}")
        elif len(letters) != len(shape):
            ctx.fail(f"term {i} has {len(letters)} labels for rank {len(shape)}")
        else:
            n_ell = 0
        k = 0
        for c in labels:
            if c == _ELLIPSIS:
                ellipses.append(tuple(shape[k:k + n_ell]))
                k += n_ell
                continue
            seen.setdefault(c, []).append(shape[k])
            counts[c] = counts.get(c, 0) + 1
            k += 1
    ell_dims = list(ctx.broadcast(*ellipses)) if ellipses else []
    if arrow:
        out_labels = _term(ctx, rhs)
        for c in out_labels:
            if c != _ELLIPSIS and c not in seen:
                ctx.fail(f"output label {c!r} is not in any input term")
        if len(set(out_labels)) != len(out_labels):
            ctx.fail(f"output term {rhs!r} repeats a label")
    else:
        out_labels = ([_ELLIPSIS] if ellipses else []) + sorted(c for c, n in counts.items() if n == 1)
    out: list[Dim] = []
    for c in out_labels:
        if c == _ELLIPSIS:
            out.extend(ell_dims)
        else:
            out.append(_letter_dim(ctx, seen[c]))
    ctx.set_tensor(0, dtype, out)


@register_rule("Det", since=11)
def _det(ctx: Context) -> None:
    """[*, M, M] -> [*]."""
    dtype = ctx.dtype(0)
    xs = ctx.shape(0)
    if len(xs) < 2:
        ctx.fail(f"input has rank {len(xs)}, at least 2 expected")
    if isinstance(xs[-1], int) and isinstance(xs[-2], int) and xs[-1] != xs[-2]:
        ctx.fail(f"matrices are {xs[-2]}x{xs[-1]}, not square")
    ctx.set_tensor(0, dtype, xs[:-2])
