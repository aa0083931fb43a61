#!/usr/bin/env python3
"""Write the ONNX fixture corpus into tests/fixtures/ and describe it in tests/fixtures/MANIFEST.json.

Usage:
    python tools/make_fixtures.py [--out DIR] [--only SECTION ...]

The corpus mixes three kinds of file:

* real exporter output (PyTorch's TorchScript and dynamo exporters, skl2onnx, onnxscript), because
  held-out models come from many exporters and each has its own habits;
* models hand-built with ``onnx.helper`` that exercise every corner of onnx.proto (all 28 data
  types in both storages, functions, sparse tensors, training info, every attribute type, ...);
* byte-level oddities written by the small protobuf wire encoder below (reordered fields, flipped
  packing, split messages, duplicated scalars, unknown fields, overlong varints, hostile files),
  which the protobuf library's own serializer would never produce.

The ``onnx`` package is only an oracle: the manifest records what it makes of each file, and the
test suite compares onnxlite against it.  Everything here is deterministic (fixed seeds, no
timestamps, no absolute paths in the output, and the script re-runs itself with PYTHONHASHSEED=0
because some exporters iterate over sets of strings); exporter output can still change with the
exporter's version, so the manifest records every tool version.  A section whose optional tool
(torch, skl2onnx, onnxscript) is not installed is skipped with a message, and its previous files
and manifest entries are kept as they were; so are the sections left out by --only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import io
import json
import logging
import math
import os
import platform
import re
import shutil
import struct
import sys
import sysconfig
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import onnx
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from onnx import AttributeProto, TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "fixtures"
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1

# Hand-built models name themselves so a reader can tell fixtures from real exports.
PRODUCER_NAME = "onnxlite-fixtures"
PRODUCER_VERSION = "1"

# Pinned rather than taken from onnx.IR_VERSION / onnx_opset_version(), so the bytes do not
# change when the onnx oracle is upgraded.
IR_LATEST = 14  # first IR version with FLOAT6E2M3/FLOAT6E3M2
OPSET_LATEST = 28
OPSET_COMMON = 21

F32, I64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


# ---------------------------------------------------------------------------------------------
# Fixture records
# ---------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    """One model file written by a section, as it will appear in the manifest."""

    file: str  # POSIX path relative to the fixture root
    description: str
    producer: str
    features: list[str]
    data_files: list[str] = field(default_factory=list)  # external data, relative to the root
    expect: str | None = None  # what a conforming reader must make of it, when that is not obvious
    equivalent_to: str | None = None  # onnx.load() of both files gives equal messages (checked here)
    hostile: bool = False


class SectionUnavailable(Exception):
    """An optional tool the section needs is not installed."""


@dataclass
class SectionResult:
    fixtures: list[Fixture]
    versions: dict[str, str]


def _require(module: str) -> Any:
    """Import an optional exporter, or skip its section."""
    try:
        return __import__(module)
    except ImportError as exc:
        raise SectionUnavailable(f"{module} is not installed ({exc})") from exc


def _save(model: onnx.ModelProto, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _model(
    graph: onnx.GraphProto,
    opsets: Sequence[tuple[str, int]] = (("", OPSET_COMMON),),
    ir_version: int = 10,
    **kwargs: Any,
) -> onnx.ModelProto:
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
        producer_name=PRODUCER_NAME,
        producer_version=PRODUCER_VERSION,
        **kwargs,
    )
    model.ir_version = ir_version
    return model


def _vi(name: str, elem_type: int, shape: Sequence[int | str | None] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, shape)


# ---------------------------------------------------------------------------------------------
# Protobuf wire encoder
#
# A model is turned into a tree of `Field`s (using only the onnx.proto *descriptor*, for field
# numbers and types), the tree is edited, and `encode` writes the bytes itself.  With the default
# `Style` the output must equal protobuf's canonical serialization; that is asserted, and it is
# what makes the deliberately odd encodings trustworthy.
# ---------------------------------------------------------------------------------------------

WT_VARINT, WT_I64, WT_LEN, WT_SGROUP, WT_EGROUP, WT_I32 = 0, 1, 2, 3, 4, 5

_SCALAR_WIRE_TYPE = {"varint": WT_VARINT, "fixed64": WT_I64, "fixed32": WT_I32, "bytes": WT_LEN}


@dataclass
class Field:
    """One field occurrence on the wire.

    kind: varint | fixed32 | fixed64 | bytes | message | group | packed_varint | packed_fixed32 |
    packed_fixed64 | raw (`value` written verbatim, tag included).  `repeated` marks an element of
    a repeated scalar that onnx.proto declares unpacked (proto2's default), such as `dims`.
    """

    number: int
    kind: str
    value: Any
    repeated: bool = False


@dataclass(frozen=True)
class Style:
    reverse: bool = False  # fields of every message in descending field-number order
    flip_packing: bool = False  # packed fields written unpacked, unpacked repeated scalars packed
    mixed_packing: bool = False  # repeated scalars as unpacked + packed + packed + unpacked pieces
    overlong: bool = False  # every varint (tag, length, value) one byte longer than needed


CANONICAL = Style()


def varint(value: int, width: int | None = None) -> bytes:
    """Base-128 little-endian varint; negatives as 64-bit two's complement (always 10 bytes).

    `width` forces a non-minimal encoding of exactly that many bytes: the padding groups are
    0x80 continuation bytes followed by a final 0x00, which decoders must accept.
    """
    if value < 0:
        value += 1 << 64
    if not 0 <= value < 1 << 64:
        raise ValueError(f"varint out of range: {value}")
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7
        if not value:
            break
    if width is not None:
        if width < len(groups) or width > 10:
            raise ValueError(f"cannot encode in {width} bytes")
        groups += [0] * (width - len(groups))
    return bytes(g | 0x80 for g in groups[:-1]) + bytes(groups[-1:])


def _varint(value: int, style: Style, limit: int = 10) -> bytes:
    minimal = varint(value)
    if style.overlong and len(minimal) < limit:
        return varint(value, len(minimal) + 1)
    return minimal


def _tag(number: int, wire_type: int, style: Style) -> bytes:
    # Decoders read at most 5 bytes of tag, so overlong tags stop there.
    return _varint((number << 3) | wire_type, style, limit=5)


def _scalar_payload(kind: str, value: Any, style: Style) -> bytes:
    if kind == "varint":
        return _varint(int(value), style)
    if kind == "fixed32":
        return struct.pack("<I", value) if isinstance(value, int) else struct.pack("<f", value)
    if kind == "fixed64":
        return struct.pack("<Q", value) if isinstance(value, int) else struct.pack("<d", value)
    raise ValueError(kind)


def _len_delimited(number: int, payload: bytes, style: Style) -> bytes:
    return _tag(number, WT_LEN, style) + _varint(len(payload), style) + payload


def _encode_field(f: Field, style: Style) -> bytes:
    if f.kind == "raw":
        return bytes(f.value)
    if f.kind == "bytes":
        return _len_delimited(f.number, bytes(f.value), style)
    if f.kind == "message":
        return _len_delimited(f.number, encode(f.value, style), style)
    if f.kind == "group":
        return _tag(f.number, WT_SGROUP, style) + encode(f.value, style) + _tag(f.number, WT_EGROUP, style)
    if f.kind.startswith("packed_"):
        elem = f.kind.removeprefix("packed_")
        payload = b"".join(_scalar_payload(elem, v, style) for v in f.value)
        return _len_delimited(f.number, payload, style)
    return _tag(f.number, _SCALAR_WIRE_TYPE[f.kind], style) + _scalar_payload(f.kind, f.value, style)


def _runs(fields: list[Field]) -> Iterator[list[Field]]:
    """Group consecutive occurrences of one repeated scalar field (packed or not) together."""
    run: list[Field] = []
    for f in fields:
        scalar_rep = f.kind.startswith("packed_") or f.repeated
        if run and scalar_rep and f.number == run[-1].number:
            run.append(f)
            continue
        if run:
            yield run
        run = [f]
        if not scalar_rep:
            yield run
            run = []
    if run:
        yield run


def _repack(fields: list[Field], style: Style) -> list[Field]:
    if not (style.flip_packing or style.mixed_packing):
        return fields
    out: list[Field] = []
    for run in _runs(fields):
        head = run[0]
        if not (head.kind.startswith("packed_") or head.repeated):
            out += run
            continue
        elem = head.kind.removeprefix("packed_")
        values = [v for f in run for v in (f.value if f.kind.startswith("packed_") else [f.value])]
        declared_packed = head.kind.startswith("packed_")
        if style.mixed_packing and len(values) >= 2:
            # first and last element unpacked, the middle as (up to) two packed chunks
            middle = values[1:-1]
            half = (len(middle) + 1) // 2
            out.append(Field(head.number, elem, values[0], repeated=True))
            out += [Field(head.number, "packed_" + elem, c) for c in (middle[:half], middle[half:]) if c]
            out.append(Field(head.number, elem, values[-1], repeated=True))
        elif declared_packed:
            out += [Field(head.number, elem, v, repeated=True) for v in values]
        else:
            out.append(Field(head.number, "packed_" + elem, values))
    return out


def encode(fields: list[Field], style: Style = CANONICAL) -> bytes:
    # A stable sort keeps the relative order of a repeated field's elements, which is meaningful.
    ordered = sorted(fields, key=lambda f: -f.number) if style.reverse else list(fields)
    return b"".join(_encode_field(f, style) for f in _repack(ordered, style))


_KIND_OF_TYPE = {
    FieldDescriptor.TYPE_FLOAT: "fixed32",
    FieldDescriptor.TYPE_DOUBLE: "fixed64",
    FieldDescriptor.TYPE_INT32: "varint",
    FieldDescriptor.TYPE_INT64: "varint",
    FieldDescriptor.TYPE_UINT64: "varint",
    FieldDescriptor.TYPE_ENUM: "varint",
    FieldDescriptor.TYPE_BOOL: "varint",
}


def _is_repeated(fd: FieldDescriptor) -> bool:
    flag = getattr(fd, "is_repeated", None)  # newer protobuf; `label` is deprecated there
    return bool(flag) if flag is not None else fd.label == FieldDescriptor.LABEL_REPEATED


def to_fields(message: Message) -> list[Field]:
    """The field tree of a message, in the canonical order (ascending field number)."""
    out: list[Field] = []
    for fd, value in message.ListFields():
        rep = _is_repeated(fd)
        items = list(value) if rep else [value]
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            out += [Field(fd.number, "message", to_fields(v)) for v in items]
        elif fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
            out += [Field(fd.number, "bytes", v.encode() if isinstance(v, str) else v) for v in items]
        elif rep and fd.is_packed:
            out.append(Field(fd.number, "packed_" + _KIND_OF_TYPE[fd.type], items))
        else:
            out += [Field(fd.number, _KIND_OF_TYPE[fd.type], v, repeated=rep) for v in items]
    return out


def _iter_messages(message: Message) -> Iterator[Message]:
    """A message and every message nested in it, depth first."""
    yield message
    for fd, value in message.ListFields():
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if _is_repeated(fd) else [value]:
                yield from _iter_messages(item)


def sub(fields: list[Field], number: int, index: int = 0) -> list[Field]:
    """The `index`-th embedded message with field number `number`."""
    found = [f for f in fields if f.number == number and f.kind == "message"]
    return found[index].value


def _find(fields: list[Field], number: int) -> int:
    return next(i for i, f in enumerate(fields) if f.number == number)


def _unknown_fields(base: int, label: bytes) -> list[Field]:
    """Fields that onnx.proto does not define, one of each wire type, starting at number `base`."""
    return [
        Field(base, "varint", 150),
        Field(base + 1, "fixed64", 0x0123456789ABCDEF),
        Field(base + 2, "bytes", b"unknown:" + label),
        Field(base + 3, "group", [Field(1, "varint", 7), Field(2, "group", [Field(3, "bytes", label)])]),
        Field(base + 4, "fixed32", 0xDEADBEEF),
    ]


# ---------------------------------------------------------------------------------------------
# Section: all data types, in raw_data and in the typed fields
# ---------------------------------------------------------------------------------------------

# numpy / ml_dtypes element type of each TensorProto data type (None: STRING)
NP_DTYPE: dict[int, Any] = {
    TensorProto.FLOAT: np.float32,
    TensorProto.UINT8: np.uint8,
    TensorProto.INT8: np.int8,
    TensorProto.UINT16: np.uint16,
    TensorProto.INT16: np.int16,
    TensorProto.INT32: np.int32,
    TensorProto.INT64: np.int64,
    TensorProto.STRING: None,
    TensorProto.BOOL: np.bool_,
    TensorProto.FLOAT16: np.float16,
    TensorProto.DOUBLE: np.float64,
    TensorProto.UINT32: np.uint32,
    TensorProto.UINT64: np.uint64,
    TensorProto.COMPLEX64: np.complex64,
    TensorProto.COMPLEX128: np.complex128,
    TensorProto.BFLOAT16: ml_dtypes.bfloat16,
    TensorProto.FLOAT8E4M3FN: ml_dtypes.float8_e4m3fn,
    TensorProto.FLOAT8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
    TensorProto.FLOAT8E5M2: ml_dtypes.float8_e5m2,
    TensorProto.FLOAT8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz,
    TensorProto.UINT4: ml_dtypes.uint4,
    TensorProto.INT4: ml_dtypes.int4,
    TensorProto.FLOAT4E2M1: ml_dtypes.float4_e2m1fn,
    TensorProto.FLOAT8E8M0: ml_dtypes.float8_e8m0fnu,
    TensorProto.UINT2: ml_dtypes.uint2,
    TensorProto.INT2: ml_dtypes.int2,
    TensorProto.FLOAT6E2M3: ml_dtypes.float6_e2m3fn,
    TensorProto.FLOAT6E3M2: ml_dtypes.float6_e3m2fn,
}

# bits per element of the types that raw_data packs below one byte
SUBBYTE_BITS: dict[int, int] = {
    TensorProto.UINT4: 4,
    TensorProto.INT4: 4,
    TensorProto.FLOAT4E2M1: 4,
    TensorProto.UINT2: 2,
    TensorProto.INT2: 2,
    TensorProto.FLOAT6E2M3: 6,
    TensorProto.FLOAT6E3M2: 6,
}
# One-byte float formats: every bit pattern is a valid element, so random codes cover them well.
BYTE_FLOATS: set[int] = {
    TensorProto.FLOAT8E4M3FN,
    TensorProto.FLOAT8E4M3FNUZ,
    TensorProto.FLOAT8E5M2,
    TensorProto.FLOAT8E5M2FNUZ,
    TensorProto.FLOAT8E8M0,
    TensorProto.FLOAT4E2M1,
    TensorProto.FLOAT6E2M3,
    TensorProto.FLOAT6E3M2,
}
WIDE_FLOATS: set[int] = {TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.FLOAT, TensorProto.DOUBLE}

FLOAT_SPECIALS = [0.0, -0.0, 1.0, -2.5, math.inf, -math.inf, math.nan, 1e-40, 65504.0, -3.0e38]
STRING_SAMPLES = [
    b"",
    b"plain ascii",
    "caf\u00e9 \u65e5\u672c \U0001f600".encode(),
    b"\xff\xfe not utf-8",
    b"nul\x00inside",
    b"\xc3\x28",  # truncated two-byte sequence
    b"\xed\xa0\x80",  # UTF-8-encoded surrogate, invalid
    b"x" * 40,
]


def _dtype_name(code: int) -> str:
    return TensorProto.DataType.Name(code)


def sample_values(code: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` deterministic elements of data type `code`, led by the type's edge cases."""
    if code == TensorProto.STRING:
        return np.array([STRING_SAMPLES[i % len(STRING_SAMPLES)] for i in range(n)], dtype=object)
    dt = NP_DTYPE[code]
    if code == TensorProto.BOOL:
        return np.array([True, False, *rng.integers(0, 2, n)][:n], dtype=np.bool_)
    if code in BYTE_FLOATS or code in SUBBYTE_BITS:
        bits = SUBBYTE_BITS.get(code, 8)
        codes = np.concatenate([np.arange(min(n, 3)), rng.integers(0, 1 << bits, n)])[:n]
        # ml_dtypes keeps sub-byte elements in the low bits of a byte, so a view is exact
        return codes.astype(np.uint8).view(dt)
    if code in WIDE_FLOATS:
        specials = np.array(FLOAT_SPECIALS, dtype=np.float64)
        values = np.concatenate([specials, rng.standard_normal(n) * 8])[:n]
        with np.errstate(over="ignore"):  # -3e38 becomes -inf in the narrow types, on purpose
            return values.astype(dt)
    if code in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        re_, im = sample_values(TensorProto.DOUBLE, n, rng), rng.standard_normal(n)
        return (re_ + 1j * im[::-1]).astype(dt)
    info = np.iinfo(dt)
    edges = [0, 1, info.max, info.min, info.max // 3] + ([-1] if info.min < 0 else [])
    rand = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    return np.concatenate([np.array(edges, dtype=dt), rand])[:n]


def _codes(values: np.ndarray, code: int) -> np.ndarray:
    """Unsigned bit pattern of each element of a sub-byte or one-byte float type."""
    return values.view(np.uint8) & ((1 << SUBBYTE_BITS.get(code, 8)) - 1)


def pack_subbyte(codes: np.ndarray, bits: int) -> bytes:
    """Pack per onnx.proto: elements LSB-first in a little-endian bit stream, last byte zero-padded."""
    stream = 0
    for i, c in enumerate(codes.ravel().tolist()):
        stream |= int(c) << (i * bits)
    nbytes = (codes.size * bits + 7) // 8
    return stream.to_bytes(nbytes, "little")


def raw_bytes(values: np.ndarray, code: int) -> bytes:
    """The raw_data encoding: fixed-width little-endian, bool one byte, sub-byte types packed."""
    if code in SUBBYTE_BITS:
        return pack_subbyte(_codes(values, code), SUBBYTE_BITS[code])
    if code == TensorProto.BOOL:
        return values.astype(np.uint8).tobytes()
    if code in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        part = "<f4" if code == TensorProto.COMPLEX64 else "<f8"
        return np.stack([values.real, values.imag], axis=-1).astype(part).tobytes()
    itemsize = np.dtype(NP_DTYPE[code]).itemsize
    # go through unsigned integers so that byte order is explicit and no float value is touched
    return values.view(f"u{itemsize}").astype(f"<u{itemsize}").tobytes()


def fill_typed(t: TensorProto, values: np.ndarray, code: int) -> None:
    """Store `values` in the type-specific repeated field that onnx.proto assigns to `code`."""
    flat = values.ravel()
    if code == TensorProto.STRING:
        t.string_data.extend(flat.tolist())
    elif code == TensorProto.FLOAT:
        t.float_data.extend(flat.tolist())
    elif code == TensorProto.COMPLEX64:
        t.float_data.extend(np.stack([flat.real, flat.imag], -1).ravel().tolist())  # re, im, re, im...
    elif code == TensorProto.DOUBLE:
        t.double_data.extend(flat.tolist())
    elif code == TensorProto.COMPLEX128:
        t.double_data.extend(np.stack([flat.real, flat.imag], -1).ravel().tolist())
    elif code == TensorProto.INT64:
        t.int64_data.extend(flat.tolist())
    elif code in (TensorProto.UINT32, TensorProto.UINT64):
        t.uint64_data.extend(int(v) for v in flat.tolist())
    elif code in (
        TensorProto.INT4,
        TensorProto.UINT4,
        TensorProto.FLOAT4E2M1,
        TensorProto.INT2,
        TensorProto.UINT2,
    ):
        # 4-bit: two elements per int32_data entry; 2-bit: four.  Each entry holds one packed byte.
        t.int32_data.extend(pack_subbyte(_codes(flat, code), SUBBYTE_BITS[code]))
    elif code in (TensorProto.FLOAT6E2M3, TensorProto.FLOAT6E3M2) or code in BYTE_FLOATS:
        t.int32_data.extend(_codes(flat, code).tolist())  # one element per entry, as its bit pattern
    elif code in (TensorProto.FLOAT16, TensorProto.BFLOAT16):
        t.int32_data.extend(flat.view(np.uint16).tolist())  # bit pattern, zero-extended
    else:  # bool and the 8/16/32-bit integers: one value per entry, sign-extended
        t.int32_data.extend(flat.astype(np.int64).tolist())


# (suffix, shape): an odd element count matters for the packed sub-byte encodings
DTYPE_SHAPES: list[tuple[str, tuple[int, ...]]] = [
    ("scalar", ()),
    ("odd7", (7,)),
    ("m3x5", (3, 5)),
    ("empty", (0,)),
    ("empty2x0", (2, 0)),
]


def _dtype_tensors(storage: str) -> tuple[list[TensorProto], dict[str, np.ndarray]]:
    tensors, expected = [], {}
    for code in sorted(NP_DTYPE):
        rng = np.random.default_rng(1000 + code)
        for suffix, shape in DTYPE_SHAPES:
            n = int(np.prod(shape, dtype=np.int64))
            values = sample_values(code, n, rng).reshape(shape)
            name = f"{_dtype_name(code).lower()}_{suffix}"
            t = TensorProto(name=name, data_type=code, dims=shape)
            if code == TensorProto.STRING or storage == "typed":
                fill_typed(t, values, code)  # raw_data cannot hold strings
            else:
                t.raw_data = raw_bytes(values, code)  # set even when empty: presence is kept
            tensors.append(t)
            expected[name] = values
    return tensors, expected


def _check_against_onnx(tensors: list[TensorProto], expected: dict[str, np.ndarray]) -> None:
    """Our encoding must decode, through onnx.numpy_helper, to the intended elements bit for bit."""
    for t in tensors:
        want = expected[t.name]
        if t.data_type == TensorProto.STRING:
            got_strings = list(t.string_data)
            if got_strings != want.ravel().tolist():
                raise AssertionError(f"string mismatch in {t.name}")
            continue
        got = onnx.numpy_helper.to_array(t)
        if got.shape != want.shape or got.tobytes() != want.tobytes():
            raise AssertionError(f"{t.name}: onnx decodes {got!r}, expected {want!r}")


def _dtype_model(storage: str) -> tuple[onnx.ModelProto, list[str]]:
    tensors, expected = _dtype_tensors(storage)
    _check_against_onnx(tensors, expected)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["float_scalar"], ["y"])],
        f"all_dtypes_{storage}",
        [],
        [_vi("y", F32, [])],
        initializer=tensors,
    )
    model = _model(graph, [("", OPSET_LATEST)], ir_version=IR_LATEST)
    feats = [f"dtype:{_dtype_name(c).lower()}" for c in sorted(NP_DTYPE)]
    return model, feats


