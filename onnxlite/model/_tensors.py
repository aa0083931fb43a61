"""Tensor views: dtype, shape and where the bytes live, decoded to numpy only when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onnxlite import _proto
from onnxlite._storage import io, wire, writer
from onnxlite.dtypes import TYPED_FIELDS, DataType, check_shape, data_type_of, raw_nbytes
from onnxlite.errors import ModelFormatError
from onnxlite.model._fields import scalar, string_map, value_name

if TYPE_CHECKING:
    import numpy as np

# numpy (through onnxlite.codec) is imported where values are decoded, not with onnxlite: it
# is most of the import time, and inspecting a model's structure never needs it.

_EXTERNAL = 1


class Tensor:
    """A view over a TensorProto.

    The data stays where it is (inside the model file, in an external data file, or in memory)
    until `numpy()` is called. Example::

        w = model.graph.initializers["fc.weight"]
        w.dtype, w.shape, w.nbytes, w.location     # no data read
        array = w.numpy()                           # decoded (zero-copy where possible)
    """

    __slots__ = ("proto", "_store", "_where")

    FIELDS = {
        "dims": "shape", "data_type": "dtype", "segment": "segment", "float_data": "numpy",
        "int32_data": "numpy", "string_data": "numpy", "int64_data": "numpy", "name": "name",
        "doc_string": "doc_string", "raw_data": "numpy", "external_data": "external_data",
        "data_location": "location", "double_data": "numpy", "uint64_data": "numpy",
        "metadata_props": "metadata_props",
    }

    def __init__(self, proto: _proto.TensorProto, store: io.DataStore | None = None,
                 where: str = "tensor") -> None:
        self.proto = proto
        self._store = store if store is not None else io.DataStore()
        self._where = where

    @classmethod
    def from_numpy(cls, array: Any, name: str = "", *, typed: bool = False) -> Tensor:
        """Build an in-memory tensor from a numpy array (any ONNX dtype, incl. ml_dtypes ones).

        ``typed=True`` stores the values in the typed fields (float_data, int32_data...) instead of
        raw_data. Example: ``Tensor.from_numpy(np.zeros((2, 3), np.float32), "w")``.
        """
        import numpy as np

        from onnxlite._storage.codec import encode_raw, encode_typed

        arr = np.asarray(array)
        proto = _proto.TensorProto()
        if name:  # an empty name stays unset, as onnx writes it
            proto.name = name
        if typed or arr.dtype.kind in "OSU":
            encode_typed(arr, proto)
        else:
            dtype, raw = encode_raw(arr)
            proto.data_type = int(dtype)
            proto.dims.extend(arr.shape)
            proto.raw_data = raw
        return cls(proto)

    name = value_name("name", "The tensor's name.")
    doc_string = scalar("doc_string")
    metadata_props = string_map("metadata_props")

    @property
    def dtype(self) -> DataType:
        """The ONNX data type (raises ModelFormatError for an unknown number)."""
        try:
            return data_type_of(self.proto.data_type)
        except ModelFormatError as e:
            raise ModelFormatError(f"{self._describe()}: {e}") from None

    @property
    def shape(self) -> tuple[int, ...]:
        return check_shape(self.proto.dims, where=self._describe())

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        """Bytes of the data in raw form (packed for sub-byte types; total length for strings)."""
        if self.dtype == DataType.STRING:
            return sum(len(s) for s in self.proto.string_data)
        return raw_nbytes(self.dtype, self.size)

    @property
    def segment(self) -> tuple[int, int] | None:
        """(begin, end) when the tensor is one segment of a larger one (unsupported for data)."""
        if not self.proto.HasField("segment"):
            return None
        return (self.proto.segment.begin, self.proto.segment.end)

    @property
    def location(self) -> str:
        """Where the data lives: 'external' (a data file), 'file' (inside the model file, not
        loaded), 'raw' (raw_data in memory) or 'typed' (float_data, int32_data... in memory)."""
        if self.proto.data_location == _EXTERNAL:
            return "external"
        if self.proto.HasField("raw_data"):
            return "file" if self.file_region is not None else "raw"
        return "typed"

    @property
    def is_external(self) -> bool:
        """Whether the data lives in an external data file (reads nothing)."""
        return bool(self.proto.data_location == _EXTERNAL)

    @property
    def file_region(self) -> tuple[int, int] | None:
        """(offset, length) of the data inside the model file when it was left there by a lazy
        load, else None."""
        if not io.has_live_sources() or not self.proto.HasField("raw_data"):
            return None  # no lazy payload exists anywhere: skip copying raw_data to look
        region = wire.parse_marker(self.proto.raw_data)
        if region is None or io.source_for(region.token) is None:
            return None
        return (region.offset, region.length)

    def external_info(self) -> tuple[str, int, int | None]:
        """(location, offset, length or None) of external data, validated as numbers (the
        location is checked for safety when the data is read)."""
        return io.external_info(self.proto, self._describe())

    @property
    def external_data(self) -> dict[str, str]:
        """The external_data entries (location, offset, length, checksum) as a dict."""
        return {e.key: e.value for e in self.proto.external_data}

    def external_path(self) -> Any:
        """The resolved path of the external data file (checked to lie inside the model folder)."""
        location, _, _ = io.external_info(self.proto, self._describe())
        return self._store.external_path(location, self._describe())

    def raw_bytes(self) -> memoryview | bytes:
        """The raw bytes as stored (little-endian, packed); zero-copy for lazy and external data."""
        where = self._describe()
        if self.proto.data_location == _EXTERNAL:
            return io.external_view(self._store, self.proto, where)
        if self.proto.HasField("raw_data"):
            raw = self.proto.raw_data
            view = io.lazy_view(raw, where)
            return raw if view is None else view
        from onnxlite._storage.codec import decode_typed, encode_raw

        return encode_raw(decode_typed(self.proto, where=where))[1]

    def write_raw(self, fd: int) -> int:
        """Write the raw bytes (as `raw_bytes` gives them) to an open file descriptor at its
        position; returns the count. Data in a file is copied in the kernel (flat memory)."""
        return writer.write_tensor_bytes(fd, self._store, self.proto, self._describe())

    def raw_sha256(self) -> str:
        """SHA-256 of the raw bytes, read without mapping them into memory (thread-safe)."""
        return writer.tensor_sha256(self._store, self.proto, self._describe())[0]

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (ml_dtypes dtypes for bfloat16, float8, int4...; an object
        array of bytes for strings). Arrays decoded from a file are read-only views of it."""
        from onnxlite._storage.codec import decode_raw, decode_typed

        where = self._describe()
        if self.proto.HasField("segment"):
            raise ModelFormatError(f"{where}: segmented tensors are not supported")
        dtype = self.dtype
        shape = self.shape
        if dtype == DataType.STRING or (
            self.proto.data_location != _EXTERNAL and not self.proto.HasField("raw_data")
        ):
            return decode_typed(self.proto, where=where)
        return decode_raw(self.raw_bytes(), dtype, shape, where=where)

    def head(self, count: int) -> np.ndarray:
        """The first ``count`` values in row-major order (flattened), reading only their bytes:
        cheap on a tensor of any size, e.g. for a preview. The stored length is still checked."""
        from onnxlite._storage.codec import decode_raw, decode_typed

        where = self._describe()
        if self.proto.HasField("segment"):
            raise ModelFormatError(f"{where}: segmented tensors are not supported")
        dtype = self.dtype
        numel = self.size
        k = max(0, min(count, numel))
        if dtype == DataType.STRING:
            import numpy as np

            data = self.proto.string_data
            if len(data) != numel:
                raise ModelFormatError(
                    f"{where}: {len(data)} strings, but shape {list(self.shape)} needs {numel}")
            out = np.empty(k, dtype=object)
            out[:] = [bytes(s) for s in data[:k]]
            return out
        if self.proto.data_location != _EXTERNAL and not self.proto.HasField("raw_data"):
            if numel == 0:  # the flat preview of no values: the declared dims need not fit numpy
                import numpy as np

                stored = sum(len(getattr(self.proto, f)) for f in TYPED_FIELDS)
                if stored:
                    raise ModelFormatError(f"{where}: {stored} stored values, but shape {list(self.shape)} "
                                           "holds none")
                return np.empty(0, dtype.np_dtype)
            return decode_typed(self.proto, where=where).reshape(-1)[:k]  # already in memory
        raw = self.raw_bytes()
        need = raw_nbytes(dtype, numel)
        if len(raw) != need:
            raise ModelFormatError(
                f"{where}: raw_data has {len(raw)} bytes, but {dtype.short_name} {list(self.shape)} "
                f"needs {need}")
        return decode_raw(memoryview(raw)[:raw_nbytes(dtype, k)], dtype, (k,), where=where)

    def _describe(self) -> str:
        name = self.proto.name
        return f"{self._where} '{name}'" if name else self._where

    def __repr__(self) -> str:
        try:
            desc = f"{self.dtype.short_name}{list(self.shape)}"
        except ModelFormatError:
            desc = f"data_type={self.proto.data_type}"
        return f"Tensor({self.proto.name!r}, {desc}, {self.location})"


