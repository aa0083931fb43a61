"""Structural diff of two ONNX models: what changed, even when every name changed.

    from onnxlite.diff import diff_models
    d = diff_models(onnxlite.load("a.onnx"), onnxlite.load("b.onnx"))
    d.equal, d.to_json()

Nodes are paired by op, attributes and position in the dataflow (see ``_match``), values
through their paired producers, initializers through their paired readers (compared byte for
byte) or, when nothing pairs them, by content hash. ``render_diff`` prints the report with rich.
"""

from onnxlite.diff._model import ModelDiff, diff_models, scope_of
from onnxlite.diff._render import render_diff

__all__ = ["ModelDiff", "diff_models", "render_diff", "scope_of"]