def section_dtypes(root: Path) -> SectionResult:
    out = []
    common = ["tensor:scalar_0d", "tensor:empty", "tensor:odd_count_packed", "string:non_utf8"]
    for storage, feature, what in (
        ("raw", "storage:raw_data", "raw_data (STRING in string_data, the only storage it has)"),
        (
            "typed",
            "storage:typed_fields",
            "the typed fields: float_data, int32_data (bit patterns; 4/2-bit packed per entry), "
            "int64_data, double_data, uint64_data, string_data",
        ),
    ):
        model, dtype_feats = _dtype_model(storage)
        rel = f"dtypes/all_dtypes_{storage}.onnx"
        _save(model, root / rel)
        out.append(
            Fixture(
                rel,
                f"All 28 TensorProto data types as initializers, each as a 0-d scalar, 7 and 3x5 "
                f"elements (odd counts for packed int4/uint4/float4e2m1/int2/uint2/float6) and two "
                f"empty shapes, stored in {what}. Edge values: NaN/inf/-0/subnormals, integer "
                f"min/max, complex, strings with non-UTF-8 bytes and NULs.",
                "onnx.helper + hand-filled TensorProto fields",
                [feature, *common, *dtype_feats],
                expect="Elements decode as onnx.numpy_helper.to_array does (checked by the generator); "
                "STRING elements are raw bytes, not all valid UTF-8.",
            )
        )
    return SectionResult(out, {})


# ---------------------------------------------------------------------------------------------
# Section: structural features, hand-built with onnx.helper
# ---------------------------------------------------------------------------------------------


def functions_model() -> onnx.ModelProto:
    fn, act = "local.fn", "local.act"
    ai = [helper.make_opsetid("", OPSET_COMMON)]

    scale_alpha = helper.make_node("Constant", [], ["alpha_c"])
    scale_alpha.attribute.append(
        helper.make_attribute_ref("value_float", AttributeProto.FLOAT, ref_attr_name="alpha")
    )
    scale_beta = helper.make_node("Constant", [], ["beta_c"])
    scale_beta.attribute.append(
        helper.make_attribute_ref("value_float", AttributeProto.FLOAT, ref_attr_name="beta")
    )
    scale = helper.make_function(
        fn,
        "Scale",
        ["X"],
        ["Y"],
        [
            scale_alpha,
            helper.make_node("Mul", ["X", "alpha_c"], ["t"]),
            scale_beta,
            helper.make_node("Add", ["t", "beta_c"], ["Y"]),
        ],
        ai,
        attributes=["alpha"],  # required, no default
        attribute_protos=[
            helper.make_attribute("beta", 0.5, doc_string="default used when the caller omits beta")
        ],
        doc_string="Y = X * alpha + beta",
        value_info=[_vi("t", F32, None), _vi("alpha_c", F32, [])],
    )
    helper.set_metadata_props(scale, {"origin": "make_fixtures", "kind": "leaf"})

    # ScaleTwice calls Scale twice, forwarding its own attribute `factor` as Scale's `alpha`.
    calls = []
    for i, (src, dst) in enumerate((("X", "a"), ("a", "Y"))):
        node = helper.make_node("Scale", [src], [dst], name=f"inner{i}", domain=fn)
        node.attribute.append(
            helper.make_attribute_ref("alpha", AttributeProto.FLOAT, ref_attr_name="factor")
        )
        if i == 1:
            node.attribute.append(helper.make_attribute("beta", 0.0))
        calls.append(node)
    scale_twice = helper.make_function(
        fn,
        "ScaleTwice",
        ["X"],
        ["Y"],
        calls,
        [*ai, helper.make_opsetid(fn, 1)],
        attributes=["factor"],
        doc_string="nested function calls",
    )

    # Two functions share domain and name and differ only by `overload`.
    act_relu = helper.make_function(
        act, "Act", ["X"], ["Y"], [helper.make_node("Relu", ["X"], ["Y"])], ai, overload="relu"
    )
    act_tanh = helper.make_function(
        act, "Act", ["X"], ["Y"], [helper.make_node("Tanh", ["X"], ["Y"])], ai, overload="tanh"
    )

    nodes = [
        helper.make_node("ScaleTwice", ["X"], ["s"], name="twice", domain=fn, factor=2.0),
        helper.make_node("Act", ["s"], ["r"], name="act_relu", domain=act, overload="relu"),
        helper.make_node("Act", ["r"], ["h"], name="act_tanh", domain=act, overload="tanh"),
        helper.make_node("Scale", ["h"], ["Y"], name="scale", domain=fn, alpha=3.0),
    ]
    graph = helper.make_graph(nodes, "functions", [_vi("X", F32, ["N", 4])], [_vi("Y", F32, ["N", 4])])
    return _model(
        graph,
        [("", OPSET_COMMON), (fn, 1), (act, 1)],
        functions=[scale, scale_twice, act_relu, act_tanh],
    )


def _sparse(name: str, dense: np.ndarray, linear: bool) -> onnx.SparseTensorProto:
    flat_idx = np.flatnonzero(dense)
    values = onnx.numpy_helper.from_array(dense.ravel()[flat_idx], name)
    if linear:
        indices = onnx.numpy_helper.from_array(flat_idx.astype(np.int64), f"{name}_indices")
    else:
        coords = np.stack(np.unravel_index(flat_idx, dense.shape), axis=-1).astype(np.int64)
        indices = onnx.numpy_helper.from_array(coords.reshape(-1, dense.ndim), f"{name}_indices")
    return helper.make_sparse_tensor(values, indices, dense.shape)


def sparse_model() -> onnx.ModelProto:
    w = np.zeros((3, 4), np.float32)
    w[0, 1], w[1, 3], w[2, 0], w[2, 2] = 1.5, -2.0, 0.25, 4.0
    counts = np.zeros((2, 3, 4), np.int32)
    counts[0, 0, 3], counts[1, 2, 1], counts[1, 2, 2] = 7, -1, 2**30
    typed_values = _sparse("S_typed", w * 2, linear=True)
    # the same data with values in float_data instead of raw_data
    typed_values.values.ClearField("raw_data")
    typed_values.values.float_data.extend((w * 2).ravel()[np.flatnonzero(w)].tolist())
    empty = _sparse("S_empty", np.zeros((5,), np.float32), linear=True)
    attr_sparse = _sparse("attr_sparse", np.eye(3, dtype=np.float32), linear=False)
    nodes = [
        helper.make_node("MatMul", ["X", "S_linear"], ["xw"]),
        helper.make_node("Constant", [], ["eye"], sparse_value=attr_sparse),
        helper.make_node("MatMul", ["X", "eye"], ["xe"]),
        helper.make_node("Add", ["xw", "S_typed"], ["Y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "sparse",
        [_vi("X", F32, ["N", 3])],
        [_vi("Y", F32, ["N", 4]), _vi("xe", F32, ["N", 3])],
        sparse_initializer=[
            _sparse("S_linear", w, linear=True),
            _sparse("S_coords", counts, linear=False),
            typed_values,
            empty,
        ],
    )
    return _model(graph)


def training_model() -> onnx.ModelProto:
    inference = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["xw"]), helper.make_node("Add", ["xw", "B"], ["Y"])],
        "inference",
        [_vi("X", F32, ["N", 3])],
        [_vi("Y", F32, ["N", 2])],
        initializer=[
            onnx.numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, "W"),
            onnx.numpy_helper.from_array(np.zeros(2, np.float32), "B"),
            onnx.numpy_helper.from_array(np.array(0.01, np.float32), "lr"),
        ],
    )
    init_graph = helper.make_graph(
        [
            helper.make_node("RandomNormal", [], ["W_init"], shape=[3, 2], seed=1.0, scale=0.1),
            helper.make_node(
                "Constant", [], ["B_init"], value=onnx.numpy_helper.from_array(np.zeros(2, np.float32))
            ),
        ],
        "initialization",
        [],
        [_vi("W_init", F32, [3, 2]), _vi("B_init", F32, [2])],
    )
    # A stand-in update step: the algorithm graph reads the inference graph's initializers.
    algo = helper.make_graph(
        [
            helper.make_node("Mul", ["W", "lr"], ["dw"]),
            helper.make_node("Sub", ["W", "dw"], ["W_new"]),
            helper.make_node("Mul", ["B", "lr"], ["db"]),
            helper.make_node("Sub", ["B", "db"], ["B_new"]),
        ],
        "algorithm",
        [],
        [_vi("W_new", F32, [3, 2]), _vi("B_new", F32, [2])],
    )
    decay = helper.make_graph(
        [helper.make_node("Mul", ["lr", "lr"], ["lr_new"])], "lr_decay", [], [_vi("lr_new", F32, [])]
    )
    model = _model(inference, [("", OPSET_COMMON), ("ai.onnx.preview.training", 1)])
    model.training_info.extend(
        [
            helper.make_training_info(
                algo, [("W", "W_new"), ("B", "B_new")], init_graph, [("W", "W_init"), ("B", "B_init")]
            ),
            helper.make_training_info(decay, [("lr", "lr_new")], None, None),  # no initialization
        ]
    )
    return model


def _props(target: Any, pairs: Sequence[tuple[str, str]]) -> None:
    # set_metadata_props takes a dict; lists allow the duplicate key some exporters write
    for k, v in pairs:
        target.metadata_props.add(key=k, value=v)


