"""Which bytes each tensor of a weights export is saved as, and the threads that hash and write
them (the container formats around those bytes are `onnxlite._weightfiles`).

Everything is planned before the first byte is written: the saved size of every tensor is known,
so is its place in its file. Worker threads (one per core, at most four) then take whole tensors,
largest first. A byte-aligned tensor saved as it is stored is read straight from the model's file
through a small memory map, one 1 MiB chunk at a time: the chunk is hashed (sha256, plus crc32
inside a ZIP) and written while it is still in the CPU cache, so the model's bytes are read once,
no copy is made in Python, and memory stays flat however large the model is. Holes of a sparse
data file are hashed as zeros and left as holes in the output.

numpy is not imported here at module level: exporting tensors as they are stored never needs it
(numpy and ml_dtypes would double the start-up time of ``onnxlite weights``). The conversions (sub-byte types,
``as_dtype``, strings, densified sparse tensors) import it when they run.
"""

from __future__ import annotations

import errno
import hashlib
import math
import mmap
import os
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnxlite._storage import io, wire
from onnxlite.dtypes import TYPED_FIELDS, DataType, raw_nbytes
from onnxlite.errors import ModelFormatError, WeightsError
from onnxlite.model import SparseTensor, Tensor

if TYPE_CHECKING:
    import numpy as np

_CHUNK = 1 << 20  # bytes hashed then written at a time: stays in the L2 cache in between
_CONVERT_CHUNK = 16 << 20  # bytes of ONNX data converted at a time
_ZEROS = bytes(_CHUNK)  # what a hole of a sparse data file holds
_WINDOW = 8 << 20  # bytes of a data file mapped at a time
_GRANULARITY = mmap.ALLOCATIONGRANULARITY
_MAP_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # Linux: map the window's cached pages in one call

# --- saved dtypes ---------------------------------------------------------------------------------

#: numpy / ml_dtypes name of the array element each ONNX type is saved as (tests check it
#: against ``DataType.np_dtype``; kept here so that planning needs no numpy).
NUMPY_NAME: dict[DataType, str] = {
    DataType.FLOAT: "float32", DataType.UINT8: "uint8", DataType.INT8: "int8", DataType.UINT16: "uint16",
    DataType.INT16: "int16", DataType.INT32: "int32", DataType.INT64: "int64", DataType.STRING: "object",
    DataType.BOOL: "bool", DataType.FLOAT16: "float16", DataType.DOUBLE: "float64",
    DataType.UINT32: "uint32", DataType.UINT64: "uint64", DataType.COMPLEX64: "complex64",
    DataType.COMPLEX128: "complex128", DataType.BFLOAT16: "bfloat16",
    DataType.FLOAT8E4M3FN: "float8_e4m3fn", DataType.FLOAT8E4M3FNUZ: "float8_e4m3fnuz",
    DataType.FLOAT8E5M2: "float8_e5m2", DataType.FLOAT8E5M2FNUZ: "float8_e5m2fnuz",
    DataType.UINT4: "uint4", DataType.INT4: "int4", DataType.FLOAT4E2M1: "float4_e2m1fn",
    DataType.FLOAT8E8M0: "float8_e8m0fnu", DataType.UINT2: "uint2", DataType.INT2: "int2",
    DataType.FLOAT6E2M3: "float6_e2m3fn", DataType.FLOAT6E3M2: "float6_e3m2fn",
}

#: numpy's .npy ``descr`` and the item size of the built-in numpy types (ml_dtypes types are
#: written by their name, which ml_dtypes registers with numpy, and are one item per element).
_NPY_DESCR: dict[str, tuple[str, int]] = {
    "float32": ("<f4", 4), "float64": ("<f8", 8), "float16": ("<f2", 2), "uint8": ("|u1", 1),
    "int8": ("|i1", 1), "uint16": ("<u2", 2), "int16": ("<i2", 2), "uint32": ("<u4", 4),
    "int32": ("<i4", 4), "uint64": ("<u8", 8), "int64": ("<i8", 8), "bool": ("|b1", 1),
    "complex64": ("<c8", 8), "complex128": ("<c16", 16),
}
_ML_ITEMSIZE = {"bfloat16": 2}  # the other ml_dtypes types hold one byte per element

