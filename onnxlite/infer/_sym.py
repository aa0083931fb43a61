"""Symbolic dimensions: a small exact algebra over named sizes (no sympy).

A dim is an ``int`` or an `Expr`. An `Expr` is a polynomial with integer coefficients over atoms:
named symbols, exact floor divisions ``a//b`` and remainders ``a%b`` that do not simplify, and
``max(...)`` / ``min(...)``. The form is canonical, so equal sizes compare (and hash) equal:
``2*N == N + N``, ``(2*N + 4)//2 == N + 2``. An `Expr` never stands for a constant: arithmetic
that cancels every symbol returns a plain ``int``.

Symbols stand for sizes, so they are taken to be non-negative integers; `max`/`min` fold when
that decides them (``max(N, N + 1) == N + 1``, ``max(0, N) == N``).

Printing (`format_dim`) writes ``+ - * // %``, ``max(a, b)``, ``min(a, b)``, the integer
coefficient first, terms in a fixed order (higher degree first, the constant last), parentheses
only where needed: ``(H - 3)//2 + 1``, ``2*N*S``. `parse_dim` reads that syntax back; any other
dim_param string is one symbol.

Expressions are bounded (`MAX_SIZE` atoms and terms): an operation whose result would be larger
raises `ExprTooLarge`, and the inference engine turns that into a fresh symbol.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

__all__ = [
    "MAX_SIZE", "Dim", "Expr", "ExprTooLarge", "dim_max", "dim_min", "evaluate", "floordiv", "format_dim",
    "free_symbols", "mod", "parse_dim", "symbol",
]

#: The largest expression kept (terms plus atoms, counted recursively).
MAX_SIZE = 64
_MAX_COEFF = 2**63


class ExprTooLarge(ArithmeticError):
    """A symbolic result would exceed `MAX_SIZE` (or its coefficients 2**63)."""


# --- atoms --------------------------------------------------------------------------------------

class _Atom:
    __slots__ = ("key", "size", "_hash")

    key: tuple[int, str]
    size: int
    _hash: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Atom) and self.key == other.key

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: _Atom) -> bool:
        return self.key < other.key

    def nonneg(self) -> bool:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError


class _Sym(_Atom):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = (0, name)
        self.size = 1
        self._hash = hash(self.key)

    def nonneg(self) -> bool:
        return True

    def text(self) -> str:
        return self.name


class _Div(_Atom):
    """``num // den`` (op '//') or ``num % den`` (op '%'), kept because it does not simplify."""

    __slots__ = ("op", "num", "den")

    def __init__(self, op: str, num: Dim, den: Dim) -> None:
        self.op = op
        self.num = num
        self.den = den
        self.size = 1 + _size(num) + _size(den)
        self.key = (1 if op == "//" else 2, self.text())
        self._hash = hash(self.key)

    def nonneg(self) -> bool:
        return _nonneg(self.num) and _nonneg(self.den)

    def text(self) -> str:
        return f"{_operand(self.num)}{self.op}{_operand(self.den)}"


class _Ext(_Atom):
    """``max(args)`` (op 'max') or ``min(args)`` (op 'min') that does not fold."""

    __slots__ = ("op", "args")

    def __init__(self, op: str, args: tuple[Dim, ...]) -> None:
        self.op = op
        self.args = args
        self.size = 1 + sum(_size(a) for a in args)
        self.key = (3 if op == "max" else 4, self.text())
        self._hash = hash(self.key)

    def nonneg(self) -> bool:
        check = any if self.op == "max" else all
        return check(_nonneg(a) for a in self.args)

    def text(self) -> str:
        return f"{self.op}({', '.join(format_dim(a) for a in self.args)})"


_Mono = tuple[_Atom, ...]  # sorted atoms; repeated for powers


# --- expressions --------------------------------------------------------------------------------