def metadata_model() -> onnx.ModelProto:
    scale = onnx.numpy_helper.from_array(np.array(0.05, np.float32), "scale")
    scale.doc_string = "quantization scale"
    _props(scale, [("calibration", "minmax")])
    zp = onnx.numpy_helper.from_array(np.array(128, np.uint8), "zp")
    w = onnx.numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4) / 16, "W")
    q = helper.make_node("QuantizeLinear", ["X", "scale", "zp"], ["q"], name="quant", doc_string="node doc")
    _props(q, [("origin", "fixture"), ("unicode", "\u00fcber \u2192 \u65e5\u672c"), ("empty", "")])
    dq = helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["dq"], name="dequant")
    mm = helper.make_node("MatMul", ["dq", "W"], ["Y"], name="matmul")
    mm.device_configurations.add(
        configuration_id="two_gpus",
        pipeline_stage=1,
        sharding_spec=[
            onnx.ShardingSpecProto(
                tensor_name="W",
                device=[0, 1],
                index_to_device_group_map=[onnx.IntIntListEntryProto(key=0, value=[0, 1])],
                sharded_dim=[
                    onnx.ShardedDimProto(
                        axis=1, simple_sharding=[onnx.SimpleShardedDimProto(dim_value=4, num_shards=2)]
                    ),
                    onnx.ShardedDimProto(
                        axis=-1, simple_sharding=[onnx.SimpleShardedDimProto(dim_param="N", num_shards=2)]
                    ),
                ],
            ),
            onnx.ShardingSpecProto(tensor_name="Y", device=[0]),
        ],
    )
    q.attribute.append(helper.make_attribute("axis", 1, doc_string="attribute doc"))
    x = _vi("X", F32, ["N", 4])
    x.doc_string = "input doc"
    _props(x, [("layout", "NC")])
    y = _vi("Y", F32, ["N", 4])
    _props(y, [("unit", "logits")])
    qi = _vi("q", TensorProto.UINT8, ["N", 4])
    qi.doc_string = "value_info doc"
    _props(qi, [("dtype", "uint8")])
    graph = helper.make_graph(
        [q, dq, mm], "metadata", [x], [y], initializer=[scale, zp, w], doc_string="graph doc", value_info=[qi]
    )
    _props(graph, [("graph_key", "graph_value")])
    graph.quantization_annotation.add(
        tensor_name="q",
        quant_parameter_tensor_names=[
            onnx.StringStringEntryProto(key="SCALE_TENSOR", value="scale"),
            onnx.StringStringEntryProto(key="ZERO_POINT_TENSOR", value="zp"),
        ],
    )
    model = _model(
        graph,
        ir_version=11,  # NodeDeviceConfigurationProto / ModelProto.configuration
        doc_string="model doc: *markdown* allowed",
        domain="ai.onnxlite.fixtures",
        model_version=7,
    )
    _props(model, [("author", "onnxlite"), ("license", "Apache-2.0")])
    model.configuration.add(name="two_gpus", num_devices=2, device=["cuda:0", "cuda:1"])
    model.configuration.add(name="cpu", num_devices=1, device=["cpu"])
    return model


def types_model() -> onnx.ModelProto:
    th = helper.make_tensor_type_proto
    x_type = th(F32, ["N", 3, None])  # None: a dim with neither value nor param
    x_type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    x_type.denotation = "TENSOR"
    seq_f = helper.make_sequence_type_proto(th(F32, None))
    opaque = onnx.TypeProto()
    opaque.opaque_type.domain, opaque.opaque_type.name = "local.types", "Handle"
    inputs = [
        helper.make_value_info("X", x_type),
        helper.make_value_info("S0", th(I64, []), doc_string="rank 0: shape with no dims"),
        helper.make_value_info("M", helper.make_map_type_proto(TensorProto.STRING, th(I64, []))),
        helper.make_value_info("MS", helper.make_map_type_proto(TensorProto.INT64, seq_f)),
        helper.make_value_info("SP", helper.make_sparse_tensor_type_proto(F32, ["N", 4])),
        helper.make_value_info("H", opaque),
        helper.make_value_info("OS", helper.make_optional_type_proto(seq_f)),
        helper.make_value_info("BF", th(TensorProto.BFLOAT16, [2, "k", 0])),
    ]
    seq_map = helper.make_sequence_type_proto(helper.make_map_type_proto(TensorProto.STRING, th(F32, [])))
    outputs = [
        helper.make_value_info("seq", helper.make_sequence_type_proto(th(F32, ["N", 3, None]))),
        helper.make_value_info("opt", helper.make_optional_type_proto(th(F32, ["N", 3, None]))),
        _vi("has", BOOL, []),
        helper.make_value_info("os_val", seq_f),
        _vi("Z", F32, ["N", "seq_len"]),
    ]
    nodes = [
        helper.make_node("SequenceConstruct", ["X", "X"], ["seq"]),
        helper.make_node("Optional", ["X"], ["opt"]),
        helper.make_node("OptionalHasElement", ["opt"], ["has"]),
        helper.make_node("OptionalGetElement", ["OS"], ["os_val"]),
        helper.make_node(
            "Consume",
            ["M", "MS", "SP", "H", "S0", "BF"],
            ["Z", "probs", "empty_type", "R"],
            domain="local.types",
        ),
    ]
    value_info = [
        helper.make_value_info("probs", seq_map),
        helper.make_value_info("empty_type", onnx.TypeProto()),  # TypeProto with no value set
        helper.make_value_info("R", th(F32, None), doc_string="unknown rank: no shape at all"),
        helper.make_value_info(
            "nested",
            helper.make_optional_type_proto(
                helper.make_sequence_type_proto(helper.make_map_type_proto(TensorProto.INT32, seq_f))
            ),
        ),
    ]
    graph = helper.make_graph(nodes, "types", inputs, outputs, value_info=value_info)
    return _model(graph, [("", OPSET_COMMON), ("local.types", 1)])


def subgraphs_model() -> onnx.ModelProto:
    """If, Loop and Scan whose bodies read outer-scope values, one and two levels up."""
    fvec = lambda name: _vi(name, F32, [2, 3])  # noqa: E731
    # top-level If: the then branch uses X and W from the main graph; the else branch nests another If
    inner_if = helper.make_node(
        "If",
        ["flag2"],
        ["inner_out"],
        then_branch=helper.make_graph(
            [helper.make_node("Mul", ["X", "K"], ["m"])], "inner_then", [], [fvec("m")]
        ),
        else_branch=helper.make_graph(
            [helper.make_node("Identity", ["X"], ["i"])], "inner_else", [], [fvec("i")]
        ),
    )
    top_if = helper.make_node(
        "If",
        ["flag"],
        ["if_out"],
        name="top_if",
        then_branch=helper.make_graph(
            [helper.make_node("Add", ["X", "W"], ["a"])], "then", [], [fvec("a")], doc_string="then branch"
        ),
        else_branch=helper.make_graph([inner_if], "else", [], [fvec("inner_out")]),
    )
    # Loop body: reads K (one level up) and, inside its own If, W (two levels up) and iter_num.
    body_if = helper.make_node(
        "If",
        ["cond_in"],
        ["x3"],
        then_branch=helper.make_graph(
            [helper.make_node("Add", ["x2", "W"], ["p"])], "body_then", [], [fvec("p")]
        ),
        else_branch=helper.make_graph(
            [
                helper.make_node("Cast", ["iter_num"], ["it_f"], to=F32),
                helper.make_node("Sub", ["x2", "it_f"], ["s"]),
            ],
            "body_else",
            [],
            [fvec("s")],
        ),
    )
    loop_body = helper.make_graph(
        [
            helper.make_node("Mul", ["x_in", "K"], ["x2"]),
            body_if,
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Identity", ["x3"], ["x_out"]),
            helper.make_node("Add", ["x3", "local_bias"], ["scan_out"]),
        ],
        "loop_body",
        [_vi("iter_num", I64, []), _vi("cond_in", BOOL, []), fvec("x_in")],
        [_vi("cond_out", BOOL, []), fvec("x_out"), fvec("scan_out")],
        initializer=[onnx.numpy_helper.from_array(np.full(3, 0.5, np.float32), "local_bias")],
        value_info=[fvec("x2")],
    )
    loop = helper.make_node(
        "Loop", ["trip", "cond", "X"], ["loop_final", "loop_scan"], name="loop", body=loop_body
    )
    scan_body = helper.make_graph(
        [
            helper.make_node("Add", ["state", "elem"], ["state_next"]),
            helper.make_node("Mul", ["elem", "W"], ["y"]),
        ],
        "scan_body",
        [_vi("state", F32, [3]), _vi("elem", F32, [3])],
        [_vi("state_next", F32, [3]), _vi("y", F32, [3])],
    )
    scan = helper.make_node(
        "Scan", ["W", "X"], ["scan_final", "scan_ys"], name="scan", body=scan_body, num_scan_inputs=1
    )
    graph = helper.make_graph(
        [top_if, loop, scan],
        "subgraphs",
        [
            fvec("X"),
            _vi("flag", BOOL, []),
            _vi("flag2", BOOL, []),
            _vi("trip", I64, []),
            _vi("cond", BOOL, []),
        ],
        [
            fvec("if_out"),
            fvec("loop_final"),
            _vi("loop_scan", F32, ["trip_count", 2, 3]),
            _vi("scan_final", F32, [3]),
            fvec("scan_ys"),
        ],
        initializer=[
            onnx.numpy_helper.from_array(np.array([1.0, 2.0, 3.0], np.float32), "W"),
            onnx.numpy_helper.from_array(np.array(0.5, np.float32), "K"),
        ],
    )
    return _model(graph)


def attributes_model() -> onnx.ModelProto:
    """One node carrying every AttributeProto type, plus references to function attributes."""
    tensor = onnx.numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.float32), "attr_t")
    tensor_i64 = onnx.numpy_helper.from_array(np.array([-1, 2**40], np.int64), "attr_t64")
    tiny_graph = helper.make_graph(
        [helper.make_node("Identity", ["gx"], ["gy"])],
        "attr_graph",
        [_vi("gx", F32, [1])],
        [_vi("gy", F32, [1])],
    )
    other_graph = helper.make_graph(
        [helper.make_node("Neg", ["gx"], ["gy"])], "attr_graph2", [_vi("gx", F32, [1])], [_vi("gy", F32, [1])]
    )
    sp1 = _sparse("attr_sp", np.array([0, 0, 3.5, 0], np.float32), linear=True)
    sp2 = _sparse("attr_sp2", np.array([[0, 1], [2, 0]], np.int64), linear=False)
    tp_seq = helper.make_sequence_type_proto(helper.make_tensor_type_proto(F32, ["N"]))
    tp_map = helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(F32, []))
    A = AttributeProto
    attrs = [
        helper.make_attribute("f", 1.5, doc_string="a float"),
        helper.make_attribute("f_nan", math.nan),
        helper.make_attribute("f_neg_inf", -math.inf),
        helper.make_attribute("f_zero", 0.0),
        helper.make_attribute("i", -7),
        helper.make_attribute("i_big", 2**62 + 1),
        helper.make_attribute("i_zero", 0),
        helper.make_attribute("s", "h\u00e9llo"),
        helper.make_attribute("s_bytes", b"\xff\x00\xfe binary"),
        helper.make_attribute("s_empty", b""),
        helper.make_attribute("t", tensor),
        helper.make_attribute("g", tiny_graph),
        helper.make_attribute("sparse", sp1),
        helper.make_attribute("tp", tp_seq),
        helper.make_attribute("floats", [1.0, -2.5, math.inf, 1e-30]),
        helper.make_attribute("ints", [1, -1, 2**40, 0]),
        helper.make_attribute("strings", [b"a", b"\xff\xfe", b"", "\u65e5\u672c"]),
        helper.make_attribute("tensors", [tensor, tensor_i64]),
        helper.make_attribute("graphs", [tiny_graph, other_graph]),
        helper.make_attribute("sparse_tensors", [sp1, sp2]),
        helper.make_attribute("type_protos", [tp_seq, tp_map]),
        # empty lists: only the type tells them apart
        helper.make_attribute("floats_empty", [], attr_type=A.FLOATS),
        helper.make_attribute("ints_empty", [], attr_type=A.INTS),
        helper.make_attribute("strings_empty", [], attr_type=A.STRINGS),
        helper.make_attribute("tensors_empty", [], attr_type=A.TENSORS),
        helper.make_attribute("graphs_empty", [], attr_type=A.GRAPHS),
        helper.make_attribute("sparse_tensors_empty", [], attr_type=A.SPARSE_TENSORS),
        helper.make_attribute("type_protos_empty", [], attr_type=A.TYPE_PROTOS),
    ]
    all_attrs = helper.make_node("AllAttrs", ["X"], ["a"], name="all_attrs", domain="local.attrs")
    all_attrs.attribute.extend(attrs)

    # Standard ops whose attributes come in every Constant flavour, so the checker has schemas.
    constants = [
        helper.make_node("Constant", [], ["c_value"], value=tensor),
        helper.make_node("Constant", [], ["c_float"], value_float=0.25),
        helper.make_node("Constant", [], ["c_floats"], value_floats=[0.5, -0.5]),
        helper.make_node("Constant", [], ["c_int"], value_int=-3),
        helper.make_node("Constant", [], ["c_ints"], value_ints=[3, -4]),
        helper.make_node("Constant", [], ["c_string"], value_string="str"),
        helper.make_node("Constant", [], ["c_strings"], value_strings=["x", "y"]),
        helper.make_node("Constant", [], ["c_sparse"], sparse_value=sp1),
    ]

    # A function whose body takes attribute values by reference, one per kind of value.
    R = helper.make_attribute_ref
    fwd_const = helper.make_node("Constant", [], ["axes"])
    fwd_const.attribute.append(R("value_ints", A.INTS, ref_attr_name="axes"))
    fwd_inner = helper.make_node("AllAttrs", ["X", "axes"], ["Y"], domain="local.attrs")
    fwd_inner.attribute.extend(
        [
            R("g", A.GRAPH, ref_attr_name="body"),
            R("s", A.STRING, ref_attr_name="mode"),
            R("tp", A.TYPE_PROTO, ref_attr_name="type"),
            R("t", A.TENSOR, ref_attr_name="weights"),
            R("f", A.FLOAT, ref_attr_name="gain"),
            R("strings", A.STRINGS, ref_attr_name="labels"),
            helper.make_attribute("i", 1),
        ]
    )
    forward = helper.make_function(
        "local.attrs",
        "Forward",
        ["X"],
        ["Y"],
        [fwd_const, fwd_inner],
        [helper.make_opsetid("", OPSET_COMMON), helper.make_opsetid("local.attrs", 1)],
        attributes=["axes", "body", "mode", "type", "weights", "labels"],
        attribute_protos=[helper.make_attribute("gain", 2.0)],
    )
    call = helper.make_node(
        "Forward",
        ["X"],
        ["b"],
        name="forward",
        domain="local.attrs",
        axes=[0, 1],
        body=tiny_graph,
        mode=b"\xfe\xff",
        type=tp_map,
        weights=tensor_i64,
        labels=[b"l0", b"\x80"],
    )
    graph = helper.make_graph(
        [all_attrs, call, *constants],
        "attributes",
        [_vi("X", F32, [1])],
        [_vi("a", F32, [1]), _vi("b", F32, [1]), _vi("c_value", F32, [2, 2])],
    )
    return _model(graph, [("", OPSET_COMMON), ("local.attrs", 1)], functions=[forward])


def custom_domains_model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Relu", ["X"], ["r"], name="relu"),
        helper.make_node("Gelu", ["r"], ["g"], name="gelu_ms", domain="com.microsoft"),
        helper.make_node("FusedMatMul", ["g", "W"], ["fm"], domain="com.microsoft", alpha=1.0, transB=0),
        helper.make_node("Normalizer", ["fm"], ["n"], domain="ai.onnx.ml", norm="L2"),
        helper.make_node("ATen", ["n"], ["at"], domain="org.pytorch.aten", operator="gelu", overload_name=""),
        helper.make_node("Frobnicate", ["at"], ["Y"], domain="my.domain.v2", strength=11, mode="fast"),
    ]
    graph = helper.make_graph(
        nodes,
        "custom_domains",
        [_vi("X", F32, ["N", 4])],
        [_vi("Y", F32, ["N", 4])],
        initializer=[onnx.numpy_helper.from_array(np.eye(4, dtype=np.float32), "W")],
    )
    return _model(
        graph,
        [
            ("", 17),
            ("ai.onnx.ml", 3),
            ("com.microsoft", 1),
            ("org.pytorch.aten", 1),
            ("my.domain.v2", 42),
            ("ai.onnx.preview.training", 1),  # imported, never used
        ],
        ir_version=8,
    )