#: safetensors' name of each saved dtype it can hold (names every release since 0.4 understands).
SAFETENSORS_DTYPE: dict[str, str] = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
    "uint64": "U64", "int32": "I32", "uint32": "U32", "int16": "I16", "uint16": "U16", "int8": "I8",
    "uint8": "U8", "bool": "BOOL", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}

_FLOATS = {DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE, DataType.FLOAT8E4M3FN,
           DataType.FLOAT8E4M3FNUZ, DataType.FLOAT8E5M2, DataType.FLOAT8E5M2FNUZ, DataType.FLOAT8E8M0,
           DataType.FLOAT4E2M1, DataType.FLOAT6E2M3, DataType.FLOAT6E3M2}
_NARROW_INTS = {DataType.INT4: "int8", DataType.INT2: "int8",
                DataType.UINT4: "uint8", DataType.UINT2: "uint8"}


def itemsize(name: str) -> int:
    """Bytes per element of the saved dtype ``name`` (a `NUMPY_NAME` value)."""
    known = _NPY_DESCR.get(name)
    return known[1] if known is not None else _ML_ITEMSIZE.get(name, 1)


def npy_descr(name: str) -> str:
    """The ``descr`` numpy writes in a .npy header for the saved dtype ``name``."""
    known = _NPY_DESCR.get(name)
    return known[0] if known is not None else name


# --- plans ----------------------------------------------------------------------------------------

@dataclass
class Plan:
    """How one tensor is saved: the saved array's dtype, and whether its bytes are the ONNX
    bytes as stored ('array' when they need no conversion, 'raw' for a type the format cannot
    hold), a conversion, or a string array ('strings', made when planned)."""

    tensor: Tensor | SparseTensor
    store: io.DataStore
    where: str  # "model.graph.initializer[3] 'fc.w'", for messages
    ident: str  # the weight's id, for messages about the export as a whole
    dtype: DataType
    shape: tuple[int, ...]
    target: str  # numpy / ml_dtypes name of the saved array's dtype
    stored_as: str  # 'array' | 'raw' | 'strings'
    strings: Any = None  # the numpy bytes array of a 'strings' plan

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """The exact length of the saved bytes."""
        if self.stored_as == "raw":
            return raw_nbytes(self.dtype, self.numel)
        if self.stored_as == "strings":
            return int(self.strings.nbytes)
        return self.numel * itemsize(self.target)

    @property
    def saved_shape(self) -> tuple[int, ...]:
        return (self.nbytes,) if self.stored_as == "raw" else self.shape

    def descr(self) -> str:
        if self.stored_as == "strings":
            return f"|S{self.strings.dtype.itemsize}"
        return npy_descr(self.target)

    def streamable(self) -> bool:
        """Whether the ONNX bytes as stored are the saved bytes (no conversion)."""
        if isinstance(self.tensor, SparseTensor) or self.stored_as == "strings":
            return False
        if self.stored_as == "raw":
            return True
        return (sys.byteorder == "little" and self.dtype.bitwidth % 8 == 0
                and self.target == NUMPY_NAME[self.dtype])

    def check_length(self) -> None:
        """Refuse stored bytes whose count disagrees with the dtype and shape (before writing)."""
        if isinstance(self.tensor, SparseTensor) or self.stored_as == "strings":
            return
        have = len(self.stored_bytes())
        need = raw_nbytes(self.dtype, self.numel)
        if have != need:
            raise WeightsError(f"{self.where}: has {have} bytes of data, but "
                               f"{self.dtype.short_name} {list(self.shape)} needs {need}")

    def stored_bytes(self) -> memoryview | bytes:
        """The tensor's raw bytes as stored (a view of the mapped file when they lie in one)."""
        assert isinstance(self.tensor, Tensor)
        found = _located(self)
        if found is not None:
            return found.source.view[found.offset:found.offset + found.length]
        typed = _typed_raw(self.tensor.proto, self.dtype, self.numel)
        return typed if typed is not None else self.tensor.raw_bytes()

    def needs_numpy(self) -> bool:
        """Whether writing this tensor converts anything, or decodes typed fields, with numpy."""
        if not self.streamable():
            return True
        assert isinstance(self.tensor, Tensor)
        proto = self.tensor.proto
        return (proto.data_location != 1 and not proto.HasField("raw_data")
                and _typed_raw(proto, self.dtype, self.numel) is None)


