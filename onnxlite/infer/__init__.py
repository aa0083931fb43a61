"""Shape and type inference in pure Python: every value's type, with symbolic dims.

    from onnxlite import infer
    result = infer.infer_types(model, input_shapes={"x": [1, "N", 3]}, dims={"N": 8})
    result.type_of("y"), result.unknown, result.contradictions
    typed = infer.apply(model, result)            # a new Model with value_info filled in

Rules are registered per (domain, op_type, since-version); `register_rule` adds one for a custom
op (see ``onnxlite/infer/_rules.py`` for how to write a rule). Dims are ints or canonical
symbolic expressions (`Expr`): ``2*N == N + N``; `add`, `sub`, `mul`, `neg`, `floordiv`, `mod`,
`dim_max`, `dim_min` compute on them (and on ints) exactly.
"""

from onnxlite.infer import _ops  # noqa: F401  (registers the built-in rules)
from onnxlite.infer._api import Inference, apply, infer_types
from onnxlite.infer._engine import Contradiction, InferError, UnknownValue
from onnxlite.infer._rules import Context, RuleFailed, RuleUnknown, find_rule, register_rule, registered_ops
from onnxlite.infer._sym import (
    Dim,
    Expr,
    ExprTooLarge,
    add,
    dim_max,
    dim_min,
    evaluate,
    floordiv,
    format_dim,
    free_symbols,
    mod,
    mul,
    neg,
    parse_dim,
    sub,
    symbol,
)
from onnxlite.infer._types import (
    MAX_KNOWN,
    Known,
    MapType,
    OptionalType,
    SequenceType,
    SparseTensorType,
    TensorType,
    TypeLike,
    format_type,
    from_type_proto,
    to_type_proto,
)

__all__ = [
    "MAX_KNOWN", "add", "apply", "Context", "Contradiction", "Dim", "dim_max", "dim_min", "evaluate",
    "Expr", "ExprTooLarge", "find_rule", "floordiv", "format_dim", "format_type", "free_symbols",
    "from_type_proto", "infer_types", "Inference", "InferError", "Known", "MapType", "mod", "mul",
    "neg", "OptionalType", "parse_dim", "register_rule", "registered_ops", "RuleFailed", "RuleUnknown",
    "SequenceType", "SparseTensorType", "sub", "symbol", "TensorType", "to_type_proto", "TypeLike",
    "UnknownValue",
]
