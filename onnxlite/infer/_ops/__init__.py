"""Built-in rules, one module per op family; importing a module registers its rules.

To add a family: write ``onnxlite/infer/_ops/<family>.py`` with `register_rule` functions (see
``onnxlite/infer/_rules.py``) and import it here."""

from onnxlite.infer._ops import control, elementwise, shape, tensor  # noqa: F401
