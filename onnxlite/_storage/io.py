"""Reading ONNX files: lazy payloads, external data, and where tensor bytes live.

Reading works on protobuf messages and a `DataStore`, the object that knows where tensor bytes
live (the memory-mapped model file, bytes handed to `loads`, external data files);
`onnxlite.model` wraps both into the object model and `onnxlite.writer` saves them.

Safety rules: external data locations must stay inside the model folder (no absolute paths, no
'..', no symlink leading out, regular files only); offsets and lengths are checked against the
real file size before any read; a malformed file raises ModelFormatError naming the place.
"""

from __future__ import annotations

import errno
import mmap
import os
import re
import stat
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar, Union

from google.protobuf.message import DecodeError

from onnxlite import _proto
from onnxlite._storage import wire

try:  # imported up front: when the descriptors have run out, even an import can fail
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]
from onnxlite.errors import ExternalDataError, ModelClosedError, ModelFormatError, UnsafePathError

PathLike = Union[str, "os.PathLike[str]"]

#: Files smaller than this are read into memory and parsed directly, as protobuf would: for them
#: copying the payloads costs less than the Python-level scan that leaves them in the file.
_MMAP_MIN = 1 << 20
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


# --- sources of tensor bytes ------------------------------------------------------------------

_LIVE: weakref.WeakValueDictionary[bytes, Source] = weakref.WeakValueDictionary()
_ISSUED: set[bytes] = set()
_CLOSED: dict[bytes, str] = {}  # token -> the model it belonged to, once that model was closed


class Source:
    """A buffer that lazy payloads point into: a memory-mapped file or an immutable bytes object.
    Registered under a random token that markers in the protobuf messages carry."""

    def __init__(self, buffer: Any, *, path: Path | None = None, fd: int | None = None) -> None:
        self.buffer = buffer
        self.view = memoryview(buffer)
        self.size = len(self.view)
        self.path = path
        self.fd = fd
        self.token = os.urandom(8)
        while self.token in _ISSUED:
            self.token = os.urandom(8)
        _ISSUED.add(self.token)
        _LIVE[self.token] = self
        self._close_fd = weakref.finalize(self, os.close, fd) if fd is not None else None

    def close(self, owner: str) -> None:
        """Release the mapping and the descriptor now; reading through this source afterwards
        raises ModelClosedError naming ``owner``. A mapping that numpy arrays obtained from it
        still use stays until they go (unmapping it would crash them)."""
        if _CLOSED.get(self.token) is not None:
            return
        _CLOSED[self.token] = owner
        _LIVE.pop(self.token, None)
        if self._close_fd is not None:
            self._close_fd()
        self.fd = None
        self.view.release()
        if isinstance(self.buffer, mmap.mmap):
            try:
                self.buffer.close()
            except BufferError:  # arrays still view it: it is unmapped when the last one goes
                pass
        self.buffer = b""
        self.view = memoryview(self.buffer)
        self.size = 0

    def slice(self, offset: int, length: int, where: str) -> memoryview:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ExternalDataError(
                f"{where}: bytes {offset}..{offset + length} lie outside "
                f"{self.path or 'the buffer'} ({self.size} bytes)")
        return self.view[offset:offset + length]


def source_for(token: bytes) -> Source | None:
    return _LIVE.get(token)


def require_source(token: bytes, where: str) -> Source:
    """The live source of an issued token, or a clear error: its model was closed, or dropped."""
    source = _LIVE.get(token)
    if source is not None:
        return source
    owner = _CLOSED.get(token)
    if owner is not None:
        raise ModelClosedError(f"{where}: model {owner} was closed; load it again to read its tensor data")
    raise ModelFormatError(f"{where}: tensor data belonged to a model that no longer exists")


def has_live_sources() -> bool:
    """Whether any lazily loaded payload exists (else no raw_data can be a marker)."""
    return bool(_LIVE)


def live_tokens() -> set[bytes]:
    return set(_LIVE.keys())


def issued_tokens() -> set[bytes]:
    """Every token onnxlite issued: markers carrying one are never ordinary data (saving one
    whose source is gone is an error, not a copy of the marker bytes)."""
    return set(_ISSUED)


