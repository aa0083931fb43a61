"""Weights out and back in: every tensor of a model as .npy / .npz / safetensors files, and back.

``export_weights`` writes one file per tensor (or one archive) plus ``manifest.json``;
``read_weights`` reads such a folder back; ``replace_weights`` puts edited arrays into a copy of
the model. Example::

    from onnxlite import load, save, weights
    model = load("model.onnx")
    weights.export_weights(model, "w")                  # w/*.npy + w/manifest.json
    # ... edit w/fc.weight.npy with numpy ...
    save(weights.replace_weights(model, "w"), "edited.onnx")

Files are streamed from the memory-mapped model: each tensor's bytes are read once, hashed and
written in chunks by one thread per core (see `onnxlite._weightdata`), so exporting a model
larger than memory keeps memory flat. Exotic types (bfloat16, float8, int4,
...) are saved with the dtype name ml_dtypes registers with numpy (``'descr': 'bfloat16'``): with
``import ml_dtypes`` done first, ``np.load(path, allow_pickle=False)`` gives the exact values.

``sha256`` in the manifest is the SHA-256 of the array data exactly as saved: the bytes after the
.npy header, i.e. ``np.ascontiguousarray(np.load(path)).tobytes()`` (C order, little-endian, one
ml_dtypes element per item for sub-byte types); for safetensors the tensor's data bytes in the
file. ``nbytes`` is the length of those bytes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from onnxlite import _proto
from onnxlite._storage import paths as _paths
from onnxlite._storage import tempfiles as _tempfiles
from onnxlite._version import __version__
from onnxlite.dtypes import DATA_FIELDS, DataType
from onnxlite.errors import OnnxliteError, WeightsError
from onnxlite.model import Model, SparseTensor, Tensor, is_default_domain
from onnxlite.weights import _data as _wd
from onnxlite.weights import _files as _wf

if TYPE_CHECKING:
    import numpy as np

# numpy is imported by the functions that handle arrays, not with this module: exporting tensors
# as they are stored needs none, and it would double the start-up time of `onnxlite weights`.

__all__ = [
    "FORMATS", "Manifest", "ManifestEntry", "Weight", "apply_changes", "changed_weights", "export_weights",
    "iter_weights", "read_manifest", "read_weights", "replace_weights", "safe_file_name", "summarize",
]

PathLike = Union[str, "os.PathLike[str]"]
FORMATS = ("npy", "npz", "safetensors")
MANIFEST = "manifest.json"
_ARCHIVES = {"npz": "weights.npz", "safetensors": "weights.safetensors"}
_SEGMENT = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


# --- which tensors --------------------------------------------------------------------------------

@dataclass
class Weight:
    """One tensor of a model with where it came from.

    ``origin`` is 'initializer', 'constant' (a Constant node's value), 'attribute' (a tensor
    attribute of another node) or 'sparse' (a sparse initializer). ``path`` is the place in the
    model as `Model.tensors` names it. ``part`` is 'values' / 'indices' for the two halves of a
    sparse tensor kept sparse, else None. ``id`` is unique within the model: the name when it is,
    else the name plus '@' and the path. ``tensor`` is a Tensor, or a SparseTensor when densified.
    """

    name: str
    origin: str
    path: str
    tensor: Tensor | SparseTensor
    part: str | None = None
    id: str = ""

    @property
    def dtype(self) -> DataType:
        t = self.tensor
        return t.values.dtype if isinstance(t, SparseTensor) else t.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tensor.shape

    def numpy(self) -> np.ndarray:
        """The values (densified for a SparseTensor)."""
        return self.tensor.numpy()


def iter_weights(
    model: Model, *, only: str | Sequence[str] | None = None, densify: bool = False
) -> Iterator[Weight]:
    """Every tensor of ``model``: initializers of every graph (main, subgraphs, functions,
    training info), Constant node values, tensor attributes and sparse initializers, in file order.

    ``only`` keeps the tensors whose name (or id) matches one of the glob patterns. Sparse tensors
    come as two weights (``part`` 'values' and 'indices'), or as one dense weight with
    ``densify=True``. Example::

        for w in iter_weights(model, only="encoder.*"):
            print(w.id, w.origin, w.dtype.short_name, w.shape)
    """
    patterns = [only] if isinstance(only, str) else list(only or ())
    found = list(_collect(model, densify))
    counts: dict[str, int] = {}
    for w in found:
        counts[w.name] = counts.get(w.name, 0) + 1
    for w in found:
        base = w.name if w.part is None else f"{w.name}:{w.part}"
        w.id = base if w.name and counts[w.name] == 1 else f"{base}@{w.path}"
        if patterns and not any(fnmatch.fnmatchcase(w.name, p) or fnmatch.fnmatchcase(w.id, p)
                                for p in patterns):
            continue
        yield w


def _collect(model: Model, densify: bool) -> Iterator[Weight]:
    seen_sparse: set[str] = set()
    for path, tensor in model.tensors():
        parent, _, last = path.rpartition(".")
        sparse_path = None
        if last in ("values", "indices") and parent.rpartition(".")[2].startswith("sparse_"):
            sparse_path = parent
        node = _owning_node(model.proto, path)
        if node is None:
            origin = "sparse" if sparse_path else "initializer"
        else:
            is_constant = node.op_type == "Constant" and is_default_domain(node.domain)
            origin = "constant" if is_constant else "attribute"
        if sparse_path is not None:
            sparse_proto = _resolve(model.proto, sparse_path)
            name = sparse_proto.values.name or _node_label(node, path)
            if densify:
                if sparse_path in seen_sparse:
                    continue
                seen_sparse.add(sparse_path)
                yield Weight(name, origin, sparse_path, SparseTensor(sparse_proto, model.store, sparse_path))
                continue
            yield Weight(name, origin, path, tensor, last)
            continue
        name = tensor.name or _node_label(node, path)
        yield Weight(name, origin, path, tensor)


def _node_label(node: Any, path: str) -> str:
    """A name for an unnamed tensor: a Constant's output, else 'node.attribute'."""
    if node is None:
        return ""
    if node.op_type == "Constant" and len(node.output) and node.output[0]:
        return str(node.output[0])
    m = re.search(r"\.attribute\[(\d+)\]", path.rsplit(".node[", 1)[-1])
    attr = node.attribute[int(m.group(1))].name if m else "tensor"
    return f"{node.name or (node.output[0] if len(node.output) else node.op_type)}.{attr}"


