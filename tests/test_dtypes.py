"""Tests for onnxlite.dtypes: the data type table and bit-exact tensor payload encode/decode.

The `onnx` package is the oracle for decoding (numpy_helper.to_array) and for raw bytes
(numpy_helper.from_array); where it is not bit-exact the test says so and pins the spec instead.
"""

from __future__ import annotations

import doctest
import mmap
import tracemalloc
from typing import Any

import corpus
import ml_dtypes
import numpy as np
import onnx
import pytest
from onnx import helper as onnx_helper
from onnx import numpy_helper

from onnxlite import dtypes
from onnxlite._proto import TensorProto
from onnxlite._storage import codec, wire
from onnxlite._storage.codec import decode_raw, decode_typed, encode_raw, encode_typed, from_np_dtype
from onnxlite.dtypes import DataType, check_shape, data_type_of, raw_nbytes
from onnxlite.errors import ExternalDataError, ModelFormatError

REAL_TYPES = [dt for dt in DataType if dt != DataType.UNDEFINED]
NUMERIC_TYPES = [dt for dt in REAL_TYPES if dt != DataType.STRING]
FLOAT8 = {
    DataType.FLOAT8E4M3FN,
    DataType.FLOAT8E4M3FNUZ,
    DataType.FLOAT8E5M2,
    DataType.FLOAT8E5M2FNUZ,
    DataType.FLOAT8E8M0,
}
SUB_BYTE = {dt for dt in NUMERIC_TYPES if dt.bitwidth < 8}

# Odd, even, empty and 0-d shapes; (16, 16) holds every edge pattern, including all 256 byte codes.
SHAPES = [(), (0,), (1,), (2,), (3,), (5,), (7,), (2, 3), (3, 0, 2), (16, 16)]

# Bit patterns worth having in every float tensor: -0.0, +-inf, subnormals, max, signalling and
# quiet NaNs with payloads, negative NaN.
F32_EDGES = [
    0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x00000001, 0x807FFFFF, 0x7F7FFFFF,
    0xFF7FFFFF, 0x7F800001, 0x7FBFFFFF, 0x7FC00000, 0x7FC12345, 0xFFC00001, 0xFFFFFFFF, 0x3F800000,
]  # fmt: skip
F64_EDGES = [
    0x0, 0x8000000000000000, 0x7FF0000000000000, 0xFFF0000000000000, 0x1, 0x800FFFFFFFFFFFFF,
    0x7FEFFFFFFFFFFFFF, 0x7FF0000000000001, 0x7FF7FFFFFFFFFFFF, 0x7FF8000000000000,
    0x7FF8DEADBEEF0001, 0xFFFFFFFFFFFFFFFF, 0x3FF0000000000000,
]  # fmt: skip
F16_EDGES = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x7BFF, 0x7C01, 0x7DFF, 0x7E00, 0xFFFF]
BF16_EDGES = [0x0000, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x807F, 0x7F7F, 0x7F81, 0x7FC0, 0x7FC1, 0xFFFF]


def _edges(dt: DataType) -> list[int]:
    """Edge cases as unsigned bit patterns of one storage unit."""
    if dt.bitwidth <= 8 and dt != DataType.BOOL:
        return list(range(1 << dt.bitwidth))  # every code there is
    if dt == DataType.BOOL:
        return [0, 1]
    if dt in (DataType.FLOAT, DataType.COMPLEX64):
        return F32_EDGES
    if dt in (DataType.DOUBLE, DataType.COMPLEX128):
        return F64_EDGES
    if dt == DataType.FLOAT16:
        return F16_EDGES
    if dt == DataType.BFLOAT16:
        return BF16_EDGES
    info = np.iinfo(dt.np_dtype)
    bits = info.bits
    # min, max, 0, -1 / 1, as unsigned patterns
    return sorted({int(info.min) % (1 << bits), int(info.max), 0, (-1) % (1 << bits), 1})