def quirks_model() -> onnx.ModelProto:
    """Oddities found in real files that onnx.checker rejects but readers must still take in."""
    nodes = [
        helper.make_node("Abs", ["X"], ["a"], name="abs", domain="ai.onnx"),  # the spec's alias of ""
        helper.make_node("Neg", ["a"], ["Y"], name="neg"),
    ]
    graph = helper.make_graph(nodes, "quirks", [_vi("X", F32, [2])], [_vi("Y", F32, [2])])
    model = _model(graph)
    _props(model, [("author", "first"), ("author", "second, same key")])
    return model


def legacy_model() -> onnx.ModelProto:
    """IR 3 / opset 7 habits: weights also listed as graph inputs, float_data storage, no node names."""
    rng = np.random.default_rng(7)
    w = helper.make_tensor("conv_w", F32, [2, 1, 3, 3], rng.standard_normal(18).astype(np.float32).tolist())
    b = helper.make_tensor("conv_b", F32, [2], [0.1, -0.1])
    shape = helper.make_tensor("shape", I64, [2], [1, -1])
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "conv_b_bc"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["y"]),
    ]
    bias_bc = helper.make_tensor("conv_b_bc", F32, [2, 1, 1], [1.0, 2.0])
    inits = [w, b, shape, bias_bc]
    graph = helper.make_graph(
        nodes,
        "torch-jit-export",
        [_vi("x", F32, [1, 1, 4, 4])] + [_vi(t.name, t.data_type, list(t.dims)) for t in inits],
        [_vi("y", F32, [1, 32])],
        initializer=inits,
    )
    return _model(graph, [("", 7)], ir_version=3)


def segment_model() -> onnx.ModelProto:
    t = onnx.numpy_helper.from_array(np.arange(8, dtype=np.float32), "chunk")
    t.segment.begin, t.segment.end = 0, 8
    graph = helper.make_graph(
        [helper.make_node("Identity", ["chunk"], ["y"])], "segment", [], [_vi("y", F32, [8])], initializer=[t]
    )
    return _model(graph)


STRUCTURE: list[tuple[str, Callable[[], onnx.ModelProto], str, list[str], str | None]] = [
    (
        "functions.onnx",
        functions_model,
        "Model-local FunctionProtos: required attribute + attribute_proto default, ref_attr_name, a "
        "function calling another (attribute forwarded), value_info and metadata_props in a function, "
        "two functions differing only by `overload` called via NodeProto.overload.",
        [
            "function",
            "function:attribute_default",
            "function:nested_call",
            "function:value_info",
            "function:overload",
            "function:metadata_props",
            "attr:ref_attr_name",
            "domain:custom",
        ],
        None,
    ),
    (
        "sparse.onnx",
        sparse_model,
        "sparse_initializer entries with 1-D (linearized) and 2-D [NNZ, rank] indices, values in raw_data "
        "and in float_data, an empty (NNZ=0) sparse tensor, and a Constant with a sparse_value attribute.",
        [
            "sparse_initializer",
            "sparse:indices_1d",
            "sparse:indices_2d",
            "sparse:empty",
            "attr:sparse_tensor",
        ],
        None,
    ),
    (
        "training_info.onnx",
        training_model,
        "Two TrainingInfoProtos: one with initialization graph + initialization_binding and an algorithm "
        "graph + update_binding, one with an algorithm only.",
        ["training_info", "training:initialization", "training:algorithm", "training:bindings"],
        None,
    ),
    (
        "metadata.onnx",
        metadata_model,
        "metadata_props on model, graph, node (with unicode and empty values), value_info and tensor; doc "
        "strings on model/graph/node/attribute/value_info/tensor; quantization_annotation; "
        "ModelProto.configuration and NodeProto.device_configurations with sharding specs.",
        [
            "metadata_props",
            "metadata_props:model",
            "metadata_props:graph",
            "metadata_props:node",
            "metadata_props:value_info",
            "metadata_props:tensor",
            "doc_string",
            "quantization_annotation",
            "device_configuration",
            "model:domain_version",
        ],
        None,
    ),
    (
        "types.onnx",
        types_model,
        "Value types beyond tensors: sequence, map (string and int64 keys), optional (of tensor and of "
        "sequence), sparse_tensor, opaque, nested optional(sequence(map)), an empty TypeProto; symbolic, "
        "unknown and zero dims, dim and type denotations, unknown rank vs rank 0.",
        [
            "type:sequence",
            "type:map",
            "type:optional",
            "type:sparse_tensor",
            "type:opaque",
            "type:nested",
            "type:empty",
            "dims:symbolic",
            "dims:unknown",
            "dims:zero",
            "denotation",
            "domain:custom",
        ],
        None,
    ),
    (
        "subgraphs.onnx",
        subgraphs_model,
        "If (else branch holds another If), Loop (body with its own initializer, value_info and an If) and "
        "Scan; bodies reference outer-scope values one and two levels up.",
        [
            "subgraph",
            "subgraph:if",
            "subgraph:loop",
            "subgraph:scan",
            "subgraph:nested",
            "subgraph:outer_scope",
        ],
        None,
    ),
    (
        "attributes.onnx",
        attributes_model,
        "A custom-domain node with attributes of all 14 AttributeProto types (non-UTF-8 STRING/STRINGS, "
        "NaN/-inf floats, empty lists of every list type), Constant nodes of every value_* kind, and a "
        "function whose body takes INTS/GRAPH/STRING/TYPE_PROTO/TENSOR/FLOAT/STRINGS values by "
        "ref_attr_name.",
        [
            "attr:float",
            "attr:int",
            "attr:string",
            "attr:string_non_utf8",
            "attr:tensor",
            "attr:graph",
            "attr:sparse_tensor",
            "attr:type_proto",
            "attr:floats",
            "attr:ints",
            "attr:strings",
            "attr:tensors",
            "attr:graphs",
            "attr:sparse_tensors",
            "attr:type_protos",
            "attr:empty_list",
            "attr:ref_attr_name",
            "function",
            "domain:custom",
        ],
        None,
    ),
    (
        "custom_domains.onnx",
        custom_domains_model,
        "Six opset imports (ai.onnx.ml, com.microsoft, org.pytorch.aten, a custom domain, an unused "
        "ai.onnx.preview.training) with nodes from five domains.",
        ["opset:multiple", "domain:custom", "domain:ai.onnx.ml", "domain:com.microsoft"],
        None,
    ),
    (
        "quirks.onnx",
        quirks_model,
        "Real-world oddities that onnx.checker rejects: a node whose domain is spelled 'ai.onnx' (the "
        "spec's alias of the default domain) and duplicate model metadata_props keys.",
        ["domain:ai.onnx_alias", "metadata_props:duplicate_key", "metadata_props:model"],
        "Loads and round-trips like any model; both metadata entries are kept, in order.",
    ),
    (
        "legacy_ir3.onnx",
        legacy_model,
        "IR version 3 / opset 7 conventions: every initializer also declared as a graph input, float_data "
        "storage, unnamed nodes.",
        ["ir:3", "initializers_as_inputs", "storage:typed_fields"],
        None,
    ),
    (
        "tensor_segment.onnx",
        segment_model,
        "An initializer with TensorProto.segment set (rare; onnx.numpy_helper refuses to decode it).",
        ["tensor:segment"],
        "The segment field (begin=0, end=8) is kept through load->save; decoding the data is optional.",
    ),
]


def section_structure(root: Path) -> SectionResult:
    out = []
    for name, build, description, features, expect in STRUCTURE:
        rel = f"structure/{name}"
        _save(build(), root / rel)
        out.append(
            Fixture(rel, description, f"onnx.helper (onnx {onnx.__version__})", features, expect=expect)
        )
    return SectionResult(out, {})


# ---------------------------------------------------------------------------------------------
# Section: nesting depth (the hostile depth case is in section_hostile)
# ---------------------------------------------------------------------------------------------


def _str(number: int, text: str) -> Field:
    return Field(number, "bytes", text.encode())


def _value_info_fields(name: str, elem_type: int = F32) -> list[Field]:
    # ValueInfoProto{name, type: TypeProto{tensor_type{elem_type, shape: {} (a scalar)}}}
    tensor_type = [Field(1, "varint", elem_type), Field(2, "message", [])]
    return [_str(1, name), Field(2, "message", [Field(1, "message", tensor_type)])]


def nested_if_model_bytes(depth: int) -> bytes:
    """A model whose If nodes nest `depth` deep; every level reads X and `flag` from the main graph.

    Built inside-out as bytes, so neither this script nor protobuf has to recurse `depth` levels.
    """

    def branch(nodes: list[bytes], name: str, out: str) -> bytes:
        fields = [Field(1, "bytes", n) for n in nodes]  # GraphProto.node, already encoded
        fields += [_str(2, name), Field(12, "message", _value_info_fields(out))]
        return encode(fields)

    def identity(out: str) -> bytes:
        return encode([_str(1, "X"), _str(2, out), _str(4, "Identity")])

    def graph_attr(name: str, graph: bytes) -> Field:
        # NodeProto.attribute{name, g, type: GRAPH}
        return Field(
            5,
            "bytes",
            encode([_str(1, name), Field(6, "bytes", graph), Field(20, "varint", AttributeProto.GRAPH)]),
        )

    def if_node(level: int, then_graph: bytes) -> bytes:
        out = f"y{level}"
        else_graph = branch([identity(f"e{level}")], f"else{level}", f"e{level}")
        attrs = [graph_attr("then_branch", then_graph), graph_attr("else_branch", else_graph)]
        return encode([_str(1, "flag"), _str(2, out), _str(3, f"if{level}"), _str(4, "If"), *attrs])

    graph = branch([identity(f"y{depth}")], f"then{depth}", f"y{depth}")
    for level in range(depth - 1, 0, -1):
        graph = branch([if_node(level, graph)], f"then{level}", f"y{level}")
    main = [
        Field(1, "bytes", if_node(0, graph)),
        _str(2, f"nested_if_{depth}"),
        Field(11, "message", _value_info_fields("X")),
        Field(11, "message", _value_info_fields("flag", BOOL)),
        Field(12, "message", _value_info_fields("y0")),
    ]
    model = [
        Field(1, "varint", 10),
        _str(2, PRODUCER_NAME),
        _str(3, PRODUCER_VERSION),
        Field(7, "bytes", encode(main)),
        Field(8, "message", [Field(2, "varint", OPSET_COMMON)]),
    ]
    return encode(model)


def section_nesting(root: Path) -> SectionResult:
    rel = "nesting/if_depth_20.onnx"
    _write(root / rel, nested_if_model_bytes(20))
    return SectionResult(
        [
            Fixture(
                rel,
                "If nodes nested 20 deep (protobuf message depth 66, under the usual limit of 100); "
                "every branch reads X and flag from the main graph.",
                "hand wire encoder (tools/make_fixtures.py)",
                ["subgraph", "subgraph:if", "subgraph:deep", "subgraph:outer_scope"],
                expect="Loads like any model; a reader with a depth limit must allow at least this.",
            )
        ],
        {},
    )


# ---------------------------------------------------------------------------------------------
# Section: external data
# ---------------------------------------------------------------------------------------------