class Expr:
    """A canonical symbolic size (never a constant: those are plain ints).

    >>> n = symbol("N")
    >>> (n + n == 2 * n, format_dim((n * 2 + 4) // 2), format_dim(max(n, n + 1) if False else n - 3))
    (True, 'N + 2', 'N - 3')
    """

    __slots__ = ("terms", "size", "_hash")

    def __init__(self, terms: tuple[tuple[_Mono, int], ...], size: int) -> None:
        self.terms = terms  # canonical order; the constant term (empty monomial) last, if any
        self.size = size
        self._hash = hash(terms)

    # arithmetic with ints and Exprs
    def __add__(self, other: Dim) -> Dim:
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other: Dim) -> Dim:
        return add(self, neg(other))

    def __rsub__(self, other: Dim) -> Dim:
        return add(other, neg(self))

    def __mul__(self, other: Dim) -> Dim:
        return mul(self, other)

    __rmul__ = __mul__

    def __neg__(self) -> Dim:
        return neg(self)

    def __floordiv__(self, other: Dim) -> Dim:
        return floordiv(self, other)

    def __rfloordiv__(self, other: Dim) -> Dim:
        return floordiv(other, self)

    def __mod__(self, other: Dim) -> Dim:
        return mod(self, other)

    def __rmod__(self, other: Dim) -> Dim:
        return mod(other, self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self._hash == other._hash and self.terms == other.terms

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return format_dim(self)

    def __repr__(self) -> str:
        return f"Expr({format_dim(self)!r})"

    def __bool__(self) -> bool:  # an Expr is never the constant 0
        return True


Dim = int | Expr


def _size(d: Dim) -> int:
    return d.size if isinstance(d, Expr) else 1


def _poly(d: Dim) -> dict[_Mono, int]:
    if isinstance(d, Expr):
        return dict(d.terms)
    return {(): int(d)} if d else {}


def _mono_key(m: _Mono) -> tuple[int, tuple[tuple[int, str], ...]]:
    return (-len(m), tuple(a.key for a in m))


def _build(poly: Mapping[_Mono, int]) -> Dim:
    items = [(m, c) for m, c in poly.items() if c]
    if not items:
        return 0
    if len(items) == 1 and not items[0][0]:
        return items[0][1]
    items.sort(key=lambda mc: (not mc[0], _mono_key(mc[0])))
    size = 0
    for m, c in items:
        if abs(c) > _MAX_COEFF:
            raise ExprTooLarge("coefficient too large")
        size += 1 + sum(a.size for a in m)
    if size > MAX_SIZE:
        raise ExprTooLarge(f"expression of size {size}")
    return Expr(tuple(items), size)


def _atom_expr(atom: _Atom) -> Expr:
    if atom.size + 1 > MAX_SIZE:
        raise ExprTooLarge(f"expression of size {atom.size + 1}")
    return Expr((((atom,), 1),), atom.size + 1)


def symbol(name: str) -> Expr:
    """The symbol ``name`` (any non-empty string; non-negative by assumption)."""
    if not name:
        raise ValueError("a symbol needs a name")
    return _atom_expr(_Sym(name))


def add(a: Dim, b: Dim) -> Dim:
    if not isinstance(a, Expr) and not isinstance(b, Expr):
        return int(a) + int(b)
    poly = _poly(a)
    for m, c in _poly(b).items():
        poly[m] = poly.get(m, 0) + c
    return _build(poly)


def neg(a: Dim) -> Dim:
    if not isinstance(a, Expr):
        return -int(a)
    return Expr(tuple((m, -c) for m, c in a.terms), a.size)


def sub(a: Dim, b: Dim) -> Dim:
    return add(a, neg(b))


def mul(a: Dim, b: Dim) -> Dim:
    if not isinstance(a, Expr) and not isinstance(b, Expr):
        return int(a) * int(b)
    pa, pb = _poly(a), _poly(b)
    if len(pa) * len(pb) > 4 * MAX_SIZE:
        raise ExprTooLarge("product too large")
    poly: dict[_Mono, int] = {}
    for ma, ca in pa.items():
        for mb, cb in pb.items():
            m = tuple(sorted(ma + mb)) if ma and mb else ma or mb
            poly[m] = poly.get(m, 0) + ca * cb
    return _build(poly)


def _divide_mono(m: _Mono, by: _Mono) -> _Mono | None:
    rest = list(m)
    for atom in by:
        try:
            rest.remove(atom)
        except ValueError:
            return None
    return tuple(rest)


def _split(a: Dim, b: int) -> tuple[Dim, dict[_Mono, int]]:
    """a = b*q + r with every coefficient of r in [0, b): (q, r as a polynomial)."""
    q: dict[_Mono, int] = {}
    r: dict[_Mono, int] = {}
    for m, c in _poly(a).items():
        qc, rc = divmod(c, b)
        if qc:
            q[m] = qc
        if rc:
            r[m] = rc
    return _build(q), r


def floordiv(a: Dim, b: Dim) -> Dim:
    """Exact floor division ``a // b`` (ZeroDivisionError for a zero constant divisor)."""
    if not isinstance(b, Expr):
        b = int(b)
        if b == 0:
            raise ZeroDivisionError("division of a dim by zero")
        if not isinstance(a, Expr):
            return int(a) // b
        if b < 0:
            a, b = neg(a), -b
        if b == 1:
            return a
        # a = b*q + r: multiples of b leave the symbolic terms; the constant stays inside unless
        # nothing symbolic is left or it is a multiple of b ((H - 3)//2 + 1 reads as the conv
        # formula it came from, (S - 10)//5 becomes S//5 - 2 so that a chain of strided convs
        # and the single division an exporter folded it to meet: ((S//5 - 4)//2 == S//10 - 2)
        q, r = _split(a, b)
        const = _poly(a).get((), 0)
        r.pop((), None)
        if not r:
            return q  # its constant is const // b; the remainder of const is in [0, b)
        if const % b:
            q = sub(q, const // b)  # _split moved const's multiples out: put the whole constant back in
            r[()] = const
        g = math.gcd(b, *r.values())
        rest = _build({m: c // g for m, c in r.items()})
        den = b // g
        if den == 1:
            return add(q, rest)
        k = _poly(rest).get((), 0)
        atom = _lone_atom(sub(rest, k))
        if atom is not None and isinstance(atom, _Div) and atom.op == "//" and not isinstance(atom.den, Expr):
            # (x//c + k)//d == ((x + k*c)//c)//d == (x + k*c)//(c*d) for integer k, c, d > 0
            return add(q, floordiv(add(atom.num, k * atom.den), atom.den * den))
        return add(q, _atom_expr(_Div("//", rest, den)))
    if a == 0:
        return 0
    if a == b:
        return 1
    if len(b.terms) == 1:  # a monomial divisor (taken positive: it is a size)
        mb, cb = b.terms[0]
        divided: dict[_Mono, int] = {}
        for m, c in _poly(a).items():
            rest_m = _divide_mono(m, mb)
            if rest_m is None:
                break
            divided[rest_m] = c
        else:
            return floordiv(_build(divided), cb)
    else:
        exact = _exact_quotient(a, b)
        if exact is not None:
            return exact
    return _atom_expr(_Div("//", a, b))


def _exact_quotient(a: Dim, b: Expr) -> Dim | None:
    """``q`` with ``a == q*b`` found by long division on the terms' order, or None; Reshape's
    ``-1`` is numel(input) // numel(given dims), both expanded: (32*B*S - 32*B)//(16*B*S - 16*B)."""
    (mb, cb) = b.terms[0]
    rest: Dim = a
    q: Dim = 0
    for _ in range(len(_poly(a)) + 1):
        if not isinstance(rest, Expr):
            return q if rest == 0 else None
        (mr, cr) = rest.terms[0]
        m = _divide_mono(mr, mb)
        if m is None or cr % cb:
            return None
        step = _build({m: cr // cb})
        q, rest = add(q, step), sub(rest, mul(step, b))
    return None


def mod(a: Dim, b: Dim) -> Dim:
    """``a % b`` with Python's (floor) sign rule."""
    if not isinstance(b, Expr):
        b = int(b)
        if b == 0:
            raise ZeroDivisionError("remainder of a dim by zero")
        if not isinstance(a, Expr):
            return int(a) % b
        if b < 0:
            return neg(mod(neg(a), -b))
        _q, r = _split(a, b)
        if not r or (len(r) == 1 and () in r):
            return r.get((), 0)
        g = math.gcd(b, *r.values())
        rest = _build({m: c // g for m, c in r.items()})
        if b // g == 1:
            return 0
        return mul(g, _atom_expr(_Div("%", rest, b // g)))
    if a == 0 or a == b:
        return 0
    q = floordiv(a, b)
    if not (isinstance(q, Expr) and any(isinstance(x, _Div) for m, _ in q.terms for x in m)):
        return sub(a, mul(b, q))  # exact division
    return _atom_expr(_Div("%", a, b))


def _nonneg(d: Dim) -> bool:
    if not isinstance(d, Expr):
        return d >= 0
    return all(c > 0 and all(x.nonneg() for x in m) for m, c in d.terms)


def _nonpos(d: Dim) -> bool:
    if not isinstance(d, Expr):
        return d <= 0
    return all(c < 0 and all(x.nonneg() for x in m) for m, c in d.terms)


def _extremum(op: str, args: Iterable[Dim]) -> Dim:
    flat: list[Dim] = []
    for a in args:
        if isinstance(a, Expr) and len(a.terms) == 1 and a.terms[0][1] == 1 and len(a.terms[0][0]) == 1:
            atom = a.terms[0][0][0]
            if isinstance(atom, _Ext) and atom.op == op:
                flat.extend(atom.args)
                continue
        flat.append(a)
    if not flat:
        raise ValueError(f"{op}() of nothing")
    ints = [a for a in flat if not isinstance(a, Expr)]
    kept: list[Dim] = []
    if ints:
        kept.append(max(ints) if op == "max" else min(ints))
    for a in flat:
        if isinstance(a, Expr) and a not in kept:
            kept.append(a)
    # drop an argument another one decides: for max, x when y - x >= 0 for some other y
    better = _nonneg if op == "max" else _nonpos
    i = 0
    while i < len(kept) and len(kept) > 1:
        x = kept[i]
        if any(better(sub(y, x)) for j, y in enumerate(kept) if j != i):
            del kept[i]
            i = 0
        else:
            i += 1
    if len(kept) == 1:
        return kept[0]
    kept.sort(key=lambda d: (0, (), "") if not isinstance(d, Expr) else (1, _mono_key(d.terms[0][0]), str(d)))
    return _atom_expr(_Ext(op, tuple(kept)))


def dim_max(*args: Dim) -> Dim:
    """``max(args)``: folded when comparable (constants, ``max(N, N + 1) == N + 1``)."""
    return _extremum("max", args)


def dim_min(*args: Dim) -> Dim:
    """``min(args)``: folded when comparable."""
    return _extremum("min", args)


def capped(a: Dim, x: Dim) -> bool:
    """Whether ``a`` is ``min(x, k...)`` with every other argument a constant ``k >= 1``: then
    wherever ``a`` and ``x`` broadcast together the result is ``x`` (they are equal, or
    ``a == 1 <= x``), as where a position table sliced to ``min(64, seq)`` meets the sequence."""
    atom = _lone_atom(a)
    if not isinstance(atom, _Ext) or atom.op != "min" or x not in atom.args:
        return False
    return all(arg == x or (not isinstance(arg, Expr) and arg >= 1) for arg in atom.args)


# --- text ---------------------------------------------------------------------------------------

def _lone_atom(d: Dim) -> _Atom | None:
    if isinstance(d, Expr) and len(d.terms) == 1 and d.terms[0][1] == 1 and len(d.terms[0][0]) == 1:
        return d.terms[0][0][0]
    return None


def _operand(d: Dim) -> str:
    """d as an operand of // or %: parenthesized unless a number, a symbol or max/min."""
    if not isinstance(d, Expr):
        return str(d) if d >= 0 else f"({d})"
    atom = _lone_atom(d)
    if isinstance(atom, (_Sym, _Ext)):
        return format_dim(d)
    return f"({format_dim(d)})"


def _term(m: _Mono, c: int) -> str:
    if not m:
        return str(c)
    wrap = len(m) > 1 or c != 1
    factors = [f"({a.text()})" if wrap and isinstance(a, _Div) else a.text() for a in m]
    body = "*".join(factors)
    if c == 1:
        return body
    if c == -1:
        return "-" + body
    return f"{c}*{body}"


def format_dim(d: Dim) -> str:
    """The text of a dim: ``(H - 3)//2 + 1``, ``2*N*S``, ``max(A, B)``."""
    if not isinstance(d, Expr):
        return str(int(d))
    parts: list[str] = []
    for i, (m, c) in enumerate(d.terms):
        if i == 0:
            parts.append(_term(m, c))
        elif c < 0:
            parts.append(" - " + _term(m, -c))
        else:
            parts.append(" + " + _term(m, c))
    return "".join(parts)


_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*%(),]))")
_MAX_TEXT = 1024
_MAX_DEPTH = 32


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ValueError(f"unexpected {text[pos:pos + 1]!r}")
            pos = m.end()
            if m.group(1) is not None:
                self.tokens.append(("int", m.group(1)))
            elif m.group(2) is not None:
                self.tokens.append(("name", m.group(2)))
            else:
                self.tokens.append(("op", m.group(3)))
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, op: str) -> bool:
        t = self.peek()
        if t is not None and t == ("op", op):
            self.i += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.take(op):
            raise ValueError(f"expected {op!r}")

    def expr(self) -> Dim:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        value = self.term()
        while True:
            if self.take("+"):
                value = add(value, self.term())
            elif self.take("-"):
                value = sub(value, self.term())
            else:
                break
        self.depth -= 1
        return value

    def term(self) -> Dim:
        value = self.unary()
        while True:
            if self.take("*"):
                value = mul(value, self.unary())
            elif self.take("//"):
                value = floordiv(value, self.unary())
            elif self.take("%"):
                value = mod(value, self.unary())
            else:
                return value

    def unary(self) -> Dim:
        if self.take("-"):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise ValueError("nested too deeply")
            value = neg(self.unary())
            self.depth -= 1
            return value
        t = self.peek()
        if t is None:
            raise ValueError("unexpected end")
        kind, text = t
        self.i += 1
        if kind == "int":
            return int(text)
        if kind == "name":
            if text in ("max", "min") and self.take("("):
                args = [self.expr()]
                while self.take(","):
                    args.append(self.expr())
                self.expect(")")
                return dim_max(*args) if text == "max" else dim_min(*args)
            return symbol(text)
        if text == "(":
            value = self.expr()
            self.expect(")")
            return value
        raise ValueError(f"unexpected {text!r}")


def parse_dim(text: str | bytes) -> Dim:
    """A dim_param string as a dim: an expression in `format_dim`'s syntax is read as one
    (``"2*N"`` -> 2*N, ``"3"`` -> 3); any other non-empty string is one symbol.

    >>> format_dim(parse_dim("(H-3)//2+1")), format_dim(parse_dim("batch size"))
    ('(H - 3)//2 + 1', 'batch size')
    """
    if isinstance(text, bytes):  # a file's dim_param that is not UTF-8: one symbol, escaped
        text = text.decode("utf-8", "backslashreplace")
    if len(text) <= _MAX_TEXT:
        try:
            p = _Parser(text)
            if p.tokens:
                value = p.expr()
                if p.i == len(p.tokens):
                    return value
        except (ValueError, ZeroDivisionError, ExprTooLarge):
            pass
    return symbol(text)


# --- evaluation ---------------------------------------------------------------------------------

def free_symbols(d: Dim) -> set[str]:
    """Names of the symbols in ``d``."""
    out: set[str] = set()
    stack: list[Dim] = [d]
    while stack:
        x = stack.pop()
        if not isinstance(x, Expr):
            continue
        for m, _c in x.terms:
            for atom in m:
                if isinstance(atom, _Sym):
                    out.add(atom.name)
                elif isinstance(atom, _Div):
                    stack.extend((atom.num, atom.den))
                elif isinstance(atom, _Ext):
                    stack.extend(atom.args)
    return out


def evaluate(d: Dim, bindings: Mapping[str, Dim]) -> Dim:
    """``d`` with the symbols in ``bindings`` replaced (an int once every symbol is bound).

    >>> evaluate(parse_dim("(H - 3)//2 + 1"), {"H": 11})
    5
    """
    if not isinstance(d, Expr):
        return d
    total: Dim = 0
    for m, c in d.terms:
        value: Dim = c
        for atom in m:
            value = mul(value, _eval_atom(atom, bindings))
        total = add(total, value)
    return total


def _eval_atom(atom: _Atom, bindings: Mapping[str, Dim]) -> Dim:
    if isinstance(atom, _Sym):
        bound = bindings.get(atom.name)
        return _atom_expr(atom) if bound is None else bound
    if isinstance(atom, _Div):
        num, den = evaluate(atom.num, bindings), evaluate(atom.den, bindings)
        return floordiv(num, den) if atom.op == "//" else mod(num, den)
    assert isinstance(atom, _Ext)
    args = [evaluate(a, bindings) for a in atom.args]
    return dim_max(*args) if atom.op == "max" else dim_min(*args)