def make_values(dt: DataType, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random array of ``dt`` with the type's edge cases placed first."""
    rng = np.random.default_rng(seed + int(dt) * 1000 + len(shape) * 7 + sum(shape))
    numel = int(np.prod(shape, dtype=np.int64))
    if dt == DataType.STRING:
        pool = [b"", b"a", b"hello", b"\x00nul\x00", "h\u00e9llo \u2603".encode(), b"\xff\xfe not utf-8"]
        out = np.empty(numel, dtype=object)
        out[:] = [pool[i % len(pool)] for i in range(numel)]
        return out.reshape(shape)
    if dt.bitwidth < 8 or dt == DataType.BOOL:
        top = 2 if dt == DataType.BOOL else 1 << dt.bitwidth
        codes = rng.integers(0, top, size=numel, dtype=np.uint8)
        edges = np.array(_edges(dt), dtype=np.uint8)
        codes[: min(numel, edges.size)] = edges[:numel]
        return codes.view(dt.np_dtype).reshape(shape)
    unit_bytes = dt.np_dtype.itemsize // (2 if dt in (DataType.COMPLEX64, DataType.COMPLEX128) else 1)
    unit = np.dtype(f"u{unit_bytes}")
    units = rng.integers(0, np.iinfo(unit).max, size=numel * dt.np_dtype.itemsize // unit_bytes, dtype=unit)
    edges = np.array(_edges(dt), dtype=unit)
    units[: min(units.size, edges.size)] = edges[: units.size]
    return units.view(dt.np_dtype).reshape(shape)


def assert_bits_equal(got: np.ndarray, want: np.ndarray) -> None:
    """Same dtype, same shape, same bytes (object arrays: same Python values)."""
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype == object:
        assert got.tolist() == want.tolist()
        return
    assert (
        np.ascontiguousarray(got).view(np.uint8).tobytes()
        == np.ascontiguousarray(want).view(np.uint8).tobytes()
    )


CASES = [(dt, shape) for dt in REAL_TYPES for shape in SHAPES]
IDS = [f"{dt.short_name}-{'x'.join(map(str, s)) or 'scalar'}" for dt, s in CASES]


# ---- the table ------------------------------------------------------------------------------------


def test_enum_matches_private_proto_and_onnx() -> None:
    ours = {v.name: v.number for v in TensorProto.DESCRIPTOR.enum_types_by_name["DataType"].values}
    assert ours == {dt.name: int(dt) for dt in DataType}
    # an older onnx (CI's protobuf 4.25 leg) lacks the types added after it, and only those
    assert dict(onnx.TensorProto.DataType.items()) == {
        name: number for name, number in ours.items() if not corpus.onnx_predates(number)}
    assert len(DataType) == 29


@pytest.mark.parametrize("dt", REAL_TYPES, ids=lambda d: d.short_name)
def test_table_matches_onnx_helper(dt: DataType) -> None:
    corpus.skip_unless_onnx_knows([dt])
    assert dt.np_dtype == onnx_helper.tensor_dtype_to_np_dtype(dt)
    assert dt.typed_field == onnx_helper.tensor_dtype_to_field(dt)
    assert dt.short_name == onnx_helper.tensor_dtype_to_string(dt).removeprefix("TensorProto.").lower()


def test_bitwidths_pinned() -> None:
    expected = {
        "UNDEFINED": 0, "FLOAT": 32, "UINT8": 8, "INT8": 8, "UINT16": 16, "INT16": 16, "INT32": 32,
        "INT64": 64, "STRING": 0, "BOOL": 8, "FLOAT16": 16, "DOUBLE": 64, "UINT32": 32, "UINT64": 64,
        "COMPLEX64": 64, "COMPLEX128": 128, "BFLOAT16": 16, "FLOAT8E4M3FN": 8, "FLOAT8E4M3FNUZ": 8,
        "FLOAT8E5M2": 8, "FLOAT8E5M2FNUZ": 8, "UINT4": 4, "INT4": 4, "FLOAT4E2M1": 4, "FLOAT8E8M0": 8,
        "UINT2": 2, "INT2": 2, "FLOAT6E2M3": 6, "FLOAT6E3M2": 6,
    }  # fmt: skip
    assert {dt.name: dt.bitwidth for dt in DataType} == expected


def test_undefined_has_no_dtype() -> None:
    with pytest.raises(ModelFormatError, match="UNDEFINED"):
        DataType.UNDEFINED.np_dtype  # noqa: B018
    assert DataType.UNDEFINED.typed_field is None
    assert DataType.UNDEFINED.short_name == "undefined"


@pytest.mark.parametrize("dt", REAL_TYPES, ids=lambda d: d.short_name)
def test_from_np_dtype_inverts_np_dtype(dt: DataType) -> None:
    assert from_np_dtype(dt.np_dtype) == dt


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.dtype(">f4"), DataType.FLOAT),
        (np.dtype(">i8"), DataType.INT64),
        (np.dtype("S5"), DataType.STRING),
        (np.dtype("U5"), DataType.STRING),
        (np.int64, DataType.INT64),
        (np.intc, DataType.INT32),
        (np.longlong, DataType.INT64),
        (ml_dtypes.float8_e8m0fnu, DataType.FLOAT8E8M0),
    ],
)
def test_from_np_dtype_variants(dtype: Any, expected: DataType) -> None:
    assert from_np_dtype(dtype) == expected


