"""Built-in rules, one module per op family; importing a module registers its rules.

To add a family: write ``onnxlite/infer/_ops/<family>.py`` with `register_rule` functions (see
``onnxlite/infer/_rules.py``) and add its import here."""

import onnxlite.infer._ops.attention
import onnxlite.infer._ops.contrib
import onnxlite.infer._ops.contrib_quant
import onnxlite.infer._ops.control
import onnxlite.infer._ops.conv
import onnxlite.infer._ops.elementwise
import onnxlite.infer._ops.image
import onnxlite.infer._ops.indexing
import onnxlite.infer._ops.linalg
import onnxlite.infer._ops.loss
import onnxlite.infer._ops.ml
import onnxlite.infer._ops.norm
import onnxlite.infer._ops.pool
import onnxlite.infer._ops.preview
import onnxlite.infer._ops.quant
import onnxlite.infer._ops.random
import onnxlite.infer._ops.reduce
import onnxlite.infer._ops.rnn
import onnxlite.infer._ops.same_shape
import onnxlite.infer._ops.sequence
import onnxlite.infer._ops.shape
import onnxlite.infer._ops.signal
import onnxlite.infer._ops.split_pad
import onnxlite.infer._ops.stateful
import onnxlite.infer._ops.strings
import onnxlite.infer._ops.tensor
import onnxlite.infer._ops.training  # noqa: F401
