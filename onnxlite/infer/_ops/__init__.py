"""Built-in rules, one module per op family; importing a module registers its rules.

To add a family: write ``onnxlite/infer/_ops/<family>.py`` with `register_rule` functions (see
``onnxlite/infer/_rules.py``) and add its import here."""

import onnxlite.infer._ops.control
import onnxlite.infer._ops.elementwise
import onnxlite.infer._ops.reduce
import onnxlite.infer._ops.shape
import onnxlite.infer._ops.tensor  # noqa: F401