@pytest.mark.parametrize(
    "dtype",
    [ml_dtypes.float8_e4m3, ml_dtypes.float8_e3m4, ml_dtypes.int1, np.dtype("M8[s]"), np.dtype("V4")],
    ids=str,
)
def test_from_np_dtype_unsupported(dtype: Any) -> None:
    with pytest.raises(ModelFormatError, match="has no ONNX data type"):
        from_np_dtype(dtype)


def test_data_type_of() -> None:
    assert data_type_of(16) is DataType.BFLOAT16
    with pytest.raises(ModelFormatError, match="^unknown data type 99$"):
        data_type_of(99)
    with pytest.raises(ModelFormatError, match="unknown data type -1"):
        data_type_of(-1)


@pytest.mark.parametrize(
    ("dt", "numel", "nbytes"),
    [
        (DataType.FLOAT, 0, 0), (DataType.FLOAT, 3, 12), (DataType.BOOL, 5, 5),
        (DataType.COMPLEX64, 2, 16), (DataType.COMPLEX128, 2, 32), (DataType.INT4, 1, 1),
        (DataType.INT4, 3, 2), (DataType.UINT2, 5, 2), (DataType.INT2, 8, 2),
        (DataType.FLOAT6E2M3, 1, 1), (DataType.FLOAT6E2M3, 2, 2), (DataType.FLOAT6E3M2, 3, 3),
        (DataType.FLOAT6E3M2, 4, 3), (DataType.FLOAT6E3M2, 5, 4), (DataType.FLOAT4E2M1, 2**62, 2**61),
    ],
)  # fmt: skip
def test_raw_nbytes(dt: DataType, numel: int, nbytes: int) -> None:
    assert raw_nbytes(dt, numel) == nbytes


def test_raw_nbytes_refuses_types_without_raw_form() -> None:
    for dt in (DataType.STRING, DataType.UNDEFINED):
        with pytest.raises(ModelFormatError, match="no raw_data form"):
            raw_nbytes(dt, 1)


@pytest.mark.parametrize("module", [dtypes, codec], ids=lambda m: m.__name__)
def test_module_doctests(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS,
                             extraglobs={"np": np, "ml_dtypes": ml_dtypes})
    assert result.failed == 0
    assert result.attempted > 0


# ---- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("dt", "shape"), [c for c in CASES if c[0] != DataType.STRING], ids=[
    i for c, i in zip(CASES, IDS, strict=True) if c[0] != DataType.STRING
])  # fmt: skip
def test_raw_round_trip(dt: DataType, shape: tuple[int, ...]) -> None:
    values = make_values(dt, shape)
    got_type, raw = encode_raw(values)
    assert got_type == dt
    assert len(raw) == raw_nbytes(dt, values.size)
    assert_bits_equal(decode_raw(raw, dt, shape), values)


@pytest.mark.parametrize(("dt", "shape"), CASES, ids=IDS)
def test_typed_round_trip(dt: DataType, shape: tuple[int, ...]) -> None:
    values = make_values(dt, shape)
    proto = TensorProto(name="keep me")
    encode_typed(values, proto)
    assert proto.name == "keep me"
    assert proto.data_type == dt
    assert tuple(proto.dims) == shape
    assert not proto.HasField("raw_data")
    # Through the wire too: that is where a NaN payload would be lost.
    parsed = TensorProto.FromString(proto.SerializeToString())
    assert_bits_equal(decode_typed(parsed), values)
    assert_bits_equal(decode_typed(proto), values)


def test_signalling_nan_survives_float_data() -> None:
    # Reading float_data element by element gives Python floats (doubles): the float32 -> double
    # conversion quiets signalling NaNs, 0x7f800001 becomes 0x7fc00001. (protobuf 7's upb container
    # also has an exact __array__, but older protobuf releases do not.)
    values = np.array([0x7F800001, 0xFFBFFFFF, 0x7FC00001], dtype=np.uint32).view(np.float32)
    proto = TensorProto()
    encode_typed(values, proto)
    lossy = np.array(list(proto.float_data), dtype=np.float32).view(np.uint32)
    assert lossy[0] != 0x7F800001  # the lossy path the module works around
    assert decode_typed(proto).view(np.uint32).tolist() == [0x7F800001, 0xFFBFFFFF, 0x7FC00001]


