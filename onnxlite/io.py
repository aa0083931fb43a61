"""Reading and writing ONNX files: lazy payloads, external data, atomic writes.

This is the one module that touches files. It works on protobuf messages and a `DataStore`,
the object that knows where tensor bytes live (the memory-mapped model file, bytes handed to
`loads`, external data files); `onnxlite.model` wraps both into the object model.

Safety rules (see SECURITY notes in the README): external data locations must stay inside the
model folder; offsets and lengths are checked against the real file size before any read; every
write goes to a temporary file in the destination folder that is renamed into place only once
it is complete.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import tempfile
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union

from google.protobuf.message import DecodeError

from onnxlite import _proto, wire
from onnxlite.dtypes import DataType, check_shape, data_type_of, raw_nbytes
from onnxlite.errors import ExternalDataError, ModelFormatError, SaveError, UnsafePathError, WriteError

PathLike = Union[str, "os.PathLike[str]"]

#: protobuf (and onnx.checker, onnxruntime) refuse a serialized message of 2 GiB or more.
PROTOBUF_LIMIT = 2**31 - 1
#: Files smaller than this are read into memory and parsed directly, as protobuf would: copying
#: at most this much costs less than the Python-level scan that finds payloads to leave behind.
_MMAP_MIN = 64 << 20
_COPY_CHUNK = 64 << 20
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


# --- sources of tensor bytes ------------------------------------------------------------------

_LIVE: weakref.WeakValueDictionary[bytes, Source] = weakref.WeakValueDictionary()
_ISSUED: set[bytes] = set()


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
        if fd is not None:
            weakref.finalize(self, os.close, fd)

    def slice(self, offset: int, length: int, where: str) -> memoryview:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ExternalDataError(
                f"{where}: bytes {offset}..{offset + length} lie outside "
                f"{self.path or 'the buffer'} ({self.size} bytes)")
        return self.view[offset:offset + length]


def source_for(token: bytes) -> Source | None:
    return _LIVE.get(token)


def live_tokens() -> set[bytes]:
    return set(_LIVE.keys())


def _open_regular(path: Path, where: str) -> tuple[int, int]:
    """Open a regular file read-only; return (fd, size). Anything else is refused before a
    single byte is read (O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise ExternalDataError(f"{where}: cannot open {path}: {e.strerror}") from e
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise UnsafePathError(f"{where}: {path} is {kind}")
    return fd, st.st_size


def _map_file(path: Path, where: str) -> Source:
    """Open a regular file read-only and map it."""
    fd, size = _open_regular(path, where)
    try:
        buffer: Any = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if size else b""
    except BaseException:
        os.close(fd)
        raise
    return Source(buffer, path=path, fd=fd)


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

    def __post_init__(self) -> None:
        if self.base_dir is not None:
            _STORES.add(self)

    def external(self, location: str, where: str) -> Source:
        """The mapped external file for ``location`` (validated, opened once)."""
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
        if self.base_dir is None or path in self._external:
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


def resolve_location(base_dir: Path | None, location: str, where: str) -> Path:
    """Resolve an external data location inside ``base_dir`` or raise UnsafePathError."""
    if base_dir is None:
        raise ExternalDataError(
            f"{where}: external data '{location}' but the model was not loaded from a file; "
            "pass base_dir= to say where its data lives")
    if not location or "\x00" in location:
        raise UnsafePathError(f"{where}: external data location {location!r} is empty or has a NUL byte")
    parts = re.split(r"[/\\]", location)
    if location.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", location) or ".." in parts:
        raise UnsafePathError(
            f"{where}: external data location {location!r} is absolute or climbs out with '..'; "
            "locations must be relative paths inside the model folder")
    base = Path(os.path.realpath(base_dir))
    path = Path(os.path.realpath(base / location))
    if os.path.commonpath([base, path]) != str(base):
        raise UnsafePathError(
            f"{where}: external data location {location!r} leads outside the model folder "
            f"(through a symlink to {path}); move the data next to the model")
    return path


def external_info(tensor: Any, where: str) -> tuple[str, int, int | None]:
    """(location, offset, length or None) from a TensorProto's external_data entries."""
    info = {entry.key: entry.value for entry in tensor.external_data}
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


def lazy_view(raw: bytes, where: str) -> memoryview | None:
    """The payload a marker stands for, or None when ``raw`` is ordinary data."""
    region = wire.parse_marker(raw)
    if region is None or region.token not in _ISSUED:
        return None
    source = _LIVE.get(region.token)
    if source is None:
        raise ModelFormatError(f"{where}: tensor data belonged to a model that no longer exists")
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
        store = DataStore(Path(base_dir) if base_dir is not None else path.absolute().parent)
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
    """Parse serialized model bytes; with ``lazy`` (default: for inputs of 64 MiB or more) large
    payloads stay in (an immutable copy of) ``data`` instead of being copied by protobuf."""
    if not isinstance(data, bytes):
        data = bytes(data)  # a mutable buffer could change under our lazy views
    store = DataStore(Path(base_dir) if base_dir is not None else None)
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


# --- writing ----------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What one save writes: the .onnx pieces and, per external data file, its pieces."""

    model: Any
    data_files: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # location -> (offset, piece)


def serialize(model: Any) -> bytes:
    """The complete serialized bytes of a ModelProto whose payloads may still be lazy."""
    data = model.SerializeToString()
    pieces, total = wire.splice_payloads(data, live_tokens())
    if len(pieces) == 1:
        return data
    out = bytearray(total)
    pos = 0
    for piece in pieces:
        chunk = _piece_view(piece)
        out[pos:pos + len(chunk)] = chunk
        pos += len(chunk)
    return bytes(out)


def _piece_view(piece: Any) -> Any:
    if isinstance(piece, wire.Region):
        source = _LIVE.get(piece.token)
        if source is None:
            raise SaveError("tensor data belonged to a model that no longer exists")
        return source.slice(piece.offset, piece.length, "tensor")
    return piece


def write_model(
    model: Any,
    store: DataStore,
    path: PathLike,
    *,
    external_data: bool | None = None,
    location: str | None = None,
    size_threshold: int = 1024,
    per_tensor: bool = False,
) -> None:
    """Save a ModelProto atomically; see `onnxlite.save` for the meaning of the options.

    Everything is checked and laid out before the first byte is written; each output goes to a
    temporary file beside its target. Data files are renamed into place first (an existing one
    is kept as a hard-linked backup until the model file is in place, and restored if that
    fails), the model file last."""
    dest = Path(os.path.abspath(path))
    dest_dir = dest.parent
    if not dest_dir.is_dir():
        raise SaveError(f"{path}: folder {dest_dir} does not exist")
    if dest.is_dir():
        raise SaveError(f"{path}: is a directory")
    if size_threshold < 0:
        raise SaveError(f"size_threshold must be >= 0, got {size_threshold}")
    data = model.SerializeToString()
    # Walking every tensor costs ~3 us a node in Python; skip it when no tensor can be external
    # (an external_data entry always has the key "location": field 1, length 8).
    has_external = b"\n\x08location" in data
    if has_external:
        _refuse_overwriting_own_data(model, store, dest)
    if external_data or has_external:
        same_dir = store.base_dir is not None and (
            os.path.realpath(store.base_dir) == os.path.realpath(dest_dir))
        plan = _plan(model, store, dest, same_dir, external_data, location, size_threshold, per_tensor)
        if plan.model is not model:
            data = plan.model.SerializeToString()
    else:
        plan = _Plan(model)
    pieces, total = wire.splice_payloads(data, live_tokens())
    if total > PROTOBUF_LIMIT:
        raise SaveError(
            f"{path}: the model would be {total / 2**30:.2f} GiB, over protobuf's 2 GiB limit for one "
            "file; save with external_data=True to move weights to a data file")
    targets = {loc: _data_target(dest, loc) for loc in plan.data_files}
    temps: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for loc, entries in plan.data_files.items():
            targets[loc].parent.mkdir(parents=True, exist_ok=True)
            temps.append((_write_temp(targets[loc], entries), targets[loc]))
        temps.append((_write_temp(dest, [(-1, p) for p in pieces]), dest))
        for _tmp, target in temps[:-1]:
            if target.exists():
                pin_readers(target)
                backup = Path(tempfile.mktemp(dir=target.parent, prefix=f".{target.name}.", suffix=".bak"))
                os.link(target, backup)
                backups.append((backup, target))
        replaced: list[Path] = []
        try:
            for tmp, target in temps:
                os.replace(tmp, target)
                replaced.append(target)
        except BaseException:
            # the model file was not replaced: put back the data files the old one refers to
            restored = {target for _backup, target in backups}
            for backup, target in backups:
                os.replace(backup, target)
            backups.clear()
            for target in replaced:
                if target not in restored:
                    _unlink_quietly(target)
            raise
        temps.clear()
    except OSError as e:
        if isinstance(e, (ExternalDataError, WriteError)):
            raise
        raise WriteError(e.errno, f"{path}: could not write: {e.strerror or e}") from e
    finally:
        for tmp, _target in temps:
            _unlink_quietly(tmp)
        for backup, _target in backups:
            _unlink_quietly(backup)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _data_target(dest: Path, loc: str) -> Path:
    """The path a data file at ``loc`` goes to, refused unless it stays inside the output folder
    (also through symlinked folders) and is neither the model file nor under a regular file."""
    _check_new_location(loc, "external data location")
    base = Path(os.path.realpath(dest.parent))
    target = dest.parent / loc
    probe = target.parent
    while not probe.exists():  # the deepest existing folder decides where the file really lands
        probe = probe.parent
    if not probe.is_dir():
        raise SaveError(f"external data location '{loc}' lies under {probe}, which is a file")
    real = Path(os.path.realpath(probe))
    if os.path.commonpath([base, real]) != str(base):
        raise UnsafePathError(
            f"external data location '{loc}' leads outside the output folder (through a symlink "
            f"to {real}); choose a location inside {dest.parent}")
    if os.path.realpath(target) == os.path.realpath(dest):
        raise SaveError(f"{dest}: external data location '{loc}' is the model file itself")
    if target.exists() and not target.is_symlink() and not target.is_file():
        raise UnsafePathError(f"external data location '{loc}' exists and is not a regular file")
    # an existing symlink there is replaced by the rename, never written through
    return target


def _refuse_overwriting_own_data(model: Any, store: DataStore, dest: Path) -> None:
    """Saving a model over one of its own external data files would destroy its weights."""
    if store.base_dir is None:
        return
    real_dest = os.path.realpath(dest)
    seen: set[str] = set()
    for where, tensor in iter_tensors(model):
        if tensor.data_location != _EXTERNAL:
            continue
        loc = external_info(tensor, where)[0]
        if loc in seen:
            continue
        seen.add(loc)
        try:
            path = resolve_location(store.base_dir, loc, where)
        except ExternalDataError:
            continue  # unsafe locations are refused when their data is read
        if str(path) == real_dest:
            raise SaveError(f"{dest}: is the model's own external data file '{loc}'; save elsewhere")


def _plan(
    model: Any, store: DataStore, dest: Path, same_dir: bool, external_data: bool | None,
    location: str | None, size_threshold: int, per_tensor: bool,
) -> _Plan:
    """Decide where each tensor's bytes go. Works on a copy of the message when anything
    changes, so the caller's model is never touched."""
    if external_data is None:
        plan = _Plan(model)
        if same_dir:
            return plan
        for where, tensor in iter_tensors(model):
            if tensor.data_location == _EXTERNAL:
                loc, offset, length = external_info(tensor, where)
                source = store.external(loc, where)
                end = source.size if length is None else offset + length
                if offset > source.size or end > source.size:
                    raise ExternalDataError(
                        f"{where}: external data '{loc}' bytes {offset}..{end} lie outside the file "
                        f"({source.size} bytes)")
                plan.data_files.setdefault(loc, []).append((offset, _Span(source, offset, end - offset)))
        return plan

    work = _proto.ModelProto()
    work.CopyFrom(model)
    plan = _Plan(work)
    default_loc = location or f"{dest.name}.data"
    if external_data:
        _check_new_location(default_loc, "location")
    sizes: dict[str, int] = {}
    used_names: set[str] = set()
    resolvable = _resolvable_paths(work) if external_data else set()
    for where, tensor in iter_tensors(work):
        is_external = tensor.data_location == _EXTERNAL
        if tensor.data_type == DataType.STRING:
            if is_external:
                raise ModelFormatError(f"{where}: a STRING tensor cannot live in external data")
            continue
        nbytes = _declared_nbytes(tensor, where)
        to_external = bool(external_data) and nbytes >= size_threshold and where in resolvable
        if not (to_external or is_external):
            continue  # embedded and staying embedded: serialized as it is
        payload = _payload(store, tensor, where)
        size = payload.length if isinstance(payload, _Span) else len(payload)
        if size != nbytes:
            raise ModelFormatError(
                f"{where}: tensor '{tensor.name}' has {size} bytes of data, but its type and shape "
                f"need {nbytes}; fix the tensor before saving")
        if not to_external:
            _set_inline(tensor, payload)
            continue
        if per_tensor:
            loc = _tensor_file_name(tensor.name or where, used_names, location)
            offset = 0
        else:
            loc = default_loc
            align = 4096 if nbytes >= 4096 else 64
            offset = (sizes.get(loc, 0) + align - 1) // align * align
        plan.data_files.setdefault(loc, []).append((offset, payload))
        sizes[loc] = offset + nbytes
        _set_external(tensor, loc, offset, nbytes)
    return plan


_GRAPH, _GRAPHS = 5, 10  # AttributeProto.AttributeType


def _resolvable_paths(model: Any) -> set[str]:
    """Paths (as `iter_tensors` names them) of the tensors whose external data readers resolve.
    onnx.load (external_data_helper) and onnxruntime look only at initializers of the main graph
    and of subgraphs under attributes typed GRAPH/GRAPHS, and at node attribute tensors
    (``t``, ``tensors``) in graphs and functions; anything else saved externally could not be
    read back by them, so it stays embedded."""
    found: set[str] = set()
    # (path, graph or function message, whether its initializers count)
    stack: list[tuple[str, Any, bool]] = [("model.graph", model.graph, True)]
    stack.extend((f"model.functions[{i}]", f, False) for i, f in enumerate(model.functions))
    while stack:
        path, graph, with_initializers = stack.pop()
        if with_initializers:
            found.update(f"{path}.initializer[{i}]" for i in range(len(graph.initializer)))
        for n, node in enumerate(graph.node):
            for a, attr in enumerate(node.attribute):
                where = f"{path}.node[{n}].attribute[{a}]"
                if attr.HasField("t"):
                    found.add(f"{where}.t")
                found.update(f"{where}.tensors[{i}]" for i in range(len(attr.tensors)))
                if attr.type == _GRAPH:
                    stack.append((f"{where}.g", attr.g, with_initializers))
                elif attr.type == _GRAPHS:
                    stack.extend(
                        (f"{where}.graphs[{i}]", g, with_initializers) for i, g in enumerate(attr.graphs))
    return found


def _declared_nbytes(tensor: Any, where: str) -> int:
    dtype = data_type_of(tensor.data_type)
    shape = check_shape(tensor.dims, where=f"{where} '{tensor.name}'")
    numel = 1
    for d in shape:
        numel *= d
    return raw_nbytes(dtype, numel)


@dataclass
class _Span:
    """Bytes to copy from a mapped source."""

    source: Source
    offset: int
    length: int


def _payload(store: DataStore, tensor: Any, where: str) -> Any:
    """The raw bytes of a tensor as a Region or bytes; typed-field tensors are encoded to raw.
    None for strings (they have no raw form)."""
    if tensor.data_type == DataType.STRING:
        return None
    if tensor.data_location == _EXTERNAL:
        view = external_view(store, tensor, where)  # validates the range
        loc, offset, _length = external_info(tensor, where)
        return _Span(store.external(loc, where), offset, len(view))
    if tensor.HasField("raw_data"):
        region = wire.parse_marker(tensor.raw_data)
        if region is not None and region.token in _ISSUED:
            source = _LIVE.get(region.token)
            if source is None:
                raise SaveError(f"{where}: tensor data belonged to a model that no longer exists")
            return _Span(source, region.offset, region.length)
        return tensor.raw_data
    from onnxlite.codec import decode_typed, encode_raw  # numpy: only for typed-field tensors

    _dtype, raw = encode_raw(decode_typed(tensor, where=where))
    return raw


def _set_inline(tensor: Any, payload: Any) -> None:
    del tensor.external_data[:]
    tensor.ClearField("data_location")
    if isinstance(payload, _Span):
        source = payload.source
        tensor.raw_data = wire.make_marker(source.token, payload.offset, payload.length)
    else:
        tensor.raw_data = bytes(payload)


def _set_external(tensor: Any, loc: str, offset: int, length: int) -> None:
    for name in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
        tensor.ClearField(name)
    del tensor.external_data[:]
    for key, value in (("location", loc), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value
    tensor.data_location = _EXTERNAL


def _check_new_location(location: str, what: str) -> None:
    parts = re.split(r"[/\\]", location)
    if (not location or "\x00" in location or location.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", location) or ".." in parts):
        raise UnsafePathError(f"{what} {location!r} must be a relative path inside the output folder")


_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _tensor_file_name(name: str, used: set[str], folder: str | None) -> str:
    """A portable, unique (also case-insensitively) file name for one tensor's data."""
    stem = _UNSAFE_CHARS.sub("_", name)
    stem = re.sub(r"\.{2,}", "_", stem).strip("._") or "tensor"  # no '..': onnx refuses those
    stem = stem[:120]
    candidate = f"{stem}.bin"
    n = 1
    while candidate.lower() in used:
        candidate = f"{stem}_{n}.bin"
        n += 1
    used.add(candidate.lower())
    return f"{folder.rstrip('/')}/{candidate}" if folder else candidate


def _write_temp(target: Path, entries: list[tuple[int, Any]]) -> Path:
    """Write pieces into a new temporary file beside ``target``; return its path. Offsets of -1
    mean 'append'; other offsets place the piece there (gaps become holes)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        pos = size = 0
        for offset, piece in entries:
            if offset >= 0 and offset != pos:
                os.lseek(fd, offset, os.SEEK_SET)
                pos = offset
            pos += _write_piece(fd, piece)
            size = max(size, pos)
        if size > os.fstat(fd).st_size:  # a trailing gap: make the file as long as its content
            os.ftruncate(fd, size)
        mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    return Path(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_piece(fd: int, piece: Any) -> int:
    if isinstance(piece, wire.Region):
        source = _LIVE.get(piece.token)
        if source is None:
            raise SaveError("tensor data belonged to a model that no longer exists")
        piece = _Span(source, piece.offset, piece.length)
    if isinstance(piece, _Span):
        return _copy_region(fd, piece)
    view = memoryview(piece)
    written = 0
    while written < len(view):
        written += os.write(fd, view[written:written + _COPY_CHUNK])
    return written


def _copy_region(fd: int, region: _Span) -> int:
    """Copy bytes from a source to ``fd`` at its current position: in-kernel when possible,
    else through the mapping in chunks that are released after writing (memory stays flat)."""
    source, offset, length = region.source, region.offset, region.length
    if offset < 0 or offset + length > source.size:
        raise SaveError(f"tensor data bytes {offset}..{offset + length} lie outside {source.path}")
    done = 0
    if source.fd is not None and hasattr(os, "copy_file_range"):
        try:
            while done < length:
                n = os.copy_file_range(source.fd, fd, min(length - done, 1 << 30), offset + done)
                if n == 0:
                    break
                done += n
        except OSError:
            pass
    view = source.view
    while done < length:
        n = min(length - done, _COPY_CHUNK)
        written = os.write(fd, view[offset + done:offset + done + n])
        done += written
        if isinstance(source.buffer, mmap.mmap) and hasattr(source.buffer, "madvise"):
            start = (offset + done - written) // mmap.PAGESIZE * mmap.PAGESIZE
            try:
                source.buffer.madvise(mmap.MADV_DONTNEED, start, offset + done - start)
            except (OSError, ValueError):
                pass
    return done
