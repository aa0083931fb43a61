"""Saving models: where each tensor's bytes go, and atomic, streaming writes.

Everything is checked and laid out before the first byte is written. Each output goes to a
temporary file (unnamed where the OS allows it, see `tempfiles`) and is renamed over its target
only when complete, so a killed save leaves the previous files and no debris; payloads are
copied from their source (the memory-mapped model or data file) in the kernel where possible,
so saving a gigabyte of weights needs no gigabyte of memory.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onnxlite import _proto
from onnxlite._storage import paths as _paths
from onnxlite._storage import tempfiles as _tempfiles
from onnxlite._storage import wire
from onnxlite._storage.io import (
    EXTERNAL,
    DataStore,
    PathLike,
    Source,
    check_relative,
    external_info,
    external_view,
    issued_tokens,
    iter_tensors,
    marker_source,
    pin_readers,
    require_source,
    resolve_location,
)
from onnxlite._storage.tempfiles import TempFile
from onnxlite.dtypes import DATA_FIELDS, DataType, check_shape, data_type_of, raw_nbytes
from onnxlite.errors import ExternalDataError, ModelFormatError, SaveError, UnsafePathError, WriteError

#: protobuf (and onnx.checker, onnxruntime) refuse a serialized message of 2 GiB or more.
PROTOBUF_LIMIT = 2**31 - 1
_COPY_CHUNK = 64 << 20


@dataclass
class _Plan:
    """What one save writes: the .onnx pieces and, per external data file, its pieces."""

    model: Any
    data_files: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # location -> (offset, piece)


def serialize(model: Any) -> bytes:
    """The complete serialized bytes of a ModelProto whose payloads may still be lazy."""
    data = model.SerializeToString()
    pieces, total = wire.splice_payloads(data, issued_tokens())
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
        return require_source(piece.token, "tensor").slice(piece.offset, piece.length, "tensor")
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
    pieces, total = wire.splice_payloads(data, issued_tokens())
    if total > PROTOBUF_LIMIT:
        raise SaveError(
            f"{path}: the model would be {total / 2**30:.2f} GiB, over protobuf's 2 GiB limit for one "
            "file; keep the weights in a data file (external_data=True in Python, --external-data on the "
            "command line)")
    targets = {loc: _data_target(dest, loc) for loc in plan.data_files}
    temps: list[TempFile] = []
    backups: list[tuple[Path, Path]] = []
    try:
        _tempfiles.recover_backups([dest.parent, *(t.parent for t in targets.values())], dest)
        for target in [dest, *targets.values()]:
            if target.parent.is_dir():
                _tempfiles.clean_stale(target)  # what killed saves left here
        for loc, entries in plan.data_files.items():
            targets[loc].parent.mkdir(parents=True, exist_ok=True)
            temps.append(_write_temp(targets[loc], entries))
        temps.append(_write_temp(dest, [(-1, p) for p in pieces]))
        model_inode = os.fstat(temps[-1].fd).st_ino
        for tmp in temps[:-1]:
            target = tmp.target
            if target.exists():
                pin_readers(target)
                backup = _tempfiles.backup_name(target, dest, model_inode)
                os.link(target, backup)
                backups.append((backup, target))
        replaced: list[Path] = []
        try:
            for tmp in temps:
                tmp.commit()
                replaced.append(tmp.target)
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
        for tmp in temps:
            tmp.discard()
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
    check_relative(loc, "save")
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
        if tensor.data_location != EXTERNAL:
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
            if tensor.data_location == EXTERNAL:
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
        check_relative(default_loc, "save")
    sizes: dict[str, int] = {}
    used_names: set[str] = set()
    resolvable = _resolvable_paths(work) if external_data else set()
    for where, tensor in iter_tensors(work):
        is_external = tensor.data_location == EXTERNAL
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
                # the descriptor's own enum: storage sits below the model layer's AttributeType
                if attr.type == _proto.AttributeProto.GRAPH:
                    stack.append((f"{where}.g", attr.g, with_initializers))
                elif attr.type == _proto.AttributeProto.GRAPHS:
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
    if tensor.data_location == EXTERNAL:
        view = external_view(store, tensor, where)  # validates the range
        loc, offset, _length = external_info(tensor, where)
        return _Span(store.external(loc, where), offset, len(view))
    if tensor.HasField("raw_data"):
        found = marker_source(tensor.raw_data, where)
        if found is not None:
            source, region = found
            return _Span(source, region.offset, region.length)
        return tensor.raw_data
    from onnxlite._storage.codec import decode_typed, encode_raw  # numpy: only for typed-field tensors

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
    for name in DATA_FIELDS:
        tensor.ClearField(name)
    del tensor.external_data[:]
    for key, value in (("location", loc), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value
    tensor.data_location = EXTERNAL


def _tensor_file_name(name: str, used: set[str], folder: str | None) -> str:
    """A portable, unique (also case-insensitively) file name for one tensor's data."""
    candidate = _paths.safe_file_name(name, used, ".bin")
    return f"{folder.rstrip('/')}/{candidate}" if folder else candidate


