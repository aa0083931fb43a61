"""File names made from tensor names, shared by external-data and weights writers."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_MAX_STEM = 100


def safe_file_name(name: str, used: set[str], suffix: str, *, taken: Collection[str] = ()) -> str:
    """A portable file name for a tensor name: only ``[A-Za-z0-9._+-]``, no leading dot, no
    '..' (onnx.load refuses locations containing it), no Windows reserved device name, at most
    ~120 characters, unique in ``used`` ignoring case (``used`` holds lower-cased names and is
    updated) and never one of ``taken``. A name that had to change gets a short hash of the
    original, so different names rarely end up as ``x_1``, ``x_2``.

    >>> safe_file_name("../Conv/weight", set(), ".npy")
    '__Conv_weight-047eef38.npy'
    """
    stem = _UNSAFE.sub("_", name)
    stem = re.sub(r"\.{2,}", "_", stem).strip(". ") or "tensor"
    if stem.split(".")[0].lower() in _RESERVED:
        stem = "_" + stem
    if stem != name or len(stem) > _MAX_STEM:
        stem = f"{stem[:_MAX_STEM]}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    lowered = {t.lower() for t in taken}
    candidate = stem + suffix
    n = 1
    while candidate.lower() in used or candidate.lower() in lowered:
        candidate = f"{stem}_{n}{suffix}"
        n += 1
    used.add(candidate.lower())
    return candidate


def current_umask() -> int:
    """The process umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
