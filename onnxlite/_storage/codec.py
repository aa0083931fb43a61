"""Encode and decode tensor payloads between numpy arrays and ONNX storage (raw_data and the
typed fields), bit-exactly for every data type. The facts per type come from the one table in
`onnxlite.dtypes`; this module holds the numpy code, imported only when data is decoded.
ml_dtypes (most of a second to import) is imported only when an array of a type numpy lacks
(bfloat16, float8, int4...) is made or looked at.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from onnxlite._storage.wire import float_data_bytes
from onnxlite.dtypes import _TABLE, TYPED_FIELDS, DataType, check_shape, data_type_of, raw_nbytes
from onnxlite.errors import ExternalDataError, ModelFormatError

__all__ = ["decode_raw", "decode_typed", "encode_raw", "encode_typed", "from_np_dtype"]

_TYPED_FIELDS = TYPED_FIELDS


def _dtype_key(dtype: np.dtype) -> object:
    # Builtin numeric dtypes are matched by kind and size, so 'l' vs 'q' (int64 on different
    # platforms) and '>f4' vs '<f4' all map alike; ml_dtypes types are identified by scalar type.
    if dtype.kind in "biufc":
        return (dtype.kind, dtype.itemsize)
    return dtype.type


@cache
def _numpy_types() -> dict[object, DataType]:
    return {_dtype_key(dt.np_dtype): dt for dt, row in _TABLE.items()
            if row.np_dtype is not None and row.np_dtype.startswith("np.")}


@cache
def _all_types() -> dict[object, DataType]:
    return {_dtype_key(dt.np_dtype): dt for dt, row in _TABLE.items()
            if row.np_dtype is not None and dt != DataType.STRING}


def from_np_dtype(dtype: np.dtype | type) -> DataType:
    """The DataType for a numpy / ml_dtypes dtype; object, bytes and str dtypes mean STRING.

    >>> import ml_dtypes
    >>> from_np_dtype(np.dtype("<f4")), from_np_dtype(ml_dtypes.int4), from_np_dtype(np.dtype("U3"))
    (<DataType.FLOAT: 1>, <DataType.INT4: 22>, <DataType.STRING: 8>)
    """
    dtype = np.dtype(dtype)
    # 'T' is numpy 2's variable-width StringDType.
    if dtype.kind in "OSUT":
        return DataType.STRING
    key = _dtype_key(dtype)
    # a builtin dtype is found without importing ml_dtypes (an ml_dtypes dtype means it is loaded)
    found = _numpy_types().get(key) if dtype.kind in "biufc" else None
    if found is None:
        found = _all_types().get(key)
    if found is None:
        raise ModelFormatError(f"numpy dtype {dtype} has no ONNX data type")
    return found

# ---- packing of sub-byte codes (uint8 arrays holding one 2/4/6-bit code per byte) ----------------


def _unpack(packed: np.ndarray, bits: int, numel: int) -> np.ndarray:
    """uint8 packed stream -> uint8 array of ``numel`` codes (padding bits are ignored)."""
    if bits == 6:
        groups = -(-numel // 4)
        # Zero-pad to whole 3-byte groups, then read each group as one 24-bit little-endian word.
        padded = np.zeros(groups * 3, dtype=np.uint32)
        padded[: packed.size] = packed
        triples = padded.reshape(groups, 3)
        words = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        shifts = np.arange(0, 24, 6, dtype=np.uint32)
    else:
        words = packed.astype(np.uint32)
        shifts = np.arange(0, 8, bits, dtype=np.uint32)
    codes = (words[:, None] >> shifts) & ((1 << bits) - 1)
    return codes.reshape(-1)[:numel].astype(np.uint8)


def _pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """uint8 array of codes -> uint8 packed stream of exactly raw_nbytes bytes, zero padded."""
    nbytes = -(-codes.size * bits // 8)
    per = 4 if bits == 6 else 8 // bits
    padded = np.zeros(-(-codes.size // per) * per, dtype=np.uint32)
    padded[: codes.size] = codes & ((1 << bits) - 1)
    shifts = np.arange(0, per * bits, bits, dtype=np.uint32)
    words: np.ndarray = np.bitwise_or.reduce(padded.reshape(-1, per) << shifts, axis=1)
    if bits == 6:
        words = words[:, None] >> np.array([0, 8, 16], dtype=np.uint32)
    return (words & 0xFF).astype(np.uint8).reshape(-1)[:nbytes]


def _codes_of(flat: np.ndarray, bits: int) -> np.ndarray:
    # ml_dtypes keeps a sub-byte element in the low bits of one byte; mask off anything above.
    return flat.view(np.uint8) & np.uint8((1 << bits) - 1)


# ---- raw_data ---------------------------------------------------------------------------------


def _describe(dt: DataType, shape: tuple[int, ...]) -> str:
    return f"{dt.short_name} {list(shape)}"


def _checked_type(data_type: int, where: str) -> DataType:
    try:
        return data_type_of(data_type)
    except ModelFormatError as e:
        raise ModelFormatError(f"{where}: {e}") from None


def _native_unit(dt: DataType) -> np.dtype:
    """Host-order twin of the table's little-endian storage unit, for in-memory reinterpretation."""
    unit = _TABLE[dt].unit
    if unit is None:
        raise ModelFormatError(f"data type {dt.name} has no fixed-width storage unit")
    return np.dtype(unit).newbyteorder("=")


