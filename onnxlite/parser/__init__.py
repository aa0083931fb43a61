"""Read the ONNX textual syntax back into a model: the inverse of `onnxlite.text`."""

from onnxlite.parser._parser import (
    parse_function,
    parse_graph,
    parse_model,
    parse_node,
    parse_type,
)

__all__ = [
    'parse_type',
    'parse_function',
    'parse_graph',
    'parse_model',
    'parse_node',
]
