"""onnxlite: read, write, inspect and edit ONNX files in pure Python, without the onnx package.

    import onnxlite
    model = onnxlite.load("model.onnx")          # weights stay on disk until asked
    model.graph.initializers["w"].numpy()
    onnxlite.save(model, "out.onnx", external_data=True)
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
    Function,
    Graph,
    Model,
    Node,
    TrainingInfo,
    Value,
    dumps,
    load,
    loads,
    save,
)
from onnxlite.tensors import SparseTensor, Tensor
from onnxlite.valuetypes import Dim, Type, ValueInfo

__all__ = [
    "__version__", "DataType", "OnnxliteError", "ModelFormatError", "ExternalDataError",
    "UnsafePathError", "SaveError", "WriteError", "WeightsError", "ParseError", "EditError", "CycleError",
    "Model", "Graph", "Node", "Attribute", "Function",
    "TrainingInfo",
    "Value", "Tensor", "SparseTensor", "Type", "Dim", "ValueInfo", "load", "loads", "save", "dumps",
]
