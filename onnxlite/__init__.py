"""onnxlite: read, write, inspect and edit ONNX files in pure Python, without the onnx package.

    import onnxlite
    model = onnxlite.load("model.onnx")          # weights stay on disk until asked
    model.graph.initializers["w"].numpy()
    onnxlite.save(model, "out.onnx", external_data=True)

Features live in their own modules: ``onnxlite.edit`` (rename, replace uses, insert/remove
nodes), ``onnxlite.transform`` (toposort, remove_unused, extract), ``onnxlite.builder``
(GraphBuilder), ``onnxlite.check`` (check_model), ``onnxlite.versions`` (set_opset,
set_ir_version), ``onnxlite.weights`` (export and replace tensors). ``format_model`` (the
printer, imported on first use so that ``import onnxlite`` stays light) and its inverse
``parse_model`` are here too.
"""

from typing import TYPE_CHECKING, Any

from onnxlite._version import __version__
from onnxlite.dtypes import DataType
from onnxlite.errors import (
    CycleError,
    EditError,
    ExternalDataError,
    ModelClosedError,
    ModelFormatError,
    OnnxliteError,
    ParseError,
    SaveError,
    UnsafePathError,
    WeightsError,
    WriteError,
)
from onnxlite.model import (
    Attribute,
    Dim,
    Function,
    Graph,
    Model,
    Node,
    SparseTensor,
    Tensor,
    TrainingInfo,
    Type,
    Value,
    ValueInfo,
    dumps,
    load,
    loads,
    save,
)
from onnxlite.parser import parse_function, parse_graph, parse_model, parse_node

if TYPE_CHECKING:
    from onnxlite.text import format_model

__all__ = [
    "__version__", "DataType", "OnnxliteError", "ModelFormatError", "ModelClosedError", "ExternalDataError",
    "UnsafePathError", "SaveError", "WriteError", "WeightsError", "ParseError", "EditError", "CycleError",
    "Model", "Graph", "Node", "Attribute", "Function",
    "TrainingInfo",
    "Value", "Tensor", "SparseTensor", "Type", "Dim", "ValueInfo", "load", "loads", "save", "dumps",
    "format_model", "parse_model", "parse_graph", "parse_function", "parse_node",
]


def __getattr__(name: str) -> Any:
    # the printer (and what it imports) loads on first use of onnxlite.format_model
    if name == "format_model":
        from onnxlite.text import format_model

        return format_model
    raise AttributeError(f"module 'onnxlite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"format_model"})
