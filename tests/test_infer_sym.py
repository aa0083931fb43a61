"""Symbolic dims (onnxlite.infer._sym): canonical form, exact floor division, max/min folding,
printing and parsing, evaluation, bounds. sympy is the oracle for polynomial equality; Python's
integer arithmetic for evaluation."""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from onnxlite.infer import (
    Expr,
    ExprTooLarge,
    dim_max,
    dim_min,
    evaluate,
    format_dim,
    free_symbols,
    parse_dim,
    symbol,
)
from onnxlite.infer._sym import MAX_SIZE, capped

N, H, S = symbol("N"), symbol("H"), symbol("S")
NAMES = ("A", "B", "C")


@pytest.mark.parametrize(("dim", "text"), [
    (N + N, "2*N"),
    (2 * N * S, "2*N*S"),
    (S * N * 2, "2*N*S"),
    ((H - 3) // 2 + 1, "(H - 3)//2 + 1"),
    ((2 * N) // 2, "N"),
    ((2 * N + 4) // 2, "N + 2"),
    ((2 * N + 5) // 2, "N + 2"),
    (N // 2 // 3, "N//6"),
    ((S - 10) // 5, "S//5 - 2"),  # a constant that is a multiple of the divisor comes out
    (((S - 10) // 5 - 2) // 2, "S//10 - 2"),
    (((H - 3) // 2 - 2) // 2, "(H - 3)//4 - 1"),
    (((H - 3) // 2 + 1) // 2, "(H - 1)//4"),  # (x//c + k)//d == (x + k*c)//(c*d)
    (((H - 3) // 2 + 4) // 3, "(H + 5)//6"),
    ((32 * N * S - 32 * N) // (16 * N * S - 16 * N), "2"),  # an exact polynomial quotient
    ((S * S - 1) // (S - 1), "S + 1"),
    ((S * S) // (S + 1), "(S*S)//(S + 1)"),
    ((N * S) // S, "N"),
    (N % 2, "N%2"),
    ((2 * N + 3) % 2, "1"),
    ((2 * N) % 4, "2*(N%2)"),
    (dim_max(N, N), "N"),
    (dim_max(N, N + 1), "N + 1"),
    (dim_max(0, N), "N"),
    (dim_min(N, N + 1), "N"),
    (dim_max(N, H), "max(H, N)"),
    (dim_min(3, H, 5), "min(3, H)"),
    (N * N - 1, "N*N - 1"),
    (-N + 4, "-N + 4"),
    (-(N // 2), "-(N//2)"),
    (3 - N - 3 + N, "0"),
])
def test_canonical_form_and_printing(dim: int | Expr, text: str) -> None:
    assert format_dim(dim) == text
    assert parse_dim(text) == dim
    assert hash(parse_dim(text)) == hash(dim)


def test_a_chain_of_strided_convs_equals_the_division_it_folds_to() -> None:
    """Wav2Vec2's feature extractor (kernels 10, 3, 3; strides 5, 2, 2) against the frame count
    torch.export simplified it to: one canonical form, so one symbol stands for one size."""
    frames = S
    for kernel, stride in ((10, 5), (3, 2), (3, 2)):
        frames = (frames - kernel) // stride + 1
    assert frames == S // 20 - 1 and format_dim(frames) == "S//20 - 1"
    for s in range(30, 200):
        assert evaluate(frames, {"S": s}) == ((((s - 10) // 5 + 1 - 3) // 2 + 1) - 3) // 2 + 1


def test_capped_by_a_constant() -> None:
    assert capped(dim_min(64, S), S) and capped(dim_min(S, 1, 8), S)
    assert not capped(dim_min(0, S), S)  # min(0, 1) = 0 would broadcast against S = 1 to 0
    assert not capped(dim_min(H, S), S) and not capped(dim_max(64, S), S) and not capped(S, S)
    assert not capped(dim_min(64, S), N)


def test_equal_sizes_compare_equal() -> None:
    assert 2 * N == N + N and hash(2 * N) == hash(N + N)
    assert (N + 1) * (N - 1) == N * N - 1
    assert N * S != N * H
    assert (N - N) == 0 and isinstance(N - N, int)


@pytest.mark.parametrize("text", ["batch size", "N-", "a.b", "max(", "", "(((N)", "1/2", "N**2"])
def test_other_dim_params_are_one_symbol(text: str) -> None:
    if not text:
        with pytest.raises(ValueError, match="name"):
            parse_dim(text)
        return
    d = parse_dim(text)
    assert isinstance(d, Expr) and free_symbols(d) == {text} and format_dim(d) == text


def test_numbers_parse_as_numbers() -> None:
    assert parse_dim("3") == 3 and parse_dim("2*3 + 1") == 7 and parse_dim("-4") == -4


def test_evaluation_binds_symbols() -> None:
    assert evaluate((H - 3) // 2 + 1, {"H": 11}) == 5
    assert evaluate(dim_max(N, H), {"N": 2}) == dim_max(2, H)
    assert evaluate(N * S, {"S": 4}) == 4 * N


def test_bounded_size() -> None:
    e: int | Expr = 1
    with pytest.raises(ExprTooLarge):
        for k in range(200):
            e = e * symbol(f"s{k % 7}") + k
    big = parse_dim("+".join(f"x{k}" for k in range(MAX_SIZE * 2)))  # too large: one symbol
    assert isinstance(big, Expr) and len(free_symbols(big)) == 1
    deep = parse_dim("(" * 500 + "N" + ")" * 500)  # too deep: one symbol, no RecursionError
    assert free_symbols(deep) == {"(" * 500 + "N" + ")" * 500}


# --- random expressions: sympy and Python as oracles ----------------------------------------------

def _poly_pair(draw: st.DrawFn, depth: int = 0) -> tuple[int | Expr, sympy.Expr]:
    kind = draw(st.integers(0, 5 if depth < 3 else 1))
    if kind == 0:
        k = draw(st.integers(-6, 9))
        return k, sympy.Integer(k)
    if kind == 1:
        name = draw(st.sampled_from(NAMES))
        return symbol(name), sympy.Symbol(name)
    (a, sa), (b, sb) = _poly_pair(draw, depth + 1), _poly_pair(draw, depth + 1)
    if kind in (2, 3):
        return a + b, sa + sb
    if kind == 4:
        return a - b, sa - sb
    return a * b, sa * sb


polys = st.composite(_poly_pair)()


@settings(max_examples=150, deadline=None)
@given(polys, polys)
def test_polynomial_equality_agrees_with_sympy(p: tuple[int | Expr, sympy.Expr],
                                               q: tuple[int | Expr, sympy.Expr]) -> None:
    try:
        ours = p[0] == q[0]
    except ExprTooLarge:
        return
    assert ours == (sympy.expand(p[1] - q[1]) == 0)
    if ours:
        assert hash(p[0]) == hash(q[0])


def _random_dim(rng: random.Random, depth: int = 0) -> int | Expr:
    kind = rng.randrange(8 if depth < 3 else 2)
    if kind == 0:
        return rng.randrange(-5, 9)
    if kind == 1:
        return symbol(rng.choice(NAMES))
    a, b = _random_dim(rng, depth + 1), _random_dim(rng, depth + 1)
    if kind == 2:
        return a + b
    if kind == 3:
        return a - b
    if kind == 4:
        return a * b
    if kind == 5:
        return a // rng.choice([rng.randrange(1, 5), b])
    if kind == 6:
        return a % rng.choice([rng.randrange(1, 5), b])
    return dim_max(a, b) if rng.random() < 0.5 else dim_min(a, b)


@pytest.mark.parametrize("seed", range(4))
def test_evaluation_and_printing_agree_with_python(seed: int) -> None:
    """Random expressions (+ - * // % max min): evaluated with random non-negative bindings they
    give what Python computes from their printed text, and the text parses back to them."""
    rng = random.Random(seed)
    checked = 0
    for _ in range(1500):
        try:
            d = _random_dim(rng)
        except (ExprTooLarge, ZeroDivisionError):
            continue
        env = {name: rng.randrange(0, 20) for name in NAMES}
        text = format_dim(d)
        try:
            expected = eval(text, {"max": max, "min": min}, dict(env))  # noqa: S307 - our own text
        except ZeroDivisionError:
            continue
        assert evaluate(d, env) == expected, text
        assert parse_dim(text) == d, text
        checked += 1
    assert checked > 1000