def _open_regular(path: Path, where: str) -> tuple[int, int]:
    """Open a regular file read-only; return (fd, size). Anything else is refused before a
    single byte is read (O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever)."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = _retry_on_emfile(lambda: os.open(path, flags))
    except OSError as e:
        raise ExternalDataError(f"{where}: cannot open {path}: {e.strerror}") from e
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        # the path once: `where` is the path itself when the model file is the one refused
        raise UnsafePathError(f"{path} is {kind}" if where == str(path) else f"{where}: {path} is {kind}")
    return fd, st.st_size


def _map_file(path: Path, where: str) -> Source:
    """Open a regular file read-only and map it."""
    fd, size = _open_regular(path, where)
    try:
        # mmap keeps a duplicate of the descriptor: one more file slot per mapped file
        buffer: Any = _retry_on_emfile(lambda: mmap.mmap(fd, 0, access=mmap.ACCESS_READ)) if size else b""
    except OSError as e:
        os.close(fd)
        raise ExternalDataError(f"{where}: cannot map {path}: {e.strerror or e}") from e
    except BaseException:
        os.close(fd)
        raise
    return Source(buffer, path=path, fd=fd)


_T = TypeVar("_T")


def _retry_on_emfile(call: Callable[[], _T]) -> _T:
    """Run ``call``; when the process is out of file descriptors (a model with one external
    file per tensor can have thousands, and each mapped file holds two descriptors), raise the
    soft limit towards the hard one once and try again."""
    try:
        return call()
    except OSError as e:
        if e.errno != errno.EMFILE or not _raise_fd_limit():
            raise
    return call()


def _raise_fd_limit() -> bool:
    if resource is None:  # not on this platform
        return False
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft * 16, 65536)
    if soft != resource.RLIM_INFINITY and soft >= wanted:
        return False
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        return False
    return True


class _PreadFiller(wire.Filler):
    """Reads a file into ``mirror`` front to back on demand, leaving skipped payloads unread."""

    _AHEAD = 16 << 10

    def __init__(self, fd: int, mirror: mmap.mmap) -> None:
        super().__init__(0)
        self._fd = fd
        self._mirror = mirror
        self._view = memoryview(mirror)
        self._size = len(mirror)

    def _read(self, start: int, end: int) -> None:
        view = self._view
        while start < end:
            n = os.preadv(self._fd, [view[start:end]], start)
            if n <= 0:
                raise ExternalDataError("the model file shrank while it was being read")
            start += n

    def fill(self, upto: int) -> None:
        if upto > self.loaded:
            end = min(max(upto, self.loaded + self._AHEAD), self._size)
            self._read(self.loaded, end)
            self.loaded = end

    def skip(self, start: int, end: int) -> None:
        if start > self.loaded:
            self._read(self.loaded, start)
        self.loaded = max(self.loaded, end)


# --- the data store ---------------------------------------------------------------------------

_STORES: weakref.WeakSet[DataStore] = weakref.WeakSet()


@dataclass(eq=False)
class DataStore:
    """Where a model's tensor bytes come from: its own file (lazy payloads) and the external data
    files beside it, opened on first use and kept open so a later save that replaces a file on
    disk never changes what this model reads."""

    base_dir: Path | None = None
    sources: list[Source] = field(default_factory=list)
    _paths: dict[str, Path] = field(default_factory=dict)  # location -> resolved path
    _external: dict[Path, Source] = field(default_factory=dict)  # resolved path -> mapped file
    #: When the model was read: an external file modified later may no longer match it.
    loaded_at: int = field(default_factory=time.time_ns)
    #: How errors name the model (its path), and whether `close` released its files.
    name: str = "<bytes>"
    closed: bool = False

    def __post_init__(self) -> None:
        if self.base_dir is not None:
            _STORES.add(self)

    def close(self) -> None:
        """Release the model file's mapping and every external data file now (idempotent)."""
        if self.closed:
            return
        self.closed = True
        _STORES.discard(self)
        for source in [*self.sources, *self._external.values()]:
            source.close(self.name)
        self._external.clear()

    def external(self, location: str, where: str) -> Source:
        """The mapped external file for ``location`` (validated, opened once)."""
        if self.closed:
            raise ModelClosedError(
                f"{where}: model {self.name} was closed; load it again to read external data '{location}'")
        path = self._paths.get(location)
        if path is None:
            path = self._paths[location] = resolve_location(self.base_dir, location, where)
        cached = self._external.get(path)
        if cached is not None:
            return cached
        source = _map_file(path, f"{where}: external data '{location}'")
        if source.fd is not None and os.fstat(source.fd).st_mtime_ns > self.loaded_at:
            raise ExternalDataError(
                f"{where}: external data '{location}' was modified after the model was loaded, so its "
                "offsets may no longer match; load the model again")
        self._external[path] = source
        return source

    def external_path(self, location: str, where: str) -> Path:
        return resolve_location(self.base_dir, location, where)

    def pin(self, path: Path) -> None:
        """Open ``path`` now if it lies in this model's folder, before a save replaces it, so
        this model keeps reading the bytes it was loaded with."""
        if self.base_dir is None or self.closed or path in self._external:
            return
        base = Path(os.path.realpath(self.base_dir))
        if os.path.commonpath([base, path]) != str(base):
            return
        try:
            self._external[path] = _map_file(path, "pin")
        except ExternalDataError:
            pass  # not readable as data: nothing this model could have read from it either


