"""Build ONNX models in a few readable lines: graphs, subgraphs, model-local functions."""

from onnxlite.builder._builder import (
    DEFAULT_OPSET,
    AttrRef,
    AttrValue,
    FunctionBuilder,
    GraphBuilder,
    Var,
    attr,
    make_node,
    map_type,
    optional_type,
    sequence_type,
    sparse_tensor,
    sparse_tensor_type,
    tensor_type,
)

__all__ = [
    'DEFAULT_OPSET',
    'AttrRef',
    'AttrValue',
    'FunctionBuilder',
    'GraphBuilder',
    'Var',
    'attr',
    'make_node',
    'map_type',
    'optional_type',
    'sequence_type',
    'sparse_tensor',
    'sparse_tensor_type',
    'tensor_type',
]
