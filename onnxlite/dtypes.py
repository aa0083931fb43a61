"""ONNX tensor data types and their storage: the one table, plus encode/decode of tensor payloads.

Every fact about a data type (numpy / ml_dtypes dtype, bits per element in ``raw_data``, which
typed field holds it) lives in ``_TABLE`` below; everything else is derived from it.

Storage rules (onnx.proto, ``TensorProto``):

* ``raw_data`` is little-endian and fixed-width. int4/uint4/float4e2m1 pack two elements per byte
  (first element in the low nibble), int2/uint2 four per byte (first element in bits 0-1),
  float6e2m3/float6e3m2 four elements into three bytes as an LSB-first 24-bit stream. BOOL is one
  byte per element.
* Typed fields: int32_data holds one element per entry for 8/16/32-bit types (float16, bfloat16,
  float8 as their unsigned bit patterns), one packed *byte* per entry for 4- and 2-bit types and one
  6-bit code per entry for float6. Complex values are interleaved (real, imag) pairs in
  float_data / double_data. uint32 and uint64 use uint64_data; strings use string_data.

Byte order is always explicit (``'<u4'`` ...), never the host's, so big-endian hosts decode correctly.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from onnxlite.errors import ModelFormatError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DATA_FIELDS",
    "MAX_NUMEL",
    "TYPED_FIELDS",
    "DataType",
    "check_shape",
    "data_type_of",
    "raw_nbytes",
]

#: Largest element count a tensor may declare; beyond this ``numel * bits`` stops fitting in int64.
MAX_NUMEL = 2**62


class DataType(enum.IntEnum):
    """``TensorProto.DataType``, with the storage facts of each type as properties.

    >>> DataType.FLOAT16.np_dtype, DataType.INT4.bitwidth, DataType.BFLOAT16.typed_field
    (dtype('float16'), 4, 'int32_data')
    >>> DataType(17).short_name
    'float8e4m3fn'
    """

    UNDEFINED = 0
    FLOAT = 1
    UINT8 = 2
    INT8 = 3
    UINT16 = 4
    INT16 = 5
    INT32 = 6
    INT64 = 7
    STRING = 8
    BOOL = 9
    FLOAT16 = 10
    DOUBLE = 11
    UINT32 = 12
    UINT64 = 13
    COMPLEX64 = 14
    COMPLEX128 = 15
    BFLOAT16 = 16
    FLOAT8E4M3FN = 17
    FLOAT8E4M3FNUZ = 18
    FLOAT8E5M2 = 19
    FLOAT8E5M2FNUZ = 20
    UINT4 = 21
    INT4 = 22
    FLOAT4E2M1 = 23
    FLOAT8E8M0 = 24
    UINT2 = 25
    INT2 = 26
    FLOAT6E2M3 = 27
    FLOAT6E3M2 = 28

    def __str__(self) -> str:
        """The type's name, as ``print(tensor.dtype)`` shows it; ``repr`` keeps the number.

        >>> print(DataType.FLOAT)
        FLOAT
        >>> f"{DataType.INT4}", f"{DataType.INT4:d}", repr(DataType.INT4)
        ('INT4', '22', '<DataType.INT4: 22>')
        """
        return self.name

    def __format__(self, spec: str) -> str:
        # numeric format specs ("{:d}", "{:x}") still format the number
        if spec and spec[-1] in "bcdoxXn":
            return format(int(self), spec)
        return format(self.name, spec)

    @property
    def np_dtype(self) -> np.dtype:
        """The numpy / ml_dtypes dtype of one unpacked element (``object`` for STRING).

        >>> DataType.FLOAT6E2M3.np_dtype.name
        'float6_e2m3fn'
        """
        name = _TABLE[self].np_dtype
        if name is None:
            raise ModelFormatError("data type UNDEFINED has no numpy dtype")
        return _resolve_dtype(name)

    @property
    def bitwidth(self) -> int:
        """Bits per element in ``raw_data`` (0 for STRING and UNDEFINED, which have no raw form).

        >>> DataType.FLOAT6E3M2.bitwidth, DataType.COMPLEX64.bitwidth, DataType.STRING.bitwidth
        (6, 64, 0)
        """
        return _TABLE[self].bits

    @property
    def short_name(self) -> str:
        """Lower-case name as the ONNX textual syntax writes it.

        >>> DataType.FLOAT.short_name, DataType.FLOAT8E5M2FNUZ.short_name
        ('float', 'float8e5m2fnuz')
        """
        return self.name.lower()

    @property
    def ir_version(self) -> int:
        """The IR version that introduced this type (3 for the original ones; onnx.proto's
        ``enum Version`` comments).

        >>> DataType.BFLOAT16.ir_version, DataType.INT4.ir_version, DataType.FLOAT.ir_version
        (4, 10, 3)
        """
        return _IR_VERSION.get(self, 3)

    @property
    def typed_field(self) -> str | None:
        """The TensorProto field that stores this type outside raw_data (None for UNDEFINED).

        >>> DataType.UINT32.typed_field
        'uint64_data'
        """
        return _TABLE[self].field


_IR_VERSION = {
    DataType.BFLOAT16: 4,
    DataType.FLOAT8E4M3FN: 9, DataType.FLOAT8E4M3FNUZ: 9, DataType.FLOAT8E5M2: 9, DataType.FLOAT8E5M2FNUZ: 9,
    DataType.UINT4: 10, DataType.INT4: 10,
    DataType.FLOAT4E2M1: 11,
    DataType.FLOAT8E8M0: 12,
    DataType.UINT2: 13, DataType.INT2: 13,
    DataType.FLOAT6E2M3: 14, DataType.FLOAT6E3M2: 14,
}


class _Row(NamedTuple):
    # Name of the numpy / ml_dtypes scalar type; resolved on first use so that importing
    # onnxlite does not import numpy (half of `import onnxlite`'s time otherwise).
    np_dtype: str | None
    # Bits per element in raw_data; 2, 4 and 6 mean packed.
    bits: int
    field: str | None
    # Little-endian unsigned dtype string of one stored unit in raw_data (complex: one of its two
    # halves). Kept as the string: on a little-endian host np.dtype("<u4") reports itself as native
    # '=', and the explicit '<' is the point. None for packed types (they go through uint8 codes)
    # and for STRING/UNDEFINED.
    unit: str | None


def _row(dtype: str | None, bits: int, field: str | None, unit: str | None = None) -> _Row:
    return _Row(dtype, bits, field, unit)


_D = DataType
_TABLE: dict[DataType, _Row] = {
    _D.UNDEFINED: _row(None, 0, None),
    _D.FLOAT: _row("np.float32", 32, "float_data", "<u4"),
    _D.UINT8: _row("np.uint8", 8, "int32_data", "<u1"),
    _D.INT8: _row("np.int8", 8, "int32_data", "<u1"),
    _D.UINT16: _row("np.uint16", 16, "int32_data", "<u2"),
    _D.INT16: _row("np.int16", 16, "int32_data", "<u2"),
    _D.INT32: _row("np.int32", 32, "int32_data", "<u4"),
    _D.INT64: _row("np.int64", 64, "int64_data", "<u8"),
    _D.STRING: _row("object", 0, "string_data"),
    _D.BOOL: _row("np.bool_", 8, "int32_data", "<u1"),
    _D.FLOAT16: _row("np.float16", 16, "int32_data", "<u2"),
    _D.DOUBLE: _row("np.float64", 64, "double_data", "<u8"),
    _D.UINT32: _row("np.uint32", 32, "uint64_data", "<u4"),
    _D.UINT64: _row("np.uint64", 64, "uint64_data", "<u8"),
    _D.COMPLEX64: _row("np.complex64", 64, "float_data", "<u4"),
    _D.COMPLEX128: _row("np.complex128", 128, "double_data", "<u8"),
    _D.BFLOAT16: _row("ml_dtypes.bfloat16", 16, "int32_data", "<u2"),
    _D.FLOAT8E4M3FN: _row("ml_dtypes.float8_e4m3fn", 8, "int32_data", "<u1"),
    _D.FLOAT8E4M3FNUZ: _row("ml_dtypes.float8_e4m3fnuz", 8, "int32_data", "<u1"),
    _D.FLOAT8E5M2: _row("ml_dtypes.float8_e5m2", 8, "int32_data", "<u1"),
    _D.FLOAT8E5M2FNUZ: _row("ml_dtypes.float8_e5m2fnuz", 8, "int32_data", "<u1"),
    _D.UINT4: _row("ml_dtypes.uint4", 4, "int32_data"),
    _D.INT4: _row("ml_dtypes.int4", 4, "int32_data"),
    _D.FLOAT4E2M1: _row("ml_dtypes.float4_e2m1fn", 4, "int32_data"),
    _D.FLOAT8E8M0: _row("ml_dtypes.float8_e8m0fnu", 8, "int32_data", "<u1"),
    _D.UINT2: _row("ml_dtypes.uint2", 2, "int32_data"),
    _D.INT2: _row("ml_dtypes.int2", 2, "int32_data"),
    _D.FLOAT6E2M3: _row("ml_dtypes.float6_e2m3fn", 6, "int32_data"),
    _D.FLOAT6E3M2: _row("ml_dtypes.float6_e3m2fn", 6, "int32_data"),
}
del _D

#: Every TensorProto field that holds values outside raw_data (the ``typed_field`` of some
#: DataType each, in DataType order); DATA_FIELDS adds raw_data.
TYPED_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(row.field for row in _TABLE.values() if row.field))
DATA_FIELDS: tuple[str, ...] = ("raw_data", *TYPED_FIELDS)


@cache
def _resolve_dtype(name: str) -> np.dtype:
    import numpy as np

    if name == "object":
        return np.dtype(object)
    module, attr = name.split(".")
    if module == "np":
        return np.dtype(getattr(np, attr))
    import ml_dtypes  # heavy (most of a second): only for the types numpy does not have

    return np.dtype(getattr(ml_dtypes, attr))


def data_type_of(value: int) -> DataType:
    """The DataType for an integer read from a file.

    >>> data_type_of(1)
    <DataType.FLOAT: 1>
    >>> data_type_of(99)
    Traceback (most recent call last):
    ...
    onnxlite.errors.ModelFormatError: unknown data type 99
    """
    try:
        return DataType(value)
    except ValueError:
        raise ModelFormatError(f"unknown data type {value}") from None

def check_shape(dims: Iterable[int], *, where: str) -> tuple[int, ...]:
    """Validate declared dims: no negative dimension, at most MAX_NUMEL elements.

    >>> check_shape([2, 3], where="w")
    (2, 3)
    >>> check_shape([2, -1], where="graph.initializer[0]")
    Traceback (most recent call last):
    ...
    onnxlite.errors.ModelFormatError: graph.initializer[0]: negative dimension -1 in shape [2, -1]
    """
    shape = tuple(int(d) for d in dims)
    for d in shape:
        if d < 0:
            raise ModelFormatError(f"{where}: negative dimension {d} in shape {list(shape)}")
    # Exact big-int product: a hostile shape must be refused, not wrapped around to something small.
    if 0 not in shape and math.prod(shape) > MAX_NUMEL:
        raise ModelFormatError(
            f"{where}: shape {list(shape)} declares {math.prod(shape)} elements, more than {MAX_NUMEL}"
        )
    return shape


def raw_nbytes(data_type: DataType | int, numel: int) -> int:
    """Exact byte length of ``raw_data`` holding ``numel`` elements (packed types round up).

    >>> raw_nbytes(DataType.FLOAT, 3), raw_nbytes(DataType.INT4, 3), raw_nbytes(DataType.FLOAT6E2M3, 5)
    (12, 2, 4)
    """
    dt = data_type_of(data_type)
    if numel < 0:
        raise ModelFormatError(f"negative element count {numel}")
    if dt.bitwidth == 0:
        raise ModelFormatError(f"data type {dt.name} has no raw_data form")
    return -(-numel * dt.bitwidth // 8)