def _owning_node(model: Any, path: str) -> Any:
    cut = path.rfind(".attribute[")
    if cut < 0 or ".node[" not in path[:cut]:
        return None
    return _resolve(model, path[:cut])


def _resolve(model: Any, path: str) -> Any:
    """The message at ``path`` ('model.graph.node[3].attribute[0].t') inside ``model``."""
    parts = path.split(".")
    if parts[0] != "model":
        raise WeightsError(f"{path}: not a path inside a model")
    msg = model
    for part in parts[1:]:
        m = _SEGMENT.match(part)
        if m is None or m.group(1) not in msg.DESCRIPTOR.fields_by_name:
            raise WeightsError(f"{path}: no such place in the model")
        value = getattr(msg, m.group(1))
        if m.group(2) is not None:
            index = int(m.group(2))
            if index >= len(value):
                raise WeightsError(f"{path}: no such place in the model")
            value = value[index]
        msg = value
    return msg


# --- file names -----------------------------------------------------------------------------------

def safe_file_name(name: str, used: set[str], suffix: str = ".npy") -> str:
    """A portable, unique file name for a tensor (see `onnxlite._paths.safe_file_name`); never
    the manifest's name."""
    return _paths.safe_file_name(name, used, suffix, taken=(MANIFEST,))


# --- the manifest ---------------------------------------------------------------------------------

