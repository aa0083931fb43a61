"""The one exception hierarchy onnxlite raises.

Every error derives from `OnnxliteError`; the subclasses also derive from the matching builtin so
callers can catch `ValueError` / `OSError` as they would elsewhere.
"""

from __future__ import annotations


class OnnxliteError(Exception):
    """Base of every error onnxlite raises."""


class ModelFormatError(OnnxliteError, ValueError):
    """The bytes are not a valid ONNX model (malformed protobuf, bad tensor data, bad references).

    The message names the place in the model, e.g. ``graph.node[12].attribute[0]: ...``.
    """


class ExternalDataError(OnnxliteError, OSError):
    """External data cannot be read or written safely (missing file, unsafe path, out-of-range bytes)."""


class UnsafePathError(ExternalDataError):
    """An external data location escapes the model folder or names something that is not a regular file."""


class ModelClosedError(OnnxliteError, ValueError):
    """Tensor data was asked of a model after `Model.close` released its files (like reading a
    closed file, a ValueError); load the model again to read it."""


class SaveError(OnnxliteError, ValueError):
    """A model cannot be saved as asked (for example it would exceed protobuf's 2 GiB limit)."""


class WriteError(OnnxliteError, OSError):
    """Writing a file failed (disk full, permission denied...); nothing was left in place of
    the previous file."""


class WeightsError(OnnxliteError, ValueError):
    """Weights cannot be exported or put back as asked (a non-empty output folder, names, dtypes or
    shapes that do not match the model, a missing optional package)."""


class ParseError(OnnxliteError, ValueError):
    """Text in the ONNX textual syntax cannot be read. The message starts with ``line:column``
    and says what was expected there, e.g. ``3:17: expected ')' after the node inputs, got '='``.
    ``line`` and ``column`` (1-based) are also attributes."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class EditError(OnnxliteError, ValueError):
    """An edit was refused (unknown or conflicting name, an edit that would break the graph...);
    the model was left exactly as it was."""


class CycleError(EditError):
    """The graph has a cycle; ``nodes`` lists the nodes on one cycle, in order."""

    def __init__(self, message: str, nodes: list[str] | None = None) -> None:
        super().__init__(message)
        self.nodes = list(nodes or [])
