"""A minimal protobuf wire-format walker for the lazy, zero-copy path.

protobuf's Python runtime copies every ``bytes`` field it parses. For a model with a gigabyte of
embedded weights that is a gigabyte of RAM spent before the user asked for a single value. So
before protobuf sees the file, `strip_payloads` walks the wire format along the only paths that can
hold tensors (model -> graph -> node -> attribute -> tensor, functions, training info, sparse
tensors) and replaces each large ``TensorProto.raw_data`` payload by a short *marker* that records
where the payload sits in the source buffer. After an edit, `splice_payloads` does the reverse on
serialized bytes: it finds the markers, fixes every enclosing length prefix, and yields the
original payload regions so that saving can stream them straight from the source.

Markers are ``MAGIC + token + offset + length``. The token is random per source, so a file cannot
forge a marker that points at memory of another model; `onnxlite.io` keeps the token registry.

When a buffer is malformed, `locate_error` walks it again with the full schema and names the
first bad place as a path into the model (``graph.node[12].attribute[0]: truncated field``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, NamedTuple

from onnxlite import _proto
from onnxlite.errors import ModelFormatError

MAGIC = b"\x00\xffonnxlite-lazy\x00"
MARKER_LEN = len(MAGIC) + 24
_MARKER = struct.Struct("<8sQQ")

#: Payloads at least this long are left in the source buffer instead of being parsed.
LAZY_MIN = 2048

# Protobuf refuses messages nested deeper than 100; we stop at the same depth so our walkers can
# never recurse without bound.
MAX_DEPTH = 100

Buffer = bytes | bytearray | memoryview


class WireError(Exception):
    """Raised by the walkers on malformed bytes; io turns it into a ModelFormatError with a path."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Region(NamedTuple):
    """A payload that stays in its source: ``token`` names the source, then a byte range in it."""

    token: bytes
    offset: int
    length: int


# --- varints ----------------------------------------------------------------------------------

