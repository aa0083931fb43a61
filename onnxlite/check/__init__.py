"""Validate a model: structure (docs/IR.md, onnx.proto) and the standard operator schemas."""

from onnxlite.check._checker import (
    Problem,
    check_model,
    is_valid,
)

__all__ = [
    'Problem',
    'check_model',
    'is_valid',
]