def make_plan(tensor: Tensor | SparseTensor, store: io.DataStore, where: str, ident: str, *,
              as_dtype: str | None, format: str) -> Plan:
    """The plan for one tensor (refusing what cannot be saved, with the reason)."""
    dtype = tensor.values.dtype if isinstance(tensor, SparseTensor) else tensor.dtype
    shape = tensor.shape
    if dtype == DataType.STRING:
        plan = Plan(tensor, store, where, ident, dtype, shape, "bytes", "strings")
        if format != "safetensors":  # refused as a whole by the caller
            plan.strings = _strings_array(tensor.numpy(), ident)
        return plan
    if isinstance(tensor, Tensor) and tensor.segment is not None:
        raise WeightsError(f"{where}: segmented tensors are not supported; leave it out with --only")
    if dtype == DataType.UNDEFINED:
        raise WeightsError(f"{where}: data type UNDEFINED has no values to save")
    native = NUMPY_NAME[dtype]
    target = native
    if as_dtype == "float32":
        if dtype in _FLOATS:
            target = "float32"
        elif dtype in _NARROW_INTS:
            target = _NARROW_INTS[dtype]
    if format == "safetensors" and target not in SAFETENSORS_DTYPE and target == native:
        if isinstance(tensor, SparseTensor):
            raise WeightsError(f"{ident}: safetensors cannot hold {dtype.short_name}; a densified sparse "
                               "tensor of this type cannot be saved raw, export it without --densify")
        return Plan(tensor, store, where, ident, dtype, shape, "uint8", "raw")
    return Plan(tensor, store, where, ident, dtype, shape, target, "array")


def _strings_array(arr: np.ndarray, what: str) -> np.ndarray:
    import numpy as np

    items = [bytes(x) for x in arr.reshape(-1)]
    if any(x.endswith(b"\0") for x in items):
        raise WeightsError(f"{what}: a string ends with a NUL byte, which a numpy bytes array would drop")
    width = max((len(x) for x in items), default=1) or 1
    return np.array(items, dtype=f"S{width}").reshape(arr.shape)


def needs_numpy(plans: Sequence[Plan]) -> bool:
    return any(p.needs_numpy() for p in plans)


#: Typed fields whose raw bytes are their values packed little-endian (the other types check
#: ranges or unpack bits: they go through onnxlite.codec and numpy).
_TYPED_PACK = {DataType.FLOAT: ("float_data", "f"), DataType.DOUBLE: ("double_data", "d"),
               DataType.INT32: ("int32_data", "i"), DataType.INT64: ("int64_data", "q"),
               DataType.UINT64: ("uint64_data", "Q")}
_TYPED_FIELDS = TYPED_FIELDS


def _typed_raw(proto: Any, dtype: DataType, numel: int) -> bytes | None:
    """The raw bytes of a tensor held in the typed field of a common type, without numpy: what
    ``codec.encode_raw(codec.decode_typed(proto))`` gives (tests check it), or None for anything
    else, including data that codec would refuse (it then says why)."""
    spec = _TYPED_PACK.get(dtype)
    if spec is None or proto.HasField("raw_data") or proto.HasField("segment") or proto.data_location == 1:
        return None
    name, code = spec
    if any(len(getattr(proto, other)) for other in _TYPED_FIELDS if other != name):
        return None
    values = getattr(proto, name)
    if len(values) != numel:
        return None
    if dtype != DataType.FLOAT:
        return struct.pack(f"<{numel}{code}", *values)
    try:
        return wire.float_data_bytes(proto)  # the stored bits (protobuf's API quiets signalling NaNs)
    except ModelFormatError:
        return None