def _to_native(units: np.ndarray) -> np.ndarray:
    # A no-op on little-endian hosts (the '<' dtype already is native), a byte swap on big-endian ones.
    if units.dtype.isnative:
        return units
    return units.astype(units.dtype.newbyteorder("="))


def decode_raw(buf: Any, data_type: int, shape: tuple[int, ...], *, where: str = "tensor") -> np.ndarray:
    """Decode ``raw_data`` bytes (any buffer: bytes, memoryview of an mmap ...) into an array.

    The length is checked against the shape before anything is allocated. Byte-aligned types on a
    little-endian host come back as a read-only view of ``buf`` (no copy); packed types are unpacked
    to one ml_dtypes element per item. BOOL keeps each byte as it is (like ``onnx.numpy_helper``), so
    a byte other than 0/1 survives a decode/encode round trip; ``arr.view(np.uint8) != 0`` normalises.

    >>> a = decode_raw(b"\\x00\\x00\\x80?\\x00\\x00\\x00@", DataType.FLOAT, (2,))
    >>> a.tolist(), from_np_dtype(a.dtype)
    ([1.0, 2.0], <DataType.FLOAT: 1>)
    >>> a = decode_raw(b"\\xf1\\x07", DataType.INT4, (3,))
    >>> a.tolist(), from_np_dtype(a.dtype)
    ([1, -1, 7], <DataType.INT4: 22>)
    """
    dt = _checked_type(data_type, where)
    shape = check_shape(shape, where=where)
    if dt.bitwidth == 0:
        raise ModelFormatError(f"{where}: data type {dt.name} cannot be stored in raw_data")
    numel = math.prod(shape)
    have = memoryview(buf).nbytes
    need = raw_nbytes(dt, numel)
    if have != need:
        raise ModelFormatError(f"{where}: raw_data has {have} bytes, but {_describe(dt, shape)} needs {need}")
    row = _TABLE[dt]
    if row.unit is None:
        codes = _unpack(np.frombuffer(buf, dtype=np.uint8), dt.bitwidth, numel)
        return _shaped(codes.view(dt.np_dtype), shape, dt, where)
    units = _to_native(np.frombuffer(buf, dtype=row.unit))
    return _shaped(units.view(dt.np_dtype), shape, dt, where)


def _shaped(flat: np.ndarray, shape: tuple[int, ...], dt: DataType, where: str) -> np.ndarray:
    """``flat.reshape(shape)``; numpy refuses some empty shapes (``[0, 2**62]``: the product of
    the other dims times the item size must fit in 64 bits), which ONNX allows."""
    try:
        return flat.reshape(shape)
    except ValueError as e:
        raise ModelFormatError(f"{where}: numpy cannot hold {_describe(dt, shape)}: {e}") from None


def _native_array(array: np.ndarray) -> tuple[DataType, np.ndarray]:
    """(data type, C-contiguous 1-d native-order copy-or-view of ``array``)."""
    array = np.asarray(array)
    dt = from_np_dtype(array.dtype)
    flat = np.ascontiguousarray(array).reshape(-1)
    if dt != DataType.STRING:
        flat = _to_native(flat)
    return dt, flat