def pin_readers(path: Path) -> None:
    """Let every loaded model that may read ``path`` open it before it is replaced."""
    real = Path(os.path.realpath(path))
    for store in list(_STORES):
        store.pin(real)


def check_relative(location: str, where: str) -> None:
    """Refuse a location that is empty, has a NUL byte, is absolute (POSIX or Windows) or has a
    '..' component: external data must be a relative path inside the model folder."""
    if not location or "\x00" in location:
        raise UnsafePathError(f"{where}: external data location {location!r} is empty or has a NUL byte")
    parts = re.split(r"[/\\]", location)
    if location.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", location) or ".." in parts:
        raise UnsafePathError(
            f"{where}: external data location {location!r} is absolute or climbs out with '..'; "
            "locations must be relative paths inside the model folder")


def resolve_location(base_dir: Path | None, location: str, where: str) -> Path:
    """Resolve an external data location inside ``base_dir`` or raise UnsafePathError."""
    if base_dir is None:
        raise ExternalDataError(
            f"{where}: external data '{location}' but the model was not loaded from a file; "
            "pass base_dir= to say where its data lives")
    check_relative(location, where)
    base = Path(os.path.realpath(base_dir))
    path = Path(os.path.realpath(base / location))
    if os.path.commonpath([base, path]) != str(base):
        raise UnsafePathError(
            f"{where}: external data location {location!r} leads outside the model folder "
            f"(through a symlink to {path}); move the data next to the model")
    return path


def external_info(tensor: Any, where: str) -> tuple[str, int, int | None]:
    """(location, offset, length or None) from a TensorProto's external_data entries."""
    # a key or value that is not UTF-8 comes from protobuf as bytes: read it as a (surrogate-
    # escaped) file-system string, which the checks below then judge like any other
    info = {_text(entry.key): _text(entry.value) for entry in tensor.external_data}
    location = info.get("location")
    if location is None:
        raise ExternalDataError(f"{where}: external tensor has no 'location' entry")
    numbers: dict[str, int | None] = {}
    for key in ("offset", "length"):
        text = info.get(key)
        if text is None or text == "":
            numbers[key] = None
        elif not re.fullmatch(r"[0-9]+", text):
            raise ExternalDataError(f"{where}: external data {key} {text!r} is not a non-negative integer")
        else:
            numbers[key] = int(text)
    return location, numbers["offset"] or 0, numbers["length"]


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def external_view(store: DataStore, tensor: Any, where: str) -> memoryview:
    """The bytes of an external tensor, bounds-checked against the file and the tensor's size."""
    location, offset, length = external_info(tensor, where)
    source = store.external(location, where)
    if length is None:
        length = max(source.size - offset, 0)
    if offset > source.size or length > source.size - offset:
        raise ExternalDataError(
            f"{where}: external data '{location}' bytes {offset}..{offset + length} lie outside "
            f"the file ({source.size} bytes)")
    return source.view[offset:offset + length]


def marker_source(raw: bytes, where: str) -> tuple[Source, wire.Region] | None:
    """The live source and region a marker stands for, or None when ``raw`` is ordinary data
    (including bytes shaped like a marker whose token onnxlite never issued)."""
    region = wire.parse_marker(raw)
    if region is None or region.token not in _ISSUED:
        return None
    return require_source(region.token, where), region


def lazy_view(raw: bytes, where: str) -> memoryview | None:
    """The payload a marker stands for, or None when ``raw`` is ordinary data."""
    found = marker_source(raw, where)
    if found is None:
        return None
    source, region = found
    return source.slice(region.offset, region.length, where)


# --- reading ----------------------------------------------------------------------------------