def test_bool_odd_bytes_round_trip() -> None:
    # Like onnx.numpy_helper, a BOOL byte other than 0/1 is kept as the array's byte.
    raw = b"\x00\x01\x02\xff"
    arr = decode_raw(raw, DataType.BOOL, (4,))
    assert arr.dtype == np.bool_
    assert arr.view(np.uint8).tolist() == [0, 1, 2, 255]
    assert encode_raw(arr) == (DataType.BOOL, raw)
    proto = TensorProto()
    encode_typed(arr, proto)
    assert list(proto.int32_data) == [0, 1, 2, 255]
    assert decode_typed(proto).view(np.uint8).tolist() == [0, 1, 2, 255]
    oracle = numpy_helper.to_array(onnx.TensorProto.FromString(_raw_proto(DataType.BOOL, (4,), raw)))
    assert oracle.view(np.uint8).tolist() == [0, 1, 2, 255]


def test_strings_accept_str_and_bytes_and_never_decode() -> None:
    proto = TensorProto()
    encode_typed(np.array(["h\u00e9", b"\xff", "x"], dtype=object).reshape(3, 1), proto)
    assert list(proto.string_data) == ["h\u00e9".encode(), b"\xff", b"x"]
    out = decode_typed(proto)
    assert out.dtype == object and out.shape == (3, 1)
    assert out.ravel().tolist() == ["h\u00e9".encode(), b"\xff", b"x"]
    encode_typed(np.array(["ab", "c"]), proto)  # a fixed-width U array
    assert list(proto.string_data) == [b"ab", b"c"]
    encode_typed(np.array([b"ab", b"c"]), proto)  # a fixed-width S array
    assert list(proto.string_data) == [b"ab", b"c"]


def test_encode_typed_refuses_non_string_objects_without_touching_the_proto() -> None:
    proto = TensorProto(data_type=DataType.FLOAT, dims=[1], float_data=[1.0])
    with pytest.raises(ModelFormatError, match="element 1 is int"):
        encode_typed(np.array([b"a", 3], dtype=object), proto)
    assert list(proto.float_data) == [1.0] and proto.data_type == DataType.FLOAT


def test_encode_typed_replaces_previous_data() -> None:
    proto = TensorProto(data_type=DataType.INT32, dims=[2, 2], raw_data=b"\0" * 16, int64_data=[1])
    proto.external_data.add(key="location", value="x.bin")
    proto.data_location = 1
    encode_typed(np.array([1.5], dtype=np.float64), proto)
    assert proto.data_type == DataType.DOUBLE and list(proto.dims) == [1]
    assert list(proto.double_data) == [1.5]
    assert not proto.HasField("raw_data") and not proto.int64_data and not proto.external_data
    assert proto.data_location == 0


def test_encode_raw_refuses_strings() -> None:
    with pytest.raises(ModelFormatError, match="no raw_data form"):
        encode_raw(np.array([b"a"], dtype=object))


def test_encode_raw_of_non_native_and_non_contiguous_input() -> None:
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected = values.T.astype("<f4").tobytes()
    assert encode_raw(values.T) == (DataType.FLOAT, expected)
    assert encode_raw(values.T.astype(">f4")) == (DataType.FLOAT, expected)
    assert encode_raw(np.array([1, 2], dtype=">u2"))[1] == b"\x01\x00\x02\x00"


# ---- oracle: the onnx package -------------------------------------------------------------------


def _raw_proto(dt: DataType, shape: tuple[int, ...], raw: bytes) -> bytes:
    return bytes(onnx_helper.make_tensor("t", int(dt), shape, raw, raw=True).SerializeToString())


def _oracle_compare(serialized: bytes, where: str) -> np.ndarray:
    """Decode the same bytes with onnx and with onnxlite; they must agree bit for bit."""
    ours = decode_typed(TensorProto.FromString(serialized), where=where)
    theirs = numpy_helper.to_array(onnx.TensorProto.FromString(serialized))
    if ours.dtype == object:
        # onnx decodes STRING to str; onnxlite keeps the bytes as stored. onnx bug: to_array goes
        # through a fixed-width numpy 'U' array, which drops trailing NUL characters
        # (b"\x00nul\x00" comes back as "\x00nul"); onnxlite keeps them.
        assert ours.shape == theirs.shape
        assert [b.decode("utf-8").rstrip("\0") for b in ours.ravel().tolist()] == theirs.ravel().tolist()
        return ours
    assert_bits_equal(ours, theirs)
    return ours