@dataclass
class ManifestEntry:
    """One saved tensor (see the module docstring for ``sha256`` and ``nbytes``).

    ``saved_dtype`` is the numpy dtype of the saved array ('float32', 'bfloat16', or 'uint8' when
    ``stored_as`` is 'raw': the tensor's ONNX raw bytes, for a type the format cannot hold)."""

    id: str
    name: str
    origin: str
    path: str
    part: str | None
    file: str
    key: str | None
    dtype: str
    shape: list[int]
    saved_dtype: str
    stored_as: str
    nbytes: int
    sha256: str
    densified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Manifest:
    """What `export_weights` wrote: ``manifest.json`` as an object."""

    model: str | None
    format: str
    tensors: list[ManifestEntry] = field(default_factory=list)
    converted_to: str | None = None
    onnxlite_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {"onnxlite_version": self.onnxlite_version, "model": self.model, "format": self.format,
                "converted_to": self.converted_to, "tensors": [t.to_dict() for t in self.tensors]}

    def to_json(self) -> str:
        """``manifest.json``'s text: one line per tensor (readable, greppable, and written by
        json's C encoder, which an ``indent`` would switch off)."""
        head = json.dumps({k: v for k, v in self.to_dict().items() if k != "tensors"})
        lines = [json.dumps(t.to_dict()) for t in self.tensors]
        body = "[\n " + ",\n ".join(lines) + "\n]" if lines else "[]"
        return head[:-1] + ', "tensors": ' + body + "}\n"

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)


def read_manifest(directory: PathLike) -> Manifest:
    """The manifest of a folder `export_weights` wrote (checked for shape and safe file names)."""
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [ManifestEntry(**{k: e[k] for k in ManifestEntry.__dataclass_fields__ if k in e})
                   for e in data["tensors"]]
        manifest = Manifest(data.get("model"), data["format"], entries, data.get("converted_to"),
                            data.get("onnxlite_version", ""))
    except FileNotFoundError:
        raise WeightsError(f"{directory}: no {MANIFEST}; is it a folder written by "
                           "`onnxlite weights`?") from None
    except (ValueError, KeyError, TypeError) as e:
        raise WeightsError(f"{path}: not a valid weights manifest ({type(e).__name__}: {e})") from None
    if manifest.format not in FORMATS:
        raise WeightsError(f"{path}: unknown format {manifest.format!r}")
    for entry in manifest.tensors:
        file = entry.file
        if not isinstance(file, str) or "/" in file or "\\" in file or "\0" in file or file.startswith("."):
            raise WeightsError(f"{path}: tensor {entry.id!r} names an unsafe file {file!r}")
    return manifest


