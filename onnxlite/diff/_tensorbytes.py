"""Tensor bytes for diffing: compared and hashed chunk by chunk, statistics streamed.

Bytes that lie in a file (a lazily loaded model or an external data file) are read with pread
into a small buffer, never through the mapping, so comparing two gigabyte-sized models keeps
memory flat. Typed-field tensors (float_data...) are small and encoded to raw form once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from onnxlite._storage import io as storage
from onnxlite.dtypes import DataType, data_type_of
from onnxlite.errors import ModelFormatError

CHUNK = 3 << 21  # 6 MiB: whole elements of every type (packed 4/2-bit groups, 3-byte float6 groups)


@dataclass
class TensorRef:
    """A TensorProto and the store its bytes may live in."""

    proto: Any
    store: Any
    where: str


def _located(t: TensorRef) -> tuple[int, int, int] | memoryview | bytes:
    """(fd, offset, length) for bytes in a file, else the bytes themselves."""
    p = t.proto
    if p.data_location == 1:  # EXTERNAL
        view = storage.external_view(t.store, p, t.where)  # validates the range
        location, offset, _ = storage.external_info(p, t.where)
        source = t.store.external(location, t.where)
        if source.fd is not None:
            return (source.fd, offset, len(view))
        return view
    if p.HasField("raw_data"):
        raw = p.raw_data
        if storage.has_live_sources():
            found = storage.marker_source(raw, t.where)
            if found is not None:
                source, region = found
                view = source.slice(region.offset, region.length, t.where)
                if source.fd is not None:
                    return (source.fd, region.offset, region.length)
                return view
        return raw
    if p.data_type == DataType.STRING:
        return b"\0".join(len(s).to_bytes(8, "little") + bytes(s) for s in p.string_data)
    from onnxlite._storage.codec import decode_typed, encode_raw

    return encode_raw(decode_typed(p, where=t.where))[1]


def nbytes(t: TensorRef) -> int:
    found = _located(t)
    return found[2] if isinstance(found, tuple) else len(found)


def chunks(t: TensorRef, size: int = CHUNK) -> Iterator[bytes | memoryview]:
    """The raw bytes in pieces of ``size`` (the last one shorter)."""
    found = _located(t)
    if not isinstance(found, tuple):
        view = memoryview(found).cast("B")
        for start in range(0, len(view), size):
            yield view[start:start + size]
        return
    fd, offset, length = found
    for start in range(0, length, size):
        n = min(size, length - start)
        data = os.pread(fd, n, offset + start)
        while len(data) < n:
            more = os.pread(fd, n - len(data), offset + start + len(data))
            if not more:
                raise ModelFormatError(f"{t.where}: the data file ended early")
            data += more
        yield data


def same_bytes(a: TensorRef, b: TensorRef) -> bool:
    """Whether the raw bytes are equal, stopping at the first differing chunk."""
    if nbytes(a) != nbytes(b):
        return False
    for x, y in zip(chunks(a), chunks(b), strict=False):
        if bytes(x) != bytes(y):  # bytes(b) of a bytes object is b itself: no copy
            return False
    return True


def digest(t: TensorRef) -> str:
    """A content digest of the raw bytes (BLAKE2b, 128 bits)."""
    h = hashlib.blake2b(digest_size=16)
    for piece in chunks(t):
        h.update(piece)
    return h.hexdigest()


def statistics(a: TensorRef, b: TensorRef) -> dict[str, Any]:
    """max_abs, max_rel (relative to |a|) and count of differing elements, streamed chunk by
    chunk in constant memory. Tensors of different size or dtype get no statistics."""
    import numpy as np

    from onnxlite._storage.codec import decode_raw

    dtype = data_type_of(a.proto.data_type)
    if a.proto.data_type != b.proto.data_type or list(a.proto.dims) != list(b.proto.dims):
        return {}
    if dtype == DataType.STRING:
        differ = sum(x != y for x, y in zip(a.proto.string_data, b.proto.string_data, strict=False))
        return {"differing": int(differ), "max_abs": None, "max_rel": None}
    bits = dtype.bitwidth
    numel = 1
    for d in a.proto.dims:
        numel *= int(d)
    max_abs = 0.0
    max_rel = 0.0
    differ = 0
    done = 0
    for x, y in zip(chunks(a), chunks(b), strict=False):
        n = min(len(x) * 8 // bits, numel - done)
        if n <= 0:
            break
        xa = decode_raw(x, dtype, (n,), where=a.where)
        ya = decode_raw(y, dtype, (n,), where=b.where)
        done += n
        if xa.dtype.kind in "biuc":
            xf, yf = xa.astype(np.complex128 if xa.dtype.kind == "c" else np.float64), \
                ya.astype(np.complex128 if ya.dtype.kind == "c" else np.float64)
        else:
            xf, yf = xa.astype(np.float64), ya.astype(np.float64)
        both_nan = np.isnan(xf) & np.isnan(yf)
        neq = (xf != yf) & ~both_nan
        k = int(np.count_nonzero(neq))
        if not k:
            continue
        differ += k
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            delta = np.abs(xf[neq] - yf[neq])
            rel = delta / np.abs(xf[neq])
        max_abs = max(max_abs, float(np.max(delta)))
        max_rel = max(max_rel, float(np.max(rel)))
    return {"differing": differ, "max_abs": max_abs, "max_rel": max_rel}