def _utf8_only(values: np.ndarray) -> np.ndarray:
    # onnx's to_array decodes UTF-8 and would raise on the deliberately invalid entries.
    if values.dtype != object:
        return values
    flat = values.ravel().copy()
    flat[:] = [b if b != b"\xff\xfe not utf-8" else b"ok" for b in flat.tolist()]
    return flat.reshape(values.shape)


@pytest.mark.parametrize(("dt", "shape"), CASES, ids=IDS)
def test_oracle_from_array_raw(dt: DataType, shape: tuple[int, ...]) -> None:
    corpus.skip_unless_onnx_knows([dt])
    values = _utf8_only(make_values(dt, shape))
    onnx_tensor = numpy_helper.from_array(values, name="t")
    assert onnx_tensor.data_type == dt
    decoded = _oracle_compare(onnx_tensor.SerializeToString(), where="from_array")
    assert_bits_equal(decoded, values)
    if dt != DataType.STRING:
        # Our raw bytes are exactly onnx's raw bytes.
        assert encode_raw(values) == (dt, onnx_tensor.raw_data)


@pytest.mark.parametrize(("dt", "shape"), CASES, ids=IDS)
def test_oracle_make_tensor_typed(dt: DataType, shape: tuple[int, ...]) -> None:
    corpus.skip_unless_onnx_knows([dt])
    values = _utf8_only(make_values(dt, shape))
    onnx_tensor = onnx_helper.make_tensor("t", int(dt), shape, values.ravel(), raw=False)
    serialized = onnx_tensor.SerializeToString()
    _oracle_compare(serialized, where="make_tensor")

    ours = TensorProto(name="t")
    encode_typed(values, ours)
    field = dt.typed_field
    assert field is not None
    want = list(getattr(onnx_tensor, field))
    got = list(getattr(ours, field))
    if dt in (DataType.FLOAT, DataType.COMPLEX64):
        # onnx quirk: make_tensor fills float_data through Python floats, which quiets signalling
        # NaNs (0x7f800001 -> 0x7fc00001). onnxlite keeps every bit.
        ours_bits = np.frombuffer(wire.float_data_bytes(ours), "<u4")
        theirs_bits = np.frombuffer(wire.float_data_bytes(TensorProto.FromString(serialized)), "<u4")
        assert ours_bits.tobytes() == np.ascontiguousarray(values).tobytes()
        is_snan = ((ours_bits & 0x7F800000) == 0x7F800000) & ((ours_bits & 0x007FFFFF) != 0)
        is_snan &= (ours_bits & 0x00400000) == 0
        assert (theirs_bits == np.where(is_snan, ours_bits | 0x00400000, ours_bits)).all()
        return
    if dt in FLOAT8:
        # onnx.proto: float8 is stored "bit-wise", so ours is the stored byte; make_tensor rewrites
        # a few codes (see test_onnx_make_tensor_float8_rewrites).
        codes = values.ravel().view(np.uint8).tolist()
        assert got == codes
        assert want == [ONNX_FLOAT8_REWRITES.get(dt, {}).get(c, c) for c in codes]
        return
    if dt == DataType.STRING:
        # onnx bug: make_tensor passes strings through a fixed-width numpy 'S' array, which drops
        # trailing NUL bytes. onnxlite writes the bytes as given.
        assert got == values.ravel().tolist()
        assert want == [b.rstrip(b"\0") for b in got]
        return
    if dt in (DataType.DOUBLE, DataType.COMPLEX128):
        # Compare bits: NaN != NaN as Python floats.
        assert (
            np.array(got, np.float64).view(np.uint64).tolist()
            == np.array(want, np.float64).view(np.uint64).tolist()
        )
        return
    assert got == want
    assert ours.SerializeToString() == onnx_tensor.SerializeToString()


