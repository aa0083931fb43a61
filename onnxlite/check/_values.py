"""The value checks of `onnxlite.check`: types, tensors, sparse tensors and external data.

Split from check.py along the seam between the graph structure (names, order, operators) and
the values it carries. Problems are reported through the ``add(where, code, message,
severity)`` callback of the checker; ``where`` is a `Path`, rendered only when reported.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from typing import Any

from onnxlite._storage import io
from onnxlite.dtypes import MAX_NUMEL, TYPED_FIELDS, DataType, raw_nbytes
from onnxlite.errors import OnnxliteError
from onnxlite.model import Tensor
from onnxlite.versions import render_path as render

ERROR = "error"
WARNING = "warning"
#: Severity follows the standard's two consumers: what onnx.checker (full_check) and onnxruntime
#: both accept is at most a warning, what both refuse an error; where they disagree the problem is
#: a warning whose message ends with one of these.
ORT_REFUSES = " (onnxruntime refuses this; onnx.checker accepts it)"
CHECKER_REFUSES = " (onnx.checker refuses this; onnxruntime accepts it)"

#: A str, or a (parent Path, suffix) pair: paths are built cheaply and formatted only when a
#: problem is reported (graphs may nest a thousand levels deep).
Path = Any

_TYPED_FIELDS = TYPED_FIELDS
_MAP_KEYS = {DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.UINT8, DataType.UINT16,
             DataType.UINT32, DataType.UINT64, DataType.STRING}
DATA_TYPES = frozenset(int(d) for d in DataType)


def typed_count(dt: DataType, numel: int) -> int:
    """Entries the typed field needs (onnx.proto: 4-bit types two per int32_data entry, 2-bit
    four, complex values as (real, imaginary) pairs)."""
    if dt.bitwidth in (2, 4):
        return raw_nbytes(dt, numel)
    if dt in (DataType.COMPLEX64, DataType.COMPLEX128):
        return 2 * numel
    return numel


def _strip(message: str, where: str) -> str:
    return message[len(where) + 2:] if message.startswith(where + ": ") else message


class Values:
    """Checks of value infos, types and tensors for one model."""

    def __init__(self, store: io.DataStore, external: bool, add: Callable[..., None]) -> None:
        self.store = store
        self.external = external
        self.add = add
        self._files: dict[str, int | str] = {}
        self._warned_base_dir = False

    def value_info(self, v: Any, where: Path, required: bool) -> None:
        if not v.HasField("type"):
            if required:
                self.add(where, "missing-type", f"main graph input/output {v.name!r} has no type")
            return
        self.type(v.type, where, required)

    def type(self, tp: Any, where: Path, required: bool) -> None:
        """Well-formed TypeProto; ``required``: a main graph input/output, which must say its
        element type and rank."""
        stack = [(tp, True)]
        while stack:
            t, top = stack.pop()
            need = required and top
            which = t.WhichOneof("value")
            if which is None:
                if need:
                    self.add(where, "missing-type", "the type is empty (no tensor, sequence, map... set)")
            elif which in ("tensor_type", "sparse_tensor_type"):
                inner = getattr(t, which)
                if inner.HasField("elem_type"):
                    if inner.elem_type not in DATA_TYPES:
                        self.add(where, "bad-type", f"unknown element type {inner.elem_type}")
                    elif inner.elem_type == 0 and need:
                        self.add(where, "bad-type", "the element type is UNDEFINED")
                elif need:
                    self.add(where, "missing-type", "the tensor type has no element type")
                if inner.HasField("shape"):
                    for k, d in enumerate(inner.shape.dim):
                        if d.HasField("dim_value") and d.dim_value < 0:
                            # exporters write -1 for "unknown"; onnx.checker and onnxruntime accept it
                            self.add(where, "bad-type", f"dimension {k} is negative ({d.dim_value}); leave "
                                     "it unset or name it (dim_param) for an unknown size", WARNING)
                elif need:
                    self.add(where, "missing-type", "main graph inputs and outputs need a shape (a rank at "
                             "least)")
            elif which in ("sequence_type", "optional_type"):
                inner = getattr(t, which)
                if inner.HasField("elem_type"):
                    stack.append((inner.elem_type, False))
                elif need:
                    self.add(where, "missing-type", f"the {which.split('_')[0]} type has no element type")
            elif which == "map_type":
                mt = t.map_type
                if mt.HasField("key_type") and mt.key_type not in _MAP_KEYS:
                    self.add(where, "bad-type", f"map key type {mt.key_type} is not an integer or string "
                             "type")
                elif need and not mt.HasField("key_type"):
                    self.add(where, "missing-type", "the map type has no key type")
                if mt.HasField("value_type"):
                    stack.append((mt.value_type, False))
                elif need:
                    self.add(where, "missing-type", "the map type has no value type")
            elif which == "opaque_type" and need and not t.opaque_type.name:
                self.add(where, "missing-type", "the opaque type has no name")

    # --- tensors ------------------------------------------------------------------------------------

    def tensor(self, t: Any, where: Path, declared: tuple[Any, Path] | None = None) -> None:
        what = f"tensor {t.name!r}" if t.name else "the tensor"
        dt = self._dtype(t.data_type, where, what)
        dims = [int(d) for d in t.dims]
        if any(d < 0 for d in dims):
            self.add(where, "tensor", f"{what} has a negative dimension in shape {dims}")
            return
        numel = math.prod(dims)
        if numel > MAX_NUMEL:
            self.add(where, "tensor", f"{what} declares {numel} elements, more than any tensor can hold")
            return
        if dt is None:
            return
        if declared is not None:
            self._declared(t.name, dt, dims, declared, where)
        typed = [f for f in _TYPED_FIELDS if len(getattr(t, f))]
        if t.data_location == io.EXTERNAL:
            if typed or t.HasField("raw_data"):
                self.add(where, "tensor-data", f"{what} is external but also holds data in "
                         f"{', '.join(typed) or 'raw_data'}")
            elif self.external:
                self._external(t, where, what, dt, numel)
            return
        raw_len = 0
        if t.HasField("raw_data"):
            region = Tensor(t, self.store).file_region
            raw_len = region[1] if region is not None else len(t.raw_data)
        fields = typed + (["raw_data"] if raw_len else [])
        if len(fields) > 1:
            self.add(where, "tensor-data", f"{what} holds data in more than one field ({', '.join(fields)})")
            return
        if numel == 0 or not fields:
            if numel and not t.HasField("segment"):
                self.add(where, "tensor-data", f"{what} has no data, and shape {dims} needs {numel} values")
            elif fields:
                self.add(where, "tensor-data", f"{what} has shape {dims} (no elements) but holds data")
            return
        shape = f"{dt.short_name}{dims}"
        if raw_len:
            if dt == DataType.STRING:
                self.add(where, "tensor-data", f"{what} is a string tensor with raw_data; strings belong in "
                         "string_data")
            elif raw_len < raw_nbytes(dt, numel):
                self.add(where, "tensor-data", f"{what} has {raw_len} bytes of raw_data; {shape} needs "
                         f"{raw_nbytes(dt, numel)}")
            elif raw_len > raw_nbytes(dt, numel):
                self.add(where, "tensor-data", f"{what} has {raw_len} bytes of raw_data; {shape} needs "
                         f"{raw_nbytes(dt, numel)}" + ORT_REFUSES, WARNING)
        elif fields[0] != dt.typed_field:
            self.add(where, "tensor-data", f"{what} holds {dt.short_name} values in {fields[0]}; they belong "
                     f"in {dt.typed_field}")
        else:
            count, need = len(getattr(t, fields[0])), typed_count(dt, numel)
            if count != need:
                self.add(where, "tensor-data", f"{what} has {count} entries in {fields[0]}; {shape} needs "
                         f"{need}")

    def _dtype(self, value: int, where: Path, what: str) -> DataType | None:
        if value not in DATA_TYPES:
            self.add(where, "tensor", f"{what} has unknown data type {value}")
            return None
        if value == 0:
            self.add(where, "tensor", f"{what} has data type UNDEFINED")
            return None
        return DataType(value)

    def _declared(self, name: str, dt: DataType, dims: list[int], declared: tuple[Any, Path],
                  where: Path) -> None:
        """An initializer against the type its graph declares for the same name."""
        tp, source = declared
        which = tp.WhichOneof("value")
        if which not in ("tensor_type", "sparse_tensor_type"):
            return
        inner = getattr(tp, which)
        if inner.elem_type and inner.elem_type != dt and inner.elem_type in DATA_TYPES:
            self.add(where, "initializer-mismatch", f"initializer {name!r} is {dt.short_name}; "
                     f"{render(source)} declares {DataType(inner.elem_type).short_name}")
        if not inner.HasField("shape"):
            return
        want = [d.dim_value if d.HasField("dim_value") else None for d in inner.shape.dim]
        if len(want) != len(dims) or any(w is not None and w != d for w, d in zip(want, dims, strict=True)):
            shown = "[" + ", ".join("?" if w is None else str(w) for w in want) + "]"
            self.add(where, "initializer-mismatch", f"initializer {name!r} has shape {dims}; "
                     f"{render(source)} declares {shown}")

    def sparse(self, sp: Any, where: Path, declared: tuple[Any, Path] | None = None) -> None:
        values, name = sp.values, repr(sp.values.name)
        self.tensor(values, (where, ".values"))
        dims = [int(d) for d in sp.dims]
        if not dims or any(d <= 0 for d in dims):
            self.add(where, "tensor", f"sparse tensor {name} has dense shape {dims}; it needs a positive "
                     "rank and positive dimensions")
            return
        if declared is not None and values.data_type in DATA_TYPES and values.data_type:
            self._declared(sp.values.name, DataType(values.data_type), dims, declared, where)
        if len(values.dims) != 1:
            self.add(where, "tensor", f"sparse tensor {name}: values must have rank 1, not "
                     f"{len(values.dims)}")
            return
        nnz = int(values.dims[0])
        if not sp.HasField("indices"):
            if nnz:
                self.add(where, "tensor", f"sparse tensor {name} has {nnz} values and no indices")
            return
        ind = sp.indices
        self.tensor(ind, (where, ".indices"))
        shape = [int(d) for d in ind.dims]
        if ind.data_type != DataType.INT64:
            self.add(where, "tensor", f"sparse tensor {name}: indices must be int64")
        elif shape not in ([nnz], [nnz, len(dims)]):
            self.add(where, "tensor", f"sparse tensor {name}: indices of shape {shape} do not fit {nnz} "
                     f"values of rank {len(dims)} ([{nnz}] or [{nnz}, {len(dims)}])")

    def _external(self, t: Any, where: Path, what: str, dt: DataType, numel: int) -> None:
        w = render(where)
        try:
            location, offset, length = io.external_info(t, w)
        except OnnxliteError as e:
            self.add(where, "external-data", _strip(str(e), w))
            return
        store = self.store
        if store.base_dir is None:
            if not self._warned_base_dir:
                self._warned_base_dir = True
                self.add(where, "external-data", f"{what} is external, and the model was not loaded from a "
                         "file: its data files were not checked", WARNING)
            return
        try:
            path = store.external_path(location, w)
        except OnnxliteError as e:
            self.add(where, "external-data", _strip(str(e), w))
            return
        key = str(path)
        if key not in self._files:
            try:
                st = os.stat(path)
                self._files[key] = st.st_size if stat.S_ISREG(st.st_mode) else "is not a regular file"
            except OSError as e:
                self._files[key] = "does not exist" if isinstance(e, FileNotFoundError) else str(e.strerror)
        size = self._files[key]
        if isinstance(size, str):
            self.add(where, "external-data", f"{what}: external data file {location!r} {size}")
            return
        need = None if dt == DataType.STRING else raw_nbytes(dt, numel)
        end = offset + (length if length is not None else 0)
        if offset > size or end > size:
            self.add(where, "external-data", f"{what}: bytes {offset}..{end} lie outside {location!r} "
                     f"({size} bytes)")
        elif length is not None and need is not None and length != need:
            self.add(where, "external-data", f"{what}: external length {length}, but "
                     f"{dt.short_name}{list(t.dims)} needs {need} bytes")
        elif length is None and need is not None and size - offset < need:
            self.add(where, "external-data", f"{what}: {location!r} has {size - offset} bytes from offset "
                     f"{offset}; {dt.short_name}{list(t.dims)} needs {need}")


