"""The container formats of a weights export: the .npy header (byte for byte what numpy writes),
the .npz archive (a ZIP of stored .npy members, ZIP64 when large) and .safetensors (a JSON header,
then the bytes), written in place by the workers of `onnxlite._weightdata`; and the safetensors
reader. Every member's offset is known before writing, so tensors go into one archive in parallel.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnxlite.errors import WeightsError
from onnxlite.weights import _data as _wd

if TYPE_CHECKING:
    import numpy as np

_FROM_SAFETENSORS = {v: k for k, v in _wd.SAFETENSORS_DTYPE.items()}
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


# --- .npy -----------------------------------------------------------------------------------------

def npy_header(descr: str, shape: Sequence[int]) -> bytes:
    """The .npy header (magic, version, length, dict, padding) numpy writes for a C-order array;
    byte for byte what ``np.lib.format.write_array_header_1_0`` (2.0 past 64 KiB) gives.

    >>> npy_header("<f4", (2, 3))[:10]
    b'\\x93NUMPY\\x01\\x00v\\x00'
    """
    shape = tuple(int(d) for d in shape)
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    if shape:  # room to grow the first dimension in place, as numpy leaves it
        text += " " * (21 - len(repr(shape[0])))
    body = text.encode("latin1")
    for version, fmt in ((1, "<H"), (2, "<I")):
        hlen = len(body) + 1
        pad = 64 - (8 + struct.calcsize(fmt) + hlen) % 64
        if hlen + pad < 1 << (8 * struct.calcsize(fmt)):
            prefix = b"\x93NUMPY" + bytes([version, 0]) + struct.pack(fmt, hlen + pad)
            return prefix + body + b" " * pad + b"\n"
    raise WeightsError(f"a .npy header for shape of rank {len(shape)} is too large")


def write_npy_files(folder: Path, names: Sequence[str], plans: Sequence[_wd.Plan],
                    progress: Callable[[int], None]) -> list[_wd.Job]:
    """One .npy file per tensor in ``folder``; returns the finished jobs (sha256, length)."""
    jobs = []
    for p, name in zip(plans, names, strict=True):
        head = npy_header(p.descr(), p.saved_shape)
        jobs.append(_wd.Job(p, len(head), head, path=folder / name))
    _wd.run_jobs(jobs, progress)
    return jobs


# --- .npz: a ZIP archive of .npy members, stored (not compressed) ---------------------------------

_MAX32 = 0xFFFFFFFF  # a 32-bit field that says "see the ZIP64 extra field"
_ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need ZIP64 records
_ZIP64_ENTRIES = 0xFFFF  # as many members as this need them too
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00: the same bytes on every run


@dataclass
class ZipMember:
    """One stored (uncompressed) member of a ZIP archive: its local header at ``offset``, then
    ``size`` bytes of content."""

    name: bytes
    offset: int
    size: int
    crc: int = 0

    def local_header(self, crc: int) -> bytes:
        big = self.size >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, self.size, self.size) if big else b""
        size32 = _MAX32 if big else self.size
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, 0, 0, 0, _DOS_DATE, crc,
                           size32, size32, len(self.name), len(extra)) + self.name + extra

    def central_header(self) -> bytes:
        fields = []
        big = self.size >= _ZIP64_LIMIT
        far = self.offset >= _ZIP64_LIMIT
        if big:
            fields += [self.size, self.size]
        if far:
            fields.append(self.offset)
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        size32 = _MAX32 if big else self.size
        version = 45 if fields else 20
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, 0, 0, 0,
                           _DOS_DATE, self.crc, size32, size32, len(self.name), len(extra), 0, 0, 0,
                           0o100644 << 16, _MAX32 if far else self.offset) + self.name + extra


def zip_local_size(name: bytes, size: int) -> int:
    """Bytes of the local header of a member named ``name`` holding ``size`` bytes."""
    return 30 + len(name) + (20 if size >= _ZIP64_LIMIT else 0)


def zip_directory(members: Sequence[ZipMember], start: int) -> bytes:
    """The central directory and end records of an archive whose members end at ``start``."""
    central = b"".join(m.central_header() for m in members)
    count = len(members)
    end = b""
    zip64 = count >= _ZIP64_ENTRIES or start >= _ZIP64_LIMIT or len(central) >= _ZIP64_LIMIT
    if zip64:
        end += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count,
                           len(central), start)
        end += struct.pack("<IIQI", 0x07064B50, 0, start + len(central), 1)
    end += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF if zip64 else count, 0xFFFF if zip64 else count,
                       _MAX32 if zip64 else len(central), _MAX32 if zip64 else start, 0)
    return central + end


def write_npz(path: Path, keys: Sequence[str], plans: Sequence[_wd.Plan],
              progress: Callable[[int], None]) -> list[_wd.Job]:
    """A new .npz at ``path``: member ``KEY.npy`` per tensor, each local header's CRC filled in by
    the worker that wrote the member, then the central directory."""
    members: list[ZipMember] = []
    jobs: list[_wd.Job] = []
    pos = 0
    for p, key in zip(plans, keys, strict=True):
        head = npy_header(p.descr(), p.saved_shape)
        member = ZipMember(f"{key}.npy".encode("ascii"), pos, len(head) + p.nbytes)
        data = pos + zip_local_size(member.name, member.size) + len(head)
        members.append(member)
        pos = data + p.nbytes
        jobs.append(_wd.Job(p, data, head, zip_header=member.local_header))
    fd = os.open(path, _CREATE, 0o666)
    try:
        for job in jobs:
            job.fd = fd
        _wd.run_jobs(jobs, progress)
        for member, job in zip(members, jobs, strict=True):
            member.crc = job.crc
        _wd.pwrite(fd, zip_directory(members, pos), pos)
    finally:
        os.close(fd)
    return jobs


# --- .safetensors ---------------------------------------------------------------------------------

def safetensors_header(entries: Sequence[tuple[str, str, Sequence[int], int, int]],
                       metadata: dict[str, str]) -> bytes:
    """The 8-byte length and the JSON header for (key, dtype, shape, begin, end) entries, padded
    with spaces so that the data starts at a multiple of 8 bytes."""
    header: dict[str, Any] = {"__metadata__": metadata}
    for key, dtype, shape, begin, end in entries:
        header[key] = {"dtype": dtype, "shape": [int(d) for d in shape], "data_offsets": [begin, end]}
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def write_safetensors(path: Path, keys: Sequence[str], plans: Sequence[_wd.Plan],
                      progress: Callable[[int], None]) -> list[_wd.Job]:
    """A new .safetensors at ``path``: the header, then every tensor's bytes; tensors with larger
    elements come first so that each one starts at a multiple of its element size (as the
    safetensors package writes them)."""
    order = sorted(range(len(plans)), key=lambda i: (-_wd.itemsize(plans[i].target), i))
    begins = [0] * len(plans)
    size = 0
    for i in order:
        begins[i] = size
        size += plans[i].nbytes
    header = safetensors_header(
        [(key, _wd.SAFETENSORS_DTYPE[p.target], p.saved_shape, b, b + p.nbytes)
         for key, p, b in zip(keys, plans, begins, strict=True)], {"format": "onnxlite"})
    fd = os.open(path, _CREATE, 0o666)
    try:
        _wd.pwrite(fd, header, 0)
        jobs = [_wd.Job(p, len(header) + b, fd=fd) for p, b in zip(plans, begins, strict=True)]
        _wd.run_jobs(jobs, progress)
        if os.fstat(fd).st_size < len(header) + size:  # the last tensor ends in a hole
            os.ftruncate(fd, len(header) + size)
    finally:
        os.close(fd)
    return jobs


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file, as read-only views of the mapped file (read here, not
    through the package, whose numpy loader does not know bfloat16 or float8)."""
    import numpy as np

    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            buf: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    except OSError as e:
        raise WeightsError(f"{path}: cannot read: {e.strerror or e}") from None
    if size < 8:
        raise WeightsError(f"{path}: not a safetensors file (too short)")
    (hlen,) = struct.unpack("<Q", buf[:8])
    if 8 + hlen > size:
        raise WeightsError(f"{path}: not a safetensors file (header length {hlen} past the end)")
    try:
        header = json.loads(bytes(buf[8:8 + hlen]))
    except ValueError as e:
        raise WeightsError(f"{path}: not a safetensors file ({e})") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{path}: not a safetensors file (the header is not an object)")
    data = memoryview(buf)[8 + hlen:]
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            name = _FROM_SAFETENSORS.get(info["dtype"])
            begin, end = (int(x) for x in info["data_offsets"])
            shape = tuple(int(d) for d in info["shape"])
        except (KeyError, TypeError, ValueError):
            raise WeightsError(f"{path}: tensor {key!r} has a malformed entry") from None
        if name is None:
            raise WeightsError(f"{path}: tensor {key!r} has dtype {info.get('dtype')!r}, unknown here")
        dt = _wd.resolve_dtype(name).newbyteorder("<")
        if (not (0 <= begin <= end <= len(data)) or any(d < 0 for d in shape)
                or end - begin != math.prod(shape) * dt.itemsize):
            raise WeightsError(f"{path}: tensor {key!r} has bad data offsets {begin}..{end}")
        out[key] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape)
    return out
