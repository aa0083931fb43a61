"""Values in the ONNX textual syntax: strings, names, numbers, tensor literals, statistics.

The lexical half of `onnxlite.text` (which documents the conventions): everything here turns
one value into text; the printer there lays values out into a model.
"""

from __future__ import annotations

import fnmatch
import math
import re
import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from onnxlite.dtypes import DataType, raw_nbytes
from onnxlite.errors import OnnxliteError
from onnxlite.model import Tensor
from onnxlite.text import _floats
from onnxlite.text._floats import FORMATS, FloatFormat, float32_text, float64_text, shortest_code_text

if TYPE_CHECKING:
    import numpy as np

# numpy is imported inside the functions that format tensor values: a dump of a graph whose
# tensors are all small or absent should not pay its import time (a third of a big dump's).

#: Tensors with at most this many elements always print in full.
SMALL_TENSOR = 16
#: String tensors with more bytes than this are summarized like large tensors.
SMALL_STRING_BYTES = 1024
#: Characters of a doc string or metadata value shown in a comment by the default dump.
COMMENT_CHARS = 80
#: Bytes of each string shown in a summarized string tensor's preview.
_PREVIEW_STRING_BYTES = 64
#: Elements decoded at a time when computing statistics, to bound memory on huge tensors.
_STATS_CHUNK = 1 << 20


_RESERVED = frozenset(
    [dt.short_name for dt in DataType if dt != DataType.UNDEFINED]
    + ["seq", "map", "optional", "sparse_tensor", "opaque"]
)
_FLOAT_TABLE_TYPES = frozenset([
    DataType.FLOAT16, DataType.BFLOAT16, DataType.FLOAT8E4M3FN, DataType.FLOAT8E4M3FNUZ,
    DataType.FLOAT8E5M2, DataType.FLOAT8E5M2FNUZ, DataType.FLOAT8E8M0, DataType.FLOAT4E2M1,
    DataType.FLOAT6E2M3, DataType.FLOAT6E3M2,
])
_SUBBYTE_INTS = frozenset([DataType.INT4, DataType.UINT4, DataType.INT2, DataType.UINT2])

Text = str | bytes  # protobuf hands out bytes for a string field that is not UTF-8


# --- options and the driver ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    full: bool
    preview: int
    stats: bool
    op_types: frozenset[str] | None
    name_match: Callable[[str], Any] | None
    max_depth: int | None
    header_only: bool
    jobs: int = 1
    strict: bool = False  # raise instead of printing ``{...}  # error`` for a tensor

    @classmethod
    def make(cls, full: bool, preview: int, stats: bool, op_types: Collection[str] | None,
             name_pattern: str | None, max_depth: int | None, header_only: bool, jobs: int = 1,
             strict: bool = False) -> _Options:
        if preview < 0:
            raise ValueError(f"preview must be >= 0, not {preview}")
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be >= 0, not {max_depth}")
        match = re.compile(fnmatch.translate(name_pattern)).match if name_pattern is not None else None
        ops = None if op_types is None else frozenset([op_types] if isinstance(op_types, str) else op_types)
        return cls(full, preview, stats, ops, match, max_depth, header_only, max(1, jobs), strict)

    @property
    def filtering(self) -> bool:
        return self.op_types is not None or self.name_match is not None

    @property
    def comment_limit(self) -> int | None:
        """Longest doc string / metadata value shown whole in a comment (None: no limit).
        Exporters put stack traces there (every node of a PyTorch export has a few KB); the
        default dump clips them, --full shows them."""
        return None if self.full else COMMENT_CHARS


# --- strings, names, numbers --------------------------------------------------------------------

