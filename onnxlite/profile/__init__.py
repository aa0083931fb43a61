"""Cost profile of a model: MACs, FLOPs, parameters, weight bytes and activation bytes per node,
with totals, roll-ups by op type and by scope, and the peak live activation bytes; built on
`onnxlite.infer`, never reading weights. The convention and every op's formula: docs/profile.md.

    from onnxlite import load, profile
    p = profile.profile_model(load("model.onnx"), dims={"batch": 1})
    p.totals.macs, p.top(5), p.to_json(), p.to_csv()
"""

from onnxlite.profile._formulas import Cost, NotCounted, OpView, register_formula, registered_formulas
from onnxlite.profile._profile import profile_model
from onnxlite.profile._report import CSV_COLUMNS, NodeCost, Profile, Totals

__all__ = ["CSV_COLUMNS", "Cost", "NodeCost", "NotCounted", "OpView", "Profile", "Totals", "profile_model",
           "register_formula", "registered_formulas"]