def read_model(
    target: PathLike | IO[bytes], *, base_dir: PathLike | None = None, lazy: bool | None = None
) -> tuple[Any, DataStore]:
    """Read a ModelProto from a path or binary file object without copying large payloads
    (``lazy``: True always maps the file, False reads it whole, None decides by size)."""
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        name = str(path)
        store = DataStore(Path(base_dir) if base_dir is not None else path.absolute().parent, name=repr(name))
        fd, size = _open_regular(path, name)
        if lazy is False or (lazy is None and size < _MMAP_MIN):
            try:
                with os.fdopen(fd, "rb") as f:
                    data: Any = f.read()
            except OSError as e:
                raise ExternalDataError(f"{name}: {e.strerror}") from e
            return _parse(data, store, name, None), store
        os.close(fd)
        source = _map_file(path, name)
        if source.fd is None or source.size == 0:
            return _parse(source.buffer, store, name, source), store
        # Scan a copy read with pread into an anonymous mapping, never the file mapping itself:
        # touching even one byte of a mapped file maps the whole page-cache folio around it
        # (hundreds of KB on current kernels), and the lazy load would show most of the weights
        # in RSS. Payloads skipped by the scan stay unread zero pages of the copy.
        mirror = mmap.mmap(-1, source.size)  # unmapped when the last view of it goes away
        return _parse(mirror, store, name, source, _PreadFiller(source.fd, mirror)), store
    data = target.read()
    if not isinstance(data, bytes):
        raise TypeError(f"load() needs a path or a binary file object, got {type(target).__name__}")
    name = str(getattr(target, "name", "<stream>"))
    return read_bytes(data, base_dir=base_dir, name=name, lazy=lazy)


def read_bytes(
    data: Any, *, base_dir: PathLike | None = None, name: str = "<bytes>", lazy: bool | None = None
) -> tuple[Any, DataStore]:
    """Parse serialized model bytes; with ``lazy`` (default: for inputs of 1 MiB or more) large
    payloads stay in (an immutable copy of) ``data`` instead of being copied by protobuf."""
    if not isinstance(data, bytes):
        data = bytes(data)  # a mutable buffer could change under our lazy views
    store = DataStore(Path(base_dir) if base_dir is not None else None, name=repr(name))
    if lazy is None:
        lazy = len(data) >= _MMAP_MIN
    source = Source(data) if lazy and len(data) >= wire.LAZY_MIN else None
    return _parse(data, store, name, source), store


def _parse(
    buffer: Any, store: DataStore, name: str, source: Source | None, filler: wire.Filler | None = None
) -> Any:
    if len(buffer) == 0:
        raise ModelFormatError(f"{name}: file is empty, not an ONNX model")
    model = _proto.ModelProto()
    try:
        if source is not None:
            chunks, count = wire.strip_payloads(buffer, source.token, filler=filler)
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if count:
                store.sources.append(source)
        else:
            data = buffer
        model.ParseFromString(data)
    except (wire.WireError, DecodeError) as e:
        where = wire.locate_error(source.view if source is not None else buffer)
        detail = where or f"malformed protobuf ({e})"
        if where is None and isinstance(e, DecodeError):
            detail = "malformed protobuf: protobuf refused the bytes (nesting too deep or bad field)"
        raise ModelFormatError(f"{name}: not a valid ONNX model: {detail}") from None
    if not (model.HasField("ir_version") or model.HasField("graph") or len(model.functions)):
        raise ModelFormatError(f"{name}: not an ONNX model (no ir_version, graph or functions found)")
    return model


# --- walking tensors in a ModelProto ----------------------------------------------------------

def iter_tensors(model: Any) -> Iterator[tuple[str, Any]]:
    """Every TensorProto in a ModelProto with its path, depth-first in file order, without
    recursion (subgraphs nest arbitrarily deep in hostile files)."""
    stack: list[tuple[str, Any]] = [("model", model)]
    while stack:
        path, msg = stack.pop()
        name = msg.DESCRIPTOR.full_name
        if name == "onnx.TensorProto":
            yield path, msg
            continue
        children = wire.TENSOR_PATHS.get(name)
        if not children:
            continue
        found: list[tuple[str, Any]] = []
        for number in sorted(children):
            fd = msg.DESCRIPTOR.fields_by_number[number]
            if _proto.is_repeated(fd):
                found.extend((f"{path}.{fd.name}[{i}]", m) for i, m in enumerate(getattr(msg, fd.name)))
            elif msg.HasField(fd.name):
                found.append((f"{path}.{fd.name}", getattr(msg, fd.name)))
        stack.extend(reversed(found))
