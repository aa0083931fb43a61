"""onnxlite: read, write, inspect and edit ONNX files in pure Python, without the onnx package.

    import onnxlite
    model = onnxlite.load("model.onnx")          # weights stay on disk until asked
    model.graph.initializers["w"].numpy()
    onnxlite.save(model, "out.onnx", external_data=True)

Features live in their own modules: ``onnxlite.edit`` (rename, replace uses, insert/remove
nodes), ``onnxlite.transform`` (toposort, remove_unused, extract), ``onnxlite.builder``
(GraphBuilder), ``onnxlite.check`` (check_model), ``onnxlite.versions`` (set_opset,
set_ir_version), ``onnxlite.text`` (format_model) and its inverse ``onnxlite.parse_model``,
``onnxlite.weights`` (export and replace tensors).
"""

from onnxlite._version import __version__
from onnxlite.dtypes import DataType
from onnxlite.errors import (
    CycleError,
    EditError,
    ExternalDataError,
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

__all__ = [
    "__version__", "DataType", "OnnxliteError", "ModelFormatError", "ExternalDataError",
    "UnsafePathError", "SaveError", "WriteError", "WeightsError", "ParseError", "EditError", "CycleError",
    "Model", "Graph", "Node", "Attribute", "Function",
    "TrainingInfo",
    "Value", "Tensor", "SparseTensor", "Type", "Dim", "ValueInfo", "load", "loads", "save", "dumps",
    "parse_model", "parse_graph", "parse_function", "parse_node",
]