def read_varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """Decode a varint at ``buf[pos:end]``; return (value, new position)."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint", pos)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes", pos)


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def skip_field(buf: Buffer, wire_type: int, pos: int, end: int, depth: int = 0) -> int:
    """Return the position after the value of a field of ``wire_type`` starting at ``pos``."""
    if wire_type == 0:
        return read_varint(buf, pos, end)[1]
    if wire_type == 2:
        length, pos = read_varint(buf, pos, end)
        if length > end - pos:
            raise WireError(f"length-delimited field of {length} bytes runs past the end", pos)
        return pos + length
    if wire_type == 1:
        if pos + 8 > end:
            raise WireError("truncated fixed64 field", pos)
        return pos + 8
    if wire_type == 5:
        if pos + 4 > end:
            raise WireError("truncated fixed32 field", pos)
        return pos + 4
    if wire_type == 3:  # a group: skip fields until the matching end-group tag
        if depth >= MAX_DEPTH:
            raise WireError("groups nested too deeply", pos)
        while True:
            tag, pos = read_varint(buf, pos, end)
            if tag & 7 == 4:
                return pos
            pos = skip_field(buf, tag & 7, pos, end, depth + 1)
    raise WireError(f"invalid wire type {wire_type}", pos)


# --- the schema paths that can hold tensors ---------------------------------------------------

def _tensor_paths() -> dict[str, dict[int, str]]:
    """For each message type that can (transitively) contain a TensorProto, the message-typed
    fields leading there: {message name: {field number: child message name}}. Derived from the
    descriptors so a new schema that adds such a path is followed without code changes."""
    messages = {d.full_name: d for d in _all_messages()}
    reaches: dict[str, bool] = {"onnx.TensorProto": True}

    def can_reach(name: str, seen: frozenset[str]) -> bool:
        if name in reaches:
            return reaches[name]
        if name in seen:
            return False
        result = any(
            can_reach(f.message_type.full_name, seen | {name})
            for f in messages[name].fields
            if f.message_type is not None
        )
        if not seen:
            reaches[name] = result
        return result

    paths: dict[str, dict[int, str]] = {}
    for name, desc in messages.items():
        children = {
            f.number: f.message_type.full_name
            for f in desc.fields
            if f.message_type is not None and can_reach(f.message_type.full_name, frozenset())
        }
        if children:
            paths[name] = children
    return paths


def _all_messages() -> Iterator[Any]:
    stack = list(_proto.FILE.message_types_by_name.values())
    while stack:
        desc = stack.pop()
        yield desc
        stack.extend(desc.nested_types)


TENSOR_PATHS = _tensor_paths()
_RAW_DATA = _proto.TensorProto.DESCRIPTOR.fields_by_name["raw_data"].number
_TENSOR = "onnx.TensorProto"
_MODEL = "onnx.ModelProto"


# --- load: strip large payloads ---------------------------------------------------------------

def make_marker(token: bytes, offset: int, length: int) -> bytes:
    return MAGIC + _MARKER.pack(token, offset, length)


def parse_marker(raw: bytes) -> Region | None:
    """Return the Region a marker stands for, or None if ``raw`` is not shaped like a marker."""
    if len(raw) != MARKER_LEN or not raw.startswith(MAGIC):
        return None
    token, offset, length = _MARKER.unpack_from(raw, len(MAGIC))
    return Region(token, offset, length)


class Filler:
    """Makes bytes of the buffer being scanned available in increasing order. This default one
    is for a buffer already in memory; `onnxlite.io` has one that reads a file with pread into
    an anonymous mapping, so the payloads it skips are never read (nor counted in RSS)."""

    def __init__(self, size: int) -> None:
        self.loaded = size  # bytes [0, loaded) are available

    def fill(self, upto: int) -> None:
        """Make bytes up to ``upto`` available."""

    def skip(self, start: int, end: int) -> None:
        """Bytes [start, end) will never be read: a payload left in place."""


def strip_payloads(
    buf: Buffer, token: bytes, min_size: int = LAZY_MIN, filler: Filler | None = None
) -> tuple[list[Buffer], int]:
    """Replace every ``raw_data`` of at least ``min_size`` bytes reachable from a ModelProto in
    ``buf`` by a marker. Return (chunks whose concatenation is the stripped model, payload count).
    When nothing is stripped the single chunk is ``buf`` itself."""
    view = memoryview(buf)
    if filler is None:
        filler = Filler(len(view))
    result = _strip(view, 0, len(view), _MODEL, token, min_size, 0, filler)
    filler.fill(len(view))
    if result is None:
        return [view], 0
    chunks, _length, count = result
    return chunks, count


def _strip(
    buf: memoryview, start: int, end: int, msg: str, token: bytes, min_size: int, depth: int,
    filler: Filler,
) -> tuple[list[Buffer], int, int] | None:
    """Strip one message's content. Returns None when nothing inside changed, else
    (chunks, new content length, number of markers)."""
    if depth > MAX_DEPTH:
        raise WireError(f"messages nested deeper than {MAX_DEPTH} levels", start)
    children = TENSOR_PATHS.get(msg)
    is_tensor = msg == _TENSOR
    chunks: list[Buffer] = []
    copied = start  # buf[copied:field_start] is still to be emitted unchanged
    new_len = 0
    count = 0
    pos = start
    while pos < end:
        if pos + 32 > filler.loaded:  # a tag, a length and a small scalar fit in 32 bytes
            filler.fill(min(pos + 32, end))
        field_start = pos
        tag = buf[pos]
        if tag < 0x80:
            pos += 1
        else:
            tag, pos = read_varint(buf, pos, end)
        wire_type = tag & 7
        if wire_type != 2:
            if wire_type == 3:  # a group can be any length: have it all before walking it
                filler.fill(end)
            pos = skip_field(buf, wire_type, pos, end)
            continue
        tag_end = pos
        if pos >= end:
            raise WireError("truncated field: no length after the tag", pos)
        length = buf[pos]
        if length < 0x80:
            pos += 1
        else:
            length, pos = read_varint(buf, pos, end)
        if length > end - pos:
            raise WireError(f"length-delimited field of {length} bytes runs past the end", pos)
        body = pos
        pos += length
        if length < min_size:
            continue
        field = tag >> 3
        replacement: list[Buffer] | None = None
        if is_tensor and field == _RAW_DATA:
            marker = make_marker(token, body, length)
            replacement = [buf[field_start:tag_end], encode_varint(len(marker)), marker]
            count += 1
            filler.skip(body, pos)
        elif children is not None and field in children:
            inner = _strip(buf, body, pos, children[field], token, min_size, depth + 1, filler)
            if inner is not None:
                sub_chunks, sub_len, sub_count = inner
                replacement = [buf[field_start:tag_end], encode_varint(sub_len)]
                replacement.extend(sub_chunks)
                count += sub_count
        if replacement is not None:
            if copied < field_start:
                chunks.append(buf[copied:field_start])
                new_len += field_start - copied
            chunks.extend(replacement)
            new_len += sum(len(c) for c in replacement)
            copied = pos
    if pos != end:
        raise WireError("field runs past the end of its message", end)
    if count == 0:
        return None
    if copied < end:
        chunks.append(buf[copied:end])
        new_len += end - copied
    return chunks, new_len, count



# --- save: put payloads back ------------------------------------------------------------------

Piece = bytes | memoryview | Region


def splice_payloads(buf: bytes, known: set[bytes]) -> tuple[list[Piece], int]:
    """Expand the markers in serialized model bytes ``buf``. ``known`` holds the tokens of live
    sources; a raw_data shaped like a marker with an unknown token is ordinary data. Returns the
    pieces to write (bytes, or Regions to copy from their source) and the total output size."""
    if MAGIC not in buf:
        return [buf], len(buf)
    view = memoryview(buf)
    result = _splice(view, 0, len(view), _MODEL, known, 0)
    if result is None:
        return [buf], len(buf)
    return result


def _splice(
    buf: memoryview, start: int, end: int, msg: str, known: set[bytes], depth: int
) -> tuple[list[Piece], int] | None:
    if depth > MAX_DEPTH:
        raise WireError(f"messages nested deeper than {MAX_DEPTH} levels", start)
    children = TENSOR_PATHS.get(msg)
    is_tensor = msg == _TENSOR
    raw: bytes = buf.obj  # type: ignore[assignment]  # the bytes object, for a fast substring search
    pieces: list[Piece] = []
    copied = start
    total = 0
    changed = False
    pos = start
    while pos < end:
        field_start = pos
        tag, pos = read_varint(buf, pos, end)
        wire_type = tag & 7
        if wire_type != 2:
            pos = skip_field(buf, wire_type, pos, end)
            continue
        tag_end = pos
        length, pos = read_varint(buf, pos, end)
        body = pos
        pos += length
        if length < MARKER_LEN or raw.find(MAGIC, body, pos) < 0:
            continue
        field = tag >> 3
        replacement: list[Piece] | None = None
        size = 0
        if is_tensor and field == _RAW_DATA:
            region = parse_marker(bytes(buf[body:pos]))
            if region is not None and region.token in known:
                header = bytes(buf[field_start:tag_end]) + encode_varint(region.length)
                replacement = [header, region]
                size = len(header) + region.length
        elif children is not None and field in children:
            inner = _splice(buf, body, pos, children[field], known, depth + 1)
            if inner is not None:
                sub_pieces, sub_len = inner
                header = bytes(buf[field_start:tag_end]) + encode_varint(sub_len)
                replacement = [header, *sub_pieces]
                size = len(header) + sub_len
        if replacement is not None:
            changed = True
            if copied < field_start:
                pieces.append(buf[copied:field_start])
                total += field_start - copied
            pieces.extend(replacement)
            total += size
            copied = pos
    if not changed:
        return None
    if copied < end:
        pieces.append(buf[copied:end])
        total += end - copied
    return pieces, total


# --- errors: name the place -------------------------------------------------------------------

_SCALAR_WIRE = {
    "double": 1, "fixed64": 1, "sfixed64": 1, "float": 5, "fixed32": 5, "sfixed32": 5,
}


def locate_error(buf: Buffer) -> str | None:
    """Walk ``buf`` as a ModelProto with the full schema; return 'path: problem' for the first
    malformed place, or None if the wire format is sound."""
    view = memoryview(buf)
    try:
        _check(view, 0, len(view), _proto.ModelProto.DESCRIPTOR, "model", 0)
    except _Located as e:
        path, _, problem = str(e).partition(": ")
        return f"{shorten_path(path)}: {problem}"
    return None


def shorten_path(path: str, keep: int = 4) -> str:
    """A model path with its middle elided when deeply nested, so an error stays readable:
    ``model.graph.node[0].attribute[0] ...(92 more)... .g.node[0]``."""
    parts = path.split(".")
    if len(parts) <= 2 * keep + 1:
        return path
    hidden = len(parts) - 2 * keep
    return ".".join(parts[:keep]) + f" ...({hidden} more)... ." + ".".join(parts[-keep:])


class _Located(Exception):
    pass


def _check(buf: memoryview, start: int, end: int, desc: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Located(f"{path}: messages nested deeper than {MAX_DEPTH} levels")
    counts: dict[int, int] = {}
    pos = start
    while pos < end:
        try:
            tag, pos = read_varint(buf, pos, end)
            field_no, wire_type = tag >> 3, tag & 7
            if field_no == 0:
                raise WireError("field number 0", pos)
            field = desc.fields_by_number.get(field_no)
            body = pos
            if wire_type == 2:
                length, body = read_varint(buf, pos, end)
                if length > end - body:
                    raise WireError(
                        f"field of {length} bytes runs past the end of its message "
                        f"({end - body} bytes left)", body)
            pos = skip_field(buf, wire_type, pos, end)
        except WireError as e:
            name = desc.fields_by_number.get(tag >> 3) if "tag" in locals() else None
            where = f"{path}.{name.name}" if name is not None else path
            raise _Located(f"{where}: {e} (byte {e.offset})") from None
        if field is None:
            continue
        index = counts.get(field_no, 0)
        counts[field_no] = index + 1
        here = f"{path}.{field.name}[{index}]" if _proto.is_repeated(field) else f"{path}.{field.name}"
        if field.message_type is not None and wire_type == 2:
            _check(buf, body, pos, field.message_type, here, depth + 1)
        elif field.message_type is None and wire_type == 2 and field.type not in (9, 12):
            _check_packed(buf, body, pos, field, here)


def _check_packed(buf: memoryview, start: int, end: int, field: Any, path: str) -> None:
    width = {1: 8, 6: 8, 16: 8, 2: 4, 7: 4, 15: 4}.get(field.type)
    if width is not None:
        if (end - start) % width:
            raise _Located(f"{path}: packed field of {end - start} bytes is not a multiple of {width}")
        return
    pos = start
    try:
        while pos < end:
            _, pos = read_varint(buf, pos, end)
    except WireError as e:
        raise _Located(f"{path}: {e} (byte {e.offset})") from None


_FLOAT_DATA_TAG = (4 << 3) | 2  # TensorProto.float_data (field 4), packed


def float_data_bytes(tensor_proto: Any) -> bytes:
    """The little-endian float32 payload of a TensorProto's ``float_data``, bit for bit.

    Reading ``float_data`` through the protobuf API goes float32 -> Python float (double) and
    quiets signalling NaNs (0x7f800001 becomes 0x7fc00001). Serialising a copy that holds only
    float_data hands back the stored bits untouched.
    """
    only = type(tensor_proto)()
    only.CopyFrom(tensor_proto)
    for field, _ in only.ListFields():
        if field.name != "float_data":
            only.ClearField(field.name)
    only.DiscardUnknownFields()
    data = only.SerializeToString()
    parts, pos = [], 0
    while pos < len(data):
        tag, pos = read_varint(data, pos, len(data))
        size, pos = read_varint(data, pos, len(data))
        if tag != _FLOAT_DATA_TAG:
            raise ModelFormatError(f"unexpected protobuf tag {tag} while reading float_data")
        parts.append(data[pos:pos + size])
        pos += size
    return b"".join(parts)