# --- where the bytes come from --------------------------------------------------------------------

@dataclass
class _Located:
    """A tensor's stored bytes inside a source buffer (a mapped file or bytes in memory)."""

    source: io.Source
    offset: int
    length: int


def _located(p: Plan) -> _Located | None:
    """Where a Tensor's raw bytes lie in a mapped file or loaded buffer (None: typed fields or
    raw_data held by the message, which `Tensor.raw_bytes` gives)."""
    tensor = p.tensor
    assert isinstance(tensor, Tensor)
    proto = tensor.proto
    if proto.data_location == 1:  # EXTERNAL
        view = io.external_view(p.store, proto, p.where)  # validates the range
        location, offset, _ = io.external_info(proto, p.where)
        return _Located(p.store.external(location, p.where), offset, len(view))
    if proto.HasField("raw_data") and io.has_live_sources():
        found = io.marker_source(proto.raw_data, p.where)
        if found is not None:
            source, region = found
            source.slice(region.offset, region.length, p.where)  # validates the range
            return _Located(source, region.offset, region.length)
    return None


def _extents(source: io.Source, offset: int, length: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, holds data) ranges covering ``offset .. offset + length`` of the source; a
    range without data is a hole of a sparse file (reads as zeros)."""
    end = offset + length
    seek_data = getattr(os, "SEEK_DATA", None)
    if source.fd is None or seek_data is None or length == 0:
        yield offset, end, True
        return
    pos = offset
    while pos < end:
        try:
            data = min(os.lseek(source.fd, pos, seek_data), end)
            hole = min(os.lseek(source.fd, data, os.SEEK_HOLE), end) if data < end else end
        except OSError as e:
            if e.errno != errno.ENXIO:  # no hole support: all data
                yield pos, end, True
                return
            data = hole = end  # ENXIO: only a hole remains after pos
        if data > pos:
            yield pos, data, False
        if hole > data:
            yield data, hole, True
        pos = max(hole, data)


# --- writing --------------------------------------------------------------------------------------

class _Stopped(Exception):
    """Another worker failed: give up quietly."""


@dataclass
class Job:
    """One tensor to write: into its own new file ``path`` (.npy), or into the shared archive
    ``fd`` at ``pos``. ``head`` (the .npy header) goes right before the data; ``zip_header``
    builds the ZIP local header (before ``head``) once the CRC is known."""

    plan: Plan
    pos: int
    head: bytes = b""
    path: Path | None = None
    fd: int = -1
    zip_header: Callable[[int], bytes] | None = None
    sha256: str = ""
    crc: int = 0
    written: int = 0  # bytes of the saved data placed (holes included)


@dataclass
class _Shared:
    jobs: list[Job]
    progress: Callable[[int], None] | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    next: int = 0
    done: int = 0
    reported: int = 0
    error: BaseException | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def take(self) -> Job | None:
        with self.lock:
            if self.stop.is_set() or self.next >= len(self.jobs):
                return None
            job = self.jobs[self.next]
            self.next += 1
            return job

    def advance(self, n: int) -> None:
        if self.stop.is_set():
            raise _Stopped
        with self.lock:
            self.done += n


def workers() -> int:
    """Threads that hash and write: one per usable core, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def run_jobs(jobs: Sequence[Job], progress: Callable[[int], None] | None = None,
             threads: int | None = None) -> None:
    """Write every job, largest first, in worker threads; ``progress`` gets the bytes done so
    far, called from this thread. The first failure stops the others and is raised here."""
    shared = _Shared(sorted(jobs, key=lambda j: -j.plan.nbytes), progress)
    count = min(threads or workers(), len(shared.jobs))
    pool = [threading.Thread(target=_work, args=(shared,), name=f"onnxlite-weights-{i}", daemon=True)
            for i in range(count)]
    try:
        for t in pool:
            t.start()
        for t in pool:
            while t.is_alive():
                t.join(0.1)
                _report(shared)
    except BaseException:
        shared.stop.set()
        for t in pool:
            t.join()
        raise
    if shared.error is not None:
        raise shared.error
    _report(shared)