def encode_raw(array: np.ndarray) -> tuple[DataType, bytes]:
    """Encode an array as ``raw_data`` bytes (little-endian, sub-byte types packed); inverse of decode_raw.

    >>> import ml_dtypes
    >>> encode_raw(np.array([1, -1, 7], dtype=ml_dtypes.int4))
    (<DataType.INT4: 22>, b'\\xf1\\x07')
    """
    dt, flat = _native_array(array)
    row = _TABLE[dt]
    if dt == DataType.STRING:
        raise ModelFormatError("STRING tensors have no raw_data form; use encode_typed")
    if row.unit is None:
        return dt, _pack(_codes_of(flat, dt.bitwidth), dt.bitwidth).tobytes()
    units = flat.view(_native_unit(dt))
    return dt, units.astype(row.unit, copy=False).tobytes()


# ---- typed fields -------------------------------------------------------------------------------


def _typed_count(dt: DataType, numel: int) -> int:
    """How many entries the typed field holds for ``numel`` elements."""
    if dt.bitwidth in (2, 4):
        return raw_nbytes(dt, numel)  # one packed byte per int32_data entry
    if dt in (DataType.COMPLEX64, DataType.COMPLEX128):
        return 2 * numel
    return numel


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


_FLOAT_DATA_TAG = (4 << 3) | 2  # field 4, length-delimited (packed)


def _typed_error(where: str, count: int, field: str, dt: DataType, shape: tuple[int, ...], need: int) -> str:
    return f"{where}: {field} has {count} values, but {_describe(dt, shape)} needs {need}"


def _decode_int32_data(values: Any, dt: DataType, numel: int, where: str) -> np.ndarray:
    bits = dt.bitwidth
    # Entries hold an element's bit pattern (a packed byte for 2/4-bit types). int32 is signed, so
    # a producer may write it sign- or zero-extended: both are accepted, anything wider is refused.
    # float6 is stricter because onnx.proto says bits 6-31 MUST be zero.
    entry_bits = 8 if bits in (2, 4) else bits
    lo, hi = (0, 63) if bits == 6 else (-(1 << (entry_bits - 1)), (1 << entry_bits) - 1)
    v = np.fromiter(values, dtype=np.int64, count=len(values))
    if v.size and (v.min() < lo or v.max() > hi):
        bad = v[(v < lo) | (v > hi)][0]
        raise ModelFormatError(f"{where}: int32_data value {bad} does not fit {dt.short_name}")
    v &= (1 << entry_bits) - 1
    if bits in (2, 4):
        return _unpack(v.astype(np.uint8), bits, numel).view(dt.np_dtype)
    if bits == 6:
        return v.astype(np.uint8).view(dt.np_dtype)
    return v.astype(_native_unit(dt)).view(dt.np_dtype)


def decode_typed(tensor_proto: Any, *, where: str = "tensor") -> np.ndarray:
    """Decode a TensorProto whose data sits inside the message.

    The typed field of the data type is used (raw_data instead when set, as ONNX prescribes).
    STRING gives an object array of ``bytes`` (never decoded from UTF-8). Segments, external
    data, a count that does not match the shape and data in the wrong typed field are refused.

    >>> from onnxlite._proto import TensorProto
    >>> t = TensorProto(data_type=DataType.FLOAT16, dims=[2], int32_data=[0x3C00, 0xC000])
    >>> decode_typed(t).tolist()
    [1.0, -2.0]
    """
    if tensor_proto.HasField("segment"):
        raise ModelFormatError(f"{where}: segmented tensors are not supported")
    dt = _checked_type(tensor_proto.data_type, where)
    if dt == DataType.UNDEFINED:
        raise ModelFormatError(f"{where}: data type is UNDEFINED")
    shape = check_shape(tensor_proto.dims, where=where)
    if tensor_proto.data_location == 1:  # TensorProto.EXTERNAL
        raise ExternalDataError(f"{where}: tensor data is external; read it with onnxlite.io")
    field = dt.typed_field
    for other in _TYPED_FIELDS:
        if other != field and len(getattr(tensor_proto, other)):
            raise ModelFormatError(f"{where}: {dt.name} tensor has {other}; it must use {field}")
    if tensor_proto.HasField("raw_data"):
        if dt == DataType.STRING:
            raise ModelFormatError(f"{where}: STRING tensor has raw_data; strings must use string_data")
        if len(getattr(tensor_proto, str(field))):
            raise ModelFormatError(f"{where}: tensor has both raw_data and {field}")
        return decode_raw(tensor_proto.raw_data, dt, shape, where=where)

    numel = math.prod(shape)
    values = getattr(tensor_proto, str(field))
    need = _typed_count(dt, numel)
    # Compare counts before converting anything: the shape may be hostile, the field is what exists.
    if len(values) != need:
        raise ModelFormatError(_typed_error(where, len(values), str(field), dt, shape, need))

    if dt == DataType.STRING:
        out = np.empty(numel, dtype=object)
        out[:] = list(values)
        return _shaped(out, shape, dt, where)
    if field == "float_data":
        flat = _to_native(np.frombuffer(float_data_bytes(tensor_proto), dtype="<f4"))
    elif field == "double_data":
        # Python floats are doubles, so every bit (NaN payloads included) survives.
        flat = np.fromiter(values, dtype=np.float64, count=need)
    elif field == "int64_data":
        flat = np.fromiter(values, dtype=np.int64, count=need)
    elif field == "uint64_data":
        flat = np.fromiter(values, dtype=np.uint64, count=need)
        if dt == DataType.UINT32 and need and int(flat.max()) > 0xFFFFFFFF:
            raise ModelFormatError(f"{where}: uint64_data value {int(flat.max())} does not fit uint32")
        flat = flat.astype(np.uint32) if dt == DataType.UINT32 else flat
    else:
        flat = _decode_int32_data(values, dt, numel, where)
    return _shaped(flat.view(dt.np_dtype), shape, dt, where)