class ExternalWriter:
    """Moves tensors' raw_data out to files next to the model, at chosen offsets."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.files: dict[str, bytearray] = {}

    def place(
        self,
        tensor: TensorProto,
        location: str,
        *,
        align: int = 0,
        min_offset: int = 0,
        offset_key: bool = True,
        length_key: bool = True,
        checksum: bool = False,
    ) -> None:
        data = tensor.raw_data
        buf = self.files.setdefault(location, bytearray())
        offset = max(len(buf), min_offset)
        if align:
            offset = -(-offset // align) * align
        buf.extend(b"\0" * (offset - len(buf)))
        buf.extend(data)
        tensor.ClearField("raw_data")
        tensor.data_location = TensorProto.EXTERNAL
        entries = [("location", location)]
        if offset_key:
            entries.append(("offset", str(offset)))
        if length_key:
            entries.append(("length", str(len(data))))
        if checksum:
            entries.append(("checksum", hashlib.sha1(bytes(buf)).hexdigest()))
        for k, v in entries:
            tensor.external_data.add(key=k, value=v)

    def flush(self) -> list[Path]:
        paths = []
        for location, data in sorted(self.files.items()):
            path = self.model_dir / location
            _write(path, bytes(data))
            paths.append(path)
        return paths


def _ext_tensors(seed: int) -> list[TensorProto]:
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {
        "W": rng.standard_normal((4, 4)).astype(np.float32),
        "B": rng.standard_normal(4).astype(np.float32),
        "E": rng.integers(-100, 100, (3, 4)).astype(np.int64),
        "H": rng.standard_normal(5).astype(np.float16),
        "Q": rng.integers(0, 255, 7).astype(np.uint8),
    }
    return [onnx.numpy_helper.from_array(a, k) for k, a in arrays.items()]


def _ext_graph(tensors: list[TensorProto], extra_nodes: Sequence[onnx.NodeProto] = ()) -> onnx.GraphProto:
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["xb"]),
        helper.make_node("Identity", ["xb"], ["Y"]),
        *extra_nodes,
    ]
    outputs = [_vi("Y", F32, ["N", 4])] + [_vi(n.output[0], F32, [6]) for n in extra_nodes]
    return helper.make_graph(nodes, "external", [_vi("X", F32, ["N", 4])], outputs, initializer=tensors)


def _check_external(model_path: Path, expected: dict[str, np.ndarray], n_external: int) -> None:
    """The written model must reference its data files and decode, via onnx, to the original arrays."""
    structure = _load(model_path, external=False)
    external = [
        t
        for t in _iter_messages(structure)
        if isinstance(t, TensorProto) and t.data_location == TensorProto.EXTERNAL
    ]
    if len(external) != n_external:
        raise AssertionError(f"{model_path}: {len(external)} external tensors, expected {n_external}")
    full = _load(model_path)
    for t in _iter_messages(full):
        if not (isinstance(t, TensorProto) and t.name in expected):
            continue
        if onnx.numpy_helper.to_array(t).tobytes() != expected[t.name].tobytes():
            raise AssertionError(f"{model_path}: tensor {t.name} does not round-trip")


def section_external(root: Path) -> SectionResult:
    out = []
    producer = f"onnx.helper + hand-placed external data (onnx {onnx.__version__})"

    # 1. one file, every tensor at a non-zero 4096-aligned offset; a Constant's attribute tensor is
    #    external too (onnx.load resolves those as well); the last tensor has no length key.
    d = root / "external/aligned"
    tensors = _ext_tensors(11)
    const_t = onnx.numpy_helper.from_array(np.linspace(-1, 1, 6, dtype=np.float32), "const_value")
    const = helper.make_node("Constant", [], ["C"], value=const_t)
    model = _model(_ext_graph(tensors, [const]))
    expected = {t.name: onnx.numpy_helper.to_array(t) for t in [*tensors, const_t]}
    writer = ExternalWriter(d)
    writer.place(model.graph.node[-1].attribute[0].t, "weights.bin", align=4096, min_offset=4096)
    inits = model.graph.initializer  # make_graph copied the tensors: edit the model's own
    for i, t in enumerate(inits):
        # without `length` a reader takes everything up to the end of the file: only the last tensor can
        writer.place(t, "weights.bin", align=4096, length_key=i != len(inits) - 1)
    _save(model, d / "model.onnx")
    data = writer.flush()
    _check_external(d / "model.onnx", expected, n_external=6)
    out.append(
        Fixture(
            "external/aligned/model.onnx",
            "Five initializers (float32, int64, float16, uint8) and a Constant node's attribute tensor in "
            "one external file, each at a non-zero 4096-aligned offset; one entry omits `length`.",
            producer,
            [
                "external_data",
                "external_data:single_file",
                "external_data:aligned_offsets",
                "external_data:attribute_tensor",
                "external_data:no_length_key",
            ],
            data_files=[p.relative_to(root).as_posix() for p in data],
        )
    )

    # 2. one file per tensor, no offset keys, one tensor left inline, a sha1 checksum key
    d = root / "external/per_tensor"
    tensors = _ext_tensors(12)
    model = _model(_ext_graph(tensors))
    expected = {t.name: onnx.numpy_helper.to_array(t) for t in tensors}
    writer = ExternalWriter(d)
    for t in model.graph.initializer:
        if t.name == "Q":
            continue  # stays in raw_data: a model may mix inline and external tensors
        writer.place(t, f"{t.name}.bin", offset_key=False, length_key=t.name != "E", checksum=True)
    _save(model, d / "model.onnx")
    data = writer.flush()
    _check_external(d / "model.onnx", expected, n_external=4)
    out.append(
        Fixture(
            "external/per_tensor/model.onnx",
            "One external file per tensor (no offset keys, checksum keys, one without length), one "
            "tensor kept inline.",
            producer,
            [
                "external_data",
                "external_data:per_tensor",
                "external_data:checksum_key",
                "external_data:mixed_inline",
            ],
            data_files=[p.relative_to(root).as_posix() for p in data],
        )
    )

    # 3. location in a subfolder
    d = root / "external/subfolder"
    tensors = _ext_tensors(13)
    model = _model(_ext_graph(tensors))
    expected = {t.name: onnx.numpy_helper.to_array(t) for t in tensors}
    writer = ExternalWriter(d)
    for t in model.graph.initializer:
        writer.place(t, "weights/w.bin", align=64)
    _save(model, d / "model.onnx")
    data = writer.flush()
    _check_external(d / "model.onnx", expected, n_external=5)
    out.append(
        Fixture(
            "external/subfolder/model.onnx",
            "All tensors in weights/w.bin (a subfolder of the model's folder) at 64-byte-aligned offsets.",
            producer,
            ["external_data", "external_data:subfolder", "external_data:single_file"],
            data_files=[p.relative_to(root).as_posix() for p in data],
        )
    )
    return SectionResult(out, {})


# ---------------------------------------------------------------------------------------------
# Section: odd wire encodings
# ---------------------------------------------------------------------------------------------


def wire_base_model() -> onnx.ModelProto:
    """Small, checker-clean, and touching every wire type and both packing conventions."""
    inits = [
        helper.make_tensor("W", F32, [3], [1.0, -2.0, 0.5]),  # float_data: packed fixed32
        helper.make_tensor("B", I64, [3], [1, -1, 300]),  # int64_data: negative = 10-byte varint
        helper.make_tensor("D", TensorProto.DOUBLE, [2], [0.25, -1e300]),  # double_data: fixed64
        helper.make_tensor("U", TensorProto.UINT64, [2], [2**64 - 1, 7]),  # uint64_data
        helper.make_tensor("I", TensorProto.INT32, [4], [-5, 0, 127, 65536]),  # int32_data
        helper.make_tensor("R", F32, [2], np.array([1.5, -0.0], np.float32).tobytes(), raw=True),
        helper.make_tensor("Z", F32, [0, 3], []),
    ]
    nodes = [
        helper.make_node("Mul", ["X", "W"], ["t0"], name="mul"),
        helper.make_node("Cast", ["B"], ["bf"], name="cast", to=F32),
        helper.make_node("Add", ["t0", "bf"], ["t1"], name="add"),
        helper.make_node("Constant", [], ["axes"], name="axes", value_ints=[1]),  # ints: unpacked by schema
        helper.make_node("ReduceSum", ["t1", "axes"], ["t2"], name="sum", keepdims=1, noop_with_empty_axes=0),
        helper.make_node("LeakyRelu", ["t2"], ["t3"], name="leaky", alpha=0.1),
        helper.make_node("Constant", [], ["cf"], name="floats", value_floats=[0.5, -1.25, 3.0]),
        helper.make_node(
            "Tag",
            ["t3", "cf"],
            ["Y"],
            name="tag",
            domain="local.wire",
            label=b"wire",
            labels=[b"a", b"b", b"c"],
            sizes=[3, -4, 2**40, 0],
            weights=[0.5, -0.25, 8.0],
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "wire",
        [_vi("X", F32, ["N", 3])],
        [_vi("Y", F32, ["N", 1])],
        initializer=inits,
        doc_string="wire base",
        value_info=[_vi("t0", F32, ["N", 3])],
    )
    model = _model(graph, [("", OPSET_COMMON), ("local.wire", 1)], doc_string="base model for wire fixtures")
    _props(model, [("k", "v")])
    return model


def _split_graph(model: list[Field]) -> list[Field]:
    """ModelProto.graph as two length-delimited chunks, with an opset_import between them."""
    graph = sub(model, 7)
    nodes = [f for f in graph if f.number == 1]
    # half of the nodes (in order: repeated fields concatenate) and the name go to the first chunk
    first = nodes[: len(nodes) // 2] + [f for f in graph if f.number == 2]
    taken = {id(f) for f in first}
    second = [f for f in graph if id(f) not in taken]
    # an input's TypeProto.tensor_type split too: elem_type in one chunk, shape in the next
    typ = sub(sub(graph, 11), 2)
    tensor_type = sub(typ, 1)
    typ[_find(typ, 1) : _find(typ, 1) + 1] = [
        Field(1, "message", [f for f in tensor_type if f.number != 2]),
        Field(1, "message", [f for f in tensor_type if f.number == 2]),
    ]
    opsets = [f for f in model if f.number == 8]
    rest = [f for f in model if f.number not in (7, 8)]
    return [
        *rest[:1],
        Field(7, "message", first),
        opsets[0],
        Field(7, "message", second),
        *opsets[1:],
        *rest[1:],
    ]


def _shadow_first(fields: list[Field], number: int, bogus: Field) -> None:
    """Insert `bogus` just before field `number`: the later (real) value must win."""
    fields.insert(_find(fields, number), bogus)


def _last_wins(model: list[Field]) -> list[Field]:
    _shadow_first(model, 1, Field(1, "varint", 99))  # ir_version
    _shadow_first(model, 2, _str(2, "bogus-producer"))
    graph = sub(model, 7)
    _shadow_first(graph, 2, _str(2, "bogus-graph-name"))
    node = sub(graph, 1, 1)  # Cast
    _shadow_first(node, 4, _str(4, "BogusOp"))
    attr = sub(node, 5)
    _shadow_first(attr, 3, Field(3, "varint", 7))  # Cast.to
    tensor = sub(graph, 5)
    _shadow_first(tensor, 2, Field(2, "varint", TensorProto.DOUBLE))  # data_type
    # oneof: a sequence_type then the real tensor_type; the later member replaces the earlier one
    x_type = sub(sub(graph, 11), 2)
    x_type.insert(
        0, Field(4, "message", [Field(1, "message", [Field(1, "message", [Field(1, "varint", I64)])])])
    )
    # oneof inside Dimension: dim_param "bogus" then the real dim_value 3
    dim = sub(sub(sub(x_type, 1), 2), 1, 1)
    dim.insert(0, _str(2, "bogus"))
    return model


def _messages(fields: list[Field], number: int) -> list[list[Field]]:
    return [f.value for f in fields if f.number == number and f.kind == "message"]


def _add_unknown(model: list[Field]) -> list[Field]:
    """Unknown fields in the first model/graph/node/attribute/tensor/value_info/type/opset found."""
    model.insert(1, Field(900, "varint", 1))  # one between known fields, too
    model += _unknown_fields(1000, b"model")
    graph = sub(model, 7)
    graph += _unknown_fields(1000, b"graph")
    nodes = _messages(graph, 1)
    nodes[0][1:1] = _unknown_fields(1100, b"node")  # in the middle of a node
    attrs = [a for n in nodes for a in _messages(n, 5)]
    attrs[0] += _unknown_fields(1200, b"attribute")
    # an initializer, else the first attribute tensor
    tensors = _messages(graph, 5) + [t for a in attrs for t in _messages(a, 5)]
    tensors[0] += _unknown_fields(1300, b"tensor")
    vi = _messages(graph, 11)[0]
    vi += _unknown_fields(1400, b"value_info")
    sub(vi, 2).extend(_unknown_fields(1500, b"type"))
    sub(model, 8).append(Field(1600, "bytes", b"unknown:opset"))
    return model


def _unknown_enums(model: list[Field]) -> list[Field]:
    # data_location is a closed proto2 enum: protobuf moves an unknown value to the unknown fields
    sub(sub(model, 7), 5).append(Field(14, "varint", 5))
    # an attribute of a type ONNX does not have yet (99), with its value in an unknown field number
    tag_node = sub(sub(model, 7), 1, 7)
    tag_node.append(
        Field(5, "message", [_str(1, "future"), Field(20, "varint", 99), Field(40, "bytes", b"payload")])
    )
    return model


def _non_utf8(model: list[Field]) -> list[Field]:
    def set_bytes(fields: list[Field], number: int, value: bytes) -> None:
        fields[_find(fields, number)] = Field(number, "bytes", value)

    graph = sub(model, 7)
    set_bytes(model, 2, b"producer \xff\xfe")
    set_bytes(graph, 2, b"graph \xc3\x28")
    set_bytes(graph, 10, b"doc \xed\xa0\x80 surrogate")
    set_bytes(sub(graph, 1), 3, b"node \x80")
    set_bytes(sub(model, 14), 2, b"meta \xf8\x88\x80\x80\x80")
    return model


def _explicit_defaults_model() -> onnx.ModelProto:
    model = wire_base_model()
    model.model_version = 0
    model.domain = ""
    model.graph.node[0].domain = ""
    model.graph.node[0].doc_string = ""
    w = model.graph.initializer[0]
    w.data_location = TensorProto.DEFAULT
    w.name = "W"
    z = model.graph.initializer[-1]
    z.raw_data = b""  # present but empty, for an empty tensor
    model.graph.node[4].attribute[0].doc_string = ""
    model.graph.input[0].doc_string = ""
    return model


def _load(path: Path, external: bool = True) -> onnx.ModelProto:
    return onnx.load(str(path), load_external_data=external)


def _without_unknown(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    copy.DiscardUnknownFields()
    return copy


def section_wire(root: Path) -> SectionResult:
    producer = "hand wire encoder (tools/make_fixtures.py)"
    base_model = wire_base_model()
    base_fields = to_fields(base_model)
    canonical = encode(base_fields)
    if canonical != base_model.SerializeToString():
        raise AssertionError("wire encoder does not reproduce protobuf's canonical bytes")
    fresh = lambda: to_fields(base_model)  # noqa: E731  (every variant edits its own copy)

    same = "onnx.load() gives the same message as for wire/base.onnx (checked by the generator)."
    variants: list[tuple[str, bytes, str, list[str], str, str | None]] = [
        (
            "base.onnx",
            canonical,
            "Reference model for the wire fixtures, canonical encoding.",
            ["wire:canonical"],
            "Byte-identical to protobuf's own serialization.",
            None,
        ),
        (
            "reversed_fields.onnx",
            encode(fresh(), Style(reverse=True)),
            "Every message's fields in descending field-number order (repeated elements keep their order).",
            ["wire:reversed_fields"],
            same,
            "wire/base.onnx",
        ),
        (
            "unpacked_repeated.onnx",
            encode(fresh(), Style(flip_packing=True)),
            "[packed=true] fields (float_data, int64_data, ...) written one element per field, and proto2-"
            "unpacked repeated scalars (dims, ints, floats) written packed.",
            ["wire:unpacked_repeated", "wire:packed_unpacked_fields"],
            same,
            "wire/base.onnx",
        ),
        (
            "mixed_packing.onnx",
            encode(fresh(), Style(mixed_packing=True)),
            "Each repeated scalar written as unpacked element + two packed chunks + unpacked element.",
            ["wire:mixed_packing"],
            same,
            "wire/base.onnx",
        ),
        (
            "overlong_varints.onnx",
            encode(fresh(), Style(overlong=True)),
            "Every varint (tags, lengths, values) one byte longer than minimal, e.g. 0 as 0x80 0x00.",
            ["wire:overlong_varint"],
            same,
            "wire/base.onnx",
        ),
        (
            "split_messages.onnx",
            encode(_split_graph(fresh())),
            "ModelProto.graph written as two length-delimited chunks with an opset_import between them, and "
            "a TypeProto.tensor_type split in two; protobuf merges the chunks.",
            ["wire:split_message", "wire:interleaved_repeated"],
            same,
            "wire/base.onnx",
        ),
        (
            "last_wins.onnx",
            encode(_last_wins(fresh())),
            "Singular fields written twice with a bogus first value (ir_version, producer_name, graph name, "
            "op_type, an INT attribute, data_type); a oneof written as sequence_type then tensor_type, a dim "
            "as dim_param then dim_value.",
            ["wire:last_wins", "wire:oneof_last_wins"],
            same,
            "wire/base.onnx",
        ),
        (
            "unknown_fields.onnx",
            encode(_add_unknown(fresh())),
            "Fields unknown to onnx.proto, of every wire type (varint, fixed64, length-delimited, group with "
            "a nested group, fixed32), in ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, "
            "ValueInfoProto, TypeProto and OperatorSetIdProto.",
            ["wire:unknown_fields", "wire:group"],
            "Known content equals wire/base.onnx; every unknown field survives load->save (onnx keeps them, "
            "moved to the end of their message).",
            "wire/base.onnx",
        ),
        (
            "unknown_enum_values.onnx",
            encode(_unknown_enums(fresh())),
            "TensorProto.data_location = 5 (not in the closed enum) and an attribute of AttributeType 99 "
            "whose value sits in unknown field 40.",
            ["wire:unknown_enum", "wire:unknown_fields"],
            "protobuf treats the unknown enum values as unknown fields: data_location reads as unset, the "
            "attribute's type as UNDEFINED; both values survive load->save.",
            None,
        ),
        (
            "non_utf8_strings.onnx",
            encode(_non_utf8(fresh())),
            "`string` fields (producer_name, graph name and doc_string, node name, a metadata value) holding "
            "bytes that are not valid UTF-8.",
            ["wire:non_utf8_string", "string:non_utf8"],
            "proto2 does not validate UTF-8: the bytes load as they are and are written back unchanged.",
            None,
        ),
        (
            "explicit_defaults.onnx",
            _explicit_defaults_model().SerializeToString(),
            "Optional fields present with their default values (model_version=0, empty domain/doc_string, "
            "data_location=DEFAULT, empty raw_data).",
            ["wire:explicit_default", "proto2:presence"],
            "Field presence is kept through load->save, so the file re-serializes byte for byte.",
            None,
        ),
    ]
    # Everything at once, on the richest hand-built model.
    rich = attributes_model()
    rich_fields = _split_graph(_add_unknown(to_fields(rich)))
    variants.append(
        (
            "scrambled_attributes.onnx",
            encode(rich_fields, Style(reverse=True, flip_packing=True, overlong=True)),
            "structure/attributes.onnx with reversed fields, flipped packing, overlong varints, a split "
            "graph and unknown fields at every level.",
            [
                "wire:reversed_fields",
                "wire:unpacked_repeated",
                "wire:overlong_varint",
                "wire:split_message",
                "wire:unknown_fields",
                "attr:graphs",
            ],
            "Known content equals structure/attributes.onnx (checked by the generator).",
            "structure/attributes.onnx",
        )
    )

    out = []
    for name, data, description, features, expect, equivalent in variants:
        rel = f"wire/{name}"
        _write(root / rel, data)
        if equivalent is not None:
            reference = rich if equivalent.startswith("structure/") else base_model
            # compare canonical bytes: message equality would trip over NaN attribute values
            decoded = _without_unknown(_load(root / rel)).SerializeToString()
            if decoded != reference.SerializeToString():
                raise AssertionError(f"{rel} does not decode to {equivalent}")
        out.append(Fixture(rel, description, producer, features, expect=expect, equivalent_to=equivalent))

    # unknown fields must survive onnx's own load->save: check the payloads are still there
    resaved = _load(root / "wire/unknown_fields.onnx").SerializeToString()
    for label in (b"model", b"graph", b"node", b"attribute", b"tensor", b"value_info", b"type", b"opset"):
        if b"unknown:" + label not in resaved:
            raise AssertionError(f"onnx dropped the unknown {label!r} field")
    return SectionResult(out, {})


# ---------------------------------------------------------------------------------------------
# Section: hostile files
# ---------------------------------------------------------------------------------------------

HOSTILE_NOTE = """\
# Hostile fixtures