def _write_temp(target: Path, entries: list[tuple[int, Any]]) -> TempFile:
    """Write pieces into a new temporary file for ``target`` (unnamed where the OS allows it).
    Offsets of -1 mean 'append'; other offsets place the piece there (gaps become holes)."""
    tmp = TempFile(target)
    fd = tmp.fd
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
        tmp.finish()
    except BaseException:
        tmp.discard()
        raise
    return tmp


def write_tensor_bytes(fd: int, store: DataStore, tensor: Any, where: str) -> int:
    """Write a tensor's raw bytes (as stored: little-endian, packed) to ``fd`` at its current
    position; bytes that live in a file are copied by the kernel, so memory stays flat."""
    payload = _payload(store, tensor, where)
    if payload is None:
        raise ModelFormatError(f"{where}: a STRING tensor has no raw bytes")
    return _write_piece(fd, payload)


def tensor_sha256(store: DataStore, tensor: Any, where: str) -> tuple[str, int]:
    """(sha256 hex digest, length) of a tensor's raw bytes. File data is read with pread into a
    small buffer, not through the mapping: hashing a gigabyte leaves no gigabyte in RSS. Safe
    to run in threads (hashlib and pread release the GIL)."""
    payload = _payload(store, tensor, where)
    if payload is None:
        raise ModelFormatError(f"{where}: a STRING tensor has no raw bytes")
    digest = hashlib.sha256()
    fd = payload.source.fd if isinstance(payload, _Span) else None
    if fd is None:
        view = payload.source.slice(payload.offset, payload.length, where) if isinstance(payload, _Span) \
            else memoryview(payload)
        digest.update(view)
        return digest.hexdigest(), len(view)
    offset, length = payload.offset, payload.length
    buffer = bytearray(min(length, 8 << 20))
    view = memoryview(buffer)
    done = 0
    while done < length:
        n = os.preadv(fd, [view[:min(len(buffer), length - done)]], offset + done)
        if n <= 0:
            raise ExternalDataError(f"{where}: the data file ended early")
        digest.update(view[:n])
        done += n
    return digest.hexdigest(), length


def _write_piece(fd: int, piece: Any) -> int:
    if isinstance(piece, wire.Region):
        piece = _Span(require_source(piece.token, "tensor"), piece.offset, piece.length)
    if isinstance(piece, _Span):
        return _copy_region(fd, piece)
    view = memoryview(piece)
    written = 0
    while written < len(view):
        written += os.write(fd, view[written:written + _COPY_CHUNK])
    return written


def _copy_data_extents(src: int, dst: int, offset: int, length: int) -> int:
    """Copy ``length`` bytes of ``src`` from ``offset`` to ``dst``'s position in the kernel,
    skipping the holes of a sparse source (SEEK_DATA/SEEK_HOLE): they stay holes in the copy, so
    re-saving a model over a 64 GB sparse data file writes only its real data. Returns the bytes
    placed, holes included; stops early (returning less) when the kernel cannot copy."""
    end = offset + length
    pos = offset
    seek_data = getattr(os, "SEEK_DATA", None)
    while pos < end:
        data, hole = pos, end
        if seek_data is not None:
            try:
                data = min(os.lseek(src, pos, seek_data), end)
                hole = min(os.lseek(src, data, os.SEEK_HOLE), end) if data < end else end
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: only a hole remains after pos
                    data, hole = pos, end
                else:
                    data = hole = end
        if data > pos:
            os.lseek(dst, data - pos, os.SEEK_CUR)  # leave a hole; the caller sets the size
        pos = data
        while pos < hole:
            n = os.copy_file_range(src, dst, min(hole - pos, 1 << 30), pos)
            if n == 0:
                return pos - offset
            pos += n
    return length


def _copy_region(fd: int, region: _Span) -> int:
    """Copy bytes from a source to ``fd`` at its current position: in-kernel when possible,
    else through the mapping in chunks that are released after writing (memory stays flat)."""
    source, offset, length = region.source, region.offset, region.length
    if offset < 0 or offset + length > source.size:
        raise SaveError(f"tensor data bytes {offset}..{offset + length} lie outside {source.path}")
    done = 0
    if source.fd is not None and hasattr(os, "copy_file_range"):
        start = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            done = _copy_data_extents(source.fd, fd, offset, length)
        except OSError:  # e.g. a file system without copy_file_range: write it all below
            os.lseek(fd, start, os.SEEK_SET)
            done = 0
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