# What onnx.helper.make_tensor(raw=False) writes instead of the given float8 code, even when the
# input already is an ml_dtypes float8 array:
# - FLOAT8E5M2: it saturate-casts (documented), so +-inf become +-max (0x7b/0xfb), and NaN
#   payloads are canonicalised (0x7d, 0x7f -> 0x7e). Deliberate, but lossy for float8 input.
# - FLOAT8E8M0: onnx bug: to_float8e8m0 turns code 0x00 (2**-127, exactly representable, a float32
#   subnormal) into 0x01 (2**-126).
ONNX_FLOAT8_REWRITES: dict[DataType, dict[int, int]] = {
    DataType.FLOAT8E5M2: {0x7C: 0x7B, 0x7D: 0x7E, 0x7F: 0x7E, 0xFC: 0xFB, 0xFD: 0xFE, 0xFF: 0xFE},
    DataType.FLOAT8E8M0: {0x00: 0x01},
}


@pytest.mark.parametrize("dt", sorted(FLOAT8), ids=lambda d: d.short_name)
def test_onnx_make_tensor_float8_rewrites(dt: DataType) -> None:
    values = np.arange(256, dtype=np.uint8).view(dt.np_dtype)
    onnx_tensor = onnx_helper.make_tensor("t", dt, [256], values, raw=False)
    rewritten = {i: v for i, v in enumerate(onnx_tensor.int32_data) if v != i}
    assert rewritten == ONNX_FLOAT8_REWRITES.get(dt, {})
    ours = TensorProto()
    encode_typed(values, ours)
    assert list(ours.int32_data) == list(range(256))
    # Both decoders agree on what each of them is given.
    _oracle_compare(onnx_tensor.SerializeToString(), where="make_tensor")
    _oracle_compare(ours.SerializeToString(), where="ours")


@pytest.mark.parametrize("dt", sorted(SUB_BYTE), ids=lambda d: d.short_name)
def test_packing_pinned_to_spec_text(dt: DataType) -> None:
    """The packing formulas of onnx.proto, written out by hand, independent of the onnx package."""
    codes = [(7 * i + 3) % (1 << dt.bitwidth) for i in range(7)]  # odd count: padding exercised
    values = np.array(codes, dtype=np.uint8).view(dt.np_dtype)
    if dt.bitwidth == 4:
        expected = bytes(
            [codes[0] | codes[1] << 4, codes[2] | codes[3] << 4, codes[4] | codes[5] << 4, codes[6]]
        )
    elif dt.bitwidth == 2:
        expected = bytes(
            [
                codes[0] | codes[1] << 2 | codes[2] << 4 | codes[3] << 6,
                codes[4] | codes[5] << 2 | codes[6] << 4,
            ]
        )
    else:
        x = codes + [0]
        expected = b"".join(
            bytes(
                [
                    x[i] | ((x[i + 1] & 0x3) << 6),
                    (x[i + 1] >> 2) | ((x[i + 2] & 0xF) << 4),
                    (x[i + 2] >> 4) | (x[i + 3] << 2),
                ]
            )
            for i in (0, 4)
        )[: raw_nbytes(dt, 7)]  # ceil(6 * 7 / 8) = 6 bytes
    assert encode_raw(values) == (dt, expected)
    assert_bits_equal(decode_raw(expected, dt, (7,)), values)
    proto = TensorProto()
    encode_typed(values, proto)
    if dt.bitwidth == 6:
        assert list(proto.int32_data) == codes  # one 6-bit code per entry, bits 6-31 zero
    else:
        assert list(proto.int32_data) == list(expected)  # one packed byte per entry


def test_padding_bits_are_ignored_on_decode() -> None:
    # A producer that leaves garbage in the unused high nibble still decodes to the same values.
    assert decode_raw(b"\x21\xf3", DataType.UINT4, (3,)).view(np.uint8).tolist() == [1, 2, 3]
    assert decode_raw(b"\xc1", DataType.UINT2, (1,)).view(np.uint8).tolist() == [1]


def test_int32_data_accepts_sign_and_zero_extension() -> None:
    for entries in ([-1, -32768], [65535, 32768]):
        proto = TensorProto(data_type=DataType.INT16, dims=[2], int32_data=entries)
        assert decode_typed(proto).tolist() == [-1, -32768]
    proto = TensorProto(data_type=DataType.FLOAT16, dims=[1], int32_data=[-16384])  # 0xC000 sign-extended
    assert decode_typed(proto).tolist() == [-2.0]
    proto = TensorProto(data_type=DataType.INT4, dims=[2], int32_data=[-1])  # packed byte 0xFF
    assert decode_typed(proto).tolist() == [-1, -1]


# ---- zero copy and byte order ---------------------------------------------------------------------