def _report(shared: _Shared) -> None:
    if shared.progress is not None and shared.done != shared.reported:
        shared.reported = shared.done
        shared.progress(shared.done)


def _work(shared: _Shared) -> None:
    while (job := shared.take()) is not None:
        try:
            write_job(job, shared.advance)
        except _Stopped:
            return
        except BaseException as e:
            with shared.lock:
                if shared.error is None:
                    shared.error = e
            shared.stop.set()
            return


def write_job(job: Job, advance: Callable[[int], None]) -> None:
    """Write one tensor's bytes (and its header) where the job says; record sha256 and crc."""
    own = job.path is not None
    fd = os.open(job.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666) \
        if job.path is not None else job.fd
    try:
        if own and job.head:
            pwrite(fd, job.head, 0)
        crc = zlib.crc32(job.head) if job.zip_header is not None else None
        sha = hashlib.sha256()
        pos = job.pos
        hole_at_end = False
        for piece, size in _pieces(job.plan):
            hole_at_end = piece is None
            if piece is None:  # a hole: hash zeros, leave the hole
                left = size
                while left:
                    zeros = memoryview(_ZEROS)[:min(left, _CHUNK)]
                    sha.update(zeros)
                    if crc is not None:
                        crc = zlib.crc32(zeros, crc)
                    left -= len(zeros)
            else:
                sha.update(piece)
                if crc is not None:
                    crc = zlib.crc32(piece, crc)
                pwrite(fd, piece, pos)
            pos += size
            advance(size)
        job.written = pos - job.pos
        if job.written != job.plan.nbytes:
            raise WeightsError(f"{job.plan.where}: produced {job.written} bytes, expected {job.plan.nbytes}")
        job.sha256 = sha.hexdigest()
        if own and hole_at_end:
            os.ftruncate(fd, pos)
        if crc is not None and job.zip_header is not None:
            job.crc = crc
            local = job.zip_header(crc)
            pwrite(fd, local + job.head, job.pos - len(job.head) - len(local))
        elif not own and job.head:
            pwrite(fd, job.head, job.pos - len(job.head))
    finally:
        if own:
            os.close(fd)


def pwrite(fd: int, data: Any, pos: int) -> None:
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], pos + done)


def _pieces(p: Plan) -> Iterator[tuple[memoryview | None, int]]:
    """The saved bytes of a plan as (chunk, length) pieces; a chunk of None is a hole."""
    if p.streamable():
        found = _located(p)
        if found is not None:
            yield from _mapped_pieces(found)
            return
        view = memoryview(p.stored_bytes()).cast("B")
        for start in range(0, len(view), _CHUNK):
            piece = view[start:start + _CHUNK]
            yield piece, len(piece)
        return
    yield from _converted_pieces(p)


def _mapped_pieces(found: _Located) -> Iterator[tuple[memoryview | None, int]]:
    source = found.source
    if source.fd is None or not isinstance(source.buffer, mmap.mmap):  # bytes in memory
        for pos in range(found.offset, found.offset + found.length, _CHUNK):
            piece = source.view[pos:min(pos + _CHUNK, found.offset + found.length)]
            yield piece, len(piece)
        return
    for start, end, is_data in _extents(source, found.offset, found.length):
        if not is_data:
            yield None, end - start
            continue
        pos = start
        while pos < end:
            stop = min(end, pos - pos % _GRANULARITY + _WINDOW)
            yield from _window_pieces(source.fd, pos, stop)
            pos = stop