Files in this folder are malformed or malicious on purpose. The test suite must not treat them as
ordinary models: a conforming reader either rejects each one with a clean, catchable error or
handles it gracefully (bounded time and memory, no crash, no reads outside the model's folder).
The manifest's `expect` field says which, and `onnx_load` records what onnx itself does.

"""


def _ext_model(location: str, offset: int | None, length: int) -> onnx.ModelProto:
    t = TensorProto(name="W", data_type=F32, dims=[length // 4], data_location=TensorProto.EXTERNAL)
    t.external_data.add(key="location", value=location)
    if offset is not None:
        t.external_data.add(key="offset", value=str(offset))
    t.external_data.add(key="length", value=str(length))
    graph = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["Y"])],
        "hostile",
        [],
        [_vi("Y", F32, [length // 4])],
        initializer=[t],
    )
    return _model(graph)


def section_hostile(root: Path) -> SectionResult:
    producer = "hand wire encoder (tools/make_fixtures.py)"
    base = wire_base_model().SerializeToString()
    reject = "Must be rejected with a clean error (not a crash, hang or huge allocation)."
    cases: list[tuple[str, bytes | onnx.ModelProto, str, list[str], str, list[tuple[str, bytes]]]] = [
        (
            "deep_if_150.onnx",
            nested_if_model_bytes(150),
            "If nodes nested 150 deep (protobuf message depth 456).",
            ["hostile:deep_nesting", "subgraph:if"],
            "Reject with a clean depth-limit error or load it gracefully; never a RecursionError escaping as "
            "a crash or a stack overflow. protobuf's default recursion limit (100) makes onnx.load refuse "
            "it.",
            [],
        ),
        (
            "truncated.onnx",
            base[: len(base) * 2 // 3],
            "A valid model cut off two thirds of the way through, in the middle of a field.",
            ["hostile:truncated"],
            reject,
            [],
        ),
        (
            "length_overflow.onnx",
            encode(
                [
                    Field(1, "varint", 10),
                    Field(7, "raw", varint((7 << 3) | WT_LEN) + varint(0x7FFFFFF0) + b"\x0a\x00"),
                ]
            ),
            "ModelProto.graph declares a length of about 2 GiB with 2 bytes following.",
            ["hostile:length_overflow"],
            reject,
            [],
        ),
        (
            "bad_wire_type.onnx",
            base + varint((3 << 3) | 7) + b"\x00",
            "A valid model followed by a tag with wire type 7, which does not exist.",
            ["hostile:bad_wire_type"],
            reject,
            [],
        ),
        (
            "huge_dims.onnx",
            _huge_dims_model(),
            "An initializer declaring dims [2^31, 2^31, 2^31] with 4 bytes of raw_data.",
            ["hostile:huge_dims", "hostile:size_mismatch"],
            "The structure loads (onnx.load succeeds); decoding that tensor must fail cleanly without trying "
            "to allocate its declared size.",
            [],
        ),
        (
            "external_escape/model.onnx",
            _ext_model("../../../../../../../../etc/passwd", 0, 16),
            "External data whose location climbs out of the model folder with '..'.",
            ["hostile:external_path_traversal", "external_data"],
            "Loading the external data must be refused; reading the structure alone may succeed.",
            [],
        ),
        (
            "external_absolute/model.onnx",
            _ext_model("/etc/passwd", None, 16),
            "External data with an absolute location.",
            ["hostile:external_absolute_path", "external_data"],
            "Loading the external data must be refused; reading the structure alone may succeed.",
            [],
        ),
        (
            "external_out_of_range/model.onnx",
            _ext_model("w.bin", 4096, 64),
            "External data offset 4096 + length 64 in a 16-byte file.",
            ["hostile:external_out_of_range", "external_data"],
            "Loading the external data must fail cleanly; reading the structure alone may succeed.",
            [("w.bin", bytes(range(16)))],
        ),
    ]
    out, note = [], [HOSTILE_NOTE]
    for name, content, description, features, expect, extra in cases:
        rel = f"hostile/{name}"
        data = content if isinstance(content, bytes) else content.SerializeToString()
        _write(root / rel, data)
        data_files = []
        for extra_name, extra_data in extra:
            extra_path = (root / rel).parent / extra_name
            _write(extra_path, extra_data)
            data_files.append(extra_path.relative_to(root).as_posix())
        out.append(
            Fixture(rel, description, producer, features, data_files=data_files, expect=expect, hostile=True)
        )
        note.append(f"- `{name}`: {description} Expected: {expect}\n")
    _write(root / "hostile/README.md", "".join(note).encode())
    return SectionResult(out, {})


def _huge_dims_model() -> onnx.ModelProto:
    t = TensorProto(name="W", data_type=F32, dims=[2**31] * 3, raw_data=b"\0\0\x80\x3f")
    graph = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["Y"])],
        "huge",
        [],
        [_vi("Y", F32, [2**31] * 3)],
        initializer=[t],
    )
    return _model(graph)


# ---------------------------------------------------------------------------------------------
# Section: PyTorch exporters
# ---------------------------------------------------------------------------------------------


def _portable_path(path: str) -> str:
    """Stack traces in dynamo exports hold absolute paths; keep them stable across checkouts."""
    p = Path(path)
    prefixes = [ROOT, *(Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib", "stdlib"))]
    for prefix in prefixes:
        try:
            return p.relative_to(prefix).as_posix()
        except ValueError:
            continue
    return p.name if p.is_absolute() else path


def make_paths_portable(model: onnx.ModelProto) -> None:
    for message in _iter_messages(model):
        if isinstance(message, onnx.StringStringEntryProto) and 'File "' in message.value:
            message.value = re.sub(
                r'File "([^"]+)"', lambda m: f'File "{_portable_path(m.group(1))}"', message.value
            )


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Exporters print progress and warnings; keep them, and show them only if export fails."""
    buf = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        warnings.simplefilter("ignore")
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)
        try:
            yield buf
        finally:
            logging.disable(previous)


def section_torch(root: Path) -> SectionResult:
    torch = _require("torch")
    _require("onnxscript")  # the dynamo exporter needs it
    nn = torch.nn
    Module: Any = nn.Module  # torch is imported at run time: its classes are untyped here
    version = torch.__version__
    d = root / "torch"
    d.mkdir(parents=True, exist_ok=True)
    out: list[Fixture] = []
    failures: list[str] = []

    class TinyCNN(Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(4 * 4 * 4, 3)

        def forward(self, x: Any) -> Any:
            return self.fc(torch.flatten(self.pool(torch.relu(self.bn(self.conv(x)))), 1))

    class Attention(Module):
        def __init__(self, dim: int = 8, heads: int = 2) -> None:
            super().__init__()
            self.ln = nn.LayerNorm(dim)
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
            self.heads, self.dim = heads, dim

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            hd = self.dim // self.heads
            q, k, v = (
                z.reshape(b, t, self.heads, hd).transpose(1, 2) for z in self.qkv(self.ln(x)).chunk(3, -1)
            )
            attn = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5, dim=-1)
            return x + self.proj((attn @ v).transpose(1, 2).reshape(b, t, self.dim))

    class Loopy(Module):
        # TorchScript compiles this source; unannotated arguments are Tensors, which is what we want
        def forward(self, x, n):  # type: ignore[no-untyped-def]
            y = x
            for i in range(int(n)):
                if bool(y.sum() > 0):  # noqa: SIM108 - kept as a statement: it becomes the If node
                    y = y * 0.5 - 1.0
                else:
                    y = y + float(i)
            return y

    class Cond(Module):
        def forward(self, x: Any) -> Any:
            return torch.cond(x.sum() > 0, lambda v: v.sin(), lambda v: v.cos() * 2, (x,))

    class WhileLoop(Module):
        def forward(self, x: Any) -> Any:
            from torch._higher_order_ops.while_loop import while_loop

            return while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2 + 1), (torch.tensor(0), x))[1]

    class CumScan(Module):
        def forward(self, x: Any) -> Any:
            from torch._higher_order_ops.scan import scan

            return scan(lambda c, e: (c + e, (c * e).clone()), torch.zeros(x.shape[1]), x)

    class EmbedMLP(Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(16, 8)
            self.fc1 = nn.Linear(8, 16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, ids: Any) -> Any:
            return self.fc2(torch.nn.functional.gelu(self.fc1(self.emb(ids))))

    def seeded(cls: type, *args: Any) -> Any:
        torch.manual_seed(0)
        return cls(*args).eval()

    dim = torch.export.Dim
    x_img = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    x_seq = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(2))
    x_mat = torch.randn(4, 3, generator=torch.Generator().manual_seed(3))
    ids = torch.tensor([[1, 5, 7], [0, 15, 3]])

    # (file, description, features, export thunk, dynamo?, data file written by the exporter)
    jobs: list[tuple[str, str, list[str], Callable[[Path], None], bool, str | None]] = [
        (
            "cnn_torchscript.onnx",
            "Conv/BatchNorm/Relu/MaxPool/Flatten/Gemm CNN, TorchScript exporter, opset 13, no constant "
            "folding (BatchNormalization kept), initializers also listed as graph inputs, dynamic batch.",
            ["exporter:torchscript", "op:conv", "op:batchnorm", "initializers_as_inputs", "dims:symbolic"],
            lambda p: torch.onnx.export(
                seeded(TinyCNN),
                (x_img,),
                str(p),
                dynamo=False,
                opset_version=13,
                do_constant_folding=False,
                keep_initializers_as_inputs=True,
                input_names=["x"],
                output_names=["y"],
                dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
            ),
            False,
            None,
        ),
        (
            "cnn_dynamo.onnx",
            "The same CNN through the dynamo (torch.export) exporter, dynamic batch.",
            ["exporter:dynamo", "op:conv", "dims:symbolic", "metadata_props:node"],
            lambda p: torch.onnx.export(
                seeded(TinyCNN),
                (x_img,),
                str(p),
                dynamo=True,
                external_data=False,
                input_names=["x"],
                output_names=["y"],
                dynamic_shapes={"x": {0: dim("batch")}},
            ),
            True,
            None,
        ),
        (
            "attention_torchscript.onnx",
            "LayerNorm + multi-head self-attention block (MatMul, Softmax, Reshape/Transpose), TorchScript "
            "exporter with LayerNorm exported as a model-local function (attributes eps, "
            "elementwise_affine), dynamic batch and sequence.",
            ["exporter:torchscript", "op:softmax", "op:matmul", "function", "dims:symbolic"],
            lambda p: torch.onnx.export(
                seeded(Attention),
                (x_seq,),
                str(p),
                dynamo=False,
                opset_version=17,
                input_names=["x"],
                output_names=["y"],
                dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}},
                # only LayerNorm: with several instances of an exported class (the two Linears) the
                # exporter picks which one defines the function nondeterministically
                export_modules_as_functions={nn.LayerNorm},
            ),
            False,
            None,
        ),
        (
            "attention_dynamo.onnx",
            "The attention block through the dynamo exporter, dynamic batch and sequence.",
            [
                "exporter:dynamo",
                "op:layernorm",
                "op:softmax",
                "op:matmul",
                "dims:symbolic",
                "metadata_props:node",
            ],
            lambda p: torch.onnx.export(
                seeded(Attention),
                (x_seq,),
                str(p),
                dynamo=True,
                external_data=False,
                input_names=["x"],
                output_names=["y"],
                dynamic_shapes={"x": {0: dim("batch"), 1: dim("seq", max=512)}},
            ),
            True,
            None,
        ),
        (
            "loop_torchscript.onnx",
            "torch.jit.script'ed data-dependent for-loop with an if inside: a Loop whose body holds an If.",
            ["exporter:torchscript", "subgraph", "subgraph:loop", "subgraph:if", "subgraph:nested"],
            lambda p: torch.onnx.export(
                torch.jit.script(seeded(Loopy)),
                (x_mat, torch.tensor(3)),
                str(p),
                dynamo=False,
                opset_version=17,
                input_names=["x", "n"],
                output_names=["y"],
                dynamic_axes={"x": {0: "N"}},
            ),
            False,
            None,
        ),
        (
            "cond_dynamo.onnx",
            "torch.cond with a data-dependent predicate: an If with two branch graphs.",
            ["exporter:dynamo", "subgraph", "subgraph:if"],
            lambda p: torch.onnx.export(seeded(Cond), (x_mat,), str(p), dynamo=True, external_data=False),
            True,
            None,
        ),
        (
            "while_loop_dynamo.onnx",
            "torch while_loop higher-order op: a Loop.",
            ["exporter:dynamo", "subgraph", "subgraph:loop"],
            lambda p: torch.onnx.export(
                seeded(WhileLoop), (x_mat,), str(p), dynamo=True, external_data=False
            ),
            True,
            None,
        ),
        (
            "scan_dynamo.onnx",
            "torch scan higher-order op: a Scan.",
            ["exporter:dynamo", "subgraph", "subgraph:scan"],
            lambda p: torch.onnx.export(seeded(CumScan), (x_mat,), str(p), dynamo=True, external_data=False),
            True,
            None,
        ),
        (
            "external/embed_mlp.onnx",
            "Embedding (Gather on int64 ids) + Linear/GELU MLP, dynamo exporter with external_data=True: the "
            "weights are in embed_mlp.onnx.data next to the model.",
            ["exporter:dynamo", "external_data", "external_data:single_file", "op:gather", "dtype:int64"],
            lambda p: torch.onnx.export(
                seeded(EmbedMLP),
                (ids,),
                str(p),
                dynamo=True,
                external_data=True,
                input_names=["ids"],
                output_names=["y"],
                dynamic_shapes={"ids": {0: dim("batch")}},
            ),
            True,
            "embed_mlp.onnx.data",
        ),
    ]
    for spec in _real_torch_models(torch):
        jobs += _real_model_jobs(torch, spec, seeded)
    for rel, description, features, export, dynamo, data_name in jobs:
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = "dynamo=True" if dynamo else "dynamo=False"
        with _quiet() as log:
            try:
                export(path)
            except Exception as exc:  # an exporter failure is reported, not fatal
                failures.append(f"torch/{rel}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
                print(f"  ! torch/{rel} failed to export:\n{log.getvalue()[-2000:]}", file=sys.stderr)
                path.unlink(missing_ok=True)
                continue
        if dynamo:
            model = _load(path, external=False)
            make_paths_portable(model)
            _save(model, path)
        data_files = [(path.parent / data_name).relative_to(root).as_posix()] if data_name else []
        if dynamo:
            description += " (Stack-trace paths in metadata_props made relative by the generator.)"
        out.append(
            Fixture(
                f"torch/{rel}",
                description,
                f"pytorch {version} torch.onnx.export({kind})",
                features,
                data_files=data_files,
            )
        )
    for failure in failures:
        print(f"  ! {failure}", file=sys.stderr)
    return SectionResult(out, {"torch": version, "onnxscript": _version_of("onnxscript")})


@dataclass
class _TorchModel:
    """One model of `_real_torch_models`, exported by both exporters as torch/<stem>_<exporter>.onnx."""

    stem: str
    description: str
    features: list[str]
    cls: Any  # the nn.Module class, built with `seeded`
    args: tuple[Any, ...]  # example inputs
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]  # TorchScript exporter, keyed by input name
    dynamic_shapes: dict[str, Any] | None  # dynamo exporter, by forward() argument; None: no dynamo export
    scripted: bool  # torch.jit.script the module first (data-dependent control flow)


