"""Float literals: the shortest decimal that reads back to the same bits, by our own rule.

The rule, for a value of a float type T (float64 down to float4):

* Reading: a literal is parsed as a double (``float(text)``, correctly rounded), then rounded
  into T by `round_to_code`: round to nearest, ties to even (float8e8m0: ties up, as it has no
  mantissa bit to be even), the way numpy / ml_dtypes ``astype`` from float64 does it, overflow
  giving inf (IEEE types), NaN (float8 ``fn``/``fnuz``) or the largest finite value (float4 and
  float6, which have neither).
* Writing: the printed decimal is the one with the fewest significant digits that reads back to
  the same bits; when two decimals of that length do (one either side of the value), the nearer.
  Zero prints ``0.0``/``-0.0``, infinities ``inf``/``-inf``, NaN ``nan`` or ``-nan`` (whichever
  reads back to the bits; a NaN payload that neither gives is reported by the caller).
* Layout: as Python's ``repr`` lays out a float (positional for 1e-4 <= |x| < 1e16, else
  ``d.ddde+XX``), except float32, positional only for 1e-4 <= |x| < 1e6.

Everything here is pure Python over the bit patterns: no numpy, no ml_dtypes, so what a dump
prints cannot change with a dependency's version, and a preview of a bfloat16 tensor does not
import ml_dtypes (most of a small dump's time). The one exception is `float32_texts`, the bulk
path for float32 tensors: it takes numpy's digits but checks them and is pinned to the rule by a
test, so a numpy that printed differently fails CI rather than changing a dump.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FORMATS", "FloatFormat", "decode_code", "round_to_code", "shortest_code_text", "float32_text",
           "float32_texts", "float64_text"]


class FloatFormat:
    """A binary float format of at most 16 bits.

    ``kind``: ``ieee`` (inf and NaN as IEEE 754), ``fn`` (no inf; all-ones is NaN), ``fnuz`` (no
    inf, no -0; the sign bit alone is NaN), ``fin`` (no inf, no NaN: overflow saturates),
    ``e8m0`` (unsigned powers of two; all-ones is NaN).
    """

    __slots__ = ("name", "bits", "exp_bits", "man_bits", "bias", "kind", "sign_bit", "nan_code", "max_code")

    def __init__(self, name: str, bits: int, exp_bits: int, man_bits: int, bias: int, kind: str) -> None:
        self.name, self.bits, self.exp_bits, self.man_bits, self.bias, self.kind = (
            name, bits, exp_bits, man_bits, bias, kind)
        ones = (1 << exp_bits) - 1
        all_man = (1 << man_bits) - 1
        #: the sign bit (0 for the unsigned float8e8m0)
        self.sign_bit = 0 if kind == "e8m0" else 1 << (bits - 1)
        #: the NaN that "nan" reads as (None: no NaN)
        self.nan_code: int | None = {
            "fnuz": self.sign_bit, "fin": None, "e8m0": 0xFF, "fn": (ones << man_bits) | all_man,
        }.get(kind, (ones << man_bits) | (1 << max(man_bits - 1, 0)))
        #: the code of the largest finite value
        self.max_code = {
            "e8m0": 0xFE, "ieee": ((ones - 1) << man_bits) | all_man,
            "fn": (ones << man_bits) | (all_man - 1),
        }.get(kind, (ones << man_bits) | all_man)

    def __repr__(self) -> str:
        return f"FloatFormat({self.name!r})"


#: The formats by ONNX short type name.
FORMATS = {f.name: f for f in [
    FloatFormat("float16", 16, 5, 10, 15, "ieee"),
    FloatFormat("bfloat16", 16, 8, 7, 127, "ieee"),
    FloatFormat("float8e4m3fn", 8, 4, 3, 7, "fn"),
    FloatFormat("float8e4m3fnuz", 8, 4, 3, 8, "fnuz"),
    FloatFormat("float8e5m2", 8, 5, 2, 15, "ieee"),
    FloatFormat("float8e5m2fnuz", 8, 5, 2, 16, "fnuz"),
    FloatFormat("float8e8m0", 8, 8, 0, 127, "e8m0"),
    FloatFormat("float4e2m1", 4, 2, 1, 1, "fin"),
    FloatFormat("float6e2m3", 6, 2, 3, 1, "fin"),
    FloatFormat("float6e3m2", 6, 3, 2, 3, "fin"),
]}


def decode_code(fmt: FloatFormat, code: int) -> float:
    """The value of a bit pattern (exact: every such value is a double)."""
    code &= (1 << fmt.bits) - 1
    if fmt.kind == "e8m0":
        return math.nan if code == 0xFF else math.ldexp(1.0, code - 127)
    sign = -1.0 if code & fmt.sign_bit else 1.0
    ones = (1 << fmt.exp_bits) - 1
    e = (code >> fmt.man_bits) & ones
    m = code & ((1 << fmt.man_bits) - 1)
    if fmt.kind == "ieee" and e == ones:
        return math.nan if m else sign * math.inf
    nan = fmt.nan_code
    if (fmt.kind == "fn" and code & ~fmt.sign_bit == nan) or (fmt.kind == "fnuz" and code == nan):
        return math.nan
    if e == 0:
        return sign * math.ldexp(m, 1 - fmt.bias - fmt.man_bits)
    return sign * math.ldexp((1 << fmt.man_bits) | m, e - fmt.bias - fmt.man_bits)


def round_to_code(fmt: FloatFormat, x: float) -> int:
    """The bit pattern a double rounds to (the reading half of the rule, module docstring)."""
    if fmt.kind == "e8m0":
        if x != x or x <= 0 or x == math.inf:
            return 0xFF
        m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
        k = e - 1 if m < 0.75 else e  # ties (m == 0.75) go up
        return 0xFF if k > 127 else 0 if k < -127 else k + 127
    negative = math.copysign(1.0, x) < 0
    sign = fmt.sign_bit if negative else 0
    if x != x:
        if fmt.kind == "fin":  # no NaN: ml_dtypes gives a zero of the opposite sign
            return 0 if negative else fmt.sign_bit
        nan = fmt.nan_code or 0
        return nan if fmt.kind == "fnuz" else nan | sign
    a = abs(x)
    if a == math.inf:
        return _overflow(fmt, sign)
    if a == 0:
        return 0 if fmt.kind == "fnuz" else sign
    man = fmt.man_bits
    emin = 1 - fmt.bias
    _, e = math.frexp(a)
    q = max(e - 1, emin) - man  # the quantum: a's last mantissa bit is worth 2**q
    r = round(math.ldexp(a, -q))  # exact; round() on a float rounds half to even
    if r == 0:
        return 0 if fmt.kind == "fnuz" else sign
    if r >> (man + 1):  # the rounding carried into the next binade
        r >>= 1
        q += 1
    field = 0 if r < (1 << man) else q + man + fmt.bias
    code = (field << man) | (r & ((1 << man) - 1))
    if field >= (1 << fmt.exp_bits) or code > fmt.max_code:
        return _overflow(fmt, sign)
    return code | sign


def _overflow(fmt: FloatFormat, sign: int) -> int:
    if fmt.kind == "ieee":
        return (((1 << fmt.exp_bits) - 1) << fmt.man_bits) | sign
    if fmt.kind == "fin":
        return fmt.max_code | sign
    nan = fmt.nan_code or 0
    return nan if fmt.kind == "fnuz" else nan | sign


def _candidates(value: float, digits: int) -> tuple[str, str | None]:
    """For ``value`` > 0: the decimal of at most ``digits`` significant digits nearest it, and
    the nearest one on its other side (None when the first is exact)."""
    text = f"{value:.{digits - 1}e}"
    near = float(text)
    if near == value:
        return text, None
    mantissa, exponent = text.split("e")
    unit = int(mantissa.replace(".", ""))
    scale = int(exponent) - digits + 1
    if near < value:
        return text, f"{unit + 1}e{scale}"
    if unit == 10 ** (digits - 1):  # just below a power of ten the grid is ten times finer
        return text, f"{10 ** digits - 1}e{scale - 1}"
    return text, f"{unit - 1}e{scale}"


def _shortest(value: float, reads_back: Callable[[float], bool], symmetric: bool) -> str:
    """The shortest decimal text ``t`` with ``reads_back(float(t))``, the nearer of two (the
    rule), for ``value`` > 0. ``symmetric`` says the doubles that read back lie symmetric around
    ``value``: then the nearest decimal of each length is the only one to try (a power of two,
    whose lower neighbour is nearer than its upper one, and a saturating maximum need both)."""
    for digits in range(1, 18):
        text = f"{value:.{digits - 1}e}"
        if reads_back(float(text)):
            return text
        if not symmetric:
            other = _candidates(value, digits)[1]
            if other is not None and reads_back(float(other)):
                return other
    return repr(value)


def _interval(fmt: FloatFormat, magnitude: int) -> Callable[[float], bool]:
    """Whether a double > 0 rounds to the positive code ``magnitude`` (the reading rule, as an
    interval test: cheaper than `round_to_code` for each candidate decimal)."""
    value = decode_code(fmt, magnitude)
    if fmt.kind == "e8m0":  # ties go up
        lo, hi = (0.0 if magnitude == 0 else 0.75 * value), 1.5 * value
        return lambda x: lo <= x < hi if magnitude else 0 < x < hi
    below = decode_code(fmt, magnitude - 1) if magnitude else -value
    lo = (below + value) / 2
    if magnitude == fmt.max_code:
        hi = math.inf if fmt.kind == "fin" else value + (value - below) / 2
    else:
        hi = (value + decode_code(fmt, magnitude + 1)) / 2
    if magnitude & 1:  # ties to even: an odd code keeps neither end
        return lambda x: lo < x < hi
    return lambda x: lo <= x <= hi


def _layout(text: str, positional_below: float = 1e16) -> str:
    """A decimal laid out as Python's repr lays out a float: positional for 1e-4 <= |x| <
    ``positional_below`` (at most 1e16), else ``d.ddde+XX``."""
    value = float(text)
    if positional_below >= 1e16 or abs(value) < positional_below:
        return repr(value)  # the same digits (a double holds 15 significant digits exactly)
    digits = len(text.split("e")[0].replace("-", "").replace(".", "").strip("0")) or 1
    mantissa, _, exponent = f"{value:.{digits - 1}e}".partition("e")
    return f"{mantissa}e{exponent}"


@cache
def shortest_code_text(fmt: FloatFormat, code: int) -> str:
    """The literal of one bit pattern of a small float type: ``nan``/``-nan`` (``""`` for a NaN
    neither reads back to), ``inf``/``-inf``, else the shortest decimal of the rule."""
    value = decode_code(fmt, code)
    if value != value:
        for text in ("nan", "-nan"):
            if round_to_code(fmt, float(text)) == code:
                return text
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = code & ~fmt.sign_bit
    mantissa_zero = fmt.kind == "e8m0" or not magnitude & ((1 << fmt.man_bits) - 1)
    symmetric = not mantissa_zero and magnitude != fmt.max_code
    text = _shortest(abs(value), _interval(fmt, magnitude), symmetric)
    return ("-" if value < 0 else "") + _layout(text)


def _f32_bits(x: float) -> int | None:
    try:
        return int(struct.unpack("<I", struct.pack("<f", x))[0])
    except OverflowError:  # past the largest float32 by more than half an ulp
        return None


def float32_text(value: float) -> str:
    """The literal of a float32 value (given as the double it widens to): the rule, laid out
    positional for 1e-4 <= |x| < 1e6."""
    if value != value:
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if value == 0:  # -0.0 == 0.0 for the cache below, but they print differently
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    return _nonzero_float32_text(value)


@lru_cache(maxsize=4096)  # attribute values repeat across nodes (alpha, epsilon...)
def _nonzero_float32_text(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    bits = _f32_bits(value)
    # struct rounds a double into float32 to nearest even (and refuses what overflows)
    symmetric = bool(bits is not None and bits & 0x7FFFFF and bits & 0x7FFFFFFF != 0x7F7FFFFF)
    magnitude = bits & 0x7FFFFFFF if bits is not None else None
    text = _shortest(abs(value), lambda x: _f32_bits(x) == magnitude, symmetric)
    return ("-" if value < 0 else "") + _layout(text, 1e6)


def float32_texts(floats: np.ndarray) -> list[str]:
    """`float32_text` of every value of a float32 array, in bulk: the digits of each finite
    value come from numpy's shortest round-trip formatting (Dragon4: the fewest significant
    digits that read back, the nearest of those), checked here to read back to the same bits,
    then laid out by our rule; a value that fails the check, and every NaN and infinity, goes
    through `float32_text`. tests/test_text_floats.py pins the two equal on a wide sample, so
    a numpy that formatted differently would fail there, not change a dump silently. About
    10x faster than `float32_text` per value (the full dump of weights is mostly this)."""
    import numpy as np

    texts: list[str] = floats.astype(str).tolist()
    back = np.array(texts, dtype=np.float64).astype(np.float32)
    same = (back.view(np.uint32) == floats.view(np.uint32)) & np.isfinite(floats)
    # below 1e6 the layout is repr's (the double of a 9-digit decimal gives the same digits back)
    small = np.abs(floats) < 1e6
    for i in np.flatnonzero(~same).tolist():
        texts[i] = float32_text(float(floats[i]))
    if same.all() and small.all():
        return [repr(float(t)) for t in texts]
    return [t if not ok else repr(float(t)) if below else _layout(t, 1e6)
            for t, ok, below in zip(texts, same.tolist(), small.tolist(), strict=True)]


def float64_text(value: float) -> str:
    """The literal of a double: Python's repr, which is the rule's shortest round-trip decimal
    (``nan``/``-nan`` keep the sign bit)."""
    if value != value:
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return repr(value)