_COMMENT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_LITERAL_ESCAPES = {"\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _quote(value: Text, comment: bool = False) -> str:
    """A double-quoted string literal (escapes in the module docstring). In a comment, newline
    and tab are escaped too, so the comment stays on one line."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "surrogateescape")
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    escapes = _COMMENT_ESCAPES if comment else _LITERAL_ESCAPES
    parts = ['"']
    for ch in value:
        esc = escapes.get(ch)
        if esc is not None:
            parts.append(esc)
        elif ch.isprintable() or ch in "\n\t":
            parts.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
            parts.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ord(ch) <= 0xFFFF:
            parts.append(f"\\u{ord(ch):04x}")
        else:
            parts.append(f"\\U{ord(ch):08x}")
    parts.append('"')
    return "".join(parts)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _name(name: Text, _match: Any = _IDENTIFIER.fullmatch, _reserved: frozenset[str] = _RESERVED) -> str:
    """A name as printed: bare when it is an identifier of the syntax and not a type keyword,
    quoted otherwise. Runs for every distinct name of a graph, hence the inlined fast path."""
    if isinstance(name, str):
        if _match(name) and name not in _reserved:
            return name
        if '"' not in name and "\\" not in name and name.isprintable():
            return '"' + name + '"'
    return _quote(name)


def _dotted(name: Text) -> str:
    """A dotted identifier chain (a domain) bare, anything else quoted."""
    if isinstance(name, str) and all(_IDENTIFIER.fullmatch(part) for part in name.split(".")):
        return name
    return _quote(name)


def _qualified(domain: Text, op_type: Text, overload: Text) -> str:
    """``domain.Op:overload`` as the parser reads it."""
    text = f"{_dotted(domain)}.{_name(op_type)}" if domain else _name(op_type)
    return f"{text}:{_name(overload)}" if overload else text


def _as_text(name: Text) -> str:
    return name if isinstance(name, str) else name.decode("utf-8", "surrogateescape")


def _float_format(dt: DataType) -> FloatFormat:
    return FORMATS[dt.short_name]


def _code_texts(codes: list[int], dt: DataType) -> tuple[list[str], int]:
    """Literals of bit patterns of a small float type, and how many (NaN payloads) do not read
    back to the same bits (those print ``nan``/``-nan`` by their sign)."""
    fmt = _float_format(dt)
    mask = (1 << fmt.bits) - 1
    texts = [shortest_code_text(fmt, c & mask) for c in codes]
    lossy = 0
    if "" in texts:
        for i, t in enumerate(texts):
            if not t:
                texts[i] = "-nan" if codes[i] & fmt.sign_bit else "nan"
                lossy += 1
    return texts, lossy


def _format_values(flat: np.ndarray, dt: DataType) -> tuple[list[str], int]:
    """Texts of a flat array's values in the literal form of ``dt``, and how many of them
    (NaN payloads) do not parse back to the same bits."""
    import numpy as np

    lossy = 0
    if dt == DataType.FLOAT or dt == DataType.COMPLEX64:
        floats = flat.view(np.float32)
        texts = _floats.float32_texts(floats)
        lossy = _nan_payloads(floats.view(np.uint32), 0x7FC00000, 32)
    elif dt == DataType.DOUBLE or dt == DataType.COMPLEX128:
        floats = flat.view(np.float64)
        texts = [float64_text(v) for v in floats.tolist()]
        lossy = _nan_payloads(floats.view(np.uint64), 0x7FF8000000000000, 64)
    elif dt in _FLOAT_TABLE_TYPES:
        codes = flat.view(np.uint16 if dt.bitwidth == 16 else np.uint8)
        texts, lossy = _code_texts(codes.tolist(), dt)
    elif dt in _SUBBYTE_INTS:
        texts = [str(v) for v in flat.astype(np.int8).tolist()]
    elif dt == DataType.BOOL:
        texts = [str(v) for v in flat.view(np.uint8).tolist()]
    elif dt == DataType.STRING:
        texts = [_quote(v) for v in flat.tolist()]
    else:
        texts = [str(v) for v in flat.tolist()]
    return texts, lossy


def _nan_payloads(bits: np.ndarray, quiet: int, width: int) -> int:
    """How many NaNs differ from the default quiet NaN (sign aside): their payload is lost."""
    import numpy as np

    magnitude = bits & ~np.array(1 << (width - 1), dtype=bits.dtype)
    exp_mask = 0x7F800000 if width == 32 else 0x7FF0000000000000
    is_nan = ((magnitude & exp_mask) == exp_mask) & (magnitude != exp_mask)
    return int(np.count_nonzero(is_nan & (magnitude != quiet)))


def _float32(value: float) -> str:
    """Shortest float32 decimal of a float attribute (stored as float32 in the file)."""
    return float32_text(value)


# --- tensors ------------------------------------------------------------------------------------


def _dtype_name(data_type: int) -> str:
    try:
        return DataType(data_type).short_name
    except ValueError:
        return f"undefined{data_type}"


def _tensor_type(proto: Any) -> str:
    name = _dtype_name(proto.data_type)
    return f"{name}[{','.join(map(str, proto.dims))}]" if len(proto.dims) else name


def _where_data(tensor: Tensor) -> str:
    """Where the tensor's bytes live, for the summary comment."""
    location = tensor.location
    if location == "external":
        info = tensor.external_data
        parts = [f"external {_quote(info.get('location', ''), comment=True)}"]
        parts += [f"{key} {_quote(value, comment=True) if key == 'checksum' else value}"
                  for key, value in info.items() if key != "location"]
        return ", ".join(parts)
    if location == "file":
        region = tensor.file_region
        return "raw_data in the model file" + (f" at offset {region[0]}" if region else "")
    if location == "raw":
        return "raw_data inline"
    return f"{tensor.dtype.typed_field} inline"


# Types whose literals are formatted from their stored bits with struct, not numpy: a dump of a
# graph with only small tensors then never imports numpy (100 ms), and a preview of a bfloat16,
# float8 or int4 tensor never imports ml_dtypes (most of a second).
_STRUCT_CODES = {
    DataType.FLOAT: "f", DataType.DOUBLE: "d", DataType.INT8: "b", DataType.UINT8: "B",
    DataType.INT16: "h", DataType.UINT16: "H", DataType.INT32: "i", DataType.UINT32: "I",
    DataType.INT64: "q", DataType.UINT64: "Q", DataType.BOOL: "B",
    DataType.FLOAT16: "H", DataType.BFLOAT16: "H", DataType.FLOAT8E4M3FN: "B", DataType.FLOAT8E4M3FNUZ: "B",
    DataType.FLOAT8E5M2: "B", DataType.FLOAT8E5M2FNUZ: "B", DataType.FLOAT8E8M0: "B",
}
_PLAIN_TYPED = frozenset([DataType.FLOAT, DataType.DOUBLE, DataType.INT32, DataType.INT64, DataType.UINT64])
#: int32_data holds the bit pattern of these types' elements (packed bytes for 4/2-bit types)
_BIT_TYPED = _FLOAT_TABLE_TYPES | _SUBBYTE_INTS | {DataType.BOOL, DataType.INT8, DataType.UINT8,
                                                  DataType.INT16, DataType.UINT16}


def _packed_codes(data: bytes | list[int], bits: int, count: int) -> list[int]:
    """The first ``count`` codes of a packed stream of 2-, 4- or 6-bit codes (little-endian:
    the first code in the lowest bits)."""
    if bits == 6:
        codes: list[int] = []
        for i in range(0, len(data), 3):
            word = int.from_bytes(bytes(data[i:i + 3]), "little")
            codes += [(word >> s) & 0x3F for s in (0, 6, 12, 18)]
        return codes[:count]
    per = 8 // bits
    mask = (1 << bits) - 1
    return [(b >> (bits * k)) & mask for b in data for k in range(per)][:count]


def _code_values(codes: list[int], dt: DataType) -> tuple[list[str], int]:
    """Literals of element bit patterns of a type read from its bits (no numpy)."""
    if dt in _FLOAT_TABLE_TYPES:
        return _code_texts(codes, dt)
    if dt in _SUBBYTE_INTS and dt in (DataType.INT4, DataType.INT2):
        half = 1 << (dt.bitwidth - 1)
        return [str(c - 2 * half if c >= half else c) for c in codes], 0
    return [str(c) for c in codes], 0


def _plain_values(tensor: Tensor, dt: DataType, numel: int, count: int) -> tuple[list[str], int] | None:
    """(Texts of the first ``count`` values, NaN payloads among them that print as nan) of a
    tensor, formatted exactly as `_format_values` would but from the stored bits, without numpy;
    or None when that needs numpy (other types, data that is to be refused with an error). The
    stored length is checked against all ``numel`` values."""
    proto = tensor.proto
    bits = dt.bitwidth
    code = _STRUCT_CODES.get(dt)
    if proto.HasField("segment") or (code is None and dt not in _BIT_TYPED):
        return None
    if proto.data_location == 1 or proto.HasField("raw_data"):
        raw = tensor.raw_bytes()
        if len(raw) != raw_nbytes(dt, numel):
            return None
        head = bytes(raw[: raw_nbytes(dt, count)])
        if code is None:  # packed 2/4/6-bit codes
            values: Any = _packed_codes(head, bits, count)
        else:
            values = struct.unpack(f"<{count}{code}", head)
    elif dt in _PLAIN_TYPED:
        stored = getattr(proto, dt.typed_field or "")
        if len(stored) != numel:
            return None
        values = stored[:count]
    elif dt in _BIT_TYPED:
        stored = proto.int32_data
        packed = bits in (2, 4)
        if len(stored) != (raw_nbytes(dt, numel) if packed else numel):
            return None
        width = 8 if packed else bits
        entries = stored[: raw_nbytes(dt, count) if packed else count]
        # a bit pattern may be written sign- or zero-extended (codec's rule); wider is refused there
        low, high = (0, 63) if bits == 6 else (-(1 << (width - 1)), (1 << width) - 1)
        if any(v < low or v > high for v in entries):
            return None
        mask = (1 << width) - 1
        entries = [v & mask for v in entries]
        values = _packed_codes(entries, bits, count) if packed else entries
        if dt == DataType.INT8 or dt == DataType.INT16:
            values = [v - (1 << width) if v >> (width - 1) else v for v in values]
    else:
        return None
    if dt == DataType.FLOAT:
        lossy = 0
        if any(v != v for v in values):
            if code is None or not isinstance(values, tuple):
                return None  # typed float_data: the numpy path counts NaN payloads from the bits
            words = struct.unpack(f"<{count}I", head)
            lossy = sum(1 for w in words if (w & 0x7F800000) == 0x7F800000 and w & 0x7FFFFF
                        and w & 0x7FFFFFFF != 0x7FC00000)
        return [float32_text(v) for v in values], lossy
    if dt == DataType.DOUBLE:
        lossy = 0
        if any(v != v for v in values):  # doubles keep every bit, from raw_data and double_data
            words = struct.unpack(f"<{len(values)}Q", struct.pack(f"<{len(values)}d", *values))
            lossy = sum(1 for w in words if (w >> 52) & 0x7FF == 0x7FF and w & ((1 << 52) - 1)
                        and w & ~(1 << 63) != 0x7FF8000000000000)
        return [float64_text(float(v)) for v in values], lossy
    return _code_values(list(values), dt)


_BIT_FORM = _FLOAT_TABLE_TYPES | _SUBBYTE_INTS


def _bit_texts(tensor: Tensor, dt: DataType, numel: int) -> list[str]:
    """The literal in onnx.parser's form: each element's bit pattern (16, 8 and 6-bit types), or
    the packed bytes of float4 and 4/2-bit integers."""
    raw = tensor.raw_bytes()
    need = raw_nbytes(dt, numel)
    if len(raw) != need:
        tensor.numpy()  # raises the error naming the tensor
        raise ValueError("unreachable: a tensor of the wrong length decoded")
    data = bytes(raw)
    if dt.bitwidth == 16:
        return [str(c) for c in struct.unpack(f"<{numel}H", data)]
    if dt.bitwidth == 6:
        return [str(c) for c in _packed_codes(data, 6, numel)]
    return [str(b) for b in data]  # 8-bit codes; packed bytes of float4 and 4/2-bit integers


def _tensor_literal(tensor: Tensor, opts: _Options) -> tuple[str, list[str]]:
    """(``{...}`` literal or summary, comment notes) for one tensor; never raises on bad data."""
    notes: list[str] = []
    try:
        dt = tensor.dtype
        shape = tensor.shape
        numel = math.prod(shape)
        if dt == DataType.UNDEFINED:
            return "{...}", ["error: data type is UNDEFINED"]
        is_string = dt == DataType.STRING
        nbytes = tensor.nbytes if is_string else raw_nbytes(dt, numel)
        large = numel > max(SMALL_TENSOR, opts.preview) or (is_string and nbytes > SMALL_STRING_BYTES)
        location = tensor.location
        if opts.full and dt in _BIT_FORM:
            # onnx.parser reads these types' literals as bit patterns (packed bytes for 4/2-bit
            # integers): --full prints that form, so that it parses back upstream too
            texts = _bit_texts(tensor, dt, numel)
            literal = "{" + ", ".join(texts) + "}"
            if location in ("external", "file") and (large or location == "external"):
                notes.append(_where_data(tensor))
            shown = _plain_values(tensor, dt, numel, numel) if not large else None
            notes.append("bit patterns" + (f" of {', '.join(shown[0])}" if shown is not None else ""))
        elif opts.full or not large:
            plain = None if large else _plain_values(tensor, dt, numel, numel)
            if plain is not None:
                texts, lossy = plain
            else:
                texts, lossy = _format_values(tensor.numpy().reshape(-1), dt)
            literal = "{" + ", ".join(texts) + "}"
            if location in ("external", "file") and (large or location == "external"):
                notes.append(_where_data(tensor))
            if lossy:
                notes.append(f"{lossy} NaN payload(s) print as nan")
        else:
            preview = _plain_values(tensor, dt, numel, min(opts.preview, numel))
            if preview is not None:
                texts = preview[0]
            elif is_string:  # cut before quoting: one string may be huge
                cut = _PREVIEW_STRING_BYTES
                head = tensor.head(opts.preview).reshape(-1)
                texts = [_quote(s[:cut]) + ("..." if len(s) > cut else "") for s in head.tolist()]
            else:
                texts = _format_values(tensor.head(opts.preview).reshape(-1), dt)[0]
            literal = "{" + "".join(t + ", " for t in texts) + "...}"
            notes.append(f"{numel} values, {nbytes} bytes, {_where_data(tensor)}")
        if opts.stats:
            notes.append(_stats(tensor.numpy().reshape(-1), dt))
    except OnnxliteError as e:
        if opts.strict:
            raise
        return "{...}", notes + [f"error: {_one_line(str(e))}"]
    if tensor.proto.doc_string:
        notes.append(f"doc_string: {_comment_value(tensor.proto.doc_string, opts.comment_limit)}")
    if len(tensor.proto.metadata_props):
        notes.append(f"metadata_props: {_string_map(tensor.proto.metadata_props, opts.comment_limit)}")
    return literal, notes


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _num(value: float) -> str:
    return f"{value:.6g}"


def _stats(flat: np.ndarray, dt: DataType) -> str:
    """min/max/mean/std over finite values, and zero/NaN/inf counts, computed in chunks."""
    import numpy as np

    with np.errstate(all="ignore"):
        return _chunked_stats(flat, dt)


def _chunked_stats(flat: np.ndarray, dt: DataType) -> str:
    import numpy as np

    n = flat.size
    if not n:
        return "stats: empty"
    if dt == DataType.STRING:
        return f"stats: {n} strings, {sum(len(s) for s in flat.tolist())} bytes"
    if dt in (DataType.COMPLEX64, DataType.COMPLEX128):
        zeros = int(np.count_nonzero(flat == 0))
        return f"stats: zeros {zeros}, nan {int(np.count_nonzero(np.isnan(flat)))}"
    is_float = dt not in _SUBBYTE_INTS and dt != DataType.BOOL and np.dtype(dt.np_dtype).kind not in "iu"
    count = zeros = nans = infs = 0
    mean = m2 = 0.0
    lo: Any = None
    hi: Any = None
    for start in range(0, n, _STATS_CHUNK):
        chunk = flat[start:start + _STATS_CHUNK]
        if dt == DataType.BOOL:
            chunk = chunk.view(np.uint8)
        values = chunk.astype(np.float64)
        zeros += int(np.count_nonzero(values == 0))
        if is_float:
            nan_mask = np.isnan(values)
            inf_mask = np.isinf(values)
            nans += int(np.count_nonzero(nan_mask))
            infs += int(np.count_nonzero(inf_mask))
            values = values[~(nan_mask | inf_mask)]
            exact = values
        else:
            exact = chunk.astype(np.int8) if dt in _SUBBYTE_INTS else chunk
        k = values.size
        if not k:
            continue
        c_lo, c_hi = exact.min().item(), exact.max().item()
        lo = c_lo if lo is None else min(lo, c_lo)
        hi = c_hi if hi is None else max(hi, c_hi)
        c_mean = float(values.mean())
        c_m2 = float(((values - c_mean) ** 2).sum())
        total = count + k
        delta = c_mean - mean
        mean += delta * k / total
        m2 += c_m2 + delta * delta * count * k / total
        count = total
    if not count:
        parts = ["stats: no finite values"]
    else:
        fmt = _num if is_float else str
        std = math.sqrt(m2 / count)
        parts = [f"stats: min {fmt(lo)}", f"max {fmt(hi)}", f"mean {_num(mean)}", f"std {_num(std)}"]
    parts.append(f"zeros {zeros}")
    if is_float:
        parts += [f"nan {nans}", f"inf {infs}"]
    return ", ".join(parts)


def _string_map(entries: Any, limit: int | None = None) -> str:
    return "[" + ", ".join(f"{_quote(e.key, comment=True)}: {_comment_value(e.value, limit)}"
                           for e in entries) + "]"


def _comment_value(value: Text, limit: int | None) -> str:
    """A quoted string for a comment, clipped past ``limit`` characters with the full length
    noted: ``"File \"x.py\", line 3..." (2417 chars)``."""
    if limit is None or len(value) <= limit:
        return _quote(value, comment=True)
    return f"{_quote(value[:limit], comment=True)[:-1]}...\" ({len(value)} chars)"


class _Names(dict):  # type: ignore[type-arg]
    """name -> how it prints (bare or quoted), computed on first use."""

    def __missing__(self, name: Text) -> str:
        text = _name(name)
        self[name] = text
        return text


class _Ops(dict):  # type: ignore[type-arg]
    """(domain, op_type, overload) -> ``domain.Op:overload`` as printed."""

    def __missing__(self, key: tuple[Text, Text, Text]) -> str:
        text = _qualified(*key)
        self[key] = text
        return text


def format_tensor_value(tensor: Tensor, *, full: bool, preview: int, stats: bool) -> str:
    """The ``{...}`` literal of a tensor's values, or its summary for a large tensor; a
    trailing ``  # ...`` comment says what a summary leaves out (count, bytes, where the data
    lives) and holds the statistics. A tensor that cannot be decoded gives ``{...}  # error: ...``.

    >>> import numpy as np
    >>> format_tensor_value(Tensor.from_numpy(np.arange(3)), full=False, preview=8, stats=False)
    '{0, 1, 2}'
    """
    literal, notes = _tensor_literal(tensor, _Options.make(full, preview, stats, None, None, None, False))
    return literal + ("  # " + "; ".join(notes) if notes else "")