# --- export ---------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def export_weights(
    model: Model,
    out_dir: PathLike,
    *,
    format: str = "npy",
    only: str | Sequence[str] | None = None,
    densify: bool = False,
    as_dtype: str | None = None,
    force: bool = False,
    model_name: str | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Write the model's tensors into ``out_dir`` with a ``manifest.json``; return the manifest.

    ``format``: 'npy' (one file per tensor), 'npz' (one archive, ``weights.npz``, members stored
    uncompressed) or 'safetensors' (``weights.safetensors``; types it cannot hold are stored as
    their raw ONNX bytes (U8), ``stored_as: 'raw'`` in the manifest). ``as_dtype='float32'``
    saves every floating type as float32 (and 2/4-bit integers as int8/uint8) for tools without
    ml_dtypes. The folder is written beside ``out_dir`` and renamed into place when complete; a
    non-empty ``out_dir`` is refused unless ``force``. ``progress`` is called with (bytes done,
    bytes total). Example::

        export_weights(onnxlite.load("m.onnx"), "weights", format="npz", only=["*.weight"])
    """
    if format not in FORMATS:
        raise WeightsError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if as_dtype not in (None, "float32"):
        raise WeightsError(f"as_dtype must be None or 'float32', got {as_dtype!r}")
    dest = Path(os.path.abspath(out_dir))
    _check_destination(dest, force)
    selected = list(iter_weights(model, only=only, densify=densify))
    plans = [_wd.make_plan(w.tensor, model.store, f"{w.path} '{w.name}'", w.id, as_dtype=as_dtype,
                           format=format) for w in selected]
    if format == "safetensors":
        strings = [p.ident for p in plans if p.stored_as == "strings"]
        if strings:
            raise WeightsError("safetensors cannot hold string tensors: " + ", ".join(strings)
                               + "; use --format npy or leave them out with --only")
        if any(w.id == "__metadata__" for w in selected):
            raise WeightsError("safetensors reserves the key '__metadata__' for a tensor of that name; "
                               "use --format npy or leave it out with --only")
    for p in plans:
        p.check_length()  # refuse bad data before writing anything
    if _wd.needs_numpy(plans):
        from onnxlite._storage import codec  # noqa: F401  numpy: imported here once, not by a worker thread
    total = sum(p.nbytes for p in plans)
    reported = [-1]

    def report(done: int) -> None:
        if progress is not None and done != reported[0]:
            reported[0] = done
            progress(done, total)

    _tempfiles.clean_stale(dest)  # what killed exports left beside the folder
    tmp = _tempfiles.make_temp_dir(dest)
    try:
        entries = _write(format, tmp, selected, plans, report)
        report(total)
        manifest = Manifest(model_name, format, entries, converted_to=as_dtype)
        (tmp / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        _move_into_place(tmp, dest, force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest



def _entry(w: Weight, p: _wd.Plan, file: str, key: str | None, job: _wd.Job) -> ManifestEntry:
    return ManifestEntry(
        id=w.id, name=w.name, origin=w.origin, path=w.path, part=w.part, file=file, key=key,
        dtype=p.dtype.short_name, shape=list(p.shape),
        saved_dtype="bytes" if p.stored_as == "strings" else p.target, stored_as=p.stored_as,
        nbytes=job.written, sha256=job.sha256, densified=isinstance(w.tensor, SparseTensor))


def _write(format: str, tmp: Path, selected: list[Weight], plans: list[_wd.Plan],
           progress: Callable[[int], None]) -> list[ManifestEntry]:
    used: set[str] = set()
    if format == "npy":
        names = [safe_file_name(w.id or w.path, used) for w in selected]
        jobs = _wf.write_npy_files(tmp, names, plans, progress)
        return [_entry(w, p, name, None, job)
                for w, p, name, job in zip(selected, plans, names, jobs, strict=True)]
    archive = _ARCHIVES[format]
    if format == "npz":
        keys = [safe_file_name(w.id or w.path, used, "") for w in selected]
        jobs = _wf.write_npz(tmp / archive, keys, plans, progress)
    else:
        keys = [w.id for w in selected]
        jobs = _wf.write_safetensors(tmp / archive, keys, plans, progress)
    return [_entry(w, p, archive, key, job)
            for w, p, key, job in zip(selected, plans, keys, jobs, strict=True)]


def _check_destination(dest: Path, force: bool) -> None:
    if not dest.parent.is_dir():
        raise WeightsError(f"{dest}: folder {dest.parent} does not exist")
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise WeightsError(f"{dest}: exists and is not a folder")
        if any(dest.iterdir()) and not force:
            raise WeightsError(f"{dest}: folder is not empty; choose another or pass --force to replace it")


def _move_into_place(tmp: Path, dest: Path, force: bool) -> None:
    """Rename the finished folder into place. An existing folder is first renamed aside and
    removed only once the new one is in place (restored if that rename fails)."""
    os.chmod(tmp, 0o777 & ~_paths.current_umask())
    if dest.is_dir():
        if any(dest.iterdir()) and not force:  # filled while we worked
            raise WeightsError(f"{dest}: folder is not empty; choose another or pass --force to replace it")
        old = _tempfiles.temp_name(dest, ".old")
        os.replace(dest, old)
        try:
            os.replace(tmp, dest)
        except BaseException:
            os.replace(old, dest)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


# --- reading back ---------------------------------------------------------------------------------

def read_weights(directory: PathLike) -> dict[str, np.ndarray]:
    """The arrays of a folder `export_weights` wrote, by id (the tensor name when unique).

    .npy files are memory-mapped; tensors saved as raw bytes (safetensors, types it cannot
    hold) are decoded to their ml_dtypes dtype. Example: ``read_weights("w")["fc.weight"]``.
    """
    manifest = read_manifest(directory)
    return {e.id: arr for e, arr in _load_arrays(Path(directory), manifest)}


def _load_arrays(directory: Path, manifest: Manifest) -> Iterator[tuple[ManifestEntry, np.ndarray]]:
    import ml_dtypes  # noqa: F401  (registers the dtype names the .npy headers use)
    import numpy as np

    if manifest.format == "npy":
        for entry in manifest.tensors:
            yield entry, _load_npy(directory / entry.file, entry)
    elif manifest.format == "npz":
        archive = directory / _ARCHIVES["npz"]
        try:
            npz = np.load(archive, allow_pickle=False)
        except OSError as e:
            raise WeightsError(f"{archive}: cannot read: {e}") from None
        with npz:
            for entry in manifest.tensors:
                if entry.key is None or entry.key not in npz.files:
                    raise WeightsError(f"{archive}: no array {entry.key!r} for tensor {entry.id!r}")
                yield entry, _finish(npz[entry.key], entry, archive)
    else:
        archive = directory / _ARCHIVES["safetensors"]
        tensors = _wf.read_safetensors(archive)
        for entry in manifest.tensors:
            key = entry.key or entry.id
            if key not in tensors:
                raise WeightsError(f"{archive}: no tensor {key!r} for {entry.id!r}")
            yield entry, _finish(tensors[key], entry, archive)


def _load_npy(path: Path, e: ManifestEntry) -> np.ndarray:
    import numpy as np

    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise WeightsError(f"{path}: missing (tensor {e.id!r})") from None
    except (OSError, ValueError, TypeError) as err:
        raise WeightsError(f"{path}: not a readable .npy file: {err}") from None
    return _finish(arr, e, path)


def _finish(arr: np.ndarray, e: ManifestEntry, where: Path) -> np.ndarray:
    import numpy as np

    from onnxlite._storage.codec import decode_raw

    if e.stored_as != "raw":
        return arr
    dtype = DataType[e.dtype.upper()]
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise WeightsError(f"{where}: tensor {e.id!r} should be raw bytes (uint8, 1-d), got "
                           f"{arr.dtype} {list(arr.shape)}")
    try:
        return decode_raw(np.ascontiguousarray(arr), dtype, tuple(e.shape), where=str(where))
    except OnnxliteError as err:
        raise WeightsError(str(err)) from None


# --- weights back in ------------------------------------------------------------------------------

def replace_weights(
    model: Model, source: PathLike | Mapping[str, Any], *, only_changed: bool = True
) -> Model:
    """A new Model with tensors replaced from a folder `export_weights` wrote (after editing some
    files) or from a mapping {id, name or path: array}. The caller's model is not changed.

    Names, dtypes and shapes are all checked against the model first; any mismatch raises one
    WeightsError listing every problem. From a folder, only tensors whose data changed (their
    SHA-256 differs from the manifest's) are replaced, so the others stay lazy and save
    byte-identical. Arrays saved with ``as_dtype='float32'`` are cast back to the model's type.
    Example: ``onnxlite.save(replace_weights(model, "w"), "edited.onnx")``.
    """
    return apply_changes(model, changed_weights(model, source, only_changed=only_changed))


def changed_weights(
    model: Model, source: PathLike | Mapping[str, Any], *, only_changed: bool = True
) -> list[tuple[Weight, np.ndarray]]:
    """The (weight, new array) pairs `replace_weights` would apply, after checking names, dtypes
    and shapes of everything (one WeightsError lists every mismatch). Nothing is changed."""
    import numpy as np

    by_path = {w.path: w for w in iter_weights(model)}
    dense_paths = {w.path: w for w in iter_weights(model, densify=True) if isinstance(w.tensor, SparseTensor)}
    problems: list[str] = []
    changes: list[tuple[Weight, np.ndarray]] = []
    if isinstance(source, Mapping):
        lookup: dict[str, Weight] = {}
        for w in by_path.values():
            lookup.setdefault(w.name, w)
            lookup[w.id] = w
            lookup[w.path] = w
        for key, value in source.items():
            found = lookup.get(key)
            if found is None:
                problems.append(f"{key!r}: no such tensor in the model")
                continue
            arr = np.asarray(value)
            if _check(found, arr, found.dtype.np_dtype, problems, repr(key)):
                changes.append((found, arr))
    else:
        directory = Path(source)
        manifest = read_manifest(directory)
        for e, arr in _load_arrays(directory, manifest):
            label = f"{e.file}" + (f"[{e.key}]" if e.key else "") + f" ({e.id!r})"
            if e.densified or e.path in dense_paths:
                if only_changed and _stored_digest(arr, e) == e.sha256:
                    continue
                problems.append(f"{label}: a densified sparse tensor cannot be put back; export "
                                "without --densify to edit its values and indices")
                continue
            at = by_path.get(e.path)
            if at is None:
                problems.append(f"{label}: the model has no tensor at {e.path}")
                continue
            w = at
            if w.name != e.name:
                problems.append(f"{label}: name {e.name!r} does not match the model's {w.name!r} at {e.path}")
                continue
            if w.dtype.short_name != e.dtype:
                problems.append(f"{label}: dtype {e.dtype} in the manifest, but the model has "
                                f"{w.dtype.short_name}")
                continue
            expected = w.dtype.np_dtype if e.stored_as in ("raw", "strings") else np.dtype(e.saved_dtype)
            if not _check(w, arr, expected, problems, label):
                continue
            if only_changed and _stored_digest(arr, e) == e.sha256:
                continue
            changes.append((w, arr))
    if problems:
        raise WeightsError(f"cannot replace weights: {len(problems)} problem"
                           f"{'' if len(problems) == 1 else 's'}:\n  " + "\n  ".join(problems))
    return changes


def apply_changes(model: Model, changes: list[tuple[Weight, np.ndarray]]) -> Model:
    """A new Model (on a copy of the message) with the data of each weight replaced by its array,
    cast to the weight's type. Untouched tensors keep their lazy data."""
    work = _proto.ModelProto()
    work.CopyFrom(model.proto)
    for w, arr in changes:
        _set_data(_resolve(work, w.path), w, arr)
    return Model(work, model.store)


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha256(_wd.bytes_view(arr)).hexdigest()


def _stored_digest(arr: np.ndarray, e: ManifestEntry) -> str:
    """The sha256 the manifest would record for ``arr`` (raw-stored tensors: of their raw bytes)."""
    from onnxlite._storage.codec import encode_raw

    if e.stored_as == "raw":
        return hashlib.sha256(encode_raw(arr)[1]).hexdigest()
    return _digest(arr)


def _check(w: Weight, arr: np.ndarray, expected: np.dtype, problems: list[str], label: str) -> bool:
    ok = True
    if w.dtype == DataType.STRING:
        if arr.dtype.kind not in "SO":
            problems.append(f"{label}: dtype {arr.dtype}, but the model's tensor holds strings (bytes)")
            ok = False
    elif arr.dtype != expected:
        problems.append(f"{label}: dtype {arr.dtype}, expected {expected} ({w.dtype.short_name})")
        ok = False
    if tuple(arr.shape) != tuple(w.shape):
        problems.append(f"{label}: shape {list(arr.shape)}, expected {list(w.shape)}")
        ok = False
    return ok


def _set_data(proto: Any, w: Weight, arr: np.ndarray) -> None:
    """Replace the data of a TensorProto, keeping its name, type, dims, doc and metadata."""
    import numpy as np

    from onnxlite._storage.codec import encode_raw, encode_typed

    for name in (*DATA_FIELDS, "external_data", "data_location"):
        proto.ClearField(name)
    if w.dtype == DataType.STRING:
        tmp = _proto.TensorProto()
        encode_typed(np.array([bytes(x) for x in arr.reshape(-1)], dtype=object).reshape(arr.shape), tmp)
        proto.string_data.extend(tmp.string_data)
        return
    if arr.dtype != w.dtype.np_dtype:
        arr = arr.astype(w.dtype.np_dtype)
    _dtype, raw = encode_raw(np.asarray(arr))
    proto.raw_data = raw


def summarize(manifest: Manifest) -> str:
    """One line about an export, for the CLI."""
    n = len(manifest.tensors)
    return f"{n} tensor{'' if n == 1 else 's'}, {manifest.nbytes:,} bytes ({manifest.format})"

