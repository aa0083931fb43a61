"""ONNX protobuf classes built at import time in a private descriptor pool.

Nothing here touches protobuf's default pool, so `import onnx` and `import onnxlite` coexist in
one process in either order, and no protoc gencode/runtime version pin applies.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool, message_factory

from onnxlite._proto.schema import DESCRIPTOR_BYTES, PROTO_SHA256

POOL = descriptor_pool.DescriptorPool()
FILE = POOL.AddSerializedFile(DESCRIPTOR_BYTES)


def _cls(name: str) -> Any:
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"onnx.{name}"))


AttributeProto: Any = _cls("AttributeProto")
ValueInfoProto: Any = _cls("ValueInfoProto")
NodeProto: Any = _cls("NodeProto")
TrainingInfoProto: Any = _cls("TrainingInfoProto")
ModelProto: Any = _cls("ModelProto")
StringStringEntryProto: Any = _cls("StringStringEntryProto")
TensorAnnotation: Any = _cls("TensorAnnotation")
GraphProto: Any = _cls("GraphProto")
TensorProto: Any = _cls("TensorProto")
SparseTensorProto: Any = _cls("SparseTensorProto")
TensorShapeProto: Any = _cls("TensorShapeProto")
TypeProto: Any = _cls("TypeProto")
OperatorSetIdProto: Any = _cls("OperatorSetIdProto")
FunctionProto: Any = _cls("FunctionProto")
DeviceConfigurationProto: Any = _cls("DeviceConfigurationProto")
NodeDeviceConfigurationProto: Any = _cls("NodeDeviceConfigurationProto")
ShardingSpecProto: Any = _cls("ShardingSpecProto")
ShardedDimProto: Any = _cls("ShardedDimProto")
SimpleShardedDimProto: Any = _cls("SimpleShardedDimProto")
IntIntListEntryProto: Any = _cls("IntIntListEntryProto")

__all__ = [
    "POOL", "FILE", "PROTO_SHA256", "AttributeProto", "ValueInfoProto", "NodeProto",
    "TrainingInfoProto", "ModelProto", "StringStringEntryProto", "TensorAnnotation", "GraphProto",
    "TensorProto", "SparseTensorProto", "TensorShapeProto", "TypeProto", "OperatorSetIdProto",
    "FunctionProto", "DeviceConfigurationProto", "NodeDeviceConfigurationProto", "ShardingSpecProto",
    "ShardedDimProto", "SimpleShardedDimProto", "IntIntListEntryProto",
]


def copy(message: Any) -> Any:
    """A deep copy of a protobuf message (of the same class)."""
    out = type(message)()
    out.CopyFrom(message)
    return out


def is_repeated(field: Any) -> bool:
    """Whether a FieldDescriptor is repeated, on every protobuf release we support (4.25 has
    only ``label``; 7.x has only ``is_repeated``)."""
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(field.label == field.LABEL_REPEATED)