def test_decode_raw_is_a_view_for_aligned_types() -> None:
    buf = bytearray(np.arange(6, dtype="<i4").tobytes())
    arr = decode_raw(buf, DataType.INT32, (2, 3))
    assert np.shares_memory(arr, np.frombuffer(buf, dtype=np.uint8))
    buf[0] = 9
    assert arr[0, 0] == 9
    assert not decode_raw(bytes(buf), DataType.INT32, (2, 3)).flags.writeable


def test_decode_raw_from_mmap_slice(tmp_path: Any) -> None:
    path = tmp_path / "blob"
    payload = np.arange(5, dtype="<f8").tobytes()
    path.write_bytes(b"hdr" + payload + b"tail")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = memoryview(mm)[3 : 3 + len(payload)]  # deliberately unaligned
        arr = decode_raw(view, DataType.DOUBLE, (5,))
        assert arr.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
        del arr, view  # release the exported buffer before the mmap closes


def test_raw_units_are_explicitly_little_endian() -> None:
    # Every dtype used on raw bytes says '<' (or '|' for one byte): nothing depends on host order.
    for dt, row in dtypes._TABLE.items():
        if row.unit is not None:
            assert row.unit.startswith("<u"), dt
            assert np.dtype(row.unit).str == "<" + row.unit[1:] or row.unit == "<u1"