def _window_pieces(fd: int, start: int, end: int) -> Iterator[tuple[memoryview, int]]:
    """``start .. end`` of the file in chunks, read through a mapping of just that window: a page
    fault maps the whole page-cache folio around it (hundreds of KB on current kernels), and only
    a mapping's own bounds keep that from leaving pages of other tensors in RSS."""
    base = start - start % _GRANULARITY
    window = mmap.mmap(fd, end - base, flags=mmap.MAP_SHARED | _MAP_POPULATE, prot=mmap.PROT_READ,
                       offset=base)
    view = memoryview(window)
    piece = view[0:0]
    try:
        for pos in range(start, end, _CHUNK):
            piece = view[pos - base:min(pos + _CHUNK, end) - base]
            yield piece, len(piece)
            piece.release()
    finally:
        piece.release()
        view.release()
        try:
            window.close()
        except BufferError:  # the consumer kept a view: the mapping goes when that does
            pass


def _converted_pieces(p: Plan) -> Iterator[tuple[memoryview | None, int]]:
    """Bytes that numpy makes: strings, densified sparse tensors, conversions in chunks of whole
    elements (packed types: whole groups of 3 bytes = 4, 8 or 12 elements)."""
    import numpy as np

    from onnxlite._storage.codec import decode_raw

    def little(arr: np.ndarray) -> memoryview:
        if arr.dtype.kind != "V" and (arr.dtype.byteorder == ">" or
                                      (arr.dtype.byteorder == "=" and sys.byteorder == "big")):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        return bytes_view(arr)

    if p.stored_as == "strings":
        data = bytes_view(p.strings)
        yield data, len(data)
        return
    tensor = p.tensor
    target = resolve_dtype(p.target)
    if isinstance(tensor, SparseTensor):
        with np.errstate(over="ignore", invalid="ignore"):
            data = little(tensor.numpy().astype(target, copy=False))
        yield data, len(data)
        return
    bits = p.dtype.bitwidth
    group = 8 // math.gcd(bits, 8)  # elements that fill whole bytes (4 of float6: 3 bytes)
    per_step = max(group, _CONVERT_CHUNK * 8 // bits // group * group)
    done = 0
    for raw in _stored_steps(p, per_step * bits // 8):
        n = min(per_step, p.numel - done)
        part = decode_raw(raw[:-(-n * bits // 8)], p.dtype, (n,), where=p.where)
        with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32: inf, as asked
            data = little(part.astype(target, copy=False))
        yield data, len(data)
        done += n


def _stored_steps(p: Plan, step: int) -> Iterator[memoryview]:
    """The stored bytes in pieces of ``step`` bytes (the last one shorter). Bytes in a file are
    read with pread into one buffer, not through the model's mapping: memory stays flat."""
    found = _located(p)
    if found is None or found.source.fd is None:
        view = memoryview(p.stored_bytes()).cast("B")
        for start in range(0, len(view), step):
            yield view[start:start + step]
        return
    buffer = memoryview(bytearray(min(step, found.length)))
    for start in range(0, found.length, step):
        n = min(step, found.length - start)
        got = 0
        while got < n:
            k = os.preadv(found.source.fd, [buffer[got:n]], found.offset + start + got)
            if k <= 0:
                raise WeightsError(f"{p.where}: the data file ended early")
            got += k
        yield buffer[:n]


def resolve_dtype(name: str) -> np.dtype:
    """The numpy dtype of a saved dtype name (ml_dtypes names included)."""
    import ml_dtypes
    import numpy as np

    return np.dtype(getattr(ml_dtypes, name)) if name not in _NPY_DESCR else np.dtype(name)


def bytes_view(arr: np.ndarray) -> memoryview:
    """The array's data as bytes, C order, without a copy when it is contiguous (ml_dtypes
    arrays do not export the buffer protocol themselves: view them as uint8 first)."""
    import numpy as np

    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.dtype.kind == "S":
        return memoryview(flat.tobytes())
    return flat.view(np.uint8).data