class SparseTensor:
    """A view over a SparseTensorProto: `values`, `indices` and the dense `shape`."""

    __slots__ = ("proto", "_store", "_where")

    FIELDS = {"values": "values", "indices": "indices", "dims": "shape"}

    def __init__(self, proto: _proto.SparseTensorProto, store: io.DataStore | None = None,
                 where: str = "sparse_tensor") -> None:
        self.proto = proto
        self._store = store if store is not None else io.DataStore()
        self._where = where

    @property
    def name(self) -> str:
        return str(self.proto.values.name)

    @property
    def values(self) -> Tensor:
        return Tensor(self.proto.values, self._store, f"{self._where}.values")

    @property
    def indices(self) -> Tensor:
        return Tensor(self.proto.indices, self._store, f"{self._where}.indices")

    @property
    def shape(self) -> tuple[int, ...]:
        return check_shape(self.proto.dims, where=self._where)

    def numpy(self) -> np.ndarray:
        """The dense array (zeros where no value is given). Indices are validated first."""
        import numpy as np

        shape = self.shape
        values = self.values.numpy().reshape(-1)
        indices = self.indices.numpy().astype(np.int64, copy=False)
        numel = 1
        for d in shape:
            numel *= d
        if indices.ndim == 2:
            if indices.shape != (len(values), len(shape)):
                raise ModelFormatError(f"{self._where}: indices shape {indices.shape} does not match "
                                       f"{len(values)} values of rank {len(shape)}")
            if len(shape) and ((indices < 0).any() or (indices >= np.array(shape)).any()):
                raise ModelFormatError(f"{self._where}: an index lies outside shape {shape}")
            flat = np.ravel_multi_index(tuple(indices.T), shape) if len(values) else indices[:, 0]
        elif indices.ndim == 1 and indices.shape[0] == len(values):
            if (indices < 0).any() or (indices >= numel).any():
                raise ModelFormatError(f"{self._where}: an index lies outside {numel} elements")
            flat = indices
        else:
            raise ModelFormatError(f"{self._where}: indices of shape {indices.shape} do not match "
                                   f"{len(values)} values")
        if numel > 1 << 31:
            raise ModelFormatError(f"{self._where}: dense shape {shape} is too large to densify")
        dense = np.zeros(numel, dtype=values.dtype)
        dense[flat] = values
        return dense.reshape(shape)

    def __repr__(self) -> str:
        nnz = self.proto.values.dims[0] if len(self.proto.values.dims) else 0
        return f"SparseTensor({self.name!r}, shape={list(self.proto.dims)}, nnz={nnz})"