@pytest.mark.parametrize("dt", [dt for dt in NUMERIC_TYPES if dt.bitwidth >= 16], ids=lambda d: d.short_name)
def test_simulated_opposite_endian_host(dt: DataType, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a big-endian host the '<' storage units are non-native. Swap the roles here: give the
    table '>' units (non-native on this host) and big-endian bytes, and the same code path must
    produce the same values and bytes."""
    values = make_values(dt, (16, 16))
    _, little = encode_raw(values)
    swapped = {
        k: (row._replace(unit=">" + row.unit[1:]) if row.unit is not None else row)
        for k, row in dtypes._TABLE.items()
    }
    monkeypatch.setattr(codec, "_TABLE", swapped)
    unit = swapped[dt].unit
    assert unit is not None
    big = np.frombuffer(little, dtype="<" + unit[1:]).astype(unit).tobytes()
    assert big != little
    assert_bits_equal(decode_raw(big, dt, (16, 16)), values)
    assert encode_raw(values) == (dt, big)


# ---- errors ---------------------------------------------------------------------------------------


def test_wrong_raw_length() -> None:
    with pytest.raises(ModelFormatError, match=r"^w: raw_data has 7 bytes, but float \[2\] needs 8$"):
        decode_raw(b"\0" * 7, DataType.FLOAT, (2,), where="w")
    with pytest.raises(ModelFormatError, match="raw_data has 3 bytes, but int4 \\[3\\] needs 2"):
        decode_raw(b"\0" * 3, DataType.INT4, (3,))
    proto = TensorProto(data_type=DataType.FLOAT6E2M3, dims=[4], raw_data=b"\0\0")
    with pytest.raises(ModelFormatError, match="graph.initializer\\[3\\]: raw_data has 2 bytes"):
        decode_typed(proto, where="graph.initializer[3]")


def test_unknown_data_type() -> None:
    with pytest.raises(ModelFormatError, match="^t: unknown data type 99$"):
        decode_raw(b"", 99, (0,), where="t")
    with pytest.raises(ModelFormatError, match="^init: unknown data type 99$"):
        decode_typed(TensorProto(data_type=99), where="init")
    with pytest.raises(ModelFormatError, match="data type is UNDEFINED"):
        decode_typed(TensorProto(dims=[1]))
    with pytest.raises(ModelFormatError, match="STRING cannot be stored in raw_data"):
        decode_raw(b"", DataType.STRING, (0,))


def test_negative_dim() -> None:
    with pytest.raises(ModelFormatError, match=r"^x: negative dimension -2 in shape \[3, -2\]$"):
        check_shape([3, -2], where="x")
    with pytest.raises(ModelFormatError, match="negative dimension"):
        decode_typed(TensorProto(data_type=DataType.FLOAT, dims=[-1]))
    assert check_shape(np.array([2, 0, 5]), where="x") == (2, 0, 5)
    assert check_shape([], where="x") == ()
    assert check_shape([2**62], where="x") == (2**62,)
    assert check_shape([0, 2**62, 2**62], where="x") == (0, 2**62, 2**62)
    with pytest.raises(ModelFormatError, match="more than"):
        check_shape([2**31, 2**31, 2], where="x")


def test_segment_refused() -> None:
    proto = TensorProto(data_type=DataType.FLOAT, dims=[1], float_data=[1.0])
    proto.segment.begin = 0
    proto.segment.end = 1
    with pytest.raises(ModelFormatError, match="^seg: segmented tensors are not supported$"):
        decode_typed(proto, where="seg")


def test_external_data_refused() -> None:
    proto = TensorProto(data_type=DataType.FLOAT, dims=[1], data_location=1)
    proto.external_data.add(key="location", value="w.bin")
    with pytest.raises(ExternalDataError, match="external"):
        decode_typed(proto)


@pytest.mark.parametrize(
    ("proto", "message"),
    [
        (TensorProto(data_type=DataType.FLOAT, dims=[3], float_data=[1.0]),
         r"^t: float_data has 1 values, but float \[3\] needs 3$"),
        (TensorProto(data_type=DataType.COMPLEX64, dims=[2], float_data=[1.0, 2.0, 3.0]),
         r"float_data has 3 values, but complex64 \[2\] needs 4"),
        (TensorProto(data_type=DataType.INT4, dims=[3], int32_data=[1]),
         r"int32_data has 1 values, but int4 \[3\] needs 2"),
        (TensorProto(data_type=DataType.FLOAT6E3M2, dims=[3], int32_data=[1]),
         r"int32_data has 1 values, but float6e3m2 \[3\] needs 3"),
        (TensorProto(data_type=DataType.STRING, dims=[2], string_data=[b"a"]),
         r"string_data has 1 values, but string \[2\] needs 2"),
        (TensorProto(data_type=DataType.INT32, dims=[1], float_data=[1.0]),
         "INT32 tensor has float_data; it must use int32_data"),
        (TensorProto(data_type=DataType.STRING, dims=[1], raw_data=b"a"),
         "STRING tensor has raw_data"),
        (TensorProto(data_type=DataType.INT32, dims=[1], raw_data=b"\0" * 4, int32_data=[1]),
         "both raw_data and int32_data"),
        (TensorProto(data_type=DataType.UINT8, dims=[1], int32_data=[256]),
         "int32_data value 256 does not fit uint8"),
        (TensorProto(data_type=DataType.INT8, dims=[1], int32_data=[-129]),
         "int32_data value -129 does not fit int8"),
        (TensorProto(data_type=DataType.FLOAT6E2M3, dims=[1], int32_data=[64]),
         "int32_data value 64 does not fit float6e2m3"),
        (TensorProto(data_type=DataType.UINT32, dims=[1], uint64_data=[2**32]),
         "uint64_data value 4294967296 does not fit uint32"),
    ],
)  # fmt: skip
def test_typed_data_errors(proto: Any, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        decode_typed(proto, where="t")


def test_empty_tensors_decode() -> None:
    assert decode_typed(TensorProto(data_type=DataType.FLOAT, dims=[0, 3])).shape == (0, 3)
    assert decode_typed(TensorProto(data_type=DataType.STRING, dims=[0])).shape == (0,)
    assert decode_typed(TensorProto(data_type=DataType.INT4, dims=[2, 0])).dtype == ml_dtypes.int4
    with pytest.raises(ModelFormatError, match=r"double_data has 0 values, but double \[\] needs 1"):
        decode_typed(TensorProto(data_type=DataType.DOUBLE, dims=[]))  # a 0-d tensor holds one value


@pytest.mark.parametrize("dt", REAL_TYPES, ids=lambda d: d.short_name)
def test_huge_declared_shape_fails_fast_without_allocating(dt: DataType) -> None:
    shape = (2**30, 2**30)  # 2**60 elements
    field = dt.typed_field
    typed = TensorProto(data_type=dt, dims=shape)
    getattr(typed, str(field)).extend([b"x"] if dt == DataType.STRING else [1])
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match="needs"):
            decode_typed(typed)
        if dt != DataType.STRING:
            with pytest.raises(ModelFormatError, match="raw_data has 4 bytes"):
                decode_raw(b"\0\0\0\0", dt, shape)
            raw = TensorProto(data_type=dt, dims=shape, raw_data=b"\0")
            with pytest.raises(ModelFormatError, match="raw_data has 1 bytes"):
                decode_typed(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_decode_does_not_mutate_the_proto() -> None:
    proto = TensorProto(data_type=DataType.FLOAT, dims=[2], float_data=[1.0, float("nan")], name="n")
    before = proto.SerializeToString()
    decode_typed(proto)
    assert proto.SerializeToString() == before