_CLEARED_ON_ENCODE = ("dims", "data_type", "segment", "raw_data", "external_data", "data_location")


def encode_typed(array: np.ndarray, tensor_proto: Any) -> None:
    """Store ``array`` in the typed field of ``tensor_proto``; inverse of decode_typed.

    Sets data_type and dims and replaces any data the message held (raw, typed or external);
    name, doc_string and metadata are kept. STRING arrays may hold ``bytes`` or ``str`` (written
    as UTF-8); a fixed-width ``S`` array loses trailing NUL bytes, as numpy itself drops them.

    >>> from onnxlite._proto import TensorProto
    >>> import ml_dtypes
    >>> t = TensorProto()
    >>> encode_typed(np.array([1, -1, 7], dtype=ml_dtypes.int4), t)
    >>> t.data_type, list(t.dims), list(t.int32_data)
    (22, [3], [241, 7])
    """
    array = np.asarray(array)
    dt, flat = _native_array(array)
    strings: list[bytes] = []
    if dt == DataType.STRING:
        # Validate every element before touching the message.
        for i, item in enumerate(flat.tolist()):
            if isinstance(item, str):
                strings.append(item.encode("utf-8"))
            elif isinstance(item, bytes):
                strings.append(item)
            else:
                raise ModelFormatError(
                    f"string tensor element {i} is {type(item).__name__}, not bytes or str"
                )
    for name in _CLEARED_ON_ENCODE + _TYPED_FIELDS:
        tensor_proto.ClearField(name)
    tensor_proto.data_type = int(dt)
    tensor_proto.dims.extend(array.shape)
    field = dt.typed_field
    bits = dt.bitwidth
    if dt == DataType.STRING:
        tensor_proto.string_data.extend(strings)
    elif field == "float_data":
        # Through the wire format, not .extend(): Python floats would quiet signalling NaNs.
        payload = flat.view(np.float32).astype("<f4", copy=False).tobytes()
        if payload:
            tensor_proto.MergeFromString(bytes([_FLOAT_DATA_TAG]) + _varint(len(payload)) + payload)
    elif field == "double_data":
        tensor_proto.double_data.extend(flat.view(np.float64).tolist())
    elif field in ("int64_data", "uint64_data"):
        getattr(tensor_proto, field).extend(flat.tolist())
    elif bits in (2, 4):
        tensor_proto.int32_data.extend(_pack(_codes_of(flat, bits), bits).tolist())
    elif bits == 6:
        tensor_proto.int32_data.extend(_codes_of(flat, bits).tolist())
    elif flat.dtype.kind in "iu":
        # Plain integers are written by value (int8 -1 stays -1, as onnx.helper writes it).
        tensor_proto.int32_data.extend(flat.tolist())
    else:
        # bool, float16, bfloat16, float8: the unsigned bit pattern, as onnx.proto requires.
        tensor_proto.int32_data.extend(flat.view(_native_unit(dt)).tolist())
