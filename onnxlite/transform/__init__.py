"""Whole-graph transforms: topological sort, dead-code removal and sub-model extraction."""

from onnxlite.transform._transform import (
    STANDARD_DOMAINS,
    Removed,
    TypeSpec,
    extract,
    remove_unused,
    toposort,
)

__all__ = [
    'STANDARD_DOMAINS',
    'Removed',
    'TypeSpec',
    'extract',
    'remove_unused',
    'toposort',
]