def _real_torch_models(torch: Any) -> list[_TorchModel]:
    """Small models shaped like the real ones people export (ResNet, MobileNet, UNet, YOLO head,
    GPT with KV cache, BERT, ViT, LSTM/GRU, slicing on symbolic dims, a scripted loop), for the
    inference measurement on real exports (tests/test_infer_real.py). Each is exported by both
    exporters with dynamic batch, sequence and height/width."""
    nn = torch.nn
    F = nn.functional
    Module: Any = nn.Module
    dim = torch.export.Dim

    class ResBlock(Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            y = F.relu(self.b1(self.c1(x)))
            y = self.b2(self.c2(y))
            return F.relu(y + (x if self.down is None else self.down(x)))

    class ResNet(Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
            self.l1 = ResBlock(8, 8, 1)
            self.l2 = ResBlock(8, 16, 2)
            self.fc = nn.Linear(16, 10)

        def forward(self, x: Any) -> Any:
            y = self.l2(self.l1(self.stem(x)))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))

    class InvertedResidual(Module):
        def __init__(self, c: int, expand: int) -> None:
            super().__init__()
            h = c * expand
            self.pw = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6())
            self.dw = nn.Sequential(nn.Conv2d(h, h, 3, 1, 1, groups=h, bias=False), nn.BatchNorm2d(h),
                                    nn.Hardswish())
            self.se1 = nn.Conv2d(h, 4, 1)
            self.se2 = nn.Conv2d(4, h, 1)
            self.pwl = nn.Sequential(nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

        def forward(self, x: Any) -> Any:
            y = self.dw(self.pw(x))
            s = F.hardsigmoid(self.se2(F.relu(self.se1(y.mean((2, 3), keepdim=True)))))
            return x + self.pwl(y * s)

    class MobileNet(Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
            self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False), nn.BatchNorm2d(8),
                                    nn.ReLU6(), nn.Conv2d(8, 8, 1), nn.ReLU6())
            self.block = InvertedResidual(8, 3)
            self.head = nn.Linear(8, 5)

        def forward(self, x: Any) -> Any:
            y = self.block(self.dw(self.stem(x)))
            return self.head(F.dropout(y.flatten(2).mean(-1), 0.2, self.training))

    def conv_block(cin: int, cout: int) -> Any:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

    class UNet(Module):
        def __init__(self) -> None:
            super().__init__()
            self.e1 = conv_block(1, 4)
            self.e2 = conv_block(4, 8)
            self.mid = conv_block(8, 16)
            self.up2 = nn.ConvTranspose2d(16, 8, 2, stride=2)
            self.d2 = conv_block(16, 8)
            self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.d1 = conv_block(12, 4)
            self.out = nn.Conv2d(4, 2, 1)

        def forward(self, x: Any) -> Any:
            a = self.e1(x)
            b = self.e2(F.max_pool2d(a, 2))
            m = self.mid(F.max_pool2d(b, 2))
            u = self.d2(torch.cat([self.up2(m), b], 1))
            u = self.d1(torch.cat([self.up1(u), a], 1))
            n = F.interpolate(self.out(u), size=(x.shape[2] // 2, x.shape[3] // 2), mode="nearest")
            return self.out(u), n

    class YoloHead(Module):
        def __init__(self, na: int = 3, nc: int = 2) -> None:
            super().__init__()
            self.na, self.no = na, nc + 5
            self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.SiLU(),
                                          nn.Conv2d(8, 8, 3, 2, 1), nn.SiLU())
            self.det = nn.Conv2d(8, na * self.no, 1)
            anchors = torch.tensor([[1.0, 2.0], [2.0, 1.0], [1.5, 1.5]])
            self.register_buffer("anchors", anchors.view(1, na, 1, 1, 2))

        def forward(self, x: Any) -> Any:
            p = self.det(self.backbone(x))
            b, _, h, w = p.shape
            p = p.view(b, self.na, self.no, h, w).permute(0, 1, 3, 4, 2).contiguous()
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            grid = torch.stack((xs, ys), 2).view(1, 1, h, w, 2).float()
            xy, wh, conf = p.sigmoid().split((2, 2, self.no - 4), 4)
            xy = (xy * 2 - 0.5 + grid) * 4.0
            wh = (wh * 2) ** 2 * self.anchors
            return torch.cat((xy, wh, conf), 4).view(b, -1, self.no)

    class GPTBlock(Module):
        def __init__(self, d: int, heads: int) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(approximate="tanh"), nn.Linear(2 * d, d))
            self.h = heads

        def forward(self, x: Any, pk: Any, pv: Any) -> Any:
            b, t, d = x.shape
            hd = d // self.h
            q, k, v = self.qkv(self.ln1(x)).split(d, 2)
            q = q.view(b, t, self.h, hd).transpose(1, 2)
            k = torch.cat([pk, k.view(b, t, self.h, hd).transpose(1, 2)], 2)
            v = torch.cat([pv, v.view(b, t, self.h, hd).transpose(1, 2)], 2)
            total = k.shape[2]
            past = total - t
            att = (q @ k.transpose(-2, -1)) * (1.0 / hd**0.5)
            mask = torch.ones(t, total, dtype=torch.bool).tril(diagonal=past)
            att = att.masked_fill(~mask, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(b, t, d)
            x = x + self.proj(y)
            return x + self.mlp(self.ln2(x)), k, v

    class GPT(Module):
        def __init__(self, vocab: int = 32, d: int = 8, heads: int = 2, ctx: int = 64) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.block = GPTBlock(d, heads)
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, ids: Any, past_k: Any, past_v: Any) -> Any:
            past = past_k.shape[2]
            pos = torch.arange(past, past + ids.shape[1], dtype=torch.long).unsqueeze(0)
            x = self.wte(ids) + self.wpe(pos)
            x, k, v = self.block(x, past_k, past_v)
            return self.head(self.ln(x)), k, v

    class Bert(Module):
        def __init__(self, vocab: int = 32, d: int = 8, heads: int = 2, ctx: int = 64) -> None:
            super().__init__()
            self.tok, self.pos, self.typ = nn.Embedding(vocab, d), nn.Embedding(ctx, d), nn.Embedding(2, d)
            self.ln0 = nn.LayerNorm(d)
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
            self.pool = nn.Linear(d, d)
            self.h, self.d = heads, d

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            b, t = ids.shape
            x = self.ln0(self.tok(ids) + self.pos(torch.arange(t).expand(b, t)) + self.typ(types))
            hd = self.d // self.h

            def heads(z: Any) -> Any:
                return z.view(b, -1, self.h, hd).permute(0, 2, 1, 3)

            ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            s = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / hd**0.5 + ext
            c = (s.softmax(-1) @ heads(self.v(x))).permute(0, 2, 1, 3).reshape(b, t, self.d)
            x = self.ln1(x + self.o(c))
            x = self.ln2(x + self.ff(x))
            return x, torch.tanh(self.pool(x[:, 0]))

    class ViT(Module):
        def __init__(self, d: int = 8, patch: int = 4, max_patches: int = 64) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, d, patch, patch)
            self.cls = nn.Parameter(torch.randn(1, 1, d))
            self.pos = nn.Parameter(torch.randn(1, max_patches + 1, d))
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
            self.head = nn.Linear(d, 4)

        def forward(self, img: Any) -> Any:
            x = self.embed(img).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
            x = x + self.pos[:, : x.shape[1]]
            h = self.ln1(x)
            b, t, d = h.shape
            q, k, v = self.qkv(h).reshape(b, t, 3, 2, d // 2).permute(2, 0, 3, 1, 4).unbind(0)
            x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
            x = x + self.mlp(self.ln2(x))
            return self.head(self.ln3(x)[:, 0])

    class Recurrent(Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True, bidirectional=True)
            self.gru = nn.GRU(12, 5, batch_first=True)
            self.fc = nn.Linear(5, 3)

        def forward(self, x: Any) -> Any:
            y, (h, c) = self.lstm(x)
            z, hg = self.gru(y)
            return self.fc(z), h, hg

    class Slicing(Module):
        def forward(self, x: Any) -> Any:
            a, b, c = x.chunk(3, -1)
            head, tail = torch.split(x, [4, 8], -1)
            mid = x.narrow(1, 1, x.shape[1] - 2)
            first_half = x[:, : x.shape[1] // 2 + 1]
            pieces = x.unbind(2)
            return (a * b + c, head.sum(-1, keepdim=True) * tail[:, :, ::2], mid.flip(1),
                    first_half.cumsum(1), torch.stack(pieces[:3], 0), x[:, -2:, 1:-1])

    class ScriptRNN(Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = nn.Linear(4 + 6, 6)

        # TorchScript compiles this source; unannotated arguments are Tensors
        def forward(self, x):  # type: ignore[no-untyped-def]
            h = torch.zeros(x.size(0), 6)
            outs = []
            for i in range(x.size(1)):
                h = torch.tanh(self.cell(torch.cat([x[:, i], h], 1)))
                if bool(h.sum() > 0.0):
                    h = h * 0.5
                outs.append(h)
            return torch.stack(outs, 1), h

    class Windows(Module):
        """Swin/ViTDet-style window attention on an image padded up to a multiple of the window,
        and a tail of ops whose sizes come from the shape: TopK with k = size // 4, NonZero, ..."""

        def __init__(self) -> None:
            super().__init__()
            self.gn = nn.GroupNorm(2, 4)
            self.inorm = nn.InstanceNorm2d(4, affine=True)
            self.proj = nn.Linear(4, 4)
            self.conv = nn.Conv2d(4, 16, 3, padding=1)

        def forward(self, x: Any) -> Any:
            b, c, h, w = x.shape
            ws = 4
            y = F.pad(self.gn(x), (0, (ws - w % ws) % ws, 0, (ws - h % ws) % ws))
            hp, wp = y.shape[2], y.shape[3]
            win = y.permute(0, 2, 3, 1).reshape(b, hp // ws, ws, wp // ws, ws, c)
            win = win.permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)
            win = torch.einsum("bic,bjc->bij", self.proj(win), win).softmax(-1) @ win
            back = win.view(b, hp // ws, wp // ws, ws, ws, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, hp, wp)
            back = torch.roll(self.inorm(back[:, :, :h, :w]), shifts=(1, 2), dims=(2, 3))
            ps = F.pixel_shuffle(self.conv(back), 2)
            flat = ps.flatten(2)
            vals, idx = flat.topk(flat.shape[2] // 4, dim=2)
            rep = flat.argmax(-1, keepdim=True).repeat(1, 2, 3)
            nz = torch.nonzero(flat[0, 0] > 0.5)
            sc = torch.zeros_like(flat).scatter(2, idx, vals)
            up = F.interpolate(ps, scale_factor=0.5, mode="bilinear", align_corners=False)
            return vals + torch.gather(flat, 2, idx), rep, nz, sc.cumsum(-1), up, F.unfold(back, 2, stride=2)

    g = torch.Generator().manual_seed(4)
    img = torch.randn(2, 3, 16, 16, generator=g)
    ids = torch.randint(0, 32, (2, 5), generator=g)
    past = torch.randn(2, 2, 3, 4, generator=g)
    bsz, seq, pastd = dim("batch"), dim("seq", min=2, max=32), dim("past", max=32)
    height, width = dim("height"), dim("width")
    hw4 = {0: bsz, 2: 4 * dim("h4", max=16), 3: 4 * dim("w4", max=16)}
    return [
        _TorchModel(*spec) for spec in [
        ("resnet", "ResNet-style CNN: stem Conv/BatchNorm/Relu/MaxPool, two residual blocks (one strided "
         "with a 1x1 projection), global average pool, Linear; dynamic batch, height and width.",
         ["op:conv", "op:batchnorm", "op:maxpool", "residual"], ResNet, (img,), ["x"], ["logits"],
         {"x": {0: "batch", 2: "height", 3: "width"}}, {"x": {0: bsz, 2: height, 3: width}}, False),
        ("mobilenet", "MobileNet-style CNN: depthwise (group) convolutions, ReLU6 (Clip), HardSwish, "
         "squeeze-excite (ReduceMean, HardSigmoid, Mul), inverted residual; dynamic batch, height, width.",
         ["op:conv", "conv:depthwise", "op:clip", "op:hardswish"], MobileNet, (img,), ["x"], ["logits"],
         {"x": {0: "batch", 2: "height", 3: "width"}}, {"x": {0: bsz, 2: height, 3: width}}, False),
        ("unet", "UNet-style encoder-decoder: MaxPool down, ConvTranspose and bilinear Upsample (Resize) up, "
         "Concat skip connections, a nearest Resize to sizes computed from the input shape; dynamic "
         "batch and height/width (multiples of 4).",
         ["op:resize", "op:convtranspose", "op:concat", "shape_arithmetic"], UNet, (img[:, :1],), ["x"],
         ["mask", "half"], {"x": {0: "batch", 2: "height", 3: "width"}}, {"x": hw4}, False),
        ("yolo_head", "YOLO-style detection head: Conv/SiLU backbone, view/permute to (b, anchors, h, w, "
         "outputs) with h and w read at run time, meshgrid of Range, Sigmoid, Split, Concat, Reshape "
         "to (b, -1, outputs); dynamic batch, height and width.",
         ["op:split", "op:range", "op:reshape", "shape_arithmetic"], YoloHead, (img,), ["x"], ["boxes"],
         {"x": {0: "batch", 2: "height", 3: "width"}}, {"x": hw4}, False),
        ("gpt_kv", "GPT-style decoder block with KV cache: token and position Embedding (Range from past "
         "length), causal mask from Trilu over ones(seq, past+seq) with a symbolic diagonal, Where, "
         "Softmax, present key/value as Concat of past and new; dynamic batch, seq and past.",
         ["op:trilu", "op:range", "op:where", "kv_cache", "shape_arithmetic"], GPT, (ids, past, past),
         ["input_ids", "past_key", "past_value"], ["logits", "present_key", "present_value"],
         {"input_ids": {0: "batch", 1: "seq"}, "past_key": {0: "batch", 2: "past"},
          "past_value": {0: "batch", 2: "past"}},
         {"ids": {0: bsz, 1: seq}, "past_k": {0: bsz, 2: pastd}, "past_v": {0: bsz, 2: pastd}}, False),
        ("bert", "BERT-style encoder layer: word/position/token-type Embedding, attention mask turned into "
         "an additive bias, multi-head attention with view/permute, GELU feed-forward, LayerNorm, "
         "tanh pooler on the first token; dynamic batch and sequence.",
         ["op:gather", "op:layernorm", "attention_mask", "shape_arithmetic"], Bert,
         (ids, torch.ones_like(ids), torch.zeros_like(ids)),
         ["input_ids", "attention_mask", "token_type_ids"], ["hidden", "pooled"],
         {k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids")},
         {"ids": {0: bsz, 1: seq}, "mask": {0: bsz, 1: seq}, "types": {0: bsz, 1: seq}}, False),
        ("vit", "ViT: Conv patch embedding, flatten/transpose, class token Expand + Concat, position "
         "embedding sliced to the token count, qkv Reshape/Transpose and scaled_dot_product_attention, "
         "MLP, LayerNorm; dynamic batch, height and width (multiples of the patch size 4).",
         ["op:conv", "op:slice", "op:expand", "attention", "shape_arithmetic"], ViT, (img,), ["x"],
         ["logits"],
         {"x": {0: "batch", 2: "height", 3: "width"}}, {"img": hw4}, False),
        ("rnn", "Two-layer bidirectional LSTM followed by a GRU and a Linear; dynamic batch and sequence "
         "(the dynamo export: dynamic batch only, as it bakes the sequence length into a Reshape).",
         ["op:lstm", "op:gru", "dims:symbolic"], Recurrent, (torch.randn(2, 5, 4, generator=g),), ["x"],
         ["y", "h_lstm", "h_gru"], {"x": {0: "batch", 1: "seq"}}, {"x": {0: bsz}}, False),
        ("slicing", "torch.chunk, split with sizes, a slice to a length computed from a symbolic dim, "
         "narrow with a symbolic length, unbind, flip, strided and negative slices, cumsum; dynamic batch "
         "and sequence.",
         ["op:split", "op:slice", "shape_arithmetic"], Slicing, (torch.randn(2, 6, 12, generator=g),), ["x"],
         ["mix", "scaled", "mid", "first_half", "stacked", "corner"], {"x": {0: "batch", 1: "seq"}},
         {"x": {0: bsz, 1: dim("seq", min=3, max=32)}}, False),
        ("script_rnn", "torch.jit.script'ed Elman RNN: a Loop over the sequence length (trip count from "
         "Shape), an If on the data inside, outputs collected in a sequence and stacked "
         "(SequenceInsert / ConcatFromSequence); dynamic batch and sequence.",
         ["subgraph:loop", "subgraph:if", "type:sequence"], ScriptRNN, (torch.randn(2, 5, 4, generator=g),),
         ["x"], ["ys", "h"], {"x": {0: "batch", 1: "seq"}}, None, True),
        ("windows", "Swin/ViTDet-style window attention: GroupNorm, Pad to a multiple of the window "
         "computed from the input shape (Mod), window partition and merge by Reshape/Transpose, Einsum, "
         "crop by Slice, roll, InstanceNorm, pixel_shuffle (DepthToSpace), TopK with k from the shape, "
         "GatherElements, ArgMax + Tile, NonZero, ScatterElements, CumSum, bilinear Resize by 0.5, "
         "unfold (Im2Col); dynamic batch, rows and columns (any size >= 4).",
         ["op:pad", "op:einsum", "op:topk", "op:nonzero", "op:depthtospace", "shape_arithmetic"], Windows,
         # output names that no node output has: the dynamo exporter renames a value to the output
         # name and would define "argmax" twice (an invalid model)
         (torch.randn(2, 4, 10, 13, generator=g),), ["x"],
         ["out_top", "out_tiled", "out_nonzero", "out_scattered", "out_half", "out_patches"],
         {"x": {0: "batch", 2: "rows", 3: "cols"}},
         {"x": {0: bsz, 2: dim("rows", min=4, max=64), 3: dim("cols", min=4, max=64)}}, False),
        ]
    ]


# Also exported with the TorchScript exporter at an old opset (older op versions: Upsample, Slice and
# Squeeze/Unsqueeze/Split with attributes, Resize 11), as many published models still are.
_OLD_OPSET_EXPORTS = {"mobilenet": 9, "rnn": 9, "yolo_head": 11, "unet": 11, "bert": 11}


def _real_model_jobs(torch: Any, spec: _TorchModel, seeded: Callable[..., Any]) -> list[Any]:
    """section_torch jobs exporting ``spec`` with TorchScript (opset 17) and, when it has
    dynamic_shapes, with dynamo."""

    def module() -> Any:
        m = seeded(spec.cls)
        return torch.jit.script(m) if spec.scripted else m

    def torchscript(p: Path) -> None:
        torch.onnx.export(module(), spec.args, str(p), dynamo=False, opset_version=17,
                          input_names=spec.input_names, output_names=spec.output_names,
                          dynamic_axes=spec.dynamic_axes)

    def dynamo(p: Path) -> None:
        torch.onnx.export(module(), spec.args, str(p), dynamo=True, external_data=False,
                          input_names=spec.input_names, output_names=spec.output_names,
                          dynamic_shapes=spec.dynamic_shapes)

    base = ["dims:symbolic", "real_model", *spec.features]
    ts = f"{spec.description} TorchScript exporter, opset 17."
    jobs: list[Any] = [
        (f"{spec.stem}_torchscript.onnx", ts, ["exporter:torchscript", *base], torchscript, False, None)
    ]
    if spec.dynamic_shapes is not None:
        jobs.append((f"{spec.stem}_dynamo.onnx", spec.description + " Dynamo exporter.",
                     ["exporter:dynamo", "metadata_props:node", *base], dynamo, True, None))
    old = _OLD_OPSET_EXPORTS.get(spec.stem)
    if old is not None:

        def torchscript_old(p: Path) -> None:
            torch.onnx.export(module(), spec.args, str(p), dynamo=False, opset_version=old,
                              input_names=spec.input_names, output_names=spec.output_names,
                              dynamic_axes=spec.dynamic_axes)

        jobs.append((f"{spec.stem}_torchscript_opset{old}.onnx",
                     f"{spec.description} TorchScript exporter, opset {old}.",
                     ["exporter:torchscript", f"opset:{old}", *base], torchscript_old, False, None))
    return jobs


# ---------------------------------------------------------------------------------------------
# Section: scikit-learn via skl2onnx
# ---------------------------------------------------------------------------------------------


def section_sklearn(root: Path) -> SectionResult:
    skl2onnx = _require("skl2onnx")
    sklearn = _require("sklearn")
    from skl2onnx.common.data_types import DictionaryType, FloatTensorType, StringTensorType
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    producer = f"skl2onnx {skl2onnx.__version__} (scikit-learn {sklearn.__version__})"
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4).astype(np.float32)
    y_bin = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    y_str = np.array(["cat", "dog", "\u00e9meu"])[rng.randint(0, 3, 40)]
    opsets = {"": 17, "ai.onnx.ml": 3}
    out = []

    def save(name: str, model: onnx.ModelProto, description: str, features: list[str]) -> None:
        rel = f"sklearn/{name}"
        _save(model, root / rel)
        out.append(Fixture(rel, description, producer, ["exporter:skl2onnx", "domain:ai.onnx.ml", *features]))

    with _quiet():
        pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y_bin)
        save(
            "scaler_logreg.onnx",
            skl2onnx.to_onnx(pipe, X[:1], target_opset=opsets),
            "StandardScaler + LogisticRegression pipeline: Scaler, LinearClassifier, Cast, ZipMap with "
            "int64 keys (output seq(map(int64, float))).",
            ["type:sequence", "type:map", "op:zipmap"],
        )
        forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y_str)
        save(
            "random_forest_strings.onnx",
            skl2onnx.to_onnx(forest, X[:1], target_opset=opsets),
            "RandomForestClassifier with string class labels (one non-ASCII): TreeEnsembleClassifier with "
            "classlabels_strings, a STRING label output and ZipMap to seq(map(string, float)).",
            ["type:sequence", "type:map", "dtype:string", "op:tree_ensemble", "op:zipmap"],
        )
        dicts = [{"a": float(r[0]), "b": float(r[1]), "c": float(r[2])} for r in X]
        dv = make_pipeline(DictVectorizer(sparse=False), DecisionTreeRegressor(max_depth=3, random_state=0))
        dv.fit(dicts, X[:, 3])
        model = skl2onnx.convert_sklearn(
            dv,
            initial_types=[("input", DictionaryType(StringTensorType([]), FloatTensorType([])))],
            target_opset=opsets,
            name="dictvectorizer_tree",  # the default is a random uuid4
        )
        save(
            "dictvectorizer_tree.onnx",
            model,
            "DictVectorizer + DecisionTreeRegressor: a map(string, float) graph input and "
            "TreeEnsembleRegressor. skl2onnx lists the default-domain opset import twice.",
            ["type:map", "op:tree_ensemble", "opset:duplicate_import"],
        )
    return SectionResult(out, {"skl2onnx": skl2onnx.__version__, "scikit-learn": sklearn.__version__})


# ---------------------------------------------------------------------------------------------
# Section: onnxscript
# ---------------------------------------------------------------------------------------------


def section_onnxscript(root: Path) -> SectionResult:
    onnxscript = _require("onnxscript")
    from onnxscript import FLOAT, script, values
    from onnxscript import opset18 as op

    local = values.Opset("this.local", 1)

    @script(local, default_opset=op)
    def gelu_tanh(X, alpha: float = 0.5):  # type: ignore[no-untyped-def]  # onnxscript reads annotations
        return X * alpha * (op.Tanh(X * 0.79788456) + 1.0)

    @script(default_opset=op)
    def main(X):  # type: ignore[no-untyped-def]
        return gelu_tanh(op.Relu(X), alpha=0.25)

    rel = "onnxscript/local_function.onnx"
    # Types are passed here rather than as annotations: onnxscript evaluates annotations in the
    # module's globals, where the locally imported FLOAT is not visible.
    float_type: Any = FLOAT  # a value here, not a type annotation
    io_type = float_type["N", 4]
    with _quiet():
        model = main.to_model_proto(input_types=[io_type], output_types=[io_type])
    _save(model, root / rel)
    return SectionResult(
        [
            Fixture(
                rel,
                "onnxscript @script model calling a model-local function with a defaulted FLOAT "
                "attribute (attribute_proto) in domain this.local.",
                f"onnxscript {onnxscript.__version__}",
                ["exporter:onnxscript", "function", "function:attribute_default", "dims:symbolic"],
            )
        ],
        {"onnxscript": onnxscript.__version__},
    )


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------

def _section_module(module: str) -> Callable[[Path], SectionResult]:
    """A section generated by tools/<module>.py's ``build(root)``, imported when the section runs
    (its exporters are heavy, and a missing one skips only that section)."""
    def section(root: Path) -> SectionResult:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        return importlib.import_module(module).build(root)  # type: ignore[no-any-return]

    return section


SECTIONS: dict[str, Callable[[Path], SectionResult]] = {
    "dtypes": section_dtypes,
    "structure": section_structure,
    "nesting": section_nesting,
    "external": section_external,
    "wire": section_wire,
    "hostile": section_hostile,
    "torch": section_torch,
    "sklearn": section_sklearn,
    "onnxscript": section_onnxscript,
    # onnxruntime's model tools (quantization, transformer fusions, 4-bit MatMul) on small exports
    "ortools": _section_module("fixtures_ortools"),
    # Hugging Face architectures, tiny and randomly initialized (nothing downloaded)
    "hf": _section_module("fixtures_hf"),
    # Keras / TensorFlow through tf2onnx, exported in its own Python environment
    "tf": _section_module("fixtures_tf"),
    # LightGBM / XGBoost via onnxmltools, CatBoost's own exporter
    "mltools": _section_module("fixtures_mltools"),
}

MANIFEST_NOTES = {
    "file": "model path relative to this folder; load external data relative to its folder",
    "section": "generator section (also the top folder); a skipped section keeps its old files",
    "producer": "tool that wrote the file, with its version",
    "features": "short tags of what the file exercises",
    "data_files": "external data files of the model, with sha256 and size",
    "onnx_load": "'ok', or the error onnx.load(file) (with external data) raised",
    "onnx_checker": "onnx.checker.check_model(path, full_check=False) accepted it; null: unparseable",
    "onnx_checker_error": "the checker's complaint, when onnx_checker is false",
    "canonical": "onnx.load(file, load_external_data=False).SerializeToString() == the file's bytes",
    "onnx_resave_sha256": "sha256 of that re-serialization (protobuf-version dependent)",
    "equivalent_to": "onnx.load() of this file equals (ignoring unknown fields) onnx.load() of that one",
    "expect": "what a conforming reader must make of the file, where that is not simply 'what onnx sees'",
    "hostile": "malformed or malicious on purpose: reject cleanly or handle gracefully, never crash",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version_of(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "unknown"


def _short_error(exc: BaseException, root: Path) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text.replace(str(root.resolve()) + "/", "").replace(str(root) + "/", "")
    return f"{type(exc).__name__}: {text[:240]}"


def inspect_fixture(fx: Fixture, root: Path, section: str) -> dict[str, Any]:
    """Everything the manifest says about one fixture, as onnx sees it."""
    path = root / fx.file
    data = path.read_bytes()
    entry: dict[str, Any] = {
        "file": fx.file,
        "section": section,
        "description": fx.description,
        "producer": fx.producer,
        "features": sorted(set(fx.features)),
        "sha256": _sha256(data),
        "size": len(data),
    }
    if fx.data_files:
        entry["data_files"] = [
            {"file": f, "sha256": _sha256((root / f).read_bytes()), "size": (root / f).stat().st_size}
            for f in fx.data_files
        ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _load(path)
        entry["onnx_load"] = "ok"
    except Exception as exc:  # recorded: hostile files are meant to fail
        entry["onnx_load"] = "error: " + _short_error(exc, root)
        if not fx.hostile:
            raise RuntimeError(f"{fx.file} does not load with onnx: {exc}") from exc
    try:
        structure = _load(path, external=False)
    except Exception:
        entry["onnx_checker"] = None
        entry["canonical"] = None
    else:
        resaved = structure.SerializeToString()
        try:
            onnx.checker.check_model(str(path), full_check=False)
            entry["onnx_checker"] = True
        except Exception as exc:
            entry["onnx_checker"] = False
            entry["onnx_checker_error"] = _short_error(exc, root)
        entry["canonical"] = resaved == data
        entry["onnx_resave_sha256"] = _sha256(resaved)
    for key in ("expect", "equivalent_to"):
        if getattr(fx, key) is not None:
            entry[key] = getattr(fx, key)
    if fx.hostile:
        entry["hostile"] = True
    return entry


def _base_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "onnx": onnx.__version__,
        "protobuf": _version_of("protobuf"),
        "numpy": np.__version__,
        "ml_dtypes": _version_of("ml_dtypes"),
    }


def _load_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        print(f"warning: ignoring unreadable {path}", file=sys.stderr)
        return {}


def _readme() -> str:
    return """# ONNX test fixtures

Generated by `tools/make_fixtures.py`; do not edit by hand. Regenerate with
`python tools/make_fixtures.py` (sections whose exporter is missing are kept as they are).

`MANIFEST.json` lists every model with what it is, its producer, the features it exercises,
its sha256 and what the `onnx` package makes of it (load, checker, canonical encoding);
`notes` in the manifest explains each field. Files under `hostile/` are malformed on purpose.

Sections (`python tools/make_fixtures.py --only NAME`), one folder each, and what generates them:

- dtypes, structure, nesting, external, wire (onnx): every data type; graph structures
  (functions, sparse tensors, quirks); nested subgraphs; external data layouts; protobuf
  wire-format corner cases.
- hostile (onnx and raw bytes): malformed or malicious files: reject cleanly, never crash.
- torch (torch 2.13): TorchScript exports, some also at opsets 9 and 11, and dynamo exports:
  CNNs, RNNs, attention, ViT, YOLO head, UNet, loops and conditionals.
- sklearn, onnxscript (skl2onnx, onnxscript): pipelines; functions.
- ortools (onnxruntime, tools/fixtures_ortools.py): its quantizers, transformer optimizer,
  4-bit MatMul and saved session optimizations applied to small exports.
- hf (transformers and torch, tools/fixtures_hf.py): tiny randomly initialized Hugging Face
  architectures (decoders with KV caches, encoders, encoder-decoders, vision, audio).
- tf (tensorflow and tf2onnx in a separate environment, tools/fixtures_tf.py): Keras models and
  tf.functions.
- mltools (onnxmltools, lightgbm, xgboost, catboost; tools/fixtures_mltools.py): LightGBM and
  XGBoost through onnxmltools, CatBoost's own exporter.

The generators' packages are needed only to regenerate; tests read the files. The real-export
sections (tests/infer_real_scoring.py's REAL_SECTIONS) are scored against onnxruntime by
tests/test_infer_real.py.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="fixture folder (default: tests/fixtures)"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="regenerate only these sections")
    args = parser.parse_args(argv)
    root: Path = args.out
    root.mkdir(parents=True, exist_ok=True)

    previous = _load_manifest(root)
    old_entries: dict[str, list[dict[str, Any]]] = {}
    for entry in previous.get("fixtures", []):
        old_entries.setdefault(entry.get("section", ""), []).append(entry)
    old_sections = previous.get("sections", {})

    # Everything is built and checked in a staging folder; the real folder changes only once every
    # section has succeeded, so a crash never leaves a half-updated corpus behind.
    staging = root / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    entries: list[dict[str, Any]] = []
    sections: dict[str, Any] = {}
    generated: list[str] = []
    try:
        for name, build in SECTIONS.items():
            kept = old_entries.get(name, [])
            if args.only and name not in args.only:
                print(f"[{name}] not selected: keeping {len(kept)} previous fixture(s)")
                entries += kept
                if name in old_sections:
                    sections[name] = old_sections[name]
                continue
            try:
                result = build(staging)
            except SectionUnavailable as exc:
                print(f"[{name}] skipped: {exc}; keeping {len(kept)} previous fixture(s)")
                entries += kept
                if name in old_sections:
                    sections[name] = {**old_sections[name], "status": f"kept (skipped on last run: {exc})"}
                continue
            (staging / name).mkdir(exist_ok=True)
            entries += [inspect_fixture(fx, staging, name) for fx in result.fixtures]
            sections[name] = {"status": "generated", "versions": {**_base_versions(), **result.versions}}
            generated.append(name)
            print(f"[{name}] {len(result.fixtures)} fixture(s)")
        for name in generated:
            shutil.rmtree(root / name, ignore_errors=True)
            (staging / name).rename(root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    entries.sort(key=lambda e: e["file"])
    manifest = {
        "format": MANIFEST_FORMAT,
        "generator": "tools/make_fixtures.py",
        "notes": MANIFEST_NOTES,
        "sections": dict(sorted(sections.items())),
        "fixtures": entries,
    }
    (root / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (root / "README.md").write_text(_readme(), encoding="utf-8")

    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    non_canonical = [e["file"] for e in entries if e.get("canonical") is False]
    print(f"{len(entries)} fixtures, {total / 1024:.1f} KiB in {root}")
    print(f"non-canonical: {', '.join(non_canonical) or 'none'}")
    return 0


def _pin_hash_seed() -> None:
    """skl2onnx and the TorchScript exporter iterate over sets of strings, whose order follows the
    per-process hash seed (it decides e.g. opset_import order): re-run under a fixed seed."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})


if __name__ == "__main__":
    _pin_hash_seed()
    sys.exit(main())
