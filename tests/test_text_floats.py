"""The float-literal rule of onnxlite.text (see onnxlite/text/_floats.py): every printed float is the
shortest decimal that reads back to the same bits in the tensor's own type, reading being
``float(text)`` then round-to-nearest-even into the type as numpy / ml_dtypes ``astype`` from float64
does. Tested as a rule (round trip and minimality, over every value of every type of at most 16 bits
and samples of float32/float64), never against a dependency's repr."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import ml_dtypes
import numpy as np
import pytest

from onnxlite.text import _floats
from onnxlite.text import _values as _textvalues

NP_TYPES = {
    "float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float8e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8e4m3fnuz": ml_dtypes.float8_e4m3fnuz, "float8e5m2": ml_dtypes.float8_e5m2,
    "float8e5m2fnuz": ml_dtypes.float8_e5m2fnuz, "float8e8m0": ml_dtypes.float8_e8m0fnu,
    "float4e2m1": ml_dtypes.float4_e2m1fn, "float6e2m3": ml_dtypes.float6_e2m3fn,
    "float6e3m2": ml_dtypes.float6_e3m2fn,
}


def test_every_small_float_type_has_a_format() -> None:
    assert set(_floats.FORMATS) == set(NP_TYPES)
    assert {dt.short_name for dt in _textvalues._FLOAT_TABLE_TYPES} == set(NP_TYPES)


def unit_of(bits: int) -> type:
    return np.uint16 if bits == 16 else np.uint8


def astype_codes(values: np.ndarray, name: str) -> np.ndarray:
    """Codes numpy / ml_dtypes give doubles (the oracle of the reading rule)."""
    bits = _floats.FORMATS[name].bits
    with np.errstate(all="ignore"):
        codes = np.asarray(values, np.float64).astype(NP_TYPES[name]).view(unit_of(bits))
    return codes.astype(np.int64) & ((1 << bits) - 1)


def all_values(name: str) -> np.ndarray:
    bits = _floats.FORMATS[name].bits
    return np.arange(1 << bits).astype(unit_of(bits)).view(NP_TYPES[name]).astype(np.float64)


def significant(text: str) -> int:
    return len(text.lstrip("-").split("e")[0].replace(".", "").strip("0")) or 1


def neighbours(value: float, digits: int) -> list[float]:
    """The decimals of ``digits`` significant digits just below and just above ``value``."""
    d = Decimal(value)
    quantum = Decimal(1).scaleb(d.copy_abs().adjusted() - digits + 1)
    out = [float(d.quantize(quantum, ROUND_FLOOR)), float(d.quantize(quantum, ROUND_CEILING))]
    # just below a power of ten, the decimals of that many digits are ten times finer
    out.append(float(d.quantize(quantum / 10, ROUND_FLOOR if value > 0 else ROUND_CEILING)))
    return out


@pytest.mark.parametrize("name", sorted(NP_TYPES))
def test_bits_decode_as_numpy_reads_them(name: str) -> None:
    fmt = _floats.FORMATS[name]
    mine = np.array([_floats.decode_code(fmt, c) for c in range(1 << fmt.bits)])
    assert np.array_equal(mine, all_values(name), equal_nan=True)


@pytest.mark.parametrize("name", sorted(NP_TYPES))
def test_reading_rule_rounds_as_astype_does(name: str) -> None:
    """round_to_code (our reading rule) gives the codes astype gives: at every value, every midpoint
    between neighbours (the ties), one double either side of each, beyond the range, specials."""
    fmt = _floats.FORMATS[name]
    values = all_values(name)
    finite = np.unique(values[np.isfinite(values)])
    mids = (finite[1:] + finite[:-1]) / 2
    top = finite[-1]
    points = np.concatenate([
        finite, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf), finite * 1.3, finite * 0.7,
        [top * 1.25, top * 1.5, top * 2, -top * 1.5, np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0,
         1e300, -1e300, 1e-300, -1e-300, 5e-324],
    ])
    got = np.array([_floats.round_to_code(fmt, float(x)) for x in points])
    want = astype_codes(points, name)
    wrong = np.flatnonzero(got != want)
    assert not wrong.size, [(points[i], int(got[i]), int(want[i])) for i in wrong[:5]]


@pytest.mark.parametrize("name", sorted(NP_TYPES))
def test_every_code_prints_its_shortest_round_trip_decimal(name: str) -> None:
    """Every code: its text reads back to the same bits (via astype and via our rule); no decimal with
    fewer significant digits does; of two of the same length that do, it is the nearer. A NaN prints
    nan/-nan when that reads back, else "" (its payload is lost; the printer says so)."""
    fmt = _floats.FORMATS[name]
    values = all_values(name)
    texts = [_floats.shortest_code_text(fmt, c) for c in range(1 << fmt.bits)]
    codes = np.arange(1 << fmt.bits)
    printed = np.array([i for i, t in enumerate(texts) if t])
    back = astype_codes(np.array([float(texts[i]) for i in printed]), name)
    assert np.array_equal(back, codes[printed])
    assert all(_floats.round_to_code(fmt, float(texts[i])) == i for i in printed)
    assert all(math.isnan(values[i]) for i, t in enumerate(texts) if not t)
    # minimality: both decimals next to the value at every shorter length read back elsewhere
    tried: list[float] = []
    owner: list[int] = []
    for i in printed.tolist():
        v = values[i]
        if not math.isfinite(v) or v == 0:
            continue
        for digits in range(1, significant(texts[i]) + 1):
            for cand in neighbours(v, digits):
                if significant(repr(cand)) < significant(texts[i]):
                    tried.append(cand)
                    owner.append(i)
    back = astype_codes(np.array(tried), name)
    shorter = [(texts[owner[k]], tried[k]) for k in np.flatnonzero(back == np.array(owner))]
    assert not shorter, shorter[:5]
    for i in printed.tolist():  # the nearer of the two of the shortest length
        v, t = values[i], texts[i]
        if math.isfinite(v) and v != 0:
            same = [c for c in neighbours(v, significant(t))
                    if significant(repr(c)) <= significant(t) and astype_codes(np.array([c]), name)[0] == i]
            assert abs(float(t) - v) == min(abs(c - v) for c in same), (t, same)


def float32_samples() -> np.ndarray:
    rng = np.random.default_rng(10)
    bits = rng.integers(0, 2**32, 20_000, dtype=np.uint64).astype(np.uint32)
    powers = np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)
    edges = np.array([0.1, 1e-4, 9.99e-5, 1e6, 999999.94, 1e16, 3.4028235e38, 1e-45, 2**-126,
                      123456789.0, 16777216.0, 7e-45], np.float32)
    values = np.concatenate([bits.view(np.float32), powers, -powers, edges])
    return values[np.isfinite(values) & (values != 0)]


def float64_samples() -> np.ndarray:
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**63, 5_000, dtype=np.uint64)
    powers = np.ldexp(1.0, np.arange(-1074, 1024, 7))
    values = np.concatenate([bits.view(np.float64), powers, -powers, [5e-324, 1.7976931348623157e308, 0.1]])
    return values[np.isfinite(values) & (values != 0)]


@pytest.mark.parametrize("width", [32, 64])
def test_float32_and_float64_samples_follow_the_rule(width: int) -> None:
    dtype, samples = (np.float32, float32_samples()) if width == 32 else (np.float64, float64_samples())
    text_of = _floats.float32_text if width == 32 else _floats.float64_text
    uint = np.uint32 if width == 32 else np.uint64
    texts = [text_of(float(v)) for v in samples.tolist()]
    back = np.array([float(t) for t in texts]).astype(dtype)
    assert np.array_equal(back.view(uint), samples.view(uint))
    step = 7 if width == 32 else 3  # minimality on a subset (Decimal is slow)
    for v, t in zip(samples[::step].tolist(), texts[::step], strict=True):
        n = significant(t)
        for digits in range(1, n):
            for cand in neighbours(v, digits):
                if significant(repr(cand)) < n:
                    assert dtype(cand) != dtype(v), (t, cand)


def test_bulk_float32_texts_equal_the_rule() -> None:
    """float32_texts (numpy's shortest digits, checked, then our layout) gives exactly what
    float32_text gives: random bit patterns, both ends of every binade (powers of two, whose
    neighbours are asymmetric), subnormals, the largest values, infinities, NaNs with payloads,
    integers past 2**24 (where short decimals sit on midpoints) and both layout boundaries."""
    rng = np.random.default_rng(5)
    binades = (np.arange(255, dtype=np.int64)[:, None] << 23) + np.arange(-8, 8)
    parts = [rng.integers(0, 2**32, 40_000, dtype=np.uint64).astype(np.uint32),
             binades.ravel().clip(0, 2**32 - 1).astype(np.uint32),
             np.arange(0, 3000, dtype=np.uint32),  # zero and subnormals
             np.arange(0x7F7FF000, 0x7F800000 + 64, dtype=np.uint32),  # largest, inf, NaN payloads
             np.arange(2**24 - 500, 2**26, 4099, dtype=np.float32).view(np.uint32),
             np.arange(1e6 - 300, 1e6 + 300, dtype=np.float32).view(np.uint32),
             np.float32([1e-4, 9.99e-5, 1e-5, 0.1, 1 / 3]).view(np.uint32)]
    bits = np.concatenate(parts)
    floats = np.concatenate([bits, bits | np.uint32(1 << 31)]).view(np.float32)
    expected = [_floats.float32_text(v) for v in floats.tolist()]
    assert _floats.float32_texts(floats) == expected
    normal = floats[np.isfinite(floats) & (np.abs(floats) < 1e6)]  # the all-positional shortcut
    assert _floats.float32_texts(normal) == [_floats.float32_text(v) for v in normal.tolist()]


def test_float32_layout() -> None:
    """Our layout: positional for 1e-4 <= |x| < 1e6, else d.ddde+XX, the digits of the rule."""
    cases = {0.1: "0.1", 1e-4: "0.0001", 9.99e-5: "9.99e-05", 1e6: "1e+06", 999999.9375: "999999.94",
             123456789.0: "1.2345679e+08", 3.4028235e38: "3.4028235e+38", -1.5: "-1.5", 1e-45: "1e-45",
             16777216.0: "1.6777216e+07", -0.0: "-0.0", math.inf: "inf"}
    assert {v: _floats.float32_text(float(np.float32(v))) for v in cases} == cases
    for v in float32_samples().tolist():
        t = _floats.float32_text(v)
        assert ("e" in t) == (not 1e-4 <= abs(float(t)) < 1e6), t


def test_power_of_two_takes_the_shorter_decimal_above_it() -> None:
    """Just above a power of two the gap to the next value is twice the gap below: the shortest decimal
    may lie above the value where the nearest one of that length (below it) does not read back."""
    fmt = _floats.FORMATS["float8e8m0"]
    # 2**-127 = 5.877e-39: neighbours 2**-128 and 2**-126; "6e-39" reads back (ties go up).
    assert _floats.shortest_code_text(fmt, 0) == "6e-39"
    found = 0
    for v in np.ldexp(np.float32(1), np.arange(-126, 128)).tolist():
        t = _floats.float32_text(v)
        near = float(f"{v:.{significant(t) - 1}e}")
        found += np.float32(near) != np.float32(v)
    assert found  # the case exists in float32 and is printed right


def run_fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_previews_and_small_tensors_decode_their_bits_without_ml_dtypes() -> None:
    """A default dump of bfloat16/float8/int4... tensors (previews of large ones, small ones whole)
    formats them from their bits: ml_dtypes (most of a second to import) stays unloaded."""
    out = run_fresh(
        "import sys, onnxlite\n"
        "from onnxlite import _proto\n"
        "from onnxlite.text import format_model\n"
        "m = _proto.ModelProto(ir_version=10)\n"
        "m.opset_import.add(domain='', version=21)\n"
        "g = m.graph; g.name = 'g'\n"
        "for k, (dt, n, raw) in enumerate([(16, 100, bytes(range(200))), (17, 40, bytes(range(40))),\n"
        "        (22, 50, bytes(range(25))), (26, 3, b'\\x1b'), (27, 8, bytes(range(6))),\n"
        "        (10, 4, bytes(8)), (9, 3, b'\\x00\\x01\\x02'), (24, 1, b'\\x7f'), (21, 3, None)]):\n"
        "    t = g.initializer.add(name=f't{k}', data_type=dt, dims=[n])\n"
        "    if raw is None: t.int32_data.extend([0xF1, 0])\n"
        "    else: t.raw_data = raw\n"
        "text = format_model(onnxlite.Model(m))\n"
        "print('ml_dtypes' in sys.modules)\n"
        "print(text)\n")
    loaded, _, printed = out.partition("\n")
    assert loaded == "False", printed
    from onnxlite.dtypes import DataType

    head = np.frombuffer(bytes(range(16)), np.uint16).view(ml_dtypes.bfloat16)
    texts = _textvalues._format_values(head, DataType.BFLOAT16)[0]
    assert f"bfloat16[100] t0 = {{{', '.join(texts)}, ...}}" in printed
    assert "int2[3] t3 = {-1, -2, 1}" in printed
    assert "uint4[3] t8 = {1, 15, 0}" in printed


def test_preview_texts_equal_the_whole_tensor_texts() -> None:
    """The bits path (no numpy) and the numpy path print the same literals, for every type the bits
    path takes, from raw_data and from the typed field."""
    import onnxlite
    from onnxlite.dtypes import DataType

    rng = np.random.default_rng(3)
    for dt in sorted(set(_textvalues._STRUCT_CODES) | _textvalues._BIT_TYPED):
        np_dtype = dt.np_dtype
        if dt == DataType.BOOL:
            array = rng.integers(0, 2, 40).astype(bool)
        elif dt in _textvalues._FLOAT_TABLE_TYPES or np_dtype.kind == "f":
            bits = dt.bitwidth
            unit = {64: np.uint64, 32: np.uint32, 16: np.uint16}.get(bits, np.uint8)
            codes = rng.integers(0, 2 ** min(bits, 63), 40, dtype=np.uint64).astype(unit)
            array = codes.view(np_dtype) if bits >= 8 else codes.astype(np.uint8).view(np_dtype)
        elif dt in _textvalues._SUBBYTE_INTS:
            lo = -(1 << (dt.bitwidth - 1)) if dt in (DataType.INT4, DataType.INT2) else 0
            array = rng.integers(lo, lo + (1 << dt.bitwidth), 40).astype(np_dtype)
        else:
            info = np.iinfo(np_dtype)
            array = rng.integers(info.min, info.max, 40, dtype=np_dtype, endpoint=True)
        for typed in (False, True):
            tensor = onnxlite.Tensor.from_numpy(array, "t", typed=typed)
            plain = _textvalues._plain_values(tensor, dt, array.size, array.size)
            if plain is None:
                assert typed and dt not in _textvalues._PLAIN_TYPED | _textvalues._BIT_TYPED, dt
                continue
            assert plain == _textvalues._format_values(array.reshape(-1), dt), (dt, typed)
            five = _textvalues._plain_values(tensor, dt, array.size, 5)
            assert five is not None and five[0] == plain[0][:5]
