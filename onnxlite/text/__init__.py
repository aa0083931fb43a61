"""The ONNX textual syntax: the printer behind ``onnxlite dump``."""

from onnxlite.text._printer import (
    SMALL_STRING_BYTES,
    SMALL_TENSOR,
    format_graph,
    format_model,
)
from onnxlite.text._values import format_tensor_value

__all__ = [
    'SMALL_STRING_BYTES',
    'SMALL_TENSOR',
    'format_graph',
    'format_model',
    'format_tensor_value',
]
