"""What a node reads of the model's weights: initializers and Constant values, from their
metadata only (dtype and dims; payloads are never read, except a Loop's scalar trip count)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from onnxlite.dtypes import DataType
from onnxlite.model import AttributeType, is_default_domain

__all__ = ["TensorInfo", "attribute_values", "body_tensors", "scalar_int"]

_A = AttributeType
_FLOAT, _INT, _STRING, _TENSOR, _GRAPH, _FLOATS, _INTS, _STRINGS = (
    _A.FLOAT, _A.INT, _A.STRING, _A.TENSOR, _A.GRAPH, _A.FLOATS, _A.INTS, _A.STRINGS)


@dataclass(frozen=True)
class TensorInfo:
    """One weight: elements and bytes as stored (packed types at their bit width)."""

    numel: int
    nbytes: int
    proto: Any = None


def _stored_bytes(data_type: int, numel: int) -> int:
    try:
        bits = DataType(data_type).bitwidth
    except ValueError:
        return 0
    return -(-numel * bits // 8)


def tensor_info(t: Any) -> TensorInfo:
    dims = [int(d) for d in t.dims]
    n = math.prod(dims) if all(d >= 0 for d in dims) else 0
    return TensorInfo(n, _stored_bytes(t.data_type, n), t)


def _sparse_info(s: Any) -> TensorInfo:
    values, indices = tensor_info(s.values), tensor_info(s.indices)
    return TensorInfo(values.numel, values.nbytes + indices.nbytes)


def body_tensors(proto: Any, is_function: bool) -> dict[str, TensorInfo]:
    """name -> TensorInfo for the initializers (dense and sparse) and the Constant node outputs
    a graph or function body defines."""
    out: dict[str, TensorInfo] = {}
    if not is_function:
        for t in proto.initializer:
            out[t.name] = tensor_info(t)
        for s in proto.sparse_initializer:
            out[s.values.name] = _sparse_info(s)
    for n in proto.node:
        if n.op_type != "Constant" or not is_default_domain(n.domain) or not n.output or not n.output[0]:
            continue
        for a in n.attribute:
            if a.ref_attr_name:
                continue
            if a.name == "value" and a.HasField("t"):
                out[n.output[0]] = tensor_info(a.t)
            elif a.name == "sparse_value" and a.HasField("sparse_tensor"):
                out[n.output[0]] = _sparse_info(a.sparse_tensor)
            elif a.name in ("value_float", "value_int"):
                out[n.output[0]] = TensorInfo(1, 4 if a.name == "value_float" else 8)
            elif a.name in ("value_floats", "value_ints"):
                k = len(a.floats) if a.name == "value_floats" else len(a.ints)
                out[n.output[0]] = TensorInfo(k, k * (4 if a.name == "value_floats" else 8))
    return out


def scalar_int(info: TensorInfo | None) -> int | None:
    """The value of a one-element int32/int64 tensor stored inline (no external data read)."""
    t = info.proto if info is not None else None
    if t is None or info is None or info.numel != 1 or t.data_location == 1:
        return None
    if t.data_type == DataType.INT64:
        if t.int64_data:
            return int(t.int64_data[0])
        if len(t.raw_data) == 8:
            return int(struct.unpack("<q", t.raw_data)[0])
    if t.data_type == DataType.INT32:
        if t.int32_data:
            return int(t.int32_data[0])
        if len(t.raw_data) == 4:
            return int(struct.unpack("<i", t.raw_data)[0])
    return None


def attribute_values(node: Any) -> dict[str, Any]:
    """Scalar and list attributes of a NodeProto (numbers, strings); tensors and graphs left out."""
    out: dict[str, Any] = {}
    for a in node.attribute:
        kind = a.type
        if not kind:  # old writers leave the type unset: go by the field present
            kind = (_FLOATS if len(a.floats) else _INTS if len(a.ints) else _STRINGS if len(a.strings)
                    else _STRING if a.s else _INT if a.HasField("i") else _FLOAT if a.HasField("f") else 0)
        if kind == _INT:
            out[a.name] = int(a.i)
        elif kind == _FLOAT:
            out[a.name] = float(a.f)
        elif kind == _STRING:
            out[a.name] = a.s.decode("utf-8", "replace")
        elif kind == _INTS:
            out[a.name] = [int(x) for x in a.ints]
        elif kind == _FLOATS:
            out[a.name] = [float(x) for x in a.floats]
        elif kind == _STRINGS:
            out[a.name] = [s.decode("utf-8", "replace") for s in a.strings]
    return out
