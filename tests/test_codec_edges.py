"""Shapes ONNX allows but numpy cannot hold (found by tools/fuzz.py): a ModelFormatError naming
the tensor, never numpy's ValueError, on every path that decodes values (numpy, head, dump)."""

from __future__ import annotations

import pytest

import onnxlite
from onnxlite import _proto, text
from onnxlite.errors import ModelFormatError


def _tensor(data_type: int, dims: list[int], **fields: object) -> object:
    t = _proto.TensorProto()
    t.name = "w"
    t.data_type = data_type
    t.dims.extend(dims)
    for k, v in fields.items():
        setattr(t, k, v)
    return t


@pytest.mark.parametrize(("data_type", "dims", "fields"), [
    (1, [0, 2**62], {"raw_data": b""}),          # raw float
    (22, [0, 2**62, 3], {"raw_data": b""}),      # raw int4 (unpacked path)
    (7, [2**40, 0, 2**40], {}),                  # typed int64
    (8, [2**40, 0, 2**40], {}),                  # strings
])
def test_empty_tensor_numpy_cannot_hold(data_type: int, dims: list[int], fields: dict[str, object]) -> None:
    tensor = onnxlite.Tensor(_tensor(data_type, dims, **fields), where="graph.initializer[0]")
    if data_type == 8:
        with pytest.raises(ModelFormatError, match="graph.initializer\\[0\\]"):
            tensor.numpy()
        return
    with pytest.raises(ModelFormatError, match="graph.initializer\\[0\\] 'w': numpy cannot hold"):
        tensor.numpy()
    # the flat preview of an empty tensor is empty, whatever its dims (raw and typed alike)
    preview = tensor.head(3)
    assert preview.shape == (0,) and preview.dtype == tensor.dtype.np_dtype


def test_head_of_an_empty_shape_refuses_stored_values() -> None:
    proto = _tensor(7, [2**40, 0])
    proto.int64_data.extend([1, 2])  # type: ignore[attr-defined]
    tensor = onnxlite.Tensor(proto, where="graph.initializer[0]")
    with pytest.raises(ModelFormatError, match="2 stored values, but shape"):
        tensor.head(3)


@pytest.mark.parametrize("full", [False, True])
def test_dump_prints_the_empty_tensor(full: bool) -> None:
    model = onnxlite.Model()
    model.proto.ir_version = 10
    model.proto.graph.name = "g"
    model.proto.graph.initializer.add().CopyFrom(_tensor(1, [0, 2**62], raw_data=b""))
    out = text.format_model(model, full=full)
    assert "float[0,4611686018427387904] w = {}" in out
