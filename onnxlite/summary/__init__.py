"""The facts `onnxlite info` shows, computed from the object model as plain, JSON-ready data."""

from onnxlite.summary._summary import (
    LATEST_IR,
    LATEST_OPSET,
    OPSET_MIN_IR,
    STANDARD_DOMAINS,
    DimValue,
    DtypeParameters,
    ExternalFile,
    FunctionSummary,
    Note,
    PathLike,
    Summary,
    ValueSummary,
    min_ir_version,
    op_key,
    summarize,
)

__all__ = [
    'PathLike',
    'OPSET_MIN_IR',
    'LATEST_OPSET',
    'LATEST_IR',
    'STANDARD_DOMAINS',
    'DimValue',
    'ValueSummary',
    'DtypeParameters',
    'ExternalFile',
    'FunctionSummary',
    'Note',
    'Summary',
    'summarize',
    'op_key',
    'min_ir_version',
]
